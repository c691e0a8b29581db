//! The `pcfg` binary: sets up the allocator, hands the command line to [`pcfg::cli`] and maps
//! its result to an exit code.

/// mimalloc: pcfg makes many small allocations (a fact, a path, a value each); glibc's allocator
/// spent a quarter of a large diff's time in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3's `mi_option_purge_delay` (its place in `mi_option_e` in the `mimalloc.h` that
/// libmimalloc-sys 0.1.49 builds; the crate's Rust constants predate it). The test below checks
/// that this option holds mimalloc v3's default purge delay.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Memory freed is given back to the system at once, not a second later: a compile frees its
    // syntax trees while it merges and its resolved tree while it lowers, and kept for a second
    // (mimalloc v3's default) that memory stayed part of the process's peak while the model and
    // then the extension analysis took fresh pages (`pcfg check` of 10,000 generated items:
    // 37.6 MB at its peak, 23.5 MB with the memory given back; no slower).
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_set` stores one option's value; it takes effect for later frees, and any
    // thread may call it at any time.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
    pcfg::cli::run()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_mimallocs() {
        // The test harness allocates with the binary's allocator. No other option of mimalloc
        // v3 defaults to 1000 (milliseconds), and this one is read from `MIMALLOC_PURGE_DELAY`
        // when that is set: a different index would change another option.
        let expected: std::os::raw::c_long = std::env::var("MIMALLOC_PURGE_DELAY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        #[allow(unsafe_code)]
        // SAFETY: reading an option has no preconditions.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(delay, expected, "option 15 is not mimalloc's purge delay");
    }
}
