//! Any SCIM 2.0 service provider, as RFC 7643/7644 describe it, driven by what its
//! `ServiceProviderConfig`, `ResourceTypes` and `Schemas` say.
//!
//! - Users are matched by userName without regard to case (`caseExact: false`, RFC
//!   7643 §4.1.1) and addressed by `id`.
//! - Updates are one PATCH when the server supports PATCH, else one PUT of the user as
//!   read with the changes applied (attributes scimops does not manage are sent back).
//! - With ETags, every write carries `If-Match` with the version read: a user changed
//!   in between makes the server answer 412 instead of overwriting the change.
//! - DELETE removes a user for real on these servers: a deactivation is `active: false`.
//! - The managed e-mail is the `work` one and the managed phone the `mobile` one (else
//!   the primary, else the first): they are changed inside the lists the server has, so
//!   its other e-mails and phones are kept.
//! - Attribute types come from `/Schemas`: `"3"` and `3` are the same integer, and
//!   dateTimes are compared as instants.

use super::common::{Mapping, check_email};
use super::{Capabilities, Dialect};
use crate::diag::Diagnostic;
use crate::model::{DesiredUser, ObservedUser, UserKey};
use crate::schema::UserSchema;
use crate::scim::wire::{Method, Request, user_path};

#[derive(Clone, Debug)]
pub struct Rfc7644 {
    pub mapping: Mapping,
    pub capabilities: Capabilities,
    pub page_size: usize,
    pub paging: Option<super::Paging>,
}

impl Dialect for Rfc7644 {
    fn name(&self) -> &'static str {
        "rfc7644"
    }

    fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn qualify(&self, user_name: &str, default_domain: Option<&str>) -> String {
        let user_name = user_name.trim();
        match default_domain {
            Some(domain) if !user_name.contains('@') => format!("{user_name}@{domain}"),
            _ => user_name.to_string(),
        }
    }

    fn key(&self, user_name: &str) -> UserKey {
        UserKey::folded(user_name.trim())
    }

    fn page_size(&self) -> usize {
        self.page_size
    }

    fn paging(&self) -> Option<super::Paging> {
        self.paging
    }

    /// Offline nothing is known: every attribute is checked against `/Schemas` at plan time.
    fn offline_schema(&self) -> UserSchema {
        UserSchema::new(false)
    }

    fn check_user(&self, user: &DesiredUser, out: &mut Vec<Diagnostic>) {
        check_email(user, out);
    }

    fn delete_request(&self, observed: &ObservedUser) -> Option<Request> {
        Some(Request {
            method: Method::Delete,
            path: user_path(&observed.id),
            if_match: observed.version.clone().filter(|_| self.capabilities.etag),
            body: None,
        })
    }
}
