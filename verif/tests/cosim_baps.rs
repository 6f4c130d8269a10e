//! Co-simulation of the BAPS engines (`baps_softmax` and every other `baps_softmax`
//! configuration in the manifest) against the golden model `verif::golden::baps`:
//! every output bit and every row's error flag, under random `s_valid` gaps and
//! `m_ready` stalls, back-to-back rows, rows counted in and out; real MiniLM rows;
//! throughput on back-to-back rows; latency against the manifest; reset mid-stream.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use verif::golden::baps::{baps_row, baps_row_trace, BapsConfig, BapsOut, OutFormat};
use verif::golden::fp::FP16;
use verif::manifest;
use verif::stream::{RowIn, Stats, StreamHarness, Traffic, FULL_SPEED};

struct Engine {
    module: String,
    cfg: BapsConfig,
}

fn engines() -> Vec<Engine> {
    let mods = manifest::of_kind("baps_softmax");
    assert!(mods.iter().any(|m| m.module == "baps_softmax"), "default baps_softmax missing from the manifest");
    mods.into_iter()
        .map(|m| {
            let u = |k: &str| m.params[k].as_u64().unwrap_or_else(|| panic!("{}: parameter {k}", m.module)) as usize;
            let out = match m.param_str("out") {
                "fp16" => OutFormat::Fp16,
                "bf16" => OutFormat::Bf16,
                o => panic!("{}: output format {o}", m.module),
            };
            assert_eq!(m.param_str("exp_format"), "fp16");
            let cfg = BapsConfig {
                lanes: u("lanes"),
                block: u("block"),
                max_len: u("max_len"),
                out,
                exp_format: FP16,
                max_offset: u("max_offset") as u8,
            };
            Engine { module: m.module, cfg }
        })
        .collect()
}

/// One random score of a few kinds (mostly finite, near-integer edges, tiny, huge).
fn score(rng: &mut StdRng, centre: f32, spread: f32) -> f32 {
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

fn random_row(rng: &mut StdRng, n: usize, block: usize) -> Vec<f32> {
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

fn directed(e: &Engine, rng: &mut StdRng) -> Vec<Vec<f32>> {
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
    v
}

fn cases(e: &Engine, rng: &mut StdRng, random: usize) -> Vec<Vec<f32>> {
    let mut v = directed(e, rng);
    let max = e.cfg.max_len;
    for _ in 0..random {
        let n = match rng.gen_range(0..10) {
            0 => rng.gen_range(1..=4 * e.cfg.lanes),
            1 => rng.gen_range(max + 1..=max + 3 * e.cfg.block),
            _ => rng.gen_range(1..=max),
        };
        v.push(random_row(rng, n, e.cfg.block));
    }
    v
}

fn rows_in(cases: &[Vec<f32>]) -> Vec<RowIn> {
    cases
        .iter()
        .map(|t| RowIn { elems: t.iter().map(|&v| v.to_bits() as u64).collect(), side: vec![], empty_last_beat: false })
        .collect()
}

fn check(e: &Engine, cases: &[Vec<f32>], out: &[verif::stream::RowOut], what: &str) {
    assert_eq!(out.len(), cases.len(), "{}: rows in vs rows out", e.module);
    for (i, (t, o)) in cases.iter().zip(out).enumerate() {
        let want: BapsOut = baps_row(t, &e.cfg);
        let got: Vec<u32> = o.elems.iter().map(|&v| v as u32).collect();
        if got != want.p || o.err != want.err {
            let tr = baps_row_trace(t, &e.cfg);
            let first = got.iter().zip(&want.p).position(|(a, b)| a != b);
            panic!(
                "{} ({what}) row {i} (n = {}): err expected {} got {}; first differing element {:?}\n  trace m_b = {:?} M = {} l = {:#010x} r = {:#010x}\n  t    = {:?}\n  want = {:x?}\n  got  = {:x?}",
                e.module,
                t.len(),
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
            );
        }
    }
}

fn run(e: &Engine, cases: &[Vec<f32>], traffic: Traffic, seed: u64, what: &str) -> Stats {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut h = StreamHarness::new(&e.module, seed, 32, 16, &[]);
    assert_eq!(h.lanes, e.cfg.lanes);
    let mut stats = Stats::default();
    let out = h.run(&rows_in(cases), traffic, &mut rng, &mut stats);
    check(e, cases, &out, what);
    stats
}

#[test]
fn baps_random_and_directed_rows_with_stalls() {
    for (k, e) in engines().iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(200 + k as u64);
        let cs = cases(e, &mut rng, 10_000);
        let bad = cs.iter().filter(|t| baps_row(t, &e.cfg).err).count();
        // Coverage of the contract's corners among these rows (golden traces).
        let (mut shift_zero, mut rescaled, mut flushed, mut sub_out, mut mid_beat, mut mid_block, mut too_long) = (0, 0, 0, 0, 0, 0, 0);
        // smallest normal output bit pattern
        let sub_min = if e.cfg.out == OutFormat::Bf16 { 0x0080 } else { 0x0400 };
        for t in &cs {
            let tr = baps_row_trace(t, &e.cfg);
            if tr.m_b.iter().any(|&m| m - tr.m < -128) { shift_zero += 1; }
            if tr.m_b.windows(2).any(|w| w[1] > w[0]) && !tr.out.err { rescaled += 1; }
            if tr.m_b.iter().scan(verif::golden::baps::MB_MIN, |m, &b| { let d = b - *m; *m = (*m).max(b); Some(d) }).skip(1).any(|d| d > 150) && !tr.out.err { flushed += 1; }
            if tr.out.p.iter().any(|&p| p != 0 && p < sub_min) { sub_out += 1; }
            if t.len() % e.cfg.lanes != 0 { mid_beat += 1; }
            if t.len() % e.cfg.block != 0 { mid_block += 1; }
            if t.len() > e.cfg.max_len { too_long += 1; }
        }
        eprintln!(
            "{}: coverage: {shift_zero} rows with a shift below -128, {rescaled} good rows with M growing, {flushed} with a rescale by > 150 (l flushed), {sub_out} with subnormal outputs, {mid_beat} ending mid-beat, {mid_block} mid-block, {too_long} longer than MAX_LEN",
            e.module
        );
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
            let st = run(e, &cs, t, 1000 * k as u64 + j as u64, "random + directed");
            total += cs.len();
            assert!(st.stalls > 0 || t.m_ready_prob == 1.0, "the stall pattern stalled");
        }
        eprintln!("{}: {total} rows ({} distinct, {bad} bad) bit-exact under 4 traffic patterns", e.module, cs.len());
    }
}

/// Real rows: MiniLM attention logits times log2(e), rounded to FP32.
#[test]
fn baps_real_minilm_rows() {
    let data = verif::attn::AttnData::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/minilm-attn/calib.attnlog"))
        .expect("attention data");
    for e in engines() {
        let step = if e.module == "baps_softmax" { 1 } else { 5 };
        let cs: Vec<Vec<f32>> = (0..data.len())
            .step_by(step)
            .map(|i| data.row(i).logits.iter().map(|&v| (v as f64 * std::f64::consts::LOG2_E) as f32).collect())
            .collect();
        let long = cs.iter().filter(|t| t.len() > e.cfg.max_len).count();
        run(&e, &cs, Traffic { s_valid_prob: 0.9, m_ready_prob: 0.7 }, 77, "MiniLM");
        eprintln!("{}: {} real MiniLM rows bit-exact ({long} longer than MAX_LEN)", e.module, cs.len());
    }
}

/// Sustained throughput on back-to-back rows at full speed: elements per cycle per lane.
#[test]
fn baps_throughput_back_to_back() {
    for e in engines() {
        let mut rng = StdRng::seed_from_u64(9);
        // 8 and 64 beats, and rows ending 3 beats into their second block (the
        // quantiser, one block behind, must not hold ingest up after a short block)
        for beats in [8, 64, e.cfg.block / e.cfg.lanes + 3] {
            let n = (beats * e.cfg.lanes).min(e.cfg.max_len);
            let cs: Vec<Vec<f32>> = (0..400).map(|_| (0..n).map(|_| rng.gen_range(-20.0f32..20.0)).collect()).collect();
            let st = run(&e, &cs, FULL_SPEED, 5, "throughput");
            let rate = (cs.len() * n) as f64 / (st.cycles as f64 * e.cfg.lanes as f64);
            println!("{}: rows of {n} ({beats} beats): {rate:.3} elements/cycle/lane", e.module);
            assert!(rate >= 0.95, "{}: throughput {rate:.3} on {beats}-beat rows", e.module);
        }
    }
}

/// `rst` at random points: afterwards the engine behaves exactly as from power-up.
#[test]
fn baps_reset_mid_stream() {
    for e in engines() {
        let mut rng = StdRng::seed_from_u64(31);
        let mut h = StreamHarness::new(&e.module, 3, 32, 16, &[]);
        let (sv, sl, mr, rst) = (h.model.port("s_valid"), h.model.port("s_last"), h.model.port("m_ready"), h.model.port("rst"));
        for round in 0..30 {
            for _ in 0..rng.gen_range(1..300) {
                h.model.set(sv, rng.gen_bool(0.8) as u64);
                h.model.set(sl, rng.gen_bool(0.05) as u64);
                h.model.set(mr, rng.gen_bool(0.5) as u64);
                let words: Vec<u32> = (0..h.model.port("s_data").words()).map(|_| rng.gen()).collect();
                h.model.set_wide(h.model.port("s_data"), &words);
                h.model.tick();
            }
            h.model.set(sv, 0);
            h.model.set(rst, 1);
            h.model.tick();
            h.model.set(rst, 0);
            let cs = cases(&e, &mut rng, 10);
            let out = h.run(&rows_in(&cs), Traffic { s_valid_prob: 0.8, m_ready_prob: 0.6 }, &mut rng, &mut Stats::default());
            check(&e, &cs, &out, &format!("after reset {round}"));
        }
    }
}

/// The manifest's latency: cycles from a 1-beat row's beat being taken by an idle
/// engine to its output beat being valid.
#[test]
fn baps_latency_matches_the_manifest() {
    for m in manifest::of_kind("baps_softmax") {
        let mut md = verif::cosim::Model::new(&m.module);
        let p = |md: &verif::cosim::Model, n: &str| md.port(n);
        let (sv, sl, sk, mr, mv) = (p(&md, "s_valid"), p(&md, "s_last"), p(&md, "s_keep"), p(&md, "m_ready"), p(&md, "m_valid"));
        md.set(sv, 0);
        md.set(mr, 1);
        md.reset(3);
        md.set(sk, 1);
        md.set(sl, 1);
        md.set(sv, 1);
        md.tick();
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
