//! Golden EXP2: bit pattern of 2^(x + shift), x a HiF8 value, correctly rounded (RNE) to
//! FP16, BF16 or FP32 — the reference for the `hif8_exp2` module of interfaces.md.
//!
//! # Method (exact integer arithmetic, no floating point)
//!
//! Every finite HiF8 value is a dyadic rational x = n / 2^22 (the finest step is the
//! denormal 2^-22). With N = n + shift·2^22, 2^(x+shift) = 2^F · 2^(k/2^22) where
//! F = floor(N / 2^22) and k = N mod 2^22 = n mod 2^22 (the shift never touches k).
//!
//! 2^(k/2^22) is the product of c_j = 2^(2^-j) over the set bits j of k. Each c_j is
//! enclosed in P-bit fixed point by repeated integer square roots starting from c_0 = 2,
//! floor roots for the lower bound and ceiling roots for the upper; products take floor
//! for the lower bound and ceiling for the upper. This gives integers lo ≤ hi with
//! lo·2^-P ≤ 2^(k/2^22) ≤ hi·2^-P. Scaling by 2^F is exact, and both bounds are rounded
//! with the same RNE routine. Rounding is monotone, so when both bounds round to the same
//! bit pattern the true value does too: the result is proven, not estimated. The code
//! asserts the agreement for every entry.
//!
//! # Why the bounds always agree (no exact ties)
//!
//! For integer x + shift (k = 0) lo = hi = 2^P exactly and the value is a power of two,
//! rounded exactly (including the genuine tie 2^(emin_sub - 1), which goes to even, 0).
//! Otherwise k/2^22 reduces to p/2^s with p odd and s ≥ 1. If 2^(p/2^s) were a rational
//! a/b, then a^(2^s) = 2^p · b^(2^s); comparing the powers of two on both sides gives
//! 2^s · v2(a) = p + 2^s · v2(b), so 2^s divides p — impossible for odd p. So the value is
//! irrational, never equal to a rounding midpoint (those are dyadic rationals), and a
//! tight enough enclosure separates it from the nearest midpoint. With P = 256 the
//! enclosure is about 2^-250 wide, far tighter than any distance that occurs here.

use std::sync::OnceLock;

use num_bigint::BigUint;
use num_traits::One;

use super::fp::{Format, BF16, FP16, FP32};
use super::hif8;

/// Fraction bits of the fixed-point enclosures.
pub const ENCLOSURE_BITS: usize = 256;
const P: usize = ENCLOSURE_BITS;
/// HiF8 values are multiples of 2^-FRAC.
const FRAC: u32 = 22;

/// Enclosures of 2^(2^-j) scaled by 2^P, for j = 0..=FRAC (index j).
fn root_chain() -> &'static [(BigUint, BigUint)] {
    static CHAIN: OnceLock<Vec<(BigUint, BigUint)>> = OnceLock::new();
    CHAIN.get_or_init(|| root_chain_at(P, FRAC as usize))
}

/// Enclosures [lo, hi] * 2^-p of 2^(2^-j), j = 0..=n, by repeated square roots
/// rounded outward (also the float-input golden's, at its own precision).
pub(crate) fn root_chain_at(p: usize, n: usize) -> Vec<(BigUint, BigUint)> {
    let two = BigUint::from(2u32) << p;
    let mut v = vec![(two.clone(), two)];
    for j in 1..=n {
        let (lo, hi) = &v[j - 1];
        let lo = (lo << p).sqrt();
        let hi = ceil_sqrt(&(hi << p));
        v.push((lo, hi));
    }
    v
}

fn ceil_sqrt(n: &BigUint) -> BigUint {
    let s = n.sqrt();
    if &s * &s == *n {
        s
    } else {
        s + 1u32
    }
}

/// HiF8 value as n / 2^22, or None for NaN / ±Inf.
fn hif8_fixed(code: u8) -> Option<i64> {
    let x = hif8::decode(code);
    if !x.is_finite() {
        return None;
    }
    let n = x * (1u64 << FRAC) as f64;
    assert_eq!(n.fract(), 0.0, "HiF8 value {x} is not a multiple of 2^-22");
    Some(n as i64)
}

/// Enclosure [lo, hi] · 2^-ENCLOSURE_BITS of 2^(k / 2^22), 0 ≤ k < 2^22.
pub fn frac_enclosure(k: u32) -> (BigUint, BigUint) {
    let chain = root_chain();
    let mut lo = BigUint::one() << P;
    let mut hi = lo.clone();
    let mask = (BigUint::one() << P) - 1u32;
    for bit in 0..FRAC {
        if k >> bit & 1 == 1 {
            // Bit `bit` of k has weight 2^(bit - 22) = 2^-j.
            let (clo, chi) = &chain[(FRAC - bit) as usize];
            lo = (&lo * clo) >> P;
            let prod = &hi * chi;
            let up = (&prod & &mask) != BigUint::from(0u32);
            hi = (prod >> P) + if up { 1u32 } else { 0 };
        }
    }
    (lo, hi)
}

/// The value 2^(x+shift) for NaN / ±Inf inputs, or None for finite x.
fn special(code: u8, fmt: &Format) -> Option<u32> {
    let x = hif8::decode(code);
    if x.is_nan() {
        Some(fmt.qnan_bits())
    } else if x == f64::INFINITY {
        Some(fmt.inf_bits())
    } else if x == f64::NEG_INFINITY {
        Some(0)
    } else {
        None
    }
}

/// Round both ends of the enclosure of 2^(x+shift): (rounded lo, rounded hi). Equal for
/// every input (see module docs); exposed so tests can check the proof obligation.
pub fn exp2_bounds(code: u8, shift: i8, fmt: &Format) -> (u32, u32) {
    if let Some(s) = special(code, fmt) {
        return (s, s);
    }
    let n = hif8_fixed(code).unwrap();
    let k = (n & ((1 << FRAC) - 1)) as u32;
    bounds_with(&frac_enclosure(k), n, shift, fmt)
}

fn bounds_with(enc: &(BigUint, BigUint), n: i64, shift: i8, fmt: &Format) -> (u32, u32) {
    let f = (n >> FRAC) + shift as i64;
    let scale = f - P as i64;
    (fmt.round_dyadic(false, &enc.0, scale), fmt.round_dyadic(false, &enc.1, scale))
}

/// 2^(decode(code) + shift) computed from scratch (no table).
pub fn exp2_hif8_uncached(code: u8, shift: i8, fmt: &Format) -> u32 {
    let (lo, hi) = exp2_bounds(code, shift, fmt);
    assert_eq!(lo, hi, "enclosure of 2^(x+shift) straddles a rounding boundary: code {code:#04x} shift {shift}");
    lo
}

pub type Exp2Table = [[u32; 256]; 256];

fn build_table(fmt: &Format) -> Box<Exp2Table> {
    let mut t: Box<Exp2Table> =
        vec![[0u32; 256]; 256].into_boxed_slice().try_into().expect("256 rows");
    for code in 0..=255u8 {
        let row = &mut t[code as usize];
        match special(code, fmt) {
            Some(s) => row.fill(s),
            None => {
                let n = hif8_fixed(code).unwrap();
                let enc = frac_enclosure((n & ((1 << FRAC) - 1)) as u32);
                for s in 0..=255u8 {
                    let (lo, hi) = bounds_with(&enc, n, s as i8, fmt);
                    assert_eq!(lo, hi, "enclosure straddles a rounding boundary: code {code:#04x} shift {}", s as i8);
                    row[s as usize] = lo;
                }
            }
        }
    }
    t
}

/// Full table for one of FP16 / BF16 / FP32, indexed `[code][shift as u8]`; built on
/// first use (about 65k proven entries per format).
pub fn exp2_table(fmt: &Format) -> &'static Exp2Table {
    static T16: OnceLock<Box<Exp2Table>> = OnceLock::new();
    static TB16: OnceLock<Box<Exp2Table>> = OnceLock::new();
    static T32: OnceLock<Box<Exp2Table>> = OnceLock::new();
    let cell = if *fmt == FP16 {
        &T16
    } else if *fmt == BF16 {
        &TB16
    } else if *fmt == FP32 {
        &T32
    } else {
        panic!("no EXP2 table for format {fmt:?}; use exp2_hif8_uncached")
    };
    cell.get_or_init(|| build_table(fmt))
}

/// Golden 2^(decode(code) + shift), correctly rounded (RNE, subnormals, overflow to +Inf);
/// NaN gives the canonical quiet NaN, +Inf gives +Inf, -Inf gives +0.
pub fn exp2_hif8(code: u8, shift: i8, fmt: &Format) -> u32 {
    if [FP16, BF16, FP32].contains(fmt) {
        exp2_table(fmt)[code as usize][shift as u8 as usize]
    } else {
        exp2_hif8_uncached(code, shift, fmt)
    }
}

/// Plain f64 2^x, for accuracy tools only: it is not correctly rounded and is not a
/// golden reference.
pub fn exp2_f64(x: f64) -> f64 {
    x.exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_encloses_roots() {
        // c_j^(2^j) must bracket 2 (checked for small j where the powers stay cheap).
        let two = BigUint::from(2u32);
        for j in 1..=4usize {
            let (lo, hi) = &root_chain()[j];
            assert!(lo < hi);
            let p = 1u32 << j;
            assert!(lo.pow(p) <= &two << (P * p as usize));
            assert!(hi.pow(p) >= &two << (P * p as usize));
        }
    }
}
