//! Random legal configurations of every generator (`rtl-gen sweep`), for the
//! parameter sweep of the co-simulation (verif/tests/sweep.rs): the default IP
//! set builds a handful of points of each generator's parameter space, and a
//! bug that only shows with one lane, sixteen lanes, a row buffer that is not a
//! power of two, 16-bit outputs or a small R would never be simulated there.
//!
//! The sample is a pure function of (seed, count), so a failing configuration
//! is reproduced by its seed alone. Module names carry the seed
//! (`sweep<seed>_<kind>_<i>`): samples of different seeds never share a name,
//! so verif's object cache (keyed per module name) keeps the models of both.

use crate::baps::{self, BapsConfig, BapsOut, BAPS_DEFAULT};
use crate::emit::Module;
use crate::exp2::{self, Exp2Arch, Exp2Config};
use crate::formats::FLOAT_FORMATS;
use crate::fp32_to_hif8::{self, Fp32ToHif8Config};
use crate::hccs::{self, HccsConfig, Recip, Score};
use anyhow::Result;

/// SplitMix64: rtl-gen needs no random-number crate for this, and the sample
/// must not change when a crate's generator does.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % (hi - lo + 1) as u64) as u32
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.range(0, 99) < percent
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exp2,
    Fp32ToHif8,
    Hccs,
    Lut,
    Baps,
}

/// Kinds in the order configurations are drawn: the engines, whose parameter
/// space is largest, twice as often; every kind within the first 5.
const ORDER: [Kind; 8] = [Kind::Hccs, Kind::Baps, Kind::Exp2, Kind::Lut, Kind::Fp32ToHif8, Kind::Hccs, Kind::Baps, Kind::Exp2];

/// A row buffer of `lanes` times some number of beats: a few beats (rows of one
/// or two beats, the pipeline's tightest case), up to 512 elements, or up to
/// `large` elements. Mostly not a power of two.
fn max_len(rng: &mut Rng, lanes: u32, large: u32) -> u32 {
    let beats = match rng.range(0, 3) {
        0 => rng.range(1, 4),
        3 => rng.range(1, large / lanes),
        _ => rng.range(1, 512 / lanes),
    };
    lanes * beats
}

/// LANES for the n-th engine of a kind: the extremes 1 and 16 first, then any.
fn lanes(rng: &mut Rng, nth: usize) -> u32 {
    match nth {
        0 => 1,
        1 => 16,
        _ => rng.range(1, 16),
    }
}

fn hccs_config(rng: &mut Rng, nth: usize, score: Score) -> HccsConfig {
    let lanes = lanes(rng, nth);
    HccsConfig {
        lanes,
        max_len: max_len(rng, lanes, 4096),
        out_bits: if rng.chance(50) { 8 } else { 16 },
        r: rng.range(1, 24),
        recip: if score == Score::Hccs && rng.chance(50) { Recip::Clb } else { Recip::Div },
        score,
    }
}

fn baps_config(rng: &mut Rng, nth: usize) -> BapsConfig {
    let lanes = lanes(rng, nth);
    // BLOCK = LANES * 2^j, up to 256 elements.
    let max_j = (0..=4).rev().find(|&j| lanes << j <= 256).unwrap_or(0);
    BapsConfig {
        lanes,
        block: lanes << rng.range(0, max_j),
        max_len: max_len(rng, lanes, 2048),
        out_format: if rng.chance(50) { BapsOut::Fp16 } else { BapsOut::Bf16 },
        ..BAPS_DEFAULT
    }
}

/// `count` configurations drawn from `seed`, named `sweep<seed>_<kind>_<i>`.
pub fn sample(seed: u64, count: usize) -> Result<Vec<Module>> {
    let mut rng = Rng(seed);
    let mut seen = [0usize; 5];
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let kind = ORDER[i % ORDER.len()];
        let nth = seen[kind as usize];
        seen[kind as usize] += 1;
        let m = match kind {
            Kind::Exp2 => {
                let arch = if rng.chance(50) { Exp2Arch::Table } else { Exp2Arch::Decomposed };
                let out_format = FLOAT_FORMATS[rng.range(0, 2) as usize];
                let cfg = Exp2Config { arch, out_format, stages: rng.range(1, 5) };
                exp2::generate(&format!("sweep{seed}_hif8_exp2_{i}"), &cfg)?
            }
            Kind::Fp32ToHif8 => {
                let cfg = Fp32ToHif8Config { stages: rng.range(1, 2) };
                fp32_to_hif8::generate(&format!("sweep{seed}_fp32_to_hif8_{i}"), &cfg)?
            }
            Kind::Hccs => hccs::generate(&format!("sweep{seed}_hccs_softmax_{i}"), &hccs_config(&mut rng, nth, Score::Hccs), None)?,
            Kind::Lut => {
                // Dyadic scales (k/4), so that the table is the same whichever
                // way a model rounds scale * d.
                let score = Score::ExpLut { scale: rng.range(1, 256) as f64 / 4.0 };
                hccs::generate(&format!("sweep{seed}_lut_softmax_{i}"), &hccs_config(&mut rng, nth, score), None)?
            }
            Kind::Baps => baps::generate(&format!("sweep{seed}_baps_softmax_{i}"), &baps_config(&mut rng, nth))?,
        };
        out.push(m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_covers_every_kind_and_the_lane_extremes() {
        let a = sample(5, 12).unwrap();
        let b = sample(5, 12).unwrap();
        assert!(a.iter().zip(&b).all(|(x, y)| x.module == y.module && x.verilog == y.verilog));
        for kind in ["hif8_exp2", "fp32_to_hif8", "hccs_softmax", "lut_softmax", "baps_softmax"] {
            assert!(a.iter().any(|m| m.params.kind() == kind), "no {kind} in the sample");
        }
        for kind in ["hccs_softmax", "baps_softmax"] {
            let lanes: Vec<u32> = a.iter().filter(|m| m.params.kind() == kind).map(|m| m.params.lanes().unwrap()).collect();
            assert!(lanes.contains(&1) && lanes.contains(&16), "{kind}: lanes {lanes:?}");
        }
        let names: std::collections::HashSet<_> = a.iter().map(|m| &m.module).collect();
        assert_eq!(names.len(), a.len(), "unique module names");
        assert!(sample(6, 12).unwrap()[0].module != a[0].module, "names differ between seeds");
    }
}
