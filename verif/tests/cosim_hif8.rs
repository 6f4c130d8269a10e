//! Co-simulation of the HiF8 units against the golden models: every output bit
//! compared, valid/latency checked every cycle. `hif8_exp2` exhaustively (all
//! 256 codes x 256 shifts) for every EXP2 configuration in the manifest;
//! `fp32_to_hif8` on every code's neighbourhood, every rounding boundary +-2
//! ulp, specials and 10^7 random FP32 words. The bench itself is
//! `verif::tb::units`.

use verif::manifest;
use verif::tb::units::{exp2_exhaustive, fp32_to_hif8_run, fp32_vectors};
use verif::unit::FixedLatencyUnit;

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
        FixedLatencyUnit::new(&m.module, m.latency, 5).assert_reset_drops_inputs_in_flight();
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
