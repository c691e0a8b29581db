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
    let lock = Lock::of(&compilation, compilation.model.as_ref(), &RealFs, &source)
        .map_err(|unreadable| Failure::Message(unreadable_inputs(&unreadable)))?;
    let path = path_of(&args.file);
    // Never half written, never through a planted link.
    super::replace::replace_file(&path, lock.render(&entry_name).as_bytes())?;
    let inputs = match lock.inputs.len() {
        1 => "1 key, certificate or base tree".to_owned(),
        n => format!("{n} keys, certificates and base trees"),
    };
    writeln!(
        out,
        "locked {}, {} and {inputs} in {}",
        super::output::count(lock.files.len(), "file"),
        super::output::count(lock.trees.len(), "tree"),
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
    let text = match RealFs.read(&path) {
        Err(crate::vfs::VfsError::NotFound) => None,
        Ok(bytes) => Some(String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())),
        Err(crate::vfs::VfsError::IsADirectory) => Some(Err("it is a directory".to_owned())),
        Err(crate::vfs::VfsError::TooLarge { .. }) => Some(Err("it is too large".to_owned())),
        Err(crate::vfs::VfsError::Io(reason)) => Some(Err(reason)),
    };
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
    let locked = text.and_then(|text| Lock::parse(&text));
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
    let current = match Lock::of(compilation, compilation.model.as_ref(), &RealFs, &source) {
        Ok(lock) => lock,
        Err(unreadable) => {
            compilation.diagnostics.push(
                Diagnostic::new(
                    Code::LockMismatch,
                    unreadable_inputs(&unreadable),
                    Label::new(start, "checked with --locked"),
                )
                .with_help("make every input readable: an input that cannot be read cannot be checked against the lock"),
            );
            crate::diag::sort(&mut compilation.diagnostics);
            return;
        }
    };
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

/// "cannot read the inputs `a` (reason), `b` (reason)".
fn unreadable_inputs(unreadable: &[crate::lock::Unreadable]) -> String {
    let list: Vec<String> = unreadable
        .iter()
        .map(|u| {
            format!(
                "`{}` ({})",
                crate::diag::excerpt(&u.path, 200),
                crate::diag::excerpt(&u.reason, 200)
            )
        })
        .collect();
    format!("cannot read the inputs {}", list.join(", "))
}

/// The SHA-256 of the lock file of `entry`, when there is one (recorded in `manifest.json`).
pub(super) fn lock_digest(entry: &Path) -> Option<String> {
    RealFs
        .read(&path_of(entry))
        .ok()
        .map(|bytes| crate::emit::sha256_hex(&bytes))
}
