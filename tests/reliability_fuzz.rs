//! The fuzz target bodies (fuzz/src/targets.rs) in the test suite: each runs on its committed
//! seed corpus (fuzz/corpus/TARGET), then on mutated and random inputs for a few seconds, so
//! that the bodies and their invariants cannot rot between fuzzing campaigns
//! (`scripts/fuzz` runs them for longer, with libFuzzer where a nightly toolchain is installed).
//!
//! The seeds are the committed files plus those `fuzz/src/seeds.rs` makes from the current code.
//! `FUZZ_SECONDS` sets the time per target (default 3), `FUZZ_SEED` the seed (printed).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

#[allow(dead_code, unreachable_pub)]
#[path = "../fuzz/src/mutate.rs"]
mod mutate;
#[allow(dead_code, unreachable_pub)]
#[path = "../fuzz/src/seeds.rs"]
mod seeds;
#[allow(dead_code, unreachable_pub)]
#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::Path;
use std::time::Duration;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the seed corpus {} is missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn every_fuzz_body_survives_its_seeds_and_a_short_random_run() {
    let seconds = env_number("FUZZ_SECONDS", 3);
    let seed = env_number(
        "FUZZ_SEED",
        u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos(),
        ),
    );
    eprintln!("fuzz bodies: {seconds} s each, seed {seed} (replay with FUZZ_SEED={seed})");
    for target in targets::TARGETS {
        // The committed corpus, and the seeds as the current code makes them.
        let mut inputs = corpus(target);
        assert!(!inputs.is_empty(), "{target}: an empty seed corpus");
        for seed in seeds::seeds(target) {
            if !inputs.contains(&seed) {
                inputs.push(seed);
            }
        }
        let body = |data: &[u8]| targets::run(target, data).unwrap();
        let stats = mutate::fuzz(&body, &inputs, seed, Duration::from_secs(seconds), u64::MAX)
            .unwrap_or_else(|finding| {
                panic!(
                    "{target} panicked on {} bytes {:02x?}: {}",
                    finding.input.len(),
                    finding.input,
                    finding.message
                )
            });
        eprintln!(
            "{target}: {} inputs, {} outcome kinds",
            stats.runs, stats.kinds
        );
        assert!(stats.runs >= inputs.len() as u64);
    }
}
