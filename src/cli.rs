//! The command line. Doc comments here are the `--help` text.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// `0.1.0 (commit 1a2b3c4d5e6f)`: the version, and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SCIMOPS_COMMIT"),
    ")"
);

/// What the man page says of scimops below its name (`--help` stays short).
pub const DESCRIPTION: &str = "Users are declared in YAML files; `plan` reads the server and \
    shows what differs; `apply` sends the smallest set of requests that makes the server \
    match the files.";

/// Keep the users of a SCIM 2.0 service provider (Bizagi first) in Git.
#[derive(Debug, Parser)]
#[command(name = "scimops", version = VERSION, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Run in DIR, the repository (the folder holding scimops.yaml).
    #[arg(short = 'C', value_name = "DIR", global = true, default_value = ".")]
    pub dir: PathBuf,

    /// The target to use, by name (default: the settings' `defaultTarget`).
    #[arg(long, value_name = "NAME", global = true)]
    pub target: Option<String>,

    /// Say more (-v: progress details, -vv: every request).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Say only what matters: the summary lines and errors (not the plan's users, not
    /// progress).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Never colour the output (also: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// The longest one request may take, in seconds.
    #[arg(long, value_name = "SECONDS", global = true, default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// How many times a request is retried after a transient failure (429, 5xx, a
    /// dropped connection), with backoff; 0: never.
    #[arg(long, value_name = "N", global = true, default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: u32,

    /// Allow plain http:// to a host that is not loopback (a warning is printed):
    /// credentials and user data then cross the network unencrypted.
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the repository's files, offline: syntax, types, duplicates, Bizagi's limits.
    Validate(ValidateArgs),
    /// Read the server and show what `apply` would change. Sends only GET requests.
    Plan(PlanArgs),
    /// Make the server match the files: plan, confirm, and send the changes.
    Apply(ApplyArgs),
    /// Show what the server says of itself: capabilities, schemas and their attributes,
    /// and how user files write each one.
    Discover(DiscoverArgs),
    /// Run a local Bizagi-compatible SCIM server, for trying scimops and for tests.
    Sandbox(SandboxArgs),
    /// Write the JSON Schemas of scimops' files (for editors), generated from its types.
    Schema(SchemaArgs),
    /// Show a saved plan (`plan --out FILE`), offline: exactly what `apply FILE` would do.
    Show(ShowArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish) to standard output.
    Completions(CompletionsArgs),
    /// Print scimops' man page (roff) to standard output; `--out DIR` writes a page for
    /// each command too (`scimops-plan.1`...).
    Man(ManArgs),
    /// Write a new repository: settings for a server (or a sandbox to try), a users
    /// folder, and the editor schemas; `--import` then writes the server's users.
    Init(InitArgs),
    /// Write user files for the users of the server that no file declares (to adopt a
    /// live directory): the next plan has nothing to change for them. Sends only GET.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The server's SCIM base URL (Bizagi: `https://<project>.bizagi.com/scim/v2`).
    #[arg(long, value_name = "URL", required_unless_present = "sandbox")]
    pub url: Option<String>,

    /// Instead of a server: an embedded sandbox, with a few users, to try scimops.
    #[arg(long, conflicts_with_all = ["url", "import"])]
    pub sandbox: bool,

    /// How the server behaves.
    #[arg(long, value_enum, default_value_t = InitDialect::Bizagi)]
    pub dialect: InitDialect,

    /// How scimops authenticates. Default: client credentials.
    #[arg(long, value_enum, default_value_t = InitAuth::ClientCredentials)]
    pub auth: InitAuth,

    /// The OAuth application's client id (client credentials).
    #[arg(long, value_name = "ID", default_value = "scimops")]
    pub client_id: String,

    /// The environment variable that holds the secret (the client secret, or the
    /// bearer token). Default: `BIZAGI_CLIENT_SECRET`, `SCIM_CLIENT_SECRET` or
    /// `SCIM_TOKEN`.
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,

    /// The token endpoint (client credentials on RFC servers; Bizagi's is found from
    /// the URL).
    #[arg(long, value_name = "URL")]
    pub token_url: Option<String>,

    /// The domain added to userNames written without one (`jdoe` means `jdoe@DOMAIN`).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// Then import the server's users (needs the secret in the environment).
    #[arg(long)]
    pub import: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitDialect {
    Bizagi,
    Rfc7644,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitAuth {
    ClientCredentials,
    Bearer,
    None,
}

#[derive(Debug, Default, Args)]
pub struct ImportArgs {
    /// The file to write (with --split-by: the folder to write one file per group
    /// into), in the repository, among the files the target reads. Default:
    /// `users/imported.yaml` (with --split-by: `users/imported`).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// One file per group: `domain` (of the userName), or an attribute as user files
    /// name it (`properties.Department`): one file per value.
    #[arg(long, value_name = "GROUP")]
    pub split_by: Option<String>,

    /// Attributes to leave out of the files, as user files name them
    /// (`properties.DelegateEnabled`, `phone`): scimops then leaves them as the server
    /// has them. Repeat the option, or separate names with commas.
    #[arg(long, value_name = "ATTRIBUTE", value_delimiter = ',')]
    pub skip: Vec<String>,

    /// Replace files that exist; the users they declare are imported again, as the
    /// server has them now.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The saved plan.
    #[arg(value_name = "FILE")]
    pub plan: PathBuf,

    #[command(flatten)]
    pub view: ViewArgs,
}

/// How a plan is shown (`plan` and `show`).
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// How to print it: for people, for machines (the saved plan as it is), or as a
    /// pull-request comment.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Show, under each user, the exact requests apply will send.
    #[arg(long)]
    pub show_requests: bool,

    /// With `--format markdown`: the longest output, in characters. GitHub allows
    /// 65,535 in a comment and 1,048,576 in a job summary. Every changed user is named
    /// in the fullest form that fits: their changes, else a table, else their names.
    #[arg(long, value_name = "CHARS", default_value_t = 65_535,
          value_parser = clap::value_parser!(u64).range(4096..=16_777_216))]
    pub markdown_limit: u64,

    /// Mask private values (the settings' `private:`; by default e-mails and phones)
    /// in every view. A masked JSON plan is for reading: apply refuses it.
    #[arg(long)]
    pub mask_pii: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// How to report problems: for people, as GitHub Actions annotations (shown on the
    /// pull request's lines), or as JSON.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
    pub format: ValidateFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Human,
    Github,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit with 0 when there is nothing to change, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// With --detailed-exitcode, exit 2 also when the server has active users that no
    /// file declares and no `protected` pattern matches, even if the plan changes
    /// nothing: for nightly drift checks, where an account made by hand is drift.
    #[arg(long, requires = "detailed_exitcode")]
    pub unmanaged_as_changes: bool,

    /// Save the plan (as JSON) to FILE; `scimops apply FILE` then applies exactly it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub view: ViewArgs,

    #[command(flatten)]
    pub guards: GuardArgs,
}

/// Overrides of the safety policy, for one run.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// Allow exactly N deactivations (and deletions) beyond the policy's budget: the
    /// number the refusal gave, so a different plan is still refused.
    #[arg(long, value_name = "N")]
    pub allow_deactivations: Option<usize>,

    /// Allow DELETE that removes users (policy `unmanaged: delete`, RFC servers).
    #[arg(long)]
    pub allow_delete: bool,
}

impl GuardArgs {
    pub fn overrides(&self) -> crate::policy::Overrides {
        crate::policy::Overrides {
            deactivations: self.allow_deactivations,
            delete: self.allow_delete,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `scimops plan --out FILE`: apply exactly it, without asking,
    /// after checking that neither the files nor the users it touches changed since.
    #[arg(value_name = "FILE")]
    pub plan: Option<PathBuf>,

    /// Apply without asking for confirmation (for CI, after the plan was reviewed).
    #[arg(long)]
    pub auto_approve: bool,

    /// How many users to write at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,

    /// Start no new user once N users failed (the rest are reported as skipped): a
    /// failure that hits everyone is not repeated for every user.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_failures: u32,

    /// How to print the result: `json` prints the plan document with what happened to
    /// each user (`applied`).
    #[arg(long, value_enum, default_value_t = ApplyFormat::Human)]
    pub format: ApplyFormat,

    /// Mask private values (the settings' `private:`; by default e-mails and phones)
    /// in what is printed. What is sent is never masked.
    #[arg(long)]
    pub mask_pii: bool,

    #[command(flatten)]
    pub guards: GuardArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ApplyFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Tables for people, or JSON.
    #[arg(long, value_enum, default_value_t = DiscoverFormat::Table)]
    pub format: DiscoverFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiscoverFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The state file (SQLite), created and seeded when missing.
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,

    /// The sandbox's settings: custom properties, seed users, token lifetime, clients.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// An OAuth2 client id the sandbox accepts (with --client-secret).
    #[arg(long, value_name = "ID", default_value = "scimops")]
    pub client_id: String,

    /// The secret of --client-id.
    #[arg(
        long,
        value_name = "SECRET",
        env = "SCIMOPS_SANDBOX_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,

    /// Override the token lifetime of the settings, in seconds (0: never expires).
    #[arg(long, value_name = "SECONDS")]
    pub token_lifetime: Option<u64>,

    /// Inject faults into this share of requests (0 to 1): errors, 429 with
    /// Retry-After, dropped connections, slow answers, answers lost after the write.
    #[arg(long, value_name = "RATE")]
    pub faults: Option<f64>,

    /// The kinds of fault, comma-separated: 500, 503, 429, reset, slow, lost
    /// (default: all).
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub fault_kinds: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write the pages into this folder: `scimops.1`, and `scimops-COMMAND.1` for each
    /// command (`man -l DIR/scimops-plan.1`), instead of printing scimops' page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The folder to write the schemas into.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
