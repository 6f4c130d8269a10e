use anyhow::Result;
use clap::{Parser, Subcommand};
use rtl_gen::defaults::{default_set, write_all};
use rtl_gen::baps::{self, BapsConfig};
use rtl_gen::exp2::{self, Exp2Config};
use rtl_gen::exp2_float::{self, Exp2FloatConfig};
use rtl_gen::formats::{parse_format, FloatFormat};
use rtl_gen::fp32_to_hif8::{self, Fp32ToHif8Config};
use rtl_gen::hccs::{self, HccsConfig, HeadTable, Score};
use std::path::PathBuf;

/// Generator of synthesizable Verilog for low-precision softmax hardware.
#[derive(Parser)]
#[command(name = "rtl-gen", version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write the default IP set and manifest.json (what `make rtl` runs).
    Defaults {
        #[arg(long, default_value = "generated")]
        out: PathBuf,
    },
    /// The extra configurations the QoR report synthesises (lanes 1/2/8 of
    /// every engine, BAPS with BLOCK = MAX_LEN), with their manifest.
    QorSet {
        #[arg(long)]
        out: PathBuf,
    },
    /// One HiF8 EXP2 unit: y = 2^(x + shift), correctly rounded.
    Exp2 {
        #[arg(long, default_value = "hif8_exp2")]
        name: String,
        /// --arch, --out-format, --stages.
        #[command(flatten)]
        cfg: Exp2Config,
        /// Directory to write <name>.v into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// One float-input EXP2 baseline: y = FP16 of 2^x for an FP16, BF16 or FP32
    /// x, correctly rounded (table + polynomial + multiplier).
    Exp2Float {
        /// Module name (default: exp2_<in-format>).
        #[arg(long)]
        name: Option<String>,
        /// Input format: fp16, bf16 or fp32.
        #[arg(long, default_value = "fp16", value_parser = parse_format)]
        in_format: FloatFormat,
        /// Pipeline stages (latency): 1 or 2.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=2))]
        stages: u32,
        /// Index bits of the 2^f table (default: the input format's).
        #[arg(long)]
        table_bits: Option<u32>,
        /// Degree of the polynomial for the rest of f (default: the input format's).
        #[arg(long)]
        degree: Option<u32>,
        /// Directory to write <name>.v into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// One HCCS softmax engine (spec/hccs.md), or with --exp-lut-scale the
    /// exp-table int8 softmax baseline on the same stream machinery.
    Hccs {
        #[arg(long, default_value = "hccs_softmax")]
        name: String,
        /// --lanes, --max-len, --out-bits, --r, --recip (the score is --exp-lut-scale's).
        #[command(flatten)]
        cfg: HccsConfig,
        /// Bake per-head constants from a calibration JSON; the engine then takes
        /// s_head[7:0] (= layer * heads_per_layer + head) instead of s_b/s_s/s_dmax.
        #[arg(long)]
        head_table: Option<PathBuf>,
        /// Generate the exp-table baseline instead: x = logit * SCALE.
        #[arg(long)]
        exp_lut_scale: Option<f64>,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// One BAPS softmax engine (spec/baps.md): FP32 base-2 scores in, HiF8
    /// row storage, FP16 EXP2 lanes, FP16 or BF16 probabilities out.
    Baps {
        #[arg(long, default_value = "baps_softmax")]
        name: String,
        /// --lanes, --block, --max-len, --out-format.
        #[command(flatten)]
        cfg: BapsConfig,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// COUNT random legal configurations of every generator, named
    /// sweep<SEED>_<kind>_<i>, with a manifest.json: the parameter sweep that
    /// verif co-simulates when built with RTL_SWEEP_DIR=OUT (`make sweep`).
    Sweep {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 16)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// One FP32 -> HiF8 converter.
    Fp32ToHif8 {
        #[arg(long, default_value = "fp32_to_hif8")]
        name: String,
        /// --stages.
        #[command(flatten)]
        cfg: Fp32ToHif8Config,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

fn check_name(name: &str) -> Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    anyhow::ensure!(ok, "--name '{name}' is not a Verilog identifier (letters, digits, _; starts with a letter)");
    Ok(())
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("rtl-gen: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Defaults { out } => {
            let modules = default_set()?;
            write_all(&out, &modules, true)?;
            for m in &modules {
                eprintln!("wrote {}/{} (latency {})", out.display(), m.file, m.latency);
            }
        }
        Cmd::QorSet { out } => write_all(&out, &rtl_gen::qor::qor_set()?, true)?,
        Cmd::Exp2 { name, cfg, out } => {
            check_name(&name)?;
            let m = exp2::generate(&name, &cfg)?;
            write_all(&out, &[m], false)?;
        }
        Cmd::Exp2Float { name, in_format, stages, table_bits, degree, out } => {
            let name = name.unwrap_or_else(|| format!("exp2_{}", in_format.name));
            check_name(&name)?;
            let d = Exp2FloatConfig::default_for(in_format)?;
            let cfg = Exp2FloatConfig {
                stages,
                table_bits: table_bits.unwrap_or(d.table_bits),
                degree: degree.unwrap_or(d.degree),
                ..d
            };
            let m = exp2_float::generate(&name, &cfg)?;
            write_all(&out, &[m], false)?;
        }
        Cmd::Hccs { name, cfg, head_table, exp_lut_scale, out } => {
            check_name(&name)?;
            let score = exp_lut_scale.map_or(Score::Hccs, |scale| Score::ExpLut { scale });
            let heads = head_table.as_deref().map(HeadTable::from_calibration).transpose()?;
            let m = hccs::generate(&name, &HccsConfig { score, ..cfg }, heads)?;
            write_all(&out, &[m], false)?;
        }
        Cmd::Baps { name, cfg, out } => {
            check_name(&name)?;
            let m = baps::generate(&name, &cfg)?;
            write_all(&out, &[m], false)?;
        }
        Cmd::Sweep { seed, count, out } => {
            let modules = rtl_gen::sweep::sample(seed, count)?;
            write_all(&out, &modules, true)?;
            for m in &modules {
                eprintln!("wrote {}/{}: {}", out.display(), m.file, m.params);
            }
        }
        Cmd::Fp32ToHif8 { name, cfg, out } => {
            check_name(&name)?;
            let m = fp32_to_hif8::generate(&name, &cfg)?;
            write_all(&out, &[m], false)?;
        }
    }
    Ok(())
}
