//! `pcfg extensions FILE`: the analysis of the extension source trees — the problems found, and
//! the files that a shared extension would hold once, with what that saves.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::args::{BaseManifestArgs, ExtensionsArgs, Format};
use super::eval::resolved_or_report;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::analysis::Report;
use crate::compile;
use crate::syntax::ast::format_size;
use crate::vfs::RealFs;

/// The JSON report, version 1: the findings (every diagnostic, in the form of `pcfg check
/// --format json`, with the counts) and what a shared extension would hold.
#[derive(Serialize)]
struct ReportJson<'a> {
    bytes_saved: u64,
    diagnostics: Vec<crate::diag::json::JsonDiagnostic>,
    errors: usize,
    extensions: Vec<ExtensionJson<'a>>,
    missing: &'a [String],
    /// Every path of each grouped finding (a diagnostic names the first few).
    overlaps: Vec<OverlapJson<'a>>,
    shared: Vec<SharedJson<'a>>,
    suggestions: Vec<SuggestionJson>,
    version: u32,
    warnings: usize,
}

#[derive(Serialize)]
struct SuggestionJson {
    extensions: Vec<String>,
    files: usize,
    libraries: usize,
    name: String,
    required: bool,
    saving: u64,
}

#[derive(Serialize)]
struct OverlapJson<'a> {
    code: String,
    extensions: &'a [String],
    paths: &'a [String],
}

#[derive(Serialize)]
struct ExtensionJson<'a> {
    files: usize,
    name: &'a str,
}

#[derive(Serialize)]
struct SharedJson<'a> {
    files: Vec<FileJson<'a>>,
    saving: u64,
    sha256: Option<&'a str>,
    size: u64,
}

#[derive(Serialize)]
struct FileJson<'a> {
    extension: &'a str,
    path: &'a str,
}

pub(super) fn run(
    args: &ExtensionsArgs,
    output: &Output,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let mut compilation = {
        let bar = super::progress::Bar::new(output);
        // `--base` is named from the working directory.
        let base = args
            .base
            .as_ref()
            .map(|b| std::env::current_dir().map_or_else(|_| b.clone(), |cwd| cwd.join(b)));
        compile::check_against(&RealFs, &args.file, &bar, base.as_deref())?
    };
    if output.format == Format::Json {
        // The JSON report names each shared file's content by its SHA-256.
        if let (Some(report), Some(model)) = (&mut compilation.extensions, &compilation.model) {
            let entry_dir = args.file.parent().unwrap_or(std::path::Path::new(""));
            report.fill_digests(model, &RealFs, entry_dir);
        }
    }
    let Some(report) = &compilation.extensions else {
        // The configuration itself has errors: report them.
        resolved_or_report(&compilation, output, out)?;
        return Ok(EXIT_INPUT);
    };
    // Problems in the trees go to stderr (human), to annotations (github), or into the JSON
    // report; the report itself is printed either way.
    if output.format != Format::Json {
        output.diagnostics(
            &[(compilation.diagnostics.as_slice(), &compilation.sources)],
            out,
        )?;
    }
    if output.format == Format::Json {
        let findings = crate::diag::json::Report::new(&[(
            compilation.diagnostics.as_slice(),
            &compilation.sources,
        )]);
        serde_json::to_writer_pretty(&mut *out, &to_json(report, findings))?;
        writeln!(out)?;
    } else {
        out.write_all(human(report).as_bytes())?;
    }
    Ok(if compilation.has_errors() {
        EXIT_INPUT
    } else {
        EXIT_OK
    })
}

fn to_json(report: &Report, findings: crate::diag::json::Report) -> ReportJson<'_> {
    ReportJson {
        bytes_saved: report.bytes_saved(),
        diagnostics: findings.diagnostics,
        errors: findings.errors,
        warnings: findings.warnings,
        extensions: report
            .files
            .iter()
            .map(|(name, files)| ExtensionJson {
                files: *files,
                name,
            })
            .collect(),
        missing: &report.missing,
        overlaps: report
            .overlaps
            .iter()
            .map(|o| OverlapJson {
                code: o.code.to_string(),
                extensions: &o.extensions,
                paths: &o.paths,
            })
            .collect(),
        shared: report
            .shared
            .iter()
            .map(|g| SharedJson {
                files: g
                    .files
                    .iter()
                    .map(|(extension, path)| FileJson { extension, path })
                    .collect(),
                saving: g.saving(),
                sha256: g.sha256.as_deref(),
                size: g.size,
            })
            .collect(),
        suggestions: report
            .suggestions()
            .into_iter()
            .map(|s| SuggestionJson {
                extensions: s.extensions,
                files: s.files,
                libraries: s.libraries,
                name: s.name,
                required: s.required,
                saving: s.saving,
            })
            .collect(),
        version: 1,
    }
}

/// `2M`, or `54 bytes` when no binary unit divides the count.
fn bytes(n: u64) -> String {
    let size = format_size(n);
    if size.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{size} bytes")
    } else {
        size
    }
}

/// The groups of identical files shown in full for each set of extensions.
const GROUPS_SHOWN: usize = 3;
/// The copies of one file listed in full.
const FILES_SHOWN: usize = 10;

fn human(report: &Report) -> String {
    let mut text = String::new();
    for (name, files) in &report.files {
        let _ = writeln!(
            text,
            "{name}: {files} {}",
            if *files == 1 { "file" } else { "files" }
        );
    }
    for name in &report.missing {
        let _ = writeln!(text, "{name}: source tree not found (not analysed)");
    }
    if report.shared.is_empty() {
        text.push_str("\nno file is shared between extensions\n");
        return text;
    }
    let _ = writeln!(
        text,
        "\nshared files (a shared extension would save {}):",
        bytes(report.bytes_saved())
    );
    // The largest few groups of each set of extensions in full, then a count per set: the
    // output grows with the sets (the decisions), not with the files.
    let mut per_set: indexmap::IndexMap<Vec<&str>, (usize, usize, u64)> = indexmap::IndexMap::new();
    for group in &report.shared {
        let extensions: std::collections::BTreeSet<&str> =
            group.files.iter().map(|(e, _)| e.as_str()).collect();
        let set: Vec<&str> = extensions.into_iter().collect();
        let (shown, hidden, saving) = per_set.entry(set.clone()).or_default();
        if *shown == GROUPS_SHOWN {
            *hidden += 1;
            *saving += group.saving();
            continue;
        }
        *shown += 1;
        let _ = writeln!(
            text,
            "  {} bytes, saves {} bytes, in {}:",
            group.size,
            group.saving(),
            set.join(", ")
        );
        for (extension, path) in group.files.iter().take(FILES_SHOWN) {
            let _ = writeln!(text, "    {extension}: {path}");
        }
        if let Some(rest) = group
            .files
            .len()
            .checked_sub(FILES_SHOWN)
            .filter(|&n| n > 0)
        {
            let _ = writeln!(text, "    and {rest} more copies");
        }
    }
    for (set, (_, hidden, saving)) in per_set.iter().filter(|(_, (_, h, _))| *h > 0) {
        let _ = writeln!(
            text,
            "  and {hidden} more shared {} in {}, saving {} (`pcfg extensions --format json` lists every one)",
            if *hidden == 1 { "file" } else { "files" },
            set.join(", "),
            bytes(*saving)
        );
    }
    text.push_str("\nsuggestions (libraries first: sharing them saves memory too):\n");
    for s in report.suggestions() {
        let files = match (s.files, s.libraries) {
            (n, 0) => super::output::count(n, "file"),
            (n, l) => format!(
                "{} ({l} {})",
                super::output::count(n, "file"),
                if l == 1 { "library" } else { "libraries" }
            ),
        };
        let _ = if s.required {
            writeln!(
                text,
                "  move the {files} that {} each carry into `{}`, which they already require: saves {}",
                s.extensions.join(", "),
                s.name,
                bytes(s.saving)
            )
        } else {
            writeln!(
                text,
                "  extension `{}`: {files} that {} each carry; add it to their `requires` and remove their copies: saves {}",
                s.name,
                s.extensions.join(", "),
                bytes(s.saving)
            )
        };
    }
    text
}

/// `pcfg base-manifest DIR`: the manifest of a built base, on standard output or in a file.
pub(super) fn base_manifest(args: &BaseManifestArgs, out: &mut dyn Write) -> Result<u8, Failure> {
    let manifest = crate::analysis::manifest::write(&RealFs, &args.dir).map_err(|reason| {
        Failure::usage(format!(
            "cannot read the base tree `{}`: {reason}",
            args.dir.display()
        ))
    })?;
    match &args.output {
        Some(path) => super::replace::replace_file(path, manifest.as_bytes())?,
        None => out.write_all(manifest.as_bytes())?,
    }
    Ok(EXIT_OK)
}
