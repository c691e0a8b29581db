//! An update channel updates the versioned partitions and the UKI; without a versioned
//! partition there is nothing for it to update but the kernel.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::Model;

pub(super) fn check(model: &Model, out: &mut Checker) {
    if model
        .partitions
        .iter()
        .any(crate::model::Partition::is_versioned)
    {
        return;
    }
    for channel in &model.updates.channels {
        out.push(
            Diagnostic::new(Code::UpdateWithoutVersionedPartition, format!("update channel `{}` has no versioned partition to update", channel.name), Label::new(out.at(channel.at), "this channel"))
                .with_help("give the OS partition A/B slots (`partition usr { slots = 2 }`) or verity, or remove the channel"),
        );
    }
}
