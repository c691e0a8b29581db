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

/// The drop-in pcfg writes for `systemd-repart.service` when a first-boot partition is sealed to
/// the TPM: its `ExecStart=` is a command systemd-repart accepts, with the declared PCRs, and it
/// runs over the emitted definitions of the installed disk.
#[test]
fn systemd_repart_accepts_the_sealing_drop_in() {
    let repart = crate::support::test_tool("systemd-repart-backports");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("system.pcfg"),
        // The machine's systemd-repart is 254: the target it runs the command of.
        // (without the UKI profiles, which need 257).
        "import \"std/particleos\"\nsystem.name = \"SealOS\"\nsystem.systemd = 254\n\
         remove uki-profile.factory-reset\nremove uki-profile.emergency\ntrust.tpm2.pcrs += [11]\n",
    )
    .expect("write");
    let run = crate::support::pcfg_in(dir.path(), &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let out = dir.path().join("out");
    let drop_in = "usr/lib/systemd/system/systemd-repart.service.d/50-pcfg-tpm2.conf";
    let image = std::fs::read_to_string(out.join("image-tree").join(drop_in)).expect("drop-in");
    let initrd = std::fs::read_to_string(out.join("initrd-tree").join(drop_in)).expect("drop-in");
    assert_eq!(image, initrd);
    let commands: Vec<&str> = image
        .lines()
        .filter_map(|l| l.strip_prefix("ExecStart="))
        .collect();
    assert_eq!(commands.first(), Some(&""), "the default command is reset");
    let command: Vec<&str> = commands
        .last()
        .expect("a command")
        .split_whitespace()
        .collect();
    assert_eq!(
        command,
        [
            "systemd-repart",
            "--dry-run=no",
            "--tpm2-pcrs=7+11",
            "--tpm2-public-key-pcrs=11"
        ]
    );
    // The same options, on the emitted definitions of the sealed partitions (those of slot A
    // copy blocks from the booted disk, which a test has not), without writing: a later
    // `--dry-run` wins.
    let sealed = dir.path().join("sealed");
    std::fs::create_dir(&sealed).expect("mkdir");
    for entry in std::fs::read_dir(out.join("repart.d/install")).expect("definitions") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("definition");
        if text.contains("Encrypt=tpm2") {
            std::fs::write(sealed.join(path.file_name().expect("name")), text).expect("write");
        }
    }
    assert!(
        std::fs::read_dir(&sealed).expect("dir").count() >= 2,
        "root and swap"
    );
    // An empty GPT disk: `--empty=create` would imply `--dry-run=no`.
    let disk = dir.path().join("disk.raw");
    std::fs::File::create(&disk)
        .and_then(|f| f.set_len(64 << 30))
        .expect("disk");
    let mut sfdisk = Command::new(crate::support::test_tool_on_path("sfdisk"))
        .arg("--quiet")
        .arg(&disk)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("sfdisk runs");
    std::io::Write::write_all(sfdisk.stdin.as_mut().expect("stdin"), b"label: gpt\n")
        .expect("write");
    assert!(sfdisk.wait().expect("sfdisk").success());
    let output = Command::new(&repart)
        .args(&command[1..])
        .arg(format!("--definitions={}", sealed.display()))
        .args(["--dry-run=yes", "--no-pager"])
        .arg(&disk)
        .output()
        .expect("systemd-repart runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // From systemd 255 on, the command also turns off the pcrlock policy systemd-repart would
    // add unasked (`--tpm2-pcrlock=`, empty): 254 has no such option and refuses it, hence the
    // gate (the end-to-end test's systemd 257 runs it at first boot).
    let newer = pcfg::compile::check(&pcfg::vfs::RealFs, &dir.path().join("system.pcfg"))
        .expect("readable")
        .model
        .expect("model");
    let tpm2 = newer.trust.tpm2.as_ref().expect("trust.tpm2");
    assert!(!tpm2
        .repart_options(254)
        .iter()
        .any(|o| o.starts_with("--tpm2-pcrlock")));
    assert_eq!(
        tpm2.repart_options(pcfg::model::gates::PCRLOCK)
            .last()
            .map(String::as_str),
        Some("--tpm2-pcrlock=")
    );
    let refused = Command::new(&repart)
        .arg("--tpm2-pcrlock=")
        .arg("--help")
        .output()
        .expect("systemd-repart runs");
    assert!(
        !refused.status.success(),
        "systemd-repart 254 knows --tpm2-pcrlock="
    );
}
