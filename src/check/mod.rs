//! Cross-checks of the OS model: one check per file, each a function over the model that
//! pushes diagnostics, all registered in [`CHECKS`].
//!
//! A check points at the declaration at fault (and at the other side where two disagree) and
//! says what to write instead. Checks never stop at the first problem.

mod disk_size;
mod distribution;
mod encrypted_image;
mod encrypted_read_only;
mod esp_size;
mod extension_cycle;
mod extension_fields;
mod extension_optional;
mod installer;
mod labels;
mod package_names;
mod package_sources;
mod partition_format;
mod partition_sizes;
mod partition_types;
mod signing_keys;
mod systemd_version;
mod tpm2;
mod trust_requirement;
mod unused_fields;
mod updates;
mod verity_size;
mod version;

use crate::diag::Diagnostic;
use crate::model::Model;
use crate::source::Span;

/// A check: reads the model, reports problems.
pub type Check = fn(&Model, &mut Checker);

/// Every check, in the order they run.
pub const CHECKS: &[(&str, Check)] = &[
    ("version", version::check),
    ("package-names", package_names::check),
    ("package-sources", package_sources::check),
    ("distribution", distribution::check),
    ("partition-types", partition_types::check),
    ("partition-sizes", partition_sizes::check),
    ("disk-size", disk_size::check),
    ("partition-format", partition_format::check),
    ("labels", labels::check),
    ("verity-size", verity_size::check),
    ("encrypted-read-only", encrypted_read_only::check),
    ("encrypted-image", encrypted_image::check),
    ("installer", installer::check),
    ("signing-keys", signing_keys::check),
    ("tpm2", tpm2::check),
    ("trust-requirement", trust_requirement::check),
    ("extension-fields", extension_fields::check),
    ("extension-kinds", extension_fields::check_kinds),
    ("unused-fields", unused_fields::check),
    ("extension-cycle", extension_cycle::check),
    ("extension-optional", extension_optional::check),
    ("updates", updates::check),
    ("esp-size", esp_size::check),
    ("systemd-version", systemd_version::check),
];

/// Collects the diagnostics of the checks, with a fallback span for declarations that have none.
pub struct Checker {
    pub diagnostics: Vec<Diagnostic>,
    /// Where to point when the value at fault is a default (the entry file's start).
    pub fallback: Span,
}

impl Checker {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// `span`, or the fallback when the value was not written anywhere.
    #[must_use]
    pub fn at(&self, span: Option<Span>) -> Span {
        span.unwrap_or(self.fallback)
    }
}

/// Runs every check.
#[must_use]
pub fn run(model: &Model, fallback: Span) -> Vec<Diagnostic> {
    let mut checker = Checker {
        diagnostics: Vec::new(),
        fallback,
    };
    for (_, check) in CHECKS {
        check(model, &mut checker);
    }
    checker.diagnostics
}
