//! HiF8 golden model: bit-level decode, the TA (round half away from zero) encoder, and an
//! independent nearest-value oracle, all from `shared/spec/hif8.md`.
//!
//! Two encoders on purpose: [`encode_f32`] follows the bit-level recipe of the spec (the
//! same shape of algorithm hardware uses), [`encode_nearest`] follows the *definition*
//! (nearest grid value, ties away from zero) with no bit manipulation at all. The tests
//! sweep them against each other, so a misunderstanding in one shows up as a mismatch.

use std::fmt;
use std::sync::OnceLock;

use super::fp::{pow2, BF16, FP16};

pub const NAN: u8 = 0x80;
pub const POS_INF: u8 = 0x6F;
pub const NEG_INF: u8 = 0xEF;
/// ±32768, the largest finite magnitude and the saturation value.
pub const POS_MAX: u8 = 0x6E;
pub const NEG_MAX: u8 = 0xEE;
pub const MAX_FINITE: f64 = 32768.0;
/// |x| at or above this overflows (the midpoint between 2^15 and the Inf slot).
pub const OVERFLOW_THRESHOLD: f64 = 40960.0;
/// Value the Inf slot (E = 15, M = 1) would hold if it were finite: 1.5 × 2^15.
pub const INF_GRID_POINT: f64 = 49152.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Zero,
    Denormal,
    Normal,
    NaN,
    Inf,
}

/// The fields of one code.
///
/// - `Normal`: value = ±2^exp × (1 + mant / 2^mant_bits).
/// - `Denormal`: value = ±2^exp; `mant` holds the raw 3-bit field (it encodes the
///   exponent, exp = mant − 23), `mant_bits` = 3.
/// - `Inf`: the E = 15, M = 1 slot (exp = 15, mant = 1, mant_bits = 1).
/// - `Zero` / `NaN`: exp = 0, mant = 0, mant_bits = 3 (the 0000 prefix with M = 000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    pub code: u8,
    pub sign: bool,
    pub class: Class,
    /// Prefix code ("dot") as written in the spec: "11", "10", "01", "001", "0001", "0000".
    pub dot: &'static str,
    pub exp: i32,
    pub mant: u32,
    pub mant_bits: u32,
}

/// Splits a code by its prefix code. The prefix decides how many exponent bits (D) and
/// mantissa bits follow; 7 = len(dot) + D + mantissa bits in every row of the spec table.
pub fn fields(code: u8) -> Fields {
    let sign = code & 0x80 != 0;
    let b = code & 0x7F;
    // (dot, D, Em, M, mant_bits)
    let (dot, d, em, m, mb) = match b >> 5 {
        0b11 => ("11", 4, (b >> 1) & 0xF, b & 0x1, 1),
        0b10 => ("10", 3, (b >> 2) & 0x7, b & 0x3, 2),
        0b01 => ("01", 2, (b >> 3) & 0x3, b & 0x7, 3),
        _ if b >> 4 == 1 => ("001", 1, (b >> 3) & 0x1, b & 0x7, 3),
        _ if b >> 3 == 1 => ("0001", 0, 0, b & 0x7, 3),
        _ => ("0000", 0, 0, b & 0x7, 3),
    };
    let m = m as u32;
    if dot == "0000" {
        let (class, exp) = match (m, sign) {
            (0, false) => (Class::Zero, 0),
            (0, true) => (Class::NaN, 0),
            _ => (Class::Denormal, m as i32 - 23),
        };
        return Fields { code, sign, class, dot, exp, mant: m, mant_bits: 3 };
    }
    // Em is sign-magnitude with a hidden leading one on the magnitude:
    // |E| = 2^(D-1) + (the D-1 bits after the sign bit).
    let exp = if d == 0 {
        0
    } else {
        let neg = (em >> (d - 1)) & 1 == 1;
        let mag = (1i32 << (d - 1)) + (em & ((1 << (d - 1)) - 1)) as i32;
        if neg {
            -mag
        } else {
            mag
        }
    };
    let class = if exp == 15 && m == 1 { Class::Inf } else { Class::Normal };
    Fields { code, sign, class, dot, exp, mant: m, mant_bits: mb }
}

impl Fields {
    pub fn value(&self) -> f64 {
        let mag = match self.class {
            Class::Zero => 0.0,
            Class::NaN => return f64::NAN,
            Class::Inf => f64::INFINITY,
            Class::Denormal => pow2(self.exp),
            Class::Normal => {
                pow2(self.exp) * (1.0 + self.mant as f64 / (1u32 << self.mant_bits) as f64)
            }
        };
        if self.sign {
            -mag
        } else {
            mag
        }
    }
}

/// `0x18 (S=0 dot=001 E=-1 M=000 = 0.5)`; denormals print their raw M field and `E` is
/// the resulting exponent (M − 23).
impl fmt::Display for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "0x{:02X} (S={} dot={} E={} M={:0w$b} = {:?})",
            self.code,
            self.sign as u8,
            self.dot,
            self.exp,
            self.mant,
            self.value(),
            w = self.mant_bits as usize
        )
    }
}

/// Human-readable rendering of a code for mismatch messages.
pub fn describe(code: u8) -> String {
    fields(code).to_string()
}

/// Exact value of a code: NaN for 0x80, ±inf for 0x6F / 0xEF.
pub fn decode(code: u8) -> f64 {
    fields(code).value()
}

/// Exact: every HiF8 value is representable in FP32.
pub fn decode_f32(code: u8) -> f32 {
    decode(code) as f32
}

/// Mantissa bits kept by a normal HiF8 number of exponent `e` (|e| ≤ 15). Tapered
/// precision: the longer the exponent field, the fewer bits remain for the mantissa.
pub fn mant_bits_for_exp(e: i32) -> u32 {
    match e.unsigned_abs() {
        0..=3 => 3,
        4..=7 => 2,
        8..=15 => 1,
        _ => panic!("exponent {e} outside the normal range"),
    }
}

/// Packs a normal number (|e| ≤ 15, m < 2^mant_bits_for_exp(e)) into its code, sign clear.
fn pack_normal(e: i32, m: u32) -> u8 {
    let neg = (e < 0) as u8;
    let a = e.unsigned_abs() as u8;
    let m = m as u8;
    match a {
        0 => 0x08 | m,
        1 => 0x10 | neg << 3 | m,
        2..=3 => 0x20 | neg << 4 | (a - 2) << 3 | m,
        4..=7 => 0x40 | neg << 4 | (a - 4) << 2 | m,
        8..=15 => 0x60 | neg << 4 | (a - 8) << 1 | m,
        _ => unreachable!(),
    }
}

fn overflow_code(sign: u8, sat: bool) -> u8 {
    sign | if sat { POS_MAX } else { POS_INF }
}

/// FP32 -> HiF8, TA rounding, bit-level.
///
/// Within one binade [2^e, 2^(e+1)) the HiF8 grid is uniform and both ends are grid
/// points, so rounding to nearest only needs the bits of the FP32 fraction: keep the top
/// `mant_bits_for_exp(e)` bits and add the first discarded bit. The first discarded bit
/// is 1 exactly when the remainder is at least half a step, which is "nearest, ties away
/// from zero" on the magnitude — no sticky bit needed. A carry out of the kept bits
/// bumps the exponent (mantissa 0, so the new binade's narrower mantissa is no problem);
/// E = 15 with mantissa 1 is the Inf slot, which is how 40960 = 1.25 × 2^15 overflows.
pub fn encode_f32(x: f32, sat: bool) -> u8 {
    let bits = x.to_bits();
    let sign = ((bits >> 31) as u8) << 7;
    let be = (bits >> 23) & 0xFF;
    let frac = bits & 0x7F_FFFF;
    if be == 0xFF {
        return if frac != 0 { NAN } else { overflow_code(sign, sat) };
    }
    // ±0 and FP32 subnormals (< 2^-126) are far below 2^-23: all give the one zero code.
    if be == 0 {
        return 0x00;
    }
    let e = be as i32 - 127;
    match e {
        _ if e < -23 => 0x00,
        // [2^-23, 2^-22): the grid neighbours are 0 and 2^-22 with the midpoint 2^-23 at
        // the bottom of the binade, so everything here (tie included) goes away from 0.
        -23 => sign | 0x01,
        // Denormal band: only powers of two, i.e. zero mantissa bits kept; round up when
        // the first fraction bit says x >= 1.5 × 2^e. A carry out of -16 reaches 2^-15,
        // the smallest normal.
        -22..=-16 => {
            let e = e + (frac >> 22) as i32;
            if e == -15 {
                sign | pack_normal(-15, 0)
            } else {
                sign | (e + 23) as u8
            }
        }
        -15..=15 => {
            let mb = mant_bits_for_exp(e);
            let mut m = (frac >> (23 - mb)) + ((frac >> (22 - mb)) & 1);
            let mut e = e;
            if m == 1 << mb {
                m = 0;
                e += 1;
            }
            if e > 15 || (e == 15 && m == 1) {
                overflow_code(sign, sat)
            } else {
                sign | pack_normal(e, m)
            }
        }
        _ => overflow_code(sign, sat),
    }
}

/// FP16 -> HiF8. FP16 (subnormals included) is exact in FP32, so converting first and
/// rounding once is the same single rounding as rounding the FP16 value directly.
pub fn encode_f16(bits: u16, sat: bool) -> u8 {
    encode_f32(FP16.decode(bits as u32) as f32, sat)
}

/// BF16 -> HiF8 (BF16 is the top half of an FP32, so again a single rounding).
pub fn encode_bf16(bits: u16, sat: bool) -> u8 {
    encode_f32(BF16.decode(bits as u32) as f32, sat)
}

/// The 255 non-NaN codes with their values, ascending, the Inf codes standing at the
/// virtual grid points ±49152 (= ±1.5 × 2^15, the value of the slot they occupy).
pub fn grid() -> &'static [(f64, u8)] {
    static GRID: OnceLock<Vec<(f64, u8)>> = OnceLock::new();
    GRID.get_or_init(|| {
        let mut g: Vec<(f64, u8)> = (0..=255u8)
            .filter(|&c| c != NAN)
            .map(|c| {
                let f = fields(c);
                let v = match f.class {
                    Class::Inf if f.sign => -INF_GRID_POINT,
                    Class::Inf => INF_GRID_POINT,
                    _ => f.value(),
                };
                (v, c)
            })
            .collect();
        g.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        assert_eq!(g.len(), 255);
        assert!(g.windows(2).all(|w| w[0].0 < w[1].0), "HiF8 values must be distinct");
        g
    })
}

/// All 253 finite codes in ascending order of value.
pub fn finite_codes_sorted() -> Vec<u8> {
    grid().iter().map(|&(_, c)| c).filter(|&c| c != POS_INF && c != NEG_INF).collect()
}

/// Oracle: HiF8 nearest to `x`, ties away from zero, by binary search over [`grid`].
///
/// Why this is TA rounding: hif8.md defines TA as "round to the nearest HiF8 value; on an
/// exact tie, away from zero", with overflow "as if a grid point sat at 49152". Its
/// underflow and denormal rules are not extra rules, just that definition spelled out:
/// 2^-23 is the midpoint of 0 and 2^-22, and 1.5 × 2^E the midpoint of 2^E and 2^(E+1).
/// Overflow likewise: 40960 is the midpoint of 32768 and the virtual point 49152, and
/// anything beyond 49152 is nearer to it than to any finite value. So this function is
/// the definition itself, sharing nothing with the bit-level encoder except [`decode`].
///
/// The midpoint of two adjacent grid values is a short dyadic number, exact in f64, so
/// the comparison with `x` is exact.
pub fn encode_nearest(x: f64, sat: bool) -> u8 {
    if x.is_nan() {
        return NAN;
    }
    let code = if x >= INF_GRID_POINT {
        POS_INF
    } else if x <= -INF_GRID_POINT {
        NEG_INF
    } else {
        let g = grid();
        // -0.0 == 0.0 here, so -0.0 finds the zero code.
        let i = g.partition_point(|&(v, _)| v < x);
        let (hv, hc) = g[i];
        if hv == x {
            hc
        } else {
            let (lv, lc) = g[i - 1];
            let mid = (lv + hv) / 2.0;
            // On an exact tie, away from zero: up for positive midpoints, down for negative.
            if x > mid || (x == mid && mid > 0.0) {
                hc
            } else {
                lc
            }
        }
    };
    match code {
        POS_INF if sat => POS_MAX,
        NEG_INF if sat => NEG_MAX,
        c => c,
    }
}
