//! The catalogue and the code agree: every code has a page with the four sections, every page
//! has a code, every code is exercised by an error case, and the book chapter is generated.

use std::collections::BTreeSet;
use std::path::Path;

use pcfg::diag::codes::catalogue_markdown;
use pcfg::diag::Code;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_code_has_a_complete_page() {
    for code in Code::ALL {
        let doc = code.doc();
        assert!(doc.starts_with(&format!("# {code}\n")), "{code}: title");
        for section in ["## What it checks", "## Why", "## Example", "## Fix"] {
            assert!(doc.contains(section), "{code}: missing `{section}`");
        }
    }
}

#[test]
fn every_page_has_a_code() {
    let pages: BTreeSet<String> = std::fs::read_dir(root().join("lang/diagnostics"))
        .expect("lang/diagnostics")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".md")
                .to_owned()
        })
        .collect();
    let codes: BTreeSet<String> = Code::ALL.iter().map(|c| c.name().to_owned()).collect();
    assert_eq!(pages, codes);
}

#[test]
fn every_code_is_exercised_by_an_error_case() {
    let mut seen = String::new();
    for entry in std::fs::read_dir(root().join("tests/snapshots")).expect("snapshots") {
        seen.push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("snapshot"));
    }
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(&format!("{c}")))
        .map(ToString::to_string)
        .collect();
    assert!(
        missing.is_empty(),
        "codes without an error case: {missing:?}"
    );
}

#[test]
fn book_chapter_is_generated_from_the_catalogue() {
    let path = root().join("book/src/diagnostics.md");
    let expected = catalogue_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write the chapter");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "book/src/diagnostics.md is stale: run `UPDATE_DOCS=1 cargo test catalogue`"
    );
}

#[test]
fn grammar_lists_every_keyword() {
    let grammar = std::fs::read_to_string(root().join("lang/GRAMMAR.md")).expect("GRAMMAR.md");
    for keyword in pcfg::syntax::KEYWORDS {
        assert!(
            grammar.contains(&format!("| `{keyword}` |")),
            "GRAMMAR.md does not list `{keyword}`"
        );
    }
}

/// Every catalogue page's example fails with the page's code. An example without a `system`
/// block or an `import` is compiled on top of `system { name = "example", version = "1" }`.
/// Examples marked `pcfg,needs-files` need files or trees beside them (their code is exercised
/// with real ones by an error case, checked above); `pcfg,illustration` marks text that cannot
/// be shown literally (invalid UTF-8, 100 levels of nesting).
#[test]
fn every_catalogue_example_fails_with_its_code() {
    let mut compiled = 0;
    for code in Code::ALL {
        let name = code.to_string();
        let name = name.trim_start_matches("pcfg::");
        let page = std::fs::read_to_string(root().join(format!("lang/diagnostics/{name}.md")))
            .expect("page");
        let Some(start) = page.find("```pcfg") else {
            continue;
        };
        let rest = &page[start + "```pcfg".len()..];
        let (info, body) = rest.split_once('\n').expect("a block");
        let block = &body[..body.find("```").expect("the block ends")];
        match info {
            ",needs-files" | ",illustration" => continue,
            "" => {}
            other => panic!("{name}: unknown block kind `pcfg{other}`"),
        }
        let text = if block.contains("system {") || block.contains("import") {
            block.to_owned()
        } else {
            format!("system {{ name = \"example\", version = \"1\" }}\n{block}")
        };
        let compilation = crate::support::compile_memory(&[("example.pcfg", text.as_bytes())]);
        let codes: Vec<String> = compilation
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        assert!(
            codes.contains(&code.to_string()),
            "{name}: its example gives {codes:?}\n{text}"
        );
        compiled += 1;
    }
    assert!(compiled >= 40, "examples compiled: {compiled}");
}
