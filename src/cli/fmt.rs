//! `pcfg fmt [PATH...]`: rewrite `.pcfg` files in the canonical layout, or, with `--check` and
//! `--diff`, report the files that are not in it.

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};

use super::args::FmtArgs;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::diag::Diagnostic;
use crate::resolve::imports::decode;
use crate::source::{Origin, SourceMap};
use crate::syntax::format::{format, FormatError};
use crate::vfs::{RealFs, Vfs, VfsError};

/// `-`: standard input, formatted to standard output.
const STDIN: &str = "-";

pub(super) fn run(args: &FmtArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let report = args.check || args.diff;
    let mut sources = SourceMap::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut changed: Vec<PathBuf> = Vec::new();
    let mut rewrites: Vec<(PathBuf, String)> = Vec::new();
    for path in expand(&paths)? {
        let from_stdin = path.as_os_str() == STDIN;
        let bytes = if from_stdin {
            let mut bytes = Vec::new();
            std::io::stdin().lock().read_to_end(&mut bytes)?;
            bytes
        } else {
            RealFs.read(&path).map_err(|e| unreadable(&path, &e))?
        };
        let name = if from_stdin {
            "<stdin>".to_owned()
        } else {
            // Named as `pcfg check` names files: `./a/b.pcfg` is `a/b.pcfg`.
            crate::vfs::normalize(&path).display().to_string()
        };
        let (file, bad_utf8) = decode(&mut sources, name.clone(), Origin::Disk, bytes);
        if let Some(diagnostic) = bad_utf8 {
            diagnostics.push(diagnostic);
            continue;
        }
        let text = sources.get(file).text();
        let formatted = match format(file, text) {
            Ok(formatted) => formatted,
            Err(FormatError::Syntax(err)) => {
                diagnostics.push(err.to_diagnostic(&crate::schema::nested_blocks));
                continue;
            }
            Err(FormatError::Unstable(why)) => {
                return Err(Failure::Message(format!(
                    "cannot format `{name}` safely ({why}); please report this with the file"
                )));
            }
        };
        if from_stdin && !report {
            out.write_all(formatted.as_bytes())?;
            continue;
        }
        if formatted == text {
            continue;
        }
        if args.diff {
            let diff = similar::TextDiff::from_lines(text, formatted.as_str());
            write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&name, &format!("{name} (formatted)"))
            )?;
        } else if args.check {
            writeln!(out, "{name}")?;
        }
        changed.push(path.clone());
        if !report {
            rewrites.push((path, formatted));
        }
    }
    if !diagnostics.is_empty() {
        // Nothing is written when any file does not parse.
        output.diagnostics(&[(diagnostics.as_slice(), &sources)], out)?;
        return Ok(EXIT_INPUT);
    }
    for (path, formatted) in &rewrites {
        write_file(path, formatted)?;
    }
    Ok(if report && !changed.is_empty() {
        EXIT_INPUT
    } else {
        EXIT_OK
    })
}

/// The files to format: `-`, each file argument, and the `*.pcfg` files below each directory.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN {
            files.push(path.clone());
        } else {
            files.extend(super::check::collect(std::slice::from_ref(path))?);
        }
    }
    Ok(files)
}

fn unreadable(path: &Path, err: &VfsError) -> Failure {
    let why = match err {
        VfsError::NotFound => "no such file".to_owned(),
        VfsError::IsADirectory => "a directory".to_owned(),
        VfsError::TooLarge { bytes } => format!("{bytes} bytes, larger than any configuration"),
        VfsError::Io(message) => message.clone(),
    };
    Failure::usage(format!("cannot read `{}`: {why}", path.display()))
}

/// Replaces a file atomically, through a symlink to its target, keeping its owner and mode.
fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    super::replace::replace_file(path, text.as_bytes())
}
