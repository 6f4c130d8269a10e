//! Golden EXP2 and the IEEE helpers it rounds with.

use rand::{Rng, SeedableRng};
use num_bigint::BigUint;
use verif::golden::exp2::{frac_enclosure, ENCLOSURE_BITS, exp2_bounds, exp2_f64, exp2_hif8, exp2_hif8_uncached, exp2_table};
use verif::golden::fp::{Format, BF16, FORMATS, FP16, FP32};
use verif::golden::hif8;

fn e2(code: u8, shift: i8, fmt: &Format) -> u32 {
    exp2_hif8(code, shift, fmt)
}

#[test]
fn fp_decode_and_describe() {
    assert_eq!(FP16.describe(0x3C00), "0x3C00 (S=0 E=01111 M=0000000000 = 1.0)");
    assert_eq!(FP16.decode(0x0001), 2f64.powi(-24));
    assert_eq!(FP16.decode(0x7BFF), 65504.0);
    assert_eq!(FP16.decode(0x8400), -(2f64.powi(-14)));
    assert_eq!(FP16.decode(0x7C00), f64::INFINITY);
    assert!(FP16.decode(0x7E00).is_nan());
    assert_eq!(BF16.describe(0x3F80), "0x3F80 (S=0 E=01111111 M=0000000 = 1.0)");
    assert_eq!(FP32.describe(0xC0000000), "0xC0000000 (S=1 E=10000000 M=00000000000000000000000 = -2.0)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for _ in 0..100_000 {
        let b: u32 = rng.gen();
        let f = f32::from_bits(b);
        let d = FP32.decode(b);
        assert!(f.is_nan() && d.is_nan() || d == f as f64, "{}", FP32.describe(b));
        let h = b >> 16;
        let fb = f32::from_bits(h << 16);
        let d = BF16.decode(h);
        assert!(fb.is_nan() && d.is_nan() || d == fb as f64);
    }
}

/// `round_dyadic` (through `from_f64`) against the hardware f64 -> f32 conversion, which
/// is RNE with subnormals, and FP16 / BF16 round trips.
#[test]
fn fp_rounding() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    for _ in 0..200_000 {
        let x = f64::from_bits(rng.gen());
        let want = (x as f32).to_bits();
        let got = FP32.from_f64(x);
        if x.is_nan() {
            assert_eq!(got, 0x7FC0_0000);
        } else {
            assert_eq!(got, want, "{x:e}");
        }
        // Around the FP32 range, including subnormals and overflow.
        let y = rng.gen_range(1.0f64..2.0) * 2f64.powi(rng.gen_range(-152..=129));
        assert_eq!(FP32.from_f64(y), (y as f32).to_bits(), "{y:e}");
    }
    for fmt in FORMATS {
        let lim = if fmt == FP32 { 1u64 << 20 } else { 1 << 16 };
        for b in 0..lim as u32 {
            let b = if fmt == FP32 { b.wrapping_mul(4099) } else { b };
            let v = fmt.decode(b);
            if !v.is_nan() {
                assert_eq!(fmt.from_f64(v), b, "{}", fmt.describe(b));
            }
        }
    }
    // FP16 ties: halfway between 1.0 and the next value goes to even.
    assert_eq!(FP16.from_f64(1.0 + 2f64.powi(-11)), 0x3C00);
    assert_eq!(FP16.from_f64(1.0 + 3.0 * 2f64.powi(-11)), 0x3C02);
    assert_eq!(FP16.from_f64(65519.99), 0x7BFF);
    assert_eq!(FP16.from_f64(65520.0), 0x7C00);
    assert_eq!(FP16.from_f64(2f64.powi(-25)), 0x0000);
    assert_eq!(FP16.from_f64(2f64.powi(-25) * 1.0000001), 0x0001);
    assert_eq!(FP16.from_f64(-(2f64.powi(-14)) * (1.0 - 2f64.powi(-12))), 0x8400);
    assert_eq!(FP16.qnan_bits(), 0x7E00);
    assert_eq!(BF16.qnan_bits(), 0x7FC0);
    assert_eq!(FP32.qnan_bits(), 0x7FC0_0000);
}

#[test]
fn exp2_spot_checks() {
    assert_eq!(e2(0x08, 0, &FP16), 0x4000); // 2^1
    assert_eq!(e2(0x08, 0, &BF16), 0x4000);
    assert_eq!(e2(0x08, 0, &FP32), 0x4000_0000);
    assert_eq!(e2(0x18, 0, &FP16), 0x3DA8); // 2^0.5
    assert_eq!(e2(0x18, 0, &BF16), 0x3FB5);
    assert_eq!(e2(0x18, 0, &FP32), 0x3FB5_04F3);
    assert_eq!(e2(0x98, 0, &FP32), 0x3F35_04F3); // 2^-0.5
    // Bottom of FP16: 2^-24 is the smallest subnormal, 2^-25 the tie to even (0).
    assert_eq!(e2(0x00, -24, &FP16), 0x0001);
    assert_eq!(e2(0x00, -25, &FP16), 0x0000);
    assert_eq!(e2(0x00, -14, &FP16), 0x0400);
    assert_eq!(e2(0x00, -15, &FP16), 0x0200);
    // 2^(±2^-22 - 25): just above / below the midpoint.
    assert_eq!(e2(0x01, -25, &FP16), 0x0001);
    assert_eq!(e2(0x81, -25, &FP16), 0x0000);
    assert_eq!(e2(0x07, -25, &FP16), 0x0001);
    assert_eq!(e2(0x87, -25, &FP16), 0x0000);
    // 2^15 is finite, 2^16 overflows; 2^15.875 = 60097.5 rounds to 60096.
    assert_eq!(e2(0x08, 14, &FP16), 0x7800);
    assert_eq!(e2(0x10, 14, &FP16), 0x7C00);
    assert_eq!(e2(0x0F, 14, &FP16), FP16.from_f64(2f64.powf(15.875)));
    assert_eq!(e2(0x0F, 14, &FP16), 0x7B56);
    assert_eq!(e2(0x6E, 0, &FP32), 0x7F80_0000);
    assert_eq!(e2(0x6E, -128, &FP16), 0x7C00);
    assert_eq!(e2(0xEE, 127, &FP32), 0);
    // FP32 / BF16 bottom: 2^-149 smallest subnormal, 2^-150 tie to even.
    assert_eq!(e2(0x00, 0, &FP32), 0x3F80_0000);
    assert_eq!(e2(0xC1, -128, &FP32), 0x0000_0002); // x = -20: 2^-148
    assert_eq!(e2(0xC2, -125, &FP32), 0x0000_0001); // x = -24: 2^-149
    assert_eq!(e2(0xC2, -126, &FP32), 0x0000_0000); // 2^-150, tie to even
    assert_eq!(e2(0xC2, -109, &BF16), 0x0001); // 2^-133
    assert_eq!(e2(0xC2, -110, &BF16), 0x0000); // 2^-134, tie to even
    for fmt in FORMATS {
        for s in i8::MIN..=i8::MAX {
            assert_eq!(e2(0x80, s, &fmt), fmt.qnan_bits());
            assert_eq!(e2(0x6F, s, &fmt), fmt.inf_bits());
            assert_eq!(e2(0xEF, s, &fmt), 0);
            // x = 0: exactly 2^shift, rounded.
            assert_eq!(e2(0x00, s, &fmt), fmt.from_f64(2f64.powi(s as i32)), "{} shift {s}", fmt.name);
        }
    }
}

/// Every entry of all three tables: the two ends of the enclosure round alike (the proof
/// obligation of the golden model), and the cached table equals a fresh computation.
#[test]
fn enclosures_agree_everywhere() {
    for fmt in FORMATS {
        let t = exp2_table(&fmt);
        for code in 0..=255u8 {
            for s in i8::MIN..=i8::MAX {
                let (lo, hi) = exp2_bounds(code, s, &fmt);
                assert_eq!(lo, hi, "{} {} shift {s}", fmt.name, hif8::describe(code));
                assert_eq!(t[code as usize][s as u8 as usize], lo);
            }
        }
    }
    assert_eq!(exp2_hif8_uncached(0x18, 3, &FP16), exp2_hif8(0x18, 3, &FP16));
}

#[test]
fn monotone_in_x() {
    let mut codes: Vec<u8> = (0..=255u8).filter(|&c| c != 0x80).collect();
    codes.sort_by(|&a, &b| hif8::decode(a).partial_cmp(&hif8::decode(b)).unwrap());
    for fmt in FORMATS {
        for s in i8::MIN..=i8::MAX {
            // Results are non-negative, so bit patterns order like values.
            for w in codes.windows(2) {
                let (a, b) = (e2(w[0], s, &fmt), e2(w[1], s, &fmt));
                assert!(a <= b, "{} shift {s}: {} -> {} but {} -> {}", fmt.name,
                    hif8::describe(w[0]), fmt.describe(a), hif8::describe(w[1]), fmt.describe(b));
            }
        }
    }
}

/// Sanity against libm's f64 exp2 (not the definition): within 1 ulp everywhere.
#[test]
fn close_to_f64_exp2() {
    for fmt in FORMATS {
        let mut off = 0;
        for code in 0..=255u8 {
            let x = hif8::decode(code);
            if !x.is_finite() {
                continue;
            }
            for s in i8::MIN..=i8::MAX {
                let g = e2(code, s, &fmt);
                let r = fmt.from_f64(exp2_f64(x + s as f64));
                let d = (g as i64 - r as i64).abs();
                assert!(d <= 1, "{} {} shift {s}: golden {} f64 {}", fmt.name,
                    hif8::describe(code), fmt.describe(g), fmt.describe(r));
                off += (d != 0) as u32;
            }
        }
        eprintln!("{}: {off} entries differ from rounded f64 exp2 by 1 ulp", fmt.name);
    }
}

/// The enclosures are checked against an exact identity, not against floating point:
/// 2^(k/2^22) · 2^((2^22-k)/2^22) = 2, so the product of the two lower bounds must not
/// exceed 2 and the product of the upper bounds must not fall below it. This catches a
/// bound rounded the wrong way, which no comparison of final results could see.
#[test]
fn enclosures_bracket_exact_products() {
    let full = 1u32 << 22;
    let two = BigUint::from(2u32) << (2 * ENCLOSURE_BITS);
    let mut ks: Vec<u32> = (0..22).map(|b| 1 << b).collect();
    ks.extend([full - 1, 3, 0x15_5555, 0x2A_AAAA, 0x3F_FFFE]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    ks.extend((0..2000).map(|_| rng.gen_range(1..full)));
    for k in ks {
        let (lo_a, hi_a) = frac_enclosure(k);
        let (lo_b, hi_b) = frac_enclosure(full - k);
        assert!(lo_a < hi_a, "k = {k}: enclosure must be strict for non-integer exponents");
        assert!(&hi_a - &lo_a < BigUint::from(1u32) << 16, "k = {k}: enclosure too wide");
        assert!(&lo_a * &lo_b <= two, "k = {k}: lower bounds exceed 2");
        assert!(&hi_a * &hi_b >= two, "k = {k}: upper bounds below 2");
    }
    let (lo, hi) = frac_enclosure(0);
    assert_eq!((lo.clone(), hi), (lo.clone(), BigUint::from(1u32) << ENCLOSURE_BITS));
}
