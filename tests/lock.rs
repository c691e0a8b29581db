//! The lock file: `pcfg lock` records every input, `pcfg check --locked` reports what changed,
//! `pcfg build` records the lock's hash.

use crate::support::pcfg_in;

/// A directory with the remix and its base, and extension trees for the remix's sysexts.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["remix.pcfg", "particleos.pcfg"] {
        std::fs::copy(root.join("examples").join(name), dir.path().join(name)).expect("copy");
    }
    for tree in [
        "extensions/devtools/usr/bin",
        "extensions/toolchain-libs/usr/lib",
    ] {
        std::fs::create_dir_all(dir.path().join(tree)).expect("mkdir");
    }
    std::fs::write(
        dir.path().join("extensions/devtools/usr/bin/cc"),
        "#!/bin/sh\n",
    )
    .expect("write");
    // The Flatpak remote's key, and the signing key and certificate the build reads
    // (`trust.key`, `trust.cert`).
    std::fs::create_dir_all(dir.path().join("keys")).expect("mkdir");
    std::fs::copy(
        root.join("examples/keys/flathub.gpg"),
        dir.path().join("keys/flathub.gpg"),
    )
    .expect("copy");
    std::fs::write(dir.path().join("mkosi.key"), "a key\n").expect("write");
    std::fs::write(dir.path().join("mkosi.crt"), "a certificate\n").expect("write");
    dir
}

#[test]
fn a_locked_configuration_checks_clean_until_an_input_changes() {
    let dir = project();
    let lock = pcfg_in(dir.path(), &["lock", "remix.pcfg"]);
    assert_eq!(lock.code, 0, "{}", lock.transcript());
    assert_eq!(
        lock.stdout,
        "locked 2 files, 2 trees and 3 keys, certificates and base trees in remix.pcfg.lock\n"
    );
    let text = std::fs::read_to_string(dir.path().join("remix.pcfg.lock")).expect("a lock file");
    assert!(
        text.contains("[files]")
            && text.contains("\"particleos.pcfg\" = \"")
            && text.contains("\"extensions/devtools\" = \"")
            && text.contains("[inputs]")
            && text.contains("\"mkosi.key\" = \""),
        "{text}"
    );
    assert!(!text.contains("missing"), "{text}");
    assert_eq!(
        pcfg_in(dir.path(), &["check", "--locked", "remix.pcfg"]).code,
        0
    );

    // The base changes, and an extension tree does.
    let base = dir.path().join("particleos.pcfg");
    let changed = std::fs::read_to_string(&base)
        .expect("read")
        .replace("size-max = 20G", "size-max = 21G");
    std::fs::write(&base, changed).expect("write");
    std::fs::write(
        dir.path().join("extensions/devtools/usr/bin/cc"),
        "#!/bin/sh\nexit 1\n",
    )
    .expect("write");
    let run = pcfg_in(dir.path(), &["check", "--locked", "remix.pcfg"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.transcript());
    // Locking again accepts the change.
    assert_eq!(pcfg_in(dir.path(), &["lock", "remix.pcfg"]).code, 0);
    assert_eq!(
        pcfg_in(dir.path(), &["check", "--locked", "remix.pcfg"]).code,
        0
    );
    // A new signing key is a changed input.
    std::fs::write(dir.path().join("mkosi.key"), "another key\n").expect("write");
    let run = pcfg_in(dir.path(), &["check", "--locked", "remix.pcfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("`mkosi.key` changed since it was locked"),
        "{}",
        run.stderr
    );
    // An input that exists but cannot be read is never recorded as missing: `lock` fails.
    std::fs::remove_file(dir.path().join("mkosi.key")).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("mkosi.key"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let before = std::fs::read_to_string(dir.path().join("remix.pcfg.lock")).expect("lock");
    let run = pcfg_in(dir.path(), &["lock", "remix.pcfg"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("cannot read the inputs `mkosi.key`"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("remix.pcfg.lock")).expect("lock"),
        before
    );
    let run = pcfg_in(dir.path(), &["check", "--locked", "remix.pcfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
}

#[test]
fn a_locked_check_without_a_lock_file_fails() {
    let dir = project();
    let run = pcfg_in(dir.path(), &["check", "--locked", "remix.pcfg"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn the_build_records_the_lock() {
    let dir = project();
    assert_eq!(pcfg_in(dir.path(), &["lock", "remix.pcfg"]).code, 0);
    assert_eq!(
        pcfg_in(dir.path(), &["build", "remix.pcfg", "-o", "out"]).code,
        0
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/manifest.json")).expect("manifest"),
    )
    .expect("json");
    let lock = std::fs::read(dir.path().join("remix.pcfg.lock")).expect("lock");
    assert_eq!(manifest["lock"], pcfg::emit::sha256_hex(&lock));
}
