//! The EXP2 units: `hif8_exp2` (HiF8 x, int8 shift), its plain-table baseline
//! `exp2_table256`, and the float-input baselines `exp2_float`.

use crate::formats::{parse_format, FloatFormat, BF16, FP16, FP32};
use crate::{ensure, ConfigError};
use serde::{Deserialize, Serialize};

/// Architecture of `hif8_exp2`'s lookup (spec/exp2.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Exp2Arch {
    /// One 256-entry table indexed by the code.
    Table,
    /// Integer path for |x| >= 8, shared entries for tiny |x|, a table for the rest.
    Decomposed,
}

/// `hif8_exp2`: y = 2^(x + shift) for a HiF8 code x and an int8 shift,
/// correctly rounded (nearest even, subnormals) to `out_format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
pub struct Exp2Config {
    /// How the 8-bit code is looked up. Any of [`Exp2Arch`]; default
    /// `decomposed`.
    #[arg(long, value_enum, default_value = "decomposed", help = None, long_help = None)]
    pub arch: Exp2Arch,
    /// Output format: FP16, BF16 or FP32 (any of [`crate::FLOAT_FORMATS`]);
    /// default FP16.
    #[arg(long, default_value = "fp16", value_parser = parse_format, help = "Output format: fp16, bf16 or fp32", long_help = None)]
    pub out_format: FloatFormat,
    /// Pipeline registers, = latency in cycles, 1..=5 (default 2): 1: output
    /// register only; 2: also after the lookup; 3..5: also inside the
    /// rounding, for FPGA clock rates.
    #[arg(
        long,
        default_value_t = 2,
        value_parser = clap::value_parser!(u32).range(1..=5),
        help = "Pipeline stages (latency): 1..5; 3..5 cut the rounding too (FPGA clocks)",
        long_help = None
    )]
    pub stages: u32,
}

impl Exp2Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ensure!((1..=5).contains(&self.stages), "hif8_exp2: --stages must be 1..5, got {}", self.stages);
        Ok(())
    }
}

/// `exp2_table256`: the plain-table baseline, y = `out_format` of 2^x from one
/// 256-entry table (no shift input).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exp2TableConfig {
    /// Output format, any of [`crate::FLOAT_FORMATS`]; the default IP set uses FP16.
    pub out_format: FloatFormat,
    /// 1 (output register) or 2 (an input register too); = latency.
    pub stages: u32,
}

impl Exp2TableConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ensure!((1..=2).contains(&self.stages), "exp2_table256: --stages must be 1 or 2, got {}", self.stages);
        Ok(())
    }
}

/// `exp2_float`: y = FP16 of 2^x for a float x, correctly rounded, by a table
/// of 2^a for the top `table_bits` bits of the fraction, a degree-`degree`
/// polynomial for the rest, and a multiplier.
///
/// Whether a (table_bits, degree) pair is precise enough for `in_format` is
/// decided by the generator's error analysis, not by [`Self::validate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exp2FloatConfig {
    /// Input format: FP16, BF16 or FP32 (default FP16 on the CLI).
    pub in_format: FloatFormat,
    /// Output format: only FP16 (the format of `hif8_exp2`'s default output).
    pub out_format: FloatFormat,
    /// 1: output register only; 2 (default): also a register between 2^x and
    /// the rounding. = latency.
    pub stages: u32,
    /// k, 2..=12: 2^f's table is indexed by the top k bits of f. Default: the
    /// input format's ([`Self::default_for`]: 8, 8, 9 for FP16, BF16, FP32).
    pub table_bits: u32,
    /// d, 1..=6: degree of the polynomial for 2^b - 1. Default: the input
    /// format's (3, 2, 3 for FP16, BF16, FP32).
    pub degree: u32,
}

/// Per input format, the default (table_bits, degree): of the shapes meeting
/// the generator's error margin, the smallest by Yosys' transistor estimate
/// (rtl-gen's `exp2_float::PROFILES` records the analysis behind them).
pub const EXP2_FLOAT_DEFAULT_SHAPES: [(FloatFormat, u32, u32); 3] = [(FP16, 8, 3), (BF16, 8, 2), (FP32, 9, 3)];

impl Exp2FloatConfig {
    /// The only output format.
    pub const OUT: FloatFormat = FP16;

    /// The default shape for `in_format`, FP16 out, two stages.
    pub fn default_for(in_format: FloatFormat) -> Result<Self, ConfigError> {
        let &(_, table_bits, degree) = EXP2_FLOAT_DEFAULT_SHAPES
            .iter()
            .find(|s| s.0 == in_format)
            .ok_or_else(|| ConfigError(format!("exp2_float: no input format {}", in_format.name)))?;
        Ok(Self { in_format, out_format: Self::OUT, stages: 2, table_bits, degree })
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        ensure!((1..=2).contains(&self.stages), "exp2_float: --stages must be 1 or 2, got {}", self.stages);
        ensure!([FP16, BF16, FP32].contains(&self.in_format), "exp2_float: no input format {}", self.in_format.name);
        ensure!(self.out_format == Self::OUT, "exp2_float: only {} output, not {}", Self::OUT.name, self.out_format.name);
        ensure!((2..=12).contains(&self.table_bits), "exp2_float: --table-bits must be in 2..=12, got {}", self.table_bits);
        ensure!((1..=6).contains(&self.degree), "exp2_float: --degree must be in 1..=6, got {}", self.degree);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let c = Exp2Config { arch: Exp2Arch::Table, out_format: FP16, stages: 2 };
        assert!(c.validate().is_ok());
        assert_eq!(Exp2Config { stages: 6, ..c }.validate().unwrap_err().to_string(), "hif8_exp2: --stages must be 1..5, got 6");
        assert!(Exp2TableConfig { out_format: FP32, stages: 3 }.validate().is_err());
        for f in [FP16, BF16, FP32] {
            assert!(Exp2FloatConfig::default_for(f).unwrap().validate().is_ok());
        }
        let d = Exp2FloatConfig::default_for(FP32).unwrap();
        assert_eq!((d.table_bits, d.degree), (9, 3));
        assert!(Exp2FloatConfig { out_format: BF16, ..d }.validate().is_err());
        assert!(Exp2FloatConfig { table_bits: 13, ..d }.validate().is_err());
        assert!(Exp2FloatConfig { degree: 0, ..d }.validate().is_err());
        assert!(Exp2FloatConfig { stages: 3, ..d }.validate().is_err());
        let fp8 = FloatFormat { name: "fp8", exp_bits: 4, man_bits: 3 };
        assert_eq!(Exp2FloatConfig::default_for(fp8).unwrap_err().to_string(), "exp2_float: no input format fp8");
    }

    #[test]
    fn formats_serialize_by_name() {
        let c = Exp2Config { arch: Exp2Arch::Decomposed, out_format: BF16, stages: 2 };
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, r#"{"arch":"decomposed","out_format":"bf16","stages":2}"#);
        assert_eq!(serde_json::from_str::<Exp2Config>(&j).unwrap(), c);
        assert!(serde_json::from_str::<Exp2Config>(r#"{"arch":"table","out_format":"fp8","stages":2}"#).is_err());
    }
}
