//! `fp32_to_hif8`: FP32 -> HiF8 with TA rounding (nearest, ties away from
//! zero), optional saturation. Two logic stages, optionally registered apart:
//! 1. *round*: classify, pick how many mantissa bits the exponent keeps (from
//!    the HiF8 dot table), add the first discarded bit, carry into the exponent;
//!    specials (NaN, Inf, overflow, underflow, denormals) become a final code.
//! 2. *pack*: sign | dot | exponent field | mantissa, again from the dot table.

use crate::emit::{emit, Module, Params};
use crate::formats::{Hif8Dot, HIF8_DENORMAL_OFFSET, HIF8_DOTS, HIF8_MAX_FINITE, HIF8_NAN, HIF8_POS_INF};
use crate::vtext::lit;
use rust_hdl::prelude::*;

/// The configuration is typed once in `ipconfig`.
pub use ipconfig::Fp32ToHif8Config;

/// {special, special_code[7:0], neg, esign, emag[3:0], man[2:0]}
const MID_W: usize = 18;

/// Range of |E| a dot row covers: [2^(D-1), 2^D - 1], or {0} for D = 0.
fn exp_range(d: &Hif8Dot) -> (u32, u32) {
    if d.exp_bits == 0 {
        (0, 0)
    } else {
        (1 << (d.exp_bits - 1), (1 << d.exp_bits) - 1)
    }
}

const MAX_EXP: i32 = 15;
const MIN_NORMAL_EXP: i32 = -15;

#[derive(LogicBlock)]
pub struct Fp32ToHif8Round {
    pub f: Signal<In, Bits<32>>,
    pub sat: Signal<In, Bit>,
    pub mid: Signal<Out, Bits<MID_W>>,
}

impl Logic for Fp32ToHif8Round {
    fn update(&mut self) {}
    fn connect(&mut self) {
        self.mid.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(round_body())
    }
}

/// The 7-bit magnitude code of 2^e * 1.man (man right-aligned at the row's width).
fn normal_code(e: i32, man: u32) -> u8 {
    let a = e.unsigned_abs();
    let d = HIF8_DOTS.iter().find(|d| {
        let (lo, hi) = exp_range(d);
        (lo..=hi).contains(&a)
    });
    let d = d.expect("exponent in the normal range");
    let em = if d.exp_bits == 0 { 0 } else { ((e < 0) as u32) << (d.exp_bits - 1) | (a - exp_range(d).0) };
    let field = (em << d.man_bits) | man;
    ((d.prefix as u32) << (7 - d.prefix_len) | field) as u8
}

#[derive(LogicBlock)]
pub struct Fp32ToHif8Pack {
    pub mid: Signal<In, Bits<MID_W>>,
    pub h: Signal<Out, Bits<8>>,
}

impl Logic for Fp32ToHif8Pack {
    fn update(&mut self) {}
    fn connect(&mut self) {
        self.h.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(pack_body())
    }
}

#[derive(LogicBlock)]
pub struct Fp32ToHif8 {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_f: Signal<In, Bits<32>>,
    pub in_sat: Signal<In, Bit>,
    pub out_valid: Signal<Out, Bit>,
    pub out_h: Signal<Out, Bits<8>>,
    round: Fp32ToHif8Round,
    pack: Fp32ToHif8Pack,
    /// 1 when the register between round and pack is used.
    mid_reg: Constant<Bit>,
    mid_q: DFF<Bits<MID_W>>,
    valid_q: DFF<Bit>,
    h_q: DFF<Bits<8>>,
    out_valid_q: DFF<Bit>,
}

impl Logic for Fp32ToHif8 {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, mid_q, valid_q, h_q, out_valid_q);
        self.round.f.next = self.in_f.val();
        self.round.sat.next = self.in_sat.val();
        self.mid_q.d.next = self.round.mid.val();
        self.valid_q.d.next = self.in_valid.val() & !self.rst.val();
        if self.mid_reg.val() {
            self.pack.mid.next = self.mid_q.q.val();
            self.out_valid_q.d.next = self.valid_q.q.val() & !self.rst.val();
        } else {
            self.pack.mid.next = self.round.mid.val();
            self.out_valid_q.d.next = self.in_valid.val() & !self.rst.val();
        }
        self.h_q.d.next = self.pack.h.val();
        self.out_h.next = self.h_q.q.val();
        self.out_valid.next = self.out_valid_q.q.val();
    }
}

pub fn generate(name: &str, cfg: &Fp32ToHif8Config) -> anyhow::Result<Module> {
    cfg.validate()?;
    let mut top = Fp32ToHif8 {
        clk: Default::default(),
        rst: Default::default(),
        in_valid: Default::default(),
        in_f: Default::default(),
        in_sat: Default::default(),
        out_valid: Default::default(),
        out_h: Default::default(),
        round: Fp32ToHif8Round { f: Default::default(), sat: Default::default(), mid: Default::default() },
        pack: Fp32ToHif8Pack { mid: Default::default(), h: Default::default() },
        mid_reg: Constant::new(cfg.stages == 2),
        mid_q: Default::default(),
        valid_q: Default::default(),
        h_q: Default::default(),
        out_valid_q: Default::default(),
    };
    emit(
        &mut top,
        name,
        Params::Fp32ToHif8(*cfg),
        cfg.stages,
        "HiF8 of FP32, round half away from zero (TA); in_sat saturates overflow/Inf to +-32768",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn normal_codes_from_the_dot_table() {
        assert_eq!(normal_code(0, 0), 0x08);
        assert_eq!(normal_code(-1, 0), 0x18);
        assert_eq!(normal_code(1, 0), 0x10);
        assert_eq!(normal_code(-15, 0), 0x7E);
        assert_eq!(normal_code(15, 1), HIF8_POS_INF);
        assert_eq!(normal_code(15, 0), HIF8_MAX_FINITE);
    }
}

/// The round stage's Verilog body (ports `f[31:0]`, `sat`, `mid[17:0]`).
pub(crate) fn round_body() -> String {
        // Rounded mantissa for each mantissa width the dot table uses.
        let mut widths: Vec<u32> = HIF8_DOTS.iter().map(|d| d.man_bits).collect();
        widths.dedup();
        let mut s = String::from(
            "wire neg = f[31];\n\
wire [7:0] ef = f[30:23];\n\
wire [22:0] mf = f[22:0];\n\
wire is_nan = ef == 8'hff && mf != 23'd0;\n\
wire is_inf = ef == 8'hff && mf == 23'd0;\n\
// Unbiased exponent, 9-bit two's complement; magnitude for the dot table.\n\
wire [8:0] e = {1'b0, ef} - 9'd127;\n\
wire [8:0] e_abs = e[8] ? -e : e;\n",
        );
        for nb in &widths {
            // Round half away from zero: add the first discarded bit.
            s += &format!(
                "wire [{nb}:0] r{nb} = {{1'b0, mf[22:{}]}} + {{{}, mf[{}]}};\n",
                23 - nb,
                lit(*nb, 0),
                22 - nb
            );
        }
        // Select the width by |e|; a carry out bumps the exponent, mantissa 0.
        s += "reg [3:0] r_sel;   // {carry, mantissa} at the width |e| keeps\nalways @(*) begin\n";
        for (i, d) in HIF8_DOTS.iter().rev().enumerate() {
            let (_, hi) = exp_range(d);
            let nb = d.man_bits;
            let pad = 3 - nb;
            let val = if pad == 0 { format!("r{nb}") } else { format!("{{r{nb}[{nb}], {}, r{nb}[{}:0]}}", lit(pad, 0), nb - 1) };
            let kw = if i == 0 { "if" } else { "else if" };
            s += &format!("    {kw} (e_abs <= {}) r_sel = {val};\n", lit(9, hi as u64));
        }
        s += "    else r_sel = 4'd0;\nend\n";
        s += &format!(
            "wire carry = r_sel[3];\n\
wire [8:0] e_r = e + {{8'd0, carry}};\n\
wire [2:0] man = carry ? 3'd0 : r_sel[2:0];\n\
wire [3:0] e_r_abs = e_r[8] ? 4'd0 - e_r[3:0] : e_r[3:0];   // |E| <= 15 when normal\n\
// Overflow: past E = {MAX_EXP}, or E = {MAX_EXP} with mantissa 1 (the Inf slot, 1.5 * 2^15).\n\
wire ovf = !e[8] && (e_r > {} || (e_r == {} && man[0]));\n\
// Denormals 2^(M-{HIF8_DENORMAL_OFFSET}): E in [{}, {}]; [1.5*2^E, 2^(E+1)) rounds up,\n\
// and [2^{}, 2^{}) rounds up to the smallest denormal.\n\
wire denorm = e[8] && e_abs > {} && e_abs <= {};\n\
wire [8:0] e_d = (e_abs == {}) ? e + 9'd1 : e + {{8'd0, mf[22]}};\n\
wire [2:0] dm = e_d[2:0] + {};   // M = E + {HIF8_DENORMAL_OFFSET}, modulo 8\n\
reg special;\n\
reg [7:0] scode;\n\
always @(*) begin\n\
    special = 1'b1;\n\
    if (is_nan) scode = {};\n\
    else if (is_inf || ovf) scode = {{neg, sat ? {} : {}}};\n\
    else if (denorm && e_d == {}) scode = {{neg, {}}};\n\
    else if (denorm) scode = {{neg, 4'b0000, dm[2:0]}};\n\
    else if (e[8] && e_abs > {}) scode = 8'h00;   // below 2^{}: zero, unsigned\n\
    else begin\n\
        special = 1'b0;\n\
        scode = 8'h00;\n\
    end\n\
end\n\
always @(*) mid = {{special, scode, neg, e_r[8], e_r_abs, man}};\n",
            lit(9, MAX_EXP as u64),
            lit(9, MAX_EXP as u64),
            -HIF8_DENORMAL_OFFSET,
            MIN_NORMAL_EXP - 1,
            -HIF8_DENORMAL_OFFSET,
            -HIF8_DENORMAL_OFFSET + 1,
            lit(9, (-MIN_NORMAL_EXP) as u64),
            lit(9, HIF8_DENORMAL_OFFSET as u64),
            lit(9, HIF8_DENORMAL_OFFSET as u64),
            lit(3, (HIF8_DENORMAL_OFFSET % 8) as u64),
            lit(8, HIF8_NAN as u64),
            lit(7, HIF8_MAX_FINITE as u64),
            lit(7, HIF8_POS_INF as u64),
            lit(9, MIN_NORMAL_EXP as i64 as u64),
            lit(7, normal_code(MIN_NORMAL_EXP, 0) as u64),
            lit(9, HIF8_DENORMAL_OFFSET as u64),
            -HIF8_DENORMAL_OFFSET,
        );
        s
}

/// The pack stage's Verilog body (ports `mid[17:0]`, `h[7:0]`).
pub(crate) fn pack_body() -> String {
        let mut s = String::from(
            "wire special = mid[17];\n\
wire [7:0] scode = mid[16:9];\n\
wire neg = mid[8];\n\
wire esign = mid[7];\n\
wire [3:0] emag = mid[6:3];\n\
wire [2:0] man = mid[2:0];\n\
// sign | dot | exponent field (sign, |E| minus its hidden one) | mantissa\n\
always @(*) begin\n\
    if (special) h = scode;\n",
        );
        for (i, d) in HIF8_DOTS.iter().rev().enumerate() {
            let (lo, hi) = exp_range(d);
            let dot = format!("{}'b{:0w$b}", d.prefix_len, d.prefix, w = d.prefix_len as usize);
            let em = match d.exp_bits {
                0 => String::new(),
                1 => ", esign".into(),
                n => format!(", esign, emag[{}:0]", n - 2),
            };
            let m = format!("man[{}:0]", d.man_bits - 1);
            let test = if i + 1 == HIF8_DOTS.len() { String::new() } else { format!("if (emag <= {}) ", lit(4, hi as u64)) };
            s += &format!("    else {test}h = {{neg, {dot}{em}, {m}}};   // |E| in [{lo}, {hi}]\n");
        }
        s += "end\n";
        s
}
