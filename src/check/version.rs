//! Versioned partitions (A/B slots or verity) carry the image version in their labels: the
//! system needs a `version`.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::Model;

pub(super) fn check(model: &Model, out: &mut Checker) {
    if model.system.version.value.is_some() {
        return;
    }
    for partition in model.partitions.iter().filter(|p| p.is_versioned()) {
        let at = out.at(partition
            .slots()
            .at
            .or(partition.verity().at)
            .or(partition.at));
        out.push(
            Diagnostic::new(Code::MissingVersion, format!("partition `{}` is versioned, but the system has no version", partition.name), Label::new(at, "A/B slots and verity label partitions `<name>_<version>`"))
                .with_labels(model.system.at.map(|s| Label::new(s, "the system is declared here")))
                .with_help("add `system.version = \"1\"`; systemd-sysupdate compares versions to pick the newest"),
        );
    }
}
