//! The terminal: the one place that decides colour and writes to stdout and stderr.
//! Data (plans, results) goes to stdout; progress, warnings and errors to stderr.

// The one printer (clippy.toml sends every other module here).
#![allow(clippy::disallowed_methods)]

use std::io::{self, IsTerminal, Write};

use crate::diag::{Diagnostic, Severity};
use crate::escape;
use crate::render::Styles;

#[derive(Clone, Debug)]
pub struct Term {
    pub out_styles: Styles,
    pub err_styles: Styles,
    pub quiet: bool,
    /// The repository when it is not the current folder (`-C DIR`): the files that
    /// diagnostics name are shown from where the user stands.
    pub base: Option<std::path::PathBuf>,
}

fn wants_color(no_color: bool, stream: &impl anstream::stream::RawStream) -> Styles {
    let choice = anstream::AutoStream::choice(stream);
    if no_color || choice == anstream::ColorChoice::Never {
        Styles::plain()
    } else {
        Styles::colored()
    }
}

impl Term {
    pub fn new(no_color: bool, quiet: bool) -> Self {
        Self {
            out_styles: wants_color(no_color, &io::stdout()),
            err_styles: wants_color(no_color, &io::stderr()),
            quiet,
            base: None,
        }
    }

    pub fn out(&self) -> io::StdoutLock<'static> {
        io::stdout().lock()
    }

    pub fn err(&self) -> io::StderrLock<'static> {
        io::stderr().lock()
    }

    pub fn stdin_is_terminal(&self) -> bool {
        io::stdin().is_terminal()
    }

    /// Whether stderr is a terminal (where a progress bar may be drawn).
    pub fn stderr_is_terminal(&self) -> bool {
        io::stderr().is_terminal()
    }

    /// A progress line on stderr, unless `--quiet`.
    pub fn progress(&self, message: &str) {
        if !self.quiet {
            let s = self.err_styles.dim;
            let message = escape::lines(message);
            let _ = writeln!(self.err(), "{}{message}{}", s.render(), s.render_reset());
        }
    }

    pub fn diagnostic(&self, d: &Diagnostic) {
        let s = &self.err_styles;
        let style = match d.severity {
            Severity::Error => s.error,
            Severity::Warning => s.warning,
        };
        let text = match (&self.base, &d.origin) {
            (Some(base), Some(origin)) if origin.file.is_relative() => {
                let mut d = d.clone();
                if let Some(o) = d.origin.as_mut() {
                    o.file = base.join(&o.file).into();
                }
                d.to_string()
            }
            _ => d.to_string(),
        };
        // Colour the `error:`/`warning:` label only; the text stays as it is.
        let label = match d.severity {
            Severity::Error => "error:",
            Severity::Warning => "warning:",
        };
        let colored = text.replacen(
            label,
            &format!("{}{label}{}", style.render(), style.render_reset()),
            1,
        );
        let _ = writeln!(self.err(), "{colored}");
    }

    pub fn diagnostics(&self, list: &[Diagnostic]) {
        for d in list {
            self.diagnostic(d);
        }
    }

    /// An error on stderr, on one line: it may quote the files or a server, so a line
    /// break or a control character in it is shown escaped.
    pub fn error(&self, message: &str) {
        let s = self.err_styles.error;
        let message = escape::term(message);
        let _ = writeln!(
            self.err(),
            "{}error:{} {message}",
            s.render(),
            s.render_reset()
        );
    }
}
