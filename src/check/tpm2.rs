//! Encryption bound to the TPM needs `trust.tpm2`: the PCRs the key is sealed to.

use super::Checker;
use crate::diag::{Code, Diagnostic, Label};
use crate::model::Model;

pub(super) fn check(model: &Model, out: &mut Checker) {
    if model.trust.tpm2.is_some() {
        return;
    }
    for partition in model
        .partitions
        .iter()
        .filter(|p| p.encrypt().value.uses_tpm2())
    {
        out.push(
            Diagnostic::new(Code::Tpm2NotConfigured, format!("partition `{}` is encrypted with the TPM, but `trust.tpm2` is missing", partition.name), Label::new(out.at(partition.encrypt().at), "sealed to the TPM"))
                .with_help("add `trust { tpm2 { signed-policy = true } }` (or `pcrs = [7]`): it says what the key is bound to"),
        );
    }
}
