//! The machine's own systemd tools as oracles for what pcfg assumes about them.

use std::path::Path;
use std::process::Command;

use pcfg::model::gates;

#[test]
fn erofs_gate_agrees_with_the_machines_systemd_repart() {
    let version = version_of(Path::new("systemd-repart"));
    let dir = tempfile::tempdir().expect("tempdir");
    let definitions = dir.path().join("repart.d");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&definitions).expect("mkdir");
    std::fs::create_dir_all(root.join("usr")).expect("mkdir");
    std::fs::write(root.join("usr/hello"), "hello\n").expect("write");
    std::fs::write(
        definitions.join("10-usr.conf"),
        "[Partition]\nType=usr\nFormat=erofs\nCopyFiles=/usr:/\n",
    )
    .expect("write");
    let output = Command::new("systemd-repart")
        .arg(format!("--definitions={}", definitions.display()))
        .arg(format!("--root={}", root.display()))
        .args([
            "--empty=create",
            "--size=auto",
            "--dry-run=no",
            "--no-pager",
        ])
        .arg(dir.path().join("image.raw"))
        .output()
        .expect("systemd-repart runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if version < gates::EROFS {
        assert!(
            !output.status.success(),
            "systemd-repart {version} built erofs, yet the gate says {}",
            gates::EROFS
        );
        assert!(stderr.contains("erofs"), "{stderr}");
    } else {
        assert!(
            output.status.success(),
            "systemd-repart {version} refused erofs: {stderr}"
        );
    }
}

/// The major version a systemd tool reports (`systemd 252 (252.38-1~deb12u1)` → 252).
fn version_of(tool: &Path) -> u32 {
    let output = Command::new(tool)
        .arg("--version")
        .output()
        .expect("the tool runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a version number")
}

#[test]
fn backported_systemd_repart_builds_erofs_as_the_gate_says() {
    let repart = crate::support::test_tool("systemd-repart-backports");
    let version = version_of(&repart);
    assert!(
        version >= gates::EROFS,
        "systemd-repart {version} is older than the erofs gate {}",
        gates::EROFS
    );
    assert!(version >= gates::MINIMIZE);
    // Keys a version does not know it names "Unknown key"; the gates say which it should know.
    let dir = tempfile::tempdir().expect("tempdir");
    let definitions = dir.path().join("repart.d");
    std::fs::create_dir_all(&definitions).expect("mkdir");
    std::fs::write(
        definitions.join("10-usr.conf"),
        "[Partition]\nType=usr\nFormat=ext4\nMinimize=yes\nCompression=zstd\n",
    )
    .expect("write");
    let output = Command::new(&repart)
        .arg(format!("--definitions={}", definitions.display()))
        .args([
            "--empty=create",
            "--size=100M",
            "--dry-run=yes",
            "--offline=yes",
            "--no-pager",
        ])
        .arg(dir.path().join("image.raw"))
        .output()
        .expect("systemd-repart runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("Unknown key 'Minimize'"), "{stderr}");
    assert_eq!(
        stderr.contains("Unknown key 'Compression'"),
        version < gates::COMPRESSION,
        "{stderr}"
    );
}
