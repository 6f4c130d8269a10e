//! The checked-in HCCS calibration `params/hccs_minilm.json` re-evaluated on the real MiniLM
//! logits, and the calibration's fast objective against the golden model.

use std::sync::OnceLock;

use studies::hccs_calib::{self, CalibFile, Hist, KlGuard, LnTable, RowSet};
use verif::attn::{self, AttnData};
use verif::golden::hccs::{HccsConfig, HccsParams};

fn data() -> &'static AttnData {
    static D: OnceLock<AttnData> = OnceLock::new();
    D.get_or_init(|| {
        AttnData::load(attn::DEFAULT_PATH)
            .unwrap_or_else(|e| panic!("the MiniLM logits ({}) are needed: {e:#}", attn::DEFAULT_PATH))
    })
}

// ---------------------------------------------------------------------------------------
// Calibration file and metrics.

fn calib_file() -> CalibFile {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../params/hccs_minilm.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-12
}

#[test]
fn calibration_file_is_valid() {
    let f = calib_file();
    assert_eq!((f.out_bits, f.r, f.max_len), (8, 15, 256));
    assert_eq!(f.kl_guard, KlGuard::PRIMARY);
    // The sensitivity calibrations are there, with valid constants too.
    assert_eq!(f.guard_sensitivity.len(), 2);
    for se in &f.guard_sensitivity {
        assert_eq!(se.per_head.len(), 72);
        assert!(se.per_head.iter().all(|h| h.params().is_clean() && h.scale > 0.0));
        assert!(se.shared.per_head.iter().all(|h| h.params().is_clean()));
    }
    assert_eq!(f.data_rows, 101_448);
    assert_eq!(f.per_head.len(), 72);
    for (i, h) in f.per_head.iter().enumerate() {
        assert_eq!((h.layer as usize, h.head as usize), (i / 12, i % 12));
        let p = h.params();
        assert!(p.check().is_ok() && p.is_clean(), "L{}H{}: {p:?}", h.layer, h.head);
        assert!(h.scale.is_finite() && h.scale > 0.0);
        for m in [&h.calib, &h.heldout, &h.clb_calib, &h.clb_heldout] {
            assert_eq!(m.flagged, 0);
            assert!(m.mean_kl >= 0.0 && m.mean_kl.is_finite());
            assert!((0.0..=1.0).contains(&m.top1));
        }
        assert_eq!(h.calib.n_rows + h.heldout.n_rows, 101_448 / 72);
    }
    for e in [&f.shared, &f.shared_constants_per_head_scale] {
        assert!(HccsParams { b: e.b, s: e.s, dmax: e.dmax }.is_clean());
        assert_eq!(e.per_head.len(), 72);
    }
    assert!(f.shared.scale.unwrap() > 0.0);
    // The summary is consistent with the per-head numbers.
    let t = hccs_calib::totals(&f.per_head);
    assert!(close(t.heldout.mean_kl, f.per_head_total.heldout.mean_kl, 1e-12));
    assert!(close(f.goals.heldout_over_calib, t.heldout.mean_kl / t.calib.mean_kl, 1e-12));
    assert!(close(f.goals.per_head_over_shared_heldout, t.heldout.mean_kl / f.shared.heldout.mean_kl, 1e-12));
    // Per-head constants are calibrated on the same objective: on calibration rows they must do
    // at least as well as the shared set on every head (small slack for search noise).
    for (p, s) in f.per_head.iter().zip(&f.shared.per_head) {
        assert!(p.calib.mean_kl <= s.calib.mean_kl * 1.02, "L{}H{}", p.layer, p.head);
    }
}

/// The stored metrics of a few heads are reproduced by the golden model on the real rows.
#[test]
fn calibration_metrics_reproduce() {
    let f = calib_file();
    let d = data();
    let g = d.by_head();
    for h in [0usize, 2, 21, 40, 71] {
        let e = &f.per_head[h];
        let (cal, clb_cal) = hccs_calib::evaluate_both(d, &g[h][0], e.scale, &e.params(), &HccsConfig::default());
        let held = hccs_calib::evaluate(d, &g[h][1], e.scale, &e.params(), &HccsConfig::div());
        for (got, want) in [(&cal, &e.calib), (&clb_cal, &e.clb_calib), (&held, &e.heldout)] {
            assert_eq!(got.n_rows, want.n_rows);
            assert!(close(got.mean_kl, want.mean_kl, 1e-9), "L{}H{} KL {} vs {}", e.layer, e.head, got.mean_kl, want.mean_kl);
            assert!(close(got.mean_kl_eps6, want.mean_kl_eps6, 1e-9));
            assert!(close(got.mean_kl_half_lsb, want.mean_kl_half_lsb, 1e-9));
            assert!(close(got.mean_tv, want.mean_tv, 1e-9));
            assert!(close(got.max_abs_err, want.max_abs_err, 1e-9));
            assert!(close(got.top1, want.top1, 1e-12));
        }
        let s = &f.shared.per_head[h];
        let sh = hccs_calib::evaluate(d, &g[h][1], f.shared.scale.unwrap(), &s.params(), &HccsConfig::div());
        assert!(close(sh.mean_kl, s.heldout.mean_kl, 1e-9));
        // A few single rows: the per-row KL is finite and small where the mean is small.
        let few: Vec<usize> = g[h][1].iter().step_by(97).cloned().collect();
        let m = hccs_calib::evaluate(d, &few, e.scale, &e.params(), &HccsConfig::div());
        assert!(m.mean_kl.is_finite() && m.mean_kl < 5.0 * e.heldout.mean_kl + 0.05, "{m:?}");
    }
}

/// The search's fast objective (histograms) equals the golden model's KL.
#[test]
fn fast_objective_matches_golden() {
    let f = calib_file();
    let d = data();
    let g = d.by_head();
    for h in [1usize, 2, 30, 66] {
        let e = &f.per_head[h];
        let rows = &g[h][0][..200];
        let set = RowSet::new(d, rows);
        let m = hccs_calib::evaluate(d, rows, e.scale, &e.params(), &HccsConfig::div());
        for guard in KlGuard::ALL {
            let fast = hccs_calib::kl_sum_div(&Hist::new(&set, e.scale), &e.params(), &LnTable::new(8, 15, guard)) / 200.0;
            let gold = m.kl(guard);
            assert!(close(fast, gold, 1e-9), "head {h} {guard:?}: fast {fast} golden {gold}");
        }
    }
}

#[test]
fn kl_guard_and_quantiser() {
    // q = renormalised outputs with a 0 read as half an LSB: p = [2, 0] -> q = [2, 0.5] / 2.5.
    let pref = [0.7, 0.3];
    let want = 0.7 * (0.7f64 / 0.8).ln() + 0.3 * (0.3f64 / 0.2).ln();
    assert!(close(hccs_calib::kl_guarded(&pref, &[2, 0], KlGuard::HALF_LSB), want, 1e-12));
    // Relative guards: the 0 counts as eps * sum p.
    for eps in [1e-6, 1e-4] {
        let g = KlGuard { rel_eps: eps, lsb: 0.0 };
        let q0 = 2.0 * eps / (2.0 + 2.0 * eps);
        let want = 0.7 * (0.7 / (1.0 - q0)).ln() + 0.3 * (0.3 / q0).ln();
        assert!(close(hccs_calib::kl_guarded(&pref, &[2, 0], g), want, 1e-9));
    }
    assert_eq!(KlGuard::PRIMARY, KlGuard { rel_eps: 1e-4, lsb: 0.0 });
    assert_eq!(hccs_calib::kl_guarded(&[0.5, 0.5], &[7, 7], KlGuard::HALF_LSB), 0.0);
    // Quantiser: round half away from zero, saturating.
    assert_eq!(hccs_calib::quantize(0.25, 2.0), 1);
    assert_eq!(hccs_calib::quantize(-0.25, 2.0), -1);
    assert_eq!(hccs_calib::quantize(100.0, 2.0), 127);
    assert_eq!(hccs_calib::quantize(-100.0, 2.0), -128);
}
