//! The shipped example (`examples/bizagi`): its embedded sandbox, first plan, and
//! convergence, exactly as the README runs it.

use std::path::Path;

use crate::support::{Run, copy_dir, repo_root, scimops};

fn example() -> tempfile::TempDir {
    copy_dir(&repo_root().join("examples/bizagi"))
}

/// The embedded sandbox logs each request it serves at `-v`; count the SCIM ones.
fn served(run: &Run, method: &str) -> usize {
    run.stderr
        .lines()
        .filter(|l| l.contains(&format!(" {method} /scim/v2/")))
        .count()
}

#[test]
fn the_example_is_valid() {
    let dir = example();
    let run = scimops(dir.path(), &["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("The files are valid: 6 users in 2 files"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_examples_first_plan_shows_creates_updates_and_a_deactivation() {
    let dir = example();
    let run = scimops(dir.path(), &["plan"]);
    assert_eq!(run.code, 0, "{run:?}");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn the_example_converges_with_the_minimal_requests() {
    let dir = example();
    let apply = scimops(dir.path(), &["-v", "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(served(&apply, "POST"), 2, "{}", apply.stderr);
    assert_eq!(served(&apply, "PATCH"), 2, "{}", apply.stderr);
    assert_eq!(served(&apply, "DELETE"), 1, "{}", apply.stderr);
    assert_eq!(served(&apply, "PUT"), 0, "{}", apply.stderr);
    assert_eq!(
        served(&apply, "GET"),
        4,
        "discovery and one page: {}",
        apply.stderr
    );

    let plan = scimops(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.starts_with("No changes."), "{}", plan.stdout);

    let again = scimops(dir.path(), &["-v", "apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again:?}");
    for method in ["POST", "PATCH", "PUT", "DELETE"] {
        assert_eq!(served(&again, method), 0, "{}", again.stderr);
    }
}

#[test]
fn removing_the_state_restores_the_seed() {
    let dir = example();
    let first = scimops(dir.path(), &["plan"]);
    assert_eq!(scimops(dir.path(), &["apply", "--auto-approve"]).code, 0);
    assert!(Path::new(&dir.path().join(".sandbox/state.db")).exists());
    std::fs::remove_dir_all(dir.path().join(".sandbox")).unwrap();
    let again = scimops(dir.path(), &["plan"]);
    assert_eq!(first.stdout, again.stdout);
}
