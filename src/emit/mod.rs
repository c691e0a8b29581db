//! Emitters: pure functions from the model to files, one module per target. Nothing here
//! touches the disk; `pcfg build` writes what [`emit`] returns (invariant C3).
//!
//! Output is deterministic: files sorted by path, no timestamps, no absolute paths; every file
//! names only the entry file's base name.

mod apt;
mod cmdline;
mod extension;
mod factory;
mod flatpak;
mod image_tree;
mod ini;
mod installer;
mod kernel;
mod manifest;
pub use crate::digest::sha256_hex;
/// Where the apt sources and pins are in the output directory (`apt/`).
pub const APT_DIR: &str = "apt/";
mod mkosi;
mod ninja;
mod os_release;
mod picture;
mod repart;
mod shell;
mod sysupdate;
mod var_mount;

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
    /// Whether the file is a program (mkosi's finalize script, the installer): written with
    /// the executable bits set.
    #[must_use]
    pub fn executable(&self) -> bool {
        self.path == factory::script_path()
            || self
                .path
                .strip_suffix(&installer::path())
                .is_some_and(|dir| {
                    // The system's own, or a product's (`products/NAME/`).
                    dir.is_empty() || dir.ends_with('/')
                })
            || self
                .path
                .strip_prefix(&format!("{}/mkosi.profiles/", mkosi::DIR))
                .and_then(|p| p.split_once('/'))
                .is_some_and(|(_, file)| file == factory::SCRIPT)
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
    files.extend(pictures(model, source.entry_name));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.push(manifest::emit(&files, sources, source));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The pictures of a system: its disk (`layout.svg`) and its trust chain (`trust.svg`).
fn pictures(model: &Model, entry_name: &str) -> [File; 2] {
    [
        picture::layout(model, entry_name),
        picture::trust(model, entry_name),
    ]
}

/// The files of one system that are its own in a set too: partitions, updates, the command
/// line and UKI profiles, the image's and initrd's files, Flatpak's.
fn own_files(model: &Model, source: &Source<'_>, inputs: &Inputs) -> Result<Vec<File>, Refused> {
    let mut files = repart::emit(model, source.entry_name)?;
    files.extend(sysupdate::emit(model, source.entry_name)?);
    files.extend(sysupdate::components(model, source.entry_name)?);
    files.extend(kernel::emit(model, source.entry_name)?);
    files.extend(image_tree::emit(model, source.entry_name)?);
    files.extend(installer::emit(model, source.entry_name));
    files.extend(var_mount::emit(model, source.entry_name)?);
    files.extend(flatpak::emit(model, source.entry_name, inputs)?);
    Ok(files)
}

/// One product of a set, for its files: how they name its configuration, and what its plan
/// hashes.
pub struct Member<'a> {
    pub source: Source<'a>,
    pub inputs: &'a Inputs,
}

/// Every file of products built together, sorted by path: each product's own files under
/// `products/NAME/`, the extensions' release files once (`extensions/`), the mkosi project that
/// builds the shared base and extension images once and each product on them, `build.ninja`
/// for all of them, and `manifest.json`.
///
/// # Errors
/// When a writer refuses a value.
pub fn emit_products(
    set: &crate::products::Set<'_>,
    members: &[Member<'_>],
) -> Result<Vec<File>, Refused> {
    let mut files = product_artifacts(set, members)?;
    let artifacts: Vec<File> = files.iter().map(|(_, f)| f.clone()).collect();
    let inputs: Vec<&Inputs> = members.iter().map(|m| m.inputs).collect();
    if let Ok(plan) = crate::plan::plan_products(set, &artifacts, &inputs) {
        files.push((0, products_ninja(set, members, &plan, &artifacts)?));
    }
    for (index, (product, member)) in set.products.iter().zip(members).enumerate() {
        for mut picture in pictures(product.model, member.source.entry_name) {
            picture.path = set.place(index).file(&picture.path);
            files.push((index, picture));
        }
    }
    files.sort_by(|a, b| a.1.path.cmp(&b.1.path));
    let sources: Vec<(&SourceMap, &Source<'_>)> = set
        .products
        .iter()
        .zip(members)
        .map(|(p, m)| (p.sources, &m.source))
        .collect();
    let manifest = manifest::emit_set(&files, &sources);
    let mut files: Vec<File> = files.into_iter().map(|(_, f)| f).collect();
    files.push(manifest);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// `build.ninja` of products built together.
///
/// # Errors
/// When a value cannot be written in Ninja's syntax.
pub fn products_ninja(
    set: &crate::products::Set<'_>,
    members: &[Member<'_>],
    plan: &crate::graph::Plan,
    artifacts: &[File],
) -> Result<File, Refused> {
    let units: Vec<ninja::Unit<'_, '_>> = set
        .products
        .iter()
        .zip(members)
        .enumerate()
        .map(|(index, (product, member))| ninja::Unit {
            model: product.model,
            source: &member.source,
            place: set.place(index),
        })
        .collect();
    ninja::emit_set(plan, &units, set.extension_signer(), artifacts)
}

/// The files of products built together that the tools read, sorted by path, each with the
/// product whose sources its declarations are in: what their plan is made from.
///
/// # Errors
/// When a writer refuses a value.
pub fn product_artifacts(
    set: &crate::products::Set<'_>,
    members: &[Member<'_>],
) -> Result<Vec<(usize, File)>, Refused> {
    // Each file with the product whose sources its origins are in.
    let mut files: Vec<(usize, File)> = Vec::new();
    let mut views = Vec::new();
    let mut extension_files = std::collections::BTreeSet::new();
    for (index, (product, member)) in set.products.iter().zip(members).enumerate() {
        let model = product.model;
        let place = set.place(index);
        let own = own_files(model, &member.source, member.inputs)?;
        let profiles: Vec<String> = mkosi::profile_paths(&own)
            .iter()
            .map(|p| place.file(p))
            .collect();
        for mut file in own {
            file.path = place.file(&file.path);
            files.push((index, file));
        }
        for mut file in factory::emit(model, member.source.entry_name) {
            // mkosi runs the finalize script of the profile it builds.
            file.path = if file.path == factory::script_path() {
                format!(
                    "{}/mkosi.profiles/{}/{}",
                    mkosi::DIR,
                    product.name(),
                    factory::SCRIPT
                )
            } else {
                place.file(&file.path)
            };
            files.push((index, file));
        }
        // The same for every product that declares the extension (checked by the set).
        for file in extension::emit(model)? {
            if extension_files.insert(file.path.clone()) {
                files.push((index, file));
            }
        }
        views.push(mkosi::Member {
            model,
            source: &member.source,
            profiles,
            packages: set.own_packages(index),
        });
    }
    // The sources every build installs from, once (the products agree on them).
    if let (Some(first), Some(member)) = (set.products.first(), members.first()) {
        for file in apt::emit(first.model, member.source.entry_name)? {
            files.push((0, file));
        }
    }
    files.extend(mkosi::emit_set(
        &views,
        &set.shared_packages,
        &set.extensions,
        set.extension_signer(),
    )?);
    files.sort_by(|a, b| a.1.path.cmp(&b.1.path));
    Ok(files)
}

/// The files the tools read, sorted by path: what the build plan is made from.
pub fn artifacts(
    model: &Model,
    source: &Source<'_>,
    inputs: &Inputs,
) -> Result<Vec<File>, Refused> {
    let mut files = own_files(model, source, inputs)?;
    files.extend(apt::emit(model, source.entry_name)?);
    files.extend(extension::emit(model)?);
    files.extend(factory::emit(model, source.entry_name));
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
