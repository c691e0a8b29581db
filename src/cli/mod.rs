//! The command line: clap arguments, turned into a validated [`Config`], run, and mapped to an
//! exit code. The only module that prints or decides the exit status (invariant A2).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod build;
mod check;
mod diff;
mod eval;
mod extensions;
mod fmt;
mod init;
mod lock;
mod lsp;
mod model_json;
mod output;
mod plan;
mod products;
mod progress;
mod replace;
mod revision;
mod tree;
mod trust;
mod why;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser as _;

pub use args::Args;
use output::Output;
pub use plan::{PlanJson, StepJson};
pub use tree::write_tree;

/// Exit status: the input is fine (warnings allowed).
pub const EXIT_OK: u8 = 0;
/// Exit status: the input has errors (or warnings under `--deny-warnings`).
pub const EXIT_INPUT: u8 = 1;
/// Exit status: pcfg itself failed, or the arguments are wrong.
pub const EXIT_FAILURE: u8 = 2;

/// A failure of the tool or the invocation, not of the input: exit 2 — or, for a closed
/// pipe, a quiet exit 0 (`pcfg eval x.pcfg | head`).
#[derive(Debug)]
pub enum Failure {
    BrokenPipe,
    /// The arguments name something that does not exist (a code, a path, an empty directory).
    Usage(String),
    /// pcfg could not do its work (an unreadable entry file, an I/O error).
    Message(String),
}

impl Failure {
    fn usage(text: impl Into<String>) -> Self {
        Failure::Usage(text.into())
    }
}

/// A value no writer can carry: nothing is written, and the message names the file, the key and
/// what the syntax cannot hold.
impl From<crate::emit::Refused> for Failure {
    fn from(refused: crate::emit::Refused) -> Self {
        Failure::Message(format!("refusing to write {refused}"))
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(err.to_string())
        }
    }
}

impl From<serde_json::Error> for Failure {
    fn from(err: serde_json::Error) -> Self {
        match err.io_error_kind() {
            Some(io::ErrorKind::BrokenPipe) => Failure::BrokenPipe,
            _ => Failure::Message(err.to_string()),
        }
    }
}

impl From<crate::resolve::EntryError> for Failure {
    fn from(err: crate::resolve::EntryError) -> Self {
        Failure::Message(err.to_string())
    }
}

/// On SIGINT, SIGTERM or SIGHUP, removes the temporary trees of `git:REV:PATH` revisions, then
/// exits 130.
fn remove_revisions_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        revision::remove_all();
        // The one exit outside `main`'s return: the signal arrived in the middle of a command.
        #[allow(clippy::exit)]
        std::process::exit(130);
    });
}

/// Runs pcfg with the process's arguments.
#[must_use]
pub fn run() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let code = if err.use_stderr() {
                EXIT_FAILURE
            } else {
                EXIT_OK
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let output = Output::from_args(&args);
    // The language server writes the protocol to stdout from its own thread: it must not find
    // stdout locked.
    let result = if matches!(args.command, args::Command::Lsp) {
        lsp::run()
    } else {
        let mut stdout = io::stdout().lock();
        dispatch(&args, &output, &mut stdout).and_then(|code| {
            stdout.flush()?;
            Ok(code)
        })
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure::BrokenPipe) => ExitCode::from(EXIT_OK),
        // Written without panicking: stderr itself may be what failed (`2>/dev/full`).
        Err(Failure::Usage(message)) => {
            let _ = writeln!(io::stderr(), "error: {message}");
            ExitCode::from(EXIT_FAILURE)
        }
        Err(Failure::Message(message)) => {
            let _ = writeln!(io::stderr(), "pcfg failed: {message}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn dispatch(args: &Args, output: &Output, out: &mut dyn Write) -> Result<u8, Failure> {
    match &args.command {
        args::Command::Check(check) => check::run(check, output, out),
        args::Command::Build(build) => build::run(build, output, out),
        args::Command::Eval(eval) => eval::run(eval, output, out),
        args::Command::Plan(plan) => plan::run(plan, output, out),
        args::Command::Why(why) => why::run(why, output, out),
        args::Command::Trust(trust) => trust::run(trust, output, out),
        args::Command::Lock(lock) => lock::run(lock, output, out),
        args::Command::Extensions(extensions) => extensions::run(extensions, output, out),
        args::Command::BaseManifest(manifest) => extensions::base_manifest(manifest, out),
        args::Command::Explain(explain) => match &explain.code {
            Some(code) => explain_code(code, out),
            None => list_codes(out),
        },
        args::Command::Init(init) => init::run(init, out),
        // Run by `run` before stdout is locked (the server writes from its own thread).
        args::Command::Lsp => Err(Failure::Message(
            "pcfg lsp must be started as a command of its own".to_owned(),
        )),
        args::Command::Fmt(fmt) => fmt::run(fmt, output, out),
        args::Command::Diff(diff) => diff::run(diff, output, out),
        args::Command::Completions(completions) => {
            let mut command = <Args as clap::CommandFactory>::command();
            clap_complete::generate(completions.shell, &mut command, "pcfg", out);
            Ok(EXIT_OK)
        }
        args::Command::Man(man) => {
            let pcfg = <Args as clap::CommandFactory>::command();
            let page = match &man.command {
                None => pcfg,
                Some(name) => {
                    let Some(command) = pcfg.find_subcommand(name) else {
                        let names: Vec<&str> = pcfg
                            .get_subcommands()
                            .map(clap::Command::get_name)
                            .collect();
                        return Err(Failure::usage(format!(
                            "no command `{name}`: one of {}",
                            names.join(", ")
                        )));
                    };
                    command.clone().name(format!("pcfg-{name}"))
                }
            };
            clap_mangen::Man::new(page).render(out)?;
            Ok(EXIT_OK)
        }
    }
}

/// A field of the schema: its type, default, and what it does (`check-only` with the reason).
fn explain_field(path: &str, out: &mut dyn Write) -> Result<u8, Failure> {
    let parts: Vec<&str> = path.split('.').collect();
    let Some(field) = crate::schema::field_at_loose(&parts) else {
        return Err(Failure::usage(format!(
            "no field `{path}` in the schema: `pcfg explain` takes a code or a field path such as `partition.root.size`"
        )));
    };
    let ty = match &field.ty {
        crate::schema::Ty::Str(rule) => rule.describe().to_owned(),
        other => other.describe(),
    };
    writeln!(out, "{path}: {ty}")?;
    if field.required {
        writeln!(out, "required")?;
    }
    if let Some(default) = field.default {
        writeln!(out, "default: {default}")?;
    }
    match field.effect {
        crate::schema::Effect::Emitted => {
            writeln!(out, "takes effect in the emitted files")?;
        }
        crate::schema::Effect::CheckOnly(reason) => {
            writeln!(out, "check-only: {reason}")?;
        }
    }
    Ok(EXIT_OK)
}

fn explain_code(name: &str, out: &mut dyn Write) -> Result<u8, Failure> {
    if pcfg_code(name).is_none() && name.contains('.') {
        return explain_field(name, out);
    }
    let Some(code) = pcfg_code(name) else {
        let names: Vec<&str> = crate::diag::Code::ALL.iter().map(|c| c.name()).collect();
        let hint =
            crate::diag::did_you_mean(name.trim_start_matches("pcfg::"), names.iter().copied())
                .map_or_else(
                    || "`pcfg explain` without a code lists every code".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                );
        return Err(Failure::usage(format!(
            "no diagnostic code `{name}`: {hint}"
        )));
    };
    out.write_all(code.doc().as_bytes())?;
    Ok(EXIT_OK)
}

fn list_codes(out: &mut dyn Write) -> Result<u8, Failure> {
    for code in crate::diag::Code::ALL {
        let summary = code
            .doc()
            .lines()
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        writeln!(out, "{:<32} {summary}", code.to_string())?;
    }
    Ok(EXIT_OK)
}

fn pcfg_code(name: &str) -> Option<crate::diag::Code> {
    crate::diag::Code::from_name(name)
}

/// The entry file's base name, as emitted files name it.
pub(crate) fn entry_name(entry: &std::path::Path) -> String {
    entry
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// How emitted files name the entry `entry` (called `entry_name`), for an output directory
/// beside it and no lock file.
pub(crate) fn entry_source<'a>(
    entry: &'a std::path::Path,
    entry_name: &'a str,
) -> crate::emit::Source<'a> {
    crate::emit::Source {
        entry_name,
        entry_dir: entry.parent().unwrap_or(std::path::Path::new("")),
        entry_from_output: std::path::Path::new(""),
        lock: None,
    }
}
