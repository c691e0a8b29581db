//! Emitters: pure functions from the model to files, one module per target. Nothing here
//! touches the disk; `pcfg build` writes what [`emit`] returns (invariant C3).
//!
//! Output is deterministic: files sorted by path, no timestamps, no absolute paths; every file
//! names only the entry file's base name.

mod cmdline;
mod extension;
mod factory;
mod flatpak;
mod image_tree;
mod ini;
mod kernel;
mod manifest;
pub use crate::digest::sha256_hex;
mod mkosi;
mod ninja;
mod os_release;
mod picture;
mod repart;
mod sysupdate;

use std::fmt;

use std::path::{Component, Path, PathBuf};

use crate::model::Model;
use crate::plan::Inputs;
use crate::source::{Origin, SourceFile, SourceMap, Span};

/// One emitted file: its path relative to the output directory, its text, and the declarations
/// it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub contents: String,
    pub origins: Vec<Span>,
}

impl File {
    /// Whether the file is a program a tool runs (mkosi's finalize script): written with the
    /// executable bits set.
    #[must_use]
    pub fn executable(&self) -> bool {
        self.path == factory::script_path()
    }
}

/// A value that a writer cannot put into its file's syntax without changing what the file
/// means. Validation keeps such values out; a writer that meets one anyway refuses, and nothing
/// is written (values are data, never text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The emitted file.
    pub file: String,
    /// The key, or what the value is in the file.
    pub key: String,
    /// The value as given.
    pub value: String,
    /// What in it the syntax cannot carry.
    pub reason: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: cannot write `{}` for {}: it contains {}",
            self.file,
            crate::diag::excerpt(&self.value, 80),
            self.key,
            self.reason
        )
    }
}

impl std::error::Error for Refused {}

/// How emitted files name the configuration: by the entry file's base name, and other source
/// files relative to the entry's directory, so that output does not depend on where pcfg runs.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    pub entry_name: &'a str,
    pub entry_dir: &'a Path,
    /// The entry file's directory as seen from the output directory (`../config`), for the
    /// relative paths of the configuration (keys, extension sources) in files that tools read
    /// from the output directory. Empty when the two are the same.
    pub entry_from_output: &'a Path,
    /// The SHA-256 of the lock file, when there is one: `manifest.json` records it.
    pub lock: Option<&'a str>,
}

impl Source<'_> {
    /// A path written in the configuration (relative to the entry file), as seen from the
    /// directory `depth` levels below the output directory.
    #[must_use]
    pub fn config_path(&self, path: &str, depth: usize) -> String {
        if Path::new(path).is_absolute() || path.contains(':') {
            return path.to_owned();
        }
        let mut out = PathBuf::new();
        for _ in 0..depth {
            out.push("..");
        }
        out.push(self.entry_from_output);
        out.push(path);
        out.display().to_string()
    }
}

impl Source<'_> {
    /// The relative path from the directory `base` to `path` (both absolute, or both relative to
    /// the same directory), lexically.
    #[must_use]
    pub fn relative(path: &Path, base: &Path) -> PathBuf {
        relative_to(path, base)
    }

    /// A source file's name as emitted files show it: `std/NAME` for the standard library.
    #[must_use]
    pub fn name_of(&self, file: &SourceFile) -> String {
        match file.origin {
            Origin::Std => file.name.clone(),
            Origin::Disk => relative_to(Path::new(&file.name), self.entry_dir)
                .display()
                .to_string(),
        }
    }
}

/// `path` relative to `base`, lexically (both as the user named them).
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<Component<'_>> = path.components().collect();
    let base: Vec<Component<'_>> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for component in path.iter().skip(common) {
        out.push(component.as_os_str());
    }
    out
}

/// Every file of a build, sorted by path: the artifacts, `build.ninja` (the build plan as
/// Ninja runs it) and `manifest.json`, which describes all the others.
pub fn emit(
    model: &Model,
    sources: &SourceMap,
    source: &Source<'_>,
    inputs: &Inputs,
) -> Result<Vec<File>, Refused> {
    let mut files = artifacts(model, source, inputs)?;
    // The plan of a checked model is a graph by construction; were it not, the build still
    // writes everything else, and `pcfg plan` reports why.
    if let Ok(plan) = crate::plan::plan(model, &files, inputs) {
        let ninja = ninja::emit(&plan, model, source, &files)?;
        files.push(ninja);
    }
    files.push(picture::layout(model, source.entry_name));
    files.push(picture::trust(model, source.entry_name));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.push(manifest::emit(&files, sources, source));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The files the tools read, sorted by path: what the build plan is made from.
pub fn artifacts(
    model: &Model,
    source: &Source<'_>,
    inputs: &Inputs,
) -> Result<Vec<File>, Refused> {
    let mut files = repart::emit(model, source.entry_name)?;
    files.extend(sysupdate::emit(model, source.entry_name)?);
    files.extend(sysupdate::components(model, source.entry_name)?);
    files.extend(kernel::emit(model, source.entry_name)?);
    files.extend(extension::emit(model)?);
    files.extend(image_tree::emit(model, source.entry_name)?);
    files.extend(factory::emit(model, source.entry_name));
    files.extend(flatpak::emit(model, source.entry_name, inputs)?);
    let profiles = mkosi::profile_paths(&files);
    files.extend(mkosi::emit(model, source, &profiles)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// `build.ninja` for a plan (`pcfg plan --as ninja`).
pub fn ninja_file(
    plan: &crate::graph::Plan,
    model: &Model,
    source: &Source<'_>,
    files: &[File],
) -> Result<File, Refused> {
    ninja::emit(plan, model, source, files)
}
