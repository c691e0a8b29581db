//! `pcfg why FILE PATH`: a value, the definition that set it and every one it overrode, in
//! import order, with source lines.

use std::fmt::Write as _;
use std::io::Write;

use serde_json::json;

use super::args::{Format, WhyArgs};
use super::eval::{reason, resolved_or_report, site_json, value_json};
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile;
use crate::diag::did_you_mean;
use crate::resolve::{Block, Entry, Node, Overridden, Resolved, Site};
use crate::schema::{v1, BlockSchema};
use crate::source::{SourceMap, Span};
use crate::vfs::RealFs;

pub(super) fn run(args: &WhyArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let compilation = compile::check(&RealFs, &args.file)?;
    let Some(resolved) = resolved_or_report(&compilation, output, out)? else {
        return Ok(EXIT_INPUT);
    };
    let sources = &compilation.sources;
    let path: Vec<&str> = args.path.split('.').collect();
    let Some(entry) = resolved.root.get(&path) else {
        return unset(&args.path, &path, &resolved.root, output, out);
    };
    match (&entry.node, output.format) {
        (Node::Leaf(leaf), Format::Human | Format::Github | Format::Sarif) => {
            let mut text = format!("{} = {}\n", args.path, leaf.value.kind);
            describe_leaf(&mut text, leaf, resolved, sources);
            out.write_all(text.as_bytes())?;
        }
        (Node::Leaf(leaf), Format::Json) => {
            let p = &leaf.provenance;
            let json = json!({
                "path": args.path,
                "value": value_json(&leaf.value.kind),
                "set": p.winner.as_ref().map(|s| site_json(s, resolved, sources)),
                "applied": p.applied.iter().map(|s| site_json(s, resolved, sources)).collect::<Vec<_>>(),
                "overridden": p.overridden.iter().map(|(s, why)| json!({ "reason": reason(why), "definition": site_json(s, resolved, sources) })).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
        (Node::Block(block), _) => {
            let mut text = format!("{} is a block\n", args.path);
            for &span in &block.defined_at {
                let _ = writeln!(text, "  declared at {}", location(span, resolved, sources));
            }
            describe_block(&mut text, &args.path, block, sources);
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(EXIT_OK)
}

fn describe_leaf(
    text: &mut String,
    leaf: &crate::resolve::Leaf,
    resolved: &Resolved,
    sources: &SourceMap,
) {
    let p = &leaf.provenance;
    if let Some(winner) = &p.winner {
        let _ = writeln!(
            text,
            "\nset at {}",
            location(winner.span, resolved, sources)
        );
        snippet(text, winner, sources);
    }
    for site in &p.applied {
        let _ = writeln!(
            text,
            "\nthen `{}` at {}",
            site.op.as_str(),
            location(site.span, resolved, sources)
        );
        snippet(text, site, sources);
    }
    for (site, why) in &p.overridden {
        let because = match why {
            Overridden::ByHigherLayer => "overrides".to_owned(),
            Overridden::Weak => "overrides the `default`".to_owned(),
            Overridden::Agreeing => "agrees with".to_owned(),
            Overridden::Removed { by } => {
                format!("discards (removed at {})", location(*by, resolved, sources))
            }
        };
        let _ = writeln!(
            text,
            "\n{because} {}",
            location(site.span, resolved, sources)
        );
        snippet(text, site, sources);
    }
}

fn describe_block(text: &mut String, prefix: &str, block: &Block, sources: &SourceMap) {
    for (name, Entry { node, .. }) in &block.entries {
        match node {
            Node::Leaf(leaf) => {
                let at = leaf
                    .provenance
                    .winner
                    .as_ref()
                    .or(leaf.provenance.applied.last())
                    .map(|s| {
                        let at = sources.line_col(s.span);
                        format!("{}:{at}", sources.name(s.span.file))
                    });
                let _ = writeln!(
                    text,
                    "  {prefix}.{name} = {}    # {}",
                    leaf.value.kind,
                    at.unwrap_or_default()
                );
            }
            Node::Block(inner) => {
                describe_block(text, &format!("{prefix}.{name}"), inner, sources);
            }
        }
    }
}

/// A path that resolves to nothing: a schema field left at its default, or an error.
fn unset(
    dotted: &str,
    path: &[&str],
    root: &Block,
    output: &Output,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let mut block = root;
    let mut known = Vec::new();
    for segment in path {
        match block.entries.get(*segment).map(|e| &e.node) {
            Some(Node::Block(inner)) => {
                block = inner;
                known.push(*segment);
            }
            _ => break,
        }
    }
    let field = schema_field(path).filter(|_| known.len() + 1 == path.len());
    if let Some(field) = field {
        if output.format == Format::Json {
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({ "path": dotted, "value": null, "default": field.default }),
            )?;
            writeln!(out)?;
        } else {
            let default = field.default.unwrap_or("none: it stays unset");
            writeln!(
                out,
                "{dotted} is not set in this configuration; default: {default}"
            )?;
        }
        return Ok(EXIT_OK);
    }
    let missing = path.get(known.len()).copied().unwrap_or("");
    let hint = did_you_mean(missing, block.entries.keys().map(String::as_str))
        .map(|s| {
            format!(
                "; did you mean `{}`?",
                known
                    .iter()
                    .copied()
                    .chain([s])
                    .collect::<Vec<_>>()
                    .join(".")
            )
        })
        .unwrap_or_default();
    Err(Failure::usage(format!(
        "`{dotted}` is not defined in this configuration{hint}"
    )))
}

/// The schema field a path names, if it names one (labels of labelled blocks are free).
fn schema_field(path: &[&str]) -> Option<&'static crate::schema::Field> {
    let mut schema: &BlockSchema = &v1::ROOT;
    let mut rest = path;
    loop {
        let (first, tail) = rest.split_first()?;
        if tail.is_empty() {
            return schema.field(first);
        }
        let inner = schema.block(first)?;
        rest = if inner.labelled { tail.get(1..)? } else { tail };
        schema = inner;
        if rest.is_empty() {
            return None;
        }
    }
}

/// `file:line:column`, and the import chain that led to the file.
fn location(span: Span, resolved: &Resolved, sources: &SourceMap) -> String {
    let at = sources.line_col(span);
    let mut text = format!("{}:{at}", sources.name(span.file));
    let layer = resolved.layers.layers.iter().find(|l| l.file == span.file);
    if let Some(last) = layer.and_then(|l| l.imported_at) {
        let at = sources.line_col(last);
        let _ = write!(
            text,
            " (imported by {}:{})",
            sources.name(last.file),
            at.line
        );
    }
    text
}

fn snippet(text: &mut String, site: &Site, sources: &SourceMap) {
    let file = sources.get(site.span.file);
    let at = file.line_col(site.span.start as usize);
    let line: String = file.line_text(at.line).chars().take(200).collect();
    let _ = writeln!(text, "{:>5} │ {line}", at.line);
}
