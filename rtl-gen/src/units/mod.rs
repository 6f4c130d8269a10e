//! Arithmetic units: each a generator of one IP module, its leaves built on the
//! typed layer, with the software twin of its function beside the Verilog.

pub mod exp2;
pub mod exp2_float;
pub mod fp32_to_hif8;
/// The generator's own reading of HiF8 codes (fills tables; the golden model is separate).
pub mod hif8;
