//! Long stream runs (`make soak`; ignored in `make test`, whose co-simulation
//! tests run the same checker on fewer rows): for every default streaming
//! module, `SOAK_ROWS` (default 100,000) rows under random phases of `s_valid`
//! gaps and `m_ready` stalls (full speed, output blocked, input starved, any
//! mix; see `stream::Phases`), with the AXI-Stream rules of
//! spec/interfaces.md asserted every cycle and every output row compared
//! bit-exact against the golden model. Rows go in runs of 10,000 from
//! power-up, each with its own seed; a failure names the run's seed and
//! leaves a VCD of the failing row's window.

use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;
use verif::manifest;
use verif::stream::{Phases, Stats};
use verif::tb::{baps, hccs, StreamBench};

const RUN_ROWS: usize = 10_000;

fn soak_rows() -> usize {
    std::env::var("SOAK_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// Phase lengths of the runs, in turn: short bursts, rows' length, long blocks.
const PHASE_MEANS: [u32; 3] = [8, 64, 400];

fn report(module: &str, st: &Stats, t: Instant) {
    let secs = t.elapsed().as_secs_f64();
    println!(
        "soak {module}: {} rows bit-exact, {} cycles, {} in / {} out beats, {} stall cycles ({:.1}%), {} input gap cycles ({:.1}%), {secs:.1} s ({:.2} M cycles/s)",
        st.rows,
        st.cycles,
        st.in_beats,
        st.out_beats,
        st.stalls,
        100.0 * st.stalls as f64 / st.cycles as f64,
        st.gaps,
        100.0 * st.gaps as f64 / st.cycles as f64,
        st.cycles as f64 / secs / 1e6
    );
    assert!(st.rows >= soak_rows() as u64);
}

fn module(name: &str) -> verif::manifest::ModuleInfo {
    manifest::load().modules.into_iter().find(|m| m.module == name).unwrap_or_else(|| panic!("{name} not in the manifest"))
}

/// `soak_rows()` rows in runs of RUN_ROWS (the directed rows, then random ones),
/// run `r` with seed `seed0 + r`.
fn soak(e: &impl StreamBench, seed0: u64) {
    let t = Instant::now();
    let mut total = Stats::default();
    for r in 0..soak_rows().div_ceil(RUN_ROWS) {
        let seed = seed0 + r as u64;
        let mut cs = e.cases(&mut StdRng::seed_from_u64(seed), RUN_ROWS);
        cs.truncate(RUN_ROWS);
        total += e.run(&cs, Phases::new(PHASE_MEANS[r % PHASE_MEANS.len()]), seed);
    }
    report(e.module(), &total, t);
}

fn soak_hccs(name: &str) {
    soak(&hccs::Engine::from_module(&module(name)), 50_000);
}

fn soak_baps(name: &str) {
    soak(&baps::Engine::from_module(&module(name)), 60_000);
}

#[test]
#[ignore]
fn soak_hccs_softmax() {
    soak_hccs("hccs_softmax");
}

#[test]
#[ignore]
fn soak_hccs_softmax_clb() {
    soak_hccs("hccs_softmax_clb");
}

#[test]
#[ignore]
fn soak_hccs_softmax_minilm() {
    soak_hccs("hccs_softmax_minilm");
}

#[test]
#[ignore]
fn soak_lut_softmax() {
    soak_hccs("lut_softmax");
}

#[test]
#[ignore]
fn soak_baps_softmax() {
    soak_baps("baps_softmax");
}

#[test]
#[ignore]
fn soak_baps_softmax_bf16() {
    soak_baps("baps_softmax_bf16");
}
