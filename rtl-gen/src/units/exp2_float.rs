//! `exp2_fp16`, `exp2_bf16`, `exp2_fp32`: the baselines `hif8_exp2` is measured
//! against. y = FP16 of 2^x for an FP16, BF16 or FP32 x, correctly rounded
//! (nearest even, subnormals produced); NaN gives 0x7E00, +Inf +Inf, -Inf +0.
//!
//! # Architecture (table + polynomial + multiplier, Tang style)
//! 1. *Classify and convert.* Three ranges need no arithmetic:
//!    - x >= 16: 2^x >= 65536 is above 65520, the midpoint between the largest
//!      finite FP16 (65504) and 2^16, so +Inf;
//!    - x <= -32: 2^x is far below 2^-25, half the smallest subnormal, so +0;
//!    - |x| < 2^-12 (zeros and all subnormal inputs too): |2^x - 1| < 2^-12 ln2 (1 + 2^-12)
//!      < 2^-12, and the rounding boundaries next to 1.0 are 1 + 2^-11 and 1 - 2^-12,
//!      so 1.0.
//!
//!    Every other x has 2^-12 <= |x| < 32 and is a multiple of 2^-F, F = man_bits + 12,
//!    so x * 2^F is an exact two's-complement integer: the significand shifted by the
//!    exponent's distance from -12. Its top bits are n = floor(x), the rest f = x - n.
//! 2. *2^f.* The top `table_bits` bits a of f index a table of 2^a (rounded to L
//!    fraction bits); the rest b < 2^-k gives 2^b - 1 by a degree-d Taylor polynomial in
//!    Horner form, each step truncated to the precision it needs (b itself truncated
//!    for the inner steps); then y = T + T*E with one multiplier, T truncated to what
//!    the product needs.
//! 3. *Round.* 2^x = 2^n * y is rounded by the rounding stage of `hif8_exp2`
//!    (`exp2::round_logic`, with no shift): y truncated to 11 bits plus a sticky bit,
//!    shifted right for subnormal results, one RNE.
//!
//! # Why rounding y is rounding 2^x
//! 2^x for a non-integer dyadic x is irrational (see `verif/src/golden/exp2.rs`), so it
//! is never a rounding boundary; for integer x, f = 0 and y = 1 exactly (T[0] = 1,
//! E(0) = 0), and the exact value is rounded exactly (the tie 2^-25 -> 0 included).
//! Otherwise |y - 2^f| <= ε, a bound this module derives from the widths (table and
//! constant rounding, every truncation, the Taylor remainder). If no rounding boundary
//! lies within ε of y, y and 2^f round alike. Each input format's hardest case sets
//! the precision: over all its inputs, the smallest distance from 2^x to a boundary is
//! 2^-16.1 ulp (FP16), 2^-12.6 (BF16), 2^-28.2 (FP32), found by exhaustive search with
//! the golden model; L is the smallest working precision with ε at most a quarter of
//! it (MARGIN_BITS). The tests check the boundary distance for every FP16 and BF16
//! input and every FP32 input that reaches the datapath (this model, emulating the
//! Verilog bit for bit, is the design aid); the co-simulation against the independent
//! golden model is the proof for the hardware.

use crate::blocks::PipeReg;
use crate::emit::{emit, Module, Params};
use crate::exp2::{format_width, pack, round_logic, term_width, Class, Term, IPART_BITS};
use crate::formats::{FloatFormat, BF16, FP16, FP32};
use crate::ir::{bit, cat, lit, mux, select, Expr, Leaf, LeafBuilder};
use crate::leaf_block;
use rust_hdl::prelude::*;

/// The output format (the baselines match `hif8_exp2`'s default output).
pub const OUT: FloatFormat = FP16;
/// Inputs with |x| < 2^TINY_EXP give 1.0.
const TINY_EXP: i32 = -12;
/// x >= 2^OVF_EXP gives +Inf.
const OVF_EXP: i32 = 4;
/// x <= -2^FLUSH_EXP gives +0; -2^FLUSH_EXP < x <= -2^OVF_EXP goes through the
/// datapath and the rounding stage flushes it (its shift is clamped).
const FLUSH_EXP: i32 = 5;
/// Shift range of the conversion: exponents TINY_EXP ..= OVF_EXP.
const SHIFT_MAX: u32 = (OVF_EXP - TINY_EXP) as u32;
/// The error bound is at most 2^-MARGIN_BITS of the hardest case's distance.
pub const MARGIN_BITS: f64 = 2.0;

/// Per input format: the default datapath shape and the hardest input to round.
#[derive(Clone, Copy, Debug)]
pub struct InputProfile {
    pub format: FloatFormat,
    pub table_bits: u32,
    pub degree: u32,
    /// log2 of the smallest distance from 2^x to an FP16 rounding boundary, in
    /// output ulps, over every input x of the format (exhaustive search with the
    /// golden model; `verif/tests/cosim_exp2_float.rs` keeps the list of hard cases).
    pub hardest_log2_ulp: f64,
    pub hardest_input: u32,
}

/// Of the shapes meeting the margin, the smallest by Yosys' CMOS transistor estimate
/// (`shape_survey` lists them).
pub const PROFILES: [InputProfile; 3] = [
    InputProfile { format: FP16, table_bits: 8, degree: 3, hardest_log2_ulp: -16.14, hardest_input: 0x11c5 },
    InputProfile { format: BF16, table_bits: 8, degree: 2, hardest_log2_ulp: -12.58, hardest_input: 0xbbf3 },
    InputProfile { format: FP32, table_bits: 9, degree: 3, hardest_log2_ulp: -28.20, hardest_input: 0x3dd4_e04b },
];

pub fn profile(format: &FloatFormat) -> Option<&'static InputProfile> {
    PROFILES.iter().find(|p| p.format == *format)
}

/// The configuration is typed once in `ipconfig`; its default shapes
/// (`Exp2FloatConfig::default_for`) are the table_bits and degree of
/// [`PROFILES`] (checked by a test here).
pub use ipconfig::Exp2FloatConfig;

/// Fixed point with 126 fraction bits for the tables, the coefficients and the
/// error measurements of the tests (design aids; the reference is in `verif`).
pub mod q126 {
    pub const Q: u32 = 126;
    pub const ONE: u128 = 1 << Q;
    /// ln 2 * 2^128, rounded down.
    const LN2_Q128: u128 = 0xb172_17f7_d1cf_79ab_c9e3_b398_03f2_f6af;
    const M64: u128 = u64::MAX as u128;

    /// floor(a * b / 2^126) for a, b < 2^127.
    pub fn mul(a: u128, b: u128) -> u128 {
        let (a1, a0, b1, b0) = (a >> 64, a & M64, b >> 64, b & M64);
        let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
        let mid = (p00 >> 64) + (p01 & M64) + (p10 & M64);
        let lo = (p00 & M64) | ((mid & M64) << 64);
        let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        (hi << (128 - Q)) | (lo >> Q)
    }

    /// ln2^i / i! for i = 0..=n, each within 2^-120.
    pub fn taylor_coeffs(n: u32) -> Vec<u128> {
        let ln2 = LN2_Q128 >> 2;
        let mut c = vec![ONE];
        for i in 1..=n as u128 {
            c.push(mul(*c.last().unwrap(), ln2) / i);
        }
        c
    }

    /// 2^t for 0 <= t <= 1 (t in Q126), within 2^-118.
    pub fn exp2(t: u128) -> u128 {
        let u = mul(t, LN2_Q128 >> 2);
        let (mut term, mut sum, mut i) = (ONE, ONE, 1u128);
        while term != 0 {
            term = mul(term, u) / i;
            sum += term;
            i += 1;
        }
        sum
    }

    pub fn to_f64(v: u128) -> f64 {
        v as f64 / 2f64.powi(Q as i32)
    }
}

/// One Horner step: s = c + trunc(trunc(b) * s_prev).
#[derive(Clone, Debug)]
pub struct Step {
    /// b is truncated to a multiple of 2^-b_lsb before the product.
    pub b_lsb: u32,
    /// The constant added (0 for the last step, which gives E).
    pub c: u64,
    /// The result is a multiple of 2^-lsb, `width` bits wide.
    pub lsb: u32,
    pub width: u32,
    /// The product is shifted right by this before the add.
    pub shift: u32,
}

/// The 2^f datapath of one configuration, sized, with its error bound.
#[derive(Clone, Debug)]
pub struct Datapath {
    pub input: FloatFormat,
    pub table_bits: u32,
    pub degree: u32,
    /// F: fraction bits of x in fixed point.
    pub frac_bits: u32,
    /// L: fraction bits of the table and of y.
    pub work_bits: u32,
    /// 2^(a / 2^k) * 2^L, rounded.
    pub table: Vec<u64>,
    /// The highest coefficient, its lsb exponent and width.
    pub top: (u64, u32, u32),
    /// Horner steps from degree-1 down to the one giving E.
    pub steps: Vec<Step>,
    /// T is truncated to a multiple of 2^-t_lsb for the product T * E.
    pub t_lsb: u32,
    /// The product T * E is shifted right by this to align with y.
    pub q_shift: u32,
    /// Rigorous bound on |y - 2^f| (y as a value in [1, 2)).
    pub bound: f64,
    /// The part of `bound` that is the Taylor remainder.
    pub remainder: f64,
}

fn bits(v: u128) -> u32 {
    (128 - v.leading_zeros()).max(1)
}

/// What the front end makes of an input: a term set by its class or range, or the
/// fixed-point split x = n + f, f = frac / 2^F.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    Fixed { n: i32, frac: u64 },
    Set(Term),
}

const fn set(class: Class, ipart: i32, frac: u64, tail: bool) -> Term {
    Term { class, ipart, frac, tail }
}
const NAN_TERM: Term = set(Class::NaN, 0, 0, false);
const POS_INF_TERM: Term = set(Class::PosInf, 0, 0, false);
/// 2^-Inf: the rounding stage gives +0.
const ZERO_TERM: Term = set(Class::NegInf, 0, 0, false);
const ONE_TERM: Term = set(Class::Finite, 0, 0, false);
/// Tiny x > 0: just above 1.0 (rounds to 1.0).
const TINY_POS_TERM: Term = set(Class::Finite, 0, 0, true);
/// Tiny x < 0: just below 1.0, 2^-1 * 1.11..1 + tail (rounds up to 1.0).
const TINY_NEG_TERM: Term = set(Class::Finite, -1, (1 << (OUT.man_bits + 1)) - 1, true);

impl Datapath {
    pub fn new(cfg: &Exp2FloatConfig) -> anyhow::Result<Self> {
        cfg.validate()?;
        let p = profile(&cfg.in_format).ok_or_else(|| anyhow::anyhow!("exp2_float: no input format {}", cfg.in_format.name))?;
        let f = (cfg.in_format.man_bits as i32 - TINY_EXP) as u32;
        let target = 2f64.powf(p.hardest_log2_ulp - MARGIN_BITS - OUT.man_bits as f64);
        let first = (-target.log2()).floor() as u32;
        for l in first..first + 16 {
            let dp = Self::sized(cfg.in_format, f, cfg.table_bits, cfg.degree, l);
            if dp.remainder > target / 2.0 {
                anyhow::bail!(
                    "exp2_float: table_bits {} with degree {} leaves a remainder of 2^{:.1}; {} needs 2^{:.1}: raise --table-bits or --degree",
                    cfg.table_bits, cfg.degree, dp.remainder.log2(), cfg.in_format.name, target.log2()
                );
            }
            anyhow::ensure!(
                dp.top.0 != 0,
                "exp2_float: degree {} is more than table_bits {} needs (its coefficient vanishes at the working precision)",
                cfg.degree, cfg.table_bits
            );
            if dp.bound <= target {
                return Ok(dp);
            }
        }
        anyhow::bail!("exp2_float: no working precision meets 2^{:.1}", target.log2())
    }

    /// The datapath with L fraction bits and every width derived from L.
    fn sized(input: FloatFormat, f: u32, k: u32, d: u32, l: u32) -> Self {
        let c = q126::taylor_coeffs(d + 1);
        let qf = |v: u128| q126::to_f64(v);
        let p2 = |e: u32| 2f64.powi(-(e as i32));
        // Round a Q126 value to `lsb` fraction bits; the error includes Q126's own.
        let round_to = |v: u128, lsb: u32| -> (u64, f64) {
            let sh = q126::Q - lsb;
            let r = (v + (1 << (sh - 1))) >> sh;
            let err = (r << sh).abs_diff(v);
            (u64::try_from(r).expect("constant fits 64 bits"), qf(err) + 2f64.powi(-118))
        };
        // Result lsb of each step: E to L+1 bits (it is multiplied by T < 2); the
        // error of step i reaches E multiplied by b^i <= 2^-k*i, hence k*i fewer bits.
        let lsb_of = |i: u32| if i == 0 { l + 1 } else { (l + 3).saturating_sub(k * i).max(4) };
        let bmax = p2(k);

        let (ctop, etop) = round_to(c[d as usize], lsb_of(d));
        let top = (ctop, lsb_of(d), bits(ctop as u128));
        let (mut smax_int, mut prev_lsb, mut err) = (ctop as u128, lsb_of(d), etop);
        let mut steps = Vec::new();
        for i in (0..d).rev() {
            let lsb = lsb_of(i);
            let (ci, ec) = if i == 0 { (0, 0.0) } else { round_to(c[i as usize], lsb) };
            let smax = smax_int as f64 * p2(prev_lsb);
            // b to one bit beyond what keeps its truncation error under 2^-lsb / 2.
            let b_lsb = (lsb as i32 + 1 + smax.log2().ceil() as i32).clamp(k as i32 + 1, f as i32) as u32;
            let shift = b_lsb + prev_lsb - lsb;
            let bt_max = (1u128 << (b_lsb - k)) - 1;
            assert!(bits(bt_max) + bits(smax_int) <= 127, "product fits u128");
            smax_int = ci as u128 + ((bt_max * smax_int) >> shift);
            let b_err = if b_lsb < f { p2(b_lsb) * smax } else { 0.0 };
            err = ec + p2(lsb) + b_err + bmax * err;
            steps.push(Step { b_lsb, c: ci, lsb, width: bits(smax_int), shift });
            prev_lsb = lsb;
        }
        let e_max = smax_int as f64 * p2(l + 1);
        // Taylor remainder of 2^b - 1 after degree d, b <= 2^-k.
        let u = bmax * std::f64::consts::LN_2;
        let remainder = qf(c[d as usize + 1]) * bmax.powi(d as i32 + 1) / (1.0 - u / (d + 2) as f64) * 1.000_001;
        let e_err = err + remainder;

        let mut table = Vec::new();
        let mut t_err: f64 = 0.0;
        for a in 0..1u128 << k {
            let (t, e) = round_to(q126::exp2(a << (q126::Q - k)), l);
            table.push(t);
            t_err = t_err.max(e);
        }
        let t_lsb = (l + 1).saturating_sub(k).max(2).min(l);
        let q_shift = t_lsb + (l + 1) - l;
        // y - 2^f = (T - 2^a) + (Q - Tt*E) + (Tt - 2^a)*E + 2^a*(E - (2^b - 1)), 2^a < 2.
        let bound = (t_err + p2(l) + (p2(t_lsb) + t_err) * e_max + 2.0 * e_err) * 1.000_001;
        Datapath {
            input,
            table_bits: k,
            degree: d,
            frac_bits: f,
            work_bits: l,
            table,
            top,
            steps,
            t_lsb,
            q_shift,
            bound,
            remainder: 2.0 * remainder,
        }
    }

    /// The classifier and converter: what [`approx_leaf`] does before the table.
    pub fn front(&self, x: u32) -> Front {
        let fmt = self.input;
        let (mb, eb) = (fmt.man_bits, fmt.exp_bits);
        let neg = (x >> (eb + mb)) & 1 == 1;
        let e = ((x >> mb) & ((1 << eb) - 1)) as i32;
        let m = x & ((1 << mb) - 1);
        let u = e - fmt.bias();
        if e == fmt.exp_max_field() as i32 && m != 0 {
            Front::Set(NAN_TERM)
        } else if !neg && u >= OVF_EXP {
            Front::Set(POS_INF_TERM)
        } else if neg && u >= FLUSH_EXP {
            Front::Set(ZERO_TERM)
        } else if e == 0 && m == 0 {
            Front::Set(ONE_TERM)
        } else if u < TINY_EXP {
            Front::Set(if neg { TINY_NEG_TERM } else { TINY_POS_TERM })
        } else {
            let mag = (((1u64 << mb) | m as u64) << (u - TINY_EXP)) as i64;
            let xf = if neg { -mag } else { mag };
            Front::Fixed { n: (xf >> self.frac_bits) as i32, frac: (xf as u64) & ((1 << self.frac_bits) - 1) }
        }
    }

    /// y = 2^f as a multiple of 2^-L, bit for bit as the Verilog computes it.
    pub fn approx(&self, frac: u64) -> u128 {
        let (k, f) = (self.table_bits, self.frac_bits);
        let a = frac >> (f - k);
        let b = frac & ((1 << (f - k)) - 1);
        let t = self.table[a as usize] as u128;
        let mut s = self.top.0 as u128;
        for st in &self.steps {
            let bt = (b >> (f - st.b_lsb)) as u128;
            s = st.c as u128 + ((bt * s) >> st.shift);
        }
        let tt = t >> (self.work_bits - self.t_lsb);
        t + ((tt * s) >> self.q_shift)
    }

    /// The term handed to the rounding stage.
    pub fn term(&self, x: u32) -> Term {
        match self.front(x) {
            Front::Set(t) => t,
            Front::Fixed { n, frac } => {
                let y = self.approx(frac);
                let low = self.work_bits - (OUT.man_bits + 1);
                Term {
                    class: Class::Finite,
                    ipart: n,
                    frac: ((y >> low) & ((1 << (OUT.man_bits + 1)) - 1)) as u64,
                    tail: y & ((1 << low) - 1) != 0,
                }
            }
        }
    }

    /// For an input reaching the datapath with f != 0: the distance from y to the
    /// nearest rounding boundary of 2^n * y, in units of the error bound. Above 1,
    /// y and the true 2^f round alike. None for every other input (its result is
    /// exact or set by its range).
    pub fn boundary_distance(&self, x: u32) -> Option<f64> {
        let Front::Fixed { n, frac } = self.front(x) else { return None };
        if frac == 0 {
            return None;
        }
        let y = self.approx(frac);
        let l = self.work_bits as i32;
        // Fraction bits of y kept by the output: 10 for normal results, fewer below.
        let kept = (OUT.man_bits as i32).min(n + OUT.bias() - 1 + OUT.man_bits as i32);
        let q = (l - kept) as u32; // quantum 2^q in units of 2^-L
        let r = y % (1u128 << q);
        let dist = r.abs_diff(1u128 << (q - 1));
        Some(dist as f64 / (self.bound * 2f64.powi(l)))
    }
}

/// `src` shifted right by `sh`, as a `w`-bit expression; the width analysis
/// guarantees the bits above `w` are zero. `src` is a named signal.
fn shr_slice(src: &Expr, sh: u32, w: u32) -> Expr {
    let sw = src.width;
    assert!(sh < sw, "nothing left after the shift");
    if sw - sh >= w {
        src.bits(sh + w - 1, sh)
    } else {
        src.bits(sw - 1, sh).zext(w)
    }
}

/// Width of an unsigned value up to `v`.
const fn width_of(v: u32) -> u32 {
    32 - v.leading_zeros()
}

/// x -> term: classifier, fixed-point conversion, 2^f (ports `x`, `term`).
pub fn approx_leaf(dp: &Datapath) -> Leaf {
    let fmt = dp.input;
    let (mb, eb, bias) = (fmt.man_bits, fmt.exp_bits, fmt.bias());
    let (fb, k, l) = (dp.frac_bits, dp.table_bits, dp.work_bits);
    let tw = term_width(&OUT);
    let xw = mb + SHIFT_MAX + 2; // sign, 5 integer bits, F fraction bits
    let ew_of = |e: i32| lit(eb, (bias + e) as u64);
    let mut b = LeafBuilder::new("approx");
    let x = b.input("x", fmt.width());
    let term = b.output("term", tw);
    b.comment(format!("Fields of the {} input", fmt.name.to_uppercase()));
    let sgn = b.wire("sgn", x.msb());
    let ex = b.wire("ex", x.bits(eb + mb - 1, mb));
    let man = b.wire("man", x.bits(mb - 1, 0));
    let is_nan = b.wire("is_nan", ex.eq(lit(eb, fmt.exp_max_field() as u64)) & man.ne(lit(mb, 0)));
    let is_zero = b.wire("is_zero", ex.eq(lit(eb, 0)) & man.eq(lit(mb, 0)));
    b.comment(format!("|x| < 2^{TINY_EXP}, subnormals included: 2^x rounds to 1.0"));
    let tiny = b.wire("tiny", ex.ult(ew_of(TINY_EXP)));
    b.comment(format!(
        "x >= {} overflows (+Inf included); x <= -{} gives +0 (-Inf included)",
        1 << OVF_EXP,
        1 << FLUSH_EXP
    ));
    let ovf = b.wire("ovf", !&sgn & ex.uge(ew_of(OVF_EXP)));
    let unf = b.wire("unf", &sgn & ex.uge(ew_of(FLUSH_EXP)));
    b.comment(format!("Every multiple of 2^-{fb} below {} in magnitude, exactly: x * 2^{fb} in two's", 1 << FLUSH_EXP));
    b.comment(format!("complement, the significand shifted by the exponent's distance from {TINY_EXP} (0..{SHIFT_MAX})."));
    let shw = width_of(SHIFT_MAX);
    let sh = b.wire("sh", ex.bits(shw - 1, 0) - lit(shw, (bias + TINY_EXP) as u64 & ((1 << shw) - 1)));
    let mag = b.wire("mag", cat([lit(SHIFT_MAX, 0), bit(true), man.clone()]).shl(&sh));
    let mag1 = cat([bit(false), mag]);
    let xf = b.wire("xf", mux(&sgn, mag1.neg(), mag1));
    b.comment(format!("floor(x); f = x - n: the table index a, and the rest b < 2^-{k}"));
    let n = b.wire("n", xf.bits(xw - 1, fb));
    let a = b.wire("a", xf.bits(fb - 1, fb - k));
    let bb = b.wire("b", xf.bits(fb - k - 1, 0));
    let rows: Vec<(u64, u64)> = dp.table.iter().enumerate().map(|(a, &t)| (a as u64, t)).collect();
    b.comment(format!("T = 2^(a / 2^{k}) rounded to {l} fraction bits"));
    let t = b.table("t", &a, l + 1, &rows, 0);
    let d = dp.degree;
    b.comment(format!("E = 2^b - 1 by Taylor to degree {d} in Horner form; s_i holds c_i + b*s_(i+1), truncated"));
    b.comment("to what its share of the error budget allows, and b is truncated alike. The product");
    b.comment("bits below each truncation point (and the high bits, zero by the width analysis) are");
    b.comment("not read, hence:");
    b.comment("verilator lint_off UNUSEDSIGNAL");
    let mut s = b.wire(&format!("s{d}"), lit(dp.top.2, dp.top.0));
    for (j, st) in dp.steps.iter().enumerate() {
        let i = d as usize - 1 - j;
        let bi = b.wire(&format!("b{i}"), bb.bits(fb - k - 1, fb - st.b_lsb));
        let p = b.wire(&format!("p{i}"), bi.mul(&s));
        let prod = shr_slice(&p, st.shift, st.width);
        let sum = if st.c == 0 { prod } else { lit(st.width, st.c) + prod };
        s = b.wire(&format!("s{i}"), sum);
    }
    b.comment(format!("y = 2^f = T * (1 + E) = T + T*E; the product needs T only to 2^-{}", dp.t_lsb));
    let tt = b.wire("tt", t.bits(l, l - dp.t_lsb));
    let q = b.wire("q", tt.mul(&s));
    b.comment("verilator lint_on UNUSEDSIGNAL");
    b.comment(format!("1 <= y < 2: only its fraction is kept, and the sum never carries into bit {l}"));
    let y = b.wire("y", t.bits(l - 1, 0) + shr_slice(&q, dp.q_shift, l));
    let word = |t: &Term| lit(tw, pack(t, &OUT));
    let low = l - OUT.man_bits - 1;
    b.drive(
        &term,
        select(
            vec![
                (is_nan, word(&NAN_TERM)),
                (ovf, word(&POS_INF_TERM)),
                (unf, word(&ZERO_TERM)),
                (is_zero, word(&ONE_TERM)),
                (tiny, mux(&sgn, word(&TINY_NEG_TERM), word(&TINY_POS_TERM))),
            ],
            cat([lit(2, Class::Finite as u64), n.sext(IPART_BITS), y.bits(l - 1, low), y.bits(low - 1, 0).ne(lit(low, 0))]),
        ),
    );
    b.finish().expect("exp2_float approx leaf")
}

/// term -> y: `hif8_exp2`'s rounding with no shift (ports `term`, `y`).
pub fn round_leaf() -> Leaf {
    let mut b = LeafBuilder::new("round");
    let term = b.input("term", term_width(&OUT));
    let y = b.output("y", OUT.width());
    b.comment("No power-of-two rescale in this unit.");
    let shift = b.wire("shift", lit(8, 0));
    let v = round_logic(&mut b, &OUT, &term, &shift);
    b.drive(&y, v);
    b.finish().expect("exp2_float round leaf")
}

/// Width of the term and of the output, as the shells' port types.
const TW: usize = term_width(&OUT) as usize;
const OW: usize = format_width(&OUT) as usize;

leaf_block! {
    /// x -> term.
    pub struct Exp2FloatApprox<const N: usize> {
        pub x: In<Bits<N>>,
        pub term: Out<Bits<TW>>,
    }
}

leaf_block! {
    /// term -> y.
    pub struct Exp2FloatRound {
        pub term: In<Bits<TW>>,
        pub y: Out<Bits<OW>>,
    }
}

/// The unit: approx -> [register] -> round -> register.
#[derive(LogicBlock)]
pub struct Exp2Float<const N: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_x: Signal<In, Bits<N>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_y: Signal<Out, Bits<OW>>,
    approx: Exp2FloatApprox<N>,
    round: Exp2FloatRound,
    /// 1 when the register between approx and round is used.
    mid_reg: Constant<Bit>,
    term_q: PipeReg<TW>,
    y_q: PipeReg<OW>,
}

impl<const N: usize> Logic for Exp2Float<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.term_q.clk.next = self.clk.val();
        self.term_q.rst.next = self.rst.val();
        self.y_q.clk.next = self.clk.val();
        self.y_q.rst.next = self.rst.val();
        self.approx.x.next = self.in_x.val();
        self.term_q.d.next = self.approx.term.val();
        self.term_q.in_valid.next = self.in_valid.val();
        if self.mid_reg.val() {
            self.round.term.next = self.term_q.q.val();
            self.y_q.in_valid.next = self.term_q.out_valid.val();
        } else {
            self.round.term.next = self.approx.term.val();
            self.y_q.in_valid.next = self.in_valid.val();
        }
        self.y_q.d.next = self.round.y.val();
        self.out_y.next = self.y_q.q.val();
        self.out_valid.next = self.y_q.out_valid.val();
    }
}

impl<const N: usize> Exp2Float<N> {
    fn new(dp: &Datapath, stages: u32) -> anyhow::Result<Self> {
        Ok(Self {
            clk: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_x: Default::default(),
            out_valid: Default::default(),
            out_y: Default::default(),
            approx: Exp2FloatApprox::new(approx_leaf(dp)).map_err(anyhow::Error::msg)?,
            round: Exp2FloatRound::new(round_leaf()).map_err(anyhow::Error::msg)?,
            mid_reg: Constant::new(stages == 2),
            term_q: PipeReg::with_width(),
            y_q: PipeReg::with_width(),
        })
    }
}

pub fn generate(name: &str, cfg: &Exp2FloatConfig) -> anyhow::Result<Module> {
    let dp = Datapath::new(cfg)?;
    let params = Params::Exp2Float(*cfg);
    let desc = format!(
        "baseline for hif8_exp2: y = {} of 2^x, x {}; round to nearest even (table of 2^{} entries, degree-{} polynomial, {} working bits, error <= 2^{:.1})",
        OUT.name, cfg.in_format.name, dp.table_bits, dp.degree, dp.work_bits, dp.bound.log2()
    );
    crate::mono!(cfg.in_format.width(), |N| {
        emit(&mut Exp2Float::<N>::new(&dp, cfg.stages)?, name, params, cfg.stages, &desc)
    }, [16, 32])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dp(fmt: FloatFormat) -> Datapath {
        Datapath::new(&Exp2FloatConfig::default_for(fmt).unwrap()).unwrap()
    }

    /// y of input `x` (fraction `frac`) is within the datapath's bound of 2^f (Q126).
    fn assert_within_bound(d: &Datapath, x: u32, frac: u64) {
        let y = d.approx(frac);
        let exact = q126::exp2((frac as u128) << (q126::Q - d.frac_bits));
        let err = q126::to_f64((y << (q126::Q - d.work_bits)).abs_diff(exact));
        assert!(err <= d.bound, "{x:#x}: error {err:e} above the bound {:e}", d.bound);
    }

    /// The approx leaf's Rust evaluation is `Datapath::term` (the emulation
    /// the error analysis runs on), for every 16-bit input and FP32 samples.
    #[test]
    fn approx_leaf_is_the_emulation() {
        for fmt in [FP16, BF16, FP32] {
            let d = dp(fmt);
            let leaf = approx_leaf(&d);
            let mut x = 0x9e37_79b9u32;
            let inputs: Vec<u32> = if fmt.width() == 16 {
                (0..=0xffff).collect()
            } else {
                (0..50_000).map(|_| { x ^= x << 13; x ^= x >> 17; x ^= x << 5; x }).collect()
            };
            for x in inputs {
                let got = &leaf.eval(&[("x", x as u64)])["term"];
                assert_eq!(*got, pack(&d.term(x), &OUT).into(), "{} {x:#x}", fmt.name);
            }
        }
    }

    /// The round leaf is `exp2::round_term` with no shift.
    #[test]
    fn round_leaf_is_round_term() {
        let leaf = round_leaf();
        for t in [NAN_TERM, POS_INF_TERM, ZERO_TERM, ONE_TERM, TINY_POS_TERM, TINY_NEG_TERM, set(Class::Finite, -20, 0x2a5, true), set(Class::Finite, 15, 0x7ff, true)] {
            let got = &leaf.eval(&[("term", pack(&t, &OUT))])["y"];
            assert_eq!(*got, crate::exp2::round_term(&t, 0, &OUT).into(), "{t:?}");
        }
    }

    #[test]
    fn q126_arithmetic() {
        let two = q126::exp2(q126::ONE);
        assert!(two.abs_diff(2 * q126::ONE) < 1 << 8, "2^1 off by {}", two.abs_diff(2 * q126::ONE));
        let r = q126::exp2(q126::ONE / 2);
        assert!(q126::mul(r, r).abs_diff(2 * q126::ONE) < 1 << 10);
        assert_eq!(q126::to_f64(q126::taylor_coeffs(1)[1]), std::f64::consts::LN_2);
    }

    #[test]
    fn margins_of_the_defaults() {
        for p in PROFILES {
            let d = dp(p.format);
            let margin = p.hardest_log2_ulp - OUT.man_bits as f64 - d.bound.log2();
            assert!(margin >= MARGIN_BITS, "{}: margin {margin}", p.format.name);
            assert_eq!(d.table[0], 1 << d.work_bits, "T[0] must be exactly 1");
        }
    }

    #[test]
    fn default_shapes_are_the_profiles() {
        for p in PROFILES {
            let c = Exp2FloatConfig::default_for(p.format).unwrap();
            assert_eq!((c.in_format, c.out_format, c.table_bits, c.degree), (p.format, OUT, p.table_bits, p.degree));
        }
    }

    #[test]
    fn too_small_shapes_are_refused() {
        let cfg = Exp2FloatConfig { table_bits: 4, degree: 1, ..Exp2FloatConfig::default_for(FP32).unwrap() };
        assert!(Datapath::new(&cfg).is_err());
        assert!(generate("x", &Exp2FloatConfig { stages: 3, ..Exp2FloatConfig::default_for(FP16).unwrap() }).is_err());
        assert!(Exp2FloatConfig::default_for(FloatFormat { name: "fp8", exp_bits: 4, man_bits: 3 }).is_err());
    }

    #[test]
    fn landmarks() {
        let d = dp(FP32);
        let t = |x: f32| d.term(x.to_bits());
        assert_eq!(t(1.0), set(Class::Finite, 1, 0, false));
        assert_eq!(t(-3.0), set(Class::Finite, -3, 0, false));
        assert_eq!(t(0.5), set(Class::Finite, 0, 0b01101010000, true)); // 1.0110101000001..
        assert_eq!(t(-0.5), set(Class::Finite, -1, 0b01101010000, true));
        assert_eq!(t(0.0), ONE_TERM);
        assert_eq!(t(-0.0), ONE_TERM);
        assert_eq!(t(1e-4), TINY_POS_TERM);
        assert_eq!(t(-1e-4), TINY_NEG_TERM);
        assert_eq!(t(16.0), POS_INF_TERM);
        assert_eq!(t(f32::INFINITY), POS_INF_TERM);
        assert_eq!(t(-32.0), ZERO_TERM);
        assert_eq!(t(f32::NEG_INFINITY), ZERO_TERM);
        assert_eq!(t(f32::NAN), NAN_TERM);
        assert_eq!(t(-31.99), set(Class::Finite, -32, t(-31.99).frac, true));
    }

    /// For every input of a 16-bit format: y is within the bound of 2^f (measured
    /// against Q126), below 2, and farther than the bound from every rounding boundary.
    fn exhaustive_16(fmt: FloatFormat) -> f64 {
        let d = dp(fmt);
        let mut worst: f64 = f64::INFINITY;
        for x in 0..=0xffffu32 {
            if let Front::Fixed { frac, .. } = d.front(x) {
                assert!(d.approx(frac) < 2 << d.work_bits, "{x:#x}: y >= 2");
                assert_within_bound(&d, x, frac);
            }
            if let Some(dist) = d.boundary_distance(x) {
                assert!(dist > 1.0, "{} {x:#06x}: y within the error bound of a rounding boundary", fmt.name);
                worst = worst.min(dist);
            }
        }
        worst
    }

    /// The true 2^x is at least 2^MARGIN_BITS bounds from every boundary and y within
    /// one bound of it, so y at least 2^MARGIN_BITS - 1 bounds.
    fn margin_floor() -> f64 {
        2f64.powf(MARGIN_BITS) - 1.0
    }

    #[test]
    fn fp16_inputs_round_correctly() {
        let worst = exhaustive_16(FP16);
        eprintln!("fp16: closest approach {worst:.2} error bounds");
        assert!(worst >= margin_floor());
    }

    #[test]
    fn bf16_inputs_round_correctly() {
        let worst = exhaustive_16(BF16);
        eprintln!("bf16: closest approach {worst:.2} error bounds");
        assert!(worst >= margin_floor());
    }

    /// Every FP32 input that reaches the datapath (exponents -12..=4, both signs:
    /// 2^28.1 words, about 7 CPU seconds).
    #[test]
    fn fp32_inputs_round_correctly() {
        let d = dp(FP32);
        let lo = ((FP32.bias() + TINY_EXP) as u32) << 23;
        let hi = ((FP32.bias() + OVF_EXP + 1) as u32) << 23;
        let worst = std::thread::scope(|s| {
            let hs: Vec<_> = [0u32, 1 << 31]
                .into_iter()
                .map(|sign| {
                    let d = &d;
                    s.spawn(move || {
                        let mut worst = (f64::INFINITY, 0u32);
                        for m in lo..hi {
                            let x = sign | m;
                            if let Some(dist) = d.boundary_distance(x) {
                                assert!(dist > 1.0, "fp32 {x:#010x}: y within the error bound of a rounding boundary");
                                if dist < worst.0 {
                                    worst = (dist, x);
                                }
                            }
                        }
                        worst
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).fold((f64::INFINITY, 0), |a, b| if b.0 < a.0 { b } else { a })
        });
        eprintln!("fp32: closest approach {:.2} error bounds, at {:#010x}", worst.0, worst.1);
        assert!(worst.0 >= margin_floor());
    }

    #[test]
    fn fp32_error_bound_holds_on_samples() {
        let d = dp(FP32);
        let mut x = 0x1234_5678u32;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if let Front::Fixed { frac, .. } = d.front(x) {
                assert_within_bound(&d, x, frac);
            }
        }
    }
}

/// How PROFILES were chosen: every shape that meets the margin, with its working bits,
/// error bound, table size and multipliers (then each synthesised, `stat -tech cmos`).
/// `cargo test --release -p rtl-gen shape_survey -- --ignored --nocapture`.
#[cfg(test)]
mod survey {
    use super::*;

    #[test]
    #[ignore]
    fn shape_survey() {
        for fmt in [FP16, BF16, FP32] {
            for (k, d) in (3..=10).flat_map(|k| (1..=5).map(move |d| (k, d))) {
                let cfg = Exp2FloatConfig { in_format: fmt, out_format: OUT, stages: 2, table_bits: k, degree: d };
                let Ok(dp) = Datapath::new(&cfg) else { continue };
                let mut widths = dp.top.2;
                let mut muls = Vec::new();
                for st in &dp.steps {
                    muls.push((st.b_lsb - k, widths));
                    widths = st.width;
                }
                muls.push((dp.t_lsb + 1, widths));
                let pp: u32 = muls.iter().map(|(a, b)| a * b).sum();
                eprintln!(
                    "{} k={k} d={d}: L={} bound=2^{:.1} (remainder 2^{:.1}), table {}x{}, multipliers {muls:?} ({pp} partial-product bits)",
                    fmt.name,
                    dp.work_bits,
                    dp.bound.log2(),
                    dp.remainder.log2(),
                    1 << k,
                    dp.work_bits + 1
                );
            }
        }
    }
}
