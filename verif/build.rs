//! Verilator co-simulation bridge, build side: verilates every module of
//! `generated/manifest.json` (and `$RTL_SWEEP_DIR/manifest.json`), compiles the
//! models with their C ABI shims into `libverif_vl.a` and writes
//! `$OUT_DIR/models.rs` (included by src/cosim.rs). All of it lives in the
//! `vlbridge` crate (../vlbridge), documented there.

fn main() {
    vlbridge::main();
}
