//! `requires` between extensions must not form a cycle: there would be no order to merge them in.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::extension::dependency_order;
use crate::model::Model;

pub(super) fn check(model: &Model, out: &mut Checker) {
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
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    out.push(
        Diagnostic::new(
            Code::ExtensionCycle,
            format!(
                "extensions require each other in a cycle: {}",
                names.join(" → ")
            ),
            first.clone(),
        )
        .with_labels(rest.iter().cloned())
        .with_help(
            "break the cycle: move what both need into a third extension that both `require`",
        ),
    );
}
