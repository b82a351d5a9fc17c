//! What the documentation tells people to run must run: every workflow of
//! `examples/github` is valid YAML, and every scimops command in it and in the README
//! parses with the real command line.

use clap::Parser;
use scimops::cli::Cli;

use crate::support::repo_root;

/// The scimops command lines in `text`: each from `scimops` (or `cargo run [-q] --`) to
/// the end of the shell command.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        for part in line.split("&&").flat_map(|p| p.split("||")) {
            // `cargo run -q -- ARGS`, `cargo run -- ARGS`, or `scimops ARGS`, anywhere
            // in the command (after `- run:`, or environment variables).
            let rest = ["cargo run -q -- ", "cargo run -- ", "scimops "]
                .iter()
                .find_map(|prefix| {
                    let at = part.find(prefix)?;
                    let before = &part[..at];
                    let starts_a_command = before.trim().is_empty()
                        || before.trim_end().ends_with("run:")
                        || before.trim_end().ends_with('=')
                        || before
                            .split_whitespace()
                            .last()
                            .is_some_and(|w| w.contains('='));
                    starts_a_command.then(|| &part[at + prefix.len()..])
                });
            let Some(rest) = rest else { continue };
            let rest = rest.split(['>', '|', ';', '#']).next().unwrap_or_default();
            out.push(format!("scimops {}", rest.trim()));
        }
    }
    out
}

fn parses(command: &str) -> Result<(), String> {
    let args: Vec<String> = command
        .split_whitespace()
        .map(|a| a.trim_matches('"').to_string())
        .collect();
    Cli::try_parse_from(&args)
        .map(|_| ())
        .map_err(|e| format!("`{command}`: {e}"))
}

#[test]
fn the_workflows_are_valid_and_run_real_commands() {
    let dir = repo_root().join("examples/github");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let workflow: serde_json::Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(workflow.get("on").is_some(), "{}: no `on`", path.display());
        assert!(workflow["jobs"].as_object().is_some_and(|j| !j.is_empty()));
        let commands = commands(&text);
        assert!(
            !commands.is_empty(),
            "{} runs no scimops command",
            path.display()
        );
        for command in commands {
            parses(&command).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 4, "{seen}");
}

/// The contents of the fenced blocks of these languages.
fn code_blocks(markdown: &str, languages: &[&str]) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in markdown.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            inside = !inside && languages.contains(&lang.trim());
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_readmes_commands_parse() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let commands = commands(&code_blocks(&readme, &["console", "sh", "yaml"]));
    assert!(commands.len() >= 5, "{commands:?}");
    for command in commands {
        parses(&command).unwrap();
    }
}

#[test]
fn the_readmes_yaml_blocks_are_yaml() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let mut blocks = 0;
    let mut block = String::new();
    let mut inside = false;
    for line in readme.lines() {
        match (inside, line.trim_start()) {
            (false, "```yaml") => inside = true,
            (true, "```") => {
                serde_saphyr::from_str::<serde_json::Value>(&block).unwrap_or_else(|e| {
                    panic!("a yaml block of the README does not parse: {e}\n{block}")
                });
                blocks += 1;
                block.clear();
                inside = false;
            }
            (true, _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    assert!(blocks >= 4, "{blocks}");
}
