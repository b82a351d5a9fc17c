//! scimops: the users of a SCIM 2.0 service provider, kept in Git.

pub mod config;
pub mod desired;
pub mod diag;
pub mod dialect;
pub mod model;
pub mod plan;
pub mod schema;
pub mod scim;
pub mod secret;
