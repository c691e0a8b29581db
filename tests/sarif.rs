//! `--format sarif`: the log validates against the SARIF 2.1.0 schema (kept in `tests/schemas/`),
//! names one rule per diagnostic code with its help and catalogue link, and gives every result
//! its region.

use std::path::Path;

use pcfg::diag::Code;
use serde_json::Value as Json;

use crate::support::{pcfg, pcfg_in};

/// The SARIF 2.1.0 schema, as OASIS publishes it — with one repair: the pattern of
/// `run.language` has a stray `]` (`...-[a-zA-Z]{2}]?$`), which ECMAScript reads as a literal but
/// the validator's `regex` format check rejects, so the schema itself would not load. Escaping it
/// keeps its meaning.
fn schema() -> Json {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(path).expect("schema");
    let broken = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(
        text.contains(broken),
        "the schema changed: review the repair"
    );
    let text = text.replace(broken, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    serde_json::from_str(&text).expect("json")
}

fn validate(log: &Json) {
    let schema = schema();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn sarif(args: &[&str]) -> (i32, Json) {
    let mut all = vec!["check", "--format", "sarif"];
    all.extend(args);
    let run = pcfg(&all);
    let log = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
    (run.code, log)
}

#[test]
fn every_error_fixture_gives_a_valid_log() {
    let (code, log) = sarif(&["tests/cases/err"]);
    assert_eq!(code, 1);
    validate(&log);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), Code::ALL.len(), "one rule per code");
    for (rule, code) in rules.iter().zip(Code::ALL) {
        assert_eq!(rule["id"], code.to_string());
        assert_eq!(rule["help"]["markdown"], code.doc());
        assert!(rule["shortDescription"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()));
        assert_eq!(
            rule["helpUri"],
            format!("https://pcfg.dev/book/diagnostics.html#pcfg{}", code.name())
        );
    }
    let results = run["results"].as_array().expect("results");
    assert!(results.len() >= 80, "{} results", results.len());
    let mut codes: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert!(codes.len() >= 45, "codes: {codes:?}");
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("rule index");
        assert_eq!(
            rules[usize::try_from(index).expect("index")]["id"],
            result["ruleId"]
        );
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(
            region["startLine"].as_u64().is_some_and(|l| l >= 1),
            "{result}"
        );
        assert!(
            region["startColumn"].as_u64().is_some_and(|c| c >= 1),
            "{result}"
        );
    }
    // Labels in other files are related locations.
    assert!(results.iter().any(|r| r["relatedLocations"].is_array()));
}

#[test]
fn a_result_points_at_its_span() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("my system.pcfg"),
        "system { name = \"x\" }\npartition esp { type = esp, sise = 1G }\n",
    )
    .expect("write");
    let run = pcfg_in(
        dir.path(),
        &["check", "--format", "sarif", "my system.pcfg"],
    );
    assert_eq!(run.code, 1);
    let log: Json = serde_json::from_str(&run.stdout).expect("json");
    validate(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "pcfg::unknown-field");
    assert_eq!(result["level"], "error");
    assert!(result["message"]["text"]
        .as_str()
        .expect("text")
        .contains("help: did you mean `size`?"));
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "my%20system.pcfg");
    assert_eq!(
        location["region"],
        serde_json::json!({ "startLine": 2, "startColumn": 29, "endLine": 2, "endColumn": 33 })
    );

    let clean = pcfg(&["check", "--format", "sarif", "examples/particleos.pcfg"]);
    assert_eq!(clean.code, 0);
    let log: Json = serde_json::from_str(&clean.stdout).expect("json");
    validate(&log);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn the_schema_catches_a_broken_log() {
    // The validator is not vacuous: a log without its version fails.
    let (_, mut log) = sarif(&["tests/cases/err/unknown-field.pcfg"]);
    log.as_object_mut().expect("object").remove("version");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("a valid schema");
    assert!(!validator.is_valid(&log));
}
