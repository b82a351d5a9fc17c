//! scimops' integration tests: one binary (linking once keeps CI fast). Every test
//! talks real HTTP to a sandbox, in-process or in its own process, and runs the real
//! `scimops` binary.

// Tests read fixtures and outputs directly, and the environment: the rules of
// clippy.toml are for scimops itself.
#![allow(clippy::disallowed_methods)]

mod cli;
mod client;
mod corpus;
mod docs;
mod end_to_end;
mod environments;
mod example;
mod external;
mod faults;
mod fuzz;
mod guards;
mod hostile;
mod import;
mod init;
mod lookups;
mod process;
mod properties;
mod renames;
mod sandbox;
mod saved_plans;
mod scale;
mod scenarios;
mod secrets;
mod servers;
mod support;
mod variants;
