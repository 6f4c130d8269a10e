//! Reference Verilog for the formal proof of the EXP2 units (`make formal`).
//!
//! ```text
//! cargo run --release -p verif --bin formal_tables -- --out-dir build/formal/ref [--format fp16 ...]
//! ```
//!
//! For each output format (FP16, BF16, FP32; all three by default) writes `ref_exp2_<fmt>.v`,
//! the GOLDEN table `y = verif::golden::exp2::exp2_hif8(x, shift as i8, fmt)` for all
//! 256 x 256 inputs, as Verilog:
//!
//! - `ref_exp2_<fmt>_row_XX(input [7:0] shift, output reg [W-1:0] y)`, one per code x = 0xXX:
//!   the row of the table, as a list of segments over the signed shift (-128..127), each
//!   either one value (a run of equal entries: underflow to +0, overflow to +Inf, the
//!   specials, single subnormal entries) or an exponent ramp (a run where each entry is the
//!   previous one plus 2^man_bits, i.e. the same significand one binade up);
//! - `ref_exp2_<fmt>(input [7:0] x, input [7:0] shift, output reg [W-1:0] y)`: all rows,
//!   selected by a case on `x`.
//!
//! The segment list is only a compact spelling of the table (a full 65536-entry case is far
//! slower for the SAT solver): before any Verilog is written, every segment list is
//! evaluated for all 256 shifts, with the W-bit arithmetic the Verilog uses, and must
//! reproduce the golden row exactly, or the program fails.
//!
//! Nothing here reads the RTL generator: the table comes from the golden model only.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;

use verif::golden::exp2::exp2_hif8;
use verif::golden::fp::{Format, BF16, FP16, FP32};

#[derive(Parser, Debug)]
#[command(about = "Write reference Verilog (golden EXP2 tables) for the Yosys formal proof")]
struct Args {
    /// Directory for ref_exp2_<fmt>.v.
    #[arg(long)]
    out_dir: PathBuf,
    /// Output formats to write (fp16, bf16, fp32); all three when omitted.
    #[arg(long = "format")]
    formats: Vec<String>,
}

fn format_of(name: &str) -> Result<Format> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "fp16" => FP16,
        "bf16" => BF16,
        "fp32" => FP32,
        other => bail!("unknown format {other:?} (fp16, bf16, fp32)"),
    })
}

/// Shifts lo..=hi (signed) map to `base + ((shift - lo) << step)` (W-bit wrapping add);
/// `step` None: every shift in the segment maps to `base`.
#[derive(Clone, Copy, Debug)]
struct Segment {
    lo: i32,
    hi: i32,
    base: u32,
    step: Option<u32>,
}

impl Segment {
    fn eval(&self, shift: i32, mask: u64) -> u32 {
        match self.step {
            None => self.base,
            Some(k) => ((self.base as u64 + (((shift - self.lo) as u64) << k)) & mask) as u32,
        }
    }
}

/// Greedy segmentation of one row, indexed by signed shift + 128.
fn segments(row: &[u32; 256], fmt: &Format) -> Vec<Segment> {
    let step = 1u32 << fmt.man_bits;
    let at = |s: i32| row[(s + 128) as usize];
    let mut out = Vec::new();
    let mut s = -128i32;
    while s <= 127 {
        let base = at(s);
        let mut hi = s;
        let mut seg_step = None;
        if s < 127 && at(s + 1) == base {
            while hi < 127 && at(hi + 1) == base {
                hi += 1;
            }
        } else if s < 127 && base.checked_add(step) == Some(at(s + 1)) {
            while hi < 127 && at(hi).checked_add(step) == Some(at(hi + 1)) {
                hi += 1;
            }
            seg_step = Some(fmt.man_bits);
        }
        out.push(Segment { lo: s, hi, base, step: seg_step });
        s = hi + 1;
    }
    out
}

/// The segments must cover -128..=127 in order and reproduce the row.
fn check_segments(code: u8, segs: &[Segment], row: &[u32; 256], fmt: &Format) -> Result<()> {
    let mask = (1u64 << fmt.width()) - 1;
    let mut next = -128;
    for seg in segs {
        ensure!(seg.lo == next && seg.hi >= seg.lo, "x {code:#04x}: segments do not tile the shifts");
        for s in seg.lo..=seg.hi {
            let got = seg.eval(s, mask);
            let want = row[(s + 128) as usize];
            ensure!(got == want, "x {code:#04x} shift {s}: segment gives {got:#x}, golden {want:#x}");
        }
        next = seg.hi + 1;
    }
    ensure!(next == 128, "x {code:#04x}: segments stop at shift {next}");
    Ok(())
}

/// 9-bit two's complement literal of a signed shift.
fn s9(v: i32) -> String {
    format!("9'sh{:03x}", (v as u32) & 0x1ff)
}

fn reference_verilog(tag: &str, fmt: &Format) -> Result<String> {
    let w = fmt.width() as usize;
    let hex = w.div_ceil(4);
    let lit = |v: u32| format!("{w}'h{v:0hex$x}");
    let top = format!("ref_exp2_{tag}");
    let mut s = String::new();
    let mut nseg = 0usize;
    writeln!(s, "// {top}: GOLDEN y = {} of 2^(x + shift), x HiF8, shift int8, for `make formal`.", fmt.name)?;
    writeln!(s, "// Written by verif/src/bin/formal_tables.rs from verif::golden::exp2::exp2_hif8 (all")?;
    writeln!(s, "// 65536 entries; each row as segments over the signed shift: one value, or a ramp")?;
    writeln!(s, "// base + ((shift - lo) << {}), checked against every golden entry). Do not edit.", fmt.man_bits)?;
    for code in 0..=255u8 {
        let mut row = [0u32; 256];
        for sh in -128i32..=127 {
            row[(sh + 128) as usize] = exp2_hif8(code, sh as i8, fmt);
        }
        let segs = segments(&row, fmt);
        check_segments(code, &segs, &row, fmt)?;
        nseg += segs.len();
        writeln!(s, "\nmodule {top}_row_{code:02x}(input wire [7:0] shift, output reg [{}:0] y);", w - 1)?;
        writeln!(s, "wire signed [8:0] s = {{shift[7], shift}};")?;
        writeln!(s, "always @(*) begin")?;
        let value = |seg: &Segment| -> String {
            match seg.step {
                None => lit(seg.base),
                Some(k) => format!(
                    "{} + ({{{}'d0, s - {}}} << {k})",
                    lit(seg.base),
                    w - 9,
                    s9(seg.lo)
                ),
            }
        };
        for (i, seg) in segs.iter().enumerate() {
            let range = format!("[{}, {}]", seg.lo, seg.hi);
            if i + 1 == segs.len() {
                writeln!(s, "  {}y = {};  // {range}", if i == 0 { "" } else { "else " }, value(seg))?;
            } else {
                writeln!(
                    s,
                    "  {}if (s <= {}) y = {};  // {range}",
                    if i == 0 { "" } else { "else " },
                    s9(seg.hi),
                    value(seg)
                )?;
            }
        }
        writeln!(s, "end")?;
        writeln!(s, "endmodule")?;
    }
    writeln!(s, "\nmodule {top}(input wire [7:0] x, input wire [7:0] shift, output reg [{}:0] y);", w - 1)?;
    for code in 0..=255u8 {
        writeln!(s, "wire [{}:0] r{code:02x}; {top}_row_{code:02x} u{code:02x}(.shift(shift), .y(r{code:02x}));", w - 1)?;
    }
    writeln!(s, "always @(*) begin")?;
    writeln!(s, "  case (x)")?;
    for code in 0..=255u8 {
        writeln!(s, "  8'h{code:02x}: y = r{code:02x};")?;
    }
    writeln!(s, "  default: y = {};", lit(0))?;
    writeln!(s, "  endcase")?;
    writeln!(s, "end")?;
    writeln!(s, "endmodule // {top}: {nseg} segments")?;
    Ok(s)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let names: Vec<String> = if args.formats.is_empty() {
        vec!["fp16".into(), "bf16".into(), "fp32".into()]
    } else {
        args.formats.clone()
    };
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    for name in names {
        let fmt = format_of(&name)?;
        let tag = name.to_ascii_lowercase();
        let path = args.out_dir.join(format!("ref_exp2_{tag}.v"));
        std::fs::write(&path, reference_verilog(&tag, &fmt)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
