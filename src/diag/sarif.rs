//! `--format sarif`: diagnostics as a SARIF 2.1.0 log, for code-scanning services (GitHub's
//! `upload-sarif`, GitLab, Azure DevOps).
//!
//! One run of the tool `pcfg`; every diagnostic code is a rule (its catalogue page as help, and
//! a link to the page in the book); every diagnostic a result with its region, its labels as
//! related locations. Columns count Unicode code points (`columnKind`), lines and columns are
//! 1-based and the end column is the one after the region, as pcfg counts them everywhere.
//! `tests/sarif.rs` validates the output against the SARIF 2.1.0 schema.

use std::fmt::Write as _;

use serde_json::{json, Value as Json};

use super::json::{JsonDiagnostic, Position, Report};
use super::{Code, Severity};

/// Where the book is published; the catalogue is its `diagnostics.html`.
/// `PCFG_BOOK_URL` overrides it (for a mirror, or a book built with the configuration's docs).
pub const BOOK_URL: &str = "https://pcfg.dev/book/";

/// The catalogue page of a code in the book: `diagnostics.html#pcfgNAME`, as mdBook names it.
#[must_use]
pub fn help_uri(book: &str, code: Code) -> String {
    let base = if book.ends_with('/') {
        book.to_owned()
    } else {
        format!("{book}/")
    };
    format!("{base}diagnostics.html#pcfg{}", code.name())
}

/// The SARIF log of a report. `book` is the base URL of the book (see [`BOOK_URL`]).
#[must_use]
pub fn log(report: &Report, book: &str) -> Json {
    let rules: Vec<Json> = Code::ALL.iter().map(|&code| rule(code, book)).collect();
    let results: Vec<Json> = report.diagnostics.iter().map(result).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "pcfg",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": book,
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn rule(code: Code, book: &str) -> Json {
    let page = code.doc();
    let summary = page
        .lines()
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or(code.name());
    let name: String = code
        .name()
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    json!({
        "id": code.to_string(),
        "name": name,
        "shortDescription": { "text": summary },
        "fullDescription": { "text": section(page, "What it checks").unwrap_or(summary) },
        "help": { "text": page, "markdown": page },
        "helpUri": help_uri(book, code),
        "defaultConfiguration": { "level": level(code.severity()) },
    })
}

/// The text of a `## TITLE` section of a catalogue page.
fn section<'p>(page: &'p str, title: &str) -> Option<&'p str> {
    let start = page.find(&format!("## {title}\n"))? + title.len() + 4;
    let rest = &page[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

fn region(start: &Position, end: &Position) -> Json {
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        // An empty span is an insertion point: end column = start column.
        "endColumn": if end.line == start.line { end.column.max(start.column) } else { end.column },
    })
}

/// A file name as a relative URI reference: `/` separators, everything outside the unreserved
/// characters percent-encoded.
fn uri(file: &str) -> String {
    let mut out = String::new();
    for byte in file.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn location(file: &str, start: &Position, end: &Position) -> Json {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(file) },
            "region": region(start, end),
        }
    })
}

fn result(d: &JsonDiagnostic) -> Json {
    let rule_index = Code::ALL.iter().position(|c| c.to_string() == d.code);
    let text = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    let related: Vec<Json> = d
        .labels
        .iter()
        .enumerate()
        .map(|(n, label)| {
            let mut related = location(&label.file, &label.start, &label.end);
            related["id"] = json!(n);
            if let Some(message) = &label.message {
                related["message"] = json!({ "text": message });
            }
            related
        })
        .collect();
    let mut result = json!({
        "ruleId": d.code,
        "level": d.severity,
        "message": { "text": text },
        "locations": [location(&d.file, &d.start, &d.end)],
    });
    if let Some(index) = rule_index {
        result["ruleIndex"] = json!(index);
    }
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}
