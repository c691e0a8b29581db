//! Human rendering of diagnostics through miette's graphical handler.
//!
//! miette labels spans in one source per diagnostic (zkat/miette#193), so labels that fall in
//! another file become `related` diagnostics, one per file, each with its own snippet.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use super::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceMap, Span};

/// Source lines longer than this are not quoted: a snippet of a megabyte-long line helps nobody.
const MAX_QUOTED_LINE: usize = 500;

/// Lines quoted around a diagnostic's labels: more than miette's context (one line), so the
/// excerpt always holds what miette shows.
const EXCERPT_CONTEXT: usize = 3;

/// The lines of a file around a diagnostic's labels, as miette reads them: spans stay offsets
/// in the whole file and lines are the file's, but only these lines are copied (for quoting,
/// with hidden characters made visible), so N diagnostics in a long file cost N excerpts, not N
/// copies of the file.
struct Excerpt {
    name: String,
    text: String,
    /// Where the excerpt starts in the file: a byte offset and a 0-based line.
    offset: usize,
    first_line: usize,
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let local = SourceSpan::new(span.offset().saturating_sub(self.offset).into(), span.len());
        let contents = self
            .text
            .read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            SourceSpan::new(
                (contents.span().offset() + self.offset).into(),
                contents.span().len(),
            ),
            contents.line() + self.first_line,
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// How to draw diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    pub color: bool,
    /// Wrap width; `None` uses the terminal's.
    pub width: Option<usize>,
}

impl RenderOptions {
    /// Fixed width, no colour: what snapshot tests use.
    #[must_use]
    pub fn plain(width: usize) -> Self {
        RenderOptions {
            color: false,
            width: Some(width),
        }
    }
}

impl From<Span> for SourceSpan {
    fn from(span: Span) -> Self {
        SourceSpan::new((span.start as usize).into(), span.len())
    }
}

/// Renders one diagnostic (with its related parts) as text.
#[must_use]
pub fn render(diagnostic: &Diagnostic, sources: &SourceMap, options: RenderOptions) -> String {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut handler = GraphicalReportHandler::new_themed(theme)
        .without_syntax_highlighting()
        .with_links(false);
    if let Some(width) = options.width {
        handler = handler.with_width(width);
    }
    let view = View::new(diagnostic, sources);
    let mut out = String::new();
    if handler.render_report(&mut out, &view).is_err() {
        // Rendering into a String cannot fail on I/O; fall back to the bare message.
        out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
    }
    out
}

/// The part of a diagnostic that lives in one file, as miette sees it.
struct View {
    severity: miette::Severity,
    code: Option<String>,
    message: String,
    help: Option<String>,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    related: Vec<View>,
}

impl View {
    fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> View {
        let file = diagnostic.primary.span.file;
        let mut files: Vec<FileId> = Vec::new();
        for label in &diagnostic.labels {
            if label.span.file != file && !files.contains(&label.span.file) {
                files.push(label.span.file);
            }
        }
        let here = std::iter::once(&diagnostic.primary)
            .chain(diagnostic.labels.iter().filter(|l| l.span.file == file));
        let mut view = View::part(sources, file, here, &shown(&diagnostic.message));
        view.severity = match diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        };
        view.code = Some(diagnostic.code.to_string());
        view.help = diagnostic.help.as_deref().map(shown);
        view.related = files
            .into_iter()
            .map(|other| {
                let labels = diagnostic.labels.iter().filter(|l| l.span.file == other);
                let mut part = View::part(sources, other, labels, "");
                // miette heads a related part with its severity and code: the code says which
                // diagnostic the part belongs to (without one the header would be empty).
                part.code = Some(diagnostic.code.to_string());
                part
            })
            .collect();
        view
    }

    /// The labels of one file. A related part's message names the file's first label.
    fn part<'a>(
        sources: &SourceMap,
        file: FileId,
        labels: impl Iterator<Item = &'a Label>,
        message: &str,
    ) -> View {
        let source_file = sources.get(file);
        let labels: Vec<&Label> = labels.collect();
        let mut message = if message.is_empty() {
            labels
                .first()
                .and_then(|l| l.message.as_deref().map(shown))
                .unwrap_or_else(|| "see also".to_owned())
        } else {
            message.to_owned()
        };
        // A file that changed while pcfg ran has no text to quote nor lines to point at.
        let changed = source_file.changed();
        let quotable = !changed
            && labels.iter().all(|l| {
                let line = source_file.line_col(l.span.start as usize).line;
                source_file.line_text(line).len() <= MAX_QUOTED_LINE
            });
        let (source, spans) = if quotable {
            let spans = labels
                .iter()
                .map(|l| LabeledSpan::new_with_span(l.message.as_deref().map(shown), l.span))
                .collect();
            let lines = labels.iter().flat_map(|l| {
                [
                    source_file.line_col(l.span.start as usize).line,
                    source_file.line_col(l.span.end as usize).line,
                ]
            });
            let (first, last) = lines.fold((usize::MAX, 0), |(lo, hi), line| {
                (lo.min(line), hi.max(line))
            });
            let first = first.min(last).saturating_sub(EXCERPT_CONTEXT).max(1);
            let (start, end) = source_file.lines_bytes(first, last + EXCERPT_CONTEXT);
            let source = Excerpt {
                name: shown(&source_file.name),
                text: visible(source_file.text().get(start..end).unwrap_or("")),
                offset: start,
                first_line: first - 1,
            };
            (Some(source), spans)
        } else if changed {
            message = format!(
                "{message}\n  in {}, which changed while pcfg ran (not quoted)",
                shown(&source_file.name)
            );
            (None, Vec::new())
        } else {
            if let Some(first) = labels.first() {
                let at = source_file.line_col(first.span.start as usize);
                message = format!(
                    "{message}\n  at {}:{at} (line too long to quote)",
                    shown(&source_file.name)
                );
            }
            (None, Vec::new())
        };
        View {
            severity: miette::Severity::Advice,
            code: None,
            message,
            help: None,
            source,
            labels: spans,
            related: Vec::new(),
        }
    }
}

/// The longest word a message shows whole; longer ones (a 100,000-character identifier) are
/// shortened.
const MAX_WORD: usize = 120;

/// Text for the terminal: control and invisible format characters escaped (`\u{1b}`), so input
/// can never drive the terminal, and very long words shortened.
fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (j, word) in line.split(' ').enumerate() {
            if j > 0 {
                out.push(' ');
            }
            out.push_str(&super::excerpt(word, MAX_WORD));
        }
    }
    out
}

/// Source text for quoting: each control or invisible format character (other than the line
/// break and tab) replaced by as many `?` as it has bytes, so every span still falls on the same
/// characters.
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let crlf = c == '\r' && chars.peek() == Some(&'\n');
        let hidden = super::is_hidden(c) && c != '\n' && c != '\t' && !crlf;
        if hidden {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View {}

impl miette::Diagnostic for View {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}
