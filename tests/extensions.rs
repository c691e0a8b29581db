//! Extension source trees, built by the tests: every rule of the analysis, with snapshots of
//! what pcfg reports.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::pcfg_in;

/// Writes `files` (`path`, contents) below `dir`.
fn tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, contents) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
}

/// `pcfg extensions --format json system.pcfg` in `dir`, parsed, with its stdout for messages.
fn report_json(dir: &Path) -> (serde_json::Value, String) {
    let run = pcfg_in(dir, &["extensions", "--format", "json", "system.pcfg"]);
    let json = serde_json::from_str(&run.stdout).expect("json");
    (json, run.stdout)
}

/// The messages of a JSON report's diagnostics.
fn messages(json: &serde_json::Value) -> Vec<&str> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect()
}

const SYSTEM: &str = "system { name = \"extos\", version = \"1\" }\n";

#[test]
fn shadowing_is_an_error_unless_declared_and_duplicates_are_shared() {
    let dir = tempfile::tempdir().expect("tempdir");
    tree(
        dir.path(),
        &[
            ("ext/a/usr/bin/tool", "#!/bin/sh\necho a\n"),
            ("ext/b/usr/bin/tool", "#!/bin/sh\necho b\n"),
            ("ext/a/usr/lib/libshared.so.1", "the same library, twice"),
            ("ext/b/usr/lib/libshared.so.1", "the same library, twice"),
            ("ext/b/opt/data/blob", "identical bytes at another path"),
            ("ext/a/usr/share/a/blob", "identical bytes at another path"),
        ],
    );
    let config = format!("{SYSTEM}extension a {{ kind = sysext, source = \"ext/a\" }}\nextension b {{ kind = sysext, source = \"ext/b\" }}\n");
    std::fs::write(dir.path().join("system.pcfg"), &config).expect("write");
    let check = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(check.code, 1);
    insta::assert_snapshot!("shadowing-check", check.transcript());
    let report = pcfg_in(dir.path(), &["extensions", "system.pcfg"]);
    insta::assert_snapshot!("shadowing-report", report.stdout);
    let json: serde_json::Value = serde_json::from_str(
        &pcfg_in(
            dir.path(),
            &["extensions", "--format", "json", "system.pcfg"],
        )
        .stdout,
    )
    .expect("json");
    assert_eq!(json["version"], 1);
    // Every finding is in the report, as `pcfg check --format json` gives it.
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"pcfg::extension-shadowing") && codes.contains(&"pcfg::duplicate-file"),
        "{codes:?}"
    );
    assert_eq!(json["errors"], 1);
    assert_eq!(
        json["bytes_saved"],
        "the same library, twice".len() + "identical bytes at another path".len()
    );
    assert_eq!(
        json["shared"][0]["files"][0]["path"], "usr/lib/libshared.so.1",
        "libraries first"
    );
    // Identical files are found by comparing bytes; the report still names each content by
    // its SHA-256.
    let sha256 = |text: &str| {
        use sha2::Digest as _;
        pcfg::digest::hex(&sha2::Sha256::digest(text.as_bytes()))
    };
    assert_eq!(
        [
            json["shared"][0]["sha256"].as_str(),
            json["shared"][1]["sha256"].as_str()
        ],
        [
            Some(sha256("the same library, twice").as_str()),
            Some(sha256("identical bytes at another path").as_str())
        ]
    );
    assert_eq!(
        json["suggestions"],
        serde_json::json!([{
            "name": "shared-a-b", "required": false, "extensions": ["a", "b"], "files": 2, "libraries": 1,
            "saving": json["bytes_saved"],
        }])
    );

    // `overrides` declares the winner: no more error; the duplicate stays a warning.
    let declared = config.replace(
        "extension a { kind = sysext, source = \"ext/a\" }",
        "extension a { kind = sysext, source = \"ext/a\", overrides = [b] }",
    );
    std::fs::write(dir.path().join("system.pcfg"), declared).expect("write");
    let check = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(check.code, 0, "{}", check.transcript());
    assert!(
        check.stderr.contains("pcfg::duplicate-file")
            && !check.stderr.contains("pcfg::extension-shadowing"),
        "{}",
        check.stderr
    );
}

#[test]
fn each_kind_may_hold_only_its_own_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    tree(
        dir.path(),
        &[
            ("ext/tools/usr/bin/tool", "#!/bin/sh\n"),
            ("ext/tools/etc/tools.conf", "conf\n"),
            ("ext/conf/etc/app.conf", "conf\n"),
            ("ext/conf/usr/lib/app", "binary\n"),
            ("ext/web/usr/bin/web", "binary\n"),
        ],
    );
    let config = format!(
        "{SYSTEM}extension tools {{ kind = sysext, source = \"ext/tools\" }}\nextension conf {{ kind = confext, source = \"ext/conf\" }}\nextension web {{ kind = portable, source = \"ext/web\" }}\n"
    );
    std::fs::write(dir.path().join("system.pcfg"), config).expect("write");
    let check = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(check.code, 1);
    insta::assert_snapshot!("content-check", check.transcript());
}

#[test]
fn unsafe_files_and_links_out_of_the_tree_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    tree(
        dir.path(),
        &[
            ("ext/tools/usr/bin/helper", "#!/bin/sh\n"),
            ("ext/tools/usr/share/tools/cache", ""),
        ],
    );
    let root = dir.path().join("ext/tools");
    std::fs::set_permissions(
        root.join("usr/bin/helper"),
        std::fs::Permissions::from_mode(0o4755),
    )
    .expect("chmod");
    std::fs::set_permissions(
        root.join("usr/share/tools/cache"),
        std::fs::Permissions::from_mode(0o666),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("/etc/shadow", root.join("usr/bin/peek")).expect("symlink");
    std::os::unix::fs::symlink("../lib/libok.so", root.join("usr/bin/inside")).expect("symlink");
    let fifo = std::process::Command::new("mkfifo")
        .arg(root.join("usr/share/tools/pipe"))
        .status()
        .expect("mkfifo");
    assert!(fifo.success());
    std::fs::write(
        dir.path().join("system.pcfg"),
        format!("{SYSTEM}extension tools {{ kind = sysext, source = \"ext/tools\" }}\n"),
    )
    .expect("write");
    let check = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(check.code, 1);
    insta::assert_snapshot!("unsafe-check", check.transcript());
}

#[test]
fn a_missing_or_unreadable_tree_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("system.pcfg"),
        format!("{SYSTEM}extension tools {{ kind = sysext, source = \"ext/none\" }}\n"),
    )
    .expect("write");
    let check = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    insta::assert_snapshot!("extension-source", check.transcript());
    // A file where the tree should be.
    std::fs::create_dir_all(dir.path().join("ext")).expect("mkdir");
    std::fs::write(dir.path().join("ext/none"), "").expect("write");
    let check = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    assert!(
        check.stderr.contains("is not a directory"),
        "{}",
        check.stderr
    );
    let report = pcfg_in(dir.path(), &["extensions", "system.pcfg"]);
    assert!(
        report
            .stdout
            .contains("tools: source tree not found (not analysed)"),
        "{}",
        report.stdout
    );
}

#[test]
fn large_files_are_hashed_and_large_elf_files_read_in_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // Two identical 12 MiB files: identical, so shared, never a conflict.
    let big = vec![7u8; 12 << 20];
    for ext in ["a", "b"] {
        let path = root.join(format!("ext/{ext}/usr/share/data/blob"));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &big).expect("write");
    }
    // A 12 MiB program that needs a library extension `a` provides, which `b` does not require.
    let lib = root.join("ext/a/usr/lib/libpcfgbig.so.1");
    gcc(
        root,
        "int pcfg_big(void) { return 1; }\n",
        &lib,
        &["-shared", "-fPIC", "-Wl,-soname,libpcfgbig.so.1"],
    );
    std::os::unix::fs::symlink("libpcfgbig.so.1", root.join("ext/a/usr/lib/libpcfgbig.so"))
        .expect("symlink");
    let libdir = format!("-L{}", root.join("ext/a/usr/lib").display());
    gcc(
        root,
        "int pcfg_big(void);\nstatic char padding[12 << 20] = {1};\nint main(void) { return pcfg_big() + padding[0]; }\n",
        &root.join("ext/b/usr/bin/big"),
        &[&libdir, "-lpcfgbig"],
    );
    assert!(
        std::fs::metadata(root.join("ext/b/usr/bin/big"))
            .expect("built")
            .len()
            > 12 << 20
    );
    std::fs::write(
        root.join("system.pcfg"),
        format!("{SYSTEM}extension a {{ kind = sysext, source = \"ext/a\" }}\nextension b {{ kind = sysext, source = \"ext/b\" }}\n"),
    )
    .expect("write");
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert!(
        !check.stderr.contains("extension-shadowing"),
        "{}",
        check.stderr
    );
    assert!(check.stderr.contains("duplicate-file"), "{}", check.stderr);
    assert!(
        check.stderr.contains("missing-library") && check.stderr.contains("libpcfgbig.so.1"),
        "{}",
        check.stderr
    );
}

/// Compiles C `source` with gcc into `out` (`args` add flags such as `-shared`).
pub(crate) fn gcc(dir: &Path, source: &str, out: &Path, args: &[&str]) {
    let file = dir.join(format!(
        "{}.c",
        out.file_name().expect("name").to_string_lossy()
    ));
    std::fs::write(&file, source).expect("write");
    std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
    let status = std::process::Command::new("gcc")
        .arg(&file)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .expect("gcc runs");
    assert!(
        status.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// Two extension trees built with gcc under `root`: `ext/libs` with `libpcfgdemo.so.1` (and its
/// development link), and `ext/tools` with `usr/bin/demo`, which needs that library.
pub(crate) fn library_and_program(root: &Path) {
    let lib = root.join("ext/libs/usr/lib/libpcfgdemo.so.1");
    gcc(
        root,
        "int pcfg_demo(void) { return 42; }\n",
        &lib,
        &["-shared", "-fPIC", "-Wl,-soname,libpcfgdemo.so.1"],
    );
    std::os::unix::fs::symlink(
        "libpcfgdemo.so.1",
        root.join("ext/libs/usr/lib/libpcfgdemo.so"),
    )
    .expect("symlink");
    let libdir = format!("-L{}", root.join("ext/libs/usr/lib").display());
    gcc(
        root,
        "int pcfg_demo(void);\nint main(void) { return pcfg_demo() == 42 ? 0 : 1; }\n",
        &root.join("ext/tools/usr/bin/demo"),
        &[&libdir, "-lpcfgdemo"],
    );
}

#[test]
fn a_library_another_extension_provides_must_be_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    library_and_program(root);
    let config = format!("{SYSTEM}extension libs {{ kind = sysext, source = \"ext/libs\" }}\nextension tools {{ kind = sysext, source = \"ext/tools\" }}\n");
    std::fs::write(root.join("system.pcfg"), &config).expect("write");
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    insta::assert_snapshot!("missing-library", check.transcript());
    // Declared: fine. (libc comes from the base, which is not declared here, so it is not checked.)
    std::fs::write(
        root.join("system.pcfg"),
        config.replace(
            "source = \"ext/tools\" }",
            "source = \"ext/tools\", requires = [libs] }",
        ),
    )
    .expect("write");
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 0, "{}", check.transcript());
}

#[test]
fn with_a_base_tree_every_needed_library_must_be_provided() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // The base provides libc and libz, as the machine has them.
    for lib in ["libc.so.6", "libz.so.1"] {
        let from = Path::new("/usr/lib/x86_64-linux-gnu").join(lib);
        let to = root.join("base/usr/lib/x86_64-linux-gnu").join(lib);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
    gcc(
        root,
        "#include <zlib.h>\nint main(void) { return zlibVersion()[0] == 0; }\n",
        &root.join("ext/zip/usr/bin/zipinfo"),
        &["-lz"],
    );
    let lib = root.join("build/libgone.so.3");
    gcc(
        root,
        "int gone(void) { return 1; }\n",
        &lib,
        &["-shared", "-fPIC", "-Wl,-soname,libgone.so.3"],
    );
    let libdir = format!("-L{}", root.join("build").display());
    std::os::unix::fs::symlink("libgone.so.3", root.join("build/libgone.so")).expect("symlink");
    gcc(
        root,
        "int gone(void);\nint main(void) { return gone(); }\n",
        &root.join("ext/orphan/usr/bin/orphan"),
        &[&libdir, "-lgone"],
    );
    let config = "system { name = \"extos\", version = \"1\", base-tree = \"base\" }\nextension zip { kind = sysext, source = \"ext/zip\" }\nextension orphan { kind = sysext, source = \"ext/orphan\" }\n";
    std::fs::write(root.join("system.pcfg"), config).expect("write");
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    assert!(
        check.stderr.contains("needs `libgone.so.3`"),
        "{}",
        check.stderr
    );
    assert!(
        !check.stderr.contains("libz.so.1") && !check.stderr.contains("libc.so.6"),
        "{}",
        check.stderr
    );
}

#[test]
fn the_analysis_finds_exactly_the_planted_conflicts_and_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = crate::corpus::Corpus {
        extensions: 12,
        files: 80,
        max_size: 2048,
        duplicates: 9,
        conflicts: 7,
        seed: 2026,
    };
    corpus.write(dir.path());
    let compilation = pcfg::compile::check(&pcfg::vfs::RealFs, &dir.path().join("system.pcfg"))
        .expect("readable");
    // Only shadowing, one diagnostic per pair of extensions (two conflicts may fall on one
    // pair), and every planted path in the records.
    assert!(compilation
        .diagnostics
        .iter()
        .all(|d| d.code == pcfg::diag::Code::ExtensionShadowing));
    let report = compilation.extensions.expect("a report");
    assert_eq!(compilation.diagnostics.len(), report.overlaps.len());
    let paths: usize = report.overlaps.iter().map(|o| o.paths.len()).sum();
    assert_eq!(paths, corpus.conflicts, "{:?}", report.overlaps);
    assert_eq!(report.shared.len(), corpus.duplicates);
    assert!(report
        .shared
        .iter()
        .all(|g| g.files.len() == 2 && g.is_library()));
    assert_eq!(
        report.files.values().sum::<usize>(),
        corpus.extensions * corpus.files + 2 * (corpus.duplicates + corpus.conflicts)
    );
}

#[test]
fn a_long_analysis_shows_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two trees with the same 40 MB: every file is read whole.
    let block = vec![7u8; 100 * 1024];
    for ext in ["a", "b"] {
        for i in 0..400 {
            let path = dir.path().join(format!("ext/{ext}/usr/share/data/{i:03}"));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            let mut bytes = block.clone();
            bytes.extend_from_slice(format!("{i}").as_bytes());
            std::fs::write(path, bytes).expect("write");
        }
    }
    std::fs::write(dir.path().join("system.pcfg"), format!("{SYSTEM}extension a {{ kind = sysext, source = \"ext/a\", overrides = [b] }}\nextension b {{ kind = sysext, source = \"ext/b\" }}\n")).expect("write");
    let pcfg = env!("CARGO_BIN_EXE_pcfg");
    // `script` gives pcfg a terminal.
    let on_terminal = std::process::Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!("'{pcfg}' extensions system.pcfg > /dev/null"))
        .arg("/dev/null")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("script runs");
    let shown = String::from_utf8_lossy(&on_terminal.stdout);
    assert!(shown.contains("reading extension trees"), "{shown}");
    let piped = pcfg_in(dir.path(), &["extensions", "system.pcfg"]);
    assert!(
        !piped.stderr.contains("reading extension trees") && !piped.stdout.contains("reading"),
        "{}",
        piped.transcript()
    );
}

#[test]
fn shadowing_the_base_tree_must_be_declared() {
    let dir = tempfile::tempdir().expect("tempdir");
    tree(
        dir.path(),
        &[
            ("base/usr/bin/tool", "#!/bin/sh\necho base\n"),
            ("base/usr/share/doc/README", "same\n"),
            ("ext/tools/usr/bin/tool", "#!/bin/sh\necho newer\n"),
            ("ext/tools/usr/share/doc/README", "same\n"),
        ],
    );
    let config = "system { name = \"extos\", version = \"1\", base-tree = \"base\" }\nextension tools { kind = sysext, source = \"ext/tools\" }\n";
    std::fs::write(dir.path().join("system.pcfg"), config).expect("write");
    let check = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(check.code, 1);
    insta::assert_snapshot!("base-shadowing", check.transcript());
    std::fs::write(
        dir.path().join("system.pcfg"),
        config.replace(
            "source = \"ext/tools\" }",
            "source = \"ext/tools\", overrides = [base] }",
        ),
    )
    .expect("write");
    let declared = pcfg_in(dir.path(), &["check", "system.pcfg"]);
    assert_eq!(declared.code, 0, "{}", declared.transcript());
    assert!(
        declared.stderr.contains("is already in the base tree"),
        "{}",
        declared.stderr
    );
}

#[test]
fn a_base_manifest_written_by_sha256sum_stands_for_the_base_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    tree(
        root,
        &[
            ("base/usr/bin/tool", "#!/bin/sh\necho base\n"),
            ("base/usr/share/doc/README", "same\n"),
            ("ext/tools/usr/bin/tool", "#!/bin/sh\necho newer\n"),
            ("ext/tools/usr/share/doc/README", "same\n"),
        ],
    );
    // The base's libz, under its full version name only: the manifest lists regular files.
    let libz = std::fs::canonicalize("/usr/lib/x86_64-linux-gnu/libz.so.1").expect("libz");
    let real_name = libz.file_name().expect("name").to_owned();
    std::fs::create_dir_all(root.join("base/usr/lib/x86_64-linux-gnu")).expect("mkdir");
    std::fs::copy(
        &libz,
        root.join("base/usr/lib/x86_64-linux-gnu").join(&real_name),
    )
    .expect("copy");
    gcc(
        root,
        "#include <zlib.h>\nint main(void) { return zlibVersion()[0] == 0; }\n",
        &root.join("ext/zip/usr/bin/zipinfo"),
        &["-lz"],
    );
    // The manifest, as the base's build would write it; the base tree itself is then gone.
    let manifest = std::process::Command::new("sh")
        .arg("-c")
        .arg("find ./usr -type f -exec sha256sum {} + | sort -k2")
        .current_dir(root.join("base"))
        .output()
        .expect("sha256sum runs");
    assert!(manifest.status.success());
    let mut text = String::from_utf8(manifest.stdout).expect("utf-8");
    // libc as sha256sum's binary mode writes it (only the name matters for libraries).
    text.push_str(&"0".repeat(64));
    text.push_str(" *usr/lib/x86_64-linux-gnu/libc.so.6\n");
    std::fs::write(root.join("base.sha256"), &text).expect("write");
    std::fs::remove_dir_all(root.join("base")).expect("rm");
    let config = "system { name = \"extos\", version = \"1\", base-tree = \"base.sha256\" }\nextension tools { kind = sysext, source = \"ext/tools\" }\nextension zip { kind = sysext, source = \"ext/zip\" }\n";
    std::fs::write(root.join("system.pcfg"), config).expect("write");
    let check = pcfg_in(root, &["check", "--format", "json", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    let stderr = &check.stdout;
    assert!(
        stderr.contains(
            "`usr/bin/tool` in extension `tools` shadows a different file of the base tree"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("`usr/share/doc/README` in extension `tools` is already in the base tree"),
        "{stderr}"
    );
    assert!(!stderr.contains("missing-library"), "{stderr}");
    assert_eq!(stderr.matches("\"code\"").count(), 2, "{stderr}");

    // A line that is not `SHA256  PATH` is reported with its number.
    std::fs::write(root.join("base.sha256"), format!("{text}usr/bin/other\n")).expect("write");
    let bad = pcfg_in(root, &["check", "--format", "json", "system.pcfg"]);
    assert_eq!(bad.code, 1, "{}", bad.transcript());
    let line = text.lines().count() + 1;
    assert!(
        bad.stdout.contains(&format!(
            "line {line} of the base manifest is not `SHA256  PATH`"
        )),
        "{}",
        bad.stdout
    );
    let bad = pcfg_in(root, &["check", "system.pcfg"]);
    insta::assert_snapshot!(
        "base-manifest",
        bad.transcript()
            .replace(&format!("line {line} "), "line N ")
    );
}

#[test]
fn the_atomos_example_has_trees_to_analyse() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/atomos");
    let report = pcfg_in(&root, &["extensions", "--format", "json", "system.pcfg"]);
    assert_eq!(report.code, 0, "{}", report.transcript());
    let json: serde_json::Value = serde_json::from_str(&report.stdout).expect("json");
    assert_eq!(json["extensions"].as_array().map(Vec::len), Some(5));
    assert_eq!(json["suggestions"][0]["name"], "toolchain-libs");
    assert_eq!(json["suggestions"][0]["required"], true);
    assert_eq!(
        json["suggestions"][0]["extensions"],
        serde_json::json!(["debugtools", "devtools"])
    );
}

#[test]
fn a_file_where_another_extension_has_a_directory_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    tree(&root.join("ext/a"), &[("usr/share/thing", "a file\n")]);
    // Many entries below the directory in each tree: each other tree is still named once.
    for ext in ["b", "c"] {
        tree(
            &root.join("ext").join(ext),
            &[
                ("usr/share/thing/inside", "a file in a directory\n"),
                ("usr/share/thing/more/deep", "deeper\n"),
                ("usr/share/thing/more/deeper", "deeper still\n"),
            ],
        );
    }
    let config = format!("{SYSTEM}extension a {{ kind = sysext, source = \"ext/a\" }}\nextension b {{ kind = sysext, source = \"ext/b\" }}\nextension c {{ kind = sysext, source = \"ext/c\", overrides = [b] }}\n");
    std::fs::write(root.join("system.pcfg"), &config).expect("write");
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    let message = "`usr/share/thing` is a file in extension `a` and a directory in extension";
    assert_eq!(check.stderr.matches(message).count(), 2, "{}", check.stderr);
    for other in ["b", "c"] {
        let label = format!("`{other}` has a directory there");
        assert_eq!(check.stderr.matches(&label).count(), 1, "{}", check.stderr);
    }
    // Declared, the order is known.
    std::fs::write(
        root.join("system.pcfg"),
        config.replace(
            "source = \"ext/a\" }",
            "source = \"ext/a\", overrides = [b, c] }",
        ),
    )
    .expect("write");
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 0, "{}", check.transcript());
}

#[test]
fn every_file_over_another_extensions_directory_is_found() {
    // Generated trees over a three-letter alphabet, so that their paths meet at every depth:
    // what the check reports is compared with the rule itself, for every pair of extensions.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let mut rng = crate::corpus::Rng(0x2545_f491_4f6c_dd1d);
    let extensions = ["e0", "e1", "e2", "e3", "e4", "e5"];
    // Each tree's files and empty directories; no path of a tree is both, nor below a file.
    let mut trees: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for ext in extensions {
        let (mut files, mut dirs) = (Vec::<String>::new(), Vec::<String>::new());
        for _ in 0..16 {
            let depth = 1 + rng.below(4);
            let path: Vec<&str> = (0..depth).map(|_| ["a", "b", "c"][rng.below(3)]).collect();
            let path = format!("usr/{}", path.join("/"));
            let clashes = files.iter().chain(&dirs).any(|q| {
                *q == path
                    || q.starts_with(&format!("{path}/"))
                    || path.starts_with(&format!("{q}/"))
            });
            if clashes {
                continue;
            }
            if rng.below(4) == 0 {
                std::fs::create_dir_all(root.join("ext").join(ext).join(&path)).expect("mkdir");
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
        let contents: Vec<(String, String)> = files
            .iter()
            .map(|p| (p.clone(), format!("{ext} {p}\n")))
            .collect();
        let contents: Vec<(&str, &str)> = contents
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        tree(&root.join("ext").join(ext), &contents);
        trees.push((files, dirs));
    }
    let is_directory = |(files, dirs): &(Vec<String>, Vec<String>), path: &str| {
        dirs.iter().any(|d| d == path)
            || files
                .iter()
                .chain(dirs)
                .any(|q| q.starts_with(&format!("{path}/")))
    };
    let mut expected = Vec::new();
    for (i, (files, _)) in trees.iter().enumerate() {
        for (j, other) in trees.iter().enumerate().filter(|&(j, _)| j != i) {
            for path in files.iter().filter(|p| is_directory(other, p)) {
                expected.push(format!(
                    "`{path}` is a file in extension `{}` and a directory in extension `{}`",
                    extensions[i], extensions[j]
                ));
            }
        }
    }
    assert!(
        expected.len() >= 10,
        "the trees meet too rarely: {expected:#?}"
    );
    let config: String = std::iter::once(SYSTEM.to_owned())
        .chain(
            extensions
                .iter()
                .map(|e| format!("extension {e} {{ kind = sysext, source = \"ext/{e}\" }}\n")),
        )
        .collect();
    std::fs::write(root.join("system.pcfg"), config).expect("write");
    let (json, _) = report_json(root);
    let mut found: Vec<String> = messages(&json)
        .into_iter()
        .filter(|m| m.contains("is a file in extension"))
        .map(|m| m.split(": merged").next().unwrap_or(m).to_owned())
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn file_names_are_bytes_and_never_collapse() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for (ext, name, text) in [
        ("a", &b"usr/share/caf\xe9"[..], "one\n"),
        ("b", &b"usr/share/caf\xe8"[..], "two\n"),
        ("a", &b"usr/share/x\\y"[..], "three\n"),
        ("b", &b"usr/share/x/y"[..], "four\n"),
    ] {
        let path = root
            .join("ext")
            .join(ext)
            .join(std::ffi::OsStr::from_bytes(name));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    std::fs::write(
        root.join("system.pcfg"),
        format!("{SYSTEM}extension a {{ kind = sysext, source = \"ext/a\" }}\nextension b {{ kind = sysext, source = \"ext/b\" }}\n"),
    )
    .expect("write");
    // Different names: nothing shadows anything.
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 0, "{}", check.transcript());
    // The same non-UTF-8 name with other content does, and is shown escaped.
    let clash = root
        .join("ext/b")
        .join(std::ffi::OsStr::from_bytes(b"usr/share/caf\xe9"));
    std::fs::write(clash, "other\n").expect("write");
    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    assert!(
        check.stderr.contains("`usr/share/caf\\xe9`"),
        "{}",
        check.stderr
    );
}

/// One file shipped identically by N extensions is one finding naming all N, not N(N-1)/2
/// pairs (issue 17): output grows with the decisions to make. Links are grouped the same way.
#[test]
fn a_file_many_extensions_ship_identically_is_one_finding() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let names: Vec<String> = (0..12).map(|i| format!("x{i:02}")).collect();
    let mut config = SYSTEM.to_owned();
    for name in &names {
        tree(
            &dir.path().join("ext").join(name),
            &[("usr/share/common/data", "the same bytes everywhere")],
        );
        std::os::unix::fs::symlink(
            "data",
            dir.path()
                .join("ext")
                .join(name)
                .join("usr/share/common/link"),
        )
        .expect("link");
        let _ = writeln!(
            config,
            "extension {name} {{ kind = sysext, source = \"ext/{name}\" }}"
        );
    }
    std::fs::write(dir.path().join("system.pcfg"), &config).expect("write");
    let run = pcfg_in(dir.path(), &["check", "--format", "json", "system.pcfg"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let duplicates: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "pcfg::duplicate-file")
        .filter_map(|d| d["message"].as_str())
        .collect();
    let listed = format!(
        "{} and `x11`",
        names[..11]
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The file and the link are one decision for the same twelve extensions: one finding.
    assert_eq!(
        duplicates,
        [format!(
            "`usr/share/common/data` and 1 other file are identical in extensions {listed}"
        )],
        "{}",
        run.stdout
    );
    let (json, _) = report_json(dir.path());
    assert_eq!(
        json["overlaps"],
        serde_json::json!([{
            "code": "pcfg::duplicate-file",
            "extensions": names,
            "paths": ["usr/share/common/data", "usr/share/common/link"],
        }])
    );
}

/// Issue 17's shape: twenty extensions that each carry the same 600 files (12,000 files) and
/// ten conflicts. The human output grows with the decisions (one duplicate set, ten pairs), not
/// with the files, and the JSON report still names every path.
#[test]
fn output_grows_with_the_decisions_not_with_the_files() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = SYSTEM.to_owned();
    for e in 0..20 {
        let root = dir.path().join(format!("ext/e{e:02}"));
        for f in 0..600 {
            let path = root.join(format!("usr/share/common/d{}/f{f:03}", f % 10));
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, format!("common file {f}\n")).expect("write");
        }
        // Ten conflicts: e00/e01 differ at five paths, e02..e11 at one path per pair.
        let conflicts: Vec<String> = match e {
            0 | 1 => (0..5).map(|k| format!("usr/bin/tool{k}")).collect(),
            2..=11 if e % 2 == 0 => vec![format!("usr/bin/own{e}")],
            3..=11 => vec![format!("usr/bin/own{}", e - 1)],
            _ => Vec::new(),
        };
        for path in conflicts {
            tree(&root, &[(path.as_str(), &format!("#!/bin/sh\necho {e}\n"))]);
        }
        let _ = writeln!(
            config,
            "extension e{e:02} {{ kind = sysext, source = \"ext/e{e:02}\" }}"
        );
    }
    std::fs::write(dir.path().join("system.pcfg"), &config).expect("write");
    let human = pcfg_in(dir.path(), &["extensions", "system.pcfg"]);
    assert_eq!(human.code, 1, "{}", human.stderr);
    let size = human.stdout.len() + human.stderr.len();
    assert!(size < 200 * 1024, "{size} bytes of output");
    let count = |code: &str| human.stderr.matches(code).count();
    assert_eq!(count("pcfg::duplicate-file"), 1, "{}", human.stderr);
    assert_eq!(count("pcfg::extension-shadowing"), 6, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains("(`pcfg extensions --format json` lists every one)"),
        "{}",
        human.stdout
    );
    let (json, _) = report_json(dir.path());
    let found = messages(&json);
    assert!(
        found.contains(&"`usr/bin/tool0` and 4 other files differ between extensions `e00` and `e01`: one silently shadows the other"),
        "{found:?}"
    );
    let overlaps = json["overlaps"].as_array().expect("overlaps");
    let paths = |code: &str| -> usize {
        overlaps
            .iter()
            .filter(|o| o["code"] == code)
            .map(|o| o["paths"].as_array().map_or(0, Vec::len))
            .sum()
    };
    assert_eq!(paths("pcfg::duplicate-file"), 600);
    assert_eq!(paths("pcfg::extension-shadowing"), 10);
    assert_eq!(json["shared"].as_array().map(Vec::len), Some(600));
}

/// A tree deeper than 256 levels is refused, not walked without end; one of 256 is read whole.
#[test]
fn a_tree_deeper_than_256_levels_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "{SYSTEM}extension deep {{ kind = sysext, source = \"ext/deep\" }}\nextension fine {{ kind = sysext, source = \"ext/fine\" }}\n"
    );
    std::fs::write(dir.path().join("system.pcfg"), config).expect("write");
    for (name, levels) in [("deep", 257), ("fine", 256)] {
        let mut path = dir.path().join("ext").join(name).join("usr");
        for _ in 1..levels - 1 {
            path.push("d");
        }
        std::fs::create_dir_all(&path).expect("mkdir");
        std::fs::write(path.join("f"), "bottom").expect("write");
    }
    let (json, stdout) = report_json(dir.path());
    assert_eq!(
        messages(&json),
        ["the source tree `ext/deep` of extension `deep` is deeper than 256 levels"],
        "{stdout}"
    );
    assert_eq!(
        json["extensions"],
        serde_json::json!([{ "files": 1, "name": "fine" }])
    );
}

/// Files of one size whose first 4 KiB agree are told apart by their whole content, whether a
/// run is compared byte for byte (up to four files) or hashed (more): only the identical ones
/// are shared, and each shared content is named by its SHA-256.
#[test]
fn files_alike_in_their_first_bytes_are_compared_whole() {
    use sha2::Digest as _;
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let start = "x".repeat(5000);
    let mut config = SYSTEM.to_owned();
    // Two extensions with a pair that differs after 5,000 bytes and a pair that does not; six
    // more extensions with one file each of the same size and start, three of them identical.
    let contents = |tail: &str| format!("{start}{tail}");
    let mut trees: Vec<(String, Vec<(String, String)>)> = vec![
        (
            "a".into(),
            vec![
                ("usr/share/a/differs".into(), contents("A")),
                ("usr/share/a/same".into(), contents("S")),
            ],
        ),
        (
            "b".into(),
            vec![
                ("usr/share/b/differs".into(), contents("B")),
                ("usr/share/b/same".into(), contents("S")),
            ],
        ),
    ];
    for (i, tail) in ["1", "2", "3", "T", "T", "T"].iter().enumerate() {
        trees.push((
            format!("m{i}"),
            vec![(format!("usr/share/m{i}/file"), contents(tail))],
        ));
    }
    for (name, files) in &trees {
        for (path, text) in files {
            tree(
                &dir.path().join("ext").join(name),
                &[(path.as_str(), text.as_str())],
            );
        }
        let _ = writeln!(
            config,
            "extension {name} {{ kind = sysext, source = \"ext/{name}\" }}"
        );
    }
    std::fs::write(dir.path().join("system.pcfg"), &config).expect("write");
    let (json, stdout) = report_json(dir.path());
    let mut shared: Vec<(Vec<String>, String)> = json["shared"]
        .as_array()
        .expect("shared")
        .iter()
        .map(|g| {
            let files = g["files"]
                .as_array()
                .expect("files")
                .iter()
                .map(|f| {
                    format!(
                        "{}:{}",
                        f["extension"].as_str().unwrap_or(""),
                        f["path"].as_str().unwrap_or("")
                    )
                })
                .collect();
            (files, g["sha256"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    shared.sort();
    let hex = |text: String| pcfg::digest::hex(&sha2::Sha256::digest(text.as_bytes()));
    // The ten files of one size form one run (more than four: hashed); the identical ones
    // are shared, the others not.
    assert_eq!(
        shared,
        [
            (
                vec![
                    "a:usr/share/a/same".to_owned(),
                    "b:usr/share/b/same".to_owned()
                ],
                hex(contents("S"))
            ),
            (
                vec![
                    "m3:usr/share/m3/file".to_owned(),
                    "m4:usr/share/m4/file".to_owned(),
                    "m5:usr/share/m5/file".to_owned()
                ],
                hex(contents("T"))
            ),
        ],
        "{stdout}"
    );
    // Without the six, the four files of `a` and `b` are compared byte for byte.
    let pair_only: String = config.lines().take(3).flat_map(|l| [l, "\n"]).collect();
    std::fs::write(dir.path().join("system.pcfg"), &pair_only).expect("write");
    let (json, stdout) = report_json(dir.path());
    assert_eq!(json["shared"].as_array().map(Vec::len), Some(1), "{stdout}");
    assert_eq!(json["shared"][0]["sha256"], hex(contents("S")));
    assert_eq!(json["shared"][0]["files"][0]["path"], "usr/share/a/same");
}

/// A `source` that is a symbolic link to a directory is walked (the root is followed; links
/// below it never are).
#[test]
fn a_source_that_links_to_a_directory_is_walked() {
    let dir = tempfile::tempdir().expect("tempdir");
    tree(
        &dir.path().join("ext/real"),
        &[("usr/share/a/data", "data")],
    );
    std::os::unix::fs::symlink("real", dir.path().join("ext/a")).expect("symlink");
    std::fs::write(
        dir.path().join("system.pcfg"),
        format!("{SYSTEM}extension a {{ kind = sysext, source = \"ext/a\" }}\n"),
    )
    .expect("write");
    let (json, stdout) = report_json(dir.path());
    assert_eq!(messages(&json), Vec::<&str>::new(), "{stdout}");
    assert_eq!(
        json["extensions"],
        serde_json::json!([{ "files": 1, "name": "a" }])
    );
}
