//! Every declaration takes effect: for every field of every block kind, enumerated from the
//! schema, every valid value gives different files for the tools (`emit::artifacts`) — or the
//! schema marks the field check-only and says why. A field cannot be added without one or the
//! other: this test finds it, tries values of its type, and fails when two valid values give
//! the same files.
//!
//! The base is the configuration that sets every field once (`tests/cases/ok/everything`); each
//! variant is a file that imports it and sets one field, so the base's own lines stay as they
//! are. Values that do not compile cleanly (a size out of another field's range, a label
//! without the version) are skipped: what is compared are values a user could write.

use std::collections::BTreeMap;
use std::path::Path;

use pcfg::emit::{self, Source};
use pcfg::schema::{self, v1, BlockSchema, Effect, Field, Str, Ty};

use crate::support::compile_file;

/// Labels of each labelled kind in the base, tried in order as the field's context.
const LABELS: &[(&str, &[&str])] = &[
    ("partition", &["root", "usr", "srv", "swap", "home", "esp"]),
    ("channel", &["stable"]),
    ("uki-profile", &["debug", "factory-reset"]),
    ("extension", &["libs", "tools", "etc", "web", "browser"]),
    ("flatpak-remote", &["remote"]),
    ("package-source", &["extra"]),
];

/// Values to try for a field, in pcfg syntax: special cases first, then by type.
fn candidates(path: &str, field: &Field) -> Vec<String> {
    let special: &[&str] = match path {
        // `tools` sorts after `libs`, so its `overrides = [libs]` already holds by the names:
        // it changes what the analysis allows, never a file. `libs` on top changes the names.
        "extension.tools.overrides" => return Vec::new(),
        "extension.libs.overrides" => &["[]", "[tools]\nextension.tools.overrides = []"],
        "extension.libs.source" => &["\"ext/libs\"", "\"ext/tools\""],
        "system.systemd" => &["257", "258"],
        "system.release" => &["\"trixie\"", "\"bookworm\""],
        // apt's distributions (the base declares a package source).
        "system.distribution" => &["debian", "kali\nsystem.release = \"kali-rolling\""],
        "trust.tpm2.pcrs" => &["[7]", "[7, 11]", "[]"],
        "disk.size" => &["auto", "64G", "128G"],
        "package-source.extra.suite" => &["\"trixie-backports\"", "\"forky\""],
        "flatpak-remote.remote.key" | "update.channel.stable.key" | "package-source.extra.key" => {
            &["\"keys/remote.gpg\"", "\"keys/other.gpg\""]
        }
        // Payload that exists: a tree is a directory, a script an executable file.
        "system.trees" => &["[]", "[\"tree\"]", "[\"tree\", \"ext/libs\"]"],
        _ if path.ends_with(".postinst")
            || path.ends_with(".finalize")
            || path.ends_with(".post-output") =>
        {
            &[
                "[]",
                "[\"scripts/a.chroot\"]",
                "[\"scripts/a.chroot\", \"scripts/b\"]",
            ]
        }
        _ => &[],
    };
    if !special.is_empty() {
        return special.iter().map(ToString::to_string).collect();
    }
    by_type(&field.ty)
}

fn by_type(ty: &Ty) -> Vec<String> {
    let quoted = |values: &[&str]| values.iter().map(|v| format!("\"{v}\"")).collect();
    match ty {
        Ty::Str(rule) => quoted(match rule {
            Str::ImageId | Str::Title => &["Alpha", "Beta"],
            Str::OsId => &["alpha", "beta"],
            Str::Version => &["1", "2"],
            Str::Release => &["trixie", "bookworm"],
            Str::Text => &["Alpha OS", "Beta OS"],
            Str::Package => &["vim", "git"],
            Str::CmdlineOption => &["quiet", "splash"],
            Str::AbsolutePath => &["/var/a", "/var/b"],
            Str::ConfigPath => &["keys/a.key", "keys/b.key"],
            Str::Url => &["https://a.example.org/", "https://b.example.org/"],
            Str::GptLabel => &["%M_%A_x", "%M_%A_y", "x", "y"],
            Str::FlatpakApp => &["org.example.Alpha", "org.example.Beta"],
            Str::FlatpakRuntime => &["org.example.Platform//1", "org.example.Platform//2"],
            Str::KernelModule => &["virtio_blk", "nvme"],
        }),
        Ty::Int { min, max } => {
            let mut values = vec![*min, min.saturating_add(1), *max];
            values.dedup();
            values.iter().map(ToString::to_string).collect()
        }
        Ty::Size => ["1G", "2G", "3G"].map(str::to_owned).to_vec(),
        Ty::SizeOrAuto => ["auto", "64G", "128G"].map(str::to_owned).to_vec(),
        Ty::OneOf(values) => values.iter().map(ToString::to_string).collect(),
        Ty::Bool => vec!["true".to_owned(), "false".to_owned()],
        Ty::Symbol(symbols) => symbols.iter().map(ToString::to_string).collect(),
        Ty::List(item) => {
            let items = match item {
                Ty::Reference(_) => vec!["libs".to_owned(), "etc".to_owned()],
                other => by_type(other),
            };
            let mut lists = vec!["[]".to_owned()];
            if let Some(first) = items.first() {
                lists.push(format!("[{first}]"));
            }
            if let [first, second, ..] = items.as_slice() {
                lists.push(format!("[{first}, {second}]"));
            }
            lists
        }
        Ty::Reference(_) => vec![],
    }
}

/// Every field with the dotted paths it is tried at (one per context label).
fn fields() -> Vec<(Vec<String>, &'static Field)> {
    fn walk(
        schema: &'static BlockSchema,
        prefixes: &[String],
        out: &mut Vec<(Vec<String>, &'static Field)>,
    ) {
        let prefixes: Vec<String> = if schema.labelled {
            let labels = LABELS
                .iter()
                .find(|(kind, _)| *kind == schema.name)
                .map_or(&[][..], |(_, labels)| *labels);
            prefixes
                .iter()
                .flat_map(|p| labels.iter().map(move |l| format!("{p}.{l}")))
                .collect()
        } else {
            prefixes.to_vec()
        };
        for field in schema.fields {
            let paths = prefixes
                .iter()
                .map(|p| format!("{p}.{}", field.name))
                .collect();
            out.push((paths, field));
        }
        for block in schema.blocks {
            let nested: Vec<String> = prefixes
                .iter()
                .map(|p| format!("{p}.{}", block.name))
                .collect();
            walk(block, &nested, out);
        }
    }
    let mut out = Vec::new();
    for block in v1::ROOT.blocks {
        walk(block, &[block.name.to_owned()], &mut out);
    }
    out
}

/// The bases, in the order fields are tried on them: the configuration that sets every field
/// (where roles name their own keys), then ParticleOS (where they fall back to `trust.key`).
/// and a system without Secure Boot, where the command line may be editable.
const BASES: &[&str] = &["system.pcfg", "particleos.pcfg", "no-secure-boot.pcfg"];

/// The files the tools read for `base` with `path = value` set on top, or `None` when that
/// does not compile cleanly.
fn artifacts(dir: &Path, base: &str, path: &str, value: &str) -> Option<BTreeMap<String, String>> {
    let variant = dir.join("variant.pcfg");
    std::fs::write(&variant, format!("import \"{base}\"\n{path} = {value}\n")).expect("write");
    let compilation = compile_file(&variant);
    if compilation.has_errors() {
        return None;
    }
    let model = compilation.model?;
    let source = Source {
        entry_name: "variant.pcfg",
        entry_dir: dir,
        entry_from_output: Path::new(""),
        lock: None,
    };
    let inputs = pcfg::plan::Inputs::read(&model, &pcfg::vfs::RealFs, dir);
    let files = emit::artifacts(&model, &source, &inputs).ok()?;
    Some(files.into_iter().map(|f| (f.path, f.contents)).collect())
}

#[test]
fn every_field_takes_effect_or_is_marked_check_only() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/ok/everything/."))
        .arg(dir)
        .status()
        .expect("cp runs");
    assert!(status.success());
    for (from, to) in [
        ("examples/particleos.pcfg", "particleos.pcfg"),
        ("examples/no-secure-boot/system.pcfg", "no-secure-boot.pcfg"),
    ] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(from),
            dir.join(to),
        )
        .expect("copy");
    }
    let mut problems = Vec::new();
    let mut tried = 0;
    for (paths, field) in fields() {
        let mut compared = false;
        let contexts = BASES
            .iter()
            .flat_map(|base| paths.iter().map(move |path| (*base, path)));
        for (base, path) in contexts {
            let mut outputs: Vec<(String, BTreeMap<String, String>)> = Vec::new();
            for value in candidates(path, field) {
                if let Some(files) = artifacts(dir, base, path, &value) {
                    outputs.push((value, files));
                }
            }
            if outputs.len() < 2 {
                continue;
            }
            compared = true;
            tried += 1;
            let same: Vec<String> = outputs
                .iter()
                .enumerate()
                .flat_map(|(i, (a, fa))| {
                    outputs[i + 1..]
                        .iter()
                        .filter(move |(_, fb)| fb == fa)
                        .map(move |(b, _)| format!("{a} and {b}"))
                })
                .collect();
            // A field that falls back to another (`trust.key` behind each role's key) may do
            // nothing on one base: try the next.
            if field.effect == Effect::Emitted && !same.is_empty() && base != BASES[BASES.len() - 1]
            {
                let later = BASES.iter().skip_while(|b| **b != base).skip(1);
                let elsewhere = later.clone().any(|b| {
                    let values: Vec<_> = candidates(path, field)
                        .into_iter()
                        .filter_map(|v| artifacts(dir, b, path, &v))
                        .collect();
                    values.len() >= 2
                        && values
                            .iter()
                            .enumerate()
                            .all(|(i, a)| values[i + 1..].iter().all(|b| b != a))
                });
                if elsewhere {
                    tried += 1;
                    compared = true;
                    break;
                }
            }
            match (field.effect, same.is_empty()) {
                (Effect::Emitted, false) => problems.push(format!(
                    "{path} (on {base}): {} give the same files; make the field take effect, or mark it check-only in src/schema/v1.rs with the reason",
                    same.join(", ")
                )),
                (Effect::CheckOnly(_), true) if outputs.len() == 2 => problems.push(format!(
                    "{path}: marked check-only, but its values give different files"
                )),
                _ => {}
            }
            break;
        }
        if !compared {
            problems.push(format!(
                "{}: no two values of its type compile cleanly on the base; add candidates in tests/effects.rs",
                paths.first().map_or("?", String::as_str)
            ));
        }
    }
    assert!(tried >= 40, "{tried} fields compared");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The language reference lists exactly the fields the schema marks check-only.
#[test]
fn the_reference_lists_the_check_only_fields() {
    let spec = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("lang/SPEC.md"))
        .expect("SPEC.md");
    let section = spec
        .split_once("### Check-only fields")
        .and_then(|(_, rest)| rest.split_once("<!-- ANCHOR_END: schema -->"))
        .map(|(section, _)| section)
        .expect("a check-only section in the schema");
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split_once('`').map(|(path, _)| path))
        .collect();
    let marked: Vec<String> = schema::check_only_fields()
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(listed, marked);
}
