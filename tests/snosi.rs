//! `examples/multi-product/` against snosi, the distribution it is modelled on: the emitted
//! repart.d, sysupdate.d and mkosi files say, key by key, what snosi's own files say for the
//! pieces both have. The expectations are facts read from snosi's public repository
//! (github.com/frostyard/snosi at 6c09d67, the files named at each), written here by hand; the
//! book's chapter "Several products" says where pcfg differs and why.

use std::path::Path;

use crate::support::mkosi_summary;

/// The `KEY=VALUE` lines of a unit-file-style file, in order, comments left out.
fn keys(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn value<'k>(keys: &'k [(String, String)], key: &str) -> Vec<&'k str> {
    keys.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Asserts each `(key, value)` of `expected` is in `file` (a key listed twice must have both).
fn assert_has(file: &Path, expected: &[(&str, &str)]) {
    let found = keys(file);
    for (key, want) in expected {
        assert!(
            value(&found, key).contains(want),
            "{}: {key}={want} expected, found {:?}",
            file.display(),
            value(&found, key)
        );
    }
}

fn built() -> (tempfile::TempDir, std::path::PathBuf) {
    crate::support::built_together(&[
        "examples/multi-product/cayo.pcfg",
        "examples/multi-product/snow.pcfg",
        "examples/multi-product/snowfield.pcfg",
    ])
}

#[test]
fn the_disk_layout_is_snosis() {
    let (_dir, out) = built();
    for product in ["cayo", "snow", "snowfield"] {
        let build = out.join(format!("products/{product}/repart.d/build"));
        let install = out.join(format!("products/{product}/repart.d/install"));
        // shared/native-ab/channels/PRODUCT/mkosi.repart/00-esp.conf
        assert_has(
            &build.join("00-esp.conf"),
            &[
                ("Type", "esp"),
                ("Format", "vfat"),
                ("CopyFiles", "/efi:/"),
                ("CopyFiles", "/boot:/"),
                ("SizeMinBytes", "1G"),
                ("SizeMaxBytes", "1G"),
            ],
        );
        // 11-root.conf: the whole tree but /var, EROFS, the data half of a verity pair, labelled
        // PRODUCT_%A_r. (pcfg's types name the architecture, `root-x86-64`.)
        let root = build.join("12-root.conf");
        assert_has(
            &root,
            &[
                ("Type", "root-x86-64"),
                ("Format", "erofs"),
                ("Verity", "data"),
                ("VerityMatchKey", "root"),
                ("ExcludeFilesTarget", "/var/"),
            ],
        );
        let found = keys(&root);
        let copy = value(&found, "CopyFiles");
        assert!(copy == ["/"] || copy == ["/:/"], "{copy:?}");
        let label = value(&found, "Label")[0].replace("%M", product);
        assert_eq!(label, format!("{product}_%A_r"));
        // 11-root.conf's size, 8G both ways, on the installed disk (pcfg minimizes the image
        // it publishes and makes the partition its declared size when it installs).
        assert_has(
            &install.join("12-root.conf"),
            &[("SizeMinBytes", "8G"), ("SizeMaxBytes", "8G")],
        );
        // 20-root-verity-empty.conf, 21-root-empty.conf: slot B, free, the same size, made in
        // the image (`create = image`).
        assert_has(
            &build.join("22-root.conf"),
            &[
                ("Label", "_empty"),
                ("SizeMinBytes", "8G"),
                ("SizeMaxBytes", "8G"),
            ],
        );
        assert_has(&build.join("21-root-verity.conf"), &[("Label", "_empty")]);
        assert_has(
            &install.join("22-root.conf"),
            &[
                ("Label", "_empty"),
                ("SizeMinBytes", "8G"),
                ("SizeMaxBytes", "8G"),
            ],
        );
        // 10-root-verity.conf: the hash half of the pair.
        assert_has(
            &build.join("11-root-verity.conf"),
            &[("Verity", "hash"), ("VerityMatchKey", "root")],
        );
        // 30-var.conf: /var, ext4, at least 4G, made and encrypted by the installer (snosi's
        // installer enrols a recovery key and a TPM2 token on the signed PCR 11 policy), so
        // among the installer's definitions and not among first boot's.
        let installer = out.join(format!("products/{product}/repart.d/installer"));
        assert_has(
            &installer.join("30-var.conf"),
            &[
                ("Type", "var"),
                ("Format", "ext4"),
                ("SizeMinBytes", "4G"),
                ("Encrypt", "key-file+tpm2"),
            ],
        );
        assert!(!install.join("30-var.conf").exists());
        let script = std::fs::read_to_string(out.join(format!(
            "products/{product}/image-tree/usr/bin/pcfg-install"
        )))
        .expect("the installer");
        assert!(
            script.contains("--tpm2-pcrs= \\\n"),
            "no raw PCRs:\n{script}"
        );
        assert!(script.contains("--tpm2-public-key-pcrs=11 "), "{script}");
    }
}

#[test]
fn the_update_transfers_are_snosis() {
    let (_dir, out) = built();
    let dir = out.join("products/snow/sysupdate.d/stable");
    // shared/native-ab/channels/snow/tree/usr/lib/sysupdate.d/20-root.transfer
    let root = dir.join("12-root.transfer");
    assert_has(
        &root,
        &[
            ("ProtectVersion", "%A"),
            ("Type", "url-file"),
            ("Type", "partition"),
            ("Path", "auto"),
            ("MatchPattern", "snow_@v_r"),
            ("PartitionFlags", "0"),
        ],
    );
    let found = keys(&root);
    // Published under the channel's name (`<ImageId>-ab`, docs/native-ab-contracts.md §1):
    // `MatchPattern=snow-ab_@v_@u.root.raw.xz`, the target still `snow_@v_r`.
    let source = value(&found, "MatchPattern");
    assert!(
        source
            .iter()
            .any(|p| p.starts_with("snow-ab_@v_") && p.contains("@u")),
        "{source:?}"
    );
    let read_only = value(&found, "ReadOnly");
    assert!(read_only == ["1"] || read_only == ["yes"], "{read_only:?}");
    // 90-uki.transfer: into the ESP's /EFI/Linux with boot counting, two kept; the three name
    // shapes of a UKI with and without its counters.
    let uki = dir.join("20-uki.transfer");
    assert_has(
        &uki,
        &[
            ("Type", "regular-file"),
            ("Path", "/EFI/Linux"),
            ("PathRelativeTo", "boot"),
            ("TriesLeft", "3"),
            ("TriesDone", "0"),
            ("InstancesMax", "2"),
        ],
    );
    let found = keys(&uki);
    // 90-uki.transfer: `[Source] MatchPattern=snow-ab_@v.efi`.
    assert!(
        value(&found, "MatchPattern").contains(&"snow-ab_@v_x86-64.efi"),
        "{found:?}"
    );
    let patterns: Vec<&str> = value(&found, "MatchPattern")
        .iter()
        .flat_map(|p| p.split_whitespace())
        .collect();
    for shape in ["+@l-@d.efi", "+@l.efi"] {
        assert!(patterns.iter().any(|p| p.ends_with(shape)), "{patterns:?}");
    }
    // mkosi.images/base/mkosi.extra/usr/lib/sysupdate.docker.d/: a feature of the extension's
    // name, disabled until the administrator enables it, its transfer in that feature.
    let components = out.join("products/snow/sysupdate-components/sysupdate.docker.d");
    assert_has(
        &components.join("docker.transfer"),
        &[("Features", "docker"), ("Type", "regular-file")],
    );
    let enabled = value(&keys(&components.join("docker.feature")), "Enabled").join("");
    assert!(enabled == "no" || enabled == "false", "{enabled}");
}

#[test]
fn the_mkosi_project_is_snosis() {
    let (_dir, out) = built();
    let summary = |profile: Option<&str>| mkosi_summary(&out.join("mkosi"), profile);
    // mkosi.conf: Debian trixie; the project's own build makes the base and the sysexts.
    let shared = summary(None);
    let main = shared.last().expect("the project");
    assert_eq!(main["Distribution"], "debian");
    assert_eq!(main["Release"], "trixie");
    assert_eq!(main["Format"], "none");
    // mkosi.images/base/mkosi.conf: a directory every image builds on.
    let base = &shared[0];
    assert_eq!(base["Image"], "base");
    assert_eq!(base["Format"], "directory");
    // mkosi.images/docker/mkosi.conf: a sysext on the base, only its own files kept.
    let docker = shared
        .iter()
        .find(|i| i["Image"] == "docker")
        .expect("docker");
    assert_eq!(docker["Format"], "sysext");
    assert_eq!(docker["Overlay"], true);
    assert_eq!(docker["Dependencies"], serde_json::json!(["base"]));
    for product in ["cayo", "snow", "snowfield"] {
        let images = summary(Some(product));
        let main = images.last().expect("the product");
        // mkosi.profiles/PRODUCT-ab/mkosi.conf: its own image id, the sysexts not rebuilt.
        assert_eq!(main["ImageId"], product);
        assert!(
            !images.iter().any(|i| i["Format"] == "sysext"),
            "{product} builds an extension"
        );
        // shared/outformat/ab-root/mkosi.conf: a bootable disk, split into its partitions
        // and the UKI.
        assert_eq!(main["Format"], "disk");
        assert_eq!(main["Bootable"], "enabled");
        let split = main["SplitArtifacts"].as_array().expect("split");
        for artifact in ["partitions", "uki"] {
            assert!(split.contains(&serde_json::json!(artifact)), "{split:?}");
        }
        // shared/native-ab-secure/mkosi.conf: systemd-boot behind Debian's signed shim, no
        // auto-enrolment, the PCR 11 policy signed by a key of its own.
        assert_eq!(main["Bootloader"], "systemd-boot");
        assert_eq!(main["ShimBootloader"], "signed");
        assert_eq!(main["SecureBoot"], true);
        assert_eq!(main["SecureBootAutoEnroll"], false);
        assert_eq!(main["SignExpectedPcr"], "enabled");
        assert_ne!(main["SignExpectedPcrKey"], main["SecureBootKey"]);
        let cmdline: Vec<&str> = main["KernelCommandLine"]
            .as_array()
            .expect("cmdline")
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        // shared/outformat/ab-root and native-ab-secure: the serial console, LUKS in the
        // initrd, kernel lockdown.
        for option in ["console=ttyS0", "rd.luks=1", "lockdown=integrity"] {
            assert!(cmdline.contains(&option), "{product}: {cmdline:?}");
        }
    }
    // shared/kernel/surface/mkosi.conf: snowfield's kernel is linux-image-surface, not
    // Debian's.
    let snowfield = summary(Some("snowfield"));
    let packages = snowfield.last().expect("snowfield")["Packages"]
        .as_array()
        .expect("packages")
        .clone();
    assert!(packages.contains(&serde_json::json!("linux-image-surface")));
    let base_packages = snowfield[0]["Packages"].as_array().expect("base").clone();
    for kernel in ["linux-image-amd64", "linux-image-amd64/trixie-backports"] {
        assert!(!packages.contains(&serde_json::json!(kernel)));
        assert!(!base_packages.contains(&serde_json::json!(kernel)));
    }
}

/// The `Field: value` lines of each stanza of a deb822 file, comments left out.
fn stanzas(path: &Path) -> Vec<Vec<(String, String)>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .split("\n\n")
        .map(|stanza| {
            stanza
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once(": "))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

#[test]
fn the_package_sources_are_snosis() {
    let (_dir, out) = built();
    let apt = out.join("apt");
    // mkosi.sandbox/etc/apt/sources.list.d/debian-backports.sources (snosi also asks for
    // source packages, `deb-src`, which no build step uses).
    let backports = &stanzas(&apt.join("sources.list.d/pcfg-backports.sources"))[0];
    for (key, want) in [
        ("Types", "deb"),
        ("URIs", "https://deb.debian.org/debian"),
        ("Suites", "trixie-backports"),
        ("Components", "main contrib non-free non-free-firmware"),
        (
            "Signed-By",
            "/usr/share/keyrings/debian-archive-keyring.gpg",
        ),
    ] {
        assert_eq!(value(backports, key), [want], "{key}");
    }
    // mkosi.sandbox/etc/apt/preferences.d/backports: the suite pinned at 100.
    let pins = stanzas(&apt.join("preferences.d/pcfg-backports.pref"));
    assert!(pins.iter().any(|pin| value(pin, "Package") == ["*"]
        && value(pin, "Pin") == ["release a=trixie-backports"]
        && value(pin, "Pin-Priority") == ["100"]));
    // mkosi.sandbox/etc/apt/sources.list.d/linux-surface.sources, verified with the keyring
    // snosi ships in mkosi.sandbox/etc/apt/keyrings/linux-surface.gpg.
    let surface = &stanzas(&apt.join("sources.list.d/pcfg-surface.sources"))[0];
    for (key, want) in [
        ("URIs", "https://pkg.surfacelinux.com/debian"),
        ("Suites", "release"),
        ("Components", "main"),
    ] {
        assert_eq!(value(surface, key), [want], "{key}");
    }
    let keyring = value(surface, "Signed-By")[0];
    assert!(keyring.starts_with("/etc/apt/keyrings/"), "{keyring}");
    // mkosi.conf: `Repositories=main,contrib,non-free,non-free-firmware` (mkosi adds `main`
    // itself), and the sandbox holds the sources and the keyring where `Signed-By` names it.
    let shared = mkosi_summary(&out.join("mkosi"), None);
    let project = shared.last().expect("the project");
    let mut repositories: Vec<&str> = vec!["main"];
    repositories.extend(
        project["Repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .filter_map(serde_json::Value::as_str),
    );
    assert_eq!(
        repositories,
        ["main", "contrib", "non-free", "non-free-firmware"]
    );
    let trees = project["SandboxTrees"].as_array().expect("sandbox trees");
    let key = trees
        .iter()
        .find(|t| t["Target"] == keyring)
        .expect("the keyring in the sandbox");
    assert_eq!(
        std::fs::read(key["Source"].as_str().expect("source")).expect("key"),
        std::fs::read("examples/multi-product/keys/linux-surface.gpg").expect("key")
    );
    assert!(trees
        .iter()
        .any(|t| t["Target"] == "/etc/apt"
            && Path::new(t["Source"].as_str().expect("source")) == apt));
    // shared/kernel/backports/mkosi.conf: the kernel and firmware from backports, by suite.
    for product in ["cayo", "snow"] {
        let images = mkosi_summary(&out.join("mkosi"), Some(product));
        let installed: Vec<serde_json::Value> = images
            .iter()
            .flat_map(|i| i["Packages"].as_array().cloned().unwrap_or_default())
            .collect();
        for package in [
            "linux-image-amd64/trixie-backports",
            "firmware-linux/trixie-backports",
        ] {
            assert!(
                installed.contains(&serde_json::json!(package)),
                "{product}: {package}"
            );
        }
    }
}
