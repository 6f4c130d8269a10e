//! IEEE-754 binary formats (FP16, BF16, FP32) described as data, so that one decoder, one
//! printer and one rounding routine serve all three and cannot drift apart.

use num_bigint::BigUint;
use num_traits::{One, Zero};

/// An IEEE-754 style binary format: sign, `exp_bits` biased exponent, `man_bits` fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    pub name: &'static str,
    pub exp_bits: u32,
    pub man_bits: u32,
}

pub const FP16: Format = Format { name: "FP16", exp_bits: 5, man_bits: 10 };
pub const BF16: Format = Format { name: "BF16", exp_bits: 8, man_bits: 7 };
pub const FP32: Format = Format { name: "FP32", exp_bits: 8, man_bits: 23 };

/// The formats the golden models are tabulated for.
pub const FORMATS: [Format; 3] = [FP16, BF16, FP32];

impl Format {
    /// The model's format of the one a configuration names (by name only: the
    /// model keeps its own definition of every format).
    pub fn of_config(f: &ipconfig::FloatFormat) -> Format {
        FORMATS.iter().copied().find(|g| g.name.eq_ignore_ascii_case(f.name)).unwrap_or_else(|| panic!("no model of format {}", f.name))
    }
}

impl Format {
    pub const fn width(&self) -> u32 {
        1 + self.exp_bits + self.man_bits
    }

    pub const fn bias(&self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }

    /// Exponent of the smallest normal number.
    pub const fn emin(&self) -> i32 {
        1 - self.bias()
    }

    /// Exponent of the largest finite number.
    pub const fn emax(&self) -> i32 {
        self.bias()
    }

    pub const fn sign_bit(&self) -> u32 {
        1 << (self.exp_bits + self.man_bits)
    }

    pub const fn exp_mask(&self) -> u32 {
        ((1 << self.exp_bits) - 1) << self.man_bits
    }

    pub const fn man_mask(&self) -> u32 {
        (1 << self.man_bits) - 1
    }

    pub const fn inf_bits(&self) -> u32 {
        self.exp_mask()
    }

    /// The canonical quiet NaN (positive, only the top fraction bit set): FP16 0x7E00,
    /// BF16 0x7FC0, FP32 0x7FC00000 — what interfaces.md asks the hardware to emit.
    pub const fn qnan_bits(&self) -> u32 {
        self.exp_mask() | (1 << (self.man_bits - 1))
    }

    pub fn is_nan(&self, bits: u32) -> bool {
        bits & self.exp_mask() == self.exp_mask() && bits & self.man_mask() != 0
    }

    /// Exact value of a bit pattern (every FP16/BF16/FP32 value is exact in f64).
    pub fn decode(&self, bits: u32) -> f64 {
        let neg = bits & self.sign_bit() != 0;
        let e = (bits & self.exp_mask()) >> self.man_bits;
        let m = bits & self.man_mask();
        let mag = if e == (1 << self.exp_bits) - 1 {
            if m == 0 {
                f64::INFINITY
            } else {
                return f64::NAN;
            }
        } else if e == 0 {
            m as f64 * pow2(self.emin() - self.man_bits as i32)
        } else {
            ((1u64 << self.man_bits) + m as u64) as f64
                * pow2(e as i32 - self.bias() - self.man_bits as i32)
        };
        if neg {
            -mag
        } else {
            mag
        }
    }

    /// Field view for mismatch messages, e.g. `0x3C00 (S=0 E=01111 M=0000000000 = 1.0)`.
    pub fn describe(&self, bits: u32) -> String {
        let digits = self.width().div_ceil(4) as usize;
        let e = (bits & self.exp_mask()) >> self.man_bits;
        let m = bits & self.man_mask();
        format!(
            "0x{:0dw$X} (S={} E={:0ew$b} M={:0mw$b} = {:?})",
            bits,
            (bits & self.sign_bit() != 0) as u32,
            e,
            m,
            self.decode(bits),
            dw = digits,
            ew = self.exp_bits as usize,
            mw = self.man_bits as usize,
        )
    }

    /// Round (-1)^neg * v * 2^scale to this format, round to nearest, ties to even,
    /// with gradual underflow and overflow to infinity.
    ///
    /// Takes an exact big integer so the golden EXP2 can round rigorous enclosures
    /// without any intermediate floating-point rounding.
    pub fn round_dyadic(&self, neg: bool, v: &BigUint, scale: i64) -> u32 {
        let sign = if neg { self.sign_bit() } else { 0 };
        if v.is_zero() {
            return sign;
        }
        let m = self.man_bits as i64;
        let emin = self.emin() as i64;
        let e = scale + v.bits() as i64 - 1;
        if e > self.emax() as i64 {
            return sign | self.inf_bits();
        }
        // Below half the smallest subnormal: rounds to zero whatever the fraction. The
        // early exit also keeps the shifts below small for extreme exponents.
        if e < emin - m - 1 {
            return sign;
        }
        // Quantum (weight of the last kept bit); subnormals share emin's quantum.
        let q = e.max(emin) - m;
        let sh = scale - q;
        let i: u64 = if sh >= 0 {
            u64::try_from(v << (sh as usize)).expect("significand fits")
        } else {
            let s = (-sh) as usize;
            let kept = v >> s;
            let rem = v - (&kept << s);
            let half = BigUint::one() << (s - 1);
            let mut k = u64::try_from(kept).expect("significand fits");
            if rem > half || (rem == half && k & 1 == 1) {
                k += 1;
            }
            k
        };
        // For normals `i` is in [2^m, 2^(m+1)]; adding it to (biased exponent - 1) lets a
        // rounding carry bump the exponent for free. Subnormals (biased exponent 0) use
        // `i` directly, and i = 2^m lands exactly on the smallest normal.
        let mag = if e >= emin {
            (((e + self.bias() as i64 - 1) as u64) << m) + i
        } else {
            i
        };
        if mag >= self.inf_bits() as u64 {
            sign | self.inf_bits()
        } else {
            sign | mag as u32
        }
    }

    /// Correctly rounded (RNE) conversion of an f64; NaN gives the canonical quiet NaN.
    pub fn from_f64(&self, x: f64) -> u32 {
        if x.is_nan() {
            return self.qnan_bits();
        }
        let neg = x.is_sign_negative();
        if x.is_infinite() {
            return if neg { self.sign_bit() } else { 0 } | self.inf_bits();
        }
        let b = x.to_bits();
        let be = ((b >> 52) & 0x7FF) as i64;
        let frac = b & ((1u64 << 52) - 1);
        let (v, scale) = if be == 0 { (frac, -1074) } else { (frac | (1 << 52), be - 1075) };
        self.round_dyadic(neg, &BigUint::from(v), scale)
    }
}

/// Exact 2^e for the exponent range of these formats (f64 covers it without rounding).
pub(crate) fn pow2(e: i32) -> f64 {
    assert!((-1074..=1023).contains(&e), "2^{e} not exact in f64");
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}
