//! `scimops validate`: the files alone, no network.

use super::Context;
use crate::config::{Endpoint, Repository};
use crate::diag::{Diagnostic, Diagnostics};
use crate::exit::ExitStatus;
use crate::{desired, dialect};

pub fn run(ctx: &Context<'_>) -> anyhow::Result<ExitStatus> {
    let repo = Repository::load(&ctx.dir)?;
    let target = repo.target(ctx.target.as_deref())?;
    let dialect = dialect::for_target(&target.dialect, dialect::Capabilities::default());
    let domain = repo.default_domain();
    let mut warnings = Vec::new();
    let mut problems = Vec::new();
    match desired::resolve(
        &repo.users,
        repo.problems.clone(),
        domain,
        &dialect.offline_schema(),
        dialect.as_ref(),
    ) {
        Ok(resolved) => warnings.extend(resolved.warnings),
        Err(Diagnostics(list)) => problems.extend(list),
    }
    if let Endpoint::Remote { auth, .. } = &target.endpoint
        && let Some(secret) = auth.secret()
        && let Err(message) = secret.resolve(ctx.env)
    {
        problems.push(
            Diagnostic::error(None, format!("target `{}`: {message}", target.name))
                .hint("set it before running `plan` or `apply`; its value is never printed"),
        );
    }
    if !problems.is_empty() {
        problems.extend(warnings);
        return Err(Diagnostics::sorted(problems).into());
    }
    ctx.term.diagnostics(&warnings);
    let files: std::collections::BTreeSet<_> = repo.users.iter().map(|u| &u.origin.file).collect();
    ctx.term.progress(&format!(
        "The files are valid: {} in {} for target `{}` ({}).",
        crate::render::count(repo.users.len(), "user"),
        crate::render::count(files.len(), "file"),
        target.name,
        dialect.name()
    ));
    Ok(ExitStatus::Success)
}
