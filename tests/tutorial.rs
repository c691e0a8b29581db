//! The book's tutorial (`book/src/tutorial.md`), step by step: each command it shows is run
//! here, and the chapter shows these snapshots (`book.rs` checks it does), so what it says is
//! what pcfg does.

use crate::support::pcfg_in;

/// The tutorial's configuration, as the chapter shows it.
pub(crate) const SYSTEM: &str = "import \"std/particleos\"\n\nsystem.name = \"MyOS\"\nupdate.channel.obs.source = \"https://updates.example.org/myos/\"\npartition.usr.size-max = 30G\nremove partition.swap\n";

#[test]
fn the_tutorial_runs_as_the_book_tells_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/tutorial.md"),
    )
    .expect("the chapter");
    assert!(
        chapter.contains(SYSTEM),
        "the chapter shows the configuration the test runs"
    );

    std::fs::write(root.join("base.pcfg"), "import \"std/particleos\"\n").expect("write");
    std::fs::write(root.join("system.pcfg"), SYSTEM).expect("write");

    let check = pcfg_in(root, &["check", "system.pcfg"]);
    assert_eq!(check.code, 0, "{}", check.transcript());
    insta::assert_snapshot!("tutorial-check", check.stderr);

    let why = pcfg_in(root, &["why", "system.pcfg", "partition.usr.size-max"]);
    assert_eq!(why.code, 0, "{}", why.transcript());
    insta::assert_snapshot!("tutorial-why", why.stdout);

    let before = pcfg_in(root, &["plan", "base.pcfg", "--as", "json"]);
    assert_eq!(before.code, 0, "{}", before.transcript());
    std::fs::write(root.join("before.json"), &before.stdout).expect("write");
    let since = pcfg_in(root, &["plan", "system.pcfg", "--since", "before.json"]);
    assert_eq!(since.code, 0, "{}", since.transcript());
    insta::assert_snapshot!("tutorial-since", since.stdout);

    let diff = pcfg_in(root, &["diff", "base.pcfg", "system.pcfg"]);
    assert_eq!(diff.code, 0, "{}", diff.transcript());
    insta::assert_snapshot!("tutorial-diff", diff.stdout);

    let build = pcfg_in(root, &["build", "system.pcfg", "-o", "out"]);
    assert_eq!(build.code, 0, "{}", build.transcript());
    let mut files: Vec<String> = walkdir::WalkDir::new(root.join("out"))
        .into_iter()
        .map(|e| e.expect("entry"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(root)
                .expect("under the root")
                .display()
                .to_string()
        })
        .collect();
    files.sort();
    insta::assert_snapshot!(
        "tutorial-build",
        format!("{}{}\n", build.stdout, files.join("\n"))
    );
    assert!(
        !files.iter().any(|f| f.contains("swap")),
        "swap is gone from every file name"
    );

    let trust = pcfg_in(root, &["trust", "system.pcfg"]);
    assert_eq!(trust.code, 0, "{}", trust.transcript());
    insta::assert_snapshot!("tutorial-trust", trust.stdout);
}
