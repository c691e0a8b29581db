//! Flatpak apps reach the image as Flatpak's own `.preinstall` files, read here with `GLib`'s
//! `GKeyFile` (the parser Flatpak uses), and the image installs `flatpak` and enables the unit
//! that applies them.

use std::process::Command;

use crate::support::pcfg_in;

/// Every group of a key file as `{group: {key: value}}`, by `GLib`'s own parser; booleans are
/// read with `get_boolean`, so a value `GLib` does not take as one fails.
const READ_KEY_FILE: &str = r#"
import json, sys
from gi.repository import GLib
out = {}
for path in sys.argv[1:]:
    k = GLib.KeyFile()
    k.load_from_file(path, GLib.KeyFileFlags.NONE)
    for group in k.get_groups()[0]:
        out[group] = {
            "Branch": k.get_string(group, "Branch"),
            "IsRuntime": k.get_boolean(group, "IsRuntime"),
        }
print(json.dumps(out, sort_keys=True))
"#;

#[test]
fn flatpak_reads_the_preinstall_files_as_declared() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("system.pcfg"),
        "system { name = \"AppOS\", packages = [\"systemd\"] }\n\
         extension maps { kind = flatpak, app = \"org.gnome.Maps\", runtime = \"org.gnome.Platform//47\" }\n\
         extension editor { kind = flatpak, app = \"app/org.gnome.TextEditor/x86_64/beta\" }\n",
    )
    .expect("write");
    let run = pcfg_in(dir.path(), &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let out = dir.path().join("out");
    let preinstall = out.join("image-tree/usr/share/flatpak/preinstall.d");
    let output = Command::new("/usr/bin/python3")
        .args(["-c", READ_KEY_FILE])
        .arg(preinstall.join("maps.preinstall"))
        .arg(preinstall.join("editor.preinstall"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "GLib refuses the files: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let groups: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        groups,
        serde_json::json!({
            "Flatpak Preinstall org.gnome.Maps": { "Branch": "stable", "IsRuntime": false },
            "Flatpak Preinstall org.gnome.Platform": { "Branch": "47", "IsRuntime": true },
            "Flatpak Preinstall org.gnome.TextEditor": { "Branch": "beta", "IsRuntime": false },
        })
    );
    // The image installs flatpak, once, and enables the unit that runs `flatpak preinstall`.
    let mkosi = std::fs::read_to_string(out.join("mkosi/mkosi.conf")).expect("mkosi.conf");
    assert!(
        mkosi.contains("Packages=\n        systemd\n        flatpak\n"),
        "{mkosi}"
    );
    let unit = std::fs::read_to_string(
        out.join("image-tree/usr/lib/systemd/system/pcfg-flatpak-preinstall.service"),
    )
    .expect("the unit");
    assert!(
        unit.contains("ExecStart=flatpak preinstall --system --assumeyes --noninteractive\n"),
        "{unit}"
    );
    let preset = std::fs::read_to_string(
        out.join("image-tree/usr/lib/systemd/system-preset/50-pcfg.preset"),
    )
    .expect("the preset");
    assert!(preset.ends_with("\nenable pcfg-flatpak-preinstall.service\n"));
    // systemd's own unit-file parser takes the unit: `systemd-analyze verify` reports unknown
    // keys and bad syntax.
    let check = Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--recursive-errors=no"])
        .arg(out.join("image-tree/usr/lib/systemd/system/pcfg-flatpak-preinstall.service"))
        .output()
        .expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&check.stderr);
    // The machine running the tests has no flatpak: that is the one complaint allowed.
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.contains("flatpak") || !l.contains("not executable") && !l.contains("No such file")
        })
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(complaints.is_empty(), "{stderr}");
}

/// A fresh OpenPGP key made with `gpg` in `dir/gnupg`, exported binary and armored into
/// `dir/keys`; returns its fingerprint.
fn make_key(dir: &std::path::Path) -> String {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::create_dir_all(dir.join("keys")).expect("mkdir");
    let gpg = |args: &[&str]| {
        let output = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--quiet", "--passphrase", ""])
            .args(args)
            .output()
            .expect("gpg runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    gpg(&[
        "--quick-gen-key",
        "pcfg test <test@example.org>",
        "ed25519",
        "sign",
        "never",
    ]);
    std::fs::write(dir.join("keys/repo.gpg"), gpg(&["--export"])).expect("write");
    std::fs::write(dir.join("keys/repo.asc"), gpg(&["--export", "--armor"])).expect("write");
    std::fs::write(dir.join("keys/secret.gpg"), gpg(&["--export-secret-keys"])).expect("write");
    let listing = String::from_utf8(gpg(&["--with-colons", "--list-keys"])).expect("utf-8");
    listing
        .lines()
        .find_map(|l| {
            l.strip_prefix("fpr:")
                .map(|f| f.trim_matches(':').to_owned())
        })
        .expect("a fingerprint")
}

/// A declared remote becomes a `.flatpakrepo` that real Flatpak adds with GPG verification
/// and the declared key, armored or binary alike; a secret key or a missing file is refused.
#[test]
fn flatpak_adds_the_declared_remote_with_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fingerprint = make_key(dir.path());
    let config = |key: &str| {
        format!(
            "system {{ name = \"AppOS\", packages = [\"systemd\"] }}\n\
             flatpak-remote apps {{ url = \"https://flatpak.example.org/repo/\", key = \"{key}\", title = \"Example apps\" }}\n\
             extension maps {{ kind = flatpak, app = \"org.gnome.Maps\" }}\n"
        )
    };
    std::fs::write(dir.path().join("system.pcfg"), config("keys/repo.asc")).expect("write");
    let run = pcfg_in(dir.path(), &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let repo = dir
        .path()
        .join("out/image-tree/usr/share/flatpak/remotes.d/apps.flatpakrepo");
    // GLib's key-file parser reads the file Flatpak reads; the key is the binary export.
    let read = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import json, sys\nfrom gi.repository import GLib\nk = GLib.KeyFile()\nk.load_from_file(sys.argv[1], GLib.KeyFileFlags.NONE)\nprint(json.dumps({key: k.get_string('Flatpak Repo', key) for key in k.get_keys('Flatpak Repo')[0]}))",
        ])
        .arg(&repo)
        .output()
        .expect("python3 runs");
    let keys: serde_json::Value = serde_json::from_slice(&read.stdout).expect("json");
    let encoded = Command::new("base64")
        .arg("-w0")
        .arg(dir.path().join("keys/repo.gpg"))
        .output()
        .expect("base64 runs")
        .stdout;
    assert_eq!(
        keys,
        serde_json::json!({
            "Title": "Example apps",
            "Url": "https://flatpak.example.org/repo/",
            "GPGKey": String::from_utf8(encoded).expect("base64"),
        })
    );
    // Flatpak itself adds the remote from the file, verifying with the key (a user
    // installation in a scratch home: the file is the one the system installation imports).
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    let flatpak = |args: &[&str]| {
        Command::new(crate::support::test_tool_on_path("flatpak"))
            .env("HOME", &home)
            .env_remove("XDG_DATA_HOME")
            .args(args)
            .output()
            .expect("flatpak runs")
    };
    let added = flatpak(&[
        "remote-add",
        "--user",
        "--from",
        "apps",
        repo.to_str().expect("utf-8"),
    ]);
    assert!(
        added.status.success(),
        "flatpak refuses the remote: {}",
        String::from_utf8_lossy(&added.stderr)
    );
    let remotes = flatpak(&["remotes", "--user", "--columns=name,title,url"]);
    assert_eq!(
        String::from_utf8_lossy(&remotes.stdout),
        "apps\tExample apps\thttps://flatpak.example.org/repo/\n"
    );
    let repo_config = std::fs::read_to_string(home.join(".local/share/flatpak/repo/config"))
        .expect("the user repository's config");
    assert!(repo_config.contains("gpg-verify=true\n"), "{repo_config}");
    let keyring = home.join(".local/share/flatpak/repo/apps.trustedkeys.gpg");
    let trusted = Command::new("gpg")
        .env("GNUPGHOME", dir.path().join("gnupg"))
        .args(["--batch", "--with-colons", "--show-keys"])
        .arg(&keyring)
        .output()
        .expect("gpg runs");
    assert!(
        String::from_utf8_lossy(&trusted.stdout).contains(&format!("fpr:::::::::{fingerprint}:")),
        "Flatpak trusts other keys than the declared one: {}",
        String::from_utf8_lossy(&trusted.stdout)
    );
    // The binary export gives the same file; a secret key and a missing file are refused.
    std::fs::write(dir.path().join("system.pcfg"), config("keys/repo.gpg")).expect("write");
    let run = pcfg_in(dir.path(), &["build", "system.pcfg", "-o", "out2"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let again = dir
        .path()
        .join("out2/image-tree/usr/share/flatpak/remotes.d/apps.flatpakrepo");
    assert_eq!(
        std::fs::read(&repo).expect("read"),
        std::fs::read(&again).expect("read")
    );
    for (key, says) in [
        ("keys/secret.gpg", "holds a secret"),
        ("keys/none.gpg", "does not exist"),
    ] {
        std::fs::write(dir.path().join("system.pcfg"), config(key)).expect("write");
        let run = pcfg_in(dir.path(), &["check", "system.pcfg"]);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(
            run.stderr.contains("pcfg::flatpak-remote-key") && run.stderr.contains(says),
            "{}",
            run.transcript()
        );
    }
}
