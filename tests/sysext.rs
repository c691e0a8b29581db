//! systemd-sysext and systemd-confext (254, from `scripts/test-tools`) merge what pcfg emits into
//! a scratch root: the image's os-release (`image-tree/usr/lib/os-release`) and each
//! extension's release file agree, so systemd accepts every extension, and `overrides` puts the
//! declared winner on top of the overlay.
//!
//! The merge mounts an overlay, so it runs in a mount namespace of its own (`unshare`), with a
//! tmpfs on `/run` for systemd's workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{pcfg_in, test_tool, test_tool_on_path};

/// Writes `files` (`path`, contents) below `dir`.
fn tree(dir: &Path, files: &[(&str, &str)]) {
    for (path, contents) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
}

/// Copies the directory `from` into `to` (created), as `cp -a` does.
fn copy_into(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .expect("cp runs");
    assert!(status.success());
}

/// The image name systemd will merge an extension under: the suffix of the release file pcfg
/// wrote for it.
fn image_name(out: &Path, extension: &str) -> String {
    let dirs = ["usr/lib/extension-release.d", "etc/extension-release.d"];
    for dir in dirs {
        let dir = out.join("extensions").join(extension).join(dir);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries {
                let name = entry.expect("entry").file_name();
                let name = name.to_string_lossy();
                if let Some(image) = name.strip_prefix("extension-release.") {
                    return image.to_owned();
                }
            }
        }
    }
    panic!("no release file for {extension}");
}

/// Builds `config` (with the extension trees `files`) and lays the result out as an installed
/// system would have it: the os-release pcfg emits, and each extension (its source tree and the
/// files pcfg emits for it) as a directory under `/var/lib/extensions` or `/var/lib/confexts`,
/// named as pcfg names its image.
fn installed(
    dir: &Path,
    config: &str,
    files: &[(&str, &str)],
    extensions: &[(&str, &str)],
) -> PathBuf {
    tree(dir, files);
    std::fs::write(dir.join("system.pcfg"), config).expect("write");
    let build = pcfg_in(dir, &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(build.code, 0, "{}", build.transcript());
    let out = dir.join("out");
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("usr/lib")).expect("mkdir");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir");
    std::fs::copy(
        out.join("image-tree/usr/lib/os-release"),
        root.join("usr/lib/os-release"),
    )
    .expect("the image's os-release is emitted");
    for (name, kind) in extensions {
        let image = image_name(&out, name);
        let place = if *kind == "confext" {
            "var/lib/confexts"
        } else {
            "var/lib/extensions"
        };
        let target = root.join(place).join(&image);
        copy_into(&dir.join("ext").join(name), &target);
        copy_into(&out.join("extensions").join(name), &target);
    }
    root
}

/// Merges the extensions of `root` with the real tool (`systemd-sysext` or `systemd-confext`)
/// and returns what `cat` reads at `path` in the merged tree, and the tool's output.
fn merged(tool: &str, root: &Path, path: &str) -> (String, String) {
    let tool = test_tool(&format!("{tool}-backports"));
    let script = format!(
        "mount -t tmpfs tmpfs /run && {} merge --root={} 2>&1 && cat {}",
        tool.display(),
        root.display(),
        root.join(path).display()
    );
    let mut command = Command::new(test_tool_on_path("unshare"));
    // As root a mount namespace is enough; otherwise a user namespace maps us to root in it.
    if !is_root() {
        command.arg("--map-root-user");
    }
    let output = command
        .args(["--mount", "--propagation", "shared", "sh", "-c"])
        .arg(script)
        .output()
        .expect("unshare runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the merge failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (log, contents) = text.rsplit_once("Merged extensions into ").map_or_else(
        || (text.clone(), String::new()),
        |(log, rest)| {
            (
                log.to_owned(),
                rest.split_once('\n').map_or("", |(_, c)| c).to_owned(),
            )
        },
    );
    (contents, log)
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Two system extensions with the same file; `winner` declares `overrides = [loser]`.
fn overriding(version: Option<&str>, winner: &str, loser: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let version = version.map_or_else(String::new, |v| format!(", version = \"{v}\""));
    let config = format!(
        "system {{ name = \"MergeOS\"{version} }}\n\
         extension {winner} {{ kind = sysext, source = \"ext/{winner}\", overrides = [{loser}] }}\n\
         extension {loser} {{ kind = sysext, source = \"ext/{loser}\" }}\n"
    );
    let winner_file = format!("ext/{winner}/usr/share/merge/who");
    let loser_file = format!("ext/{loser}/usr/share/merge/who");
    let root = installed(
        dir.path(),
        &config,
        &[
            (&winner_file, &format!("{winner}\n")),
            (&loser_file, &format!("{loser}\n")),
        ],
        &[(winner, "sysext"), (loser, "sysext")],
    );
    let (who, log) = merged("systemd-sysext", &root, "usr/share/merge/who");
    assert!(
        log.contains("Using extensions"),
        "systemd-sysext accepted no extension: {log}"
    );
    who
}

#[test]
fn the_declared_winner_is_on_top_whatever_the_names() {
    // `zeta` sorts last, so systemd puts it on top by its name alone.
    assert_eq!(overriding(Some("1.0"), "zeta", "alpha"), "zeta\n");
    // `alpha` sorts first: pcfg must rename the images for the declaration to hold.
    assert_eq!(overriding(Some("1.0"), "alpha", "zeta"), "alpha\n");
    // Without a version the images match by SYSEXT_LEVEL instead.
    assert_eq!(overriding(None, "alpha", "zeta"), "alpha\n");
    // Names as they are in the wild start with digits (issue 14): `1password` sorts before
    // `7zip`, and each wins when it is declared to.
    assert_eq!(overriding(Some("1.0"), "1password", "7zip"), "1password\n");
    assert_eq!(overriding(Some("1.0"), "7zip", "1password"), "7zip\n");
}

#[test]
fn systemd_confext_accepts_the_configuration_extensions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "system { name = \"MergeOS\" }\n\
                  extension settings { kind = confext, source = \"ext/settings\" }\n";
    let root = installed(
        dir.path(),
        config,
        &[("ext/settings/etc/merge/hello", "from the confext\n")],
        &[("settings", "confext")],
    );
    let (hello, log) = merged("systemd-confext", &root, "etc/merge/hello");
    assert!(log.contains("Using extensions 'settings'"), "{log}");
    assert_eq!(hello, "from the confext\n");
}

/// pcfg's copy of systemd's version comparison agrees with systemd's own
/// (`systemd-analyze compare-versions`) on names built from every kind of segment.
#[test]
fn image_names_sort_as_systemd_sorts_them() {
    use pcfg::model::overlay::version_cmp;
    let pieces = [
        "a", "b", "ab", "1", "01", "10", "2", "-", ".", "^", "~", "_", "z9",
    ];
    // Deterministic pairs: every name of up to three pieces drawn by a fixed stride.
    let name = |n: usize| -> String {
        let mut n = n;
        let mut s = String::new();
        for _ in 0..3 {
            s.push_str(pieces[n % pieces.len()]);
            n /= pieces.len();
        }
        s
    };
    let mut disagreements = Vec::new();
    for i in 0..150 {
        let (a, b) = (name(i * 7 + 3), name(i * 13 + 5));
        let output = Command::new("systemd-analyze")
            .args(["compare-versions", "--", &a, &b])
            .output()
            .expect("systemd-analyze runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let theirs = if text.contains(" < ") {
            std::cmp::Ordering::Less
        } else if text.contains(" > ") {
            std::cmp::Ordering::Greater
        } else {
            assert!(text.contains(" == "), "{text}");
            std::cmp::Ordering::Equal
        };
        if version_cmp(&a, &b) != theirs {
            disagreements.push(format!("{a} {b}: systemd says {text}"));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}
