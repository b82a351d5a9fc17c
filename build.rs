//! Records the commit scimops is built from, for `--version` (`SCIMOPS_COMMIT` set by a
//! packager wins; outside a Git checkout it is `unknown`).

// A build script: the design rules of clippy.toml are for scimops itself.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SCIMOPS_COMMIT");
    let git = Path::new(".git");
    if git.is_dir() {
        // A new commit moves HEAD, or the branch it points at.
        println!("cargo:rerun-if-changed=.git/HEAD");
        println!("cargo:rerun-if-changed=.git/packed-refs");
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD"))
            && let Some(reference) = head.trim().strip_prefix("ref: ")
        {
            println!("cargo:rerun-if-changed=.git/{reference}");
        }
    }
    let commit = std::env::var("SCIMOPS_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            let hash = String::from_utf8(out.stdout).ok()?.trim().to_string();
            (out.status.success() && !hash.is_empty()).then_some(hash)
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SCIMOPS_COMMIT={commit}");
}
