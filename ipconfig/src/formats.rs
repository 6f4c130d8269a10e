//! Number formats as data: the IEEE-style float formats that configurations
//! name (`out_format`, `in_format`, `exp_format`). A format is written in the
//! manifest, and taken on the command line, by its name ("fp16", "bf16",
//! "fp32").

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IEEE-754-style binary floating-point format (hidden one, biased exponent,
/// subnormals, all-ones exponent for Inf/NaN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatFormat {
    /// Lower-case name, as in the manifest and on the command line.
    pub name: &'static str,
    pub exp_bits: u32,
    pub man_bits: u32,
}

pub const FP16: FloatFormat = FloatFormat { name: "fp16", exp_bits: 5, man_bits: 10 };
pub const BF16: FloatFormat = FloatFormat { name: "bf16", exp_bits: 8, man_bits: 7 };
pub const FP32: FloatFormat = FloatFormat { name: "fp32", exp_bits: 8, man_bits: 23 };

/// The float formats a configuration may name, by CLI name.
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

/// The CLI's parser of a format name (`value_parser = parse_format`).
pub fn parse_format(s: &str) -> Result<FloatFormat, String> {
    FloatFormat::by_name(s).ok_or_else(|| format!("unknown format '{s}' (expected fp16, bf16 or fp32)"))
}

/// Serialized as its name.
impl Serialize for FloatFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// Read from its name; a name outside [`FLOAT_FORMATS`] is an error.
impl<'de> Deserialize<'de> for FloatFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        FloatFormat::by_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown float format {name:?}")))
    }
}
