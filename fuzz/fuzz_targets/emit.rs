//! A value for one string field of the schema, then the whole build: whatever `pcfg check`
//! accepts, every writer must write (a writer's refusal after a clean check is a defect), and
//! every emitted file must keep the shape of its syntax — no line a value broke, added or turned
//! into a section, key or comment. The real parsers (systemd-repart, systemd-sysupdate, mkosi,
//! systemd's command-line parser, Ninja, the shell, GLib's key-file parser, XML and JSON
//! parsers) take about a second an input, so `tests/hostile.rs` runs them on this target's
//! minimized corpus (`fuzz/seeds/emit`) in `cargo test`, besides its own hostile values.
//! With `PCFG_FUZZ_READBACK=1` this target runs them itself on every input it builds (the same
//! code, `tests/readback.rs`): slow, but every value the fuzzer tries is read back by them.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use pcfg::vfs::MemoryFs;

/// The readers of `tests/hostile.rs`, and the base with every string field in use.
#[path = "../../tests/readback.rs"]
#[allow(dead_code)]
mod readback;

use readback::BASE;

/// One `FieldCheck` per field, kept across inputs: each compiles its markers once.
static READBACK: Mutex<BTreeMap<String, readback::FieldCheck>> = Mutex::new(BTreeMap::new());

/// The shape of a line of a `[Section]` / `Key=Value` file: blank, a comment, a section, a key,
/// or (mkosi) an indented continuation.
fn well_formed_ini(text: &str, continuations: bool) -> bool {
    text.lines().all(|line| {
        line.is_empty()
            || line.starts_with('#')
            || (line.starts_with('[') && line.ends_with(']') && !line[1..].contains('['))
            || (continuations && line.starts_with("        ") && !line.trim().is_empty())
            || line
                .split_once('=')
                .is_some_and(|(key, _)| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()))
    }) && !text.chars().any(|c| c.is_control() && c != '\n')
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, value)) = data.split_first() else {
        return;
    };
    let fields = readback::string_fields();
    let field = &fields[usize::from(choice) % fields.len()];
    let (path, list) = (&field.path, &field.list);
    let raw = String::from_utf8_lossy(value).into_owned();
    // A string literal as pcfg prints strings.
    let literal = pcfg::syntax::ast::ValueKind::Str(raw.clone()).to_string();
    let value = if *list {
        format!("[{literal}]")
    } else {
        literal
    };
    let mut fs = MemoryFs::new();
    fs.insert("base.pcfg", BASE);
    fs.insert("flatpak.gpg", readback::FLATPAK_KEY);
    fs.insert("tools/usr/share/tools/README", "tools\n");
    fs.insert("base-tree/usr/share/base/README", "base\n");
    fs.insert("system.pcfg", format!("import \"base.pcfg\"\n{path} = {value}\n"));
    let Ok(compilation) = pcfg::compile::check(&fs, Path::new("system.pcfg")) else {
        return;
    };
    if compilation.has_errors() {
        return;
    }
    let Some(model) = &compilation.model else {
        return;
    };
    let source = pcfg::emit::Source {
        entry_name: "system.pcfg",
        entry_dir: Path::new(""),
        entry_from_output: Path::new(""),
        lock: None,
    };
    let inputs = pcfg::plan::Inputs::read(model, &fs, Path::new(""));
    let files = pcfg::emit::emit(model, &compilation.sources, &source, &inputs)
        .unwrap_or_else(|refused| panic!("{path} = {value}: check passed, a writer refused: {refused}"));
    for file in &files {
        let ok = if file.path.starts_with("repart.d/") || file.path.starts_with("sysupdate.d/") {
            well_formed_ini(&file.contents, false)
        } else if file.path.starts_with("mkosi/") || file.path.starts_with("kernel/profiles/") {
            well_formed_ini(&file.contents, true)
        } else if file.path == "kernel/cmdline" {
            file.contents.lines().count() == 1
                && !file.contents.trim_end_matches('\n').chars().any(char::is_control)
        } else {
            !file.contents.chars().any(|c| c.is_control() && c != '\n')
        };
        assert!(ok, "{path} = {value}: {} lost its shape:\n{}", file.path, file.contents);
    }
    // The real parsers, when asked: refused at the value or read back exactly, or a panic.
    if std::env::var_os("PCFG_FUZZ_READBACK").is_some() {
        let mut checks = READBACK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let check = checks
            .entry(field.path.clone())
            .or_insert_with(|| readback::FieldCheck::new(field.clone()));
        check.check(&readback::fetchable(field.rule, raw));
    }
});
