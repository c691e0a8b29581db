//! Products built together (`pcfg build A.pcfg B.pcfg … -o DIR`): the example set
//! `examples/multi-product/` as mkosi reads it — the project's own build makes the base and
//! every extension image once, each product's profile its image on that base — as Ninja runs
//! it, and as the plan changes when one product or one shared extension changes; and what
//! products must agree on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{changed_steps, mkosi_summary, pcfg_in, plan_ids};

/// The example's entry files, from its directory.
const ENTRIES: &[&str] = &["cayo.pcfg", "snow.pcfg", "snowfield.pcfg"];

const PRODUCTS: [&str; 3] = ["cayo", "snow", "snowfield"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn entries(dir: &str) -> Vec<String> {
    PRODUCTS.iter().map(|p| format!("{dir}/{p}.pcfg")).collect()
}

/// `pcfg build` of the example set into a new temporary directory.
fn built() -> (tempfile::TempDir, PathBuf) {
    let entries = entries("examples/multi-product");
    let entries: Vec<&str> = entries.iter().map(String::as_str).collect();
    crate::support::built_together(&entries)
}

fn name(image: &serde_json::Value) -> &str {
    image["Image"].as_str().unwrap_or("<main>")
}

fn strings(value: &serde_json::Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default()
}

/// The products' models, compiled one by one.
fn models() -> Vec<pcfg::model::Model> {
    models_in(&root().join("examples/multi-product"))
}

/// The models of the products in `dir`, a copy of the example set.
fn models_in(dir: &Path) -> Vec<pcfg::model::Model> {
    PRODUCTS
        .iter()
        .map(|p| {
            crate::support::compile_file(&dir.join(format!("{p}.pcfg")))
                .model
                .expect("a model")
        })
        .collect()
}

#[test]
fn mkosi_builds_the_shared_images_once_and_each_product_on_them() {
    // Nothing is made at first boot (`/var` is the installer's): no initrd of pcfg's, mkosi's
    // default one.
    let (_dir, out) = built();
    mkosi_reads_the_set(&root().join("examples/multi-product"), &out, false);
}

/// With a partition made at first boot (the example's `/var` as it was before its installer
/// made it), each product gets an initrd of its own that carries the file system's tools,
/// built with that product only.
#[test]
fn products_that_make_partitions_at_first_boot_build_their_own_initrds() {
    let dir = copy_example();
    let base = dir.path().join("base.pcfg");
    let text = std::fs::read_to_string(&base).expect("base.pcfg");
    let installed = "  encrypt = key-file+tpm2        # a recovery key pcfg-install prints once, and the TPM\n  create = install               # made by pcfg-install only, never at first boot\n";
    assert!(text.contains(installed), "the example's /var");
    std::fs::write(&base, text.replace(installed, "  encrypt = tpm2\n")).expect("write");
    let out = dir.path().join("out");
    let configs = entries(dir.path().to_str().expect("utf-8"));
    let configs: Vec<&str> = configs.iter().map(String::as_str).collect();
    crate::support::build_to(&configs, &out);
    mkosi_reads_the_set(dir.path(), &out, true);
}

/// What `mkosi --json summary` says of the set in `dir` built into `out`: the shared images
/// once, each product on them, with an initrd of pcfg's when `own_initrd`.
fn mkosi_reads_the_set(dir: &Path, out: &Path, own_initrd: bool) {
    let out = out.canonicalize().expect("canonical");
    let models = models_in(dir);
    let extension_images: BTreeSet<&str> = models[0]
        .extensions
        .iter()
        .map(|e| e.image.as_str())
        .collect();
    assert!(extension_images.len() >= 10, "{extension_images:?}");

    // The project's own build: the base and every extension image, nothing of its own.
    let shared = mkosi_summary(&out.join("mkosi"), None);
    let names: BTreeSet<&str> = shared.iter().map(name).collect();
    let mut expected: BTreeSet<&str> = extension_images.clone();
    expected.extend(["base", "<main>"]);
    assert_eq!(names, expected);
    let main = shared.last().expect("the project");
    assert_eq!(main["Format"], "none");
    let base = &shared[0];
    assert_eq!(name(base), "base");
    assert_eq!(base["Format"], "directory");
    let base_output = format!(
        "{}/{}",
        base["OutputDirectory"].as_str().expect("directory"),
        base["Output"].as_str().expect("output")
    );
    assert_eq!(
        base_output,
        out.join("mkosi/mkosi.output/base").display().to_string()
    );
    // The base holds what every product installs, and nothing only one product does.
    let base_packages: BTreeSet<&str> = strings(&base["Packages"]).into_iter().collect();
    let every: Vec<BTreeSet<&str>> = models
        .iter()
        .map(|m| m.image_packages().into_iter().collect())
        .collect();
    let common: BTreeSet<&str> = every[0]
        .iter()
        .copied()
        .filter(|p| every.iter().all(|e| e.contains(p)))
        .collect();
    assert_eq!(base_packages, common);
    assert!(!base_packages.contains("gnome-shell") && !base_packages.contains("cockpit"));
    // Every extension image on that base, signed with the one verity key.
    let key = dir.canonicalize().expect("canonical").join("keys/mok.key");
    for image in shared.iter().filter(|i| extension_images.contains(name(i))) {
        assert_eq!(image["Format"], "sysext", "{}", name(image));
        assert_eq!(image["Overlay"], true);
        assert_eq!(image["BaseTrees"], serde_json::json!([base_output]));
        assert!(strings(&image["Dependencies"]).contains(&"base"));
        let verity = Path::new(image["VerityKey"].as_str().expect("a verity key"));
        assert_eq!(
            pcfg::vfs::normalize(&out.join("mkosi").join(verity)),
            key,
            "{}",
            name(image)
        );
    }

    // Each product: the base, its own initrd when it needs one, its image; no extension image
    // is built again.
    for (product, model) in PRODUCTS.iter().zip(&models) {
        let images = mkosi_summary(&out.join("mkosi"), Some(product));
        let names: Vec<&str> = images.iter().map(name).collect();
        let initrd = format!("initrd-{product}");
        if own_initrd {
            assert_eq!(names, ["base", initrd.as_str(), "<main>"], "{product}");
        } else {
            assert_eq!(names, ["base", "<main>"], "{product}");
        }
        let main = images.last().expect("the product");
        assert_eq!(main["ImageId"], *product);
        assert_eq!(main["Format"], "disk");
        assert_eq!(
            main["Output"],
            format!(
                "{product}_{}_x86-64",
                model.system.version.value.as_deref().unwrap_or("")
            )
        );
        assert_eq!(main["BaseTrees"], serde_json::json!([base_output]));
        let own: BTreeSet<&str> = strings(&main["Packages"]).into_iter().collect();
        let all: BTreeSet<&str> = model.image_packages().into_iter().collect();
        assert_eq!(own, all.difference(&common).copied().collect(), "{product}");
        assert_eq!(
            main["RepartDirectories"],
            serde_json::json!([out
                .join(format!("products/{product}/repart.d/build"))
                .display()
                .to_string()])
        );
        let trees: Vec<&str> = main["ExtraTrees"]
            .as_array()
            .expect("trees")
            .iter()
            .filter_map(|t| t["Source"].as_str())
            .collect();
        assert!(
            trees.contains(
                &out.join(format!("products/{product}/image-tree"))
                    .display()
                    .to_string()
                    .as_str()
            ),
            "{trees:?}"
        );
        if own_initrd {
            let initrd_image = &images[1];
            let initrd_file = format!(
                "{}/{}.cpio.zst",
                initrd_image["OutputDirectory"].as_str().expect("directory"),
                initrd_image["Output"].as_str().expect("output")
            );
            assert_eq!(main["Initrds"], serde_json::json!([initrd_file]));
        } else {
            assert_eq!(main["Initrds"], serde_json::json!([]), "{product}");
        }
        let cmdline: Vec<&str> = model
            .cmdline
            .options
            .iter()
            .map(|o| o.value.as_str())
            .collect();
        assert_eq!(strings(&main["KernelCommandLine"]), cmdline, "{product}");
        assert_eq!(main["ShimBootloader"], "signed");
        assert_eq!(main["SecureBootAutoEnroll"], false);
    }
}

#[test]
fn ninja_runs_mkosi_once_for_the_shared_images_and_once_per_product() {
    let (_dir, out) = built();
    let ninja = crate::support::test_tool_on_path("ninja");
    let output = Command::new(&ninja)
        .args(["-t", "commands", "all"])
        .current_dir(&out)
        .output()
        .expect("ninja runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let commands = String::from_utf8_lossy(&output.stdout);
    let mkosi: Vec<&str> = commands
        .lines()
        .filter(|c| c.starts_with("mkosi "))
        .collect();
    assert_eq!(mkosi.len(), 1 + PRODUCTS.len(), "{mkosi:#?}");
    assert_eq!(
        mkosi.iter().filter(|c| !c.contains("--profile")).count(),
        1,
        "{mkosi:#?}"
    );
    for product in PRODUCTS {
        assert!(
            mkosi
                .iter()
                .any(|c| c.contains(&format!("--profile={product} "))),
            "{mkosi:#?}"
        );
        // Each product's channel publishes what its transfers fetch, in its own directory.
        assert!(
            commands.contains(&format!("publish/{product}/stable")),
            "{product}"
        );
    }
    // The shared run comes first: every product's run needs the base it makes.
    let shared = commands
        .lines()
        .position(|c| c.starts_with("mkosi ") && !c.contains("--profile"))
        .expect("the shared run");
    let first_product = commands
        .lines()
        .position(|c| c.contains("--profile="))
        .expect("a product's run");
    assert!(shared < first_product, "{commands}");
}

fn copy_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = root().join("examples/multi-product");
    for entry in walkdir::WalkDir::new(&from) {
        let entry = entry.expect("entry");
        let to = dir
            .path()
            .join(entry.path().strip_prefix(&from).expect("below"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).expect("mkdir");
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
    dir
}

#[test]
fn a_change_rebuilds_exactly_what_it_affects_across_the_products() {
    let dir = copy_example();
    let before = plan_ids(dir.path(), ENTRIES);
    let mut args = vec!["plan".to_owned(), "--as".to_owned(), "json".to_owned()];
    args.extend(entries("."));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    std::fs::write(
        dir.path().join("old.json"),
        pcfg_in(dir.path(), &args).stdout,
    )
    .expect("write");
    // Shared steps once, each product's under its name.
    assert!(before.contains_key("base-tree") && before.contains_key("extension:docker"));
    for product in PRODUCTS {
        assert!(
            before.contains_key(&format!("{product}/usr-tree")),
            "{before:#?}"
        );
    }

    // One product's packages: that product's image, nothing shared, no other product.
    let cayo = dir.path().join("cayo.pcfg");
    let text = std::fs::read_to_string(&cayo).expect("cayo.pcfg");
    std::fs::write(
        &cayo,
        text.replace("\"smartmontools\"", "\"smartmontools\", \"htop\""),
    )
    .expect("write");
    let after = plan_ids(dir.path(), ENTRIES);
    let changes = changed_steps(&before, &after);
    assert!(
        changes.contains(&"cayo/usr-tree".to_owned()),
        "{changes:#?}"
    );
    // As `pcfg plan --since` says it.
    let mut args = vec![
        "plan".to_owned(),
        "--since".to_owned(),
        "old.json".to_owned(),
    ];
    args.extend(entries("."));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let since = pcfg_in(dir.path(), &args);
    assert_eq!(since.code, 0, "{}", since.transcript());
    insta::assert_snapshot!("products-since", since.stdout);
    assert!(
        changes.iter().all(|c| c.starts_with("cayo/")),
        "{changes:#?}"
    );

    // A shared extension's packages: its image once, and what each product publishes with
    // it; no product's image.
    std::fs::write(&cayo, &text).expect("write");
    let base = dir.path().join("base.pcfg");
    let text = std::fs::read_to_string(&base).expect("base.pcfg");
    std::fs::write(
        &base,
        text.replace("\"nix-bin\"", "\"nix-bin\", \"nix-setup-systemd\""),
    )
    .expect("write");
    let after = plan_ids(dir.path(), ENTRIES);
    let mut changes = changed_steps(&before, &after);
    changes.sort();
    let mut expected = vec!["extension:nix".to_owned()];
    expected.extend(PRODUCTS.iter().map(|p| format!("{p}/update:stable")));
    expected.sort();
    assert_eq!(changes, expected);
}

#[test]
fn products_that_cannot_share_are_reported_before_anything_is_built() {
    let dir = copy_example();
    // Two products named `snow`, and one that disagrees with the others on the release, on
    // the ID the shared extensions' release files carry, on the key that signs them, on the
    // pin of a package source, and declares a shared extension differently.
    std::fs::write(
        dir.path().join("twin.pcfg"),
        "import \"snow.pcfg\"\n\nsystem.cmdline += [\"quiet\"]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("frost.pcfg"),
        "import \"base.pcfg\"\n\nsystem.name = \"frost\"\nsystem.release = \"forky\"\nsystem.id = \"frost\"\nextension.tailscale.packages += [\"tailscale-archive-keyring\"]\ntrust.verity.key = \"keys/frost.key\"\ntrust.verity.cert = \"keys/frost.crt\"\npackage-source.backports.priority = 200\n",
    )
    .expect("write");
    let check = pcfg_in(
        dir.path(),
        &[
            "check",
            "--products",
            "snow.pcfg",
            "twin.pcfg",
            "frost.pcfg",
        ],
    );
    assert_eq!(check.code, 1, "{}", check.transcript());
    insta::assert_snapshot!("products-check", check.transcript());
    // `pcfg build` reports the same and writes nothing.
    let out = dir.path().join("out");
    let build = pcfg_in(
        dir.path(),
        &["build", "snow.pcfg", "twin.pcfg", "frost.pcfg", "-o", "out"],
    );
    assert_eq!(build.code, 1, "{}", build.transcript());
    assert_eq!(
        build.stderr,
        check.stderr.rsplit_once("checked").map_or("", |(d, _)| d)
    );
    assert!(!out.exists());
    // Each file alone is a valid system: only together do they conflict.
    for file in ["snow.pcfg", "twin.pcfg", "frost.pcfg"] {
        assert_eq!(pcfg_in(dir.path(), &["check", file]).code, 0, "{file}");
    }
}

#[test]
fn the_set_builds_the_same_from_any_working_directory() {
    let (_first, out) = built();
    let dir = tempfile::tempdir().expect("tempdir");
    let second = dir.path().join("out");
    let mut args = vec!["build".to_owned()];
    args.extend(entries(
        &root().join("examples/multi-product").display().to_string(),
    ));
    args.extend(["-o".to_owned(), second.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = pcfg_in(dir.path(), &args);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let files = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path()
                        .strip_prefix(dir)
                        .expect("below")
                        .display()
                        .to_string(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect()
    };
    let (a, b) = (files(&out), files(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, contents) in &a {
        assert_eq!(Some(contents), b.get(path), "{path}");
    }
}

#[test]
fn each_product_compiles_to_what_the_readme_says() {
    let readme =
        std::fs::read_to_string(root().join("examples/multi-product/README.md")).expect("a README");
    for (product, model) in PRODUCTS.iter().zip(models()) {
        assert_eq!(model.layout.len(), 8, "{product}");
        let worst = model.chain.iter().map(|l| l.state).max().expect("a chain");
        assert_eq!(worst, pcfg::model::LinkState::Encrypted, "{product}");
    }
    assert!(
        readme.contains("8 partitions"),
        "the README states the partition count"
    );
}

/// Issue 19: `pcfg diff git:REV A.pcfg B.pcfg …` compares each product with itself at the
/// revision, then the products as they are built together: a package added to the shared file
/// is in every product's diff and in the shared base, and the build steps that change are the
/// base's, every extension image's and every product's; a product's own change is its own.
#[test]
fn diff_compares_every_product_with_a_revision_and_the_set() {
    let dir = copy_example();
    let dir = dir.path();
    crate::support::git(dir, &["init", "-q"]);
    crate::support::git(dir, &["add", "."]);
    crate::support::git(dir, &["commit", "-q", "-m", "products"]);
    let base = std::fs::read_to_string(dir.join("base.pcfg")).expect("read");
    std::fs::write(
        dir.join("base.pcfg"),
        base.replacen("\"apparmor\",", "\"apparmor\", \"htop\",", 1),
    )
    .expect("write");
    let cayo = std::fs::read_to_string(dir.join("cayo.pcfg")).expect("read");
    std::fs::write(
        dir.join("cayo.pcfg"),
        format!("{cayo}system.cmdline += [\"quiet\"]\n"),
    )
    .expect("write");
    let mut args = vec!["diff", "git:HEAD"];
    args.extend(ENTRIES);
    let diff = pcfg_in(dir, &args);
    assert_eq!(diff.code, 0, "{}", diff.transcript());
    let text = &diff.stdout;
    for product in ["cayo", "snow", "snowfield"] {
        assert!(
            text.contains(&format!("git:HEAD:{product}.pcfg → {product}.pcfg")),
            "{text}"
        );
    }
    assert!(text.contains("+ shared base: htop"), "{text}");
    // Only cayo's own diff has the option; the set's plan rebuilds the base, and only cayo's
    // command line has a new option.
    let (products, together) = text.split_once("built together").expect("the set");
    let (cayo, others) = products
        .split_once("git:HEAD:snow.pcfg")
        .expect("snow's diff");
    assert!(
        cayo.contains("quiet") && !others.contains("quiet"),
        "{products}"
    );
    assert!(together.contains("~ base-tree:"), "{together}");
    assert!(
        together.contains("~ cayo/cmdline: parameter `cmdline` changed"),
        "{together}"
    );
    assert!(
        !together.contains("~ snow/cmdline: parameter `cmdline` changed"),
        "{together}"
    );

    args.splice(1..1, ["--format", "json"]);
    let json = pcfg_in(dir, &args);
    assert_eq!(json.code, 0, "{}", json.transcript());
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(json["products"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        json["together"]["shared-packages"]["added"],
        serde_json::json!(["htop"])
    );
    assert!(json["together"]["plan"]
        .as_array()
        .expect("plan")
        .iter()
        .any(|s| s["step"] == "base-tree" && s["change"] == "changed"));

    // A pair of files is one comparison; several files need a revision.
    let usage = pcfg_in(dir, &["diff", "cayo.pcfg", "snow.pcfg", "snowfield.pcfg"]);
    assert_eq!(usage.code, 2, "{}", usage.transcript());
}
