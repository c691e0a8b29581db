//! `pcfg diff OLD NEW`: what changes in the resolved and derived system between two configs —
//! partitions (declared and on the disk), the trust chain, the command line and image policy,
//! UKI profiles, extensions, updates and the build plan — each change with the declaration
//! responsible for it. OLD and NEW are files, or `git:REV:PATH` for a file at a git revision.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use super::args::{DiffArgs, Format};
use super::eval::resolved_or_report;
use super::output::Output;
use super::plan::{files_and_plan, step_changes, to_json, StepChange};
use super::revision::Revision;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile::{self, Compilation};
use crate::resolve::{Node, Resolved};
use crate::source::{SourceMap, Span};
use crate::syntax::ast::format_size;
use crate::vfs::RealFs;

/// The areas of a system, in the order they are reported.
const AREAS: &[&str] = &[
    "system",
    "disk",
    "partitions",
    "disk layout",
    "command line",
    "image policy",
    "uki profiles",
    "trust",
    "trust chain",
    "extensions",
    "updates",
    "files",
];

pub(super) fn run(args: &DiffArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    let pairs = pairs(args)?;
    if pairs
        .iter()
        .any(|(old, new)| old.starts_with("git:") || new.starts_with("git:"))
    {
        super::remove_revisions_on_interrupt();
    }
    if let [(old, new)] = pairs.as_slice() {
        let compared = one(Side::open(old)?, Side::open(new)?, output, out)?;
        compared.report.write(out)?;
        return Ok(compared.code);
    }
    products(args, output, out)
}

/// The configurations to compare, before and after: `OLD NEW`, or each NEW with itself at the
/// revision `git:REV`.
fn pairs(args: &DiffArgs) -> Result<Vec<(String, String)>, Failure> {
    let revision = args
        .old
        .strip_prefix("git:")
        .filter(|rest| !rest.is_empty() && !rest.contains(':'));
    match (revision, args.new.as_slice()) {
        (Some(rev), news) => Ok(news
            .iter()
            .map(|new| (format!("git:{rev}:{new}"), new.clone()))
            .collect()),
        (None, [new]) => Ok(vec![(args.old.clone(), new.clone())]),
        (None, _) => Err(Failure::usage(format!(
            "`{}` is one configuration: several products are compared with a revision, `pcfg diff git:REV {}`",
            args.old,
            args.new.join(" ")
        ))),
    }
}

/// What one comparison prints (after the diagnostics of a side with errors).
enum Report {
    Text(String),
    Json(Json),
}

impl Report {
    fn write(&self, out: &mut dyn Write) -> Result<(), Failure> {
        match self {
            Report::Text(text) => out.write_all(text.as_bytes())?,
            Report::Json(json) => {
                serde_json::to_writer_pretty(&mut *out, json)?;
                writeln!(out)?;
            }
        }
        Ok(())
    }
}

/// One comparison: its exit code, what it prints, its sides (a revision's files stay unpacked
/// while they live) and, when both compiled without errors, their compilations.
struct Compared {
    code: u8,
    report: Report,
    old: Side,
    new: Side,
    compiled: Option<(Compilation, Compilation)>,
}

/// Compares the configurations `old` and `new`; diagnostics of a side with errors are written
/// to `out` at once, the comparison is returned.
fn one(old: Side, new: Side, output: &Output, out: &mut dyn Write) -> Result<Compared, Failure> {
    let (code, report, compiled) = compare(&old, &new, output, out)?;
    Ok(Compared {
        code,
        report,
        old,
        new,
        compiled,
    })
}

type Comparison = (u8, Report, Option<(Compilation, Compilation)>);

fn compare(
    old: &Side,
    new: &Side,
    output: &Output,
    out: &mut dyn Write,
) -> Result<Comparison, Failure> {
    // The two sides are independent: compiled side by side, reported in order, then derived
    // side by side.
    let (old_compiled, new_compiled) = rayon::join(|| old.check(), || new.check());
    let (old_compiled, new_compiled) = (old_compiled?, new_compiled?);
    let old_ok = resolved_or_report(&old_compiled, output, out)?.is_some();
    let new_ok = resolved_or_report(&new_compiled, output, out)?.is_some();
    if !(old_ok && new_ok) {
        // What can still be compared: the declarations, when both sides resolve.
        let (text, json) = broken(old, &old_compiled, new, &new_compiled);
        let report = match output.format {
            Format::Json => Report::Json(json),
            Format::Human | Format::Github | Format::Sarif => Report::Text(text),
        };
        return Ok((EXIT_INPUT, report, None));
    }
    let (old_state, new_state) =
        rayon::join(|| old.state(old_compiled), || new.state(new_compiled));
    let (Some(old_state), Some(new_state)) = (old_state?, new_state?) else {
        return Ok((EXIT_INPUT, Report::Text(String::new()), None));
    };
    let changes = diff_facts(old, &old_state, new, &new_state);
    let steps = step_changes(&old_state.plan, &new_state.plan);
    let report = match output.format {
        Format::Json => Report::Json(json!({
            "version": 1,
            "old": old.name,
            "new": new.name,
            "changes": changes.iter().map(Change::to_json).collect::<Vec<_>>(),
            "plan": steps_json(&steps),
        })),
        Format::Human | Format::Github | Format::Sarif => {
            Report::Text(human(&old.name, &new.name, &changes, &steps))
        }
    };
    Ok((
        EXIT_OK,
        report,
        Some((old_state.compilation, new_state.compilation)),
    ))
}

fn steps_json(steps: &[StepChange]) -> Vec<Json> {
    steps
        .iter()
        .map(|s| {
            json!({
                "step": s.step,
                "change": s.change,
                "reasons": s.reasons,
            })
        })
        .collect()
}

/// Products compared with a revision: each product on its own, then the products as they are
/// built together — the packages their shared base holds, and the steps of their build that
/// change.
fn products(args: &DiffArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    // One unpacked tree for every product, so that they are built together as they were.
    let rev = args.old.trim_start_matches("git:");
    let revision = std::sync::Arc::new(Revision::tree(rev)?);
    let mut code = EXIT_OK;
    let mut compared = Vec::with_capacity(args.new.len());
    for new in &args.new {
        let old = Side::in_revision(&revision, new)?;
        let one = one(old, Side::open(new)?, output, out)?;
        code = code.max(one.code);
        compared.push(one);
    }
    let set = together(&mut compared)?;
    match output.format {
        Format::Json => {
            let reports: Vec<&Json> = compared
                .iter()
                .filter_map(|c| match &c.report {
                    Report::Json(json) => Some(json),
                    Report::Text(_) => None,
                })
                .collect();
            let together = set.as_ref().map(|set| {
                json!({
                    "shared-packages": { "added": set.added, "removed": set.removed },
                    "plan": steps_json(&set.steps),
                })
            });
            let json = json!({
                "version": 1,
                "products": reports,
                "together": together,
            });
            serde_json::to_writer_pretty(&mut *out, &json)?;
            writeln!(out)?;
        }
        Format::Human | Format::Github | Format::Sarif => {
            for (index, one) in compared.iter().enumerate() {
                if index > 0 {
                    writeln!(out)?;
                }
                one.report.write(out)?;
            }
            writeln!(out)?;
            out.write_all(together_text(set.as_ref()).as_bytes())?;
        }
    }
    Ok(code)
}

/// What changes in products built together: the packages of their shared base, and the steps
/// of their build.
struct Together {
    added: Vec<String>,
    removed: Vec<String>,
    steps: Vec<StepChange>,
}

/// The products compared (their compilations taken), built together on each side; `None` when
/// a side has errors or its products cannot be built together.
fn together(compared: &mut [Compared]) -> Result<Option<Together>, Failure> {
    let mut sides: [(Vec<PathBuf>, Vec<Compilation>); 2] = Default::default();
    for one in compared.iter_mut() {
        let Some((old, new)) = one.compiled.take() else {
            return Ok(None);
        };
        sides[0].0.push(one.old.path.clone());
        sides[0].1.push(old);
        sides[1].0.push(one.new.path.clone());
        sides[1].1.push(new);
    }
    let [(old_files, old_compiled), (new_files, new_compiled)] = &sides;
    let (Some((old_plan, old_shared)), Some((new_plan, new_shared))) = (
        super::plan::set_plan(old_files, old_compiled)?,
        super::plan::set_plan(new_files, new_compiled)?,
    ) else {
        return Ok(None);
    };
    let missing_from = |shared: &[String], other: &[String]| -> Vec<String> {
        shared
            .iter()
            .filter(|p| !other.contains(p))
            .cloned()
            .collect()
    };
    Ok(Some(Together {
        added: missing_from(&new_shared, &old_shared),
        removed: missing_from(&old_shared, &new_shared),
        steps: step_changes(&to_json(&old_plan), &to_json(&new_plan)),
    }))
}

/// The products built together, for people.
fn together_text(set: Option<&Together>) -> String {
    use std::fmt::Write as _;
    let mut text = String::from("built together\n");
    let Some(Together {
        added,
        removed,
        steps,
    }) = set
    else {
        text.push_str("  the products cannot be built together on one side (`pcfg check --products` says why)\n");
        return text;
    };
    if added.is_empty() && removed.is_empty() && steps.is_empty() {
        text.push_str("  nothing changes\n");
    }
    for package in added {
        let _ = writeln!(text, "  + shared base: {package}");
    }
    for package in removed {
        let _ = writeln!(text, "  - shared base: {package}");
    }
    if !steps.is_empty() {
        let _ = writeln!(text, "  build plan ({} steps change)", steps.len());
        step_lines(&mut text, steps, "    ");
    }
    text
}

/// One line a changed step, indented by `indent`.
fn step_lines(text: &mut String, steps: &[StepChange], indent: &str) {
    use std::fmt::Write as _;
    for step in steps {
        let _ = match step.change {
            "changed" => writeln!(text, "{indent}~ {}: {}", step.step, step.reasons.join("; ")),
            "new" => writeln!(text, "{indent}+ {}", step.step),
            _ => writeln!(text, "{indent}- {}", step.step),
        };
    }
}

/// When a side has errors: which sides are broken, and the declarations that differ when both
/// resolve (the derived systems cannot be compared), as text and as JSON.
fn broken(old: &Side, old_c: &Compilation, new: &Side, new_c: &Compilation) -> (String, Json) {
    use std::fmt::Write as _;
    let mut text = format!("{} → {}\n", old.name, new.name);
    let mut broken = Vec::new();
    for (side, compilation) in [(old, old_c), (new, new_c)] {
        if compilation.has_errors() {
            let _ = writeln!(
                text,
                "  {} has errors (above): its system is not derived, so only declarations are compared",
                side.name
            );
            broken.push(side.name.clone());
        }
    }
    let mut declarations = Vec::new();
    if let (Some(a), Some(b)) = (old_c.resolved.as_ref(), new_c.resolved.as_ref()) {
        // Every path either side sets, each once, sorted.
        let paths: std::collections::BTreeSet<String> = [a, b]
            .iter()
            .flat_map(|side| {
                side.root
                    .entries
                    .keys()
                    .flat_map(|block| leaf_paths(side, block))
            })
            .collect();
        let mut lines = Vec::new();
        for path in paths {
            let (before, after) = (value_at(a, &path), value_at(b, &path));
            if before == after {
                continue;
            }
            let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".to_owned());
            lines.push(format!(
                "  ~ {path}: {} → {}",
                shown(&before),
                shown(&after)
            ));
            declarations.push(json!({ "path": path, "old": before, "new": after }));
        }
        text.push_str("\ndeclarations\n");
        if lines.is_empty() {
            text.push_str("  (none differ)\n");
        }
        for line in lines {
            let _ = writeln!(text, "{line}");
        }
    } else {
        text.push_str("  a side does not resolve: nothing can be compared\n");
    }
    let json = json!({
        "version": 1,
        "old": old.name,
        "new": new.name,
        "broken": broken,
        "declarations": declarations,
        "changes": [],
        "plan": [],
    });
    (text, json)
}

/// One config to compare: a file, or a file of a git revision unpacked into a directory that is
/// removed again when the side is dropped.
struct Side {
    /// As the user named it.
    name: String,
    path: PathBuf,
    /// For `git:REV:PATH`: the revision's tree, unpacked (once for every product compared
    /// with it).
    revision: Option<std::sync::Arc<Revision>>,
}

/// What a compiled side gives the diff.
struct State {
    compilation: Compilation,
    model: Json,
    /// Each emitted file: its path, the SHA-256 of its contents without the header naming the
    /// entry file, and the declaration it comes from first.
    files: Vec<(String, String, Option<Span>)>,
    /// Where each trust-chain link is established.
    links: BTreeMap<String, Span>,
    plan: super::PlanJson,
}

impl Side {
    /// `which` (`old` or `new`) keeps two sides at the same revision apart.
    fn open(spec: &str) -> Result<Side, Failure> {
        let Some(rest) = spec.strip_prefix("git:") else {
            return Ok(Side {
                name: spec.to_owned(),
                path: PathBuf::from(spec),
                revision: None,
            });
        };
        let Some((rev, path)) = rest.split_once(':') else {
            return Err(Failure::usage(format!(
                "`{spec}` names no file: write `git:REV:PATH`, e.g. `git:main:system.pcfg`"
            )));
        };
        if rev.is_empty() || path.is_empty() {
            return Err(Failure::usage(format!(
                "`{spec}`: write `git:REV:PATH` with a revision and a path relative to the current directory"
            )));
        }
        let revision = Revision::open(rev, path)?;
        Ok(Side {
            name: spec.to_owned(),
            path: revision.entry.clone(),
            revision: Some(std::sync::Arc::new(revision)),
        })
    }

    /// `path` (relative to the current directory) in an unpacked revision.
    fn in_revision(revision: &std::sync::Arc<Revision>, path: &str) -> Result<Side, Failure> {
        Ok(Side {
            name: format!("git:{}{path}", revision.prefix),
            path: revision.locate(path)?,
            revision: Some(revision.clone()),
        })
    }

    /// Compiles the side; a revision's files are named `REV:path`.
    fn check(&self) -> Result<Compilation, Failure> {
        let mut compilation = compile::check(&RealFs, &self.path)?;
        if let Some(revision) = &self.revision {
            compilation.sources.rename(|name| {
                Path::new(name)
                    .strip_prefix(revision.dir())
                    .ok()
                    .map(|rest| format!("{}{}", revision.prefix, rest.display()))
            });
        }
        Ok(compilation)
    }

    /// What the diff compares of a compiled side without errors.
    fn state(&self, compilation: Compilation) -> Result<Option<State>, Failure> {
        let Some(model) = &compilation.model else {
            return Ok(None);
        };
        let (files, plan) = files_and_plan(&self.path, model)?;
        let files = files
            .iter()
            .map(|f| {
                let body = crate::plan::without_header(&f.contents);
                (
                    f.path.clone(),
                    crate::digest::sha256_hex(body.as_bytes()),
                    f.origins.first().copied(),
                )
            })
            .collect();
        let links = model
            .chain
            .iter()
            .filter_map(|link| Some((link.name.clone(), link.at?)))
            .collect();
        let model = super::model_json::model_json(model, &compilation.sources);
        Ok(Some(State {
            files,
            links,
            plan: to_json(&plan),
            model,
            compilation,
        }))
    }

    /// A source file's name as the user knows it: `REV:path` for an unpacked revision.
    fn file_name(&self, name: &str) -> String {
        match &self.revision {
            Some(revision) => Path::new(name).strip_prefix(revision.dir()).map_or_else(
                |_| name.to_owned(),
                |rest| format!("{}{}", revision.prefix, rest.display()),
            ),
            None => name.to_owned(),
        }
    }
}

/// One statement about the system: in `area`, `subject` has `field` = `value`.
struct Fact {
    area: &'static str,
    subject: String,
    field: String,
    value: Json,
    /// The declared partition a disk-layout entry comes from.
    owner: Option<String>,
    /// Config paths that may declare it, most specific first.
    paths: Vec<String>,
    /// The declaration the model records for it (a link's, a generated file's first origin).
    declared: Option<Span>,
}

/// Facts in the order of their area, subject and field, one for each.
type Facts = Vec<Fact>;

/// The facts of a model, keyed by area, subject and field.
fn facts(
    model: &Json,
    files: &[(String, String, Option<Span>)],
    links: &BTreeMap<String, Span>,
) -> Facts {
    let mut facts: Vec<Fact> = Vec::new();
    let mut add = |fact: Fact| facts.push(fact);
    let fact = |area, subject: &str, field: &str, value: &Json, paths: Vec<String>| Fact {
        area,
        subject: subject.to_owned(),
        field: field.to_owned(),
        value: value.clone(),
        owner: None,
        paths,
        declared: None,
    };
    for (block, area) in [("system", "system"), ("disk", "disk")] {
        for (key, value) in model[block].as_object().into_iter().flatten() {
            add(fact(
                area,
                block,
                key,
                value,
                vec![format!("{block}.{key}")],
            ));
        }
    }
    for partition in model["partitions"].as_array().into_iter().flatten() {
        let name = partition["name"].as_str().unwrap_or_default();
        for (key, value) in partition.as_object().into_iter().flatten() {
            if key == "name" || key == "declared" {
                continue;
            }
            let paths = size_paths(name, key);
            add(fact("partitions", name, key, value, paths));
        }
    }
    for gpt in model["layout"].as_array().into_iter().flatten() {
        let name = gpt["name"].as_str().unwrap_or_default();
        let owner = gpt["partition"].as_str().unwrap_or_default();
        let verity = gpt["role"] != "data";
        for (key, value) in gpt.as_object().into_iter().flatten() {
            if matches!(key.as_str(), "name" | "partition" | "role" | "slot") {
                continue;
            }
            let mut paths = if verity && key.starts_with("size") {
                vec![format!("partition.{owner}.verity-size")]
            } else {
                size_paths(owner, key)
            };
            if key == "label" {
                paths = vec!["system.version".to_owned(), "system.name".to_owned()];
            }
            let mut f = fact("disk layout", name, key, value, paths);
            f.owner = Some(owner.to_owned());
            add(f);
        }
    }
    for option in model["cmdline"].as_array().into_iter().flatten() {
        let text = option.as_str().unwrap_or_default();
        if is_derived_option(text) {
            // Reported entry by entry under "image policy".
            continue;
        }
        add(fact(
            "command line",
            text,
            "",
            &json!(true),
            vec!["system.cmdline".to_owned()],
        ));
    }
    for (field, key) in [("policy", "image-policy"), ("filter", "image-filter")] {
        let text = model[key].as_str().unwrap_or_default();
        for entry in text.split(':').filter(|e| !e.is_empty()) {
            let (designator, value) = entry.split_once('=').unwrap_or((entry, ""));
            let owner = partition_of_type(model, designator);
            let paths = if field == "filter" {
                // Filters match labels, which start with the image id.
                vec!["system.id".to_owned(), "system.name".to_owned()]
            } else {
                owner.iter().map(|o| format!("partition.{o}")).collect()
            };
            let mut f = fact("image policy", designator, field, &json!(value), paths);
            f.owner = owner;
            add(f);
        }
    }
    for (key, value) in model["trust"].as_object().into_iter().flatten() {
        let fields: Vec<(String, &Json)> = match value {
            Json::Object(inner) => inner
                .iter()
                .map(|(k, v)| (format!("{key}.{k}"), v))
                .collect(),
            other => vec![(key.clone(), other)],
        };
        for (field, value) in fields {
            add(fact(
                "trust",
                "trust",
                &field,
                value,
                vec![format!("trust.{field}"), format!("trust.{key}")],
            ));
        }
    }
    let base = &model["cmdline"];
    for profile in model["uki-profiles"].as_array().into_iter().flatten() {
        let name = profile["name"].as_str().unwrap_or_default();
        for (key, value) in profile.as_object().into_iter().flatten() {
            if key != "name" {
                // A profile's command line without the base's options (reported above).
                let own;
                let value = match value {
                    Json::Array(options) if key == "cmdline" => {
                        own = Json::Array(
                            options
                                .iter()
                                .filter(|o| !base.as_array().is_some_and(|b| b.contains(o)))
                                .filter(|o| !o.as_str().is_some_and(is_derived_option))
                                .cloned()
                                .collect(),
                        );
                        &own
                    }
                    other => other,
                };
                let paths = vec![
                    format!("uki-profile.{name}.{key}"),
                    format!("uki-profile.{name}"),
                ];
                add(fact("uki profiles", name, key, value, paths));
            }
        }
    }
    // The names of partitions and extensions, looked up for each link.
    let declared: [(&str, std::collections::HashSet<&str>); 2] =
        ["partition", "extension"].map(|block| {
            let names = model[format!("{block}s")]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["name"].as_str())
                .collect();
            (block, names)
        });
    for link in model["trust-chain"].as_array().into_iter().flatten() {
        let name = link["link"].as_str().unwrap_or_default();
        for key in ["state", "reason"] {
            let paths = declared
                .iter()
                .filter(|(_, names)| names.contains(name))
                .map(|(block, _)| format!("{block}.{name}"))
                .collect();
            let mut f = fact("trust chain", name, key, &link[key], paths);
            f.declared = links.get(name).copied();
            add(f);
        }
    }
    for extension in model["extensions"].as_array().into_iter().flatten() {
        let name = extension["name"].as_str().unwrap_or_default();
        for (key, value) in extension.as_object().into_iter().flatten() {
            let paths = vec![
                format!("extension.{name}.{key}"),
                format!("extension.{name}"),
            ];
            match (key.as_str(), value) {
                ("name", _) => {}
                ("release", Json::Object(release)) => {
                    for (field, value) in release {
                        add(fact(
                            "extensions",
                            name,
                            &format!("release {field}"),
                            value,
                            paths.clone(),
                        ));
                    }
                }
                _ => add(fact("extensions", name, key, value, paths)),
            }
        }
    }
    add(fact(
        "extensions",
        "(order)",
        "order",
        &model["extension-order"],
        Vec::new(),
    ));
    for key in ["tries", "keep"] {
        let value = &model["updates"][key];
        add(fact(
            "updates",
            "updates",
            key,
            value,
            vec![format!("update.{key}")],
        ));
    }
    for channel in model["updates"]["channels"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = channel["name"].as_str().unwrap_or_default();
        for key in ["source", "artifact-name", "transfers"] {
            let paths = vec![
                format!("update.channel.{name}.{key}"),
                format!("update.channel.{name}"),
            ];
            let subject = format!("channel {name}");
            add(fact("updates", &subject, key, &channel[key], paths));
        }
    }
    let names = |list: &str| -> Vec<String> {
        model[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["name"].as_str().map(str::to_owned))
            .collect()
    };
    let (partitions, extensions) = (names("partitions"), names("extensions"));
    // Names to their order, so each file finds its partition or extension by lookups of the
    // pieces of its own path, not by a scan of every name (linear in files and names).
    let index = |names: &[String]| -> HashMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect()
    };
    let (partition_index, extension_index) = (index(&partitions), index(&extensions));
    for (path, digest, origin) in files {
        // The partition or extension a file is named after (`30-swap.conf`, `mkosi.images/NAME/`).
        let stem = path.rsplit('/').next().unwrap_or(path);
        let stem = stem.split('.').next().unwrap_or(stem);
        let mut partitions_named: Vec<usize> = stem
            .match_indices('-')
            .filter_map(|(i, _)| partition_index.get(&stem[i + 1..]).copied())
            .collect();
        partitions_named.sort_unstable();
        partitions_named.dedup();
        // A directory between the first and the file: `mkosi.images/NAME/mkosi.conf`.
        let parts: Vec<&str> = path.split('/').collect();
        let inner = parts
            .get(1..parts.len().saturating_sub(1))
            .unwrap_or_default();
        let mut in_extension: Vec<usize> = inner
            .iter()
            .filter_map(|part| extension_index.get(*part).copied())
            .chain(
                path.match_indices('.')
                    .filter_map(|(i, _)| extension_index.get(&path[i + 1..]).copied()),
            )
            .collect();
        in_extension.sort_unstable();
        in_extension.dedup();
        let paths = partitions_named
            .iter()
            .map(|&i| format!("partition.{}", partitions[i]))
            .chain(
                in_extension
                    .iter()
                    .map(|&i| format!("extension.{}", extensions[i])),
            )
            // Labels, image ids and release files carry the system's name and version.
            .chain(["system.id", "system.name", "system.version"].map(str::to_owned))
            .collect();
        let mut f = fact("files", path, "", &json!(digest), paths);
        f.declared = *origin;
        add(f);
    }
    // Sorted (stably) by key; of facts with one key, the last stated stands.
    facts.sort_by(fact_order);
    let mut unique: Vec<Fact> = Vec::with_capacity(facts.len());
    for fact in facts {
        match unique.last_mut() {
            Some(last) if fact_order(last, &fact).is_eq() => *last = fact,
            _ => unique.push(fact),
        }
    }
    unique
}

/// Facts ordered by area (in [`AREAS`] order), subject and field.
fn fact_order(a: &Fact, b: &Fact) -> std::cmp::Ordering {
    let area = |f: &Fact| AREAS.iter().position(|x| *x == f.area).unwrap_or(0);
    (area(a), &a.subject, &a.field).cmp(&(area(b), &b.subject, &b.field))
}

/// The command-line options pcfg derives from the partitions (`systemd.image_policy=`, ...).
fn is_derived_option(option: &str) -> bool {
    option.starts_with("systemd.image_policy=") || option.starts_with("systemd.image_filter=")
}

/// The config paths of a partition's field; sizes may come from `size`.
fn size_paths(partition: &str, key: &str) -> Vec<String> {
    let mut paths = vec![format!("partition.{partition}.{key}")];
    if key == "size-min" || key == "size-max" {
        paths.push(format!("partition.{partition}.size"));
    }
    paths.push(format!("partition.{partition}"));
    paths
}

/// The declared partition whose type an image-policy designator names.
fn partition_of_type(model: &Json, designator: &str) -> Option<String> {
    model["partitions"]
        .as_array()?
        .iter()
        .find(|p| {
            p["type"].as_str().is_some_and(|t| {
                t == designator
                    || t.starts_with(&format!("{designator}-"))
                    || designator.starts_with(&format!("{t}-"))
            })
        })
        .and_then(|p| p["name"].as_str())
        .map(str::to_owned)
}

/// A difference between the two systems.
struct Change {
    area: &'static str,
    subject: String,
    field: String,
    owner: Option<String>,
    old: Option<Json>,
    new: Option<Json>,
    /// The declaration responsible: `(file, line, column, source line)`.
    declared: Option<Declared>,
}

struct Declared {
    file: String,
    line: usize,
    column: usize,
    text: String,
}

impl Change {
    fn kind(&self) -> &'static str {
        match (&self.old, &self.new) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "changed",
        }
    }

    fn to_json(&self) -> Json {
        json!({
            "area": self.area,
            "subject": self.subject,
            "field": if self.field.is_empty() { None } else { Some(&self.field) },
            "partition": self.owner,
            "change": self.kind(),
            "old": self.old,
            "new": self.new,
            "declared": self.declared.as_ref().map(|d| json!({
                "file": d.file, "line": d.line, "column": d.column, "text": d.text,
            })),
        })
    }
}

fn diff_facts(old: &Side, old_state: &State, new: &Side, new_state: &State) -> Vec<Change> {
    let (before, after) = rayon::join(
        || facts(&old_state.model, &old_state.files, &old_state.links),
        || facts(&new_state.model, &new_state.files, &new_state.links),
    );
    // What each side declares differently first: found once, for every derived fact.
    let (first_old, first_new) = rayon::join(
        || first_changed_declaration(old_state, new_state),
        || first_changed_declaration(new_state, old_state),
    );
    let mut changes = Vec::new();
    // Both lists are sorted by key: walked together, each key once.
    let (mut in_before, mut in_after) = (0, 0);
    while in_before < before.len() || in_after < after.len() {
        let (a, b) = match (before.get(in_before), after.get(in_after)) {
            (Some(x), Some(y)) => match fact_order(x, y) {
                std::cmp::Ordering::Less => (Some(x), None),
                std::cmp::Ordering::Greater => (None, Some(y)),
                std::cmp::Ordering::Equal => (Some(x), Some(y)),
            },
            (x, y) => (x, y),
        };
        in_before += usize::from(a.is_some());
        in_after += usize::from(b.is_some());
        if a.map(|f| &f.value) == b.map(|f| &f.value) {
            continue;
        }
        let Some(fact) = b.or(a) else { continue };
        let declared = match (a, b) {
            // Gone: a `remove` in NEW, a changed value of its own in OLD, else the first change
            // NEW makes.
            (Some(f), None) => removal(f, new, new_state)
                .or_else(|| own_change(f, old, old_state, new_state))
                .or_else(|| {
                    first_new.map(|span| declared_at(span, new, &new_state.compilation.sources))
                })
                .or_else(|| responsible(f, old, old_state, new_state, first_old)),
            // A list item no declaration of NEW explains (a base no longer adds it): the
            // declaration of OLD that put it in.
            (_, Some(f)) => own_change(f, new, new_state, old_state)
                .or_else(|| own_change(f, old, old_state, new_state))
                .or_else(|| {
                    first_new.map(|span| declared_at(span, new, &new_state.compilation.sources))
                })
                .or_else(|| {
                    first_old.map(|span| declared_at(span, old, &old_state.compilation.sources))
                })
                .or_else(|| responsible(f, new, new_state, old_state, None)),
            (None, None) => None,
        };
        changes.push(Change {
            area: fact.area,
            subject: fact.subject.clone(),
            field: fact.field.clone(),
            owner: fact.owner.clone(),
            old: a.map(|f| f.value.clone()),
            new: b.map(|f| f.value.clone()),
            declared,
        });
    }
    changes
}

/// Where a side declares a fact: the first of its own paths that the `other` side sets
/// otherwise; else, for a derived fact, `first` — the first declaration that differs at all,
/// since blaming an unchanged line would be false; else the declaration the model records for
/// it, or the first of its paths that is set.
fn responsible(
    fact: &Fact,
    side: &Side,
    state: &State,
    other: &State,
    first: Option<Span>,
) -> Option<Declared> {
    let sources = &state.compilation.sources;
    own_change(fact, side, state, other)
        .or_else(|| first.map(|span| declared_at(span, side, sources)))
        .or_else(|| {
            let resolved = state.compilation.resolved.as_ref()?;
            fact.declared
                .or_else(|| fact.paths.iter().find_map(|path| site_of(resolved, path)))
                .map(|span| declared_at(span, side, sources))
        })
}

/// The first of a fact's own paths (for a link, also any trust setting) whose value `side`
/// sets otherwise than `other`.
fn own_change(fact: &Fact, side: &Side, state: &State, other: &State) -> Option<Declared> {
    let resolved = state.compilation.resolved.as_ref()?;
    let differs = |path: &&String| match other.compilation.resolved.as_ref() {
        Some(theirs) => value_at(resolved, path) != value_at(theirs, path),
        None => true,
    };
    let mut candidates = fact.paths.clone();
    if fact.area == "trust chain" {
        candidates.extend(leaf_paths(resolved, "trust"));
    }
    let theirs = other.compilation.resolved.as_ref();
    candidates
        .iter()
        .filter(differs)
        .find_map(|p| changed_site(resolved, theirs, p))
        .map(|span| declared_at(span, side, &state.compilation.sources))
}

/// The first declaration (in source order) where `state` sets a value that `other` sets otherwise
/// or not at all, or makes a `remove` that `other` lacks.
fn first_changed_declaration(state: &State, other: &State) -> Option<Span> {
    let mine = state.compilation.resolved.as_ref()?;
    let theirs = other.compilation.resolved.as_ref()?;
    let values = mine
        .root
        .entries
        .keys()
        .flat_map(|block| leaf_paths(mine, block))
        .filter(|path| value_at(mine, path) != value_at(theirs, path))
        .filter_map(|path| changed_site(mine, Some(theirs), &path));
    let removes = mine
        .removals
        .iter()
        .filter(|r| !theirs.removals.iter().any(|t| t.path == r.path))
        .map(|r| r.span);
    values.chain(removes).min_by_key(|s| (s.file, s.start))
}

/// The dotted paths of every value below a block.
fn leaf_paths(resolved: &Resolved, block: &str) -> Vec<String> {
    fn walk(prefix: &str, block: &crate::resolve::Block, out: &mut Vec<String>) {
        for (name, entry) in &block.entries {
            let path = format!("{prefix}.{name}");
            match &entry.node {
                Node::Leaf(_) => out.push(path),
                Node::Block(inner) => walk(&path, inner, out),
            }
        }
    }
    let mut out = Vec::new();
    if let Some(Node::Block(inner)) = resolved.root.get(&[block]).map(|e| &e.node) {
        walk(block, inner, &mut out);
    }
    out
}

/// A config value as text, to see whether two configs set a path alike.
fn value_at(resolved: &Resolved, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('.').collect();
    match &resolved.root.get(&segments)?.node {
        Node::Leaf(leaf) => Some(leaf.value.kind.to_string()),
        Node::Block(block) => Some(block.entries.keys().cloned().collect::<Vec<_>>().join(",")),
    }
}

/// The `remove` of NEW that took a fact away.
fn removal(fact: &Fact, side: &Side, state: &State) -> Option<Declared> {
    let resolved = state.compilation.resolved.as_ref()?;
    let candidates: Vec<String> = fact
        .paths
        .iter()
        .cloned()
        .chain(fact.owner.iter().map(|o| format!("partition.{o}")))
        .collect();
    let removal = resolved.removals.iter().find(|r| {
        let removed = r.path.join(".");
        candidates
            .iter()
            .any(|p| *p == removed || p.starts_with(&format!("{removed}.")))
    })?;
    Some(declared_at(removal.span, side, &state.compilation.sources))
}

/// The declaration that makes `path`'s value in `mine` differ from `theirs`: for a list, the
/// last definition that put in an item `theirs` lacks (`=` or `+=`) or took out one it has
/// (`-=`, or an `=` without it), not merely the last one that touched the list (a base file's
/// `+=` is not the product file's), or none when no definition of `mine` did (an item a base no
/// longer adds: the other side declared it); for any other value, [`site_of`].
fn changed_site(mine: &Resolved, theirs: Option<&Resolved>, path: &str) -> Option<Span> {
    use crate::syntax::ast::{Op, ValueKind};
    let segments: Vec<&str> = path.split('.').collect();
    let items = |kind: &ValueKind| -> Option<Vec<String>> {
        match kind {
            ValueKind::List(items) => Some(items.iter().map(|i| i.kind.to_string()).collect()),
            _ => None,
        }
    };
    let Some((leaf, now)) = leaf_at(mine, &segments).and_then(|l| Some((l, items(&l.value.kind)?)))
    else {
        return site_of(mine, path);
    };
    let before = match theirs.and_then(|t| leaf_at(t, &segments)) {
        Some(l) => items(&l.value.kind)?,
        None => Vec::new(),
    };
    let added: Vec<&String> = now.iter().filter(|i| !before.contains(i)).collect();
    let removed: Vec<&String> = before.iter().filter(|i| !now.contains(i)).collect();
    let p = &leaf.provenance;
    let winner = leaf.winner();
    winner
        .iter()
        .chain(p.applied())
        .filter(|site| {
            let Some(operand) = items(&site.value.kind) else {
                return false;
            };
            let puts = |i: &&String| operand.contains(i);
            match site.op {
                Op::Set => added.iter().any(puts) || removed.iter().any(|i| !puts(i)),
                Op::Append => added.iter().any(puts),
                Op::Subtract => removed.iter().any(puts),
            }
        })
        .max_by_key(|site| site.layer)
        .map(|site| site.span)
}

/// The value at a dotted path, when it is one.
fn leaf_at<'r>(resolved: &'r Resolved, segments: &[&str]) -> Option<&'r crate::resolve::Leaf> {
    match &resolved.root.get(segments)?.node {
        Node::Leaf(leaf) => Some(leaf),
        Node::Block(_) => None,
    }
}

fn site_of(resolved: &Resolved, path: &str) -> Option<Span> {
    let segments: Vec<&str> = path.split('.').collect();
    let entry = resolved.root.get(&segments)?;
    match &entry.node {
        Node::Leaf(leaf) => {
            let winner = leaf.winner();
            leaf.provenance
                .applied()
                .iter()
                .chain(winner.iter())
                .max_by_key(|s| s.layer)
                .map(|s| s.span)
        }
        Node::Block(block) => block.defined_at.last().copied(),
    }
}

fn declared_at(span: Span, side: &Side, sources: &SourceMap) -> Declared {
    let at = sources.line_col(span);
    let file = sources.get(span.file);
    Declared {
        file: side.file_name(&file.name),
        line: at.line,
        column: at.column,
        text: file.line_text(at.line).trim().to_owned(),
    }
}

/// A value as pcfg writes it: sizes with units, lists in brackets, `unset` for nothing.
fn show(field: &str, value: &Json) -> String {
    match value {
        Json::Null => "unset".to_owned(),
        Json::Number(n) if field.contains("size") => {
            n.as_u64().map_or_else(|| n.to_string(), format_size)
        }
        Json::String(s) => format!("\"{s}\""),
        Json::Array(items) => {
            let items: Vec<String> = items.iter().map(|i| show(field, i)).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// What changed in one value: for lists, the elements added and removed.
fn describe(change: &Change) -> String {
    let field = &change.field;
    match (&change.old, &change.new) {
        (Some(Json::Array(a)), Some(Json::Array(b))) => {
            let added: Vec<String> = b
                .iter()
                .filter(|x| !a.contains(x))
                .map(|x| format!("+{}", show(field, x)))
                .collect();
            let removed: Vec<String> = a
                .iter()
                .filter(|x| !b.contains(x))
                .map(|x| format!("-{}", show(field, x)))
                .collect();
            let parts: Vec<String> = added.into_iter().chain(removed).collect();
            if parts.is_empty() {
                format!(
                    "{field} reordered: {}",
                    show(field, &Json::Array(b.clone()))
                )
            } else {
                format!("{field} {}", parts.join(" "))
            }
        }
        (Some(_), Some(_)) if change.area == "files" => "changed".to_owned(),
        (Some(a), Some(b)) => format!("{field} {} → {}", show(field, a), show(field, b)),
        (None, Some(b)) if field.is_empty() => "added".to_owned(),
        (Some(_), None) if field.is_empty() => "removed".to_owned(),
        (None, Some(b)) => format!("{field} {}", show(field, b)),
        (Some(a), None) => format!("{field} was {}", show(field, a)),
        (None, None) => String::new(),
    }
}

fn human(old: &str, new: &str, changes: &[Change], steps: &[StepChange]) -> String {
    use std::fmt::Write as _;
    let mut text = format!("{old} → {new}\n");
    if changes.is_empty() {
        text.push_str("\nthe systems are the same\n");
    }
    for area in AREAS {
        let in_area: Vec<&Change> = changes.iter().filter(|c| c.area == *area).collect();
        if in_area.is_empty() {
            continue;
        }
        let _ = writeln!(text, "\n{area}");
        // Changes are sorted by area, subject and field: a subject's changes are together.
        for of in in_area.chunk_by(|a, b| a.subject == b.subject) {
            let subject = of[0].subject.as_str();
            let whole_added = of.iter().all(|c| c.old.is_none());
            let whole_removed = of.iter().all(|c| c.new.is_none());
            let mark = if whole_added {
                "+"
            } else if whole_removed {
                "-"
            } else {
                "~"
            };
            let owner = of
                .first()
                .and_then(|c| c.owner.as_deref())
                .filter(|o| *o != subject && *area == "disk layout")
                .map(|o| format!(" (from partition {o})"))
                .unwrap_or_default();
            // A subject added or removed as a whole: its values when they are few (an image
            // policy entry), else just that.
            let whole = if whole_added { "added" } else { "removed" };
            let line = if (whole_added || whole_removed) && of.len() > 1 {
                if of.len() <= 3 {
                    let values: Vec<String> = of
                        .iter()
                        .filter_map(|c| c.old.as_ref().or(c.new.as_ref()).map(|v| (c, v)))
                        .map(|(c, v)| format!("{} {}", c.field, show(&c.field, v)))
                        .collect();
                    format!("{whole} ({})", values.join(", "))
                } else {
                    whole.to_owned()
                }
            } else {
                of.iter()
                    .map(|c| describe(c))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let _ = writeln!(text, "  {mark} {subject}{owner}: {line}");
            let mut seen: Vec<(String, usize)> = Vec::new();
            let mut declarations: Vec<&Declared> =
                of.iter().filter_map(|c| c.declared.as_ref()).collect();
            if whole_added || whole_removed {
                declarations.sort_by_key(|d| (d.file.clone(), d.line));
                declarations.truncate(1);
            }
            for declared in declarations {
                let key = (declared.file.clone(), declared.line);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let _ = writeln!(
                    text,
                    "      {}:{}: {}",
                    declared.file, declared.line, declared.text
                );
            }
        }
    }
    if !steps.is_empty() {
        let _ = writeln!(text, "\nbuild plan ({} steps change)", steps.len());
        step_lines(&mut text, steps, "  ");
    }
    text
}
