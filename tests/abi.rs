//! The merged `/usr` checked as the dynamic loader sees it (issue 14): a small C library in two
//! versions (linker version scripts), a base program that needs the newer one, and an
//! extension that ships the older one — as a regular file and in Debian's
//! `libfoo.so.0 -> libfoo.so.0.N.0` layout. pcfg reports the break; the real loader fails the
//! same way on the merged tree; the suggested fix makes both clean.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::extensions::gcc;
use crate::support::pcfg_in;

const LIB_DIR: &str = "usr/lib/x86_64-linux-gnu";

/// `libfoo.so.0.N.0`: version 1 defines `V_1.0` (`foo_old`), version 2 also `V_1.1`
/// (`foo_new`).
fn library(work: &Path, version: u8, out: &Path) {
    let (script, source) = if version == 1 {
        (
            "V_1.0 { global: foo_old; local: *; };\n",
            "int foo_old(void) { return 1; }\n",
        )
    } else {
        (
            "V_1.0 { global: foo_old; local: *; };\nV_1.1 { global: foo_new; } V_1.0;\n",
            "int foo_old(void) { return 1; }\nint foo_new(void) { return 2; }\n",
        )
    };
    let map = work.join(format!("foo{version}.map"));
    std::fs::write(&map, script).expect("write");
    let map_arg = format!("-Wl,--version-script={}", map.display());
    gcc(
        work,
        source,
        out,
        &["-shared", "-fPIC", "-Wl,-soname,libfoo.so.0", &map_arg],
    );
}

struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    /// The base (a program needing `V_1.1`, libfoo 2 behind `libfoo.so.0`) and extension
    /// `app` with libfoo 1, as a link (`linked`) or a regular file.
    fn new(linked: bool) -> Scene {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let work = root.join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        let base_lib = root.join("base").join(LIB_DIR);
        library(&work, 2, &base_lib.join("libfoo.so.0.2.0"));
        std::os::unix::fs::symlink("libfoo.so.0.2.0", base_lib.join("libfoo.so.0")).expect("link");
        std::os::unix::fs::symlink("libfoo.so.0", base_lib.join("libfoo.so")).expect("link");
        let link_arg = format!("-L{}", base_lib.display());
        gcc(
            &work,
            "int foo_new(void);\nint main(void) { return foo_new() == 2 ? 0 : 1; }\n",
            &root.join("base/usr/bin/compositor"),
            &[&link_arg, "-lfoo"],
        );
        std::fs::remove_file(base_lib.join("libfoo.so")).expect("rm");
        let ext_lib = root.join("ext/app").join(LIB_DIR);
        if linked {
            library(&work, 1, &ext_lib.join("libfoo.so.0.1.0"));
            std::os::unix::fs::symlink("libfoo.so.0.1.0", ext_lib.join("libfoo.so.0"))
                .expect("link");
        } else {
            library(&work, 1, &ext_lib.join("libfoo.so.0"));
        }
        std::fs::write(root.join("ext/app/usr/lib/app-data"), "data").expect("write");
        Scene { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn check(&self, extension: &str) -> crate::support::Run {
        let config = format!(
            "system {{ name = \"desk\", version = \"1\", base-tree = \"base\" }}\n{extension}\n"
        );
        std::fs::write(self.root().join("system.pcfg"), config).expect("write");
        pcfg_in(self.root(), &["check", "system.pcfg"])
    }

    /// `(code, message)` of each diagnostic, from `pcfg check --format json`.
    fn findings(&self) -> Vec<(String, String)> {
        let run = pcfg_in(self.root(), &["check", "--format", "json", "system.pcfg"]);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
        report["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap_or("").to_owned(),
                    d["message"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// The merged tree as systemd-sysext makes it: the base, the extension's files on top.
    fn merged(&self) -> PathBuf {
        let merged = self.root().join("merged");
        let _ = std::fs::remove_dir_all(&merged);
        for from in ["base", "ext/app"] {
            let status = Command::new("cp")
                .args(["-a", "--remove-destination", "-T"])
                .arg(self.root().join(from))
                .arg(&merged)
                .status()
                .expect("cp runs");
            assert!(status.success());
        }
        merged
    }

    /// Runs the base's program with the real dynamic loader over the merged tree.
    fn run_compositor(&self) -> (bool, String) {
        let merged = self.merged();
        let output = Command::new("/lib64/ld-linux-x86-64.so.2")
            .arg("--library-path")
            .arg(merged.join(LIB_DIR))
            .arg(merged.join("usr/bin/compositor"))
            .output()
            .expect("ld.so runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

#[test]
fn an_extension_s_old_library_breaks_the_base_and_the_fix_loads() {
    for linked in [true, false] {
        let scene = Scene::new(linked);
        let extension = "extension app { kind = sysext, source = \"ext/app\" }";
        let run = scene.check(extension);
        assert_eq!(run.code, 1, "{}", run.transcript());
        let found = scene.findings();
        let library = if linked {
            "libfoo.so.0.1.0"
        } else {
            "libfoo.so.0"
        };
        let wanted = format!("`usr/bin/compositor` (the base) needs `V_1.1` of `libfoo.so.0`, which `{LIB_DIR}/{library}` (extension `app`) does not define: extension `app` puts it in front of the base's `{LIB_DIR}/libfoo.so.0.2.0`");
        assert!(
            found.contains(&("pcfg::abi-break".to_owned(), wanted.clone())),
            "{wanted}\n{found:?}"
        );
        if linked {
            insta::assert_snapshot!("abi-break", run.transcript());
        }
        // The real loader agrees.
        let (ok, stderr) = scene.run_compositor();
        assert!(
            !ok && stderr.contains("version `V_1.1' not found"),
            "{stderr}"
        );
        // `overrides = [base]` declares which copy wins; it does not make the old one new.
        let run = scene
            .check("extension app { kind = sysext, source = \"ext/app\", overrides = [base] }");
        assert!(run.stderr.contains("pcfg::abi-break"), "{}", run.stderr);
        // The fix the help line gives: drop the library (and its links) from the extension.
        for file in ["libfoo.so.0", "libfoo.so.0.1.0"] {
            let _ = std::fs::remove_file(scene.root().join("ext/app").join(LIB_DIR).join(file));
        }
        let run = scene.check(extension);
        assert_eq!(run.code, 0, "{}", run.transcript());
        let (ok, stderr) = scene.run_compositor();
        assert!(ok, "{stderr}");
    }
}

/// An extension's ELF file of another machine than `system.arch`.
#[test]
fn an_elf_file_of_another_machine_is_refused() {
    let scene = Scene::new(false);
    let library = scene
        .root()
        .join("ext/app")
        .join(LIB_DIR)
        .join("libfoo.so.0");
    let mut bytes = std::fs::read(&library).expect("read");
    // e_machine (little-endian, at 18): EM_AARCH64.
    bytes[18..20].copy_from_slice(&183u16.to_le_bytes());
    std::fs::write(&library, bytes).expect("write");
    let run = scene.check("extension app { kind = sysext, source = \"ext/app\" }");
    assert!(
        run.stderr.contains("pcfg::elf-architecture"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!("elf-architecture", run.stderr);
}

/// The base as pcfg's manifest (`pcfg base-manifest`): the same diagnosis without the tree, as
/// `system.base-tree` and as `pcfg extensions --base`.
#[test]
fn the_base_as_a_manifest_answers_the_same() {
    let scene = Scene::new(true);
    let write = pcfg_in(scene.root(), &["base-manifest", "base", "-o", "base.json"]);
    assert_eq!(write.code, 0, "{}", write.transcript());
    let manifest = std::fs::read_to_string(scene.root().join("base.json")).expect("manifest");
    assert!(
        manifest.starts_with("{\"pcfg-base-manifest\":1,"),
        "{manifest}"
    );
    assert!(
        manifest.contains("\"link\":\"libfoo.so.0.2.0\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("[\"libfoo.so.0\",[\"V_1.1\"]]"),
        "{manifest}"
    );
    // The tree itself is gone: only the manifest answers.
    std::fs::rename(scene.root().join("base"), scene.root().join("gone")).expect("rename");
    let config = "system { name = \"desk\", version = \"1\", base-tree = \"base.json\" }\nextension app { kind = sysext, source = \"ext/app\" }\n";
    std::fs::write(scene.root().join("system.pcfg"), config).expect("write");
    let found = scene.findings();
    let codes: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        codes,
        ["pcfg::extension-shadowing", "pcfg::abi-break"],
        "{found:?}"
    );
    // The same through `--base`, for a configuration that names no base.
    let config = "system { name = \"desk\", version = \"1\" }\nextension app { kind = sysext, source = \"ext/app\" }\n";
    std::fs::write(scene.root().join("system.pcfg"), config).expect("write");
    let run = pcfg_in(
        scene.root(),
        &[
            "extensions",
            "--format",
            "json",
            "--base",
            "base.json",
            "system.pcfg",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"pcfg::abi-break"), "{codes:?}");
}

/// The build plan checks the extensions against the base it builds: `build.ninja`'s check
/// step, run as Ninja runs it once mkosi has made the base tree, writes the base's manifest
/// and fails on the break; without the old library it passes.
#[test]
fn the_build_checks_the_extensions_against_the_built_base() {
    let scene = Scene::new(true);
    let config = "system { name = \"desk\", version = \"1\" }\nextension app { kind = sysext, source = \"ext/app\" }\n";
    std::fs::write(scene.root().join("system.pcfg"), config).expect("write");
    let build = pcfg_in(scene.root(), &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(build.code, 0, "{}", build.transcript());
    let out = scene.root().join("out");
    // What mkosi would have built: the base tree.
    let base_tree = out.join("mkosi/mkosi.output/base");
    std::fs::create_dir_all(base_tree.parent().expect("parent")).expect("mkdir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(scene.root().join("base"))
        .arg(&base_tree)
        .status()
        .expect("cp runs");
    assert!(status.success());
    let ninja = std::fs::read_to_string(out.join("build.ninja")).expect("build.ninja");
    let stamp = ninja
        .lines()
        .find_map(|l| l.strip_prefix("build ")?.split_once(": check")?.0.into())
        .expect("a check step")
        .to_owned();
    let commands = Command::new("ninja")
        .arg("-C")
        .arg(&out)
        .args(["-t", "commands", &stamp])
        .output()
        .expect("ninja runs");
    let commands = String::from_utf8_lossy(&commands.stdout).into_owned();
    let check = commands
        .lines()
        .last()
        .expect("the check's command")
        .to_owned();
    assert!(check.starts_with("pcfg base-manifest"), "{commands}");
    let bin = Path::new(env!("CARGO_BIN_EXE_pcfg"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |command: &str| {
        Command::new("sh")
            .args(["-c", command])
            .current_dir(&out)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("sh runs")
    };
    let failed = run(&check);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        !failed.status.success() && stderr.contains("pcfg::abi-break"),
        "{stderr}"
    );
    assert!(out.join("base.manifest.json").is_file());
    for file in ["libfoo.so.0", "libfoo.so.0.1.0"] {
        std::fs::remove_file(scene.root().join("ext/app").join(LIB_DIR).join(file)).expect("rm");
    }
    let passed = run(&check);
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stderr)
    );
}

/// A command-line program built against the base, declared as a Flatpak: `pcfg extensions`
/// says where it belongs (a system extension), and as one it is checked and loads.
#[test]
fn a_host_program_declared_as_a_flatpak_is_pointed_to_a_system_extension() {
    let scene = Scene::new(true);
    let root = scene.root();
    let work = root.join("work");
    let base_lib = root.join("base").join(LIB_DIR);
    std::os::unix::fs::symlink("libfoo.so.0", base_lib.join("libfoo.so")).expect("link");
    gcc(
        &work,
        "int foo_new(void);\nint main(void) { return foo_new() == 2 ? 0 : 1; }\n",
        &root.join("ext/tool/usr/bin/tool"),
        &[&format!("-L{}", base_lib.display()), "-lfoo"],
    );
    std::fs::remove_file(base_lib.join("libfoo.so")).expect("rm");
    // The base has a C library, as every real one does.
    std::fs::copy(
        Path::new("/lib/x86_64-linux-gnu/libc.so.6"),
        base_lib.join("libc.so.6"),
    )
    .expect("the C library");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/keys/flathub.gpg"),
        root.join("flathub.gpg"),
    )
    .expect("copy");
    let remote =
        "flatpak-remote flathub { url = \"https://dl.flathub.org/repo/\", key = \"flathub.gpg\" }";
    let run = scene.check(&format!(
        "{remote}\nextension tool {{ kind = flatpak, app = \"org.example.Tool\", source = \"ext/tool\" }}"
    ));
    assert_eq!(run.code, 1, "{}", run.transcript());
    let found = scene.findings();
    assert!(
        found.iter().any(|(code, message)| code == "pcfg::extension-content"
            && message.starts_with("flatpak `tool` is declared for `usr/bin/tool`, a program that needs libraries of the host (")
            && message.contains("`libfoo.so.0`")),
        "{found:?}"
    );
    assert!(run.stderr.contains("kind = sysext"), "{}", run.stderr);
    // What the help says: a system extension, checked against the base, and it loads.
    let run = scene.check("extension tool { kind = sysext, source = \"ext/tool\" }");
    assert_eq!(run.code, 0, "{}", run.transcript());
    let output = Command::new("/lib64/ld-linux-x86-64.so.2")
        .arg("--library-path")
        .arg(&base_lib)
        .arg(root.join("ext/tool/usr/bin/tool"))
        .output()
        .expect("ld.so runs");
    assert!(output.status.success(), "{output:?}");
}
