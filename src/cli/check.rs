//! `pcfg check PATH...`: every configuration named or found below a directory, every error;
//! with `--products`, also what products built together must agree on.

use std::io::Write;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::args::{CheckArgs, Format};
use super::output::count;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile::{self, Compilation};
use crate::vfs::RealFs;

pub(super) fn run(args: &CheckArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let files = collect(&args.paths)?;
    let mut compilations: Vec<Compilation> = Vec::with_capacity(files.len());
    for file in &files {
        let mut compilation = {
            let bar = super::progress::Bar::new(output);
            compile::check_with(&RealFs, file, &bar)?
        };
        if args.locked && !compilation.has_errors() {
            super::lock::verify(file, &mut compilation);
        }
        if !args.products {
            // Only the diagnostics and the sources they quote are reported: a directory of
            // configurations is checked in the memory of its largest, not of all together.
            compilation.resolved = None;
            compilation.model = None;
            compilation.extensions = None;
        }
        compilations.push(compilation);
    }
    if args.products {
        super::products::add_findings(&files, &mut compilations);
    }
    let parts: Vec<_> = compilations
        .iter()
        .map(|c| (c.diagnostics.as_slice(), &c.sources))
        .collect();
    output.diagnostics(&parts, out)?;
    let errors = compilations
        .iter()
        .flat_map(|c| &c.diagnostics)
        .filter(|d| d.is_error())
        .count();
    let warnings = compilations
        .iter()
        .map(|c| c.diagnostics.len())
        .sum::<usize>()
        - errors;
    if output.format != Format::Json {
        let mut stderr = std::io::stderr().lock();
        writeln!(
            stderr,
            "checked {}: {}, {}",
            count(files.len(), "file"),
            count(errors, "error"),
            count(warnings, "warning")
        )?;
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed { EXIT_INPUT } else { EXIT_OK })
}

/// The files to check: each file argument, and the `*.pcfg` files below each directory argument
/// (sorted, hidden directories skipped, symbolic links not followed).
pub(super) fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let before = files.len();
        let walk = WalkDir::new(path)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e.path()));
        for entry in walk {
            let entry = entry
                .map_err(|e| Failure::Message(format!("cannot walk `{}`: {e}", path.display())))?;
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|x| x == "pcfg")
            {
                files.push(entry.into_path());
            }
        }
        if files.len() == before {
            return Err(Failure::usage(format!(
                "no `.pcfg` files in `{}`",
                path.display()
            )));
        }
    }
    Ok(files)
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}
