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
