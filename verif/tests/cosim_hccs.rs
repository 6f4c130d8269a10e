//! Co-simulation of the HCCS engines (`hccs_softmax`, `hccs_softmax_clb` and
//! every other `hccs_softmax` configuration in the manifest) against the golden
//! model: every output bit and every row's error flag, under random `s_valid`
//! gaps and `m_ready` stalls, back-to-back rows, rows counted in and out. The
//! bench itself (rows, checks) is `verif::tb::hccs`.

use rand::rngs::StdRng;
use rand::SeedableRng;
use verif::manifest::{self, ModuleInfo};
use verif::stream::{self, Traffic};
use verif::tb::hccs::{cases, Calibration, Case, Engine};

/// Every HCCS and exp-table engine of the manifest, the defaults included.
fn engines() -> Vec<Engine> {
    let mut mods: Vec<ModuleInfo> = manifest::of_kind("hccs_softmax");
    mods.extend(manifest::of_kind("lut_softmax"));
    for name in ["hccs_softmax", "hccs_softmax_clb", "lut_softmax"] {
        assert!(mods.iter().any(|m| m.module == name), "default {name} missing from the manifest");
    }
    verif::tb::hccs::engines(&mods)
}

#[test]
fn hccs_random_and_directed_rows_with_stalls() {
    let engines = engines();
    std::thread::scope(|s| {
        for (k, e) in engines.iter().enumerate() {
            s.spawn(move || {
                let mut rng = StdRng::seed_from_u64(100 + k as u64);
                let cs = cases(e, &mut rng, 4000);
                assert!(cs.iter().any(|c| c.x.is_empty()), "a zero-length row is among the cases");
                let total = stream::under_every_pattern(1000 * k as u64, |t, seed| e.run(&cs, t, seed));
                eprintln!("{}: {total} rows checked bit-exact under 4 traffic patterns", e.module);
            });
        }
    });
}

/// Sustained throughput on back-to-back rows of 8 x LANES elements at full
/// speed: elements per cycle per lane (target >= 0.95, limit 1.0).
#[test]
fn hccs_throughput_back_to_back() {
    for e in engines() {
        let mut rng = StdRng::seed_from_u64(9);
        for beats in [8, 64] {
            let (n, rate) = e.throughput(beats, 400, &mut rng);
            println!("{}: rows of {n} ({beats} beats): {rate:.3} elements/cycle/lane", e.module);
            assert!(rate >= 0.9, "{}: throughput {rate:.3} on {beats}-beat rows", e.module);
        }
    }
}

/// Real rows: every MiniLM attention row of shared/data, quantised to int8 with
/// its head's calibrated scale, with that head's calibrated (B, S, Dmax) from
/// params/hccs_minilm.json; through every HCCS engine, with stalls. Engines
/// with a baked head table take the head index instead of the constants.
#[test]
fn hccs_real_calibrated_rows() {
    let calib = Calibration::minilm();
    let data = verif::attn::AttnData::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/minilm-attn/calib.attnlog"))
        .expect("attention data");
    let mut engines: Vec<Engine> = engines().into_iter().filter(|e| e.lut_scale.is_none()).collect();
    engines.extend(verif::tb::hccs::engines(&manifest::of_kind("hccs_softmax_heads")));
    std::thread::scope(|s| {
        for (k, e) in engines.iter().enumerate() {
            let (data, calib) = (&data, &calib);
            s.spawn(move || {
                // Every row for the default engine, every 3rd for the others.
                let step = if e.module == "hccs_softmax" { 1 } else { 3 };
                let cases: Vec<Case> = (k % step..data.len())
                    .step_by(step)
                    .map(|i| {
                        let r = data.row(i);
                        let (scale, p) = calib.heads[&(r.layer as u64, r.head as u64)];
                        let x = r.logits.iter().map(|&v| verif::attn::quantize(v, scale)).collect();
                        let head = e.heads.is_some().then(|| calib.index(r.layer as u64, r.head as u64));
                        Case { head, ..Case::new(x, p) }
                    })
                    .collect();
                e.run(&cases, Traffic { s_valid_prob: 0.9, m_ready_prob: 0.7 }, 77 + k as u64);
                eprintln!("{}: {} real MiniLM rows bit-exact", e.module, cases.len());
            });
        }
    });
}

/// `rst` at random points (mid-row on input, mid-output, with rows in every
/// slot): afterwards the engine behaves exactly as from power-up — no stale
/// row, no half row comes out.
#[test]
fn hccs_reset_mid_stream() {
    for e in engines() {
        e.reset_rounds(40, 20, 31);
    }
}

/// The manifest's latency of a streaming engine: cycles from a 1-beat row's
/// beat being taken by an idle engine to its output beat being valid.
#[test]
fn hccs_latency_matches_the_manifest() {
    let mut mods = manifest::of_kind("hccs_softmax");
    mods.extend(manifest::of_kind("lut_softmax"));
    for m in mods {
        let cycles = stream::one_beat_latency(&m.module, &[("s_b", 1000)]);
        assert_eq!(cycles, m.latency as u64, "{}: measured latency vs manifest", m.module);
    }
}
