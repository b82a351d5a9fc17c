//! Paths from the settings, and the files they name, kept inside the repository.
//!
//! Pull-request authors write the settings and the files, so a path is not trusted: it
//! must resolve inside the repository once `..` and symbolic links are followed, only
//! regular files are read (a FIFO would block, a device never ends), and a file is read
//! up to a bound checked before reading and enforced while reading.

use std::path::{Component, Path, PathBuf};

pub use crate::bounded::{ReadProblem, read_regular};
use crate::diag::Diagnostic;
use crate::escape::Shown;
use crate::model::Origin;

/// The largest file read: users are spread over several files well before this.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// A repository's root, as given and as the file system resolves it.
#[derive(Clone, Debug)]
pub struct Root {
    /// As given (`-C DIR`): paths shown to users are relative to it.
    pub dir: PathBuf,
    /// With every link resolved: what "inside" means.
    canonical: PathBuf,
}

impl Root {
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            dir: dir.to_path_buf(),
            canonical: dir.canonicalize()?,
        })
    }

    /// Whether `resolved` (links resolved) is inside the repository.
    fn contains(&self, resolved: &Path) -> bool {
        resolved.starts_with(&self.canonical)
    }

    /// `relative` (as a setting writes it), resolved inside the repository, or an error
    /// at `origin` (the setting's place). The path need not exist yet (a sandbox's state
    /// file): then its nearest existing folder must be inside, and the rest must not
    /// climb out with `..`.
    pub fn resolve(&self, relative: &str, origin: &Origin) -> Result<PathBuf, Diagnostic> {
        let outside = |why: &str| {
            Diagnostic::error(
                origin.clone(),
                format!("`{}` is outside the repository{why}", Shown(relative)),
            )
            .hint("paths in the settings are relative to the repository and stay inside it")
        };
        let path = Path::new(relative);
        if relative.is_empty() {
            return Err(Diagnostic::error(origin.clone(), "the path is empty"));
        }
        let joined = self.dir.join(path);
        // The longest existing ancestor, resolved; the rest, as written.
        let mut existing = joined.as_path();
        let mut rest = Vec::new();
        loop {
            if existing.symlink_metadata().is_ok() {
                break;
            }
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    existing = parent;
                }
                _ => return Err(outside("")),
            }
        }
        let resolved = match existing.canonicalize() {
            Ok(resolved) => resolved,
            // A dangling link, or a loop of links.
            Err(_) => return Err(outside(" (a link that leads nowhere)")),
        };
        if !self.contains(&resolved) {
            let why = if path.is_absolute() {
                ""
            } else if path.components().any(|c| c == Component::ParentDir) {
                " (`..` climbs out of it)"
            } else {
                " (a symbolic link leads out of it)"
            };
            return Err(outside(why));
        }
        let mut full = resolved;
        for name in rest.iter().rev() {
            let name = Path::new(name);
            if name
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            {
                return Err(outside(" (`..` climbs out of it)"));
            }
            full.push(name);
        }
        Ok(full)
    }

    /// Reads a file of the repository: a regular file, inside the repository once links
    /// are followed, at most [`MAX_FILE_BYTES`]. `shown` is its path in messages.
    pub fn read(&self, path: &Path, shown_as: &Path) -> Result<Vec<u8>, Diagnostic> {
        let at = || super::yaml::whole_file(shown_as);
        let unreadable =
            |err: std::io::Error| Diagnostic::error(at(), format!("cannot read the file: {err}"));
        let resolved = path.canonicalize().map_err(unreadable)?;
        if !self.contains(&resolved) {
            return Err(Diagnostic::error(
                at(),
                "this is a link to a file outside the repository; scimops reads only the repository's files",
            )
            .hint("replace the link with the file itself"));
        }
        read_regular(&resolved, MAX_FILE_BYTES).map_err(|problem| {
            let d = Diagnostic::error(at(), problem.to_string());
            match problem {
                ReadProblem::TooLarge { .. } => d.hint("split the users over several files"),
                _ => d,
            }
        })
    }

    /// Every `*.yaml` and `*.yml` file below `dir` (which is inside the repository), in
    /// a stable order. Links inside the repository are followed (each folder once);
    /// links out of it are problems, located at the link.
    pub fn yaml_files(&self, dir: &Path, problems: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut seen = Vec::new();
        self.walk(dir, &mut files, &mut seen, problems);
        files.sort();
        files.dedup();
        files
    }

    fn walk(
        &self,
        dir: &Path,
        files: &mut Vec<PathBuf>,
        seen: &mut Vec<PathBuf>,
        problems: &mut Vec<Diagnostic>,
    ) {
        let Ok(canonical) = dir.canonicalize() else {
            return;
        };
        if seen.contains(&canonical) {
            return; // a loop of links, or a folder reached twice
        }
        seen.push(canonical);
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let yaml = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            );
            if kind.is_symlink() {
                match path.canonicalize() {
                    Ok(target) if !self.contains(&target) && (yaml || target.is_dir()) => {
                        problems.push(
                            Diagnostic::error(
                                super::yaml::whole_file(self.relative(&path)),
                                "this is a link to a place outside the repository; scimops reads only the repository's files",
                            )
                            .hint("replace the link with what it points to"),
                        );
                    }
                    Ok(target) if !self.contains(&target) => {}
                    Ok(target) if target.is_dir() => self.walk(&path, files, seen, problems),
                    Ok(_) if yaml => files.push(path),
                    _ => {}
                }
            } else if kind.is_dir() {
                self.walk(&path, files, seen, problems);
            } else if yaml {
                // Not only regular files: a FIFO or a device named `*.yaml` is refused
                // when read, at its place.
                files.push(path);
            }
        }
    }

    /// `path` relative to the repository, for messages.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.dir).unwrap_or(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            file: std::path::Path::new("scimops.yaml").into(),
            line: 3,
            column: 5,
        }
    }

    #[test]
    fn paths_stay_inside_the_repository() {
        let outer = tempfile::tempdir().unwrap();
        let repo = outer.path().join("repo");
        std::fs::create_dir_all(repo.join("users")).unwrap();
        std::fs::write(outer.path().join("secret.env"), "S=1").unwrap();
        let root = Root::new(&repo).unwrap();
        assert!(root.resolve("users", &origin()).is_ok());
        assert!(
            root.resolve(".sandbox/state.db", &origin()).is_ok(),
            "need not exist"
        );
        let err = root.resolve("../secret.env", &origin()).unwrap_err();
        assert!(err.message.contains("`..` climbs out"), "{err}");
        assert!(root.resolve("users/../../secret.env", &origin()).is_err());
        assert!(root.resolve("new/../../x", &origin()).is_err());
        let absolute = outer.path().join("secret.env");
        assert!(root.resolve(absolute.to_str().unwrap(), &origin()).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outer.path().join("secret.env"), repo.join("users/a.yaml"))
                .unwrap();
            let err = root.resolve("users/a.yaml", &origin()).unwrap_err();
            assert!(err.message.contains("symbolic link"), "{err}");
            let err = root
                .read(&repo.join("users/a.yaml"), Path::new("users/a.yaml"))
                .unwrap_err();
            assert!(err.message.contains("outside the repository"), "{err}");
            let mut problems = Vec::new();
            assert!(
                root.yaml_files(&repo.join("users"), &mut problems)
                    .is_empty()
            );
            assert_eq!(problems.len(), 1, "{problems:?}");
        }
    }

    #[test]
    fn only_regular_files_are_read_and_never_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.yaml");
        std::fs::write(&file, "0123456789").unwrap();
        assert_eq!(read_regular(&file, 10).unwrap().len(), 10);
        assert!(matches!(
            read_regular(&file, 9),
            Err(ReadProblem::TooLarge { .. })
        ));
        assert!(matches!(
            read_regular(dir.path(), 9),
            Err(ReadProblem::NotRegular("a folder"))
        ));
        #[cfg(unix)]
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 1024),
            Err(ReadProblem::NotRegular("a device"))
        ));
    }
}
