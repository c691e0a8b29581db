//! The build plan: what each single-line remix of ParticleOS changes, and nothing else; the
//! plan's JSON contract; the pictures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pcfg::emit::{self, Source};
use pcfg::graph::Plan;
use pcfg::plan::{plan, Inputs};
use pcfg::vfs::MemoryFs;

use crate::support::pcfg;

/// The plan of `import "std/particleos"` followed by `remix`.
fn plan_of(remix: &str) -> Plan {
    let mut fs = MemoryFs::new();
    fs.insert(
        "system.pcfg",
        format!("import \"std/particleos\"\n{remix}\n"),
    );
    fs.insert("mkosi.crt", "a certificate");
    fs.insert("other.crt", "another certificate");
    fs.insert("ext/tools/usr/bin/tool", "#!/bin/sh\n");
    let compilation = pcfg::compile::check(&fs, Path::new("system.pcfg")).expect("readable");
    assert!(
        !compilation.has_errors(),
        "{remix}: {:?}",
        compilation.diagnostics
    );
    let model = compilation.model.expect("model");
    let source = Source {
        entry_name: "system.pcfg",
        entry_dir: Path::new(""),
        entry_from_output: Path::new(""),
        lock: None,
    };
    let inputs = Inputs::read(&model, &fs, Path::new(""));
    let files = emit::artifacts(&model, &source, &inputs).expect("every value is written");
    plan(&model, &files, &inputs).expect("a plan")
}

/// The steps whose ids differ (or that are new) in `after`.
fn changed(before: &Plan, after: &Plan) -> BTreeSet<String> {
    after
        .steps
        .iter()
        .filter(|s| before.step(&s.spec.name).map(|b| &b.id) != Some(&s.id))
        .map(|s| s.spec.name.clone())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// Everything made from the `/usr` tree: the images, the command line with its `usrhash=`, the
/// UKI and its profiles, the ESP, the disk, the update artifacts.
const FROM_USR_TREE: &[&str] = &[
    "usr-tree",
    "usr-image",
    "usr-verity",
    "usr-verity-sig",
    "cmdline",
    "uki",
    "uki-profile:factory-reset",
    "uki-profile:emergency",
    "esp",
    "disk-image",
    "update:obs",
];

fn with(extra: &[&str], base: &[&str]) -> BTreeSet<String> {
    set(extra).union(&set(base)).cloned().collect()
}

#[test]
fn single_line_remixes_change_exactly_what_they_should() {
    let base = plan_of("");
    let cases: &[(&str, BTreeSet<String>)] = &[
        // State partitions are made at first boot from definitions inside /usr: the definitions
        // and everything made from /usr change, nothing upstream (packages, base, keys).
        (
            "partition.home.size-min = 2G",
            with(&["definitions:first-boot"], FROM_USR_TREE),
        ),
        (
            "partition.usr.size-max = 30G",
            with(&["definitions:first-boot"], FROM_USR_TREE),
        ),
        (
            "remove partition.swap",
            with(&["definitions:first-boot"], FROM_USR_TREE),
        ),
        (
            "partition.esp.size = 2G",
            with(&["definitions:first-boot"], FROM_USR_TREE),
        ),
        // A package changes the base tree and everything downstream.
        (
            "system.packages += [\"vim\"]",
            with(&["packages", "base-tree"], FROM_USR_TREE),
        ),
        // The name is in os-release (which the base carries, so that extensions built on it
        // match the image), the transfers' patterns and the image filter.
        (
            "system.name = \"MyOS\"",
            with(
                &["definitions:updates", "image-files", "base-tree"],
                FROM_USR_TREE,
            ),
        ),
        // The PCRs are in the sealing drop-in, in the image and in the initrd (in the UKI).
        (
            "trust.tpm2.pcrs += [11]",
            with(&["image-files", "initrd-files", "base-tree"], FROM_USR_TREE),
        ),
        // A Flatpak app: its preinstall file and the `flatpak` package, nothing built for it.
        (
            "extension maps { kind = flatpak, app = \"org.gnome.Maps\" }",
            with(&["packages", "image-files", "base-tree"], FROM_USR_TREE),
        ),
        (
            "update.tries = 5",
            with(&["definitions:updates"], FROM_USR_TREE),
        ),
        (
            "system.cmdline += [\"quiet\"]",
            set(&[
                "cmdline",
                "uki",
                "uki-profile:factory-reset",
                "uki-profile:emergency",
                "esp",
                "disk-image",
                "update:obs",
            ]),
        ),
        (
            "trust.key = \"other.key\"\ntrust.cert = \"other.crt\"",
            set(&[
                "key:secure-boot",
                "key:verity",
                "key:pcr-policy",
                "usr-verity-sig",
                "uki",
                "uki-profile:factory-reset",
                "uki-profile:emergency",
                "esp",
                "disk-image",
                "update:obs",
            ]),
        ),
        (
            "extension tools { kind = sysext, source = \"ext/tools\" }",
            // Its image and the check of the system extensions against the built base; and the
            // image, which carries its update component (never the base or other extensions).
            set(&[
                "source:tools",
                "extension:tools",
                "extensions:check",
                "definitions:components",
                "usr-tree",
                "usr-image",
                "usr-verity",
                "usr-verity-sig",
                "cmdline",
                "uki",
                "uki-profile:emergency",
                "uki-profile:factory-reset",
                "esp",
                "disk-image",
                "update:obs",
            ]),
        ),
        (
            "update.channel.stable.source = \"https://example.org/os/\"",
            set(&["update:stable"]),
        ),
        (
            "uki-profile debug { title = \"Debug\", cmdline = [\"debug\"] }",
            set(&["uki-profile:debug", "esp", "disk-image"]),
        ),
        ("disk.size = 64G", set(&["disk-image"])),
    ];
    for (remix, expected) in cases {
        assert_eq!(&changed(&base, &plan_of(remix)), expected, "{remix}");
    }
}

#[test]
fn extension_trees_are_hashed_by_content() {
    let mut fs = MemoryFs::new();
    fs.insert("a/usr/bin/x", "1");
    let before = pcfg::vfs::Vfs::tree_digest(&fs, Path::new("a")).expect("a digest");
    fs.insert("a/usr/bin/x", "2");
    let after = pcfg::vfs::Vfs::tree_digest(&fs, Path::new("a")).expect("a digest");
    assert_ne!(before, after);
    assert_eq!(pcfg::vfs::Vfs::tree_digest(&fs, Path::new("missing")), None);
}

#[test]
fn plan_json_v1_and_since() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = pcfg(&["plan", "--as", "json", "examples/particleos.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: pcfg::cli::PlanJson = serde_json::from_str(&run.stdout).expect("the v1 schema");
    assert_eq!(plan.version, 1);
    assert!(plan.steps.iter().all(|s| s.id.len() == 64));
    // Topological: every step comes after what it needs.
    for (i, step) in plan.steps.iter().enumerate() {
        for need in &step.needs {
            assert!(
                plan.steps[..i].iter().any(|s| &s.name == need),
                "{} before {need}",
                step.name
            );
        }
    }
    let old = dir.path().join("old.json");
    std::fs::write(&old, &run.stdout).expect("write");
    let same = pcfg(&[
        "plan",
        "--since",
        old.to_str().expect("utf-8"),
        "examples/particleos.pcfg",
    ]);
    assert!(
        same.stdout
            .ends_with(&format!("0 of {} steps changed\n", plan.steps.len())),
        "{}",
        same.stdout
    );
    let remix = pcfg(&[
        "plan",
        "--since",
        old.to_str().expect("utf-8"),
        "examples/remix.pcfg",
    ]);
    assert_eq!(remix.code, 0, "{}", remix.stderr);
    insta::assert_snapshot!(remix.stdout);
}

#[test]
fn plan_pictures_and_human_form() {
    for form in ["human", "dot", "mermaid"] {
        let run = pcfg(&["plan", "--as", form, "examples/particleos.pcfg"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(format!("plan-{form}"), run.stdout);
    }
    for example in ["minimal", "remix"] {
        let run = pcfg(&["plan", &format!("examples/{example}.pcfg")]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(format!("plan-{example}"), run.stdout);
    }
}

/// A copy of `examples/` in `dir`, with the key and certificate the examples name
/// (`mkosi.key`, `mkosi.crt`; only their presence matters to Ninja).
fn examples_with_keys(dir: &Path) -> PathBuf {
    let examples = dir.join("examples");
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .arg(&examples)
        .status()
        .expect("cp runs");
    assert!(status.success());
    for name in ["mkosi.key", "mkosi.crt"] {
        std::fs::write(examples.join(name), name).expect("write");
    }
    examples
}

#[test]
fn ninja_runs_the_plan_in_the_output_directory() {
    for example in ["particleos", "remix"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let examples = examples_with_keys(dir.path());
        let config = examples.join(format!("{example}.pcfg"));
        let config = config.to_str().expect("utf-8");
        let run = pcfg(&["build", config, "-o", out.to_str().expect("utf-8")]);
        assert_eq!(run.code, 0, "{}", run.transcript());
        let ninja = crate::support::test_tool_on_path("ninja");
        let dry = std::process::Command::new(&ninja)
            .arg("-n")
            .current_dir(&out)
            .output()
            .expect("ninja runs");
        let stdout = String::from_utf8_lossy(&dry.stdout);
        assert!(
            dry.status.success(),
            "{example}: {stdout}{}",
            String::from_utf8_lossy(&dry.stderr)
        );
        assert!(stdout.contains("mkosi build"), "{stdout}");
        assert!(stdout.contains("publish publish/obs"), "{stdout}");
        // The file `pcfg plan --as ninja` prints is the one the build wrote.
        let printed = pcfg(&[
            "plan",
            "--as",
            "ninja",
            "-o",
            out.to_str().expect("utf-8"),
            config,
        ]);
        assert_eq!(
            printed.stdout,
            std::fs::read_to_string(out.join("build.ninja")).expect("build.ninja")
        );
    }
}

/// Issue 16 item 9: Ninja sees what changed. The mkosi run depends on every file of the mkosi
/// project and on the stamps of its inputs, and each input's stamp on the files it stands for
/// (`ninja -t query`); real Ninja, having made those stamps, remakes exactly the one whose file
/// was edited or replaced (an emitted definition, a key) and nothing when none was.
#[test]
fn ninja_rebuilds_when_a_file_mkosi_reads_or_a_key_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let examples = examples_with_keys(dir.path());
    let config = examples.join("particleos.pcfg");
    let run = pcfg(&[
        "build",
        config.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let ninja = crate::support::test_tool_on_path("ninja");
    let ninja_in = |args: &[&str]| -> String {
        let output = std::process::Command::new(&ninja)
            .args(args)
            .current_dir(&out)
            .output()
            .expect("ninja runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let targets = ninja_in(&["-t", "targets", "all"]);
    let stamp = |prefix: &str| -> String {
        targets
            .lines()
            .filter_map(|l| l.split_once(':').map(|(t, _)| t))
            .find(|t| t.starts_with(&format!(".pcfg/{prefix}-")))
            .unwrap_or_else(|| panic!("no {prefix} stamp in {targets}"))
            .to_owned()
    };
    let mkosi_inputs = ninja_in(&["-t", "query", &stamp("disk-image")]);
    for file in [
        "mkosi/mkosi.conf",
        "mkosi/mkosi.finalize",
        "mkosi/mkosi.images/initrd/mkosi.conf",
    ] {
        assert!(
            mkosi_inputs.contains(&format!("| {file}\n")),
            "{file}: {mkosi_inputs}"
        );
    }
    let key_stamp = stamp("key_secure-boot");
    let definitions_stamp = stamp("definitions_first-boot");
    for needed in [&key_stamp, &definitions_stamp] {
        assert!(mkosi_inputs.contains(needed.as_str()), "{mkosi_inputs}");
    }
    let key_inputs = ninja_in(&["-t", "query", &key_stamp]);
    assert!(
        key_inputs.contains("/mkosi.key\n") && key_inputs.contains("/mkosi.crt\n"),
        "{key_inputs}"
    );
    // Make the two input stamps for real, then change their files one at a time.
    ninja_in(&[&key_stamp, &definitions_stamp]);
    let dry = |target: &str| ninja_in(&["-n", target]);
    assert!(dry(&key_stamp).contains("no work to do"));
    assert!(dry(&definitions_stamp).contains("no work to do"));
    for (changed, target, other) in [
        (
            out.join("repart.d/install/40-root.conf"),
            &definitions_stamp,
            &key_stamp,
        ),
        (examples.join("mkosi.key"), &key_stamp, &definitions_stamp),
    ] {
        // Ninja compares modification times: let the clock move past the stamps'.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let mut text = std::fs::read(&changed).expect("read");
        text.extend_from_slice(b"\n");
        std::fs::write(&changed, text).expect("write");
        assert!(
            !dry(target).contains("no work to do"),
            "{}: {target} is not remade",
            changed.display()
        );
        assert!(dry(other).contains("no work to do"), "{other} is remade");
        ninja_in(&[target]);
        assert!(dry(target).contains("no work to do"));
    }
}

/// Issue 16 item 8: publishing copies exactly what the channel's transfers fetch — the split
/// partitions and the UKI — never the whole disk image or the ESP image mkosi writes beside
/// them (the command Ninja runs, over files named as mkosi names them).
#[test]
fn publishing_copies_only_what_the_transfers_fetch() {
    let (_dir, out) = crate::support::built("examples/server/system.pcfg");
    let uuid = "0a1b2c3d-0000-4000-8000-000000000000";
    let fetched = server_outputs(&out, uuid, str::to_owned);
    let others = [
        "HeadlessOS_1.0_x86-64.raw".to_owned(),
        format!("HeadlessOS_1.0_x86-64.esp.{uuid}.raw"),
        "HeadlessOS_1.0_x86-64.vmlinuz".to_owned(),
    ];
    for name in &others {
        std::fs::write(out.join("mkosi/mkosi.output").join(name), name).expect("write");
    }
    crate::support::publish(&out, "publish/stable");
    let mut published: Vec<String> = std::fs::read_dir(out.join("publish/stable"))
        .expect("published")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    published.sort();
    let mut expected = fetched.clone();
    expected.push("SHA256SUMS".to_owned());
    expected.sort();
    assert_eq!(published, expected);
    // The manifest systemd-sysupdate reads first: every published file, with its hash.
    let sums = std::fs::read_to_string(out.join("publish/stable/SHA256SUMS")).expect("SHA256SUMS");
    assert_eq!(sums.lines().count(), fetched.len(), "{sums}");
    let checked = std::process::Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(out.join("publish/stable"))
        .output()
        .expect("sha256sum runs");
    assert!(checked.status.success(), "{checked:?}");
}

/// `pcfg build` of `examples/server` with `lines` added (a remix in a new temporary directory):
/// the directory and its `out`.
fn built_server_with(lines: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("system.pcfg");
    let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/server/system.pcfg");
    std::fs::write(&config, format!("import \"{}\"\n{lines}", server.display())).expect("write");
    let out = dir.path().join("out");
    crate::support::build_to(&[config.to_str().expect("utf-8")], &out);
    (dir, out)
}

/// What mkosi makes for the server example's channel, by the names the transfers' patterns
/// expect (split partitions with `uuid`, the UKI), each holding `contents(name)`, in
/// `out/mkosi/mkosi.output`; returns the names.
fn server_outputs(out: &Path, uuid: &str, contents: impl Fn(&str) -> String) -> Vec<String> {
    let output = out.join("mkosi/mkosi.output");
    std::fs::create_dir_all(&output).expect("mkdir");
    let names = vec![
        format!("HeadlessOS_1.0_x86-64.usr-x86-64-verity-sig.{uuid}.raw"),
        format!("HeadlessOS_1.0_x86-64.usr-x86-64-verity.{uuid}.raw"),
        format!("HeadlessOS_1.0_x86-64.usr-x86-64.{uuid}.raw"),
        "HeadlessOS_1.0_x86-64.efi".to_owned(),
    ];
    for name in &names {
        std::fs::write(output.join(name), contents(name)).expect("write");
    }
    names
}

/// A channel's `artifact-name`: the publish step renames the system's files to it (the
/// extension images keep theirs), or leaves them when it is the image id itself.
#[test]
fn a_channel_publishes_under_its_artifact_name() {
    for (artifact, prefix) in [
        ("headless-ab", "headless-ab_"),
        ("HeadlessOS", "HeadlessOS_"),
    ] {
        let (_dir, out) = built_server_with(&format!(
            "update.channel.stable.artifact-name = \"{artifact}\"\n"
        ));
        server_outputs(&out, "0a1b2c3d-0000-4000-8000-000000000000", str::to_owned);
        crate::support::publish(&out, "publish/stable");
        let published: Vec<String> = std::fs::read_dir(out.join("publish/stable"))
            .expect("published")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n != "SHA256SUMS")
            .collect();
        assert_eq!(published.len(), 4, "{published:?}");
        assert!(
            published.iter().all(|n| n.starts_with(prefix)),
            "{published:?}"
        );
    }
}

/// Issue 19 part 7: a channel that publishes compressed files. The publish step Ninja runs
/// compresses each file it copies (never the sums) and sums the compressed files; every
/// transfer's source pattern names the compressed file, which systemd-sysupdate decompresses.
#[test]
fn a_compressed_channel_publishes_what_its_transfers_fetch() {
    let (_dir, out) = built_server_with("update.channel.stable.compress = xz\n");
    // What mkosi would have written, by the names the transfers' patterns expect.
    let uuid = "0123456789abcdef0123456789abcdef";
    let names = server_outputs(&out, uuid, |name| format!("{name}\n").repeat(100));
    // The publish step's own command, as Ninja would run it.
    let command = crate::support::publish(&out, "publish/stable");
    assert!(command.contains("xz -T0 -f"), "{command}");
    let published = out.join("publish/stable");
    let mut files: Vec<String> = std::fs::read_dir(&published)
        .expect("published")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = names.iter().map(|n| format!("{n}.xz")).collect();
    expected.push("SHA256SUMS".to_owned());
    expected.sort();
    assert_eq!(files, expected);
    let sums = std::fs::read_to_string(published.join("SHA256SUMS")).expect("sums");
    for name in &names {
        assert!(sums.contains(&format!("{name}.xz")), "{sums}");
        let test = std::process::Command::new("xz")
            .arg("-t")
            .arg(published.join(format!("{name}.xz")))
            .status()
            .expect("xz runs");
        assert!(test.success(), "{name}.xz");
    }
    // Each transfer fetches one of them.
    for transfer in std::fs::read_dir(out.join("sysupdate.d/stable")).expect("transfers") {
        let text = std::fs::read_to_string(transfer.expect("entry").path()).expect("read");
        let source = text
            .split("[Source]")
            .nth(1)
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("MatchPattern=")))
            .expect("a source pattern");
        let name = source.replace("@v", "1.0").replace("@u", uuid);
        assert!(files.contains(&name), "{name} in {files:?}");
    }
}
