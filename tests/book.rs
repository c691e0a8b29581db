//! Every `pcfg` block of the book's chapters compiles — or fails as it says it does.
//!
//! A block is ```` ```pcfg ```` (a whole configuration: no diagnostics at all), or
//! ```` ```pcfg,fragment ```` (a piece of one: it must parse; names it refers to may be
//! elsewhere), or ```` ```pcfg,error=CODE ```` (it must fail with `pcfg::CODE`).
//! `{{#include path}}` lines are read as mdBook reads them. The generated diagnostics
//! catalogue is checked by `catalogue.rs`. Links and includes must resolve, anchors included.

use std::fmt::Write as _;
use std::path::Path;

use crate::support::compile_memory;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `(file name, path, text)` of every Markdown file of `book/src`, sorted.
fn chapters() -> Vec<(String, std::path::PathBuf, String)> {
    let mut paths: Vec<_> = std::fs::read_dir(root().join("book/src"))
        .expect("book/src")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("chapter");
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, path, text)
        })
        .collect()
}

/// `(chapter, info string, text)` of every `pcfg` block of the chapters.
pub(crate) fn blocks() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (name, _, text) in chapters() {
        if name == "diagnostics.md" {
            continue;
        }
        let mut lines = text.lines().peekable();
        // A part of another document written out (`<!-- sample: ../../lang/SPEC.md:… -->` up to
        // `<!-- end sample -->`): its blocks are that document's, checked with it.
        let mut in_document = false;
        while let Some(line) = lines.next() {
            if line.starts_with(SAMPLE) {
                in_document = !lines.peek().is_some_and(|next| next.starts_with("```"));
                continue;
            }
            if line == SAMPLE_END.trim_end() {
                in_document = false;
                continue;
            }
            if in_document {
                continue;
            }
            let Some(info) = line.strip_prefix("```pcfg") else {
                continue;
            };
            let mut block = String::new();
            for line in lines.by_ref() {
                if line.starts_with("```") {
                    break;
                }
                if let Some(path) = line
                    .trim()
                    .strip_prefix("{{#include ")
                    .and_then(|l| l.strip_suffix("}}"))
                {
                    let included = root().join("book/src").join(path);
                    block.push_str(
                        &std::fs::read_to_string(&included)
                            .unwrap_or_else(|e| panic!("{name}: {}: {e}", included.display())),
                    );
                } else {
                    block.push_str(line);
                    block.push('\n');
                }
            }
            out.push((name.clone(), info.trim_start_matches(',').to_owned(), block));
        }
    }
    out
}

/// Every file of `examples/extensions` and `examples/keys`, as `extensions/...` and `keys/...`.
fn extension_trees() -> Vec<(String, Vec<u8>)> {
    let base = root().join("examples");
    walkdir::WalkDir::new(base.join("extensions"))
        .into_iter()
        .chain(walkdir::WalkDir::new(base.join("keys")))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let relative = e.path().strip_prefix(&base).expect("under examples");
            (
                relative.to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

/// The codes of text that does not parse (lang/SPEC.md, "Syntax").
const SYNTAX: &[&str] = &[
    "invalid-utf8",
    "invalid-character",
    "unexpected-token",
    "unclosed-delimiter",
    "unterminated-string",
    "invalid-escape",
    "invalid-number",
    "number-too-large",
    "decimal-size-unit",
    "invalid-size-unit",
    "nesting-too-deep",
    "misplaced-import",
];

#[test]
fn every_pcfg_block_of_the_book_compiles_or_fails_as_marked() {
    let blocks = blocks();
    assert!(blocks.len() >= 6, "blocks found: {}", blocks.len());
    for (chapter, info, text) in &blocks {
        // Blocks that import an example do so by its name next to them.
        let mut files: Vec<(&str, &[u8])> = vec![("book.pcfg", text.as_bytes())];
        let particleos = std::fs::read(root().join("examples/particleos.pcfg")).expect("example");
        files.push(("particleos.pcfg", &particleos));
        // And the extension trees the examples name, as they are beside them.
        let trees = extension_trees();
        files.extend(trees.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
        let compilation = compile_memory(&files);
        let codes: Vec<String> = compilation
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect();
        if info.is_empty() {
            assert!(codes.is_empty(), "{chapter}: {codes:?}\n{text}");
        } else if info == "fragment" {
            let syntax = codes
                .iter()
                .any(|c| SYNTAX.contains(&c.trim_start_matches("pcfg::")));
            assert!(
                !syntax,
                "{chapter}: a fragment that does not parse: {codes:?}\n{text}"
            );
        } else if let Some(code) = info.strip_prefix("error=") {
            assert!(
                codes.contains(&format!("pcfg::{code}")),
                "{chapter}: expected pcfg::{code}, got {codes:?}\n{text}"
            );
        } else {
            panic!("{chapter}: unknown block kind `pcfg,{info}`");
        }
    }
}

/// mdBook's id for a heading: lower case, spaces to `-`, other punctuation dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn every_link_and_include_of_the_book_resolves() {
    let src = root().join("book/src");
    let mut checked = 0;
    for (name, chapter, text) in chapters() {
        let mut targets: Vec<String> = Vec::new();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            if let Some(end) = rest.find(')') {
                targets.push(rest[..end].to_owned());
            }
        }
        for (i, _) in text.match_indices("{{#include ") {
            let rest = &text[i + "{{#include ".len()..];
            if let Some(end) = rest.find("}}") {
                // `path:lines` takes a line range after the path.
                targets.push(rest[..end].split(':').next().unwrap_or("").to_owned());
            }
        }
        for target in targets {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if path.is_empty() {
                chapter.clone()
            } else {
                src.join(path)
            };
            assert!(file.exists(), "{name}: `{target}` does not exist");
            if !anchor.is_empty() {
                let linked = std::fs::read_to_string(&file).expect("linked chapter");
                let found = linked
                    .lines()
                    .filter_map(|l| l.strip_prefix('#'))
                    .any(|h| slug(h.trim_start_matches('#')) == anchor);
                assert!(found, "{name}: `{target}`: no heading `#{anchor}`");
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "links checked: {checked}");
}

/// The marker before a sample in a chapter: the file (relative to `book/src`, as mdBook's
/// `{{#include}}` takes it, with its `:LINE:` or `:ANCHOR` selector) that the sample repeats.
const SAMPLE: &str = "<!-- sample: ";
/// The end of a sample that is not a code block.
const SAMPLE_END: &str = "<!-- end sample -->\n";

/// What a sample marker names: a snapshot's body (what follows its `---` header), the lines of a
/// file from `:N:` on, the part between mdBook's `ANCHOR: name` and `ANCHOR_END: name`, or the
/// whole file.
fn sample_text(spec: &str) -> String {
    let (path, selector) = match spec.split_once(':') {
        Some((path, selector)) => (path, selector),
        None => (spec, ""),
    };
    let file = root().join("book/src").join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let lines_of = |lines: &mut dyn Iterator<Item = &str>| {
        lines.fold(String::new(), |mut out, l| {
            out.push_str(l);
            out.push('\n');
            out
        })
    };
    let mut body = if Path::new(path).extension().is_some_and(|e| e == "snap") {
        text.strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map_or(text.as_str(), |(_, body)| body)
            .to_owned()
    } else if let Some(from) = selector
        .strip_suffix(':')
        .and_then(|n| n.parse::<usize>().ok())
    {
        lines_of(&mut text.lines().skip(from.saturating_sub(1)))
    } else if !selector.is_empty() {
        let begin = format!("ANCHOR: {selector}");
        let end = format!("ANCHOR_END: {selector}");
        lines_of(
            &mut text
                .lines()
                .skip_while(|l| !l.contains(&begin))
                .skip(1)
                .take_while(|l| !l.contains(&end))
                .filter(|l| !l.contains("ANCHOR")),
        )
    } else {
        text
    };
    if !body.ends_with('\n') {
        body.push('\n');
    }
    body
}

/// Samples — outputs, examples, the reference — are written out in the chapters, so that they
/// read correctly wherever the Markdown is read (a forge's file view, an editor), not only after
/// `mdbook build`. Each follows a `<!-- sample: PATH -->` marker and must equal what it names
/// (a snapshot, which the test that runs the command keeps current; an example; a part of
/// SPEC.md); `UPDATE_DOCS=1` rewrites them.
#[test]
fn sample_outputs_are_inline_and_current() {
    let mut stale = Vec::new();
    let mut samples = 0;
    for (name, path, text) in chapters() {
        assert!(
            !text.contains("{{#include"),
            "{name}: write the sample out after a `{SAMPLE}...` marker instead of including it"
        );
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(SAMPLE) {
            let (before, marked) = rest.split_at(at);
            out.push_str(before);
            let (opening, after) = marked.split_once("-->\n").expect("a closed marker");
            let spec = opening[SAMPLE.len()..].trim();
            let body = sample_text(spec);
            let (fence, current, after_sample) = match after.split_once('\n') {
                Some((fence, block)) if fence.starts_with("```") => {
                    let (current, after_block) = block
                        .split_once("\n```\n")
                        .map_or((block, ""), |(c, a)| (c, a));
                    let current = format!("{current}\n");
                    (Some(fence), current, after_block)
                }
                _ => {
                    let (current, after_end) = after
                        .split_once(SAMPLE_END)
                        .unwrap_or_else(|| panic!("{name}: {spec}: no `{SAMPLE_END}`"));
                    (None, current.to_owned(), after_end)
                }
            };
            if current != body {
                stale.push(format!("{name}: {spec}"));
            }
            match fence {
                Some(fence) => {
                    let _ = write!(out, "{opening}-->\n{fence}\n{body}```\n");
                }
                None => {
                    let _ = write!(out, "{opening}-->\n{body}{SAMPLE_END}");
                }
            }
            rest = after_sample;
            samples += 1;
        }
        out.push_str(rest);
        if std::env::var_os("UPDATE_DOCS").is_some() && out != text {
            std::fs::write(&path, out).expect("write the chapter");
        }
    }
    assert!(samples >= 15, "{samples} samples");
    if std::env::var_os("UPDATE_DOCS").is_none() {
        assert!(
            stale.is_empty(),
            "stale samples (run `UPDATE_DOCS=1 cargo test sample_outputs`): {stale:#?}"
        );
    }
}
