//! Package sources and pins: a `package-source` works only where mkosi installs with apt (Debian,
//! Ubuntu, Kali); a package pinned to a suite (`"systemd/forky"`) must name a suite some source
//! serves, or apt fails the build minutes in (`Release 'forky' for 'systemd' was not found`);
//! a priority pins a suite, so it must not pin the distribution's own suites, and two sources
//! of one suite must not pin it differently.

use std::collections::HashMap;

use super::Checker;
use crate::diag::{did_you_mean, excerpt, Code, Diagnostic, Label};
use crate::model::sources::{distribution_suites, pinned};
use crate::model::Model;
use crate::source::Span;

pub(super) fn check(model: &Model, out: &mut Checker) {
    let distribution = model.system.distribution.value.as_deref();
    let apt = distribution.is_some_and(crate::model::packages::dpkg_based);
    if !apt {
        not_apt(model, distribution, out);
        return;
    }
    let own = model
        .system
        .release
        .value
        .as_deref()
        .zip(distribution)
        .map(|(release, distribution)| distribution_suites(distribution, release))
        .unwrap_or_default();
    priorities(model, &own, out);
    unreadable(model, out);
    pins(model, &own, out);
}

/// What apt could not read as declared: a local repository's path in a `file:` URI, a source
/// without components.
fn unreadable(model: &Model, out: &mut Checker) {
    for source in &model.package_sources {
        let url = &source.url.value;
        if url.starts_with('/') && !crate::model::sources::plain_local_path(url) {
            let at = out.at(source.url.at.or(source.at));
            out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!(
                        "the local repository `{}` has a character apt reads differently in a `file:` URI",
                        excerpt(url, 60)
                    ),
                    Label::new(at, "apt decodes `%XX` and splits on `?`, `#`, `;` and `:`"),
                )
                .with_help("move the repository to a path of letters, digits and `/._~+-`, or serve it over http(s)"),
            );
        }
        if source.components().is_empty() {
            let at = out.at(source.components.at.or(source.at));
            out.push(
                Diagnostic::new(
                    Code::PackageSource,
                    format!("package source `{}` names no component", source.name),
                    Label::new(at, "apt reads no package index of the suite"),
                )
                .with_help("name the suite's components, e.g. `components = [\"main\"]` (the default when the field is not written)"),
            );
        }
    }
}

/// Each package pinned to a suite names one the build installs from.
fn pins(model: &Model, own: &[String], out: &mut Checker) {
    let mut suites: Vec<&str> = own.iter().map(String::as_str).collect();
    for source in &model.package_sources {
        if let Some(suite) = source.suite_in(&model.system) {
            if !suites.contains(&suite) {
                suites.push(suite);
            }
        }
    }
    for (package, at) in pinned_entries(model) {
        let (name, Some(suite)) = pinned(package) else {
            continue;
        };
        if suites.contains(&suite) {
            continue;
        }
        let at = out.at(at);
        let help = match did_you_mean(suite, suites.iter().copied()) {
            Some(close) => format!("did you mean `{name}/{close}`? The suites the build installs from: {}", suites.join(", ")),
            None => format!(
                "declare the repository that serves it: `package-source NAME {{ url = \"https://deb.debian.org/debian\", suite = \"{}\", priority = 100 }}`; the suites the build installs from: {}",
                excerpt(suite, 60),
                suites.join(", ")
            ),
        };
        out.push(
            Diagnostic::new(
                Code::UnknownSuite,
                format!(
                    "`{}` is pinned to suite `{}`, which no package source serves",
                    excerpt(name, 60),
                    excerpt(suite, 60)
                ),
                Label::new(at, "apt finds no release of this name"),
            )
            .with_help(help),
        );
    }
}

/// Every package entry that may carry a pin, with where it is written (the entry, else its
/// list).
fn pinned_entries(model: &Model) -> Vec<(&str, Option<Span>)> {
    let system = &model.system;
    let lists = [&system.packages, &system.initrd_packages]
        .into_iter()
        .chain(model.extensions.iter().map(|e| &e.packages));
    let mut entries: Vec<(&str, Option<Span>)> = lists
        .flat_map(|list| {
            list.value
                .iter()
                .map(|p| (p.value.as_str(), p.at.or(list.at)))
        })
        .collect();
    entries.extend(
        system
            .kernel
            .value
            .as_deref()
            .map(|k| (k, system.kernel.at)),
    );
    entries
}

/// Sources and pins where mkosi does not install with apt.
fn not_apt(model: &Model, distribution: Option<&str>, out: &mut Checker) {
    let which = distribution.map_or_else(
        || "no distribution (mkosi builds the host's)".to_owned(),
        |d| format!("`{d}`"),
    );
    let distribution_label = model
        .system
        .distribution
        .at
        .map(|s| Label::new(s, "the distribution"));
    for source in &model.package_sources {
        let at = out.at(source.at);
        out.push(
            Diagnostic::new(
                Code::PackageSource,
                format!(
                    "package source `{}` is an apt repository, and the system is built from {which}",
                    source.name
                ),
                Label::new(at, "apt never reads it"),
            )
            .with_labels(distribution_label.clone())
            .with_help("package sources are apt's: set `system.distribution` to `debian`, `ubuntu` or `kali`, or remove the block"),
        );
    }
    for (package, at) in pinned_entries(model) {
        let (name, Some(suite)) = pinned(package) else {
            continue;
        };
        let at = out.at(at);
        out.push(
            Diagnostic::new(
                Code::InvalidValue,
                format!(
                    "`{}` pins a package to a suite, and the system is built from {which}",
                    excerpt(package, 60)
                ),
                Label::new(at, "only apt reads `PACKAGE/SUITE`"),
            )
            .with_labels(distribution_label.clone())
            .with_help(format!(
                "write the package alone, `\"{}\"`: pins to a suite (`/{}`) are apt's, on `debian`, `ubuntu` and `kali`",
                excerpt(name, 60),
                excerpt(suite, 60)
            )),
        );
    }
}

/// A priority pins its suite in every source that serves it: not one of the distribution's own,
/// and one priority per suite.
fn priorities(model: &Model, own: &[String], out: &mut Checker) {
    let mut pinned_by: HashMap<&str, (&crate::model::PackageSource, u64)> = HashMap::new();
    for source in &model.package_sources {
        let Some(priority) = source.priority.value else {
            continue;
        };
        let Some(suite) = source.suite_in(&model.system) else {
            continue;
        };
        let at = out.at(source.priority.at.or(source.at));
        if own.iter().any(|s| s == suite) {
            out.push(
                Diagnostic::new(
                    Code::PackageSource,
                    format!(
                        "package source `{}` pins suite `{suite}`, one of the distribution's own",
                        source.name
                    ),
                    Label::new(at, "apt would give every package of the distribution this priority"),
                )
                .with_labels(source.suite.at.map(|s| Label::new(s, "the suite")))
                .with_help("remove `priority`: apt pins by suite, and this one is the release the image is built from (pin another suite, such as `trixie-backports`)"),
            );
            continue;
        }
        match pinned_by.get(suite) {
            Some((other, earlier)) if *earlier != priority => {
                out.push(
                    Diagnostic::new(
                        Code::PackageSource,
                        format!(
                            "package sources `{}` and `{}` pin suite `{suite}` to {earlier} and {priority}",
                            other.name, source.name
                        ),
                        Label::new(at, "apt applies one priority to a suite"),
                    )
                    .with_labels(
                        other
                            .priority
                            .at
                            .map(|s| Label::new(s, "the other priority")),
                    )
                    .with_help(format!(
                        "give both the same priority, or remove this one: `{}` already pins the suite",
                        other.name
                    )),
                );
            }
            Some(_) => {}
            None => {
                pinned_by.insert(suite, (source, priority));
            }
        }
    }
}
