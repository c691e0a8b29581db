//! Hostile values, derived from the schema: every string field, given values built to break
//! the files pcfg writes (line breaks, `[Section]`, `Key=`, `%`, `$`, quotes, spaces, NUL and
//! other control characters, comment and list separators, non-ASCII), is either refused by
//! `pcfg check` at the value, or emitted so that the real parser of each file reads back exactly
//! the intended value and nothing else (`readback`). Each hostile value is the marker with
//! something added before or after it.
//!
//! The same check replays the `emit` fuzz target's corpus (`fuzz/seeds/emit`): the values the
//! fuzzer found, read back by the real parsers.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcfg::schema::{Str, StringField};

use crate::readback::{check_field, compile, fetchable, marker, string_fields, Outcome};

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

#[test]
fn hostile_values_are_refused_or_read_back_exactly() {
    let fields = string_fields();
    assert!(fields.len() >= 20, "the schema's string fields: {fields:?}");
    let jobs: Vec<(StringField, Vec<String>)> = fields
        .into_iter()
        .map(|f| {
            let values = hostile(f.rule);
            (f, values)
        })
        .collect();
    let accepted = check_fields(&jobs);
    // Some hostile values are meant to pass (a `%`, a `$`, non-ASCII text): the test must have
    // read some back, or it checked nothing.
    assert!(accepted.len() >= 10, "accepted and read back: {accepted:?}");
    // Shown with `--nocapture`.
    let _ = writeln!(
        std::io::stdout(),
        "{} fields, {} hostile values each: {} accepted and read back exactly, the rest refused",
        jobs.len(),
        hostile(Str::Text).len(),
        accepted.len()
    );
}

/// The `emit` fuzz target's corpus (`fuzz/seeds/emit`, minimized with `cargo fuzz cmin`),
/// replayed through the real parsers: each input is a field (its first byte, as the target
/// chooses) and a value (the rest). Every value is refused at the value or read back exactly.
#[test]
fn fuzz_corpus_values_are_refused_or_read_back_exactly() {
    let fields = string_fields();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/emit");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("fuzz/seeds/emit")
        .map(|e| e.expect("entry").path())
        .collect();
    inputs.sort();
    let mut values: Vec<std::collections::BTreeSet<String>> =
        vec![std::collections::BTreeSet::default(); fields.len()];
    for input in &inputs {
        let data = std::fs::read(input).expect("read");
        let Some((&choice, value)) = data.split_first() else {
            continue;
        };
        // A URL is fetched from the local update server: its scheme and authority become the
        // server's, its path stays the fuzzer's.
        let field = &fields[usize::from(choice) % fields.len()];
        let value = fetchable(field.rule, String::from_utf8_lossy(value).into_owned());
        values[usize::from(choice) % fields.len()].insert(value);
    }
    let jobs: Vec<(StringField, Vec<String>)> = fields
        .into_iter()
        .zip(values)
        .filter(|(_, v)| !v.is_empty())
        .map(|(f, v)| (f, v.into_iter().collect()))
        .collect();
    let total: usize = jobs.iter().map(|(_, v)| v.len()).sum();
    assert!(total >= 100, "the corpus holds {total} values");
    let accepted = check_fields(&jobs);
    assert!(accepted.len() >= 20, "accepted and read back: {accepted:?}");
    let _ = writeln!(
        std::io::stdout(),
        "{} corpus inputs, {total} distinct values over {} fields: {} accepted and read back exactly, the rest refused",
        inputs.len(),
        jobs.len(),
        accepted.len()
    );
}

/// Checks each field with its values on two threads; panics with every failure; returns the
/// cases accepted and read back.
fn check_fields(jobs: &[(StringField, Vec<String>)]) -> Vec<String> {
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    let accepted = std::sync::Mutex::new(Vec::<String>::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((field, values)) = jobs.get(i) else {
                    break;
                };
                match std::panic::catch_unwind(|| check_field(field, values)) {
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
    accepted.into_inner().expect("lock")
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
    let Outcome::Written(out, _outside) = compile(&dir, &field, source.to_str().expect("utf-8"))
    else {
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
