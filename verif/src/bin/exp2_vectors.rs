//! Golden vectors of an EXP2 module for external test benches (the cocotb speed
//! benchmark, `make bench`): every (x, shift) pair, 256 x 256, with the expected
//! output from `verif::golden::exp2::exp2_hif8` in the module's output format.
//!
//! ```text
//! cargo run --release -p verif --bin exp2_vectors -- [--module hif8_exp2] [--out build/bench/hif8_exp2_vectors.txt]
//! ```
//! `--out -` prints to stdout. A relative `--out` is taken from the workspace root.
//! Format: `#` comment lines, then one vector a line, `x shift y` in hex
//! (x and shift as the 8-bit port values, y as the output port value).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clap::Parser;

use verif::golden::exp2;
use verif::manifest;

#[derive(Parser, Debug)]
#[command(about = "Write every (x, shift) vector of an EXP2 module with its golden output")]
struct Args {
    /// Module in generated/manifest.json (kind hif8_exp2).
    #[arg(long, default_value = "hif8_exp2")]
    module: String,
    /// Output file, or - for stdout.
    #[arg(long, default_value = "build/bench/hif8_exp2_vectors.txt")]
    out: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let m = manifest::of_kind("hif8_exp2")
        .into_iter()
        .find(|m| m.module == args.module)
        .ok_or_else(|| anyhow!("no hif8_exp2 module {:?} in the manifest", args.module))?;
    let fmt = verif::tb::units::out_format(&m);

    let mut text = String::with_capacity(65536 * 12 + 256);
    text.push_str(&format!(
        "# {} golden vectors: x shift y (hex), y = exp2_hif8(x, shift as i8, {}), latency {}\n\
         # all 65536 (x, shift) pairs, x major\n",
        m.module, fmt.name, m.latency
    ));
    let ydigits = (fmt.width() as usize).div_ceil(4);
    for x in 0..=255u8 {
        for s in 0..=255u8 {
            let y = exp2::exp2_hif8(x, s as i8, &fmt);
            text.push_str(&format!("{x:02x} {s:02x} {y:0ydigits$x}\n"));
        }
    }

    if args.out == "-" {
        std::io::stdout().write_all(text.as_bytes())?;
    } else {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let path: PathBuf = root.join(&args.out);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("exp2_vectors: 65536 vectors of {} ({}) -> {}", m.module, fmt.name, args.out);
    }
    Ok(())
}
