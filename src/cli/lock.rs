//! `pcfg lock FILE`: writes `FILE.lock`; and the `--locked` comparison of `pcfg check`.

use std::io::Write;
use std::path::Path;

use super::args::LockArgs;
use super::eval::resolved_or_report;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile::{self, Compilation};
use crate::diag::{Code, Diagnostic, Label};
use crate::lock::{path_of, Lock};
use crate::source::Span;
use crate::vfs::{RealFs, Vfs as _};

pub(super) fn run(args: &LockArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let compilation = compile::check(&RealFs, &args.file)?;
    if resolved_or_report(&compilation, output, out)?.is_none() {
        return Ok(EXIT_INPUT);
    }
    let entry_name = super::entry_name(&args.file);
    let source = super::entry_source(&args.file, &entry_name);
    let lock = Lock::of(&compilation, compilation.model.as_ref(), &RealFs, &source);
    let path = path_of(&args.file);
    // Never half written, never through a planted link.
    super::replace::replace_file(&path, lock.render(&entry_name).as_bytes())?;
    writeln!(
        out,
        "locked {} files and {} trees in {}",
        lock.files.len(),
        lock.trees.len(),
        path.display()
    )?;
    Ok(EXIT_OK)
}

/// Compares a compilation with its lock file, adding a diagnostic for each input that differs.
pub(super) fn verify(entry: &Path, compilation: &mut Compilation) {
    let entry_name = super::entry_name(entry);
    let source = super::entry_source(entry, &entry_name);
    let path = path_of(entry);
    let lock_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let start = compilation
        .resolved
        .as_ref()
        .and_then(|r| r.layers.layers.get(r.layers.entry()))
        .map(|l| Span::new(l.file, 0, 0));
    let Some(start) = start else { return };
    let text = RealFs
        .read(&path)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let Some(text) = text else {
        compilation.diagnostics.push(
            Diagnostic::new(
                Code::LockMissing,
                format!("`{lock_name}` does not exist"),
                Label::new(start, "checked with --locked"),
            )
            .with_help(format!(
                "run `pcfg lock {}` and commit `{lock_name}`",
                entry.display()
            )),
        );
        return;
    };
    let locked = Lock::parse(&text);
    let locked = match locked {
        Ok(lock) => lock,
        Err(message) => {
            compilation.diagnostics.push(
                Diagnostic::new(
                    Code::LockMismatch,
                    format!("`{lock_name}` is not a valid lock file: {message}"),
                    Label::new(start, "checked with --locked"),
                )
                .with_help(format!(
                    "run `pcfg lock {}` to write it anew",
                    entry.display()
                )),
            );
            return;
        }
    };
    let current = Lock::of(compilation, compilation.model.as_ref(), &RealFs, &source);
    let found = locked.verify(
        &current,
        compilation,
        compilation.model.as_ref(),
        &source,
        &lock_name,
    );
    compilation.diagnostics.extend(found);
    crate::diag::sort(&mut compilation.diagnostics);
}

/// The SHA-256 of the lock file of `entry`, when there is one (recorded in `manifest.json`).
pub(super) fn lock_digest(entry: &Path) -> Option<String> {
    RealFs
        .read(&path_of(entry))
        .ok()
        .map(|bytes| crate::emit::sha256_hex(&bytes))
}
