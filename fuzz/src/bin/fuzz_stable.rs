//! `fuzz-stable`: runs the fuzz target bodies on stable Rust, without libFuzzer.
//!
//! ```text
//! fuzz-stable run TARGET|all [--seconds N] [--seed S] [--corpus DIR] [--artifacts DIR]
//! fuzz-stable seeds --out DIR      writes the seed corpora (DIR/TARGET/seed-NNN)
//! fuzz-stable list                 names the targets
//! ```
//!
//! `run` reads the seeds from `DIR/TARGET/` (default `fuzz/corpus`), then feeds the body mutated
//! and random inputs for the time given (per target), and writes an input that panics to
//! `ARTIFACTS/TARGET/crash-<hash>` (default `fuzz/artifacts`) and exits with status 1.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use kiosk_fuzz::mutate::fuzz;
use kiosk_fuzz::{seeds, targets};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    match args.first().map(String::as_str) {
        Some("list") => {
            for target in targets::TARGETS {
                println!("{target}");
            }
            ExitCode::SUCCESS
        }
        Some("seeds") => {
            let out = PathBuf::from(value("--out").unwrap_or_else(|| "fuzz/corpus".into()));
            match write_seeds(&out) {
                Ok(n) => {
                    println!("fuzz-stable: wrote {n} seed files under {}", out.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("fuzz-stable: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("run") => {
            let Some(which) = args.get(1) else {
                eprintln!("fuzz-stable run TARGET|all [--seconds N] [--seed S]");
                return ExitCode::FAILURE;
            };
            let seconds: u64 = value("--seconds").and_then(|s| s.parse().ok()).unwrap_or(60);
            let seed: u64 = value("--seed").and_then(|s| s.parse().ok()).unwrap_or_else(|| {
                u64::from(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or(1),
                )
            });
            let corpus = PathBuf::from(value("--corpus").unwrap_or_else(|| "fuzz/corpus".into()));
            let artifacts =
                PathBuf::from(value("--artifacts").unwrap_or_else(|| "fuzz/artifacts".into()));
            let names: Vec<&str> = if which == "all" {
                targets::TARGETS.to_vec()
            } else if targets::TARGETS.contains(&which.as_str()) {
                vec![which.as_str()]
            } else {
                eprintln!("fuzz-stable: no target {which}; `fuzz-stable list` names them");
                return ExitCode::FAILURE;
            };
            let mut failed = false;
            for name in names {
                if !run_one(name, &corpus, &artifacts, seed, Duration::from_secs(seconds)) {
                    failed = true;
                }
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            eprintln!("usage: fuzz-stable run TARGET|all [--seconds N] [--seed S] | seeds | list");
            ExitCode::FAILURE
        }
    }
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn run_one(name: &str, corpus: &Path, artifacts: &Path, seed: u64, budget: Duration) -> bool {
    let mut inputs = read_corpus(&corpus.join(name));
    if inputs.is_empty() {
        inputs = seeds::seeds(name);
    }
    let body = |data: &[u8]| targets::run(name, data).unwrap_or(0);
    println!(
        "fuzz-stable: {name}: {} seeds, seed {seed}, {} s",
        inputs.len(),
        budget.as_secs()
    );
    match fuzz(&body, &inputs, seed, budget, u64::MAX) {
        Ok(stats) => {
            println!(
                "fuzz-stable: {name}: {} inputs, {} outcome kinds, {} kept, no panic",
                stats.runs, stats.kinds, stats.pool
            );
            true
        }
        Err(finding) => {
            let mut hasher = DefaultHasher::new();
            finding.input.hash(&mut hasher);
            let dir = artifacts.join(name);
            let path = dir.join(format!("crash-{:016x}", hasher.finish()));
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(&path, &finding.input);
            eprintln!(
                "fuzz-stable: {name}: PANIC: {}\n  input ({} bytes) saved to {}\n  replay: \
                 fuzz-stable run {name} --corpus <a folder with only that file> --seconds 0",
                finding.message,
                finding.input.len(),
                path.display()
            );
            false
        }
    }
}

fn write_seeds(out: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for target in targets::TARGETS {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, seed) in seeds::seeds(target).iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), seed)?;
            n += 1;
        }
    }
    Ok(n)
}
