//! `pcfg eval FILE`: the resolved configuration as JSON, optionally with provenance.
//!
//! Blocks are objects in declaration order; labelled blocks are objects keyed by label. Sizes
//! are integers of bytes, names and `auto` are strings. Under `--provenance` every value is an
//! object `{ "value", "set", "applied", "overridden" }` (see the book's JSON chapter).

use std::io::Write;

use serde_json::{json, Map, Value as Json};

use super::args::EvalArgs;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile::{self, Compilation};
use crate::resolve::{Block, Leaf, Node, Overridden, Resolved, Site};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::ValueKind;
use crate::vfs::RealFs;

pub(super) fn run(args: &EvalArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let compilation = compile::check(&RealFs, &args.file)?;
    let Some(resolved) = resolved_or_report(&compilation, output, out)? else {
        return Ok(EXIT_INPUT);
    };
    let config = block_json(
        &resolved.root,
        &Context {
            resolved,
            sources: &compilation.sources,
            provenance: args.provenance,
        },
    );
    let model = compilation
        .model
        .as_ref()
        .map(|m| super::model_json::model_json(m, &compilation.sources));
    let json = json!({ "version": 1, "config": config, "model": model });
    serde_json::to_writer_pretty(&mut *out, &json)?;
    writeln!(out)?;
    Ok(EXIT_OK)
}

/// The resolved tree when the compilation has no errors; otherwise reports them.
pub(super) fn resolved_or_report<'c>(
    compilation: &'c Compilation,
    output: &Output,
    out: &mut dyn Write,
) -> Result<Option<&'c Resolved>, Failure> {
    if !compilation.diagnostics.is_empty() {
        let parts = [(compilation.diagnostics.as_slice(), &compilation.sources)];
        if compilation.has_errors() || output.format != super::args::Format::Json {
            output.diagnostics(&parts, out)?;
        }
    }
    Ok(compilation
        .resolved
        .as_ref()
        .filter(|_| !compilation.has_errors()))
}

struct Context<'a> {
    resolved: &'a Resolved,
    sources: &'a SourceMap,
    provenance: bool,
}

fn block_json(block: &Block, cx: &Context<'_>) -> Json {
    let mut map = Map::new();
    for (name, entry) in &block.entries {
        let value = match &entry.node {
            Node::Block(inner) => block_json(inner, cx),
            Node::Leaf(leaf) if cx.provenance => leaf_json(leaf, cx),
            Node::Leaf(leaf) => value_json(&leaf.value.kind),
        };
        map.insert(name.as_str().to_owned(), value);
    }
    Json::Object(map)
}

/// A value as JSON: sizes in bytes, names and `auto` as strings.
#[must_use]
pub(super) fn value_json(kind: &ValueKind) -> Json {
    match kind {
        ValueKind::Str(s) | ValueKind::Symbol(s) => json!(s.as_str()),
        ValueKind::Int(n) | ValueKind::Size(n) => json!(n),
        ValueKind::Bool(b) => json!(b),
        ValueKind::Auto => json!("auto"),
        ValueKind::List(items) => Json::Array(items.iter().map(|i| value_json(&i.kind)).collect()),
    }
}

fn leaf_json(leaf: &Leaf, cx: &Context<'_>) -> Json {
    let provenance = &leaf.provenance;
    json!({
        "value": value_json(&leaf.value.kind),
        "set": leaf.winner().map(|s| site_json(&s, cx.resolved, cx.sources)),
        "applied": provenance.applied().iter().map(|s| site_json(s, cx.resolved, cx.sources)).collect::<Vec<_>>(),
        "overridden": provenance.overridden().iter().map(|(site, why)| {
            let mut json = site_json(site, cx.resolved, cx.sources);
            if let Json::Object(map) = &mut json {
                map.insert("reason".into(), json!(reason(why)));
                if let Overridden::Removed { by } = why {
                    map.insert("removed-by".into(), location_json(*by, cx.sources));
                }
            }
            json
        }).collect::<Vec<_>>(),
    })
}

/// Why a definition lost, as a stable word.
#[must_use]
pub(super) fn reason(why: &Overridden) -> &'static str {
    match why {
        Overridden::ByHigherLayer => "higher-layer",
        Overridden::Weak => "default",
        Overridden::Agreeing => "same-value",
        Overridden::Removed { .. } => "removed",
    }
}

/// One definition: where, how, what, and the imports that lead to its file.
pub(super) fn site_json(site: &Site, resolved: &Resolved, sources: &SourceMap) -> Json {
    let chain = resolved.layers.chain(site.layer);
    let mut json = location_json(site.span, sources);
    if let Json::Object(map) = &mut json {
        map.insert("op".into(), json!(site.op.as_str()));
        map.insert("default".into(), json!(site.weak));
        map.insert("value".into(), value_json(&site.value.kind));
        map.insert(
            "imported-via".into(),
            Json::Array(chain.iter().map(|s| location_json(*s, sources)).collect()),
        );
    }
    json
}

pub(super) fn location_json(span: Span, sources: &SourceMap) -> Json {
    let at = sources.line_col(span);
    json!({ "file": sources.name(span.file), "line": at.line, "column": at.column })
}
