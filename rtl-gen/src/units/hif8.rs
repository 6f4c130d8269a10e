//! The generator's own reading of HiF8 codes, used to fill tables. It is derived
//! from the format table in `formats`; the verification golden model in `verif`
//! is written separately from the spec.

use crate::formats::{Hif8Dot, HIF8_DENORMAL_MAN_BITS, HIF8_DENORMAL_OFFSET, HIF8_DOTS, HIF8_NAN, HIF8_POS_INF};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hif8 {
    Finite(f64),
    NaN,
    PosInf,
    NegInf,
}

/// Sign, exponent and mantissa of a finite non-zero normal code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormalFields {
    pub negative: bool,
    pub exp: i32,
    pub man: u32,
    pub dot: Hif8Dot,
}

/// The dot code row of a code's low seven bits, or None for the denormal prefix.
pub fn dot_of(code: u8) -> Option<Hif8Dot> {
    let mag = code & 0x7F;
    HIF8_DOTS.iter().copied().find(|d| (mag >> (7 - d.prefix_len)) == d.prefix)
}

pub fn normal_fields(code: u8) -> Option<NormalFields> {
    let dot = dot_of(code)?;
    let rest = (code & 0x7F) as u32 & ((1 << (7 - dot.prefix_len)) - 1);
    let man = rest & ((1 << dot.man_bits) - 1);
    let em = rest >> dot.man_bits;
    let exp = if dot.exp_bits == 0 {
        0
    } else {
        let neg = em >> (dot.exp_bits - 1) & 1 == 1;
        let mag = (1 << (dot.exp_bits - 1)) + (em & ((1 << (dot.exp_bits - 1)) - 1)) as i32;
        if neg { -mag } else { mag }
    };
    Some(NormalFields { negative: code & 0x80 != 0, exp, man, dot })
}

pub fn decode(code: u8) -> Hif8 {
    match code {
        0x00 => return Hif8::Finite(0.0),
        HIF8_NAN => return Hif8::NaN,
        HIF8_POS_INF => return Hif8::PosInf,
        c if c == HIF8_POS_INF | 0x80 => return Hif8::NegInf,
        _ => {}
    }
    let sign = if code & 0x80 != 0 { -1.0 } else { 1.0 };
    let v = match normal_fields(code) {
        Some(f) => (1.0 + f.man as f64 / (1u32 << f.dot.man_bits) as f64) * 2f64.powi(f.exp),
        None => {
            let m = (code & ((1 << HIF8_DENORMAL_MAN_BITS) - 1)) as i32;
            2f64.powi(m - HIF8_DENORMAL_OFFSET)
        }
    };
    Hif8::Finite(sign * v)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn landmarks() {
        assert_eq!(decode(0x08), Hif8::Finite(1.0));
        assert_eq!(decode(0x18), Hif8::Finite(0.5));
        assert_eq!(decode(0x10), Hif8::Finite(2.0));
        assert_eq!(decode(0x6E), Hif8::Finite(32768.0));
        assert_eq!(decode(0x7E), Hif8::Finite(2f64.powi(-15)));
        assert_eq!(decode(0x01), Hif8::Finite(2f64.powi(-22)));
        assert_eq!(decode(0x87), Hif8::Finite(-(2f64.powi(-16))));
    }
}
