//! `scimops validate`: the files alone, no network. Every problem at once, as text for
//! people, as GitHub Actions annotations (shown on the pull request's lines), or as JSON.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::Context;
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::config::{Endpoint, Repository};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::escape;
use crate::exit::ExitStatus;
use crate::{desired, dialect};

/// Everything `validate` finds, and a summary of what it read: the settings, every
/// target (its settings, and its users with its files and defaults), in one run.
/// The secret's presence is checked for the target in use only (CI jobs hold the
/// secret of their own target).
fn findings(ctx: &Context<'_>) -> (Vec<Diagnostic>, Option<String>) {
    let load = |target: Option<&str>| {
        Repository::load(&ctx.dir, target).map(|mut repo| {
            repo.allow_insecure_http = ctx.network.allow_insecure_http;
            repo
        })
    };
    let first = match load(ctx.target.as_deref()) {
        Ok(repo) => repo,
        Err(Diagnostics(list)) => return (list, None),
    };
    let mut found = first.problems.clone();
    let names: Vec<String> = first.settings.targets.keys().cloned().collect();
    // The target in use: named, or the default one, or the only one (else an error).
    let in_use = match first.target(ctx.target.as_deref()) {
        Ok(target) => Some(target.name),
        Err(Diagnostics(list)) => {
            found.extend(list);
            None
        }
    };
    let mut read = Vec::new();
    let mut sandboxes = std::collections::BTreeSet::new();
    for name in &names {
        let loaded;
        let repo = if in_use.as_ref() == Some(name) {
            &first
        } else {
            match load(Some(name)) {
                Ok(repo) => {
                    loaded = repo;
                    &loaded
                }
                Err(Diagnostics(list)) => {
                    found.extend(list);
                    continue;
                }
            }
        };
        found.extend(repo.problems.iter().cloned());
        let target = match repo.target(Some(name)) {
            Ok(target) => target,
            Err(Diagnostics(list)) => {
                found.extend(list);
                continue;
            }
        };
        let dialect = dialect::for_target(&target.dialect, dialect::Capabilities::default());
        match desired::declare(
            &repo.users,
            Vec::new(),
            repo.default_domain(),
            dialect.as_ref(),
        ) {
            Ok(declaration) => found.extend(declaration.warnings),
            Err(Diagnostics(list)) => found.extend(list),
        }
        if in_use.as_ref() == Some(name) {
            found.extend(target.check_secret(ctx.env));
        }
        // An embedded sandbox's settings are files of the repository too (read once,
        // however many targets share them).
        if let Endpoint::Sandbox { config, .. } = &target.endpoint
            && sandboxes.insert(config.clone())
            && let Err(Diagnostics(list)) = crate::session::sandbox_settings(&ctx.dir, config)
        {
            found.extend(list);
        }
        let files: std::collections::BTreeSet<_> =
            repo.users.iter().map(|u| &u.origin.file).collect();
        read.push(format!(
            "{} in {} for target `{}` ({})",
            crate::words::count(repo.users.len(), "user"),
            crate::words::count(files.len(), "file"),
            target.name,
            dialect.name()
        ));
    }
    let summary = (!read.is_empty()).then(|| read.join("; "));
    (Diagnostics::sorted(found).0, summary)
}

/// `::error file=...,line=...,col=...::message`, the path as seen from where scimops runs.
fn annotation(dir: &Path, d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    // Message and hint quote the files: one line each, nothing hidden.
    let mut message = escape::term(&d.message).into_owned();
    if let Some(hint) = &d.hint {
        message.push_str(&format!("\nhint: {}", escape::term(hint)));
    }
    let mut properties = Vec::new();
    if let Some(o) = &d.origin {
        let file = if dir == Path::new(".") {
            o.file.to_path_buf()
        } else {
            dir.join(&o.file)
        };
        properties.push(format!(
            "file={}",
            escape::annotation_property(&file.to_string_lossy())
        ));
        if o.line > 0 {
            properties.push(format!("line={},col={}", o.line, o.column));
        }
    }
    properties.push("title=scimops".to_string());
    format!(
        "::{level} {}::{}",
        properties.join(","),
        escape::annotation_data(&message)
    )
}

pub fn run(ctx: &Context<'_>, args: &ValidateArgs) -> anyhow::Result<ExitStatus> {
    let (found, summary) = findings(ctx);
    let errors = found.iter().filter(|d| d.is_error()).count();
    match args.format {
        ValidateFormat::Human => {
            if errors > 0 {
                return Err(Diagnostics(found).into());
            }
            ctx.term.diagnostics(&found);
            if let Some(summary) = summary {
                ctx.term
                    .progress(&format!("The files are valid: {summary}."));
            }
        }
        ValidateFormat::Github => {
            let mut out = ctx.term.out();
            for d in &found {
                writeln!(out, "{}", annotation(&ctx.dir, d))?;
            }
        }
        ValidateFormat::Json => {
            let problems: Vec<_> = found
                .iter()
                .map(|d| {
                    json!({
                        "severity": if d.is_error() { "error" } else { "warning" },
                        "file": d.origin.as_ref().map(|o| o.file.to_string_lossy().replace('\\', "/")),
                        "line": d.origin.as_ref().map(|o| o.line).filter(|l| *l > 0),
                        "column": d.origin.as_ref().map(|o| o.column).filter(|c| *c > 0),
                        "message": d.message,
                        "hint": d.hint,
                    })
                })
                .collect();
            let report = json!({
                "errors": errors,
                "warnings": found.len() - errors,
                "problems": problems,
            });
            writeln!(ctx.term.out(), "{}", serde_json::to_string_pretty(&report)?)?;
        }
    }
    Ok(if errors > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;

    #[test]
    fn annotations_escape_what_github_needs() {
        let d = Diagnostic::error(
            Origin {
                file: std::path::Path::new("users/a,b.yaml").into(),
                line: 3,
                column: 5,
            },
            "unknown key `emial`: 100%",
        )
        .hint("did you mean `email`?");
        assert_eq!(
            annotation(Path::new("repo"), &d),
            "::error file=repo/users/a%2Cb.yaml,line=3,col=5,title=scimops::unknown key `emial`: 100%25%0Ahint: did you mean `email`?"
        );
        let d = Diagnostic::warning(None, "a\nb");
        assert_eq!(
            annotation(Path::new("."), &d),
            "::warning title=scimops::a\\nb"
        );
    }
}
