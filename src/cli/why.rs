//! `pcfg why FILE PATH`: a value, the definition that set it and every one it overrode, in
//! import order, with source lines.

use compact_str::CompactString;
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
        if let Some(text) = removed(&args.path, &path, resolved, sources) {
            if output.format == Format::Json {
                return Err(Failure::usage(format!(
                    "`{}` was removed: {}",
                    args.path,
                    text.lines().next().unwrap_or("")
                )));
            }
            out.write_all(text.as_bytes())?;
            return Ok(EXIT_OK);
        }
        let model = compilation.model.as_ref();
        return unset(&args.path, &path, &resolved.root, model, output, out);
    };
    match (&entry.node, output.format) {
        (Node::Leaf(leaf), Format::Human | Format::Github | Format::Sarif) => {
            let mut text = format!("{} = {}\n", args.path, leaf.value.kind);
            describe_leaf(&mut text, leaf, resolved, sources);
            if let Some(model) = compilation.model.as_ref().filter(|_| path == PACKAGES) {
                describe_added_packages(&mut text, model);
            }
            out.write_all(text.as_bytes())?;
        }
        (Node::Leaf(leaf), Format::Json) => {
            let p = &leaf.provenance;
            let mut json = json!({
                "path": args.path,
                "value": value_json(&leaf.value.kind),
                "set": leaf.winner().map(|s| site_json(&s, resolved, sources)),
                "applied": p.applied().iter().map(|s| site_json(s, resolved, sources)).collect::<Vec<_>>(),
                "overridden": p.overridden().iter().map(|(s, why)| json!({ "reason": reason(why), "definition": site_json(s, resolved, sources) })).collect::<Vec<_>>(),
            });
            if let Some(model) = compilation.model.as_ref().filter(|_| path == PACKAGES) {
                json["added"] = added_packages_json(model);
            }
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

pub(super) fn describe_leaf(
    text: &mut String,
    leaf: &crate::resolve::Leaf,
    resolved: &Resolved,
    sources: &SourceMap,
) {
    let p = &leaf.provenance;
    if let Some(winner) = &leaf.winner() {
        let _ = writeln!(
            text,
            "\nset at {}",
            location(winner.span, resolved, sources)
        );
        snippet(text, winner, sources);
    }
    for site in p.applied() {
        let _ = writeln!(
            text,
            "\nthen `{}` at {}",
            site.op.as_str(),
            location(site.span, resolved, sources)
        );
        snippet(text, site, sources);
    }
    for (site, why) in p.overridden() {
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
                let winner = leaf.winner();
                let at = winner
                    .as_ref()
                    .or(leaf.provenance.applied().last())
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

const PACKAGES: [&str; 2] = ["system", "packages"];

/// The packages pcfg adds to the declared ones, with the need each meets: `(package, need,
/// "image" or "initrd")`.
fn added_packages(model: &crate::model::Model) -> Vec<(&'static str, String, &'static str)> {
    use crate::model::packages;
    let declared: Vec<&str> = model
        .system
        .packages
        .value
        .iter()
        .map(|p| p.value.as_str())
        .collect();
    let image = packages::resolve(model, &packages::image_needs(model))
        .into_iter()
        .filter(|(name, _)| !declared.contains(name))
        .map(|(name, need)| (name, need.reason(), "image"));
    let initrd = packages::resolve(model, &packages::initrd_needs(model))
        .into_iter()
        .map(|(name, need)| (name, need.reason(), "initrd"));
    image.chain(initrd).collect()
}

fn added_packages_json(model: &crate::model::Model) -> serde_json::Value {
    added_packages(model)
        .into_iter()
        .map(|(package, need, place)| json!({ "package": package, "for": need, "in": place }))
        .collect()
}

fn describe_added_packages(text: &mut String, model: &crate::model::Model) {
    let added = added_packages(model);
    let distribution = model.system.distribution.value.as_deref().unwrap_or("");
    if added.is_empty() {
        if distribution.is_empty() {
            let _ = writeln!(
                text,
                "\npcfg adds no packages: no `system.distribution` is declared, so mkosi builds the host's distribution, whose package names pcfg cannot know; the list names every package the image needs"
            );
        } else if !crate::model::packages::known(distribution) {
            let _ = writeln!(
                text,
                "\npcfg adds no packages: it does not know the package names of distribution `{distribution}`, so the list names every package the image needs"
            );
        }
        return;
    }
    let _ = writeln!(
        text,
        "\nand pcfg adds what the declarations need, as `{distribution}` names them:"
    );
    let width = added.iter().map(|(p, ..)| p.len()).max().unwrap_or(0);
    for (package, need, place) in added {
        let place = if place == "initrd" {
            " (in the initrd)"
        } else {
            ""
        };
        let _ = writeln!(text, "  {package:width$}  {need}{place}");
    }
}

/// A path that resolves to nothing: a schema field left at its default, or an error.
fn unset(
    dotted: &str,
    path: &[&str],
    root: &Block,
    model: Option<&crate::model::Model>,
    output: &Output,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let mut block = root;
    let mut known = Vec::new();
    for segment in path {
        match block.entries.get(segment).map(|e| &e.node) {
            Some(Node::Block(inner)) => {
                block = inner;
                known.push(*segment);
            }
            _ => break,
        }
    }
    // A field of a block that exists, or of unlabelled blocks that are absent (`disk.size`
    // without a `disk` block): its default. A missing label is an error below.
    let field =
        crate::schema::field_at(path).filter(|_| only_unlabelled_blocks_missing(path, known.len()));
    if let Some(field) = field {
        let derived = model.and_then(|m| derived(path, m));
        if output.format == Format::Json {
            let mut json = json!({
                "path": dotted,
                "value": null,
                "default": field.default,
                "derived": derived.as_ref().map(|(value, rule)| json!({ "value": value, "rule": rule })),
            });
            if let Some(model) = model.filter(|_| path == PACKAGES) {
                json["added"] = added_packages_json(model);
            }
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        } else if let Some((value, rule)) = derived {
            writeln!(out, "{dotted} = {value}\n\nderived: {rule}")?;
        } else if let Some(model) = model.filter(|_| path == PACKAGES) {
            let mut text = format!("{dotted} is not set in this configuration; default: []\n");
            describe_added_packages(&mut text, model);
            out.write_all(text.as_bytes())?;
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
    let hint = did_you_mean(missing, block.entries.keys().map(CompactString::as_str))
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

/// Whether the segments of `path` after the first `known` name only unlabelled blocks (and the
/// field): absent blocks whose fields have their defaults.
fn only_unlabelled_blocks_missing(path: &[&str], known: usize) -> bool {
    let mut schema: &BlockSchema = &v1::ROOT;
    let mut index = 0;
    while index + 1 < path.len() {
        let Some(inner) = schema.block(path[index]) else {
            return false;
        };
        if inner.labelled {
            // The label is a segment: it must be among the known ones.
            if index + 1 >= known {
                return false;
            }
            index += 1;
        }
        schema = inner;
        index += 1;
    }
    true
}

/// A value pcfg derives for an unset field, and the rule, with the values it comes from.
pub(super) fn derived(path: &[&str], model: &crate::model::Model) -> Option<(String, String)> {
    use crate::model::{Role, Slot};
    use crate::syntax::ast::format_size;
    let system = &model.system;
    match path {
        ["system", "id"] => Some((
            format!("\"{}\"", system.id.value),
            format!("the name `{}` in lower case", system.name.value),
        )),
        ["system", "pretty-name"] => Some((
            format!("\"{}\"", system.pretty_name.value),
            "the name".to_owned(),
        )),
        ["system", "systemd"] => {
            let distribution = system.distribution.value.as_deref()?;
            let release = system.release.value.as_deref()?;
            crate::model::distribution::systemd_of(distribution, release)?;
            Some((
                system.systemd.value.to_string(),
                format!("the systemd that `{distribution}` `{release}` ships"),
            ))
        }
        ["system", "release"] => system.release.value.as_ref().map(|r| {
            (
                format!("\"{r}\""),
                format!(
                    "the release mkosi builds for distribution `{}` when none is named",
                    system.distribution.value.as_deref().unwrap_or("")
                ),
            )
        }),
        ["partition", name, field] => {
            let index = model.partitions.iter().position(|p| p.name == *name)?;
            let partition = &model.partitions[index];
            let gpt = |role: Role| {
                model.layout.iter().find(|g| {
                    g.partition == index && g.role == role && matches!(g.slot, Slot::A | Slot::Only)
                })
            };
            match *field {
                "verity-size" => {
                    let size = partition.verity_size().value?;
                    let max = partition.max()?;
                    Some((
                        format_size(size),
                        format!(
                            "from size-max {}: the SHA-256 hash tree of {} in 4 KiB blocks, rounded up to a MiB",
                            format_size(max),
                            format_size(max)
                        ),
                    ))
                }
                "format" => Some((
                    partition.format.value.name().to_owned(),
                    format!("the format for type `{}`", partition.ty.value.repart_name()),
                )),
                "label" => {
                    let data = gpt(Role::Data)?;
                    let text = data.label.text(system)?;
                    Some((
                        format!("\"{text}\""),
                        if partition.is_versioned() {
                            "`<name>_<version>`, as systemd-sysupdate matches versions".to_owned()
                        } else {
                            "`<name>-<partition>`".to_owned()
                        },
                    ))
                }
                "create" => {
                    let data = gpt(Role::Data)?;
                    let create = data.create.symbol();
                    Some((
                        create.to_owned(),
                        "the ESP and slot A are in the image, the rest is made at first boot"
                            .to_owned(),
                    ))
                }
                _ => None,
            }
        }
        ["extension", name, "signed"] => {
            let extension = model.extensions.iter().find(|e| e.name == *name)?;
            Some((
                extension.signed.value.to_string(),
                "true when `trust.verity` is set (and the extension is not a Flatpak app)"
                    .to_owned(),
            ))
        }
        _ => None,
    }
}

/// For a path that a `remove` took out (or that lies under one): where it was removed, and
/// where it had been declared, with its value for a field.
fn removed(
    dotted: &str,
    path: &[&str],
    resolved: &Resolved,
    sources: &SourceMap,
) -> Option<String> {
    let removal = resolved
        .removals
        .iter()
        .find(|r| r.path.len() <= path.len() && r.path.iter().zip(path).all(|(a, b)| a == b))?;
    let how = if removal.superseded {
        "was superseded by the partition's size decided in a higher layer, at"
    } else {
        "was removed at"
    };
    let mut text = format!(
        "{dotted} {how} {}\n",
        location(removal.span, resolved, sources)
    );
    let file = sources.get(removal.span.file);
    let at = file.line_col(removal.span.start as usize);
    let _ = writeln!(text, "{:>5} │ {}", at.line, file.line_text(at.line));
    for layer in &resolved.layers.layers {
        let mut found = Vec::new();
        declarations(&layer.ast.items, &[], path, &mut found);
        for (span, value) in found {
            let what = value.map_or_else(|| " declared".to_owned(), |v| format!(" = {v}"));
            let _ = writeln!(text, "\nwas{what} at {}", location(span, resolved, sources));
            let file = sources.get(span.file);
            let at = file.line_col(span.start as usize);
            let _ = writeln!(text, "{:>5} │ {}", at.line, file.line_text(at.line));
        }
    }
    Some(text)
}

/// Where `items` (under `prefix`) declare `path` or something under it: blocks by their header,
/// assignments with their value.
fn declarations(
    items: &[crate::syntax::ast::Item],
    prefix: &[String],
    path: &[&str],
    out: &mut Vec<(Span, Option<String>)>,
) {
    use crate::syntax::ast::Item;
    let covers =
        |full: &[String]| full.len() >= path.len() && full.iter().zip(path).all(|(a, b)| a == b);
    let leads = |full: &[String]| full.iter().zip(path).all(|(a, b)| a == b);
    for item in items {
        match item {
            Item::Block(block) => {
                let mut full = prefix.to_vec();
                full.push(block.kind.name.as_str().to_owned());
                if let Some(label) = &block.label {
                    full.push(label.name.as_str().to_owned());
                }
                if covers(&full) {
                    out.push((block.header_span(), None));
                } else if leads(&full) {
                    declarations(&block.items, &full, path, out);
                }
            }
            Item::Assign(assign) => {
                let mut full = prefix.to_vec();
                full.extend(
                    assign
                        .path
                        .segments
                        .iter()
                        .map(|s| s.name.as_str().to_owned()),
                );
                if covers(&full) {
                    let value = (full.len() == path.len()).then(|| assign.value.kind.to_string());
                    out.push((assign.span, value));
                }
            }
            Item::Import(_) | Item::Remove(_) => {}
        }
    }
}

/// `file:line:column`, and the whole import chain that led to the file, from the entry file.
fn location(span: Span, resolved: &Resolved, sources: &SourceMap) -> String {
    let at = sources.line_col(span);
    let mut text = format!("{}:{at}", sources.name(span.file));
    let layer = resolved
        .layers
        .layers
        .iter()
        .position(|l| l.file == span.file);
    let chain = layer.map(|l| resolved.layers.chain(l)).unwrap_or_default();
    if !chain.is_empty() {
        let steps: Vec<String> = chain
            .iter()
            .map(|s| format!("{}:{}", sources.name(s.file), sources.line_col(*s).line))
            .collect();
        let _ = write!(text, " (imported by {})", steps.join(" → "));
    }
    text
}

fn snippet(text: &mut String, site: &Site, sources: &SourceMap) {
    let file = sources.get(site.span.file);
    let at = file.line_col(site.span.start as usize);
    let line: String = file.line_text(at.line).chars().take(200).collect();
    let _ = writeln!(text, "{:>5} │ {line}", at.line);
}
