//! Reading emitted files back with the real parsers, shared by the hostile-value tests
//! (`tests/hostile.rs`) and the `emit` fuzz target (`fuzz/fuzz_targets/emit.rs`, with
//! `PCFG_FUZZ_READBACK=1`): a value for one string field of the schema is either refused by
//! `pcfg check` at the value, or emitted so that the real parser of each file reads back exactly
//! the intended value and nothing else.
//!
//! "Exactly" is checked by a marker: each field is first compiled with a plain marker value
//! (`pcfgmark` in the field's grammar and the value's shape), then with the value. What each
//! real parser reads for the marker, with the marker replaced by the value, must be what it
//! reads for the value: no key gained or lost, no section, no other setting changed. The
//! parsers: systemd-repart (`--json`, and the file system it makes for `MakeDirectories=`),
//! mkosi (`--json summary`, which also reads the UKI profiles), systemd-sysupdate (`list`,
//! downloading from a local server through systemd-pull), systemd's command-line parser
//! (`systemd-analyze condition` over `SYSTEMD_PROC_CMDLINE`), Ninja (`-t targets`, `-t commands`
//! split into words as the shell splits them), the shell for os-release and extension-release
//! files (which os-release(5) makes shell-sourceable), `GLib`'s `GKeyFile` for Flatpak's
//! preinstall files, a JSON parser for the manifest and an XML parser for the pictures. Every
//! emitted file a marker reaches must have one of these readers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcfg::emit::{self, File, Source};
use pcfg::schema::{Str, StringField};
use pcfg::vfs::RealFs;
use serde_json::Value as Json;

pub(crate) const MARK: &str = "pcfgmark";
/// The branch of the Flatpak runtime marker, which Flatpak's files carry apart from its id.
const BRANCH: &str = "pcfgbranch";
/// The architecture of a Flatpak ref marker that names one.
const ARCH: &str = "pcfgarch";

/// Every string field of the schema; labelled blocks get the label the base declares for them
/// (Flatpak fields belong to the Flatpak, other extension fields to the system extension).
pub(crate) fn string_fields() -> Vec<StringField> {
    pcfg::schema::string_fields(&|kind, field| match (kind, field) {
        ("partition", _) => "root",
        ("channel", _) => "main",
        ("uki-profile", _) => "debug",
        ("flatpak-remote", _) => "remote",
        ("package-source", _) => "extra",
        (_, "app" | "runtime") => "maps",
        _ => "tools",
    })
}

/// The base every case imports: ParticleOS with every string field in use (shared with the
/// `emit` fuzz target).
pub(crate) const BASE: &str = include_str!("hostile/base.pcfg");

/// An OpenPGP public key for the base's Flatpak remote (the examples' placeholder key).
pub(crate) const FLATPAK_KEY: &[u8] = include_bytes!("../examples/keys/flathub.gpg");

/// A value of the rule's grammar that contains the marker.
pub(crate) fn marker(rule: Str) -> String {
    match rule {
        Str::AbsolutePath => format!("/{MARK}"),
        Str::Url => format!("http://127.0.0.1:{}/{MARK}", update_server()),
        Str::FlatpakApp => format!("org.example.{MARK}"),
        Str::FlatpakRuntime => format!("org.example.{MARK}//{BRANCH}"),
        _ => MARK.to_owned(),
    }
}

/// A string literal of the language for `value`, as pcfg prints strings (control characters as
/// `\u{…}` escapes).
fn literal(value: &str) -> String {
    pcfg::syntax::ast::ValueKind::Str(value.into()).to_string()
}

/// What compiling a case gave.
pub(crate) enum Outcome {
    /// An error at the value in the entry file.
    Refused,
    /// The emitted files, written into a directory, and what the case made outside it, kept
    /// (and other cases kept from making the same path) until the files are read back.
    Written(PathBuf, Outside),
}

/// What a case made outside its directory for an absolute value (a key, a tree, a script at
/// `/pcfgmark`): removed, and the path free for other cases, when this is dropped.
pub(crate) struct Outside {
    made: Vec<RemovedOnDrop>,
    lock: Option<std::sync::MutexGuard<'static, ()>>,
}

impl Drop for Outside {
    fn drop(&mut self) {
        // The files first, then the path is free for other cases.
        self.made.clear();
        self.lock.take();
    }
}

/// Compiles `base.pcfg` + an entry setting `field` to `value` in `dir`; writes the files.
/// A file removed when this goes out of scope.
struct RemovedOnDrop(PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        if std::fs::remove_file(&self.0).is_err() {
            // An empty directory this case made (a tree), never one that was there.
            let _ = std::fs::remove_dir(&self.0);
        }
    }
}

/// Held while a case makes a file outside its directory (an absolute value: `/pcfgmark`):
/// cases run on two threads, and a key, a tree and a script would otherwise make the same path
/// as different things at once.
static OUTSIDE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Makes what a payload field's value names — a directory for a tree, a program for a build
/// script — where the value names it; one outside `dir` only where nothing is, removed when
/// the returned guard is dropped.
fn payload_for(dir: &Path, field: &StringField, value: &str) -> Option<RemovedOnDrop> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tree = field.path == "system.trees";
    let script = [".postinst", ".finalize", ".post-output"]
        .iter()
        .any(|s| field.path.ends_with(s));
    if !(tree || script) || value.contains('\0') {
        return None;
    }
    let path = dir.join(value);
    let outside = !pcfg::vfs::normalize(&path).starts_with(dir);
    if outside && std::fs::symlink_metadata(&path).is_ok() {
        return None;
    }
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let made = if tree {
        std::fs::create_dir(&path).is_ok()
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"#!/bin/sh\nexit 0\n"))
            .is_ok()
    };
    // Made lazily: a guard made and dropped at once would remove what the case needs.
    (made && outside).then(|| RemovedOnDrop(path))
}

pub(crate) fn compile(dir: &Path, field: &StringField, value: &str) -> Outcome {
    std::fs::create_dir_all(dir.join("tools/usr/lib")).expect("mkdir");
    std::fs::create_dir_all(dir.join("base-tree")).expect("mkdir");
    std::fs::write(dir.join("base.pcfg"), BASE).expect("write");
    // A Flatpak remote's and an update channel's key must be a public key (binary): write one
    // where the value names it. Owner-only, as mkosi wants key files to be: an absolute marker
    // (`/pcfgmark`) is the same file as the signing keys' absolute marker.
    std::fs::write(dir.join("flatpak.gpg"), FLATPAK_KEY).expect("write");
    std::fs::write(dir.join("apt.gpg"), FLATPAK_KEY).expect("write");
    let key_fields = [
        "flatpak-remote.remote.key",
        "update.channel.main.key",
        "package-source.extra.key",
    ];
    // A key written outside the case's directory (an absolute value) is removed when the case
    // is done: left behind, `/pcfgmark` would be a file for every later run, where a
    // `base-tree` case expects nothing (it would read the key as a manifest).
    let mut outside = Outside {
        made: Vec::new(),
        lock: value.starts_with('/').then(|| {
            OUTSIDE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }),
    };
    outside.made.extend(payload_for(dir, field, value));
    if key_fields.contains(&field.path.as_str()) && !value.contains('\0') {
        use std::io::Write as _;
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let path = dir.join(value);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        // Created owner-only, never readable by others for a moment (a parallel case may be
        // reading the same absolute marker as a signing key).
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| file.write_all(FLATPAK_KEY));
        if written.is_ok() {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            if !path.starts_with(dir) {
                outside.made.push(RemovedOnDrop(path));
            }
        }
    }
    // An extension's source must be a tree: make the one the value names, where it can be.
    if field.path == "extension.tools.source" && !value.contains('\0') {
        let _ = std::fs::create_dir_all(dir.join(value).join("usr/lib"));
    }
    let value_text = if field.list {
        format!("[{}]", literal(value))
    } else {
        literal(value)
    };
    let entry = format!("import \"base.pcfg\"\n\n{} = {value_text}\n", field.path);
    std::fs::write(dir.join("system.pcfg"), &entry).expect("write");
    let compilation =
        pcfg::check(&RealFs, &dir.join("system.pcfg")).expect("the entry file is readable");
    if compilation.has_errors() {
        let value_line = entry.lines().count();
        let at_value = compilation.diagnostics.iter().any(|d| {
            d.is_error()
                && std::iter::once(&d.primary).chain(&d.labels).any(|label| {
                    let file = compilation.sources.get(label.span.file);
                    file.name.ends_with("system.pcfg")
                        && compilation.sources.line_col(label.span).line == value_line
                })
        });
        assert!(
            at_value,
            "{} = {value:?}: refused, but not at the value: {:?}",
            field.path, compilation.diagnostics
        );
        return Outcome::Refused;
    }
    let model = compilation.model.as_ref().expect("a model");
    let out = dir.join("out");
    let source = Source {
        entry_name: "system.pcfg",
        entry_dir: dir,
        entry_from_output: Path::new(".."),
        lock: None,
    };
    let inputs = pcfg::plan::Inputs::read(model, &RealFs, dir);
    let files = emit::emit(model, &compilation.sources, &source, &inputs).unwrap_or_else(|e| {
        panic!(
            "{} = {value:?}: `pcfg check` passed, but a writer refused: {e}",
            field.path
        )
    });
    write(&out, &files);
    Outcome::Written(out, outside)
}

fn write(out: &Path, files: &[File]) {
    for file in files {
        let path = out.join(&file.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, &file.contents).expect("write");
    }
}

/// Which parsers read the files the marker reached: the files under each prefix.
const READERS: &[(&str, &[&str])] = &[
    ("mkosi", &["mkosi/", "kernel/profiles/"]),
    ("repart build", &["repart.d/build/"]),
    ("repart install", &["repart.d/install/"]),
    ("sysupdate", &["sysupdate.d/"]),
    (
        "os-release",
        &["image-tree/usr/lib/os-release", "extensions/"],
    ),
    ("flatpak", &["image-tree/usr/share/flatpak/"]),
    ("apt", &["apt/"]),
    ("ninja", &["build.ninja"]),
    ("manifest", &["manifest.json"]),
    ("layout.svg", &["layout.svg"]),
    ("trust.svg", &["trust.svg"]),
    // Read by systemd's command-line parser in `assert_command_line`.
    ("cmdline", &["kernel/cmdline"]),
];

/// The emitted files under `out` that hold the marker, relative to `out`.
fn files_with_marker(out: &Path) -> Vec<String> {
    walkdir::WalkDir::new(out)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| std::fs::read(e.path()).is_ok_and(|t| contains(&t, MARK.as_bytes())))
        .map(|e| {
            let path = e.path().strip_prefix(out).expect("under out");
            path.to_string_lossy().into_owned()
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The parsers whose files hold the marker; panics when a file that holds it has no reader.
fn readers_of(out: &Path, case: &str) -> Vec<&'static str> {
    let files = files_with_marker(out);
    let unread: Vec<&String> = files
        .iter()
        .filter(|f| {
            !READERS
                .iter()
                .any(|(_, ps)| ps.iter().any(|p| f.starts_with(p)))
        })
        .collect();
    assert!(unread.is_empty(), "{case}: no real parser reads {unread:?}");
    READERS
        .iter()
        .filter(|(name, prefixes)| {
            *name != "cmdline"
                && files
                    .iter()
                    .any(|f| prefixes.iter().any(|p| f.starts_with(p)))
        })
        .map(|(name, _)| *name)
        .collect()
}

/// What the real parsers `readers` read from an output directory; paths of the directory
/// shown as `<dir>`.
fn parsed(out: &Path, dir: &Path, readers: &[&'static str]) -> BTreeMap<&'static str, Json> {
    let mut views = BTreeMap::new();
    for &reader in readers {
        let view = match reader {
            "mkosi" => mkosi(out),
            "repart build" => repart(&out.join("repart.d/build")),
            "repart install" => repart(&installable(out)),
            "sysupdate" => sysupdate(out),
            "os-release" => os_release(out),
            "flatpak" => key_files(&out.join("image-tree/usr/share/flatpak")),
            "apt" => apt_files(&out.join("apt")),
            "manifest" => manifest(out),
            "ninja" => ninja(out),
            other => svg(&out.join(other)),
        };
        views.insert(reader, view);
    }
    let dir = dir.display().to_string();
    views
        .into_iter()
        .map(|(k, v)| {
            (
                k,
                map_strings(v, &|s| mkosi_resources(&s.replace(&dir, "<dir>"))),
            )
        })
        .collect()
}

/// mkosi unpacks its own configuration (`Include=mkosi-initrd`) into a new temporary directory
/// each run: `/tmp/tmpXXXX/resources/...` is `<mkosi>/resources/...`.
fn mkosi_resources(s: &str) -> String {
    match (s.find("/tmp/tmp"), s.find("/resources/")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}<mkosi>{}", &s[..start], &s[end..])
        }
        _ => s.to_owned(),
    }
}

fn map_strings(value: Json, f: &dyn Fn(&str) -> String) -> Json {
    match value {
        Json::String(s) => Json::String(f(&s)),
        Json::Array(items) => Json::Array(items.into_iter().map(|v| map_strings(v, f)).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (f(&k), map_strings(v, f)))
                .collect(),
        ),
        other => other,
    }
}

/// `s` with every occurrence of each `from` replaced by its `to` in one pass, the first that
/// matches at a place winning: a replacement is never replaced again.
fn replace_at_once(s: &str, replacements: &[(String, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'outer: while let Some(c) = rest.chars().next() {
        for (from, to) in replacements {
            if !from.is_empty() {
                if let Some(after) = rest.strip_prefix(from.as_str()) {
                    out.push_str(to);
                    rest = after;
                    continue 'outer;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A view in the terms a reader means it, so that equal meanings compare equal: every
/// `directories` list with the parents of each entry, sorted and without repeats (what making
/// those directories makes: `/var/log` makes `/var`; `/` always exists), and a resource `path`
/// with repeated `/` collapsed (the marker `/pcfgmark` replaced by `/` makes `<root>//name`,
/// which is `<root>/name`).
fn normalized(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| match v {
                    Json::Array(items) if k == "directories" => {
                        let mut all = std::collections::BTreeSet::from(["/".to_owned()]);
                        for item in items.iter().filter_map(Json::as_str) {
                            let mut path = Path::new(item);
                            all.insert(item.to_owned());
                            while let Some(parent) = path.parent() {
                                all.insert(parent.to_string_lossy().into_owned());
                                path = parent;
                            }
                        }
                        (k, Json::Array(all.into_iter().map(Json::String).collect()))
                    }
                    Json::String(path) if k == "path" => {
                        let (scheme, rest) = path.split_once("://").unwrap_or(("", &path));
                        let mut collapsed = String::with_capacity(path.len());
                        for c in rest.chars() {
                            if !(c == '/' && collapsed.ends_with('/')) {
                                collapsed.push(c);
                            }
                        }
                        if !scheme.is_empty() {
                            collapsed = format!("{scheme}://{collapsed}");
                        }
                        (k, Json::String(collapsed))
                    }
                    other => (k, normalized(other)),
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(normalized).collect()),
        other => other,
    }
}

/// Where two JSON values differ: `path: expected → read`, at most ten places.
fn json_diff(expected: &Json, read: &Json, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    match (expected, read) {
        (Json::Object(a), Json::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let (x, y) = (
                    a.get(key).unwrap_or(&Json::Null),
                    b.get(key).unwrap_or(&Json::Null),
                );
                out.extend(json_diff(x, y, &format!("{at}.{key}")));
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                out.extend(json_diff(x, y, &format!("{at}[{i}]")));
            }
        }
        (a, b) if a != b => out.push(format!("{at}: {a} → {b}")),
        _ => {}
    }
    out.truncate(10);
    out
}

fn mkosi(out: &Path) -> Json {
    let output = Command::new(test_tool("mkosi"))
        .args(["--json", "summary"])
        .current_dir(out.join("mkosi"))
        .output()
        .expect("mkosi runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let mut summary: Json = serde_json::from_slice(&output.stdout).unwrap_or(Json::Null);
    // A random seed for each run.
    if let Some(Json::Array(images)) = summary.get_mut("Images") {
        for image in images {
            if let Json::Object(map) = image {
                map.remove("Seed");
            }
        }
    }
    serde_json::json!({ "summary": summary, "ok": output.status.success(), "stderr": stderr })
}

/// The install set as systemd-repart can lay it out in a scratch file: less `CopyBlocks=` and
/// `Encrypt=` (pcfg's own keys, which need the booted disk and its TPM).
fn installable(out: &Path) -> PathBuf {
    let dir = out.join("repart-install-scratch");
    std::fs::create_dir_all(&dir).expect("mkdir");
    for entry in std::fs::read_dir(out.join("repart.d/install")).expect("install set") {
        let entry = entry.expect("entry");
        let text = std::fs::read_to_string(entry.path()).expect("read");
        let kept: String = text
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("CopyBlocks=") && !l.starts_with("Encrypt="))
            .collect();
        std::fs::write(dir.join(entry.file_name()), kept).expect("write");
    }
    dir
}

/// systemd-repart's view of a definitions directory: its partitions, in dry-run, over an empty
/// root (labels with specifiers expand from the root's os-release).
fn repart(definitions: &Path) -> Json {
    static KEY: std::sync::OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> =
        std::sync::OnceLock::new();
    let (_, key, cert) = KEY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let (key, cert) = test_key(dir.path());
        (dir, key, cert)
    });
    let scratch = tempfile::tempdir().expect("tempdir");
    let root = scratch.path().join("root");
    for sub in ["usr/lib", "efi", "boot"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    std::fs::write(
        root.join("usr/lib/os-release"),
        "ID=pcfg\nIMAGE_ID=image\nIMAGE_VERSION=1\n",
    )
    .expect("write");
    let output = Command::new(test_tool("systemd-repart-backports"))
        .arg(format!("--root={}", root.display()))
        .arg(format!("--definitions={}", definitions.display()))
        .arg(format!("--private-key={}", key.display()))
        .arg(format!("--certificate={}", cert.display()))
        .args([
            "--empty=create",
            "--size=64G",
            "--dry-run=yes",
            "--offline=yes",
            "--json=short",
            "--no-pager",
        ])
        .arg(scratch.path().join("disk.raw"))
        .output()
        .expect("systemd-repart runs");
    let mut json: Json = serde_json::from_slice(&output.stdout).unwrap_or(Json::Null);
    // The definition file's path is a temporary directory's.
    if let Json::Array(parts) = &mut json {
        for part in parts {
            if let Json::Object(map) = part {
                for random in ["file", "node", "uuid"] {
                    map.remove(random);
                }
            }
        }
    }
    // What repart says about the definitions: warnings, not its progress.
    let stderr: String = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| {
            ["nknown", "gnoring", "ailed", "rror", "nvalid"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(|l| l.replace(&definitions.display().to_string(), "<definitions>") + "\n")
        .collect();
    serde_json::json!({
        "partitions": json,
        "ok": output.status.success(),
        "stderr": stderr,
        "made": made_directories(definitions),
    })
}

/// The directories systemd-repart makes (`MakeDirectories=`) in each partition that asks for
/// some, read from the file system it really creates: each such definition alone, formatted
/// ext4 (which `debugfs` reads back) and neither encrypted nor reset, built offline as a split
/// image and dumped.
fn made_directories(definitions: &Path) -> Json {
    let mut made = serde_json::Map::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(definitions)
        .expect("definitions")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        if !text.lines().any(|l| l.starts_with("MakeDirectories=")) {
            continue;
        }
        let scratch = tempfile::tempdir().expect("tempdir");
        let (alone, root, dump) = (
            scratch.path().join("d"),
            scratch.path().join("root"),
            scratch.path().join("dump"),
        );
        for dir in [&alone, &root, &dump] {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        let kept: String = text
            .split_inclusive('\n')
            .filter(|l| {
                ![
                    "Format=",
                    "Encrypt=",
                    "FactoryReset=",
                    "CopyBlocks=",
                    "SplitName=",
                    "Verity",
                ]
                .iter()
                .any(|k| l.starts_with(k))
            })
            .collect();
        let name = file.file_name().expect("name");
        std::fs::write(alone.join(name), kept + "Format=ext4\nSplitName=made\n").expect("write");
        let output = Command::new(test_tool("systemd-repart-backports"))
            .arg(format!("--root={}", root.display()))
            .arg(format!("--definitions={}", alone.display()))
            .args([
                "--empty=create",
                "--size=auto",
                "--dry-run=no",
                "--offline=yes",
                "--split=yes",
                "--json=off",
                "--no-pager",
            ])
            .arg(scratch.path().join("disk.raw"))
            .output()
            .expect("systemd-repart runs");
        let dumped = Command::new("debugfs")
            .arg("-R")
            .arg(format!("rdump / {}", dump.display()))
            .arg(scratch.path().join("disk.made.raw"))
            .output()
            .expect("debugfs runs");
        let directories: Vec<String> = walkdir::WalkDir::new(&dump)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_dir() && e.depth() > 0)
            .map(|e| {
                let path = e.path().strip_prefix(&dump).expect("under dump");
                format!("/{}", path.to_string_lossy())
            })
            .filter(|p| p != "/lost+found")
            .collect();
        made.insert(
            name.to_string_lossy().into_owned(),
            serde_json::json!({
                "ok": output.status.success() && dumped.status.success(),
                "directories": directories,
            }),
        );
    }
    Json::Object(made)
}

/// The manifest the update server answers with, and the lock one sysupdate run holds while
/// the server answers with its manifest.
static MANIFEST: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
static SYSUPDATE_RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A local update server for the transfers' URL sources: it answers every request with the
/// current `MANIFEST`, so systemd-sysupdate acquires a manifest at whatever URL it read.
/// Returns its port.
pub(crate) fn update_server() -> u16 {
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    *PORT.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // The request's head, then the manifest.
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match std::io::Read::read(&mut stream, &mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let body = MANIFEST.lock().map(|m| m.clone()).unwrap_or_default();
                let mut response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                response.extend(body);
                let _ = stream.write_all(&response);
            }
        });
        port
    })
}

/// A file name a sysupdate `MatchPattern=` matches: each `@x` field given a value of its kind
/// (version 1.2, a UUID, a hash, tries, flags), `@@` an `@`, and the unit-file `%%` a `%`.
/// sysupdate, not this, decides whether the name matches: a value that broke the pattern is a
/// name it does not list.
fn instance_of(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '%' && chars.clone().next() == Some('%') {
            chars.next();
        }
        if c != '@' {
            out.push(c);
            continue;
        }
        out.push_str(match chars.next() {
            Some('v') => "1.2",
            Some('u') => "8c8d1f36-0b1c-4c2c-9b9c-2b7c8d4e5f60",
            Some('h') => "0000000000000000000000000000000000000000000000000000000000000000",
            Some('l' | 'd') => "3",
            Some('@') => "@",
            _ => "0",
        });
    }
    out
}

/// What systemd-sysupdate reads from each channel: the manifest
/// URLs it acquires (its own rendering of each source `Path=`) and the versions and files it
/// finds through each source's `MatchPattern=`, in a manifest (a URL source) or a directory of
/// the scratch root (a directory source) that holds one file per pattern. Each transfer's
/// target is replaced by a directory in the scratch root (the sources are what is read back; a
/// partition target needs the booted disk), URL sources elsewhere are served by the local
/// server, signatures are not verified, and the files are named `*.conf` as systemd
/// 254 wants (pcfg names them for the default systemd).
fn sysupdate(out: &Path) -> Json {
    let server = format!("http://127.0.0.1:{}", update_server());
    let local = format!("{server}/updates");
    let mut channels = serde_json::Map::new();
    for channel in std::fs::read_dir(out.join("sysupdate.d")).expect("sysupdate.d") {
        let channel = channel.expect("entry").path();
        let files: Vec<PathBuf> = {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&channel)
                .expect("channel")
                .map(|e| e.expect("entry").path())
                .collect();
            files.sort();
            files
        };
        let scratch = tempfile::tempdir().expect("tempdir");
        let (definitions, root) = (scratch.path().join("d"), scratch.path().join("root"));
        std::fs::create_dir_all(&definitions).expect("mkdir");
        std::fs::create_dir_all(root.join("t")).expect("mkdir");
        let mut manifest = String::new();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("read");
            let mut kept = String::new();
            let mut section = "";
            let (mut local_source, mut names) = (None, Vec::new());
            for line in text.split_inclusive('\n') {
                if line.starts_with('[') {
                    section = line.trim_end();
                    kept.push_str(line);
                    match section {
                        "[Transfer]" => kept.push_str("Verify=no\n"),
                        "[Target]" => {
                            kept.push_str("Type=regular-file\nPath=/t\nMatchPattern=pcfg_@v\n");
                        }
                        _ => {}
                    }
                } else if section == "[Source]" {
                    if let Some(patterns) = line.trim_end().strip_prefix("MatchPattern=") {
                        names.extend(patterns.split(' ').map(instance_of));
                    }
                    if let Some(path) = line.trim_end().strip_prefix("Path=/") {
                        local_source = Some(path.replace("%%", "%"));
                    }
                    if line.starts_with("Path=http") && !line.starts_with(&format!("Path={server}"))
                    {
                        let _ = writeln!(kept, "Path={local}");
                    } else {
                        kept.push_str(line);
                    }
                } else if (section == "[Transfer]" && !line.starts_with("ProtectVersion="))
                    || (section != "[Target]" && !line.contains('='))
                {
                    kept.push_str(line);
                }
            }
            // A URL source finds these names in the server's manifest; a directory source (in
            // the scratch root) holds them.
            for name in &names {
                let _ = writeln!(manifest, "{:064}  {name}", 0);
            }
            if let Some(source) = local_source {
                let dir = root.join(source);
                std::fs::create_dir_all(&dir).expect("mkdir");
                for name in &names {
                    std::fs::write(dir.join(name), "image").expect("write");
                }
            }
            // systemd 254 reads `*.conf`; pcfg names them `*.transfer` for the default systemd.
            let name = file
                .file_stem()
                .expect("name")
                .to_string_lossy()
                .into_owned()
                + ".conf";
            std::fs::write(definitions.join(name), kept).expect("write");
        }
        let output = {
            let _run = SYSUPDATE_RUN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *MANIFEST
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = manifest.into_bytes();
            let run = |args: &[&str]| {
                Command::new(test_tool("systemd-sysupdate-backports"))
                    .arg(format!("--definitions={}", definitions.display()))
                    .arg(format!("--root={}", root.display()))
                    .args(args)
                    .arg("--no-pager")
                    .env("SYSTEMD_PULL_PATH", test_tool("systemd-pull-backports"))
                    .output()
                    .expect("systemd-sysupdate runs")
            };
            // The versions, then the resources of the one the manifest offers (their names).
            let (list, version) = (run(&["list"]), run(&["--json=short", "list", "1.2"]));
            (list, version)
        };
        let (output, version) = output;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut acquired: Vec<&str> = stderr
            .lines()
            .filter_map(|l| l.split_once("Acquiring manifest file ").map(|(_, url)| url))
            .collect();
        acquired.sort_unstable();
        let complaints: Vec<String> = stderr
            .lines()
            .filter(|l| {
                ["nknown", "gnoring", "ailed", "rror", "nvalid"]
                    .iter()
                    .any(|w| l.contains(w))
            })
            .map(|l| l.replace(&definitions.display().to_string(), "<definitions>"))
            .collect();
        channels.insert(
            channel
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
            serde_json::json!({
                "ok": output.status.success(),
                "acquired": acquired,
                "list": String::from_utf8_lossy(&output.stdout),
                "resources": resources(&version.stdout, &root),
                "complaints": complaints,
            }),
        );
    }
    Json::Object(channels)
}

/// The resources of a version as `systemd-sysupdate --json list VERSION` shows them, less the
/// modification times of the scratch root's files, its path shown as `<root>`.
fn resources(json: &[u8], root: &Path) -> Json {
    let mut json: Json = serde_json::from_slice(json).unwrap_or(Json::Null);
    if let Json::Array(items) = &mut json {
        for item in items {
            if let Json::Object(map) = item {
                map.remove("mtime");
            }
        }
    }
    let root = root.display().to_string();
    map_strings(json, &|s| s.replace(&root, "<root>"))
}

/// os-release and extension-release files as the shell reads them (os-release(5) makes them
/// shell-sourceable): every variable each file sets, from an empty environment.
fn os_release(out: &Path) -> Json {
    let mut files = serde_json::Map::new();
    for entry in walkdir::WalkDir::new(out).sort_by_file_name() {
        let entry = entry.expect("walk");
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_file()
            || !(name == "os-release" || name.starts_with("extension-release."))
        {
            continue;
        }
        let output = Command::new("env")
            .args(["-i", "/bin/sh", "-c", "set -a; . \"$1\" && env -0", "sh"])
            .arg(entry.path())
            .output()
            .expect("sh runs");
        let variables: serde_json::Map<String, Json> = output
            .stdout
            .split(|&b| b == 0)
            .filter_map(|v| {
                let (key, value) = std::str::from_utf8(v).ok()?.split_once('=')?;
                (!["PWD", "OLDPWD", "SHLVL", "_"].contains(&key))
                    .then(|| (key.to_owned(), Json::String(value.to_owned())))
            })
            .collect();
        let path = entry.path().strip_prefix(out).expect("under out");
        files.insert(
            path.to_string_lossy().into_owned(),
            serde_json::json!({
                "ok": output.status.success(),
                "variables": variables,
                "stderr": String::from_utf8_lossy(&output.stderr),
            }),
        );
    }
    Json::Object(files)
}

/// Every group and key of the key files under `dir`, by `GLib`'s `GKeyFile` (the parser Flatpak
/// reads its preinstall files with); values through `get_string`, which unescapes them.
fn key_files(dir: &Path) -> Json {
    const READ: &str = r#"
import json, sys
from gi.repository import GLib
out = {}
for path in sys.argv[1:]:
    k = GLib.KeyFile()
    try:
        k.load_from_file(path, GLib.KeyFileFlags.NONE)
        out[path] = {g: {key: k.get_string(g, key) for key in k.get_keys(g)[0]} for g in k.get_groups()[0]}
    except GLib.Error as e:
        out[path] = "refused: " + e.message
print(json.dumps(out, sort_keys=True))
"#;
    python_over_files(dir, READ)
}

/// Every stanza of the apt files under `dir` (sources and pins), by apt's own deb822 parser
/// (`apt_pkg.TagFile`, libapt-pkg's `pkgTagFile`), less the comment lines apt skips in both
/// kinds of file (`pkgTagFile::SUPPORT_COMMENTS`, which python-apt does not pass).
fn apt_files(dir: &Path) -> Json {
    const READ: &str = r##"
import json, sys, tempfile, apt_pkg
apt_pkg.init()
out = {}
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    try:
        with tempfile.TemporaryFile() as t:
            t.write(b"\n".join(l for l in lines if not l.startswith(b"#")))
            t.seek(0)
            out[path] = [{k: s[k] for k in s.keys()} for s in apt_pkg.TagFile(t)]
    except Exception as e:
        out[path] = "refused: " + str(e)
print(json.dumps(out, sort_keys=True))
"##;
    python_over_files(dir, READ)
}

/// What the Python program `read` prints as JSON for every file under `dir` (its arguments),
/// with whether it succeeded; paths relative to `dir`.
fn python_over_files(dir: &Path, read: &str) -> Json {
    let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().to_owned())
        .collect();
    let output = Command::new("/usr/bin/python3")
        .args(["-c", read])
        .args(&files)
        .output()
        .expect("python3 runs");
    let read: Json = serde_json::from_slice(&output.stdout).unwrap_or(Json::Null);
    let dir = format!("{}/", dir.display());
    map_strings(
        serde_json::json!({ "ok": output.status.success(), "files": read }),
        &|s| s.replace(&dir, ""),
    )
}

/// The manifest as a JSON parser reads it, less each file's size and hash (which change with
/// any value).
fn manifest(out: &Path) -> Json {
    let text = std::fs::read(out.join("manifest.json")).expect("manifest");
    let mut json: Json = match serde_json::from_slice(&text) {
        Ok(json) => json,
        Err(e) => return Json::String(format!("not JSON: {e}")),
    };
    if let Some(Json::Array(files)) = json.get_mut("files") {
        for file in files {
            if let Json::Object(map) = file {
                map.remove("bytes");
                map.remove("sha256");
            }
        }
    }
    json
}

/// Ninja's view of `build.ninja`: its targets and rules (`-t targets`), each target's inputs
/// and implicit inputs (`-t query`: the files a stamp watches, keys included), and each command
/// as Ninja expands it (`-t commands`) split into words as a POSIX shell splits them (`shlex`).
/// Step ids are content hashes, which change with any value: they are masked.
fn ninja(out: &Path) -> Json {
    let run = |tool: &str| {
        Command::new("ninja")
            .arg("-C")
            .arg(out)
            .args(["-t", tool, "all"])
            .output()
            .expect("ninja runs")
    };
    let (targets, commands) = (run("targets"), run("commands"));
    let names: Vec<String> = String::from_utf8_lossy(&targets.stdout)
        .lines()
        .filter_map(|l| l.rsplit_once(": ").map(|(t, _)| t.to_owned()))
        .collect();
    let query = Command::new("ninja")
        .arg("-C")
        .arg(out)
        .args(["-t", "query"])
        .args(&names)
        .output()
        .expect("ninja runs");
    let mut split = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import json, shlex, sys\nprint(json.dumps([shlex.split(l) for l in sys.stdin.read().splitlines()]))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    split
        .stdin
        .take()
        .expect("stdin")
        .write_all(&commands.stdout)
        .expect("write");
    let words = split.wait_with_output().expect("python3 runs");
    let words: Json = serde_json::from_slice(&words.stdout)
        .unwrap_or_else(|_| Json::String("not shell words".to_owned()));
    map_strings(
        serde_json::json!({
            "ok": targets.status.success() && commands.status.success() && query.status.success(),
            "targets": String::from_utf8_lossy(&targets.stdout),
            "inputs": String::from_utf8_lossy(&query.stdout),
            "commands": words,
            "stderr": String::from_utf8_lossy(&targets.stderr),
        }),
        &mask_ids,
    )
}

/// `name-<16 hex digits>` (a step's id) as `name-<id>`.
fn mask_ids(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let id = bytes[i] == b'-'
            && bytes.len() >= i + 17
            && bytes[i + 1..i + 17].iter().all(u8::is_ascii_hexdigit)
            && bytes.get(i + 17).is_none_or(|b| !b.is_ascii_hexdigit());
        if id {
            out.push_str("-<id>");
            i += 17;
        } else {
            let c = s[i..].chars().next().expect("a character");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every text node and attribute of an SVG, as an XML parser reads them.
fn svg(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).expect("svg");
    match roxmltree::Document::parse(&text) {
        Ok(doc) => {
            let mut items = Vec::new();
            for node in doc.descendants() {
                if let Some(t) = node.text() {
                    items.push(Json::String(t.to_owned()));
                }
                for attr in node.attributes() {
                    items.push(Json::String(format!("{}={}", attr.name(), attr.value())));
                }
            }
            Json::Array(items)
        }
        Err(e) => Json::String(format!("not well-formed: {e}")),
    }
}

/// Every option of the kernel command line holds for systemd's parser
/// (`ConditionKernelCommandLine=`), read from `kernel/cmdline` as the kernel gets it.
fn assert_command_line(out: &Path, options: &[String], case: &str) {
    let line = std::fs::read_to_string(out.join("kernel/cmdline")).expect("cmdline");
    let conditions: Vec<String> = options
        .iter()
        .map(|o| {
            // systemd unquotes `key="a b"`; conditions expand specifiers.
            let unquoted = o.replace('"', "");
            format!("ConditionKernelCommandLine={}", unquoted.replace('%', "%%"))
        })
        .collect();
    let output = Command::new("systemd-analyze")
        .arg("condition")
        .args(&conditions)
        .env("SYSTEMD_PROC_CMDLINE", line.trim_end_matches('\n'))
        .output()
        .expect("systemd-analyze runs");
    assert!(
        output.status.success(),
        "{case}: systemd does not see every option in {line:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The options pcfg means, for a value of the command line: the marker case's options with the
/// marker replaced.
fn options_of(compiled: &Path, value: &str) -> Vec<String> {
    let line = std::fs::read_to_string(compiled.join("kernel/cmdline")).expect("cmdline");
    line.trim_end_matches('\n')
        .split(' ')
        .map(|o| o.replace(MARK, value))
        .collect()
}

/// The marker a value is compared with: the rule's marker, in the value's shape where the
/// files carry the shape apart (a Flatpak ref's id, architecture and branch; a URL or a path
/// for an update source).
pub(crate) fn marker_for(rule: Str, value: &str) -> String {
    let id = format!("org.example.{MARK}");
    let parts: Vec<&str> = value.split('/').collect();
    let piece = |part: &str, marker: &str| {
        if part.is_empty() {
            String::new()
        } else {
            marker.to_owned()
        }
    };
    match (rule, parts.as_slice()) {
        (Str::FlatpakApp | Str::FlatpakRuntime, [kind, _, arch, branch]) => format!(
            "{kind}/{id}/{}/{}",
            piece(arch, ARCH),
            piece(branch, BRANCH)
        ),
        (Str::FlatpakRuntime, [_, arch, branch]) => {
            format!("{id}/{}/{}", piece(arch, ARCH), piece(branch, BRANCH))
        }
        (Str::FlatpakApp | Str::FlatpakRuntime, _) => id,
        (Str::Url | Str::ConfigPath, _) if value.starts_with('/') => format!("/{MARK}"),
        _ => marker(rule),
    }
}

/// What a value means: the value as the reader should see it where the whole marker was, and
/// the pieces of it where a file carries parts of the marker apart. In a label `%%` is a `%`
/// (`%A` is refused on the state partition the label is set on, and the grammar refuses any `%`
/// but `%A`, `%M` and `%%`); a Flatpak ref is split by Flatpak's ref syntax; a kernel module is
/// the pattern its file is matched by.
pub(crate) fn meaning(rule: Str, value: &str) -> (String, Vec<(String, String)>) {
    match rule {
        Str::GptLabel => (value.replace("%%", "%"), Vec::new()),
        // mkosi matches a module's file, which may spell `_` as `-` and the other way round.
        Str::KernelModule => (value.replace(['-', '_'], "[-_]"), Vec::new()),
        Str::FlatpakApp | Str::FlatpakRuntime => {
            let parts: Vec<&str> = value.split('/').collect();
            let (id, arch, branch) = match parts.as_slice() {
                [_, id, arch, branch] | [id, arch, branch] => (*id, *arch, *branch),
                _ => (value, "", ""),
            };
            let pieces = [(format!("org.example.{MARK}"), id), (ARCH.to_owned(), arch)]
                .into_iter()
                .chain([(BRANCH.to_owned(), branch)])
                .map(|(m, v)| (m, v.to_owned()))
                .collect();
            (value.to_owned(), pieces)
        }
        _ => (value.to_owned(), Vec::new()),
    }
}

/// A marker's output and what the real parsers read from it.
struct Marked {
    out: PathBuf,
    readers: Vec<&'static str>,
    views: BTreeMap<&'static str, Json>,
}

/// Compiles `mark` for `field` in `dir` and reads it back; panics when it is refused, when a
/// parser fails on it, or when a parser that reads its files does not show it.
fn marked(dir: &Path, field: &StringField, mark: &str) -> Marked {
    let Outcome::Written(out, _outside) = compile(dir, field, mark) else {
        panic!("{}: the marker {mark:?} is refused", field.path);
    };
    let readers = readers_of(&out, &field.path);
    let views = parsed(&out, dir, &readers);
    for (parser, view) in &views {
        let ok = view.get("ok").is_none_or(|ok| ok == &Json::Bool(true));
        assert!(
            ok,
            "{} = {mark:?}: {parser} fails on the marker: {view}",
            field.path
        );
        // The reader saw the marker, or it checked nothing.
        assert!(
            view.to_string().contains(MARK),
            "{} = {mark:?}: {parser} reads a file that holds the marker, but not the marker: {view}",
            field.path
        );
    }
    Marked {
        out,
        readers,
        views,
    }
}

/// One field and its values: each value is refused at the value, or read back by the real
/// parsers as the marker of its shape is, with the marker replaced by the value; returns the
/// values that were accepted and read back.
pub(crate) fn check_field(field: &StringField, values: &[String]) -> Vec<String> {
    let mut check = FieldCheck::new(field.clone());
    values
        .iter()
        .filter_map(|value| check.check(value))
        .collect()
}

/// The checks of one field: its scratch directory and the markers compiled so far, one per
/// shape of value.
pub(crate) struct FieldCheck {
    field: StringField,
    scratch: tempfile::TempDir,
    markers: BTreeMap<String, Marked>,
    cases: usize,
}

impl FieldCheck {
    /// Compiles and reads back the rule's marker; panics when it is refused or not read back.
    pub(crate) fn new(field: StringField) -> FieldCheck {
        let scratch = tempfile::tempdir().expect("tempdir");
        let rule_marker = marker(field.rule);
        let first = marked(&scratch.path().join("marker0"), &field, &rule_marker);
        FieldCheck {
            field,
            scratch,
            markers: BTreeMap::from([(rule_marker, first)]),
            cases: 0,
        }
    }

    /// Checks one value: `None` when it is refused at the value, the case when it is read back
    /// exactly; panics when it is neither.
    pub(crate) fn check(&mut self, value: &str) -> Option<String> {
        let field = &self.field;
        self.cases += 1;
        let dir = self.scratch.path().join(format!("case{}", self.cases));
        let mark = marker_for(field.rule, value);
        let Outcome::Written(mut out, mut outside) = compile(&dir, field, value) else {
            return None;
        };
        // The marker of an accepted value's shape, compiled once: compiling it takes what the
        // value's case holds outside its directory (`/pcfgmark`), so that is let go first and
        // the value compiled again.
        if !self.markers.contains_key(&mark) {
            drop(outside);
            let scratch = self.scratch.path();
            let first = marked(
                &scratch.join(format!("marker{}", self.markers.len())),
                field,
                &mark,
            );
            self.markers.insert(mark.clone(), first);
            let Outcome::Written(again, held) = compile(&dir, field, value) else {
                panic!("{} = {value:?}: accepted once, then refused", field.path);
            };
            (out, outside) = (again, held);
        }
        let _outside = outside;
        let marker = &self.markers[&mark];
        let case = format!("{} = {value:?}", field.path);
        // A value that holds the marker reaches the files the marker reaches, and no other.
        if value.contains(MARK) {
            assert_eq!(
                readers_of(&out, &case),
                marker.readers,
                "{case}: the value reaches other files than the marker"
            );
        }
        let views = parsed(&out, &dir, &marker.readers);
        let (meant, pieces) = meaning(field.rule, value);
        for (parser, view) in &views {
            let mut replacements = vec![(mark.clone(), meant.clone())];
            replacements.extend(pieces.iter().cloned());
            let expected = map_strings(marker.views[parser].clone(), &|s| {
                replace_at_once(s, &replacements)
            });
            let differences = json_diff(&normalized(expected), &normalized(view.clone()), "");
            assert!(
                differences.is_empty(),
                "{case}: {parser} reads something other than the value (expected → read):\n{}",
                differences.join("\n")
            );
        }
        // Wherever the value reaches the kernel command line (its own options, labels in the
        // image filter), systemd's parser must see every option.
        let marked_cmdline = marker.out.join("kernel/cmdline");
        if std::fs::read_to_string(&marked_cmdline).is_ok_and(|t| t.contains(MARK)) {
            assert_command_line(&out, &options_of(&marker.out, &meant), &case);
        }
        let _ = std::fs::remove_dir_all(&dir);
        Some(case)
    }
}

/// A value for a URL field as the readers can fetch it: an `http(s)://` URL's scheme and
/// authority become the local update server's, its path stays; anything else is kept.
pub(crate) fn fetchable(rule: Str, value: String) -> String {
    if rule != Str::Url || value.starts_with('/') {
        return value;
    }
    let path = value
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap_or_default();
    format!("http://127.0.0.1:{}{path}", update_server())
}

/// A tool `scripts/test-tools` installed (`target/test-tools/bin`, or `PCFG_TEST_TOOLS`), for
/// the tests and for the fuzz target (whose crate lives in `fuzz/`).
pub(crate) fn test_tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("PCFG_TEST_TOOLS").map_or_else(
        || {
            let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
            let root = if crate_dir.ends_with("fuzz") {
                crate_dir.parent().unwrap_or(crate_dir)
            } else {
                crate_dir
            };
            root.join("target/test-tools")
        },
        PathBuf::from,
    );
    let path = dir.join("bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `scripts/test-tools` first (README.md)",
        path.display()
    );
    path
}

/// A fresh self-signed key and certificate in `dir` (openssl), for builds that sign.
pub(crate) fn test_key(dir: &Path) -> (PathBuf, PathBuf) {
    let (key, cert) = (dir.join("test.key"), dir.join("test.crt"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=pcfg test",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs")
        .status;
    assert!(status.success());
    (key, cert)
}
