//! Co-simulation of the HCCS engines (`hccs_softmax`, `hccs_softmax_clb` and
//! every other `hccs_softmax` configuration in the manifest) against the golden
//! model: every output bit and every row's error flag, under random `s_valid`
//! gaps and `m_ready` stalls, back-to-back rows, rows counted in and out.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use verif::golden::hccs::{hccs_row, HccsConfig, HccsOut, HccsParams, Recip};
use verif::golden::lut_softmax::lut_softmax_row;
use verif::manifest::{self, ModuleInfo};
use verif::stream::{RowIn, Stats, StreamHarness, Traffic, FULL_SPEED};

struct Engine {
    module: String,
    cfg: HccsConfig,
    lanes: usize,
    /// The exp-table baseline's scale, None for HCCS.
    lut_scale: Option<f64>,
}

impl Engine {
    fn golden(&self, c: &Case) -> HccsOut {
        if c.x.is_empty() {
            // A zero-length row (one beat, keep 0): nothing to normalise, flagged.
            return HccsOut { p: vec![], err: true };
        }
        match self.lut_scale {
            None => hccs_row(&c.x, &c.p, &self.cfg),
            Some(scale) => lut_softmax_row(&c.x, scale, &self.cfg),
        }
    }
}

fn engines() -> Vec<Engine> {
    let mut mods: Vec<ModuleInfo> = manifest::of_kind("hccs_softmax");
    mods.extend(manifest::of_kind("lut_softmax"));
    for name in ["hccs_softmax", "hccs_softmax_clb", "lut_softmax"] {
        assert!(mods.iter().any(|m| m.module == name), "default {name} missing from the manifest");
    }
    mods.into_iter()
        .map(|m| {
            let u = |k: &str| m.params[k].as_u64().unwrap_or_else(|| panic!("{}: parameter {k}", m.module));
            let recip = match m.param_str("recip") {
                "div" => Recip::Div,
                "clb" => Recip::Clb,
                r => panic!("{}: recip {r}", m.module),
            };
            Engine {
                cfg: HccsConfig { out_bits: u("out_bits") as u32, r: u("r") as u32, recip, max_len: u("max_len") as usize },
                lanes: u("lanes") as usize,
                lut_scale: m.params["score"]["exp_lut"]["scale"].as_f64(),
                module: m.module,
            }
        })
        .collect()
}

struct Case {
    x: Vec<i8>,
    p: HccsParams,
    /// The row ends with an extra beat whose keep is all zero (n = 0: a zero-length row).
    empty_last: bool,
}

impl Case {
    fn new(x: Vec<i8>, p: HccsParams) -> Case {
        Case { x, p, empty_last: false }
    }
}

fn random_params(rng: &mut StdRng) -> HccsParams {
    match rng.gen_range(0..10) {
        // Bad constants: scores can go negative, or B = 0 (Z = 0).
        0 => HccsParams { b: rng.gen_range(0..2000), s: rng.gen_range(20..=127), dmax: rng.gen_range(50..=127) },
        1 => HccsParams { b: 0, s: rng.gen_range(0..=127), dmax: rng.gen_range(0..=127) },
        _ => {
            let s = rng.gen_range(0..=127u8);
            let dmax = rng.gen_range(0..=127u8);
            let lo = (s as u16 * dmax as u16).max(1);
            let b = if lo >= 32767 { 32767 } else { rng.gen_range(lo..=32767) };
            if (b as u32) < s as u32 * dmax as u32 {
                HccsParams { b, s: 0, dmax }
            } else {
                HccsParams { b, s, dmax }
            }
        }
    }
}

fn random_row(rng: &mut StdRng, n: usize) -> Vec<i8> {
    match rng.gen_range(0..4) {
        0 => (0..n).map(|_| rng.gen()).collect(),
        1 => {
            let c: i8 = rng.gen();
            (0..n).map(|_| c.saturating_add(rng.gen_range(-6..=6))).collect()
        }
        2 => vec![rng.gen(); n], // all equal
        _ => (0..n).map(|_| if rng.gen_bool(0.1) { 127 } else { rng.gen_range(-128..-100) }).collect(),
    }
}

/// Random and directed rows for one engine.
fn cases(e: &Engine, rng: &mut StdRng, random: usize) -> Vec<Case> {
    let max = e.cfg.max_len;
    let mut v = Vec::new();
    let p = |rng: &mut StdRng| random_params(rng);
    // Directed: one element, one beat, every length around a beat end, the
    // longest row, rows just too long, extremes.
    for n in [1, e.lanes, e.lanes + 1, 2 * e.lanes - 1, max - 1, max, max + 1, max + e.lanes + 3] {
        let x = random_row(rng, n);
        v.push(Case::new(x, p(rng)));
    }
    // Rows closed by a beat with keep == 0, and a zero-length row.
    for n in [0, e.lanes, 2 * e.lanes] {
        v.push(Case { x: random_row(rng, n), p: HccsParams { b: 1000, s: 10, dmax: 50 }, empty_last: true });
    }
    v.push(Case::new(vec![127, -128], HccsParams { b: 32767, s: 127, dmax: 127 }));
    v.push(Case::new(vec![-128; max], HccsParams { b: 32767, s: 0, dmax: 0 }));
    v.push(Case::new(vec![0, 0, 0], HccsParams { b: 0, s: 0, dmax: 0 }));
    for _ in 0..random {
        let n = if rng.gen_bool(0.2) { rng.gen_range(1..=4 * e.lanes) } else { rng.gen_range(1..=max) };
        v.push(Case::new(random_row(rng, n), p(rng)));
    }
    v
}

/// The stream rows of the cases: int8 logits, constants with the first beat.
fn rows_in(cases: &[Case]) -> Vec<RowIn> {
    cases
        .iter()
        .map(|c| RowIn {
            elems: c.x.iter().map(|&v| v as u8 as u64).collect(),
            side: vec![("s_b", c.p.b as u64), ("s_s", c.p.s as u64), ("s_dmax", c.p.dmax as u64)],
            empty_last_beat: c.empty_last,
        })
        .collect()
}

fn run(e: &Engine, cases: &[Case], traffic: Traffic, seed: u64) -> Stats {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut h = StreamHarness::new(&e.module, seed, 8, e.cfg.out_bits, &["s_b", "s_s", "s_dmax"]);
    assert_eq!(h.lanes, e.lanes);
    let rows = rows_in(cases);
    let mut stats = Stats::default();
    let out = h.run(&rows, traffic, &mut rng, &mut stats);
    assert_eq!(out.len(), cases.len(), "{}: rows in vs rows out", e.module);
    for (i, (c, o)) in cases.iter().zip(&out).enumerate() {
        let want = e.golden(c);
        let got: Vec<u32> = o.elems.iter().map(|&v| v as u32).collect();
        if got != want.p || o.err != want.err {
            let first = got.iter().zip(&want.p).position(|(a, b)| a != b);
            panic!(
                "{} row {i} (n = {}, B = {}, S = {}, Dmax = {}): err expected {} got {}; first differing element {:?}\n  x    = {:?}\n  want = {:?}\n  got  = {:?}",
                e.module, c.x.len(), c.p.b, c.p.s, c.p.dmax, want.err, o.err,
                first.map(|j| (j, c.x[j], want.p[j], got[j])), c.x, want.p, got
            );
        }
    }
    stats
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
                let mut total = 0;
                for (j, t) in [
                    FULL_SPEED,
                    Traffic { s_valid_prob: 0.7, m_ready_prob: 0.6 },
                    Traffic { s_valid_prob: 1.0, m_ready_prob: 0.25 },
                    Traffic { s_valid_prob: 0.3, m_ready_prob: 1.0 },
                ]
                .into_iter()
                .enumerate()
                {
                    let st = run(e, &cs, t, 1000 * k as u64 + j as u64);
                    total += cs.len();
                    assert!(st.stalls > 0 || t.m_ready_prob == 1.0, "the stall pattern stalled");
                }
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
            let n = (beats * e.lanes).min(e.cfg.max_len);
            let cs: Vec<Case> = (0..400)
                .map(|_| Case::new(random_row(&mut rng, n), HccsParams { b: 20000, s: 100, dmax: 100 }))
                .collect();
            let st = run(&e, &cs, FULL_SPEED, 5);
            let elems = (cs.len() * n) as f64;
            let rate = elems / (st.cycles as f64 * e.lanes as f64);
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
    let calib: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../params/hccs_minilm.json")).expect("params/hccs_minilm.json"),
    )
    .expect("calibration JSON");
    let per_layer = calib["per_head"].as_array().unwrap().iter().map(|h| h["head"].as_u64().unwrap()).max().unwrap() + 1;
    let mut heads = std::collections::HashMap::new();
    for h in calib["per_head"].as_array().unwrap() {
        let g = |k: &str| h[k].as_u64().unwrap();
        let p = HccsParams { b: g("b") as u16, s: g("s") as u8, dmax: g("dmax") as u8 };
        heads.insert((g("layer"), g("head")), (h["scale"].as_f64().unwrap(), p));
    }
    let data = verif::attn::AttnData::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/minilm-attn/calib.attnlog"))
        .expect("attention data");
    let mut engines: Vec<(Engine, bool)> = engines().into_iter().filter(|e| e.lut_scale.is_none()).map(|e| (e, false)).collect();
    for m in manifest::of_kind("hccs_softmax_heads") {
        let u = |k: &str| m.params[k].as_u64().unwrap();
        let recip = if m.param_str("recip") == "clb" { Recip::Clb } else { Recip::Div };
        let cfg = HccsConfig { out_bits: u("out_bits") as u32, r: u("r") as u32, recip, max_len: u("max_len") as usize };
        engines.push((Engine { module: m.module, cfg, lanes: u("lanes") as usize, lut_scale: None }, true));
    }
    std::thread::scope(|s| {
        for (k, (e, by_head)) in engines.iter().enumerate() {
            let (data, heads) = (&data, &heads);
            s.spawn(move || {
                // Every row for the default engine, every 3rd for the others.
                let step = if e.module == "hccs_softmax" { 1 } else { 3 };
                let mut cases = Vec::new();
                let mut index = Vec::new();
                for i in (k % step..data.len()).step_by(step) {
                    let r = data.row(i);
                    let (scale, p) = heads[&(r.layer as u64, r.head as u64)];
                    let x = r.logits.iter().map(|&v| verif::hccs_calib::quantize(v, scale)).collect();
                    cases.push(Case::new(x, p));
                    index.push(r.layer as u64 * per_layer + r.head as u64);
                }
                let traffic = Traffic { s_valid_prob: 0.9, m_ready_prob: 0.7 };
                if *by_head {
                    run_by_head(e, &cases, &index, traffic, 77 + k as u64);
                } else {
                    run(e, &cases, traffic, 77 + k as u64);
                }
                eprintln!("{}: {} real MiniLM rows bit-exact", e.module, cases.len());
            });
        }
    });
}

/// Like `run`, for an engine with a baked head table: s_head instead of the constants.
fn run_by_head(e: &Engine, cases: &[Case], head: &[u64], traffic: Traffic, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut h = StreamHarness::new(&e.module, seed, 8, e.cfg.out_bits, &["s_head"]);
    let rows: Vec<RowIn> = cases
        .iter()
        .zip(head)
        .map(|(c, &hd)| RowIn { elems: c.x.iter().map(|&v| v as u8 as u64).collect(), side: vec![("s_head", hd)], empty_last_beat: c.empty_last })
        .collect();
    let out = h.run(&rows, traffic, &mut rng, &mut Stats::default());
    assert_eq!(out.len(), cases.len());
    for (i, (c, o)) in cases.iter().zip(&out).enumerate() {
        let want = e.golden(c);
        let got: Vec<u32> = o.elems.iter().map(|&v| v as u32).collect();
        assert!(got == want.p && o.err == want.err, "{} row {i} (head {}): want {:?} err {} got {:?} err {}", e.module, head[i], want.p, want.err, got, o.err);
    }
}

/// `rst` at random points (mid-row on input, mid-output, with rows in every
/// slot): afterwards the engine behaves exactly as from power-up — no stale
/// row, no half row comes out.
#[test]
fn hccs_reset_mid_stream() {
    for e in engines() {
        let mut rng = StdRng::seed_from_u64(31);
        let mut h = StreamHarness::new(&e.module, 3, 8, e.cfg.out_bits, &["s_b", "s_s", "s_dmax"]);
        let (sv, sl, mr, rst) = (h.model.port("s_valid"), h.model.port("s_last"), h.model.port("m_ready"), h.model.port("rst"));
        for round in 0..40 {
            // Garbage traffic for a random while: random beats, random lasts, random stalls.
            for _ in 0..rng.gen_range(1..200) {
                h.model.set(sv, rng.gen_bool(0.8) as u64);
                h.model.set(sl, rng.gen_bool(0.1) as u64);
                h.model.set(mr, rng.gen_bool(0.5) as u64);
                let words: Vec<u32> = (0..h.model.port("s_data").words()).map(|_| rng.gen()).collect();
                h.model.set_wide(h.model.port("s_data"), &words);
                h.model.tick();
            }
            h.model.set(sv, 0);
            h.model.set(rst, 1);
            h.model.tick();
            h.model.set(rst, 0);
            let cs = cases(&e, &mut rng, 20);
            let rows = rows_in(&cs);
            let out = h.run(&rows, Traffic { s_valid_prob: 0.8, m_ready_prob: 0.6 }, &mut rng, &mut Stats::default());
            for (i, (c, o)) in cs.iter().zip(&out).enumerate() {
                let want = e.golden(c);
                let got: Vec<u32> = o.elems.iter().map(|&v| v as u32).collect();
                assert!(got == want.p && o.err == want.err, "{} after reset {round}, row {i}: stale or wrong output", e.module);
            }
        }
    }
}

/// The manifest's latency of a streaming engine: cycles from a 1-beat row's
/// beat being taken by an idle engine to its output beat being valid.
#[test]
fn hccs_latency_matches_the_manifest() {
    let mut mods = manifest::of_kind("hccs_softmax");
    mods.extend(manifest::of_kind("lut_softmax"));
    for m in mods {
        let mut md = verif::cosim::Model::new(&m.module);
        let p = |md: &verif::cosim::Model, n: &str| md.port(n);
        let (sv, sl, sk, mr, mv, sb) = (p(&md, "s_valid"), p(&md, "s_last"), p(&md, "s_keep"), p(&md, "m_ready"), p(&md, "m_valid"), p(&md, "s_b"));
        md.set(sv, 0);
        md.set(mr, 1);
        md.reset(3);
        md.set(sb, 1000);
        md.set(sk, 1);
        md.set(sl, 1);
        md.set(sv, 1);
        md.tick(); // the beat is taken at this edge
        md.set(sv, 0);
        let mut cycles = 0;
        while md.get(mv) == 0 {
            md.tick();
            cycles += 1;
            assert!(cycles < 1000, "{}: no output", m.module);
        }
        assert_eq!(cycles + 1, m.latency, "{}: measured latency vs manifest", m.module);
    }
}
