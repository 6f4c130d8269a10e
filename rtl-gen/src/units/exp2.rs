//! `hif8_exp2`: y = 2^(x + shift) for a HiF8 x and a signed 8-bit shift,
//! correctly rounded (nearest even, subnormals) to an IEEE format.
//!
//! Two stages of logic, optionally with a register between them:
//! 1. *lookup*: the 8-bit code becomes a [`Term`]: 2^x = 2^ipart * 1.frac,
//!    `frac` truncated to one bit more than the output mantissa, plus a `tail`
//!    bit saying whether anything non-zero was cut off. 2^f is irrational for
//!    a non-integer dyadic f, so the tail is set exactly for non-integer x and
//!    there are never ties: truncation + tail is all that rounding needs at any
//!    position, normal or subnormal.
//! 2. *round*: add the integer shift to the exponent (the power-of-two rescale
//!    is an exponent add) and round once, to a normal or subnormal result.
//!
//! Architectures of the lookup (`Exp2Arch`): a plain 256-entry table, or a
//! decomposition exploiting HiF8's structure: |x| >= 8 is an integer, so 2^x is
//! an exact power of two computed from the fields; tiny |x| share one entry per
//! sign; only the codes in between need a (narrower) table.

use crate::emit::{emit, Module, Params};
use crate::formats::FloatFormat;
use crate::hif8::{decode, normal_fields, Hif8};
use crate::vtext::{case_table, lit};
use rust_hdl::prelude::*;
use std::f64::consts::LN_2;

/// The configurations (`Exp2Config` of `hif8_exp2`, `Exp2TableConfig` of
/// `exp2_table256`) are typed once in `ipconfig`.
pub use ipconfig::{Exp2Arch, Exp2Config, Exp2TableConfig};

/// Class of the input, carried to the rounding stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Finite = 0,
    NaN = 1,
    PosInf = 2,
    NegInf = 3,
}

/// 2^x = 2^ipart * (1 + frac / 2^(man_bits+1) + tail-bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Term {
    pub class: Class,
    pub ipart: i32,
    pub frac: u64,
    pub tail: bool,
}

/// Width of the integer part in the term, two's complement.
pub const IPART_BITS: u32 = 10;
/// |ipart| is clamped here: beyond +-300 every shift in [-128, 127] gives Inf
/// or 0 in every format, and 2^-256 (a FP32 subnormal after shift) must stay exact.
pub const IPART_LIMIT: i32 = 511;

pub fn term_width(fmt: &FloatFormat) -> u32 {
    2 + IPART_BITS + fmt.man_bits + 1 + 1
}

/// The lookup stage's function, computed in f64 with a checked margin (the
/// golden model in `verif` is an independent exact big-integer computation).
pub fn term(code: u8, fmt: &FloatFormat) -> Term {
    let x = match decode(code) {
        Hif8::NaN => return Term { class: Class::NaN, ipart: 0, frac: 0, tail: false },
        Hif8::PosInf => return Term { class: Class::PosInf, ipart: 0, frac: 0, tail: false },
        Hif8::NegInf => return Term { class: Class::NegInf, ipart: 0, frac: 0, tail: false },
        Hif8::Finite(x) => x,
    };
    let ipart = x.floor();
    let f = x - ipart; // exact: HiF8 values are short dyadics
    let ipart = (ipart as i64).clamp(-(IPART_LIMIT as i64), IPART_LIMIT as i64) as i32;
    if f == 0.0 {
        return Term { class: Class::Finite, ipart, frac: 0, tail: false };
    }
    let scaled = (f * LN_2).exp_m1() * 2f64.powi(fmt.man_bits as i32 + 1);
    let frac = scaled.floor();
    let margin = (scaled - frac).min(frac + 1.0 - scaled);
    assert!(margin > 1e-6, "2^{x}: truncation too close to call in f64 (margin {margin})");
    Term { class: Class::Finite, ipart, frac: frac as u64, tail: true }
}

pub fn pack(t: &Term, fmt: &FloatFormat) -> u64 {
    let fw = fmt.man_bits + 1;
    let ip = (t.ipart as i64 as u64) & ((1 << IPART_BITS) - 1);
    ((t.class as u64) << (IPART_BITS + fw + 1)) | (ip << (fw + 1)) | (t.frac << 1) | t.tail as u64
}

/// Lookup stage: code -> packed term.
#[derive(LogicBlock)]
pub struct Exp2Lookup<const TW: usize> {
    pub x: Signal<In, Bits<8>>,
    pub term: Signal<Out, Bits<TW>>,
    _arch: Exp2Arch,
    _fmt: FloatFormat,
}

impl<const TW: usize> Exp2Lookup<TW> {
    fn new(arch: Exp2Arch, fmt: FloatFormat) -> Self {
        assert_eq!(TW as u32, term_width(&fmt));
        Self { x: Default::default(), term: Default::default(), _arch: arch, _fmt: fmt }
    }
}

impl<const TW: usize> Logic for Exp2Lookup<TW> {
    fn update(&mut self) {
        self.term.next = pack(&term(self.x.val().index() as u8, &self._fmt), &self._fmt).into();
    }
    fn connect(&mut self) {
        self.term.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(match self._arch {
            Exp2Arch::Table => {
                let rows: Vec<(u64, u64)> =
                    (0..=255u8).map(|c| (c as u64, pack(&term(c, &self._fmt), &self._fmt))).collect();
                format!("// 2^x as (class, ipart, frac, tail) for every code\n{}",
                    case_table("x", 8, "term", TW as u32, &rows, 0, None))
            }
            Exp2Arch::Decomposed => decomposed_lookup(&self._fmt),
        })
    }
}

/// Codes whose term is an exact power of two computed from the fields: |x| >= 8.
fn is_big(code: u8) -> bool {
    matches!(decode(code), Hif8::Finite(x) if x.abs() >= 8.0)
}

pub(crate) fn decomposed_lookup(fmt: &FloatFormat) -> String {
    let tw = term_width(fmt);
    let fw = fmt.man_bits + 1;
    // The entry every tiny positive (negative) x shares: 2^x rounds within
    // the frac width to 1 + 0 (2^-1 * (2 - 0)), with a non-zero tail.
    let tiny_pos = Term { class: Class::Finite, ipart: 0, frac: 0, tail: true };
    let tiny_neg = Term { class: Class::Finite, ipart: -1, frac: (1 << fw) - 1, tail: true };
    let mut mid = Vec::new();
    for c in 1..=255u8 {
        let t = term(c, fmt);
        if t.class != Class::Finite || is_big(c) {
            continue;
        }
        let tiny = if c & 0x80 != 0 { tiny_neg } else { tiny_pos };
        if t != tiny {
            // Mid-range entries have |ipart| <= 8: store ipart in 5 bits.
            assert!((-8..8).contains(&t.ipart), "code {c:#x}: mid-range ipart {}", t.ipart);
            mid.push((c as u64, ((t.ipart as i64 as u64 & 0x1f) << (fw + 1)) | (t.frac << 1) | t.tail as u64));
        }
    }
    let mw = 5 + fw + 1;
    // Integer path. HiF8 normal codes with a positive exponent E >= 3:
    // dot 01 & Em=01 (E=3, 3 mantissa bits), dot 10 & Em=0rr (E=4+rr, 2 bits),
    // dot 11 & Em=0rrr (E=8+rrr, 1 bit). |x| = 1.M * 2^E, clamped at 511.
    for c in 0..=255u8 {
        if let (Some(f), Hif8::Finite(_)) = (normal_fields(c), decode(c)) {
            assert_eq!(is_big(c), f.exp >= 3, "code {c:#x}");
        }
    }
    let sat = IPART_LIMIT as u64;
    format!(
        "// HiF8 fields: sign, dot code, exponent field, mantissa\n\
wire neg = x[7];\n\
wire is_nan = x == 8'h80;\n\
wire is_inf = x[6:0] == 7'h6f;\n\
wire is_zero = x == 8'h00;\n\
wire e3 = x[6:3] == 4'b0101;             // E = 3: |x| = 1.MMM * 8\n\
wire e4_7 = x[6:5] == 2'b10 && !x[4];    // E = 4 + x[3:2]: |x| = 1.MM * 2^E\n\
wire e8_15 = x[6:5] == 2'b11 && !x[4];   // E = 8 + x[3:1]: |x| = 1.M * 2^E\n\
wire big = e3 | e4_7 | e8_15;\n\
reg [9:0] mag;                           // |x| when big, clamped at {sat}\n\
always @(*) begin\n\
    if (e3) mag = {{6'd0, 1'b1, x[2:0]}};\n\
    else if (e4_7) mag = {{7'd0, 1'b1, x[1:0]}} << (3'd2 + {{1'b0, x[3:2]}});\n\
    else if (x[3:1] == 3'd0) mag = {{8'd0, 1'b1, x[0]}} << 7;\n\
    else mag = {};\n\
end\n\
// Codes between tiny and big: (ipart[4:0], frac, tail)\n\
reg [{}:0] mid_entry;\n\
reg is_mid;\n\
{}\
wire [9:0] mid_ipart = {{{{5{{mid_entry[{}]}}}}, mid_entry[{}:{}]}};\n\
always @(*) begin\n\
    if (is_nan) term = {};\n\
    else if (is_inf) term = neg ? {} : {};\n\
    else if (is_zero) term = {};\n\
    else if (big) term = {{2'd0, neg ? -mag : mag, {}}};\n\
    else if (is_mid) term = {{2'd0, mid_ipart, mid_entry[{}:0]}};\n\
    else term = neg ? {} : {};\n\
end\n",
        lit(10, sat),
        mw - 1,
        case_table("x", 8, "mid_entry", mw, &mid, 0, Some("is_mid")),
        mw - 1,
        mw - 1,
        fw + 1,
        lit(tw, pack(&Term { class: Class::NaN, ipart: 0, frac: 0, tail: false }, fmt)),
        lit(tw, pack(&Term { class: Class::NegInf, ipart: 0, frac: 0, tail: false }, fmt)),
        lit(tw, pack(&Term { class: Class::PosInf, ipart: 0, frac: 0, tail: false }, fmt)),
        lit(tw, 0),
        lit(fw + 1, 0),
        fw,
        lit(tw, pack(&tiny_neg, fmt)),
        lit(tw, pack(&tiny_pos, fmt)),
    )
}

/// The whole rounding as one block of logic, inputs `term` and `shift`, output
/// `y` (the BAPS engine's EXP2 lanes and the float-input baselines use it): the
/// four steps of `hif8_exp2`'s pipeline below, without registers between them.
pub(crate) fn round_verilog(fmt: &FloatFormat) -> String {
    let w = step_widths(fmt);
    format!(
        "reg [{}:0] r_exponent;\nreg [{}:0] r_class;\nreg [{}:0] r_shifted;\n{}{}{}{}",
        w.b1 - 1,
        w.b2 - 1,
        w.b3 - 1,
        step_exponent(fmt, &StepNames { input: "term", output: "r_exponent", local: "e_" }, "shift"),
        step_classify(fmt, &StepNames { input: "r_exponent", output: "r_class", local: "c_" }),
        step_shift(fmt, &StepNames { input: "r_class", output: "r_shifted", local: "s_" }),
        step_round(fmt, &StepNames { input: "r_shifted", output: "y", local: "o_" }),
    )
}

/// Software twin of [`round_verilog`]: the IEEE bits of 2^(term + shift).
/// Used only to fill the plain table of the baseline; co-simulation checks
/// every entry against the independent golden model.
pub fn round_term(t: &Term, shift: i32, fmt: &FloatFormat) -> u64 {
    match t.class {
        Class::NaN => return fmt.quiet_nan(),
        Class::PosInf => return fmt.pos_inf(),
        Class::NegInf => return 0,
        Class::Finite => {}
    }
    let m = fmt.man_bits;
    let ebias = t.ipart as i64 + shift as i64 + fmt.bias() as i64;
    if ebias >= fmt.exp_max_field() as i64 {
        return fmt.pos_inf();
    }
    let sub = ebias <= 0;
    let k = if sub { (1 - ebias).min(m as i64 + 3) as u32 } else { 0 };
    let sig: u128 = ((1u128 << (m + 1)) | t.frac as u128) << (m + 3);
    let sig = sig >> k;
    let field = if sub { 0 } else { ebias as u128 };
    let unrounded = (field << m) | ((sig >> (m + 4)) & ((1 << m) - 1));
    let guard = (sig >> (m + 3)) & 1 == 1;
    let sticky = t.tail || sig & ((1 << (m + 3)) - 1) != 0;
    (unrounded + (guard && (sticky || unrounded & 1 == 1)) as u128) as u64
}

/// Baseline for synthesis: a plain 256-entry table y = 2^x (no shift port),
/// the naive 8-bit-input EXP2 the decomposed unit is measured against.
#[derive(LogicBlock)]
pub struct Exp2PlainTable<const OW: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_x: Signal<In, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_y: Signal<Out, Bits<OW>>,
    lut: Exp2Step<8, OW>,
    /// 1 when the input is registered before the table too.
    in_reg: Constant<Bit>,
    x_q: DFF<Bits<8>>,
    valid_q: DFF<Bit>,
    y_q: DFF<Bits<OW>>,
    out_valid_q: DFF<Bit>,
}

impl<const OW: usize> Logic for Exp2PlainTable<OW> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, x_q, valid_q, y_q, out_valid_q);
        self.x_q.d.next = self.in_x.val();
        self.valid_q.d.next = self.in_valid.val() & !self.rst.val();
        if self.in_reg.val() {
            self.lut.a.next = self.x_q.q.val();
            self.out_valid_q.d.next = self.valid_q.q.val() & !self.rst.val();
        } else {
            self.lut.a.next = self.in_x.val();
            self.out_valid_q.d.next = self.in_valid.val() & !self.rst.val();
        }
        self.y_q.d.next = self.lut.b.val();
        self.out_y.next = self.y_q.q.val();
        self.out_valid.next = self.out_valid_q.q.val();
    }
}

/// The plain table's text: the output format's bits of 2^x for every code.
fn plain_table(fmt: &FloatFormat) -> String {
    let rows: Vec<(u64, u64)> = (0..=255u8).map(|c| (c as u64, round_term(&term(c, fmt), 0, fmt))).collect();
    format!("// {} of 2^x for every code\n{}", fmt.name, case_table("a", 8, "b", fmt.width(), &rows, 0, None))
}

/// `exp2_table256`: the plain-table baseline, `stages` 1 (output register) or 2 (input too).
pub fn generate_plain_table(name: &str, cfg: &Exp2TableConfig) -> anyhow::Result<Module> {
    cfg.validate()?;
    let Exp2TableConfig { out_format, stages } = *cfg;
    let params = Params::Exp2Table256(*cfg);
    let desc = format!("baseline: y = {} of 2^x, x HiF8, from one 256-entry table (no shift)", out_format.name);
    macro_rules! build {
        ($ow:literal) => {{
            let mut b = Exp2PlainTable::<$ow> {
                clk: Default::default(),
                rst: Default::default(),
                in_valid: Default::default(),
                in_x: Default::default(),
                out_valid: Default::default(),
                out_y: Default::default(),
                lut: Exp2Step { a: Default::default(), b: Default::default(), _text: plain_table(&out_format) },
                in_reg: Constant::new(stages == 2),
                x_q: Default::default(),
                valid_q: Default::default(),
                y_q: Default::default(),
                out_valid_q: Default::default(),
            };
            emit(&mut b, name, params, stages, &desc)
        }};
    }
    match out_format.width() {
        16 => build!(16),
        32 => build!(32),
        w => anyhow::bail!("exp2_table256: no {w}-bit output"),
    }
}

/// The rounding cut into four steps, so that `hif8_exp2` can put a pipeline
/// register between any two (FPGA LUT levels are slow; one stage of the whole
/// rounding reaches ~60 MHz on ECP5); [`round_verilog`] chains them without
/// registers. Buses between the steps:
/// B1 = (cls, ebias, 1 - ebias, frac, tail); B2 = (cls, ovf, k, exponent field, frac, tail);
/// B3 = (cls, ovf, unrounded, guard, sticky). Formal proves every `hif8_exp2`
/// configuration equal to the golden table.
#[derive(Clone, Copy, Debug)]
pub struct StepWidths {
    pub b1: u32,
    pub b2: u32,
    pub b3: u32,
}

fn k_bits(fmt: &FloatFormat) -> u32 {
    32 - (fmt.man_bits + 3).leading_zeros()
}

pub fn step_widths(fmt: &FloatFormat) -> StepWidths {
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    StepWidths { b1: 2 + 24 + m + 2, b2: 2 + 1 + k_bits(fmt) + eb + m + 2, b3: 2 + 1 + eb + m + 2 }
}

/// Names one step's text uses: its input bus(es), its output, and a prefix for
/// its local wires (so that several steps can share one module, as in
/// [`round_verilog`]). The steps' own blocks in `hif8_exp2` use no prefix.
struct StepNames<'a> {
    input: &'a str,
    output: &'a str,
    local: &'a str,
}

/// Step 1: the biased exponent of 2^(ipart + shift) (the rescale is an exponent
/// add). Inputs `term` (named by `n.input`) and `shift`.
fn step_exponent(fmt: &FloatFormat, n: &StepNames, shift: &str) -> String {
    let tw = term_width(fmt);
    let m = fmt.man_bits;
    let (t, o, p) = (n.input, n.output, n.local);
    format!(
        "wire [11:0] {p}ipart = {{{{2{{{t}[{}]}}}}, {t}[{}:{}]}};\n\
wire [11:0] {p}shift12 = {{{{4{{{shift}[7]}}}}, {shift}}};\n\
wire [11:0] {p}ebias = {p}ipart + {p}shift12 + {};\n\
// The subnormal shift 1 - ebias, from the inputs rather than after ebias, so that\n\
// step 2 has one carry chain in depth, not two.\n\
wire [11:0] {p}k_full = {} - {p}ipart - {p}shift12;\n\
always @(*) {o} = {{{t}[{}:{}], {p}ebias, {p}k_full, {t}[{}:0]}};\n",
        tw - 3, tw - 3, tw - 12, lit(12, fmt.bias() as u64), lit(12, (1 - fmt.bias()) as i64 as u64),
        tw - 1, tw - 2, m + 1
    )
}

/// Step 2: subnormal / overflow, the subnormal right shift k, the exponent field.
fn step_classify(fmt: &FloatFormat, n: &StepNames) -> String {
    let w = step_widths(fmt);
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    let kmax = m + 3; // beyond: below half the smallest subnormal, all in sticky
    let kw = k_bits(fmt);
    let (a, o, p) = (n.input, n.output, n.local);
    format!(
        "wire [11:0] {p}ebias = {a}[{}:{}];\n\
wire [11:0] {p}k_full = {a}[{}:{}];\n\
wire {p}sub = {p}ebias[11] || {p}ebias == 12'd0;\n\
wire {p}ovf = !{p}ebias[11] && {p}ebias >= {};\n\
wire [{}:0] {p}k = !{p}sub ? {} : ({p}k_full > {} ? {} : {p}k_full[{}:0]);\n\
always @(*) {o} = {{{a}[{}:{}], {p}ovf, {p}k, {p}sub ? {} : {p}ebias[{}:0], {a}[{}:0]}};\n",
        w.b1 - 3, w.b1 - 14, w.b1 - 15, w.b1 - 26,
        lit(12, fmt.exp_max_field() as u64),
        kw - 1, lit(kw, 0), lit(12, kmax as u64), lit(kw, kmax as u64), kw - 1,
        w.b1 - 1, w.b1 - 2, lit(eb, 0), eb - 1, m + 1,
    )
}

/// Step 3: {1.frac, guard room} shifted into place: mantissa, guard, sticky.
/// Written for LUT fabrics: the shift as two levels of 4:1 (or 8:1) muxes, and
/// sticky straight from the input bits below k (bit i of 1.frac is lost iff
/// i < k) rather than after the shift; ECP5 hif8_exp2_s5 173 -> 180 MHz, sticky
/// alone 158 -> 173 (the same logic, fewer LUT levels after mapping).
fn step_shift(fmt: &FloatFormat, n: &StepNames) -> String {
    let w = step_widths(fmt);
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    let kw = k_bits(fmt);
    let sw = 2 * m + 5;
    let (a, o, p) = (n.input, n.output, n.local);
    let arms = |sel: &str, src: &str, dst: &str, n: u32, step: u32| {
        let mut t = format!("always @(*) case ({sel})\n");
        for i in 0..n {
            let lhs = if i + 1 == n { "default".to_string() } else { format!("{}'d{i}", sel_width(n)) };
            let rhs = if i == 0 { src.to_string() } else { format!("{src} >> {}", i * step) };
            t += &format!("    {lhs}: {dst} = {rhs};\n");
        }
        t + "endcase\n"
    };
    format!(
        "wire [{}:0] {p}k = {a}[{}:{}];\n\
wire [{}:0] {p}x0 = {{1'b1, {a}[{}:1], {}}};\n\
reg [{}:0] {p}s1;\n\
{}\
// The top bit of sig (the hidden one before shifting) is read by nobody, hence:\n\
/* verilator lint_off UNUSEDSIGNAL */\n\
reg [{}:0] {p}sig;\n\
/* verilator lint_on UNUSEDSIGNAL */\n\
{}\
wire [{}:0] {p}below = ~({} << {p}k);\n\
wire {p}sticky = {a}[0] || ({p}x0[{}:{}] & {p}below) != {};\n\
always @(*) {o} = {{{a}[{}:{}], {a}[{}:{}], {p}sig[{}:{}], {p}sig[{}], {p}sticky}};\n",
        kw - 1, w.b2 - 4, w.b2 - 3 - kw,
        sw - 1, m + 1, lit(m + 3, 0),
        sw - 1,
        arms(&format!("{p}k[1:0]"), &format!("{p}x0"), &format!("{p}s1"), 4, 1),
        sw - 1,
        arms(&format!("{p}k[{}:2]", kw - 1), &format!("{p}s1"), &format!("{p}sig"), 1 << (kw - 2), 4),
        m + 1, lit(m + 2, (1u64 << (m + 2)) - 1),
        sw - 1, m + 3, lit(m + 2, 0),
        w.b2 - 1, w.b2 - 3, eb + m + 1, m + 2, 2 * m + 3, m + 4, m + 3,
    )
}

/// Width of a case label selecting among `n` (a power of two) arms.
fn sel_width(n: u32) -> u32 {
    n.trailing_zeros()
}

/// Step 4: round to nearest even (no ties: see the module doc), specials.
fn step_round(fmt: &FloatFormat, n: &StepNames) -> String {
    let w = step_widths(fmt);
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    let (a, o, p) = (n.input, n.output, n.local);
    format!(
        "wire [{}:0] {p}unrounded = {a}[{}:2];\n\
wire [{}:0] {p}rounded = {p}unrounded + {{{}, {a}[1] && ({a}[0] || {p}unrounded[0])}};\n\
always @(*) begin\n\
    case ({a}[{}:{}])\n\
        2'd1: {o} = {};   // NaN\n\
        2'd2: {o} = {};   // +Inf\n\
        2'd3: {o} = {};   // 2^-Inf = +0\n\
        default: {o} = {a}[{}] ? {} : {{1'b0, {p}rounded}};\n\
    endcase\n\
end\n",
        eb + m - 1, eb + m + 1,
        eb + m - 1, lit(eb + m - 1, 0),
        w.b3 - 1, w.b3 - 2,
        lit(fmt.width(), fmt.quiet_nan()),
        lit(fmt.width(), fmt.pos_inf()),
        lit(fmt.width(), 0),
        w.b3 - 3, lit(fmt.width(), fmt.pos_inf()),
    )
}

/// Step 1 as a block: (term, shift) -> B1.
#[derive(LogicBlock)]
pub struct Exp2Exponent<const TW: usize, const B1: usize> {
    pub term: Signal<In, Bits<TW>>,
    pub shift: Signal<In, Bits<8>>,
    pub e: Signal<Out, Bits<B1>>,
    _text: String,
}

impl<const TW: usize, const B1: usize> Logic for Exp2Exponent<TW, B1> {
    fn update(&mut self) {}
    fn connect(&mut self) {
        self.e.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(self._text.clone())
    }
}

/// The names of steps 2..4 in their own blocks.
const AB: StepNames = StepNames { input: "a", output: "b", local: "" };

/// A block of logic given as Verilog text, one bus `a` in, one bus `b` out:
/// steps 2..4 of the rounding, and the plain table.
#[derive(LogicBlock)]
pub struct Exp2Step<const I: usize, const O: usize> {
    pub a: Signal<In, Bits<I>>,
    pub b: Signal<Out, Bits<O>>,
    _text: String,
}

impl<const I: usize, const O: usize> Logic for Exp2Step<I, O> {
    fn update(&mut self) {}
    fn connect(&mut self) {
        self.b.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(self._text.clone())
    }
}

/// Where the registers go for a number of stages: after the lookup, after
/// steps 1, 2 and 3 (the output register is always there).
pub fn cuts(stages: u32) -> [bool; 4] {
    match stages {
        1 => [false, false, false, false],
        2 => [true, false, false, false],
        3 => [true, false, true, false],
        4 => [true, false, true, true],
        _ => [true, true, true, true],
    }
}

/// The unit: lookup -> steps 1..4 of the rounding -> output register, with
/// the registers of [`cuts`] between them.
#[derive(LogicBlock)]
pub struct Hif8Exp2<const TW: usize, const OW: usize, const B1: usize, const B2: usize, const B3: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_x: Signal<In, Bits<8>>,
    pub in_shift: Signal<In, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_y: Signal<Out, Bits<OW>>,
    lookup: Exp2Lookup<TW>,
    expo: Exp2Exponent<TW, B1>,
    classify: Exp2Step<B1, B2>,
    shifter: Exp2Step<B2, B3>,
    round: Exp2Step<B3, OW>,
    cut0: Constant<Bit>,
    cut1: Constant<Bit>,
    cut2: Constant<Bit>,
    cut3: Constant<Bit>,
    term_q: DFF<Bits<TW>>,
    shift_q: DFF<Bits<8>>,
    e_q: DFF<Bits<B1>>,
    c_q: DFF<Bits<B2>>,
    s_q: DFF<Bits<B3>>,
    v0_q: DFF<Bit>,
    v1_q: DFF<Bit>,
    v2_q: DFF<Bit>,
    v3_q: DFF<Bit>,
    v0: Signal<Local, Bit>,
    v1: Signal<Local, Bit>,
    v2: Signal<Local, Bit>,
    v3: Signal<Local, Bit>,
    y_q: DFF<Bits<OW>>,
    out_valid_q: DFF<Bit>,
}

impl<const TW: usize, const OW: usize, const B1: usize, const B2: usize, const B3: usize> Logic
    for Hif8Exp2<TW, OW, B1, B2, B3>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clk, term_q, shift_q, e_q, c_q, s_q, v0_q, v1_q, v2_q, v3_q, y_q, out_valid_q);
        self.lookup.x.next = self.in_x.val();
        self.term_q.d.next = self.lookup.term.val();
        self.shift_q.d.next = self.in_shift.val();
        self.v0_q.d.next = self.in_valid.val() & !self.rst.val();
        if self.cut0.val() {
            self.expo.term.next = self.term_q.q.val();
            self.expo.shift.next = self.shift_q.q.val();
            self.v0.next = self.v0_q.q.val();
        } else {
            self.expo.term.next = self.lookup.term.val();
            self.expo.shift.next = self.in_shift.val();
            self.v0.next = self.in_valid.val();
        }
        self.e_q.d.next = self.expo.e.val();
        self.v1_q.d.next = self.v0.val() & !self.rst.val();
        if self.cut1.val() {
            self.classify.a.next = self.e_q.q.val();
            self.v1.next = self.v1_q.q.val();
        } else {
            self.classify.a.next = self.expo.e.val();
            self.v1.next = self.v0.val();
        }
        self.c_q.d.next = self.classify.b.val();
        self.v2_q.d.next = self.v1.val() & !self.rst.val();
        if self.cut2.val() {
            self.shifter.a.next = self.c_q.q.val();
            self.v2.next = self.v2_q.q.val();
        } else {
            self.shifter.a.next = self.classify.b.val();
            self.v2.next = self.v1.val();
        }
        self.s_q.d.next = self.shifter.b.val();
        self.v3_q.d.next = self.v2.val() & !self.rst.val();
        if self.cut3.val() {
            self.round.a.next = self.s_q.q.val();
            self.v3.next = self.v3_q.q.val();
        } else {
            self.round.a.next = self.shifter.b.val();
            self.v3.next = self.v2.val();
        }
        self.y_q.d.next = self.round.b.val();
        self.out_valid_q.d.next = self.v3.val() & !self.rst.val();
        self.out_y.next = self.y_q.q.val();
        self.out_valid.next = self.out_valid_q.q.val();
    }
}

impl<const TW: usize, const OW: usize, const B1: usize, const B2: usize, const B3: usize> Hif8Exp2<TW, OW, B1, B2, B3> {
    fn new(cfg: &Exp2Config) -> Self {
        let fmt = cfg.out_format;
        let w = step_widths(&fmt);
        assert_eq!((TW as u32, OW as u32), (term_width(&fmt), fmt.width()));
        assert_eq!((B1 as u32, B2 as u32, B3 as u32), (w.b1, w.b2, w.b3));
        let [c0, c1, c2, c3] = cuts(cfg.stages);
        Self {
            clk: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_x: Default::default(),
            in_shift: Default::default(),
            out_valid: Default::default(),
            out_y: Default::default(),
            lookup: Exp2Lookup::new(cfg.arch, fmt),
            expo: Exp2Exponent { term: Default::default(), shift: Default::default(), e: Default::default(), _text: step_exponent(&fmt, &StepNames { input: "term", output: "e", local: "" }, "shift") },
            classify: Exp2Step { a: Default::default(), b: Default::default(), _text: step_classify(&fmt, &AB) },
            shifter: Exp2Step { a: Default::default(), b: Default::default(), _text: step_shift(&fmt, &AB) },
            round: Exp2Step { a: Default::default(), b: Default::default(), _text: step_round(&fmt, &AB) },
            cut0: Constant::new(c0),
            cut1: Constant::new(c1),
            cut2: Constant::new(c2),
            cut3: Constant::new(c3),
            term_q: Default::default(),
            shift_q: Default::default(),
            e_q: Default::default(),
            c_q: Default::default(),
            s_q: Default::default(),
            v0_q: Default::default(),
            v1_q: Default::default(),
            v2_q: Default::default(),
            v3_q: Default::default(),
            v0: Default::default(),
            v1: Default::default(),
            v2: Default::default(),
            v3: Default::default(),
            y_q: Default::default(),
            out_valid_q: Default::default(),
        }
    }
}

pub fn generate(name: &str, cfg: &Exp2Config) -> anyhow::Result<Module> {
    cfg.validate()?;
    let params = Params::Hif8Exp2(*cfg);
    let desc = format!(
        "y = {} of 2^(x + shift), x HiF8, shift int8; round to nearest even ({:?} lookup)",
        cfg.out_format.name, cfg.arch
    );
    let latency = cfg.stages;
    match cfg.out_format.name {
        "fp16" => emit(&mut Hif8Exp2::<24, 16, 38, 24, 20>::new(cfg), name, params, latency, &desc),
        "bf16" => emit(&mut Hif8Exp2::<21, 16, 35, 24, 20>::new(cfg), name, params, latency, &desc),
        "fp32" => emit(&mut Hif8Exp2::<37, 32, 51, 41, 36>::new(cfg), name, params, latency, &desc),
        other => anyhow::bail!("hif8_exp2: no output format {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::*;

    #[test]
    fn terms_of_landmarks() {
        let t = term(0x08, &FP16); // 1.0
        assert_eq!(t, Term { class: Class::Finite, ipart: 1, frac: 0, tail: false });
        let t = term(0x18, &FP16); // 0.5: 2^0.5 = 1.0110101000001...
        assert_eq!((t.ipart, t.frac, t.tail), (0, 0b01101010000, true));
        let t = term(0x98, &FP16); // -0.5: 2^-1 * 2^0.5
        assert_eq!((t.ipart, t.frac, t.tail), (-1, 0b01101010000, true));
        assert_eq!(term(0x6E, &FP16).ipart, IPART_LIMIT);
    }

    #[test]
    fn round_term_landmarks() {
        let y = |c: u8, s: i32| round_term(&term(c, &FP16), s, &FP16);
        assert_eq!(y(0x00, 0), 0x3C00); // 2^0 = 1
        assert_eq!(y(0x08, 0), 0x4000); // 2^1 = 2
        assert_eq!(y(0x18, 0), 0x3DA8); // 2^0.5 = 1.41421 -> 0x3DA8
        assert_eq!(y(0x08, -26), 0x0000); // 2^-25: half the smallest subnormal, ties to even 0
        assert_eq!(y(0x08, -25), 0x0001); // 2^-24: the smallest subnormal
        assert_eq!(y(0x08, 14), 0x7800); // 2^15
        assert_eq!(y(0x08, 15), 0x7C00); // 2^16 overflows
        assert_eq!(y(HIF8_NAN, 0), 0x7E00);
    }

    #[test]
    fn term_widths_match_the_instantiations() {
        assert_eq!(term_width(&FP16), 24);
        assert_eq!(term_width(&BF16), 21);
        assert_eq!(term_width(&FP32), 37);
    }
}
