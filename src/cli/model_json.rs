//! The wire form of the OS model, for `pcfg eval` (under `model`) and `pcfg trust --format json`.
//! Sizes are bytes; absent values are `null`; locations are `{ file, line, column }`.

use serde_json::{json, Map, Value as Json};

use super::eval::location_json;
use crate::model::extension::dependency_order;
use crate::model::{
    At, Extension, GptPartition, Link, Model, Partition, Role, Slot, TransferTarget, Verity,
};
use crate::source::SourceMap;

pub(super) fn model_json(model: &Model, sources: &SourceMap) -> Json {
    let system = &model.system;
    json!({
        "system": {
            "name": system.name.value,
            "id": system.id.value,
            "pretty-name": system.pretty_name.value,
            "version": system.version.value,
            "arch": system.arch.value.name(),
            "distribution": system.distribution.value,
            "release": system.release.value,
            "systemd": system.systemd.value,
            "packages": strings(&system.packages.value),
            "repositories": strings(&system.repositories.value),
            "initrd-modules": strings(&system.initrd_modules.value),
            "base-tree": system.base_tree.value,
        },
        // The apt repositories besides the distribution's: the suite asked for, the keyring apt
        // verifies with, and the suite's pin (`null`: apt's default).
        "package-sources": model.package_sources.iter().map(|source| json!({
            "name": source.name,
            "url": source.url.value,
            "suite": source.suite_in(system),
            "components": source.components(),
            "key": source.key.value,
            "keyring": source.keyring(system.distribution.value.as_deref()),
            "priority": source.priority.value,
        })).collect::<Vec<_>>(),
        // What mkosi installs: the declared packages and those the declarations need.
        "image-packages": model.image_packages(),
        "initrd-packages": model.initrd_packages(),
        "disk": { "size": model.disk.size.value, "sector-size": model.disk.sector_size.value },
        "partitions": model.partitions.iter().map(|p| partition_json(p, sources)).collect::<Vec<_>>(),
        "layout": model.layout.iter().map(|g| gpt_json(model, g)).collect::<Vec<_>>(),
        "cmdline": strings(&model.cmdline.options),
        "image-policy": model.cmdline.image_policy,
        "image-filter": model.cmdline.image_filter,
        "uki-profiles": model.profiles.iter().map(|p| json!({
            "name": p.name,
            "title": p.title.value,
            "cmdline": strings(&p.cmdline),
            "sign-pcr": p.sign_pcr.value,
        })).collect::<Vec<_>>(),
        "trust": {
            "require": model.trust.require.value.name(),
            "editable-cmdline": model.trust.editable_cmdline.value,
            "tpm2": model.trust.tpm2.as_ref().map(|t| json!({
                "pcrs": t.pcrs.value,
                "signed-policy": t.signed_policy.value,
            })),
        },
        "trust-chain": chain_json(&model.chain, sources),
        "extensions": model.extensions.iter().map(|e| extension_json(model, e)).collect::<Vec<_>>(),
        "extension-order": dependency_order(&model.extensions)
            .map(|order| order.iter().filter_map(|&i| model.extensions.get(i)).map(|e| e.name.clone()).collect::<Vec<_>>())
            .unwrap_or_default(),
        "updates": {
            "tries": model.updates.tries.value,
            "keep": model.updates.keep.value,
            "channels": model.updates.channels.iter().enumerate().map(|(index, channel)| json!({
                "name": channel.name,
                "source": channel.source.value,
                "artifact-name": channel.published_name(&model.system.name.value),
                "transfers": model.updates.transfers.iter().filter(|t| t.channel == index).map(|t| match t.target {
                    TransferTarget::Partition(i) => model.layout.get(i).map_or_else(String::new, |g| gpt_name(model, g)),
                    TransferTarget::Uki => "uki".to_owned(),
                }).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        },
    })
}

pub(super) fn chain_json(chain: &[Link], sources: &SourceMap) -> Json {
    Json::Array(
        chain
            .iter()
            .map(|link| {
                json!({
                    "link": link.name,
                    "state": link.state.name(),
                    "reason": link.reason,
                    "declared": link.at.map(|at| location_json(at, sources)),
                })
            })
            .collect(),
    )
}

fn strings(items: &[At<String>]) -> Vec<&str> {
    items.iter().map(|i| i.value.as_str()).collect()
}

fn partition_json(p: &Partition, sources: &SourceMap) -> Json {
    json!({
        "name": p.name,
        "type": p.ty.value.repart_name(),
        "format": p.format.value.name(),
        "size-min": p.min(),
        "size-max": p.max(),
        "weight": p.weight.value,
        "slots": p.slots().value,
        "verity": match p.verity().value { Verity::None => "none", Verity::Hash => "hash", Verity::Signed => "signed" },
        "verity-size": p.verity_size().value,
        "encrypt": p.encrypt().value.name(),
        "factory-reset": p.factory_reset().value,
        "directories": strings(&p.directories.value),
        "declared": p.at.map(|at| location_json(at, sources)),
    })
}

/// A readable name for a GPT partition: `usr`, `usr-verity (slot b)`.
pub(super) fn gpt_name(model: &Model, g: &GptPartition) -> String {
    let base = model.source(g).map_or("", |p| p.name.as_str());
    let role = match g.role {
        Role::Data => "",
        Role::VerityHash => "-verity",
        Role::VeritySignature => "-verity-sig",
    };
    let slot = match g.slot {
        Slot::Only => "",
        Slot::A => " (slot a)",
        Slot::B => " (slot b)",
    };
    format!("{base}{role}{slot}")
}

fn gpt_json(model: &Model, g: &GptPartition) -> Json {
    json!({
        "name": gpt_name(model, g),
        "partition": model.source(g).map(|p| p.name.clone()),
        "role": match g.role { Role::Data => "data", Role::VerityHash => "verity", Role::VeritySignature => "verity-sig" },
        "slot": match g.slot { Slot::Only => None, Slot::A => Some("a"), Slot::B => Some("b") },
        "type": g.ty.full_name(model.system.arch.value),
        "type-uuid": g.ty.uuid(model.system.arch.value),
        "label": g.label.text(&model.system),
        "size-min": g.size_min,
        "size-max": g.size_max,
        "weight": g.weight,
        "format": g.format.map(crate::model::Format::name),
        "encrypt": g.encrypt.name(),
        "verity-match-key": g.verity_match_key,
        "create": g.create.symbol(),
        "factory-reset": g.factory_reset,
        "directories": model.directories(g).collect::<Vec<_>>(),
    })
}

fn extension_json(model: &Model, e: &Extension) -> Json {
    let release: Map<String, Json> = e
        .release(&model.system)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    json!({
        "name": e.name,
        "image": e.image,
        "kind": e.kind.value.name(),
        "source": e.source.value,
        "requires": strings(&e.requires.value),
        "overrides": strings(&e.overrides().value),
        "signed": e.signed.value,
        "packages": strings(&e.packages.value),
        "version": e.version_in(&model.system),
        "optional": e.optional().value,
        "app": e.app().value,
        "runtime": e.runtime().value,
        "release": release,
    })
}
