//! Bench of the fixed-latency HiF8 units: `hif8_exp2` exhaustively (all 256
//! codes x 256 shifts) against `golden::exp2`, and `fp32_to_hif8` on every
//! code's neighbourhood, every rounding boundary, specials and random words
//! against `golden::hif8`. Every output bit compared, valid/latency checked
//! every cycle, a VCD of the first wrong output's window on failure.

use crate::golden::{exp2, fp, hif8};
use crate::manifest::{ModuleInfo, Params};
use crate::unit::FixedLatencyUnit;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

/// The stimulus (gaps, junk on idle cycles) is drawn from a seed of its own,
/// apart from the one that orders the inputs.
fn stimulus_seed(seed: u64) -> u64 {
    seed ^ 0x5EED_0000
}

/// The output format of an EXP2 unit (`hif8_exp2`, `exp2_table256`, `exp2_float`).
pub fn out_format(m: &ModuleInfo) -> fp::Format {
    let f = match &m.params {
        Params::Hif8Exp2(c) => c.out_format,
        Params::Exp2Table256(c) => c.out_format,
        Params::Exp2Float(c) => c.out_format,
        p => panic!("{}: a {} is not an EXP2 unit", m.module, p.kind()),
    };
    fp::Format::of_config(&f)
}

/// Every (code, shift) once; shuffled, with idle cycles between, if
/// `gap_prob` > 0. A unit without `in_shift` (a plain table) gets shift 0
/// only. Returns the number of inputs checked.
pub fn exp2_exhaustive(m: &ModuleInfo, gap_prob: f64, seed: u64) -> usize {
    let fmt = out_format(m);
    let mut rng = StdRng::seed_from_u64(seed);
    let shifts = if m.ports.iter().any(|p| p.name == "in_shift") { 0..=255u8 } else { 0..=0u8 };
    let mut inputs: Vec<(u8, u8)> = (0..=255u8).flat_map(|x| shifts.clone().map(move |s| (x, s))).collect();
    if gap_prob > 0.0 {
        // Random order too, so neighbouring inputs differ in every field.
        for i in (1..inputs.len()).rev() {
            inputs.swap(i, rng.gen_range(0..=i));
        }
    }
    let unit = FixedLatencyUnit::new(&m.module, m.latency, seed);
    let (px, ps, py) = (unit.model.port("in_x"), unit.model.try_port("in_shift"), unit.model.port("out_y"));
    unit.run_checked(
        &inputs,
        gap_prob,
        stimulus_seed(seed),
        |md, &(x, s)| {
            md.set(px, x as u64);
            if let Some(ps) = ps {
                md.set(ps, s as u64);
            }
        },
        |md, r| {
            md.set(px, (r.next_u32() & 0xff) as u64);
            if let Some(ps) = ps {
                md.set(ps, (r.next_u32() & 0xff) as u64);
            }
        },
        |i, md| {
            let (x, s) = inputs[i];
            let got = md.get(py) as u32;
            let want = exp2::exp2_hif8(x, s as i8, &fmt);
            if got == want {
                return Ok(());
            }
            Err(format!(
                "2^(x + shift) with x = {}, shift = {}\n  expected {}\n  got      {}",
                hif8::describe(x),
                s as i8,
                fmt.describe(want),
                fmt.describe(got)
            ))
        },
    );
    inputs.len()
}

/// FP32 words around every place the rounding can change its mind, plus
/// `random` random words.
pub fn fp32_vectors(random: usize, seed: u64) -> Vec<u32> {
    let mut v: Vec<u32> = Vec::new();
    let around = |v: &mut Vec<u32>, x: f32, ulps: i32| {
        for d in -ulps..=ulps {
            let b = (x.to_bits() as i64 + d as i64) as u32;
            v.push(b);
            v.push(b ^ 0x8000_0000);
        }
    };
    // Every code's value, +-4 ulp.
    let mut grid: Vec<f64> = (0..=255u8).map(hif8::decode).filter(|x| x.is_finite() && *x >= 0.0).collect();
    grid.sort_by(|a, b| a.partial_cmp(b).unwrap());
    grid.dedup();
    for &g in &grid {
        around(&mut v, g as f32, 4);
    }
    // Every rounding boundary (midpoints, the Inf slot's midpoint 40960, the
    // underflow edge 2^-23), +-2 ulp; midpoints of HiF8 values are exact in FP32.
    grid.push(49152.0);
    for w in grid.windows(2) {
        around(&mut v, ((w[0] + w[1]) / 2.0) as f32, 2);
    }
    around(&mut v, 2f32.powi(-23), 2);
    // Specials: zeros, Infs, NaNs with assorted payloads, FP32 subnormals, extremes.
    v.extend([0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0xFFBF_FFFF,
        0x7FFF_FFFF, 0x0000_0001, 0x807F_FFFF, 0x0080_0000, 0x7F7F_FFFF, 0xFF7F_FFFF]);
    let mut rng = StdRng::seed_from_u64(seed);
    v.extend((0..random).map(|_| rng.next_u32()));
    v
}

/// Each word with both saturation settings (every other one random).
pub fn fp32_to_hif8_run(m: &ModuleInfo, words: &[u32], gap_prob: f64, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let inputs: Vec<(u32, bool)> = words.iter().enumerate().map(|(i, &w)| (w, i % 2 == 1 || rng.gen_bool(0.5))).collect();
    let unit = FixedLatencyUnit::new(&m.module, m.latency, seed);
    let (pf, psat, ph) = (unit.model.port("in_f"), unit.model.port("in_sat"), unit.model.port("out_h"));
    unit.run_checked(
        &inputs,
        gap_prob,
        stimulus_seed(seed),
        |md, &(w, sat)| {
            md.set(pf, w as u64);
            md.set(psat, sat as u64);
        },
        |md, r| {
            md.set(pf, r.next_u32() as u64);
            md.set(psat, (r.next_u32() & 1) as u64);
        },
        |i, md| {
            let (w, sat) = inputs[i];
            let got = md.get(ph) as u8;
            let want = hif8::encode_f32(f32::from_bits(w), sat);
            if got == want {
                return Ok(());
            }
            Err(format!(
                "HiF8 of {} (sat={sat})\n  expected {}\n  got      {}",
                fp::FP32.describe(w),
                hif8::describe(want),
                hif8::describe(got)
            ))
        },
    );
}
