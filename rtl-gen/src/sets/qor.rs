//! The extra configurations the QoR report synthesises beside the default set
//! (`rtl-gen qor-set`): each streaming engine at LANES = 1, 2 and 8 (the
//! default set has 4), so the report can separate the cost of a lane from the
//! cost shared by the row (reciprocal, control, row buffers), and the "direct
//! HiF8" point of BAPS: BLOCK = MAX_LEN, one integer maximum per row, which is
//! HiF8 of t - ceil(rowmax) and needs the whole FP32 row buffered before the
//! cast. Nothing here is part of the IP set; the files go to a build folder.

use crate::baps::{self, BAPS_DEFAULT};
use crate::defaults::HCCS_DEFAULT;
use crate::emit::Module;
use crate::hccs::{self, HccsConfig, Recip, Score};
use anyhow::Result;

/// Lane counts swept besides the default 4.
pub const LANES: [u32; 3] = [1, 2, 8];

pub fn qor_set() -> Result<Vec<Module>> {
    let mut v = Vec::new();
    for lanes in LANES {
        let h = HccsConfig { lanes, ..HCCS_DEFAULT };
        v.push(hccs::generate(&format!("hccs_softmax_l{lanes}"), &h, None)?);
        v.push(hccs::generate(&format!("hccs_softmax_clb_l{lanes}"), &HccsConfig { recip: Recip::Clb, ..h }, None)?);
        v.push(hccs::generate(
            &format!("lut_softmax_l{lanes}"),
            &HccsConfig { score: Score::ExpLut { scale: 16.0 }, ..h },
            None,
        )?);
        v.push(baps::generate(&format!("baps_softmax_l{lanes}"), &baps::BapsConfig { lanes, ..BAPS_DEFAULT })?);
    }
    v.push(baps::generate(
        "baps_direct_hif8",
        &baps::BapsConfig { block: BAPS_DEFAULT.max_len, ..BAPS_DEFAULT },
    )?);
    Ok(v)
}
