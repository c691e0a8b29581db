//! apt's configuration for mkosi's sandbox (`apt/`, copied to the sandbox's `/etc/apt` by
//! `SandboxTrees=`): one deb822 `sources.list.d/pcfg-NAME.sources` per package source, and
//! `preferences.d/pcfg-NAME.pref` pinning its suite where it declares a priority.
//!
//! Both files are deb822 stanzas as apt's `pkgTagFile` reads them: `Field: value` on one line,
//! a line that starts with white space continues the value, `#` starts a comment line. Values
//! are data: each is written on its own line, and a value that holds a line break, a control
//! character or white space (which separates list items, and which apt trims at either end) is
//! refused; a suite also without `,`, `=` or `"` (which a `Pin:` line splits on) or `$(`
//! (apt substitutes `$(ARCH)` in suites).

use std::fmt::Write as _;

use super::{ini, File, Refused, APT_DIR};
use crate::model::{Model, PackageSource};

/// The sources and pins of the model's package sources.
pub(crate) fn emit(model: &Model, entry_name: &str) -> Result<Vec<File>, Refused> {
    let distribution = model.system.distribution.value.as_deref();
    let mut files = Vec::new();
    for source in &model.package_sources {
        let origins: Vec<_> = source.at.into_iter().collect();
        let path = format!("{APT_DIR}sources.list.d/pcfg-{}.sources", source.name);
        let stanza = sources_stanza(model, source, distribution);
        files.push(File {
            contents: render(&path, entry_name, &[stanza])?,
            path,
            origins: origins.clone(),
        });
        let Some(priority) = source.priority.value else {
            continue;
        };
        let Some(suite) = source.suite_in(&model.system) else {
            continue;
        };
        // apt matches a release by its archive (`a=`, the Release file's `Suite:`) or its
        // codename (`n=`); a source's suite is one of the two (apt warns otherwise), so both
        // stanzas say the same and whichever matches pins it.
        let path = format!("{APT_DIR}preferences.d/pcfg-{}.pref", source.name);
        let stanzas: Vec<Vec<(&str, Vec<String>)>> = ["a", "n"]
            .iter()
            .map(|field| {
                vec![
                    ("Package", vec!["*".to_owned()]),
                    ("Pin", vec![format!("release {field}={suite}")]),
                    ("Pin-Priority", vec![priority.to_string()]),
                ]
            })
            .collect();
        check_pin_suite(&path, suite)?;
        files.push(File {
            contents: render(&path, entry_name, &stanzas)?,
            path,
            origins,
        });
    }
    Ok(files)
}

/// One source's stanza: every field a list of items.
fn sources_stanza<'m>(
    model: &'m Model,
    source: &'m PackageSource,
    distribution: Option<&str>,
) -> Vec<(&'static str, Vec<String>)> {
    let url = &source.url.value;
    // A local repository is a `file:` URI (of a path `pcfg check` makes sure apt reads back
    // as written; the writer refuses any other).
    let uri = if url.starts_with('/') {
        format!("file:{url}")
    } else {
        url.clone()
    };
    let mut stanza = vec![
        ("Types", vec!["deb".to_owned()]),
        ("URIs", vec![uri]),
        (
            "Suites",
            source
                .suite_in(&model.system)
                .map(str::to_owned)
                .into_iter()
                .collect(),
        ),
        (
            "Components",
            source.components().into_iter().map(str::to_owned).collect(),
        ),
    ];
    // Never `Trusted: yes`: without a keyring of its own, the distribution's.
    stanza.extend(
        source
            .keyring(distribution)
            .map(|keyring| ("Signed-By", vec![keyring])),
    );
    stanza
}

/// A suite as a `Pin: release` line can carry it.
fn check_pin_suite(path: &str, suite: &str) -> Result<(), Refused> {
    match suite.chars().find(|c| ",=\"".contains(*c)) {
        Some(c) => Err(Refused {
            file: path.to_owned(),
            key: "Pin".to_owned(),
            value: suite.to_owned(),
            reason: format!("`{c}`, which apt splits a pin on"),
        }),
        None => Ok(()),
    }
}

/// The file: the header comment, then the stanzas separated by blank lines.
fn render(
    path: &str,
    entry_name: &str,
    stanzas: &[Vec<(&str, Vec<String>)>],
) -> Result<String, Refused> {
    let mut out = ini::header(entry_name);
    for (index, stanza) in stanzas.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        for (field, items) in stanza {
            for item in items {
                if let Some(reason) = refused(field, item) {
                    return Err(Refused {
                        file: path.to_owned(),
                        key: (*field).to_owned(),
                        value: item.clone(),
                        reason,
                    });
                }
            }
            let _ = writeln!(out, "{field}: {}", items.join(" "));
        }
    }
    Ok(out)
}

/// Why one list item cannot be written, if it cannot. `Pin:` is the one field whose single
/// value holds a space of pcfg's own (`release a=SUITE`).
fn refused(field: &str, item: &str) -> Option<String> {
    if item.is_empty() {
        return Some("nothing: apt reads an empty field as absent".to_owned());
    }
    if let Some(c) = item.chars().find(|c| crate::diag::is_hidden(*c)) {
        return Some(format!(
            "a control character, line break or invisible character (U+{:04X})",
            u32::from(c)
        ));
    }
    if field != "Pin" && item.chars().any(char::is_whitespace) {
        return Some("white space, which separates apt's list items".to_owned());
    }
    if field == "URIs"
        && item
            .strip_prefix("file:")
            .is_some_and(|path| !crate::model::sources::plain_local_path(path))
    {
        return Some("a character apt reads differently in a `file:` URI".to_owned());
    }
    if field == "Suites" && item.contains("$(") {
        return Some("`$(`, where apt substitutes variables such as `$(ARCH)`".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_would_change_the_stanza_are_refused() {
        let ok = vec![("Suites", vec!["trixie-backports".to_owned()])];
        assert_eq!(
            render("f", "s.pcfg", &[ok]).expect("writes").lines().nth(1),
            Some("Suites: trixie-backports")
        );
        for (field, bad) in [
            ("Suites", "a\nTrusted: yes"),
            ("Suites", "a b"),
            ("Suites", "$(ARCH)"),
            ("URIs", ""),
            ("Components", "main\u{2028}x"),
            ("URIs", "file:/srv/repo%41"),
            ("URIs", "file:/srv/a#b"),
            ("Pin", "release a=x\rPin-Priority: 1001"),
        ] {
            let stanza = vec![(field, vec![bad.to_owned()])];
            assert!(render("f", "s.pcfg", &[stanza]).is_err(), "{bad:?}");
        }
        assert!(check_pin_suite("f", "a,n=x").is_err());
    }
}
