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
use verif::manifest::{self, Params};
use verif::tb::{baps, hccs, StreamBench};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "results/throughput.json")]
    out: std::path::PathBuf,
    /// Rows per measurement.
    #[arg(long, default_value_t = 400)]
    rows: usize,
}

/// Elements per cycle per lane of one engine on rows of 1, 8 and 64 beats.
fn rates(e: &impl StreamBench, rows: usize) -> serde_json::Map<String, serde_json::Value> {
    let mut rates = serde_json::Map::new();
    for beats in [1usize, 8, 64] {
        let (n, rate) = e.throughput(beats, rows, &mut StdRng::seed_from_u64(beats as u64));
        eprintln!("{}: {rows} rows of {n} ({beats} beats): {rate:.3} elements/cycle/lane", e.module());
        rates.insert(format!("{beats}"), serde_json::json!({ "elements": n, "rate": rate }));
    }
    rates
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut out = Vec::new();
    for m in manifest::load().modules {
        let rates = match m.params {
            Params::HccsSoftmax(_) | Params::HccsSoftmaxHeads(_) | Params::LutSoftmax(_) => rates(&hccs::Engine::from_module(&m), args.rows),
            Params::BapsSoftmax(_) => rates(&baps::Engine::from_module(&m), args.rows),
            _ => continue,
        };
        out.push(serde_json::json!({ "module": m.module, "lanes": m.params.lanes(), "beats": rates }));
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
