//! rtl-gen: generators of synthesizable Verilog for low-precision softmax.
//! Formats are data (`formats`); each hardware unit is a module with its
//! generator; `emit` packages rust-hdl output as one file per IP; `defaults`
//! is the default IP set of spec/interfaces.md.

pub mod baps;
pub mod blocks;
pub mod defaults;
pub mod emit;
pub mod exp2;
pub mod exp2_float;
pub mod formats;
pub mod fp32_to_hif8;
pub mod hccs;
pub mod hif8;
pub mod ir;
pub mod mono;
pub mod qor;
pub mod stream;
pub mod sweep;
pub mod vtext;
