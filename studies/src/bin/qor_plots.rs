//! The plots of the QoR report, from results/qor.json (scripts/report.py):
//! logic area per lane against LANES for every engine, and area against mean
//! KL on the MiniLM rows for every scheme that has both.
//!
//!     cargo run --release -p verif --bin qor_plots [-- --qor results/qor.json]

use anyhow::{anyhow, Context, Result};
use clap::Parser;
use plotters::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "results/qor.json")]
    qor: PathBuf,
    #[arg(long, default_value = "results/qor_area_per_lane.svg")]
    lanes_svg: PathBuf,
    #[arg(long, default_value = "results/qor_area_vs_kl.svg")]
    kl_svg: PathBuf,
}

const COLORS: [RGBColor; 6] = [RGBColor(31, 119, 180), RGBColor(255, 127, 14), RGBColor(44, 160, 44),
    RGBColor(214, 39, 40), RGBColor(148, 103, 189), RGBColor(140, 86, 75)];

fn perr<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

fn area_per_lane(q: &Value, path: &PathBuf) -> Result<()> {
    let fams = q["lanes"].as_object().context("qor.json: no 'lanes'")?;
    let mut series = Vec::new();
    for d in fams.values() {
        let pts: Vec<(f64, f64)> = d["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let l = p["lanes"].as_f64().unwrap();
                (l, p["logic_um2"].as_f64().unwrap() / l)
            })
            .collect();
        series.push((d["label"].as_str().unwrap().to_string(), pts));
    }
    let hi = series.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(0.0, f64::max) * 1.15;
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(perr)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Logic area per lane (sky130, row buffers excluded) vs LANES", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d((0.8f64..10.0).log_scale(), 0.0..hi)
        .map_err(perr)?;
    chart
        .configure_mesh()
        .x_desc("LANES")
        .y_desc("logic um^2 / LANES")
        .x_label_formatter(&|v| format!("{}", v.round()))
        .y_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
        .draw()
        .map_err(perr)?;
    for (k, (name, pts)) in series.into_iter().enumerate() {
        let c = COLORS[k % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(perr)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, c.filled()))).map_err(perr)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(perr)?;
    root.present().map_err(perr)
}

fn area_vs_kl(q: &Value, path: &PathBuf) -> Result<()> {
    // (label, logic area, memory bits, KL): every module with an accuracy entry.
    let pts: Vec<(String, f64, f64)> = q["modules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["accuracy"].is_object())
        .map(|m| {
            (m["module"].as_str().unwrap().to_string(), m["logic_um2"].as_f64().unwrap(), m["accuracy"]["mean_kl"].as_f64().unwrap())
        })
        .collect();
    anyhow::ensure!(!pts.is_empty(), "qor.json: no module with an accuracy entry");
    let (xlo, xhi) = pts.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (ylo, yhi) = pts.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| (a.min(p.2), b.max(p.2)));
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(perr)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Logic area (sky130) vs mean KL on MiniLM attention rows", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d((xlo / 1.5..xhi * 1.5).log_scale(), (ylo / 3.0..yhi * 3.0).log_scale())
        .map_err(perr)?;
    chart
        .configure_mesh()
        .x_desc("logic um^2 (LANES = 4; row buffers excluded)")
        .y_desc("mean KL (nats)")
        .x_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(perr)?;
    for (k, (name, x, y)) in pts.into_iter().enumerate() {
        let c = COLORS[k % COLORS.len()];
        chart.draw_series([Circle::new((x, y), 6, c.filled())]).map_err(perr)?;
        chart
            .draw_series([Text::new(name, (x * 1.04, y * 1.15), ("sans-serif", 14).into_font())])
            .map_err(perr)?;
    }
    root.present().map_err(perr)
}

fn main() -> Result<()> {
    let a = Args::parse();
    let q: Value = serde_json::from_str(&std::fs::read_to_string(&a.qor).with_context(|| format!("{}", a.qor.display()))?)
        .with_context(|| format!("{}: not JSON", a.qor.display()))?;
    area_per_lane(&q, &a.lanes_svg)?;
    area_vs_kl(&q, &a.kl_svg)?;
    eprintln!("wrote {} and {}", a.lanes_svg.display(), a.kl_svg.display());
    Ok(())
}
