//! The bad-input corpus (`tests/corpus/<case>/`): broken repositories, each refused by
//! `scimops plan` with exit code 1 and a clear message (snapshot-tested), without a
//! single request reaching the server, and without hanging.
//!
//! A case folder holds the repository's files and `CASE` (what is broken). Without a
//! `scimops.yaml` (and without `NO_SETTINGS`), the case gets one that points at the
//! test's sandbox; `{url}` in a case's own settings is replaced by the sandbox's URL.
//! `GENERATE` names content made here rather than kept in Git: `huge` (a 33 MiB file),
//! `link-outside` (a user file that is a link to a secret outside the repository),
//! `link-folder-outside` (a folder that is a link out of it), `fifo` (a named pipe).
//! `SCHEMA` marks a case that only the server's `/Schemas` can refuse (the type of a
//! custom property): it may send the token request and the three discovery GETs, and
//! nothing else.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{PROPERTIES, SECRET, SECRET_VAR, TestSandbox, repo_root};

const SETTINGS: &str = "targets:
  test:
    url: {url}
    auth:
      clientCredentials:
        clientId: scimops
        clientSecret: ${SCIMOPS_TEST_SECRET}
defaults:
  domain: acme
  properties:
    enabledForAssignation: true
";

/// No input may make scimops run longer than this.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A secret outside the repository: no output may ever show it.
const OUTSIDE_SECRET: &str = "SECRET_VALUE=never-printed-f00d";

/// Copies `case` into `into`; what it returns (a folder outside the repository) must
/// live as long as the run.
fn prepare(case: &Path, into: &Path, url: &str) -> Option<tempfile::TempDir> {
    let mut has_settings = false;
    for entry in walk(case) {
        let rel = entry.strip_prefix(case).unwrap();
        let name = rel.to_string_lossy();
        if ["CASE", "NO_SETTINGS", "GENERATE", "SCHEMA"].contains(&name.as_ref()) {
            has_settings |= name == "NO_SETTINGS";
            continue;
        }
        let target = into.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let bytes = std::fs::read(&entry).unwrap();
        if name == "scimops.yaml" {
            has_settings = true;
            let text = String::from_utf8(bytes).unwrap().replace("{url}", url);
            std::fs::write(&target, text).unwrap();
        } else {
            std::fs::write(&target, bytes).unwrap();
        }
    }
    if !has_settings {
        std::fs::write(into.join("scimops.yaml"), SETTINGS.replace("{url}", url)).unwrap();
    }
    let generate = std::fs::read_to_string(case.join("GENERATE")).unwrap_or_default();
    let outside = || {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.env"), OUTSIDE_SECRET).unwrap();
        std::fs::write(outside.path().join("more.yaml"), OUTSIDE_SECRET).unwrap();
        outside
    };
    match generate.trim() {
        "huge" => {
            let user = "  - userName: someone\n    name: {givenName: Some, familyName: One}\n";
            let text = format!("users:\n{}", user.repeat(33 * 1024 * 1024 / user.len() + 1));
            std::fs::write(into.join("users/huge.yaml"), text).unwrap();
            None
        }
        "link-outside" => {
            let outside = outside();
            std::os::unix::fs::symlink(
                outside.path().join("secret.env"),
                into.join("users/secret.yaml"),
            )
            .unwrap();
            Some(outside)
        }
        "link-folder-outside" => {
            let outside = outside();
            std::os::unix::fs::symlink(outside.path(), into.join("users/elsewhere")).unwrap();
            Some(outside)
        }
        "fifo" => {
            let status = Command::new("mkfifo")
                .arg(into.join("users/pipe.yaml"))
                .status()
                .unwrap();
            assert!(status.success(), "mkfifo");
            None
        }
        _ => None,
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Runs `scimops plan` in `dir`; `None` if it did not finish in time.
fn plan(dir: &Path) -> Option<(i32, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimops"))
        .current_dir(dir)
        .arg("plan")
        .env(SECRET_VAR, SECRET)
        .env_remove("CORPUS_UNSET_SECRET")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return Some((status.code().unwrap_or(-1), stderr));
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn every_broken_repository_is_refused_clearly_and_sends_nothing() {
    let sandbox = TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}"));
    let url = sandbox.running.scim_url();
    let corpus = repo_root().join("tests/corpus");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());

    let mut failed = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let dir = tempfile::tempdir().unwrap();
        let _outside = prepare(case, dir.path(), &url);
        sandbox.clear();
        let Some((code, stderr)) = plan(dir.path()) else {
            failed.push(format!("{name}: still running after {TIMEOUT:?}"));
            continue;
        };
        let requests = sandbox.requests().requests;
        if code != 1 {
            failed.push(format!("{name}: exit code {code}, not 1:\n{stderr}"));
        }
        // Without `SCHEMA`, nothing; with it, the token and discovery only.
        let schema = case.join("SCHEMA").exists();
        let allowed = |path: &str| {
            schema
                && (path.starts_with("/oauth2/")
                    || ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"]
                        .iter()
                        .any(|d| path == format!("/scim/v2{d}")))
        };
        let sent: Vec<_> = requests.iter().filter(|r| !allowed(&r.path)).collect();
        if !sent.is_empty() {
            failed.push(format!(
                "{name}: {} requests reached the server: {sent:?}",
                sent.len()
            ));
        }
        if stderr.contains(OUTSIDE_SECRET) {
            failed.push(format!("{name}: a file outside the repository was printed"));
        }
        if !stderr.contains("error:") || stderr.contains("panicked") {
            failed.push(format!("{name}: no clear error:\n{stderr}"));
        }
        let snapshot = std::panic::catch_unwind(|| {
            insta::with_settings!({
                snapshot_path => "snapshots/corpus",
                prepend_module_to_snapshot => false,
                description => std::fs::read_to_string(case.join("CASE")).unwrap_or_default(),
                filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"), (r"/tmp/\.tmp\w+", "[repo]")],
            }, {
                insta::assert_snapshot!(name.clone(), stderr);
            });
        });
        if snapshot.is_err() {
            failed.push(format!(
                "{name}: the message changed (see the .snap.new file)"
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

/// What the editor schemas alone refuse of the corpus (as an editor with
/// yaml-language-server shows it, before `validate` runs): the YAML files of each case,
/// each against its schema. Cases that need the dialect, the server, the file system
/// or the other files (duplicates, limits, types of custom properties, secrets that are
/// not set, links) are for `validate` and `plan`.
#[test]
#[expect(
    clippy::print_stderr,
    reason = "the measure, for the README (`--nocapture`)"
)]
fn the_editor_schemas_alone_refuse_most_of_the_corpus() {
    let corpus = repo_root().join("tests/corpus");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let (mut schema, mut syntax, mut neither) = (Vec::new(), Vec::new(), Vec::new());
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let mut refused = false;
        let mut broken = false;
        for file in walk(case) {
            let rel = file.strip_prefix(case).unwrap();
            let is_yaml = rel.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if !is_yaml || rel.starts_with("sandbox.yaml") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let which = if rel == Path::new("scimops.yaml") {
                "scimops.schema.json"
            } else {
                "users.schema.json"
            };
            let text = text.replace("{url}", "http://127.0.0.1:1/scim/v2");
            let rel = rel.to_path_buf();
            // A debug build parses deep nesting on more stack than a test thread has.
            let checked = std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn(move || scimops::config::schema_problems(&rel, &text, which))
                .unwrap()
                .join()
                .unwrap();
            match checked {
                Ok(problems) => refused |= !problems.is_empty(),
                Err(_) => broken = true,
            }
        }
        match (refused, broken) {
            (true, _) => schema.push(name),
            (false, true) => syntax.push(name),
            _ => neither.push(name),
        }
    }
    eprintln!(
        "of {} corpus cases: {} refused by the editor schemas, {} YAML errors, {} for validate/plan only:\n  {}",
        cases.len(),
        schema.len(),
        syntax.len(),
        neither.len(),
        neither.join("\n  ")
    );
    // The figure the README gives; it may only go up.
    assert!(
        schema.len() >= 43,
        "{} refused by the schemas: {schema:?}",
        schema.len()
    );
}
