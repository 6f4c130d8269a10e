//! Co-simulation speed of the Rust + Verilator harness on an EXP2 module (`make bench`):
//! the golden vectors written by `exp2_vectors` (all 65,536 (x, shift) pairs), one per
//! cycle, back to back, repeated `--reps` times, through `verif::cosim::Model`; every
//! output checked (out_valid and out_y, `latency` cycles after its input) against the
//! file's expected value. The same file drives the cocotb bench (bench/cocotb).
//!
//! ```text
//! cargo run --release -p verif --bin bench_exp2 -- [--vectors build/bench/hif8_exp2_vectors.txt] [--reps 200]
//! ```
//! Prints a summary, then one JSON line (`{"harness": ...}`) for bench/run.py.
//! Exits non-zero on any mismatch.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, ensure, Context, Result};
use clap::Parser;

use verif::cosim::{Model, VERILATOR_VERSION};
use verif::golden::exp2;
use verif::manifest;

#[derive(Parser, Debug)]
#[command(about = "Vectors/s of the Rust + Verilator co-simulation of an EXP2 module, every output checked")]
struct Args {
    /// Module in generated/manifest.json (kind hif8_exp2).
    #[arg(long, default_value = "hif8_exp2")]
    module: String,
    /// Vectors file from `exp2_vectors` (relative paths from the workspace root).
    #[arg(long, default_value = "build/bench/hif8_exp2_vectors.txt")]
    vectors: String,
    /// Passes over the whole file (one continuous stream).
    #[arg(long, default_value_t = 200)]
    reps: u32,
}

/// (x, shift, expected y) per line; `#` lines are comments.
fn read_vectors(path: &Path) -> Result<Vec<(u8, u8, u32)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut v = Vec::with_capacity(65536);
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        ensure!(f.len() == 3, "{}:{}: expected `x shift y`", path.display(), n + 1);
        let x = u8::from_str_radix(f[0], 16)?;
        let s = u8::from_str_radix(f[1], 16)?;
        let y = u32::from_str_radix(f[2], 16)?;
        v.push((x, s, y));
    }
    Ok(v)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let m = manifest::of_kind("hif8_exp2")
        .into_iter()
        .find(|m| m.module == args.module)
        .ok_or_else(|| anyhow!("no hif8_exp2 module {:?} in the manifest", args.module))?;
    let fmt = verif::tb::units::out_format(&m);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(&args.vectors);
    let vectors = read_vectors(&path)?;
    ensure!(vectors.len() == 65536, "{}: {} vectors, expected 65536", path.display(), vectors.len());
    // The file must hold the golden values (checked once, untimed).
    for &(x, s, y) in &vectors {
        ensure!(y == exp2::exp2_hif8(x, s as i8, &fmt), "{}: x={x:#04x} shift={s:#04x}: y={y:#x} is not golden", path.display());
    }

    let lat = m.latency as usize;
    ensure!(lat >= 1, "{}: latency 0 not supported by this bench", m.module);
    let mut model = Model::new(&m.module);
    let (pv, px, ps) = (model.port("in_valid"), model.port("in_x"), model.port("in_shift"));
    let (qv, qy) = (model.port("out_valid"), model.port("out_y"));
    model.set(pv, 0);
    model.reset(3);

    // One continuous stream of reps x 65,536 vectors plus `lat` idle cycles to drain:
    // at cycle i the vector applied at cycle i - lat + 1 (ticks before the read) is due.
    let total = vectors.len() * args.reps as usize;
    let mut mismatches = 0u64;
    let mut first: Option<String> = None;
    let t = Instant::now();
    for i in 0..total + lat - 1 {
        if i < total {
            let (x, s, _) = vectors[i % vectors.len()];
            model.set(px, x as u64);
            model.set(ps, s as u64);
            model.set(pv, 1);
        } else {
            model.set(pv, 0);
        }
        model.tick();
        if i + 1 >= lat {
            let (x, s, want) = vectors[(i + 1 - lat) % vectors.len()];
            let (valid, got) = (model.get(qv), model.get(qy) as u32);
            if valid != 1 || got != want {
                mismatches += 1;
                if first.is_none() {
                    first = Some(format!("x={x:#04x} shift={s:#04x}: out_valid={valid} out_y={got:#x}, expected {want:#x}"));
                }
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let rate = total as f64 / secs;
    println!(
        "bench_exp2: {} ({} out, latency {lat}), {VERILATOR_VERSION}: {total} vectors ({} x 65536) \
         in {secs:.3} s = {:.2} M vectors/s, {mismatches} mismatches",
        m.module, fmt.name, args.reps, rate / 1e6
    );
    println!(
        "{{\"harness\": \"rust-verilator\", \"module\": \"{}\", \"verilator\": \"{}\", \"vectors\": {total}, \
         \"reps\": {}, \"seconds\": {secs:.6}, \"vectors_per_s\": {rate:.1}, \"mismatches\": {mismatches}}}",
        m.module, VERILATOR_VERSION, args.reps
    );
    if let Some(f) = first {
        bail!("{mismatches} mismatches; first: {f}");
    }
    Ok(())
}
