//! Test benches shared by the co-simulation tests of the default modules
//! (tests/cosim_*.rs), the parameter sweep (tests/sweep.rs) and the long stream
//! runs (tests/stream_soak.rs): per kind of module, the engine under test as
//! its manifest entry describes it, the rows or inputs to feed it, and the
//! bit-exact check against the golden model. Any configuration the generator
//! accepts goes through the same bench.

pub mod baps;
pub mod hccs;
pub mod units;
