//! A small mutation fuzzer that runs on stable Rust (cargo-fuzz needs a nightly toolchain, which
//! this project does not use): inputs are made by mutating a corpus of valid seeds (bit flips,
//! interesting bytes, insertions, deletions, duplicated ranges, splices of two seeds, truncation),
//! for a bounded time per target. It is not coverage-guided; the seeds carry it past the first
//! checks of each format.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: fast, reproducible from its seed (printed, so a failure can be replayed).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

const INTERESTING: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xff, b'"', b'{', b'}', b'\\', b'=', b'%', b'.', b'\n',
];

/// One mutation or a few stacked, of a seed (sometimes spliced with another).
pub fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut data = corpus[rng.below(corpus.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                data.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                data.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let copy = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, copy);
            }
            5 => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(data.len() + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            6 => data.truncate(rng.below(len + 1)),
            _ if len > 0 => {
                let i = rng.below(len);
                data[i] = data[i].wrapping_add(1 + rng.below(3) as u8);
            }
            _ => data.push(rng.next_u64() as u8),
        }
    }
    data
}

/// The seeds of a target kept in the repository: `tests/fuzz/corpus/<target>/*`.
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target)
}

pub fn load_corpus(target: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir(target))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .collect()
}

/// How long each target runs: `KC_FUZZ_SECONDS`, 5 s unless set.
pub fn budget() -> Duration {
    let seconds = std::env::var("KC_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    Duration::from_secs_f64(seconds)
}

/// Runs `check` on every seed, then on mutations until the budget is spent; returns how many
/// inputs ran. `check` panics on a finding; the input is saved under `target/fuzz-findings/` and
/// the seed printed first, so the failure can be replayed and the input added to the corpus.
pub fn run(target: &str, corpus: &[Vec<u8>], mut check: impl FnMut(&[u8])) -> u64 {
    assert!(!corpus.is_empty(), "{target}: no seeds");
    let seed = std::env::var("KC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            crate::crypto::fill_random(&mut bytes);
            u64::from_le_bytes(bytes)
        });
    eprintln!("fuzz {target}: KC_FUZZ_SEED={seed}");
    let mut rng = Rng::new(seed);
    let deadline = Instant::now() + budget();
    let mut runs = 0u64;
    let input_for = |i: u64, rng: &mut Rng| -> Vec<u8> {
        match usize::try_from(i).ok().and_then(|i| corpus.get(i)) {
            Some(seed) => seed.clone(),
            None => mutate(rng, corpus),
        }
    };
    while runs < corpus.len() as u64 || Instant::now() < deadline {
        let input = input_for(runs, &mut rng);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&input)));
        if let Err(panic) = outcome {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-findings");
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("{target}-{seed}-{runs}"));
            let _ = std::fs::write(&path, &input);
            eprintln!("fuzz {target}: finding saved to {}", path.display());
            std::panic::resume_unwind(panic);
        }
        runs += 1;
    }
    eprintln!("fuzz {target}: {runs} inputs");
    runs
}

// The keystore body parser is the engine crate's own: its fuzz target lives there.
pub use crate::kms::testing::{keystore_body, keystore_body_seed};
