//! A small random/mutation fuzzing loop for stable Rust, where libFuzzer (nightly) is not
//! available: it starts from the seed corpus, mutates inputs (bit flips, interesting bytes,
//! inserted, deleted, duplicated and spliced runs, truncation) or makes random ones, runs the
//! target body on each, and keeps an input whenever the body reports an outcome kind it has
//! not seen before (a cheap stand-in for coverage feedback). A panic in the body is a finding.
//! Deterministic for a seed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Bytes that matter to the parsers: frame preambles, ESC/POS and control bytes, terminators,
/// UCS-2 spaces, the QR alphabet's edges.
const INTERESTING: [u8; 18] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x0A, 0x0D, 0x10, 0x12, 0x1D, 0x20, 0x24, 0x3A, 0x7F, 0x80, 0x96,
    0xAA, 0xFF,
];

/// splitmix64.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % u64::try_from(n).unwrap_or(u64::MAX)).unwrap_or(0)
    }

    fn byte(&mut self) -> u8 {
        self.next_u64().to_le_bytes()[0]
    }
}

/// One mutation of `input`, using `pool` for splices.
pub fn mutate(rng: &mut Rng, input: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let len = out.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.byte();
            }
            2 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            3 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                out.splice(i..i, bytes);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                out.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let copy = out[i..i + n].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, copy);
            }
            6 if !pool.is_empty() => {
                let other = &pool[rng.below(pool.len())];
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let n = 1 + rng.below(other.len() - from);
                    let at = rng.below(len + 1);
                    let end = (at + n).min(len);
                    out.splice(at..end, other[from..from + n].iter().copied());
                }
            }
            7 if len > 0 => out.truncate(rng.below(len)),
            8 if len > 1 => {
                // Arithmetic on a byte: lengths and counters off by a little.
                let i = rng.below(len);
                let delta = u8::try_from(1 + rng.below(4)).unwrap_or(1);
                out[i] = if rng.below(2) == 0 {
                    out[i].wrapping_add(delta)
                } else {
                    out[i].wrapping_sub(delta)
                };
            }
            _ => {
                let i = rng.below(len + 1);
                out.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
        }
    }
    out
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Inputs run.
    pub runs: u64,
    /// Inputs in the pool at the end (seeds and kept ones).
    pub pool: usize,
    /// Distinct outcome kinds seen.
    pub kinds: usize,
}

/// A panic found: the input and the panic's message.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The input that made the body panic.
    pub input: Vec<u8>,
    /// The panic message.
    pub message: String,
}

/// Runs `body` on the seeds, then on mutated and random inputs until `budget` is spent (or
/// `max_runs`). Stops at the first panic.
pub fn fuzz(
    body: &dyn Fn(&[u8]) -> u64,
    seeds: &[Vec<u8>],
    seed: u64,
    budget: Duration,
    max_runs: u64,
) -> Result<Stats, Finding> {
    let mut rng = Rng::new(seed);
    let mut pool: Vec<Vec<u8>> = seeds.to_vec();
    if pool.is_empty() {
        pool.push(Vec::new());
    }
    let mut kinds = HashSet::new();
    let mut stats = Stats::default();
    let run = |input: &[u8]| -> Result<u64, Finding> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(input))).map_err(|panic| {
            Finding {
                input: input.to_vec(),
                message: panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a panic".to_owned()),
            }
        })
    };
    for input in seeds {
        kinds.insert(run(input)?);
        stats.runs += 1;
    }
    let started = Instant::now();
    while started.elapsed() < budget && stats.runs < max_runs {
        let input = if rng.below(10) == 0 {
            let n = rng.below(512);
            (0..n).map(|_| rng.byte()).collect()
        } else {
            let base = &pool[rng.below(pool.len())];
            mutate(&mut rng, base, &pool)
        };
        let kind = run(&input)?;
        stats.runs += 1;
        if kinds.insert(kind) && pool.len() < 4096 {
            pool.push(input);
        }
    }
    stats.pool = pool.len();
    stats.kinds = kinds.len();
    Ok(stats)
}
