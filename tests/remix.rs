//! The remix semantics, case by case, on in-memory trees.

use pcfg::resolve::{Block, Leaf, Node, Overridden};
use pcfg::syntax::ast::{Item, ValueKind};

use crate::support::{codes, compile_memory};

/// The resolved leaf at the dotted `path`.
fn leaf<'r>(root: &'r Block, path: &[&str]) -> &'r Leaf {
    match root.get(path).map(|e| &e.node) {
        Some(Node::Leaf(leaf)) => leaf,
        other => panic!("no leaf at {path:?}: {other:?}"),
    }
}

/// The resolved value at `path` in pcfg syntax.
fn value(files: &[(&str, &[u8])], path: &str) -> String {
    let compilation = compile_memory(files);
    assert!(
        compilation.diagnostics.is_empty(),
        "{:?}",
        codes(&compilation)
    );
    let resolved = compilation.resolved.expect("resolved");
    let path: Vec<&str> = path.split('.').collect();
    match resolved.root.get(&path).map(|e| &e.node) {
        Some(Node::Leaf(leaf)) => leaf.value.kind.to_string(),
        Some(Node::Block(_)) => "<block>".to_owned(),
        None => "<absent>".to_owned(),
    }
}

const BASE: &[u8] = b"system { name = \"base\", cmdline = [\"rw\", \"quiet\"] }
partition usr { type = usr, size = 4G, weight = 2000 }
partition swap { type = swap, size = 1G }
";

#[test]
fn higher_layer_wins_field_by_field() {
    let files: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"base.pcfg\"\npartition usr { size = 6G }\n",
        ),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "partition.usr.size"), "6G");
    assert_eq!(value(files, "partition.usr.weight"), "2000");
    assert_eq!(value(files, "partition.usr.type"), "usr");
}

#[test]
fn dotted_assignment_is_the_block_form() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"base.pcfg\"\npartition.usr.size = 6G\n"),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "partition.usr.size"), "6G");
}

#[test]
fn list_append_and_subtract() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"base.pcfg\"\nsystem.cmdline += [\"splash\"]\nsystem.cmdline -= [\"quiet\"]\n"),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "system.cmdline"), "[\"rw\", \"splash\"]");
}

#[test]
fn the_winner_keeps_the_value_it_set_under_list_operations() {
    // The leaf's value is the list after the operations; the winning `=` is reported with the
    // list it wrote (eval's and why's `set`), not the result.
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"base.pcfg\"\nsystem.cmdline += [\"splash\"]\nsystem.cmdline -= [\"quiet\"]\n"),
        ("base.pcfg", BASE),
    ];
    let compilation = compile_memory(files);
    let resolved = compilation.resolved.expect("resolved");
    let leaf = leaf(&resolved.root, &["system", "cmdline"]);
    let winner = leaf.winner().expect("a winner");
    assert_eq!(compilation.sources.name(winner.span.file), "base.pcfg");
    let text = |kind: &ValueKind| kind.to_string();
    assert_eq!(text(&leaf.value.kind), "[\"rw\", \"splash\"]");
    assert_ne!(text(&winner.value.kind), text(&leaf.value.kind));
    assert!(
        text(&winner.value.kind).contains("quiet"),
        "{:?}",
        winner.value.kind
    );
    assert_eq!(leaf.provenance.applied().len(), 2);
    // A value set once is its winner's, and has no history.
    let name = self::leaf(&resolved.root, &["system", "name"]);
    let set = name.winner().expect("a winner");
    assert_eq!(set.value, name.value);
    assert!(name.provenance.applied().is_empty() && name.provenance.overridden().is_empty());
    // Its name is where the winning item starts.
    let key = resolved
        .root
        .get(&["system", "name"])
        .map(pcfg::resolve::Entry::key_span)
        .expect("an entry");
    let start = set.span.start as usize;
    assert_eq!(
        key,
        pcfg::source::Span::new(set.span.file, start, start + "name".len())
    );
}

#[test]
fn set_in_higher_layer_discards_lower_appends() {
    let files: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"mid.pcfg\"\nsystem.cmdline = [\"ro\"]\n",
        ),
        (
            "mid.pcfg",
            b"import \"base.pcfg\"\nsystem.cmdline += [\"splash\"]\n",
        ),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "system.cmdline"), "[\"ro\"]");
}

#[test]
fn remove_discards_lower_layers_only() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"base.pcfg\"\nremove partition.swap\n"),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "partition.swap"), "<absent>");
    let redefined: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"base.pcfg\"\nremove partition.swap\npartition swap { type = swap, size = 2G }\n"),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(redefined, "partition.swap.size"), "2G");
}

#[test]
fn default_yields_to_any_plain_definition() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"lib.pcfg\"\nimport \"base.pcfg\"\n"),
        ("lib.pcfg", b"partition usr { size = default 8G }\n"),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "partition.usr.size"), "4G");
}

#[test]
fn diamond_imports_load_once() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"a.pcfg\"\nimport \"b.pcfg\"\n"),
        ("a.pcfg", b"import \"base.pcfg\"\n"),
        ("b.pcfg", b"import \"base.pcfg\"\n"),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "partition.usr.size"), "4G");
    let compilation = compile_memory(files);
    assert_eq!(
        compilation.resolved.expect("resolved").layers.layers.len(),
        4
    );
}

#[test]
fn siblings_agreeing_are_not_a_conflict() {
    let files: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"a.pcfg\"\nimport \"b.pcfg\"\nsystem.name = \"s\"\n",
        ),
        ("a.pcfg", b"partition usr { type = usr, size = 4G }\n"),
        ("b.pcfg", b"partition usr { type = usr, size = 4G }\n"),
    ];
    assert_eq!(value(files, "partition.usr.size"), "4G");
}

/// A file is one layer however it is reached (issue 15, item 4): by a hard link, by a symbolic
/// link, or by its own name; and a relative import inside a file reached through a link
/// resolves against the file's real directory.
#[test]
fn a_file_imported_under_two_names_is_loaded_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("real")).expect("mkdir");
    std::fs::create_dir_all(root.join("other")).expect("mkdir");
    std::fs::write(root.join("real/base.pcfg"), "system.cmdline += [\"x\"]\n").expect("write");
    std::fs::write(root.join("real/mid.pcfg"), "import \"base.pcfg\"\n").expect("write");
    std::fs::hard_link(root.join("real/base.pcfg"), root.join("hard.pcfg")).expect("link");
    std::os::unix::fs::symlink("real/base.pcfg", root.join("sym.pcfg")).expect("symlink");
    std::os::unix::fs::symlink("../real/mid.pcfg", root.join("other/mid.pcfg")).expect("symlink");
    std::fs::write(
        root.join("system.pcfg"),
        "import \"real/base.pcfg\"\nimport \"hard.pcfg\"\nimport \"sym.pcfg\"\nimport \"other/mid.pcfg\"\nsystem { name = \"x\" }\n",
    )
    .expect("write");
    let compilation = crate::support::compile_file(&root.join("system.pcfg"));
    assert!(codes(&compilation).is_empty(), "{:?}", codes(&compilation));
    let model = compilation.model.expect("a model");
    let cmdline: Vec<&str> = model
        .system
        .cmdline
        .value
        .iter()
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(cmdline, ["x"]);
    // base, mid and the entry file.
    assert_eq!(
        compilation.resolved.expect("resolved").layers.layers.len(),
        3
    );
}

/// Resizing is one line (issue 15): a higher layer's exact `size` supersedes the bounds of the
/// layers below, and a higher layer's bounds supersede a `size` below; within one layer a
/// contradiction is still an error.
#[test]
fn a_higher_layer_decides_a_partition_size() {
    let over_bounds: &[(&str, &[u8])] = &[(
        "s.pcfg",
        b"import \"std/particleos\"\npartition usr { size = 6G }\n",
    )];
    let compilation = compile_memory(over_bounds);
    assert!(codes(&compilation).is_empty(), "{:?}", codes(&compilation));
    let model = compilation.model.expect("a model");
    let usr = model
        .partitions
        .iter()
        .find(|p| p.name == "usr")
        .expect("usr");
    assert_eq!(usr.size.value, Some(6 << 30));
    assert_eq!(usr.size_max.value, None);
    let resolved = compilation.resolved.expect("resolved");
    assert!(resolved
        .removals
        .iter()
        .any(|r| r.superseded && r.path == ["partition", "usr", "size-max"]));

    let over_size: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"base.pcfg\"\npartition.usr.size-max = 16G\n",
        ),
        (
            "base.pcfg",
            b"system.name = \"s\"\npartition usr { type = usr, size = 4G }\n",
        ),
    ];
    let compilation = compile_memory(over_size);
    assert!(codes(&compilation).is_empty(), "{:?}", codes(&compilation));
    let usr = compilation
        .model
        .expect("a model")
        .partitions
        .into_iter()
        .find(|p| p.name == "usr")
        .expect("usr");
    assert_eq!((usr.size.value, usr.size_max.value), (None, Some(16 << 30)));

    let one_layer: &[(&str, &[u8])] = &[(
        "s.pcfg",
        b"system.name = \"s\"\npartition usr { type = usr, size = 8G, size-max = 4G }\n",
    )];
    assert!(!codes(&compile_memory(one_layer)).is_empty());
}

/// Sibling list operations commute or conflict (issue 15): one sibling adding an item that the
/// other removes is a conflict in either import order; a higher layer's `=` decides it.
#[test]
fn sibling_list_operations_on_one_item_conflict() {
    let base: &[u8] = b"system { name = \"x\", cmdline = [\"a\"] }\n";
    let add: &[u8] = b"import \"base.pcfg\"\nsystem.cmdline += [\"c\"]\n";
    let del: &[u8] = b"import \"base.pcfg\"\nsystem.cmdline -= [\"c\"]\n";
    for entry in [
        "import \"add.pcfg\"\nimport \"del.pcfg\"\n",
        "import \"del.pcfg\"\nimport \"add.pcfg\"\n",
    ] {
        let files: &[(&str, &[u8])] = &[
            ("s.pcfg", entry.as_bytes()),
            ("base.pcfg", base),
            ("add.pcfg", add),
            ("del.pcfg", del),
        ];
        assert!(
            codes(&compile_memory(files)).contains(&"pcfg::conflicting-definitions".to_owned()),
            "{entry}"
        );
    }
    let decided: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"add.pcfg\"\nimport \"del.pcfg\"\nsystem.cmdline = [\"a\", \"c\"]\n",
        ),
        ("base.pcfg", base),
        ("add.pcfg", add),
        ("del.pcfg", del),
    ];
    assert!(codes(&compile_memory(decided)).is_empty());
}

/// Siblings agree when their values mean the same, however written (issue 15, item 5): a size
/// in another unit or in bytes, an integer in hexadecimal. A different size still conflicts.
#[test]
fn siblings_agree_on_typed_values() {
    for (a, b) in [
        ("size = 4G", "size = 4294967296"),
        ("size = 4G", "size = 4096M"),
        ("weight = 16", "weight = 0x10"),
    ] {
        let a_file = format!("partition usr {{ type = usr, {a} }}\n");
        let b_file = format!("partition usr {{ type = usr, {b} }}\n");
        let files: &[(&str, &[u8])] = &[
            (
                "s.pcfg",
                b"import \"a.pcfg\"\nimport \"b.pcfg\"\nsystem.name = \"s\"\n",
            ),
            ("a.pcfg", a_file.as_bytes()),
            ("b.pcfg", b_file.as_bytes()),
        ];
        let compilation = compile_memory(files);
        assert!(
            codes(&compilation).is_empty(),
            "{a} / {b}: {:?}",
            codes(&compilation)
        );
    }
    let files: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"a.pcfg\"\nimport \"b.pcfg\"\nsystem.name = \"s\"\n",
        ),
        ("a.pcfg", b"partition usr { type = usr, size = 4G }\n"),
        (
            "b.pcfg",
            b"partition usr { type = usr, size = 4294967297 }\n",
        ),
    ];
    assert_eq!(
        codes(&compile_memory(files)),
        ["pcfg::conflicting-definitions"]
    );
}

#[test]
fn a_higher_layer_decides_a_sibling_conflict() {
    let conflicting: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"a.pcfg\"\nimport \"b.pcfg\"\nsystem.name = \"s\"\n",
        ),
        ("a.pcfg", b"partition usr { type = usr, size = 4G }\n"),
        ("b.pcfg", b"partition usr { type = usr, size = 8G }\n"),
    ];
    assert_eq!(
        codes(&compile_memory(conflicting)),
        ["pcfg::conflicting-definitions"]
    );
    let decided: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"a.pcfg\"\nimport \"b.pcfg\"\nsystem.name = \"s\"\npartition.usr.size = 6G\n",
        ),
        ("a.pcfg", b"partition usr { type = usr, size = 4G }\n"),
        ("b.pcfg", b"partition usr { type = usr, size = 8G }\n"),
    ];
    assert_eq!(value(decided, "partition.usr.size"), "6G");
}

#[test]
fn sibling_appends_combine_in_import_order() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"a.pcfg\"\nimport \"b.pcfg\"\n"),
        (
            "a.pcfg",
            b"import \"base.pcfg\"\nsystem.cmdline += [\"a\"]\n",
        ),
        (
            "b.pcfg",
            b"import \"base.pcfg\"\nsystem.cmdline += [\"b\"]\n",
        ),
        ("base.pcfg", BASE),
    ];
    assert_eq!(
        value(files, "system.cmdline"),
        "[\"rw\", \"quiet\", \"a\", \"b\"]"
    );
}

#[test]
fn provenance_records_winner_and_every_overridden_definition() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"mid.pcfg\"\npartition.usr.size = 8G\n"),
        (
            "mid.pcfg",
            b"import \"base.pcfg\"\npartition.usr.size = 6G\n",
        ),
        ("base.pcfg", BASE),
    ];
    let compilation = compile_memory(files);
    let resolved = compilation.resolved.expect("resolved");
    let leaf = leaf(&resolved.root, &["partition", "usr", "size"]);
    let winner = leaf.winner().expect("a winner");
    assert_eq!(compilation.sources.name(winner.span.file), "s.pcfg");
    assert_eq!(compilation.sources.line_col(winner.span).line, 2);
    let lost: Vec<(&str, ValueKind, &Overridden)> = leaf
        .provenance
        .overridden()
        .iter()
        .map(|(s, why)| {
            (
                compilation.sources.name(s.span.file),
                s.value.kind.clone(),
                why,
            )
        })
        .collect();
    assert_eq!(
        lost,
        [
            (
                "base.pcfg",
                ValueKind::Size(4 << 30),
                &Overridden::ByHigherLayer
            ),
            (
                "mid.pcfg",
                ValueKind::Size(6 << 30),
                &Overridden::ByHigherLayer
            ),
        ]
    );
    // The import chain of the base: s.pcfg imports mid.pcfg, which imports base.pcfg.
    let base_layer = &resolved.layers.layers[0];
    assert!(base_layer.imported_at.is_some());
    assert_eq!(resolved.layers.chain(0).len(), 2);
}

#[test]
fn removal_shows_in_provenance_of_a_redefined_value() {
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"base.pcfg\"\nremove partition.swap\npartition swap { type = swap, size = 2G }\n"),
        ("base.pcfg", BASE),
    ];
    let compilation = compile_memory(files);
    let resolved = compilation.resolved.expect("resolved");
    let leaf = leaf(&resolved.root, &["partition", "swap", "size"]);
    assert!(matches!(
        leaf.provenance.overridden(),
        [(_, Overridden::Removed { .. })]
    ));
}

#[test]
fn std_modules_import_from_anywhere() {
    let files: &[(&str, &[u8])] = &[(
        "deep/dir/s.pcfg",
        b"import \"std/particleos\"\nsystem.name = \"Mine\"\nupdate.channel.obs.source = \"https://updates.example.org/mine/\"\n",
    )];
    assert_eq!(value(files, "system.name"), "\"Mine\"");
    assert_eq!(value(files, "partition.usr.size-max"), "20G");
}

#[test]
fn list_operations_start_from_the_schema_default() {
    let files: &[(&str, &[u8])] = &[(
        "s.pcfg",
        b"system { name = \"base\" }\ntrust.tpm2.signed-policy = false\ntrust.tpm2.pcrs += [11]\nsystem.cmdline += [\"quiet\"]\n",
    )];
    // `pcrs` defaults to `[7]`: appending keeps 7.
    assert_eq!(value(files, "trust.tpm2.pcrs"), "[7, 11]");
    assert_eq!(value(files, "system.cmdline"), "[\"quiet\"]");
    let files: &[(&str, &[u8])] = &[(
        "s.pcfg",
        b"system { name = \"base\" }\ntrust.tpm2.signed-policy = false\ntrust.tpm2.pcrs -= [7]\n",
    )];
    assert_eq!(value(files, "trust.tpm2.pcrs"), "[]");
}

/// Inside one file, `+=` and `-=` apply on top of the file's `=` whichever is written first
/// (issue 15, item 1): no duplicate definition, no spurious missing item.
#[test]
fn list_operations_before_the_set_in_one_file() {
    let files: &[(&str, &[u8])] = &[(
        "s.pcfg",
        b"system.cmdline += [\"splash\"]\nsystem.cmdline -= [\"quiet\"]\nsystem { name = \"x\", cmdline = [\"rw\", \"quiet\"] }\n",
    )];
    assert_eq!(value(files, "system.cmdline"), "[\"rw\", \"splash\"]");
    let files: &[(&str, &[u8])] = &[(
        "s.pcfg",
        b"system { name = \"x\", cmdline = [\"rw\", \"quiet\"] }\nsystem.cmdline += [\"splash\"]\nsystem.cmdline -= [\"quiet\"]\n",
    )];
    assert_eq!(value(files, "system.cmdline"), "[\"rw\", \"splash\"]");
    // Two `=` stay a duplicate.
    let compilation = compile_memory(&[(
        "s.pcfg",
        b"system { name = \"x\" }\nsystem.cmdline = [\"a\"]\nsystem.cmdline += [\"b\"]\nsystem.cmdline = [\"c\"]\n",
    )]);
    assert_eq!(codes(&compilation), ["pcfg::duplicate-definition"]);
}

/// Two siblings that both remove the same thing from their shared base: both removals hold,
/// neither is `remove-undefined` (issue 15, item 3).
#[test]
fn siblings_may_remove_the_same_thing() {
    let files: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"a.pcfg\"\nimport \"b.pcfg\"\nsystem.name = \"both\"\n",
        ),
        ("a.pcfg", b"import \"base.pcfg\"\nremove partition.swap\n"),
        ("b.pcfg", b"import \"base.pcfg\"\nremove partition.swap\n"),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(files, "partition.swap"), "<absent>");
    assert_eq!(value(files, "partition.usr.size"), "4G");
}

/// Removing again what a lower layer removed discards nothing: `remove-undefined`.
#[test]
fn removing_what_a_lower_layer_removed_is_undefined() {
    let compilation = compile_memory(&[
        (
            "s.pcfg",
            b"import \"a.pcfg\"\nremove partition.swap\nsystem.name = \"x\"\n",
        ),
        ("a.pcfg", b"import \"base.pcfg\"\nremove partition.swap\n"),
        ("base.pcfg", BASE),
    ]);
    assert_eq!(codes(&compilation), ["pcfg::remove-undefined"]);
}

/// A sibling's `remove` of what the shared base defines, while another sibling still defines
/// something there (a partial re-definition relying on the base): a conflict named at both
/// places, in either import order, not a `missing-field` far away alone. A file importing both
/// decides by removing the path itself (issue 15).
#[test]
fn a_sibling_remove_and_a_sibling_definition_conflict() {
    let remover: &[u8] = b"import \"base.pcfg\"\nremove partition.swap\n";
    let definer: &[u8] = b"import \"base.pcfg\"\npartition.swap.size = 8G\n";
    for entry in [
        "import \"a.pcfg\"\nimport \"b.pcfg\"\n",
        "import \"b.pcfg\"\nimport \"a.pcfg\"\n",
    ] {
        let files: &[(&str, &[u8])] = &[
            ("s.pcfg", entry.as_bytes()),
            ("a.pcfg", remover),
            ("b.pcfg", definer),
            ("base.pcfg", BASE),
        ];
        let compilation = compile_memory(files);
        let conflict = compilation
            .diagnostics
            .iter()
            .find(|d| d.code.to_string() == "pcfg::conflicting-definitions")
            .unwrap_or_else(|| panic!("{entry}: {:?}", codes(&compilation)));
        let files: Vec<&str> = std::iter::once(&conflict.primary)
            .chain(&conflict.labels)
            .map(|l| compilation.sources.name(l.span.file))
            .collect();
        assert_eq!(files, ["a.pcfg", "b.pcfg"], "{entry}");
    }
    let decided: &[(&str, &[u8])] = &[
        (
            "s.pcfg",
            b"import \"a.pcfg\"\nimport \"b.pcfg\"\nremove partition.swap\n",
        ),
        ("a.pcfg", remover),
        ("b.pcfg", definer),
        ("base.pcfg", BASE),
    ];
    assert_eq!(value(decided, "partition.swap"), "<absent>");
}

/// The order of `import` lines never matters (issue 15): imports load in the order of their
/// paths, so siblings' appends and new entries come out the same whichever line is first.
#[test]
fn the_order_of_import_lines_does_not_matter() {
    let a: &[u8] = b"import \"base.pcfg\"\nsystem.cmdline += [\"a\"]\npartition srv { type = srv, size-min = 1G }\nuki-profile a { title = \"A\" }\n";
    let b: &[u8] = b"import \"base.pcfg\"\nsystem.cmdline += [\"b\"]\npartition data { type = linux-generic, size-min = 1G }\nuki-profile b { title = \"B\" }\n";
    let eval = |entry: &str| {
        let files: &[(&str, &[u8])] = &[
            ("s.pcfg", entry.as_bytes()),
            ("z/a.pcfg", a),
            ("b.pcfg", b),
            ("z/base.pcfg", BASE),
            ("base.pcfg", BASE),
        ];
        let compilation = compile_memory(files);
        assert!(codes(&compilation).is_empty(), "{:?}", codes(&compilation));
        let model = compilation.model.expect("a model");
        let partitions: Vec<String> = model.partitions.iter().map(|p| p.name.clone()).collect();
        let profiles: Vec<String> = model.profiles.iter().map(|p| p.name.clone()).collect();
        let cmdline: Vec<String> = model
            .system
            .cmdline
            .value
            .iter()
            .map(|c| c.value.clone())
            .collect();
        (cmdline, partitions, profiles)
    };
    let one = eval("import \"z/a.pcfg\"\nimport \"b.pcfg\"\nsystem.name = \"s\"\n");
    let other = eval("import \"b.pcfg\"\nimport \"z/a.pcfg\"\nsystem.name = \"s\"\n");
    assert_eq!(one, other);
    // `b.pcfg` sorts before `z/a.pcfg`.
    assert_eq!(one.0, ["rw", "quiet", "b", "a"]);
    assert_eq!(one.2, ["b", "a"]);
}

/// Partitions are laid out as boot partitions, then A/B partitions, then state partitions;
/// within each group in declaration order (issue 15): a state partition written first still
/// comes after the ESP and `/usr`.
#[test]
fn partitions_are_laid_out_by_group_then_declaration() {
    let files: &[(&str, &[u8])] = &[(
        "s.pcfg",
        b"system { name = \"s\", version = \"1\" }
partition home { type = home, size-min = 1G }
partition swap { type = swap, size = 1G }
partition usr { type = usr, size = 4G, slots = 2, format = erofs }
partition esp { type = esp, size = 1G }
",
    )];
    let compilation = compile_memory(files);
    let model = compilation.model.expect("a model");
    let names: Vec<&str> = model.partitions.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["esp", "usr", "home", "swap"]);
}

#[test]
fn values_moved_out_of_dropped_syntax_trees_resolve_as_copied_ones() {
    // `check` keeps each file's syntax tree (a language server asks about it), so the values
    // are copied into the definitions; the commands that go on from the model let each tree go
    // and move its values instead. Both must decide the same values, with the same history,
    // and a kept tree must still hold what was written.
    let files: &[(&str, &[u8])] = &[
        ("s.pcfg", b"import \"base.pcfg\"\nimport \"side.pcfg\"\nsystem.cmdline += [\"splash\"]\nsystem.cmdline -= [\"quiet\"]\npartition usr { size = 6G }\nremove partition.swap\nsystem.version = \"4\"\n"),
        ("side.pcfg", b"import \"base.pcfg\"\nsystem { version = default \"3\" }\n"),
        ("base.pcfg", BASE),
    ];
    let mut fs = pcfg::vfs::MemoryFs::new();
    for (path, text) in files {
        fs.insert(path, text.to_vec());
    }
    let entry = std::path::Path::new("s.pcfg");
    let kept = pcfg::compile::check(&fs, entry).expect("the entry file exists");
    let dropped = pcfg::compile::check_with(&fs, entry, &pcfg::analysis::Quiet)
        .expect("the entry file exists");
    assert!(!kept.has_errors(), "{:?}", codes(&kept));
    assert_eq!(
        format!("{:?}", kept.diagnostics),
        format!("{:?}", dropped.diagnostics)
    );
    assert_eq!(
        format!("{:?}", kept.model.expect("a model")),
        format!("{:?}", dropped.model.expect("a model"))
    );
    // The kept trees are as the files parse: no value was taken out of them.
    let resolved = kept.resolved.expect("resolved");
    for layer in &resolved.layers.layers {
        let text = kept.sources.get(layer.file).text();
        let parsed = pcfg::syntax::parse(layer.file, text).expect("parses");
        assert_eq!(*layer.ast, parsed, "{}", kept.sources.name(layer.file));
        assert!(layer
            .ast
            .items
            .iter()
            .any(|i| matches!(i, Item::Assign(_) | Item::Block(_))));
    }
    // The dropped ones are let go of.
    let dropped = dropped.resolved.expect("resolved");
    assert!(dropped.layers.layers.iter().all(|l| l.ast.items.is_empty()));
    // The history is whole in the kept compile: the winner's list and both operations.
    let cmdline = leaf(&resolved.root, &["system", "cmdline"]);
    assert_eq!(cmdline.value.kind.to_string(), "[\"rw\", \"splash\"]");
    assert_eq!(cmdline.provenance.applied().len(), 2);
    let version = leaf(&resolved.root, &["system", "version"]);
    assert_eq!(version.value.kind.to_string(), "\"4\"");
    let lost: Vec<String> = version
        .provenance
        .overridden()
        .iter()
        .map(|(site, _)| site.value.kind.to_string())
        .collect();
    assert_eq!(lost, ["\"3\""]);
}
