//! `scimops import`: the server's users that no file declares, written as user files.
//!
//! Reads as `plan` does (discovery, then every page: no request per user), picks the
//! users the plan calls unmanaged and no `protected` pattern matches, and writes them.
//! Before writing, it reads the files back as `plan` will and plans them against what
//! it read: a user whose entry would not leave the next plan empty is left out, with
//! why, so the promise holds ("the next plan has nothing to change for them").

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};

use super::Context;
use crate::cli::ImportArgs;
use crate::config::{DeclaredUser, Repository};
use crate::diag::Diagnostic;
use crate::dialect::{self, Capabilities, Dialect};
use crate::escape::Shown;
use crate::exit::ExitStatus;
use crate::import::{self, Defaults, Entry, Split};
use crate::model::{Attr, UserKey};
use crate::words::count;
use crate::{desired, plan};

/// Where imported users go: one file, or one file per group in a folder.
struct Out {
    /// Relative to the repository.
    path: PathBuf,
    split: Split,
}

impl Out {
    fn of(args: &ImportArgs) -> anyhow::Result<Self> {
        let split = match args.split_by.as_deref() {
            None => Split::None,
            Some("domain") => Split::Domain,
            Some(attribute) => {
                let attr: Attr = attribute.parse().unwrap_or_else(|never| match never {});
                if matches!(attr, Attr::UserName | Attr::Active | Attr::FormattedName) {
                    bail!(
                        "--split-by takes `domain` or an attribute as user files name it (`properties.Department`, `name.familyName`), not `{}`",
                        Shown(attribute)
                    );
                }
                Split::Attribute(attr)
            }
        };
        let default = if split == Split::None {
            "users/imported.yaml"
        } else {
            "users/imported"
        };
        let path = args.out.clone().unwrap_or_else(|| PathBuf::from(default));
        if path.is_absolute()
            || path
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            bail!(
                "--out `{}` must be a path inside the repository, relative to it (no `..`)",
                Shown(&path.to_string_lossy())
            );
        }
        let path = path.components().collect();
        Ok(Self { path, split })
    }

    /// The file of a group.
    fn file(&self, group: &str) -> PathBuf {
        match self.split {
            Split::None => self.path.clone(),
            _ => self.path.join(format!("{}.yaml", import::file_name(group))),
        }
    }
}

/// `../../schemas/users.schema.json` from the folder of `file` (relative to the
/// repository), where the repository keeps its schemas.
fn schema_path(file: &Path) -> String {
    let depth = file.parent().map_or(0, |p| p.components().count());
    format!("{}schemas/users.schema.json", "../".repeat(depth))
}

/// How many imported users must share a property's value before import points it out.
const SHARED_AT_LEAST: usize = 10;

/// The attributes `--skip` names: as written, and in lower case. `userName` and
/// `active` cannot be left out (an inactive user written without `active: false` would
/// be reactivated).
fn skipped(args: &ImportArgs) -> anyhow::Result<Vec<(String, String)>> {
    let mut skip = Vec::new();
    for name in args.skip.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let attr: Attr = name.parse().unwrap_or_else(|never| match never {});
        if matches!(attr, Attr::UserName | Attr::Active) {
            bail!(
                "--skip takes attributes that may stay unmanaged (`properties.DelegateEnabled`, `phone`), not `{}`: {}",
                Shown(name),
                if attr == Attr::UserName {
                    "every user is declared by its userName"
                } else {
                    "an inactive user written without `active: false` would be reactivated"
                }
            );
        }
        skip.push((name.to_string(), attr.to_string().to_lowercase()));
    }
    Ok(skip)
}

/// A `--skip` that names no attribute of the server's users (a typo would leave in the
/// files what was meant to stay out): an error, with the closest name. The server's
/// schema says which attributes there are, whether or not a user has a value.
fn check_skipped(
    skip: &[(String, String)],
    schema: &crate::schema::UserSchema,
    dialect: &dyn Dialect,
) -> anyhow::Result<()> {
    if !schema.complete {
        return Ok(());
    }
    let urn = dialect.properties_urn();
    let mut names: Vec<String> = [
        Attr::GivenName,
        Attr::MiddleName,
        Attr::FamilyName,
        Attr::Email,
        Attr::Phone,
    ]
    .iter()
    .map(Attr::to_string)
    .collect();
    names.extend(schema.core.defs().map(|d| Attr::Core(d.name).to_string()));
    for (ext, attributes) in schema.extensions() {
        names.extend(attributes.defs().map(|d| {
            if ext.eq_ignore_ascii_case(urn) {
                Attr::Property(d.name).to_string()
            } else {
                Attr::extension(ext, &d.name).to_string()
            }
        }));
    }
    for (wanted, lower) in skip {
        if names.iter().any(|n| n.to_lowercase() == *lower) {
            continue;
        }
        let hint = match crate::words::suggest(wanted, names.iter().map(String::as_str)) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "the server's users have: {}",
                crate::words::ticked(names.iter().map(String::as_str))
            ),
        };
        bail!(
            "--skip `{}` is no attribute of the server's users, so it would leave nothing out; {hint}",
            Shown(wanted)
        );
    }
    Ok(())
}

pub async fn run(ctx: &Context<'_>, args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let out = Out::of(args)?;
    let skip = skipped(args)?;
    let repo = super::load(ctx)?;
    let target = repo.target(ctx.target.as_deref())?;
    let probe = out.file("x");
    if !repo.reads(&probe) {
        bail!(
            "`{}` is not among the files target `{}` reads ({}): the next plan would not read what import writes",
            Shown(&probe.parent().unwrap_or(&probe).to_string_lossy()),
            Shown(&target.name),
            crate::render::summary::files_read(&repo.read)
        );
    }
    // What files are replaced (--force): their users are imported again.
    let replaced = |file: &Path| match out.split {
        Split::None => file == out.path,
        _ => file.parent() == Some(out.path.as_path()),
    };
    let existing: Vec<&String> = repo
        .files
        .keys()
        .filter(|f| replaced(Path::new(f.as_str())))
        .collect();
    if !args.force && out.split == Split::None && ctx.dir.join(&out.path).exists() {
        bail!(
            "`{}` exists; pass --force to replace it (the users it declares are then imported again)",
            Shown(&out.path.to_string_lossy())
        );
    }
    let kept: Vec<DeclaredUser> = repo
        .users
        .iter()
        .filter(|u| !(args.force && replaced(&u.origin.file)))
        .cloned()
        .collect();
    let problems: Vec<Diagnostic> = repo
        .problems
        .iter()
        .filter(|d| !(args.force && d.origin.as_ref().is_some_and(|o| replaced(&o.file))))
        .cloned()
        .collect();
    let offline = dialect::for_target(&target.dialect, Capabilities::default());
    let domain = repo.default_domain();
    let declaration = desired::declare(&kept, problems, domain, offline.as_ref())?;

    if let Some(problem) = target.check_secret(ctx.env) {
        return Err(crate::diag::Diagnostics(vec![problem]).into());
    }
    let session = super::connect(ctx, &target).await?;
    ctx.term
        .progress(&format!("Reading the users of {}...", session.describe));
    let server = crate::observe::server(&session.client, offline.as_ref()).await?;
    let dialect = dialect::for_target(&target.dialect, server.capabilities);
    check_skipped(&skip, &server.schema, dialect.as_ref())?;
    let resolved = declaration.typed(&kept, &server.schema, dialect.as_ref())?;
    // Import writes what the server has: every attribute.
    let observed = crate::observe::users(
        &session.client,
        server,
        dialect.as_ref(),
        crate::observe::Kept::All,
    )
    .await?;
    let policy = repo.policy(dialect.as_ref());
    let (planned, _) = plan::plan(
        &resolved.users,
        &observed.users,
        observed.total,
        dialect.as_ref(),
        &policy,
    )?;

    // The unmanaged users, but those protected and those whose name is on the
    // server twice (a person must choose).
    let protected = planned
        .unmanaged
        .iter()
        .filter(|u| u.protected.is_some())
        .count();
    let wanted: BTreeSet<&str> = planned
        .unmanaged
        .iter()
        .filter(|u| u.protected.is_none())
        .map(|u| u.id.as_str())
        .collect();
    let mut by_key: BTreeMap<&UserKey, Vec<&crate::model::ObservedUser>> = BTreeMap::new();
    for user in observed
        .users
        .iter()
        .filter(|u| wanted.contains(u.id.as_str()))
    {
        by_key.entry(&user.key).or_default().push(user);
    }
    let mut left_out: Vec<String> = Vec::new();
    let defaults = Defaults {
        domain,
        properties: repo.default_properties().collect(),
        skip: skip.into_iter().map(|(_, lower)| lower).collect(),
    };
    let mut entries: Vec<Entry> = Vec::new();
    let mut shared = import::Shared::default();
    for (_, users) in by_key {
        let [user] = users.as_slice() else {
            left_out.push(format!(
                "{}: the server has {} accounts of this name (without regard to case)",
                Shown(&users[0].user_name),
                users.len()
            ));
            continue;
        };
        if let Some(problem) = desired::user_name_problem(&user.user_name) {
            left_out.push(format!(
                "{}: its userName {problem}",
                Shown(&user.user_name)
            ));
            continue;
        }
        let mut entry = import::entry(
            user,
            &observed.schema,
            dialect.as_ref(),
            &defaults,
            &out.split,
        );
        shared.add(&mut entry);
        entries.push(entry);
    }

    // The files are read back as `plan` reads them, and planned: the proof that the
    // next plan has nothing to change for the imported users. An entry that does not
    // read back is found alone (the slow way, only then) and left out, with why.
    let prove = |entries: &[Entry]| {
        proof(
            &repo,
            &kept,
            &parts(&out, &target.name, entries),
            entries,
            &observed,
            dialect.as_ref(),
            &policy,
        )
    };
    let mut proof = prove(&entries);
    if proof.is_err() {
        entries.retain(|entry| {
            match readable(&repo, entry, domain, &observed.schema, dialect.as_ref()) {
                Ok(()) => true,
                Err(why) => {
                    left_out.push(format!("{}: {why}", Shown(&entry.user_name)));
                    false
                }
            }
        });
        proof = prove(&entries);
    }
    let changed = proof?;
    if !changed.is_empty() {
        for entry in entries.iter().filter(|e| changed.contains_key(&e.key)) {
            left_out.push(format!(
                "{}: {}",
                Shown(&entry.user_name),
                changed[&entry.key]
            ));
        }
        entries.retain(|e| !changed.contains_key(&e.key));
        if !prove(&entries)?.is_empty() {
            bail!("the next plan would still change imported users (a bug in scimops import)");
        }
    }
    // The files' texts, once the entries they hold are proven.
    let texts = texts(&out, &target.name, &entries);
    let counts: Vec<(PathBuf, usize)> = files(&out, &entries)
        .into_iter()
        .map(|(file, entries)| (file, entries.len()))
        .collect();
    if !args.force {
        for (file, _) in &texts {
            if ctx.dir.join(file).exists() {
                bail!(
                    "`{}` exists; pass --force to replace it (the users it declares are then imported again)",
                    Shown(&file.to_string_lossy())
                );
            }
        }
    }

    // Write: the files, the editor schemas they point at when the repository has none,
    // and, with --force, the replaced files that no user is left in are removed.
    for (file, text) in &texts {
        let path = ctx.dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", Shown(&parent.to_string_lossy())))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", Shown(&file.to_string_lossy())))?;
    }
    let mut removed = Vec::new();
    for old in existing {
        if !texts.iter().any(|(f, _)| f == Path::new(old.as_str())) {
            std::fs::remove_file(ctx.dir.join(old))
                .with_context(|| format!("cannot remove `{}`", Shown(old)))?;
            removed.push(old);
        }
    }
    let wrote_schemas = if texts.is_empty() {
        false
    } else {
        schemas(&ctx.dir)?
    };

    let mut w = ctx.term.out();
    if texts.is_empty() {
        writeln!(
            w,
            "Nothing to import: every user of target `{}` is declared{}.",
            Shown(&target.name),
            if protected > 0 { " or protected" } else { "" }
        )?;
    }
    for (file, users) in &counts {
        writeln!(
            w,
            "Wrote {} ({}).",
            Shown(&file.to_string_lossy()),
            count(*users, "user")
        )?;
    }
    for old in removed {
        writeln!(
            w,
            "Removed {} (none of its users is left to import).",
            Shown(old)
        )?;
    }
    if wrote_schemas {
        writeln!(w, "Wrote the editor schemas into schemas/.")?;
    }
    if protected > 0 {
        writeln!(
            w,
            "Left as they are: {} that the policy protects.",
            count(protected, "user")
        )?;
    }
    if !left_out.is_empty() {
        writeln!(w, "Not imported ({}):", left_out.len())?;
        for why in &left_out {
            writeln!(w, "  {why}")?;
        }
    }
    if !texts.is_empty() {
        writeln!(
            w,
            "\nImported {} from target `{}`: the next plan has nothing to change for them. Review the files, and commit them.",
            count(entries.len(), "user"),
            Shown(&target.name)
        )?;
        let shared = shared.properties(SHARED_AT_LEAST);
        if !shared.is_empty() {
            let values: Vec<String> = shared
                .iter()
                .map(|(name, value)| format!("{} = {}", Shown(name), Shown(value)))
                .collect();
            let names: Vec<&str> = shared.iter().map(|(name, _)| name.as_str()).collect();
            let mut again = format!(
                "{} import --force --skip {}",
                ctx.scimops(),
                super::shell_word(&names.join(","))
            );
            if let Some(split) = &args.split_by {
                again.push_str(&format!(" --split-by {}", super::shell_word(split)));
            }
            if let Some(path) = &args.out {
                again.push_str(&format!(
                    " --out {}",
                    super::shell_word(&path.to_string_lossy())
                ));
            }
            let them = if shared.len() == 1 { "it" } else { "them" };
            writeln!(
                w,
                "\nNote: every imported user has {}. To manage {them} once for everyone, declare {them} under `defaults: properties:` in scimops.yaml (import then writes {them} for no one); to leave {them} unmanaged, import again without {them}:\n  {}",
                values.join(", "),
                Shown(&again),
            )?;
        }
    }
    std::mem::forget((observed, resolved, kept, entries, texts));
    Ok(ExitStatus::Success)
}

/// Whether one entry reads back as a file: its userName, values and types as a
/// declared user of this target; else why not.
fn readable(
    repo: &Repository,
    entry: &Entry,
    domain: Option<&str>,
    schema: &crate::schema::UserSchema,
    dialect: &dyn Dialect,
) -> Result<(), String> {
    let text = format!("users:\n{}", entry.yaml);
    let (users, problems) = repo.read_users(Path::new("import"), &text);
    let first = |list: Vec<Diagnostic>| {
        list.into_iter()
            .find(Diagnostic::is_error)
            .map_or_else(String::new, |d| d.message)
    };
    if problems.iter().any(Diagnostic::is_error) {
        return Err(first(problems));
    }
    desired::resolve(&users, Vec::new(), domain, schema, dialect)
        .map(|_| ())
        .map_err(|d| first(d.0))
}

/// The files of `entries`, each with its entries.
fn files<'a>(out: &Out, entries: &'a [Entry]) -> BTreeMap<PathBuf, Vec<&'a Entry>> {
    let mut files: BTreeMap<PathBuf, Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        files.entry(out.file(&entry.group)).or_default().push(entry);
    }
    files
}

/// The files of `entries`, each with its text.
fn texts(out: &Out, target: &str, entries: &[Entry]) -> Vec<(PathBuf, String)> {
    files(out, entries)
        .into_iter()
        .map(|(file, entries)| {
            let text = import::file(&schema_path(&file), target, &entries);
            (file, text)
        })
        .collect()
}

/// The files of `entries` in parts, for reading back on every core: each file's
/// entries in as many parts as files are read at once, each part the text that import writes
/// for those entries alone (an entry reads the same whatever entries come with it).
fn parts(out: &Out, target: &str, entries: &[Entry]) -> Vec<(PathBuf, String)> {
    let cores = crate::config::cores();
    let mut parts = Vec::new();
    for (file, entries) in files(out, entries) {
        let schema = schema_path(&file);
        for part in entries.chunks(entries.len().div_ceil(cores).max(1)) {
            parts.push((file.clone(), import::file(&schema, target, part)));
        }
    }
    parts
}

/// Reads the files about to be written (in [`parts`]) as `plan` will, with the others,
/// and plans them against the users read. The imported users the plan would still
/// change, with what (none, when the import holds its promise); an error when the
/// files do not read back.
fn proof(
    repo: &Repository,
    kept: &[DeclaredUser],
    parts: &[(PathBuf, String)],
    entries: &[Entry],
    observed: &crate::observe::Observed,
    dialect: &dyn Dialect,
    policy: &crate::policy::Policy,
) -> anyhow::Result<BTreeMap<UserKey, String>> {
    let mut all = kept.to_vec();
    for (users, problems) in repo.read_texts(parts) {
        if let Err(d) = crate::diag::check(problems) {
            bail!("the written files would not read back (a bug in scimops import):\n{d}");
        }
        all.extend(users);
    }
    let resolved = desired::resolve(
        &all,
        Vec::new(),
        repo.default_domain(),
        &observed.schema,
        dialect,
    )
    .context("the written files would not read back (a bug in scimops import)")?;
    let (check, _) = plan::plan(
        &resolved.users,
        &observed.users,
        observed.total,
        dialect,
        policy,
    )
    .context("planning the written files (a bug in scimops import)")?;
    let imported: BTreeSet<&UserKey> = entries.iter().map(|e| &e.key).collect();
    let changed = check
        .users
        .iter()
        .filter(|u| imported.contains(&u.key))
        .map(|u| {
            let attrs: Vec<String> = u.changes.iter().map(|c| c.attr.to_string()).collect();
            let why = format!(
                "the next plan would change {} (the server's value cannot be written as a file says it)",
                attrs.join(", ")
            );
            (u.key.clone(), why)
        })
        .collect();
    // The process ends soon: freeing every user one by one is time spent for nothing.
    std::mem::forget((all, resolved, check));
    Ok(changed)
}

/// Writes the JSON Schemas into `schemas/` when the repository has none there (the
/// files' first lines point at them). Never replaces one. Returns whether it wrote.
fn schemas(root: &Path) -> anyhow::Result<bool> {
    let dir = root.join("schemas");
    let mut wrote = false;
    for (name, text) in crate::json_schemas() {
        let path = dir.join(name);
        if path.symlink_metadata().is_ok() {
            continue;
        }
        std::fs::create_dir_all(&dir).context("cannot create `schemas/`")?;
        std::fs::write(&path, text).with_context(|| format!("cannot write `schemas/{name}`"))?;
        wrote = true;
    }
    Ok(wrote)
}
