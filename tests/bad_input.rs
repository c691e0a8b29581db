//! Hostile and broken input: each case gets a diagnostic with a code, never a panic, a hang or
//! a stack overflow.

use crate::support::{codes, compile_memory, pcfg_in, rendered};

#[test]
fn non_utf8() {
    let c = compile_memory(&[("s.pcfg", b"system { name = \"caf\xe9\" }\n")]);
    assert_eq!(codes(&c), ["pcfg::invalid-utf8"]);
    assert!(rendered(&c).contains("s.pcfg:1:21"), "{}", rendered(&c));
}

#[test]
fn nul_bytes() {
    let c = compile_memory(&[("s.pcfg", b"system { name = \"a\" }\n\0\0\0")]);
    assert_eq!(codes(&c), ["pcfg::invalid-character"]);
    let in_string = compile_memory(&[("s.pcfg", b"system { name = \"a\0b\" }\n")]);
    assert_eq!(codes(&in_string), ["pcfg::invalid-character"]);
}

#[test]
fn ten_thousand_levels_of_nesting() {
    let blocks = format!(
        "system {{ name = \"a\" }}\n{}{}",
        "trust { ".repeat(10_000),
        "}".repeat(10_000)
    );
    assert_eq!(
        codes(&compile_memory(&[("s.pcfg", blocks.as_bytes())])),
        ["pcfg::nesting-too-deep"]
    );
    let lists = format!(
        "system {{ name = \"a\", cmdline = {}{} }}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(
        codes(&compile_memory(&[("s.pcfg", lists.as_bytes())])),
        ["pcfg::nesting-too-deep"]
    );
    let path = format!("system.name = \"a\"\n{} = 1\n", vec!["a"; 10_000].join("."));
    assert_eq!(
        codes(&compile_memory(&[("s.pcfg", path.as_bytes())])),
        ["pcfg::nesting-too-deep"]
    );
}

#[test]
fn a_one_megabyte_string() {
    let long = "x".repeat(1 << 20);
    let text = format!("system {{ name = \"{long}\" }}\n");
    let c = compile_memory(&[("s.pcfg", text.as_bytes())]);
    assert_eq!(codes(&c), ["pcfg::invalid-value"]);
    let shown = rendered(&c);
    assert!(
        shown.len() < 2000,
        "the rendering quotes no megabyte line: {} bytes",
        shown.len()
    );
    assert!(shown.contains("line too long to quote"), "{shown}");
    // Every string has a grammar with a length limit; the message quotes 40 characters.
    let text = format!("system {{ name = \"a\", pretty-name = \"{long}\" }}\n");
    let c = compile_memory(&[("s.pcfg", text.as_bytes())]);
    assert_eq!(codes(&c), ["pcfg::invalid-value"]);
    assert!(rendered(&c).len() < 2000);
}

#[test]
fn a_fifty_megabyte_import() {
    let big = vec![b'#'; 50 << 20];
    let c = compile_memory(&[
        ("s.pcfg", b"import \"big.pcfg\"\nsystem.name = \"a\"\n"),
        ("big.pcfg", &big),
    ]);
    assert_eq!(codes(&c), ["pcfg::file-too-large"]);
    insta::assert_snapshot!(rendered(&c));
}

#[test]
fn a_missing_import_and_a_directory_import() {
    let c = compile_memory(&[
        ("s.pcfg", b"import \"nope.pcfg\"\nimport \"dir\"\n"),
        ("dir/x.pcfg", b""),
    ]);
    assert_eq!(
        codes(&c),
        ["pcfg::file-not-found", "pcfg::file-is-directory"]
    );
}

#[test]
fn entry_file_problems_are_failures_of_the_invocation() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("big.pcfg"), vec![b'#'; 50 << 20]).expect("write");
    std::fs::create_dir(dir.path().join("d.pcfg")).expect("mkdir");
    for (args, expected) in [
        (&["check", "missing.pcfg"][..], "no such file"),
        (&["check", "big.pcfg"][..], "bytes is more than"),
        (&["eval", "d.pcfg"][..], "it is a directory"),
    ] {
        let run = pcfg_in(dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.transcript());
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_fifo_import_does_not_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo.pcfg");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    std::fs::write(
        dir.path().join("s.pcfg"),
        "import \"fifo.pcfg\"\nsystem.name = \"a\"\n",
    )
    .expect("write");
    let run = pcfg_in(dir.path(), &["check", "s.pcfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("pcfg::file-unreadable"),
        "{}",
        run.stderr
    );
}

#[test]
fn garbage_never_panics() {
    // A deterministic sweep over short byte strings built from the grammar's characters.
    let alphabet: &[u8] = b"a{}[]=+-.,\"\\#\n 0x1.5GMB\t\xff";
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        let mut text = Vec::new();
        for _ in 0..(seed % 40) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let c = compile_memory(&[("s.pcfg", &text)]);
        for d in &c.diagnostics {
            let file = c.sources.get(d.primary.span.file);
            assert!(
                file.text().is_char_boundary(d.primary.span.start as usize),
                "{text:?}"
            );
            assert!(
                file.text().is_char_boundary(d.primary.span.end as usize),
                "{text:?}"
            );
        }
        let _ = rendered(&c);
    }
}

#[test]
fn a_fifo_lock_file_does_not_hang_check_locked_or_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("s.pcfg"), "system.name = \"a\"\n").expect("write");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("s.pcfg.lock"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // Were the FIFO opened for a blocking read, these would never return.
    let run = pcfg_in(dir.path(), &["check", "--locked", "s.pcfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("is not a valid lock file: not a regular file"),
        "{}",
        run.stderr
    );
    let run = pcfg_in(dir.path(), &["build", "s.pcfg", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn diagnostics_never_print_control_characters_from_the_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An ESC sequence that sets the terminal's title, a bidirectional override, in a string and
    // raw in the source.
    std::fs::write(
        dir.path().join("s.pcfg"),
        "system { name = \"a\\u{1b}]0;pwned\\u{7}\" }\npartition \u{1b}]0;x\u{7} { type = esp }\nsystem.pretty-name = \"\u{202e}x\"\n",
    )
    .expect("write");
    let run = pcfg_in(dir.path(), &["check", "s.pcfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!run.stderr.contains(c), "{c:?} in {}", run.stderr);
    }
}

#[test]
fn very_long_identifiers_are_shortened_in_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let long = "x".repeat(100_000);
    std::fs::write(
        dir.path().join("s.pcfg"),
        format!(
            "system {{ name = \"a\" }}\nsystem.{long} = 1\nextension {long} {{ kind = sysext }}\n"
        ),
    )
    .expect("write");
    let run = pcfg_in(dir.path(), &["check", "s.pcfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.len() < 10_000,
        "{} bytes of messages",
        run.stderr.len()
    );
}

#[test]
fn a_failing_stdout_or_stderr_exits_2_without_a_panic() {
    let full = || std::fs::File::create("/dev/full").expect("/dev/full");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.pcfg"), "system { name = 1 }\n").expect("write");
    for (args, stdout_full) in [
        (&["check", "bad.pcfg"][..], false),
        (&["explain"][..], true),
        (&["eval", "bad.pcfg"][..], false),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pcfg"));
        command.args(args).current_dir(dir.path());
        if stdout_full {
            command.stdout(full());
        } else {
            command.stderr(full());
        }
        let status = command.status().expect("pcfg runs");
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
}

/// A syntax error hides nothing else (issue 15): the imports written before it load and are
/// checked; a problem among files that a whole file imports is reported; one that the text
/// after the error could decide is not; block headers are checked in every file.
#[test]
fn a_syntax_error_hides_no_other_file_s_errors() {
    let compilation = compile_memory(&[
        (
            "s.pcfg",
            b"import \"base.pcfg\"\nimport \"mid.pcfg\"\nimport \"c.pcfg\"\nimport \"missing.pcfg\"\nsystem foo { }\nsystem.name = = 3\nimport \"after.pcfg\"\n",
        ),
        (
            "base.pcfg",
            b"system { name = \"x\", version = \"1\" }\nsystem.name = \"y\"\nremove partition.nothing\n",
        ),
        ("mid.pcfg", b"import \"a.pcfg\"\nimport \"b.pcfg\"\n"),
        ("a.pcfg", b"partition.swap.size = 8G\n"),
        ("b.pcfg", b"partition.swap.size = 9G\n"),
        // A sibling of `base.pcfg` under the broken file, which could still decide.
        ("c.pcfg", b"system.version = \"2\"\n"),
        ("after.pcfg", b"system.name = = 4\n"),
    ]);
    let mut found: Vec<(String, String)> = compilation
        .diagnostics
        .iter()
        .map(|d| {
            let file = compilation.sources.name(d.primary.span.file).to_owned();
            (d.code.to_string(), file)
        })
        .collect();
    found.sort();
    let expected = [
        ("pcfg::conflicting-definitions", "b.pcfg"),
        ("pcfg::duplicate-definition", "base.pcfg"),
        ("pcfg::file-not-found", "s.pcfg"),
        ("pcfg::remove-undefined", "base.pcfg"),
        ("pcfg::unexpected-label", "s.pcfg"),
        ("pcfg::unexpected-token", "s.pcfg"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(c, f)| ((*c).to_owned(), (*f).to_owned()))
        .collect();
    assert_eq!(found, expected);
}

/// A file system on which every file is saved again once it has been read: an editor writing
/// the files while `pcfg check` runs. It lasts ([`Vfs::lasting`]), so a compile lets go of each
/// text once parsed and reads it again for the diagnostics, and counts the reads.
struct SavedWhileRead {
    files: pcfg::vfs::MemoryFs,
    /// The read from which each file holds its new text: the second (while it is compiled) or
    /// the third (once the compile is over).
    saved_from: usize,
    reads: std::sync::Mutex<std::collections::BTreeMap<std::path::PathBuf, usize>>,
}

impl SavedWhileRead {
    fn new(saved_from: usize) -> Self {
        let mut files = pcfg::vfs::MemoryFs::new();
        files.insert(
            "s.pcfg",
            "import \"base.pcfg\"\nsystem { name = \"a\", version = \"1\" }\n",
        );
        files.insert("base.pcfg", "system {\n  colour = 3\n}\n");
        SavedWhileRead {
            files,
            saved_from,
            reads: std::sync::Mutex::default(),
        }
    }

    fn reads(&self) -> std::collections::BTreeMap<std::path::PathBuf, usize> {
        self.reads.lock().expect("not poisoned").clone()
    }
}

static SAVED_WHILE_READ: std::sync::LazyLock<SavedWhileRead> =
    std::sync::LazyLock::new(|| SavedWhileRead::new(2));

static SAVED_AFTER: std::sync::LazyLock<SavedWhileRead> =
    std::sync::LazyLock::new(|| SavedWhileRead::new(3));

impl pcfg::vfs::Vfs for SavedWhileRead {
    fn read(&self, path: &std::path::Path) -> Result<Vec<u8>, pcfg::vfs::VfsError> {
        let mut reads = self.reads.lock().expect("not poisoned");
        let count = reads.entry(path.to_path_buf()).or_default();
        *count += 1;
        let mut bytes = self.files.read(path)?;
        if *count >= self.saved_from {
            bytes.splice(0..0, b"# saved again\n".iter().copied());
        }
        Ok(bytes)
    }
    fn lasting(&self) -> Option<&'static dyn pcfg::vfs::Vfs> {
        Some(if self.saved_from == 2 {
            &*SAVED_WHILE_READ
        } else {
            &*SAVED_AFTER
        })
    }
    fn identity(&self, path: &std::path::Path) -> std::path::PathBuf {
        self.files.identity(path)
    }
    fn list_dir(&self, path: &std::path::Path) -> Vec<String> {
        self.files.list_dir(path)
    }
    fn tree_digest(&self, dir: &std::path::Path) -> Option<String> {
        self.files.tree_digest(dir)
    }
    fn walk(&self, dir: &std::path::Path) -> Result<Vec<pcfg::vfs::TreeEntry>, String> {
        self.files.walk(dir)
    }
    fn read_prefix(&self, path: &std::path::Path, len: usize) -> Option<Vec<u8>> {
        self.files.read_prefix(path, len)
    }
    fn read_range(&self, path: &std::path::Path, offset: u64, len: usize) -> Option<Vec<u8>> {
        self.files.read_range(path, offset, len)
    }
    fn sha256(&self, path: &std::path::Path) -> Result<[u8; 32], pcfg::vfs::VfsError> {
        self.files.sha256(path)
    }
    fn same_content(
        &self,
        a: &std::path::Path,
        b: &std::path::Path,
    ) -> Result<bool, pcfg::vfs::VfsError> {
        self.files.same_content(a, b)
    }
    fn executable(&self, path: &std::path::Path) -> Result<bool, pcfg::vfs::VfsError> {
        self.files.executable(path)
    }
}

/// A compile that goes on from the model lets go of each text once the file is parsed and
/// reads it again at the end (each file is read twice, not kept); a file that no longer holds
/// what was compiled is an error, and its diagnostics quote nothing of it. The same files left
/// alone compile without it, quoted as ever (every CLI snapshot reads its files again so).
#[test]
fn a_file_saved_again_while_it_is_compiled() {
    let saved = &*SAVED_WHILE_READ;
    let c = pcfg::compile::check_with(
        saved,
        std::path::Path::new("s.pcfg"),
        &pcfg::analysis::Quiet,
    )
    .expect("the entry file exists");
    let reads = saved.reads();
    assert!(reads.values().all(|&n| n == 2), "{reads:?}");
    assert_eq!(reads.len(), 2, "{reads:?}");
    assert_eq!(
        codes(&c),
        [
            "pcfg::source-changed",
            "pcfg::source-changed",
            "pcfg::unknown-field"
        ]
    );
    insta::assert_snapshot!(rendered(&c));

    let kept = compile_memory(&[
        (
            "s.pcfg",
            b"import \"base.pcfg\"\nsystem { name = \"a\", version = \"1\" }\n",
        ),
        ("base.pcfg", b"system {\n  colour = 3\n}\n"),
    ]);
    assert_eq!(codes(&kept), ["pcfg::unknown-field"]);
    assert!(
        rendered(&kept).contains("2 │   colour = 3"),
        "{}",
        rendered(&kept)
    );
}

/// At the end of the compile every file is read again and checked, and only the texts a
/// diagnostic points into are kept: rendering reads nothing more, and a file saved after the
/// compile is read a third time only when its text is asked for, which then finds the change
/// (nothing of it quoted) rather than lending another text.
#[test]
fn only_the_texts_diagnostics_quote_are_kept_after_the_compile() {
    let saved = &*SAVED_AFTER;
    let c = pcfg::compile::check_with(
        saved,
        std::path::Path::new("s.pcfg"),
        &pcfg::analysis::Quiet,
    )
    .expect("the entry file exists");
    let twice: std::collections::BTreeMap<std::path::PathBuf, usize> =
        [("base.pcfg".into(), 2), ("s.pcfg".into(), 2)].into();
    assert_eq!(saved.reads(), twice);
    assert_eq!(codes(&c), ["pcfg::unknown-field"]);
    let shown = rendered(&c);
    assert!(shown.contains("2 │   colour = 3"), "{shown}");
    assert_eq!(saved.reads(), twice, "the quoted text was kept");

    let (_, entry) = c
        .sources
        .files()
        .find(|(_, file)| file.name == "s.pcfg")
        .expect("the entry is a source");
    assert_eq!(entry.text(), "", "another text is not lent");
    assert!(entry.changed());
    assert_eq!(saved.reads().get(std::path::Path::new("s.pcfg")), Some(&3));
}
