//! `scimops schema`: the JSON Schemas of scimops' files, for editors.

use std::io::Write;

use anyhow::Context as _;

use super::Context;
use crate::cli::SchemaArgs;
use crate::exit::ExitStatus;

pub fn run(ctx: &Context<'_>, args: &SchemaArgs) -> anyhow::Result<ExitStatus> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create `{}`", args.out.display()))?;
    for (name, text) in crate::json_schemas() {
        let path = args.out.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        writeln!(ctx.term.out(), "wrote {}", path.display())?;
    }
    Ok(ExitStatus::Success)
}
