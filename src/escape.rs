//! Data is data: every string that comes from a file or a server is neutralised where it
//! is printed, for the surface it is printed on. Pull-request authors write the files,
//! a server may be hostile, and CI logs and pull-request comments are public, so a value
//! must not be able to clear a reviewer's screen, forge a plan line, close a Markdown
//! block, inject HTML, notify a team, or issue a GitHub workflow command.
//!
//! - [`term`]: terminals, logs, error messages, tables. Control characters (C0 with
//!   newline and tab, DEL, C1), bidi controls and invisible characters are written as
//!   escapes (`\n`, `\u{1b}`, `\u{202e}`); a value that would begin a line with `::` (a
//!   GitHub workflow command) has its first colon escaped.
//! - [`code`], [`html_code`] and [`text`]: Markdown for GitHub (pull-request comments,
//!   job summaries). A value renders as itself and nothing else: it cannot close a code
//!   span, a `<details>` block, a table cell or a blockquote, cannot add HTML, and
//!   cannot notify anyone (GitHub links no `@mention` or `#123` inside code).
//! - [`annotation_data`] and [`annotation_property`]: GitHub workflow commands.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` must not reach a terminal raw: control characters, bidi controls,
/// invisible formatting characters and line separators.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'                  // soft hyphen
            | '\u{061C}'                // Arabic letter mark
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, joiners, LRM, RLM
            | '\u{2028}'..='\u{202E}'   // line/paragraph separators, bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}'   // bidi isolates
            | '\u{206A}'..='\u{206F}'   // deprecated format characters
            | '\u{FEFF}'                // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotations
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            use fmt::Write as _;
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `text` for a terminal, a log line or a table cell: one line, nothing hidden.
pub fn term(text: &str) -> Cow<'_, str> {
    // GitHub reads a log line that starts with `::` (after spaces) as a command.
    let command = text.len() - text.trim_start_matches(' ').len();
    let workflow_command = text[command..].starts_with("::");
    if !workflow_command && !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        if hidden(c) || (workflow_command && i == command) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`term`], but keeps line breaks: for a whole message whose data parts were
/// escaped already, as the last guard before a terminal.
pub fn lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && hidden(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c != '\n' && hidden(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A value shown in a terminal message: `format!("user {}", Shown(name))`.
#[derive(Clone, Copy)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&term(self.0))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `value` as a Markdown code span, in prose, headings, blockquotes and table cells.
/// Nothing is interpreted inside a code span (no emphasis, no HTML, no link, and GitHub
/// turns no `@mention` or `#123` inside one into a link); its fence is longer than any
/// run of backticks in the value, so the value cannot close it; `|` is escaped, as a
/// table cell needs.
pub fn code(value: &str) -> String {
    let shown = term(value).replace('|', "\\|");
    let longest = shown.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if shown.starts_with('`') || shown.ends_with('`') || shown.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

/// `value` as inline code inside an HTML block (a `<details>` or `<summary>` line),
/// where Markdown is not parsed: a `<code>` element with the value HTML-escaped (GitHub
/// links no mention inside a `<code>` element).
pub fn html_code(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 16);
    out.push_str("<code>");
    for c in term(value).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

/// `value` as Markdown prose that renders as itself: the punctuation that means
/// something mid-line is backslash-escaped (no emphasis, link, image, HTML, entity or
/// table cell can start), and
/// `@` and `#` sit in code spans, so no one is notified and no issue is linked.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 16);
    for c in term(value).chars() {
        match c {
            '@' | '#' => {
                out.push('`');
                out.push(c);
                out.push('`');
            }
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '<' | '>' | '!' | '|'
            | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `value` on a line of a fenced code block (```` ```diff ````): one line, nothing
/// hidden; the fence cannot close, as the value never starts a line.
pub fn fenced(value: &str) -> Cow<'_, str> {
    term(value)
}

/// The message of a GitHub workflow command (`::error ...::MESSAGE`).
pub fn annotation_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if hidden(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// A property of a GitHub workflow command (`file=`, `title=`).
pub fn annotation_property(text: &str) -> String {
    annotation_data(text)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminals_get_escapes_never_controls() {
        assert_eq!(term("jdoe@acme"), "jdoe@acme");
        assert!(matches!(term("jdoe@acme"), Cow::Borrowed(_)));
        assert_eq!(term("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(term("line\nforged"), "line\\nforged");
        assert_eq!(term("a\rb\tc\0d\u{7}"), "a\\rb\\tc\\u{0}d\\u{7}");
        assert_eq!(term("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(term("a\u{2066}b\u{2069}"), "a\\u{2066}b\\u{2069}");
        assert_eq!(
            term("zero\u{200b}width\u{feff}"),
            "zero\\u{200b}width\\u{feff}"
        );
        assert_eq!(term("\u{85}\u{9b}31m"), "\\u{85}\\u{9b}31m", "C1 controls");
        assert_eq!(term("José Pérez 日本"), "José Pérez 日本");
        assert_eq!(
            term("::error::forged"),
            "\\u{3a}:error::forged",
            "no workflow command"
        );
        assert_eq!(term("  ::warning::x"), "  \\u{3a}:warning::x");
        assert_eq!(term("a::b"), "a::b");
        assert_eq!(lines("a\nb\u{1b}c"), "a\nb\\u{1b}c");
    }

    #[test]
    fn markdown_renders_values_as_themselves() {
        let hostile = "`</details></summary>\n\n<h1>Approved by security</h1> @acme/admins";
        assert_eq!(
            code(hostile),
            "`` `</details></summary>\\n\\n<h1>Approved by security</h1> @acme/admins ``"
        );
        assert_eq!(code("a``b"), "```a``b```");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("jdoe@acme"), "`jdoe@acme`");
        assert_eq!(
            html_code(hostile),
            "<code>`&lt;/details&gt;&lt;/summary&gt;\\n\\n&lt;h1&gt;Approved by security&lt;/h1&gt; @acme/admins</code>"
        );
        assert_eq!(text("@everyone #123 a|b"), "`@`everyone `#`123 a\\|b");
        assert_eq!(
            text("**x** [y](z) <b>"),
            "\\*\\*x\\*\\* \\[y\\]\\(z\\) \\<b\\>"
        );
        assert_eq!(text("Pérez"), "Pérez");
    }

    #[test]
    fn workflow_commands_escape_what_github_requires() {
        assert_eq!(annotation_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(
            annotation_property("users/a,b:c.yaml"),
            "users/a%2Cb%3Ac.yaml"
        );
        assert_eq!(annotation_data("a\u{1b}b"), "a\\u{1b}b");
    }
}
