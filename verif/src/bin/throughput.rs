//! Sustained throughput of every streaming module in the manifest, for the QoR
//! report: back-to-back rows at full speed (`s_valid` and `m_ready` always
//! high), elements per cycle per lane against the limit 1.0. The stream rules
//! are checked by the harness as always; the values are checked by the
//! co-simulation tests, not here.
//!
//!     cargo run --release -p verif --bin throughput [-- --out results/throughput.json]

use anyhow::Result;
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use verif::manifest;
use verif::stream::{RowIn, Stats, StreamHarness, FULL_SPEED};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "results/throughput.json")]
    out: std::path::PathBuf,
    /// Rows per measurement.
    #[arg(long, default_value_t = 400)]
    rows: usize,
}

/// Element widths in and out, the per-row sideband and a random element.
struct Shape {
    in_w: u32,
    out_w: u32,
    side: Vec<(&'static str, u64)>,
    elem: fn(&mut StdRng) -> u64,
}

fn shape(m: &manifest::ModuleInfo) -> Shape {
    let port = |n: &str| m.ports.iter().find(|p| p.name == n).map(|p| p.width);
    let lanes = port("s_keep").expect("s_keep");
    let in_w = port("s_data").unwrap() / lanes;
    let out_w = port("m_data").unwrap() / lanes;
    if in_w == 32 {
        // BAPS: FP32 base-2 scores spread over a few blocks' worth of range.
        Shape { in_w, out_w, side: vec![], elem: |r| r.gen_range(-20.0f32..20.0).to_bits() as u64 }
    } else if port("s_head").is_some() {
        Shape { in_w, out_w, side: vec![("s_head", 0)], elem: |r| r.gen::<u8>() as u64 }
    } else {
        // HCCS constants that flag no row: B - S * Dmax >= 0.
        Shape { in_w, out_w, side: vec![("s_b", 20000), ("s_s", 100), ("s_dmax", 100)], elem: |r| r.gen::<u8>() as u64 }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut mods = Vec::new();
    for kind in ["hccs_softmax", "hccs_softmax_heads", "lut_softmax", "baps_softmax"] {
        mods.extend(manifest::of_kind(kind));
    }
    let mut out = Vec::new();
    for m in &mods {
        let sh = shape(m);
        let max_len = m.params["max_len"].as_u64().unwrap() as usize;
        let side: Vec<&'static str> = sh.side.iter().map(|s| s.0).collect();
        let mut rates = serde_json::Map::new();
        for beats in [1usize, 8, 64] {
            let mut h = StreamHarness::new(&m.module, 1, sh.in_w, sh.out_w, &side);
            let lanes = h.lanes;
            let n = (beats * lanes).min(max_len);
            let mut rng = StdRng::seed_from_u64(beats as u64);
            let rows: Vec<RowIn> = (0..args.rows)
                .map(|_| RowIn { elems: (0..n).map(|_| (sh.elem)(&mut rng)).collect(), side: sh.side.clone(), empty_last_beat: false })
                .collect();
            let mut st = Stats::default();
            let got = h.run(&rows, FULL_SPEED, &mut rng, &mut st);
            assert_eq!(got.len(), rows.len(), "{}: rows in vs out", m.module);
            let rate = (rows.len() * n) as f64 / (st.cycles as f64 * lanes as f64);
            eprintln!("{}: {} rows of {n} ({beats} beats): {rate:.3} elements/cycle/lane", m.module, rows.len());
            rates.insert(format!("{beats}"), serde_json::json!({ "elements": n, "rate": rate, "cycles": st.cycles }));
        }
        out.push(serde_json::json!({ "module": m.module, "lanes": m.params["lanes"], "beats": rates }));
    }
    let doc = serde_json::json!({
        "what": "elements/cycle/lane on back-to-back rows at full speed (limit 1.0), by row length in beats",
        "rows_per_point": args.rows,
        "modules": out,
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&doc)? + "\n")?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
