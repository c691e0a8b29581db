//! Products built together — `pcfg build A.pcfg B.pcfg -o DIR`, `pcfg plan A.pcfg B.pcfg`,
//! `pcfg check --products A.pcfg B.pcfg`: each entry file compiled as a product, then the
//! products checked as a set (`crate::products`).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output::Output;
use super::Failure;
use crate::compile::{self, Compilation};
use crate::emit::{Member, Source};
use crate::plan::Inputs;
use crate::products::{Product, Set};
use crate::vfs::RealFs;

/// Each entry file compiled (with the version given on the command line, if any); when every
/// one compiled without errors, the set's findings are
/// added to the diagnostics of the product each names.
pub(super) fn compile(
    files: &[PathBuf],
    version: Option<&str>,
    output: &Output,
) -> Result<Vec<Compilation>, Failure> {
    let mut compilations = Vec::with_capacity(files.len());
    for file in files {
        let bar = super::progress::Bar::new(output);
        compilations.push(compile::check_with_version(&RealFs, file, &bar, version)?);
    }
    add_findings(files, &mut compilations);
    Ok(compilations)
}

/// The set's findings, in the diagnostics of the products they are about.
pub(super) fn add_findings(files: &[PathBuf], compilations: &mut [Compilation]) {
    if !compilations
        .iter()
        .all(|c| !c.has_errors() && c.model.is_some())
    {
        return;
    }
    let Err(findings) = crate::products::set(products(files, compilations)) else {
        return;
    };
    for finding in findings {
        if let Some(compilation) = compilations.get_mut(finding.product) {
            compilation.diagnostics.push(finding.diagnostic);
        }
    }
    for compilation in compilations {
        crate::diag::sort(&mut compilation.diagnostics);
    }
}

fn products<'a>(files: &'a [PathBuf], compilations: &'a [Compilation]) -> Vec<Product<'a>> {
    files
        .iter()
        .zip(compilations)
        .filter_map(|(entry, c)| {
            Some(Product {
                entry,
                sources: &c.sources,
                model: c.model.as_ref()?,
            })
        })
        .collect()
}

/// Prints every product's diagnostics (in the form `--format` asks for); whether any is an
/// error.
pub(super) fn report(
    compilations: &[Compilation],
    output: &Output,
    out: &mut dyn Write,
) -> Result<bool, Failure> {
    let errors = compilations.iter().any(Compilation::has_errors);
    if compilations.iter().any(|c| !c.diagnostics.is_empty())
        && (errors || output.format != super::args::Format::Json)
    {
        let parts: Vec<_> = compilations
            .iter()
            .map(|c| (c.diagnostics.as_slice(), &c.sources))
            .collect();
        output.diagnostics(&parts, out)?;
    }
    Ok(errors)
}

/// The set of the compiled products, when every one has a model and they can be built together.
pub(super) fn set<'a>(files: &'a [PathBuf], compilations: &'a [Compilation]) -> Option<Set<'a>> {
    let products = products(files, compilations);
    if products.len() != compilations.len() {
        return None;
    }
    crate::products::set(products).ok()
}

/// What each product's files are made with: its entry file's name, its directory as the output
/// directory sees it, its lock file's digest and the inputs its plan hashes.
pub(super) struct Owned {
    files: Vec<PathBuf>,
    names: Vec<String>,
    from_output: Vec<PathBuf>,
    locks: Vec<Option<String>>,
    inputs: Vec<Inputs>,
}

impl Owned {
    /// For `output` (`pcfg build -o DIR`), or the entry files' own directories.
    pub(super) fn new(
        files: &[PathBuf],
        set: &Set<'_>,
        output: Option<&Path>,
    ) -> Result<Owned, Failure> {
        let mut owned = Owned {
            files: files.to_vec(),
            names: Vec::new(),
            from_output: Vec::new(),
            locks: Vec::new(),
            inputs: Vec::new(),
        };
        for (file, product) in files.iter().zip(&set.products) {
            let dir = file.parent().unwrap_or(Path::new(""));
            owned.names.push(super::entry_name(file));
            owned.from_output.push(match output {
                Some(output) => super::build::entry_from_output(dir, output)?,
                None => PathBuf::new(),
            });
            owned.locks.push(super::lock::lock_digest(file));
            owned.inputs.push(Inputs::read(product.model, &RealFs, dir));
        }
        Ok(owned)
    }

    pub(super) fn members(&self) -> Vec<Member<'_>> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, file)| Member {
                source: Source {
                    entry_from_output: &self.from_output[i],
                    lock: self.locks[i].as_deref(),
                    ..super::entry_source(file, &self.names[i])
                },
                inputs: &self.inputs[i],
            })
            .collect()
    }
}
