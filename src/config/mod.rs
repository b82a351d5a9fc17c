//! Reading a scimops repository: `scimops.yaml` and the user files.
//!
//! Everything here is about files: problems are collected as located diagnostics and
//! reported together. Turning declared users into typed, comparable users needs the
//! target's dialect and schema, and happens in [`crate::desired`].

mod check;
mod node;
pub mod paths;
mod settings;
mod text;
mod users;
pub(crate) mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use self::node::{Node, NodeDeserializer, NodeValue};
use self::paths::Root;
pub use self::settings::{Auth, Settings};
use self::users::UserEntry;
pub use self::users::{Scalar, UserFile};
use self::yaml::Located;
use crate::diag::{Diagnostic, Diagnostics};
use crate::dialect::DialectConfig;
use crate::model::{Attr, Origin, sha256_hex};
use crate::secret::SecretRef;
use serde::Deserialize;

/// The settings file's name, at the root of a repository.
pub const SETTINGS_FILE: &str = "scimops.yaml";

/// [`SETTINGS_FILE`] as origins hold it: one allocation, shared by every origin.
fn settings_file() -> Arc<Path> {
    static SHARED: std::sync::LazyLock<Arc<Path>> =
        std::sync::LazyLock::new(|| Path::new(SETTINGS_FILE).into());
    SHARED.clone()
}

/// A repository as read from disk, before any server is involved.
#[derive(Debug)]
pub struct Repository {
    pub root: PathBuf,
    /// Resolves the settings' paths inside the repository.
    resolver: Root,
    pub settings: Settings,
    pub users: Vec<DeclaredUser>,
    /// Problems in the files: the first [`Repository::settings_problems`] are the
    /// settings'. Files that parse still give their users, so that one run reports the
    /// problems of every file.
    pub problems: Vec<Diagnostic>,
    /// How many of `problems` are the settings' (commands that act refuse them).
    pub settings_problems: usize,
    /// The SHA-256 of every file read (settings and users), by path relative to the
    /// repository with `/` separators: what a saved plan was made from.
    pub files: BTreeMap<String, String>,
    /// The files and folders of users read, as the settings name them: the
    /// repository's `users:`, then the target's own.
    pub read: Vec<String>,
    /// The domain added to userNames written without one.
    domain: Option<String>,
    /// The default properties every user gets (the target's over the repository's).
    defaults: BTreeMap<String, Located<Option<Scalar>>>,
    /// The attributes that are private (`private:`; by default e-mails and phones).
    pub private: Vec<Attr>,
    /// Whether a target may use plain http to a host that is not loopback
    /// (`--allow-insecure-http`).
    pub allow_insecure_http: bool,
}

/// What one target reads: the repository's users and defaults, with the target's own
/// added over them.
struct Reads<'a> {
    /// Files and folders, each with where the settings name it.
    paths: Vec<(String, Origin)>,
    domain: Option<&'a Located<String>>,
    /// Default properties, the target's over the repository's.
    properties: BTreeMap<String, &'a Located<Option<Scalar>>>,
}

impl<'a> Reads<'a> {
    /// For `target` (by name, else the default target, else the only one); for none
    /// that exists, the repository's alone (the target's error comes when it is used).
    fn of(settings: &'a Settings, target: Option<&str>) -> Self {
        let file = &settings_file();
        let each = |list: &Vec<Located<String>>| -> Vec<(String, Origin)> {
            list.iter()
                .map(|p| (p.value.clone(), yaml::origin(file, p)))
                .collect()
        };
        let mut paths = match &settings.users {
            Some(list) => each(list),
            None => vec![("users".to_string(), yaml::whole_file(file))],
        };
        let mut domain = settings.defaults.domain.as_ref();
        let mut properties: BTreeMap<String, &Located<Option<Scalar>>> = settings
            .defaults
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v))
            .collect();
        let target = chosen_target(settings, target).and_then(|name| settings.targets.get(&name));
        if let Some(target) = target {
            if let Some(list) = &target.users {
                paths.extend(each(list));
            }
            if let Some(defaults) = &target.defaults {
                domain = defaults.domain.as_ref().or(domain);
                properties.extend(defaults.properties.iter().map(|(k, v)| (k.clone(), v)));
            }
        }
        Self {
            paths,
            domain,
            properties,
        }
    }
}

/// The settings' `private:` as attributes (default: e-mail and phone). The userName
/// and `active` cannot be private: reviewers need them.
fn private_attrs(settings: &Settings) -> Result<Vec<Attr>, Diagnostic> {
    let Some(list) = &settings.private else {
        return Ok(vec![Attr::Email, Attr::Phone]);
    };
    let mut attrs = Vec::new();
    for name in &list.value {
        let attr: Attr = name.parse().unwrap_or_else(|never| match never {});
        if matches!(attr, Attr::UserName | Attr::Active) || name.trim().is_empty() {
            return Err(Diagnostic::error(
                yaml::origin(&settings_file(), list),
                format!(
                    "`{}` cannot be private: reviewers need it to know whose access changes",
                    crate::escape::Shown(name)
                ),
            )
            .hint("list the attributes to mask as user files name them: `email`, `phone`, `name.familyName`, `properties.NAME`..."));
        }
        attrs.push(attr);
    }
    Ok(attrs)
}

/// The target a command uses: `name`, else the settings' `defaultTarget`, else the only
/// one. `None` when the settings cannot say.
fn chosen_target(settings: &Settings, name: Option<&str>) -> Option<String> {
    match (name, &settings.default_target) {
        (Some(name), _) => Some(name.to_string()),
        (None, Some(default)) => Some(default.value.clone()),
        (None, None) if settings.targets.len() == 1 => settings.targets.keys().next().cloned(),
        (None, None) => None,
    }
}

/// A value as a file declares it: `None` is an explicit `null`.
#[derive(Clone, Debug, PartialEq)]
pub struct Declared {
    pub value: Option<Scalar>,
    pub origin: Origin,
}

/// A user as the files declare it, with the settings' default properties merged in.
#[derive(Clone, Debug, PartialEq)]
pub struct DeclaredUser {
    /// The userName as written (without the default domain yet).
    pub user_name: String,
    /// Where the userName was written: the user's place in the files.
    pub origin: Origin,
    /// Names the user had before (`previously`), as written, each where it is written.
    pub previously: Vec<(String, Origin)>,
    /// The core attributes the entry mentions (name parts, email, phone, active).
    pub attrs: crate::model::AttrMap<Declared>,
    /// User properties, by the name written in the file.
    pub properties: Members,
    /// Other core attributes, by the name written in the file.
    pub attributes: Members,
    /// Attributes of other extensions: by URN, then by name, as written.
    pub extensions: BTreeMap<String, Members>,
}

/// Declared values by name: the few of one user, in a vector sorted by name (a map's
/// smallest node takes a kilobyte, and 100,000 users each have a few).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Members(Vec<(String, Declared)>);

impl Members {
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Declared)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    /// Sets `name` (a value already there is replaced).
    pub fn insert(&mut self, name: String, value: Declared) {
        match self.0.binary_search_by(|(n, _)| n.cmp(&name)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, Declared)> for Members {
    fn from_iter<I: IntoIterator<Item = (String, Declared)>>(items: I) -> Self {
        let mut members = Self::default();
        members.extend(items);
        members
    }
}

impl IntoIterator for Members {
    type Item = (String, Declared);
    type IntoIter = std::vec::IntoIter<(String, Declared)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Extend<(String, Declared)> for Members {
    fn extend<I: IntoIterator<Item = (String, Declared)>>(&mut self, items: I) {
        for (name, value) in items {
            self.insert(name, value);
        }
    }
}

/// A target, checked and resolved: what a command needs to reach the server.
#[derive(Clone, Debug)]
pub struct TargetConfig {
    pub name: String,
    pub dialect: DialectConfig,
    pub endpoint: Endpoint,
    /// Where the settings give a plain-http URL to a host that is not loopback, which
    /// `--allow-insecure-http` allowed.
    pub plain_http: Option<Origin>,
    /// Certificates of a private authority to trust besides the system's (`caFile`),
    /// inside the repository.
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub enum Endpoint {
    /// A real server.
    Remote { url: Url, auth: Box<AuthConfig> },
    /// A sandbox to start in-process (paths are absolute).
    Sandbox { config: PathBuf, state: PathBuf },
}

#[derive(Clone, Debug)]
pub enum AuthConfig {
    ClientCredentials {
        token_url: Url,
        client_id: String,
        client_secret: SecretRef,
        scope: String,
    },
    Bearer(SecretRef),
    None,
}

impl TargetConfig {
    /// A problem with the target's secret in this environment (unset, empty), located
    /// where the settings reference it. Never shows the value.
    pub fn check_secret(&self, env: &dyn Fn(&str) -> Option<String>) -> Option<Diagnostic> {
        let Endpoint::Remote { auth, .. } = &self.endpoint else {
            return None;
        };
        let secret = auth.secret()?;
        let message = secret.resolve(env).err()?;
        let file_var = secret.file_var();
        let hint = if env(&file_var).is_some() {
            format!(
                "`{file_var}` is the path of a file that holds the secret alone; its value is never printed"
            )
        } else {
            "set it before running `plan` or `apply`; its value is never printed".to_string()
        };
        Some(
            Diagnostic::error(
                secret.origin.clone(),
                format!("target `{}`: {message}", self.name),
            )
            .hint(hint),
        )
    }
}

impl AuthConfig {
    /// The secret to read from the environment, if any.
    pub fn secret(&self) -> Option<&SecretRef> {
        match self {
            AuthConfig::ClientCredentials { client_secret, .. } => Some(client_secret),
            AuthConfig::Bearer(token) => Some(token),
            AuthConfig::None => None,
        }
    }
}

impl Repository {
    /// Reads the repository at `root`. Fails only when the settings cannot be read;
    /// problems in user files are in [`Repository::problems`].
    pub fn load(root: &Path, target: Option<&str>) -> Result<Self, Diagnostics> {
        let settings_file = PathBuf::from(SETTINGS_FILE);
        let missing = || {
            Diagnostics(vec![
                Diagnostic::error(
                    None,
                    format!(
                        "no `{SETTINGS_FILE}` in `{}`",
                        crate::escape::Shown(
                            &std::path::absolute(root)
                                .unwrap_or_else(|_| root.to_path_buf())
                                .to_string_lossy()
                        )
                    ),
                )
                .hint("run scimops in a scimops repository, or point at one with `-C DIR`"),
            ])
        };
        let resolver = Root::new(root).map_err(|_| missing())?;
        let settings_path = root.join(SETTINGS_FILE);
        if settings_path.symlink_metadata().is_err() {
            return Err(missing());
        }
        let text = resolver
            .read(&settings_path, &settings_file)
            .map_err(|d| Diagnostics(vec![d]))?;
        let mut problems = Vec::new();
        let mut files = BTreeMap::new();
        files.insert(
            SETTINGS_FILE.to_string(),
            format!("sha256:{}", sha256_hex(&text)),
        );
        // Settings are read past their problems (what the schema refused is left out),
        // so that one run reports every problem: of the settings, of each target, and
        // of the user files. Commands that act refuse settings with problems
        // ([`Repository::settings_problems`]).
        let settings: Option<Settings> = match decode(&settings_file, &text)
            .map_err(|d| vec![d])
            .and_then(|text| read_lenient(&settings_file, &text, "scimops.schema.json"))
        {
            Ok((settings, found)) => {
                problems.extend(found);
                settings
            }
            Err(found) => {
                problems.extend(found);
                None
            }
        };
        let private = match settings.as_ref().map(private_attrs) {
            Some(Ok(private)) => private,
            Some(Err(problem)) => {
                problems.push(problem);
                Vec::new()
            }
            None => Vec::new(),
        };
        let settings_problems = problems.len();
        let default_settings = Settings::default();
        let reads = Reads::of(settings.as_ref().unwrap_or(&default_settings), target);

        let mut users = Vec::new();
        // Files are read and checked on as many threads as there are cores; their users
        // are made here, in the files' order. What outlives the reading is made on this
        // thread (the files' names, which every origin shares, and the users), so the
        // reading threads' memory is theirs alone, reused from one file to the next.
        let paths: Vec<(PathBuf, Arc<Path>)> = user_files(&resolver, &reads.paths, &mut problems)
            .into_iter()
            .map(|file| {
                let rel = file.strip_prefix(root).unwrap_or(&file).into();
                (file, rel)
            })
            .collect();
        let check = |(file, rel): &(PathBuf, Arc<Path>)| {
            let mut digest = None;
            let checked = resolver
                .read(file, rel)
                .inspect(|bytes| digest = Some(ring::digest::digest(&ring::digest::SHA256, bytes)))
                .and_then(|bytes| decode(rel, &bytes))
                .and_then(|text| {
                    if text.len() > LARGE_FILE {
                        return Ok(Checked::Large(text));
                    }
                    let node = yaml::parse_node(rel, &text)?;
                    let mut checker = check::Checker::new(schema("users.schema.json"), rel.clone());
                    checker.check_document(&node);
                    Ok(Checked::Whole(node, checker.refused, checker.problems))
                });
            (digest, checked)
        };
        in_rounds(&paths, check, |(_, rel), (digest, checked)| {
            if let Some(digest) = digest {
                let path: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
                let digest = crate::model::hex(digest.as_ref());
                files.insert(path.join("/"), format!("sha256:{digest}"));
            }
            let read = checked.and_then(|checked| match checked {
                Checked::Whole(node, refused, found) => {
                    let (read, unread) = match settings {
                        Some(_) => declared_users(rel, &node, &refused, &reads.properties),
                        None => (Vec::new(), Vec::new()),
                    };
                    Ok((read, found, unread))
                }
                // Read here, entry by entry: the users are made on this thread.
                Checked::Large(text) => read_text(rel, &text, &reads.properties),
            });
            match read {
                Ok((read, found, unread)) => {
                    if settings.is_some() {
                        users.extend(read);
                        // What the types could not read is reported when the check found
                        // nothing: a file never fails in silence.
                        if found.is_empty() {
                            problems.extend(unread);
                        }
                    }
                    problems.extend(found);
                }
                Err(d) => problems.push(d),
            }
        });
        let domain = reads.domain.map(|d| d.value.clone());
        let read = reads.paths.iter().map(|(path, _)| path.clone()).collect();
        let defaults = reads
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), (*v).clone()))
            .collect();
        let Some(settings) = settings else {
            return Err(Diagnostics::sorted(problems));
        };

        Ok(Self {
            root: root.to_path_buf(),
            resolver,
            settings,
            users,
            settings_problems,
            problems,
            files,
            read,
            domain,
            defaults,
            private,
            allow_insecure_http: false,
        })
    }

    /// The safety policy the settings describe, with the defaults of the target's
    /// dialect where they are silent (Bizagi protects its `admon` account).
    pub fn policy(&self, dialect: &dyn crate::dialect::Dialect) -> crate::policy::Policy {
        let p = &self.settings.policy;
        let mut policy = crate::policy::Policy {
            protected: dialect
                .protected_by_default()
                .iter()
                .map(|p| crate::policy::Pattern::new(p))
                .collect(),
            ..crate::policy::Policy::default()
        };
        if let Some(unmanaged) = &p.unmanaged {
            policy.unmanaged = unmanaged.value;
            policy.origin = yaml::origin(&settings_file(), unmanaged);
        }
        if let Some(patterns) = &p.protected {
            policy.protected = patterns
                .iter()
                .map(|p| crate::policy::Pattern::new(p))
                .collect();
        }
        if let Some(n) = p.max_deactivations {
            policy.max_deactivations = n as usize;
        }
        if let Some(percent) = p.max_deactivation_percent {
            policy.max_deactivation_percent = percent;
        }
        policy
    }

    /// The default properties every user gets (the target's over the repository's).
    pub fn default_properties(&self) -> impl Iterator<Item = (&str, Option<&Scalar>)> {
        self.defaults
            .iter()
            .map(|(name, v)| (name.as_str(), v.value.as_ref()))
    }

    /// The users of each user file's text, read as if it were the file `rel` of the
    /// repository (checked by its schema, with the defaults), on every core: how
    /// `import` reads back what it is about to write.
    pub fn read_texts(
        &self,
        texts: &[(PathBuf, String)],
    ) -> Vec<(Vec<DeclaredUser>, Vec<Diagnostic>)> {
        let mut read = Vec::with_capacity(texts.len());
        in_rounds(
            texts,
            |(rel, text)| self.read_users(rel, text),
            |_, r| read.push(r),
        );
        read
    }

    /// The users of a user file's text, read as if it were the file `rel` of the
    /// repository (checked by its schema, with the defaults).
    pub fn read_users(&self, rel: &Path, text: &str) -> (Vec<DeclaredUser>, Vec<Diagnostic>) {
        let defaults = self.defaults.iter().map(|(k, v)| (k.clone(), v)).collect();
        match read_text(&rel.into(), text, &defaults) {
            Ok((users, mut problems, unread)) => {
                problems.extend(unread);
                (users, problems)
            }
            Err(d) => (Vec::new(), vec![d]),
        }
    }

    /// Whether the target reads the file `rel` (a path of the repository, `/`-separated):
    /// one of the files, or inside one of the folders, its `users:` name.
    pub fn reads(&self, rel: &Path) -> bool {
        self.read.iter().any(|path| {
            let path = Path::new(path.trim_start_matches("./"));
            rel == path || rel.starts_with(path)
        })
    }

    /// The domain added to userNames written without one (the target's, else the
    /// repository's).
    pub fn default_domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// Picks and checks a target: `name`, else the default target, else the only one.
    pub fn target(&self, name: Option<&str>) -> Result<TargetConfig, Diagnostics> {
        let settings_file = &settings_file();
        let targets = &self.settings.targets;
        let chosen = match chosen_target(&self.settings, name) {
            Some(chosen) => chosen,
            None => {
                let message = if targets.is_empty() {
                    "the settings declare no target".to_string()
                } else {
                    format!(
                        "the settings declare {} targets and no `defaultTarget`",
                        targets.len()
                    )
                };
                return Err(Diagnostics(vec![
                    Diagnostic::error(yaml::whole_file(settings_file), message).hint(
                        "add a target under `targets:`, set `defaultTarget`, or pass `--target NAME`",
                    ),
                ]));
            }
        };
        let Some(target) = targets.get(&chosen) else {
            let origin = match (&self.settings.default_target, name) {
                (Some(default), None) => yaml::origin(settings_file, default),
                _ => yaml::whole_file(settings_file),
            };
            return Err(Diagnostics(vec![
                Diagnostic::error(origin, format!("no target named `{chosen}`")).hint(format!(
                    "the settings declare: {}",
                    list_or_none(targets.keys())
                )),
            ]));
        };
        check_target(&self.resolver, &chosen, target, self.allow_insecure_http)
            .map_err(Diagnostics::sorted)
    }
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names = crate::words::ticked(names.map(String::as_str));
    if names.is_empty() {
        "none".to_string()
    } else {
        names
    }
}

pub use self::paths::MAX_FILE_BYTES;

/// The JSON Schemas of the files, made once.
fn schema(name: &str) -> &'static serde_json::Value {
    static SCHEMAS: std::sync::OnceLock<Vec<(&'static str, serde_json::Value)>> =
        std::sync::OnceLock::new();
    let schemas = SCHEMAS.get_or_init(json_schemas);
    &schemas
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a schema of ours")
        .1
}

/// What the JSON Schema `schema_name` alone says of a file's text (what an editor
/// shows as you type): its problems, or the YAML error that stops any check.
pub fn schema_problems(
    file: &Path,
    text: &str,
    schema_name: &str,
) -> Result<Vec<Diagnostic>, Diagnostic> {
    let node = yaml::parse_node(file, text)?;
    let mut checker = check::Checker::new(schema(schema_name), file.into());
    checker.check_document(&node);
    Ok(checker.problems)
}

/// Parses a file checked against its schema, past what the schema refused (left out):
/// the value, if the rest reads, and every problem of the file, each at its place.
fn read_lenient<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
    schema_name: &str,
) -> Result<(Option<T>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let node = yaml::parse_node(file, text).map_err(|d| vec![d])?;
    let mut checker = check::Checker::new(schema(schema_name), file.into());
    checker.check_document(&node);
    match T::deserialize(NodeDeserializer::new(&node, &checker.refused)) {
        Ok(value) => Ok((Some(value), checker.problems)),
        // What the types could not read is said when the check found nothing: a file
        // never fails in silence.
        Err(e) if checker.problems.is_empty() => Err(vec![unreadable(file, e)]),
        Err(_) => Err(checker.problems),
    }
}

/// A value the schema check let through and the types could not read (a gap between
/// the two): reported at its place.
fn unreadable(file: &Path, e: node::NodeError) -> Diagnostic {
    let origin = e.at.map_or_else(
        || yaml::whole_file(file),
        |at| Origin {
            file: file.into(),
            line: at.line,
            column: at.column,
        },
    );
    Diagnostic::error(origin, e.message)
}

/// UTF-8 text, without a byte-order mark.
fn decode(file: &Path, bytes: &[u8]) -> Result<String, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|err| {
        Diagnostic::error(
            yaml::whole_file(file),
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                err.utf8_error().valid_up_to()
            ),
        )
        .hint("save the file as UTF-8")
    })
}

/// How many user files are read at once: one per core ([`in_rounds`]).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `work` on each item, as many at a time as there are cores (on threads of their own),
/// and `then` on each result, in the items' order, on this thread: at most one result per
/// core is held at a time.
fn in_rounds<I: Sync, T: Send>(
    items: &[I],
    work: impl Fn(&I) -> T + Sync,
    mut then: impl FnMut(&I, T),
) {
    for round in items.chunks(cores()) {
        let results: Vec<T> = std::thread::scope(|scope| {
            // Each thread with the main thread's stack: a file may nest as deep as the
            // parser allows (a thread's default 2 MiB is not enough for it unoptimised).
            let others: Vec<_> = round[1..]
                .iter()
                .map(|item| {
                    std::thread::Builder::new()
                        .stack_size(8 * 1024 * 1024)
                        .spawn_scoped(scope, || work(item))
                })
                .collect();
            let first = work(&round[0]);
            let others = others.into_iter().zip(&round[1..]).map(|(thread, item)| {
                match thread {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    // No thread to be had: the work is done here.
                    Err(_) => work(item),
                }
            });
            std::iter::once(first).chain(others).collect()
        });
        for (item, result) in round.iter().zip(results) {
            then(item, result);
        }
    }
}

/// The user files under `paths` (files, and folders read recursively), in a stable
/// order. Every path stays inside the repository.
fn user_files(
    root: &Root,
    paths: &[(String, Origin)],
    problems: &mut Vec<Diagnostic>,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (path, origin) in paths {
        let full = match root.resolve(path, origin) {
            Ok(full) => full,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        // Messages and saved plans name files as the repository does, not as links
        // resolve: keep the path as written when it is not a link.
        let written = root.dir.join(path);
        let full = if written.canonicalize().ok().as_ref() == Some(&full) {
            written
        } else {
            full
        };
        if full.is_dir() {
            files.extend(root.yaml_files(&full, problems));
        } else if full.symlink_metadata().is_ok() {
            files.push(full);
        } else {
            problems.push(
                Diagnostic::error(
                    origin.clone(),
                    format!("`{}` does not exist", crate::escape::Shown(path)),
                )
                .hint("create it, or list the files and folders that hold users under `users:`"),
            );
        }
    }
    files.sort();
    files.dedup();
    files
}

/// A user file of more than this is read entry by entry on the thread that keeps its
/// users, never as one tree (about ten times its text): the 13 MB file that `import`
/// writes for 50,000 users would take 140 MB as a tree.
const LARGE_FILE: usize = 1024 * 1024;

/// A user file as a worker thread read it.
enum Checked {
    /// Parsed and checked: its tree, what the check refused, and its problems.
    Whole(Node, node::Refused, Vec<Diagnostic>),
    /// Its text, to read entry by entry ([`read_text`]).
    Large(String),
}

/// What one user file gives: its users, the problems its check found, and what the
/// types could not read (said only when the check found nothing).
type FileRead = (Vec<DeclaredUser>, Vec<Diagnostic>, Vec<Diagnostic>);

/// Reads a user file's `text` entry by entry: each entry of `users` is checked and made
/// a user as it is parsed, then freed. A document of another shape is read whole, so
/// that its problems are said as always.
fn read_text(
    rel: &Arc<Path>,
    text: &str,
    defaults: &BTreeMap<String, &Located<Option<Scalar>>>,
) -> Result<FileRead, Diagnostic> {
    let mut checker = check::Checker::new(schema("users.schema.json"), rel.clone());
    let mut users = Vec::new();
    let mut unread = Vec::new();
    let rest = yaml::parse_users(rel, text, &mut |entry| {
        checker.check_user_entry(&entry);
        if let Some(read) = declared_user(rel, &entry, &checker.refused, defaults) {
            match read {
                Ok(user) => users.push(user),
                Err(problem) => unread.push(problem),
            }
        }
    })?;
    let Some(rest) = rest else {
        return read_whole(rel, text, defaults);
    };
    checker.check_document(&rest);
    Ok((users, checker.problems, unread))
}

/// Reads a user file's `text` as one tree: parsed, checked, then its users read.
fn read_whole(
    rel: &Arc<Path>,
    text: &str,
    defaults: &BTreeMap<String, &Located<Option<Scalar>>>,
) -> Result<FileRead, Diagnostic> {
    let node = yaml::parse_node(rel, text)?;
    let mut checker = check::Checker::new(schema("users.schema.json"), rel.clone());
    checker.check_document(&node);
    let (users, unread) = declared_users(rel, &node, &checker.refused, defaults);
    Ok((users, checker.problems, unread))
}

/// The users a file's tree declares, read by the types that describe the file
/// ([`UserFile`]), each with the settings' default properties merged in. What the
/// schema check refused is passed over, and one entry that cannot be read does not hide
/// the others: one run reports every problem. Returns the users, and the problems of
/// entries that could not be read.
fn declared_users(
    file: &Arc<Path>,
    node: &Node,
    refused: &node::Refused,
    defaults: &BTreeMap<String, &Located<Option<Scalar>>>,
) -> (Vec<DeclaredUser>, Vec<Diagnostic>) {
    let entries = match &node.value {
        NodeValue::Map(members) => members
            .iter()
            .find(|(key, key_at, value)| {
                key == "users"
                    && !refused.keys.contains(key_at)
                    && !refused.values.contains(&value.at)
            })
            .map(|(_, _, users)| users),
        _ => None,
    };
    let Some(Node {
        value: NodeValue::Seq(items),
        ..
    }) = entries
    else {
        return (Vec::new(), Vec::new());
    };
    let mut users = Vec::with_capacity(items.len());
    let mut unread = Vec::new();
    for item in items {
        match declared_user(file, item, refused, defaults) {
            Some(Ok(user)) => users.push(user),
            Some(Err(problem)) => unread.push(problem),
            None => {}
        }
    }
    (users, unread)
}

/// The user of one entry of `users`, or why the types could not read it; `None` when
/// the check refused the entry (it said why).
fn declared_user(
    file: &Arc<Path>,
    item: &Node,
    refused: &node::Refused,
    defaults: &BTreeMap<String, &Located<Option<Scalar>>>,
) -> Option<Result<DeclaredUser, Diagnostic>> {
    if refused.values.contains(&item.at) {
        return None;
    }
    Some(
        UserEntry::deserialize(NodeDeserializer::new(item, refused))
            .map(|entry| declared(file, entry, defaults))
            .map_err(|e| unreadable(file, e)),
    )
}

/// A user as the files declare it, with the default properties.
fn declared(
    file: &Arc<Path>,
    entry: UserEntry,
    defaults: &BTreeMap<String, &Located<Option<Scalar>>>,
) -> DeclaredUser {
    let settings_file = &settings_file();
    fn at<T>(file: &Arc<Path>, value: &Located<T>) -> Origin {
        yaml::origin(file, value)
    }
    let text = |l: Option<Located<Option<String>>>| {
        l.map(|l| Declared {
            origin: at(file, &l),
            value: l.value.map(Scalar::String),
        })
    };
    let mut attrs = crate::model::AttrMap::new();
    let name = entry.name.unwrap_or_default();
    for (attr, part) in [
        (Attr::GivenName, name.given_name),
        (Attr::MiddleName, name.middle_name),
        (Attr::FamilyName, name.family_name),
        (Attr::Email, entry.email),
        (Attr::Phone, entry.phone),
    ] {
        if let Some(declared) = text(part) {
            attrs.insert(attr, declared);
        }
    }
    if let Some(active) = entry.active {
        attrs.insert(
            Attr::Active,
            Declared {
                origin: at(file, &active),
                value: active.value.map(Scalar::Boolean),
            },
        );
    }
    let members = |map: BTreeMap<String, Located<Option<Scalar>>>| -> Members {
        map.into_iter()
            .map(|(name, l)| {
                let declared = Declared {
                    origin: at(file, &l),
                    value: l.value,
                };
                (name, declared)
            })
            .collect()
    };
    let mut properties: Members = defaults
        .iter()
        .map(|(name, v)| {
            let declared = Declared {
                origin: yaml::origin(settings_file, v),
                value: v.value.clone(),
            };
            (name.clone(), declared)
        })
        .collect();
    properties.extend(members(entry.properties));
    DeclaredUser {
        origin: at(file, &entry.user_name),
        previously: entry
            .previously
            .iter()
            .map(|p| (p.value.clone(), at(file, p)))
            .collect(),
        user_name: entry.user_name.value,
        attrs,
        properties,
        attributes: members(entry.attributes),
        extensions: entry
            .extensions
            .into_iter()
            .map(|(urn, m)| (urn, members(m)))
            .collect(),
    }
}

fn check_target(
    root: &Root,
    name: &str,
    target: &settings::Target,
    allow_insecure_http: bool,
) -> Result<TargetConfig, Vec<Diagnostic>> {
    let file = &settings_file();
    let whole = || yaml::whole_file(file);
    let mut plain_http = None;
    let page_size = match &target.page_size {
        Some(n) if n.value == 0 => {
            return Err(vec![Diagnostic::error(
                yaml::origin(file, n),
                format!("target `{name}` has `pageSize: 0`; use at least 1"),
            )]);
        }
        Some(n) => Some(n.value as usize),
        None => None,
    };
    let unsupported = match &target.unsupported {
        None => Vec::new(),
        Some(list) => {
            let mut attrs = Vec::new();
            for attribute in &list.value {
                let attr: Attr = attribute.parse().unwrap_or_else(|never| match never {});
                if matches!(attr, Attr::Active | Attr::FormattedName | Attr::UserName)
                    || attribute.trim().is_empty()
                {
                    return Err(vec![
                        Diagnostic::error(
                            yaml::origin(file, list),
                            format!(
                                "target `{}` lists `{}` as unsupported; scimops cannot do without it",
                                crate::escape::Shown(name),
                                crate::escape::Shown(attribute),
                            ),
                        )
                        .hint("list attributes as user files name them: `name.middleName`, `phone`, `email`, `properties.NAME`..."),
                    ]);
                }
                attrs.push(attr);
            }
            attrs
        }
    };
    let dialect = DialectConfig {
        name: target.dialect,
        properties_schema: target.properties_schema.clone(),
        phone_type: target.phone_type.clone(),
        user_keys: target.user_keys,
        page_size,
        paging: target.paging,
        unsupported,
    };
    let offline = crate::dialect::for_target(&dialect, crate::dialect::Capabilities::default());
    let inside = |path: &Located<String>| root.resolve(&path.value, &yaml::origin(file, path));
    let ca_file = match target.ca_file.as_ref().map(inside).transpose() {
        Ok(ca_file) => ca_file,
        Err(problem) => return Err(vec![problem]),
    };
    let endpoint = match (&target.url, &target.auth, &target.sandbox) {
        (None, None, Some(sandbox)) => match (inside(&sandbox.config), inside(&sandbox.state)) {
            (Ok(config), Ok(state)) => Endpoint::Sandbox { config, state },
            (config, state) => {
                return Err([config.err(), state.err()].into_iter().flatten().collect());
            }
        },
        (Some(url), Some(auth), None) => {
            let mut problems = Vec::new();
            let base = checked_url(&url.value, allow_insecure_http).map_err(|m| {
                problems.push(Diagnostic::error(yaml::origin(file, url), m));
            });
            if base
                .as_ref()
                .is_ok_and(|u| u.scheme() == "http" && !is_loopback(u))
            {
                plain_http = Some(yaml::origin(file, url));
            }
            let auth = checked_auth(
                auth,
                base.as_ref().ok(),
                offline.as_ref(),
                allow_insecure_http,
            )
            .map_err(|d| {
                problems.extend(d);
            });
            match (base, auth) {
                (Ok(url), Ok(auth)) => Endpoint::Remote {
                    url,
                    auth: Box::new(auth),
                },
                _ => return Err(problems),
            }
        }
        (url, _, Some(_)) => {
            let at = url.as_ref().map_or_else(whole, |u| yaml::origin(file, u));
            return Err(vec![
                Diagnostic::error(
                    at,
                    format!("target `{name}` has both `sandbox` and `url`/`auth`"),
                )
                .hint("a target is either an embedded sandbox or a server reached by `url` with `auth`"),
            ]);
        }
        (None, _, None) => {
            return Err(vec![
                Diagnostic::error(whole(), format!("target `{name}` has no `url`"))
                    .hint("set `url` to the server's SCIM base URL, e.g. `https://my-company.bizagi.com/scim/v2`"),
            ]);
        }
        (Some(url), None, None) => {
            return Err(vec![
                Diagnostic::error(
                    yaml::origin(file, url),
                    format!("target `{name}` has no `auth`"),
                )
                .hint("add `auth: {clientCredentials: {clientId: ..., clientSecret: ${ENV_VAR}}}`"),
            ]);
        }
    };
    Ok(TargetConfig {
        name: name.to_string(),
        dialect,
        endpoint,
        plain_http,
        ca_file,
    })
}

/// A base URL with a trailing slash (so that joining keeps its last segment); https,
/// or plain http to loopback (or anywhere, when `allow_insecure_http`). A URL that
/// carries a user name or a password is refused, and never repeated in a message.
pub fn checked_url(text: &str, allow_insecure_http: bool) -> Result<Url, String> {
    let shown = crate::escape::Shown(&without_user_info(text)).to_string();
    let mut url = Url::parse(text.trim()).map_err(|e| format!("`{shown}` is not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{shown}` carries a user name or a password (`user:password@`); credentials \
             are never written in files: use the target's `auth`, with the secret in an \
             environment variable"
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) || allow_insecure_http => {}
        "http" => {
            return Err(format!(
                "`{shown}` is plain http to a host that is not loopback; credentials and \
                 user data would cross the network unencrypted: use https (or, knowingly, \
                 pass --allow-insecure-http)"
            ));
        }
        other => return Err(format!("`{shown}` has the scheme `{other}`; use https")),
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// `text` with any `user:password@` after the scheme replaced by `***@`.
fn without_user_info(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => text.to_string(),
    }
}

fn is_loopback(url: &Url) -> bool {
    crate::scim::client::is_loopback(url)
}

fn checked_auth(
    auth: &Auth,
    base: Option<&Url>,
    dialect: &dyn crate::dialect::Dialect,
    allow_insecure_http: bool,
) -> Result<AuthConfig, Vec<Diagnostic>> {
    let file = &settings_file();
    let cc = match auth {
        Auth::ClientCredentials(cc) => cc,
        Auth::Bearer(bearer) => {
            return SecretRef::parse(&bearer.token.value)
                .map(|r| AuthConfig::Bearer(r.at(yaml::origin(file, &bearer.token))))
                .map_err(|m| vec![Diagnostic::error(yaml::origin(file, &bearer.token), m)]);
        }
        Auth::None => return Ok(AuthConfig::None),
    };
    let mut problems = Vec::new();
    let secret = SecretRef::parse(&cc.client_secret.value)
        .map(|r| r.at(yaml::origin(file, &cc.client_secret)))
        .map_err(|m| problems.push(Diagnostic::error(yaml::origin(file, &cc.client_secret), m)));
    let token_url = match (&cc.token_url, base) {
        (Some(url), _) => checked_url(&url.value, allow_insecure_http)
            .map(|mut u| {
                // a token endpoint is a resource, not a base: no trailing slash
                let path = u.path().trim_end_matches('/').to_string();
                u.set_path(&path);
                u
            })
            .map_err(|m| problems.push(Diagnostic::error(yaml::origin(file, url), m))),
        (None, Some(base)) => dialect.token_url(base).map_err(|(message, hint)| {
            problems.push(Diagnostic::error(yaml::origin(file, &cc.client_id), message).hint(hint));
        }),
        (None, None) => Err(()),
    };
    match (secret, token_url) {
        (Ok(client_secret), Ok(token_url)) => Ok(AuthConfig::ClientCredentials {
            token_url,
            client_id: cc.client_id.value.clone(),
            client_secret,
            scope: cc.scope.clone().unwrap_or_else(|| "api".to_string()),
        }),
        _ => Err(problems),
    }
}

/// The JSON Schemas of the repository's files, generated from the types that parse them.
pub fn json_schemas() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "scimops.schema.json",
            serde_json::to_value(schemars::schema_for!(Settings)).unwrap_or_default(),
        ),
        (
            "users.schema.json",
            serde_json::to_value(schemars::schema_for!(UserFile)).unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_a_trailing_slash_and_plain_http_only_on_loopback() {
        assert_eq!(
            checked_url("https://x.bizagi.com/scim/v2", false)
                .unwrap()
                .as_str(),
            "https://x.bizagi.com/scim/v2/"
        );
        assert!(checked_url("http://127.0.0.1:8080/scim/v2", false).is_ok());
        assert!(checked_url("http://localhost/scim/v2", false).is_ok());
        assert!(checked_url("http://[::1]/scim/v2", false).is_ok());
        let err = checked_url("http://x.bizagi.com/scim/v2", false).unwrap_err();
        assert!(err.contains("not loopback"), "{err}");
        assert!(checked_url("http://x.bizagi.com/scim/v2", true).is_ok());
        assert!(checked_url("ftp://x/", true).is_err());
        assert!(checked_url("not a url", false).is_err());
        let err = checked_url("https://admin:hunter2@x.bizagi.com/scim/v2", false).unwrap_err();
        assert!(
            err.contains("`https://***@x.bizagi.com/scim/v2` carries a user name"),
            "{err}"
        );
        assert!(!err.contains("hunter2") && !err.contains("admin"), "{err}");
        let err = checked_url("https://admin:hun ter2@x/ scim", false).unwrap_err();
        assert!(!err.contains("hun"), "{err}");
    }

    /// A large file is read entry by entry ([`read_text`]), a small one as a tree: both
    /// give the same users and say the same problems, at the same places, whatever
    /// the document's shape.
    #[test]
    fn a_file_read_entry_by_entry_reads_as_the_whole_tree() {
        // Files are read on threads of 8 MiB of stack (`in_rounds`, the main thread).
        std::thread::Builder::new()
            .stack_size(8 * 1024 * 1024)
            .spawn(both_readers_read_alike)
            .unwrap()
            .join()
            .unwrap();
    }

    fn both_readers_read_alike() {
        let rel: Arc<Path> = Path::new("users/all.yaml").into();
        let default = Located {
            value: Some(Scalar::Boolean(true)),
            at: node::At { line: 3, column: 5 },
        };
        let defaults = BTreeMap::from([("enabledForAssignation".to_string(), &default)]);
        let whole = |text: &str| read_whole(&rel, text, &defaults);
        let sorted = |read: Result<FileRead, Diagnostic>| {
            read.map(|(users, found, unread)| {
                (
                    users,
                    Diagnostics::sorted(found).0,
                    Diagnostics::sorted(unread).0,
                )
            })
        };
        let documents = [
            // Clean, with comments, flow mappings, an anchor and a merge key.
            "# people\nusers:\n  - userName: ann\n    name: {givenName: Ann, familyName: Lee}\n    email: ann@acme.example\n  - &bob\n    userName: bob\n    active: false\n    properties: {Level: 3}\n  - <<: *bob\n    userName: carl\n",
            // Problems in entries, and a key the file does not take, before and after.
            "extra: 1\nusers:\n  - userName: ann\n    emial: x\n  - userName: [1]\n  - 42\n  - userName: dan\n    active: maybe\nmore: true\n",
            // Shapes read whole.
            "users: ann\n",
            "users:\n",
            "users: {userName: ann}\n",
            "- userName: ann\n",
            "just text\n",
            "users: []\nusers:\n  - userName: ann\n",
            "other: 1\n",
            "# nothing\n",
            // A parse error after entries were read.
            "users:\n  - userName: ann\n  - userName: bob\n   bad: indent\n",
        ];
        for text in documents {
            assert_eq!(
                sorted(read_text(&rel, text, &defaults)),
                sorted(whole(text)),
                "{text}"
            );
        }
        // And every user file of the corpus of broken repositories.
        let mut corpus = Vec::new();
        let mut folders = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml")
                    && path.components().any(|c| c.as_os_str() == "users")
                {
                    corpus.push(path);
                }
            }
        }
        assert!(corpus.len() > 40, "{} corpus files", corpus.len());
        for path in corpus {
            #[allow(clippy::disallowed_methods)] // the test's own fixtures
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue; // not UTF-8: refused before either reader
            };
            assert_eq!(
                sorted(read_text(&rel, &text, &defaults)),
                sorted(whole(&text)),
                "{}",
                path.display()
            );
        }
        // The first two are read entry by entry: users, and problems at their places.
        let (users, found, _) = read_text(&rel, documents[0], &defaults).unwrap();
        let names: Vec<&str> = users.iter().map(|u| u.user_name.as_str()).collect();
        assert_eq!(names, ["ann", "bob", "carl"]);
        let (users, found_too, _) = read_text(&rel, documents[1], &defaults).unwrap();
        assert!(found.is_empty());
        let lines: Vec<u64> = Diagnostics::sorted(found_too)
            .0
            .iter()
            .filter_map(|d| d.origin.as_ref().map(|o| o.line))
            .collect();
        assert_eq!(lines, [1, 4, 5, 6, 8, 9], "{users:?}");
    }

    /// Files are read on several threads; their results are taken in the files' order,
    /// whichever finishes first, and each on the calling thread.
    #[test]
    fn files_read_in_parallel_are_taken_in_order() {
        let items: Vec<u64> = (0..23).collect();
        let caller = std::thread::current().id();
        let mut seen = Vec::new();
        in_rounds(
            &items,
            // Later items finish first.
            |&i| {
                std::thread::sleep(std::time::Duration::from_millis(23 - i));
                i * 10
            },
            |&i, result| {
                assert_eq!(std::thread::current().id(), caller);
                seen.push((i, result));
            },
        );
        let expected: Vec<(u64, u64)> = items.iter().map(|&i| (i, i * 10)).collect();
        assert_eq!(seen, expected);
    }
}
