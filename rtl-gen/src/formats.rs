//! Number formats as data. Every generator is parameterised by these tables
//! (in the spirit of cvfpu's format table), never by hard-coded widths.

use serde::Serialize;

/// An IEEE-754-style binary floating-point format (hidden one, biased exponent,
/// subnormals, all-ones exponent for Inf/NaN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FloatFormat {
    pub name: &'static str,
    pub exp_bits: u32,
    pub man_bits: u32,
}

pub const FP16: FloatFormat = FloatFormat { name: "fp16", exp_bits: 5, man_bits: 10 };
pub const BF16: FloatFormat = FloatFormat { name: "bf16", exp_bits: 8, man_bits: 7 };
pub const FP32: FloatFormat = FloatFormat { name: "fp32", exp_bits: 8, man_bits: 23 };

/// The output formats the EXP2 generator accepts, by CLI name.
pub const FLOAT_FORMATS: [FloatFormat; 3] = [FP16, BF16, FP32];

impl FloatFormat {
    pub fn by_name(name: &str) -> Option<FloatFormat> {
        FLOAT_FORMATS.iter().copied().find(|f| f.name == name)
    }
    pub fn width(&self) -> u32 {
        1 + self.exp_bits + self.man_bits
    }
    pub fn bias(&self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }
    /// Biased exponent field of Inf/NaN.
    pub fn exp_max_field(&self) -> u32 {
        (1 << self.exp_bits) - 1
    }
    pub fn pos_inf(&self) -> u64 {
        (self.exp_max_field() as u64) << self.man_bits
    }
    /// The canonical quiet NaN (0x7E00 for FP16).
    pub fn quiet_nan(&self) -> u64 {
        self.pos_inf() | (1u64 << (self.man_bits - 1))
    }
}

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
