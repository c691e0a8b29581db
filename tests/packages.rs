//! The packages pcfg adds for what the declarations need, in the distribution's own names: every
//! Debian name is a real package of trixie (its package index, through apt-cache), and mkosi
//! reads them where the image and its initrd install them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use pcfg::model::packages::{names, Need};
use pcfg::model::Arch;

use crate::support::{pcfg, test_tool};

/// Every package name pcfg derives for Debian (and Kali, from the same archive) on the
/// architectures trixie publishes an index for here is a real package of trixie's, not a
/// virtual one.
#[test]
fn every_debian_package_pcfg_derives_is_in_trixie() {
    let mut wanted = BTreeSet::new();
    for need in Need::every() {
        for distribution in ["debian", "kali"] {
            wanted.extend(names(distribution, Arch::X86_64, need).iter().copied());
        }
    }
    assert!(wanted.contains("systemd-repart") && wanted.contains("linux-image-amd64"));
    let output = Command::new(test_tool("apt-cache-trixie"))
        .args(["show", "--no-all-versions"])
        .args(&wanted)
        .output()
        .expect("apt-cache runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let found: BTreeSet<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Package: "))
        .collect();
    let missing: Vec<&&str> = wanted.iter().filter(|w| !found.contains(**w)).collect();
    assert!(
        missing.is_empty(),
        "not packages of trixie: {missing:?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// mkosi's summary of a built project: each image by name (`<main>` for the image).
fn summary(config: &str, dir: &Path) -> serde_json::Value {
    let entry = dir.join("system.pcfg");
    std::fs::write(&entry, config).expect("write");
    let out = dir.join("out");
    let run = pcfg(&[
        "build",
        entry.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let output = Command::new(test_tool("mkosi"))
        .args(["--json", "summary"])
        .current_dir(out.join("mkosi"))
        .output()
        .expect("mkosi runs");
    assert!(
        output.status.success(),
        "mkosi: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("mkosi's JSON")
}

fn image<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["Images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|i| i["Image"].as_str().unwrap_or("<main>") == name)
        .unwrap_or_else(|| panic!("no image {name}: {summary}"))
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Issue 13: a remix of ParticleOS that switches to Debian gets Debian's names for what the
/// system needs (a kernel, systemd-boot's stub, systemd-repart, systemd-homed for the home
/// partition, the TPM2 libraries), and none of Fedora's; the initrd gets the tools of the file
/// systems systemd-repart makes at first boot.
#[test]
fn a_debian_remix_of_particleos_installs_debian_packages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = summary(
        "import \"std/particleos\"\nsystem { distribution = debian, release = \"trixie\" }\nremove update\n",
        dir.path(),
    );
    let main = image(&summary, "<main>");
    assert_eq!(main["Distribution"], "debian");
    let packages = strings(&main["Packages"]);
    for wanted in [
        "linux-image-amd64",
        "systemd-boot",
        "systemd-boot-efi",
        "systemd-repart",
        "systemd-cryptsetup",
        "systemd-homed",
        "tpm2-tools",
        "btrfs-progs",
        "fwupd",
    ] {
        assert!(
            packages.iter().any(|p| p == wanted),
            "{wanted}: {packages:?}"
        );
    }
    for fedora in ["kernel-core", "tpm2-tss", "cryptsetup"] {
        assert!(
            !packages.iter().any(|p| p == fedora),
            "{fedora}: {packages:?}"
        );
    }
    // Root and home are btrfs, swap needs no tools: the initrd (pcfg's sub-image, for the
    // sealing drop-in) gets btrfs-progs, after mkosi-initrd's own list.
    let initrd = strings(&image(&summary, "initrd")["Packages"]);
    assert_eq!(
        initrd.last().map(String::as_str),
        Some("btrfs-progs"),
        "{initrd:?}"
    );
    assert!(initrd.iter().any(|p| p == "systemd-repart"), "{initrd:?}");
}

/// Without an initrd sub-image, mkosi's default initrd takes the file systems' tools
/// (`InitrdPackages=`): an XFS root made at first boot has `mkfs.xfs` where systemd-repart runs.
#[test]
fn a_first_boot_file_system_has_its_tools_in_the_initrd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = summary(
        "system { name = \"x\", version = \"1\", distribution = debian, release = \"trixie\" }\npartition esp { type = esp, size = 512M }\npartition root { type = root, size-min = 2G, format = xfs }\n",
        dir.path(),
    );
    let main = image(&summary, "<main>");
    assert_eq!(strings(&main["InitrdPackages"]), ["xfsprogs"]);
    let packages = strings(&main["Packages"]);
    assert!(packages.iter().any(|p| p == "xfsprogs"), "{packages:?}");
    assert!(
        !packages
            .iter()
            .any(|p| p == "systemd-homed" || p == "tpm2-tools"),
        "nothing declared needs them: {packages:?}"
    );
}

/// Issue 14: an extension's own packages and version reach its mkosi sub-image (as mkosi reads
/// it) and its release file; a configuration extension cannot take packages.
#[test]
fn an_extension_has_its_own_packages_and_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("ext/tools/usr/bin")).expect("mkdir");
    std::fs::write(dir.path().join("ext/tools/usr/bin/t"), "t").expect("write");
    let summary = summary(
        "system { name = \"x\", version = \"7\", distribution = debian, release = \"trixie\" }\npartition esp { type = esp, size = 512M }\npartition root { type = root, size-min = 2G }\nextension tools { kind = sysext, source = \"ext/tools\", packages = [\"gdb\", \"strace\"], version = \"2.1\" }\n",
        dir.path(),
    );
    let tools = image(&summary, "tools");
    assert_eq!(strings(&tools["Packages"]), ["gdb", "strace"]);
    assert_eq!(tools["ImageVersion"], "2.1");
    let release = std::fs::read_to_string(
        dir.path()
            .join("out/extensions/tools/usr/lib/extension-release.d/extension-release.tools"),
    )
    .expect("release file");
    assert!(release.contains("SYSEXT_VERSION_ID=2.1\n"), "{release}");
    assert!(release.contains("VERSION_ID=7\n"), "{release}");
    let entry = dir.path().join("system.pcfg");
    std::fs::write(
        &entry,
        "system { name = \"x\", version = \"7\" }\nextension etc { kind = confext, packages = [\"vim\"] }\n",
    )
    .expect("write");
    let run = pcfg(&["check", entry.to_str().expect("utf-8")]);
    assert!(
        run.stderr.contains("pcfg::unused-field"),
        "{}",
        run.transcript()
    );
}

/// Issue 16 items 2, 3 and 6: the image is always a UKI (never mkosi's silent fall-back to a
/// Type #1 entry), named as the UKI transfers match it; a Debian trixie system targets the
/// systemd trixie ships (257), so its command line has no `root=dissect`, which 257 does not
/// know.
#[test]
fn a_trixie_image_is_a_uki_for_systemd_257() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/minimal.pcfg"),
    )
    .expect("example")
    .replace(
        "system { name = \"tiny\", version = \"1\" }",
        "system { name = \"tiny\", version = \"1\", distribution = debian, release = \"trixie\" }",
    );
    let summary = summary(&config, dir.path());
    let main = image(&summary, "<main>");
    assert_eq!(main["UnifiedKernelImages"], "enabled", "{main}");
    // `%i_%v_%a`, as mkosi expands it.
    assert_eq!(main["UnifiedKernelImageFormat"], "tiny_1_x86-64", "{main}");
    let cmdline = strings(&main["KernelCommandLine"]);
    assert!(
        !cmdline.iter().any(|o| o.contains("dissect")),
        "systemd 257 does not know root=dissect: {cmdline:?}"
    );
    let why = pcfg(&[
        "why",
        dir.path().join("system.pcfg").to_str().expect("utf-8"),
        "system.systemd",
    ]);
    assert!(
        why.stdout.starts_with("system.systemd = 257\n"),
        "{}",
        why.transcript()
    );
}

/// Which modules of a kernel tree mkosi keeps for the kernel modules initrd of the project in
/// `argv[4]`: mkosi's own reading of the project and its own filter.
const KEEP: &str = r#"
import json, sys
from pathlib import Path
from mkosi import finalize_default_initrd
from mkosi.config import parse_config
from mkosi.kmod import filter_kernel_modules
root, kver, resources, project = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
# The image's configuration as mkosi reads it, and "default" expanded as mkosi expands it
# (`finalize_kernel_modules_include()`): mkosi-initrd's own list.
_, images = parse_config(["--directory", project, "summary"], resources=resources)
main = images[-1]
include = main.kernel_modules_initrd_include
initrd = finalize_default_initrd(main, resources=resources, tools=False)
expanded = [i for i in include if i != "default"]
if "default" in include:
    expanded += list(initrd.kernel_modules_include)
kept = filter_kernel_modules(root, kver, include=expanded, exclude=main.kernel_modules_initrd_exclude)
print(json.dumps(sorted(p.name for p in kept)))
"#;

/// Issue 19: `system.initrd-modules` keeps the initrd's kernel modules to mkosi-initrd's default
/// set and the declared ones: mkosi reads the patterns pcfg writes, and mkosi's own module
/// filter (`mkosi.kmod.filter_kernel_modules`, with the default set expanded as mkosi expands
/// it) keeps exactly the declared modules of a kernel tree — whichever of `_` and `-` the
/// module's file spells — and drops the others.
#[test]
fn the_initrd_holds_the_declared_kernel_modules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = summary(
        "system {\n  name = \"x\"\n  version = \"1\"\n  distribution = debian\n  release = \"trixie\"\n  initrd-modules = [\"virtio_blk\", \"snd_hda_intel\", \"dm-verity\"]\n}\npartition esp { type = esp, size = 512M }\npartition root { type = root, size-min = 2G, format = ext4 }\n",
        dir.path(),
    );
    let main = image(&summary, "<main>");
    let include = strings(&main["KernelModulesInitrdInclude"]);
    assert_eq!(include.first().map(String::as_str), Some("default"));
    assert_eq!(strings(&main["KernelModulesInitrdExclude"]), [".*"]);
    // A kernel's module tree: what mkosi-initrd's default set names, what pcfg was asked for,
    // and what neither names.
    let kver = "6.12.0-1-amd64";
    let modules = dir.path().join("root/usr/lib/modules").join(kver);
    let files = [
        "kernel/drivers/block/virtio_blk.ko.xz",
        "kernel/sound/pci/hda/snd-hda-intel.ko.xz",
        "kernel/drivers/md/dm-verity.ko.xz",
        "kernel/drivers/block/virtio_blk_extra.ko.xz",
        "kernel/fs/erofs/erofs.ko.xz",
        "kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz",
        "kernel/sound/pci/hda/snd-hda-codec-realtek.ko.xz",
    ];
    for file in files {
        let path = modules.join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, b"").expect("write");
    }
    let mkosi = test_tool("mkosi");
    let wrapper = std::fs::read_to_string(&mkosi).expect("the mkosi wrapper");
    let pythonpath = wrapper
        .split_whitespace()
        .find_map(|w| w.strip_prefix("PYTHONPATH="))
        .expect("the wrapper's PYTHONPATH");
    let resources = Path::new(pythonpath).join("mkosi/resources");
    let output = Command::new("python3")
        .env("PYTHONPATH", pythonpath)
        .args(["-c", KEEP])
        .arg(dir.path().join("root"))
        .arg(kver)
        .arg(&resources)
        .arg(dir.path().join("out/mkosi"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let kept: Vec<String> = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        kept,
        [
            "dm-verity.ko.xz",
            "erofs.ko.xz",
            "snd-hda-intel.ko.xz",
            "virtio_blk.ko.xz"
        ],
        "mkosi keeps the default set's and the declared modules, no others"
    );
}
