//! `cargo bench --bench extensions`: the extension-tree analysis on a generated corpus (by
//! default about 50 extensions, 50,000 files and 2 GB), beside `jdupes -r -m` and
//! `rdfind -dryrun true` on the same tree and `sha256sum` over every file, each run twice so
//! that the second runs from a warm cache. `PCFG_BENCH_CORPUS_FILES` sets the files per
//! extension, `PCFG_BENCH_CORPUS_DIR` where the corpus is written (default `target/corpus`).
//!
//! Then, in memory, the shapes whose cost could grow faster than their input: a `requires`
//! chain shared by many sets of extensions with identical files, reported as JSON
//! (`pcfg extensions --format json`), with its growth per doubling.
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

fn time(mut run: impl FnMut()) -> Duration {
    run(); // warm the cache
    let start = Instant::now();
    run();
    start.elapsed()
}

fn tool(name: &str, args: &[&str], dir: &Path) -> Option<Duration> {
    Command::new(name).arg("--version").output().ok()?;
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
    let corpus = corpus::Corpus {
        extensions: 50,
        files,
        max_size: 80 * 1024,
        duplicates: 500,
        conflicts: 50,
        seed: 7,
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("corpus directory");
    let bytes = corpus.write(&dir);
    let total_files = corpus.extensions * corpus.files + 2 * (corpus.duplicates + corpus.conflicts);
    println!(
        "corpus: {} extensions, {total_files} files, {:.2} GB in {}",
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
        "pcfg analysis          {:>8.2} s  {:>7.0} MB/s  ({} diagnostics, {} shared groups)",
        pcfg.as_secs_f64(),
        bytes as f64 / 1e6 / pcfg.as_secs_f64(),
        findings.0,
        findings.1
    );
    let rows = [
        ("jdupes -r -m", "jdupes", vec!["-r", "-m", "ext"]),
        (
            "rdfind -dryrun true",
            "rdfind",
            vec!["-dryrun", "true", "ext"],
        ),
        (
            "sha256sum (every file)",
            "sh",
            vec![
                "-c",
                "find ext -type f -print0 | xargs -0 -P2 -n 500 sha256sum > /dev/null",
            ],
        ),
    ];
    for (label, name, args) in rows {
        match tool(name, &args, &dir) {
            Some(t) => println!(
                "{label:<22} {:>8.2} s  {:>7.0} MB/s",
                t.as_secs_f64(),
                bytes as f64 / 1e6 / t.as_secs_f64()
            ),
            None => println!("{label:<22} not installed"),
        }
    }
}
