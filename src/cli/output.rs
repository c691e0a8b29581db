//! How results reach the user: the colour decision and the rendering of diagnostics, human or
//! JSON.

use std::io::{IsTerminal, Write};

use super::args::{Args, Color, Format};
use super::Failure;
use crate::diag::json::Report;
use crate::diag::render::{render, RenderOptions};
use crate::diag::Diagnostic;
use crate::source::SourceMap;

/// The output settings of one run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Output {
    pub format: Format,
    pub render: RenderOptions,
}

impl Output {
    pub(super) fn from_args(args: &Args) -> Output {
        let color =
            args.format == Format::Human && use_color(args.color, std::io::stderr().is_terminal());
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(80);
        Output {
            format: args.format,
            render: RenderOptions {
                color,
                width: Some(width),
            },
        }
    }

    /// Writes the diagnostics of several compilations: human text to stderr, or one JSON report
    /// to `out`.
    pub(super) fn diagnostics(
        &self,
        parts: &[(&[Diagnostic], &SourceMap)],
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        match self.format {
            Format::Human => {
                let mut stderr = std::io::stderr().lock();
                for (diagnostics, sources) in parts {
                    for diagnostic in *diagnostics {
                        writeln!(stderr, "{}", render(diagnostic, sources, self.render))?;
                    }
                }
            }
            Format::Json => {
                let report = Report::new(parts);
                serde_json::to_writer_pretty(&mut *out, &report)?;
                writeln!(out)?;
            }
            Format::Sarif => {
                let log = crate::diag::sarif::log(&Report::new(parts), &book_url());
                serde_json::to_writer_pretty(&mut *out, &log)?;
                writeln!(out)?;
            }
            Format::Github => {
                for d in Report::new(parts).diagnostics {
                    let level = if d.severity == "error" {
                        "error"
                    } else {
                        "warning"
                    };
                    let mut message = d.message;
                    if let Some(help) = d.help {
                        message = format!("{message}\nhelp: {help}");
                    }
                    // GitHub's end column is the last character's; ours is the one after it.
                    let end_column = if d.end.line == d.start.line {
                        d.end.column.saturating_sub(1).max(d.start.column)
                    } else {
                        d.end.column.saturating_sub(1).max(1)
                    };
                    writeln!(
                        out,
                        "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}",
                        github_property(&d.file),
                        d.start.line,
                        d.start.column,
                        d.end.line,
                        end_column,
                        github_property(&d.code),
                        github_data(&message),
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A workflow command's message, escaped as the runner unescapes it.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: the message's escapes, and `:` and `,`.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The colour decision: the flag (or `PCFG_COLOR`) beats the environment; under `auto`,
/// `NO_COLOR` and `TERM=dumb` turn colour off, `FORCE_COLOR` turns it on, and otherwise colour
/// follows whether stderr is a terminal.
fn use_color(flag: Color, stderr_is_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    match flag {
        Color::Always => true,
        Color::Never => false,
        Color::Auto if set("NO_COLOR") => false,
        Color::Auto if std::env::var("TERM").is_ok_and(|t| t == "dumb") => false,
        Color::Auto if set("FORCE_COLOR") => true,
        Color::Auto => stderr_is_terminal,
    }
}

/// Where the book is, for links to the catalogue: `PCFG_BOOK_URL`, else the published book.
pub(super) fn book_url() -> String {
    std::env::var("PCFG_BOOK_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| crate::diag::sarif::BOOK_URL.to_owned())
}

/// `1 file`, `2 files`: a count and its noun (plural with `s`).
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
