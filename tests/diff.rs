//! `pcfg diff`: one-line remixes of the ParticleOS example, as people and bots see them; the JSON
//! form; `git:REV:PATH`.

use std::path::Path;

use crate::support::{git, pcfg_in, Run};

fn particleos() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/particleos.pcfg"))
        .expect("example")
}

/// `pcfg diff particleos.pcfg remix.pcfg`, where the remix imports ParticleOS and adds `lines`.
fn diff_remix(lines: &str, format: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("particleos.pcfg"), particleos()).expect("write");
    std::fs::write(
        dir.path().join("remix.pcfg"),
        format!("import \"particleos.pcfg\"\n{lines}"),
    )
    .expect("write");
    let mut args = vec!["diff", "particleos.pcfg", "remix.pcfg"];
    args.extend(format);
    pcfg_in(dir.path(), &args)
}

const REMIXES: &[(&str, &str)] = &[
    ("remove_swap", "remove partition.swap\n"),
    ("usr_size", "partition.usr.size-max = 30G\n"),
    ("rename", "system.name = \"AtomOS\"\n"),
    ("cmdline", "system.cmdline += [\"quiet\", \"splash\"]\n"),
    ("packages", "system.packages += [\"vim\"]\n"),
    ("root_ext4", "partition.root.format = ext4\n"),
    ("unsigned_policy", "trust.tpm2.signed-policy = false\n"),
    ("disk_size", "disk.size = 64G\n"),
    ("channel", "update {\n  channel stable { source = \"https://example.org/stable/\" }\n}\n"),
    ("flatpak", "extension firefox {\n  kind = flatpak\n  app = \"org.mozilla.firefox\"\n  runtime = \"org.freedesktop.Platform//24.08\"\n}\n"),
    ("home_bigger", "partition.home.size-min = 10G\n"),
    ("no_factory_reset_swap", "partition.swap.factory-reset = false\n"),
    ("same", ""),
];

#[test]
fn remixes_of_particleos() {
    for (name, lines) in REMIXES {
        let run = diff_remix(lines, &[]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        insta::assert_snapshot!(format!("diff_{name}"), run.stdout, lines);
    }
}

/// The JSON form, version 1, as `book/src/json.md` documents it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DiffJson {
    version: u32,
    old: String,
    new: String,
    changes: Vec<ChangeJson>,
    plan: Vec<StepJson>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeJson {
    area: String,
    subject: String,
    field: Option<String>,
    partition: Option<String>,
    change: String,
    old: Option<serde_json::Value>,
    new: Option<serde_json::Value>,
    declared: Option<DeclaredJson>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredJson {
    file: String,
    line: usize,
    column: usize,
    text: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StepJson {
    step: String,
    change: String,
    reasons: Vec<String>,
}

fn json_of(run: &Run) -> DiffJson {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("diff JSON, version 1")
}

#[test]
fn json_names_each_change_with_its_declaration() {
    let diff = json_of(&diff_remix(
        "remove partition.swap\n",
        &["--format", "json"],
    ));
    assert_eq!(
        (diff.version, diff.old.as_str(), diff.new.as_str()),
        (1, "particleos.pcfg", "remix.pcfg")
    );
    for area in [
        "partitions",
        "disk layout",
        "image policy",
        "trust chain",
        "files",
    ] {
        let gone = diff
            .changes
            .iter()
            .find(|c| {
                c.area == area
                    && c.change == "removed"
                    && (c.subject == "swap" || c.subject.ends_with("-swap.conf"))
            })
            .unwrap_or_else(|| panic!("swap is gone from {area}"));
        let declared = gone.declared.as_ref().expect("a declaration");
        assert_eq!(
            (declared.file.as_str(), declared.line, declared.column),
            ("remix.pcfg", 2, 1)
        );
        assert_eq!(declared.text, "remove partition.swap");
        assert!(gone.new.is_none() && gone.old.is_some());
    }
    let policy = diff
        .changes
        .iter()
        .find(|c| {
            c.area == "image policy" && c.subject == "swap" && c.field.as_deref() == Some("policy")
        })
        .expect("policy entry");
    assert_eq!(
        policy.old,
        Some(serde_json::json!("encrypted+unused+absent"))
    );
    assert!(diff.plan.iter().any(|s| s.step == "definitions:first-boot"
        && s.change == "changed"
        && !s.reasons.is_empty()));

    let diff = json_of(&diff_remix(
        "partition.usr.size-max = 30G\n",
        &["--format", "json"],
    ));
    let slots: Vec<&ChangeJson> = diff
        .changes
        .iter()
        .filter(|c| c.area == "disk layout")
        .collect();
    assert_eq!(slots.len(), 2, "slot A and slot B follow");
    for slot in slots {
        assert_eq!(slot.partition.as_deref(), Some("usr"));
        assert_eq!(slot.field.as_deref(), Some("size-max"));
        assert_eq!(slot.new, Some(serde_json::json!(30u64 << 30)));
        assert_eq!(
            slot.declared.as_ref().map(|d| d.text.as_str()),
            Some("partition.usr.size-max = 30G")
        );
    }
}

/// A list built by `+=` in two files: each changed item is blamed on the declaration that put
/// it in or took it out — the base file's `+=`, the product's `-=`, or, for an item the base no
/// longer adds, the old base's line — never merely the last `+=` that touched the list.
#[test]
fn a_changed_list_item_is_blamed_on_the_declaration_that_changed_it() {
    let base = |packages: &str| {
        format!("system {{ name = \"p\", version = \"1\" }}\nsystem.packages += [{packages}]\n")
    };
    let product = "import \"base.pcfg\"\nsystem.packages += [\"b\"]\n";
    let cases = [
        // (new base's packages, product lines added, blamed file, line, item changed)
        ("\"a\", \"c\"", "", "new/base.pcfg", 2, "+\"c\""),
        (
            "\"a\"",
            "system.packages -= [\"a\"]\n",
            "new/p.pcfg",
            3,
            "-\"a\"",
        ),
        ("", "", "old/base.pcfg", 2, "-\"a\""),
    ];
    for (packages, lines, file, line, item) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        for (side, packages, lines) in [("old", "\"a\"", ""), ("new", packages, lines)] {
            std::fs::create_dir_all(dir.path().join(side)).expect("mkdir");
            std::fs::write(dir.path().join(side).join("base.pcfg"), base(packages)).expect("write");
            std::fs::write(
                dir.path().join(side).join("p.pcfg"),
                format!("{product}{lines}"),
            )
            .expect("write");
        }
        let run = pcfg_in(dir.path(), &["diff", "old/p.pcfg", "new/p.pcfg"]);
        assert_eq!(run.code, 0, "{}", run.transcript());
        assert!(
            run.stdout.contains(&format!("packages {item}")),
            "{}",
            run.stdout
        );
        let diff = json_of(&pcfg_in(
            dir.path(),
            &["diff", "old/p.pcfg", "new/p.pcfg", "--format", "json"],
        ));
        for area in ["system", "files"] {
            let change = diff
                .changes
                .iter()
                .find(|c| c.area == area)
                .unwrap_or_else(|| panic!("a change in {area}: {}", run.stdout));
            let declared = change.declared.as_ref().expect("a declaration");
            assert_eq!(
                (declared.file.as_str(), declared.line),
                (file, line),
                "{area}: {}",
                run.stdout
            );
        }
    }
}

#[test]
fn diff_reads_a_file_at_a_git_revision_with_its_imports() {
    let repo = tempfile::tempdir().expect("temp dir");
    let os = repo.path().join("os");
    std::fs::create_dir(&os).expect("dir");
    std::fs::write(os.join("particleos.pcfg"), particleos()).expect("write");
    std::fs::write(os.join("system.pcfg"), "import \"particleos.pcfg\"\n").expect("write");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    std::fs::write(
        os.join("system.pcfg"),
        "import \"particleos.pcfg\"\nremove partition.swap\n",
    )
    .expect("write");

    let run = pcfg_in(
        &os,
        &[
            "diff",
            "git:HEAD:system.pcfg",
            "system.pcfg",
            "--format",
            "json",
        ],
    );
    let diff = json_of(&run);
    assert_eq!(diff.old, "git:HEAD:system.pcfg");
    assert!(diff
        .changes
        .iter()
        .any(|c| c.area == "partitions" && c.subject == "swap" && c.change == "removed"));
    // Committed, the two are the same system.
    git(repo.path(), &["commit", "-q", "-am", "no swap"]);
    let run = pcfg_in(
        &os,
        &["diff", "git:HEAD~1:system.pcfg", "git:HEAD:system.pcfg"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("- swap: removed\n      HEAD:os/system.pcfg:2: remove partition.swap"),
        "{}",
        run.stdout
    );
    let same = pcfg_in(&os, &["diff", "git:HEAD:system.pcfg", "system.pcfg"]);
    assert!(
        same.stdout.contains("the systems are the same"),
        "{}",
        same.stdout
    );
    assert!(!same.stdout.contains("build plan"), "{}", same.stdout);

    // `git:REV` alone compares the file with itself at the revision.
    let short = pcfg_in(&os, &["diff", "git:HEAD", "system.pcfg"]);
    assert_eq!(short.code, 0, "{}", short.stderr);
    assert_eq!(short.stdout, same.stdout);
    let bad = pcfg_in(&os, &["diff", "git::system.pcfg", "system.pcfg"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("git:REV:PATH"), "{}", bad.stderr);
    let unknown = pcfg_in(&os, &["diff", "git:no-such-rev:system.pcfg", "system.pcfg"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
}

#[test]
fn diff_reports_errors_of_either_side() {
    let run = diff_remix("partition.usr.sise-max = 30G\n", &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("pcfg::unknown-field"), "{}", run.stderr);
    // What can still be compared is: the declarations, with the broken side named.
    insta::assert_snapshot!("diff_with_errors", run.stdout);
    assert!(run.stdout.contains("has errors"), "{}", run.stdout);
    assert!(
        run.stdout.contains("~ partition.usr.sise-max: unset → 30G"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("/tmp"),
        "no temporary path: {}",
        run.stdout
    );
}

#[test]
fn git_revisions_are_read_as_committed_and_cannot_escape() {
    let repo = tempfile::tempdir().expect("temp dir");
    let os = repo.path().join("os");
    std::fs::create_dir(&os).expect("dir");
    // `export-subst` would rewrite `$Format:…$` in an archive; the committed text is read.
    std::fs::write(
        os.join(".gitattributes"),
        "*.pcfg export-subst\nbase.pcfg export-ignore\n",
    )
    .expect("write");
    std::fs::write(os.join("base.pcfg"), particleos()).expect("write");
    std::fs::write(
        os.join("system.pcfg"),
        "import \"base.pcfg\"\nsystem.pretty-name = \"$Format:%H$\"\n",
    )
    .expect("write");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    let run = pcfg_in(&os, &["diff", "git:HEAD:system.pcfg", "system.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("the systems are the same"),
        "{}",
        run.stdout
    );

    // A revision cannot be an option: `--output=FILE` would truncate FILE.
    let victim = repo.path().join("victim");
    std::fs::write(&victim, "keep").expect("write");
    let spec = format!("git:--output={}:system.pcfg", victim.display());
    let run = pcfg_in(&os, &["diff", &spec, "system.pcfg"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");

    // A path cannot leave the revision.
    for path in ["git:HEAD:../../x.pcfg", "git:HEAD:/etc/hostname"] {
        let run = pcfg_in(&os, &["diff", path, "system.pcfg"]);
        assert_eq!(run.code, 2, "{path}: {}", run.transcript());
    }

    // Messages name REV:PATH, never a temporary directory.
    std::fs::write(os.join("broken.pcfg"), "system { name = 1 }\n").expect("write");
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "broken"]);
    // Temporary trees go to TMPDIR (mkdtemp) and are gone afterwards.
    let tmp = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pcfg"))
        .args(["diff", "git:HEAD:broken.pcfg", "system.pcfg"])
        .current_dir(&os)
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("pcfg runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HEAD:os/broken.pcfg"), "{stderr}");
    assert!(!stderr.contains("pcfg-diff-"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(tmp.path()).expect("tmp").count(),
        0,
        "temporary trees left behind"
    );
}
