//! Helpers shared by the tests: compile a file or an in-memory tree, render its diagnostics,
//! run the binary.

use std::path::Path;
use std::process::Command;

use pcfg::compile::{check, Compilation};
use pcfg::diag::render::{render, RenderOptions};
use pcfg::vfs::{MemoryFs, RealFs};

/// Compiles a file on disk, relative to the crate root.
pub(crate) fn compile_file(path: &Path) -> Compilation {
    check(&RealFs, path).expect("the entry file is readable")
}

/// Compiles `files[0]` of an in-memory tree of `(path, text)`.
pub(crate) fn compile_memory(files: &[(&str, &[u8])]) -> Compilation {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.insert(path, text.to_vec());
    }
    check(&fs, Path::new(files[0].0)).expect("the entry file exists")
}

/// Every diagnostic rendered as the terminal shows it, fixed width, no colour.
pub(crate) fn rendered(compilation: &Compilation) -> String {
    compilation
        .diagnostics
        .iter()
        .map(|d| render(d, &compilation.sources, RenderOptions::plain(80)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The diagnostic codes, in order.
pub(crate) fn codes(compilation: &Compilation) -> Vec<String> {
    compilation
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect()
}

/// The result of running the binary.
pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Exit code, stdout and stderr, for a snapshot.
    pub(crate) fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `pcfg ARGS` in the crate root with a clean, colourless environment.
pub(crate) fn pcfg(args: &[&str]) -> Run {
    pcfg_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

pub(crate) fn pcfg_in(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_pcfg"))
        .args(args)
        .current_dir(dir)
        .env_remove("PCFG_COLOR")
        .env_remove("FORCE_COLOR")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .output()
        .expect("pcfg runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

// A tool that `scripts/test-tools` prepares (`PCFG_TEST_TOOLS`, or `target/test-tools`); it
// panics when the tool is missing. Defined beside the readers, which the fuzz target shares.
pub(crate) use crate::readback::test_tool;

/// A tool that `scripts/test-tools` installs with apt-get, found on `PATH`.
///
/// # Panics
/// When it is missing.
pub(crate) fn test_tool_on_path(name: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is missing: run `scripts/test-tools` first (README.md)"))
}

/// Runs the publish step of `out/build.ninja` whose directory is `dir` (`publish/stable`) in
/// `out`, exactly as Ninja would (its command from `ninja -t commands`); returns the command.
///
/// # Panics
/// When there is no such step or it fails.
pub(crate) fn publish(out: &Path, dir: &str) -> String {
    let ninja = std::fs::read_to_string(out.join("build.ninja")).expect("build.ninja");
    let lines: Vec<&str> = ninja.lines().collect();
    let stamp = lines
        .iter()
        .enumerate()
        .find_map(|(i, line)| {
            let (stamp, rule) = line.strip_prefix("build ")?.split_once(": ")?;
            let own = lines[i + 1..]
                .iter()
                .take_while(|l| l.starts_with("  "))
                .any(|l| *l == format!("  dir = {dir}"));
            (rule.starts_with("publish") && own).then_some(stamp)
        })
        .unwrap_or_else(|| panic!("no publish step for {dir}"));
    let commands = Command::new(test_tool_on_path("ninja"))
        .args(["-t", "commands", "-s", stamp])
        .current_dir(out)
        .output()
        .expect("ninja runs");
    let command = String::from_utf8_lossy(&commands.stdout).trim().to_owned();
    // Ninja makes the directories of a step's outputs (its stamp) before it runs it.
    std::fs::create_dir_all(out.join(".pcfg")).expect("mkdir");
    let run = Command::new("sh")
        .args(["-c", &command])
        .current_dir(out)
        .output()
        .expect("sh runs");
    assert!(run.status.success(), "{command}: {run:?}");
    command
}

/// Runs git in `dir` with a fixed identity and no signing; panics when it fails.
pub(crate) fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=pcfg",
            "-c",
            "user.email=pcfg@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// `pcfg build CONFIG -o DIR/out` in a new temporary directory; panics when it fails. The
/// directory lives as long as the returned guard.
pub(crate) fn built(config: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    built_together(&[config])
}

/// `pcfg build CONFIG... -o DIR/out` (several entry files: products built together) in a new
/// temporary directory; panics when it fails.
pub(crate) fn built_together(configs: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    build_to(configs, &out);
    (dir, out)
}

/// `pcfg build CONFIG... -o OUT`; panics when it fails.
pub(crate) fn build_to(configs: &[&str], out: &Path) {
    let mut args = vec!["build"];
    args.extend(configs);
    args.extend(["-o", out.to_str().expect("utf-8")]);
    let run = pcfg(&args);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

/// `mkosi --json summary` in the project directory `project` (with `--profile=PROFILE` when
/// given): every image mkosi would build, in order; panics when mkosi fails or warns.
pub(crate) fn mkosi_summary(project: &Path, profile: Option<&str>) -> Vec<serde_json::Value> {
    let mkosi = test_tool("mkosi");
    let mut command = Command::new(&mkosi);
    if let Some(profile) = profile {
        command.arg(format!("--profile={profile}"));
    }
    let output = command
        .args(["--json", "summary"])
        .current_dir(project)
        .output()
        .expect("mkosi runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "mkosi {profile:?}: {stderr}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    summary["Images"].as_array().expect("images").clone()
}

/// The step ids of `pcfg plan --as json ENTRIES...` run in `dir`, by step name.
pub(crate) fn plan_ids(dir: &Path, entries: &[&str]) -> std::collections::BTreeMap<String, String> {
    let mut args = vec!["plan", "--as", "json"];
    args.extend(entries);
    let run = pcfg_in(dir, &args);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().expect("name").to_owned(),
                s["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect()
}

/// The steps of `before` whose ids `after` changed (or dropped).
pub(crate) fn changed_steps(
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    before
        .iter()
        .filter(|(name, id)| after.get(*name) != Some(id))
        .map(|(name, _)| name.clone())
        .collect()
}
