//! The `pcfg` binary: hands the command line to [`pcfg::cli`] and maps its result to an exit code.

fn main() -> std::process::ExitCode {
    pcfg::cli::run()
}
