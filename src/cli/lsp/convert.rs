//! Between pcfg's byte offsets and spans and the protocol's positions (lines and UTF-16 code
//! units, both from zero), and from pcfg's diagnostics to the protocol's.

use std::path::{Path, PathBuf};

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, Url,
};

use crate::diag::{self, Severity};
use crate::source::{Origin, SourceFile, SourceMap, Span};

/// The position of byte `offset` of `file` (by its line index: no scan of the text).
pub(super) fn position(file: &SourceFile, offset: usize) -> Position {
    let (line, character) = file.utf16_position(offset);
    Position::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(character).unwrap_or(u32::MAX),
    )
}

/// An open document's text with its line index, for the positions of many offsets.
pub(super) fn indexed(text: &str) -> SourceFile {
    SourceFile::new(String::new(), Origin::Disk, text.to_owned())
}

/// The byte offset of `position` in `text`, clamped to its line and to the text.
pub(super) fn offset(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0u32;
    for (i, c) in text[line_start..line_end].char_indices() {
        if units >= position.character {
            return line_start + i;
        }
        units += u32::try_from(c.len_utf16()).unwrap_or(2);
    }
    line_end
}

pub(super) fn range(file: &SourceFile, span: Span) -> Range {
    Range::new(
        position(file, span.start as usize),
        position(file, span.end as usize),
    )
}

/// The file of a source on disk; `None` for the standard library, which has no file to open.
pub(super) fn disk_path(file: &SourceFile) -> Option<PathBuf> {
    (file.origin == Origin::Disk).then(|| PathBuf::from(&file.name))
}

pub(super) fn url(path: &Path) -> Option<Url> {
    Url::from_file_path(path).ok()
}

/// A pcfg diagnostic as the protocol carries it, with the file it belongs to: its primary
/// label's. Other labels become related information (in any file on disk); the help line ends
/// the message. `None` when the primary label is in the standard library.
/// The code links to its catalogue page in the book at `book` (as SARIF's `helpUri`).
pub(super) fn diagnostic(
    d: &diag::Diagnostic,
    sources: &SourceMap,
    book: &str,
) -> Option<(PathBuf, Diagnostic)> {
    let file = sources.get(d.primary.span.file);
    let path = disk_path(file)?;
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|label| {
            let file = sources.get(label.span.file);
            Some(DiagnosticRelatedInformation {
                location: Location::new(url(&disk_path(file)?)?, range(file, label.span)),
                message: label.message.clone().unwrap_or_default(),
            })
        })
        .collect();
    // The range shows where; the primary label's words would repeat the message.
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message = format!("{message}\nhelp: {help}");
    }
    let name = d.code.to_string();
    Some((
        path,
        Diagnostic {
            range: range(file, d.primary.span),
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(name)),
            code_description: Url::parse(&diag::sarif::help_uri(book, d.code))
                .ok()
                .map(|href| CodeDescription { href }),
            source: Some("pcfg".to_owned()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            tags: None,
            data: None,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let text = "a = \"é😀\"\nb = 1\n";
        let file = indexed(text);
        let after_emoji = text
            .find('"')
            .map(|i| i + 1 + 'é'.len_utf8() + '😀'.len_utf8());
        let after_emoji = after_emoji.unwrap_or(0);
        assert_eq!(position(&file, after_emoji), Position::new(0, 8));
        assert_eq!(offset(text, Position::new(0, 8)), after_emoji);
        assert_eq!(
            offset(text, Position::new(1, 4)),
            text.find('1').unwrap_or(0)
        );
        assert_eq!(position(&file, text.len()), Position::new(2, 0));
        // Past the end of a line or of the text: clamped.
        assert_eq!(offset(text, Position::new(1, 99)), text.len() - 1);
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
    }
}
