//! Co-simulation of the HiF8 units against the golden models: every output bit
//! compared, valid/latency checked every cycle. `hif8_exp2` exhaustively (all
//! 256 codes x 256 shifts) for every EXP2 configuration in the manifest;
//! `fp32_to_hif8` on every code's neighbourhood, every rounding boundary +-2
//! ulp, specials and 10^7 random FP32 words.

use rand::{Rng, RngCore, SeedableRng};
use rand::rngs::StdRng;
use verif::golden::{exp2, fp, hif8};
use verif::manifest::{self, ModuleInfo};
use verif::unit::FixedLatencyUnit;

fn format_of(m: &ModuleInfo) -> fp::Format {
    let name = m.param_str("out_format");
    fp::FORMATS
        .iter()
        .copied()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("{}: unknown out_format {name}", m.module))
}

fn exp2_exhaustive(m: &ModuleInfo, gap_prob: f64, seed: u64) -> usize {
    let fmt = format_of(m);
    let mut rng = StdRng::seed_from_u64(seed);
    // The plain-table baseline has no shift port: its function is the shift-0 slice.
    let shifts = if m.ports.iter().any(|p| p.name == "in_shift") { 0..=255u8 } else { 0..=0u8 };
    let mut inputs: Vec<(u8, u8)> = (0..=255u8).flat_map(|x| shifts.clone().map(move |s| (x, s))).collect();
    if gap_prob > 0.0 {
        // Random order too, so neighbouring inputs differ in every field.
        for i in (1..inputs.len()).rev() {
            inputs.swap(i, rng.gen_range(0..=i));
        }
    }
    let mut unit = FixedLatencyUnit::new(&m.module, m.latency, seed);
    let (px, ps, py) = (unit.model.port("in_x"), unit.model.try_port("in_shift"), unit.model.port("out_y"));
    let mut checked = 0;
    unit.run(
        &inputs,
        gap_prob,
        &mut rng,
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
            assert!(
                got == want,
                "{}: 2^(x + shift) with x = {}, shift = {}\n  expected {}\n  got      {}",
                m.module,
                hif8::describe(x),
                s as i8,
                fmt.describe(want),
                fmt.describe(got)
            );
            checked += 1;
        },
    );
    checked
}

#[test]
fn hif8_exp2_exhaustive_every_configuration() {
    let mods = manifest::of_kind("hif8_exp2");
    assert!(mods.iter().any(|m| m.module == "hif8_exp2"), "default hif8_exp2 missing from the manifest");
    std::thread::scope(|s| {
        for (k, m) in mods.iter().enumerate() {
            s.spawn(move || {
                // Back to back in order, then shuffled with idle cycles between.
                assert_eq!(exp2_exhaustive(m, 0.0, 1 + k as u64), 65536);
                assert_eq!(exp2_exhaustive(m, 0.25, 100 + k as u64), 65536);
            });
        }
    });
}

#[test]
fn exp2_table256_baseline_exhaustive() {
    let mods = manifest::of_kind("exp2_table256");
    assert!(mods.iter().any(|m| m.module == "exp2_table256"), "baseline exp2_table256 missing from the manifest");
    for (k, m) in mods.iter().enumerate() {
        assert_eq!(exp2_exhaustive(m, 0.0, 7 + k as u64), 256);
        assert_eq!(exp2_exhaustive(m, 0.25, 700 + k as u64), 256);
    }
}

/// FP32 words around every place the rounding can change its mind.
fn fp32_vectors(random: usize, seed: u64) -> Vec<u32> {
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

fn fp32_to_hif8_run(m: &ModuleInfo, words: &[u32], gap_prob: f64, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    // Each word with both saturation settings, the second pass random.
    let inputs: Vec<(u32, bool)> = words.iter().enumerate().map(|(i, &w)| (w, i % 2 == 1 || rng.gen_bool(0.5))).collect();
    let mut unit = FixedLatencyUnit::new(&m.module, m.latency, seed);
    let (pf, psat, ph) = (unit.model.port("in_f"), unit.model.port("in_sat"), unit.model.port("out_h"));
    unit.run(
        &inputs,
        gap_prob,
        &mut rng,
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
            assert!(
                got == want,
                "{}: HiF8 of {} (sat={sat})\n  expected {}\n  got      {}",
                m.module,
                fp::FP32.describe(w),
                hif8::describe(want),
                hif8::describe(got)
            );
        },
    );
}

#[test]
fn fp32_to_hif8_boundaries_specials_and_random() {
    let mods = manifest::of_kind("fp32_to_hif8");
    assert!(mods.iter().any(|m| m.module == "fp32_to_hif8"), "default fp32_to_hif8 missing from the manifest");
    let words = fp32_vectors(10_000_000, 7);
    std::thread::scope(|s| {
        for (k, m) in mods.iter().enumerate() {
            let words = &words;
            s.spawn(move || {
                fp32_to_hif8_run(m, words, 0.0, 10 + k as u64);
                fp32_to_hif8_run(m, &words[..200_000], 0.3, 20 + k as u64);
            });
        }
    });
}

#[test]
fn reset_clears_the_pipeline() {
    for m in manifest::of_kind("hif8_exp2").iter().chain(manifest::of_kind("fp32_to_hif8").iter()) {
        let mut unit = FixedLatencyUnit::new(&m.module, m.latency, 5);
        let (vin, vout, rst) = (unit.model.port("in_valid"), unit.model.port("out_valid"), unit.model.port("rst"));
        unit.model.set(vin, 1);
        unit.model.tick(); // one input in flight
        unit.model.set(vin, 0);
        unit.model.set(rst, 1);
        unit.model.tick();
        unit.model.set(rst, 0);
        for _ in 0..m.latency + 1 {
            assert_eq!(unit.model.get(vout), 0, "{}: a reset must drop inputs in flight", m.module);
            unit.model.tick();
        }
    }
}

/// Co-simulation speed: cycles/s of the default hif8_exp2 (run by `make bench`).
#[test]
#[ignore]
fn throughput() {
    let mut model = verif::cosim::Model::new("hif8_exp2");
    let (v, x, s) = (model.port("in_valid"), model.port("in_x"), model.port("in_shift"));
    let y = model.port("out_y");
    model.reset(2);
    model.set(v, 1);
    let n = 20_000_000u64;
    let t = std::time::Instant::now();
    let mut acc = 0u64;
    for i in 0..n {
        model.set(x, i & 0xff);
        model.set(s, (i >> 8) & 0xff);
        model.tick();
        acc = acc.wrapping_add(model.get(y));
    }
    let dt = t.elapsed().as_secs_f64();
    println!("hif8_exp2 co-simulation: {n} cycles in {dt:.2} s = {:.1} M cycles/s (checksum {acc:x})", n as f64 / dt / 1e6);
}
