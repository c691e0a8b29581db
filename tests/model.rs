//! The OS model against the facts: the Discoverable Partitions Specification table against the
//! machine's systemd, ParticleOS's partitions, labels, sizes, policy and filter as its own files
//! have them, and what the remix changes.

use std::path::Path;
use std::process::Command;

use pcfg::model::partition::verity_hash_size;
use pcfg::model::{Arch, Create, LinkState, Model, PartitionType, Role, Slot};

use crate::support::{compile_file, compile_memory, pcfg};

fn model(path: &str) -> Model {
    let compilation = compile_file(Path::new(path));
    assert!(
        compilation.diagnostics.is_empty(),
        "{path}: {:?}",
        compilation.diagnostics
    );
    compilation.model.expect("a model")
}

#[test]
fn partition_types_agree_with_systemd_id128() {
    let output = Command::new("systemd-id128")
        .arg("show")
        .output()
        .expect("systemd-id128 runs");
    let table = String::from_utf8_lossy(&output.stdout);
    let known: std::collections::BTreeMap<&str, String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (name, id) = line.split_once(char::is_whitespace)?;
            let id = id.trim();
            Some((
                name,
                format!(
                    "{}-{}-{}-{}-{}",
                    &id[0..8],
                    &id[8..12],
                    &id[12..16],
                    &id[16..20],
                    &id[20..32]
                ),
            ))
        })
        .collect();
    let types = [
        PartitionType::Esp,
        PartitionType::Xbootldr,
        PartitionType::Root,
        PartitionType::RootVerity,
        PartitionType::RootVeritySig,
        PartitionType::Usr,
        PartitionType::UsrVerity,
        PartitionType::UsrVeritySig,
        PartitionType::Home,
        PartitionType::Srv,
        PartitionType::Var,
        PartitionType::Tmp,
        PartitionType::Swap,
        PartitionType::LinuxGeneric,
    ];
    let mut compared = 0;
    for &arch in Arch::ALL {
        for ty in types {
            let name = ty.full_name(arch);
            let expected = known
                .get(name.as_str())
                .unwrap_or_else(|| panic!("systemd-id128 has no `{name}`"));
            assert_eq!(ty.uuid(arch), expected, "{name}");
            compared += 1;
        }
    }
    assert!(compared >= 8 * 14, "{compared}");
}

#[test]
fn particleos_has_ten_partitions_installed_and_four_in_the_image() {
    let m = model("examples/particleos.pcfg");
    let installed: Vec<(String, Option<String>)> = m
        .layout
        .iter()
        .map(|g| (g.ty.full_name(m.system.arch.value), g.label.text(&m.system)))
        .collect();
    let expected: Vec<(String, Option<String>)> = [
        ("esp", None),
        (
            "usr-x86-64-verity-sig",
            Some("ParticleOS_20260526_verity_sig"),
        ),
        ("usr-x86-64-verity", Some("ParticleOS_20260526_verity")),
        ("usr-x86-64", Some("ParticleOS_20260526")),
        ("usr-x86-64-verity-sig", Some("_empty")),
        ("usr-x86-64-verity", Some("_empty")),
        ("usr-x86-64", Some("_empty")),
        ("swap", Some("ParticleOS-swap")),
        ("root-x86-64", Some("ParticleOS-root")),
        ("home", Some("ParticleOS-home")),
    ]
    .iter()
    .map(|(t, l)| ((*t).to_owned(), l.map(str::to_owned)))
    .collect();
    assert_eq!(installed, expected);
    let image: Vec<String> = m
        .image_partitions()
        .map(|g| g.ty.full_name(m.system.arch.value))
        .collect();
    assert_eq!(
        image,
        [
            "esp",
            "usr-x86-64-verity-sig",
            "usr-x86-64-verity",
            "usr-x86-64"
        ]
    );
}

#[test]
fn particleos_sizes_and_verity_pairing() {
    let m = model("examples/particleos.pcfg");
    let g = |ty: PartitionType, slot: Slot| {
        m.layout
            .iter()
            .find(|g| g.ty == ty && g.slot == slot)
            .expect("partition")
    };
    for slot in [Slot::A, Slot::B] {
        let usr = g(PartitionType::Usr, slot);
        assert_eq!(
            (usr.size_min, usr.size_max, usr.weight),
            (Some(5 << 30), Some(20 << 30), Some(2000))
        );
        let hash = g(PartitionType::UsrVerity, slot);
        assert_eq!(
            (hash.size_min, hash.size_max),
            (Some(400 << 20), Some(400 << 20))
        );
        for ty in [
            PartitionType::Usr,
            PartitionType::UsrVerity,
            PartitionType::UsrVeritySig,
        ] {
            assert_eq!(g(ty, slot).verity_match_key.as_deref(), Some("usr"));
        }
    }
    assert_eq!(g(PartitionType::Usr, Slot::A).create, Create::Image);
    assert_eq!(g(PartitionType::Usr, Slot::B).create, Create::FirstBoot);
    let esp = g(PartitionType::Esp, Slot::Only);
    assert_eq!(
        (esp.size_min, esp.size_max, esp.create),
        (Some(1 << 30), Some(1 << 30), Create::Image)
    );
    let root = g(PartitionType::Root, Slot::Only);
    assert_eq!(
        (root.size_min, root.size_max, root.weight),
        (Some(1 << 30), None, Some(20000))
    );
    assert_eq!(
        m.directories(root).collect::<Vec<_>>(),
        ["/var/log/journal"]
    );
    // Only the partition holding the file system makes them: not its hash or signature.
    for gpt in &m.layout {
        if gpt.role != Role::Data {
            assert_eq!(m.directories(gpt).count(), 0, "{gpt:?}");
        }
    }
    assert!(root.factory_reset);
    assert_eq!(root.encrypt.name(), "tpm2");
    let swap = g(PartitionType::Swap, Slot::Only);
    assert_eq!(
        (swap.size_min, swap.size_max, swap.encrypt.name()),
        (Some(4 << 30), Some(4 << 30), "tpm2")
    );
}

#[test]
fn particleos_image_policy_and_filter_are_particleos_own() {
    let m = model("examples/particleos.pcfg");
    assert_eq!(
        m.cmdline.image_policy.as_deref(),
        Some("esp=unprotected:xbootldr=unprotected+unused+absent:usr=signed:root=encrypted+absent:swap=encrypted+unused+absent:home=unprotected+absent:=ignore")
    );
    assert_eq!(
        m.cmdline.image_filter.as_deref(),
        Some("usr=ParticleOS_*:usr-verity=ParticleOS_*:usr-verity-sig=ParticleOS_*:root=ParticleOS-*:swap=ParticleOS-*:home=ParticleOS-*")
    );
    let options: Vec<&str> = m.cmdline.options.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(
        &options[..4],
        ["root=dissect", "mount.usr=dissect", "rw", "audit=0"]
    );
    // UKI profiles add to the base command line and keep the policy options.
    for profile in &m.profiles {
        let cmdline: Vec<&str> = profile.cmdline.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(
            &cmdline[..options.len()],
            options.as_slice(),
            "{}",
            profile.name
        );
        assert_eq!(cmdline.len(), options.len() + profile.own.value.len());
    }
}

/// Before systemd 258 a signed `/usr` is verified by the root hash on the UKI's command line,
/// not by the policy: the policy leaves it to its default (`usr=signed` made
/// systemd-gpt-auto-generator refuse the whole disk under QEMU, `tests/boot.rs`), and the trust
/// chain says where the hash comes from.
#[test]
fn before_systemd_258_a_verity_usr_is_left_out_of_the_image_policy() {
    let m = model("examples/server/system.pcfg");
    assert_eq!(m.system.systemd.value, 257);
    assert_eq!(
        m.cmdline.image_policy.as_deref(),
        Some("esp=unprotected:xbootldr=unprotected+unused+absent:root=encrypted+absent:srv=encrypted+absent:var=encrypted+absent:=ignore")
    );
    let usr = m
        .chain
        .iter()
        .find(|l| l.name == "/usr")
        .expect("/usr link");
    assert_eq!(usr.state, LinkState::Verified);
    assert!(
        usr.reason.contains("usrhash=") && usr.reason.contains("257"),
        "{}",
        usr.reason
    );
    // Without Secure Boot or a TPM the command line, and with it /usr, is unprotected.
    let source = std::fs::read_to_string("examples/server/system.pcfg").expect("example");
    let bare = source
        .replace("  secure-boot { }\n", "")
        .replace("  tpm2 { }\n", "")
        .replace("  require = verified-boot\n", "");
    let compilation = compile_memory(&[("system.pcfg", bare.as_bytes())]);
    let m = compilation.model.expect("a model");
    let usr = m
        .chain
        .iter()
        .find(|l| l.name == "/usr")
        .expect("/usr link");
    assert_eq!(usr.state, LinkState::Unprotected, "{}", usr.reason);
}

#[test]
fn particleos_updates_one_channel_with_four_transfers() {
    let m = model("examples/particleos.pcfg");
    assert_eq!(m.updates.channels.len(), 1);
    assert_eq!(
        m.updates.transfers.len(),
        4,
        "usr, usr-verity, usr-verity-sig and the UKI"
    );
    assert_eq!(m.updates.tries.value, 3);
}

#[test]
fn remix_b_slot_follows_the_new_size_and_swap_is_gone() {
    let m = model("examples/remix.pcfg");
    for g in m.layout.iter().filter(|g| g.ty == PartitionType::Usr) {
        assert_eq!(g.size_max, Some(30 << 30), "{:?}", g.slot);
    }
    assert!(m.layout.iter().all(|g| g.ty != PartitionType::Swap));
    let policy = m.cmdline.image_policy.as_deref().expect("policy");
    assert!(!policy.contains("swap="), "{policy}");
    let filter = m.cmdline.image_filter.as_deref().expect("filter");
    assert!(
        filter.starts_with("usr=AtomOS_*") && !filter.contains("swap="),
        "{filter}"
    );
    assert_eq!(m.layout.len(), 9);
    // The derived verity size still covers the larger /usr: 400M covers about 50G.
    assert!(verity_hash_size(30 << 30) <= 400 << 20);
}

#[test]
fn remix_extensions_in_dependency_order_with_release_fields() {
    let m = model("examples/remix.pcfg");
    let order = pcfg::model::extension::dependency_order(&m.extensions).expect("no cycle");
    let names: Vec<&str> = order
        .iter()
        .map(|&i| m.extensions[i].name.as_str())
        .collect();
    let position = |n: &str| names.iter().position(|x| *x == n).expect("present");
    assert!(
        position("toolchain-libs") < position("devtools"),
        "{names:?}"
    );
    let devtools = m
        .extensions
        .iter()
        .find(|e| e.name == "devtools")
        .expect("devtools");
    assert!(
        devtools.signed.value,
        "signed by default where trust.verity exists"
    );
    assert_eq!(
        devtools.release(&m.system),
        [
            ("ID", "atomos".to_owned()),
            ("VERSION_ID", "20260526".to_owned()),
            ("ARCHITECTURE", "x86-64".to_owned()),
            // Its own version: the system's, as it declares none.
            ("SYSEXT_VERSION_ID", "20260526".to_owned()),
        ]
    );
    let firefox = m
        .extensions
        .iter()
        .find(|e| e.name == "firefox")
        .expect("firefox");
    assert!(firefox.release(&m.system).is_empty());
}

#[test]
fn verity_hash_size_is_about_one_127th() {
    assert_eq!(verity_hash_size(20 << 30), 162 << 20);
    // ParticleOS's 400M covers about 50G.
    assert!(verity_hash_size(49 << 30) <= 400 << 20);
    assert!(verity_hash_size(51 << 30) > 400 << 20);
    let exact = verity_hash_size(1 << 30);
    assert_eq!(exact % (1 << 20), 0);
}

#[test]
fn trust_chain_of_particleos_is_verified_or_encrypted() {
    let m = model("examples/particleos.pcfg");
    let links: Vec<(&str, LinkState)> =
        m.chain.iter().map(|l| (l.name.as_str(), l.state)).collect();
    assert_eq!(
        links,
        [
            ("boot loader", LinkState::Verified),
            ("UKI", LinkState::Verified),
            ("command line", LinkState::Verified),
            ("/usr", LinkState::Verified),
            ("root", LinkState::Encrypted),
            ("swap", LinkState::Encrypted),
            ("home", LinkState::Encrypted),
            ("updates", LinkState::Verified),
        ]
    );
    assert!(
        m.chain.iter().all(|l| l.at.is_some()),
        "every link names its declaration"
    );
}

#[test]
fn trust_chain_of_minimal_shows_what_is_unprotected() {
    let m = model("examples/minimal.pcfg");
    assert!(m.chain.iter().all(|l| l.state == LinkState::Unprotected));
    let run = pcfg(&["trust", "examples/minimal.pcfg"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn trust_command_on_particleos() {
    let run = pcfg(&["trust", "examples/particleos.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    let json = pcfg(&["trust", "--format", "json", "examples/particleos.pcfg"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(value["version"], 1);
    assert_eq!(value["require"], "verified-boot");
    assert_eq!(value["chain"][3]["link"], "/usr");
    assert_eq!(value["chain"][3]["declared"]["line"], 31);
}

#[test]
fn versioned_root_without_usr_gets_root_verity_partitions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("system.pcfg");
    std::fs::write(
        &path,
        "system { name = \"rooty\", version = \"1\", arch = arm64 }\npartition root { type = root, size-max = 4G, verity = signed, format = erofs }\ntrust { verity { key = \"k\", cert = \"c\" } }\n",
    )
    .expect("write");
    let compilation = compile_file(&path);
    assert!(
        compilation.diagnostics.is_empty(),
        "{:?}",
        compilation.diagnostics
    );
    let m = compilation.model.expect("model");
    let types: Vec<String> = m
        .layout
        .iter()
        .map(|g| g.ty.full_name(m.system.arch.value))
        .collect();
    assert_eq!(
        types,
        ["root-arm64-verity-sig", "root-arm64-verity", "root-arm64"]
    );
    assert!(m
        .layout
        .iter()
        .all(|g| g.slot == Slot::Only && g.create == Create::Image));
    assert_eq!(m.layout.iter().filter(|g| g.role == Role::Data).count(), 1);
    assert_eq!(
        m.chain.iter().find(|l| l.name == "/").map(|l| l.state),
        Some(LinkState::Verified)
    );
}

/// `pcfg check`, `build` and `plan` compile with `check_with`, which lets each file's syntax
/// tree go as it loads and takes the resolved tree apart as it lowers; `why`, `eval` and the
/// language server compile with `check`, which keeps both. The two must make one model and one
/// set of diagnostics, on every example and on files with errors of each phase (a syntax error
/// in an import, a wrong block header, a schema error).
#[test]
fn compiling_without_the_trees_gives_the_same_model_and_diagnostics() {
    use pcfg::compile::{check, check_with, Compilation};
    use pcfg::vfs::{MemoryFs, RealFs, Vfs};

    fn compare(vfs: &dyn Vfs, entry: &Path) -> Compilation {
        let kept = check(vfs, entry).expect("readable");
        let dropped = check_with(vfs, entry, &pcfg::analysis::Quiet).expect("readable");
        let shown = entry.display();
        assert_eq!(kept.diagnostics, dropped.diagnostics, "{shown}");
        assert_eq!(
            format!("{:?}", kept.model),
            format!("{:?}", dropped.model),
            "{shown}"
        );
        if let (Some(kept_tree), Some(dropped_tree)) = (&kept.resolved, &dropped.resolved) {
            let items = |tree: &pcfg::resolve::Resolved| -> Vec<usize> {
                tree.layers
                    .layers
                    .iter()
                    .map(|l| l.ast.items.len())
                    .collect()
            };
            assert!(items(kept_tree).iter().all(|&n| n > 0), "{shown}");
            assert!(items(dropped_tree).iter().all(|&n| n == 0), "{shown}");
            assert!(!kept_tree.root.entries.is_empty(), "{shown}");
            if dropped.model.is_some() {
                assert!(
                    dropped_tree.root.entries.is_empty(),
                    "{shown}: lowered, not emptied"
                );
            }
        }
        kept
    }

    let examples = [
        "examples/minimal.pcfg",
        "examples/particleos.pcfg",
        "examples/remix.pcfg",
        "examples/arm64-board/system.pcfg",
        "examples/atomos/system.pcfg",
        "examples/no-secure-boot/system.pcfg",
        "examples/particleos-desktop/system.pcfg",
        "examples/server/system.pcfg",
        "examples/multi-product/cayo.pcfg",
        "examples/multi-product/snow.pcfg",
        "examples/multi-product/snowfield.pcfg",
    ];
    for example in examples {
        let compilation = compare(&RealFs, Path::new(example));
        assert!(compilation.model.is_some(), "{example}");
    }

    let base = "partition esp { type = esp, size = 1G }\n";
    let cases: [(&str, &[(&str, &str)]); 3] = [
        // A syntax error in an import: the entry is not whole, nothing is merged.
        (
            "syntax error in an import",
            &[
                (
                    "system.pcfg",
                    "import \"a.pcfg\"\nimport \"b.pcfg\"\nsystem { name = \"s\" }\n",
                ),
                ("a.pcfg", base),
                ("b.pcfg", "partition usr { type = usr\n"),
            ],
        ),
        (
            "wrong block header",
            &[(
                "system.pcfg",
                "system { name = \"s\" }\npartition { type = esp }\n",
            )],
        ),
        (
            "schema error",
            &[("system.pcfg", "system { name = \"s\", colour = blue }\n")],
        ),
    ];
    for (what, files) in cases {
        let mut fs = MemoryFs::new();
        for (path, text) in files {
            fs.insert(path, text.as_bytes().to_vec());
        }
        let compilation = compare(&fs, Path::new("system.pcfg"));
        assert!(
            compilation.has_errors(),
            "{what}: {:?}",
            compilation.diagnostics
        );
    }
}
