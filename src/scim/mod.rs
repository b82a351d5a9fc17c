//! SCIM 2.0 as spoken on the wire, and the HTTP client that speaks it.

pub mod client;
pub mod wire;
