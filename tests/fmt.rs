//! `pcfg fmt`: the layout of the comment fixtures (snapshots), idempotence and meaning kept for
//! every `.pcfg` text the project has (examples, the standard library, test fixtures, the
//! book's blocks), and the command line (`--check`, `--diff`, standard input, errors).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pcfg::source::FileId;
use pcfg::syntax::format::{format, FormatError};
use walkdir::WalkDir;

use crate::support::{compile_file, pcfg, pcfg_in, Run};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pcfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("entry").into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcfg"))
        .collect();
    files.sort();
    files
}

/// Formats a text; `None` when it does not parse. Formatting twice changes nothing.
fn formatted(name: &str, text: &str) -> Option<String> {
    match format(FileId::FIRST, text) {
        Ok(once) => {
            let twice = format(FileId::FIRST, &once).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(once, twice, "{name}: formatting is not idempotent");
            Some(once)
        }
        Err(FormatError::Syntax(_)) => {
            assert!(
                pcfg::syntax::parse(FileId::FIRST, text).is_err(),
                "{name}: parses but does not format"
            );
            None
        }
        Err(FormatError::Unstable(why)) => panic!("{name}: {why}"),
    }
}

#[test]
fn comment_fixtures() {
    insta::glob!("cases/fmt/*.pcfg", |path| {
        let text = std::fs::read_to_string(path).expect("fixture");
        let out = formatted(&path.display().to_string(), &text).expect("fixture parses");
        insta::assert_snapshot!(out);
    });
}

/// Copies `dir` twice, formats every `.pcfg` file of the second copy, and compares what
/// `pcfg eval` (or the diagnostics' codes) says of each entry in both copies.
fn same_meaning_after_formatting(dir: &Path, entries: &[PathBuf]) {
    let temp = tempfile::tempdir().expect("temp dir");
    let (before, after) = (temp.path().join("before"), temp.path().join("after"));
    for copy in [&before, &after] {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(dir)
            .arg(copy)
            .status()
            .expect("cp");
        assert!(status.success());
    }
    for file in pcfg_files(&after) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        if let Some(out) = formatted(&file.display().to_string(), &text) {
            std::fs::write(&file, out).expect("write");
        }
    }
    for entry in entries {
        let relative = entry.strip_prefix(dir).expect("inside");
        let eval = |copy: &Path| -> Run { pcfg_in(copy, &["eval", &relative.to_string_lossy()]) };
        let (a, b) = (eval(&before), eval(&after));
        assert_eq!(a.code, b.code, "{}", relative.display());
        assert_eq!(a.stdout, b.stdout, "{}: another model", relative.display());
        let codes = |copy: &Path| -> Vec<String> {
            compile_file(&copy.join(relative))
                .diagnostics
                .iter()
                .map(|d| d.code.to_string())
                .collect()
        };
        assert_eq!(codes(&before), codes(&after), "{}", relative.display());
    }
}

#[test]
fn examples_and_the_standard_library_are_formatted() {
    let run = pcfg(&["fmt", "--check", "examples", "lang/std"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let entries: Vec<PathBuf> = pcfg_files(&root().join("examples"));
    same_meaning_after_formatting(&root().join("examples"), &entries);
}

#[test]
fn every_fixture_formats_idempotently_and_keeps_its_meaning() {
    for kind in ["ok", "err", "fmt"] {
        let dir = root().join("tests/cases").join(kind);
        let entries: Vec<PathBuf> = pcfg_files(&dir)
            .into_iter()
            .filter(|p| {
                p.parent() == Some(dir.as_path())
                    || p.file_name().is_some_and(|n| n == "system.pcfg")
            })
            .collect();
        assert!(!entries.is_empty());
        same_meaning_after_formatting(&dir, &entries);
    }
    // The normative examples (kept in the repository, their source of truth) are formatted.
    for name in ["minimal.pcfg", "particleos.pcfg", "remix.pcfg"] {
        let file = root().join("examples").join(name);
        let text = std::fs::read_to_string(&file).expect("readable");
        let out = formatted(&file.display().to_string(), &text).expect("parses");
        assert_eq!(
            out,
            text,
            "{}: the normative examples are formatted",
            file.display()
        );
    }
}

#[test]
fn every_book_block_formats_idempotently_and_keeps_its_meaning() {
    let particleos = std::fs::read(root().join("examples/particleos.pcfg")).expect("example");
    let mut count = 0;
    for (chapter, info, text) in crate::book::blocks() {
        let Some(out) = formatted(&chapter, &text) else {
            assert!(
                info.starts_with("error="),
                "{chapter}: does not parse\n{text}"
            );
            continue;
        };
        count += 1;
        let temp = tempfile::tempdir().expect("temp dir");
        let run = |name: &str, text: &str| -> Run {
            let dir = temp.path().join(name);
            std::fs::create_dir(&dir).expect("dir");
            std::fs::write(dir.join("particleos.pcfg"), &particleos).expect("write");
            std::fs::write(dir.join("book.pcfg"), text).expect("write");
            pcfg_in(&dir, &["eval", "book.pcfg"])
        };
        let (a, b) = (run("before", &text), run("after", &out));
        assert_eq!(a.code, b.code, "{chapter}\n{text}");
        assert_eq!(a.stdout, b.stdout, "{chapter}: another model\n{text}");
    }
    assert!(count >= 8, "book blocks formatted: {count}");
}

#[test]
fn every_catalogue_example_formats_idempotently_and_keeps_its_diagnostics() {
    let catalogue = std::fs::read_to_string(root().join("book/src/diagnostics.md")).expect("book");
    let particleos = std::fs::read(root().join("examples/particleos.pcfg")).expect("example");
    let mut count = 0;
    let mut lines = catalogue.lines();
    while let Some(line) = lines.next() {
        if !line.starts_with("```pcfg") {
            continue;
        }
        let text: String = lines.by_ref().take_while(|l| !l.starts_with("```")).fold(
            String::new(),
            |mut text, l| {
                let _ = writeln!(text, "{l}");
                text
            },
        );
        let Some(out) = formatted("diagnostics.md", &text) else {
            continue;
        };
        count += 1;
        let codes = |text: &str| -> Vec<String> {
            crate::support::compile_memory(&[
                ("example.pcfg", text.as_bytes()),
                ("particleos.pcfg", &particleos),
            ])
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect()
        };
        assert_eq!(codes(&text), codes(&out), "{text}");
    }
    assert!(count >= 40, "catalogue examples formatted: {count}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn fmt_rewrites_files_and_check_names_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let messy = write(dir.path(), "messy.pcfg", "system{name=\"x\"}  # kept\n\n\n");
    let tidy = write(dir.path(), "tidy.pcfg", "system { name = \"x\" }\n");
    let tidy_before = std::fs::metadata(&tidy)
        .expect("meta")
        .modified()
        .expect("mtime");

    let check = pcfg_in(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert_eq!(check.stdout, "messy.pcfg\n");

    let diff = pcfg_in(dir.path(), &["fmt", "--diff", "messy.pcfg"]);
    assert_eq!(diff.code, 1);
    insta::assert_snapshot!("fmt_diff", diff.stdout);
    assert_eq!(
        std::fs::read_to_string(&messy).expect("read"),
        "system{name=\"x\"}  # kept\n\n\n",
        "--check and --diff write nothing"
    );

    let run = pcfg_in(dir.path(), &["fmt"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&messy).expect("read"),
        "system { name = \"x\" }  # kept\n"
    );
    let tidy_after = std::fs::metadata(&tidy)
        .expect("meta")
        .modified()
        .expect("mtime");
    assert_eq!(tidy_before, tidy_after, "a formatted file is not rewritten");
    assert_eq!(pcfg_in(dir.path(), &["fmt", "--check"]).code, 0);
}

#[test]
fn fmt_formats_standard_input_to_standard_output() {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pcfg"))
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("pcfg runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"partition swap{size=8G,encrypt=tpm2}\n")
        .expect("write");
    let output = child.wait_with_output().expect("output");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "partition swap { size = 8G, encrypt = tpm2 }\n"
    );
}

#[test]
fn fmt_reports_a_syntax_error_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = write(dir.path(), "a.pcfg", "system{name=\"x\"}\n");
    write(dir.path(), "b.pcfg", "system { name = \"x }\n");
    let run = pcfg_in(dir.path(), &["fmt", "."]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("pcfg::unterminated-string"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(good).expect("read"),
        "system{name=\"x\"}\n",
        "no file is written when one does not parse"
    );
    let missing = pcfg_in(dir.path(), &["fmt", "nope.pcfg"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("nope.pcfg"), "{}", missing.stderr);
}

/// A deterministic generator of valid, oddly laid out texts: items, blocks, lists broken over
/// lines, comments and blank lines in every place the grammar allows them.
struct Messy {
    seed: u64,
}

impl Messy {
    fn next(&mut self, n: u64) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed % n
    }

    fn space(&mut self) -> &'static str {
        ["", " ", "  ", "\t"][self.next(4) as usize]
    }

    fn end_of_line(&mut self, out: &mut String) {
        if self.next(3) == 0 {
            let _ = write!(out, "{}# c{}", self.space(), self.next(100));
        }
        out.push('\n');
        for _ in 0..self.next(3) {
            if self.next(2) == 0 {
                let _ = writeln!(out, "{}# own{}", self.space(), self.next(100));
            } else {
                out.push('\n');
            }
        }
    }

    fn value(&mut self, out: &mut String, depth: u32) {
        match self.next(if depth < 2 { 7 } else { 6 }) {
            0 => out.push_str("\"s#1\""),
            1 => out.push_str("42"),
            2 => out.push_str("1.5G"),
            3 => out.push_str("key-file+tpm2"),
            4 => out.push_str("auto"),
            5 => out.push_str("0x1f"),
            _ => {
                out.push('[');
                let n = self.next(5);
                for i in 0..n {
                    out.push_str(self.space());
                    self.value(out, depth + 1);
                    if i + 1 < n || self.next(2) == 0 {
                        out.push(',');
                    }
                    if self.next(3) == 0 {
                        self.end_of_line(out);
                    }
                }
                out.push(']');
            }
        }
    }

    fn items(&mut self, out: &mut String, depth: u32) {
        for _ in 0..=self.next(4) {
            out.push_str(self.space());
            match self.next(if depth < 3 { 4 } else { 3 }) {
                0 => out.push_str("remove a.b"),
                1 | 2 => {
                    let _ = write!(out, "f{}.g", self.next(9));
                    out.push_str(self.space());
                    out.push_str(["=", "+=", "-="][self.next(3) as usize]);
                    out.push(' ');
                    if self.next(5) == 0 {
                        out.push_str("default ");
                    }
                    self.value(out, 0);
                }
                _ => {
                    let _ = write!(out, "b{} l{}", self.next(9), self.next(9));
                    out.push_str(self.space());
                    out.push('{');
                    if self.next(2) == 0 {
                        out.push(' ');
                        self.items_on_one_line(out);
                        out.push_str(" }");
                    } else {
                        self.end_of_line(out);
                        self.items(out, depth + 1);
                        out.push('}');
                    }
                }
            }
            if self.next(4) == 0 {
                out.push(',');
            }
            self.end_of_line(out);
        }
    }

    fn items_on_one_line(&mut self, out: &mut String) {
        for i in 0..=self.next(3) {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "k{} = ", self.next(9));
            self.value(out, 2);
        }
    }
}

#[test]
fn messy_texts_format_idempotently() {
    let mut messy = Messy {
        seed: 0x2545_f491_4f6c_dd1d,
    };
    let mut parsed = 0;
    for n in 0..3000 {
        let mut text = String::new();
        if n % 3 == 0 {
            text.push_str("import \"base.pcfg\" # base\n\n");
        }
        messy.items(&mut text, 0);
        // `format` itself checks that the tree and the comments are kept.
        if formatted(&format!("messy text {n}:\n{text}"), &text).is_some() {
            parsed += 1;
        }
    }
    assert!(parsed > 2900, "{parsed} of 3000 generated texts parse");
}

#[test]
fn fmt_through_a_symlink_formats_the_target_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("real.pcfg");
    std::fs::write(&real, "system   {  name = \"a\" }\n").expect("write");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = dir.path().join("system.pcfg");
    std::os::unix::fs::symlink("real.pcfg", &link).expect("symlink");
    let run = crate::support::pcfg_in(dir.path(), &["fmt", "system.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(&real).expect("read"),
        "system { name = \"a\" }\n"
    );
    let mode = std::fs::metadata(&real).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}
