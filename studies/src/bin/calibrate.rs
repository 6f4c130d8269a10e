//! HCCS per-head calibration on the real MiniLM attention logits, and the accuracy report.
//!
//! ```text
//! cargo run --release -p verif --bin calibrate -- [--data PATH] [--out params/hccs_minilm.json]
//!     [--report results/hccs_accuracy.md] [--plot results/hccs_kl.svg] [--threads 2]
//! cargo run --release -p verif --bin calibrate -- --eval-only    # re-evaluate --out, rewrite report
//! ```
//! Relative output paths are taken from the workspace root. See `studies::hccs_calib` for the
//! method and the metrics.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use verif::attn::{self, AttnData};
use verif::golden::hccs::{HccsConfig, HccsParams};
use studies::hccs_calib::*;

#[derive(Parser, Debug)]
#[command(about = "Calibrate HCCS constants per attention head on the MiniLM logits and report accuracy")]
struct Args {
    /// ATTNLGT1 file of attention logits.
    #[arg(long, default_value = attn::DEFAULT_PATH)]
    data: PathBuf,
    /// Calibration JSON to write (or read with --eval-only).
    #[arg(long, default_value = "params/hccs_minilm.json")]
    out: PathBuf,
    /// Markdown accuracy report.
    #[arg(long, default_value = "results/hccs_accuracy.md")]
    report: PathBuf,
    /// SVG plot of the KL per head.
    #[arg(long, default_value = "results/hccs_kl.svg")]
    plot: PathBuf,
    /// Worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Output width (8 or 16).
    #[arg(long, default_value_t = 8)]
    out_bits: u32,
    /// DIV reciprocal fraction bits.
    #[arg(long, default_value_t = 15)]
    r: u32,
    /// Rows per head in the coarse stage of the search.
    #[arg(long, default_value_t = 256)]
    coarse_rows: usize,
    /// Coarse points refined on all rows per problem.
    #[arg(long, default_value_t = 3)]
    refine_top: usize,
    /// Skip the calibrations with the other KL guards (sensitivity section of the report).
    #[arg(long)]
    no_sensitivity: bool,
    /// Skip the search: re-evaluate the constants in --out and rewrite report and plot.
    #[arg(long)]
    eval_only: bool,
}

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2 (6 layers x 12 heads, head_dim 32)";
const SHARED_DESC: &str = "one quantiser scale and one (B, S, Dmax) for all 72 heads (per-tensor \
    quantiser), same search on all heads' calibration rows pooled";
const SHAREDC_DESC: &str = "one (B, S, Dmax) for all heads with a per-head quantiser scale: \
    alternating search from the shared set (each head's scale for the constants, then the \
    constants on all heads pooled with the scales fixed; 2 rounds, then the scales once more)";

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

/// Constants found by one calibration.
struct Consts {
    per_head: Vec<(f64, HccsParams)>,
    shared: (f64, HccsParams),
    /// Shared constants with per-head scales (not run for the sensitivity calibration).
    sharedc: Option<(Vec<f64>, HccsParams)>,
}

struct Ctx<'a> {
    data: &'a AttnData,
    groups: Vec<[Vec<usize>; 2]>,
    cfg: HccsConfig,
    threads: usize,
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("calibrate: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    ensure!(args.out_bits == 8 || args.out_bits == 16, "--out-bits must be 8 or 16");
    ensure!(args.threads >= 1, "--threads must be >= 1");
    let t0 = Instant::now();
    let data = AttnData::load(&args.data)?;
    let t_load = t0.elapsed().as_secs_f64();
    eprintln!("loaded {} rows ({} logits) in {t_load:.2} s", data.len(), data.logits.len());
    let cfg = HccsConfig { out_bits: args.out_bits, r: args.r, ..HccsConfig::default() };
    let ctx = Ctx { data: &data, groups: data.by_head(), cfg, threads: args.threads };
    let nh = ctx.groups.len();
    for (h, g) in ctx.groups.iter().enumerate() {
        ensure!(!g[0].is_empty() && !g[1].is_empty(), "head {h} has no calibration or no held-out rows");
    }
    let max_len = data.rows.iter().map(|r| r.len).max().unwrap_or(0);
    ensure!(max_len <= cfg.max_len, "a row of {max_len} logits is longer than MAX_LEN = {}", cfg.max_len);

    let out_path = workspace_path(&args.out);
    let t_search0 = Instant::now();
    let (main_c, sens_c) = if args.eval_only {
        let text = std::fs::read_to_string(&out_path)
            .with_context(|| format!("--eval-only: cannot read {}", out_path.display()))?;
        let f: CalibFile = serde_json::from_str(&text).with_context(|| format!("{}", out_path.display()))?;
        ensure!(f.per_head.len() == nh, "{}: {} heads, data has {nh}", out_path.display(), f.per_head.len());
        let scs = &f.shared_constants_per_head_scale;
        ensure!(scs.per_head.len() == nh, "shared_constants_per_head_scale: {} heads", scs.per_head.len());
        let main_c = Consts {
            per_head: f.per_head.iter().map(|h| (h.scale, h.params())).collect(),
            shared: (f.shared.scale.context("shared.scale missing")?, p_of(&f.shared)),
            sharedc: Some((scs.per_head.iter().map(|h| h.scale).collect(), p_of(scs))),
        };
        let mut sens_c = Vec::new();
        if !args.no_sensitivity {
            for s in &f.guard_sensitivity {
                let c = Consts {
                    per_head: s.per_head.iter().map(|h| (h.scale, h.params())).collect(),
                    shared: (s.shared.scale.context("sensitivity shared.scale missing")?, p_of(&s.shared)),
                    sharedc: None,
                };
                sens_c.push((s.guard, c));
            }
        }
        (main_c, sens_c)
    } else {
        let alt: &[KlGuard] = if args.no_sensitivity { &[] } else { &[KlGuard::EPS6, KlGuard::HALF_LSB] };
        let pb = ProgressBar::new((nh as u64 + 2) + alt.len() as u64 * (nh as u64 + 1));
        pb.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}")
                .unwrap()
                .progress_chars("=> "),
        );
        pb.set_message("preparing rows");
        let sets: Vec<RowSet> = par_map(args.threads, nh, |h| RowSet::new(&data, &ctx.groups[h][0]));
        let main_c = run_search(&sets, &args, KlGuard::PRIMARY, true, &pb, "");
        let sens_c: Vec<(KlGuard, Consts)> = alt
            .iter()
            .map(|&g| (g, run_search(&sets, &args, g, false, &pb, &format!("guard {}: ", g.name()))))
            .collect();
        pb.finish_with_message("search done");
        (main_c, sens_c)
    };
    let t_search = t_search0.elapsed().as_secs_f64();

    // Golden-model metrics of every set of constants.
    let t_eval0 = Instant::now();
    let per_head = eval_heads(&ctx, &|h| main_c.per_head[h]);
    let shared = shared_entry(SHARED_DESC, Some(main_c.shared.0), main_c.shared.1, eval_heads(&ctx, &|_| main_c.shared));
    let (scs, scp) = main_c.sharedc.clone().expect("main calibration has shared constants/per-head scale");
    let sharedc = shared_entry(SHAREDC_DESC, None, scp, eval_heads(&ctx, &|h| (scs[h], scp)));
    let reference: Vec<ReferenceHead> = par_map(args.threads, nh, |h| ReferenceHead {
        layer: (h / data.n_heads as usize) as u16,
        head: (h % data.n_heads as usize) as u16,
        calib: evaluate_exact_floor(&data, &ctx.groups[h][0], cfg.out_bits),
        heldout: evaluate_exact_floor(&data, &ctx.groups[h][1], cfg.out_bits),
    });
    let sensitivity: Vec<Sensitivity> = sens_c
        .iter()
        .map(|(g, c)| {
            let per_head = eval_heads(&ctx, &|h| c.per_head[h]);
            let shared = shared_entry(SHARED_DESC, Some(c.shared.0), c.shared.1, eval_heads(&ctx, &|_| c.shared));
            let t = totals(&per_head);
            Sensitivity {
                description: format!(
                    "the same search (per head, and the shared set) with an output 0 read as {} in the \
                     KL objective; goals measured with that KL",
                    g.name()
                ),
                guard: *g,
                goals: goals(&per_head, &t, &shared, *g),
                per_head_total: t,
                per_head,
                shared,
            }
        })
        .collect();
    let t_eval = t_eval0.elapsed().as_secs_f64();

    // Validation: constants in range, B >= S*Dmax, B > 0 (so Z > 0), no row flagged.
    let mut all: Vec<&HeadEntry> = per_head.iter().chain(&shared.per_head).chain(&sharedc.per_head).collect();
    for s in &sensitivity {
        all.extend(s.per_head.iter().chain(&s.shared.per_head));
    }
    for e in all {
        let p = e.params();
        ensure!(p.is_clean(), "L{}H{}: constants {p:?} not clean (range, B >= S*Dmax, B > 0)", e.layer, e.head);
        ensure!(e.scale.is_finite() && e.scale > 0.0, "L{}H{}: bad scale {}", e.layer, e.head, e.scale);
        for m in [&e.calib, &e.heldout, &e.clb_calib, &e.clb_heldout] {
            ensure!(m.flagged == 0, "L{}H{}: {} rows flagged", e.layer, e.head, m.flagged);
        }
    }

    let per_head_total = totals(&per_head);
    let goals = goals(&per_head, &per_head_total, &shared, KlGuard::PRIMARY);
    let file = CalibFile {
        model: MODEL.to_string(),
        data_file: data_label(&args.data),
        data_rows: data.len(),
        split_rule: attn::SPLIT_RULE.to_string(),
        quantiser: "x = clamp(round_half_away_from_zero(x_f * scale), -128, 127), product in f64".into(),
        objective: "per head: minimise the mean over calibration rows of KL(softmax(x_f) || q), q = HCCS-DIV \
                    output renormalised with zeros guarded: q_i = max(p_i, g) / sum_j max(p_j, g), \
                    g = max(kl_guard.lsb, kl_guard.rel_eps * sum p)"
            .into(),
        kl_guard: KlGuard::PRIMARY,
        out_bits: cfg.out_bits,
        r: cfg.r,
        max_len: cfg.max_len,
        per_head,
        per_head_total,
        shared,
        shared_constants_per_head_scale: sharedc,
        reference_exact_floor: Reference {
            description: format!(
                "exact softmax of the float logits floored to OUT_BITS = {} (p_i = floor(T * P_i)), \
                 what an exact exp with the DIV output stage would give",
                cfg.out_bits
            ),
            calib: combine(reference.iter().map(|r| &r.calib)),
            heldout: combine(reference.iter().map(|r| &r.heldout)),
            per_head: reference,
        },
        goals,
        guard_sensitivity: sensitivity,
    };

    if !args.eval_only {
        write(&out_path, &(json_text(&serde_json::to_string_pretty(&file)?) + "\n"))?;
    }
    let times = Times {
        load: t_load,
        search: t_search,
        eval: t_eval,
        total: t0.elapsed().as_secs_f64(),
        threads: args.threads,
    };
    let report_path = workspace_path(&args.report);
    let plot_path = workspace_path(&args.plot);
    write(&report_path, &report(&file, &times, args.eval_only, &plot_path, &report_path))?;
    plot(&file, &plot_path)?;
    let ph = &file.per_head_total;
    eprintln!(
        "mean KL (DIV, calib / held-out): per-head {:.4} / {:.4} | shared {:.4} / {:.4} | shared consts + per-head scale {:.4} / {:.4}",
        ph.calib.mean_kl,
        ph.heldout.mean_kl,
        file.shared.calib.mean_kl,
        file.shared.heldout.mean_kl,
        file.shared_constants_per_head_scale.calib.mean_kl,
        file.shared_constants_per_head_scale.heldout.mean_kl,
    );
    eprintln!(
        "goals: per-head/shared {:.3} ({}), held-out/calib {:.3} ({}); search {t_search:.1} s, eval {t_eval:.1} s, total {:.1} s",
        file.goals.per_head_over_shared_heldout,
        met(file.goals.goal_per_head_half_of_shared),
        file.goals.heldout_over_calib,
        met(file.goals.goal_heldout_within_1_2),
        times.total
    );
    if !args.eval_only {
        eprintln!("wrote {}", out_path.display());
    }
    eprintln!("wrote {} and {}", report_path.display(), plot_path.display());
    Ok(())
}

fn eval_heads(ctx: &Ctx, consts: &(dyn Fn(usize) -> (f64, HccsParams) + Sync)) -> Vec<HeadEntry> {
    let nh = ctx.groups.len();
    let n_heads = ctx.data.n_heads as usize;
    par_map(ctx.threads, nh, |h| {
        let (scale, p) = consts(h);
        let (calib, clb_calib) = evaluate_both(ctx.data, &ctx.groups[h][0], scale, &p, &ctx.cfg);
        let (heldout, clb_heldout) = evaluate_both(ctx.data, &ctx.groups[h][1], scale, &p, &ctx.cfg);
        HeadEntry {
            layer: (h / n_heads) as u16,
            head: (h % n_heads) as u16,
            scale,
            b: p.b,
            s: p.s,
            dmax: p.dmax,
            calib,
            heldout,
            clb_calib,
            clb_heldout,
        }
    })
}

/// serde_json's pretty text with every object or array of plain values joined onto one line
/// (one line per metrics block instead of eleven). Works on the text, so field order is kept.
fn json_text(pretty: &str) -> String {
    let lines: Vec<&str> = pretty.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let opens = |l: &str| l.ends_with('{') || l.ends_with('[');
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if opens(l) {
            let mut j = i + 1;
            while j < lines.len() && indent(lines[j]) > indent(l) && !opens(lines[j]) {
                j += 1;
            }
            if j < lines.len() && indent(lines[j]) == indent(l) && !opens(lines[j]) {
                let inner: Vec<&str> = lines[i + 1..j].iter().map(|x| x.trim()).collect();
                out.push(format!("{l}{}{}", inner.join(" "), lines[j].trim_start()));
                i = j + 1;
                continue;
            }
        }
        out.push(l.to_string());
        i += 1;
    }
    out.join("\n")
}

fn p_of(e: &SharedEntry) -> HccsParams {
    HccsParams { b: e.b, s: e.s, dmax: e.dmax }
}

fn met(b: bool) -> &'static str {
    if b {
        "met"
    } else {
        "NOT met"
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn run_search(sets: &[RowSet], args: &Args, guard: KlGuard, with_sharedc: bool, pb: &ProgressBar, tag: &str) -> Consts {
    let nh = sets.len();
    let opts1 = SearchOpts { out_bits: args.out_bits, r: args.r, threads: 1, refine_top: args.refine_top, guard };
    let optsn = SearchOpts { threads: args.threads, ..opts1 };
    pb.set_message(format!("{tag}per-head search"));
    let t_ph = Instant::now();

    // Per-head problems, one worker per thread pulling heads.
    let next = AtomicUsize::new(0);
    let found: Mutex<Vec<Option<Found>>> = Mutex::new(vec![None; nh]);
    std::thread::scope(|sc| {
        for _ in 0..args.threads {
            sc.spawn(|| loop {
                let h = next.fetch_add(1, Ordering::Relaxed);
                if h >= nh {
                    break;
                }
                let set = &sets[h];
                let prob = Problem {
                    groups: vec![set],
                    base: vec![1.0],
                    coarse: vec![set.subsample(args.coarse_rows)],
                    search_lambda: true,
                    lambdas: lambda_candidates(set.max_abs()),
                    start: None,
                };
                let f = search(&prob, &opts1);
                found.lock().unwrap()[h] = Some(f);
                pb.inc(1);
            });
        }
    });
    let found: Vec<Found> = found.into_inner().unwrap().into_iter().map(|f| f.unwrap()).collect();
    let per_head: Vec<(f64, HccsParams)> = found.iter().map(|f| (f.lambda, f.params)).collect();
    let t_ph = t_ph.elapsed().as_secs_f64();

    // Shared: common scale and constants.
    pb.set_message(format!("{tag}shared search (common scale)"));
    let t_sh = Instant::now();
    let per_head_coarse = (args.coarse_rows / 8).max(16);
    let coarse: Vec<RowSet> = sets.iter().map(|s| s.subsample(per_head_coarse)).collect();
    let max_abs = sets.iter().map(|s| s.max_abs()).fold(0.0f32, f32::max);
    let prob = Problem {
        groups: sets.iter().collect(),
        base: vec![1.0; nh],
        coarse: coarse.iter().map(|s| s.subsample(usize::MAX)).collect(),
        search_lambda: true,
        lambdas: lambda_candidates(max_abs),
        start: None,
    };
    let sh = search(&prob, &optsn);
    pb.inc(1);
    let t_sh = t_sh.elapsed().as_secs_f64();

    // Shared constants with per-head scales: alternate scales (constants fixed) and constants
    // (scales fixed), starting from the shared set, so it can only improve on it.
    let t_sc = Instant::now();
    let mut sc_evals = 0;
    let sharedc = with_sharedc.then(|| {
        pb.set_message(format!("{tag}shared search (per-head scales)"));
        let mut params = sh.params;
        let mut scales: Vec<f64> = vec![sh.lambda; nh];
        for _round in 0..2 {
            scales = par_map(args.threads, nh, |h| refit_scale(&sets[h], scales[h], &params, &opts1).0);
            let prob = Problem {
                groups: sets.iter().collect(),
                base: scales.clone(),
                coarse: coarse.iter().map(|s| s.subsample(usize::MAX)).collect(),
                search_lambda: false,
                lambdas: vec![1.0],
                start: Some((1.0, params)),
            };
            let sc = search(&prob, &optsn);
            sc_evals += sc.evals;
            params = sc.params;
        }
        scales = par_map(args.threads, nh, |h| refit_scale(&sets[h], scales[h], &params, &opts1).0);
        pb.inc(1);
        (scales, params)
    });
    let t_sc = t_sc.elapsed().as_secs_f64();
    let evals: usize = found.iter().map(|f| f.evals).sum::<usize>() + sh.evals + sc_evals;
    pb.suspend(|| {
        eprintln!(
            "{tag}objective evaluations: {evals}; per-head {t_ph:.1} s, shared {t_sh:.1} s, shared consts/per-head scale {t_sc:.1} s"
        )
    });
    Consts { per_head, shared: (sh.lambda, sh.params), sharedc }
}

fn shared_entry(desc: &str, scale: Option<f64>, p: HccsParams, heads: Vec<HeadEntry>) -> SharedEntry {
    let t = totals(&heads);
    SharedEntry {
        description: desc.to_string(),
        scale,
        b: p.b,
        s: p.s,
        dmax: p.dmax,
        calib: t.calib,
        heldout: t.heldout,
        clb_calib: t.clb_calib,
        clb_heldout: t.clb_heldout,
        per_head: heads,
    }
}

struct Times {
    load: f64,
    search: f64,
    eval: f64,
    total: f64,
    threads: usize,
}

/// `to` as a link from a file in `from_dir`: its file name when both are in the same folder.
fn rel(from_dir: &Path, to: &Path) -> String {
    if to.parent() == Some(from_dir) {
        to.file_name().unwrap().to_string_lossy().into_owned()
    } else {
        to.display().to_string()
    }
}

fn metric_row(s: &mut String, name: &str, recip: &str, rows: &str, m: &Metrics) {
    use std::fmt::Write;
    writeln!(
        s,
        "| {name} | {recip} | {rows} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {:.4} |",
        m.mean_kl, m.mean_kl_eps6, m.mean_kl_half_lsb, m.mean_tv, m.mean_flushed, m.max_abs_err, m.top1
    )
    .unwrap();
}

const METRIC_HEADER: &str = "| constants | recip | rows | mean KL | KL (1e-6 guard) | KL (half-LSB guard) | TV | flushed mass | max abs err | top-1 |\n|---|---|---|---|---|---|---|---|---|---|";

fn report(f: &CalibFile, t: &Times, eval_only: bool, plot_path: &Path, report_path: &Path) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let g = &f.goals;
    let ph = &f.per_head_total;
    let sh = &f.shared;
    let sc = &f.shared_constants_per_head_scale;
    let rf = &f.reference_exact_floor;
    let nh = f.per_head.len();
    writeln!(s, "# HCCS accuracy on real attention logits (all-MiniLM-L6-v2)\n").unwrap();
    writeln!(
        s,
        "Written by `cargo run --release -p verif --bin calibrate` from `{}` ({} rows); constants in \
         `params/hccs_minilm.json`. HCCS output: OUT_BITS = {}, R = {}, computed by the bit-exact golden \
         model (`verif::golden::hccs`). Reference: softmax of the FP32 logits, in f64.\n",
        f.data_file, f.data_rows, f.out_bits, f.r
    )
    .unwrap();
    writeln!(s, "- Split: {} ({} calibration rows, {} held-out rows).", f.split_rule, ph.calib.n_rows, ph.heldout.n_rows).unwrap();
    writeln!(s, "- Quantiser: {}; the scale is calibrated per head.", f.quantiser).unwrap();
    writeln!(
        s,
        "- Compared distribution: q = the HCCS output renormalised, p / sum p, for DIV and for CLB (whose \
         rows otherwise sum to 1x..2x T)."
    )
    .unwrap();
    writeln!(
        s,
        "- **mean KL** = mean over rows of KL(softmax || q), an output 0 read as probability {:e}: \
         q_i = max(p_i, g) / sum_j max(p_j, g), g = {:e} sum p. This is the calibration objective. The \
         guard is ~40x below the smallest non-zero output of an 8-bit row (1/255), so flushing an element \
         of probability P costs ~P ln(P/1e-4), and it adds at most 1.3 % phantom mass to a row (n <= 127). \
         Also shown: the same KL with an output 0 read as 1e-6 and as half an output LSB.",
        f.kl_guard.rel_eps, f.kl_guard.rel_eps
    )
    .unwrap();
    writeln!(
        s,
        "- **TV** = total variation 0.5 sum |q_i - P_i| (mean over rows); **flushed mass** = sum of P_i over \
         the elements whose output is 0 (mean over rows); **max abs err** = largest |q_i - P_i| of any row; \
         **top-1** = the float argmax is the unique HCCS maximum (HCCS is monotone, so the float argmax always \
         has the largest output: top-1 is lost only to ties)."
    )
    .unwrap();
    writeln!(s, "- Every row of every constant set below was checked: constants in range, B >= S*Dmax, B > 0, no row flagged.\n").unwrap();

    writeln!(s, "## Goals\n").unwrap();
    writeln!(
        s,
        "- Per-head mean KL <= 0.5 x the shared set's (DIV, held-out rows): {:.4} vs {:.4} = **{:.3}x** -> \
         **{}** (calibration rows: {:.3}x).",
        ph.heldout.mean_kl,
        sh.heldout.mean_kl,
        g.per_head_over_shared_heldout,
        met(g.goal_per_head_half_of_shared),
        g.per_head_over_shared_calib
    )
    .unwrap();
    writeln!(
        s,
        "- Held-out KL <= 1.2 x calibration KL (per-head constants, DIV, all heads): {:.4} / {:.4} = \
         **{:.3}** -> **{}**; {} of {} heads meet it on their own (worst head {:.3}).",
        ph.heldout.mean_kl,
        ph.calib.mean_kl,
        g.heldout_over_calib,
        met(g.goal_heldout_within_1_2),
        g.heads_heldout_within_1_2,
        nh,
        g.worst_head_heldout_over_calib
    )
    .unwrap();
    for se in &f.guard_sensitivity {
        writeln!(
            s,
            "- Calibrated and measured with an output 0 read as {} instead: per-head / shared {:.3}x ({}), \
             held-out / calib {:.3} ({}).",
            se.guard.name(),
            se.goals.per_head_over_shared_heldout,
            met(se.goals.goal_per_head_half_of_shared),
            se.goals.heldout_over_calib,
            met(se.goals.goal_heldout_within_1_2)
        )
        .unwrap();
    }
    writeln!(s).unwrap();

    writeln!(s, "## Summary (all {nh} heads)\n").unwrap();
    writeln!(s, "{METRIC_HEADER}").unwrap();
    for (name, e) in [("per head", None), ("shared (common scale)", Some(sh)), ("shared consts, per-head scale", Some(sc))] {
        let (dc, dh, cc, chh) = match e {
            None => (&ph.calib, &ph.heldout, &ph.clb_calib, &ph.clb_heldout),
            Some(e) => (&e.calib, &e.heldout, &e.clb_calib, &e.clb_heldout),
        };
        metric_row(&mut s, name, "DIV", "calib", dc);
        metric_row(&mut s, name, "DIV", "held-out", dh);
        metric_row(&mut s, name, "CLB", "calib", cc);
        metric_row(&mut s, name, "CLB", "held-out", chh);
    }
    metric_row(&mut s, "exact softmax floored to OUT_BITS", "-", "calib", &rf.calib);
    metric_row(&mut s, "exact softmax floored to OUT_BITS", "-", "held-out", &rf.heldout);
    writeln!(
        s,
        "\nShared set: scale {:.4}, B {}, S {}, Dmax {}. Shared constants with per-head scales: B {}, S {}, \
         Dmax {}. Exact softmax floored: p_i = floor(T P_i), what an exact exp with DIV's output stage gives.\n",
        sh.scale.unwrap_or(f64::NAN),
        sh.b,
        sh.s,
        sh.dmax,
        sc.b,
        sc.s,
        sc.dmax
    )
    .unwrap();
    writeln!(s, "![mean KL per head]({})\n", rel(report_path.parent().unwrap(), plot_path)).unwrap();

    // Findings, from the numbers above.
    writeln!(s, "## Findings\n").unwrap();
    let mut gains: Vec<(f64, &HeadEntry)> =
        f.per_head.iter().zip(&sh.per_head).map(|(p, q)| (q.heldout.mean_kl / p.heldout.mean_kl, p)).collect();
    gains.sort_by(|a, b| b.0.total_cmp(&a.0));
    let n_half = gains.iter().filter(|g| g.0 >= 2.0).count();
    let n_better = gains.iter().filter(|g| g.0 > 1.0).count();
    let top: Vec<String> =
        gains.iter().take(6).map(|(r, h)| format!("L{}H{} ({:.2}x)", h.layer, h.head, r)).collect();
    writeln!(
        s,
        "- Per-head constants beat the shared set on {n_better} of {nh} heads (held-out KL) and halve its \
         KL on {n_half}. Largest gains (shared / per-head): {}.",
        top.join(", ")
    )
    .unwrap();
    writeln!(
        s,
        "- The clipped line limits the accuracy more than the choice of constants: the exact softmax floored \
         to {} bits has mean KL {:.4} and TV {:.4} (held-out), per-head HCCS {:.4} and {:.4}, the shared set \
         {:.4} and {:.4}. All heads see the same temperature (1/sqrt(32)) and the best line in logit units \
         differs little from head to head, so one common set already gets most of what per-head constants \
         can, except on heads with extreme logit ranges.",
        f.out_bits, rf.heldout.mean_kl, rf.heldout.mean_tv, ph.heldout.mean_kl, ph.heldout.mean_tv, sh.heldout.mean_kl, sh.heldout.mean_tv
    )
    .unwrap();
    writeln!(
        s,
        "- A per-head quantiser scale with one shared (B, S, Dmax) gives mean KL {:.4} (held-out): the scale \
         alone buys {:.0} % of the per-head improvement over the shared set.",
        sc.heldout.mean_kl,
        100.0 * (sh.heldout.mean_kl - sc.heldout.mean_kl) / (sh.heldout.mean_kl - ph.heldout.mean_kl)
    )
    .unwrap();
    writeln!(
        s,
        "- CLB with the same constants (renormalised): mean KL {:.4} vs DIV {:.4} (held-out). Its outputs are \
         1x..2x larger before saturation at T, so fewer small values floor to 0 (flushed mass {:.4} vs {:.4}), \
         but a score above 2^k saturates at T and distorts the row's top.",
        ph.clb_heldout.mean_kl, ph.heldout.mean_kl, ph.clb_heldout.mean_flushed, ph.heldout.mean_flushed
    )
    .unwrap();
    if !f.guard_sensitivity.is_empty() {
        let eps6 = f.guard_sensitivity.iter().find(|x| x.guard == KlGuard::EPS6);
        let half = f.guard_sensitivity.iter().find(|x| x.guard == KlGuard::HALF_LSB);
        if let Some(e6) = eps6 {
            writeln!(
                s,
                "- The KL guard decides what the calibration optimises (next section). With an output 0 read as \
                 1e-6, the KL at OUT_BITS = 8 is dominated by the elements flushed to 0: the exact softmax floored \
                 to 8 bits scores {:.4} on it, no better than HCCS calibrated on it ({:.4}); those constants \
                 spread mass over the whole row to avoid zeros (held-out TV {:.4}, top-1 {:.4}, against {:.4} and \
                 {:.4} here). Its per-head / shared ratio ({:.3}x) is lower mostly because the shared set is \
                 penalised for its zeros.",
                rf.heldout.mean_kl_eps6,
                e6.per_head_total.heldout.mean_kl_eps6,
                e6.per_head_total.heldout.mean_tv,
                e6.per_head_total.heldout.top1,
                ph.heldout.mean_tv,
                ph.heldout.top1,
                e6.goals.per_head_over_shared_heldout
            )
            .unwrap();
        }
        if let Some(hl) = half {
            let l0h2 = f.per_head.iter().position(|h| h.layer == 0 && h.head == 2);
            let ex = l0h2
                .map(|i| {
                    format!(
                        " (L0H2, nearly one-hot rows of ~60 keys: TV {:.4} but KL {:.4}, against {:.4} with the 1e-4 guard)",
                        hl.per_head[i].heldout.mean_tv, hl.per_head[i].heldout.mean_kl_half_lsb, f.per_head[i].heldout.mean_kl
                    )
                })
                .unwrap_or_default();
            writeln!(
                s,
                "- With an output 0 read as half an LSB, the calibration flushes more (TV {:.4}, top-1 {:.4}, \
                 flushed mass {:.4}), but on long peaked rows the guards of the many zeros add phantom mass that \
                 dominates the KL{ex}.",
                hl.per_head_total.heldout.mean_tv, hl.per_head_total.heldout.top1, hl.per_head_total.heldout.mean_flushed
            )
            .unwrap();
        }
        writeln!(s, "- No guard brings the per-head / shared ratio near the 0.5x goal; held-out / calibration stays within 1.2 for all.\n").unwrap();

        writeln!(s, "## Sensitivity: the KL guard of the objective\n").unwrap();
        writeln!(
            s,
            "The same search (per head and shared set) with each guard as objective; each row's KLs are \
             measured with its own guard, TV / top-1 / flushed mass on held-out rows, DIV. Constants of the \
             other guards are stored in the JSON under `guard_sensitivity`.\n"
        )
        .unwrap();
        writeln!(
            s,
            "| objective guard (output 0 read as) | per-head KL held | shared KL held | per-head / shared | held / calib | per-head TV | shared TV | per-head top-1 | shared top-1 | per-head flushed | per-head mean KL (1e-4) |\n|---|---|---|---|---|---|---|---|---|---|---|"
        )
        .unwrap();
        let mut rows: Vec<(KlGuard, &Totals, &SharedEntry, &Goals)> = vec![(f.kl_guard, ph, sh, g)];
        for se in &f.guard_sensitivity {
            rows.push((se.guard, &se.per_head_total, &se.shared, &se.goals));
        }
        for (gd, t, shr, go) in rows {
            writeln!(
                s,
                "| {}{} | {:.4} | {:.4} | {:.3} | {:.3} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                gd.name(),
                if gd == f.kl_guard { " (this calibration)" } else { "" },
                t.heldout.kl(gd),
                shr.heldout.kl(gd),
                go.per_head_over_shared_heldout,
                go.heldout_over_calib,
                t.heldout.mean_tv,
                shr.heldout.mean_tv,
                t.heldout.top1,
                shr.heldout.top1,
                t.heldout.mean_flushed,
                t.heldout.mean_kl
            )
            .unwrap();
        }
        writeln!(s).unwrap();
    } else {
        writeln!(s).unwrap();
    }

    writeln!(s, "## Per head, DIV\n").unwrap();
    writeln!(
        s,
        "Per-head constants (scale, B, S, Dmax) and their mean KL, max abs error and top-1 on calibration \
         and held-out rows, with held-out TV; the shared set (common scale) on the same rows; held-out KL of \
         shared constants with a per-head scale and of the exact softmax floored to OUT_BITS.\n"
    )
    .unwrap();
    writeln!(
        s,
        "| head | scale | B | S | Dmax | KL cal | KL held | held/cal | max err cal | max err held | top-1 cal | top-1 held | TV held | shared KL cal | shared KL held | shared max err held | shared top-1 held | sh. consts KL held | exact floored KL held |"
    )
    .unwrap();
    writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|").unwrap();
    for (i, h) in f.per_head.iter().enumerate() {
        let x = &sh.per_head[i];
        writeln!(
            s,
            "| L{}H{} | {:.3} | {} | {} | {} | {:.4} | {:.4} | {:.2} | {:.3} | {:.3} | {:.3} | {:.3} | {:.4} | {:.4} | {:.4} | {:.3} | {:.3} | {:.4} | {:.4} |",
            h.layer,
            h.head,
            h.scale,
            h.b,
            h.s,
            h.dmax,
            h.calib.mean_kl,
            h.heldout.mean_kl,
            h.heldout.mean_kl / h.calib.mean_kl,
            h.calib.max_abs_err,
            h.heldout.max_abs_err,
            h.calib.top1,
            h.heldout.top1,
            h.heldout.mean_tv,
            x.calib.mean_kl,
            x.heldout.mean_kl,
            x.heldout.max_abs_err,
            x.heldout.top1,
            sc.per_head[i].heldout.mean_kl,
            rf.per_head[i].heldout.mean_kl,
        )
        .unwrap();
    }
    writeln!(s).unwrap();
    writeln!(s, "## Per head, CLB\n").unwrap();
    writeln!(s, "The same constants with the CLB reciprocal, output renormalised.\n").unwrap();
    writeln!(
        s,
        "| head | KL cal | KL held | max err cal | max err held | top-1 cal | top-1 held | shared KL cal | shared KL held | shared max err held | shared top-1 held |"
    )
    .unwrap();
    writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|").unwrap();
    for (i, h) in f.per_head.iter().enumerate() {
        let x = &sh.per_head[i];
        writeln!(
            s,
            "| L{}H{} | {:.4} | {:.4} | {:.3} | {:.3} | {:.3} | {:.3} | {:.4} | {:.4} | {:.3} | {:.3} |",
            h.layer,
            h.head,
            h.clb_calib.mean_kl,
            h.clb_heldout.mean_kl,
            h.clb_calib.max_abs_err,
            h.clb_heldout.max_abs_err,
            h.clb_calib.top1,
            h.clb_heldout.top1,
            x.clb_calib.mean_kl,
            x.clb_heldout.mean_kl,
            x.clb_heldout.max_abs_err,
            x.clb_heldout.top1,
        )
        .unwrap();
    }
    writeln!(s).unwrap();
    writeln!(s, "## Method\n").unwrap();
    writeln!(
        s,
        "Search (`studies::hccs_calib::search`): on the logit axis the surrogate is a line from 1 at the row \
         maximum down to the floor f = (B - S Dmax)/B at Dmax/scale logits below it, flat beyond; B and S \
         scaled together change only rounding. The search therefore runs over (scale, Dmax, f) and maps them \
         to integers with S as large as B <= 32767 allows and f >= 0 (B >= S Dmax: no row is flagged; \
         B > 0: Z > 0). Stage 1: grid of 11 scales (127/max|x_f| x 2^(k/3), k = -1..9) x 14 Dmax x 9 f on a \
         subsample (256 rows per head; 32 per head for the pooled problems). Stage 2: pattern search (moves \
         in scale, Dmax, f and the coupled move scale*a, Dmax*a that keeps the shape and changes the \
         resolution) from the 6 best distinct grid points on the subsample, then from the 3 best of those \
         on all calibration rows. Stage 3: neighbouring integer (B, S) pairs of the same shape. The \
         objective evaluates the exact DIV integer arithmetic on per-row histograms of the quantised \
         distances; the metrics in this report are recomputed with the golden model itself. Shared \
         constants with per-head scales: {}.\n",
        SHAREDC_DESC
    )
    .unwrap();
    if eval_only {
        writeln!(
            s,
            "Timing (--eval-only, constants read from the JSON, {} threads): load {:.1} s, evaluation {:.1} s, total {:.1} s.",
            t.threads, t.load, t.eval, t.total
        )
        .unwrap();
    } else {
        writeln!(
            s,
            "Timing ({} threads): load {:.1} s, search {:.1} s ({} calibrations), evaluation {:.1} s, total {:.1} s.",
            t.threads,
            t.load,
            t.search,
            1 + f.guard_sensitivity.len(),
            t.eval,
            t.total
        )
        .unwrap();
    }
    s
}

fn plot(f: &CalibFile, path: &Path) -> Result<()> {
    use plotters::prelude::*;
    let e = |e: DrawingAreaErrorKind<<SVGBackend as DrawingBackend>::ErrorType>| anyhow::anyhow!("plot: {e:?}");
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let n = f.per_head.len();
    let series: [(&str, Vec<f64>, RGBColor); 4] = [
        ("per-head constants, DIV", f.per_head.iter().map(|h| h.heldout.mean_kl).collect(), BLUE),
        ("shared set (common scale), DIV", f.shared.per_head.iter().map(|h| h.heldout.mean_kl).collect(), RED),
        (
            "shared constants, per-head scale, DIV",
            f.shared_constants_per_head_scale.per_head.iter().map(|h| h.heldout.mean_kl).collect(),
            RGBColor(230, 150, 0),
        ),
        (
            "exact softmax floored to OUT_BITS",
            f.reference_exact_floor.per_head.iter().map(|h| h.heldout.mean_kl).collect(),
            RGBColor(120, 120, 120),
        ),
    ];
    let all: Vec<f64> = series.iter().flat_map(|s| s.1.iter().cloned()).filter(|v| *v > 0.0).collect();
    let lo = all.iter().cloned().fold(f64::INFINITY, f64::min).max(1e-5) / 1.5;
    let hi = all.iter().cloned().fold(0.0, f64::max) * 3.0;
    let root = SVGBackend::new(path, (1100, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("HCCS mean KL per attention head, held-out rows (all-MiniLM-L6-v2, OUT_BITS 8)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("head index = 12 x layer + head")
        .y_desc("mean KL (nats, output 0 read as 1e-4)")
        .x_labels(13)
        .x_label_formatter(&|v| format!("{}", v.round() as i64))
        .y_label_formatter(&|v| format!("{}", (v * 1e4).round() / 1e4))
        .draw()
        .map_err(e)?;
    for (name, ys, color) in series {
        let pts: Vec<(f64, f64)> = ys.iter().enumerate().map(|(i, &v)| (i as f64, v.max(lo))).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(1)))
            .map_err(e)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 2, color.filled()))).map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
