//! The `pcfg` binary: hands the command line to [`pcfg::cli`] and maps its result to an exit code.

/// mimalloc: pcfg makes many small allocations (a fact, a path, a value each); glibc's allocator
/// spent a quarter of a large diff's time in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pcfg::cli::run()
}
