//! `scimops plan`: read the server, show what would change, optionally save it.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::Context;
use crate::cli::{Format, PlanArgs};
use crate::config::{Endpoint, TargetConfig};
use std::sync::Arc;

use crate::dialect::{self, Capabilities, Dialect};
use crate::exit::ExitStatus;
use crate::plan::{Files, Plan, TargetRef};
use crate::policy::{Counts, Overrides, Policy, refusals};
use crate::render::{human, json, markdown};
use crate::session::Session;
use crate::{desired, plan};

/// A plan, and the live session it was made on (apply writes through it).
pub struct Planned {
    pub session: Session,
    pub plan: Plan,
    pub dialect: Arc<dyn Dialect>,
    pub policy: Policy,
    /// How users are found by userName on this target.
    pub lookup: crate::apply::Lookup,
}

/// Prints why the policy refuses the plan, if it does (exit code 4).
pub fn refused(
    ctx: &Context<'_>,
    counts: Counts,
    policy: &Policy,
    overrides: Overrides,
) -> Option<ExitStatus> {
    let reasons = refusals(counts, policy, overrides);
    for reason in &reasons {
        ctx.term
            .error(&format!("refused by the safety policy: {reason}"));
    }
    (!reasons.is_empty()).then_some(ExitStatus::Refused)
}

/// How a saved plan names its target: name, dialect, and where it is.
pub fn target_ref(root: &Path, target: &TargetConfig) -> TargetRef {
    let endpoint = match &target.endpoint {
        Endpoint::Remote { url, .. } => url.to_string(),
        Endpoint::Sandbox { state, .. } => {
            let state = state.strip_prefix(root).unwrap_or(state);
            let parts: Vec<_> = state.iter().map(|c| c.to_string_lossy()).collect();
            format!("sandbox:{}", parts.join("/"))
        }
    };
    TargetRef {
        name: target.name.clone(),
        dialect: target.dialect.name.as_str().to_string(),
        endpoint,
    }
}

/// A path given on the command line: like `git -C`, relative to the repository.
pub fn in_repository(ctx: &Context<'_>, path: &Path) -> PathBuf {
    if path.is_absolute() || ctx.dir == Path::new(".") {
        path.to_path_buf()
    } else {
        ctx.dir.join(path)
    }
}

/// Reads the files and the server, and plans. Shared by `plan` and `apply`.
pub async fn make(ctx: &Context<'_>, overrides: Overrides) -> anyhow::Result<Planned> {
    let mut repo = super::load(ctx)?;
    let target = repo.target(ctx.target.as_deref())?;
    let offline = dialect::for_target(&target.dialect, Capabilities::default());
    let domain = repo.default_domain();
    // Check the files offline first: a bad file must not cost a request. What needs
    // the server (the types of its properties) comes after discovery.
    let declaration =
        desired::declare(&repo.users, repo.problems.clone(), domain, offline.as_ref())?;

    if let Some(problem) = target.check_secret(ctx.env) {
        return Err(crate::diag::Diagnostics(vec![problem]).into());
    }
    let session = super::connect(ctx, &target).await?;
    ctx.term.progress(&format!(
        "Comparing the users of {} with {}...",
        crate::render::summary::files_read(&repo.read),
        session.describe
    ));
    // What the server is made of first: the files are typed against its schema before
    // a single user is read.
    let server = crate::observe::server(&session.client, offline.as_ref()).await?;
    let dialect = dialect::for_target(&target.dialect, server.capabilities);
    let resolved = declaration.typed(&repo.users, &server.schema, dialect.as_ref())?;
    // The users as the files wrote them are not needed any more: their memory is free
    // for the server's users, read next.
    drop(std::mem::take(&mut repo.users));
    // The attributes declared: a few, each declared by many users (copied once each).
    let mut declared = std::collections::BTreeSet::from([
        crate::model::Attr::Active,
        crate::model::Attr::FormattedName,
    ]);
    for attr in resolved.users.iter().flat_map(|u| u.attrs.keys()) {
        if !declared.contains(attr) {
            declared.insert(attr.clone());
        }
    }
    // A deletion shows every attribute the user loses.
    let kept = if policy_deletes(&repo) {
        crate::observe::Kept::All
    } else {
        crate::observe::Kept::Only(&declared)
    };
    let observed = crate::observe::users(&session.client, server, dialect.as_ref(), kept).await?;
    ctx.term
        .progress(&describe_server(dialect.name(), &observed));
    let policy = repo.policy(dialect.as_ref());
    let (mut plan, warnings) = plan::plan(
        &resolved.users,
        &observed.users,
        observed.total,
        dialect.as_ref(),
        &policy,
    )?;
    ctx.term.diagnostics(&resolved.warnings);
    ctx.term.diagnostics(&warnings);
    plan.target = target_ref(&ctx.dir, &target);
    plan.server = observed.capabilities.into();
    plan.server.unsupported = dialect.mapping().unsupported.clone();
    plan.server.count_refused = observed.listing.count.is_none();
    plan.server.paging = observed.listing.paging;
    plan.private = repo.private.clone();
    plan.files = Files::new(repo.files.clone());
    plan.files.read = repo.read.clone();
    plan.refusals = refusals(plan.counts(), &policy, overrides);
    // Unsealed: the command seals it while it prints it (`Plan::seal_while`).
    let listing = observed.listing;
    // Both sides are done with, and the process ends soon: freeing 100,000 users one
    // by one is time spent for nothing (the operating system takes the memory back).
    std::mem::forget(observed);
    std::mem::forget(resolved);
    Ok(Planned {
        session,
        plan,
        dialect,
        policy,
        lookup: crate::apply::Lookup { listing },
    })
}

/// Whether the policy deletes users in no file (a plan then shows all they lose).
fn policy_deletes(repo: &crate::config::Repository) -> bool {
    repo.settings
        .policy
        .unmanaged
        .as_ref()
        .is_some_and(|u| u.value == crate::policy::Unmanaged::Delete)
}

/// What the plan relies on, said once: never a silent fallback.
fn describe_server(dialect: &str, observed: &crate::observe::Observed) -> String {
    let c = observed.capabilities;
    let yes = |b: bool| if b { "yes" } else { "no" };
    let how = match observed.strategy {
        crate::observe::Strategy::Listing => "listing every page",
        crate::observe::Strategy::ListingByPage => {
            "listing every page (`startIndex` read as a page number)"
        }
    };
    let pages = if observed.listing.count.is_none() {
        " (the server refused `count`: pages of its own size)"
    } else {
        ""
    };
    format!(
        "Dialect {dialect}; the server has PATCH: {}, filter: {}, ETag: {}; updates use {}; users found by {how}{pages}.",
        yes(c.patch),
        yes(c.filter),
        yes(c.etag),
        if c.patch { "PATCH" } else { "PUT" },
    )
}

pub async fn run(ctx: &Context<'_>, args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    let Planned {
        mut plan, policy, ..
    } = make(ctx, args.guards.overrides()).await?;
    let term = ctx.term;
    let mut w = term.out();
    // The terminal's view is printed while the digest is computed; the others show it.
    match args.view.format {
        Format::Human => plan.seal_while(|plan| {
            let view = super::shown(plan, args.view.mask_pii);
            if term.quiet {
                human::summary(&mut w, &view, &term.out_styles)
            } else {
                let options = human::Options {
                    show_requests: args.view.show_requests,
                };
                human::plan(&mut w, &view, &term.out_styles, options)
            }
        })?,
        _ => plan.seal(),
    }
    if let Some(out) = &args.out {
        let path = in_repository(ctx, out);
        std::fs::write(&path, plan.to_json())
            .map_err(|source| crate::error::Error::CannotSave { path, source })?;
    }
    // The other views show the digest: they are printed once the plan is sealed.
    match args.view.format {
        Format::Human => match &args.out {
            _ if plan.is_empty() || term.quiet => {}
            None => human::not_saved_note(&mut w, &term.out_styles)?,
            Some(out) => writeln!(
                w,
                "\nSaved the plan to: {}\n\nTo perform exactly these actions, run:\n    {} apply {}",
                crate::escape::Shown(&in_repository(ctx, out).to_string_lossy()),
                ctx.scimops(),
                super::shell_word(&out.to_string_lossy())
            )?,
        },
        Format::Json => json::plan(&mut w, &super::shown(&plan, args.view.mask_pii))?,
        Format::Markdown => {
            let options = markdown::Options {
                limit: args.view.markdown_limit as usize,
                elsewhere: args.out.as_ref().map(|out| {
                    format!(
                        "the saved plan (`{} show {}`)",
                        ctx.scimops(),
                        super::shell_word(&out.to_string_lossy())
                    )
                }),
            };
            markdown::write(&mut w, &super::shown(&plan, args.view.mask_pii), options)?;
        }
    }
    drop(w);
    if let Some(status) = refused(ctx, plan.counts(), &policy, args.guards.overrides()) {
        return Ok(status);
    }
    let unmanaged = plan.summary.unmanaged_active_unprotected;
    let drift = args.unmanaged_as_changes && unmanaged > 0;
    if drift {
        ctx.term.progress(&format!(
            "The server has {} that no file declares: counted as changes (--unmanaged-as-changes).",
            crate::words::count(unmanaged, "active unmanaged user")
        ));
    }
    let status = if args.detailed_exitcode && (!plan.is_empty() || drift) {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    };
    // The process ends next: freeing a plan of 100,000 creates piece by piece is time
    // spent for nothing (the operating system takes the memory back at once).
    std::mem::forget(plan);
    Ok(status)
}
