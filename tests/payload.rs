//! The payload — the image's trees and the build scripts of the image and its extensions — as
//! mkosi reads it from the emitted project, in the plan (an edited script rebuilds exactly what
//! runs it) and in the lock file.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{changed_steps, mkosi_summary, pcfg_in, plan_ids};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the `everything` case (which sets every payload field) in a new directory.
fn copy_everything() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(root().join("tests/cases/ok/everything/."))
        .arg(dir.path())
        .status()
        .expect("cp runs");
    assert!(status.success());
    dir
}

fn paths(value: &serde_json::Value) -> Vec<PathBuf> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| PathBuf::from(p.as_str().expect("a path")))
        .collect()
}

#[test]
fn mkosi_copies_the_trees_and_runs_the_scripts_the_configuration_declares() {
    let dir = copy_everything();
    // Without the unsigned UKI profile: mkosi 25.3 does not know `SignExpectedPcr=` in a
    // profile and warns (the case targets systemd 258).
    let config = dir.path().join("system.pcfg");
    let text = std::fs::read_to_string(&config).expect("system.pcfg");
    std::fs::write(&config, text.replace(", sign-pcr = false", "")).expect("write");
    let out = dir.path().join("out");
    let run = pcfg_in(dir.path(), &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let images = mkosi_summary(&out.join("mkosi"), None);
    let config = dir.path().canonicalize().expect("canonical");
    let main = images.last().expect("the image");
    assert_eq!(
        paths(&main["PostInstallationScripts"]),
        [config.join("scripts/a.chroot")]
    );
    // mkosi's finalize script of its own (the factory /etc) is there too, as mkosi finds it.
    let finalize = paths(&main["FinalizeScripts"]);
    assert!(finalize.contains(&config.join("scripts/b")), "{finalize:?}");
    assert_eq!(
        paths(&main["PostOutputScripts"]),
        [config.join("scripts/b")]
    );
    // The declared tree is copied first, so that pcfg's own files (os-release, the
    // definitions) are copied over it and win.
    let trees = main["ExtraTrees"].as_array().expect("trees");
    assert_eq!(
        trees[0],
        serde_json::json!({ "Source": config.join("tree").display().to_string(), "Target": "/" })
    );
    assert!(trees[1]["Source"]
        .as_str()
        .expect("a source")
        .ends_with("/image-tree"));
    // An extension's scripts run when its own image is built, and only then.
    let libs = images
        .iter()
        .find(|i| i["Image"].as_str().is_some_and(|n| n.ends_with("libs")))
        .expect("the libs extension");
    assert_eq!(
        paths(&libs["PostInstallationScripts"]),
        [config.join("scripts/a.chroot")]
    );
    assert_eq!(paths(&libs["FinalizeScripts"]), [config.join("scripts/b")]);
    let tools = images
        .iter()
        .find(|i| i["Image"].as_str().is_some_and(|n| n.ends_with("tools")))
        .expect("the tools extension");
    assert_eq!(tools["PostInstallationScripts"], serde_json::json!([]));
}

#[test]
fn an_edited_script_or_tree_rebuilds_what_uses_it_and_the_lock_notices() {
    let dir = copy_everything();
    let before = plan_ids(dir.path(), &["system.pcfg"]);
    let locked = pcfg_in(dir.path(), &["lock", "system.pcfg"]);
    assert_eq!(locked.code, 0, "{}", locked.transcript());
    let lock = std::fs::read_to_string(dir.path().join("system.pcfg.lock")).expect("lock");
    let lock = pcfg::lock::Lock::parse(&lock).expect("a lock file");
    for input in ["tree", "scripts/a.chroot", "scripts/b", "keys/pcr.key"] {
        assert!(lock.inputs.contains_key(input), "{input}: {lock:?}");
    }

    // `scripts/a.chroot` runs for the image and for `libs`: both are built again, and what
    // depends on them; nothing else.
    std::fs::write(
        dir.path().join("scripts/a.chroot"),
        "#!/bin/sh\n# edited\nexit 0\n",
    )
    .expect("write");
    let after = plan_ids(dir.path(), &["system.pcfg"]);
    let changes = changed_steps(&before, &after);
    for step in ["payload", "usr-tree", "extension:libs", "extension:tools"] {
        assert!(changes.contains(&step.to_owned()), "{step}: {changes:#?}");
    }
    for step in ["extension:etc", "extension:web", "base-tree", "packages"] {
        assert!(!changes.contains(&step.to_owned()), "{step}: {changes:#?}");
    }
    let check = pcfg_in(dir.path(), &["check", "--locked", "system.pcfg"]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    assert!(
        check.stderr.contains("scripts/a.chroot"),
        "{}",
        check.stderr
    );

    // A file in the image's tree: the image, not the extensions.
    let before = after;
    std::fs::write(
        dir.path().join("tree/usr/share/everything/README"),
        "edited\n",
    )
    .expect("write");
    let changes = changed_steps(&before, &plan_ids(dir.path(), &["system.pcfg"]));
    assert!(changes.contains(&"usr-tree".to_owned()), "{changes:#?}");
    assert!(
        !changes.iter().any(|c| c.starts_with("extension:")),
        "{changes:#?}"
    );
}
