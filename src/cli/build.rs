//! `pcfg build FILE... -o DIR`: compile, emit, and write the tree atomically — into a directory
//! beside DIR, renamed into place only when every file is written. `--check` compares instead.
//! Several entry files are products built together (`products.rs`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::args::BuildArgs;
use super::eval::resolved_or_report;
use super::output::Output;
use super::tree::write_tree;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile;
use crate::emit::{self, File, Source};
use crate::vfs::{RealFs, Vfs as _, VfsError};

pub(super) fn run(args: &BuildArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    checked_version(args.version.as_deref())?;
    match args.files.as_slice() {
        [file] => run_one(args, file, output, out),
        _ => run_products(args, output, out),
    }
}

fn run_one(
    args: &BuildArgs,
    file: &Path,
    output: &Output,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let compilation = {
        let bar = super::progress::Bar::new(output);
        compile::check_with_version(&RealFs, file, &bar, args.version.as_deref())?
    };
    if resolved_or_report(&compilation, output, out)?.is_none() {
        return Ok(EXIT_INPUT);
    }
    let Some(model) = &compilation.model else {
        return Ok(EXIT_INPUT);
    };
    let entry_name = super::entry_name(file);
    let entry_dir = file.parent().unwrap_or(Path::new(""));
    let entry_from_output = entry_from_output(entry_dir, &args.output)?;
    let lock = super::lock::lock_digest(file);
    let source = Source {
        entry_from_output: &entry_from_output,
        lock: lock.as_deref(),
        ..super::entry_source(file, &entry_name)
    };
    let inputs = crate::plan::Inputs::read(model, &RealFs, entry_dir);
    let files = emit::emit(model, &compilation.sources, &source, &inputs)?;
    if !args.check {
        refuse_overlap(file, &args.output, model)?;
    }
    finish(args, &files, out)
}

/// Several entry files: products built together.
fn run_products(args: &BuildArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let compilations = super::products::compile(&args.files, args.version.as_deref(), output)?;
    if super::products::report(&compilations, output, out)? {
        return Ok(EXIT_INPUT);
    }
    let Some(set) = super::products::set(&args.files, &compilations) else {
        return Ok(EXIT_INPUT);
    };
    let owned = super::products::Owned::new(&args.files, &set, Some(&args.output))?;
    let members = owned.members();
    let files = emit::emit_products(&set, &members)?;
    if !args.check {
        for (file, product) in args.files.iter().zip(&set.products) {
            refuse_overlap(file, &args.output, product.model)?;
        }
    }
    finish(args, &files, out)
}

/// A version given on the command line, checked as `system.version` would be.
pub(super) fn checked_version(version: Option<&str>) -> Result<(), Failure> {
    let Some(version) = version else {
        return Ok(());
    };
    crate::schema::domains::check(crate::schema::Str::Version, version).map_err(|problem| {
        Failure::usage(format!(
            "--version `{}` {}: {}",
            crate::diag::excerpt(version, 80),
            problem.what,
            problem.help
        ))
    })
}

/// Compares (`--check`) or writes the tree.
fn finish(args: &BuildArgs, files: &[File], out: &mut dyn Write) -> Result<u8, Failure> {
    let command = || {
        let entries: Vec<String> = args.files.iter().map(|f| f.display().to_string()).collect();
        format!(
            "pcfg build {} -o {}",
            entries.join(" "),
            args.output.display()
        )
    };
    if args.check {
        let differences = differences(&args.output, files)?;
        for difference in &differences {
            writeln!(out, "{difference}")?;
        }
        if differences.is_empty() {
            writeln!(
                out,
                "{} is up to date ({})",
                args.output.display(),
                super::output::count(files.len(), "file")
            )?;
            return Ok(EXIT_OK);
        }
        writeln!(
            out,
            "{} differs from what pcfg would write: run `{}`",
            args.output.display(),
            command()
        )?;
        return Ok(EXIT_INPUT);
    }
    let written = write_tree(&args.output, files, &mut |_| Ok(()))?;
    let total = super::output::count(files.len(), "file");
    let shown = args.output.display();
    match written {
        0 => writeln!(out, "{shown} is up to date ({total}): nothing written")?,
        n if n == files.len() => writeln!(out, "wrote {total} to {shown}")?,
        n => writeln!(
            out,
            "wrote {n} of {total} to {shown} (the others are unchanged)"
        )?,
    }
    Ok(EXIT_OK)
}

/// The entry file's directory as seen from the output directory, from where they are on disk
/// (not from how they were named), so the result is the same from any working directory.
/// Nothing is created: `--check` writes nothing.
pub(super) fn entry_from_output(entry_dir: &Path, output: &Path) -> Result<PathBuf, Failure> {
    Ok(Source::relative(&resolved(entry_dir)?, &resolved(output)?))
}

/// `path` made absolute with every existing part's links resolved, lexically beyond that.
fn resolved(path: &Path) -> Result<PathBuf, Failure> {
    let base = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let absolute = std::path::absolute(base)
        .map_err(|e| Failure::Message(format!("cannot resolve `{}`: {e}", base.display())))?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = fs::canonicalize(existing) {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(crate::vfs::normalize(&out));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return Ok(crate::vfs::normalize(&absolute)),
        }
    }
}

/// Refuses an output directory whose replacement would take away the configuration: the entry
/// file's directory (or one above it), or an extension's source tree (or one above or inside it).
fn refuse_overlap(file: &Path, out_dir: &Path, model: &crate::model::Model) -> Result<(), Failure> {
    let output = resolved(out_dir)?;
    let entry_dir = file.parent().unwrap_or(Path::new(""));
    let config = resolved(entry_dir)?;
    if config.starts_with(&output) {
        return Err(Failure::usage(format!(
            "`{}` holds `{}`: building into it would replace the configuration; choose another output directory, e.g. `{}`",
            out_dir.display(),
            file.display(),
            entry_dir.join("out").display()
        )));
    }
    for extension in &model.extensions {
        let Some(source) = &extension.source.value else {
            continue;
        };
        let tree = resolved(&entry_dir.join(source))?;
        if tree.starts_with(&output) || output.starts_with(&tree) {
            return Err(Failure::usage(format!(
                "`{}` overlaps the source tree `{source}` of extension `{}`: choose an output directory outside it",
                out_dir.display(),
                extension.name
            )));
        }
    }
    Ok(())
}

/// What differs between `dir` and `files`: `missing PATH`, `differs PATH`, `extra PATH` (a
/// file that is not the build's product).
fn differences(dir: &Path, files: &[File]) -> Result<Vec<String>, Failure> {
    let mut found = Vec::new();
    for file in files {
        // Bounded, regular files only: a FIFO or a link to a device is a difference, not a hang.
        match crate::vfs::RealFs.read(&dir.join(&file.path)) {
            Ok(bytes) if bytes == file.contents.as_bytes() => {}
            Err(VfsError::NotFound) => found.push(format!("missing {}", file.path)),
            Ok(_) | Err(VfsError::TooLarge { .. } | VfsError::IsADirectory) => {
                found.push(format!("differs {}", file.path));
            }
            Err(VfsError::Io(err)) => {
                return Err(Failure::Message(format!(
                    "cannot read `{}`: {err}",
                    dir.join(&file.path).display()
                )))
            }
        }
    }
    if dir.is_dir() {
        let expected: std::collections::HashSet<&str> =
            files.iter().map(|f| f.path.as_str()).collect();
        // What the build's steps made (and the tree the last build replaced) is not pcfg's to
        // compare.
        let mut extra: Vec<String> = super::tree::output_walk(dir)
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                e.path()
                    .strip_prefix(dir)
                    .ok()
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .filter(|p| !expected.contains(p.as_str()))
            .map(|p| format!("extra {p}"))
            .collect();
        found.append(&mut extra);
    }
    Ok(found)
}
