//! `fp32_to_hif8`: FP32 -> HiF8 with TA rounding (nearest, ties away from
//! zero), optional saturation. Two logic stages, optionally registered apart:
//! 1. *round*: classify, pick how many mantissa bits the exponent keeps (from
//!    the HiF8 dot table), add the first discarded bit, carry into the exponent;
//!    specials (NaN, Inf, overflow, underflow, denormals) become a final code.
//! 2. *pack*: sign | dot | exponent field | mantissa, again from the dot table.

use crate::blocks::PipeReg;
use crate::emit::{emit, Module, Params};
use crate::formats::FP32;
use crate::formats::{
    Hif8Dot, HIF8_DENORMAL_OFFSET, HIF8_DOTS, HIF8_MAX_FINITE, HIF8_NAN, HIF8_POS_INF,
};
use crate::ir::{bit, cat, lit, lit_signed, mux, select, Expr, Leaf, LeafBuilder};
use crate::leaf_block;
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

/// The 7-bit magnitude code of 2^e * 1.man (man right-aligned at the row's width).
fn normal_code(e: i32, man: u32) -> u8 {
    let a = e.unsigned_abs();
    let d = HIF8_DOTS.iter().find(|d| {
        let (lo, hi) = exp_range(d);
        (lo..=hi).contains(&a)
    });
    let d = d.expect("exponent in the normal range");
    let em = if d.exp_bits == 0 {
        0
    } else {
        ((e < 0) as u32) << (d.exp_bits - 1) | (a - exp_range(d).0)
    };
    let field = (em << d.man_bits) | man;
    ((d.prefix as u32) << (7 - d.prefix_len) | field) as u8
}

/// The round stage (ports `f[31:0]`, `sat`, `mid[17:0]`): classify, round the
/// mantissa to the width the exponent keeps, carry into the exponent; specials
/// become a final code.
pub fn round_leaf(name: &str) -> Leaf {
    let fmt = FP32;
    let (ew, mw) = (fmt.exp_bits, fmt.man_bits);
    let mut b = LeafBuilder::new(name);
    let f = b.input("f", fmt.width());
    let sat = b.input("sat", 1);
    let mid = b.output("mid", MID_W as u32);
    let neg = b.wire("neg", f.msb());
    let ef = b.wire("ef", f.bits(ew + mw - 1, mw));
    let mf = b.wire("mf", f.bits(mw - 1, 0));
    let ef_max = lit(ew, fmt.exp_max_field() as u64);
    let is_nan = b.wire("is_nan", ef.eq(&ef_max) & mf.ne(lit(mw, 0)));
    let is_inf = b.wire("is_inf", ef.eq(&ef_max) & mf.eq(lit(mw, 0)));
    // Unbiased exponent in two's complement, one bit wider than the field.
    let xw = ew + 1;
    b.comment("Unbiased exponent, two's complement; magnitude for the dot table.");
    let e = b.wire("e", ef.zext(xw) - lit(xw, fmt.bias() as u64));
    let e_abs = b.wire("e_abs", mux(e.msb(), e.neg(), &e));
    // Rounded mantissa for each mantissa width the dot table uses: round half
    // away from zero, i.e. add the first discarded bit.
    let mut widths: Vec<u32> = HIF8_DOTS.iter().map(|d| d.man_bits).collect();
    widths.dedup();
    let mut rounded = std::collections::HashMap::new();
    for nb in &widths {
        let r = mf.bits(mw - 1, mw - nb).zext(nb + 1) + mf.bit(mw - 1 - nb).zext(nb + 1);
        rounded.insert(*nb, b.wire(&format!("r{nb}"), r));
    }
    // {carry, mantissa} at the width |e| keeps, selected by |e|.
    let arms = HIF8_DOTS
        .iter()
        .rev()
        .map(|d| {
            let (_, hi) = exp_range(d);
            let r = &rounded[&d.man_bits];
            let nb = d.man_bits;
            let val = if nb == 3 {
                r.clone()
            } else {
                cat([r.bit(nb), lit(3 - nb, 0), r.bits(nb - 1, 0)])
            };
            (e_abs.ule(lit(xw, hi as u64)), val)
        })
        .collect();
    let r_sel = b.wire("r_sel", select(arms, lit(4, 0)));
    let carry = b.wire("carry", r_sel.bit(3));
    let e_r = b.wire("e_r", &e + carry.zext(xw));
    let man = b.wire("man", mux(&carry, lit(3, 0), r_sel.bits(2, 0)));
    b.comment("|E| <= 15 when normal");
    let e_r_abs = b.wire(
        "e_r_abs",
        mux(e_r.msb(), lit(4, 0) - e_r.bits(3, 0), e_r.bits(3, 0)),
    );
    b.comment(format!("Overflow: past E = {MAX_EXP}, or E = {MAX_EXP} with mantissa 1 (the Inf slot, 1.5 * 2^15)."));
    let max_e = lit(xw, MAX_EXP as u64);
    let ovf = b.wire(
        "ovf",
        !e.msb() & (e_r.ugt(&max_e) | (e_r.eq(&max_e) & man.bit(0))),
    );
    b.comment(format!(
        "Denormals 2^(M-{HIF8_DENORMAL_OFFSET}): E in [{}, {}]; [1.5*2^E, 2^(E+1)) rounds up, and [2^{}, 2^{}) rounds up to the smallest denormal.",
        -HIF8_DENORMAL_OFFSET,
        MIN_NORMAL_EXP - 1,
        -HIF8_DENORMAL_OFFSET,
        -HIF8_DENORMAL_OFFSET + 1
    ));
    let off = lit(xw, HIF8_DENORMAL_OFFSET as u64);
    let denorm = b.wire(
        "denorm",
        e.msb() & e_abs.ugt(lit(xw, (-MIN_NORMAL_EXP) as u64)) & e_abs.ule(&off),
    );
    let e_d = b.wire(
        "e_d",
        mux(e_abs.eq(&off), &e + lit(xw, 1), &e + mf.msb().zext(xw)),
    );
    b.comment(format!("M = E + {HIF8_DENORMAL_OFFSET}, modulo 8"));
    let dm = b.wire(
        "dm",
        e_d.bits(2, 0) + lit(3, (HIF8_DENORMAL_OFFSET % 8) as u64),
    );
    // Specials, first match wins: {special, code}.
    let code = |c: Expr| cat([bit(true), c]);
    let special = select(
        vec![
            (is_nan, code(lit(8, HIF8_NAN as u64))),
            (
                is_inf | &ovf,
                code(cat([
                    neg.clone(),
                    mux(
                        &sat,
                        lit(7, HIF8_MAX_FINITE as u64),
                        lit(7, HIF8_POS_INF as u64),
                    ),
                ])),
            ),
            (
                &denorm & e_d.eq(lit_signed(xw, MIN_NORMAL_EXP as i64)),
                code(cat([
                    neg.clone(),
                    lit(7, normal_code(MIN_NORMAL_EXP, 0) as u64),
                ])),
            ),
            (denorm, code(cat([neg.clone(), lit(4, 0), dm]))),
            // below 2^-23: zero, unsigned
            (e.msb() & e_abs.ugt(&off), code(lit(8, 0))),
        ],
        lit(9, 0),
    );
    let sc = b.wire("special_code", special);
    b.drive(&mid, cat([sc, neg, e_r.msb(), e_r_abs, man]));
    b.finish().expect("fp32_to_hif8 round stage")
}

/// The pack stage (ports `mid[17:0]`, `h[7:0]`): sign | dot | exponent field
/// (sign, |E| minus its hidden one) | mantissa, from the dot table.
pub fn pack_leaf(name: &str) -> Leaf {
    let mut b = LeafBuilder::new(name);
    let mid = b.input("mid", MID_W as u32);
    let h = b.output("h", 8);
    let special = b.wire("special", mid.bit(17));
    let scode = b.wire("scode", mid.bits(16, 9));
    let neg = b.wire("neg", mid.bit(8));
    let esign = b.wire("esign", mid.bit(7));
    let emag = b.wire("emag", mid.bits(6, 3));
    let man = b.wire("man", mid.bits(2, 0));
    let mut arms = vec![(special, scode)];
    let dots: Vec<&Hif8Dot> = HIF8_DOTS.iter().rev().collect();
    let code = |d: &Hif8Dot| {
        let mut parts = vec![neg.clone(), lit(d.prefix_len, d.prefix as u64)];
        match d.exp_bits {
            0 => {}
            1 => parts.push(esign.clone()),
            n => parts.extend([esign.clone(), emag.bits(n - 2, 0)]),
        }
        parts.push(man.bits(d.man_bits - 1, 0));
        cat(parts)
    };
    for d in &dots[..dots.len() - 1] {
        arms.push((emag.ule(lit(4, exp_range(d).1 as u64)), code(d)));
    }
    b.drive(&h, select(arms, code(dots[dots.len() - 1])));
    b.finish().expect("fp32_to_hif8 pack stage")
}

leaf_block! {
    /// The round stage in rust-hdl.
    pub struct Fp32ToHif8Round {
        pub f: In<Bits<32>>,
        pub sat: In<Bit>,
        pub mid: Out<Bits<MID_W>>,
    }
}

leaf_block! {
    /// The pack stage in rust-hdl.
    pub struct Fp32ToHif8Pack {
        pub mid: In<Bits<MID_W>>,
        pub h: Out<Bits<8>>,
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
    mid_q: PipeReg<MID_W>,
    out_q: PipeReg<8>,
}

impl Logic for Fp32ToHif8 {
    #[hdl_gen]
    fn update(&mut self) {
        self.mid_q.clk.next = self.clk.val();
        self.mid_q.rst.next = self.rst.val();
        self.out_q.clk.next = self.clk.val();
        self.out_q.rst.next = self.rst.val();
        self.round.f.next = self.in_f.val();
        self.round.sat.next = self.in_sat.val();
        self.mid_q.d.next = self.round.mid.val();
        self.mid_q.in_valid.next = self.in_valid.val();
        if self.mid_reg.val() {
            self.pack.mid.next = self.mid_q.q.val();
            self.out_q.in_valid.next = self.mid_q.out_valid.val();
        } else {
            self.pack.mid.next = self.round.mid.val();
            self.out_q.in_valid.next = self.in_valid.val();
        }
        self.out_q.d.next = self.pack.h.val();
        self.out_h.next = self.out_q.q.val();
        self.out_valid.next = self.out_q.out_valid.val();
    }
}

/// The unit as a rust-hdl block (simulates; `generate` emits its Verilog).
pub fn top(cfg: &Fp32ToHif8Config) -> anyhow::Result<Fp32ToHif8> {
    cfg.validate()?;
    Ok(Fp32ToHif8 {
        clk: Default::default(),
        rst: Default::default(),
        in_valid: Default::default(),
        in_f: Default::default(),
        in_sat: Default::default(),
        out_valid: Default::default(),
        out_h: Default::default(),
        round: Fp32ToHif8Round::new(round_leaf("round")).map_err(anyhow::Error::msg)?,
        pack: Fp32ToHif8Pack::new(pack_leaf("pack")).map_err(anyhow::Error::msg)?,
        mid_reg: Constant::new(cfg.stages == 2),
        mid_q: PipeReg::with_width(),
        out_q: PipeReg::with_width(),
    })
}

pub fn generate(name: &str, cfg: &Fp32ToHif8Config) -> anyhow::Result<Module> {
    let mut top = top(cfg)?;
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
    round_leaf("round").body()
}

/// The pack stage's Verilog body (ports `mid[17:0]`, `h[7:0]`).
pub(crate) fn pack_body() -> String {
    pack_leaf("pack").body()
}

#[cfg(test)]
mod sim_tests {
    use super::*;

    /// The rust-hdl simulation of the whole unit (leaf `update()`s, pipeline
    /// registers, hdl_gen composition) gives the spec's codes of landmark values.
    #[test]
    fn rust_hdl_simulates_the_unit() {
        let cases: Vec<(u32, bool, u8)> = vec![
            (1.0f32.to_bits(), false, 0x08),
            (2.0f32.to_bits(), false, 0x10),
            (0.5f32.to_bits(), false, 0x18),
            ((-(2f32.powi(-15))).to_bits(), false, 0xFE),
            (32768.0f32.to_bits(), false, 0x6E),
            (f32::INFINITY.to_bits(), false, 0x6F),
            (f32::INFINITY.to_bits(), true, 0x6E),
            (f32::NAN.to_bits(), false, 0x80),
            (0, false, 0x00),
            (2f32.powi(-22).to_bits(), false, 0x01),
        ];
        for stages in [1, 2] {
            let mut uut = top(&Fp32ToHif8Config { stages }).unwrap();
            uut.connect_all();
            let cases = cases.clone();
            let mut sim = Simulation::new();
            sim.add_clock(5, |x: &mut Box<Fp32ToHif8>| x.clk.next = !x.clk.val());
            sim.add_testbench(move |mut sim: Sim<Fp32ToHif8>| {
                let mut x = sim.init()?;
                let mut seen = 0;
                for i in 0..cases.len() + stages as usize + 1 {
                    x.rst.next = false;
                    x.in_valid.next = i < cases.len();
                    if let Some(&(f, sat, _)) = cases.get(i) {
                        x.in_f.next = (f as u64).into();
                        x.in_sat.next = sat;
                    }
                    wait_clock_cycle!(sim, clk, x);
                    if i + 1 >= stages as usize && x.out_valid.val() {
                        let want = cases[seen].2;
                        sim_assert_eq!(sim, x.out_h.val().index() as u8, want, x);
                        seen += 1;
                    }
                }
                sim_assert_eq!(sim, seen, cases.len(), x);
                sim.done(x)
            });
            sim.run(Box::new(uut), 10_000).unwrap();
        }
    }
}
