//! Parameter sweep: every module of the sweep that verif was built with
//! (`RTL_SWEEP_DIR`, written by `rtl-gen sweep`; `make test` builds a fixed CI
//! sample, `make sweep` a larger one) is linted with `verilator --lint-only
//! -Wall` and co-simulated against the golden models with the same benches as
//! the default modules (verif::tb), scaled down: EXP2 exhaustive, FP32 -> HiF8
//! on every rounding boundary plus random words, and per engine the directed
//! rows plus `SWEEP_ROWS` (default 1000) random rows at full speed and under
//! random phases of gaps and stalls, resets mid-stream, and the latency the
//! manifest states. Skipped, with a message, when verif was built without a sweep.

use rand::rngs::StdRng;
use rand::SeedableRng;
use verif::manifest::{self, ModuleInfo, Params};
use verif::stream::{self, Phases, FULL_SPEED};
use verif::tb::{baps, hccs, units, StreamBench};

/// The kinds this file has a bench for.
const KINDS: [&str; 5] = ["hif8_exp2", "fp32_to_hif8", "hccs_softmax", "lut_softmax", "baps_softmax"];

/// The sweep's manifest, or None (and a message) without a sweep.
fn sweep_manifest() -> Option<manifest::Manifest> {
    let m = manifest::load_sweep();
    if m.is_none() {
        eprintln!("no parameter sweep built into verif (build with RTL_SWEEP_DIR=<dir of `rtl-gen sweep`>, as `make test` and `make sweep` do): skipped");
    }
    m
}

/// The sweep's modules of the given kinds.
fn sweep(kinds: &[&str]) -> Option<Vec<ModuleInfo>> {
    Some(sweep_manifest()?.modules.into_iter().filter(|m| kinds.contains(&m.params.kind())).collect())
}

fn random_rows() -> usize {
    std::env::var("SWEEP_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// A seed per module, from its name: the same module gets the same stimulus in every run.
fn seed_of(m: &ModuleInfo) -> u64 {
    m.module.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

#[test]
fn sweep_every_module_has_a_bench() {
    let Some(sweep) = sweep_manifest() else { return };
    for m in &sweep.modules {
        assert!(KINDS.contains(&m.params.kind()), "{}: no sweep bench for kind {}", m.module, m.params.kind());
    }
    eprintln!("sweep of {} modules in {}", sweep.modules.len(), manifest::sweep_dir().unwrap().display());
}

#[test]
fn sweep_lint_clean_under_verilator_wall() {
    let Some(mods) = sweep(&KINDS) else { return };
    let dir = manifest::sweep_dir().unwrap();
    let verilator = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into());
    for m in &mods {
        let file = dir.join(&m.file);
        let out = std::process::Command::new(&verilator)
            .args(["--lint-only", "-Wall"])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {verilator}: {e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && !err.contains("%Warning"), "{}: verilator --lint-only -Wall:\n{err}", file.display());
    }
    eprintln!("sweep: {} modules lint-clean under verilator -Wall", mods.len());
}

#[test]
fn sweep_hif8_units_bit_exact() {
    let Some(mods) = sweep(&["hif8_exp2", "fp32_to_hif8"]) else { return };
    let words = units::fp32_vectors(200_000, 3);
    for m in &mods {
        let seed = seed_of(m);
        let n = match m.params {
            Params::Hif8Exp2(_) => units::exp2_exhaustive(m, 0.2, seed),
            _ => {
                units::fp32_to_hif8_run(m, &words, 0.2, seed);
                words.len()
            }
        };
        eprintln!("sweep: {} {}: {n} inputs bit-exact", m.module, m.params);
    }
}

/// Per engine: the directed and random rows at full speed and under random
/// phases, resets mid-stream, and the manifest's latency.
fn sweep_engines<E: StreamBench>(mods: &[ModuleInfo], engines: Vec<E>) {
    for (m, e) in mods.iter().zip(engines) {
        let seed = seed_of(m);
        let cs = e.cases(&mut StdRng::seed_from_u64(seed), random_rows());
        let a = e.run(&cs, FULL_SPEED, seed);
        let b = e.run(&cs, Phases::new(40), seed + 1);
        e.reset_rounds(4, 10, seed + 2);
        assert_eq!(stream::one_beat_latency(&m.module, &e.latency_side()), m.latency as u64, "{}: latency vs manifest", m.module);
        eprintln!("sweep: {} {}: {} rows bit-exact twice ({} + {} cycles, {} stalls)", m.module, m.params, cs.len(), a.cycles, b.cycles, b.stalls);
    }
}

#[test]
fn sweep_hccs_engines_bit_exact() {
    let Some(mods) = sweep(&["hccs_softmax", "lut_softmax"]) else { return };
    sweep_engines(&mods, hccs::engines(&mods));
}

#[test]
fn sweep_baps_engines_bit_exact() {
    let Some(mods) = sweep(&["baps_softmax"]) else { return };
    sweep_engines(&mods, baps::engines(&mods));
}
