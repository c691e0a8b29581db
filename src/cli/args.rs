//! The clap definition of pcfg's command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Compile declarations of immutable, verified Linux systems.
#[derive(Debug, Parser)]
#[command(name = "pcfg", version, about, max_term_width = 100)]
pub struct Args {
    /// When to use colour: `auto` follows `NO_COLOR`, `FORCE_COLOR`, TERM=dumb and whether stderr is
    /// a terminal.
    #[arg(long, global = true, value_enum, env = "PCFG_COLOR", default_value_t = Color::Auto)]
    pub color: Color,

    /// Output for people (`human`), programs (`json`, versioned; see the book), GitHub Actions
    /// (`github`: diagnostics as annotations) or code scanning (`sarif`: diagnostics as a SARIF
    /// 2.1.0 log); with `github` and `sarif`, everything but diagnostics is written as `human`.
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check configurations: every error, not just the first. Exit 0 when clean (warnings
    /// allowed), 1 on errors, 2 when pcfg fails or the arguments are wrong.
    Check(CheckArgs),
    /// Write every file the tools read (repart.d, sysupdate.d, a mkosi project, the kernel
    /// command line, ...) to a directory, atomically; `--check` compares instead. Several entry
    /// files are products built together: the base and the extension images once, shared.
    Build(BuildArgs),
    /// Print the resolved configuration and the derived OS model as JSON.
    Eval(EvalArgs),
    /// Show the build plan: every artifact, the step and tool that make it, its content hash.
    Plan(PlanArgs),
    /// Show a value, where it was set, and every definition it overrode.
    Why(WhyArgs),
    /// Analyse the extension source trees: shadowing, sharing, library dependencies, symbol
    /// versions in the merged `/usr`, what each kind may contain.
    Extensions(ExtensionsArgs),
    /// Write the manifest of a built base tree: every file's size and SHA-256, every link's
    /// target, and each ELF file's machine, libraries and symbol versions; what `pcfg extensions`
    /// needs of the base, for CI that does not have the tree (`system.base-tree = "base.json"`).
    BaseManifest(BaseManifestArgs),
    /// Record the SHA-256 of every input (files, extension trees) in `FILE.lock`.
    Lock(LockArgs),
    /// Show the trust chain, link by link: verified, measured, encrypted or unprotected.
    Trust(TrustArgs),
    /// Explain a diagnostic code (what it checks, why, an example and the fix), or a field of the
    /// schema (its type, default, and whether it changes emitted files or is check-only).
    Explain(ExplainArgs),
    /// Compare two configurations as systems: partitions, disk layout, trust chain, command line
    /// and image policy, extensions, updates and build steps, each change with its declaration;
    /// `git:REV FILE...` compares files with themselves at a revision, and products as a set.
    Diff(DiffArgs),
    /// Rewrite `.pcfg` files in the canonical layout, comments kept; `--check` and `--diff` only
    /// report (exit 1 when a file would change).
    Fmt(FmtArgs),
    /// Start a configuration in DIR (`system.pcfg`): a remix of `std/particleos`, or an example.
    Init(InitArgs),
    /// Print a completion script for a shell, e.g. `pcfg completions bash > /etc/bash_completion.d/pcfg`.
    Completions(CompletionsArgs),
    /// Print a manual page (roff): pcfg's, or a command's (`pcfg man check > pcfg-check.1`).
    Man(ManArgs),
    /// Serve the Language Server Protocol over stdio, for editors: diagnostics as you type
    /// (unsaved buffers over the disk, across imports), hover with the resolved value and its
    /// provenance, definitions (std/ modules as read-only copies), references, rename,
    /// completion of fields, values and labels, the outline, quick fixes, semantic tokens,
    /// formatting.
    Lsp,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The configuration before: a file, or `git:REV:PATH` (PATH relative to the current
    /// directory, as the file is at git revision REV, with its imports and trees); or `git:REV`
    /// alone, to compare each NEW file with itself at REV.
    pub old: String,

    /// The configuration after: a file, or `git:REV:PATH`; after `git:REV`, one or more
    /// files, each a product (several are compared one by one and as products built together).
    #[arg(required = true, num_args = 1..)]
    pub new: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Files, directories searched for `*.pcfg` files, or `-` to format standard input to
    /// standard output; the current directory by default.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write nothing; name the files that are not formatted, and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,

    /// Write nothing; show what formatting would change as a unified diff, and exit 1 if it
    /// would change anything.
    #[arg(long)]
    pub diff: bool,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to write `system.pcfg` in (made if missing); the current one by default.
    pub dir: Option<PathBuf>,

    /// Start from an example instead: minimal, particleos, particleos-desktop, server,
    /// no-secure-boot or arm64-board.
    #[arg(long, value_name = "EXAMPLE")]
    pub from: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The command whose page to print (`pcfg-COMMAND(1)`); pcfg's own page without it.
    pub command: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files, or directories searched for `*.pcfg` files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Also check the files as products built together (as `pcfg build FILE... -o DIR` builds
    /// them): one name each, and the base and extensions they share declared alike.
    #[arg(long)]
    pub products: bool,

    /// Exit 1 when there are warnings.
    #[arg(long)]
    pub deny_warnings: bool,

    /// Also compare every input with the lock file (`FILE.lock`, written by `pcfg lock`).
    #[arg(long)]
    pub locked: bool,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The entry file, e.g. `system.pcfg`; several entry files are products built together
    /// (the base and the extension images once, shared), each in `DIR/products/NAME/`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The output directory; replaced as a whole, and only when every file is written (the tree
    /// it replaces is kept in `DIR/.pcfg/previous`, and the next build is made from it).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// Write nothing; exit 1 and list the differences when DIR is not what pcfg would write (what
    /// `ninja` makes there and `.pcfg/previous` are not compared).
    #[arg(long)]
    pub check: bool,

    /// The system's version for this build (e.g. `--version "$(date +%Y%m%d%H%M)"`), in place
    /// of `system.version`: os-release, the image and partition names, the extensions and the
    /// transfers all take it.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The entry file, e.g. `system.pcfg`; several entry files are products built together, as
    /// `pcfg build` builds them.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// `human` (the default), `json` (version 1), `dot` (Graphviz), `mermaid`, or `ninja` (the
    /// `build.ninja` that `pcfg build` writes).
    #[arg(long = "as", value_enum, value_name = "FORM")]
    pub plan_format: Option<PlanFormat>,

    /// A plan saved with `--as json`: list the steps whose ids changed since, and why.
    #[arg(long, value_name = "OLD_PLAN.json")]
    pub since: Option<PathBuf>,

    /// The output directory the plan is for (as `pcfg build -o DIR`): where `--as ninja`'s
    /// steps find the configuration from. Default: the configuration's own directory.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// The system's version, as `pcfg build --version` gives it.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Dot,
    Mermaid,
    Ninja,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The entry file, e.g. `system.pcfg`.
    pub file: PathBuf,

    /// Give every value with where it was set and what it overrode.
    #[arg(long)]
    pub provenance: bool,
}

#[derive(Debug, clap::Args)]
pub struct WhyArgs {
    /// The entry file, e.g. `system.pcfg`.
    pub file: PathBuf,

    /// A dotted path, e.g. `partition.usr.size-max`.
    pub path: String,
}

#[derive(Debug, clap::Args)]
pub struct ExtensionsArgs {
    /// The entry file, e.g. `system.pcfg`; extension sources are relative to it.
    pub file: PathBuf,
    /// The base to check against instead of `system.base-tree`: a directory holding its `usr/`,
    /// a manifest of `pcfg base-manifest`, or a `sha256sum` manifest.
    #[arg(long, value_name = "DIR|MANIFEST")]
    pub base: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct BaseManifestArgs {
    /// The base tree: a directory holding its `usr/` (e.g. `mkosi/mkosi.output/base`).
    pub dir: PathBuf,
    /// Write the manifest to FILE (replaced whole, or left as it was on error) instead of
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// The entry file, e.g. `system.pcfg`; the lock file is `system.pcfg.lock` beside it.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// The entry file, e.g. `system.pcfg`.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A code such as `pcfg::import-cycle` or `import-cycle`, or a field such as
    /// `partition.root.size` (or `partition.size`); without one, lists every code.
    pub code: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// GitHub Actions workflow commands: each diagnostic an annotation on its line.
    Github,
    /// SARIF 2.1.0, for code scanning: one rule per diagnostic code, one result per diagnostic.
    Sarif,
}
