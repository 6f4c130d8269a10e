//! The typed construction layer for leaf logic.
//!
//! - [`expr`]: width-checked expressions (printed as Verilog, evaluated in Rust);
//! - [`leaf`]: a block of named wires, tables and registers built from them,
//!   with its Verilog and its simulation;
//! - [`hdl`]: the rust-hdl shell of a leaf (typed ports checked against it).
//!
//! Rust-hdl carries the structure (ports, hierarchy, composition); leaves carry
//! the arithmetic, whose widths derive from the number formats at run time.

pub mod expr;
pub mod hdl;
pub mod leaf;

pub use expr::{big, bit, cat, lit, lit_signed, mux, select, Expr};
pub use leaf::{Leaf, LeafBuilder, Out, Reg, State};

#[cfg(test)]
mod tests;
