//! `build.ninja`: the build plan as a file Ninja runs in the output directory
//! (`ninja -C out`). Each step has a content-addressed stamp (`.pcfg/NAME-ID`), so a change
//! rebuilds exactly the steps whose ids changed. Commands are the real invocations: mkosi
//! builds the trees, images, UKIs and extension images in one run (it calls systemd-repart and
//! ukify itself); publishing copies the update artifacts of each channel into
//! `publish/CHANNEL/` with their `SHA256SUMS` (signed when the channel has a key), ready to
//! upload to the channel's server; the extension trees are then
//! checked against the built base (`pcfg base-manifest`, `pcfg extensions --base`).

use std::fmt::Write as _;

use super::{ini, File, Refused, Source};
use crate::graph::{Plan, Step};
use crate::model::Model;

pub(crate) const PATH: &str = "build.ninja";

/// The kinds of step mkosi performs in one `mkosi build`.
const MKOSI: &[&str] = &["mkosi", "systemd-repart", "ukify", "pcfg"];

pub(crate) fn emit(
    plan: &Plan,
    model: &Model,
    source: &Source<'_>,
    files: &[File],
) -> Result<File, Refused> {
    let mut out = ini::header(source.entry_name);
    out.push_str("# Run `ninja` in this directory; `ninja -n` shows what would run.\n\n");
    out.push_str("ninja_required_version = 1.10\n\n");
    out.push_str("rule stamp\n  command = mkdir -p .pcfg && touch $out\n  description = $what\n\n");
    out.push_str("rule mkosi\n  command = mkosi -C mkosi --force build && mkdir -p .pcfg && touch $out\n  description = mkosi build\n  pool = console\n\n");
    // systemd-sysupdate reads a channel's `SHA256SUMS` (and, with `Verify=yes`, its signature
    // `SHA256SUMS.gpg`): made after each copy over everything published so far.
    let copy = "mkdir -p $dir && cp $files $dir/";
    let sums = "rm -f SHA256SUMS SHA256SUMS.gpg && sha256sum -- * > SHA256SUMS";
    let _ = write!(
        out,
        "rule publish\n  command = {copy} && (cd $dir && {sums}) && touch $out\n  description = publish $dir\n\n"
    );
    // Signed with the secret half of the channel's key from the user's GnuPG keyring (the
    // primary key whose fingerprint the declared public key has), then verified against the
    // declared key alone, as systemd-sysupdate will verify it.
    if model.updates.channels.iter().any(|c| c.key.value.is_some()) {
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
        } else {
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
    // One mkosi run makes every tree, image, UKI and extension image.
    let built: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| {
            s.spec.tool.is_some_and(|t| MKOSI.contains(&t))
                && s.spec.kind != "definitions"
                && s.spec.kind != "check"
        })
        .collect();
    if !built.is_empty() {
        let outputs = built
            .iter()
            .map(|s| stamp(s))
            .collect::<Result<Vec<_>, _>>()?;
        let needs: Vec<String> = inputs.iter().map(|s| s.spec.name.clone()).collect();
        // The project mkosi reads (mkosi.conf, the sub-images' and the finalize script) as
        // files too: an edit to one of them makes Ninja run mkosi again.
        let project = files
            .iter()
            .filter(|f| f.path.starts_with(&format!("{}/", super::mkosi::DIR)))
            .map(|f| path(&f.path))
            .collect::<Result<Vec<_>, _>>()?;
        let _ = write!(
            out,
            "build {}: mkosi | {} $\n    {}\n\n",
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
        let channel = step.spec.name.trim_start_matches("update:");
        let key = model
            .updates
            .channels
            .iter()
            .find(|c| c.name == channel)
            .and_then(|c| c.key.value.as_deref());
        let (rule, key) = match key {
            Some(key) => (
                "publish-signed",
                format!(
                    "\n  key = {}",
                    value(&shell_word(&source.config_path(key, 0)))?
                ),
            ),
            None => ("publish", String::new()),
        };
        let _ = write!(
            out,
            "build {}: {rule} | {}\n  dir = {}\n  files = {}{key}\n\n",
            stamp(step)?,
            stamps_of(&step.spec.needs)?,
            value(&shell_word(&format!("publish/{channel}")))?,
            value(&published(model, channel).join(" "))?,
        );
    }
    for step in plan.steps.iter().filter(|s| s.spec.kind == "check") {
        let _ = write!(
            out,
            "build {}: check | {}\n  base = {}\n  manifest = {}\n  config = {}\n\n",
            stamp(step)?,
            stamps_of(&step.spec.needs)?,
            value(&shell_word(crate::plan::BASE_TREE))?,
            value(&shell_word(crate::plan::BASE_MANIFEST))?,
            value(&shell_word(&source.config_path(source.entry_name, 0)))?,
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
        origins: model.system.at.into_iter().collect(),
    })
}

/// Shell globs of the files channel `channel`'s transfers fetch, as mkosi names them:
/// `NAME_*_ARCH.TYPE.*.raw` per partition, `NAME_*_ARCH.efi` for the UKI, and for the first
/// channel `IMAGE_*.raw` per extension component.
fn published(model: &Model, channel: &str) -> Vec<String> {
    use crate::model::TransferTarget;
    let system = &model.system;
    let arch = system.arch.value;
    let prefix = shell_word(&format!("mkosi/mkosi.output/{}_", system.name.value));
    let Some(index) = model
        .updates
        .channels
        .iter()
        .position(|c| c.name == channel)
    else {
        return Vec::new();
    };
    // The first channel is the one the image carries, with the extensions' components.
    let extensions = model
        .extensions
        .iter()
        .filter(|e| index == 0 && e.updatable())
        .map(|e| {
            format!(
                "{}*.raw",
                shell_word(&format!("mkosi/mkosi.output/{}_", e.image))
            )
        });
    model
        .updates
        .transfers
        .iter()
        .filter(|t| t.channel == index)
        .filter_map(|t| match t.target {
            TransferTarget::Partition(i) => {
                let ty = model.layout.get(i)?.ty.full_name(arch);
                Some(format!(
                    "{prefix}*{}*.raw",
                    shell_word(&format!("_{}.{ty}.", arch.name()))
                ))
            }
            TransferTarget::Uki => Some(format!(
                "{prefix}*{}",
                shell_word(&format!("_{}.efi", arch.name()))
            )),
        })
        .chain(extensions)
        .collect()
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

/// One word for `/bin/sh`, single-quoted unless it is plain.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+=,@".contains(c))
    {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
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
        assert_eq!(shell_word("publish/x"), "publish/x");
        assert_eq!(shell_word("a'b c"), "'a'\\''b c'");
    }
}
