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
    assert_eq!(
        json["bytes_saved"],
        "the same library, twice".len() + "identical bytes at another path".len()
    );
    assert_eq!(
        json["shared"][0]["files"][0]["path"], "usr/lib/libshared.so.1",
        "libraries first"
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
fn missing_trees_are_skipped_and_said() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("system.pcfg"),
        format!("{SYSTEM}extension tools {{ kind = sysext, source = \"ext/none\" }}\n"),
    )
    .expect("write");
    assert_eq!(pcfg_in(dir.path(), &["check", "system.pcfg"]).code, 0);
    let report = pcfg_in(dir.path(), &["extensions", "system.pcfg"]);
    assert_eq!(
        report.stdout,
        "tools: source tree not found (not analysed)\n\nno file is shared between extensions\n"
    );
}
