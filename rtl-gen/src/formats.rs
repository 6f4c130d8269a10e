//! Number formats as data. Every generator is parameterised by these tables
//! (in the spirit of cvfpu's format table), never by hard-coded widths.

/// The float formats configurations name: the table lives in `ipconfig`
/// (shared with verif's configuration reading), re-exported here.
pub use ipconfig::formats::{parse_format, FloatFormat, BF16, FLOAT_FORMATS, FP16, FP32};

/// HiF8 (spec/hif8.md): 8-bit tapered float. The prefix ("dot") code selects
/// how many exponent bits follow; the rest are mantissa. One row per dot code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hif8Dot {
    /// The prefix bits right after the sign, MSB first, and their count.
    pub prefix: u8,
    pub prefix_len: u32,
    /// D: exponent field width (sign-magnitude with hidden leading one).
    pub exp_bits: u32,
    pub man_bits: u32,
}

/// The five normal dot codes, widest exponent first; the prefix `0000` is denormal.
pub const HIF8_DOTS: [Hif8Dot; 5] = [
    Hif8Dot { prefix: 0b11, prefix_len: 2, exp_bits: 4, man_bits: 1 },
    Hif8Dot { prefix: 0b10, prefix_len: 2, exp_bits: 3, man_bits: 2 },
    Hif8Dot { prefix: 0b01, prefix_len: 2, exp_bits: 2, man_bits: 3 },
    Hif8Dot { prefix: 0b001, prefix_len: 3, exp_bits: 1, man_bits: 3 },
    Hif8Dot { prefix: 0b0001, prefix_len: 4, exp_bits: 0, man_bits: 3 },
];
pub const HIF8_DENORMAL_MAN_BITS: u32 = 3;
/// Denormal value is 2^(M - HIF8_DENORMAL_OFFSET).
pub const HIF8_DENORMAL_OFFSET: i32 = 23;
pub const HIF8_NAN: u8 = 0x80;
pub const HIF8_POS_INF: u8 = 0x6F;
pub const HIF8_MAX_FINITE: u8 = 0x6E;
