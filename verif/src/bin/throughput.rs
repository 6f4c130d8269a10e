//! Sustained throughput of every streaming module in the manifest, for the QoR
//! report: back-to-back rows at full speed (`s_valid` and `m_ready` always
//! high), elements per cycle per lane against the limit 1.0. The rows are the
//! benches' (`verif::tb`), so every output is also checked against the golden
//! model and the stream rules are asserted every cycle.
//!
//!     cargo run --release -p verif --bin throughput [-- --out results/throughput.json]

use anyhow::Result;
use clap::Parser;
use rand::rngs::StdRng;
use rand::SeedableRng;
use verif::manifest;
use verif::tb::{baps, hccs};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "results/throughput.json")]
    out: std::path::PathBuf,
    /// Rows per measurement.
    #[arg(long, default_value_t = 400)]
    rows: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut out = Vec::new();
    for m in manifest::load().modules {
        let measure: Box<dyn Fn(usize, &mut StdRng) -> (usize, f64)> = match m.kind.as_str() {
            "hccs_softmax" | "hccs_softmax_heads" | "lut_softmax" => {
                let e = hccs::Engine::from_module(&m);
                Box::new(move |beats, rng| e.throughput(beats, args.rows, rng))
            }
            "baps_softmax" => {
                let e = baps::Engine::from_module(&m);
                Box::new(move |beats, rng| e.throughput(beats, args.rows, rng))
            }
            _ => continue,
        };
        let mut rates = serde_json::Map::new();
        for beats in [1usize, 8, 64] {
            let (n, rate) = measure(beats, &mut StdRng::seed_from_u64(beats as u64));
            eprintln!("{}: {} rows of {n} ({beats} beats): {rate:.3} elements/cycle/lane", m.module, args.rows);
            rates.insert(format!("{beats}"), serde_json::json!({ "elements": n, "rate": rate }));
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
