//! The same scenarios against any server: create, update each kind of attribute, clear,
//! deactivate, reactivate, many users; after every apply the next plan is empty, and
//! the requests sent are the minimum. Requests are counted from scimops' own request
//! log (`-vv`), so this works on servers that count nothing.

use std::fmt::Write as _;

use tempfile::TempDir;

use crate::support::Run;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The Bizagi dialect: no core attributes beyond its own, DELETE deactivates.
    Bizagi,
    /// The RFC 7644 dialect: other core attributes and extensions, deactivation by update.
    Rfc,
}

pub struct Target {
    /// The target's YAML in `scimops.yaml` (url, dialect, auth, options), indented by 4.
    pub yaml: String,
    pub env: Vec<(String, String)>,
    pub kind: Kind,
    /// Whether the server stores other core attributes (`displayName`, `title`) and the
    /// enterprise extension.
    pub rich: bool,
    /// Whether the server takes PATCH (else updates are PUT).
    pub patch: bool,
    /// GET requests of a plan over a handful of users (discovery and one page).
    pub reads: usize,
    /// Whether the server answers an update with the user (else apply reads the user
    /// again, one GET, to check what it kept).
    pub updates_answered: bool,
}

/// Requests sent to `/Users`, by method, from a `-vv` run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub get: usize,
    pub post: usize,
    pub patch: usize,
    pub put: usize,
    pub delete: usize,
}

impl Counts {
    pub fn writes(&self) -> usize {
        self.post + self.patch + self.put + self.delete
    }
}

/// Counts scimops' own log lines: `DEBUG <METHOD> <path> -> <status>`.
pub fn counts(stderr: &str) -> Counts {
    let mut c = Counts::default();
    for line in stderr.lines() {
        let Some(rest) = line.split(" DEBUG ").nth(1) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(method), Some(path)) = (words.next(), words.next()) else {
            continue;
        };
        if !rest.contains(" -> ") {
            continue;
        }
        let n = match method {
            "GET" => &mut c.get,
            "POST" if path.starts_with("/Users") => &mut c.post,
            "PATCH" => &mut c.patch,
            "PUT" => &mut c.put,
            "DELETE" => &mut c.delete,
            _ => continue,
        };
        *n += 1;
    }
    c
}

pub struct Scenario {
    dir: TempDir,
    target: Target,
}

impl Scenario {
    pub fn new(target: Target) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("scimops.yaml"),
            format!(
                "targets:\n  it:\n{}\ndefaults:\n  domain: acme\n  properties:\n    enabledForAssignation: true\n",
                target.yaml
            ),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("users")).unwrap();
        Self { dir, target }
    }

    /// The repository's folder.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn users(&self, yaml: &str) {
        std::fs::write(self.dir.path().join("users/users.yaml"), yaml).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = crate::support::command(self.dir.path(), args, &[]);
        command.envs(self.target.env.iter().map(|(k, v)| (k, v)));
        let output = command.output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Applies, checks it succeeded, and returns the requests it sent.
    pub fn apply(&self, step: &str) -> Counts {
        let run = self.run(&["-vv", "apply", "--auto-approve"]);
        assert_eq!(
            run.code, 0,
            "{step}: apply failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        counts(&run.stderr)
    }

    /// The next plan is empty.
    pub fn converged(&self, step: &str) -> Run {
        let plan = self.run(&["-vv", "plan", "--detailed-exitcode"]);
        assert_eq!(
            plan.code, 0,
            "{step}: not converged:\n{}\n{}",
            plan.stdout, plan.stderr
        );
        assert!(
            plan.stdout.starts_with("No changes."),
            "{step}: {}",
            plan.stdout
        );
        plan
    }

    /// One update: a PATCH (or a PUT), and a GET to check what the server kept where
    /// its answer does not say.
    fn update(&self) -> Counts {
        let get = usize::from(!self.target.updates_answered);
        if self.target.patch {
            Counts {
                patch: 1,
                get,
                ..Counts::default()
            }
        } else {
            Counts {
                put: 1,
                get,
                ..Counts::default()
            }
        }
    }

    fn expect(&self, step: &str, sent: Counts, writes: Counts) {
        let reads = self.target.reads;
        assert_eq!(
            sent,
            Counts {
                get: reads + writes.get,
                ..writes
            },
            "{step}: requests"
        );
    }

    /// Create, update every kind of attribute, clear, deactivate, reactivate, idle.
    pub fn lifecycle(&self) {
        let rfc = self.target.rich;
        let user = |given: &str,
                    middle: Option<&str>,
                    family: &str,
                    email: Option<&str>,
                    phone: Option<&str>,
                    props: &str,
                    rfc_extra: &str| {
            let mut y = format!("  - userName: ada\n    name:\n      givenName: {given}\n");
            match middle {
                Some(m) => writeln!(y, "      middleName: {m}").unwrap(),
                None => writeln!(y, "      middleName: null").unwrap(),
            }
            writeln!(y, "      familyName: {family}").unwrap();
            writeln!(y, "    email: {}", email.unwrap_or("null")).unwrap();
            writeln!(
                y,
                "    phone: {}",
                phone.map_or("null".to_string(), |p| format!("'{p}'"))
            )
            .unwrap();
            writeln!(y, "    properties: {{{props}}}").unwrap();
            if rfc {
                y.push_str(rfc_extra);
            }
            y
        };
        let others = |bob_active: &str| {
            format!(
                "  - userName: bob\n    name: {{givenName: Bob}}\n{bob_active}  - userName: cy\n    name: {{givenName: Cy}}\n"
            )
        };

        // Create: one POST per user.
        self.users(&format!(
            "users:\n{}{}",
            user(
                "Ada",
                Some("B"),
                "Lovelace",
                Some("ada@acme.example"),
                Some("+44 2071234567"),
                "IdentificationNumber: ID-1, IsContractor: false, Salary: 1000.5, Level: 3, HireDate: '2026-11-16T09:00:00Z'",
                "    attributes: {displayName: Ada Lovelace, title: Engineer}\n    extensions:\n      urn:ietf:params:scim:schemas:extension:enterprise:2.0:User: {department: R&D, employeeNumber: '42'}\n",
            ),
            others("")
        ));
        let sent = self.apply("create");
        self.expect(
            "create",
            sent,
            Counts {
                post: 3,
                ..Counts::default()
            },
        );
        self.converged("create");

        // Update every kind: name parts, e-mail, phone, a property of each type, and
        // (RFC) core attributes and an extension: one request.
        self.users(&format!(
            "users:\n{}{}",
            user(
                "Augusta",
                Some("Ada"),
                "King",
                Some("augusta@acme.example"),
                Some("+44 2079999999"),
                "IdentificationNumber: ID-2, IsContractor: true, Salary: 2000.25, Level: 4, HireDate: '2026-12-01T08:30:00Z'",
                "    attributes: {displayName: Augusta King, title: Countess}\n    extensions:\n      urn:ietf:params:scim:schemas:extension:enterprise:2.0:User: {department: Maths, employeeNumber: '43'}\n",
            ),
            others("")
        ));
        let sent = self.apply("update");
        self.expect("update", sent, self.update());
        self.converged("update");

        // Clear: `null` removes values.
        self.users(&format!(
            "users:\n{}{}",
            user(
                "Augusta",
                None,
                "King",
                None,
                None,
                "IdentificationNumber: null, IsContractor: true, Salary: 2000.25, Level: 4, HireDate: null",
                "    attributes: {displayName: Augusta King, title: null}\n    extensions:\n      urn:ietf:params:scim:schemas:extension:enterprise:2.0:User: {department: null, employeeNumber: '43'}\n",
            ),
            others("")
        ));
        let sent = self.apply("clear");
        self.expect("clear", sent, self.update());
        self.converged("clear");
        let unchanged = user(
            "Augusta",
            None,
            "King",
            None,
            None,
            "IsContractor: true, Salary: 2000.25, Level: 4",
            "    attributes: {displayName: Augusta King}\n",
        );

        // Deactivate: Bizagi's DELETE; elsewhere an update (DELETE would remove the user).
        self.users(&format!(
            "users:\n{unchanged}{}",
            others("    active: false\n")
        ));
        let sent = self.apply("deactivate");
        let deactivation = match self.target.kind {
            Kind::Bizagi => Counts {
                delete: 1,
                ..Counts::default()
            },
            Kind::Rfc => self.update(),
        };
        self.expect("deactivate", sent, deactivation);
        self.converged("deactivate");

        // Reactivate.
        self.users(&format!("users:\n{unchanged}{}", others("")));
        let sent = self.apply("reactivate");
        self.expect("reactivate", sent, self.update());
        self.converged("reactivate");

        // Nothing to do: nothing written.
        let sent = self.apply("idle");
        self.expect("idle", sent, Counts::default());
    }

    /// `n` users, read back in pages of `page_size`: one POST each, then a plan that
    /// lists every page once.
    pub fn many(&self, n: usize, page_size: usize) {
        let users: String = (0..n)
            .map(|i| format!("  - userName: u{i:03}\n    name: {{givenName: U{i}}}\n"))
            .collect();
        self.users(&format!("users:\n{users}"));
        let sent = self.apply("many");
        assert_eq!(sent.post, n, "one POST per user");
        assert_eq!(sent.writes(), n);
        let plan = self.converged("many");
        let listed = counts(&plan.stderr).get - (self.target.reads - 1);
        assert_eq!(
            listed,
            n.div_ceil(page_size),
            "one listing call per page:\n{}",
            plan.stderr
        );
        assert_eq!(self.apply("many again").writes(), 0);
    }
}

impl Scenario {
    /// `n` users on the server, then 12 changes (4 renamed, 4 new, 4 deactivated) read
    /// in pages of `page_size`: the plan lists every page once, the apply writes 12
    /// times, and the next plan is empty. Returns what the plan and the apply sent.
    pub fn twelve_changes_among(&self, n: usize, page_size: usize) -> (Counts, Counts) {
        let declare = |i: usize| {
            let (given, active) = match i {
                _ if i < 4 => ("Renamed", ""),
                _ if i < 8 => ("U", "    active: false\n"),
                _ => ("U", ""),
            };
            format!("  - userName: u{i:04}\n    name: {{givenName: {given}{i}}}\n{active}")
        };
        let first: String = (0..n)
            .map(|i| format!("  - userName: u{i:04}\n    name: {{givenName: U{i}}}\n"))
            .collect();
        self.users(&format!("users:\n{first}"));
        assert_eq!(self.apply("first").post, n, "one POST per user");
        let changed: String = (0..n + 4).map(declare).collect();
        self.users(&format!("users:\n{changed}"));

        let plan = self.run(&["-vv", "plan", "--detailed-exitcode"]);
        assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
        assert!(
            plan.stdout
                .contains("Plan: 4 to create, 4 to update, 4 to deactivate."),
            "{}",
            plan.stdout
        );
        let planned = counts(&plan.stderr);
        let sent = self.apply("twelve changes");
        let expected = Counts {
            get: self.target.reads - 1 + n.div_ceil(page_size),
            ..Counts::default()
        };
        assert_eq!(planned, expected, "one listing call per page of the plan");
        let deactivations = match self.target.kind {
            Kind::Bizagi => Counts {
                delete: 4,
                ..Counts::default()
            },
            Kind::Rfc => self.update().times(4),
        };
        let updates = self.update().times(4);
        assert_eq!(
            sent,
            Counts {
                get: expected.get + updates.get + deactivations.get,
                post: 4,
                ..updates.plus(deactivations)
            },
            "the apply writes once per change"
        );
        let after = self.converged("twelve changes");
        assert_eq!(
            counts(&after.stderr).get,
            self.target.reads - 1 + (n + 4).div_ceil(page_size),
            "the next plan lists once"
        );
        (planned, sent)
    }
}

impl Counts {
    fn times(self, k: usize) -> Self {
        Self {
            get: self.get * k,
            post: self.post * k,
            patch: self.patch * k,
            put: self.put * k,
            delete: self.delete * k,
        }
    }

    fn plus(self, other: Self) -> Self {
        Self {
            get: self.get + other.get,
            post: self.post + other.post,
            patch: self.patch + other.patch,
            put: self.put + other.put,
            delete: self.delete + other.delete,
        }
    }
}
