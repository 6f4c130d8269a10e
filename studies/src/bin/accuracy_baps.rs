//! Accuracy of BAPS softmax (golden model, bit-exact with the engine) and of the direct HiF8
//! baselines on the real MiniLM attention logits, against the f64 softmax.
//!
//! ```text
//! cargo run --release -p verif --bin accuracy_baps -- [--data PATH] [--out results/baps_accuracy.md]
//!     [--svg results/baps_kl.svg] [--rows N] [--threads 2]
//! ```
//! Relative output paths are taken from the workspace root. The logits (natural-base scores)
//! are multiplied by log2(e) in f64 and rounded to FP32: those FP32 base-2 scores are the
//! input of every scheme and of the reference.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::Parser;

use verif::attn::{self, AttnData};
use verif::golden::baps::*;
use verif::golden::fp::{BF16, FP16, FP32};

#[derive(Parser, Debug)]
#[command(about = "BAPS softmax and direct-HiF8 baselines vs the f64 softmax on the MiniLM attention logits")]
struct Args {
    /// ATTNLGT1 file of attention logits.
    #[arg(long, default_value = attn::DEFAULT_PATH)]
    data: PathBuf,
    /// Markdown report.
    #[arg(long, default_value = "results/baps_accuracy.md")]
    out: PathBuf,
    /// SVG plot of the mean KL per layer/head.
    #[arg(long, default_value = "results/baps_kl.svg")]
    svg: PathBuf,
    /// Evaluate only N rows, evenly spread over the file (default: all).
    #[arg(long)]
    rows: Option<usize>,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

/// Guard of the KL logarithms: KL = sum p_ref ln((p_ref + EPS) / (p + EPS)) + sum p - 1.
const KL_EPS: f64 = 1e-12;
const KL_TARGET: f64 = 1e-4;
const TOP1_TARGET: f64 = 0.995;
const RATIO_TARGET: f64 = 10.0;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Baps(BapsConfig),
    Direct(DirectMode, OutFormat),
    /// The f64 reference rounded to a format: the floor of any scheme with that output.
    Rounded(OutFormat),
    /// The exact softmax (f64) of the engine's own HiF8 inputs decode(h) + m_b, rounded to
    /// the engine's output format: what the engine would give with exact arithmetic.
    BapsIdeal(BapsConfig),
}

#[derive(Clone, Debug)]
struct Scheme {
    name: String,
    kind: Kind,
    /// Part of the main comparison (per-head tables, plot), or of the study only.
    main: bool,
}

fn schemes() -> Vec<Scheme> {
    let d = BapsConfig::default();
    let s = |name: &str, kind, main| Scheme {
        name: name.to_string(),
        kind,
        main,
    };
    let c2 = BapsConfig { max_offset: 2, ..d };
    let mut v = vec![
        s("BAPS, FP16 out", Kind::Baps(d), true),
        s("BAPS C = 2, FP16 out", Kind::Baps(c2), true),
        s(
            "BAPS, BF16 out",
            Kind::Baps(BapsConfig {
                out: OutFormat::Bf16,
                ..d
            }),
            true,
        ),
        s(
            "BAPS, HiF8 out",
            Kind::Baps(BapsConfig {
                out: OutFormat::Hif8,
                ..d
            }),
            true,
        ),
        s(
            "direct HiF8(t - rowmax), FP16 out",
            Kind::Direct(DirectMode::RowMax, OutFormat::Fp16),
            true,
        ),
        s(
            "direct HiF8(t), FP16 out",
            Kind::Direct(DirectMode::Raw, OutFormat::Fp16),
            true,
        ),
        s(
            "exact softmax rounded to FP16 (floor)",
            Kind::Rounded(OutFormat::Fp16),
            true,
        ),
        s(
            "exact softmax rounded to BF16",
            Kind::Rounded(OutFormat::Bf16),
            false,
        ),
        s(
            "exact softmax rounded to HiF8",
            Kind::Rounded(OutFormat::Hif8),
            false,
        ),
        s(
            "BAPS, FP32 EXP2, FP16 out",
            Kind::Baps(BapsConfig {
                exp_format: FP32,
                ..d
            }),
            false,
        ),
        s(
            "BAPS, BF16 EXP2, FP16 out",
            Kind::Baps(BapsConfig {
                exp_format: BF16,
                ..d
            }),
            false,
        ),
        s(
            "BAPS inputs (HiF8 h + m_b), exact softmax, FP16 out",
            Kind::BapsIdeal(d),
            false,
        ),
        s(
            "BAPS C = 2 inputs, exact softmax, FP16 out",
            Kind::BapsIdeal(c2),
            false,
        ),
    ];
    for b in [4usize, 8, 16, 64, 128, 256] {
        v.push(s(
            &format!("BAPS, BLOCK = {b}, FP16 out"),
            Kind::Baps(BapsConfig { block: b, ..d }),
            false,
        ));
    }
    v.push(s(
        "BAPS, BLOCK = 4, FP32 EXP2, FP16 out",
        Kind::Baps(BapsConfig {
            block: 4,
            exp_format: FP32,
            ..d
        }),
        false,
    ));
    for c in [1u8, 3] {
        v.push(s(
            &format!("BAPS C = {c}, FP16 out"),
            Kind::Baps(BapsConfig { max_offset: c, ..d }),
            false,
        ));
    }
    v.push(s(
        "BAPS C = 2, BF16 out",
        Kind::Baps(BapsConfig {
            out: OutFormat::Bf16,
            ..c2
        }),
        false,
    ));
    v.push(s(
        "BAPS C = 2, HiF8 out",
        Kind::Baps(BapsConfig {
            out: OutFormat::Hif8,
            ..c2
        }),
        false,
    ));
    v.push(s(
        "BAPS C = 2, FP32 EXP2, FP16 out",
        Kind::Baps(BapsConfig {
            exp_format: FP32,
            ..c2
        }),
        false,
    ));
    v.push(s(
        "BAPS C = 1, BLOCK = 4, FP16 out",
        Kind::Baps(BapsConfig {
            block: 4,
            max_offset: 1,
            ..d
        }),
        false,
    ));
    v.push(s(
        "(not a design) LANES = BLOCK = 1: an integer shift per element",
        Kind::Baps(BapsConfig {
            lanes: 1,
            block: 1,
            ..d
        }),
        false,
    ));
    v.push(s(
        "direct HiF8(t - rowmax), BF16 out",
        Kind::Direct(DirectMode::RowMax, OutFormat::Bf16),
        false,
    ));
    v
}

/// Accumulated metrics of one scheme over a set of rows.
#[derive(Clone, Debug, Default)]
struct Acc {
    n: usize,
    n_err: usize,
    sum_kl: f64,
    max_kl: f64,
    max_kl_row: usize,
    neg_kl_rows: usize,
    max_abs: f64,
    sum_row_max_abs: f64,
    top1: usize,
    top1_strict: usize,
    sum_mass_dev: f64,
    max_mass_dev: f64,
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        if self.n == 0 || o.max_kl > self.max_kl {
            self.max_kl = o.max_kl;
            self.max_kl_row = o.max_kl_row;
        }
        self.n += o.n;
        self.n_err += o.n_err;
        self.sum_kl += o.sum_kl;
        self.neg_kl_rows += o.neg_kl_rows;
        self.max_abs = self.max_abs.max(o.max_abs);
        self.sum_row_max_abs += o.sum_row_max_abs;
        self.top1 += o.top1;
        self.top1_strict += o.top1_strict;
        self.sum_mass_dev += o.sum_mass_dev;
        self.max_mass_dev = self.max_mass_dev.max(o.max_mass_dev);
    }
    fn mean_kl(&self) -> f64 {
        self.sum_kl / self.ok() as f64
    }
    fn ok(&self) -> usize {
        (self.n - self.n_err).max(1)
    }
    fn top1_frac(&self) -> f64 {
        self.top1 as f64 / self.ok() as f64
    }
    fn top1_strict_frac(&self) -> f64 {
        self.top1_strict as f64 / self.ok() as f64
    }
}

/// |d| bands (d = score minus the value subtracted before the cast), with the HiF8 step.
const BANDS: [(f64, &str); 9] = [
    (0.0, "0 (exact)"),
    (1.0 / 8.0, "(0, 1/8): step <= 2^-7"),
    (0.5, "[1/8, 1/2): step 2^-6..2^-5"),
    (1.0, "[1/2, 1): step 2^-4"),
    (2.0, "[1, 2): step 2^-3"),
    (4.0, "[2, 4): step 2^-2"),
    (8.0, "[4, 8): step 2^-1"),
    (16.0, "[8, 16): step 1"),
    (f64::INFINITY, "[16, ...): step >= 4"),
];

fn band_of(d: f64) -> usize {
    if d == 0.0 {
        0
    } else {
        BANDS
            .iter()
            .position(|&(hi, _)| d < hi)
            .unwrap_or(BANDS.len() - 1)
            .max(1)
    }
}

/// Reference mass and KL terms per |d| band.
#[derive(Clone, Debug, Default)]
struct BandAcc {
    mass: [f64; 9],
    kl: [f64; 9],
    count: [u64; 9],
}

impl BandAcc {
    fn merge(&mut self, o: &BandAcc) {
        for i in 0..9 {
            self.mass[i] += o.mass[i];
            self.kl[i] += o.kl[i];
            self.count[i] += o.count[i];
        }
    }
}

struct Worker {
    /// `[scheme][head]`
    acc: Vec<Vec<Acc>>,
    /// BAPS default, direct rowmax, BAPS C = 2.
    bands: [BandAcc; 3],
    /// `[scheme]`: per-row KL (for quantiles).
    kls: Vec<Vec<f32>>,
}

fn kl_term(pr: f64, p: f64) -> f64 {
    if pr == 0.0 {
        0.0
    } else {
        pr * ((pr + KL_EPS) / (p + KL_EPS)).ln()
    }
}

fn eval_row(row_idx: usize, t: &[f32], head: usize, schemes: &[Scheme], w: &mut Worker, pbuf: &mut Vec<f64>) {
    let pref = softmax_f64(t);
    let ref_top = argmax(&pref);
    for (si, s) in schemes.iter().enumerate() {
        let (out, fmt) = match s.kind {
            Kind::Baps(c) => (baps_row(t, &c), c.out),
            Kind::Direct(m, f) => (
                direct_hif8_row(
                    t,
                    &BapsConfig {
                        out: f,
                        ..BapsConfig::default()
                    },
                    m,
                ),
                f,
            ),
            Kind::Rounded(f) => (
                BapsOut {
                    p: pref.iter().map(|&x| f.round(x)).collect(),
                    err: false,
                },
                f,
            ),
            Kind::BapsIdeal(c) => {
                let tr = baps_row_trace(t, &c);
                if tr.out.err {
                    (tr.out, c.out)
                } else {
                    let v: Vec<f64> = (0..t.len())
                        .map(|i| verif::golden::hif8::decode(tr.h[i]) + tr.m_b[i / c.block] as f64)
                        .collect();
                    let mx = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let w: Vec<f64> = v.iter().map(|&x| (x - mx).exp2()).collect();
                    let sum: f64 = w.iter().sum();
                    (
                        BapsOut {
                            p: w.iter().map(|&x| c.out.round(x / sum)).collect(),
                            err: false,
                        },
                        c.out,
                    )
                }
            }
        };
        let a = &mut w.acc[si][head];
        a.n += 1;
        if out.err {
            a.n_err += 1;
            continue;
        }
        pbuf.clear();
        pbuf.extend(out.p.iter().map(|&b| fmt.decode(b)));
        let mut kl = 0.0;
        let mut max_abs = 0.0f64;
        let mut sum = 0.0;
        for (&pr, &p) in pref.iter().zip(pbuf.iter()) {
            kl += kl_term(pr, p);
            max_abs = max_abs.max((p - pr).abs());
            sum += p;
        }
        // Generalised KL of unnormalised p: the mass error enters at second order, >= 0.
        kl += sum - 1.0;
        a.sum_kl += kl;
        if kl > a.max_kl {
            a.max_kl = kl;
            a.max_kl_row = row_idx;
        }
        a.neg_kl_rows += (kl < 0.0) as usize;
        a.max_abs = a.max_abs.max(max_abs);
        a.sum_row_max_abs += max_abs;
        let pmax = pbuf.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        a.top1 += (pbuf[ref_top] == pmax) as usize;
        a.top1_strict += (argmax(pbuf) == ref_top) as usize;
        let dev = (sum - 1.0).abs();
        a.sum_mass_dev += dev;
        a.max_mass_dev = a.max_mass_dev.max(dev);
        w.kls[si].push(kl as f32);

        // Error attribution by |d| band for the default BAPS and the direct rowmax cast.
        let band_slot = match s.kind {
            Kind::Baps(c) if c == BapsConfig::default() => Some(0),
            Kind::Baps(c)
                if c == BapsConfig {
                    max_offset: 2,
                    ..BapsConfig::default()
                } =>
            {
                Some(2)
            }
            Kind::Direct(DirectMode::RowMax, OutFormat::Fp16) => Some(1),
            _ => None,
        };
        if let Some(bs) = band_slot {
            let rowmax = t.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
            let ba = &mut w.bands[bs];
            let block = BapsConfig::default().block;
            for (i, &x) in t.iter().enumerate() {
                let sub = if bs == 1 {
                    rowmax
                } else {
                    let c = if bs == 2 { 2 } else { 0 };
                    block_max_c(&t[i / block * block..((i / block + 1) * block).min(t.len())], c).unwrap()
                        as f64
                };
                let b = band_of((sub - x as f64).abs());
                ba.mass[b] += pref[i];
                ba.kl[b] += kl_term(pref[i], pbuf[i]) + pbuf[i] - pref[i];
                ba.count[b] += 1;
            }
        }
    }
}

fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

fn workspace_path(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join(p)
    }
}

fn data_label(p: &Path) -> String {
    if p == Path::new(attn::DEFAULT_PATH) {
        "shared/data/minilm-attn/calib.attnlog".to_string()
    } else {
        p.display().to_string()
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.threads >= 1, "--threads must be >= 1");
    let t0 = Instant::now();
    let data = AttnData::load(&args.data)?;
    let t_load = t0.elapsed().as_secs_f64();
    eprintln!(
        "loaded {} rows ({} logits) in {t_load:.2} s",
        data.len(),
        data.logits.len()
    );
    let nh = (data.n_layers * data.n_heads) as usize;
    let max_len = data.rows.iter().map(|r| r.len).max().unwrap_or(0);
    let schemes = schemes();
    for s in &schemes {
        if let Kind::Baps(c) = s.kind {
            c.validate().map_err(anyhow::Error::msg)?;
            ensure!(
                max_len <= c.max_len,
                "a row of {max_len} logits is longer than MAX_LEN = {}",
                c.max_len
            );
        }
    }
    let sel: Vec<usize> = match args.rows {
        Some(n) if n < data.len() => {
            ensure!(n >= 1, "--rows must be >= 1");
            (0..n).map(|k| k * data.len() / n).collect()
        }
        _ => (0..data.len()).collect(),
    };

    // Build the EXP2 tables once, before the workers start.
    let t_tab = Instant::now();
    for f in [FP16, BF16, FP32] {
        verif::golden::exp2::exp2_table(&f);
    }
    let t_tab = t_tab.elapsed().as_secs_f64();

    let t_eval0 = Instant::now();
    const CHUNK: usize = 512;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
    std::thread::scope(|sc| {
        for _ in 0..args.threads {
            sc.spawn(|| {
                let mut w = Worker {
                    acc: vec![vec![Acc::default(); nh]; schemes.len()],
                    bands: Default::default(),
                    kls: vec![Vec::new(); schemes.len()],
                };
                let mut t2: Vec<f32> = Vec::new();
                let mut pbuf = Vec::new();
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c * CHUNK >= sel.len() {
                        break;
                    }
                    for &ri in &sel[c * CHUNK..((c + 1) * CHUNK).min(sel.len())] {
                        let row = data.row(ri);
                        t2.clear();
                        t2.extend(
                            row.logits
                                .iter()
                                .map(|&x| (x as f64 * std::f64::consts::LOG2_E) as f32),
                        );
                        let head = row.layer as usize * data.n_heads as usize + row.head as usize;
                        eval_row(ri, &t2, head, &schemes, &mut w, &mut pbuf);
                    }
                }
                results.lock().unwrap().push(w);
            });
        }
    });
    let workers = results.into_inner().unwrap();
    let t_eval = t_eval0.elapsed().as_secs_f64();

    // Merge.
    let mut per_head = vec![vec![Acc::default(); nh]; schemes.len()];
    let mut bands: [BandAcc; 3] = Default::default();
    let mut kls: Vec<Vec<f32>> = vec![Vec::new(); schemes.len()];
    for w in &workers {
        for (si, heads) in per_head.iter_mut().enumerate() {
            for (a, wa) in heads.iter_mut().zip(&w.acc[si]) {
                a.merge(wa);
            }
            kls[si].extend_from_slice(&w.kls[si]);
        }
        for (b, wb) in bands.iter_mut().zip(&w.bands) {
            b.merge(wb);
        }
    }
    let totals: Vec<Acc> = per_head
        .iter()
        .map(|hs| {
            let mut t = Acc::default();
            for a in hs {
                t.merge(a);
            }
            t
        })
        .collect();
    for k in kls.iter_mut() {
        k.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    let total = t0.elapsed().as_secs_f64();

    let rep = Report {
        data: &data,
        data_label: data_label(&args.data),
        n_rows: sel.len(),
        subset: args.rows.is_some() && sel.len() < data.len(),
        threads: args.threads,
        schemes: &schemes,
        per_head: &per_head,
        totals: &totals,
        kls: &kls,
        bands: &bands,
        times: (t_load, t_tab, t_eval, total),
    };
    let out_path = workspace_path(&args.out);
    let svg_path = workspace_path(&args.svg);
    write(&out_path, &rep.markdown(&svg_path, &out_path))?;
    plot(&rep, &svg_path)?;
    for (s, t) in schemes.iter().zip(&totals) {
        eprintln!(
            "{:<42} mean KL {:.3e}  worst {:.3e}  max|dp| {:.4}  top-1 {:.3}%  err rows {}",
            s.name,
            t.mean_kl(),
            t.max_kl,
            t.max_abs,
            100.0 * t.top1_frac(),
            t.n_err
        );
    }
    eprintln!(
        "eval {t_eval:.1} s ({} threads), total {total:.1} s",
        args.threads
    );
    eprintln!("wrote {} and {}", out_path.display(), svg_path.display());
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

struct Report<'a> {
    data: &'a AttnData,
    data_label: String,
    n_rows: usize,
    subset: bool,
    threads: usize,
    schemes: &'a [Scheme],
    per_head: &'a [Vec<Acc>],
    totals: &'a [Acc],
    kls: &'a [Vec<f32>],
    bands: &'a [BandAcc; 3],
    times: (f64, f64, f64, f64),
}

fn quantile(v: &[f32], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * q).round() as usize] as f64
}

fn rel(from_dir: &Path, to: &Path) -> String {
    match (
        from_dir.canonicalize(),
        to.parent().and_then(|p| p.canonicalize().ok()),
    ) {
        (Ok(a), Some(b)) if a == b => to.file_name().unwrap().to_string_lossy().into_owned(),
        _ => to.display().to_string(),
    }
}

fn met(b: bool) -> &'static str {
    if b {
        "**met**"
    } else {
        "**NOT met**"
    }
}

impl Report<'_> {
    fn idx(&self, name: &str) -> usize {
        self.schemes.iter().position(|s| s.name == name).unwrap()
    }

    fn markdown(&self, svg: &Path, out: &Path) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let (t_load, t_tab, t_eval, total) = self.times;
        let baps = &self.totals[0];
        let i_c2 = self.idx("BAPS C = 2, FP16 out");
        let i_rm = self.idx("direct HiF8(t - rowmax), FP16 out");
        let i_raw = self.idx("direct HiF8(t), FP16 out");
        let i_floor = self.idx("exact softmax rounded to FP16 (floor)");
        let rm = &self.totals[i_rm];
        let raw = &self.totals[i_raw];
        let nh = self.data.n_heads as usize;

        writeln!(s, "# BAPS softmax accuracy on real attention logits\n").unwrap();
        writeln!(
            s,
            "Generated by `cargo run --release -p verif --bin accuracy_baps{}` from the golden \
             model `verif::golden::baps` (bit-exact with the `baps_softmax` engine contract). \
             Data: `{}`, all-MiniLM-L6-v2, {} rows{} of {} (6 layers x 12 heads), lengths 16..127. \
             Runtime: load {t_load:.1} s, EXP2 tables {t_tab:.1} s, evaluation of {} schemes \
             {t_eval:.1} s on {} threads, total {total:.1} s.\n",
            if self.subset {
                format!(" -- --rows {}", self.n_rows)
            } else {
                String::new()
            },
            self.data_label,
            self.n_rows,
            if self.subset {
                " (evenly spaced subset)"
            } else {
                ""
            },
            self.data.len(),
            self.schemes.len(),
            self.threads
        )
        .unwrap();
        writeln!(s, "## Method\n").unwrap();
        writeln!(
            s,
            "- Input of every scheme: base-2 scores `t = fp32(x * log2(e))` (x the stored logit, \
               product in f64, one rounding to FP32).\n\
             - Reference: `p_ref = 2^(t - max) / sum 2^(t - max)` in f64 (`softmax_f64`).\n\
             - BAPS: default engine (LANES = 4, BLOCK = 32, MAX_LEN = 256, FP16 EXP2, block \
               maximum m_b = ceil(max) as in spec/baps.md), output in FP16, BF16 or HiF8; \
               'C = 2' is the same engine with m_b = ceil(max) - 2 (contract parameter \
               `max_offset`, see below); contract in `verif/src/golden/baps.rs`.\n\
             - Direct HiF8: every score cast alone to HiF8 (TA) -- either `t - rowmax` (exact FP32 \
               row maximum, exact difference) or `t` itself (saturating) -- then the *exact* softmax \
               of the decoded values in f64, rounded once to FP16. This is generous to the \
               baselines: only the 8-bit input cast is charged to them.\n\
             - Floor: the exact softmax rounded to FP16 -- no FP16-output scheme can do better \
               on average.\n\
             - KL(p_ref || p) = sum_i p_ref,i ln((p_ref,i + eps) / (p_i + eps)) + (sum_i p_i - 1), \
               eps = {KL_EPS:e}, in nats, with p **as produced** (decoded output bits, not \
               renormalised). This is the generalised KL (I-divergence) of an unnormalised p: it \
               equals the KL when the outputs sum to 1, it is never negative, and a sum off 1 by \
               delta costs about delta^2 / 2 (the plain formula would reward sums above 1 at first \
               order, which made rounding-only schemes show negative means). eps only guards \
               p_i = 0 (an output flushed to zero); for p_ref,i >> eps it has no effect.\n\
             - Top-1: the reference's largest key also gets the largest output (ties in the \
               output count as agreement: a coarse output format often ties two keys). \
               'strict' takes the first index of the output's maximum instead.\n\
             - max |dp|: largest |p_i - p_ref,i| over all rows; 'mean row max' averages each \
               row's largest error.\n"
        )
        .unwrap();

        // Targets.
        writeln!(s, "## Targets\n").unwrap();
        writeln!(s, "| target | engine | measured | |\n|---|---|---|---|").unwrap();
        for (ename, si) in [("BAPS (spec, C = 0)", 0), ("BAPS C = 2", i_c2)] {
            let b = &self.totals[si];
            writeln!(
                s,
                "| mean KL <= {KL_TARGET:.0e} (FP16 out) | {ename} | {:.3e} | {} |",
                b.mean_kl(),
                met(b.mean_kl() <= KL_TARGET)
            )
            .unwrap();
            for (name, a) in [("direct HiF8(t)", raw), ("direct HiF8(t - rowmax)", rm)] {
                let r = a.mean_kl() / b.mean_kl();
                writeln!(
                    s,
                    "| mean KL >= {RATIO_TARGET:.0}x lower than {name} | {ename} | {:.3e} / {:.3e} = {r:.2}x | {} |",
                    a.mean_kl(),
                    b.mean_kl(),
                    met(r >= RATIO_TARGET)
                )
                .unwrap();
            }
            writeln!(
                s,
                "| top-1 agreement >= {:.1} % | {ename} | {:.3} % (strict {:.3} %) | {} |",
                100.0 * TOP1_TARGET,
                100.0 * b.top1_frac(),
                100.0 * b.top1_strict_frac(),
                format!(
                    "{} with ties counted, {} strict",
                    met(b.top1_frac() >= TOP1_TARGET),
                    met(b.top1_strict_frac() >= TOP1_TARGET)
                )
            )
            .unwrap();
        }
        writeln!(
            s,
            "\nWhy they are not met, and what helps: see **Findings** below.\n"
        )
        .unwrap();

        // Summary.
        writeln!(s, "## Overall (all rows)\n").unwrap();
        writeln!(
            s,
            "| scheme | mean KL | median KL | p99 KL | worst-row KL | max \\|dp\\| | mean row max \\|dp\\| | top-1 % | top-1 strict % | mean \\|sum p - 1\\| | max \\|sum p - 1\\| | err rows |"
        )
        .unwrap();
        writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|").unwrap();
        let line = |s: &mut String, si: usize| {
            let a = &self.totals[si];
            writeln!(
                s,
                "| {} | {:.3e} | {:.3e} | {:.3e} | {:.3e} | {:.2e} | {:.2e} | {:.3} | {:.3} | {:.2e} | {:.2e} | {} |",
                self.schemes[si].name,
                a.mean_kl(),
                quantile(&self.kls[si], 0.5),
                quantile(&self.kls[si], 0.99),
                a.max_kl,
                a.max_abs,
                a.sum_row_max_abs / a.ok() as f64,
                100.0 * a.top1_frac(),
                100.0 * a.top1_strict_frac(),
                a.sum_mass_dev / a.ok() as f64,
                a.max_mass_dev,
                a.n_err
            )
            .unwrap();
        };
        for si in 0..self.schemes.len() {
            if self.schemes[si].main {
                line(&mut s, si);
            }
        }
        writeln!(s, "\n### Study: block size, EXP2 precision, output format\n").unwrap();
        writeln!(
            s,
            "| scheme | mean KL | median KL | p99 KL | worst-row KL | max \\|dp\\| | mean row max \\|dp\\| | top-1 % | top-1 strict % | mean \\|sum p - 1\\| | max \\|sum p - 1\\| | err rows |"
        )
        .unwrap();
        writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|").unwrap();
        line(&mut s, 0);
        for si in 0..self.schemes.len() {
            if !self.schemes[si].main {
                line(&mut s, si);
            }
        }

        // Error attribution.
        writeln!(
            s,
            "\n### Where the error comes from: HiF8 step at the distance from the subtracted maximum\n"
        )
        .unwrap();
        writeln!(
            s,
            "Each element's d = (value subtracted before the cast) - t: for BAPS the integer block \
             maximum m_b (C = 0: ceil(max), C = 2: ceil(max) - 2, so |d| of the top elements is \
             in [1, 2]), for the direct cast the exact row maximum. Per band of |d|: the share \
             of the elements, of the reference probability mass, and the sum of the KL terms \
             p_ref ln(p_ref / p) + p - p_ref of those elements (per row, averaged over rows; the \
             bands add up to the mean KL).\n"
        )
        .unwrap();
        writeln!(
            s,
            "| \\|d\\| band (HiF8 step) | BAPS C = 0: elements % | mass % | KL share | BAPS C = 2: elements % | mass % | KL share | direct(t - rowmax): elements % | mass % | KL share |"
        )
        .unwrap();
        writeln!(s, "|---|---|---|---|---|---|---|---|---|---|").unwrap();
        let n = self.n_rows as f64;
        let cnt: Vec<f64> = self
            .bands
            .iter()
            .map(|b| b.count.iter().sum::<u64>() as f64)
            .collect();
        for (bi, (_, name)) in BANDS.iter().enumerate() {
            write!(s, "| {name} |").unwrap();
            for slot in [0usize, 2, 1] {
                let b = &self.bands[slot];
                write!(
                    s,
                    " {:.2} | {:.2} | {:.3e} |",
                    100.0 * b.count[bi] as f64 / cnt[slot],
                    100.0 * b.mass[bi] / n,
                    b.kl[bi] / n
                )
                .unwrap();
            }
            writeln!(s).unwrap();
        }
        writeln!(s).unwrap();
        s.push_str(&self.analysis());

        // Per head.
        writeln!(s, "\n## Per layer/head: mean KL\n").unwrap();
        writeln!(
            s,
            "![mean KL per layer/head]({})\n",
            rel(out.parent().unwrap(), svg)
        )
        .unwrap();
        let main: Vec<usize> = (0..self.schemes.len())
            .filter(|&i| self.schemes[i].main)
            .collect();
        write!(s, "| layer/head | rows |").unwrap();
        for &i in &main {
            write!(s, " {} |", self.schemes[i].name).unwrap();
        }
        writeln!(s).unwrap();
        writeln!(s, "|---|---|{}", "---|".repeat(main.len())).unwrap();
        for h in 0..self.per_head[0].len() {
            write!(s, "| L{}H{} | {} |", h / nh, h % nh, self.per_head[0][h].n).unwrap();
            for &i in &main {
                write!(s, " {:.2e} |", self.per_head[i][h].mean_kl()).unwrap();
            }
            writeln!(s).unwrap();
        }
        write!(s, "| **all** | {} |", baps.n).unwrap();
        for &i in &main {
            write!(s, " **{:.2e}** |", self.totals[i].mean_kl()).unwrap();
        }
        writeln!(s).unwrap();

        let cmp: Vec<usize> = main.iter().cloned().filter(|&i| i != i_floor).collect();
        writeln!(
            s,
            "\n## Per layer/head: worst-row KL / max \\|dp\\| / top-1 % (strict)\n"
        )
        .unwrap();
        write!(s, "| layer/head |").unwrap();
        for &i in &cmp {
            write!(s, " {} |", self.schemes[i].name).unwrap();
        }
        writeln!(s).unwrap();
        writeln!(s, "|---|{}", "---|".repeat(cmp.len())).unwrap();
        for h in 0..self.per_head[0].len() {
            write!(s, "| L{}H{} |", h / nh, h % nh).unwrap();
            for &i in &cmp {
                let a = &self.per_head[i][h];
                write!(
                    s,
                    " {:.1e} / {:.3} / {:.2} ({:.2}) |",
                    a.max_kl,
                    a.max_abs,
                    100.0 * a.top1_frac(),
                    100.0 * a.top1_strict_frac()
                )
                .unwrap();
            }
            writeln!(s).unwrap();
        }
        s
    }

    /// Findings, computed from the numbers so that they stay true when the data changes.
    fn analysis(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let get = |name: &str| &self.totals[self.idx(name)];
        let kl = |name: &str| get(name).mean_kl();
        let c0 = kl("BAPS, FP16 out");
        let c1 = kl("BAPS C = 1, FP16 out");
        let c2 = kl("BAPS C = 2, FP16 out");
        let c3 = kl("BAPS C = 3, FP16 out");
        let floor = kl("exact softmax rounded to FP16 (floor)");
        let fp32x = kl("BAPS, FP32 EXP2, FP16 out");
        let bf16x = kl("BAPS, BF16 EXP2, FP16 out");
        let rm = kl("direct HiF8(t - rowmax), FP16 out");
        let raw = kl("direct HiF8(t), FP16 out");
        let b4 = kl("BAPS, BLOCK = 4, FP16 out");
        let b8 = kl("BAPS, BLOCK = 8, FP16 out");
        let b16 = kl("BAPS, BLOCK = 16, FP16 out");
        let b256 = kl("BAPS, BLOCK = 256, FP16 out");
        let b4c1 = kl("BAPS C = 1, BLOCK = 4, FP16 out");
        let per_el = kl("(not a design) LANES = BLOCK = 1: an integer shift per element");
        let hif8_out = kl("BAPS, HiF8 out");
        let hif8_floor = kl("exact softmax rounded to HiF8");
        let ideal0 = kl("BAPS inputs (HiF8 h + m_b), exact softmax, FP16 out");
        let ideal2 = kl("BAPS C = 2 inputs, exact softmax, FP16 out");
        let n = self.n_rows as f64;
        let b0 = &self.bands[0];
        let tot0: f64 = b0.kl.iter().sum();
        let far_mass: f64 = (5..9).map(|i| b0.mass[i]).sum::<f64>() / n;
        let far_kl: f64 = (5..9).map(|i| b0.kl[i]).sum::<f64>();
        let near_mass: f64 = (0..4).map(|i| b0.mass[i]).sum::<f64>() / n;
        // Per-head comparison with the raw cast.
        let i_raw = self.idx("direct HiF8(t), FP16 out");
        let i_c2 = self.idx("BAPS C = 2, FP16 out");
        let nh = self.data.n_heads as usize;
        let ratio = |si: usize| -> Vec<f64> {
            (0..self.per_head[0].len())
                .map(|h| self.per_head[i_raw][h].mean_kl() / self.per_head[si][h].mean_kl())
                .collect()
        };
        let r0 = ratio(0);
        let r2 = ratio(i_c2);
        let heads = r0.len();
        let cnt = |r: &[f64], f: &dyn Fn(f64) -> bool| r.iter().filter(|&&x| f(x)).count();
        let (best_h, best_r) = r0
            .iter()
            .enumerate()
            .fold((0, 0.0), |a, (h, &x)| if x > a.1 { (h, x) } else { a });
        let t0 = get("BAPS, FP16 out");
        let t2 = get("BAPS C = 2, FP16 out");
        let t1 = get("BAPS C = 1, FP16 out");
        let trm = get("direct HiF8(t - rowmax), FP16 out");

        writeln!(s, "## Findings\n").unwrap();
        writeln!(
            s,
            "1. **The 8-bit cast is the whole error; the arithmetic is not.** The exact softmax \
             rounded to FP16 has mean KL {floor:.1e}; BAPS with an FP32 (or BF16) EXP2 instead of \
             FP16 has {fp32x:.4e} ({bf16x:.4e}) vs {c0:.4e}, and the exact f64 softmax of the \
             engine's own inputs decode(h) + m_b has {ideal0:.4e} (C = 2: {ideal2:.4e} vs \
             {c2:.4e}): EXP2 precision, the FP32 accumulation and the reciprocal contribute \
             nothing measurable. HiF8 keeps 3 mantissa bits, so the \
             quantisation error of d = t - m_b is proportional to |d| (step 1/8 at |d| in [1, 2), \
             1/4 at [2, 4), 1/2 at [4, 8)), and 2^d turns an error of delta in d into a relative \
             error of delta ln 2 in the probability (up to 9 % at |d| in [2, 4), 19 % at [4, 8))."
        )
        .unwrap();
        writeln!(
            s,
            "2. **Where the KL comes from (band table above).** With the spec's m_b = ceil(max) \
             (C = 0), {:.0} % of the reference mass sits at |d| < 1 (fine steps), but the {:.0} % \
             at |d| >= 2 produces {:.0} % of the KL. Only the top of each block is precise; the \
             second tier of keys, typically 2..8 binades below, is on HiF8's coarse grid.",
            100.0 * near_mass,
            100.0 * far_mass,
            100.0 * far_kl / tot0
        )
        .unwrap();
        writeln!(
            s,
            "3. **Block size** (C = 0): BLOCK = 4 / 8 / 16 / 32 / 256 give {b4:.2e} / {b8:.2e} / \
             {b16:.2e} / {c0:.2e} / {b256:.2e}. Smaller blocks bring more keys close to their own \
             integer maximum, at one int16 per block. Even an integer shift per element (not a \
             design: it is as many bytes as FP16) only reaches {per_el:.2e}: with 8-bit HiF8 \
             inputs, 1e-4 needs blocks of about 4 keys (BLOCK = 4, C = 1: {b4c1:.2e})."
        )
        .unwrap();
        writeln!(
            s,
            "4. **Offset C (m_b = ceil(max) - C), free in hardware.** HiF8 is symmetric, so \
             moving the block's integer reference below its maximum puts the heavy second tier \
             on the fine grid and the top key on the (still fine) positive side: C = 0 / 1 / 2 / 3 \
             give {c0:.2e} / {c1:.2e} / {c2:.2e} / {c3:.2e}. C = 1 is better on every metric \
             (strict top-1 {:.2} % vs {:.2} %, max |dp| {:.4} vs {:.4}); C = 2 has the lowest KL \
             at BLOCK = 32 ({:.1}x below the spec engine) but more output ties at the top (the top \
             key sits at |d| in (1, 2], step 1/8): strict top-1 {:.2} %.",
            100.0 * t1.top1_strict_frac(),
            100.0 * t0.top1_strict_frac(),
            t1.max_abs,
            t0.max_abs,
            c0 / c2,
            100.0 * t2.top1_strict_frac()
        )
        .unwrap();
        writeln!(
            s,
            "5. **Versus the direct casts.** Against HiF8(t - rowmax) BAPS gains only {:.2}x \
             (C = 0) / {:.2}x (C = 2): that baseline subtracts the exact row maximum, so its top \
             key is exact (d = 0), and this model's rows are short (16..127 keys, 1..4 blocks). \
             Against HiF8(t) the gain is {:.2}x / {:.2}x overall, but it depends on the logit \
             range: on the range stress head L{}H{} (base-2 logits up to ~68, HiF8 step 8 there) \
             BAPS is {best_r:.0}x better (worst row {:.1e} vs {:.1e}); BAPS is >= 10x better on \
             {} / {heads} heads (C = 2: {}), and worse on {} / {heads} heads (C = 2: {}): heads \
             whose logits stay within a few units of 0, where HiF8's grid is finest.",
            rm / c0,
            rm / c2,
            raw / c0,
            raw / c2,
            best_h / nh,
            best_h % nh,
            self.per_head[0][best_h].max_kl,
            self.per_head[i_raw][best_h].max_kl,
            cnt(&r0, &|x| x >= 10.0),
            cnt(&r2, &|x| x >= 10.0),
            cnt(&r0, &|x| x < 1.0),
            cnt(&r2, &|x| x < 1.0)
        )
        .unwrap();
        writeln!(
            s,
            "6. **Top-1.** The reference's top key always receives the largest output (100 %), but \
             in {:.2} % of rows (C = 0) it ties with another key after quantisation, so the \
             strict (first index) agreement is {:.2} %, below 99.5 %; the direct HiF8(t - rowmax) \
             cast, with its exact top key, ties in only {:.3} %.",
            100.0 * (1.0 - t0.top1_strict_frac()),
            100.0 * t0.top1_strict_frac(),
            100.0 * (1.0 - trm.top1_strict_frac())
        )
        .unwrap();
        writeln!(
            s,
            "7. **Output formats.** BF16 output costs nothing in KL here (its larger rounding \
             shows in the sum of p); HiF8 output has {hif8_out:.2e}, against {hif8_floor:.2e} for the \
             exact softmax rounded to HiF8.\n"
        )
        .unwrap();
        writeln!(
            s,
            "**Conclusion.** The targets (mean KL <= 1e-4, >= 10x below direct HiF8) are not \
             reachable with an 8-bit HiF8 score input and BLOCK = 32 on this data: the error is \
             the input cast, not the engine (whose arithmetic matches an exact softmax of its \
             HiF8 inputs, finding 1). Cheapest improvement: C = 1 (better on all \
             metrics) or C = 2 (lowest KL), both a constant in the block-maximum unit; further \
             gains need smaller blocks (BLOCK = 4 with C = 1: {b4c1:.2e}) or more input bits."
        )
        .unwrap();
        s
    }
}

fn plot(rep: &Report, path: &Path) -> Result<()> {
    use plotters::prelude::*;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let colors = [
        BLUE,
        CYAN,
        RGBColor(0, 150, 0),
        RGBColor(230, 150, 0),
        RED,
        MAGENTA,
        RGBColor(120, 120, 120),
    ];
    let main: Vec<usize> = (0..rep.schemes.len()).filter(|&i| rep.schemes[i].main).collect();
    let series: Vec<(String, Vec<f64>, RGBColor)> = main
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            (
                rep.schemes[i].name.clone(),
                rep.per_head[i].iter().map(|a| a.mean_kl()).collect(),
                colors[k % colors.len()],
            )
        })
        .collect();
    let n = rep.per_head[0].len();
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.1.iter().cloned())
        .filter(|v| *v > 0.0)
        .collect();
    let lo = all.iter().cloned().fold(f64::INFINITY, f64::min).max(1e-9) / 2.0;
    let hi = all.iter().cloned().fold(0.0, f64::max) * 3.0;
    let e = |e: DrawingAreaErrorKind<_>| anyhow::anyhow!("plot: {e:?}");
    let root = SVGBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Mean KL(p_ref || p) per layer/head: BAPS vs direct HiF8 (all-MiniLM-L6-v2, base-2 scores)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("head index = 12 x layer + head")
        .y_desc("mean KL (nats)")
        .x_labels(13)
        .x_label_formatter(&|v| format!("{}", v.round() as i64))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(e)?;
    for (k, (name, ys, color)) in series.into_iter().enumerate() {
        let pts: Vec<(f64, f64)> = ys
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f64, v.max(lo)))
            .collect();
        // The first series (the spec engine) is drawn thick: BF16 output lies on top of it.
        let w = if k == 0 { 4 } else { 1 };
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(w)))
            .map_err(e)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 2, color.filled())))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
