//! `manifest.json`: every emitted file with its size, its SHA-256 and the declarations it came
//! from (version 1; keys sorted, files sorted by path).

use serde::Serialize;

use super::{File, Source};
use crate::source::SourceMap;

pub(crate) const PATH: &str = "manifest.json";

#[derive(Serialize)]
struct Manifest<'a> {
    files: Vec<Entry<'a>>,
    /// The SHA-256 of the lock file the build used, or `null`.
    lock: Option<&'a str>,
    source: &'a str,
    version: u32,
}

#[derive(Serialize)]
struct Entry<'a> {
    bytes: usize,
    from: Vec<Location>,
    path: &'a str,
    sha256: String,
}

#[derive(Serialize)]
struct Location {
    column: usize,
    file: String,
    line: usize,
}

pub(crate) fn emit(files: &[File], sources: &SourceMap, source: &Source<'_>) -> File {
    let manifest = Manifest {
        files: files
            .iter()
            .map(|f| Entry {
                bytes: f.contents.len(),
                from: f
                    .origins
                    .iter()
                    .map(|&span| {
                        let at = sources.line_col(span);
                        Location {
                            column: at.column,
                            file: source.name_of(sources.get(span.file)),
                            line: at.line,
                        }
                    })
                    .collect(),
                path: &f.path,
                sha256: crate::digest::sha256_hex(f.contents.as_bytes()),
            })
            .collect(),
        lock: source.lock,
        source: source.entry_name,
        version: 1,
    };
    let mut contents = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    contents.push('\n');
    File {
        path: PATH.to_owned(),
        contents,
        origins: Vec::new(),
    }
}
