//! Properties over random cases: whatever the server holds and the files declare,
//! apply makes them agree (the next plan is empty), and sends exactly the requests the
//! plan announced.

use proptest::prelude::*;
use serde_json::Value as Json;

use crate::support::{PROPERTIES, Repo, TestSandbox};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:bizagi:2.0:UserProperties";

/// An attribute in a user file: left out, `null`, or a value.
#[derive(Clone, Debug)]
enum Decl {
    Absent,
    Null,
    Set(String),
}

fn decl(values: &'static [&'static str]) -> impl Strategy<Value = Decl> {
    prop_oneof![
        Just(Decl::Absent),
        Just(Decl::Null),
        proptest::sample::select(values).prop_map(|v| Decl::Set(v.to_string())),
    ]
}

fn maybe(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(proptest::sample::select(values).prop_map(str::to_string))
}

const GIVEN: &[&str] = &["Ann", "Bo", "Cy"];
const FAMILY: &[&str] = &["Lee", "Li", "Ng"];
const EMAIL: &[&str] = &["a@x.example", "b@x.example"];
const PHONE: &[&str] = &["'+57 3001234567'", "'+1 5550100'"];
const LEVEL: &[&str] = &["0", "1", "2"];
const SALARY: &[&str] = &["1.5", "2", "10.25"];
const NOTES: &[&str] = &["'one line'", "\"two\\nlines\""];
const BOOL: &[&str] = &["true", "false"];

/// A user on the server before the run.
#[derive(Clone, Debug)]
struct OnServer {
    given: String,
    family: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    active: bool,
    level: Option<String>,
    salary: Option<String>,
    notes: Option<String>,
    assignable: bool,
}

/// A user as a file declares it.
#[derive(Clone, Debug)]
struct Declared {
    given: String,
    family: Decl,
    email: Decl,
    phone: Decl,
    active: Option<bool>,
    level: Decl,
    salary: Decl,
    notes: Decl,
    contractor: Decl,
}

fn on_server() -> impl Strategy<Value = OnServer> {
    (
        proptest::sample::select(GIVEN),
        maybe(FAMILY),
        maybe(EMAIL),
        maybe(PHONE),
        any::<bool>(),
        maybe(LEVEL),
        maybe(SALARY),
        maybe(NOTES),
        any::<bool>(),
    )
        .prop_map(
            |(given, family, email, phone, active, level, salary, notes, assignable)| OnServer {
                given: given.to_string(),
                family,
                email,
                phone,
                active,
                level,
                salary,
                notes,
                assignable,
            },
        )
}

fn declared() -> impl Strategy<Value = Declared> {
    (
        proptest::sample::select(GIVEN),
        decl(FAMILY),
        decl(EMAIL),
        decl(PHONE),
        proptest::option::of(any::<bool>()),
        decl(LEVEL),
        decl(SALARY),
        decl(NOTES),
        decl(BOOL),
    )
        .prop_map(
            |(given, family, email, phone, active, level, salary, notes, contractor)| Declared {
                given: given.to_string(),
                family,
                email,
                phone,
                active,
                level,
                salary,
                notes,
                contractor,
            },
        )
}

/// Four users, each maybe on the server and maybe declared.
fn scenario() -> impl Strategy<Value = Vec<(Option<OnServer>, Option<Declared>)>> {
    proptest::collection::vec(
        (
            proptest::option::of(on_server()),
            proptest::option::of(declared()),
        ),
        4,
    )
}

fn seed_yaml(users: &[(Option<OnServer>, Option<Declared>)]) -> String {
    let mut out = format!("defaultDomain: acme\n{PROPERTIES}  Notes: string\nseed:\n");
    if users.iter().all(|(server, _)| server.is_none()) {
        out.push_str("  []\n");
    }
    for (i, (server, _)) in users.iter().enumerate() {
        let Some(u) = server else { continue };
        out.push_str(&format!(
            "  - userName: u{i}@acme\n    active: {}\n    name: {{givenName: {}",
            u.active, u.given
        ));
        if let Some(f) = &u.family {
            out.push_str(&format!(", familyName: {f}"));
        }
        out.push_str("}\n");
        if let Some(e) = &u.email {
            out.push_str(&format!(
                "    emails: [{{value: {e}, type: work, primary: true}}]\n"
            ));
        }
        if let Some(p) = &u.phone {
            out.push_str(&format!(
                "    phoneNumbers: [{{value: {p}, type: mobile, primary: true}}]\n"
            ));
        }
        out.push_str(&format!(
            "    {EXT}:\n      enabledForAssignation: {}\n",
            u.assignable
        ));
        for (name, value) in [
            ("Level", &u.level),
            ("Salary", &u.salary),
            ("Notes", &u.notes),
        ] {
            if let Some(v) = value {
                out.push_str(&format!("      {name}: {v}\n"));
            }
        }
    }
    out
}

fn users_yaml(users: &[(Option<OnServer>, Option<Declared>)]) -> String {
    let mut out = "users:\n".to_string();
    if users.iter().all(|(_, declared)| declared.is_none()) {
        out.push_str("  []\n");
    }
    for (i, (_, declared)) in users.iter().enumerate() {
        let Some(d) = declared else { continue };
        out.push_str(&format!(
            "  - userName: u{i}\n    name:\n      givenName: {}\n",
            d.given
        ));
        let line = |indent: &str, key: &str, decl: &Decl| match decl {
            Decl::Absent => String::new(),
            Decl::Null => format!("{indent}{key}: null\n"),
            Decl::Set(v) => format!("{indent}{key}: {v}\n"),
        };
        out.push_str(&line("      ", "familyName", &d.family));
        out.push_str(&line("    ", "email", &d.email));
        out.push_str(&line("    ", "phone", &d.phone));
        if let Some(active) = d.active {
            out.push_str(&format!("    active: {active}\n"));
        }
        let properties = [
            line("      ", "Level", &d.level),
            line("      ", "Salary", &d.salary),
            line("      ", "Notes", &d.notes),
            line("      ", "IsContractor", &d.contractor),
        ]
        .concat();
        if !properties.is_empty() {
            out.push_str("    properties:\n");
            out.push_str(&properties);
        }
    }
    out
}

type Sent = (String, String, Option<Json>);

fn sorted(mut requests: Vec<Sent>) -> Vec<Sent> {
    requests.sort_by_key(|(method, path, body)| {
        (
            path.clone(),
            method.clone(),
            body.as_ref().map(Json::to_string),
        )
    });
    requests
}

proptest! {
    // 32 cases in CI; PROPTEST_CASES=400 for a deeper search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(32),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn apply_converges_and_sends_what_the_plan_announced(users in scenario()) {
        let sandbox = TestSandbox::start(&seed_yaml(&users));
        let repo = Repo::for_sandbox(&sandbox, &users_yaml(&users));

        let run = repo.run(&["plan", "--format", "json"]);
        let plan: Json = serde_json::from_str(&run.stdout).unwrap();
        if !plan["refusals"].as_array().unwrap().is_empty() {
            // Refused by the safety policy (every managed user deactivated): apply
            // refuses too, and writes nothing.
            prop_assert_eq!(run.code, 4, "{:?}", run);
            sandbox.clear();
            let apply = repo.run(&["apply", "--auto-approve"]);
            prop_assert_eq!(apply.code, 4, "{:?}", apply);
            prop_assert_eq!(sandbox.requests().writes(), 0);
            return Ok(());
        }
        prop_assert_eq!(run.code, 0, "{:?}\n{}\n{}", run, seed_yaml(&users), users_yaml(&users));
        let mut announced = Vec::new();
        for user in plan["users"].as_array().unwrap() {
            for r in user["requests"].as_array().unwrap() {
                announced.push((
                    r["method"].as_str().unwrap().to_string(),
                    r["path"].as_str().unwrap().to_string(),
                    r.get("body").cloned(),
                ));
            }
        }
        sandbox.clear();

        let apply = repo.run(&["apply", "--auto-approve"]);
        prop_assert_eq!(apply.code, 0, "{:?}", apply);
        let sent: Vec<Sent> = sandbox
            .requests()
            .requests
            .into_iter()
            .filter(|r| r.method != "GET" && r.path.starts_with("/scim/v2"))
            .map(|r| (r.method, r.path.trim_start_matches("/scim/v2").to_string(), r.body))
            .collect();
        prop_assert_eq!(sorted(sent), sorted(announced));

        let again = repo.run(&["plan", "--detailed-exitcode"]);
        prop_assert_eq!(again.code, 0, "not converged:\n{}\n{}\n{}", again.stdout, seed_yaml(&users), users_yaml(&users));
    }
}
