//! `pcfg plan FILE...`: the build plan (of several entry files: of products built together) in topological order — for people, as JSON (version 1), as
//! Graphviz `dot` or Mermaid for pictures, as the `build.ninja` `pcfg build` writes — and
//! `--since OLD.json`: the steps whose ids changed,
//! and why.

use std::fmt::Write as _;
use std::io::Write;

use serde::{Deserialize, Serialize};

use super::args::{Format, PlanArgs, PlanFormat};
use super::eval::resolved_or_report;
use super::output::Output;
use super::{Failure, EXIT_INPUT, EXIT_OK};
use crate::compile;
use crate::emit::{self, sha256_hex};
use crate::graph::Plan;
use crate::plan::{plan, Inputs};
use crate::vfs::{RealFs, Vfs as _};

/// The JSON form of a plan, version 1 (see the book's "Build plan" chapter).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanJson {
    pub steps: Vec<StepJson>,
    pub version: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepJson {
    pub args: Vec<String>,
    pub id: String,
    pub kind: String,
    pub name: String,
    pub needs: Vec<String>,
    pub outputs: Vec<String>,
    /// Each parameter's SHA-256: enough to say which one changed.
    pub params: std::collections::BTreeMap<String, String>,
    pub tool: Option<String>,
}

pub(super) fn run(args: &PlanArgs, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    super::build::checked_version(args.version.as_deref())?;
    let ninja = args.plan_format == Some(PlanFormat::Ninja);
    let planned = match args.files.as_slice() {
        [file] => plan_one(args, file, ninja, output, out)?,
        _ => plan_products(args, ninja, output, out)?,
    };
    let Some((plan, ninja)) = planned else {
        return Ok(EXIT_INPUT);
    };
    let json = to_json(&plan);
    if let Some(old) = &args.since {
        let text = RealFs
            .read(old)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                Failure::usage(format!(
                    "cannot read `{}`: not a readable UTF-8 regular file",
                    old.display()
                ))
            })?;
        let old: PlanJson = serde_json::from_str(&text).map_err(|e| {
            Failure::usage(format!(
                "`{}` is not a plan (pcfg plan --format json): {e}",
                old.display()
            ))
        })?;
        out.write_all(since(&old, &json).as_bytes())?;
        return Ok(EXIT_OK);
    }
    let text = match (args.plan_format, output.format) {
        (Some(PlanFormat::Dot), _) => dot(&plan),
        (Some(PlanFormat::Mermaid), _) => mermaid(&plan),
        (Some(PlanFormat::Ninja), _) => ninja.unwrap_or_default(),
        (Some(PlanFormat::Json), _) | (None, Format::Json) => {
            let mut text = serde_json::to_string_pretty(&json)?;
            text.push('\n');
            text
        }
        (Some(PlanFormat::Human) | None, _) => human(&plan),
    };
    out.write_all(text.as_bytes())?;
    Ok(EXIT_OK)
}

/// The plan of one system, and its `build.ninja` when `ninja`; `None` when the configuration
/// has errors (reported).
fn plan_one(
    args: &PlanArgs,
    file: &std::path::Path,
    ninja: bool,
    output: &Output,
    out: &mut dyn Write,
) -> Result<Option<(Plan, Option<String>)>, Failure> {
    let compilation = compile::check_with_version(
        &RealFs,
        file,
        &crate::analysis::Quiet,
        args.version.as_deref(),
    )?;
    if resolved_or_report(&compilation, output, out)?.is_none() {
        return Ok(None);
    }
    let Some(model) = &compilation.model else {
        return Ok(None);
    };
    let (files, plan) = files_and_plan(file, model)?;
    let text = if ninja {
        let entry_name = super::entry_name(file);
        let mut source = super::entry_source(file, &entry_name);
        let from_output = match &args.output {
            Some(dir) => super::build::entry_from_output(source.entry_dir, dir)?,
            None => std::path::PathBuf::new(),
        };
        source.entry_from_output = &from_output;
        Some(emit::ninja_file(&plan, model, &source, &files)?.contents)
    } else {
        None
    };
    Ok(Some((plan, text)))
}

/// The plan of products built together, and its `build.ninja` when `ninja`.
fn plan_products(
    args: &PlanArgs,
    ninja: bool,
    output: &Output,
    out: &mut dyn Write,
) -> Result<Option<(Plan, Option<String>)>, Failure> {
    let compilations = super::products::compile(&args.files, args.version.as_deref(), output)?;
    if super::products::report(&compilations, output, out)? {
        return Ok(None);
    }
    let Some(set) = super::products::set(&args.files, &compilations) else {
        return Ok(None);
    };
    let owned = super::products::Owned::new(&args.files, &set, args.output.as_deref())?;
    let members = owned.members();
    let (artifacts, plan) = products_plan(&set, &members)?;
    let text = if ninja {
        Some(emit::products_ninja(&set, &members, &plan, &artifacts)?.contents)
    } else {
        None
    };
    Ok(Some((plan, text)))
}

/// The files the tools read of products built together, and their plan.
fn products_plan(
    set: &crate::products::Set<'_>,
    members: &[emit::Member<'_>],
) -> Result<(Vec<emit::File>, Plan), Failure> {
    let artifacts: Vec<emit::File> = emit::product_artifacts(set, members)?
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let inputs: Vec<&Inputs> = members.iter().map(|m| m.inputs).collect();
    let plan = crate::plan::plan_products(set, &artifacts, &inputs)
        .map_err(|e| Failure::Message(e.to_string()))?;
    Ok((artifacts, plan))
}

/// The plan of products built together, from their compilations; `None` when one has errors
/// or they cannot be built together (`pcfg check --products` says why).
pub(super) fn set_plan(
    files: &[std::path::PathBuf],
    compilations: &[crate::compile::Compilation],
) -> Result<Option<(Plan, Vec<String>)>, Failure> {
    if compilations
        .iter()
        .any(crate::compile::Compilation::has_errors)
    {
        return Ok(None);
    }
    let Some(set) = super::products::set(files, compilations) else {
        return Ok(None);
    };
    let owned = super::products::Owned::new(files, &set, None)?;
    let (_, plan) = products_plan(&set, &owned.members())?;
    let shared = set
        .shared_packages
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    Ok(Some((plan, shared)))
}

/// The files `pcfg build` would write for the entry `file` of a checked model, and its plan.
pub(super) fn files_and_plan(
    file: &std::path::Path,
    model: &crate::model::Model,
) -> Result<(Vec<emit::File>, Plan), Failure> {
    let entry_name = super::entry_name(file);
    let source = super::entry_source(file, &entry_name);
    let inputs = Inputs::read(model, &RealFs, source.entry_dir);
    let files = emit::artifacts(model, &source, &inputs)?;
    let plan = plan(model, &files, &inputs).map_err(|e| Failure::Message(e.to_string()))?;
    Ok((files, plan))
}

pub(super) fn to_json(plan: &Plan) -> PlanJson {
    PlanJson {
        steps: plan
            .steps
            .iter()
            .map(|s| StepJson {
                args: s.spec.args.clone(),
                id: s.id.clone(),
                kind: s.spec.kind.to_owned(),
                name: s.spec.name.clone(),
                needs: s.spec.needs.clone(),
                outputs: s.spec.outputs.clone(),
                params: s
                    .spec
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), sha256_hex(v.as_bytes())))
                    .collect(),
                tool: s.spec.tool.map(str::to_owned),
            })
            .collect(),
        version: 1,
    }
}

fn human(plan: &Plan) -> String {
    let width = plan
        .steps
        .iter()
        .map(|s| s.spec.name.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for step in &plan.steps {
        let tool = step.spec.tool.map_or_else(
            || "(input)".to_owned(),
            |t| {
                format!("{t} {}", step.spec.args.join(" "))
                    .trim_end()
                    .to_owned()
            },
        );
        let _ = write!(
            text,
            "{}  {:<width$}  {tool}",
            &step.id[..12],
            step.spec.name
        );
        if !step.spec.needs.is_empty() {
            let _ = write!(text, "  ← {}", step.spec.needs.join(", "));
        }
        text.push('\n');
    }
    text
}

fn node_id(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn dot(plan: &Plan) -> String {
    let mut text = String::from(
        "digraph plan {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for step in &plan.steps {
        let tool = step.spec.tool.unwrap_or("input");
        let shape = if step.spec.tool.is_none() {
            ", shape=ellipse"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "  {} [label=\"{}\\n{tool}\\n{}\"{shape}];",
            node_id(&step.spec.name),
            step.spec.name,
            &step.id[..12]
        );
    }
    for step in &plan.steps {
        for need in &step.spec.needs {
            let _ = writeln!(text, "  {} -> {};", node_id(need), node_id(&step.spec.name));
        }
    }
    text.push_str("}\n");
    text
}

fn mermaid(plan: &Plan) -> String {
    let mut text = String::from("graph LR\n");
    for step in &plan.steps {
        let tool = step.spec.tool.unwrap_or("input");
        let _ = writeln!(
            text,
            "  {}[\"{}<br/>{tool}\"]",
            node_id(&step.spec.name),
            step.spec.name
        );
    }
    for step in &plan.steps {
        for need in &step.spec.needs {
            let _ = writeln!(text, "  {} --> {}", node_id(need), node_id(&step.spec.name));
        }
    }
    text
}

/// The steps whose ids differ from `old`, each with why: new, removed, a parameter that
/// changed, or a step it needs that changed.
/// How one step differs between two plans.
pub(super) struct StepChange {
    pub step: String,
    /// `new`, `removed` or `changed`.
    pub change: &'static str,
    /// For a changed step: which parameters and needed steps changed.
    pub reasons: Vec<String>,
}

/// The steps of `new` whose ids differ from `old`'s (new ones included), then the removed ones.
pub(super) fn step_changes(old: &PlanJson, new: &PlanJson) -> Vec<StepChange> {
    // Steps by name, looked up rather than searched: linear in the plans' sizes.
    fn by_name(plan: &PlanJson) -> std::collections::HashMap<&str, &StepJson> {
        plan.steps.iter().map(|s| (s.name.as_str(), s)).collect()
    }
    let (old_steps, new_steps) = (by_name(old), by_name(new));
    let mut changes = Vec::new();
    for step in &new.steps {
        let Some(before) = old_steps.get(step.name.as_str()) else {
            changes.push(StepChange {
                step: step.name.clone(),
                change: "new",
                reasons: Vec::new(),
            });
            continue;
        };
        if before.id == step.id {
            continue;
        }
        let mut reasons: Vec<String> = step
            .params
            .iter()
            .filter(|(k, v)| before.params.get(*k) != Some(*v))
            .map(|(k, _)| format!("parameter `{k}` changed"))
            .collect();
        reasons.extend(
            before
                .params
                .keys()
                .filter(|k| !step.params.contains_key(*k))
                .map(|k| format!("parameter `{k}` removed")),
        );
        for need in &step.needs {
            let was = old_steps.get(need.as_str()).map(|s| &s.id);
            let is = new_steps.get(need.as_str()).map(|s| &s.id);
            if was != is {
                reasons.push(format!("needs `{need}`, which changed"));
            }
        }
        if before.needs != step.needs {
            reasons.push("needs other steps".to_owned());
        }
        changes.push(StepChange {
            step: step.name.clone(),
            change: "changed",
            reasons,
        });
    }
    for step in old
        .steps
        .iter()
        .filter(|s| !new_steps.contains_key(s.name.as_str()))
    {
        changes.push(StepChange {
            step: step.name.clone(),
            change: "removed",
            reasons: Vec::new(),
        });
    }
    changes
}

fn since(old: &PlanJson, new: &PlanJson) -> String {
    let changes = step_changes(old, new);
    let mut text = String::new();
    for change in &changes {
        match change.change {
            "changed" => {
                let _ = writeln!(text, "{}  {}", change.step, change.reasons.join("; "));
            }
            other => {
                let _ = writeln!(text, "{}  {other}", change.step);
            }
        }
    }
    let _ = writeln!(
        text,
        "{} of {} steps changed",
        changes.len(),
        new.steps.len()
    );
    text
}
