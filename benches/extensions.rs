//! `cargo bench --bench extensions`: the extension-tree analysis on a generated corpus (by
//! default about 50 extensions, 50,000 files and 2 GB), beside `jdupes -r -m` and
//! `rdfind -dryrun true` on the same tree and `sha256sum` over every file, each run twice so
//! that the second runs from a warm cache. `PCFG_BENCH_CORPUS_FILES` sets the files per
//! extension, `PCFG_BENCH_CORPUS_DIR` where the corpus is written (default `target/corpus`).
#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

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

fn main() {
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
