//! rtl-gen: generators of synthesizable Verilog for low-precision softmax.
//!
//! - [`ir`]: the typed construction layer: width-checked expressions and leaf
//!   blocks that print as Verilog and evaluate in Rust, with rust-hdl shells;
//! - [`mono`]: the one place run-time sizes become rust-hdl's const generics;
//! - [`formats`]: number formats as data (every width and bias derives from it);
//! - [`blocks`]: reusable blocks (pipeline registers, the stream machinery);
//! - [`units`]: the arithmetic units (HiF8 EXP2, float-input EXP2, FP32 -> HiF8);
//! - [`engines`]: the softmax engines (HCCS, BAPS);
//! - [`sets`]: which modules are generated (the default IP set, the QoR set, the sweep);
//! - [`emit`]: a rust-hdl block tree -> one Verilog file per IP + its manifest entry.
//!
//! The old flat paths (`rtl_gen::exp2`, `rtl_gen::hccs`, ...) are re-exported.

pub mod blocks;
pub mod emit;
pub mod engines;
pub mod formats;
pub mod ir;
pub mod mono;
pub mod sets;
pub mod units;
pub mod vtext;

pub use blocks::stream;
pub use engines::{baps, hccs};
pub use sets::{defaults, qor, sweep};
pub use units::{exp2, exp2_float, fp32_to_hif8, hif8};
