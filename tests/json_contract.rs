//! The JSON contracts, mirrored here with `deny_unknown_fields`: a field added, removed or
//! renamed in `--format json` output fails this test until the mirror (and the documented
//! schema in the book) follow.
#![allow(dead_code)]

use serde::Deserialize;

use crate::support::pcfg;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    diagnostics: Vec<Diagnostic>,
    errors: usize,
    version: u32,
    warnings: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Diagnostic {
    code: String,
    end: Position,
    file: String,
    help: Option<String>,
    labels: Vec<Label>,
    message: String,
    severity: String,
    start: Position,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Label {
    end: Position,
    file: String,
    message: Option<String>,
    start: Position,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Position {
    column: usize,
    line: usize,
    offset: u32,
}

#[test]
fn diagnostics_report_v1() {
    let run = pcfg(&[
        "check",
        "--format",
        "json",
        "tests/cases/err/several-errors.pcfg",
        "tests/cases/err/conflicting-definitions/system.pcfg",
        "examples/minimal.pcfg",
    ]);
    assert_eq!(run.code, 1);
    let report: Report = serde_json::from_str(&run.stdout).expect("the v1 schema");
    assert_eq!(report.version, 1);
    assert_eq!(
        report.errors,
        report
            .diagnostics
            .iter()
            .filter(|d| d.severity == "error")
            .count()
    );
    assert!(report.errors >= 6);
    let conflict = report
        .diagnostics
        .iter()
        .find(|d| d.code == "pcfg::conflicting-definitions")
        .expect("a conflict");
    assert_eq!(
        conflict.file,
        "tests/cases/err/conflicting-definitions/server.pcfg"
    );
    assert_eq!((conflict.start.line, conflict.start.column), (3, 3));
    assert_eq!(
        conflict.labels[0].file,
        "tests/cases/err/conflicting-definitions/desktop.pcfg"
    );
    assert!(conflict
        .help
        .as_deref()
        .is_some_and(|h| h.contains("system.pcfg")));
    for d in &report.diagnostics {
        assert!(d.code.starts_with("pcfg::"));
        assert!(d.start.offset <= d.end.offset);
        assert!(d.severity == "error" || d.severity == "warning");
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Site {
    file: String,
    line: usize,
    column: usize,
    op: String,
    default: bool,
    value: serde_json::Value,
    #[serde(rename = "imported-via")]
    imported_via: Vec<Location>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Location {
    file: String,
    line: usize,
    column: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Why {
    path: String,
    value: serde_json::Value,
    set: Option<Site>,
    applied: Vec<Site>,
    overridden: Vec<OverriddenSite>,
    /// Only for `system.packages`.
    added: Option<Vec<Added>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Added {
    package: String,
    #[serde(rename = "for")]
    need: String,
    #[serde(rename = "in")]
    place: String,
}

/// `system.packages`: what pcfg adds, each with its need and where it goes.
#[test]
fn why_json_of_the_packages_lists_what_pcfg_adds() {
    let run = pcfg(&[
        "why",
        "--format",
        "json",
        "examples/server/system.pcfg",
        "system.packages",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let why: Why = serde_json::from_str(&run.stdout).expect("the why schema");
    assert_eq!(why.path, "system.packages");
    let added = why.added.expect("added");
    let find = |package: &str, place: &str| {
        added
            .iter()
            .find(|a| a.package == package && a.place == place)
            .map(|a| a.need.clone())
    };
    assert_eq!(
        find("systemd-repart", "image").as_deref(),
        Some("partitions made at first boot (systemd-repart)")
    );
    assert_eq!(
        find("xfsprogs", "initrd").as_deref(),
        Some("the `xfs` file system")
    );
    assert!(added.iter().all(|a| a.package != "openssh-server"));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverriddenSite {
    reason: String,
    definition: Site,
}

#[test]
fn why_json() {
    let run = pcfg(&[
        "why",
        "--format",
        "json",
        "examples/remix.pcfg",
        "partition.usr.size-max",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let why: Why = serde_json::from_str(&run.stdout).expect("the why schema");
    assert_eq!(why.value, 30u64 << 30);
    let set = why.set.expect("set");
    assert_eq!((set.file.as_str(), set.line), ("examples/remix.pcfg", 7));
    assert_eq!(why.overridden.len(), 1);
    assert_eq!(why.overridden[0].reason, "higher-layer");
    assert_eq!(
        why.overridden[0].definition.imported_via[0].file,
        "examples/remix.pcfg"
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Trust {
    version: u32,
    require: String,
    chain: Vec<TrustLink>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustLink {
    link: String,
    state: String,
    reason: String,
    declared: Option<Location>,
}

#[test]
fn trust_json_v1() {
    let run = pcfg(&["trust", "--format", "json", "examples/remix.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let trust: Trust = serde_json::from_str(&run.stdout).expect("the trust schema");
    assert_eq!(
        (trust.version, trust.require.as_str()),
        (1, "verified-boot")
    );
    let states = ["verified", "measured", "encrypted", "unprotected"];
    assert!(trust
        .chain
        .iter()
        .all(|l| states.contains(&l.state.as_str()) && !l.reason.is_empty()));
    let extensions = trust
        .chain
        .iter()
        .find(|l| l.link == "extensions")
        .expect("the remix has sysexts");
    assert_eq!(extensions.state, "verified");
    assert!(
        trust.chain.iter().all(|l| l.link != "swap"),
        "the remix removed swap"
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Eval {
    version: u32,
    config: serde_json::Value,
    model: Option<serde_json::Value>,
}

#[test]
fn eval_json_v1() {
    let run = pcfg(&["eval", "examples/particleos.pcfg"]);
    let eval: Eval = serde_json::from_str(&run.stdout).expect("the eval schema");
    assert_eq!(eval.version, 1);
    assert!(eval.config.get("partition").is_some());
    let model = eval.model.expect("a model");
    for key in [
        "system",
        "disk",
        "partitions",
        "layout",
        "cmdline",
        "image-policy",
        "image-filter",
        "uki-profiles",
        "trust-chain",
        "extensions",
        "extension-order",
        "updates",
    ] {
        assert!(model.get(key).is_some(), "model.{key}");
    }
    assert_eq!(model["layout"].as_array().map(Vec::len), Some(10));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanV1 {
    version: u32,
    steps: Vec<PlanStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanStep {
    name: String,
    id: String,
    kind: String,
    tool: Option<String>,
    args: Vec<String>,
    needs: Vec<String>,
    outputs: Vec<String>,
    params: std::collections::BTreeMap<String, String>,
}

#[test]
fn plan_json_v1() {
    for example in ["minimal", "particleos", "remix"] {
        let run = pcfg(&["plan", "--as", "json", &format!("examples/{example}.pcfg")]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let plan: PlanV1 = serde_json::from_str(&run.stdout).expect("the plan schema");
        assert_eq!(plan.version, 1);
        for step in &plan.steps {
            assert_eq!(step.id.len(), 64, "{}", step.name);
            assert!(step.params.values().all(|v| v.len() == 64), "{}", step.name);
            assert_eq!(step.tool.is_none(), step.kind == "input", "{}", step.name);
            assert!(
                step.args.iter().all(|a| !a.is_empty())
                    && step.outputs.iter().all(|o| !o.starts_with('/'))
            );
        }
    }
}
