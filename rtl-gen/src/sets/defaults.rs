//! The default IP set of spec/interfaces.md, plus the extra configurations that
//! `make rtl` generates so co-simulation covers every architecture and format,
//! and the manifest that describes them.

use crate::baps::{self, BapsConfig, BapsOut, BAPS_DEFAULT};
use crate::emit::Module;
use ipconfig::Manifest;
use crate::exp2::{self, Exp2Arch, Exp2Config, Exp2TableConfig};
use crate::exp2_float::{self, Exp2FloatConfig};
use crate::formats::{BF16, FP16, FP32};
use crate::fp32_to_hif8::{self, Fp32ToHif8Config};
use crate::hccs::{self, HccsConfig, HeadTable, Recip, Score};
use anyhow::{Context, Result};
use std::path::Path;

pub const HCCS_DEFAULT: HccsConfig = HccsConfig::DEFAULT;

pub fn default_set() -> Result<Vec<Module>> {
    let exp2 = |name: &str, arch, out_format, stages| exp2::generate(name, &Exp2Config { arch, out_format, stages });
    Ok(vec![
        exp2("hif8_exp2", Exp2Arch::Decomposed, FP16, 2)?,
        exp2("hif8_exp2_table", Exp2Arch::Table, FP16, 2)?,
        exp2("hif8_exp2_bf16", Exp2Arch::Decomposed, BF16, 2)?,
        exp2("hif8_exp2_fp32", Exp2Arch::Decomposed, FP32, 2)?,
        exp2("hif8_exp2_table_fp32", Exp2Arch::Table, FP32, 1)?,
        // Five stages, registers inside the rounding: for FPGA clock rates.
        exp2("hif8_exp2_s5", Exp2Arch::Table, FP16, 5)?,
        // Baseline for synthesis: 2^x from one plain 256-entry table, no shift.
        exp2::generate_plain_table("exp2_table256", &Exp2TableConfig { out_format: FP16, stages: 2 })?,
        // Baselines for synthesis: correctly rounded FP16 2^x of a 16- or 32-bit float
        // x (table + polynomial + multiplier), what an 8-bit HiF8 input saves.
        exp2_float::generate("exp2_fp16", &Exp2FloatConfig::default_for(FP16)?)?,
        exp2_float::generate("exp2_bf16", &Exp2FloatConfig::default_for(BF16)?)?,
        exp2_float::generate("exp2_fp32", &Exp2FloatConfig::default_for(FP32)?)?,
        fp32_to_hif8::generate("fp32_to_hif8", &Fp32ToHif8Config { stages: 2 })?,
        fp32_to_hif8::generate("fp32_to_hif8_s1", &Fp32ToHif8Config { stages: 1 })?,
        hccs::generate("hccs_softmax", &HCCS_DEFAULT, None)?,
        hccs::generate("hccs_softmax_clb", &HccsConfig { recip: Recip::Clb, ..HCCS_DEFAULT }, None)?,
        // MiniLM's calibrated constants baked in, taken by head index.
        hccs::generate(
            "hccs_softmax_minilm",
            &HCCS_DEFAULT,
            Some(HeadTable::from_calibration(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../params/hccs_minilm.json"))?),
        )?,
        // The baseline HCCS is measured against (synthesis) and co-simulated like it.
        hccs::generate("lut_softmax", &HccsConfig { score: Score::ExpLut { scale: 16.0 }, ..HCCS_DEFAULT }, None)?,
        baps::generate("baps_softmax", &BAPS_DEFAULT)?,
        // BF16 output instead of FP16, co-simulated like the default.
        baps::generate("baps_softmax_bf16", &BapsConfig { out_format: BapsOut::Bf16, ..BAPS_DEFAULT })?,
    ])
}

pub fn manifest_json(modules: &[Module]) -> Result<String> {
    let m = Manifest { generator: format!("rtl-gen {}", env!("CARGO_PKG_VERSION")), modules: modules.iter().map(Module::entry).collect() };
    Ok(m.to_json()?)
}

/// Writes every module and the manifest into `dir`. Files are written to a
/// temporary name and renamed, so a failure leaves no half-written file.
pub fn write_all(dir: &Path, modules: &[Module], manifest: bool) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut files: Vec<(String, String)> = modules.iter().map(|m| (m.file.clone(), m.verilog.clone())).collect();
    if manifest {
        files.push(("manifest.json".into(), manifest_json(modules)?));
    }
    for (name, text) in &files {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    }
    for (name, _) in &files {
        std::fs::rename(dir.join(format!(".{name}.tmp")), dir.join(name))?;
    }
    Ok(())
}
