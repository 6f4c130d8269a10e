//! Co-simulation of the float-input EXP2 baselines (kind `exp2_float`: `exp2_fp16`,
//! `exp2_bf16`, `exp2_fp32`) against the golden model: every output bit compared,
//! valid/latency checked every cycle.
//!
//! - FP16 and BF16 inputs: all 65,536, back to back in order, then shuffled with idle
//!   cycles between.
//! - FP32 inputs: specials; every sign and exponent field (outside the live range the
//!   result depends on nothing else); every input within 256 ulp of the 64 hardest to
//!   round; ±2 ulp around every region boundary (the classifier's exponent edges, the
//!   output's overflow, subnormal and underflow edges, the boundaries next to 1.0, every
//!   integer, every table segment); 10^7 random words, mostly in the exponent range
//!   that reaches the datapath.
//! - Ignored (minutes): `fp32_exhaustive` co-simulates every FP32 input that reaches the
//!   datapath, i.e. every input whose result is not settled by its range (see
//!   rtl-gen/src/exp2_float.rs); `fp32_hardest_cases` checks that HARD_FP32 are the
//!   hardest to round.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use verif::golden::exp2_float::{boundary_distance, exp2_float};
use verif::golden::fp::{Format, FP16, FP32};
use verif::manifest::{self, ModuleInfo, Params};
use verif::tb::units::out_format;
use verif::unit::FixedLatencyUnit;

/// The 64 FP32 inputs x whose 2^x comes closest to an FP16 rounding boundary, closest
/// first (found by `fp32_hardest_cases`; distances from 2^-28.2 to 2^-23.4 ulp).
const HARD_FP32: [u32; 64] = [
    0x3dd4e04b, 0xbd1094c9, 0xbe4ec799, 0xba8a8caa, 0xbbc49d65, 0xbbf2ff08, 0xbdc59f02, 0xb9b8b001,
    0x3b0a65bb, 0x3a389eb1, 0xbd78fcf6, 0x3a389eb2, 0x3d38a2b7, 0x3d5fa8c7, 0x3f104cdf, 0xbedf6642,
    0x3d548933, 0x3f7fe8ea, 0x3ffff475, 0xb9b8b000, 0xbf800b8b, 0x3d8e3bae, 0xbb7e4182, 0xbd1f624e,
    0xbae6f8e3, 0x3e46ccf6, 0xb9b8b002, 0xbc79748b, 0x3dcccf8a, 0xbc6dcb4b, 0x3a389eb0, 0x3bcf4afe,
    0x3a389eb3, 0x3bfd3c20, 0x3e5ad744, 0xbf494a2f, 0xb9b8afff, 0x3e7110e0, 0x3f9e221c, 0x400f110e,
    0x404f110e, 0x40878887, 0x40a78887, 0x40c78887, 0x40e78887, 0xbf43bbc8, 0xbfe1dde4, 0xc030eef2,
    0xc070eef2, 0xc0987779, 0xc0b87779, 0xc0d87779, 0xc0f87779, 0x3b668cc5, 0x3f474afb, 0xbe62d414,
    0xbd57f9ae, 0xbbad70f1, 0x3c1590eb, 0xbcda68f7, 0xbc10b62a, 0x3ba14e6c, 0x3b668cc6, 0xbdf2b206,
];

/// The unit's configuration.
fn config(m: &ModuleInfo) -> &ipconfig::Exp2FloatConfig {
    match &m.params {
        Params::Exp2Float(c) => c,
        p => panic!("{}: a {} is not an exp2_float unit", m.module, p.kind()),
    }
}

fn in_format_of(m: &ModuleInfo) -> Format {
    Format::of_config(&config(m).in_format)
}

/// The unit's output for input `x` against the golden model.
fn check(in_fmt: &Format, x: u32, got: u32) -> Result<(), String> {
    let want = exp2_float(x, in_fmt, &FP16);
    if got == want {
        return Ok(());
    }
    Err(format!("2^x with x = {}\n  expected {}\n  got      {}", in_fmt.describe(x), FP16.describe(want), FP16.describe(got)))
}

fn modules() -> Vec<ModuleInfo> {
    let mods = manifest::of_kind("exp2_float");
    for name in ["exp2_fp16", "exp2_bf16", "exp2_fp32"] {
        assert!(mods.iter().any(|m| m.module == name), "default {name} missing from the manifest");
    }
    for m in &mods {
        assert_eq!(out_format(m), FP16, "{}: the golden checks FP16 output", m.module);
    }
    mods
}

fn module(name: &str) -> ModuleInfo {
    modules().into_iter().find(|m| m.module == name).unwrap()
}

/// Runs `inputs` through one instance of `m`; every output checked against the
/// golden (a VCD of the first wrong output's window on failure).
fn run(m: &ModuleInfo, inputs: &[u32], gap_prob: f64, seed: u64) {
    let in_fmt = in_format_of(m);
    let unit = FixedLatencyUnit::new(&m.module, m.latency, seed);
    let (px, py) = (unit.model.port("in_x"), unit.model.port("out_y"));
    let mask = (1u64 << in_fmt.width()) - 1;
    unit.run_checked(
        inputs,
        gap_prob,
        seed,
        |md, &x| md.set(px, x as u64),
        |md, r| md.set(px, r.next_u64() & mask),
        |i, md| check(&in_fmt, inputs[i], md.get(py) as u32),
    );
}

/// Runs `inputs` split over two threads (two instances of the model).
fn run_parallel(m: &ModuleInfo, inputs: &[u32], gap_prob: f64, seed: u64) {
    let half = inputs.len() / 2;
    std::thread::scope(|s| {
        s.spawn(|| run(m, &inputs[..half], gap_prob, seed));
        s.spawn(|| run(m, &inputs[half..], gap_prob, seed + 1));
    });
}

#[test]
fn exhaustive_16_bit_inputs() {
    let mods: Vec<ModuleInfo> = modules().into_iter().filter(|m| in_format_of(m).width() == 16).collect();
    assert!(mods.len() >= 2);
    std::thread::scope(|s| {
        for (k, m) in mods.iter().enumerate() {
            s.spawn(move || {
                let mut inputs: Vec<u32> = (0..=0xFFFF).collect();
                run(m, &inputs, 0.0, 1 + k as u64);
                // Shuffled, so neighbouring inputs differ in every field, with idle cycles.
                let mut rng = StdRng::seed_from_u64(100 + k as u64);
                for i in (1..inputs.len()).rev() {
                    inputs.swap(i, rng.gen_range(0..=i));
                }
                run(m, &inputs, 0.25, 200 + k as u64);
            });
        }
    });
}

/// FP32 words `around` x (±`ulps` of its bit pattern, both signs), skipping wraps.
fn around(v: &mut Vec<u32>, x: f32, ulps: i64) {
    for sign in [0u32, 0x8000_0000] {
        let b = (x.abs().to_bits() | sign) as i64;
        for d in -ulps..=ulps {
            let w = b + d;
            if (w as u32) & 0x8000_0000 == sign && (0..=u32::MAX as i64).contains(&w) {
                v.push(w as u32);
            }
        }
    }
}

/// The directed FP32 vectors: specials, region boundaries, table segments, hard cases.
fn fp32_directed(table_bits: u32) -> Vec<u32> {
    let mut v: Vec<u32> = vec![
        0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC0_0000, 0x7F80_0001, 0xFF80_0001,
        0x7FBF_FFFF, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x0000_0001, 0x8000_0001, 0x007F_FFFF, 0x807F_FFFF, 0x0080_0000,
        0x8080_0000, 0x7F7F_FFFF, 0xFF7F_FFFF,
    ];
    // Every sign and exponent field with assorted mantissas: outside the live range the
    // result depends on nothing else (class and range), so this covers those inputs.
    for se in 0..512u32 {
        for m in [0, 1, 0x40_0000, 0x2A_AAAA, 0x7F_FFFF] {
            v.push(se << 23 | m);
        }
    }
    // The classifier's and converter's exponent edges (2^-13 .. 2^6), the output's
    // edges (overflow at 16 and log2(65520), normal/subnormal at -14, the last
    // subnormal at -24, the tie at -25), 1.0's neighbours' boundaries.
    for e in -14..=7 {
        around(&mut v, 2f32.powi(e), 2);
    }
    for x in [14.0f32, 15.0, 15.999_648, 24.0, 25.0, 26.0, 27.0, 31.0, 7.042_69e-4, 3.522_635e-4] {
        around(&mut v, x, 2);
    }
    // Every integer in the live range and every table segment n + j / 2^k.
    for n in -32..16 {
        for j in 0..1u32 << table_bits {
            let x = n as f64 + j as f64 / (1u64 << table_bits) as f64;
            let b = (x as f32).to_bits() as i64;
            for d in -2..=2 {
                v.push((b + d) as u32);
            }
        }
    }
    for &h in &HARD_FP32 {
        around(&mut v, f32::from_bits(h), 256);
    }
    v
}

/// Random FP32 words: 80% with an exponent in the live range (-13 ..= 5, random sign
/// and mantissa), the rest any word.
fn fp32_random(n: usize, seed: u64) -> Vec<u32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            if rng.gen_bool(0.8) {
                let e = rng.gen_range(127 - 13..=127 + 5u32);
                (rng.next_u32() & 0x807F_FFFF) | e << 23
            } else {
                rng.next_u32()
            }
        })
        .collect()
}

#[test]
fn fp32_directed_and_random() {
    let m = module("exp2_fp32");
    let k = config(&m).table_bits;
    let directed = fp32_directed(k);
    run_parallel(&m, &directed, 0.0, 11);
    let random = fp32_random(10_000_000, 7);
    run_parallel(&m, &random[..9_800_000], 0.0, 21);
    run_parallel(&m, &random[9_800_000..], 0.3, 31);
}

#[test]
fn reset_clears_the_pipeline() {
    for m in modules() {
        FixedLatencyUnit::new(&m.module, m.latency, 5).assert_reset_drops_inputs_in_flight();
    }
}

/// The FP32 inputs that reach the datapath: exponent -12 ..= 4, both signs (2^28.1
/// words); every other FP32 input has a result settled by its range.
fn live_fp32(sign: u32) -> impl Iterator<Item = u32> {
    LIVE_FP32.map(move |w| w | sign)
}
const LIVE_FP32: std::ops::Range<u32> = (127 - 12) << 23..(127 + 5) << 23;

/// Scans every live FP32 input with the golden's distance to the nearest rounding
/// boundary (about 20 CPU seconds) and checks that HARD_FP32 are the 64 hardest.
#[test]
#[ignore]
fn fp32_hardest_cases() {
    let tops: Vec<Vec<(f64, u32)>> = std::thread::scope(|s| {
        let hs: Vec<_> = [0u32, 0x8000_0000]
            .into_iter()
            .map(|sign| {
                s.spawn(move || {
                    let mut top: Vec<(f64, u32)> = Vec::new();
                    for x in live_fp32(sign) {
                        if let Some(d) = boundary_distance(x, &FP32, &FP16) {
                            if top.len() < 64 || d < top[63].0 {
                                top.push((d, x));
                                top.sort_by(|a, b| a.partial_cmp(b).unwrap());
                                top.truncate(64);
                            }
                        }
                    }
                    top
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = tops.concat();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    all.truncate(64);
    for (d, x) in &all {
        eprintln!("  {x:#010x} {:>15e}  2^{:.2} ulp  2^x = {}", f32::from_bits(*x), d.log2(), FP16.describe(exp2_float(*x, &FP32, &FP16)));
    }
    let found: Vec<u32> = all.iter().map(|p| p.1).collect();
    assert_eq!(found, HARD_FP32.to_vec(), "HARD_FP32 is not the list of the hardest cases");
}

/// Every live FP32 input co-simulated, in chunks, one model per sign on two threads
/// (a few minutes).
#[test]
#[ignore]
fn fp32_exhaustive() {
    let m = module("exp2_fp32");
    let t = std::time::Instant::now();
    std::thread::scope(|s| {
        for (k, sign) in [0u32, 0x8000_0000].into_iter().enumerate() {
            let m = &m;
            s.spawn(move || {
                let mut rng = StdRng::seed_from_u64(40 + k as u64);
                let mut unit = FixedLatencyUnit::new(&m.module, m.latency, 40 + k as u64);
                let (px, py) = (unit.model.port("in_x"), unit.model.port("out_y"));
                for start in LIVE_FP32.step_by(1 << 20) {
                    let inputs: Vec<u32> = (start..start + (1 << 20)).map(|w| w | sign).collect();
                    let inputs = &inputs;
                    unit.run(
                        inputs,
                        0.0,
                        &mut rng,
                        |md, &x| md.set(px, x as u64),
                        |md, r| md.set(px, r.next_u32() as u64),
                        |i, md| {
                            if let Err(e) = check(&FP32, inputs[i], md.get(py) as u32) {
                                panic!("{}: {e}", m.module);
                            }
                        },
                    );
                }
            });
        }
    });
    eprintln!("fp32_exhaustive: {} words in {:.1} s", 2 * live_fp32(0).count(), t.elapsed().as_secs_f64());
}
