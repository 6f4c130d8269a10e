use anyhow::Result;
use clap::{Parser, Subcommand};
use rtl_gen::defaults::{default_set, write_all};
use rtl_gen::exp2::{self, Exp2Arch, Exp2Config};
use rtl_gen::formats::FloatFormat;
use rtl_gen::fp32_to_hif8::{self, Fp32ToHif8Config};
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
    /// One HiF8 EXP2 unit: y = 2^(x + shift), correctly rounded.
    Exp2 {
        #[arg(long, default_value = "hif8_exp2")]
        name: String,
        #[arg(long, value_enum, default_value = "decomposed")]
        arch: Exp2Arch,
        /// Output format: fp16, bf16 or fp32.
        #[arg(long, default_value = "fp16", value_parser = parse_format)]
        out_format: FloatFormat,
        /// Pipeline stages (latency): 1 or 2.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=2))]
        stages: u32,
        /// Directory to write <name>.v into.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// One FP32 -> HiF8 converter.
    Fp32ToHif8 {
        #[arg(long, default_value = "fp32_to_hif8")]
        name: String,
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=2))]
        stages: u32,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

fn parse_format(s: &str) -> Result<FloatFormat, String> {
    FloatFormat::by_name(s).ok_or_else(|| format!("unknown format '{s}' (expected fp16, bf16 or fp32)"))
}

fn check_name(name: &str) -> Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    anyhow::ensure!(ok, "--name '{name}' is not a Verilog identifier (letters, digits, _; starts with a letter)");
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Defaults { out } => {
            let modules = default_set()?;
            write_all(&out, &modules, true)?;
            for m in &modules {
                eprintln!("wrote {}/{} (latency {})", out.display(), m.file, m.latency);
            }
        }
        Cmd::Exp2 { name, arch, out_format, stages, out } => {
            check_name(&name)?;
            let m = exp2::generate(&name, &Exp2Config { arch, out_format, stages })?;
            write_all(&out, &[m], false)?;
        }
        Cmd::Fp32ToHif8 { name, stages, out } => {
            check_name(&name)?;
            let m = fp32_to_hif8::generate(&name, &Fp32ToHif8Config { stages })?;
            write_all(&out, &[m], false)?;
        }
    }
    Ok(())
}
