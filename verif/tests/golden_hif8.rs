//! HiF8 golden model: spec vectors, and the bit-level TA encoder against the
//! nearest-value oracle.

use rand::{Rng, SeedableRng};
use verif::golden::fp::{BF16, FP16};
use verif::golden::hif8::{self, Class};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/spec/");

fn read_tsv(name: &str) -> Vec<Vec<String>> {
    let path = format!("{SPEC}{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(|s| s.trim().to_string()).collect())
        .collect()
}

fn hex(s: &str) -> u32 {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// Both encoders for both saturation modes; panics with a field view on mismatch.
fn check(x: f32) {
    for sat in [false, true] {
        let a = hif8::encode_f32(x, sat);
        let o = hif8::encode_nearest(x as f64, sat);
        assert_eq!(
            a,
            o,
            "x = {x:e} (0x{:08X}) sat={sat}: field {} vs nearest {}",
            x.to_bits(),
            hif8::describe(a),
            hif8::describe(o)
        );
    }
}

fn neighbourhood(x: f32, ulps: u32) {
    let b = x.to_bits();
    for d in 0..=ulps {
        check(f32::from_bits(b.wrapping_add(d)));
        check(f32::from_bits(b.wrapping_sub(d)));
    }
}

#[test]
fn decode_matches_spec_table() {
    let rows = read_tsv("hif8_decode.tsv");
    assert_eq!(rows.len(), 256);
    for r in rows {
        let code = hex(&r[0]) as u8;
        let want = f32::from_bits(hex(&r[1]));
        let got = hif8::decode_f32(code);
        if want.is_nan() {
            assert!(got.is_nan(), "{}", hif8::describe(code));
        } else {
            assert_eq!(got.to_bits(), want.to_bits(), "{}", hif8::describe(code));
        }
        let value: f64 = r[2].parse().unwrap();
        assert!(value.is_nan() && got.is_nan() || value == hif8::decode(code), "{}", r[2]);
        let class = match r[3].as_str() {
            "zero" => Class::Zero,
            "denormal" => Class::Denormal,
            "normal" => Class::Normal,
            "nan" => Class::NaN,
            "inf" => Class::Inf,
            k => panic!("unknown kind {k}"),
        };
        assert_eq!(hif8::fields(code).class, class, "{}", hif8::describe(code));
    }
}

#[test]
fn encode_matches_spec_table() {
    let rows = read_tsv("hif8_encode_fp32.tsv");
    assert_eq!(rows.len(), 1041);
    for r in rows {
        let x = f32::from_bits(hex(&r[0]));
        let want = hex(&r[1]) as u8;
        for (name, got) in [
            ("field", hif8::encode_f32(x, false)),
            ("nearest", hif8::encode_nearest(x as f64, false)),
        ] {
            assert_eq!(
                got,
                want,
                "{name}: {} -> {} want {}",
                r[0],
                hif8::describe(got),
                hif8::describe(want)
            );
        }
    }
}

#[test]
fn fields_and_formatting() {
    assert_eq!(hif8::describe(0x18), "0x18 (S=0 dot=001 E=-1 M=000 = 0.5)");
    assert_eq!(hif8::describe(0x08), "0x08 (S=0 dot=0001 E=0 M=000 = 1.0)");
    assert_eq!(hif8::describe(0x6F), "0x6F (S=0 dot=11 E=15 M=1 = inf)");
    assert_eq!(hif8::describe(0x01), "0x01 (S=0 dot=0000 E=-22 M=001 = 2.384185791015625e-7)");
    let f = hif8::fields(0xC5); // 1 10 001 01: E = +5, M = 01
    assert_eq!((f.sign, f.class, f.exp, f.mant, f.mant_bits), (true, Class::Normal, 5, 1, 2));
    assert_eq!(hif8::decode(0xC5), -32.0 * 1.25);
    // The spec's example: D=3, Em=101 -> E = -5 (code 0 10 101 00).
    assert_eq!(hif8::fields(0b0101_0100).exp, -5);
    assert!(hif8::decode(0x80).is_nan());
    assert_eq!(hif8::decode(0x6F), f64::INFINITY);
    assert_eq!(hif8::decode(0xEF), f64::NEG_INFINITY);
    assert_eq!(hif8::decode(0x6E), 32768.0);
    assert_eq!(hif8::decode(0x7E), 2f64.powi(-15));
    assert_eq!(hif8::decode(0x07), 2f64.powi(-16));
    assert_eq!(hif8::decode(0x01), 2f64.powi(-22));
}

#[test]
fn every_code_round_trips() {
    for c in 0..=255u8 {
        let v = hif8::decode(c);
        if v.is_nan() {
            continue;
        }
        assert_eq!(hif8::encode_f32(v as f32, false), c, "{}", hif8::describe(c));
        assert_eq!(hif8::encode_nearest(v, false), c, "{}", hif8::describe(c));
    }
    assert_eq!(hif8::finite_codes_sorted().len(), 253);
}

#[test]
fn specials() {
    for sat in [false, true] {
        assert_eq!(hif8::encode_f32(f32::NAN, sat), 0x80);
        assert_eq!(hif8::encode_f32(f32::from_bits(0xFF80_0001), sat), 0x80);
        assert_eq!(hif8::encode_f32(f32::from_bits(0x7F80_0001), sat), 0x80);
        assert_eq!(hif8::encode_f32(-0.0, sat), 0x00);
        assert_eq!(hif8::encode_f32(f32::from_bits(1), sat), 0x00);
        assert_eq!(hif8::encode_f32(-f32::from_bits(1), sat), 0x00);
    }
    assert_eq!(hif8::encode_f32(f32::INFINITY, false), 0x6F);
    assert_eq!(hif8::encode_f32(f32::NEG_INFINITY, false), 0xEF);
    assert_eq!(hif8::encode_f32(f32::INFINITY, true), 0x6E);
    assert_eq!(hif8::encode_f32(f32::NEG_INFINITY, true), 0xEE);
    assert_eq!(hif8::encode_f32(40960.0, false), 0x6F);
    assert_eq!(hif8::encode_f32(40960.0, true), 0x6E);
    assert_eq!(hif8::encode_f32(-40959.996, false), 0xEE);
    assert_eq!(hif8::encode_f32(f32::MAX, true), 0x6E);
    // Underflow edges of hif8.md.
    let p = |e: i32| 2f32.powi(e);
    assert_eq!(hif8::encode_f32(p(-23), false), 0x01);
    assert_eq!(hif8::encode_f32(-p(-23), false), 0x81);
    assert_eq!(hif8::encode_f32(f32::from_bits(p(-23).to_bits() - 1), false), 0x00);
    assert_eq!(hif8::encode_f32(1.5 * p(-20), false), 0x04);
    assert_eq!(hif8::encode_f32(f32::from_bits((1.5 * p(-20)).to_bits() - 1), false), 0x03);
    assert_eq!(hif8::encode_f32(1.5 * p(-16), false), 0x7E);
    for x in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, f32::MAX, f32::MIN, 40960.0, -40960.0] {
        check(x);
    }
}

#[test]
fn codes_and_neighbourhoods() {
    for c in 0..=255u8 {
        let v = hif8::decode_f32(c);
        if v.is_finite() {
            neighbourhood(v, 4);
        }
    }
    for w in [2f32.powi(-23), 40960.0, 49152.0, -2f32.powi(-23), -40960.0, -49152.0] {
        neighbourhood(w, 4);
    }
}

#[test]
fn midpoints() {
    let g = hif8::grid();
    for w in g.windows(2) {
        let mid = ((w[0].0 + w[1].0) / 2.0) as f32;
        assert_eq!(mid as f64, (w[0].0 + w[1].0) / 2.0, "midpoint exact in f32");
        neighbourhood(mid, 2);
    }
}

#[test]
fn random_f32_bit_patterns() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x4869_4638);
    for _ in 0..1_000_000 {
        check(f32::from_bits(rng.gen()));
    }
    // Random values in the HiF8 range, where the bit patterns above are sparse.
    for _ in 0..1_000_000 {
        let e: i32 = rng.gen_range(-25..=17);
        let x = rng.gen_range(1.0f32..2.0) * 2f32.powi(e);
        check(if rng.gen() { x } else { -x });
    }
}

#[test]
fn all_fp16_inputs() {
    for b in 0..=u16::MAX {
        let x = FP16.decode(b as u32);
        for sat in [false, true] {
            let a = hif8::encode_f16(b, sat);
            let o = hif8::encode_nearest(x, sat);
            assert_eq!(a, o, "{} sat={sat}: {} vs {}", FP16.describe(b as u32), hif8::describe(a), hif8::describe(o));
        }
    }
}

#[test]
fn all_bf16_inputs() {
    for b in 0..=u16::MAX {
        let x = BF16.decode(b as u32);
        for sat in [false, true] {
            let a = hif8::encode_bf16(b, sat);
            let o = hif8::encode_nearest(x, sat);
            assert_eq!(a, o, "{} sat={sat}: {} vs {}", BF16.describe(b as u32), hif8::describe(a), hif8::describe(o));
        }
    }
}

/// Exhaustive: all 2^32 FP32 patterns, both encoders, both saturation modes, split over
/// two threads (about a minute in release on two cores).
#[test]
#[ignore]
fn sweep_all_fp32() {
    let t0 = std::time::Instant::now();
    let threads = 2u64;
    let per = (1u64 << 32) / threads;
    let bad: Vec<(u32, bool, u8, u8)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for b in (t * per)..((t + 1) * per) {
                        let b = b as u32;
                        let x = f32::from_bits(b);
                        for sat in [false, true] {
                            let a = hif8::encode_f32(x, sat);
                            let o = hif8::encode_nearest(x as f64, sat);
                            if a != o && bad.len() < 16 {
                                bad.push((b, sat, a, o));
                            }
                        }
                    }
                    bad
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    eprintln!("sweep_all_fp32: 2^32 patterns x 2 sat modes in {:.1?}", t0.elapsed());
    for (b, sat, a, o) in &bad {
        eprintln!("0x{b:08X} sat={sat}: field {} vs nearest {}", hif8::describe(*a), hif8::describe(*o));
    }
    assert!(bad.is_empty());
}
