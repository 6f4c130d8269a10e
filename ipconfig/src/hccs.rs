//! The HCCS softmax engines (spec/hccs.md) and the exp-table int8 softmax
//! baseline built on the same stream machinery.

use crate::{ensure, ConfigError};
use serde::{Deserialize, Serialize};

/// How a row's normaliser 1/Z is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Recip {
    /// Exact reciprocal, one divide per row.
    Div,
    /// Power-of-two reciprocal (floor(log2 Z)), no divider.
    Clb,
}

/// What the engine computes per element before normalising.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// HCCS: s = max(0, B - S*min(m - x, Dmax)).
    Hccs,
    /// Baseline in the spirit of hls4ml's softmax: s = round(32767 * exp(-(m - x) / scale))
    /// from a 256-entry table on the max-centred input (x = logit * scale).
    /// The B/S/Dmax ports are kept so that it drops in for hccs_softmax, and ignored.
    /// `scale` is in (0, 64]; only with [`Recip::Div`].
    ExpLut { scale: f64 },
}

/// One HCCS engine (kind `hccs_softmax`), or with [`Score::ExpLut`] the
/// exp-table baseline (kind `lut_softmax`). With a head table the engine is
/// kind `hccs_softmax_heads`, see [`HccsHeadsConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct HccsConfig {
    /// LANES: elements per stream beat, 1..=16 (default 4).
    #[arg(long, default_value_t = 4, help = None, long_help = None)]
    pub lanes: u32,
    /// MAX_LEN: longest row buffered, a multiple of LANES in [LANES, 65536]
    /// (default 256); longer rows are flagged and output as zeros.
    #[arg(long, default_value_t = 256, help = "Longest row buffered (a multiple of --lanes); longer rows are flagged", long_help = None)]
    pub max_len: u32,
    /// OUT_BITS: width of each probability, 8 or 16 (default 8); p is in
    /// 0..=2^OUT_BITS - 1.
    #[arg(long, default_value_t = 8, help = "Output width: 8 or 16", long_help = None)]
    pub out_bits: u32,
    /// R: fraction bits of DIV's reciprocal rho = floor(T * 2^R / Z), 1..=24
    /// (default 15). Unused by CLB.
    #[arg(long, default_value_t = 15, help = "Reciprocal fraction bits of DIV", long_help = None)]
    pub r: u32,
    /// The reciprocal (default DIV; the exp-table baseline only has DIV).
    #[arg(long, value_enum, default_value = "div", help = None, long_help = None)]
    pub recip: Recip,
    /// The score (default HCCS). Not a flag of its own: `rtl-gen hccs
    /// --exp-lut-scale S` selects `ExpLut { scale: S }`.
    #[arg(skip = Score::Hccs)]
    pub score: Score,
}

impl HccsConfig {
    /// The default IP `hccs_softmax` (spec/interfaces.md): 4 lanes, rows up
    /// to 256, uint8 out, R = 15, DIV, HCCS score.
    pub const DEFAULT: HccsConfig = HccsConfig { lanes: 4, max_len: 256, out_bits: 8, r: 15, recip: Recip::Div, score: Score::Hccs };

    pub fn validate(&self) -> Result<(), ConfigError> {
        ensure!((1..=16).contains(&self.lanes), "hccs: LANES must be 1..16, got {}", self.lanes);
        ensure!(
            self.max_len >= self.lanes && self.max_len % self.lanes == 0 && self.max_len <= 65536,
            "hccs: MAX_LEN must be a multiple of LANES in [LANES, 65536], got {}",
            self.max_len
        );
        ensure!(self.out_bits == 8 || self.out_bits == 16, "hccs: OUT_BITS must be 8 or 16, got {}", self.out_bits);
        ensure!((1..=24).contains(&self.r), "hccs: R must be 1..24, got {}", self.r);
        if let Score::ExpLut { scale } = self.score {
            ensure!(scale > 0.0 && scale <= 64.0, "exp-LUT softmax: scale must be in (0, 64], got {scale}");
            ensure!(self.recip == Recip::Div, "exp-LUT softmax: only the DIV reciprocal");
        }
        Ok(())
    }

    /// The exp-table baseline's scale, None for the HCCS score.
    pub fn lut_scale(&self) -> Option<f64> {
        match self.score {
            Score::Hccs => None,
            Score::ExpLut { scale } => Some(scale),
        }
    }
}

impl Default for HccsConfig {
    fn default() -> Self {
        HccsConfig::DEFAULT
    }
}

/// Which per-head constants an engine has baked in: the calibration file
/// (`verif` binary `calibrate`, found in `params/`) and how many head indices
/// it defines. The constants themselves are in that file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadTableRef {
    /// File name of the calibration JSON, relative to `params/`.
    pub source: String,
    /// Head indices in the table (index = layer * heads_per_layer + head),
    /// 1..=256 (`s_head` is 8 bits).
    pub heads: usize,
}

impl HeadTableRef {
    pub fn validate(&self) -> Result<(), ConfigError> {
        ensure!((1..=256).contains(&self.heads), "{}: 1..256 heads needed, got {}", self.source, self.heads);
        Ok(())
    }
}

/// An HCCS engine with per-head constants baked in (kind
/// `hccs_softmax_heads`): it takes `s_head[7:0]` with a row's first beat
/// instead of B, S, Dmax. In the manifest the engine's fields and
/// `head_table` sit side by side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HccsHeadsConfig {
    #[serde(flatten)]
    pub config: HccsConfig,
    pub head_table: HeadTableRef,
}

impl HccsHeadsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.config.validate()?;
        self.head_table.validate()?;
        ensure!(self.config.score == Score::Hccs, "a head table only goes with the HCCS score");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parameters_are_refused() {
        let ok = HccsConfig::DEFAULT;
        assert!(ok.validate().is_ok());
        assert_eq!(HccsConfig { lanes: 0, ..ok }.validate().unwrap_err().to_string(), "hccs: LANES must be 1..16, got 0");
        assert!(HccsConfig { max_len: 250, ..ok }.validate().is_err());
        assert!(HccsConfig { out_bits: 12, ..ok }.validate().is_err());
        assert!(HccsConfig { r: 25, ..ok }.validate().is_err());
        assert!(HccsConfig { score: Score::ExpLut { scale: 65.0 }, ..ok }.validate().is_err());
        assert!(HccsConfig { score: Score::ExpLut { scale: 16.0 }, recip: Recip::Clb, ..ok }.validate().is_err());
        let h = HccsHeadsConfig { config: ok, head_table: HeadTableRef { source: "x.json".into(), heads: 0 } };
        assert_eq!(h.validate().unwrap_err().to_string(), "x.json: 1..256 heads needed, got 0");
    }

    #[test]
    fn serde_layout() {
        let c = HccsConfig { score: Score::ExpLut { scale: 16.0 }, ..HccsConfig::DEFAULT };
        let j = serde_json::to_string(&c).unwrap();
        assert_eq!(j, r#"{"lanes":4,"max_len":256,"out_bits":8,"r":15,"recip":"div","score":{"exp_lut":{"scale":16.0}}}"#);
        assert_eq!(serde_json::from_str::<HccsConfig>(&j).unwrap(), c);
        let h = HccsHeadsConfig { config: HccsConfig::DEFAULT, head_table: HeadTableRef { source: "a.json".into(), heads: 72 } };
        let v = serde_json::to_value(&h).unwrap();
        assert_eq!(v["head_table"]["heads"], 72);
        assert_eq!(v["lanes"], 4);
        assert_eq!(serde_json::from_value::<HccsHeadsConfig>(v).unwrap(), h);
    }
}
