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
    /// Products built together: each product's entry file and lock.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    products: Vec<ProductEntry<'a>>,
    source: &'a str,
    version: u32,
}

#[derive(Serialize)]
struct ProductEntry<'a> {
    lock: Option<&'a str>,
    source: &'a str,
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
        files: files.iter().map(|f| entry(f, sources, source)).collect(),
        lock: source.lock,
        products: Vec::new(),
        source: source.entry_name,
        version: 1,
    };
    write(&manifest)
}

/// The manifest of products built together: each file's origins in the sources of the product
/// it is listed with; `source` names the entry files, separated by spaces.
pub(crate) fn emit_set(files: &[(usize, File)], products: &[(&SourceMap, &Source<'_>)]) -> File {
    let names: Vec<&str> = products.iter().map(|(_, s)| s.entry_name).collect();
    let source = names.join(" ");
    let manifest = Manifest {
        files: files
            .iter()
            .filter_map(|(i, f)| {
                let (sources, source) = products.get(*i)?;
                Some(entry(f, sources, source))
            })
            .collect(),
        lock: None,
        products: products
            .iter()
            .map(|(_, s)| ProductEntry {
                lock: s.lock,
                source: s.entry_name,
            })
            .collect(),
        source: &source,
        version: 1,
    };
    write(&manifest)
}

fn entry<'f>(f: &'f File, sources: &SourceMap, source: &Source<'_>) -> Entry<'f> {
    Entry {
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
    }
}

fn write(manifest: &Manifest<'_>) -> File {
    let mut contents = serde_json::to_string_pretty(manifest).unwrap_or_default();
    contents.push('\n');
    File {
        path: PATH.to_owned(),
        contents,
        origins: Vec::new(),
    }
}
