//! HCCS golden model: the head-calibrated clipped-linear softmax of `shared/spec/hccs.md`,
//! bit-exact, for one row of int8 logits.
//!
//! ```text
//! m    = max_i x[i]
//! d[i] = min(m - x[i], Dmax)                   0 <= m - x[i] <= 255
//! s[i] = max(0, B - S*d[i])                    the row's largest logit scores B
//! Z    = sum_i s[i]
//! DIV: rho = floor(T * 2^R / Z),  p[i] = min(T, floor(s[i] * rho / 2^R))
//! CLB: k = floor(log2 Z),         p[i] = min(T, floor(T * s[i] / 2^k))
//! T = 2^OUT_BITS - 1
//! ```
//!
//! Error flag (decisions where the spec leaves room, shared with the RTL):
//! - **Constants that can go negative**: the flag is raised when `B < S*Dmax`, i.e. whenever
//!   *some* row could have a negative score, whether or not this row actually has an element
//!   at distance `Dmax`. It is a property of the constants, so every row processed with them
//!   is flagged; scores are still computed, clamped at 0.
//! - **Z == 0**: every `p[i]` is 0 and the flag is raised. Since the maximum element always
//!   scores `B` (its `d` is 0), this happens exactly when `B == 0`.
//! - **Row longer than `max_len`** (the hardware cannot buffer it): the output row has the same
//!   length, every `p[i]` is 0, and the flag is raised.
//! - An empty row is not a row (a stream row has at least one beat with lane 0 valid): the
//!   model panics on it, as it does on constants or a configuration out of range.
//!
//! Spec-literal corner, not flagged: DIV's `rho` has about `log2(T * 2^R / Z)` bits, and is 0
//! when `Z > T * 2^R` (e.g. OUT_BITS 8, R 15, a 256-element row of equal logits with
//! B = 32767: Z = 8388352 > 8355840), so the whole row comes out 0 with the flag clear. DIV
//! floors twice, so even a lone element gets `T - 1` for most B (B = 1000: 254).
//!
//! Widths: `s[i] <= B <= 32767` (15 bits), `Z <= n*B <= max_len*32767` (23 bits for
//! `max_len = 256`; computed here in u64, so any row length is fine). DIV: `rho <= T*2^R`
//! and `s*rho < 2^15 * 2^16 * 2^R`, computed in u128 (so `R <= 64` would still be exact; the
//! model accepts `R <= 48`). CLB: `T*s < 2^31`, u64.

/// Per-head constants. Ranges from the spec: `b` 0..=32767, `s` 0..=127, `dmax` 0..=127.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct HccsParams {
    pub b: u16,
    pub s: u8,
    pub dmax: u8,
}

pub const B_MAX: u16 = 32767;
pub const S_MAX: u8 = 127;
pub const DMAX_MAX: u8 = 127;

impl HccsParams {
    /// Checked constructor (ranges of the spec).
    pub fn new(b: u16, s: u8, dmax: u8) -> Result<Self, String> {
        let p = HccsParams { b, s, dmax };
        p.check()?;
        Ok(p)
    }

    /// `Err` naming the first constant out of its range.
    pub fn check(&self) -> Result<(), String> {
        if self.b > B_MAX {
            return Err(format!("B = {} out of range 0..={B_MAX}", self.b));
        }
        if self.s > S_MAX {
            return Err(format!("S = {} out of range 0..={S_MAX}", self.s));
        }
        if self.dmax > DMAX_MAX {
            return Err(format!("Dmax = {} out of range 0..={DMAX_MAX}", self.dmax));
        }
        Ok(())
    }

    /// `B - S*Dmax < 0`: a score could go negative, so every row is clamped and flagged.
    pub fn can_go_negative(&self) -> bool {
        (self.b as u32) < self.s as u32 * self.dmax as u32
    }

    /// Constants usable without any row being flagged: in range, `B >= S*Dmax` and `B > 0`
    /// (so `Z >= B > 0` for every row).
    pub fn is_clean(&self) -> bool {
        self.check().is_ok() && !self.can_go_negative() && self.b > 0
    }
}

/// Reciprocal variant, the configuration's own type: `Div` is the exact
/// `rho = floor(T*2^R/Z)`, one divide per row (`hccs_softmax`); `Clb` the power of two
/// `2^floor(log2 Z)`, no divider (`hccs_softmax_clb`): rows come out scaled by a factor in
/// [1, 2) (before saturation at T).
pub use ipconfig::Recip;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HccsConfig {
    /// 8 (default) or 16.
    pub out_bits: u32,
    /// Reciprocal fraction bits of DIV (default 15). Unused by CLB.
    pub r: u32,
    pub recip: Recip,
    /// Longest row the hardware buffers (default 256); longer rows are bad rows.
    pub max_len: usize,
}

impl Default for HccsConfig {
    /// The default IP `hccs_softmax`: OUT_BITS=8, R=15, DIV, MAX_LEN=256.
    fn default() -> Self {
        HccsConfig { out_bits: 8, r: 15, recip: Recip::Div, max_len: 256 }
    }
}

/// The model's view of an engine's configuration (LANES and the score do not change the
/// arithmetic of a row; the exp-table score is `super::lut_softmax`'s).
impl From<&ipconfig::HccsConfig> for HccsConfig {
    fn from(c: &ipconfig::HccsConfig) -> Self {
        HccsConfig { out_bits: c.out_bits, r: c.r, recip: c.recip, max_len: c.max_len as usize }
    }
}

impl HccsConfig {
    pub fn div() -> Self {
        HccsConfig::default()
    }
    pub fn clb() -> Self {
        HccsConfig { recip: Recip::Clb, ..HccsConfig::default() }
    }
    pub fn with_recip(self, recip: Recip) -> Self {
        HccsConfig { recip, ..self }
    }
    /// Largest output value, `2^OUT_BITS - 1`.
    pub fn t(&self) -> u32 {
        (1u32 << self.out_bits) - 1
    }
    fn assert_valid(&self) {
        assert!(
            self.out_bits == 8 || self.out_bits == 16,
            "HCCS: OUT_BITS = {} (must be 8 or 16)",
            self.out_bits
        );
        assert!(self.r <= 48, "HCCS: R = {} (at most 48 supported)", self.r);
        assert!(self.max_len >= 1, "HCCS: max_len = 0");
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HccsOut {
    /// One output per input element, `0..=T`.
    pub p: Vec<u32>,
    /// The row's error flag (`m_err` on its last beat).
    pub err: bool,
}

/// Everything the row computes on the way, for debugging and the calibration search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HccsTrace {
    pub max: i8,
    /// Clamped distances `min(m - x[i], Dmax)`.
    pub d: Vec<u8>,
    /// Scores `max(0, B - S*d[i])`.
    pub s: Vec<u32>,
    pub z: u64,
    /// DIV: `rho`; CLB: `k`. 0 when `Z == 0`.
    pub recip: u64,
}

/// Scores of one row: `(max, d, s, Z)`. `x` must not be empty.
pub fn scores(x: &[i8], p: &HccsParams) -> (i8, Vec<u8>, Vec<u32>, u64) {
    assert!(!x.is_empty(), "HCCS: empty row (rows have n >= 1 elements)");
    if let Err(e) = p.check() {
        panic!("HCCS: {e}");
    }
    let m = *x.iter().max().unwrap();
    let mut d = Vec::with_capacity(x.len());
    let mut s = Vec::with_capacity(x.len());
    let mut z = 0u64;
    for &xi in x {
        let dist = (m as i16 - xi as i16) as u16; // 0..=255
        let di = dist.min(p.dmax as u16) as u8;
        let si = (p.b as i32 - p.s as i32 * di as i32).max(0) as u32;
        d.push(di);
        s.push(si);
        z += si as u64;
    }
    (m, d, s, z)
}

/// HCCS of one row, with the intermediate values.
pub fn hccs_row_trace(x: &[i8], p: &HccsParams, cfg: &HccsConfig) -> (HccsOut, HccsTrace) {
    cfg.assert_valid();
    let (max, d, s, z) = scores(x, p);
    let n = x.len();
    let t = cfg.t() as u64;
    let mut err = p.can_go_negative();
    let mut recip = 0u64;
    let out = if n > cfg.max_len || z == 0 {
        // Too long for the hardware, or nothing to normalise by: all zero, flagged.
        err = true;
        vec![0; n]
    } else {
        match cfg.recip {
            Recip::Div => {
                let rho = ((t as u128) << cfg.r) / z as u128;
                recip = rho as u64;
                s.iter()
                    .map(|&si| ((si as u128 * rho) >> cfg.r).min(t as u128) as u32)
                    .collect()
            }
            Recip::Clb => {
                let k = 63 - z.leading_zeros() as u64; // floor(log2 Z), Z >= 1
                recip = k;
                s.iter().map(|&si| ((t * si as u64) >> k).min(t) as u32).collect()
            }
        }
    };
    (HccsOut { p: out, err }, HccsTrace { max, d, s, z, recip })
}

/// HCCS of one row of int8 logits (`shared/spec/hccs.md`), bit-exact.
///
/// Panics on an empty row, constants out of range or an invalid configuration.
pub fn hccs_row(x: &[i8], p: &HccsParams, cfg: &HccsConfig) -> HccsOut {
    hccs_row_trace(x, p, cfg).0
}

/// Floating-point view of an output row: `p[i] / sum(p)` (all 0 when the sum is 0). This is the
/// "renormalised" distribution used to compare DIV and CLB with a float softmax.
pub fn renormalise(p: &[u32]) -> Vec<f64> {
    let sum: u64 = p.iter().map(|&v| v as u64).sum();
    if sum == 0 {
        return vec![0.0; p.len()];
    }
    p.iter().map(|&v| v as f64 / sum as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prm(b: u16, s: u8, dmax: u8) -> HccsParams {
        HccsParams::new(b, s, dmax).unwrap()
    }

    #[test]
    fn div_hand_computed() {
        // m = 3; d = 0,1,3,4->min(4,3)=3 ... x = [3, 2, 0, -1] => d = [0,1,3,3] with Dmax 3.
        // s = 100 - 10*d = [100, 90, 70, 70], Z = 330.
        // rho = floor(255 * 2^15 / 330) = floor(8355840/330) = 25320.
        // p = floor(s*25320/32768): 100 -> 77 (77.27), 90 -> 69 (69.54), 70 -> 54 (54.09).
        let o = hccs_row(&[3, 2, 0, -1], &prm(100, 10, 3), &HccsConfig::div());
        assert_eq!(o, HccsOut { p: vec![77, 69, 54, 54], err: false });
    }

    #[test]
    fn clb_hand_computed() {
        // Same scores, Z = 330, k = 8 (256 <= 330 < 512).
        // p = floor(255*s/256): 100 -> 99 (99.6), 90 -> 89 (89.6), 70 -> 69 (69.7).
        let o = hccs_row(&[3, 2, 0, -1], &prm(100, 10, 3), &HccsConfig::clb());
        assert_eq!(o, HccsOut { p: vec![99, 89, 69, 69], err: false });
    }
}
