//! `build.ninja`: the build plan as a file Ninja runs in the output directory
//! (`ninja -C out`). Each step has a content-addressed stamp (`.pcfg/NAME-ID`), so a change
//! rebuilds exactly the steps whose ids changed. Commands are the real invocations: mkosi
//! builds the trees, images, UKIs and extension images in one run (it calls systemd-repart and
//! ukify itself); publishing copies the update artifacts of each channel into
//! `publish/CHANNEL/` with their `SHA256SUMS` (signed when the channel has a key), ready to
//! upload to the channel's server; the extension trees are then
//! checked against the built base (`pcfg base-manifest`, `pcfg extensions --base`).

use std::fmt::Write as _;

use super::{ini, shell, File, Refused, Source};
use crate::graph::{Plan, Step};
use crate::model::Model;

pub(crate) const PATH: &str = "build.ninja";

/// The kinds of step mkosi performs in one `mkosi build`.
const MKOSI: &[&str] = &["mkosi", "systemd-repart", "ukify", "pcfg"];

/// One system of the plan: the single system, or one product of a set.
pub(crate) struct Unit<'u, 'a> {
    pub(crate) model: &'u Model,
    pub(crate) source: &'u Source<'a>,
    /// Where its steps and files are; its product's name is its mkosi profile.
    pub(crate) place: crate::products::Place<'u>,
}

impl Unit<'_, '_> {
    /// Whether `step` is one of its own (every step of a single system is).
    fn owns(&self, step: &Step) -> bool {
        step.spec.name.starts_with(&self.place.step_prefix())
    }
}

pub(crate) fn emit(
    plan: &Plan,
    model: &Model,
    source: &Source<'_>,
    files: &[File],
) -> Result<File, Refused> {
    let unit = Unit {
        model,
        source,
        place: crate::products::Place::default(),
    };
    emit_units(plan, &[unit], Shape::Single, files)
}

/// `build.ninja` of products built together: mkosi builds the base and the extension images
/// once (`mkosi build`), then each product's image (`mkosi --profile NAME build`); `signer` is
/// the product whose verity key signs the extension images.
pub(crate) fn emit_set(
    plan: &Plan,
    units: &[Unit<'_, '_>],
    signer: Option<usize>,
    files: &[File],
) -> Result<File, Refused> {
    emit_units(plan, units, Shape::Set { signer }, files)
}

/// The unit a step belongs to (by its name's prefix), or `None` for a step of the set.
fn unit_of<'x, 'u, 'a>(
    units: &'x [Unit<'u, 'a>],
    step: &Step,
    set: bool,
) -> Option<&'x Unit<'u, 'a>> {
    if !set {
        return units.first();
    }
    units.iter().find(|u| u.owns(step))
}

/// One system, or products built together (with the product whose verity key signs the
/// extension images).
#[derive(Clone, Copy)]
enum Shape {
    Single,
    Set { signer: Option<usize> },
}

#[allow(clippy::too_many_lines)]
fn emit_units(
    plan: &Plan,
    units: &[Unit<'_, '_>],
    shape: Shape,
    files: &[File],
) -> Result<File, Refused> {
    let Some(first) = units.first() else {
        return Err(Refused {
            file: PATH.to_owned(),
            key: "the plan".to_owned(),
            value: String::new(),
            reason: "no system".to_owned(),
        });
    };
    let is_set = matches!(shape, Shape::Set { .. });
    let entry_names: Vec<&str> = units.iter().map(|u| u.source.entry_name).collect();
    let mut out = ini::header(&entry_names.join(" "));
    out.push_str("# Run `ninja` in this directory; `ninja -n` shows what would run.\n\n");
    out.push_str("ninja_required_version = 1.10\n\n");
    out.push_str("rule stamp\n  command = mkdir -p .pcfg && touch $out\n  description = $what\n\n");
    if is_set {
        out.push_str("rule mkosi\n  command = mkosi -C mkosi $profile --force build && touch $out\n  description = mkosi $profile build\n  pool = console\n\n");
    } else {
        out.push_str("rule mkosi\n  command = mkosi -C mkosi --force build && mkdir -p .pcfg && touch $out\n  description = mkosi build\n  pool = console\n\n");
    }
    // systemd-sysupdate reads a channel's `SHA256SUMS` (and, with `Verify=yes`, its signature
    // `SHA256SUMS.gpg`): made after each copy over everything published so far. `$rename`,
    // set for a channel with an `artifact-name`, renames the system's files just copied.
    let copy = "mkdir -p $dir && cp $files $dir/ $rename";
    // Each file compressed as the channel says (`$compress`, `true` when not), then summed.
    let sums = "$compress && rm -f SHA256SUMS SHA256SUMS.gpg && sha256sum -- * > SHA256SUMS";
    let _ = write!(
        out,
        "rule publish\n  command = {copy} && (cd $dir && {sums}) && touch $out\n  description = publish $dir\n\n"
    );
    // Signed with the secret half of the channel's key from the user's GnuPG keyring (the
    // primary key whose fingerprint the declared public key has), then verified against the
    // declared key alone, as systemd-sysupdate will verify it.
    if units.iter().any(|u| {
        u.model
            .updates
            .channels
            .iter()
            .any(|c| c.key.value.is_some())
    }) {
        let sign = "gpg --batch --yes --local-user \"$$(gpg --with-colons --show-keys \"$$key\" | awk -F: '$$1 == \"fpr\" { print $$10; exit }')!\" --detach-sign --output SHA256SUMS.gpg SHA256SUMS";
        let verify = "gpg --batch --no-default-keyring --lock-never --keyring \"$$key\" --trust-model always --verify SHA256SUMS.gpg SHA256SUMS";
        let _ = write!(
            out,
            "rule publish-signed\n  command = {copy} && key=$$(realpath $key) && (cd $dir && {sums} && {sign} && {verify}) && touch $out\n  description = publish and sign $dir\n\n"
        );
    }
    out.push_str("rule check\n  command = pcfg base-manifest $base -o $manifest && pcfg extensions --base $manifest $config && mkdir -p .pcfg && touch $out\n  description = check the extensions against the built base\n\n");

    let stamp = |step: &Step| -> Result<String, Refused> {
        path(&format!(
            ".pcfg/{}-{}",
            step.spec.name.replace(':', "_"),
            &step.id[..16]
        ))
    };
    let stamps_of = |names: &[String]| -> Result<String, Refused> {
        let stamps = names
            .iter()
            .filter_map(|n| plan.step(n))
            .map(&stamp)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(stamps.join(" "))
    };
    // The source a step's key paths are written in: its product's, or for the set's own key
    // (the extension images' verity key) the product that names it.
    let source_of = |step: &Step| -> &Source<'_> {
        match shape {
            Shape::Set { signer } if !units.iter().any(|u| u.owns(step)) => signer
                .and_then(|i| units.get(i))
                .map_or(first.source, |u| u.source),
            _ => unit_of(units, step, is_set).map_or(first.source, |u| u.source),
        }
    };
    let inputs: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| s.spec.tool.is_none() || s.spec.kind == "definitions")
        .collect();
    // An input's stamp depends on the files it stands for, so that Ninja, which compares
    // times, sees an edited file or a replaced key as the changed input it is: the files pcfg
    // wrote (the step's outputs) and the key files (as the output directory sees them).
    for step in &inputs {
        let files: Vec<String> = if step.spec.kind == "definitions" {
            step.spec.outputs.clone()
        } else if step.spec.name == "payload" || step.spec.name.ends_with("/payload") {
            // The image's build scripts: an edit makes Ninja build the image again.
            let unit = unit_of(units, step, is_set).unwrap_or(first);
            unit.model
                .system
                .scripts
                .all()
                .map(|(_, s)| unit.source.config_path(&s.value, 0))
                .collect()
        } else {
            let source = source_of(step);
            ["key", "cert"]
                .iter()
                .filter_map(|k| step.spec.params.get(*k))
                .filter(|p| !p.is_empty())
                .map(|p| source.config_path(p, 0))
                .collect()
        };
        let files = files
            .iter()
            .map(|f| path(f))
            .collect::<Result<Vec<_>, _>>()?;
        let implicit = if files.is_empty() {
            String::new()
        } else {
            format!(" | {}", files.join(" "))
        };
        let _ = write!(
            out,
            "build {}: stamp{implicit}\n  what = {}\n\n",
            stamp(step)?,
            value(&step.spec.name)?
        );
    }
    let built = |s: &&Step| {
        s.spec.tool.is_some_and(|t| MKOSI.contains(&t))
            && s.spec.kind != "definitions"
            && s.spec.kind != "check"
    };
    let project = |prefixes: &[String]| -> Result<Vec<String>, Refused> {
        files
            .iter()
            .filter(|f| prefixes.iter().any(|p| f.path.starts_with(p.as_str())))
            .map(|f| path(&f.path))
            .collect()
    };
    // mkosi runs: one for everything (a single system); for a set, one for the base and the
    // extension images, then one per product.
    let mut runs: Vec<(Option<&str>, Vec<&Step>, Vec<String>)> = Vec::new();
    if is_set {
        let shared: Vec<&Step> = plan
            .steps
            .iter()
            .filter(built)
            .filter(|s| !units.iter().any(|u| u.owns(s)))
            .collect();
        let mut prefixes = vec![
            format!("{}/mkosi.conf", super::mkosi::DIR),
            format!("{}/mkosi.images/base/", super::mkosi::DIR),
        ];
        for unit in units {
            for ext in &unit.model.extensions {
                prefixes.push(format!("{}/mkosi.images/{}/", super::mkosi::DIR, ext.image));
            }
        }
        runs.push((None, shared, prefixes));
        for unit in units {
            let steps: Vec<&Step> = plan
                .steps
                .iter()
                .filter(built)
                .filter(|s| unit.owns(s))
                .collect();
            let name = unit.place.product.unwrap_or_default();
            let prefixes = vec![
                format!("{}/mkosi.conf", super::mkosi::DIR),
                format!("{}/mkosi.images/base/", super::mkosi::DIR),
                format!("{}/mkosi.images/initrd-{name}/", super::mkosi::DIR),
                format!("{}/mkosi.profiles/{name}/", super::mkosi::DIR),
            ];
            runs.push((unit.place.product, steps, prefixes));
        }
    } else {
        let steps: Vec<&Step> = plan.steps.iter().filter(built).collect();
        runs.push((None, steps, vec![format!("{}/", super::mkosi::DIR)]));
    }
    for (profile, steps, prefixes) in runs {
        if steps.is_empty() {
            continue;
        }
        let outputs = steps
            .iter()
            .map(|s| stamp(s))
            .collect::<Result<Vec<_>, _>>()?;
        // What the run's steps need from outside the run: its inputs and, for a product, the
        // set's base and extension images.
        let mut needs: Vec<String> = steps
            .iter()
            .flat_map(|s| s.spec.needs.iter().cloned())
            .filter(|n| !steps.iter().any(|s| &s.spec.name == n))
            .collect();
        needs.sort();
        needs.dedup();
        if !is_set {
            needs = inputs.iter().map(|s| s.spec.name.clone()).collect();
        }
        // The project mkosi reads (mkosi.conf, the sub-images' and the finalize script) as
        // files too: an edit to one of them makes Ninja run mkosi again; and the extensions'
        // build scripts, for the run that builds the extension images.
        let mut project = project(&prefixes)?;
        if profile.is_none() {
            for unit in units {
                for ext in &unit.model.extensions {
                    for (_, script) in ext.scripts().all() {
                        let file = path(&unit.source.config_path(&script.value, 0))?;
                        if !project.contains(&file) {
                            project.push(file);
                        }
                    }
                }
            }
        }
        let variables = match &profile {
            Some(name) => format!(
                "\n  profile = {}",
                value(&shell::word(&format!("--profile={name}")))?
            ),
            None if is_set => "\n  profile =".to_owned(),
            None => String::new(),
        };
        let _ = write!(
            out,
            "build {}: mkosi | {} $\n    {}{variables}\n\n",
            outputs.join(" $\n    "),
            stamps_of(&needs)?,
            project.join(" ")
        );
    }
    // The publish rule's variables are words of a shell command: quoted for the shell, then
    // escaped for Ninja. The files are exactly those the channel's transfers fetch (their
    // source patterns with `*` for the version and UUID), never the whole disk image or the
    // ESP image that mkosi writes beside them.
    for step in plan.steps.iter().filter(|s| s.spec.kind == "publish") {
        let Some(unit) = unit_of(units, step, is_set) else {
            continue;
        };
        let channel =
            step.spec.name[unit.place.step_prefix().len()..].trim_start_matches("update:");
        let declared = unit
            .model
            .updates
            .channels
            .iter()
            .find(|c| c.name == channel);
        let key = declared.and_then(|c| c.key.value.as_deref());
        let (rule, key) = match key {
            Some(key) => (
                "publish-signed",
                format!(
                    "\n  key = {}",
                    value(&shell::word(&unit.source.config_path(key, 0)))?
                ),
            ),
            None => ("publish", String::new()),
        };
        let compression = declared.map_or(crate::model::update::Compression::None, |c| {
            c.compress.value
        });
        // The files just copied (not yet compressed, never the sums), compressed in place.
        let compress = match compression.command() {
            Some(command) => format!(
                "find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' ! -name '*{}' -exec {command} {{}} +",
                compression.suffix()
            ),
            None => "true".to_owned(),
        };
        let dir = shell::word(&format!("{}{channel}", unit.place.publish_dir()));
        let (system, extensions) = published(unit.model, channel);
        // The system's files under the channel's name: `IMAGE_…` becomes `ARTIFACT_…`.
        let image_id = &unit.model.system.name.value;
        let rename = match declared.and_then(|c| c.artifact_name.value.as_deref()) {
            // (`mv` refuses to move a file onto itself.)
            Some(artifact) if artifact != image_id => format!(
                "\n  rename = {}",
                value(&format!(
                    "&& for f in {}; do b=${{f##*/}}; mv -f -- {dir}/\"$b\" {dir}/{}\"${{b#{}}}\"; done",
                    system.join(" "),
                    shell::word(artifact),
                    shell::word(image_id),
                ))?
            ),
            _ => String::new(),
        };
        let files: Vec<String> = system.into_iter().chain(extensions).collect();
        let _ = write!(
            out,
            "build {}: {rule} | {}\n  dir = {}\n  files = {}\n  compress = {}{key}{rename}\n\n",
            stamp(step)?,
            stamps_of(&step.spec.needs)?,
            value(&dir)?,
            value(&files.join(" "))?,
            value(&compress)?,
        );
    }
    for step in plan.steps.iter().filter(|s| s.spec.kind == "check") {
        let Some(unit) = unit_of(units, step, is_set) else {
            continue;
        };
        let _ = write!(
            out,
            "build {}: check | {}\n  base = {}\n  manifest = {}\n  config = {}\n\n",
            stamp(step)?,
            stamps_of(&step.spec.needs)?,
            value(&shell::word(crate::plan::BASE_TREE))?,
            value(&shell::word(&unit.place.file(crate::plan::BASE_MANIFEST)))?,
            value(&shell::word(
                &unit.source.config_path(unit.source.entry_name, 0)
            ))?,
        );
    }
    let all = plan
        .steps
        .iter()
        .map(&stamp)
        .collect::<Result<Vec<_>, _>>()?;
    let _ = write!(
        out,
        "build all: phony {}\n\ndefault all\n",
        all.join(" $\n    ")
    );
    Ok(File {
        path: PATH.to_owned(),
        contents: out,
        origins: first.model.system.at.into_iter().collect(),
    })
}

/// Shell globs of the files channel `channel`'s transfers fetch, as mkosi names them: the
/// system's (`NAME_*_ARCH.TYPE.*.raw` per partition, `NAME_*_ARCH.efi` for the UKI), then for
/// the first channel the extensions' (`IMAGE_*.raw` per extension component).
fn published(model: &Model, channel: &str) -> (Vec<String>, Vec<String>) {
    use crate::model::TransferTarget;
    let system = &model.system;
    let arch = system.arch.value;
    let prefix = shell::word(&format!("mkosi/mkosi.output/{}_", system.name.value));
    let Some(index) = model
        .updates
        .channels
        .iter()
        .position(|c| c.name == channel)
    else {
        return (Vec::new(), Vec::new());
    };
    // The first channel is the one the image carries, with the extensions' components.
    let extensions = model
        .extensions
        .iter()
        .filter(|e| index == 0 && e.updatable())
        .map(|e| {
            format!(
                "{}*.raw",
                shell::word(&format!("mkosi/mkosi.output/{}_", e.image))
            )
        })
        .collect();
    let system_files = model
        .updates
        .transfers
        .iter()
        .filter(|t| t.channel == index)
        .filter_map(|t| match t.target {
            TransferTarget::Partition(i) => {
                let ty = model.layout.get(i)?.ty.full_name(arch);
                Some(format!(
                    "{prefix}*{}*.raw",
                    shell::word(&format!("_{}.{ty}.", arch.name()))
                ))
            }
            TransferTarget::Uki => Some(format!(
                "{prefix}*{}",
                shell::word(&format!("_{}.efi", arch.name()))
            )),
        })
        .collect();
    (system_files, extensions)
}

/// A path in a `build` line: `$`, space and `:` escaped with `$`; line breaks and control
/// characters refused.
fn path(text: &str) -> Result<String, Refused> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '$' | ' ' | ':' => {
                out.push('$');
                out.push(c);
            }
            // Ninja ends a path at `|` (implicit inputs follow) and has no escape for it.
            '|' => return Err(refused(text, c)),
            c if c.is_control() => return Err(refused(text, c)),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// A variable's value: `$` escaped, white space at the start (which Ninja drops), line breaks
/// and control characters refused.
fn value(text: &str) -> Result<String, Refused> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(refused(text, c));
    }
    if text.starts_with(char::is_whitespace) {
        return Err(Refused {
            file: PATH.to_owned(),
            key: "a variable".to_owned(),
            value: text.to_owned(),
            reason: "white space at the start".to_owned(),
        });
    }
    Ok(text.replace('$', "$$"))
}

fn refused(text: &str, c: char) -> Refused {
    Refused {
        file: PATH.to_owned(),
        key: "a path or variable".to_owned(),
        value: text.to_owned(),
        reason: if c == '|' {
            "`|`, which Ninja cannot write in a path".to_owned()
        } else {
            format!("a control character or line break (U+{:04X})", u32::from(c))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_values_and_words_are_escaped() {
        assert_eq!(path("a b:c$d").expect("ok"), "a$ b$:c$$d");
        assert!(path("a\nb").is_err());
        assert!(value(" a").is_err());
        assert_eq!(value("a$b").expect("ok"), "a$$b");
        assert_eq!(shell::word("publish/x"), "publish/x");
        assert_eq!(shell::word("a'b c"), "'a'\\''b c'");
    }
}
