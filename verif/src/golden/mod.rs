//! Golden (reference) models, written from `shared/spec` only.
//!
//! Independence rule: nothing here may be derived from, or import, the RTL generator.
//! A bug copied into both the generator and its reference would be invisible to every
//! co-simulation test, so these models re-derive the behaviour from the spec text.

pub mod baps;
pub mod exp2;
pub mod exp2_float;
pub mod fp;
pub mod hif8;
pub mod hccs;
pub mod lut_softmax;
