//! `cargo bench`: how long resolution and validation take, on the examples and on generated
//! configurations of 1,000 to 10,000 partitions and extensions spread over 100 imported files;
//! and how long `pcfg fmt` takes on the ParticleOS example and on one file of 1,000 and 10,000
//! items.
//!
//! A plain bench binary (no harness): each case runs until a second has passed (at least five
//! times) and reports the median. `PCFG_BENCH_ITEMS=N` measures one generated size alone;
//! `PCFG_BENCH_BUILD=N` one generated build alone; `PCFG_BENCH_REBUILD=1` the rebuilds of the
//! ParticleOS output on disk alone; `PCFG_BENCH_DISK=N` the binary's `pcfg check` of N generated
//! items written to disk (their extension trees walked) alone, beside `find` walking the same
//! trees;
//! `PCFG_BENCH_ONCE=1` compiles each case twice only and runs no anchor, for
//! `valgrind --tool=callgrind`, whose instruction counts do not depend on the machine's load.
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::format_push_string
)]

mod generate;

use std::path::Path;
use std::time::{Duration, Instant};

/// The allocator the `pcfg` binary uses, so that these figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use pcfg::compile::check;
use pcfg::emit::{self, Source};
use pcfg::vfs::{MemoryFs, RealFs, Vfs};

/// `items` partitions and extensions (half each) over `files` files, all imported by the entry,
/// which also overrides, appends and removes as a remix does.
fn generated(items: usize, files: usize) -> MemoryFs {
    let mut fs = MemoryFs::new();
    for (path, text) in generate::generated_files(items, files) {
        fs.insert(path, text);
    }
    fs
}

/// One file of `n` appends to one list.
fn appends(n: usize) -> MemoryFs {
    let mut text = String::from("system { name = \"bench\", version = \"1\" }\n");
    for i in 0..n {
        text.push_str(&format!("system.cmdline += [\"opt{i}\"]\n"));
    }
    let mut fs = MemoryFs::new();
    fs.insert("system.pcfg", text);
    fs
}

/// A chain of `n` files, each importing the next and appending to one list.
fn import_chain(n: usize) -> MemoryFs {
    let mut fs = MemoryFs::new();
    for i in 0..n {
        let text = if i + 1 < n {
            format!("import \"f{}.pcfg\"\nsystem.cmdline += [\"c{i}\"]\n", i + 1)
        } else {
            format!(
                "system {{ name = \"bench\", version = \"1\" }}\nsystem.cmdline += [\"c{i}\"]\n"
            )
        };
        fs.insert(format!("f{i}.pcfg"), text);
    }
    fs
}

/// One file: an `n`-item list, then `n` lines that each remove one item (`-=`).
fn subtracts(n: usize) -> MemoryFs {
    let mut text =
        String::from("system { name = \"bench\", version = \"1\" }\nsystem.cmdline = [\n");
    for i in 0..n {
        text.push_str(&format!("  \"opt{i}\",\n"));
    }
    text.push_str("]\n");
    for i in 0..n {
        text.push_str(&format!("system.cmdline -= [\"opt{i}\"]\n"));
    }
    let mut fs = MemoryFs::new();
    fs.insert("system.pcfg", text);
    fs
}

/// `n` sibling files, imported by one entry, each setting the same key to the same value.
fn siblings(n: usize) -> MemoryFs {
    let mut fs = MemoryFs::new();
    let mut entry = String::new();
    for i in 0..n {
        entry.push_str(&format!("import \"s{i}.pcfg\"\n"));
        fs.insert(
            format!("s{i}.pcfg"),
            "system.pretty-name = \"Bench OS\"\n".to_owned(),
        );
    }
    entry.push_str("system { name = \"bench\", version = \"1\" }\n");
    fs.insert("system.pcfg", entry);
    fs
}

/// One file with `n` `remove` lines of paths nothing defines (each a diagnostic).
fn removes_of_nothing(n: usize) -> MemoryFs {
    let mut text = String::from("system { name = \"bench\", version = \"1\" }\n");
    for i in 0..n {
        text.push_str(&format!("remove partition.p{i}\n"));
    }
    let mut fs = MemoryFs::new();
    fs.insert("system.pcfg", text);
    fs
}

/// `n` extensions, each requiring one that is not declared (each a diagnostic with a
/// suggestion).
fn unknown_requires(n: usize) -> MemoryFs {
    let mut text = String::from("system { name = \"bench\", version = \"1\" }\n");
    for i in 0..n {
        text.push_str(&format!(
            "extension e{i} {{ kind = sysext, requires = [missing{i}] }}\n"
        ));
    }
    let mut fs = MemoryFs::new();
    fs.insert("system.pcfg", text);
    fs
}

/// Measures `shape(n)` for each `n`, printing the growth per doubling.
fn measure_shape(label: &str, sizes: &[usize], shape: fn(usize) -> MemoryFs, entry: &str) {
    measure_shape_work(label, sizes, shape, entry, Work::Compile);
}

fn measure_shape_work(
    label: &str,
    sizes: &[usize],
    shape: fn(usize) -> MemoryFs,
    entry: &str,
    work: Work,
) {
    let mut last: Option<(usize, Duration)> = None;
    for &n in sizes {
        let fs = shape(n);
        let time = measure_work(&format!("{label}: {n}"), &fs, Path::new(entry), work);
        growth(&mut last, n, time);
    }
}

/// Prints how time grew against the previous size.
fn growth(last: &mut Option<(usize, Duration)>, n: usize, time: Duration) {
    if let Some((previous, previous_time)) = *last {
        let ratio = time.as_secs_f64() / previous_time.as_secs_f64();
        let scale = n as f64 / previous as f64;
        println!("{:<44} {ratio:>10.2}x time for {scale:.1}x size", "");
    }
    *last = Some((n, time));
}

/// Writes each `(path, text)` below `dir`, making the directories on the way.
fn write_files(dir: &Path, files: impl IntoIterator<Item = (String, String)>) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

/// `pcfg diff` (the binary) of two generated configurations of `items` that differ in one line.
fn measure_diff(items: usize) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    for side in ["old", "new"] {
        let files = generate::generated_files(items, 100)
            .into_iter()
            .map(|(path, mut text)| {
                if side == "new" && path == "system.pcfg" {
                    text.push_str("partition.p4.size-max = 32G\n");
                }
                (path, text)
            });
        write_files(&dir.path().join(side), files);
    }
    let run = || {
        let start = Instant::now();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pcfg"))
            .args(["diff", "old/system.pcfg", "new/system.pcfg"])
            .current_dir(dir.path())
            .output()
            .expect("pcfg runs");
        assert!(
            output.status.code() == Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        start.elapsed()
    };
    let mut times: Vec<Duration> = (0..3).map(|_| run()).collect();
    times.sort();
    let median = times[1];
    println!(
        "{:<44} {:>10.3} ms  (median of 3, the binary)",
        format!("diff: {items} items each"),
        median.as_secs_f64() * 1e3
    );
    median
}

/// The median of five runs of `command` (after one that warms the cache), which must succeed.
fn median_of_runs(mut command: impl FnMut() -> std::process::Command) -> Duration {
    let mut run = || {
        let start = Instant::now();
        let output = command().output().expect("the program runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        start.elapsed()
    };
    run();
    let mut times: Vec<Duration> = (0..5).map(|_| run()).collect();
    times.sort();
    times[2]
}

/// `pcfg check` (the binary) of the generated items written to disk, their extension trees
/// walked, beside `find` listing the same trees with each entry's size and mode (what the walk
/// reads of them): the anchor is the kernel's share, which no compile can go below. Also
/// prints the largest resident memory of the `pcfg` runs.
fn measure_disk(items: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(dir.path(), generate::generated_files(items, 100));
    let pcfg = median_of_runs(|| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pcfg"));
        command
            .args(["check", "system.pcfg"])
            .current_dir(dir.path());
        command
    });
    // The children so far are this function's `pcfg` runs (this mode runs alone): their peak,
    // in kilobytes over 1,000, as the book gives `/usr/bin/time`'s.
    // SAFETY: `getrusage` writes one `rusage` it is given.
    #[allow(unsafe_code)]
    let peak_kb = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &raw mut usage);
        usage.ru_maxrss
    };
    println!(
        "{:<44} {:>10.3} ms  (median of 5, the binary; peak {:.1} MB resident)",
        format!("check from disk: {items} items, {} trees", items / 2),
        pcfg.as_secs_f64() * 1e3,
        peak_kb as f64 / 1000.0
    );
    if !installed("find") {
        println!("find: not installed (Debian's findutils), no anchor");
        return;
    }
    let find = median_of_runs(|| {
        let mut command = std::process::Command::new("find");
        command
            .args(["ext", "-printf", "%s %m\n"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null());
        command
    });
    println!(
        "{:<44} {:>10.3} ms  pcfg takes {:.2}x its time",
        "find ext -printf '%s %m' (anchor)",
        find.as_secs_f64() * 1e3,
        pcfg.as_secs_f64() / find.as_secs_f64()
    );
}

/// What one run does: compile only, or compile and emit every file (`pcfg build` without the
/// writing).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Work {
    Compile,
    Build,
    /// Compile a configuration with errors and render every diagnostic for people, as
    /// `pcfg check` prints them.
    Diagnose,
}

fn run(vfs: &dyn Vfs, entry: &Path, work: Work) -> usize {
    let compilation = check(vfs, entry).expect("entry readable");
    if work == Work::Compile {
        return compilation.diagnostics.len();
    }
    if work == Work::Diagnose {
        return compilation
            .diagnostics
            .iter()
            .map(|d| {
                pcfg::diag::render::render(
                    d,
                    &compilation.sources,
                    pcfg::diag::render::RenderOptions::plain(80),
                )
                .len()
            })
            .sum();
    }
    let entry_dir = entry.parent().unwrap_or(Path::new(""));
    emitted(&compilation, vfs, entry_dir, Path::new("")).len()
}

/// The files `pcfg build` writes for `compilation` (of `system.pcfg` in `entry_dir`), into an
/// output directory that sees the entry's directory as `entry_from_output`.
fn emitted(
    compilation: &pcfg::compile::Compilation,
    vfs: &dyn Vfs,
    entry_dir: &Path,
    entry_from_output: &Path,
) -> Vec<pcfg::emit::File> {
    let model = compilation.model.as_ref().expect("a model");
    let source = Source {
        entry_name: "system.pcfg",
        entry_dir,
        entry_from_output,
        lock: None,
    };
    // What the build reads besides the configuration (keys, trees), as `pcfg build` does.
    let inputs = pcfg::plan::Inputs::read(model, vfs, entry_dir);
    emit::emit(model, &compilation.sources, &source, &inputs).expect("every value is written")
}

/// The same items as [`generated`] as one Nix attribute set, literal or computed by
/// `builtins.genList`.
fn nix_expressions(items: usize) -> [(&'static str, String); 2] {
    let mut literal = String::from("{\n");
    for n in 0..items {
        if n % 2 == 0 {
            literal.push_str(&format!(
                "  p{n} = {{ type = \"linux-generic\"; size-min = {}; size-max = 8589934592; weight = {}; format = \"ext4\"; directories = [ \"/srv/{n}\" ]; }};\n",
                1 + n % 512,
                n % 1000
            ));
        } else {
            let requires = if n > 2 {
                format!("[ \"e{}\" ]", n - 2)
            } else {
                "[ ]".to_owned()
            };
            literal.push_str(&format!(
                "  e{n} = {{ kind = \"sysext\"; source = \"ext/{n}\"; requires = {requires}; }};\n"
            ));
        }
    }
    literal.push_str("}\n");
    let computed = format!(
        "builtins.listToAttrs (builtins.genList (n: let s = toString n; in if builtins.bitAnd n 1 == 0 \
         then {{ name = \"p${{s}}\"; value = {{ type = \"linux-generic\"; size-min = 1 + n - (n / 512) * 512; \
         size-max = 8589934592; weight = n - (n / 1000) * 1000; format = \"ext4\"; directories = [ \"/srv/${{s}}\" ]; }}; }} \
         else {{ name = \"e${{s}}\"; value = {{ kind = \"sysext\"; source = \"ext/${{s}}\"; \
         requires = if n > 2 then [ \"e${{toString (n - 2)}}\" ] else [ ]; }}; }}) {items})\n"
    );
    [("literal", literal), ("computed", computed)]
}

/// Whether `program` answers `--version`. Its status too, not only whether it started: under
/// valgrind a program that is not installed still "starts" (the failed exec comes back as an
/// exit status).
fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// `nix-instantiate --eval --strict` (Debian's `nix-bin`) on the same items, as an anchor:
/// prints its median time and pcfg's `time` for them as a ratio to it.
fn nix_anchors(items: usize, time: Duration) {
    // Counting instructions measures pcfg alone.
    if counting_instructions() {
        return;
    }
    if !installed("nix-instantiate") {
        println!("nix-instantiate: not installed (Debian's nix-bin), no anchor");
        return;
    }
    let dir = std::env::temp_dir().join(format!("pcfg-bench-nix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    for (kind, expression) in nix_expressions(items) {
        let file = dir.join(format!("{kind}.nix"));
        std::fs::write(&file, expression).expect("write");
        let mut times: Vec<Duration> = (0..6)
            .map(|_| {
                let start = Instant::now();
                let out = std::process::Command::new("nix-instantiate")
                    .args(["--eval", "--strict"])
                    .arg(&file)
                    .output()
                    .expect("nix-instantiate runs");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                start.elapsed()
            })
            .collect();
        times.remove(0);
        times.sort();
        let nix = times[times.len() / 2];
        println!(
            "{:<44} {:>10.3} ms  pcfg takes {:.2}x its time",
            format!("nix-instantiate, {items} {kind} entries"),
            nix.as_secs_f64() * 1e3,
            time.as_secs_f64() / nix.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `PCFG_BENCH_ONCE` is set: instructions are counted (under callgrind), not time.
fn counting_instructions() -> bool {
    std::env::var_os("PCFG_BENCH_ONCE").is_some()
}

fn measure(name: &str, vfs: &dyn Vfs, entry: &Path) -> Duration {
    measure_work(name, vfs, entry, Work::Compile)
}

fn measure_work(name: &str, vfs: &dyn Vfs, entry: &Path, work: Work) -> Duration {
    let first = check(vfs, entry).expect("entry readable");
    assert!(
        first.diagnostics.is_empty() || work == Work::Diagnose,
        "{name}: {:?}",
        first.diagnostics.first()
    );
    let mut times = Vec::new();
    let started = Instant::now();
    // Counting instructions, each case is compiled once more, then the bench stops.
    let runs = if counting_instructions() { 1 } else { 5 };
    while times.len() < runs || (runs > 1 && started.elapsed() < Duration::from_secs(1)) {
        let t = Instant::now();
        let result = run(vfs, entry, work);
        times.push(t.elapsed());
        std::hint::black_box(result);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{name:<44} {:>10.3} ms  (median of {})",
        median.as_secs_f64() * 1e3,
        times.len()
    );
    median
}

/// The median time of formatting `text` (`pcfg fmt`, which re-parses its result to check it).
fn measure_format(name: &str, text: &str) -> Duration {
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 5 || started.elapsed() < Duration::from_secs(1) {
        let t = Instant::now();
        let out = pcfg::syntax::format::format(pcfg::source::FileId::FIRST, text).expect("formats");
        times.push(t.elapsed());
        std::hint::black_box(out);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{name:<44} {:>10.3} ms  (median of {}, {} KiB)",
        median.as_secs_f64() * 1e3,
        times.len(),
        text.len() / 1024
    );
    median
}

/// The files `pcfg build` writes for the ParticleOS example with `line` added, from `dir`.
fn particleos_files(root: &Path, dir: &Path, line: &str) -> Vec<pcfg::emit::File> {
    let text = std::fs::read_to_string(root.join("examples/particleos.pcfg")).expect("example");
    let entry = dir.join("system.pcfg");
    std::fs::write(&entry, format!("{text}\n{line}\n")).expect("write");
    let compilation = check(&RealFs, &entry).expect("entry readable");
    emitted(&compilation, &RealFs, dir, Path::new(".."))
}

/// `pcfg build` of ParticleOS into its output directory on disk (the temporary directory's
/// file system), the writing alone: unchanged, and after a one-line change (three versions in
/// turn, so the tree kept from two builds before never already holds the new files).
fn measure_rebuilds(root: &Path) {
    let dir = tempfile::tempdir().expect("tempdir");
    let versions: Vec<Vec<pcfg::emit::File>> = (0..3)
        .map(|n| {
            particleos_files(
                root,
                dir.path(),
                &format!("system.cmdline += [\"bench={n}\"]"),
            )
        })
        .collect();
    let out = dir.path().join("out");
    let write = |files: &[pcfg::emit::File]| {
        let t = Instant::now();
        pcfg::cli::write_tree(&out, files, &mut |_| Ok(())).expect("written");
        t.elapsed()
    };
    write(&versions[0]);
    for (name, changing) in [("unchanged", false), ("one line changed", true)] {
        let mut times = Vec::new();
        let started = Instant::now();
        while times.len() < 20 || started.elapsed() < Duration::from_secs(1) {
            let version = if changing { times.len() % 3 } else { 0 };
            times.push(write(&versions[version]));
        }
        times.sort();
        println!(
            "{:<44} {:>10.3} ms  (median of {})",
            format!("rebuild particleos, {name}"),
            times[times.len() / 2].as_secs_f64() * 1e3,
            times.len()
        );
        // Back to the first version for the next case.
        write(&versions[0]);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // PCFG_BENCH_ITEMS=20000 measures one size alone (for profiling).
    let only: Option<usize> = std::env::var("PCFG_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok());
    if std::env::var_os("PCFG_BENCH_REBUILD").is_some() {
        measure_rebuilds(root);
        return;
    }
    // PCFG_BENCH_DISK=100000 measures the binary's check of that many items on disk alone.
    if let Some(items) = std::env::var("PCFG_BENCH_DISK")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        measure_disk(items);
        return;
    }
    let examples: &[&str] = if only.is_some() {
        &[]
    } else {
        &["minimal", "particleos", "remix"]
    };
    for example in examples {
        let path = root.join("examples").join(format!("{example}.pcfg"));
        measure(&format!("examples/{example}.pcfg"), &RealFs, &path);
    }
    for example in examples.iter().skip(1) {
        let path = root.join("examples").join(format!("{example}.pcfg"));
        measure_work(
            &format!("build examples/{example}.pcfg"),
            &RealFs,
            &path,
            Work::Build,
        );
    }
    if only.is_none() {
        measure_rebuilds(root);
    }
    let mut last: Option<(usize, Duration)> = None;
    // PCFG_BENCH_BUILD=40000 measures one build alone (for profiling).
    let only_build: Option<usize> = std::env::var("PCFG_BENCH_BUILD")
        .ok()
        .and_then(|v| v.parse().ok());
    if let Some(items) = only_build {
        let fs = generated(items, 100);
        measure_work(
            &format!("build: {items} items in 100 files"),
            &fs,
            Path::new("system.pcfg"),
            Work::Build,
        );
        return;
    }
    let sizes = only.map_or_else(|| vec![1_000, 2_500, 5_000, 10_000], |n| vec![n]);
    for items in sizes {
        let fs = generated(items, 100);
        let time = measure(
            &format!("generated: {items} items in 100 files"),
            &fs,
            Path::new("system.pcfg"),
        );
        if let Some((previous_items, previous_time)) = last {
            let ratio = time.as_secs_f64() / previous_time.as_secs_f64();
            let scale = items as f64 / previous_items as f64;
            println!("{:<44} {ratio:>10.2}x time for {scale:.1}x items", "");
        }
        last = Some((items, time));
    }
    if let Some((items, time)) = last {
        nix_anchors(items, time);
    }
    if only.is_none() {
        measure_shape(
            "appends in one file",
            &[10_000, 20_000, 40_000],
            appends,
            "system.pcfg",
        );
        measure_shape(
            "import chain, files",
            &[5_000, 10_000, 20_000],
            import_chain,
            "f0.pcfg",
        );
        measure_shape(
            "list items removed by -=",
            &[2_000, 4_000, 8_000, 16_000],
            subtracts,
            "system.pcfg",
        );
        measure_shape(
            "siblings setting one key",
            &[2_000, 4_000, 8_000, 16_000],
            siblings,
            "system.pcfg",
        );
        measure_shape_work(
            "remove of undefined paths, rendered",
            &[1_000, 2_000, 4_000, 8_000],
            removes_of_nothing,
            "system.pcfg",
            Work::Diagnose,
        );
        measure_shape_work(
            "unknown requires, rendered",
            &[1_000, 2_000, 4_000, 8_000],
            unknown_requires,
            "system.pcfg",
            Work::Diagnose,
        );
        let mut last = None;
        for items in [2_500, 5_000, 10_000] {
            let time = measure_diff(items);
            growth(&mut last, items, time);
        }
        let particleos =
            std::fs::read_to_string(root.join("examples/particleos.pcfg")).expect("example");
        measure_format("fmt examples/particleos.pcfg", &particleos);
        let mut last: Option<(usize, Duration)> = None;
        for items in [1_000, 10_000] {
            // The generated layers as one file.
            let fs = generated(items, 1);
            let text =
                String::from_utf8(fs.read(Path::new("layer0.pcfg")).expect("layer")).expect("text");
            let time = measure_format(&format!("fmt: {items} items in one file"), &text);
            if let Some((previous_items, previous_time)) = last {
                let ratio = time.as_secs_f64() / previous_time.as_secs_f64();
                let scale = items as f64 / previous_items as f64;
                println!("{:<44} {ratio:>10.2}x time for {scale:.1}x items", "");
            }
            last = Some((items, time));
        }
        let mut last: Option<(usize, Duration)> = None;
        for items in [2_500, 5_000, 10_000, 20_000, 40_000] {
            let fs = generated(items, 100);
            let time = measure_work(
                &format!("build: {items} items in 100 files"),
                &fs,
                Path::new("system.pcfg"),
                Work::Build,
            );
            if let Some((previous_items, previous_time)) = last {
                let ratio = time.as_secs_f64() / previous_time.as_secs_f64();
                let scale = items as f64 / previous_items as f64;
                println!("{:<44} {ratio:>10.2}x time for {scale:.1}x items", "");
            }
            last = Some((items, time));
        }
    }
}
