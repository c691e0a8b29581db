//! Package sources read by apt as mkosi's sandbox gives them to it: pcfg builds a system with two
//! package sources of a local repository signed with a fresh OpenPGP key, mkosi (`--json
//! summary`) says which trees it copies into its sandbox and where, and apt — in a mount
//! namespace whose `/etc/apt` is those trees, as in mkosi's sandbox — updates from them (so the
//! key pcfg placed is the one the Release files are verified with), applies the pin and
//! installs a pinned package from its suite. A key that did not sign the repository fails the
//! update.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{mkosi_summary, pcfg_in, test_tool_on_path};

/// The packages each suite of the local repository has: (suite, [(package, version)]).
const SUITES: &[(&str, &[(&str, &str)])] = &[
    ("trixie", &[("hello-pcfg", "1.0")]),
    ("forky", &[("hello-pcfg", "2.0"), ("only-forky", "1.0")]),
];

fn config(repo: &Path, key: &str) -> String {
    format!(
        r#"system {{
  name = "aptly"
  version = "1"
  distribution = debian
  release = "trixie"
  packages = ["hello-pcfg/forky"]
}}

partition esp {{ type = esp, size = 512M }}

partition root {{ type = root, size-min = 2G, format = ext4 }}

package-source local {{
  url = "{repo}"
  key = "{key}"
}}

package-source newer {{
  url = "{repo}"
  suite = "forky"
  key = "{key}"
  priority = 50
}}
"#,
        repo = repo.display()
    )
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?}: {text}");
    text
}

/// A new key pair in its own gpg home; returns the home.
fn gpg_home(dir: &Path, name: &str) -> PathBuf {
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).expect("mkdir");
    run(Command::new("chmod").arg("700").arg(&home));
    run(Command::new("gpg").arg("--homedir").arg(&home).args([
        "--batch",
        "--passphrase",
        "",
        "--quick-gen-key",
        &format!("pcfg test {name}"),
        "ed25519",
        "sign",
        "1d",
    ]));
    home
}

fn export(home: &Path, to: &Path) {
    export_with(home, to, &[]);
}

fn export_armored(home: &Path, to: &Path) {
    export_with(home, to, &["--armor"]);
}

fn export_with(home: &Path, to: &Path, options: &[&str]) {
    let key = Command::new("gpg")
        .arg("--homedir")
        .arg(home)
        .arg("--export")
        .args(options)
        .output()
        .expect("gpg runs");
    assert!(key.status.success() && !key.stdout.is_empty());
    std::fs::write(to, key.stdout).expect("write");
}

/// A flat apt repository of `SUITES`, its Release files signed (`InRelease`) with `home`'s key.
fn repository(repo: &Path, home: &Path) {
    for (suite, packages) in SUITES {
        let dists = repo.join("dists").join(suite);
        let binary = dists.join("main/binary-amd64");
        std::fs::create_dir_all(&binary).expect("mkdir");
        let mut index = String::new();
        for (name, version) in *packages {
            let _ = write!(
                index,
                "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: pcfg <pcfg@example.org>\nFilename: pool/{name}_{version}_all.deb\nSize: 1\nSHA256: {}\nDescription: a test package\n\n",
                "0".repeat(64)
            );
        }
        std::fs::write(binary.join("Packages"), &index).expect("write");
        let digest = pcfg::emit::sha256_hex(index.as_bytes());
        let release = format!(
            "Origin: pcfg\nSuite: {suite}\nCodename: {suite}\nDate: Sat, 01 Jan 2000 00:00:00 UTC\nValid-Until: Sat, 01 Jan 2100 00:00:00 UTC\nArchitectures: amd64\nComponents: main\nSHA256:\n {digest} {} main/binary-amd64/Packages\n",
            index.len()
        );
        std::fs::write(dists.join("Release"), release).expect("write");
        run(Command::new("gpg")
            .arg("--homedir")
            .arg(home)
            .args(["--batch", "--yes", "--clearsign", "--output"])
            .arg(dists.join("InRelease"))
            .arg(dists.join("Release")));
    }
}

/// Runs `script` with `/etc/apt` replaced by the sandbox trees mkosi reads from `project`, as
/// mkosi's sandbox has them; apt's state and cache in `state`.
fn in_sandbox(project: &Path, state: &Path, script: &str) -> (bool, String) {
    let images = mkosi_summary(project, None);
    let image = images.last().expect("the image");
    let trees = image["SandboxTrees"].as_array().expect("SandboxTrees");
    assert!(!trees.is_empty(), "mkosi reads no sandbox trees");
    let mut setup = String::from("set -e; mount -t tmpfs tmpfs /etc/apt; ");
    for tree in trees {
        let (source, target) = (
            tree["Source"].as_str().expect("source"),
            tree["Target"].as_str().expect("target"),
        );
        assert!(target.starts_with("/etc/apt"), "{target}");
        // As mkosi's `install_tree()`: a directory's contents, or the file, at the target.
        let _ = write!(
            setup,
            "mkdir -p \"$(dirname {target})\"; if [ -d {source} ]; then mkdir -p {target}; cp -r {source}/. {target}; else cp {source} {target}; fi; "
        );
    }
    for dir in ["lists/partial", "cache/archives/partial"] {
        std::fs::create_dir_all(state.join(dir)).expect("mkdir");
    }
    std::fs::write(state.join("status"), "").expect("write");
    let options = format!(
        "-o Dir::State::Lists={0}/lists -o Dir::Cache={0}/cache -o Dir::State::status={0}/status -o APT::Sandbox::User=root -o Debug::NoLocking=1",
        state.display()
    );
    let script = script.replace("APT", &options);
    let mut command = Command::new(test_tool_on_path("unshare"));
    if !crate::sysext::is_root() {
        command.arg("--map-root-user");
    }
    let output = command
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!("{setup}{script}"))
        .output()
        .expect("unshare runs");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn build(dir: &Path, key: &str) -> PathBuf {
    std::fs::write(dir.join("system.pcfg"), config(&dir.join("repo"), key)).expect("write");
    let out = dir.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let run = pcfg_in(dir, &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    out
}

#[test]
fn apt_verifies_with_the_declared_key_and_applies_the_pin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let home = gpg_home(dir, "repo");
    repository(&dir.join("repo"), &home);
    std::fs::create_dir_all(dir.join("keys")).expect("mkdir");
    export(&home, &dir.join("keys/repo.gpg"));
    let out = build(dir, "keys/repo.gpg");

    let (ok, text) = in_sandbox(
        &out.join("mkosi"),
        &dir.join("state"),
        "apt-get APT update && apt-cache APT policy hello-pcfg && apt-get APT install -s hello-pcfg/forky only-forky",
    );
    assert!(ok, "apt failed: {text}");
    // The pin: forky's newer version is not the candidate, at priority 50.
    assert!(text.contains("Candidate: 1.0"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("50 file:") && l.contains("forky/main")),
        "forky is not at priority 50: {text}"
    );
    // Named with its suite, the package comes from it; a package only the pinned suite has is
    // installed from it.
    assert!(text.contains("Inst hello-pcfg (2.0 "), "{text}");
    assert!(text.contains("Inst only-forky (1.0 "), "{text}");

    // A key that did not sign the repository: apt refuses it.
    let other = gpg_home(dir, "other");
    export(&other, &dir.join("keys/other.gpg"));
    let out = build(dir, "keys/other.gpg");
    let _ = std::fs::remove_dir_all(dir.join("state"));
    let (ok, text) = in_sandbox(
        &out.join("mkosi"),
        &dir.join("state"),
        "apt-get APT update 2>&1 && apt-cache APT policy hello-pcfg",
    );
    assert!(
        text.contains("NO_PUBKEY") || text.contains("is not signed"),
        "apt did not verify with the declared key: {text}"
    );
    assert!(!ok, "{text}");

    // The same key armored, named `.asc` as apt reads armored keyrings.
    export_armored(&home, &dir.join("keys/repo.asc"));
    let out = build(dir, "keys/repo.asc");
    let _ = std::fs::remove_dir_all(dir.join("state"));
    let (ok, text) = in_sandbox(
        &out.join("mkosi"),
        &dir.join("state"),
        "apt-get APT update && apt-cache APT policy hello-pcfg",
    );
    assert!(ok && text.contains("Candidate: 1.0"), "{text}");
}
