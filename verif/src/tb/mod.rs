//! Test benches shared by the co-simulation tests of the default modules
//! (tests/cosim_*.rs), the parameter sweep (tests/sweep.rs) and the long stream
//! runs (tests/stream_soak.rs): per kind of module, the engine under test as
//! its manifest entry describes it, the rows or inputs to feed it, and the
//! bit-exact check against the golden model. Any configuration the generator
//! accepts goes through the same bench.

pub mod baps;
pub mod hccs;
pub mod units;

use crate::stream::{Handshake, Stats};
use rand::rngs::StdRng;

/// What the sweep, the soak and the throughput report do to every streaming
/// engine alike, whichever family's bench it has.
pub trait StreamBench {
    type Case;
    fn module(&self) -> &str;
    /// The directed rows, then `random` random rows.
    fn cases(&self, rng: &mut StdRng, random: usize) -> Vec<Self::Case>;
    /// A run from power-up, every row checked bit-exact against the golden model.
    fn run(&self, cases: &[Self::Case], traffic: impl Handshake, seed: u64) -> Stats;
    fn reset_rounds(&self, rounds: usize, rows: usize, seed: u64);
    /// (row length, elements per cycle per lane) on back-to-back rows of `beats` beats.
    fn throughput(&self, beats: usize, rows: usize, rng: &mut StdRng) -> (usize, f64);
    /// Per-row port values for [`crate::stream::one_beat_latency`].
    fn latency_side(&self) -> Vec<(&'static str, u64)>;
}

/// Implements [`StreamBench`] for a family's `Engine` by its own functions.
macro_rules! stream_bench {
    ($fam:ident, |$e:ident| $side:expr) => {
        impl StreamBench for $fam::Engine {
            type Case = $fam::Case;
            fn module(&self) -> &str {
                &self.module
            }
            fn cases(&self, rng: &mut StdRng, random: usize) -> Vec<$fam::Case> {
                $fam::cases(self, rng, random)
            }
            fn run(&self, cases: &[$fam::Case], traffic: impl Handshake, seed: u64) -> Stats {
                $fam::Engine::run(self, cases, traffic, seed)
            }
            fn reset_rounds(&self, rounds: usize, rows: usize, seed: u64) {
                $fam::Engine::reset_rounds(self, rounds, rows, seed)
            }
            fn throughput(&self, beats: usize, rows: usize, rng: &mut StdRng) -> (usize, f64) {
                $fam::Engine::throughput(self, beats, rows, rng)
            }
            fn latency_side(&self) -> Vec<(&'static str, u64)> {
                let $e = self;
                $side
            }
        }
    };
}

// An HCCS engine needs constants that do not flag the row (B > 0), or a head index.
stream_bench!(hccs, |e| if e.heads.is_some() { vec![("s_head", 0)] } else { vec![("s_b", 1000)] });
stream_bench!(baps, |_e| vec![]);
