//! `scimops import` adopts a live directory: it writes the users no file declares, as
//! the server has them, so that the next plan says "No changes."; it reads as `plan`
//! does (one listing, no request per user), and never writes outside what it is told.

use crate::external::External;
use crate::scenarios::{Scenario, counts};
use crate::servers::{scim2, scimmy};
use crate::support::{PROPERTIES, Repo, TestSandbox, copy_dir, repo_root, scimops};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

#[test]
fn the_example_is_imported_and_the_next_plan_is_empty() {
    let repo = copy_dir(&repo_root().join("examples/bizagi"));
    // A project that starts from its live directory: no user file yet.
    for file in ["users/engineering.yaml", "users/finance.yaml"] {
        std::fs::remove_file(repo.path().join(file)).unwrap();
    }
    let import = scimops(repo.path(), &["-vv", "import"]);
    assert_eq!(import.code, 0, "{import:?}");
    let sent = counts(&import.stderr);
    assert_eq!(
        (sent.get, sent.writes()),
        (4, 0),
        "three discovery calls and one page"
    );
    assert!(
        import
            .stdout
            .contains("Wrote users/imported.yaml (4 users).")
            && import
                .stdout
                .contains("Left as they are: 1 user that the policy protects."),
        "{}",
        import.stdout
    );
    let written = std::fs::read_to_string(repo.path().join("users/imported.yaml")).unwrap();
    insta::assert_snapshot!(written);
    // The `$schema` line works where the file is: the schemas are in the repository.
    assert!(repo.path().join("schemas/users.schema.json").is_file());

    let plan = scimops(repo.path(), &["-vv", "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.starts_with("No changes."), "{}", plan.stdout);
    assert_eq!(counts(&plan.stderr).get, 4);
    assert!(
        plan.stdout.contains("4 users declared, 4 already as declared. The server has 5 users; 1 is unmanaged (in no file) and left alone."),
        "{}",
        plan.stdout
    );

    // Importing again changes nothing, and replacing gives the same bytes.
    let again = scimops(repo.path(), &["import", "--out", "users/more.yaml"]);
    assert!(again.stdout.contains("Nothing to import"), "{again:?}");
    assert!(!repo.path().join("users/more.yaml").exists());
    let refused = scimops(repo.path(), &["import"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("`users/imported.yaml` exists; pass --force"),
        "{}",
        refused.stderr
    );
    assert_eq!(scimops(repo.path(), &["import", "--force"]).code, 0);
    let replaced = std::fs::read_to_string(repo.path().join("users/imported.yaml")).unwrap();
    assert_eq!(replaced, written, "a re-import is a clean diff");
}

#[test]
fn skipped_attributes_stay_out_of_the_files_and_stay_unmanaged() {
    let repo = copy_dir(&repo_root().join("examples/bizagi"));
    for file in ["users/engineering.yaml", "users/finance.yaml"] {
        std::fs::remove_file(repo.path().join(file)).unwrap();
    }
    // Bizagi's built-in properties, which every user has, and the phone: unmanaged.
    let builtins = "properties.DelegateEnabled,properties.createdCasesSkipAssigRules,properties.normalCost,properties.offlineForms,properties.overtimeCost";
    let import = scimops(
        repo.path(),
        &["import", "--skip", builtins, "--skip", "PHONE"],
    );
    assert_eq!(import.code, 0, "{import:?}");
    let written = std::fs::read_to_string(repo.path().join("users/imported.yaml")).unwrap();
    for left_out in [
        "DelegateEnabled",
        "createdCasesSkipAssigRules",
        "normalCost",
        "offlineForms",
        "overtimeCost",
        "phone:",
    ] {
        assert!(!written.contains(left_out), "{left_out}:\n{written}");
    }
    for kept in [
        "Level: 3",
        "IdentificationNumber: CC-1020304050",
        "active: false",
        "email: ",
    ] {
        assert!(written.contains(kept), "{kept}:\n{written}");
    }
    let plan = scimops(repo.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.starts_with("No changes."), "{}", plan.stdout);

    // A name that is no attribute of the server's users: refused after discovery,
    // before any user is read, with the name meant.
    let typo = scimops(
        repo.path(),
        &[
            "-vv",
            "import",
            "--force",
            "--skip",
            "properties.DelegatEnabled",
        ],
    );
    assert_eq!(typo.code, 1, "{typo:?}");
    assert!(
        typo.stderr.contains(
            "--skip `properties.DelegatEnabled` is no attribute of the server's users, so it would leave nothing out; did you mean `properties.DelegateEnabled`?"
        ),
        "{}",
        typo.stderr
    );
    assert_eq!(
        counts(&typo.stderr).get,
        3,
        "discovery only: {}",
        typo.stderr
    );
    // `active` cannot be left out: inactive users would be reactivated.
    let active = scimops(repo.path(), &["import", "--force", "--skip", "active"]);
    assert_eq!(active.code, 1, "{active:?}");
    assert!(
        active.stderr.contains("would be reactivated"),
        "{}",
        active.stderr
    );
    let unchanged = std::fs::read_to_string(repo.path().join("users/imported.yaml")).unwrap();
    assert_eq!(unchanged, written, "a refused import writes nothing");
}

#[test]
fn properties_every_user_shares_are_pointed_out_with_the_two_ways_to_write_them_once() {
    // 12 users with the same Level and IsContractor, and each their own Salary.
    let seed: String = (0..12)
        .map(|i| format!("  - {{userName: 'u{i:02}@acme', name: {{givenName: U{i}}}, {EXT}: {{enabledForAssignation: true, Level: 2, IsContractor: false, Salary: {i}.5}}}}\n"))
        .collect();
    let sandbox = TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}seed:\n{seed}"));
    let repo = Repo::for_sandbox(&sandbox, "users: []\n");
    let import = repo.run(&["import", "--split-by", "domain"]);
    assert_eq!(import.code, 0, "{import:?}");
    let note = import.stdout.split("Note: ").nth(1).unwrap_or_default();
    // The sandbox's built-in properties (`DelegateEnabled`...) are the same for all too.
    assert!(
        note.starts_with("every imported user has properties.DelegateEnabled = false, properties.IsContractor = false, properties.Level = 2, "),
        "{}",
        import.stdout
    );
    assert!(!note.contains("Salary"), "{note}");
    // The command it gives runs as printed (its options kept), and the note is gone.
    let again = note.lines().nth(1).unwrap().trim();
    assert!(
        again.starts_with("scimops import --force --skip properties.DelegateEnabled,properties.IsContractor,properties.Level,")
            && again.ends_with(" --split-by domain"),
        "{again}"
    );
    let args: Vec<&str> = again.split(' ').skip(1).collect();
    let skipped = repo.run(&args);
    assert_eq!(skipped.code, 0, "{skipped:?}");
    assert!(!skipped.stdout.contains("Note:"), "{}", skipped.stdout);
    let written = std::fs::read_to_string(repo.path().join("users/imported/acme.yaml")).unwrap();
    assert!(
        !written.contains("Level")
            && !written.contains("IsContractor")
            && !written.contains("DelegateEnabled")
            && written.contains("Salary: 11.5"),
        "{written}"
    );
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// 1,000 users of every shape: name parts, e-mail, phone, properties of each type,
/// some inactive, some without a default property, some in another domain.
fn thousand() -> TestSandbox {
    let mut seed = String::new();
    for i in 0..1000 {
        let domain = if i % 10 == 0 { "partners" } else { "acme" };
        let active = if i % 7 == 0 { ", active: false" } else { "" };
        let phone = if i % 3 == 0 {
            format!(", phoneNumbers: [{{value: '+57 300{i:07}', type: mobile}}]")
        } else {
            String::new()
        };
        let enabled = if i % 11 == 0 {
            ""
        } else {
            "enabledForAssignation: true, "
        };
        seed.push_str(&format!(
            "  - {{userName: 'u{i:04}@{domain}', name: {{givenName: 'Given {i}', familyName: \"O'Hara-{i}\"}}, emails: [{{value: 'u{i}@acme.example', type: work}}]{phone}{active}, {EXT}: {{{enabled}Level: {}, Salary: {}.5, IsContractor: {}, IdentificationNumber: '00{i}', HireDate: '2026-01-{:02}T09:00:00Z'}}}}\n",
            i % 9,
            i * 10,
            i % 2 == 0,
            i % 28 + 1
        ));
    }
    TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}seed:\n{seed}"))
}

#[test]
fn a_thousand_users_are_imported_with_one_listing_and_plan_as_no_changes() {
    let sandbox = thousand();
    let repo = Repo::for_sandbox(&sandbox, "users: []\n");
    let import = repo.run(&["import", "--split-by", "domain"]);
    assert_eq!(import.code, 0, "{import:?}");
    assert!(
        import
            .stdout
            .contains("Wrote users/imported/acme.yaml (900 users)."),
        "{}",
        import.stdout
    );
    assert!(
        import
            .stdout
            .contains("Wrote users/imported/partners.yaml (100 users)."),
        "{}",
        import.stdout
    );
    let log = sandbox.requests();
    assert_eq!(
        (log.token, log.count("GET"), log.writes()),
        (1, 3 + 2, 0),
        "one token, three discovery calls, two pages of 500"
    );
    let acme = std::fs::read_to_string(repo.path().join("users/imported/acme.yaml")).unwrap();
    assert!(
        acme.starts_with("# yaml-language-server: $schema=../../schemas/users.schema.json\n"),
        "{}",
        &acme[..200]
    );
    // The default domain and default values are left out; numbers are numbers.
    assert!(
        acme.contains(
            "  - userName: u0001\n    name: {givenName: Given 1, familyName: O'Hara-1}\n"
        ),
        "{}",
        &acme[..600]
    );
    assert!(acme.contains("      Level: 1\n"), "typed as declared");
    assert!(
        !acme.contains("enabledForAssignation: true"),
        "the default is left out"
    );
    assert!(
        acme.contains("      enabledForAssignation: false\n"),
        "a value other than the default is written"
    );
    let partners =
        std::fs::read_to_string(repo.path().join("users/imported/partners.yaml")).unwrap();
    assert!(
        partners.contains("  - userName: u0010@partners\n"),
        "another domain stays"
    );

    sandbox.clear();
    let plan = repo.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains("1000 users declared, 1000 already as declared. The server has 1000 users; all declared."),
        "{}",
        plan.stdout
    );
    assert_eq!(sandbox.requests().count("GET"), 3 + 2);
}

#[test]
fn import_adds_only_the_users_no_file_declares() {
    let sandbox = thousand();
    let declared =
        "users:\n  - userName: u0001\n    name: {givenName: Renamed}\n  - userName: u0002\n";
    let repo = Repo::for_sandbox(&sandbox, declared);
    let import = repo.run(&["import", "--out", "users/rest.yaml"]);
    assert_eq!(import.code, 0, "{import:?}");
    assert!(
        import.stdout.contains("Wrote users/rest.yaml (998 users)."),
        "{}",
        import.stdout
    );
    let rest = std::fs::read_to_string(repo.path().join("users/rest.yaml")).unwrap();
    assert!(!rest.contains("userName: u0001\n") && !rest.contains("userName: u0002\n"));
    assert_eq!(
        std::fs::read_to_string(repo.path().join("users/users.yaml")).unwrap(),
        declared,
        "never touched"
    );
    // The declared user's own change is still planned; the imported ones have none.
    let plan = repo.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 1 to update, 0 to deactivate."),
        "{}",
        plan.stdout
    );
}

#[test]
fn import_splits_by_a_property_into_safe_file_names_and_stays_in_what_the_target_reads() {
    let seed = format!(
        "  - {{userName: a@acme, name: {{givenName: A}}, {EXT}: {{enabledForAssignation: true, IdentificationNumber: '../../etc/passwd'}}}}\n  - {{userName: b@acme, name: {{givenName: B}}, {EXT}: {{enabledForAssignation: true, IdentificationNumber: 'R&D'}}}}\n  - {{userName: c@acme, name: {{givenName: \"\\e[2J\"}}, {EXT}: {{enabledForAssignation: true}}}}\n"
    );
    let sandbox = TestSandbox::start(&format!("defaultDomain: acme\n{PROPERTIES}seed:\n{seed}"));
    let repo = Repo::for_sandbox(&sandbox, "users: []\n");
    let outside = repo.run(&["import", "--out", "elsewhere/x.yaml"]);
    assert_eq!(outside.code, 1);
    assert!(
        outside
            .stderr
            .contains("`elsewhere` is not among the files target `test` reads (`users`)"),
        "{}",
        outside.stderr
    );
    let climbing = repo.run(&["import", "--out", "../x.yaml"]);
    assert!(
        climbing
            .stderr
            .contains("must be a path inside the repository"),
        "{}",
        climbing.stderr
    );

    let import = repo.run(&["import", "--split-by", "properties.IdentificationNumber"]);
    assert_eq!(import.code, 0, "{import:?}");
    let mut files: Vec<String> = std::fs::read_dir(repo.path().join("users/imported"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["etc-passwd.yaml", "none.yaml", "r-d.yaml"]);
    let none = std::fs::read_to_string(repo.path().join("users/imported/none.yaml")).unwrap();
    assert!(
        none.contains("    name: {givenName: \"\\u001b[2J\"}\n"),
        "escaped, never raw: {none}"
    );
    assert_eq!(repo.run(&["plan", "--detailed-exitcode"]).code, 0);
}

fn external(scenario: &Scenario) {
    // Three users made by another tool (here, an apply), then the files lost.
    scenario.users(
        "users:\n  - userName: ada\n    name: {givenName: Ada, familyName: Lovelace}\n    email: ada@acme.example\n    phone: '+44 2071234567'\n    attributes: {displayName: Ada Lovelace, title: Countess}\n    extensions:\n      urn:ietf:params:scim:schemas:extension:enterprise:2.0:User: {department: R&D, employeeNumber: '42'}\n  - userName: bob\n    name: {givenName: Bob}\n    active: false\n  - userName: cy\n    name: {givenName: Cy, middleName: Q, familyName: Ng}\n",
    );
    assert_eq!(scenario.apply("create").post, 3);
    scenario.users("users: []\n");
    let import = scenario.run(&["-vv", "import"]);
    assert_eq!(import.code, 0, "{import:?}");
    let sent = counts(&import.stderr);
    assert_eq!((sent.get, sent.writes()), (4, 0), "discovery and one page");
    let written = std::fs::read_to_string(scenario.path().join("users/imported.yaml")).unwrap();
    for line in [
        "  - userName: ada\n",
        "    name: {givenName: Ada, familyName: Lovelace}\n",
        "    phone: \"+44 2071234567\"\n",
        "      displayName: Ada Lovelace\n",
        "        department: \"R&D\"\n",
        "    active: false\n",
    ] {
        assert!(written.contains(line), "{line:?} in:\n{written}");
    }
    let plan = scenario.converged("import");
    assert_eq!(counts(&plan.stderr).get, 4);
}

#[test]
fn import_from_scim2_server() {
    let server = External::scim2("");
    external(&Scenario::new(scim2(&server, true)));
}

#[test]
fn import_from_scimmy() {
    let server = External::scimmy();
    external(&Scenario::new(scimmy(&server)));
}

#[test]
fn names_answered_as_one_full_name_are_imported_so_that_the_plan_is_empty() {
    let seed = format!(
        "  - {{userName: a@acme, name: {{givenName: Ada, middleName: B, familyName: King}}, {EXT}: {{enabledForAssignation: true}}}}\n  - {{userName: b@acme, name: {{givenName: Bo}}, {EXT}: {{enabledForAssignation: true}}}}\n"
    );
    let sandbox = TestSandbox::start(&format!(
        "defaultDomain: acme\nname: formatted\n{PROPERTIES}seed:\n{seed}"
    ));
    let repo = Repo::for_sandbox(&sandbox, "users: []\n");
    assert_eq!(repo.run(&["import"]).code, 0);
    let written = std::fs::read_to_string(repo.path().join("users/imported.yaml")).unwrap();
    assert!(
        written.contains("    name: {givenName: Ada B King}\n"),
        "{written}"
    );
    assert_eq!(repo.run(&["plan", "--detailed-exitcode"]).code, 0);
}
