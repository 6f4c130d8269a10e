//! Co-simulation of the BAPS engines (`baps_softmax` and every other `baps_softmax`
//! configuration in the manifest) against the golden model `verif::golden::baps`:
//! every output bit and every row's error flag, under random `s_valid` gaps and
//! `m_ready` stalls, back-to-back rows, rows counted in and out; real MiniLM rows;
//! throughput on back-to-back rows; latency against the manifest; reset mid-stream.
//! The bench itself (rows, checks) is `verif::tb::baps`.

use rand::rngs::StdRng;
use rand::SeedableRng;
use verif::golden::baps::{baps_row, baps_row_trace, OutFormat};
use verif::manifest;
use verif::stream::{self, Traffic};
use verif::tb::baps::{cases, Case, Engine};

fn engines() -> Vec<Engine> {
    let mods = manifest::of_kind("baps_softmax");
    assert!(mods.iter().any(|m| m.module == "baps_softmax"), "default baps_softmax missing from the manifest");
    verif::tb::baps::engines(&mods)
}

#[test]
fn baps_random_and_directed_rows_with_stalls() {
    for (k, e) in engines().iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(200 + k as u64);
        let cs = cases(e, &mut rng, 10_000);
        let bad = cs.iter().filter(|c| baps_row(&c.t, &e.cfg).err).count();
        // Coverage of the contract's corners among these rows (golden traces).
        let (mut shift_zero, mut rescaled, mut flushed, mut sub_out, mut mid_beat, mut mid_block, mut too_long) = (0, 0, 0, 0, 0, 0, 0);
        // smallest normal output bit pattern
        let sub_min = if e.cfg.out == OutFormat::Bf16 { 0x0080 } else { 0x0400 };
        for t in cs.iter().map(|c| &c.t) {
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
        let total = stream::under_every_pattern(1000 * k as u64, |t, seed| e.run(&cs, t, seed));
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
        let cs: Vec<Case> = (0..data.len())
            .step_by(step)
            .map(|i| Case::from(data.row(i).logits.iter().map(|&v| (v as f64 * std::f64::consts::LOG2_E) as f32).collect::<Vec<f32>>()))
            .collect();
        let long = cs.iter().filter(|c| c.t.len() > e.cfg.max_len).count();
        e.run(&cs, Traffic { s_valid_prob: 0.9, m_ready_prob: 0.7 }, 77);
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
            let (n, rate) = e.throughput(beats, 400, &mut rng);
            println!("{}: rows of {n} ({beats} beats): {rate:.3} elements/cycle/lane", e.module);
            assert!(rate >= 0.95, "{}: throughput {rate:.3} on {beats}-beat rows", e.module);
        }
    }
}

/// `rst` at random points: afterwards the engine behaves exactly as from power-up.
#[test]
fn baps_reset_mid_stream() {
    for e in engines() {
        e.reset_rounds(30, 10, 31);
    }
}

/// The manifest's latency: cycles from a 1-beat row's beat being taken by an idle
/// engine to its output beat being valid.
#[test]
fn baps_latency_matches_the_manifest() {
    for m in manifest::of_kind("baps_softmax") {
        let cycles = stream::one_beat_latency(&m.module, &[]);
        assert_eq!(cycles, m.latency as u64, "{}: measured latency vs manifest", m.module);
    }
}
