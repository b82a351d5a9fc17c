//! `scimops init`: a new repository, ready for `import` and `plan`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};

use super::Context;
use crate::cli::{ImportArgs, InitArgs, InitAuth, InitDialect};
use crate::escape::Shown;
use crate::exit::ExitStatus;
use crate::import::scalar;

/// The sandbox an `init --sandbox` repository starts with: Bizagi's admin, and a few
/// users to import.
const SANDBOX: &str = "# yaml-language-server: $schema=schemas/sandbox.schema.json
#
# The embedded sandbox of this repository: a local Bizagi-compatible server, its state
# in .sandbox/ (delete it to start again from these users).
defaultDomain: acme
properties:
  Level: integer
seed:
  - userName: admon@acme
    name: {givenName: Administrator}
  - userName: ada@acme
    name: {givenName: Ada, familyName: Lovelace}
    emails: [{value: ada@acme.example, type: work, primary: true}]
    urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties: {enabledForAssignation: true, Level: 3}
  - userName: grace@acme
    name: {givenName: Grace, familyName: Hopper}
    urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties: {enabledForAssignation: true, Level: 4}
";

const USERS: &str = "# yaml-language-server: $schema=../schemas/users.schema.json
#
# Users that scimops keeps on the server. Add entries here (or in more files of this
# folder); `scimops import` writes those the server already has. `scimops validate`
# checks the files offline; `scimops plan` shows what apply would change.
users: []
";

pub async fn run(ctx: &Context<'_>, args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let root = &ctx.dir;
    let settings_path = root.join(crate::config::SETTINGS_FILE);
    if settings_path.symlink_metadata().is_ok() {
        bail!(
            "`{}` exists: this is a scimops repository already; nothing was written",
            Shown(&settings_path.to_string_lossy())
        );
    }
    let name = ctx.target.clone().unwrap_or_else(|| {
        if args.sandbox {
            "sandbox"
        } else {
            "production"
        }
        .to_string()
    });
    let (settings, secret) = settings(args, &name, ctx.network.allow_insecure_http)?;

    std::fs::create_dir_all(root.join("users"))
        .with_context(|| format!("cannot create `{}`", Shown(&root.to_string_lossy())))?;
    let mut wrote = vec![crate::config::SETTINGS_FILE.to_string()];
    write_new(&settings_path, &settings)?;
    let users = root.join("users/users.yaml");
    if users.symlink_metadata().is_err() {
        write_new(&users, USERS)?;
        wrote.push("users/users.yaml".to_string());
    }
    if args.sandbox {
        write_new(&root.join("sandbox.yaml"), SANDBOX)?;
        write_new(&root.join(".gitignore"), ".sandbox/\n").ok();
        wrote.push("sandbox.yaml".to_string());
    }
    std::fs::create_dir_all(root.join("schemas")).context("cannot create `schemas/`")?;
    let mut schemas = 0;
    for (file, text) in crate::json_schemas() {
        let path = root.join("schemas").join(file);
        if path.symlink_metadata().is_err() {
            write_new(&path, &text)?;
            schemas += 1;
        }
    }
    if schemas > 0 {
        wrote.push(format!(
            "schemas/ ({})",
            crate::words::count(schemas, "editor schema")
        ));
    }
    // What was written reads as a repository: the same checks as `validate`.
    let repo = crate::config::Repository::load(root, Some(&name)).map_err(|d| {
        anyhow::anyhow!("the written settings do not read back (a bug in scimops init):\n{d}")
    })?;
    if !repo.problems.is_empty() {
        bail!(
            "the written settings do not read back (a bug in scimops init):\n{}",
            crate::diag::Diagnostics(repo.problems)
        );
    }
    repo.target(Some(&name)).map_err(|d| {
        anyhow::anyhow!("the written target does not read back (a bug in scimops init):\n{d}")
    })?;

    let mut w = ctx.term.out();
    writeln!(w, "Wrote {}.", wrote.join(", "))?;
    if args.import {
        drop(w);
        let status = super::import::run(ctx, &ImportArgs::default()).await?;
        return Ok(status);
    }
    // Commands that work from where the user stands.
    let scimops = ctx.scimops();
    writeln!(w, "\nNext:")?;
    if let Some(var) = secret {
        writeln!(w, "  export {var}=...")?;
        writeln!(
            w,
            "      the secret, read from the environment, never written in a file"
        )?;
    }
    writeln!(w, "  {scimops} import")?;
    writeln!(
        w,
        "      writes the users the server has into users/imported.yaml"
    )?;
    writeln!(w, "  {scimops} plan")?;
    writeln!(w, "      then says: No changes.")?;
    Ok(ExitStatus::Success)
}

/// `scimops.yaml` for the arguments, and the environment variable of its secret.
fn settings(
    args: &InitArgs,
    name: &str,
    allow_insecure_http: bool,
) -> anyhow::Result<(String, Option<String>)> {
    let mut y = String::from(
        "# yaml-language-server: $schema=schemas/scimops.schema.json\n#\n# scimops' settings: the server, how to reach it, the defaults of every user, and\n# the safety policy. `scimops validate` checks them; `scimops discover` shows what the\n# server says of itself.\n",
    );
    let target = scalar(name);
    let _ = writeln!(y, "defaultTarget: {target}\ntargets:\n  {target}:");
    let bizagi = args.dialect == InitDialect::Bizagi;
    let mut secret = None;
    if args.sandbox {
        y.push_str("    sandbox:\n      config: sandbox.yaml\n      state: .sandbox/state.db\n");
    } else {
        let url = args.url.as_deref().unwrap_or_default();
        crate::config::checked_url(url, allow_insecure_http).map_err(anyhow::Error::msg)?;
        let _ = writeln!(y, "    url: {}", scalar(url.trim()));
        let _ = writeln!(
            y,
            "    dialect: {}",
            if bizagi { "bizagi" } else { "rfc7644" }
        );
        let var = |default: &str| -> anyhow::Result<String> {
            let var = args
                .secret_env
                .clone()
                .unwrap_or_else(|| default.to_string());
            let valid = var
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                && var
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                bail!(
                    "--secret-env `{}` is not an environment variable's name (A-Z, 0-9, _)",
                    Shown(&var)
                );
            }
            Ok(var)
        };
        match args.auth {
            InitAuth::ClientCredentials => {
                let v = var(if bizagi {
                    "BIZAGI_CLIENT_SECRET"
                } else {
                    "SCIM_CLIENT_SECRET"
                })?;
                let _ = writeln!(
                    y,
                    "    auth:\n      clientCredentials:\n        clientId: {}\n        clientSecret: ${{{v}}}",
                    scalar(&args.client_id)
                );
                match &args.token_url {
                    Some(token) => {
                        crate::config::checked_url(token, allow_insecure_http)
                            .map_err(anyhow::Error::msg)?;
                        let _ = writeln!(y, "        tokenUrl: {}", scalar(token.trim()));
                    }
                    None if !bizagi => bail!(
                        "an RFC server's client credentials need its token endpoint: add \
                         --token-url URL, or choose `--auth bearer` (a static token) or \
                         `--auth none`"
                    ),
                    None => {}
                }
                secret = Some(v);
            }
            InitAuth::Bearer => {
                let v = var("SCIM_TOKEN")?;
                let _ = writeln!(y, "    auth:\n      bearer:\n        token: ${{{v}}}");
                secret = Some(v);
            }
            InitAuth::None => y.push_str("    auth: none\n"),
        }
    }
    y.push_str("users: [users]\n");
    let domain = match (&args.domain, args.sandbox) {
        (Some(domain), _) => Some(domain.trim().to_string()),
        (None, true) => Some("acme".to_string()),
        (None, false) => None,
    };
    if domain.is_some() || bizagi || args.sandbox {
        y.push_str("defaults:\n");
    }
    if let Some(domain) = &domain {
        let _ = writeln!(y, "  domain: {}", scalar(domain));
    }
    if bizagi || args.sandbox {
        y.push_str("  properties:\n    enabledForAssignation: true   # Bizagi needs it when a user is created\n");
    }
    y.push_str("policy:\n  unmanaged: ignore               # users in no file: named by every plan, left alone\n");
    Ok((y, secret))
}

/// Writes a file that must not exist yet.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::fs::OpenOptions;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create `{}`", Shown(&path.to_string_lossy())))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", Shown(&path.to_string_lossy())))
}
