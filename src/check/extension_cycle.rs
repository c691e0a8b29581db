//! `requires` between extensions must not form a cycle: there would be no order to merge them in;
//! nor may `overrides`: there would be no extension on top.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::extension::dependency_order;
use crate::model::{overlay, Model};

pub(super) fn check(model: &Model, out: &mut Checker) {
    requires(model, out);
    overrides(model, out);
}

/// Extensions that each declare they override another, round in a circle: none can be on top.
fn overrides(model: &Model, out: &mut Checker) {
    let extensions = &model.extensions;
    let Some(stuck) = overlay::unordered(extensions) else {
        return;
    };
    let names: Vec<&str> = stuck
        .iter()
        .filter_map(|&i| extensions.get(i))
        .map(|e| e.name.as_str())
        .collect();
    let labels: Vec<Label> = stuck
        .iter()
        .filter_map(|&i| extensions.get(i))
        .flat_map(|e| {
            e.overrides()
                .value
                .iter()
                .filter(|o| names.contains(&o.value.as_str()))
                .filter_map(|o| {
                    Some(Label::new(
                        o.at?,
                        format!("`{}` overrides `{}`", e.name, o.value),
                    ))
                })
        })
        .collect();
    push_cycle(
        out,
        format!(
            "extensions override each other in a cycle ({}): none of them can be on top",
            names.join(", ")
        ),
        labels,
        "decide which one wins and remove `overrides` from the others",
    );
}

fn requires(model: &Model, out: &mut Checker) {
    let Err(cycle) = dependency_order(&model.extensions) else {
        return;
    };
    let names: Vec<&str> = cycle
        .iter()
        .filter_map(|&i| model.extensions.get(i))
        .map(|e| e.name.as_str())
        .collect();
    // The `requires` item of each step of the cycle.
    let steps: Vec<Label> = cycle
        .windows(2)
        .filter_map(|pair| {
            let from = model.extensions.get(*pair.first()?)?;
            let to = model.extensions.get(*pair.get(1)?)?;
            let item = from.requires.value.iter().find(|r| r.value == to.name)?;
            Some(Label::new(
                item.at?,
                format!("`{}` requires `{}`", from.name, to.name),
            ))
        })
        .collect();
    push_cycle(
        out,
        format!(
            "extensions require each other in a cycle: {}",
            names.join(" → ")
        ),
        steps,
        "break the cycle: move what both need into a third extension that both `require`",
    );
}

/// An `extension-cycle` at the first step of the cycle, with the others; nothing when no step
/// was written anywhere.
fn push_cycle(out: &mut Checker, message: String, steps: Vec<Label>, help: &str) {
    let mut steps = steps.into_iter();
    let Some(first) = steps.next() else {
        return;
    };
    out.push(
        Diagnostic::new(Code::ExtensionCycle, message, first)
            .with_labels(steps)
            .with_help(help),
    );
}
