//! Golden BAPS softmax (`baps_softmax` of interfaces.md, design in `shared/spec/baps.md`):
//! a bit-exact model of the engine, the "direct HiF8" baselines it is measured against, and
//! an f64 base-2 softmax reference.
//!
//! Everything below the heading "The contract" is normative: the RTL must produce the same
//! bits for every row. Each rounding is named; every other step is exact.
//!
//! # The contract
//!
//! Parameters: `LANES` >= 1, `BLOCK` a multiple of `LANES`, `MAX_LEN` >= 1, the output format
//! `OUT` (FP16 by default, BF16 or HiF8), the EXP2 output format `X` (FP16 by default,
//! BF16 or FP32) and the block-maximum offset `C` in 0..=8 (0 by default, which is
//! spec/baps.md's `m_b = ceil(max)`; see "Why C" below). Input: one row `t[0..n)` of FP32
//! base-2 scores (logits times log2 e), streamed as beats of `LANES` elements. Element `i`
//! is in beat `i / LANES` and in block `b = i / BLOCK`; blocks are made of whole beats (the
//! last block, and the last beat, may be short).
//!
//! **0. Bad rows.** The row is bad when `n > MAX_LEN`, or some `t[i]` is NaN or +Inf, or some
//! finite `t[i] > 32767` (its ceiling does not fit the int16 maximum, see step 1), or the sum
//! `l` of step 4 ends at +0 (no element contributes: every `t[i]` is -Inf, or all finite
//! scores are below about -32768 - 150). A bad row gives `err = 1` and every output +0
//! (all bits zero), with the row's shape kept. Otherwise `err = 0`. An empty row (not
//! possible on the stream) is bad.
//!
//! **1. Block maximum.** `m_b` = ceil(largest `t[i]` of block `b` that is not -Inf) - `C`, an
//! int16, clamped below at `MB_MIN` = -32768. A block of only -Inf has `m_b = MB_MIN`.
//! (`ceil(-0.0) = 0`.) Step 0 has excluded `ceil(max) > 32767`.
//!
//! **2. Quantise (one rounding).** `h[i]` = HiF8_TA(`d`), `d = t[i] - m_b` the *exact*
//! difference, non-saturating (spec/hif8.md). `d <= C`; `d <= -40960` gives -Inf (0xEF),
//! -Inf inputs give -Inf, `|d| < 2^-23` gives 0x00.
//! Hardware form: every TA decision point (midpoints between neighbouring HiF8 values, and
//! the overflow threshold 40960) is a multiple of 2^-24 and TA needs no sticky bit, so TA of
//! a magnitude `y` depends only on `floor(y * 2^24)`. Hence, exactly,
//! `h = sign(d) * TA(trunc(d * 2^24) * 2^-24)`, the difference truncated toward zero at
//! 2^-24: for `d <= 0` that is `m_b * 2^24 - ceil(t * 2^24)` (align `t` to 24 fraction bits
//! rounding toward +Inf), for `d > 0` (only with `C > 0`) `floor(t * 2^24) - m_b * 2^24`.
//! A 41-bit magnitude (17 integer bits: anything at or above 40960 is -Inf, detect that
//! first), then TA. [`quantize_diff`] is written that way; the tests check it against
//! [`hif8_ta_diff`], which rounds the exact difference of any two doubles a different way
//! (TwoSum).
//!
//! **3. Scaled exponential (one rounding).** For an integer `k <= 0`:
//! `A(i, k) = +0` if `k < -128` (the shift does not fit the int8 port), otherwise
//! `A(i, k) = FTZ(EXP2_X(h[i], k))` as an FP32 value, where
//! * `EXP2_X(h, s)` = 2^(decode(h) + s) correctly rounded (RNE, gradual underflow) to `X`:
//!   the `hif8_exp2` unit with its int8 `in_shift` port ([`super::exp2::exp2_hif8`]);
//!   -Inf gives +0;
//! * `FTZ` replaces a value below 2^-126 (an FP32/BF16 subnormal) by +0. The result is
//!   exactly representable in FP32 (X has at most 24 significant bits and FP32's range).
//!
//! `h <= C` and `k <= 0`, so `A <= 2^C`. With `C = 0` the zero rule and the flush never
//! change a result: for `k <= -127`, `2^(h+k) <= 2^-127` is +0 after FTZ (FP32, BF16) or
//! after FP16 underflow anyway. With `X` = FP16 the flush never fires (the smallest FP16
//! value is 2^-24). Consequence: every FP32 adder operand below is +0 or normal, and every
//! sum of them is normal, so the adders need no subnormal support.
//!
//! **4. Running sum.** `M := MB_MIN`, `l := +0` (FP32). For each block `b` in order:
//! * `M' = max(M, m_b)`; if `M' > M`: `l := FTZ(l * 2^(M - M'))` — an exact exponent
//!   decrement, +0 if the biased exponent would reach 0 or below; `M := M'`.
//! * For each beat of the block in order: `a_j = A(j, m_b - M)` for its lanes (+0 for
//!   lanes past the row end); the beat sum `s` is a fixed pairwise tree in FP32 RNE:
//!   lanes padded with +0 to a power of two, then `(a0+a1), (a2+a3), ...` level by level —
//!   for LANES = 4, `s = (a0 + a1) + (a2 + a3)`; then `l := l + s` (FP32 RNE).
//!
//! All values are >= +0, `a <= 2^C`, so `l <= n * 2^C`: no overflow, no negative zero. The
//! block holding the row maximum contributes `A >= 2^(C-1)` (its `d` is in (C-1, C], and TA
//! never rounds below C-1 there), so `l >= 2^(C-1)` at the end of every normal row (unless
//! all scores sit below `MB_MIN`).
//!
//! **5. Reciprocal (one rounding per row).** `r = RNE_FP32(1 / l)`, a normal number
//! (`2^(C-1) <= l <= n 2^C`).
//!
//! **6. Output (one rounding).** `p[i] = ROUND_OUT(A(i, m_b - M) * r)` with the final `M`:
//! the FP32 x FP32 product (at most 48 significant bits) is exact and rounded once, directly
//! to `OUT`: FP16 / BF16 by RNE with gradual underflow (subnormal outputs), HiF8 by TA. So
//! `p[i] = e * 2^(m_b - M) / l` with the power-of-two rescale taken inside EXP2 (the shift
//! port) and the division as one reciprocal plus one multiplier per lane. `p <= 1`.
//!
//! Note on consistency: an element summed while `M` was smaller entered `l` as
//! `EXP2_X(h, k_then) * 2^(k_final - k_then)` (the later rescales of `l`), and is output as
//! `EXP2_X(h, k_final)`. Both are `X`-precision values of the same `2^(h + k_final)`; they
//! differ only where that is below `X`'s normal range (FP16: 2^-14), where the output pass
//! rounds to an `X` subnormal, by at most about half a subnormal step (2^-25 for FP16).
//!
//! # Why C (measured in `results/baps_accuracy.md`)
//! The accuracy limit of BAPS is the HiF8 cast of `d`: 3 mantissa bits give an error in the
//! exponent proportional to `|d|` (up to 1/16 at |d| in \[1, 2), 1/8 at \[2, 4)), so only the
//! elements near `m_b` are precise. With `C = 0` (the spec) the block's top element is the
//! precise one; the other heavy elements of the block sit 1..4 binades lower, on the coarse
//! grid. `C > 0` centres the precise band on them (HiF8 is symmetric, so `d` in (0, C] is
//! as precise as `-d`); it costs no hardware. `C = 0` stays the default until spec/baps.md
//! says otherwise.
//!
//! # Baselines and reference (not hardware)
//! * [`direct_hif8_row`]: HiF8_TA of `t - rowmax` (exact FP32 maximum, exact difference) or of
//!   `t` itself (saturating cast), then the exact softmax of the decoded values in f64,
//!   rounded once to `OUT`. Same bad-row rules as step 0 (except the int16 range, which
//!   does not exist there).
//! * [`softmax_f64`]: `p = 2^(t - max) / sum 2^(t - max)` in f64.

use super::exp2::exp2_hif8;
use super::fp::{Format, BF16, FP16, FP32};
use super::hif8;

/// Smallest block maximum (int16); also the initial running maximum and the value of an
/// all -Inf block.
pub const MB_MIN: i32 = -32768;
/// Largest block maximum; a finite score above it makes the row bad.
pub const MB_MAX: i32 = 32767;
/// Fraction bits of the exact fixed-point difference of step 2.
pub const DIFF_FRAC_BITS: u32 = 24;
/// Lower end of the EXP2 shift port (int8); a smaller shift gives A = +0.
pub const SHIFT_MIN: i32 = -128;

/// Output format of the probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutFormat {
    Fp16,
    Bf16,
    /// HiF8 code (TA rounding) in the low 8 bits.
    Hif8,
}

impl OutFormat {
    pub fn name(&self) -> &'static str {
        match self {
            OutFormat::Fp16 => "FP16",
            OutFormat::Bf16 => "BF16",
            OutFormat::Hif8 => "HiF8",
        }
    }

    pub fn width(&self) -> u32 {
        match self {
            OutFormat::Fp16 | OutFormat::Bf16 => 16,
            OutFormat::Hif8 => 8,
        }
    }

    /// Exact value of an output bit pattern.
    pub fn decode(&self, bits: u32) -> f64 {
        match self {
            OutFormat::Fp16 => FP16.decode(bits),
            OutFormat::Bf16 => BF16.decode(bits),
            OutFormat::Hif8 => hif8::decode(bits as u8),
        }
    }

    /// Rounds an exact f64 value once to this format (RNE for FP16/BF16, TA for HiF8,
    /// non-saturating).
    pub fn round(&self, x: f64) -> u32 {
        match self {
            OutFormat::Fp16 => round_f64(&FP16, x),
            OutFormat::Bf16 => round_f64(&BF16, x),
            OutFormat::Hif8 => hif8::encode_nearest(x, false) as u32,
        }
    }
}

/// Engine parameters. `Default` is the interfaces.md default: LANES = 4, BLOCK = 32,
/// MAX_LEN = 256, FP16 out, FP16 EXP2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BapsConfig {
    pub lanes: usize,
    pub block: usize,
    pub max_len: usize,
    pub out: OutFormat,
    /// Output format `X` of the EXP2 unit: FP16, BF16 or FP32.
    pub exp_format: Format,
    /// `C`: m_b = ceil(block max) - C, 0..=8 (0 = spec/baps.md).
    pub max_offset: u8,
}

impl Default for BapsConfig {
    fn default() -> Self {
        BapsConfig {
            lanes: 4,
            block: 32,
            max_len: 256,
            out: OutFormat::Fp16,
            exp_format: FP16,
            max_offset: 0,
        }
    }
}

/// The model of a generated engine's configuration (the model knows more: HiF8 out, other
/// EXP2 formats, C > 0).
impl From<&ipconfig::BapsConfig> for BapsConfig {
    fn from(c: &ipconfig::BapsConfig) -> Self {
        BapsConfig {
            lanes: c.lanes as usize,
            block: c.block as usize,
            max_len: c.max_len as usize,
            out: match c.out_format {
                ipconfig::BapsOut::Fp16 => OutFormat::Fp16,
                ipconfig::BapsOut::Bf16 => OutFormat::Bf16,
            },
            exp_format: Format::of_config(&c.exp_format),
            max_offset: u8::try_from(c.max_offset).expect("C fits 0..=8"),
        }
    }
}

impl BapsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.lanes == 0 {
            return Err("LANES must be >= 1".into());
        }
        if self.block == 0 || !self.block.is_multiple_of(self.lanes) {
            return Err(format!(
                "BLOCK = {} must be a positive multiple of LANES = {}",
                self.block, self.lanes
            ));
        }
        if self.max_len == 0 {
            return Err("MAX_LEN must be >= 1".into());
        }
        if self.max_offset > 8 {
            return Err(format!("max_offset C = {} out of 0..=8", self.max_offset));
        }
        if ![FP16, BF16, FP32].contains(&self.exp_format) {
            return Err(format!(
                "EXP2 format {} not supported (FP16, BF16, FP32)",
                self.exp_format.name
            ));
        }
        Ok(())
    }
}

/// Output row: `p[i]` bit patterns of `cfg.out` (HiF8 in the low 8 bits) and the error flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BapsOut {
    pub p: Vec<u32>,
    pub err: bool,
}

impl BapsOut {
    fn bad(n: usize) -> Self {
        BapsOut {
            p: vec![0; n],
            err: true,
        }
    }
}

/// Intermediate values of one row, for debugging the RTL against the model.
#[derive(Clone, Debug, PartialEq)]
pub struct BapsTrace {
    /// Per block: m_b (empty for a bad row detected before step 1).
    pub m_b: Vec<i32>,
    /// Per element: HiF8 code `h[i]`.
    pub h: Vec<u8>,
    /// Final running maximum M.
    pub m: i32,
    /// l after each beat (FP32 bits), in stream order.
    pub l_after_beat: Vec<u32>,
    /// Final sum l and reciprocal r (FP32 bits).
    pub l: u32,
    pub r: u32,
    pub out: BapsOut,
}

/// Why a row is bad (step 0), or None. Does not include the `l == 0` case.
pub fn input_error(t: &[f32], max_len: usize) -> Option<&'static str> {
    if t.is_empty() {
        Some("empty row")
    } else if t.len() > max_len {
        Some("row longer than MAX_LEN")
    } else if t.iter().any(|v| v.is_nan()) {
        Some("NaN score")
    } else if t.contains(&f32::INFINITY) {
        Some("+Inf score")
    } else {
        None
    }
}

/// Step 1 with `C = 0`: ceil of the block maximum (no NaN / +Inf inside). `None` when the
/// ceiling exceeds [`MB_MAX`] (bad row).
pub fn block_max(block: &[f32]) -> Option<i32> {
    block_max_c(block, 0)
}

/// Step 1: m_b = ceil(block max) - C, clamped below at [`MB_MIN`]; `None` when the ceiling
/// exceeds [`MB_MAX`] (bad row).
pub fn block_max_c(block: &[f32], c: u8) -> Option<i32> {
    let mx = block
        .iter()
        .cloned()
        .filter(|v| *v != f32::NEG_INFINITY)
        .fold(f32::NEG_INFINITY, f32::max);
    if mx == f32::NEG_INFINITY {
        return Some(MB_MIN);
    }
    let up = (mx as f64).ceil();
    if up > MB_MAX as f64 {
        None
    } else {
        // up >= -3.4e38 fits i64 after the clamp below (saturating cast).
        Some((up as i64 - c as i64).max(MB_MIN as i64) as i32)
    }
}

/// Step 2: HiF8_TA(t - m) of the exact difference, non-saturating, `m` an int16, `t` not
/// NaN / +Inf. Computed the hardware way (the difference truncated toward zero at 2^-24,
/// see the module docs).
pub fn quantize_diff(t: f32, m: i32) -> u8 {
    assert!(!t.is_nan() && t != f32::INFINITY, "quantize_diff: bad input {t}");
    assert!((MB_MIN..=MB_MAX).contains(&m));
    let (tf, mf) = (t as f64, m as f64);
    // |d| >= 40960 (-Inf included): overflow. Both sides exact in f64.
    if tf <= mf - hif8::OVERFLOW_THRESHOLD {
        return hif8::NEG_INF;
    }
    if tf >= mf + hif8::OVERFLOW_THRESHOLD {
        return hif8::POS_INF;
    }
    // Here |t| < 2^17, so t * 2^24 < 2^41: exact in f64, and so are its floor / ceiling and
    // the integer differences below.
    let scale = (1u64 << DIFF_FRAC_BITS) as f64;
    let (neg, mag_fixed) = if tf <= mf {
        (true, mf * scale - (tf * scale).ceil())
    } else {
        (false, (tf * scale).floor() - mf * scale)
    };
    debug_assert!(mag_fixed >= 0.0 && mag_fixed < (1u64 << 41) as f64);
    let y = mag_fixed / scale; // exact
    hif8::encode_nearest(if neg { -y } else { y }, false)
}

/// HiF8_TA(a - b) of the exact difference of two finite doubles, non-saturating. Independent
/// of [`quantize_diff`]: TwoSum gives the difference exactly as hi + lo; TA is a
/// right-continuous step function of the magnitude whose steps sit at doubles, so the
/// rounding of hi + lo is that of |hi| when lo pushes the magnitude up (or is 0), and that
/// of the double just below |hi| when lo pulls it down.
pub fn hif8_ta_diff(a: f64, b: f64) -> u8 {
    if a == f64::NEG_INFINITY && b.is_finite() {
        return hif8::NEG_INF;
    }
    assert!(
        a.is_finite() && b.is_finite(),
        "hif8_ta_diff: non-finite input {a} - {b}"
    );
    let (x, y) = (a, -b);
    let s = x + y;
    if s.is_infinite() {
        return if s > 0.0 { hif8::POS_INF } else { hif8::NEG_INF };
    }
    let bp = s - x;
    let ap = s - bp;
    let lo = (x - ap) + (y - bp);
    if s == 0.0 {
        return 0x00;
    }
    let mag = s.abs();
    // Does lo move the magnitude up (>= 0) or down?
    let up = if s > 0.0 { lo >= 0.0 } else { lo <= 0.0 };
    let probe = if up {
        mag
    } else {
        f64::from_bits(mag.to_bits() - 1)
    };
    let code = hif8::encode_nearest(probe, false);
    if s < 0.0 && code != 0x00 {
        code | 0x80
    } else {
        code
    }
}

/// Step 3: `A = FTZ(EXP2_X(h, k))` as an FP32 value, +0 for `k < -128`.
pub fn scaled_exp(h: u8, k: i32, x: &Format) -> f32 {
    debug_assert!(k <= 0);
    if k < SHIFT_MIN {
        return 0.0;
    }
    let v = x.decode(exp2_hif8(h, k as i8, x)) as f32; // exact: X has <= 24 bits, FP32's range
    if v < f32::MIN_POSITIVE {
        0.0
    } else {
        v
    }
}

/// `l * 2^-d` for d >= 0, exact exponent decrement with flush to +0 (step 4).
pub fn rescale_ftz(l: f32, d: i32) -> f32 {
    debug_assert!(d >= 0 && l >= 0.0 && (l == 0.0 || l >= f32::MIN_POSITIVE));
    if l == 0.0 {
        return 0.0;
    }
    let be = ((l.to_bits() >> 23) & 0xFF) as i64;
    let ne = be - d as i64;
    if ne <= 0 {
        0.0
    } else {
        f32::from_bits((l.to_bits() & 0x807F_FFFF) | ((ne as u32) << 23))
    }
}

/// The fixed FP32 adder tree of one beat (step 4): pad to a power of two with +0, then sum
/// neighbours level by level.
pub fn beat_sum(a: &[f32]) -> f32 {
    let n = a.len().max(1).next_power_of_two();
    let mut v: Vec<f32> = a.to_vec();
    v.resize(n, 0.0);
    while v.len() > 1 {
        v = v.chunks(2).map(|c| c[0] + c[1]).collect();
    }
    v[0]
}

/// BAPS softmax of one row, bit-exact (see the contract in the module docs).
pub fn baps_row(t: &[f32], cfg: &BapsConfig) -> BapsOut {
    baps_row_trace(t, cfg).out
}

/// [`baps_row`] with its intermediate values.
pub fn baps_row_trace(t: &[f32], cfg: &BapsConfig) -> BapsTrace {
    cfg.validate().expect("invalid BapsConfig");
    let n = t.len();
    let bad = |m_b: Vec<i32>, h: Vec<u8>| BapsTrace {
        m_b,
        h,
        m: MB_MIN,
        l_after_beat: Vec::new(),
        l: 0,
        r: 0,
        out: BapsOut::bad(n),
    };
    if input_error(t, cfg.max_len).is_some() {
        return bad(Vec::new(), Vec::new());
    }
    // Steps 1 and 2.
    let mut m_b = Vec::with_capacity(n.div_ceil(cfg.block));
    let mut h = Vec::with_capacity(n);
    for blk in t.chunks(cfg.block) {
        let Some(m) = block_max_c(blk, cfg.max_offset) else {
            return bad(m_b, h);
        };
        m_b.push(m);
        h.extend(blk.iter().map(|&v| quantize_diff(v, m)));
    }
    // Step 4.
    let x = &cfg.exp_format;
    let mut big_m = MB_MIN;
    let mut l = 0.0f32;
    let mut l_after_beat = Vec::with_capacity(n.div_ceil(cfg.lanes));
    let mut lanes = Vec::with_capacity(cfg.lanes);
    for (b, &mb) in m_b.iter().enumerate() {
        if mb > big_m {
            l = rescale_ftz(l, mb - big_m);
            big_m = mb;
        }
        let lo = b * cfg.block;
        let hi = (lo + cfg.block).min(n);
        for beat in (lo..hi).step_by(cfg.lanes) {
            lanes.clear();
            lanes.extend((beat..(beat + cfg.lanes).min(hi)).map(|i| scaled_exp(h[i], mb - big_m, x)));
            l += beat_sum(&lanes);
            l_after_beat.push(l.to_bits());
        }
    }
    if l == 0.0 {
        let mut tr = bad(m_b, h);
        tr.m = big_m;
        tr.l_after_beat = l_after_beat;
        return tr;
    }
    // Steps 5 and 6.
    let r = 1.0f32 / l;
    let p = (0..n)
        .map(|i| {
            let a = scaled_exp(h[i], m_b[i / cfg.block] - big_m, x);
            cfg.out.round(a as f64 * r as f64) // exact product: 24 x 24 bits
        })
        .collect();
    BapsTrace {
        m_b,
        h,
        m: big_m,
        l_after_beat,
        l: l.to_bits(),
        r: r.to_bits(),
        out: BapsOut { p, err: false },
    }
}

/// Which value the direct baseline casts to HiF8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DirectMode {
    /// HiF8_TA(t - rowmax), rowmax the exact FP32 maximum, the difference exact,
    /// non-saturating (only -Inf can occur, as weight 0).
    RowMax,
    /// HiF8_TA(t) itself, saturating (so a finite score never becomes Inf).
    Raw,
}

/// The HiF8 codes a direct baseline feeds its softmax (no bad-row checks).
pub fn direct_codes(t: &[f32], mode: DirectMode) -> Vec<u8> {
    match mode {
        DirectMode::Raw => t.iter().map(|&v| hif8::encode_f32(v, true)).collect(),
        DirectMode::RowMax => {
            let mx = t.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            t.iter().map(|&v| hif8_ta_diff(v as f64, mx as f64)).collect()
        }
    }
}

/// Direct HiF8 baseline: cast (see [`DirectMode`]), exact softmax of the decoded values in
/// f64, each probability rounded once to `cfg.out`. Bad rows as in step 0 (length, NaN,
/// +Inf, all -Inf); `cfg.lanes` and `cfg.block` are not used.
pub fn direct_hif8_row(t: &[f32], cfg: &BapsConfig, mode: DirectMode) -> BapsOut {
    let n = t.len();
    if input_error(t, cfg.max_len).is_some() || t.iter().all(|&v| v == f32::NEG_INFINITY) {
        return BapsOut::bad(n);
    }
    let v: Vec<f64> = direct_codes(t, mode).into_iter().map(hif8::decode).collect();
    let p = softmax2(&v);
    BapsOut {
        p: p.into_iter().map(|x| cfg.out.round(x)).collect(),
        err: false,
    }
}

/// Base-2 softmax in f64 of values without NaN / +Inf, not all -Inf.
fn softmax2(v: &[f64]) -> Vec<f64> {
    let mx = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = v.iter().map(|&x| (x - mx).exp2()).collect();
    let s: f64 = w.iter().sum();
    w.into_iter().map(|x| x / s).collect()
}

/// Reference: base-2 softmax in f64, `p = 2^(t - max) / sum 2^(t - max)`. NaN everywhere for
/// a row with NaN or +Inf, or with no element above -Inf (softmax undefined).
pub fn softmax_f64(t: &[f32]) -> Vec<f64> {
    if t.iter().any(|v| v.is_nan() || *v == f32::INFINITY) || t.iter().all(|&v| v == f32::NEG_INFINITY) {
        return vec![f64::NAN; t.len()];
    }
    let v: Vec<f64> = t.iter().map(|&x| x as f64).collect();
    softmax2(&v)
}

/// Correctly rounded (RNE, gradual underflow, overflow to Inf) f64 -> `fmt`, the same
/// function as [`Format::from_f64`] without big integers (the 53-bit significand fits a
/// u64). Tests check the two agree.
pub fn round_f64(fmt: &Format, x: f64) -> u32 {
    if x.is_nan() {
        return fmt.qnan_bits();
    }
    let sign = if x.is_sign_negative() { fmt.sign_bit() } else { 0 };
    if x.is_infinite() {
        return sign | fmt.inf_bits();
    }
    let b = x.to_bits();
    let be = ((b >> 52) & 0x7FF) as i64;
    let frac = b & ((1u64 << 52) - 1);
    let (v, scale) = if be == 0 {
        (frac, -1074i64)
    } else {
        (frac | (1 << 52), be - 1075)
    };
    if v == 0 {
        return sign;
    }
    let m = fmt.man_bits as i64;
    let emin = fmt.emin() as i64;
    let e = scale + (64 - v.leading_zeros() as i64) - 1;
    if e > fmt.emax() as i64 {
        return sign | fmt.inf_bits();
    }
    if e < emin - m - 1 {
        return sign;
    }
    let q = e.max(emin) - m;
    let sh = scale - q;
    let i: u64 = if sh >= 0 {
        v << sh
    } else {
        let s = (-sh) as u32;
        if s >= 64 {
            0 // v < 2^53 <= half a quantum
        } else {
            let kept = v >> s;
            let rem = v & ((1u64 << s) - 1);
            let half = 1u64 << (s - 1);
            if rem > half || (rem == half && kept & 1 == 1) {
                kept + 1
            } else {
                kept
            }
        }
    };
    let mag = if e >= emin {
        (((e + fmt.bias() as i64 - 1) as u64) << m) + i
    } else {
        i
    };
    if mag >= fmt.inf_bits() as u64 {
        sign | fmt.inf_bits()
    } else {
        sign | mag as u32
    }
}
