//! `cargo bench --bench extensions`: first, in memory, the shape whose cost could grow faster
//! than its input — a `requires` chain shared by many sets of extensions with identical files,
//! reported as JSON (`pcfg extensions --format json`) — with its growth per doubling. Then the
//! extension-tree analysis on two generated corpora of about 50,000 files and 2 GB each: the
//! main one (50 extensions of 1,000 files, 500 duplicates, 50 conflicts) and one where every
//! file has a twin, so every file is hashed whole. Beside pcfg, as anchors on the same tree:
//! `jdupes -r -m`, `rdfind -dryrun true` and `sha256sum` over every file, with pcfg's time as a
//! ratio to each. Every time is the median of five runs from a warm cache.
//! `PCFG_BENCH_CORPUS_FILES` sets the files per extension (the all-duplicates corpus has 25
//! times as many pairs), `PCFG_BENCH_CORPUS_DIR` where the corpora are written (default
//! `target/corpus`).
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::format_push_string
)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../tests/corpus.rs"]
#[allow(dead_code, unreachable_pub)]
mod corpus;

/// The median of five runs after one that warms the cache.
fn time(mut run: impl FnMut()) -> Duration {
    run();
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

/// The time of `name` with `args` in `dir`, when `probe` (the program that does the work: a
/// pipeline's `sh` has no `--version` on Debian) is installed.
fn tool(probe: &str, name: &str, args: &[&str], dir: &Path) -> Option<Duration> {
    // Its status too: a failed exec can come back as an exit status (under valgrind).
    Command::new(probe)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())?;
    Some(time(|| {
        let _ = Command::new(name).args(args).current_dir(dir).output();
    }))
}

/// `n` extensions in a `requires` chain (`e0` requires `e1`, ...), each pair of neighbours
/// shipping one identical file: `n - 1` sets, each of which looks for a common requirement.
fn requires_chain(n: usize) -> pcfg::vfs::MemoryFs {
    let mut fs = pcfg::vfs::MemoryFs::new();
    let mut text = String::from("system { name = \"bench\", version = \"1\" }\n");
    for i in 0..n {
        let requires = if i + 1 < n {
            format!(", requires = [e{}]", i + 1)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "extension e{i} {{ kind = sysext, source = \"ext/{i}\"{requires} }}\n"
        ));
        for pair in [i.saturating_sub(1), i] {
            let data = format!("shared by e{pair} and its neighbour, {pair:>64}\n");
            fs.insert(format!("ext/{i}/usr/share/pair-{pair}/data-{i}"), data);
        }
    }
    fs.insert("system.pcfg", text);
    fs
}

/// The analysis of [`requires_chain`] and its suggestions (what `--format json` reports), median of five runs.
fn measure_requires_chain(n: usize) -> Duration {
    let fs = requires_chain(n);
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let compilation =
                pcfg::compile::check(&fs, Path::new("system.pcfg")).expect("in memory");
            let report = compilation.extensions.expect("analysed");
            // What `--format json` adds to the analysis: a suggestion per set.
            let suggestions = report.suggestions();
            assert!(suggestions.len() + 1 >= n, "a suggestion per set");
            start.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

fn main() {
    let mut last: Option<(usize, Duration)> = None;
    for n in [1_000, 2_000, 4_000, 8_000] {
        let time = measure_requires_chain(n);
        let growth = last.map_or_else(String::new, |(_, t)| {
            format!(
                "{:>8.2}x per doubling",
                time.as_secs_f64() / t.as_secs_f64()
            )
        });
        println!(
            "{:<44} {:>10.3} ms {growth}",
            format!("requires chain shared by sets: {n} extensions"),
            time.as_secs_f64() * 1e3
        );
        last = Some((n, time));
    }
    let files: usize = std::env::var("PCFG_BENCH_CORPUS_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::var_os("PCFG_BENCH_CORPUS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/corpus"),
        Into::into,
    );
    measure_corpus(
        "main corpus",
        &corpus::Corpus {
            extensions: 50,
            files,
            max_size: 80 * 1024,
            duplicates: 500,
            conflicts: 50,
            seed: 7,
        },
        &dir,
    );
    // Every file has a twin in another extension, so every file is hashed whole.
    measure_corpus(
        "all-duplicates corpus",
        &corpus::Corpus {
            extensions: 50,
            files: 0,
            max_size: 80 * 1024,
            duplicates: files * 25,
            conflicts: 0,
            seed: 11,
        },
        &dir,
    );
}

/// Writes `corpus` into `dir` (replacing what is there) and times the analysis beside the
/// anchors, each warm; prints pcfg's time as a ratio to each.
fn measure_corpus(label: &str, corpus: &corpus::Corpus, dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("corpus directory");
    let bytes = corpus.write(dir);
    let total_files = corpus.extensions * corpus.files + 2 * (corpus.duplicates + corpus.conflicts);
    println!(
        "{label}: {} extensions, {total_files} files, {:.2} GB in {}",
        corpus.extensions,
        bytes as f64 / 1e9,
        dir.display()
    );
    let entry = dir.join("system.pcfg");
    let mut findings = (0, 0);
    let pcfg = time(|| {
        let compilation = pcfg::compile::check(&pcfg::vfs::RealFs, &entry).expect("readable");
        findings = (
            compilation.diagnostics.len(),
            compilation.extensions.map_or(0, |r| r.shared.len()),
        );
    });
    println!(
        "  pcfg analysis          {:>8.3} s  {:>7.0} MB/s  ({} diagnostics, {} shared groups)",
        pcfg.as_secs_f64(),
        bytes as f64 / 1e6 / pcfg.as_secs_f64(),
        findings.0,
        findings.1
    );
    let rows = [
        ("jdupes -r -m", "jdupes", "jdupes", vec!["-r", "-m", "ext"]),
        (
            "rdfind -dryrun true",
            "rdfind",
            "rdfind",
            vec!["-dryrun", "true", "ext"],
        ),
        (
            "sha256sum (every file)",
            "sha256sum",
            "sh",
            vec![
                "-c",
                "find ext -type f -print0 | xargs -0 -P2 -n 500 sha256sum > /dev/null",
            ],
        ),
    ];
    for (name_shown, probe, name, args) in rows {
        match tool(probe, name, &args, dir) {
            Some(t) => println!(
                "  {name_shown:<22} {:>8.3} s  {:>7.0} MB/s  pcfg takes {:.2}x its time",
                t.as_secs_f64(),
                bytes as f64 / 1e6 / t.as_secs_f64(),
                pcfg.as_secs_f64() / t.as_secs_f64()
            ),
            None => println!("  {name_shown:<22} not installed"),
        }
    }
}
