//! Every example compiles, and the normative ParticleOS example is the one in the standard
//! library. The repository's copies of the normative examples are their source of truth.

use std::path::Path;

use crate::support::{compile_file, pcfg};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_example_compiles_without_diagnostics() {
    let mut count = 0;
    for entry in walkdir_pcfg(&root().join("examples")) {
        let relative = entry
            .strip_prefix(root())
            .expect("under the root")
            .to_path_buf();
        let compilation = compile_file(&relative);
        assert!(
            compilation.diagnostics.is_empty(),
            "{}: {:?}",
            relative.display(),
            compilation.diagnostics
        );
        count += 1;
    }
    assert!(count >= 3, "examples found: {count}");
}

fn walkdir_pcfg(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .flat_map(|p| {
            if p.is_dir() {
                walkdir_pcfg(&p)
            } else {
                vec![p]
            }
        })
        .filter(|p| p.extension().is_some_and(|x| x == "pcfg"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_standard_library_is_the_normative_particleos() {
    let std_particleos =
        std::fs::read(root().join("lang/std/particleos.pcfg")).expect("std module");
    assert_eq!(
        std_particleos,
        std::fs::read(root().join("examples/particleos.pcfg")).expect("example")
    );
}

#[test]
fn particleos_declares_what_its_comment_says() {
    let run = pcfg(&["eval", "examples/particleos.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let partitions: Vec<&str> = json["config"]["partition"]
        .as_object()
        .expect("partitions")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(partitions, ["esp", "usr", "swap", "root", "home"]);
    assert_eq!(json["config"]["partition"]["usr"]["slots"], 2);
    assert_eq!(json["config"]["partition"]["usr"]["verity"], "signed");
    assert_eq!(json["config"]["partition"]["usr"]["size-max"], 20u64 << 30);
}

#[test]
fn remix_changes_what_its_comments_say() {
    let run = pcfg(&["eval", "examples/remix.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(json["config"]["system"]["name"], "AtomOS");
    assert_eq!(json["config"]["partition"]["usr"]["size-max"], 30u64 << 30);
    assert_eq!(json["config"]["partition"]["usr"]["size-min"], 5u64 << 30);
    assert!(
        json["config"]["partition"].get("swap").is_none(),
        "swap is removed"
    );
    assert_eq!(
        json["config"]["system"]["cmdline"],
        serde_json::json!(["rw", "audit=0", "quiet", "splash"])
    );
    let extensions: Vec<&str> = json["config"]["extension"]
        .as_object()
        .expect("extensions")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(extensions, ["devtools", "toolchain-libs", "firefox"]);
}

#[test]
fn why_shows_both_definitions_of_usr_size_max_in_the_remix() {
    let run = pcfg(&["why", "examples/remix.pcfg", "partition.usr.size-max"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn minimal_is_one_esp_and_one_root() {
    let run = pcfg(&["eval", "examples/minimal.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}
