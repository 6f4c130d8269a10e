//! The BAPS softmax engine (spec/baps.md): FP32 base-2 scores in, HiF8 row
//! storage, FP16 EXP2 lanes, FP16 or BF16 probabilities out.

use crate::formats::{FloatFormat, BF16, FP16};
use crate::{ensure, ConfigError};
use clap::builder::TypedValueParser;
use serde::{Deserialize, Serialize};

/// Format of the output probabilities (RNE with subnormals either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BapsOut {
    Fp16,
    Bf16,
}

impl BapsOut {
    /// The float format of the output bits.
    pub fn format(&self) -> FloatFormat {
        match self {
            BapsOut::Fp16 => FP16,
            BapsOut::Bf16 => BF16,
        }
    }
    /// Lower-case name ("fp16", "bf16"), as in the manifest and on the CLI.
    pub fn name(&self) -> &'static str {
        self.format().name
    }
}

fn baps_out_parser() -> impl TypedValueParser<Value = BapsOut> {
    clap::builder::PossibleValuesParser::new(["fp16", "bf16"]).map(|s| if s == "bf16" { BapsOut::Bf16 } else { BapsOut::Fp16 })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
pub struct BapsConfig {
    /// LANES: elements per stream beat, 1..=16 (default 4).
    #[arg(long, default_value_t = 4, help = None, long_help = None)]
    pub lanes: u32,
    /// BLOCK: elements per block sharing one integer maximum, LANES times a
    /// power of two (default 32).
    #[arg(long, default_value_t = 32, help = "Elements per block sharing one integer maximum (a multiple of --lanes)", long_help = None)]
    pub block: u32,
    /// MAX_LEN: longest row buffered, a multiple of LANES in [LANES, 65536]
    /// (default 256); longer rows are flagged.
    #[arg(long, default_value_t = 256, help = None, long_help = None)]
    pub max_len: u32,
    /// Output format, FP16 (default) or BF16. `out` in the manifest,
    /// `--out-format` on the CLI.
    #[serde(rename = "out")]
    #[arg(long, default_value = "fp16", value_parser = baps_out_parser(), help = "Output format: fp16 or bf16", long_help = None)]
    pub out_format: BapsOut,
    /// X: output format of the EXP2 lanes; only FP16 is generated (the golden
    /// model also knows BF16 and FP32).
    #[arg(skip = FP16)]
    pub exp_format: FloatFormat,
    /// C, the block-maximum offset (m_b = ceil(block max) - C); only 0 is
    /// generated (the golden model knows 0..=8).
    #[arg(skip)]
    pub max_offset: u32,
}

impl BapsConfig {
    /// The default IP `baps_softmax` (spec/interfaces.md).
    pub const DEFAULT: BapsConfig =
        BapsConfig { lanes: 4, block: 32, max_len: 256, out_format: BapsOut::Fp16, exp_format: FP16, max_offset: 0 };

    pub fn validate(&self) -> Result<(), ConfigError> {
        ensure!((1..=16).contains(&self.lanes), "baps: LANES must be 1..16, got {}", self.lanes);
        ensure!(
            self.block >= self.lanes && self.block % self.lanes == 0 && (self.block / self.lanes).is_power_of_two(),
            "baps: BLOCK must be LANES times a power of two, got BLOCK = {} LANES = {}",
            self.block,
            self.lanes
        );
        ensure!(
            self.max_len >= self.lanes && self.max_len % self.lanes == 0 && self.max_len <= 65536,
            "baps: MAX_LEN must be a multiple of LANES in [LANES, 65536], got {}",
            self.max_len
        );
        ensure!(self.exp_format == FP16, "baps: only the FP16 EXP2 is implemented (asked for {})", self.exp_format.name);
        ensure!(self.max_offset == 0, "baps: only C = 0 is implemented (asked for {})", self.max_offset);
        Ok(())
    }
}

impl Default for BapsConfig {
    fn default() -> Self {
        BapsConfig::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FP32;

    #[test]
    fn bad_parameters_are_refused() {
        let d = BapsConfig::DEFAULT;
        assert!(d.validate().is_ok());
        assert!(BapsConfig { out_format: BapsOut::Bf16, ..d }.validate().is_ok());
        assert!(BapsConfig { block: 24, ..d }.validate().is_err());
        assert!(BapsConfig { lanes: 3, block: 32, max_len: 255, ..d }.validate().unwrap_err().to_string().contains("BLOCK = 32 LANES = 3"));
        assert!(BapsConfig { max_offset: 2, ..d }.validate().is_err());
        assert!(BapsConfig { max_len: 250, ..d }.validate().is_err());
        assert!(BapsConfig { exp_format: FP32, ..d }.validate().is_err());
    }

    #[test]
    fn serde_layout() {
        let c = BapsConfig { out_format: BapsOut::Bf16, ..BapsConfig::DEFAULT };
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, r#"{"lanes":4,"block":32,"max_len":256,"out":"bf16","exp_format":"fp16","max_offset":0}"#);
        assert_eq!(serde_json::from_str::<BapsConfig>(&j).unwrap(), c);
        assert!(serde_json::from_str::<BapsConfig>(&j.replace("bf16", "hif8")).is_err());
    }
}
