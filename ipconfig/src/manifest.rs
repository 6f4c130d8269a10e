//! `manifest.json`: what `rtl-gen` generated (`rtl-gen defaults`, `qor-set`,
//! `sweep`), one entry per module, and what `verif` reads back.
//!
//! Each entry's `kind` and `params` are one typed value, [`Params`]: the kind
//! names the generator, the params are that generator's configuration.

use crate::{BapsConfig, ConfigError, Exp2Config, Exp2FloatConfig, Exp2TableConfig, Fp32ToHif8Config, HccsConfig, HccsHeadsConfig, HeadTableRef, Score};
use serde::{Deserialize, Serialize};

/// Direction of a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Input,
    Output,
}

/// One port of a module's top level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub name: String,
    pub dir: Dir,
    /// Bits, >= 1.
    pub width: u32,
}

/// The kind of a module and its generator's configuration. In JSON, the
/// `kind` string and a `params` object beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "params")]
pub enum Params {
    /// HiF8 EXP2 unit (`rtl-gen exp2`).
    #[serde(rename = "hif8_exp2")]
    Hif8Exp2(Exp2Config),
    /// The plain 256-entry table baseline of EXP2 (no shift).
    #[serde(rename = "exp2_table256")]
    Exp2Table256(Exp2TableConfig),
    /// Float-input EXP2 baseline (`rtl-gen exp2-float`).
    #[serde(rename = "exp2_float")]
    Exp2Float(Exp2FloatConfig),
    /// FP32 -> HiF8 converter (`rtl-gen fp32-to-hif8`).
    #[serde(rename = "fp32_to_hif8")]
    Fp32ToHif8(Fp32ToHif8Config),
    /// HCCS engine taking B, S, Dmax per row (score [`Score::Hccs`]).
    #[serde(rename = "hccs_softmax")]
    HccsSoftmax(HccsConfig),
    /// HCCS engine with per-head constants baked in, taking `s_head`.
    #[serde(rename = "hccs_softmax_heads")]
    HccsSoftmaxHeads(HccsHeadsConfig),
    /// The exp-table int8 softmax baseline (score [`Score::ExpLut`]).
    #[serde(rename = "lut_softmax")]
    LutSoftmax(HccsConfig),
    /// BAPS engine (`rtl-gen baps`).
    #[serde(rename = "baps_softmax")]
    BapsSoftmax(BapsConfig),
}

impl Params {
    /// Every kind, as [`Params::kind`] names it.
    pub const KINDS: [&'static str; 8] = [
        "hif8_exp2",
        "exp2_table256",
        "exp2_float",
        "fp32_to_hif8",
        "hccs_softmax",
        "hccs_softmax_heads",
        "lut_softmax",
        "baps_softmax",
    ];

    /// The engine `rtl-gen hccs` generates for `config`: `lut_softmax` for
    /// the exp-table score, `hccs_softmax_heads` with a head table, else
    /// `hccs_softmax`.
    pub fn hccs(config: HccsConfig, head_table: Option<HeadTableRef>) -> Params {
        match (config.score, head_table) {
            (_, Some(head_table)) => Params::HccsSoftmaxHeads(HccsHeadsConfig { config, head_table }),
            (Score::ExpLut { .. }, None) => Params::LutSoftmax(config),
            (Score::Hccs, None) => Params::HccsSoftmax(config),
        }
    }

    /// The `kind` string of the manifest.
    pub fn kind(&self) -> &'static str {
        match self {
            Params::Hif8Exp2(_) => "hif8_exp2",
            Params::Exp2Table256(_) => "exp2_table256",
            Params::Exp2Float(_) => "exp2_float",
            Params::Fp32ToHif8(_) => "fp32_to_hif8",
            Params::HccsSoftmax(_) => "hccs_softmax",
            Params::HccsSoftmaxHeads(_) => "hccs_softmax_heads",
            Params::LutSoftmax(_) => "lut_softmax",
            Params::BapsSoftmax(_) => "baps_softmax",
        }
    }

    /// The configuration is legal, and of the kind it is filed under.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Params::Hif8Exp2(c) => c.validate(),
            Params::Exp2Table256(c) => c.validate(),
            Params::Exp2Float(c) => c.validate(),
            Params::Fp32ToHif8(c) => c.validate(),
            Params::HccsSoftmaxHeads(c) => c.validate(),
            Params::HccsSoftmax(c) | Params::LutSoftmax(c) => {
                c.validate()?;
                let lut = matches!(self, Params::LutSoftmax(_));
                crate::ensure!(lut == c.lut_scale().is_some(), "{}: score {:?} is not of this kind", self.kind(), c.score);
                Ok(())
            }
            Params::BapsSoftmax(c) => c.validate(),
        }
    }

    /// An HCCS-family engine's configuration and head table (kinds
    /// `hccs_softmax`, `hccs_softmax_heads`, `lut_softmax`).
    pub fn as_hccs(&self) -> Option<(&HccsConfig, Option<&HeadTableRef>)> {
        match self {
            Params::HccsSoftmax(c) | Params::LutSoftmax(c) => Some((c, None)),
            Params::HccsSoftmaxHeads(h) => Some((&h.config, Some(&h.head_table))),
            _ => None,
        }
    }

    /// LANES of a stream engine, None for the fixed-latency units.
    pub fn lanes(&self) -> Option<u32> {
        match self {
            Params::BapsSoftmax(c) => Some(c.lanes),
            _ => self.as_hccs().map(|(c, _)| c.lanes),
        }
    }

    /// The params object alone (without `kind`), keys sorted.
    pub fn to_value(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("configs serialize");
        v["params"].take()
    }
}

/// Compact JSON of the params object alone, keys sorted (what the header of
/// each generated file and the tests' logs show).
impl std::fmt::Display for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_value())
    }
}

/// One generated module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleEntry {
    /// Verilog module name (a plain identifier).
    pub module: String,
    /// File holding it, `<module>.v`, beside the manifest.
    pub file: String,
    /// Cycles from input to output (for the stream engines: of a 1-beat row).
    pub latency: u32,
    pub ports: Vec<Port>,
    /// `kind` and `params`.
    #[serde(flatten)]
    pub params: Params,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// "rtl-gen <version>".
    pub generator: String,
    pub modules: Vec<ModuleEntry>,
}

impl Manifest {
    /// Pretty JSON with every object's keys sorted, and a final newline: the
    /// bytes of `manifest.json`.
    pub fn to_json(&self) -> serde_json::Result<String> {
        Ok(serde_json::to_string_pretty(&serde_json::to_value(self)?)? + "\n")
    }

    pub fn from_json(text: &str) -> serde_json::Result<Manifest> {
        serde_json::from_str(text)
    }

    /// Every module of a kind (one of [`Params::KINDS`]), in manifest order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a ModuleEntry> + 'a {
        self.modules.iter().filter(move |m| m.params.kind() == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BapsOut, Exp2Arch, Recip, FP16};

    fn entry(params: Params) -> ModuleEntry {
        ModuleEntry {
            module: "m".into(),
            file: "m.v".into(),
            latency: 2,
            ports: vec![Port { name: "clk".into(), dir: Dir::Input, width: 1 }],
            params,
        }
    }

    #[test]
    fn kind_and_params_side_by_side_and_back() {
        let all = [
            Params::Hif8Exp2(Exp2Config { arch: Exp2Arch::Table, out_format: FP16, stages: 5 }),
            Params::Exp2Table256(Exp2TableConfig { out_format: FP16, stages: 2 }),
            Params::Exp2Float(Exp2FloatConfig::default_for(crate::FP32).unwrap()),
            Params::Fp32ToHif8(Fp32ToHif8Config { stages: 1 }),
            Params::hccs(HccsConfig { recip: Recip::Clb, ..HccsConfig::DEFAULT }, None),
            Params::hccs(HccsConfig::DEFAULT, Some(HeadTableRef { source: "h.json".into(), heads: 72 })),
            Params::hccs(HccsConfig { score: Score::ExpLut { scale: 16.0 }, ..HccsConfig::DEFAULT }, None),
            Params::BapsSoftmax(BapsConfig { out_format: BapsOut::Bf16, ..BapsConfig::DEFAULT }),
        ];
        let m = Manifest { generator: "rtl-gen 0".into(), modules: all.iter().cloned().map(entry).collect() };
        let text = m.to_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (i, p) in all.iter().enumerate() {
            assert_eq!(p.kind(), Params::KINDS[i]);
            assert_eq!(v["modules"][i]["kind"], p.kind());
            assert_eq!(v["modules"][i]["params"], p.to_value());
            assert!(p.validate().is_ok(), "{p}");
        }
        assert_eq!(Manifest::from_json(&text).unwrap(), m);
        assert_eq!(m.of_kind("lut_softmax").count(), 1);
        let keys: Vec<&String> = v["modules"][0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["file", "kind", "latency", "module", "params", "ports"]);
        assert_eq!(all[3].to_string(), r#"{"stages":1}"#);
        assert_eq!(all[5].to_string(), r#"{"head_table":{"heads":72,"source":"h.json"},"lanes":4,"max_len":256,"out_bits":8,"r":15,"recip":"div","score":"hccs"}"#);
    }

    #[test]
    fn a_kind_with_the_wrong_score_is_refused() {
        let bad = Params::LutSoftmax(HccsConfig::DEFAULT);
        assert!(bad.validate().is_err());
        let text = r#"{"module":"x","file":"x.v","latency":1,"ports":[],"kind":"no_such","params":{}}"#;
        assert!(serde_json::from_str::<ModuleEntry>(text).is_err());
    }
}
