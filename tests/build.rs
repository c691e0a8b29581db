//! `pcfg build`: every emitted file of every example (snapshots), checked by the real
//! systemd-repart where the machine's version can lay it out, deterministic from any working
//! directory, atomic on failure, and `--check` for CI.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcfg::emit::{self, File, Source};
use pcfg::model::Model;

use crate::support::{compile_file, pcfg, pcfg_in};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The emitted files of a configuration, as `pcfg build` would write them.
fn build(path: &str) -> (Model, Vec<File>) {
    let compilation = compile_file(Path::new(path));
    assert!(
        !compilation.has_errors(),
        "{path}: {:?}",
        compilation.diagnostics
    );
    let model = compilation.model.clone().expect("model");
    let path = Path::new(path);
    let name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let entry_dir = path.parent().expect("dir");
    let source = Source {
        entry_name: &name,
        entry_dir,
        entry_from_output: Path::new(""),
        lock: None,
    };
    let inputs = pcfg::plan::Inputs::read(&model, &pcfg::vfs::RealFs, entry_dir);
    let files =
        emit::emit(&model, &compilation.sources, &source, &inputs).expect("every value is written");
    (model, files)
}

/// Every file of an output directory but the build's products (`.pcfg/`, where the tree the
/// last build replaced is kept), path to bytes.
fn output_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut tree = read_tree(dir);
    tree.retain(|path, _| !path.starts_with(".pcfg/"));
    tree
}

/// Every file of a tree, path to bytes.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir_files(dir)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir)
                    .expect("under dir")
                    .display()
                    .to_string(),
                std::fs::read(&p).expect("read"),
            )
        })
        .collect()
}

fn walkdir_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walkdir_files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_emits_its_files() {
    for example in [
        "minimal",
        "particleos",
        "remix",
        "particleos-desktop/system",
        "atomos/system",
        "server/system",
        "no-secure-boot/system",
        "arm64-board/system",
    ] {
        let (_, files) = build(&format!("examples/{example}.pcfg"));
        let mut all = String::new();
        for file in &files {
            let _ = write!(all, "=== {}\n{}", file.path, file.contents);
        }
        let name = example.trim_end_matches("/system");
        insta::assert_snapshot!(format!("build-{name}"), all);
    }
}

#[test]
fn the_example_directories_compile_to_what_their_readmes_say() {
    use pcfg::model::LinkState;
    // (example, GPT partitions on the installed disk, the weakest link of the chain)
    for (example, partitions, weakest) in [
        ("particleos-desktop", 10, LinkState::Encrypted),
        ("atomos", 10, LinkState::Encrypted),
        ("server", 10, LinkState::Encrypted),
        ("no-secure-boot", 10, LinkState::Measured),
        ("arm64-board", 6, LinkState::Unprotected),
    ] {
        let (model, _) = build(&format!("examples/{example}/system.pcfg"));
        assert_eq!(model.layout.len(), partitions, "{example}");
        let readme =
            std::fs::read_to_string(root().join("examples").join(example).join("README.md"))
                .expect("a README");
        assert!(
            readme.contains(&format!("{partitions} ")) && readme.contains("partitions"),
            "{example}: the README states the partition count"
        );
        let worst = model.chain.iter().map(|l| l.state).max().expect("a chain");
        assert_eq!(worst, weakest, "{example}");
    }
}

#[test]
fn builds_are_byte_identical_from_any_working_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from_root = dir.path().join("a");
    let from_examples = dir.path().join("b");
    let run = pcfg(&[
        "build",
        "examples/remix.pcfg",
        "-o",
        from_root.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let run = pcfg_in(
        &root().join("examples"),
        &[
            "build",
            "remix.pcfg",
            "-o",
            from_examples.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    let (a, b) = (read_tree(&from_root), read_tree(&from_examples));
    assert!(!a.is_empty());
    assert_eq!(a, b);
    let rebuilt = dir.path().join("c");
    pcfg(&[
        "build",
        "examples/remix.pcfg",
        "-o",
        rebuilt.to_str().expect("utf-8"),
    ]);
    assert_eq!(a, read_tree(&rebuilt), "a second build is identical");
}

/// An emitted `/bin/sh` program: written with the executable bits, and shellcheck-clean.
fn executable_shell_script(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "{}: {mode:o}", path.display());
    let shellcheck = Command::new(crate::support::test_tool_on_path("shellcheck"))
        .arg("--shell=sh")
        .arg(path)
        .output()
        .expect("shellcheck runs");
    assert!(
        shellcheck.status.success(),
        "{}",
        String::from_utf8_lossy(&shellcheck.stdout)
    );
}

/// The installer the image carries when a partition is `create = install` (examples/server's
/// `srv`): written executable, shellcheck-clean `/bin/sh`, refusing anything but an image file
/// and a disk before it touches a disk, and sealing with the PCRs of `trust.tpm2` and no
/// pcrlock policy. The end-to-end test runs it in the booted image (`tests/boot.rs`).
#[test]
fn the_installer_is_a_clean_script_that_refuses_what_is_not_an_image_file() {
    let (dir, out) = crate::support::built("examples/server/system.pcfg");
    let installer = out.join("image-tree/usr/bin/pcfg-install");
    executable_shell_script(&installer);
    let text = std::fs::read_to_string(&installer).expect("pcfg-install");
    for option in [
        "--copy-from=\"$image\"",
        "--definitions=/usr/lib/pcfg/install.repart.d",
        "--key-file=\"$key\"",
        "--tpm2-pcrs=7",
        "--tpm2-public-key-pcrs=11",
        "--tpm2-pcrlock=",
    ] {
        assert!(text.contains(option), "{option}:\n{text}");
    }
    // Its definitions: only what the installer alone makes, never in /usr/lib/repart.d.
    let only: Vec<_> = std::fs::read_dir(out.join("repart.d/installer"))
        .expect("installer definitions")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(only, ["50-srv.conf"]);
    assert!(!out.join("repart.d/install/50-srv.conf").exists());
    let disk = dir.path().join("disk");
    std::fs::write(&disk, b"").expect("disk");
    let missing = dir.path().join("missing.raw");
    let disk_arg = disk.to_string_lossy().into_owned();
    let missing_arg = missing.to_string_lossy().into_owned();
    for args in [
        vec![],
        vec![missing_arg.as_str(), disk_arg.as_str()],
        vec![dir.path().to_str().expect("UTF-8"), disk_arg.as_str()],
        vec![disk_arg.as_str()],
    ] {
        let run = Command::new("sh")
            .arg(&installer)
            .args(&args)
            .output()
            .expect("sh runs");
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&run.stderr).starts_with("usage: pcfg-install IMAGE DISK"),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

/// A root made at first boot starts with an empty `/etc`: mkosi's finalize script (written
/// executable) keeps the image's `/etc` in `/usr/share/factory/etc` without per-machine and
/// secret files, and systemd-tmpfiles' `C+ /etc` copies it back. Run here by `sh` on a fake
/// build root as mkosi runs it (`BUILDROOT=`); shellcheck reads it too.
#[test]
fn the_image_etc_is_kept_in_usr_when_root_is_made_at_first_boot() {
    let (dir, out) = crate::support::built("examples/server/system.pcfg");
    let script = out.join("mkosi/mkosi.finalize");
    executable_shell_script(&script);
    let tmpfiles =
        std::fs::read_to_string(out.join("image-tree/usr/lib/tmpfiles.d/pcfg-factory-etc.conf"))
            .expect("tmpfiles");
    assert!(
        tmpfiles.lines().any(|l| l == "C+ /etc - - - -"),
        "{tmpfiles}"
    );
    let buildroot = dir.path().join("buildroot");
    for (path, text) in [
        ("etc/ssh/sshd_config", "Port 22\n"),
        ("etc/ssh/ssh_host_ed25519_key", "secret\n"),
        ("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
        ("etc/shadow", "root:hash:::::::\n"),
        ("etc/machine-id", "0123456789abcdef0123456789abcdef\n"),
        ("usr/share/factory/etc/nsswitch.conf", "systemd's own\n"),
        ("etc/nsswitch.conf", "the image's\n"),
    ] {
        let path = buildroot.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let status = Command::new(&script)
        .env("BUILDROOT", &buildroot)
        .status()
        .expect("the script runs");
    assert!(status.success());
    let factory = buildroot.join("usr/share/factory/etc");
    let has = |p: &str| factory.join(p).exists();
    assert!(has("ssh/sshd_config") && has("passwd"));
    assert!(!has("ssh/ssh_host_ed25519_key") && !has("shadow") && !has("machine-id"));
    // What a package put into the factory directory itself is kept.
    assert_eq!(
        std::fs::read_to_string(factory.join("nsswitch.conf")).expect("kept"),
        "systemd's own\n"
    );
    // A root copied from the image carries its own /etc: nothing of this is written.
    let config = dir.path().join("image-root.pcfg");
    std::fs::write(
        &config,
        "system { name = \"imageroot\" }\n\
         partition esp { type = esp, size = 512M }\n\
         partition root { type = root, size = 4G, format = ext4, create = image }\n",
    )
    .expect("write");
    let image_root = dir.path().join("image-root");
    let run = pcfg(&[
        "build",
        config.to_str().expect("utf-8"),
        "-o",
        image_root.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(!image_root.join("mkosi/mkosi.finalize").exists());
    assert!(!image_root
        .join("image-tree/usr/lib/tmpfiles.d/pcfg-factory-etc.conf")
        .exists());
}

#[test]
fn a_failed_build_leaves_the_output_directory_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    // Writes `files` into `out`, failing at the third file; whether it failed.
    let write_failing = |files: &[File]| {
        let mut written = 0;
        pcfg::cli::write_tree(&out, files, &mut |_| {
            written += 1;
            if written == 3 {
                Err(std::io::Error::other("injected failure"))
            } else {
                Ok(())
            }
        })
        .is_err()
    };
    let beside = || -> Vec<_> {
        std::fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect()
    };
    let (_, files) = build("examples/particleos.pcfg");
    pcfg::cli::write_tree(&out, &files, &mut |_| Ok(())).expect("first build");
    let before = read_tree(&out);
    let (_, remix_files) = build("examples/remix.pcfg");
    assert!(write_failing(&remix_files));
    assert_eq!(read_tree(&out), before, "the old tree is untouched");
    assert_eq!(beside(), ["out"], "no staging directory is left behind");
    // The same when the new tree is made from the one the last build replaced: that goes back.
    pcfg::cli::write_tree(&out, &remix_files, &mut |_| Ok(())).expect("second build");
    let before = output_tree(&out);
    assert!(!read_tree(&out.join(".pcfg/previous")).is_empty());
    assert!(write_failing(&files));
    assert_eq!(output_tree(&out), before, "the old tree is untouched");
    assert!(out.join(".pcfg/previous/manifest.json").is_file());
    assert_eq!(beside(), ["out"], "no staging directory is left behind");
}

#[test]
fn a_broken_config_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let run = pcfg(&[
        "build",
        "tests/cases/err/unknown-field.pcfg",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 1);
    assert!(!out.exists());
}

#[test]
fn a_foreign_directory_is_never_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("precious.txt"), "keep me").expect("write");
    let run = pcfg(&[
        "build",
        "examples/minimal.pcfg",
        "-o",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("replaces only a directory it wrote"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("precious.txt")).expect("still there"),
        "keep me"
    );
    // A manifest.json is not enough: the manifest must be pcfg's and list every file there.
    for manifest in [
        "{}",
        "not json",
        r#"{"version": 1, "files": [{"path": "other.txt"}]}"#,
    ] {
        std::fs::write(dir.path().join("manifest.json"), manifest).expect("write");
        let run = pcfg(&[
            "build",
            "examples/minimal.pcfg",
            "-o",
            dir.path().to_str().expect("utf-8"),
        ]);
        assert_eq!(run.code, 2, "{manifest}: {}", run.transcript());
        assert!(dir.path().join("precious.txt").is_file());
    }
}

#[test]
fn an_output_of_pcfg_with_build_products_is_replaced_and_a_user_file_is_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let run = pcfg(&["build", "examples/minimal.pcfg", "-o", out_arg]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    // What ninja makes is the build's.
    std::fs::create_dir_all(out.join(".pcfg")).expect("mkdir");
    std::fs::write(out.join(".pcfg/stamp"), "").expect("write");
    let run = pcfg(&["build", "examples/remix.pcfg", "-o", out_arg]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    // The products move into the new tree: ninja decides what to remake.
    assert!(out.join(".pcfg/stamp").is_file());
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    let run = pcfg(&["build", "examples/minimal.pcfg", "-o", out_arg]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("notes.txt"), "{}", run.stderr);
    assert!(out.join("notes.txt").is_file());
}

/// A rebuild writes only what changed (issue 17): an unchanged file is the same file (inode and
/// time stamp, so ninja remakes nothing for it), a tree that is already up to date is not
/// touched at all, and a changed file is new.
#[test]
fn a_rebuild_writes_only_what_changed() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let identity = |path: &Path| {
        let meta = std::fs::metadata(path).expect("metadata");
        (meta.ino(), meta.mtime(), meta.mtime_nsec())
    };
    let files = |root: &Path| -> Vec<(String, (u64, i64, i64))> {
        output_tree(root)
            .into_keys()
            .map(|p| {
                let id = identity(&root.join(&p));
                (p, id)
            })
            .collect()
    };
    let run = pcfg(&["build", "examples/particleos.pcfg", "-o", out_arg]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let first = files(&out);
    let tree_before = identity(&out);
    let run = pcfg(&["build", "examples/particleos.pcfg", "-o", out_arg]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(files(&out), first, "no file was written again");
    assert_eq!(identity(&out).0, tree_before.0, "the tree was not replaced");
    // One changed line changes some files: those are new, the others the same files as
    // before.
    let config = dir.path().join("system.pcfg");
    let particleos = std::fs::read_to_string("examples/particleos.pcfg").expect("example");
    std::fs::write(&config, &particleos).expect("write");
    let config_arg = config.to_str().expect("utf-8");
    let run = pcfg(&["build", config_arg, "-o", out_arg]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let first = files(&out);
    let first_bytes = output_tree(&out);
    std::fs::write(
        &config,
        format!("{particleos}\nsystem.cmdline += [\"quiet\"]\n"),
    )
    .expect("write");
    let run = pcfg(&["build", config_arg, "-o", out_arg]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let before: BTreeMap<String, (u64, i64, i64)> = first.into_iter().collect();
    let now = files(&out);
    let now_bytes = output_tree(&out);
    let mut kept = 0;
    for (path, id) in &now {
        if first_bytes.get(path) == now_bytes.get(path) {
            assert_eq!(Some(id), before.get(path), "{path} was written again");
            kept += 1;
        } else {
            assert_ne!(Some(id), before.get(path), "{path} is the old file");
        }
    }
    assert!(kept > 0 && kept < now.len(), "{kept} of {}", now.len());
    assert_eq!(now.len(), first_bytes.len(), "nothing stale is left");
    // The old tree, exchanged out, is kept inside the new one for the next build, and nothing
    // is left beside the output.
    assert_eq!(read_tree(&out.join(".pcfg/previous")), first_bytes);
    let mut beside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(beside, ["out", "system.pcfg"], "the old tree is gone");
}

/// The next build makes its tree from the one the last build replaced (kept in
/// `.pcfg/previous`): its directories are reused, not made again, and whatever that tree holds
/// is never written through nor left in the output: a link to a directory elsewhere, a file
/// where a directory belongs, a file that is also a file elsewhere, a stray file.
#[test]
fn a_rebuild_makes_its_tree_from_the_previous_one_and_trusts_nothing_in_it() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    let config = dir.path().join("system.pcfg");
    let config_arg = config.to_str().expect("utf-8");
    let particleos = std::fs::read_to_string("examples/particleos.pcfg").expect("example");
    let build_with = |line: &str| {
        std::fs::write(&config, format!("{particleos}\n{line}\n")).expect("write");
        let run = pcfg(&["build", config_arg, "-o", out_arg]);
        assert_eq!(run.code, 0, "{}", run.transcript());
    };
    build_with("");
    build_with("system.cmdline += [\"quiet\"]");
    let previous = out.join(".pcfg/previous");
    let inode = |path: &Path| std::fs::symlink_metadata(path).expect("metadata").ino();
    let reused = inode(&previous.join("repart.d/install"));
    build_with("system.cmdline += [\"loglevel=3\"]");
    assert_eq!(
        inode(&out.join("repart.d/install")),
        reused,
        "the directory of the tree before is the new tree's"
    );

    // What the kept tree holds is not trusted.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    std::fs::write(elsewhere.join("cmdline"), "precious").expect("write");
    std::fs::write(elsewhere.join("linked"), "precious too").expect("write");
    std::fs::remove_dir_all(previous.join("kernel")).expect("rm");
    std::os::unix::fs::symlink(&elsewhere, previous.join("kernel")).expect("symlink");
    std::fs::remove_dir_all(previous.join("mkosi")).expect("rm");
    std::fs::write(previous.join("mkosi"), "a file where a directory belongs").expect("write");
    std::fs::remove_file(previous.join("manifest.json")).expect("rm");
    std::fs::hard_link(elsewhere.join("linked"), previous.join("manifest.json")).expect("link");
    std::fs::write(previous.join("stray.txt"), "not the build's").expect("write");
    build_with("system.cmdline += [\"loglevel=4\"]");
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("cmdline")).expect("read"),
        "precious"
    );
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("linked")).expect("read"),
        "precious too"
    );
    let fresh = dir.path().join("fresh");
    let run = pcfg(&["build", config_arg, "-o", fresh.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        output_tree(&out),
        read_tree(&fresh),
        "the rebuilt tree is the fresh one"
    );
    assert!(
        std::fs::symlink_metadata(out.join("kernel"))
            .expect("kernel")
            .is_dir(),
        "a directory, not the link"
    );
    // A file whose permissions someone changed (setuid, writable by anyone) is not what the
    // build writes: it is replaced, not kept.
    let written = std::fs::metadata(out.join("layout.svg"))
        .expect("layout")
        .permissions()
        .mode();
    std::fs::set_permissions(
        out.join("layout.svg"),
        std::fs::Permissions::from_mode(0o4666),
    )
    .expect("chmod");
    build_with("system.cmdline += [\"loglevel=5\"]");
    assert_eq!(
        std::fs::metadata(out.join("layout.svg"))
            .expect("layout")
            .permissions()
            .mode(),
        written
    );
    // `--check` compares what pcfg writes, not the build's products or the kept tree.
    std::fs::write(out.join(".pcfg/stamp"), "").expect("write");
    let check = pcfg(&["build", "--check", config_arg, "-o", out_arg]);
    assert_eq!(check.code, 0, "{}", check.transcript());
}

#[test]
fn a_symlinked_output_is_written_through_and_stale_staging_is_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("target");
    std::fs::create_dir(&target).expect("mkdir");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    // A staging directory of a run that was killed (no such process).
    let stale = dir.path().join(".target.pcfg-new-999999999");
    std::fs::create_dir(&stale).expect("mkdir");
    let run = pcfg(&[
        "build",
        "examples/minimal.pcfg",
        "-o",
        link.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    assert!(target.join("manifest.json").is_file());
    assert!(!stale.exists());
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("symlink");
    let run = pcfg(&[
        "build",
        "examples/minimal.pcfg",
        "-o",
        dangling.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2, "{}", run.transcript());
}

#[test]
fn building_over_the_configuration_or_an_extension_tree_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config");
    std::fs::create_dir_all(config.join("tools/usr/lib")).expect("mkdir");
    std::fs::write(
        config.join("system.pcfg"),
        "import \"std/particleos\"\nextension tools {\n  kind = sysext\n  source = \"tools\"\n}\n",
    )
    .expect("write");
    let entry = config.join("system.pcfg");
    let entry = entry.to_str().expect("utf-8");
    for output in [
        config.clone(),
        dir.path().to_path_buf(),
        config.join("tools"),
        config.join("tools/usr"),
    ] {
        let run = pcfg(&["build", entry, "-o", output.to_str().expect("utf-8")]);
        assert_eq!(run.code, 2, "{}: {}", output.display(), run.transcript());
    }
    assert!(config.join("system.pcfg").is_file());
    // --check writes nothing, not even the output's parent directories.
    let missing = dir.path().join("a/b/out");
    let run = pcfg(&[
        "build",
        entry,
        "-o",
        missing.to_str().expect("utf-8"),
        "--check",
    ]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(!dir.path().join("a").exists());
}

#[test]
fn check_reports_a_stale_output_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_arg = out.to_str().expect("utf-8");
    assert_eq!(
        pcfg(&["build", "examples/particleos.pcfg", "-o", out_arg]).code,
        0
    );
    let fresh = pcfg(&[
        "build",
        "--check",
        "examples/particleos.pcfg",
        "-o",
        out_arg,
    ]);
    assert_eq!(fresh.code, 0, "{}", fresh.transcript());
    let stale = pcfg(&["build", "--check", "examples/remix.pcfg", "-o", out_arg]);
    assert_eq!(stale.code, 1);
    assert!(
        stale.stdout.contains("extra repart.d/install/30-swap.conf"),
        "{}",
        stale.stdout
    );
    assert!(
        stale.stdout.contains("differs manifest.json"),
        "{}",
        stale.stdout
    );
}

/// A build tree for systemd-repart's `--root=`: an os-release naming the image (which `%M`
/// and `%A` in labels expand to), `/usr` with a file, and the directories the ESP is filled from.
fn repart_root(dir: &Path, model: &Model, version: &str) -> PathBuf {
    let root = dir.join("root");
    for sub in ["usr/lib", "usr/bin", "etc", "efi", "boot"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
    }
    std::fs::write(
        root.join("usr/bin/hello"),
        format!("#!/bin/sh\necho hello {version}\n"),
    )
    .expect("write");
    let os_release = format!(
        "ID=pcfg\nIMAGE_ID={}\nIMAGE_VERSION={version}\n",
        model.system.name.value
    );
    std::fs::write(root.join("usr/lib/os-release"), &os_release).expect("write");
    std::fs::write(root.join("etc/os-release"), &os_release).expect("write");
    root
}

/// Runs systemd-repart (`tool`) to make `image` from `definitions` over `root`; returns its JSON
/// description of the partitions.
fn run_repart(
    tool: &Path,
    root: &Path,
    definitions: &Path,
    image: &Path,
    extra: &[String],
) -> serde_json::Value {
    let output = Command::new(tool)
        .arg(format!("--root={}", root.display()))
        .arg(format!("--definitions={}", definitions.display()))
        .args([
            "--empty=create",
            "--size=auto",
            "--json=short",
            "--no-pager",
        ])
        .args(extra)
        .arg(image)
        .output()
        .expect("systemd-repart runs");
    assert!(
        output.status.success(),
        "systemd-repart failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("repart's JSON")
}

/// What systemd-repart lays out for a definitions directory: `(type, label, size)` per partition.
fn repart_layout(definitions: &Path, model: &Model) -> Vec<(String, String, u64)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let version = model.system.version.value.clone().unwrap_or_default();
    let root = repart_root(dir.path(), model, &version);
    let json = run_repart(
        Path::new("systemd-repart"),
        &root,
        definitions,
        &dir.path().join("disk.raw"),
        &["--dry-run=yes".to_owned()],
    );
    json.as_array()
        .expect("a list of partitions")
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap_or("").to_owned(),
                p["label"].as_str().unwrap_or("").to_owned(),
                p["raw_size"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn systemd_repart_lays_out_the_minimal_image_as_the_model_says() {
    // The build set fills the ESP from /efi and /boot: systemd-repart 254 does that offline.
    let repart = crate::support::test_tool("systemd-repart-backports");
    let dir = tempfile::tempdir().expect("tempdir");
    let (model, files) = build("examples/minimal.pcfg");
    let out = dir.path().join("out");
    pcfg::cli::write_tree(&out, &files, &mut |_| Ok(())).expect("write");
    let root = repart_root(dir.path(), &model, "1");
    let extra = ["--offline=yes".to_owned(), "--dry-run=yes".to_owned()];
    let json = run_repart(
        &repart,
        &root,
        &out.join("repart.d/build"),
        &dir.path().join("disk.raw"),
        &extra,
    );
    let laid_out: Vec<(String, u64)> = json
        .as_array()
        .expect("partitions")
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap_or("").to_owned(),
                p["raw_size"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = model
        .image_partitions()
        .map(|g| {
            (
                g.ty.full_name(model.system.arch.value),
                g.size_min.unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(laid_out, expected);
}

#[test]
fn particleos_command_line_is_particleos_own() {
    let (_, files) = build("examples/particleos.pcfg");
    let cmdline = &files
        .iter()
        .find(|f| f.path == "kernel/cmdline")
        .expect("cmdline")
        .contents;
    // ParticleOS's KernelCommandLine (particleos-facts.md), less its own `ipe.enforce=0`, which
    // the example does not declare.
    let theirs = [
        "root=dissect",
        "mount.usr=dissect",
        "rw",
        "audit=0",
        "systemd.image_policy=esp=unprotected:xbootldr=unprotected+unused+absent:usr=signed:root=encrypted+absent:swap=encrypted+unused+absent:home=unprotected+absent:=ignore",
        "systemd.image_filter=usr=ParticleOS_*:usr-verity=ParticleOS_*:usr-verity-sig=ParticleOS_*:root=ParticleOS-*:swap=ParticleOS-*:home=ParticleOS-*",
    ];
    assert_eq!(cmdline.trim_end().split(' ').collect::<Vec<_>>(), theirs);
}

#[test]
fn systemd_repart_lays_out_the_minimal_example_as_the_model_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (model, files) = build("examples/minimal.pcfg");
    pcfg::cli::write_tree(&out, &files, &mut |_| Ok(())).expect("write");
    // The install set only: the build set copies files into the ESP, which systemd-repart 252
    // can only do by mounting it (no --offline before 254).
    {
        let set = "install";
        let layout = repart_layout(&out.join("repart.d").join(set), &model);
        let expected: Vec<(String, String, u64)> = model
            .layout
            .iter()
            .map(|g| {
                let label = g
                    .label
                    .text(&model.system)
                    .unwrap_or_else(|| g.ty.repart_name().to_owned());
                (
                    g.ty.full_name(model.system.arch.value),
                    label,
                    g.size_min.unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(layout, expected, "{set}");
    }
}

/// `KEY=VALUE` lines of an emitted definition, comments and section headers left out.
fn keys(files: &[File], path: &str) -> Vec<String> {
    let file = files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"));
    file.contents
        .lines()
        .filter(|l| l.contains('=') && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn particleos_repart_definitions_match_particleos_key_by_key() {
    let (_, files) = build("examples/particleos.pcfg");
    // From shared/design/particleos-facts.md. Deliberate differences (examples/README.md):
    // Type= names the architecture (usr-x86-64), so cross-architecture builds get the right
    // UUIDs; root has no Subvolumes=/var (not in the schema yet); slot A carries the GPT
    // read-only flag, as every later version does (the transfers' ReadOnly=1), except the
    // signature partition, where systemd-repart refuses it; signature partitions have the
    // 16 KiB systemd-repart makes them (ParticleOS's slot B one has no bounds and took
    // gigabytes: issue 16).
    let expected: &[(&str, &[&str])] = &[
        (
            "repart.d/build/00-esp.conf",
            &[
                "Type=esp",
                "Format=vfat",
                "CopyFiles=/efi:/",
                "CopyFiles=/boot:/",
                "SizeMinBytes=1G",
                "SizeMaxBytes=1G",
            ],
        ),
        (
            "repart.d/build/10-usr-verity-sig.conf",
            &[
                "Type=usr-x86-64-verity-sig",
                "Label=%M_%A_verity_sig",
                "Verity=signature",
                "VerityMatchKey=usr",
                "SplitName=%t.%U",
            ],
        ),
        (
            "repart.d/build/11-usr-verity.conf",
            &[
                "Type=usr-x86-64-verity",
                "Label=%M_%A_verity",
                "Verity=hash",
                "VerityMatchKey=usr",
                "SizeMinBytes=400M",
                "SizeMaxBytes=400M",
                "ReadOnly=yes",
                "SplitName=%t.%U",
            ],
        ),
        (
            "repart.d/build/12-usr.conf",
            &[
                "Type=usr-x86-64",
                "Label=%M_%A",
                "Format=erofs",
                "CopyFiles=/usr:/",
                "Verity=data",
                "VerityMatchKey=usr",
                "Minimize=yes",
                "Compression=zstd",
                "ReadOnly=yes",
                "SplitName=%t.%U",
            ],
        ),
        (
            "repart.d/install/00-esp.conf",
            &[
                "Type=esp",
                "Format=vfat",
                "SizeMinBytes=1G",
                "SizeMaxBytes=1G",
            ],
        ),
        (
            "repart.d/install/10-usr-verity-sig.conf",
            &[
                "Type=usr-x86-64-verity-sig",
                "Label=%M_%A_verity_sig",
                "CopyBlocks=auto",
                "SizeMinBytes=16K",
                "SizeMaxBytes=16K",
            ],
        ),
        (
            "repart.d/install/11-usr-verity.conf",
            &[
                "Type=usr-x86-64-verity",
                "Label=%M_%A_verity",
                "CopyBlocks=auto",
                "SizeMinBytes=400M",
                "SizeMaxBytes=400M",
            ],
        ),
        (
            "repart.d/install/12-usr.conf",
            &[
                "Type=usr-x86-64",
                "Label=%M_%A",
                "CopyBlocks=auto",
                "SizeMinBytes=5G",
                "SizeMaxBytes=20G",
                "Weight=2000",
            ],
        ),
        (
            "repart.d/install/20-usr-verity-sig.conf",
            &[
                "Type=usr-x86-64-verity-sig",
                "Label=_empty",
                "SizeMinBytes=16K",
                "SizeMaxBytes=16K",
            ],
        ),
        (
            "repart.d/install/21-usr-verity.conf",
            &[
                "Type=usr-x86-64-verity",
                "Label=_empty",
                "NoAuto=1",
                "SizeMinBytes=400M",
                "SizeMaxBytes=400M",
            ],
        ),
        (
            "repart.d/install/22-usr.conf",
            &[
                "Type=usr-x86-64",
                "Label=_empty",
                "NoAuto=1",
                "SizeMinBytes=5G",
                "SizeMaxBytes=20G",
                "Weight=2000",
            ],
        ),
        (
            "repart.d/install/30-swap.conf",
            &[
                "Type=swap",
                "Label=%M-swap",
                "Format=swap",
                "SizeMinBytes=4G",
                "SizeMaxBytes=4G",
                "Encrypt=tpm2",
                "FactoryReset=yes",
            ],
        ),
        (
            "repart.d/install/40-root.conf",
            &[
                "Type=root-x86-64",
                "Label=%M-root",
                "Format=btrfs",
                "SizeMinBytes=1G",
                "Weight=20000",
                "MakeDirectories=/var/log/journal",
                "Encrypt=tpm2",
                "FactoryReset=yes",
            ],
        ),
        (
            "repart.d/install/50-home.conf",
            &[
                "Type=home",
                "Label=%M-home",
                "Format=btrfs",
                "SizeMinBytes=1G",
                "Weight=40000",
                "FactoryReset=yes",
            ],
        ),
    ];
    for (path, expected_keys) in expected {
        let mut ours = keys(&files, path);
        let mut theirs: Vec<String> = expected_keys.iter().map(|k| (*k).to_owned()).collect();
        ours.sort();
        theirs.sort();
        assert_eq!(ours, theirs, "{path}");
    }
    let repart_files = files
        .iter()
        .filter(|f| f.path.starts_with("repart.d/"))
        .count();
    assert_eq!(repart_files, expected.len());
}

#[test]
fn particleos_transfers_match_particleos_obs_profile() {
    let (_, files) = build("examples/particleos.pcfg");
    let url =
        "Path=https://download.opensuse.org/repositories/system:/systemd/fedora_rawhide_images/";
    // ParticleOS's OBS transfers, with two deliberate differences (examples/README.md): the
    // sources are the uncompressed split files mkosi writes (`.raw`, not `.raw.zst`), and the
    // partition types name the architecture.
    let expected: &[(&str, &[&str])] = &[
        ("sysupdate.d/obs/10-usr-verity-sig.transfer", &["ProtectVersion=%A", "Type=url-file", url, "MatchPattern=ParticleOS_@v_x86-64.usr-x86-64-verity-sig.@u.raw", "Type=partition", "Path=auto", "MatchPattern=ParticleOS_@v_verity_sig", "MatchPartitionType=usr-x86-64-verity-sig", "PartitionFlags=0", "ReadOnly=1"]),
        ("sysupdate.d/obs/11-usr-verity.transfer", &["ProtectVersion=%A", "Type=url-file", url, "MatchPattern=ParticleOS_@v_x86-64.usr-x86-64-verity.@u.raw", "Type=partition", "Path=auto", "MatchPattern=ParticleOS_@v_verity", "MatchPartitionType=usr-x86-64-verity", "PartitionFlags=0", "ReadOnly=1"]),
        ("sysupdate.d/obs/12-usr.transfer", &["ProtectVersion=%A", "Type=url-file", url, "MatchPattern=ParticleOS_@v_x86-64.usr-x86-64.@u.raw", "Type=partition", "Path=auto", "MatchPattern=ParticleOS_@v", "MatchPartitionType=usr-x86-64", "PartitionFlags=0", "ReadOnly=1"]),
        ("sysupdate.d/obs/20-uki.transfer", &["ProtectVersion=%A", "Type=url-file", url, "MatchPattern=ParticleOS_@v_x86-64.efi", "Type=regular-file", "Path=/EFI/Linux", "PathRelativeTo=boot", "MatchPattern=ParticleOS_@v_x86-64+@l-@d.efi ParticleOS_@v_x86-64+@l.efi ParticleOS_@v_x86-64.efi", "Mode=0644", "TriesLeft=3", "TriesDone=0", "InstancesMax=2"]),
    ];
    for (path, expected_keys) in expected {
        let ours = keys(&files, path);
        let theirs: Vec<String> = expected_keys.iter().map(|k| (*k).to_owned()).collect();
        assert_eq!(ours, theirs, "{path}");
    }
    assert_eq!(
        files
            .iter()
            .filter(|f| f.path.starts_with("sysupdate.d/"))
            .count(),
        expected.len()
    );
}

#[test]
fn transfer_targets_match_the_labels_repart_writes() {
    let (model, files) = build("examples/particleos.pcfg");
    let version = model.system.version.value.clone().expect("a version");
    for transfer in files
        .iter()
        .filter(|f| f.path.starts_with("sysupdate.d/") && !f.path.ends_with("uki.transfer"))
    {
        let target = keys(&files, &transfer.path)
            .into_iter()
            .filter(|k| k.starts_with("MatchPattern="))
            .nth(1)
            .expect("a target pattern");
        let label = target
            .trim_start_matches("MatchPattern=")
            .replace("@v", &version);
        let definition = transfer
            .path
            .replace("sysupdate.d/obs/", "repart.d/install/")
            .replace(".transfer", ".conf");
        let repart_label = keys(&files, &definition)
            .into_iter()
            .find(|k| k.starts_with("Label="))
            .expect("a label");
        let expanded = repart_label
            .trim_start_matches("Label=")
            .replace("%M", &model.system.name.value)
            .replace("%A", &version);
        assert_eq!(label, expanded, "{}", transfer.path);
    }
}

#[test]
fn uki_profiles_list_their_own_options_on_the_base_command_line() {
    let (model, files) = build("examples/particleos.pcfg");
    let cmdline = &files
        .iter()
        .find(|f| f.path == "kernel/cmdline")
        .expect("cmdline")
        .contents;
    assert!(
        cmdline.contains(
            "systemd.image_policy=esp=unprotected:xbootldr=unprotected+unused+absent:usr=signed"
        ),
        "{cmdline}"
    );
    assert_eq!(cmdline.trim_end(), model.cmdline.text());
    // mkosi makes a profile's command line from the base one and the profile's `Cmdline=`:
    // the policy options are written once, in `KernelCommandLine=`.
    let emergency = &files
        .iter()
        .find(|f| f.path == "kernel/profiles/20-emergency.conf")
        .expect("profile")
        .contents;
    assert!(emergency.ends_with("[UKIProfile]\nProfile=\n        ID=emergency\n        TITLE=Boot into Emergency Mode\nCmdline=\n        systemd.unit=emergency.target\n"), "{emergency}");
}

#[test]
fn mkosi_reads_the_emitted_project_as_the_model_says() {
    let mkosi = crate::support::test_tool("mkosi");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let run = pcfg(&[
        "build",
        "examples/remix.pcfg",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let output = Command::new(&mkosi)
        .args(["--json", "summary"])
        .current_dir(out.join("mkosi"))
        .output()
        .expect("mkosi runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "mkosi: {stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("mkosi's JSON");
    let images = summary["Images"].as_array().expect("images");
    let (model, _) = build("examples/remix.pcfg");
    // Sub-images first, in dependency order, then the image.
    let names: Vec<&str> = images
        .iter()
        .map(|i| i["Image"].as_str().unwrap_or("<main>"))
        .collect();
    assert_eq!(
        names,
        ["base", "initrd", "toolchain-libs", "devtools", "<main>"]
    );
    let main = images.last().expect("the image");
    let out = out.canonicalize().expect("canonical");
    let at = |p: &str| out.join(p).display().to_string();
    // The initrd is mkosi's default one, built as a sub-image with pcfg's files (the drop-in
    // with the PCRs systemd-repart seals root to), and it is the image's initrd.
    let initrd = &images[1];
    assert_eq!(initrd["Format"], "cpio");
    assert_eq!(initrd["CompressOutput"], "zstd");
    assert!(
        initrd["ExtraTrees"]
            .as_array()
            .expect("trees")
            .contains(&serde_json::json!({ "Source": at("initrd-tree"), "Target": "/" })),
        "{}",
        initrd["ExtraTrees"]
    );
    let initrd_file = format!(
        "{}/{}.cpio.zst",
        initrd["OutputDirectory"]
            .as_str()
            .expect("output directory"),
        initrd["Output"].as_str().expect("output")
    );
    assert_eq!(main["Initrds"], serde_json::json!([initrd_file]));
    assert_eq!(main["Distribution"], "fedora");
    assert_eq!(main["Release"], "rawhide");
    assert_eq!(main["Architecture"], "x86-64");
    assert_eq!(main["Format"], "disk");
    assert_eq!(main["ImageId"], "AtomOS");
    assert_eq!(main["ImageVersion"], "20260526");
    assert_eq!(main["Output"], "AtomOS_20260526_x86-64");
    assert_eq!(
        main["SplitArtifacts"],
        serde_json::json!(["uki", "partitions"])
    );
    assert_eq!(
        main["RepartDirectories"],
        serde_json::json!([at("repart.d/build")])
    );
    let cmdline: Vec<&str> = model
        .cmdline
        .options
        .iter()
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(main["KernelCommandLine"], serde_json::json!(cmdline));
    let profiles: Vec<(&str, Vec<&str>)> = model
        .profiles
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.own.value.iter().map(|o| o.value.as_str()).collect(),
            )
        })
        .collect();
    let theirs: Vec<(&str, Vec<&str>)> = main["UnifiedKernelImageProfiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .map(|p| {
            (
                p["Profile"]["ID"].as_str().unwrap_or(""),
                p["Cmdline"]
                    .as_array()
                    .map(|c| c.iter().filter_map(|o| o.as_str()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(theirs, profiles);
    assert_eq!(
        main["ExtraTrees"],
        serde_json::json!([
            { "Source": at("image-tree"), "Target": "/" },
            { "Source": at("repart.d/install"), "Target": "/usr/lib/repart.d" },
            { "Source": at("sysupdate.d/obs"), "Target": "/usr/lib/sysupdate.d" },
            // The extensions' update components: `sysupdate.NAME.d/` in /usr/lib.
            { "Source": at("sysupdate-components"), "Target": "/usr/lib" },
        ])
    );
    assert_eq!(main["SecureBoot"], true);
    assert_eq!(main["SignExpectedPcr"], "enabled");
    assert_eq!(main["Verity"], "enabled");
    // The key the configuration names (relative to it), seen from the project's directory.
    let key = Path::new(main["VerityKey"].as_str().expect("a verity key"));
    let examples = root()
        .canonicalize()
        .expect("canonical")
        .join("examples/mkosi.key");
    assert_eq!(pcfg::vfs::normalize(&out.join("mkosi").join(key)), examples);
    // Packages live in the base every image builds on.
    let base = &images[0];
    let packages = model.image_packages();
    assert!(
        packages.contains(&"flatpak"),
        "the example has Flatpak apps"
    );
    assert_eq!(base["Format"], "directory");
    assert_eq!(base["Packages"], serde_json::json!(packages));
    // What the image and every extension build on is where mkosi writes the base.
    let base_output = format!(
        "{}/{}",
        base["OutputDirectory"].as_str().expect("output directory"),
        base["Output"].as_str().expect("output")
    );
    assert_eq!(base_output, at("mkosi/mkosi.output/base"));
    assert_eq!(main["BaseTrees"], serde_json::json!([base_output]));
    for extension in &images[2..images.len() - 1] {
        assert_eq!(extension["BaseTrees"], serde_json::json!([base_output]));
    }
    let devtools = &images[3];
    assert_eq!(devtools["Format"], "sysext");
    assert_eq!(devtools["Overlay"], true);
    assert_eq!(
        devtools["Dependencies"],
        serde_json::json!(["base", "toolchain-libs"])
    );
    assert_eq!(
        devtools["ExtraTrees"][0]["Source"],
        at("extensions/devtools")
    );
}

/// Builds the image of `version` from the emitted build-time definitions into `dir` (named as
/// mkosi names it, `<id>_<version>_<arch>.raw`, split files beside it); returns its path and
/// systemd-repart's JSON description of its partitions.
fn make_image(
    files: &[File],
    model: &Model,
    dir: &Path,
    version: &str,
) -> (PathBuf, serde_json::Value) {
    let repart = crate::support::test_tool("systemd-repart-backports");
    std::fs::create_dir_all(dir).expect("mkdir");
    let out = dir.join("out");
    pcfg::cli::write_tree(&out, files, &mut |_| Ok(())).expect("write");
    let root = repart_root(dir, model, version);
    let (key, cert) = test_key(dir);
    let image = dir.join(format!(
        "{}_{version}_{}.raw",
        model.system.name.value,
        model.system.arch.value.name()
    ));
    let extra = [
        format!("--private-key={}", key.display()),
        format!("--certificate={}", cert.display()),
        "--offline=yes".to_owned(),
        "--dry-run=no".to_owned(),
        "--split=yes".to_owned(),
    ];
    let json = run_repart(&repart, &root, &out.join("repart.d/build"), &image, &extra);
    (image, json)
}

/// A loop device for an image file, detached when dropped.
struct LoopDevice(String);

impl LoopDevice {
    fn attach(image: &Path) -> LoopDevice {
        let output = Command::new("losetup")
            .args(["--find", "--show", "--partscan"])
            .arg(image)
            .output()
            .expect("losetup runs");
        assert!(
            output.status.success(),
            "losetup: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        LoopDevice(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.0).status();
    }
}

/// Why `pcfg::empty-key-file` refuses `encrypt = key-file` at first boot: systemd-repart, run
/// as pcfg's first-boot drop-in runs it (no `--key-file=`), encrypts a `Encrypt=key-file`
/// partition with an empty key, which `cryptsetup` opens with an empty key file.
#[test]
fn systemd_repart_without_a_key_file_encrypts_with_an_empty_key() {
    let repart = crate::support::test_tool("systemd-repart-backports");
    let dir = tempfile::tempdir().expect("tempdir");
    let definitions = dir.path().join("repart.d");
    std::fs::create_dir_all(&definitions).expect("mkdir");
    std::fs::write(
        definitions.join("10-home.conf"),
        "[Partition]\nType=home\nFormat=ext4\nEncrypt=key-file\nSizeMinBytes=64M\nSizeMaxBytes=64M\n",
    )
    .expect("write");
    let image = dir.path().join("disk.raw");
    let output = Command::new(&repart)
        .arg(format!("--definitions={}", definitions.display()))
        .args([
            "--dry-run=no",
            "--offline=yes",
            "--empty=create",
            "--size=80M",
            "--json=short",
        ])
        .arg(&image)
        .output()
        .expect("systemd-repart runs");
    assert!(output.status.success(), "{output:?}");
    let partitions: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("repart's JSON");
    let home = &partitions[0];
    let (offset, size) = (
        home["offset"].as_u64().expect("offset"),
        home["raw_size"].as_u64().expect("size"),
    );
    let attached = Command::new("losetup")
        .args(["--find", "--show", "--offset", &offset.to_string()])
        .args(["--sizelimit", &size.to_string()])
        .arg(&image)
        .output()
        .expect("losetup runs");
    assert!(attached.status.success(), "{attached:?}");
    let device = LoopDevice(String::from_utf8_lossy(&attached.stdout).trim().to_owned());
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "").expect("write");
    let opened = Command::new("cryptsetup")
        .args(["open", "--test-passphrase", "--key-file"])
        .arg(&empty)
        .arg(&device.0)
        .output()
        .expect("cryptsetup runs");
    assert!(
        opened.status.success(),
        "the empty key no longer opens it: {opened:?}"
    );
}

#[test]
fn systemd_sysupdate_finds_the_installed_version_and_the_next_one() {
    sysupdate_finds_versions("examples/particleos.pcfg");
}

/// `DIR/remix.pcfg`: the ParticleOS example with `lines` added.
fn particleos_with(dir: &Path, lines: &str) -> PathBuf {
    let config = dir.join("remix.pcfg");
    std::fs::write(
        &config,
        format!(
            "import \"{}\"\n{lines}",
            root().join("examples/particleos.pcfg").display()
        ),
    )
    .expect("write");
    config
}

/// A declared label with the version in it (`%M_%A_u`, as real systems write `<id>_%A_r`): the
/// transfers follow the label, so systemd-sysupdate still finds both versions.
#[test]
fn systemd_sysupdate_follows_a_declared_versioned_label() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = particleos_with(dir.path(), "partition.usr.label = \"%M_%A_u\"\n");
    let (model, files) = build(config.to_str().expect("utf-8"));
    let usr = model
        .layout
        .iter()
        .find(|g| g.ty == pcfg::model::PartitionType::Usr)
        .expect("usr");
    assert_eq!(
        usr.label.text(&model.system).as_deref(),
        Some("ParticleOS_20260526_u")
    );
    let cmdline = files
        .iter()
        .find(|f| f.path == "kernel/cmdline")
        .expect("cmdline");
    assert!(
        cmdline
            .contents
            .contains("usr=ParticleOS_*_u:usr-verity=ParticleOS_*_u:"),
        "{}",
        cmdline.contents
    );
    sysupdate_finds_versions(config.to_str().expect("utf-8"));
}

/// A channel that publishes under its own name (`artifact-name`, as snosi publishes image
/// `snowfield` as `snowfield-ab_…`): the publish step renames what mkosi made, the transfers
/// fetch the renamed files, and what is installed keeps the image's name.
#[test]
fn systemd_sysupdate_finds_versions_published_under_an_artifact_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = particleos_with(
        dir.path(),
        "update.channel.obs.artifact-name = \"particle-ab\"\n",
    );
    let (_server, published) = sysupdate_finds_versions(config.to_str().expect("utf-8"));
    let names: Vec<String> = std::fs::read_dir(published)
        .expect("published")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("particle-ab_20260527_x86-64.usr-x86-64.")),
        "{names:?}"
    );
    assert!(
        names.iter().all(|n| !n.starts_with("ParticleOS_")),
        "{names:?}"
    );
}

/// systemd-sysupdate, given the transfers `config` emits, finds the installed disk's version as
/// current and the next one on the server as the candidate. The server holds what the build's
/// publish step (its command in `build.ninja`) publishes from the next version's split files,
/// named as mkosi names them; returns that directory (in the returned temporary one).
fn sysupdate_finds_versions(config: &str) -> (tempfile::TempDir, PathBuf) {
    let sysupdate = crate::support::test_tool("systemd-sysupdate-backports");
    let temporary = tempfile::tempdir().expect("tempdir");
    let dir = temporary.path();
    let (model, files) = build(config);
    let (installed, _) = make_image(&files, &model, &dir.join("installed"), "20260526");
    let built = dir.join("built");
    make_image(&files, &model, &built, "20260527");
    let out = built.join("out");
    let output = out.join("mkosi/mkosi.output");
    std::fs::create_dir_all(&output).expect("mkdir");
    for entry in std::fs::read_dir(&built).expect("built") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, output.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    // The UKI, which mkosi makes beside the split files.
    let name = &model.system.name.value;
    let arch = model.system.arch.value.name();
    std::fs::write(output.join(format!("{name}_20260527_{arch}.efi")), "uki").expect("write");
    crate::support::publish(&out, "publish/obs");
    let server = out.join("publish/obs");
    let disk = LoopDevice::attach(&installed);
    // The transfers as emitted, except what only a running system and a network provide:
    // `Path=auto` (the booted disk) becomes the loop device, the URL a local directory, and the
    // file suffix the one systemd-sysupdate 254 reads (`.conf`; `.transfer` from 257 on).
    let definitions = dir.join("sysupdate.d");
    std::fs::create_dir_all(&definitions).expect("mkdir");
    for transfer in files
        .iter()
        .filter(|f| f.path.starts_with("sysupdate.d/obs/") && !f.path.contains("uki"))
    {
        let contents = transfer
            .contents
            .lines()
            .fold(String::new(), |mut text, line| {
                let line = match line {
                    "Path=auto" => format!("Path={}", disk.0),
                    "Type=url-file" => "Type=regular-file".to_owned(),
                    l if l.starts_with("Path=https://") => format!("Path={}", server.display()),
                    l => l.to_owned(),
                };
                let _ = writeln!(text, "{line}");
                text
            });
        let name = Path::new(&transfer.path)
            .file_name()
            .expect("name")
            .to_string_lossy()
            .replace(".transfer", ".conf");
        std::fs::write(definitions.join(name), contents).expect("write");
    }
    let output = Command::new(&sysupdate)
        .arg(format!("--definitions={}", definitions.display()))
        .args(["--no-pager", "--no-legend", "list"])
        .output()
        .expect("systemd-sysupdate runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter(|w| !["●", "↻"].contains(w))
                .collect()
        })
        .collect();
    // VERSION INSTALLED AVAILABLE ASSESSMENT: the disk's version is installed and current, the
    // server's is available and the update candidate.
    assert!(
        rows.iter().any(|r| r.first() == Some(&"20260527")
            && r.contains(&"✓")
            && r.contains(&"candidate")),
        "{stdout}"
    );
    assert!(
        rows.iter()
            .any(|r| r.first() == Some(&"20260526") && r.contains(&"✓") && r.contains(&"current")),
        "{stdout}"
    );
    (temporary, server)
}

pub(crate) use crate::readback::test_key;

/// `MatchPattern` of a transfer's `[Source]` as a check on a file name: `@v` a version, `@u` a
/// partition UUID (with or without dashes).
fn matches_source_pattern(pattern: &str, name: &str, version: &str) -> bool {
    let Some((before_u, after_u)) = pattern
        .replace("@v", version)
        .split_once("@u")
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    else {
        return false;
    };
    let Some(uuid) = name
        .strip_prefix(&before_u)
        .and_then(|rest| rest.strip_suffix(&after_u))
    else {
        return false;
    };
    let hex: String = uuid.chars().filter(|c| *c != '-').collect();
    hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

#[test]
fn the_images_build_with_a_verified_usr_from_the_emitted_definitions() {
    for example in ["particleos", "remix"] {
        build_image(&format!("examples/{example}.pcfg"));
    }
    // Slot B and /var declared `create = image`: in the image, at their sizes, slot B empty.
    build_image("tests/cases/ok/image-made/system.pcfg");
}

/// Builds the image of a configuration with a verity-signed `/usr` from its emitted build-time
/// definitions, with the backported systemd-repart, and checks it with veritysetup and sfdisk.
fn build_image(path: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (model, files) = build(path);
    let version = model.system.version.value.clone().expect("version");
    let (image, partitions) = make_image(&files, &model, dir.path(), &version);
    let partitions = partitions.as_array().expect("a list");

    // The image holds the ESP and slot A's signature, hash and data partitions, as the model says.
    let expected: Vec<(String, String)> = model
        .image_partitions()
        .map(|g| {
            (
                g.ty.full_name(model.system.arch.value),
                g.label
                    .text(&model.system)
                    .unwrap_or_else(|| g.ty.repart_name().to_owned()),
            )
        })
        .collect();
    let built: Vec<(String, String)> = partitions
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap_or("").to_owned(),
                p["label"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(built, expected);
    let hash = partitions
        .iter()
        .find(|p| p["type"] == "usr-x86-64-verity")
        .expect("hash partition");
    // The size the model derives (ParticleOS's 400M for 60G of /usr).
    let derived = model
        .layout
        .iter()
        .find(|g| g.role == pcfg::model::Role::VerityHash)
        .and_then(|g| g.size_max)
        .expect("a hash partition size");
    assert_eq!(hash["raw_size"], derived);
    if path.ends_with("particleos.pcfg") {
        assert_eq!(derived, 400u64 << 20);
    }

    // dm-verity: the data partition verifies against the hash partition and the root hash.
    let split = |ty: &str| -> PathBuf {
        PathBuf::from(
            partitions
                .iter()
                .find(|p| p["type"] == ty)
                .and_then(|p| p["split_path"].as_str())
                .expect("split file"),
        )
    };
    let root_hash = partitions
        .iter()
        .find(|p| p["type"] == "usr-x86-64")
        .and_then(|p| p["roothash"].as_str())
        .expect("root hash")
        .to_owned();
    let verify = Command::new("veritysetup")
        .arg("verify")
        .arg(split("usr-x86-64"))
        .arg(split("usr-x86-64-verity"))
        .arg(&root_hash)
        .output()
        .expect("veritysetup runs");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // The split files are what the update transfers fetch.
    for transfer in files
        .iter()
        .filter(|f| f.path.starts_with("sysupdate.d/obs/1"))
    {
        let pattern = keys(&files, &transfer.path)
            .into_iter()
            .find(|k| k.starts_with("MatchPattern="))
            .expect("source pattern");
        let pattern = pattern.trim_start_matches("MatchPattern=");
        let found = partitions
            .iter()
            .filter_map(|p| p["split_path"].as_str())
            .filter_map(|p| Path::new(p).file_name())
            .any(|n| matches_source_pattern(pattern, &n.to_string_lossy(), &version));
        assert!(
            found,
            "no split file matches {pattern} of {}",
            transfer.path
        );
    }

    // And the partition table carries the types and labels.
    let table = Command::new("sfdisk")
        .arg("--json")
        .arg(&image)
        .output()
        .expect("sfdisk runs");
    let table: serde_json::Value = serde_json::from_slice(&table.stdout).expect("sfdisk's JSON");
    let names: Vec<&str> = table["partitiontable"]["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let labels: Vec<&str> = expected.iter().map(|(_, label)| label.as_str()).collect();
    assert_eq!(names, labels, "{path}");
}

#[test]
fn systemd_repart_lays_out_the_installed_disk_of_every_versioned_example() {
    let repart = crate::support::test_tool("systemd-repart-backports");
    for example in ["particleos", "remix"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (model, files) = build(&format!("examples/{example}.pcfg"));
        // As emitted, less what needs the running system and its TPM: `CopyBlocks=auto`
        // copies slot A from the booted disk, `Encrypt=tpm2` enrolls the machine's TPM.
        let definitions = dir.path().join("repart.d");
        std::fs::create_dir_all(&definitions).expect("mkdir");
        for file in files
            .iter()
            .filter(|f| f.path.starts_with("repart.d/install/"))
        {
            let kept = file
                .contents
                .lines()
                .filter(|l| !l.starts_with("CopyBlocks=") && !l.starts_with("Encrypt="))
                .fold(String::new(), |mut text, line| {
                    let _ = writeln!(text, "{line}");
                    text
                });
            std::fs::write(
                definitions.join(Path::new(&file.path).file_name().expect("name")),
                kept,
            )
            .expect("write");
        }
        let version = model.system.version.value.clone().unwrap_or_default();
        let root = repart_root(dir.path(), &model, &version);
        let extra = ["--offline=yes".to_owned(), "--dry-run=yes".to_owned()];
        let json = run_repart(
            &repart,
            &root,
            &definitions,
            &dir.path().join("disk.raw"),
            &extra,
        );
        let laid_out: Vec<(String, String, Option<u64>)> = json
            .as_array()
            .expect("partitions")
            .iter()
            .zip(&model.layout)
            .map(|(p, g)| {
                (
                    p["type"].as_str().unwrap_or("").to_owned(),
                    p["label"].as_str().unwrap_or("").to_owned(),
                    g.size_min.and(p["raw_size"].as_u64()),
                )
            })
            .collect();
        let expected: Vec<(String, String, Option<u64>)> = model
            .layout
            .iter()
            .map(|g| {
                (
                    g.ty.full_name(model.system.arch.value),
                    g.label
                        .text(&model.system)
                        .unwrap_or_else(|| g.ty.repart_name().to_owned()),
                    g.size_min,
                )
            })
            .collect();
        assert_eq!(
            json.as_array().map(Vec::len),
            Some(model.layout.len()),
            "{example}"
        );
        assert_eq!(laid_out, expected, "{example}");
    }
}

/// Width and height of a PNG, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let word = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    (word(16), word(20))
}

#[test]
fn the_pictures_render_with_a_real_renderer() {
    let rsvg = crate::support::test_tool_on_path("rsvg-convert");
    for example in ["minimal", "particleos", "remix"] {
        let (model, files) = build(&format!("examples/{example}.pcfg"));
        for (name, boxes) in [
            ("layout.svg", model.layout.len()),
            ("trust.svg", 2 * model.chain.len()),
        ] {
            let svg = files
                .iter()
                .find(|f| f.path == name)
                .unwrap_or_else(|| panic!("{example}: no {name}"));
            // The background, and the boxes: one per GPT partition, two per link of the chain.
            assert_eq!(
                svg.contents.matches("<rect ").count(),
                1 + boxes,
                "{example} {name}"
            );
            let mut child = std::process::Command::new(&rsvg)
                .args(["--format", "png"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("rsvg-convert runs");
            std::io::Write::write_all(
                &mut child.stdin.take().expect("stdin"),
                svg.contents.as_bytes(),
            )
            .expect("write");
            let out = child.wait_with_output().expect("rsvg-convert ends");
            assert!(
                out.status.success(),
                "{example} {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let (width, height) = png_size(&out.stdout);
            assert!(
                width >= 480 && height >= 100,
                "{example} {name}: {width}x{height}"
            );
            assert!(
                out.stdout.len() > 4096,
                "{example} {name}: an empty picture"
            );
        }
    }
}

#[test]
fn the_book_shows_the_pictures_as_particleos_builds_them() {
    let (_, files) = build("examples/particleos.pcfg");
    for name in ["layout.svg", "trust.svg"] {
        let svg = &files
            .iter()
            .find(|f| f.path == name)
            .expect("built")
            .contents;
        let path = root()
            .join("book/src/pictures")
            .join(format!("particleos-{name}"));
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, svg).expect("write");
        }
        let shown = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shown == *svg,
            "{} is stale: run `UPDATE_DOCS=1 cargo test pictures`",
            path.display()
        );
    }
}

/// Issue 14: each system extension is an update component of its own. Real systemd-sysupdate
/// (254) reads the component pcfg puts into the image (`/usr/lib/sysupdate.NAME.d/`), lists the
/// installed and the available version from the channel's source, and installs the new image
/// into `/var/lib/extensions.d/`, pointing `/var/lib/extensions/NAME.raw` at it.
#[test]
fn an_extension_updates_as_a_sysupdate_component() {
    let sysupdate = crate::support::test_tool("systemd-sysupdate-backports");
    let import = crate::support::test_tool("systemd-import-backports");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("ext/tools/usr/bin")).expect("mkdir");
    std::fs::write(dir.path().join("ext/tools/usr/bin/t"), "t").expect("write");
    // systemd 254 reads `.conf` transfers; the channel is a local directory of the root.
    std::fs::write(
        dir.path().join("system.pcfg"),
        "system { name = \"x\", version = \"1\", systemd = 254 }\npartition esp { type = esp, size = 512M }\npartition usr { type = usr, size = 2G, slots = 2, format = erofs }\nupdate.channel.local.source = \"/srv/updates\"\nextension tools { kind = sysext, source = \"ext/tools\" }\n",
    )
    .expect("write");
    let run = crate::support::pcfg_in(dir.path(), &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let root = dir.path().join("root");
    let component = root.join("usr/lib/sysupdate.tools.d");
    std::fs::create_dir_all(&component).expect("mkdir");
    std::fs::copy(
        dir.path()
            .join("out/sysupdate-components/sysupdate.tools.d/tools.conf"),
        component.join("tools.conf"),
    )
    .expect("the component's transfer");
    for (path, contents) in [
        ("srv/updates/tools_1.raw", "one"),
        ("srv/updates/tools_2.raw", "two"),
        ("var/lib/extensions.d/tools_1.raw", "one"),
    ] {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
    std::fs::create_dir_all(root.join("var/lib/extensions")).expect("mkdir");
    let sysupdate_run = |args: &[&str]| {
        let output = Command::new(&sysupdate)
            .arg(format!("--root={}", root.display()))
            .args(["--no-pager", "--component=tools"])
            .args(args)
            .env("SYSTEMD_IMPORT_PATH", &import)
            .output()
            .expect("systemd-sysupdate runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{text}");
        text
    };
    let listed = sysupdate_run(&["--no-legend", "list"]);
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter(|w| !["●", "↻"].contains(w))
                .collect()
        })
        .collect();
    assert!(
        rows.iter()
            .any(|r| r.first() == Some(&"2") && r.contains(&"candidate")),
        "{listed}"
    );
    assert!(
        rows.iter()
            .any(|r| r.first() == Some(&"1") && r.contains(&"current")),
        "{listed}"
    );
    sysupdate_run(&["update"]);
    assert_eq!(
        std::fs::read_to_string(root.join("var/lib/extensions.d/tools_2.raw")).expect("installed"),
        "two"
    );
    assert_eq!(
        std::fs::read_link(root.join("var/lib/extensions/tools.raw")).expect("the current link"),
        Path::new("../extensions.d/tools_2.raw")
    );
}

/// Issue 19 part 6: a version given when building (`pcfg build --version`) is the system's
/// version everywhere — os-release, the image's name, the extensions, the transfers' labels —
/// as if the configuration said it; a value outside the version grammar is a usage error, and
/// one that makes a label too long is that diagnostic.
#[test]
fn a_version_given_at_build_time_reaches_every_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let run = pcfg(&[
        "build",
        "examples/remix.pcfg",
        "--version",
        "20261130.1",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let os_release =
        std::fs::read_to_string(out.join("image-tree/usr/lib/os-release")).expect("os-release");
    assert!(
        os_release.contains("IMAGE_VERSION=20261130.1"),
        "{os_release}"
    );
    assert!(!os_release.contains("20260526"), "{os_release}");
    let images = crate::support::mkosi_summary(&out.join("mkosi"), None);
    let main = images.last().expect("the image");
    assert_eq!(main["ImageVersion"], "20261130.1");
    assert_eq!(main["Output"], "AtomOS_20261130.1_x86-64");
    // An extension without a version of its own takes the system's.
    let devtools = images
        .iter()
        .find(|i| i["Image"] == "devtools")
        .expect("devtools");
    assert_eq!(devtools["ImageVersion"], "20261130.1");
    // The same from the plan, and nothing of the configuration's own version is left.
    let plan = pcfg(&[
        "plan",
        "--as",
        "json",
        "--version",
        "20261130.1",
        "examples/remix.pcfg",
    ]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    assert!(plan.stdout.contains("20261130.1"));
    for (path, contents) in read_tree(&out) {
        assert!(
            !String::from_utf8_lossy(&contents).contains("20260526"),
            "{path}: the declared version is left"
        );
    }
    // Not a version: refused before anything is read.
    let bad = pcfg(&[
        "build",
        "examples/remix.pcfg",
        "--version",
        "1 0",
        "-o",
        "x",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.transcript());
    assert!(
        bad.stderr.contains("--version `1 0` contains a space"),
        "{}",
        bad.stderr
    );
    // Too long for the labels made from it: the configuration's diagnostic, nothing written.
    let long = "1".repeat(30);
    let too_long = pcfg(&[
        "build",
        "examples/remix.pcfg",
        "--version",
        &long,
        "-o",
        dir.path().join("long").to_str().expect("utf-8"),
    ]);
    assert_eq!(too_long.code, 1, "{}", too_long.transcript());
    assert!(
        too_long.stderr.contains("pcfg::label-too-long"),
        "{}",
        too_long.stderr
    );
    assert!(!dir.path().join("long").exists());
}
