//! Secrets: never written in files, never printed.
//!
//! A file names a secret by reference only (`${BIZAGI_CLIENT_SECRET}`); the value is
//! read from the environment when a command needs it, or from the file that
//! `BIZAGI_CLIENT_SECRET_FILE` names (a secret mounted as a file, as Docker and
//! Kubernetes hand them over). That path comes from the environment, never from a file
//! of the repository, which pull-request authors write. [`Secret`] has no `Display` and
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

    /// The variable that may name a file holding the secret instead: `NAME_FILE`.
    pub fn file_var(&self) -> String {
        format!("{}_FILE", self.var)
    }

    /// Reads the variable through `env` (the process environment, or a test's map); or,
    /// when only `NAME_FILE` is set, the file it names, without its final line break.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, String> {
        let var = &self.var;
        let file_var = self.file_var();
        match (env(var), env(&file_var)) {
            (Some(_), Some(_)) => Err(format!(
                "both `{var}` and `{file_var}` are set: set one (the secret, or the path of a file that holds it)"
            )),
            (Some(value), None) if !value.is_empty() => Ok(Secret(value)),
            (Some(_), None) => Err(format!("environment variable `{var}` is empty")),
            (None, Some(path)) => {
                let bytes = crate::bounded::read_regular(
                    std::path::Path::new(&path),
                    MAX_SECRET_FILE_BYTES,
                )
                .map_err(|e| {
                    format!("`{file_var}` names `{}`: {e}", crate::escape::Shown(&path))
                })?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("the file `{file_var}` names is not UTF-8 text"))?;
                let value = text.strip_suffix('\n').unwrap_or(&text);
                let value = value.strip_suffix('\r').unwrap_or(value);
                if value.is_empty() {
                    return Err(format!("the file `{file_var}` names is empty"));
                }
                Ok(Secret(value.to_string()))
            }
            (None, None) => Err(format!(
                "environment variable `{var}` is not set (nor `{file_var}`, the path of a file that holds it)"
            )),
        }
    }
}

/// The largest secret file read: a secret is a few hundred bytes at most.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

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
            "environment variable `S` is not set (nor `S_FILE`, the path of a file that holds it)"
        );
        let secret = r
            .resolve(&|v| (v == "S").then(|| "hunter2".into()))
            .unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn a_secret_may_come_from_the_file_its_variable_names() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "hunter2\n").unwrap();
        let r = SecretRef::parse("${S}").unwrap();
        let path = file.to_string_lossy().to_string();
        let from_file = |v: &str| (v == "S_FILE").then(|| path.clone());
        assert_eq!(r.resolve(&from_file).unwrap().expose(), "hunter2");
        // Both set: which one was meant is not guessed.
        let both = r.resolve(&|_| Some(path.clone())).unwrap_err();
        assert!(both.starts_with("both `S` and `S_FILE` are set"), "{both}");
        // Errors name the variable and the path, never what the file holds.
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(
            r.resolve(&from_file).unwrap_err(),
            "the file `S_FILE` names is empty"
        );
        let missing = dir.path().join("none").to_string_lossy().to_string();
        let error = r
            .resolve(&|v| (v == "S_FILE").then(|| missing.clone()))
            .unwrap_err();
        assert!(
            error.starts_with("`S_FILE` names `") && error.contains("`: cannot read the file: "),
            "{error}"
        );
        let folder = dir.path().to_string_lossy().to_string();
        let error = r
            .resolve(&|v| (v == "S_FILE").then(|| folder.clone()))
            .unwrap_err();
        assert!(
            error.contains("a folder") || error.contains("not a regular file"),
            "{error}"
        );
    }
}
