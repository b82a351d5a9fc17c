//! The scenarios against the sandbox, in each reading of Bizagi's documented
//! ambiguities (`BIZAGI-SCIM-FACTS.md` §12), with the Bizagi dialect and the RFC one.

use crate::scenarios::{Kind, Scenario, Target};
use crate::support::{PROPERTIES, SECRET, SECRET_VAR, TestSandbox};

fn sandbox(options: &str) -> TestSandbox {
    TestSandbox::start(&format!("defaultDomain: acme\n{options}\n{PROPERTIES}"))
}

fn bizagi(sandbox: &TestSandbox, options: &str, reads: usize) -> Target {
    Target {
        yaml: format!(
            "    url: {}\n    auth:\n      clientCredentials:\n        clientId: scimops\n        clientSecret: ${{{SECRET_VAR}}}\n{options}",
            sandbox.running.scim_url()
        ),
        env: vec![(SECRET_VAR.into(), SECRET.into())],
        kind: Kind::Bizagi,
        rich: false,
        patch: true,
        reads,
        updates_answered: true,
    }
}

#[test]
fn bizagi_dialect_lifecycle() {
    let s = sandbox("");
    Scenario::new(bizagi(&s, "", 4)).lifecycle();
}

#[test]
fn rfc7644_dialect_on_the_sandbox_lifecycle() {
    let s = sandbox("");
    Scenario::new(Target {
        yaml: format!(
            "    url: {}\n    dialect: rfc7644\n    auth:\n      clientCredentials:\n        clientId: scimops\n        clientSecret: ${{{SECRET_VAR}}}\n        tokenUrl: {}\n",
            s.running.scim_url(),
            s.running.token_url()
        ),
        env: vec![(SECRET_VAR.into(), SECRET.into())],
        kind: Kind::Rfc,
        rich: false,
        patch: true,
        reads: 4,
        updates_answered: true,
    })
    .lifecycle();
}

#[test]
fn booleans_answered_as_strings() {
    let s = sandbox("stringBooleans: true");
    Scenario::new(bizagi(&s, "", 4)).lifecycle();
}

#[test]
fn resource_types_only_at_the_misprinted_path() {
    // GET /ResourceTypes answers 404, then /scim/v2/ResourceTypes: one more read.
    let s = sandbox("resourceTypes: misprinted");
    Scenario::new(bizagi(&s, "", 5)).lifecycle();
}

#[test]
fn paths_take_only_ids() {
    let s = sandbox("userKeys: id");
    Scenario::new(bizagi(&s, "", 4)).lifecycle();
}

#[test]
fn paths_take_only_user_names() {
    let s = sandbox("userKeys: userName");
    Scenario::new(bizagi(&s, "    userKeys: userName\n", 4)).lifecycle();
}

#[test]
fn paths_take_only_user_names_and_the_target_does_not_say_so() {
    let s = sandbox("userKeys: userName");
    let scenario = Scenario::new(bizagi(&s, "", 4));
    scenario.users("users:\n  - userName: ada\n    name: {givenName: Ada}\n");
    assert_eq!(scenario.run(&["apply", "--auto-approve"]).code, 0);
    scenario.users("users:\n  - userName: ada\n    name: {givenName: Augusta}\n");
    let apply = scenario.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stdout.contains("404 Not Found"), "{}", apply.stdout);
    assert!(
        apply.stdout.contains(
            "hint: this Bizagi project may address users by userName only: set `userKeys: userName`"
        ),
        "{}",
        apply.stdout
    );
}

#[test]
fn no_filter_support() {
    let s = sandbox("filter: false");
    Scenario::new(bizagi(&s, "", 4)).lifecycle();
}

#[test]
fn count_capped_below_what_is_asked() {
    // scimops asks for 500 a page; the server serves 100.
    let s = sandbox("maxPageSize: 100");
    Scenario::new(bizagi(&s, "", 4)).many(300, 100);
}

#[test]
fn start_index_read_as_a_page_number() {
    // Pages of 100; `startIndex=2` means the second page. scimops asks for index 101
    // (empty: page 101), then reads pages 2 and 3: one read more than pages.
    let s = sandbox("paging: page\nmaxPageSize: 100");
    let scenario = Scenario::new(bizagi(&s, "    pageSize: 100\n", 5));
    scenario.many(300, 100);
    let plan = scenario.run(&["plan"]);
    assert!(
        plan.stderr.contains("`startIndex` read as a page number"),
        "{}",
        plan.stderr
    );
}

#[test]
fn names_answered_as_one_full_name() {
    // Bizagi answers `name.formatted` alone (ambiguity 11): the lifecycle converges
    // with the same requests.
    let s = sandbox("name: formatted");
    Scenario::new(bizagi(&s, "", 4)).lifecycle();
}

#[test]
fn names_answered_as_parts_only() {
    let s = sandbox("name: parts");
    Scenario::new(bizagi(&s, "", 4)).lifecycle();
}

#[test]
fn attributes_the_server_drops_are_named_then_left_out() {
    // The server answers 2xx to a middle name and a phone, and keeps neither.
    let s = sandbox("drops: [name.middleName, phone]");
    let users = "users:\n  - userName: ada\n    name: {givenName: Ada, middleName: B, familyName: Lovelace}\n    phone: '+44 2071234567'\n";
    let scenario = Scenario::new(bizagi(&s, "", 4));
    scenario.users(users);
    let apply = scenario.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    for expected in [
        "ada@acme: created, but the server did not keep 2 attributes:",
        "  name.middleName = \"B\", declared at users/users.yaml:3:",
        "  phone = \"+44 2071234567\", declared at users/users.yaml:4:",
        "add `unsupported: [name.middleName, phone]` to the target in scimops.yaml",
        "Apply incomplete. Users: 1 created, 0 updated, 0 deactivated, 1 user with attributes the server did not keep.",
    ] {
        assert!(
            apply.stdout.contains(expected),
            "{expected:?} in:\n{}",
            apply.stdout
        );
    }

    // Once the target says so, nothing is compared or sent of them: converged.
    let told = Scenario::new(bizagi(&s, "    unsupported: [name.middleName, phone]\n", 4));
    told.users(users);
    let plan = told.converged("unsupported");
    assert!(
        plan.stdout.contains(
            "Not compared and not sent on this target (its `unsupported`): name.middleName, phone."
        ),
        "{}",
        plan.stdout
    );

    // And the whole lifecycle on such a server, told, with its usual requests.
    let fresh = sandbox("drops: [name.middleName, phone]");
    Scenario::new(bizagi(
        &fresh,
        "    unsupported: [name.middleName, phone]\n",
        4,
    ))
    .lifecycle();
}

#[test]
fn count_refused_with_500() {
    // Any listing with `count` is answered 500: one refused call (not retried), then
    // pages of the server's own size (100).
    let s = sandbox("countRefused: 500");
    Scenario::new(bizagi(&s, "", 5)).lifecycle();
    let s = sandbox("countRefused: 500");
    let scenario = Scenario::new(bizagi(&s, "", 5));
    scenario.many(300, 100);
    let plan = scenario.run(&["plan"]);
    assert!(
        plan.stderr
            .contains("the server refused `count`: pages of its own size"),
        "{}",
        plan.stderr
    );
    let out = scenario.run(&["plan", "--format", "json"]);
    let saved: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(saved["server"]["countRefused"], true);
}

#[test]
fn count_refused_with_400() {
    let s = sandbox("countRefused: 400");
    Scenario::new(bizagi(&s, "", 5)).lifecycle();
}

#[test]
fn start_index_read_as_a_page_number_when_the_target_says_so() {
    // `paging: page`: no probe, one call per page.
    let target = "    pageSize: 100\n    paging: page\n";
    let s = sandbox("paging: page\nmaxPageSize: 100");
    Scenario::new(bizagi(&s, target, 4)).lifecycle();
    let s = sandbox("paging: page\nmaxPageSize: 100");
    Scenario::new(bizagi(&s, target, 4)).many(300, 100);
}

#[test]
fn discover_says_how_the_server_reads_start_index_and_count() {
    for (options, paging, count_refused) in [
        ("", "index", false),
        ("paging: page", "page", false),
        ("countRefused: 500", "index", true),
        ("paging: page\ncountRefused: 400", "page", true),
    ] {
        let s = sandbox(options);
        let scenario = Scenario::new(bizagi(&s, "", 4));
        scenario.users(
            "users:\n  - userName: a\n    name: {givenName: A}\n  - userName: b\n    name: {givenName: B}\n  - userName: c\n    name: {givenName: C}\n",
        );
        assert_eq!(scenario.run(&["apply", "--auto-approve"]).code, 0);
        let run = scenario.run(&["discover", "--format", "json"]);
        assert_eq!(run.code, 0, "{run:?}");
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["paging"], paging, "{options}");
        assert_eq!(report["countRefused"], count_refused, "{options}");
        let table = scenario.run(&["discover"]);
        assert!(
            table.stdout.contains(match paging {
                "index" => "startIndex: an index (RFC 7644)",
                _ => "startIndex: a page number (set `paging: page` on the target",
            }),
            "{}",
            table.stdout
        );
    }
}

#[test]
#[expect(
    clippy::print_stderr,
    reason = "prints the figures per reading, a table for the record (`--nocapture`)"
)]
fn twelve_changes_among_1200_users_cost_twelve_writes_in_every_reading() {
    // (sandbox reading, target settings, reads of a small plan, page size)
    let readings = [
        ("", "", 4, 500),
        ("name: formatted", "", 4, 500),
        ("name: parts", "", 4, 500),
        (
            "drops: [name.middleName, phone]",
            "    unsupported: [name.middleName, phone]\n",
            4,
            500,
        ),
        ("countRefused: 500", "", 5, 100),
        ("countRefused: 400", "", 5, 100),
        (
            "paging: page\nmaxPageSize: 100",
            "    pageSize: 100\n",
            5,
            100,
        ),
        (
            "paging: page\nmaxPageSize: 100",
            "    pageSize: 100\n    paging: page\n",
            4,
            100,
        ),
        ("maxPageSize: 100", "", 4, 100),
        ("userKeys: id", "", 4, 500),
        ("userKeys: userName", "    userKeys: userName\n", 4, 500),
        ("filter: false", "", 4, 500),
        ("stringBooleans: true", "", 4, 500),
    ];
    for (reading, settings, reads, page_size) in readings {
        let s = sandbox(reading);
        let (plan, apply) =
            Scenario::new(bizagi(&s, settings, reads)).twelve_changes_among(1200, page_size);
        // The figures of the closing note (`--nocapture` prints them).
        let words = |yaml: &str| yaml.split_whitespace().collect::<Vec<_>>().join(" ");
        eprintln!(
            "| {} | {} | {} GET | {} GET, {} POST, {} PATCH, {} DELETE |",
            words(reading),
            words(settings),
            plan.get,
            apply.get,
            apply.post,
            apply.patch,
            apply.delete
        );
    }
}
