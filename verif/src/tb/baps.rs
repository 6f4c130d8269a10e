//! Bench of the BAPS engines (`baps_softmax`, any LANES / BLOCK / MAX_LEN, FP16
//! or BF16 out): random rows of many kinds (near-integer scores, subnormals,
//! block maxima far apart, -Inf masks, NaN / +Inf / too large / too long rows)
//! and directed corners, checked bit-exact (every output and the error flag)
//! against `golden::baps`.

use crate::golden::baps::{baps_row, baps_row_trace, BapsConfig, BapsOut};
use crate::golden::fp::FP16;
use crate::manifest::{ModuleInfo, Params};
use crate::stream::{Handshake, RowIn, RowOut, Stats, StreamTest, FULL_SPEED};
use rand::rngs::StdRng;
use rand::Rng;

pub struct Engine {
    pub module: String,
    pub cfg: BapsConfig,
}

/// One row: FP32 scores, and whether the row ends with an extra empty (keep 0) beat.
#[derive(Clone, Debug)]
pub struct Case {
    pub t: Vec<f32>,
    pub empty_last: bool,
}

impl From<Vec<f32>> for Case {
    fn from(t: Vec<f32>) -> Case {
        Case { t, empty_last: false }
    }
}

impl Engine {
    pub fn from_module(m: &ModuleInfo) -> Engine {
        let Params::BapsSoftmax(c) = &m.params else { panic!("{}: a {} is not a BAPS engine", m.module, m.params.kind()) };
        let cfg = BapsConfig::from(c);
        assert_eq!(cfg.exp_format, FP16, "{}: EXP2 format", m.module);
        Engine { module: m.module.clone(), cfg }
    }

    /// Every output and the error flag of one row against the golden model.
    pub fn check(&self, c: &Case, o: &RowOut) -> Result<(), String> {
        let t = &c.t[..];
        let want: BapsOut = baps_row(t, &self.cfg);
        let got: Vec<u32> = o.elems.iter().map(|&v| v as u32).collect();
        if got == want.p && o.err == want.err {
            return Ok(());
        }
        let tr = baps_row_trace(t, &self.cfg);
        let first = got.iter().zip(&want.p).position(|(a, b)| a != b);
        Err(format!(
            "n = {}{}: err expected {} got {}; first differing element {:?}\n  trace m_b = {:?} M = {} l = {:#010x} r = {:#010x}\n  t    = {:?}\n  want = {:x?}\n  got  = {:x?}",
            t.len(),
            if c.empty_last { " + an empty beat" } else { "" },
            want.err,
            o.err,
            first.map(|j| (j, t[j], tr.h.get(j), want.p[j], got[j])),
            tr.m_b,
            tr.m,
            tr.l,
            tr.r,
            t,
            want.p,
            got
        ))
    }

    /// A run from power-up with `seed`, every row checked bit-exact (a VCD of
    /// the first failing row's window on failure).
    pub fn run(&self, cases: &[Case], traffic: impl Handshake, seed: u64) -> Stats {
        self.stream_test(seed).run(&rows_in(cases), traffic, |i, o| self.check(&cases[i], o))
    }

    /// A run of this engine from power-up with `seed`: FP32 in, 16-bit out, no sideband.
    pub fn stream_test(&self, seed: u64) -> StreamTest<'_> {
        StreamTest { module: &self.module, lanes: self.cfg.lanes, in_w: 32, out_w: 16, side: &[], seed }
    }

    /// Sustained throughput: `rows` back-to-back rows of `beats` x LANES scores
    /// (at most MAX_LEN) at full speed, each checked bit-exact. Returns the row
    /// length and elements per cycle per lane (limit 1.0).
    pub fn throughput(&self, beats: usize, rows: usize, rng: &mut StdRng) -> (usize, f64) {
        let n = (beats * self.cfg.lanes).min(self.cfg.max_len);
        let cs: Vec<Case> = (0..rows).map(|_| Case::from((0..n).map(|_| rng.gen_range(-20.0f32..20.0)).collect::<Vec<f32>>())).collect();
        (n, self.run(&cs, FULL_SPEED, 5).per_lane_rate(rows * n, self.cfg.lanes))
    }

    /// Resets at random points, each followed by `rows` checked rows (see
    /// [`StreamTest::reset_rounds`]).
    pub fn reset_rounds(&self, rounds: usize, rows: usize, seed: u64) {
        self.stream_test(seed).reset_rounds(
            rounds,
            300,
            0.05,
            |rng| {
                let cs = cases(self, rng, rows);
                (rows_in(&cs), cs)
            },
            |cs, i, o| self.check(&cs[i], o),
        );
    }
}

/// The engines of some manifest entries (kind baps_softmax).
pub fn engines<'a>(mods: impl IntoIterator<Item = &'a ModuleInfo>) -> Vec<Engine> {
    mods.into_iter().map(Engine::from_module).collect()
}

/// One random score of a few kinds (mostly finite, near-integer edges, tiny, huge).
pub fn score(rng: &mut StdRng, centre: f32, spread: f32) -> f32 {
    match rng.gen_range(0..20) {
        0 => (centre + rng.gen_range(-spread..=spread)).round(), // exact integers
        1 => {
            let k = (centre + rng.gen_range(-spread..=spread)).round();
            let d = f32::EPSILON * k.abs().max(1.0) * rng.gen_range(1..4) as f32;
            if rng.gen_bool(0.5) { k + d } else { k - d } // just off an integer
        }
        2 => f32::from_bits(rng.gen_range(0..0x0080_0000u32) | if rng.gen_bool(0.5) { 0x8000_0000 } else { 0 }), // subnormal
        3 => if rng.gen_bool(0.5) { 0.0 } else { -0.0 },
        _ => centre + rng.gen_range(-spread..=spread),
    }
}

pub fn random_row(rng: &mut StdRng, n: usize, block: usize) -> Vec<f32> {
    let mut v: Vec<f32> = match rng.gen_range(0..10) {
        8 | 9 => {
            // exact powers of two (integer scores), most at the max: ties in the FP32
            // beat sums and in l, exact products in the output
            let top = rng.gen_range(-3i32..=3) as f32;
            let p0 = rng.gen_range(0.3..0.95);
            (0..n)
                .map(|_| if rng.gen_bool(p0) { top } else { top - rng.gen_range(1..=30) as f32 })
                .collect()
        }
        0 => (0..n).map(|_| score(rng, 0.0, 20.0)).collect(),
        1 => {
            // near the int16 limits and anywhere in between
            let c = rng.gen_range(-33000.0f32..32767.0);
            (0..n).map(|_| score(rng, c, 4.0).min(32767.0)).collect()
        }
        2 => vec![score(rng, 0.0, 100.0); n], // all equal
        3 => {
            // block maxima far apart: shifts below -128, rescales by > 128, flushes
            let offs: Vec<f32> = (0..n.div_ceil(block)).map(|_| rng.gen_range(-400.0f32..400.0)).collect();
            (0..n).map(|i| score(rng, offs[i / block], 6.0)).collect()
        }
        4 => {
            // -Inf masks
            let p = rng.gen_range(0.0..1.0);
            (0..n).map(|_| if rng.gen_bool(p) { f32::NEG_INFINITY } else { score(rng, 0.0, 10.0) }).collect()
        }
        5 => (0..n).map(|_| score(rng, 0.0, 2.0)).collect(), // HiF8's precise band
        6 => {
            // random finite bit patterns below 32767 (tiny to hugely negative)
            (0..n)
                .map(|_| loop {
                    let f = f32::from_bits(rng.gen());
                    if f.is_finite() && f <= 32767.0 {
                        break f;
                    }
                })
                .collect()
        }
        _ => {
            // rising row: M grows block after block
            let base = rng.gen_range(-100.0f32..0.0);
            let step = rng.gen_range(0.0f32..3.0);
            (0..n).map(|i| score(rng, base + step * (i / block) as f32, 3.0)).collect()
        }
    };
    // Rare bad elements: NaN, +Inf, t > 32767, or all -Inf.
    match rng.gen_range(0..60) {
        0 => {
            let i = rng.gen_range(0..n);
            v[i] = f32::NAN;
        }
        1 => {
            let i = rng.gen_range(0..n);
            v[i] = f32::INFINITY;
        }
        2 => {
            let i = rng.gen_range(0..n);
            v[i] = rng.gen_range(32767.01f32..1e6);
        }
        3 => v.iter_mut().for_each(|x| *x = f32::NEG_INFINITY),
        _ => {}
    }
    v
}

/// Rows at every length where a beat, a block or the buffer ends, rows closed
/// by an empty beat, and the contract's corners (all equal, one huge element, -Inf masks, NaN, +Inf,
/// t at and above 32767, scores below the int16 block-maximum range, signed
/// zeros and subnormals, rising and falling rows).
pub fn directed(e: &Engine, rng: &mut StdRng) -> Vec<Case> {
    let (l, b, max) = (e.cfg.lanes, e.cfg.block, e.cfg.max_len);
    let mut v = Vec::new();
    for n in [1, l, l + 1, 2 * l - 1, b - 1, b, b + 1, b + l - 1, max - 1, max, max + 1, max + l + 3, 2 * max] {
        if n >= 1 {
            v.push(random_row(rng, n, b));
        }
    }
    v.push(vec![3.5; max]); // all equal
    v.push(vec![0.0; 7]);
    let mut huge = vec![-5.0f32; 50];
    huge[17] = 30000.0; // one huge element
    v.push(huge);
    v.push(vec![f32::NEG_INFINITY; 9]); // all -Inf
    v.push(vec![f32::NEG_INFINITY, 1.0, f32::NEG_INFINITY, 2.5, f32::NEG_INFINITY]);
    v.push(vec![1.0, f32::NAN, 2.0]);
    v.push(vec![1.0, 2.0, f32::INFINITY]);
    v.push(vec![1.0, 32767.5, 2.0]); // t > 32767
    v.push(vec![1.0, 32767.0, 2.0]); // t = 32767: fine
    v.push(vec![-32768.0, -32769.0, -40000.0, -1e30]); // below MB_MIN
    v.push(vec![-32900.0; 40]); // every score far below MB_MIN: l == +0, bad
    v.push(vec![-0.0, 0.0, -1e-40, 1e-40]);
    let mut rise: Vec<f32> = (0..max.min(256)).map(|i| i as f32 * 1.7 - 200.0).collect();
    v.push(rise.clone());
    rise.reverse();
    v.push(rise);
    let mut v: Vec<Case> = v.into_iter().map(Case::from).collect();
    // Rows closed by an empty beat: zero-length, one beat, one block, the longest.
    for n in [0, l, b, max] {
        v.push(Case { t: if n == 0 { vec![] } else { random_row(rng, n, b) }, empty_last: true });
    }
    v
}

/// The directed rows, then `random` random rows (a tenth short, a tenth too long).
pub fn cases(e: &Engine, rng: &mut StdRng, random: usize) -> Vec<Case> {
    let mut v = directed(e, rng);
    let max = e.cfg.max_len;
    for _ in 0..random {
        let n = match rng.gen_range(0..10) {
            0 => rng.gen_range(1..=4 * e.cfg.lanes),
            1 => rng.gen_range(max + 1..=max + 3 * e.cfg.block),
            _ => rng.gen_range(1..=max),
        };
        v.push(random_row(rng, n, e.cfg.block).into());
    }
    v
}

/// The stream rows of the cases: FP32 bit patterns, no sideband.
pub fn rows_in(cases: &[Case]) -> Vec<RowIn> {
    cases
        .iter()
        .map(|c| RowIn { elems: c.t.iter().map(|&v| v.to_bits() as u64).collect(), side: vec![], empty_last_beat: c.empty_last })
        .collect()
}
