//! HCCS calibration: accuracy metrics against a float softmax, and the per-head search for the
//! int8 quantisation scale and the constants (B, S, Dmax).
//!
//! **Quantiser** (in front of the hardware): `x = clamp(round(x_f * scale), -128, 127)`,
//! product in f64, round half away from zero ([`quantize`]).
//!
//! **Metrics** of one row, HCCS output `p` against `P = softmax(x_f)` (float logits, f64):
//! - KL: `KL(P || q)`, where `q` is the renormalised output with zeros guarded
//!   ([`KlGuard`]): `q_i = max(p_i, g) / sum_j max(p_j, g)`, `g = max(lsb, rel_eps * sum p)`,
//!   so `q` is still a distribution (KL >= 0). A row whose outputs are all 0 (only flagged rows)
//!   is compared as uniform. Three guards are reported:
//!   - `mean_kl`, guard [`KlGuard::PRIMARY`] (`g = 1e-4 * sum p`, the calibration objective):
//!     an output 0 counts as probability 1e-4. That is ~40x below the smallest non-zero output
//!     of an 8-bit DIV row (1/sum p >= 1/255), so flushing an element of probability P costs
//!     about P ln(P/1e-4), at most ~3.7 P; and the guard adds at most n * 1e-4 <= 1.3 % of
//!     phantom mass to a row of this data (n <= 127).
//!   - `mean_kl_eps6`, guard [`KlGuard::EPS6`] (1e-6): at OUT_BITS = 8 this KL is dominated by
//!     the flushed elements (each costs ~P ln(P/1e-6)); constants calibrated on it spread mass
//!     over the whole row to avoid zeros.
//!   - `mean_kl_half_lsb`, guard [`KlGuard::HALF_LSB`] (`g` = half an output LSB, the middle of
//!     the interval that DIV's floor maps to 0): mild on flushing, but on long peaked rows the
//!     guards of ~100 zeros add ~50 LSB of phantom mass and dominate the KL.
//!
//!   The accuracy report compares calibrations on each of them.
//! - max abs error: `max_i |p_i / sum p - P_i|` (no guard).
//! - top-1: the float softmax's argmax is the *unique* maximum of the HCCS output. HCCS is
//!   monotone (so is the quantiser), so the float argmax always scores the largest `p`: the
//!   only way to lose top-1 is a tie, from two logits rounding to the same int8 value or two
//!   scores flooring to the same output. `top1_ties` counts ties as agreement (so it is 1 for
//!   every monotone surrogate; kept as a check).
//! - total variation `0.5 * sum |p_i/sum p - P_i|`, and the flushed mass `sum P_i` over the
//!   elements whose output is 0 (what the KL guard is about).
//!
//! Aggregates ([`Metrics`]): means over rows, except the max abs error (largest of any row).
//!
//! **Search** ([`search`]): the shape of the surrogate, seen on the logits, is a line from 1 at
//! the row maximum falling to a floor `f = (B - S*Dmax)/B` at `Dmax/scale` logits below it, then
//! flat. Scaling B and S together changes only rounding, so the search works on
//! (scale, Dmax, f) and maps them to integers at the end ([`params_from_shape`], S as large as
//! B <= 32767 allows; f >= 0 keeps B >= S*Dmax so no row is ever flagged). Stage 1: a coarse
//! grid (scale candidates x 14 Dmax x 9 f) on a subsample of the rows. Stage 2: pattern search
//! from the best few coarse points on all rows (moves in scale, Dmax, f and the coupled
//! "resolution" move scale*a, Dmax*a that keeps the shape), steps halving down to
//! 2^(1/96) in scale, 1 in Dmax, 0.002 in f. Stage 3: a few neighbouring integer (B, S) pairs.
//! The objective is the mean KL of the DIV output, evaluated exactly (same integer arithmetic
//! as the golden model) but on per-row histograms of the quantised distances, so that one
//! evaluation costs O(distinct distances) per row instead of O(n).

use verif::attn::AttnData;
use verif::golden::hccs::{hccs_row, HccsConfig, HccsParams, Recip};

/// How an output 0 enters the KL: `q_i = max(p_i, g) / sum_j max(p_j, g)` with
/// `g = max(lsb, rel_eps * sum p)` (`lsb` in output LSBs).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KlGuard {
    pub rel_eps: f64,
    pub lsb: f64,
}

impl KlGuard {
    /// Output 0 read as probability 1e-4: `Metrics::mean_kl` and the calibration objective.
    pub const PRIMARY: KlGuard = KlGuard { rel_eps: 1e-4, lsb: 0.0 };
    /// Output 0 read as probability 1e-6: `Metrics::mean_kl_eps6`.
    pub const EPS6: KlGuard = KlGuard { rel_eps: 1e-6, lsb: 0.0 };
    /// Output 0 read as half an output LSB: `Metrics::mean_kl_half_lsb`.
    pub const HALF_LSB: KlGuard = KlGuard { rel_eps: 0.0, lsb: 0.5 };
    pub const ALL: [KlGuard; 3] = [KlGuard::PRIMARY, KlGuard::EPS6, KlGuard::HALF_LSB];

    pub fn name(&self) -> String {
        match *self {
            g if g == KlGuard::HALF_LSB => "half an LSB".to_string(),
            g if g.lsb == 0.0 => format!("{:e}", g.rel_eps),
            g => format!("max({:e} sum p, {} LSB)", g.rel_eps, g.lsb),
        }
    }

    pub fn threshold(&self, sum_p: u64) -> f64 {
        (self.rel_eps * sum_p as f64).max(self.lsb)
    }
}

pub use verif::attn::quantize;

pub fn quantize_row(x: &[f32], scale: f64, out: &mut Vec<i8>) {
    out.clear();
    out.extend(x.iter().map(|&v| quantize(v, scale)));
}

/// Guarded KL(P || renormalised p), see the module doc.
pub fn kl_guarded(pref: &[f64], p: &[u32], guard: KlGuard) -> f64 {
    assert_eq!(pref.len(), p.len());
    let sum: u64 = p.iter().map(|&v| v as u64).sum();
    let n = p.len() as f64;
    let mut kl = 0.0;
    if sum == 0 {
        for &pi in pref {
            if pi > 0.0 {
                kl += pi * (pi * n).ln();
            }
        }
        return kl.max(0.0);
    }
    let thr = guard.threshold(sum);
    let m: f64 = p.iter().map(|&v| (v as f64).max(thr)).sum();
    let ln_m = m.ln();
    for (&pi, &v) in pref.iter().zip(p) {
        if pi > 0.0 {
            kl += pi * (pi.ln() - ((v as f64).max(thr).ln() - ln_m));
        }
    }
    kl.max(0.0)
}

#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    pub n_rows: usize,
    /// Guard [`KlGuard::PRIMARY`].
    pub mean_kl: f64,
    /// Guard [`KlGuard::EPS6`].
    pub mean_kl_eps6: f64,
    /// Guard [`KlGuard::HALF_LSB`].
    pub mean_kl_half_lsb: f64,
    pub max_abs_err: f64,
    pub top1: f64,
    pub top1_ties: f64,
    pub mean_tv: f64,
    pub mean_flushed: f64,
    /// Rows with the error flag set (must be 0 for calibrated constants).
    pub flagged: usize,
}

impl Metrics {
    /// Mean KL under one of the guards of [`KlGuard::ALL`].
    pub fn kl(&self, guard: KlGuard) -> f64 {
        match guard {
            g if g == KlGuard::PRIMARY => self.mean_kl,
            g if g == KlGuard::EPS6 => self.mean_kl_eps6,
            g if g == KlGuard::HALF_LSB => self.mean_kl_half_lsb,
            g => panic!("no KL kept for guard {g:?}"),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsAcc {
    n: usize,
    kl: [f64; 3],
    max_abs: f64,
    top1: usize,
    top1_ties: usize,
    tv: f64,
    flushed: f64,
    flagged: usize,
}

impl MetricsAcc {
    pub fn add_row(&mut self, pref: &[f64], out: &[u32], err: bool) {
        self.n += 1;
        for (k, g) in KlGuard::ALL.iter().enumerate() {
            self.kl[k] += kl_guarded(pref, out, *g);
        }
        let sum: u64 = out.iter().map(|&v| v as u64).sum();
        let mut ma: f64 = 0.0;
        for (&pi, &v) in pref.iter().zip(out) {
            let q = if sum == 0 { 0.0 } else { v as f64 / sum as f64 };
            ma = ma.max((q - pi).abs());
            self.tv += 0.5 * (q - pi).abs();
            if v == 0 {
                self.flushed += pi;
            }
        }
        self.max_abs = self.max_abs.max(ma);
        let mut ia = 0;
        for (i, &v) in pref.iter().enumerate() {
            if v > pref[ia] {
                ia = i;
            }
        }
        let pmax = *out.iter().max().unwrap();
        if out[ia] == pmax {
            self.top1_ties += 1;
            if out.iter().filter(|&&v| v == pmax).count() == 1 {
                self.top1 += 1;
            }
        }
        self.flagged += err as usize;
    }
    pub fn merge(&mut self, o: &MetricsAcc) {
        self.n += o.n;
        for k in 0..3 {
            self.kl[k] += o.kl[k];
        }
        self.max_abs = self.max_abs.max(o.max_abs);
        self.top1 += o.top1;
        self.top1_ties += o.top1_ties;
        self.tv += o.tv;
        self.flushed += o.flushed;
        self.flagged += o.flagged;
    }
    pub fn finish(&self) -> Metrics {
        let n = self.n.max(1) as f64;
        Metrics {
            n_rows: self.n,
            mean_kl: self.kl[0] / n,
            mean_kl_eps6: self.kl[1] / n,
            mean_kl_half_lsb: self.kl[2] / n,
            max_abs_err: self.max_abs,
            top1: self.top1 as f64 / n,
            top1_ties: self.top1_ties as f64 / n,
            mean_tv: self.tv / n,
            mean_flushed: self.flushed / n,
            flagged: self.flagged,
        }
    }
}

/// Metrics of the golden model (bit-exact `hccs_row`) on the given rows of `data`.
pub fn evaluate(
    data: &AttnData,
    rows: &[usize],
    scale: f64,
    params: &HccsParams,
    cfg: &HccsConfig,
) -> Metrics {
    evaluate_acc(data, rows, scale, params, cfg).finish()
}

pub fn evaluate_acc(
    data: &AttnData,
    rows: &[usize],
    scale: f64,
    params: &HccsParams,
    cfg: &HccsConfig,
) -> MetricsAcc {
    let mut acc = MetricsAcc::default();
    let mut xq = Vec::new();
    let mut pref = Vec::new();
    for &i in rows {
        let r = data.row(i);
        verif::attn::softmax_into(r.logits, &mut pref);
        quantize_row(r.logits, scale, &mut xq);
        let o = hccs_row(&xq, params, cfg);
        acc.add_row(&pref, &o.p, o.err);
    }
    acc
}

/// The ideal the surrogate is measured against at the same output width: the exact softmax of
/// the float logits, floored to OUT_BITS like DIV does (`p_i = floor(T * P_i)`), on the given rows.
pub fn evaluate_exact_floor(data: &AttnData, rows: &[usize], out_bits: u32) -> Metrics {
    let t = ((1u64 << out_bits) - 1) as f64;
    let mut acc = MetricsAcc::default();
    let mut pref = Vec::new();
    let mut p = Vec::new();
    for &i in rows {
        verif::attn::softmax_into(data.row(i).logits, &mut pref);
        p.clear();
        p.extend(pref.iter().map(|&v| (v * t).floor() as u32));
        acc.add_row(&pref, &p, false);
    }
    acc.finish()
}

/// Integer constants for a shape: `Dmax`, floor fraction `f = (B - S*Dmax)/B` in [0, 1).
/// S is as large as possible (127) unless that needs B > 32767. `f >= 0` gives B >= S*Dmax.
pub fn params_from_shape(dmax: u8, f: f64) -> HccsParams {
    params_from_shape_s(dmax, f, 127)
}

/// [`params_from_shape`] with a given preferred S (lowered if B would exceed 32767).
pub fn params_from_shape_s(dmax: u8, f: f64, s_pref: u8) -> HccsParams {
    let dmax = dmax.clamp(1, 127);
    let f = f.clamp(0.0, 0.999);
    let s = s_pref.clamp(1, 127) as f64;
    let b = (s * dmax as f64 / (1.0 - f)).round();
    let (b, s) = if b <= 32767.0 {
        (b as u16, s as u8)
    } else {
        let s = (32767.0 * (1.0 - f) / dmax as f64).floor().max(0.0) as u8;
        (32767u16, s)
    };
    let b = b.max(s as u16 * dmax as u16).max(1);
    HccsParams { b, s, dmax }
}

// ---------------------------------------------------------------------------------------
// Fast objective: per-row histograms of the quantised distance.

/// Rows of one head with their float reference, prepared once.
pub struct RowSet {
    /// Concatenated float logits.
    x: Vec<f32>,
    /// Concatenated softmax probabilities (f64).
    pr: Vec<f64>,
    off: Vec<usize>,
    /// Per row `sum P ln P`.
    h: Vec<f64>,
}

impl RowSet {
    pub fn new(data: &AttnData, rows: &[usize]) -> Self {
        let mut x = Vec::new();
        let mut pr = Vec::new();
        let mut off = vec![0];
        let mut h = Vec::with_capacity(rows.len());
        let mut buf = Vec::new();
        for &i in rows {
            let r = data.row(i);
            verif::attn::softmax_into(r.logits, &mut buf);
            x.extend_from_slice(r.logits);
            h.push(buf.iter().filter(|&&p| p > 0.0).map(|&p| p * p.ln()).sum());
            pr.extend_from_slice(&buf);
            off.push(x.len());
        }
        RowSet { x, pr, off, h }
    }
    pub fn n_rows(&self) -> usize {
        self.h.len()
    }
    /// Every `step`-th row (a deterministic subsample).
    pub fn subsample(&self, max_rows: usize) -> RowSet {
        let n = self.n_rows();
        if n <= max_rows {
            return RowSet { x: self.x.clone(), pr: self.pr.clone(), off: self.off.clone(), h: self.h.clone() };
        }
        let mut out = RowSet { x: Vec::new(), pr: Vec::new(), off: vec![0], h: Vec::new() };
        for k in 0..max_rows {
            let r = k * n / max_rows;
            let (a, e) = (self.off[r], self.off[r + 1]);
            out.x.extend_from_slice(&self.x[a..e]);
            out.pr.extend_from_slice(&self.pr[a..e]);
            out.off.push(out.x.len());
            out.h.push(self.h[r]);
        }
        out
    }
    /// Max |x_f| over the rows.
    pub fn max_abs(&self) -> f32 {
        self.x.iter().fold(0.0f32, |a, &v| a.max(v.abs()))
    }
}

/// Histogram of quantised distances `m - x` of every row, for one scale.
pub struct Hist {
    row_off: Vec<u32>,
    d: Vec<u8>,
    cnt: Vec<u32>,
    pm: Vec<f64>,
    /// Suffix sums within the row (entries sorted by d).
    tail_cnt: Vec<u32>,
    tail_pm: Vec<f64>,
    h: Vec<f64>,
}

impl Hist {
    pub fn new(rs: &RowSet, scale: f64) -> Self {
        let mut hist = Hist {
            row_off: vec![0],
            d: Vec::new(),
            cnt: Vec::new(),
            pm: Vec::new(),
            tail_cnt: Vec::new(),
            tail_pm: Vec::new(),
            h: rs.h.clone(),
        };
        let mut cnt = [0u32; 256];
        let mut pm = [0f64; 256];
        let mut q = Vec::new();
        for r in 0..rs.n_rows() {
            let (a, e) = (rs.off[r], rs.off[r + 1]);
            quantize_row(&rs.x[a..e], scale, &mut q);
            let m = *q.iter().max().unwrap();
            for (k, &v) in q.iter().enumerate() {
                let d = (m as i16 - v as i16) as usize;
                cnt[d] += 1;
                pm[d] += rs.pr[a + k];
            }
            let start = hist.d.len();
            for d in 0..256 {
                if cnt[d] > 0 {
                    hist.d.push(d as u8);
                    hist.cnt.push(cnt[d]);
                    hist.pm.push(pm[d]);
                    cnt[d] = 0;
                    pm[d] = 0.0;
                }
            }
            let end = hist.d.len();
            hist.tail_cnt.resize(end, 0);
            hist.tail_pm.resize(end, 0.0);
            let (mut c, mut p) = (0u32, 0f64);
            for j in (start..end).rev() {
                c += hist.cnt[j];
                p += hist.pm[j];
                hist.tail_cnt[j] = c;
                hist.tail_pm[j] = p;
            }
            hist.row_off.push(end as u32);
        }
        hist
    }
    pub fn n_rows(&self) -> usize {
        self.h.len()
    }
}

/// Precomputed `ln v` for output values `0..=T` (entry 0 unused).
pub struct LnTable {
    t: u32,
    r: u32,
    guard: KlGuard,
    ln: Vec<f64>,
}

impl LnTable {
    pub fn new(out_bits: u32, r: u32, guard: KlGuard) -> Self {
        let t = (1u32 << out_bits) - 1;
        LnTable { t, r, guard, ln: (0..=t).map(|v| (v.max(1) as f64).ln()).collect() }
    }
}

/// Sum over the rows of the guarded KL (guard of `lt`) of the DIV output; `params` must have `B >= S*Dmax`
/// and `B > 0` (no flagged rows). Equal (up to float summation order) to the sum of
/// [`kl_guarded`] of [`hccs_row`] with the DIV reciprocal.
pub fn kl_sum_div(hist: &Hist, params: &HccsParams, lt: &LnTable) -> f64 {
    debug_assert!(params.is_clean());
    let (b, s, dmax) = (params.b as u64, params.s as u64, params.dmax);
    let t = lt.t as u64;
    let num = (t as u128) << lt.r;
    let s_tail = b - s * dmax as u64;
    let mut total = 0.0;
    let mut pbuf = [0u32; 257];
    for r in 0..hist.n_rows() {
        let (a, e) = (hist.row_off[r] as usize, hist.row_off[r + 1] as usize);
        let mut z = 0u64;
        let mut j = a;
        while j < e && hist.d[j] < dmax {
            z += hist.cnt[j] as u64 * (b - s * hist.d[j] as u64);
            j += 1;
        }
        let jt = j;
        if jt < e {
            z += hist.tail_cnt[jt] as u64 * s_tail;
        }
        let rho = (num / z as u128) as u64;
        // p values and their sum
        let mut sum_p = 0u64;
        let k_end = jt - a;
        for (k, jj) in (a..jt).enumerate() {
            let sc = b - s * hist.d[jj] as u64;
            let p = (((sc as u128 * rho as u128) >> lt.r) as u64).min(t) as u32;
            pbuf[k] = p;
            sum_p += hist.cnt[jj] as u64 * p as u64;
        }
        let p_tail = if jt < e {
            let p = (((s_tail as u128 * rho as u128) >> lt.r) as u64).min(t) as u32;
            sum_p += hist.tail_cnt[jt] as u64 * p as u64;
            p
        } else {
            0
        };
        // With clean constants sum_p >= p(max element), 0 only if rho underflows; compare such
        // a row with the uniform distribution, like kl_guarded.
        if sum_p == 0 {
            let n = hist.tail_cnt[a] as f64;
            total += (hist.h[r] + n.ln()).max(0.0);
            continue;
        }
        // Outputs below the guard g count as g.
        let thr = lt.guard.threshold(sum_p);
        let ln_thr = thr.ln();
        let mut m = 0.0;
        let mut cross = 0.0;
        for (k, &p) in pbuf[..k_end].iter().enumerate() {
            let jj = a + k;
            let (v, l) = if (p as f64) < thr { (thr, ln_thr) } else { (p as f64, lt.ln[p as usize]) };
            m += hist.cnt[jj] as f64 * v;
            cross += hist.pm[jj] * l;
        }
        if jt < e {
            let p = p_tail;
            let (v, l) = if (p as f64) < thr { (thr, ln_thr) } else { (p as f64, lt.ln[p as usize]) };
            m += hist.tail_cnt[jt] as f64 * v;
            cross += hist.tail_pm[jt] * l;
        }
        total += (hist.h[r] - cross + m.ln()).max(0.0);
    }
    total
}

// ---------------------------------------------------------------------------------------
// Search.

/// One calibration problem: row groups (one per head) whose scale is `base[g] * lambda`.
pub struct Problem<'a> {
    pub groups: Vec<&'a RowSet>,
    pub base: Vec<f64>,
    /// Subsamples for the coarse stage (same order as `groups`).
    pub coarse: Vec<RowSet>,
    /// Search lambda (false: lambda stays 1, e.g. shared constants with per-head scales).
    pub search_lambda: bool,
    /// Candidate lambdas for the coarse stage.
    pub lambdas: Vec<f64>,
    /// A known point (lambda, constants) refined on all rows too, so the result is never worse.
    pub start: Option<(f64, HccsParams)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    pub lambda: f64,
    pub params: HccsParams,
    /// Mean guarded KL of DIV over the problem's calibration rows.
    pub mean_kl: f64,
    pub evals: usize,
}

#[derive(Clone, Copy, Debug)]
pub struct SearchOpts {
    pub out_bits: u32,
    pub r: u32,
    /// Threads for evaluating one objective (pooled problems); 1 for per-head problems that are
    /// themselves run in parallel.
    pub threads: usize,
    /// Coarse points refined in stage 2.
    pub refine_top: usize,
    /// KL guard of the objective.
    pub guard: KlGuard,
}

pub const DMAX_GRID: [u8; 14] = [1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 90, 127];
pub const F_GRID: [f64; 9] = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75];

struct Objective<'p> {
    sets: Vec<&'p RowSet>,
    base: Vec<f64>,
    n_rows: usize,
    cache: Vec<(u64, Vec<Hist>)>,
    lt: LnTable,
    threads: usize,
    evals: usize,
}

impl<'p> Objective<'p> {
    fn new(sets: Vec<&'p RowSet>, base: Vec<f64>, opts: &SearchOpts) -> Self {
        let n_rows = sets.iter().map(|s| s.n_rows()).sum();
        Objective {
            sets,
            base,
            n_rows,
            cache: Vec::new(),
            lt: LnTable::new(opts.out_bits, opts.r, opts.guard),
            threads: opts.threads.max(1),
            evals: 0,
        }
    }

    fn hists(&mut self, lambda: f64) -> usize {
        let key = lambda.to_bits();
        if let Some(i) = self.cache.iter().position(|(k, _)| *k == key) {
            return i;
        }
        if self.cache.len() >= 24 {
            self.cache.remove(0);
        }
        let sets = &self.sets;
        let base = &self.base;
        let hs = par_map(self.threads, sets.len(), |g| Hist::new(sets[g], base[g] * lambda));
        self.cache.push((key, hs));
        self.cache.len() - 1
    }

    fn eval(&mut self, lambda: f64, p: &HccsParams) -> f64 {
        self.evals += 1;
        let i = self.hists(lambda);
        let hs = &self.cache[i].1;
        let lt = &self.lt;
        let parts = par_map(self.threads, hs.len(), |g| kl_sum_div(&hs[g], p, lt));
        parts.iter().sum::<f64>() / self.n_rows as f64
    }
}

/// `f(i)` for `i in 0..n`, on up to `threads` scoped threads (contiguous chunks).
pub fn par_map<T: Send, F: Fn(usize) -> T + Sync>(threads: usize, n: usize, f: F) -> Vec<T> {
    if threads <= 1 || n <= 1 {
        return (0..n).map(f).collect();
    }
    let chunk = n.div_ceil(threads);
    let f = &f;
    std::thread::scope(|sc| {
        let hs: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|a| sc.spawn(move || (a..(a + chunk).min(n)).map(f).collect::<Vec<T>>()))
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

/// Floor fraction of clean constants: `(B - S*Dmax)/B`.
pub fn floor_fraction(p: &HccsParams) -> f64 {
    (p.b as f64 - p.s as f64 * p.dmax as f64) / p.b as f64
}

/// Coarse-to-fine search (see the module doc).
pub fn search(prob: &Problem, opts: &SearchOpts) -> Found {
    // Stage 1: coarse grid on the subsample.
    let mut coarse = Objective::new(prob.coarse.iter().collect(), prob.base.clone(), opts);
    let lambdas: Vec<f64> = if prob.search_lambda { prob.lambdas.clone() } else { vec![1.0] };
    let mut pts: Vec<(f64, f64, i32, f64)> = Vec::new(); // (obj, lambda, dmax, f)
    for &l in &lambdas {
        for &dm in &DMAX_GRID {
            for &f in &F_GRID {
                let p = params_from_shape(dm, f);
                pts.push((coarse.eval(l, &p), l, dm as i32, f));
            }
        }
    }
    // Stage 2a: pattern search on the subsample from the best distinct coarse points.
    let starts = distinct_best(&mut pts, 2 * opts.refine_top.max(1));
    let mut sub: Vec<(f64, f64, i32, f64)> = Vec::new();
    for &(_, l0, dm0, f0) in &starts {
        let st = Steps::coarse(prob.search_lambda, dm0);
        sub.push(refine(&mut coarse, l0, dm0, f0, st));
    }
    let mut evals = coarse.evals;
    drop(coarse);

    // Stage 2b: pattern search on all rows from the best few, with smaller first steps.
    let mut starts = distinct_best(&mut sub, opts.refine_top.max(1));
    if let Some((l, p)) = prob.start {
        starts.push((0.0, l, p.dmax.max(1) as i32, floor_fraction(&p)));
    }
    let mut full = Objective::new(prob.groups.clone(), prob.base.clone(), opts);
    let mut best: Option<(f64, f64, i32, f64)> = None;
    for &(_, l0, dm0, f0) in &starts {
        let st = Steps::fine(prob.search_lambda, dm0);
        let r = refine(&mut full, l0, dm0, f0, st);
        if best.is_none_or(|b| r.0 < b.0) {
            best = Some(r);
        }
    }
    let (mut obj, lambda, dm, f) = best.unwrap();
    let mut params = params_from_shape(dm as u8, f);

    // Stage 3: neighbouring integer pairs (B, S) of the same shape.
    let f = floor_fraction(&params);
    for s_pref in [127u8, 126, 124, 120, 112, 100, 90, 80, 64, 48, 32, 24, 16] {
        for db in [-1i32, 0, 1] {
            let mut p = params_from_shape_s(params.dmax, f, s_pref);
            p.b = (p.b as i32 + db).clamp(1, 32767) as u16;
            if !p.is_clean() || p == params {
                continue;
            }
            let o = full.eval(lambda, &p);
            if o < obj {
                obj = o;
                params = p;
            }
        }
    }
    evals += full.evals;
    Found { lambda, params, mean_kl: obj, evals }
}

/// The `k` best points of `pts` (sorted in place) that are not near-duplicates of each other.
fn distinct_best(pts: &mut [(f64, f64, i32, f64)], k: usize) -> Vec<(f64, f64, i32, f64)> {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64, i32, f64)> = Vec::new();
    for &pt in pts.iter() {
        if out.len() >= k {
            break;
        }
        let (_, l, dm, f) = pt;
        let dup = out.iter().any(|&(_, l2, dm2, f2)| {
            (l / l2).ln().abs() < 0.2 && (dm as f64 / dm2 as f64).ln().abs() < 0.3 && (f - f2).abs() < 0.04
        });
        if !dup {
            out.push(pt);
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
struct Steps {
    search_lambda: bool,
    /// Multiplicative step of lambda.
    ls: f64,
    ds: i32,
    fs: f64,
}

const LS_MIN: f64 = 1.007_246_412_223_704; // 2^(1/96)
const FS_MIN: f64 = 0.002;

impl Steps {
    fn coarse(search_lambda: bool, dm: i32) -> Self {
        Steps { search_lambda, ls: 2f64.powf(1.0 / 6.0), ds: (dm / 4).max(1), fs: 0.05 }
    }
    fn fine(search_lambda: bool, dm: i32) -> Self {
        Steps { search_lambda, ls: 2f64.powf(1.0 / 24.0), ds: (dm / 16).max(1), fs: 0.01 }
    }
}

/// Pattern search from (l0, dm0, f0); returns (objective, lambda, dmax, f) of the best point.
fn refine(obj: &mut Objective, l0: f64, dm0: i32, f0: f64, st: Steps) -> (f64, f64, i32, f64) {
    let search_lambda = st.search_lambda;
    let eval_at = |obj: &mut Objective, l: f64, dm: i32, f: f64| -> f64 {
        let p = params_from_shape(dm.clamp(1, 127) as u8, f);
        obj.eval(l, &p)
    };
    let (mut l, mut dm, mut f) = (l0, dm0, f0);
    let mut cur = eval_at(obj, l, dm, f);
    let mut ls: f64 = if search_lambda { st.ls } else { 1.0 };
    let mut ds = st.ds.max(1);
    let mut fs = st.fs;
    for _iter in 0..300 {
        let mut cands: Vec<(f64, i32, f64)> = Vec::new();
        if search_lambda {
            cands.push((l * ls, dm, f));
            cands.push((l / ls, dm, f));
            // Coupled move: finer/coarser resolution, same shape in logits.
            cands.push((l * ls, (dm as f64 * ls).round() as i32, f));
            cands.push((l / ls, (dm as f64 / ls).round() as i32, f));
        }
        cands.push((l, dm + ds, f));
        cands.push((l, dm - ds, f));
        cands.push((l, dm, (f + fs).min(0.95)));
        cands.push((l, dm, (f - fs).max(0.0)));
        let mut improved = false;
        for (cl, cd, cf) in cands {
            if !(1..=127).contains(&cd) || (cl == l && cd == dm && cf == f) {
                continue;
            }
            let o = eval_at(obj, cl, cd, cf);
            if o < cur - 1e-12 {
                cur = o;
                l = cl;
                dm = cd;
                f = cf;
                improved = true;
            }
        }
        if !improved {
            let at_min = (!search_lambda || ls <= LS_MIN * 1.0001) && ds == 1 && fs <= FS_MIN * 1.0001;
            if at_min {
                break;
            }
            if search_lambda {
                ls = ls.sqrt().max(LS_MIN);
            }
            ds = (ds / 2).max(1);
            fs = (fs / 2.0).max(FS_MIN);
        }
    }
    (cur, l, dm, f)
}

/// Best scale of one row set for fixed constants: pattern search in ln(scale) from `scale0`,
/// steps 2^(1/4) halving down to 2^(1/96). Returns (scale, mean KL).
pub fn refit_scale(set: &RowSet, scale0: f64, params: &HccsParams, opts: &SearchOpts) -> (f64, f64) {
    let mut obj = Objective::new(vec![set], vec![1.0], &SearchOpts { threads: 1, ..*opts });
    let mut l = scale0;
    let mut cur = obj.eval(l, params);
    let mut step = 2f64.powf(0.25);
    loop {
        let mut improved = false;
        for c in [l * step, l / step] {
            let o = obj.eval(c, params);
            if o < cur - 1e-12 {
                cur = o;
                l = c;
                improved = true;
                break;
            }
        }
        if !improved {
            if step <= LS_MIN * 1.0001 {
                break;
            }
            step = step.sqrt().max(LS_MIN);
        }
    }
    (l, cur)
}

/// Per-head scale candidates: 127/max|x_f| times 2^(k/3), k = -1..=9 (no clipping at all up to
/// 8x finer, where the largest logits saturate).
pub fn lambda_candidates(max_abs: f32) -> Vec<f64> {
    let base = 127.0 / (max_abs.max(1e-3) as f64);
    (-1..=9).map(|k| base * 2f64.powf(k as f64 / 3.0)).collect()
}

/// Runs the golden model over rows for both reciprocals: `(div, clb)`.
pub fn evaluate_both(
    data: &AttnData,
    rows: &[usize],
    scale: f64,
    params: &HccsParams,
    cfg: &HccsConfig,
) -> (Metrics, Metrics) {
    (
        evaluate(data, rows, scale, params, &cfg.with_recip(Recip::Div)),
        evaluate(data, rows, scale, params, &cfg.with_recip(Recip::Clb)),
    )
}

// ---------------------------------------------------------------------------------------
// The calibration file (params/hccs_minilm.json).

/// Constants and metrics of one head. In `SharedEntry::per_head` the constants are the shared
/// ones (and `scale` the scale that head used).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadEntry {
    pub layer: u16,
    pub head: u16,
    /// Quantiser scale: `x = clamp(round(x_f * scale), -128, 127)`.
    pub scale: f64,
    pub b: u16,
    pub s: u8,
    pub dmax: u8,
    /// DIV reciprocal (`hccs_softmax`), calibration rows.
    pub calib: Metrics,
    /// DIV reciprocal, held-out rows.
    pub heldout: Metrics,
    /// CLB reciprocal (`hccs_softmax_clb`), renormalised, same constants.
    pub clb_calib: Metrics,
    pub clb_heldout: Metrics,
}

impl HeadEntry {
    pub fn params(&self) -> HccsParams {
        HccsParams { b: self.b, s: self.s, dmax: self.dmax }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SharedEntry {
    pub description: String,
    /// The common scale, when the scale is shared too.
    pub scale: Option<f64>,
    pub b: u16,
    pub s: u8,
    pub dmax: u8,
    /// Over all heads.
    pub calib: Metrics,
    pub heldout: Metrics,
    pub clb_calib: Metrics,
    pub clb_heldout: Metrics,
    pub per_head: Vec<HeadEntry>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Totals {
    pub calib: Metrics,
    pub heldout: Metrics,
    pub clb_calib: Metrics,
    pub clb_heldout: Metrics,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Goals {
    /// Per-head held-out mean KL / shared held-out mean KL (DIV); goal <= 0.5.
    pub per_head_over_shared_heldout: f64,
    pub per_head_over_shared_calib: f64,
    pub goal_per_head_half_of_shared: bool,
    /// Per-head held-out mean KL / per-head calib mean KL (DIV, all heads); goal <= 1.2.
    pub heldout_over_calib: f64,
    pub goal_heldout_within_1_2: bool,
    /// Heads whose own held-out/calib ratio is <= 1.2.
    pub heads_heldout_within_1_2: usize,
    pub worst_head_heldout_over_calib: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CalibFile {
    pub model: String,
    pub data_file: String,
    pub data_rows: usize,
    pub split_rule: String,
    pub quantiser: String,
    pub objective: String,
    /// Guard of the objective and of `mean_kl` ([`KlGuard::PRIMARY`]).
    pub kl_guard: KlGuard,
    pub out_bits: u32,
    pub r: u32,
    pub max_len: usize,
    pub per_head: Vec<HeadEntry>,
    /// Totals of the per-head constants over all heads.
    pub per_head_total: Totals,
    /// One scale and one (B, S, Dmax) for every head.
    pub shared: SharedEntry,
    /// One (B, S, Dmax) for every head, each head keeping its own calibrated scale.
    pub shared_constants_per_head_scale: SharedEntry,
    /// The exact softmax at the same output width, for scale.
    pub reference_exact_floor: Reference,
    pub goals: Goals,
    /// The same calibration with the objective's guard replaced by the other guards.
    pub guard_sensitivity: Vec<Sensitivity>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sensitivity {
    pub description: String,
    pub guard: KlGuard,
    pub per_head: Vec<HeadEntry>,
    pub per_head_total: Totals,
    pub shared: SharedEntry,
    /// Goals measured with the KL this calibration minimised.
    pub goals: Goals,
}

/// Row-weighted combination of metrics (mean KL and top-1 weighted by rows, max of max).
pub fn combine<'a>(ms: impl IntoIterator<Item = &'a Metrics>) -> Metrics {
    let mut out = Metrics::default();
    let (mut kl, mut kle, mut klh, mut t1, mut t1s, mut tv, mut fl) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for m in ms {
        out.n_rows += m.n_rows;
        let w = m.n_rows as f64;
        kl += m.mean_kl * w;
        kle += m.mean_kl_eps6 * w;
        klh += m.mean_kl_half_lsb * w;
        t1 += m.top1 * w;
        t1s += m.top1_ties * w;
        tv += m.mean_tv * w;
        fl += m.mean_flushed * w;
        out.max_abs_err = out.max_abs_err.max(m.max_abs_err);
        out.flagged += m.flagged;
    }
    let n = out.n_rows.max(1) as f64;
    out.mean_kl = kl / n;
    out.mean_kl_eps6 = kle / n;
    out.mean_kl_half_lsb = klh / n;
    out.top1 = t1 / n;
    out.top1_ties = t1s / n;
    out.mean_tv = tv / n;
    out.mean_flushed = fl / n;
    out
}

/// The goals of the calibration, measured with the KL of `guard` (one of [`KlGuard::ALL`]).
pub fn goals(per_head: &[HeadEntry], t: &Totals, shared: &SharedEntry, guard: KlGuard) -> Goals {
    let kl = |m: &Metrics| m.kl(guard);
    let r_sh = kl(&t.heldout) / kl(&shared.heldout);
    let r_hc = kl(&t.heldout) / kl(&t.calib);
    let ratios: Vec<f64> = per_head.iter().map(|h| kl(&h.heldout) / kl(&h.calib)).collect();
    Goals {
        per_head_over_shared_heldout: r_sh,
        per_head_over_shared_calib: kl(&t.calib) / kl(&shared.calib),
        goal_per_head_half_of_shared: r_sh <= 0.5,
        heldout_over_calib: r_hc,
        goal_heldout_within_1_2: r_hc <= 1.2,
        heads_heldout_within_1_2: ratios.iter().filter(|&&r| r <= 1.2).count(),
        worst_head_heldout_over_calib: ratios.iter().cloned().fold(0.0, f64::max),
    }
}

pub fn totals(heads: &[HeadEntry]) -> Totals {
    Totals {
        calib: combine(heads.iter().map(|h| &h.calib)),
        heldout: combine(heads.iter().map(|h| &h.heldout)),
        clb_calib: combine(heads.iter().map(|h| &h.clb_calib)),
        clb_heldout: combine(heads.iter().map(|h| &h.clb_heldout)),
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReferenceHead {
    pub layer: u16,
    pub head: u16,
    pub calib: Metrics,
    pub heldout: Metrics,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    pub description: String,
    pub calib: Metrics,
    pub heldout: Metrics,
    pub per_head: Vec<ReferenceHead>,
}
