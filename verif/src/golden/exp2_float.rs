//! Golden EXP2 of a float: bit pattern of 2^x for an FP16, BF16 or FP32 x, correctly
//! rounded (RNE, subnormals, overflow to +Inf) to FP16 — the reference for the
//! `exp2_fp16` / `exp2_bf16` / `exp2_fp32` baselines — or to any format of [`fp`].
//! NaN gives the canonical quiet NaN, +Inf gives +Inf, -Inf gives +0.
//!
//! # Method (integer arithmetic, no floating point)
//!
//! Three ranges are settled by a bound, with m = the output's mantissa bits:
//! - x >= emax + 1: 2^x >= 2^(emax+1), beyond the overflow threshold: +Inf.
//! - x <= emin - m - 1: 2^x <= 2^(emin-m-1), half the smallest subnormal: +0 (at equality
//!   a tie, which goes to the even 0).
//! - 0 < |x| < 2^-(m+3): for x > 0, 2^x - 1 < x ln2 e^(x ln2) < x < 2^-(m+1), half the
//!   ulp above 1; for x < 0, 1 - 2^x < |x| ln2 < 2^-(m+2), half the ulp below 1. So 1.0.
//!
//! Every other finite x is split x = n + f, n = floor(x), and f is an exact multiple of
//! 2^-64 (x's ulp is at least 2^-(m+3) * 2^-23). 2^f is the product of 2^(v_i 2^-8(i+1))
//! over the eight bytes v_i of f. Each byte factor is enclosed in 126-bit fixed point by
//! integer square roots (c_j = 2^(2^-j) from c_0 = 2, floor roots for the lower bound,
//! ceiling roots for the upper, as in [`super::exp2`]); products take floor for the lower
//! bound and ceiling for the upper. So lo <= 2^f * 2^126 <= hi, with hi - lo a few
//! units. Scaling by 2^n is exact and rounding is monotone: when lo and hi round to the
//! same bit pattern, so does 2^x — proven, not estimated. For integer x both bounds are
//! exact; otherwise 2^x is irrational (the argument of [`super::exp2`]: 2^(p/2^s), p odd,
//! s >= 1, is never rational), so it is no rounding boundary, and an enclosure tight
//! enough separates it from the nearest one. The 126-bit one is 2^-120 wide, far
//! tighter than the hardest FP32 input needs (2^-28 ulp of FP16); should the bounds
//! ever disagree, a 512-bit enclosure decides, and if even that failed the model panics.

use std::sync::OnceLock;

use num_bigint::BigUint;
use num_traits::One;

use super::fp::Format;

/// Fraction bits of the fast enclosure.
const Q: u32 = 126;
/// Working bits of the enclosures the tables are built from (and of the fallback).
const P_TABLE: usize = 192;
const P_FALLBACK: usize = 512;
const M64: u128 = u64::MAX as u128;

/// Enclosures [lo, hi] * 2^-p of c_j = 2^(2^-j), j = 0..=64.
fn root_chain(p: usize) -> Vec<(BigUint, BigUint)> {
    super::exp2::root_chain_at(p, 64)
}

/// lo * c and hi * c, rounded outward, at p fraction bits.
fn mul_enclosure(acc: &mut (BigUint, BigUint), c: &(BigUint, BigUint), p: usize) {
    acc.0 = (&acc.0 * &c.0) >> p;
    let prod = &acc.1 * &c.1;
    let exact = (&prod >> p) << p == prod;
    acc.1 = (prod >> p) + if exact { 0u32 } else { 1 };
}

/// 2^(v * 2^-8(i+1)) enclosed at Q bits, for byte i (0 = the most significant) of f.
type ByteTables = [[(u128, u128); 256]; 8];

fn byte_tables() -> &'static ByteTables {
    static T: OnceLock<Box<ByteTables>> = OnceLock::new();
    T.get_or_init(|| {
        let chain = root_chain(P_TABLE);
        let mut t = Box::new([[(0u128, 0u128); 256]; 8]);
        let drop = P_TABLE - Q as usize;
        for (i, row) in t.iter_mut().enumerate() {
            for (v, entry) in row.iter_mut().enumerate() {
                let mut acc = (BigUint::one() << P_TABLE, BigUint::one() << P_TABLE);
                for bit in 0..8 {
                    if v >> bit & 1 == 1 {
                        // Bit `bit` of byte i has weight 2^-(8(i+1) - bit).
                        mul_enclosure(&mut acc, &chain[8 * (i + 1) - bit], P_TABLE);
                    }
                }
                let lo = &acc.0 >> drop;
                let hi_exact = (&acc.1 >> drop) << drop == acc.1;
                let hi = (&acc.1 >> drop) + if hi_exact { 0u32 } else { 1 };
                *entry = (u128::try_from(lo).unwrap(), u128::try_from(hi).unwrap());
            }
        }
        t
    })
}

/// (floor, ceil) of a * b / 2^Q, for a, b < 2^127.
fn mul_q(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0, b1, b0) = (a >> 64, a & M64, b >> 64, b & M64);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & M64) + (p10 & M64);
    let lo = (p00 & M64) | ((mid & M64) << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    let floor = (hi << (128 - Q)) | (lo >> Q);
    let exact = lo & ((1 << Q) - 1) == 0;
    (floor, floor + if exact { 0 } else { 1 })
}

/// Enclosure [lo, hi] * 2^-126 of 2^(f / 2^64).
pub fn frac_enclosure(f: u64) -> (u128, u128) {
    let t = byte_tables();
    let (mut lo, mut hi) = (1u128 << Q, 1u128 << Q);
    for (i, row) in t.iter().enumerate() {
        let v = (f >> (56 - 8 * i)) as u8;
        if v != 0 {
            lo = mul_q(lo, row[v as usize].0).0;
            hi = mul_q(hi, row[v as usize].1).1;
        }
    }
    (lo, hi)
}

/// The same at 512 bits, straight from the root chain (the fallback).
fn frac_enclosure_wide(f: u64) -> (BigUint, BigUint) {
    static CHAIN: OnceLock<Vec<(BigUint, BigUint)>> = OnceLock::new();
    let chain = CHAIN.get_or_init(|| root_chain(P_FALLBACK));
    let mut acc = (BigUint::one() << P_FALLBACK, BigUint::one() << P_FALLBACK);
    for bit in 0..64 {
        if f >> bit & 1 == 1 {
            mul_enclosure(&mut acc, &chain[64 - bit], P_FALLBACK);
        }
    }
    acc
}

/// How the value of an input is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The result, settled by class or by a bound.
    Settled(u32),
    /// x = n + f / 2^64, 0 <= f < 2^64.
    Fixed { n: i64, f: u64 },
}

/// Classifies x (bits of `in_fmt`) for rounding to `out`, splitting the rest into n + f.
pub fn split(bits: u32, in_fmt: &Format, out: &Format) -> Split {
    let neg = bits & in_fmt.sign_bit() != 0;
    let e = ((bits & in_fmt.exp_mask()) >> in_fmt.man_bits) as i64;
    let m = (bits & in_fmt.man_mask()) as u64;
    if e == (1 << in_fmt.exp_bits) - 1 {
        return Split::Settled(if m != 0 {
            out.qnan_bits()
        } else if neg {
            0
        } else {
            out.inf_bits()
        });
    }
    let one = (out.bias() as u32) << out.man_bits;
    if e == 0 && m == 0 {
        return Split::Settled(one);
    }
    // |x| = mant * 2^exp exactly.
    let (mant, exp) = if e == 0 {
        (m, in_fmt.emin() as i64 - in_fmt.man_bits as i64)
    } else {
        (m | 1 << in_fmt.man_bits, e - in_fmt.bias() as i64 - in_fmt.man_bits as i64)
    };
    // floor(log2 |x|)
    let lg = exp + 63 - mant.leading_zeros() as i64;
    let om = out.man_bits as i64;
    if lg < -(om + 3) {
        return Split::Settled(one);
    }
    // |x| >= 2^16 is beyond both thresholds of every format here.
    if lg >= 16 {
        return Split::Settled(if neg { 0 } else { out.inf_bits() });
    }
    assert!(exp >= -64, "x's ulp 2^{exp} below 2^-64");
    let (ip, rem) = if exp >= 0 { (mant << exp, 0) } else { (mant >> -exp, mant & ((1 << -exp) - 1)) };
    let f = if exp >= 0 { 0 } else { rem << (64 + exp) };
    let (n, f) = if !neg {
        (ip as i64, f)
    } else if f == 0 {
        (-(ip as i64), 0)
    } else {
        (-(ip as i64) - 1, f.wrapping_neg())
    };
    // x >= emax + 1 overflows; x <= emin - m - 1 underflows.
    let under = out.emin() as i64 - om - 1;
    if n > out.emax() as i64 || n < under || (n == under && f == 0) {
        return Split::Settled(if n > 0 { out.inf_bits() } else { 0 });
    }
    Split::Fixed { n, f }
}

/// Rounds both ends of the enclosure of 2^x: (rounded lo, rounded hi). Equal for every
/// input (see the module docs); exposed so tests can check the proof obligation.
pub fn exp2_float_bounds(bits: u32, in_fmt: &Format, out: &Format) -> (u32, u32) {
    match split(bits, in_fmt, out) {
        Split::Settled(r) => (r, r),
        Split::Fixed { n, f } => {
            let (lo, hi) = frac_enclosure(f);
            let scale = n - Q as i64;
            (out.round_dyadic(false, &BigUint::from(lo), scale), out.round_dyadic(false, &BigUint::from(hi), scale))
        }
    }
}

/// The fallback's bounds (512-bit enclosure), for the tests.
pub fn exp2_float_bounds_wide(bits: u32, in_fmt: &Format, out: &Format) -> (u32, u32) {
    match split(bits, in_fmt, out) {
        Split::Settled(r) => (r, r),
        Split::Fixed { n, f } => {
            let (lo, hi) = frac_enclosure_wide(f);
            let scale = n - P_FALLBACK as i64;
            (out.round_dyadic(false, &lo, scale), out.round_dyadic(false, &hi, scale))
        }
    }
}

/// Golden 2^x: x is the bit pattern `bits` of `in_fmt`, the result a bit pattern of
/// `out`, correctly rounded (RNE, subnormals, overflow to +Inf).
pub fn exp2_float(bits: u32, in_fmt: &Format, out: &Format) -> u32 {
    let (lo, hi) = exp2_float_bounds(bits, in_fmt, out);
    if lo == hi {
        return lo;
    }
    let (lo, hi) = exp2_float_bounds_wide(bits, in_fmt, out);
    assert_eq!(lo, hi, "enclosure of 2^x straddles a rounding boundary: {}", in_fmt.describe(bits));
    lo
}

/// Distance from 2^x to the nearest rounding boundary of `out` (midpoint between two
/// neighbours, the overflow threshold included), in units of the output's quantum at
/// 2^x: from the lower end of the enclosure, so good to about 2^-100. None for inputs
/// settled without evaluation and for integer x (exact results). For finding the hard
/// cases; not part of the reference.
pub fn boundary_distance(bits: u32, in_fmt: &Format, out: &Format) -> Option<f64> {
    let Split::Fixed { n, f } = split(bits, in_fmt, out) else { return None };
    if f == 0 {
        return None;
    }
    let (lo, _) = frac_enclosure(f);
    // Fraction bits of 2^f kept: m for normal results, fewer for subnormal ones.
    let kept = (out.man_bits as i64).min(n - out.emin() as i64 + out.man_bits as i64);
    let q = Q as i64 - kept; // quantum 2^q in units of 2^-126
    assert!((1..128).contains(&q));
    let r = lo % (1u128 << q);
    let d = r.abs_diff(1u128 << (q - 1));
    Some(d as f64 / 2f64.powi(q as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden::exp2::exp2_hif8;
    use crate::golden::fp::{BF16, FORMATS, FP16, FP32};
    use crate::golden::hif8;
    use rand::{Rng, SeedableRng};

    fn e(x: f32) -> u32 {
        exp2_float(x.to_bits(), &FP32, &FP16)
    }

    #[test]
    fn byte_tables_enclose_known_values() {
        let t = byte_tables();
        // 2^(128/256) = sqrt(2) and 2^(1/256) * ... : check sqrt(2)^2 is enclosed around 2.
        let (lo, hi) = t[0][128];
        assert!(lo <= hi && hi - lo <= 2);
        assert!(mul_q(lo, lo).0 <= 2 << Q && mul_q(hi, hi).1 >= 2 << Q);
        // Eight byte factors at their largest still multiply to just under 2.
        let (lo, hi) = frac_enclosure(u64::MAX);
        assert!(hi < 2 << Q && lo > (2 << Q) - (1u128 << (Q - 60)));
        assert_eq!(frac_enclosure(0), (1 << Q, 1 << Q));
    }

    #[test]
    fn specials_and_exact_values() {
        assert_eq!(e(f32::NAN), 0x7E00);
        assert_eq!(exp2_float(0xFFC0_0001, &FP32, &FP16), 0x7E00);
        assert_eq!(exp2_float(0x7C01, &FP16, &FP16), 0x7E00);
        assert_eq!(exp2_float(0x7F81, &BF16, &FP16), 0x7E00);
        assert_eq!(e(f32::INFINITY), 0x7C00);
        assert_eq!(e(f32::NEG_INFINITY), 0x0000);
        assert_eq!(e(0.0), 0x3C00);
        assert_eq!(e(-0.0), 0x3C00);
        assert_eq!(e(1.0), 0x4000);
        assert_eq!(e(-1.0), 0x3800);
        assert_eq!(e(15.0), 0x7800);
        assert_eq!(e(16.0), 0x7C00);
        assert_eq!(e(-14.0), 0x0400);
        assert_eq!(e(-24.0), 0x0001);
        assert_eq!(e(-25.0), 0x0000, "2^-25 is the tie between 0 and 2^-24: even");
        assert_eq!(e(-24.999), 0x0001);
        assert_eq!(e(-26.0), 0x0000);
        assert_eq!(e(0.5), 0x3DA8); // sqrt(2) = 1.41421 -> 1.4140625
        assert_eq!(e(f32::MIN_POSITIVE), 0x3C00);
        assert_eq!(e(-1e-30), 0x3C00);
        assert_eq!(e(1e30), 0x7C00);
        assert_eq!(e(-1e30), 0x0000);
        // The overflow threshold 65520 = 2^15.99964773...
        assert_eq!(e(15.999_647), 0x7BFF);
        assert_eq!(e(15.999_648), 0x7C00);
        // Next to 1: the boundaries are 1 + 2^-11 (x = 0.00070426...) and 1 - 2^-12
        // (x = -0.00035226...).
        assert_eq!(e(0.000_704), 0x3C00);
        assert_eq!(e(0.000_705), 0x3C01);
        assert_eq!(e(-0.000_352), 0x3C00);
        assert_eq!(e(-0.000_353), 0x3BFF);
        for fmt in FORMATS {
            assert_eq!(exp2_float(0, &fmt, &FP32), 0x3F80_0000);
            assert_eq!(exp2_float(fmt.from_f64(-149.0), &fmt, &FP32), 0x0000_0001);
            assert_eq!(exp2_float(fmt.from_f64(-150.0), &fmt, &FP32), 0);
        }
    }

    /// Where the f64 exp2 is decisive (its value, +-2^-50 relative, rounds one way),
    /// the golden must agree; random inputs of every format, biased to the live range.
    #[test]
    fn agrees_with_f64_where_f64_is_decisive() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut decided = 0;
        for i in 0..300_000 {
            let in_fmt = FORMATS[i % 3];
            let out = FORMATS[(i / 3) % 3];
            let x = rng.gen_range(-160.0f64..130.0) * if rng.gen_bool(0.5) { 1.0 } else { 2f64.powi(-rng.gen_range(0..30)) };
            let bits = in_fmt.from_f64(x);
            let xv = in_fmt.decode(bits);
            let y = xv.exp2();
            let r = out.from_f64(y);
            if out.from_f64(y * (1.0 + 2f64.powi(-50))) == r && out.from_f64(y * (1.0 - 2f64.powi(-50))) == r {
                assert_eq!(exp2_float(bits, &in_fmt, &out), r, "{} -> {}", in_fmt.describe(bits), out.name);
                decided += 1;
            }
        }
        assert!(decided > 290_000);
    }

    /// Every finite HiF8 value x + shift that a float format holds exactly: the two golden
    /// EXP2 models, written apart, agree, in every output format.
    #[test]
    fn agrees_with_the_hif8_golden() {
        let mut compared = 0;
        for code in 0..=255u8 {
            let x = hif8::decode(code);
            if !x.is_finite() {
                continue;
            }
            for shift in -128..=127i32 {
                let v = x + shift as f64;
                for in_fmt in FORMATS {
                    let bits = in_fmt.from_f64(v);
                    if in_fmt.decode(bits) != v {
                        continue;
                    }
                    for out in FORMATS {
                        let want = exp2_hif8(code, shift as i8, &out);
                        assert_eq!(exp2_float(bits, &in_fmt, &out), want, "x = {} + {shift} as {} -> {}", hif8::describe(code), in_fmt.name, out.name);
                        compared += 1;
                    }
                }
            }
        }
        // Every code at shift 0 in all three input formats, and many more.
        assert!(compared > 254 * 9);
    }

    /// 2^x is increasing: over all FP16 and BF16 inputs in value order, the results
    /// never decrease.
    #[test]
    fn monotone_over_16_bit_inputs() {
        for in_fmt in [FP16, BF16] {
            let mut xs: Vec<u32> = (0..=0xFFFFu32).filter(|&b| !in_fmt.decode(b).is_nan()).collect();
            xs.sort_by(|a, b| in_fmt.decode(*a).partial_cmp(&in_fmt.decode(*b)).unwrap());
            let mut prev = 0;
            for b in xs {
                let y = exp2_float(b, &in_fmt, &FP16);
                assert!(FP16.decode(y) >= FP16.decode(prev), "{} -> {}", in_fmt.describe(b), FP16.describe(y));
                prev = y;
            }
        }
    }

    #[test]
    fn wide_fallback_agrees() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        for _ in 0..2_000 {
            let bits: u32 = rng.gen_range(0x3900_0000..0x4200_0000) | if rng.gen_bool(0.5) { 0x8000_0000 } else { 0 };
            let (lo, hi) = exp2_float_bounds_wide(bits, &FP32, &FP16);
            assert_eq!(lo, hi);
            assert_eq!(lo, exp2_float(bits, &FP32, &FP16), "{}", FP32.describe(bits));
        }
    }

    /// The hardest 16-bit inputs to round (the generator sizes its datapaths from them).
    #[test]
    fn hardest_16_bit_inputs() {
        for (fmt, want, log2) in [(FP16, 0x11C5, -16.14), (BF16, 0xBBF3, -12.58)] {
            let (d, x) = (0..=0xFFFFu32)
                .filter_map(|x| boundary_distance(x, &fmt, &FP16).map(|d| (d, x)))
                .min_by(|a, b| a.partial_cmp(b).unwrap())
                .unwrap();
            assert_eq!(x, want, "{}", fmt.name);
            assert!((d.log2() - log2).abs() < 0.01, "{}: 2^{}", fmt.name, d.log2());
        }
    }

    #[test]
    fn boundary_distance_of_known_cases() {
        // x = 0.5: 2^0.5 * 1024 = 1448.154..., 0.346 from the midpoint 1448.5.
        let d = boundary_distance(0.5f32.to_bits(), &FP32, &FP16).unwrap();
        assert!((d - 0.3455).abs() < 1e-3, "{d}");
        assert_eq!(boundary_distance(3.0f32.to_bits(), &FP32, &FP16), None);
        assert_eq!(boundary_distance(1e-9f32.to_bits(), &FP32, &FP16), None);
    }
}
