//! Renaming a label (`extension libs` to `extension base-libs`) in every file of a
//! configuration: each block header and path that names it (`extension libs { .. }`,
//! `extension.libs.kind = ..`, `remove extension.libs`), and, for an extension, every
//! `requires` and `overrides` item that refers to it.

use crate::resolve::Layers;
use crate::source::Span;
use crate::syntax::ast::{Ident, Item, ValueKind};

/// Every span that names the block `kind LABEL` in the files of `layers`.
pub(super) fn occurrences(layers: &Layers, kind: &str, label: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for layer in &layers.layers {
        walk(&layer.ast.items, &mut Vec::new(), kind, label, &mut out);
    }
    out.sort_by_key(|s| (s.file, s.start));
    out.dedup();
    out
}

fn walk<'a>(
    items: &'a [Item],
    prefix: &mut Vec<&'a Ident>,
    kind: &str,
    label: &str,
    out: &mut Vec<Span>,
) {
    for item in items {
        match item {
            Item::Block(block) => {
                let depth = prefix.len();
                prefix.push(&block.kind);
                if let Some(l) = &block.label {
                    prefix.push(l);
                }
                names_it(prefix, kind, label, out);
                walk(&block.items, prefix, kind, label, out);
                prefix.truncate(depth);
            }
            Item::Assign(assign) => {
                let names: Vec<&str> = prefix.iter().map(|i| i.name.as_str()).collect();
                let refers =
                    super::navigate::refers_to(&names, &assign.path.segments) == Some(kind);
                let depth = prefix.len();
                prefix.extend(&assign.path.segments);
                names_it(prefix, kind, label, out);
                if let (true, ValueKind::List(values)) = (refers, &assign.value.kind) {
                    out.extend(
                        values
                            .iter()
                            .filter(|v| matches!(&v.kind, ValueKind::Symbol(n) if n == label))
                            .map(|v| v.span),
                    );
                }
                prefix.truncate(depth);
            }
            Item::Remove(remove) => {
                let depth = prefix.len();
                prefix.extend(&remove.path.segments);
                names_it(prefix, kind, label, out);
                prefix.truncate(depth);
            }
            Item::Import(_) => {}
        }
    }
}

/// The label in a path from the top (`extension`, `libs`, ...) when it names the block.
fn names_it(path: &[&Ident], kind: &str, label: &str, out: &mut Vec<Span>) {
    if let [k, l, ..] = path {
        if k.name == kind && l.name == label {
            out.push(l.span);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::vfs::MemoryFs;

    #[test]
    fn every_file_and_every_kind_of_mention_is_found() {
        let mut fs = MemoryFs::new();
        let base = "system { name = \"x\", version = \"1\" }\nextension libs { kind = sysext }\nextension app { kind = sysext, requires = [libs], overrides = [libs] }\nextension libsx { kind = sysext }\n";
        let top = "import \"base.pcfg\"\nextension.libs.kind = sysext\nremove extension.libsx\n";
        fs.insert("base.pcfg", base);
        fs.insert("system.pcfg", top);
        let compilation = crate::compile::check(&fs, Path::new("system.pcfg")).expect("loads");
        let resolved = compilation.resolved.as_ref().expect("resolves");
        let found: Vec<(String, String)> =
            super::occurrences(&resolved.layers, "extension", "libs")
                .into_iter()
                .map(|span| {
                    let file = compilation.sources.get(span.file);
                    (file.name.clone(), file.slice(span).to_owned())
                })
                .collect();
        let base_mentions = found
            .iter()
            .filter(|(f, _)| f.ends_with("base.pcfg"))
            .count();
        let top_mentions = found
            .iter()
            .filter(|(f, _)| f.ends_with("system.pcfg"))
            .count();
        assert!(found.iter().all(|(_, text)| text == "libs"), "{found:?}");
        assert_eq!((base_mentions, top_mentions), (3, 1), "{found:?}");
        // Another kind with the same label is not renamed.
        assert!(super::occurrences(&resolved.layers, "partition", "libs").is_empty());
    }
}
