//! Secrets: never written in files, never printed.
//!
//! A file names a secret by reference only (`${BIZAGI_CLIENT_SECRET}`); the value is
//! read from the environment when a command needs it. [`Secret`] has no `Display` and
//! no `Serialize`, and its `Debug` is redacted, so a value cannot reach output, logs or
//! saved plans by accident.

use std::fmt;

/// A secret value. Use [`Secret::expose`] at the one place that must send it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// A reference to a secret as a file writes it: `${NAME}`, an environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    pub var: String,
    /// Where the reference is written, for messages.
    pub origin: Option<crate::model::Origin>,
}

impl SecretRef {
    /// Parses `${NAME}`. Anything else is refused: a literal would be a secret in Git.
    pub fn parse(text: &str) -> Result<Self, String> {
        let var = text
            .trim()
            .strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'))
            .filter(|v| {
                !v.is_empty()
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !v.starts_with(|c: char| c.is_ascii_digit())
            })
            .ok_or_else(|| {
                "secrets are not written in files; reference an environment variable \
                 instead, like `${BIZAGI_CLIENT_SECRET}`"
                    .to_string()
            })?;
        Ok(Self {
            var: var.to_string(),
            origin: None,
        })
    }

    #[must_use]
    pub fn at(mut self, origin: crate::model::Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Reads the variable through `env` (the process environment, or a test's map).
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, String> {
        match env(&self.var) {
            Some(value) if !value.is_empty() => Ok(Secret(value)),
            Some(_) => Err(format!("environment variable `{}` is empty", self.var)),
            None => Err(format!("environment variable `{}` is not set", self.var)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_references_are_accepted() {
        assert_eq!(SecretRef::parse("${A_B1}").unwrap().var, "A_B1");
        assert!(SecretRef::parse("hunter2").is_err());
        assert!(SecretRef::parse("${}").is_err());
        assert!(SecretRef::parse("${1A}").is_err());
        assert!(SecretRef::parse("${A-B}").is_err());
    }

    #[test]
    fn resolution_names_the_variable_never_the_value() {
        let r = SecretRef::parse("${S}").unwrap();
        assert_eq!(
            r.resolve(&|_| None).unwrap_err(),
            "environment variable `S` is not set"
        );
        let secret = r.resolve(&|_| Some("hunter2".into())).unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
