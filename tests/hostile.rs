//! Hostile values, derived from the schema: every string field, given values built to break
//! the files pcfg writes (line breaks, `[Section]`, `Key=`, `%`, `$`, quotes, spaces, NUL and
//! other control characters, comment and list separators, non-ASCII), is either refused by
//! `pcfg check` at the value, or emitted so that the real parser of each file reads back exactly
//! the intended value and nothing else.
//!
//! "Exactly" is checked by a marker: each field is first compiled with a plain marker value
//! (`pcfgmark` in the field's grammar), then with the hostile value, which is the marker with
//! something added. What each real parser reads for the marker, with the marker replaced by the
//! hostile value, must be what it reads for the hostile value: no key gained or lost, no
//! section, no other setting changed. The parsers: systemd-repart (`--json`), mkosi
//! (`--json summary`, which also reads the UKI profiles), systemd's command-line parser
//! (`systemd-analyze condition` over `SYSTEMD_PROC_CMDLINE`), Ninja (`-t targets`), and an XML
//! parser for the pictures.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcfg::emit::{self, File, Source};
use pcfg::schema::{Str, StringField};
use pcfg::vfs::RealFs;
use serde_json::Value as Json;

const MARK: &str = "pcfgmark";

/// Every string field of the schema; labelled blocks get the label the base declares for them
/// (Flatpak fields belong to the Flatpak, other extension fields to the system extension).
fn string_fields() -> Vec<StringField> {
    pcfg::schema::string_fields(&|kind, field| match (kind, field) {
        ("partition", _) => "root",
        ("channel", _) => "main",
        ("uki-profile", _) => "debug",
        (_, "app" | "runtime") => "maps",
        _ => "tools",
    })
}

/// The base every case imports: ParticleOS with every string field in use (shared with the
/// `emit` fuzz target).
const BASE: &str = include_str!("hostile/base.pcfg");

/// A value of the rule's grammar that contains the marker.
fn marker(rule: Str) -> String {
    match rule {
        Str::AbsolutePath => format!("/{MARK}"),
        Str::Url => format!("https://example.org/{MARK}"),
        Str::FlatpakApp => format!("org.example.{MARK}"),
        Str::FlatpakRuntime => format!("org.example.{MARK}//1"),
        _ => MARK.to_owned(),
    }
}

/// Hostile values: the marker with something added after it, or before it.
fn hostile(rule: Str) -> Vec<String> {
    let m = marker(rule);
    let suffixes = [
        "\n",
        "\nPostInstallationScripts=/tmp/x.sh",
        "\nType=esp",
        "\n[Output]\nFormat=esp",
        "\r",
        "\rType=esp",
        "=Type=esp",
        "%",
        "%A",
        "%%",
        "%41",
        "$",
        "$HOME",
        "${HOME}",
        "$$",
        "\"",
        "\" quiet\"",
        "'",
        " x",
        " ",
        "\\",
        "\\\n",
        "\u{0}",
        "\u{1b}]0;title\u{7}",
        "\u{7f}",
        "é",
        "\u{2028}",
        "\u{85}",
        "\u{202e}",
        "#c",
        ";c",
        ",b",
        ":b",
        "~",
        "@",
        "\t",
        "*",
        "&<>",
        "--",
        "/../x",
        "/./x",
        "//x",
    ];
    let prefixes = [" ", "!", "~/", "@", "-", "#", "$", "%", "\""];
    let mut out: Vec<String> = suffixes.iter().map(|s| format!("{m}{s}")).collect();
    out.extend(prefixes.iter().map(|p| format!("{p}{m}")));
    out
}

/// A string literal of the language for `value`, as pcfg prints strings (control characters as
/// `\u{…}` escapes).
fn literal(value: &str) -> String {
    pcfg::syntax::ast::ValueKind::Str(value.to_owned()).to_string()
}

/// What compiling a case gave.
enum Outcome {
    /// An error at the value in the entry file.
    Refused,
    /// The emitted files, written into a directory.
    Written(PathBuf),
}

/// Compiles `base.pcfg` + an entry setting `field` to `value` in `dir`; writes the files.
fn compile(dir: &Path, field: &StringField, value: &str) -> Outcome {
    std::fs::create_dir_all(dir.join("tools/usr/lib")).expect("mkdir");
    std::fs::create_dir_all(dir.join("base-tree")).expect("mkdir");
    std::fs::write(dir.join("base.pcfg"), BASE).expect("write");
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
            let file = compilation.sources.get(d.primary.span.file);
            d.is_error()
                && file.name.ends_with("system.pcfg")
                && compilation.sources.line_col(d.primary.span).line == value_line
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
    Outcome::Written(out)
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
    ("ninja", &["build.ninja"]),
    ("layout.svg", &["layout.svg"]),
    ("trust.svg", &["trust.svg"]),
];

/// The parsers whose files hold the marker.
fn readers_of(out: &Path) -> Vec<&'static str> {
    READERS
        .iter()
        .filter(|(_, prefixes)| {
            walkdir::WalkDir::new(out)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .any(|e| {
                    let path = e.path().strip_prefix(out).expect("under out");
                    let path = path.to_string_lossy();
                    prefixes.iter().any(|p| path.starts_with(p))
                        && std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(MARK))
                })
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
    let output = Command::new(crate::support::test_tool("mkosi"))
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
        let (key, cert) = crate::build::test_key(dir.path());
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
    let output = Command::new(crate::support::test_tool("systemd-repart-backports"))
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
    serde_json::json!({ "partitions": json, "ok": output.status.success(), "stderr": stderr })
}

fn ninja(out: &Path) -> Json {
    let output = Command::new("ninja")
        .arg("-C")
        .arg(out)
        .args(["-t", "targets", "all"])
        .output()
        .expect("ninja runs");
    // Step ids are content hashes: they change with any value.
    let mut targets = String::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let (target, rule) = line.split_once(": ").unwrap_or((line, ""));
        let target = match target.rsplit_once('-') {
            Some((name, id)) if id.len() == 16 => format!("{name}-<id>"),
            _ => target.to_owned(),
        };
        let _ = writeln!(targets, "{target}: {rule}");
    }
    serde_json::json!({
        "ok": output.status.success(),
        "targets": targets,
        "stderr": String::from_utf8_lossy(&output.stderr),
    })
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

#[test]
fn hostile_values_are_refused_or_read_back_exactly() {
    let fields = string_fields();
    assert!(fields.len() >= 20, "the schema's string fields: {fields:?}");
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    let accepted = std::sync::Mutex::new(Vec::<String>::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(field) = fields.get(i) else { break };
                let result = std::panic::catch_unwind(|| check_field(field));
                match result {
                    Ok(values) => accepted.lock().expect("lock").extend(values),
                    Err(e) => {
                        let message = e
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        failures.lock().expect("lock").push(message);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Some hostile values are meant to pass (a `%`, a `$`, non-ASCII text): the test must have
    // read some back, or it checked nothing.
    let accepted = accepted.into_inner().expect("lock");
    assert!(accepted.len() >= 10, "accepted and read back: {accepted:?}");
    // Shown with `--nocapture`.
    let _ = writeln!(
        std::io::stdout(),
        "{} fields, {} hostile values each: {} accepted and read back exactly, the rest refused",
        fields.len(),
        hostile(Str::Text).len(),
        accepted.len()
    );
}

/// One field: the marker, then each hostile value; returns the hostile values that were
/// accepted and read back.
fn check_field(field: &StringField) -> Vec<String> {
    let scratch = tempfile::tempdir().expect("tempdir");
    let marked_dir = scratch.path().join("marker");
    let mark = marker(field.rule);
    let Outcome::Written(marked) = compile(&marked_dir, field, &mark) else {
        panic!("{}: the marker {mark:?} is refused", field.path);
    };
    let readers = readers_of(&marked);
    let expected_views = parsed(&marked, &marked_dir, &readers);
    for (parser, view) in &expected_views {
        let ok = view.get("ok").is_none_or(|ok| ok == &Json::Bool(true));
        assert!(ok, "{}: {parser} fails on the marker: {view}", field.path);
    }
    let mut accepted = Vec::new();
    for (n, value) in hostile(field.rule).into_iter().enumerate() {
        let dir = scratch.path().join(format!("case{n}"));
        let Outcome::Written(out) = compile(&dir, field, &value) else {
            continue;
        };
        let case = format!("{} = {value:?}", field.path);
        let views = parsed(&out, &dir, &readers);
        // What the value means: in a label `%%` is a `%` (`%A` is refused on the state partition
        // the label is set on, and the grammar refuses any `%` but `%A`, `%M` and `%%`).
        let meant = if field.rule == Str::GptLabel {
            value.replace("%%", "%")
        } else {
            value.clone()
        };
        for (parser, view) in &views {
            let expected = map_strings(expected_views[parser].clone(), &|s| {
                s.replace(&mark, &meant)
            });
            let differences = json_diff(&expected, view, "");
            assert!(
                differences.is_empty(),
                "{case}: {parser} reads something other than the value (expected → read):\n{}",
                differences.join("\n")
            );
        }
        // Wherever the value reaches the kernel command line (its own options, labels in the
        // image filter), systemd's parser must see every option.
        if std::fs::read_to_string(marked.join("kernel/cmdline")).is_ok_and(|t| t.contains(MARK)) {
            assert_command_line(&out, &options_of(&marked, &meant), &case);
        }
        accepted.push(case);
    }
    accepted
}

/// systemd-sysupdate reads a source path with `%` as written: `Path=` expands specifiers, so the
/// writer's `%%` is read back as `%` and the source directory is found.
#[test]
fn systemd_sysupdate_reads_a_source_path_with_percent_as_written() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path().join("config");
    let source = scratch.path().join("up%41dates");
    std::fs::create_dir_all(&source).expect("mkdir");
    let field = StringField {
        path: "update.channel.main.source".to_owned(),
        rule: Str::Url,
        list: false,
    };
    let Outcome::Written(out) = compile(&dir, &field, source.to_str().expect("utf-8")) else {
        panic!("an absolute path with `%` is a valid update source");
    };
    // The UKI transfer, with its target in a scratch directory (the source is what is tested).
    let transfers = out.join("sysupdate.d/main");
    let uki = std::fs::read_dir(&transfers)
        .expect("transfers")
        .map(|e| e.expect("entry").path())
        .find(|p| p.to_string_lossy().contains("uki"))
        .expect("a UKI transfer");
    let text = std::fs::read_to_string(&uki).expect("read");
    assert!(text.contains("%%41"), "{text}");
    let target = scratch.path().join("target");
    std::fs::create_dir_all(&target).expect("mkdir");
    let definitions = scratch.path().join("definitions");
    std::fs::create_dir_all(&definitions).expect("mkdir");
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("PathRelativeTo=") && !l.starts_with("ProtectVersion="))
        .map(|l| {
            if l == "Path=/EFI/Linux" {
                format!("Path={}\n", target.display())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(definitions.join("20-uki.conf"), kept).expect("write");
    std::fs::write(source.join("hostile_1.1_x86-64.efi"), "uki").expect("write");
    let output = Command::new(crate::support::test_tool("systemd-sysupdate-backports"))
        .arg(format!("--definitions={}", definitions.display()))
        .args(["list", "--no-pager"])
        .output()
        .expect("systemd-sysupdate runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1.1"),
        "systemd-sysupdate did not find the source: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
