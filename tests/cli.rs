//! The command-line contract: exit codes, streams and formats, as transcripts.

use std::fmt::Write as _;

use crate::support::{pcfg, pcfg_in};

#[test]
fn check_clean_file_exits_0() {
    insta::assert_snapshot!(pcfg(&["check", "examples/minimal.pcfg"]).transcript());
}

#[test]
fn check_with_errors_exits_1_and_reports_every_error() {
    let run = pcfg(&["check", "tests/cases/err/several-errors.pcfg"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn check_walks_directories() {
    let run = pcfg(&["check", "examples"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("checked 12 files"), "{}", run.stderr);
}

#[test]
fn check_a_directory_without_configs_is_a_usage_failure() {
    let run = pcfg(&["check", "src"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("no `.pcfg` files"));
}

#[test]
fn warnings_exit_0_unless_denied() {
    let path = "tests/cases/err/remove-missing-item/system.pcfg";
    assert_eq!(pcfg(&["check", path]).code, 0);
    assert_eq!(pcfg(&["check", "--deny-warnings", path]).code, 1);
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(pcfg(&["check"]).code, 2);
    assert_eq!(pcfg(&["frobnicate"]).code, 2);
    assert_eq!(pcfg(&["check", "--format", "xml", "x.pcfg"]).code, 2);
}

#[test]
fn explain_prints_the_catalogue_page() {
    let run = pcfg(&["explain", "pcfg::import-cycle"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, pcfg::diag::Code::ImportCycle.doc());
    assert_eq!(pcfg(&["explain", "import-cycle"]).stdout, run.stdout);
}

#[test]
fn explain_unknown_code_suggests() {
    insta::assert_snapshot!(pcfg(&["explain", "import-cylce"]).transcript());
}

#[test]
fn explain_without_code_lists_all() {
    let run = pcfg(&["explain"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.lines().count(), pcfg::diag::Code::ALL.len());
}

#[test]
fn eval_prints_resolved_json_with_provenance_on_request() {
    let run = pcfg(&["eval", "--provenance", "tests/cases/ok/layers/system.pcfg"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn eval_of_a_broken_config_exits_1_with_diagnostics() {
    let run = pcfg(&["eval", "tests/cases/err/unknown-field.pcfg"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("pcfg::unknown-field"));
}

#[test]
fn why_of_a_list_shows_each_operation() {
    insta::assert_snapshot!(pcfg(&["why", "examples/remix.pcfg", "system.cmdline"]).transcript());
}

#[test]
fn why_of_an_unset_field_gives_its_default() {
    insta::assert_snapshot!(
        pcfg(&["why", "examples/remix.pcfg", "partition.usr.encrypt"]).transcript()
    );
}

/// `why` of a field of an absent block (its default), of a derived value (the value and the
/// rule), of what a `remove` took out (where, and what it was), and through two imports (the
/// whole chain).
#[test]
fn why_explains_defaults_derivations_removals_and_chains() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("system.pcfg"),
        "import \"std/particleos\"\nsystem.name = \"MyOS\"\nupdate.channel.obs.source = \"https://u.example.org/\"\nremove partition.swap\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("top.pcfg"), "import \"system.pcfg\"\n").expect("write");
    std::fs::write(
        dir.path().join("derived.pcfg"),
        "system { name = \"v\", version = \"1\" }\npartition usr { type = usr, verity = hash, size-max = 60G, slots = 2 }\n",
    )
    .expect("write");
    let mut transcript = String::new();
    for (file, path) in [
        ("system.pcfg", "disk.size"),
        ("derived.pcfg", "partition.usr.verity-size"),
        ("system.pcfg", "partition.root.label"),
        ("system.pcfg", "system.id"),
        ("system.pcfg", "partition.swap"),
        ("system.pcfg", "partition.swap.size"),
        ("top.pcfg", "partition.usr.size-max"),
    ] {
        let run = pcfg_in(dir.path(), &["why", file, path]);
        assert_eq!(run.code, 0, "{}", run.transcript());
        let _ = writeln!(transcript, "$ pcfg why {file} {path}\n{}", run.stdout);
    }
    insta::assert_snapshot!(transcript);
}

#[test]
fn why_of_an_unknown_path_suggests() {
    let run = pcfg(&["why", "examples/remix.pcfg", "partition.usrr.size"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.transcript());
}

#[test]
fn why_of_a_block_lists_its_fields() {
    insta::assert_snapshot!(pcfg(&["why", "examples/remix.pcfg", "partition.usr"]).transcript());
}

#[test]
fn color_follows_flag_and_environment() {
    let path = "tests/cases/err/unknown-field.pcfg";
    let always = pcfg(&["--color", "always", "check", path]);
    assert!(always.stderr.contains('\u{1b}'), "--color always colours");
    let never = pcfg(&["--color", "never", "check", path]);
    assert!(!never.stderr.contains('\u{1b}'));
    let auto = pcfg(&["check", path]);
    assert!(
        !auto.stderr.contains('\u{1b}'),
        "NO_COLOR and a pipe: no colour"
    );
}

#[test]
fn json_format_goes_to_stdout_without_colour() {
    let run = pcfg(&[
        "--color",
        "always",
        "check",
        "--format",
        "json",
        "tests/cases/err/unknown-field.pcfg",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(!run.stdout.contains('\u{1b}'));
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_closed_pipe_ends_quietly_with_0() {
    // Output far larger than a pipe's buffer, read one byte of: pcfg's later writes fail.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("system { name = \"big\" }\n");
    for n in 0..3000 {
        let _ = writeln!(
            text,
            "partition p{n} {{ type = linux-generic, size = {}M }}",
            n + 1
        );
    }
    std::fs::write(dir.path().join("big.pcfg"), text).expect("write");
    let pcfg = env!("CARGO_BIN_EXE_pcfg");
    let script = format!("'{pcfg}' eval --provenance big.pcfg | head -c 1 >/dev/null; echo \"status ${{PIPESTATUS[0]}}\"");
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("status 0"), "{stdout}{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn bash_completes_subcommands_from_the_generated_script() {
    let script = pcfg(&["completions", "bash"]);
    assert_eq!(script.code, 0, "{}", script.transcript());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pcfg.bash");
    std::fs::write(&path, &script.stdout).expect("write");
    // Source the script into a real bash and ask it to complete `pcfg ch` and `pcfg build --ch`.
    let complete = |words: &str, index: usize| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=({words}); COMP_CWORD={index}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; _pcfg pcfg; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                path.display()
            ))
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let commands = complete("pcfg ch", 1);
    assert!(commands.lines().any(|l| l == "check"), "{commands}");
    let flags = complete("pcfg build --ch", 2);
    assert!(flags.lines().any(|l| l == "--check"), "{flags}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = pcfg(&["completions", shell]);
        assert_eq!(script.code, 0, "{shell}");
        assert!(
            script.stdout.contains("extensions"),
            "{shell}: {}",
            script.stdout
        );
    }
}

/// A manual page rendered by groff, with every warning on; panics on a warning.
fn groff(page: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("page.1");
    std::fs::write(&path, page).expect("write");
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-c", "-P-b", "-P-o", "-P-u"])
        .arg(&path)
        .output()
        .expect("groff runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "groff: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_man_pages_render_without_warnings() {
    let page = pcfg(&["man"]);
    assert_eq!(page.code, 0, "{}", page.transcript());
    let text = groff(&page.stdout);
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS"] {
        assert!(text.contains(section), "no {section}:\n{text}");
    }
    let pcfg_command = <pcfg::cli::Args as clap::CommandFactory>::command();
    let commands: Vec<&str> = pcfg_command
        .get_subcommands()
        .map(clap::Command::get_name)
        .filter(|name| *name != "help")
        .collect();
    assert!(
        commands.contains(&"fmt") && commands.contains(&"diff"),
        "{commands:?}"
    );
    for command in commands {
        assert!(
            text.contains(&format!("pcfg-{command}")),
            "no {command}:\n{text}"
        );
        // Each page it names exists.
        let sub = pcfg(&["man", command]);
        assert_eq!(sub.code, 0, "{}", sub.transcript());
        let sub = groff(&sub.stdout);
        assert!(sub.contains(&format!("pcfg-{command}")), "{sub}");
    }
    let build = groff(&pcfg(&["man", "build"]).stdout);
    assert!(build.contains("--check"), "{build}");
    let unknown = pcfg(&["man", "chek"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no command `chek`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn init_starts_a_remix_whose_every_suggestion_compiles_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = pcfg_in(dir.path(), &["init", "myos"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let path = dir.path().join("myos/system.pcfg");
    let text = std::fs::read_to_string(&path).expect("written");
    assert!(text.contains("import \"std/particleos\""), "{text}");
    let check = pcfg_in(
        dir.path(),
        &["check", "--deny-warnings", "myos/system.pcfg"],
    );
    assert_eq!(check.code, 0, "{}", check.transcript());
    let fmt = pcfg_in(dir.path(), &["fmt", "--check", "myos"]);
    assert_eq!(
        fmt.code, 0,
        "pcfg init writes formatted files: {}",
        fmt.stdout
    );

    // Each commented change, switched on alone, compiles without a diagnostic.
    let suggestions: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("# ")
                && (l.contains(" = ") || l.contains(" += ") || l.starts_with("# remove "))
        })
        .collect();
    assert!(suggestions.len() >= 6, "{suggestions:?}");
    for line in &suggestions {
        let on = text.replace(line, &line[2..]);
        std::fs::write(dir.path().join("try.pcfg"), on).expect("write");
        let check = pcfg_in(dir.path(), &["check", "--deny-warnings", "try.pcfg"]);
        assert_eq!(check.code, 0, "`{line}`: {}", check.transcript());
    }

    // Never overwrites, and says so.
    let again = pcfg_in(dir.path(), &["init", "myos"]);
    assert_eq!(again.code, 2, "{}", again.transcript());
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).expect("still there"), text);

    for example in [
        "minimal",
        "particleos",
        "particleos-desktop",
        "server",
        "no-secure-boot",
        "arm64-board",
    ] {
        let run = pcfg_in(dir.path(), &["init", example, "--from", example]);
        assert_eq!(run.code, 0, "{example}: {}", run.transcript());
        let check = pcfg_in(dir.path(), &["check", &format!("{example}/system.pcfg")]);
        assert_eq!(check.code, 0, "{example}: {}", check.transcript());
    }
    let unknown = pcfg_in(dir.path(), &["init", "x", "--from", "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("one of minimal"),
        "{}",
        unknown.stderr
    );
    assert!(!dir.path().join("x").exists(), "nothing written on error");
}

#[test]
fn github_format_annotates_each_diagnostic_on_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("system.pcfg"),
        "system { name = \"x\", version = \"1\" }\npartition esp { type = esp, size = 1G, sise = 3 }\nsystem.cmdline -= [\"quiet\"]\n",
    )
    .expect("write");
    let run = pcfg_in(dir.path(), &["check", "--format", "github", "system.pcfg"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "::error file=system.pcfg,line=2,col=40,endLine=2,endColumn=43,title=pcfg%3A%3Aunknown-field::unknown field `sise` in `partition.esp`%0Ahelp: did you mean `size`?",
            "::warning file=system.pcfg,line=3,col=20,endLine=3,endColumn=26,title=pcfg%3A%3Aremove-missing-item::`\"quiet\"` is not in `system.cmdline`%0Ahelp: delete this item from the `-=`; `pcfg why` shows the list as the lower layers define it",
        ],
        "{}",
        run.transcript()
    );
    assert!(
        run.stderr.contains("checked 1 file: 1 error"),
        "{}",
        run.stderr
    );
}

/// The synopsis in the CLI chapter lists every value `--format` and `--color` take.
#[test]
fn the_cli_chapter_lists_every_format() {
    let help = pcfg(&["--help"]).stdout;
    let chapter = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/cli.md"),
    )
    .expect("cli.md");
    for option in ["--format", "--color"] {
        let block = help
            .split_once(&format!("{option} <"))
            .map(|(_, rest)| {
                rest.split_once("\n      -")
                    .map_or(rest, |(block, _)| block)
            })
            .expect("the option in --help");
        // clap lists values either inline or one per line (when they have help of their own).
        let values: Vec<&str> = match block.split_once("[possible values: ") {
            Some((_, list)) => list
                .split_once(']')
                .map_or(list, |(l, _)| l)
                .split(", ")
                .collect(),
            None => block
                .lines()
                .filter_map(|l| l.trim().strip_prefix("- "))
                .filter_map(|l| l.split(':').next())
                .collect(),
        };
        assert!(values.len() >= 3, "{option}: {values:?}");
        let synopsis = format!("[{option} {}]", values.join("|"));
        assert!(
            chapter.contains(&synopsis),
            "cli.md should show `{synopsis}`"
        );
    }
}
