//! HCCS: golden-model cases computed by hand from `shared/spec/hccs.md`, properties on random
//! rows, and the ATTNLGT1 reader (real file and broken copies). The calibration's own tests are in
//! `studies/tests/calibration.rs`.

use std::path::PathBuf;
use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use verif::attn::{self, AttnData, Split};
use verif::golden::hccs::{hccs_row, hccs_row_trace, HccsConfig, HccsOut, HccsParams, Recip};

fn prm(b: u16, s: u8, dmax: u8) -> HccsParams {
    HccsParams::new(b, s, dmax).unwrap()
}

fn cfg(out_bits: u32, r: u32, recip: Recip) -> HccsConfig {
    HccsConfig { out_bits, r, recip, max_len: 256 }
}

fn out(p: &[u32], err: bool) -> HccsOut {
    HccsOut { p: p.to_vec(), err }
}

// ---------------------------------------------------------------------------------------
// Golden model, hand-computed rows.
//
// Row A: x = [3, 2, 0, -1], B = 100, S = 10, Dmax = 3: m = 3, d = [0, 1, 3, min(4, 3) = 3],
// s = [100, 90, 70, 70], Z = 330.

const ROW_A: [i8; 4] = [3, 2, 0, -1];

#[test]
fn div_out8_r15() {
    // rho = floor(255 * 2^15 / 330) = floor(8355840 / 330) = 25320;
    // p = floor(s * 25320 / 2^15): 77.27, 69.54, 54.09.
    let (o, t) = hccs_row_trace(&ROW_A, &prm(100, 10, 3), &cfg(8, 15, Recip::Div));
    assert_eq!(t.d, vec![0, 1, 3, 3]);
    assert_eq!(t.s, vec![100, 90, 70, 70]);
    assert_eq!((t.z, t.recip, t.max), (330, 25320, 3));
    assert_eq!(o, out(&[77, 69, 54, 54], false));
}

#[test]
fn div_out16_r15() {
    // T = 65535: rho = floor(65535 * 32768 / 330) = floor(2147450880 / 330) = 6507426;
    // p = floor(s * 6507426 / 32768): 19859.3, 17873.1, 13901.3.
    let o = hccs_row(&ROW_A, &prm(100, 10, 3), &cfg(16, 15, Recip::Div));
    assert_eq!(o, out(&[19859, 17873, 13901, 13901], false));
}

#[test]
fn div_other_r() {
    // R = 4: rho = floor(255 * 16 / 330) = 12; p = floor(s * 12 / 16) = 75, 67.5, 52.5.
    assert_eq!(hccs_row(&ROW_A, &prm(100, 10, 3), &cfg(8, 4, Recip::Div)), out(&[75, 67, 52, 52], false));
    // R = 20 and 31: enough bits, same as the exact floor(255 s / Z) = 77.27, 69.54, 54.09.
    for r in [20, 31] {
        assert_eq!(hccs_row(&ROW_A, &prm(100, 10, 3), &cfg(8, r, Recip::Div)), out(&[77, 69, 54, 54], false));
    }
    // R = 0: rho = floor(255 / 330) = 0, every output 0, and no flag (Z != 0): the spec only
    // flags negative scores and Z == 0.
    assert_eq!(hccs_row(&ROW_A, &prm(100, 10, 3), &cfg(8, 0, Recip::Div)), out(&[0, 0, 0, 0], false));
}

#[test]
fn clb_out8_and_out16() {
    // Z = 330: k = floor(log2 330) = 8. p = floor(T * s / 256).
    // T = 255: 99.6, 89.6, 69.7. T = 65535: 25599.6, 23039.6, 17919.7.
    let (o, t) = hccs_row_trace(&ROW_A, &prm(100, 10, 3), &cfg(8, 15, Recip::Clb));
    assert_eq!(t.recip, 8);
    assert_eq!(o, out(&[99, 89, 69, 69], false));
    assert_eq!(hccs_row(&ROW_A, &prm(100, 10, 3), &cfg(16, 15, Recip::Clb)), out(&[25599, 23039, 17919, 17919], false));
    // R does not matter to CLB.
    assert_eq!(hccs_row(&ROW_A, &prm(100, 10, 3), &cfg(8, 0, Recip::Clb)), out(&[99, 89, 69, 69], false));
}

#[test]
fn clb_saturates_at_t() {
    // x = [10, -100], B = 300, S = 10, Dmax = 20: d = [0, min(110, 20) = 20], s = [300, 100],
    // Z = 400, k = 8: p = floor(255 * 300 / 256) = 298 -> T = 255, floor(255 * 100 / 256) = 99.
    let o = hccs_row(&[10, -100], &prm(300, 10, 20), &HccsConfig::clb());
    assert_eq!(o, out(&[255, 99], false));
}

#[test]
fn single_element_and_extremes() {
    // n = 1: Z = B = 1000. DIV: rho = floor(8355840 / 1000) = 8355, p = floor(1000 * 8355 / 32768)
    // = 254 (254.97: DIV floors twice, so a lone element does not reach T). CLB: k = 9,
    // floor(255 * 1000 / 512) = 498 -> 255.
    assert_eq!(hccs_row(&[7], &prm(1000, 5, 10), &HccsConfig::div()), out(&[254], false));
    assert_eq!(hccs_row(&[7], &prm(1000, 5, 10), &HccsConfig::clb()), out(&[255], false));
    // Widest distance: 127 - (-128) = 255 -> Dmax = 127. B = 32767, S = 127: B - S*Dmax = 16638.
    // Z = 49405, rho = floor(8355840 / 49405) = 169, p = floor(32767*169/32768) = 168,
    // floor(16638*169/32768) = 85.
    let (o, t) = hccs_row_trace(&[127, -128], &prm(32767, 127, 127), &HccsConfig::div());
    assert_eq!(t.d, vec![0, 127]);
    assert_eq!((t.z, t.recip), (49405, 169));
    assert_eq!(o, out(&[168, 85], false));
    // Dmax = 0 and S = 0 both make every score B: a uniform row.
    for p in [prm(1000, 50, 0), prm(1000, 0, 90)] {
        let o = hccs_row(&[5, -3, 100], &p, &HccsConfig::div());
        assert_eq!(o.p[0], o.p[1]);
        assert_eq!(o.p[1], o.p[2]);
        // Z = 3000, rho = floor(8355840 / 3000) = 2785, floor(1000 * 2785 / 32768) = 84 (84.99).
        assert_eq!(o.p[0], 84);
    }
}

#[test]
fn negative_scores_clamp_and_flag() {
    // B = 50 < S*Dmax = 60: every row is flagged, even one whose elements never reach Dmax.
    // x = [1, 1]: s = [50, 50], Z = 100, rho = 83558, p = floor(50 * 83558 / 32768) = 127.
    assert_eq!(hccs_row(&[1, 1], &prm(50, 10, 6), &HccsConfig::div()), out(&[127, 127], true));
    // x = [10, 0]: d = [0, 6], s = [50, max(0, 50 - 60)] = [50, 0], Z = 50,
    // rho = 167116, p = floor(50 * 167116 / 32768) = 254.
    let (o, t) = hccs_row_trace(&[10, 0], &prm(50, 10, 6), &HccsConfig::div());
    assert_eq!(t.s, vec![50, 0]);
    assert_eq!(o, out(&[254, 0], true));
    // B = S*Dmax exactly is fine: the farthest elements score 0, no flag.
    assert!(!hccs_row(&[10, 0], &prm(60, 10, 6), &HccsConfig::div()).err);
    assert!(prm(50, 10, 6).can_go_negative() && !prm(60, 10, 6).can_go_negative());
}

#[test]
fn zero_sum_flags_all_zero() {
    // B = 0: the maximum scores 0, so Z = 0.
    for recip in [Recip::Div, Recip::Clb] {
        let c = HccsConfig::default().with_recip(recip);
        assert_eq!(hccs_row(&[1, 2, 3], &prm(0, 0, 5), &c), out(&[0, 0, 0], true));
        assert_eq!(hccs_row(&[1, 2, 3], &prm(0, 3, 5), &c), out(&[0, 0, 0], true));
    }
}

#[test]
fn too_long_row_is_all_zero_and_flagged() {
    let c = HccsConfig { max_len: 4, ..HccsConfig::default() };
    let long = [1i8, 2, 3, 4, 5];
    for recip in [Recip::Div, Recip::Clb] {
        let o = hccs_row(&long, &prm(1000, 10, 20), &c.with_recip(recip));
        assert_eq!(o, out(&[0; 5], true));
        let o = hccs_row(&long[..4], &prm(1000, 10, 20), &c.with_recip(recip));
        assert!(!o.err && o.p.iter().all(|&v| v > 0));
    }
}

#[test]
fn div_underflows_when_z_exceeds_t_2r() {
    // Spec-literal behaviour worth knowing: with R = 15, OUT_BITS = 8 and a full 256-element
    // row of equal logits at B = 32767, Z = 8388352 > T * 2^R = 8355840, so rho = 0 and every
    // output is 0, without the error flag (Z != 0 and no score is negative).
    let x = [0i8; 256];
    let (o, t) = hccs_row_trace(&x, &prm(32767, 1, 1), &HccsConfig::div());
    assert_eq!((t.z, t.recip), (8388352, 0));
    assert_eq!(o, out(&[0; 256], false));
}

#[test]
#[should_panic(expected = "empty row")]
fn empty_row_panics() {
    hccs_row(&[], &prm(1, 1, 1), &HccsConfig::div());
}

#[test]
#[should_panic(expected = "B = 32768")]
fn b_out_of_range_panics() {
    hccs_row(&[1], &HccsParams { b: 32768, s: 1, dmax: 1 }, &HccsConfig::div());
}

#[test]
fn param_ranges() {
    assert!(HccsParams::new(32767, 127, 127).is_ok());
    assert!(HccsParams::new(32768, 0, 0).unwrap_err().contains("B = 32768"));
    assert!(HccsParams::new(0, 128, 0).unwrap_err().contains("S = 128"));
    assert!(HccsParams::new(0, 0, 128).unwrap_err().contains("Dmax = 128"));
    assert!(!prm(0, 0, 0).is_clean() && prm(1, 0, 0).is_clean());
}

/// Properties on random rows and constants: outputs in 0..=T, monotone in x, the maximum gets
/// the largest output, DIV sums to at most T, CLB >= DIV element-wise (2^k <= Z), and the flag
/// is exactly "B < S*Dmax or B == 0".
#[test]
fn random_rows_properties() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x4CC5);
    for _ in 0..20_000 {
        let n = rng.gen_range(1..=64);
        let x: Vec<i8> = (0..n).map(|_| rng.gen()).collect();
        let p = prm(rng.gen_range(0..=32767), rng.gen_range(0..=127), rng.gen_range(0..=127));
        for out_bits in [8, 16] {
            let t = (1u32 << out_bits) - 1;
            let r = rng.gen_range(8..=24);
            let d = hccs_row(&x, &p, &cfg(out_bits, r, Recip::Div));
            let c = hccs_row(&x, &p, &cfg(out_bits, r, Recip::Clb));
            let want_err = p.b == 0 || (p.b as u32) < p.s as u32 * p.dmax as u32;
            assert_eq!(d.err, want_err, "{x:?} {p:?}");
            assert_eq!(c.err, want_err, "{x:?} {p:?}");
            assert!(d.p.iter().map(|&v| v as u64).sum::<u64>() <= t as u64, "{x:?} {p:?}");
            let im = x.iter().enumerate().max_by_key(|(_, &v)| v).unwrap().0;
            for o in [&d, &c] {
                assert!(o.p.iter().all(|&v| v <= t));
                assert_eq!(o.p[im], *o.p.iter().max().unwrap());
                for i in 0..n {
                    for j in 0..n {
                        if x[i] >= x[j] {
                            assert!(o.p[i] >= o.p[j], "not monotone: {x:?} {p:?} {:?}", o.p);
                        }
                    }
                }
            }
            for i in 0..n {
                assert!(c.p[i] >= d.p[i], "CLB < DIV: {x:?} {p:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// ATTNLGT1 reader.

fn data() -> &'static AttnData {
    static D: OnceLock<AttnData> = OnceLock::new();
    D.get_or_init(|| {
        AttnData::load(attn::DEFAULT_PATH)
            .unwrap_or_else(|e| panic!("the MiniLM logits ({}) are needed: {e:#}", attn::DEFAULT_PATH))
    })
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "hccs_golden_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small valid file: rows (seq, layer, head, q, logits).
fn synth(rows: &[(u32, u16, u16, u32, Vec<f32>)]) -> Vec<u8> {
    let n_floats: usize = rows.iter().map(|r| r.4.len()).sum();
    let mut b = Vec::new();
    b.extend_from_slice(b"ATTNLGT1");
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    b.extend_from_slice(&6u32.to_le_bytes());
    b.extend_from_slice(&12u32.to_le_bytes());
    b.extend_from_slice(&(n_floats as u64).to_le_bytes());
    for (s, l, h, q, x) in rows {
        b.extend_from_slice(&s.to_le_bytes());
        b.extend_from_slice(&l.to_le_bytes());
        b.extend_from_slice(&h.to_le_bytes());
        b.extend_from_slice(&q.to_le_bytes());
        b.extend_from_slice(&(x.len() as u32).to_le_bytes());
        for v in x {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b
}

fn err_of(b: &[u8]) -> String {
    format!("{:#}", AttnData::from_bytes(b).unwrap_err())
}

#[test]
fn reads_the_real_file() {
    let d = data();
    assert_eq!((d.len(), d.logits.len(), d.n_layers, d.n_heads), (101_448, 8_031_744, 6, 12));
    let r = d.row(0);
    assert_eq!((r.seq_id, r.layer, r.head), (0, 0, 0));
    assert_eq!(r.logits.len(), 18); // seq 0 has 18 tokens (calib.index.json)
    let seqs: std::collections::BTreeSet<u32> = d.rows.iter().map(|m| m.seq_id).collect();
    assert_eq!(seqs.len(), 180);
    assert_eq!(seqs.iter().filter(|&&s| attn::split_of(s) == Split::HeldOut).count(), 36);
    let g = d.by_head();
    assert_eq!(g.len(), 72);
    for h in &g {
        // Every head has the same rows per sequence.
        assert_eq!((h[0].len(), h[1].len()), (g[0][0].len(), g[0][1].len()));
    }
    assert_eq!(g[0][0].len() + g[0][1].len(), 101_448 / 72);
    assert_eq!(d.head_rows(3, 7, Split::HeldOut), g[3 * 12 + 7][1]);
    let sm = attn::softmax(d.row(5).logits);
    assert!((sm.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(attn::argmax_f32(d.row(5).logits), {
        let mut best = 0;
        for (i, &v) in sm.iter().enumerate() {
            if v > sm[best] {
                best = i;
            }
        }
        best
    });
}

#[test]
fn rejects_a_truncated_file() {
    let bytes = std::fs::read(attn::DEFAULT_PATH).unwrap();
    let dir = temp_dir();
    let path = dir.join("truncated.attnlog");
    std::fs::write(&path, &bytes[..100_000]).unwrap();
    let e = format!("{:#}", AttnData::load(&path).unwrap_err());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.contains("truncated file") && e.contains("100000 bytes") && e.contains("33750176"), "{e}");
    assert!(e.contains("truncated.attnlog"), "the error names the file: {e}");
    // A missing file names the path too.
    let e = format!("{:#}", AttnData::load(dir.join("missing.attnlog")).unwrap_err());
    assert!(e.contains("missing.attnlog"), "{e}");
}

#[test]
fn rejects_malformed_files() {
    let good = synth(&[(0, 0, 0, 0, vec![1.0, 2.0]), (0, 0, 1, 1, vec![0.5, -1.0, 3.0])]);
    let d = AttnData::from_bytes(&good).unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d.row(1).logits, &[0.5, -1.0, 3.0]);
    assert_eq!((d.row(1).head, d.row(1).q_idx), (1, 1));

    assert!(err_of(&good[..20]).contains("truncated header"));
    assert!(err_of(&good[..good.len() - 4]).contains("truncated file"));
    let mut b = good.clone();
    b.push(0);
    assert!(err_of(&b).contains("1 trailing bytes"));
    let mut b = good.clone();
    b[0] = b'X';
    assert!(err_of(&b).contains("bad magic"));
    let mut b = good.clone();
    b[8] = 2;
    assert!(err_of(&b).contains("unsupported version 2"));
    // k_len of record 0 raised to 3: the records then claim more floats than the header.
    let mut b = good.clone();
    b[32 + 12] = 3;
    let e = err_of(&b);
    assert!(e.contains("record 0") || e.contains("n_floats"), "{e}");
    let e = err_of(&synth(&[(0, 0, 0, 0, vec![1.0, f32::NAN])]));
    assert!(e.contains("not finite"), "{e}");
    let e = err_of(&synth(&[(0, 6, 0, 0, vec![1.0])]));
    assert!(e.contains("layer >= n_layers"), "{e}");
    let e = err_of(&synth(&[(0, 0, 12, 0, vec![1.0])]));
    assert!(e.contains("head >= n_heads"), "{e}");
    let e = err_of(&synth(&[(0, 0, 0, 5, vec![1.0])]));
    assert!(e.contains("q_idx >= k_len"), "{e}");
    let e = err_of(&synth(&[(1, 0, 0, 0, vec![1.0]), (0, 0, 0, 0, vec![1.0])]));
    assert!(e.contains("out of order"), "{e}");
    let e = err_of(&synth(&[(0, 0, 0, 0, vec![])]));
    assert!(e.contains("k_len = 0"), "{e}");
}

