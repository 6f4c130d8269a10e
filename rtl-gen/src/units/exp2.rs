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

use crate::blocks::PipeReg;
use crate::emit::{emit, Module, Params};
use crate::formats::{FloatFormat, FLOAT_FORMATS, HIF8_NAN, HIF8_POS_INF};
use crate::hif8::{decode, normal_fields, Hif8};
use crate::ir::{bit, cat, lit, lit_signed, mux, select, Expr, Leaf, LeafBuilder};
use crate::leaf_block;
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

pub const fn term_width(fmt: &FloatFormat) -> u32 {
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

/// Codes whose term is an exact power of two computed from the fields: |x| >= 8.
fn is_big(code: u8) -> bool {
    matches!(decode(code), Hif8::Finite(x) if x.abs() >= 8.0)
}

/// The lookup logic (`x` -> the packed term) added to a leaf under
/// construction; `x` is an 8-bit named signal. Returns the term.
pub fn lookup_logic(b: &mut LeafBuilder, x: &Expr, arch: Exp2Arch, fmt: &FloatFormat) -> Expr {
    let tw = term_width(fmt);
    match arch {
        Exp2Arch::Table => {
            let rows: Vec<(u64, u64)> = (0..=255u8).map(|c| (c as u64, pack(&term(c, fmt), fmt))).collect();
            b.comment("2^x as (class, ipart, frac, tail) for every code");
            b.table("entry", x, tw, &rows, 0)
        }
        Exp2Arch::Decomposed => decomposed_logic(b, x, fmt),
    }
}

/// The decomposed lookup: |x| >= 8 from the fields, tiny |x| one entry per
/// sign, a table for the codes in between.
fn decomposed_logic(b: &mut LeafBuilder, x: &Expr, fmt: &FloatFormat) -> Expr {
    let fw = fmt.man_bits + 1;
    // The entry every tiny positive (negative) x shares: 2^x rounds within
    // the frac width to 1 + 0 (2^-1 * (2 - 0)), with a non-zero tail.
    let tiny_pos = Term { class: Class::Finite, ipart: 0, frac: 0, tail: true };
    let tiny_neg = Term { class: Class::Finite, ipart: -1, frac: (1 << fw) - 1, tail: true };
    // Mid-range entries have |ipart| <= 8: ipart in MID_IPART_BITS bits.
    const MID_IPART_BITS: u32 = 5;
    let mw = MID_IPART_BITS + fw + 1;
    let mut mid = Vec::new();
    for c in 1..=255u8 {
        let t = term(c, fmt);
        if t.class != Class::Finite || is_big(c) {
            continue;
        }
        let tiny = if c & 0x80 != 0 { tiny_neg } else { tiny_pos };
        if t != tiny {
            let lim = 1 << (MID_IPART_BITS - 1);
            assert!((-lim..lim).contains(&t.ipart), "code {c:#x}: mid-range ipart {}", t.ipart);
            let ip = t.ipart as i64 as u64 & ((1 << MID_IPART_BITS) - 1);
            // {is_mid, ipart, frac, tail}
            mid.push((c as u64, (1 << mw) | (ip << (fw + 1)) | (t.frac << 1) | t.tail as u64));
        }
    }
    // Integer path. HiF8 normal codes with a positive exponent E >= 3:
    // dot 01 & Em=01 (E=3, 3 mantissa bits), dot 10 & Em=0rr (E=4+rr, 2 bits),
    // dot 11 & Em=0rrr (E=8+rrr, 1 bit). |x| = 1.M * 2^E, clamped at 511.
    for c in 0..=255u8 {
        if let (Some(f), Hif8::Finite(_)) = (normal_fields(c), decode(c)) {
            assert_eq!(is_big(c), f.exp >= 3, "code {c:#x}");
        }
    }
    let ib = IPART_BITS;
    let word = |t: &Term| lit(term_width(fmt), pack(t, fmt));
    let special = |class| word(&Term { class, ipart: 0, frac: 0, tail: false });
    b.comment("HiF8 fields: sign, dot code, exponent field, mantissa");
    let neg = b.wire("neg", x.bit(7));
    let is_nan = b.wire("is_nan", x.eq(lit(8, HIF8_NAN as u64)));
    let is_inf = b.wire("is_inf", x.bits(6, 0).eq(lit(7, HIF8_POS_INF as u64)));
    let is_zero = b.wire("is_zero", x.eq(lit(8, 0)));
    b.comment("E = 3: |x| = 1.MMM * 8");
    let e3 = b.wire("e3", x.bits(6, 3).eq(lit(4, 0b0101)));
    b.comment("E = 4 + x[3:2]: |x| = 1.MM * 2^E");
    let e4_7 = b.wire("e4_7", x.bits(6, 5).eq(lit(2, 0b10)) & !x.bit(4));
    b.comment("E = 8 + x[3:1]: |x| = 1.M * 2^E");
    let e8_15 = b.wire("e8_15", x.bits(6, 5).eq(lit(2, 0b11)) & !x.bit(4));
    let big = b.wire("big", &e3 | &e4_7 | &e8_15);
    b.comment(format!("|x| when big, clamped at {IPART_LIMIT}"));
    let mag = b.wire(
        "mag",
        select(
            vec![
                (e3.clone(), cat([lit(ib - 4, 0), bit(true), x.bits(2, 0)])),
                (e4_7, cat([lit(ib - 3, 0), bit(true), x.bits(1, 0)]).shl(lit(3, 2) + x.bits(3, 2).zext(3))),
                (x.bits(3, 1).eq(lit(3, 0)), cat([lit(ib - 2, 0), bit(true), x.bit(0)]).shl(lit(3, 7))),
            ],
            lit(ib, IPART_LIMIT as u64),
        ),
    );
    b.comment("Codes between tiny and big: {is_mid, ipart, frac, tail}");
    let mid = b.table("mid", x, mw + 1, &mid, 0);
    let is_mid = b.wire("is_mid", mid.bit(mw));
    let mid_ipart = b.wire("mid_ipart", mid.bits(mw - 1, fw + 1).sext(ib));
    select(
        vec![
            (is_nan, special(Class::NaN)),
            (is_inf, mux(&neg, special(Class::NegInf), special(Class::PosInf))),
            (is_zero, lit(term_width(fmt), 0)),
            (big, cat([lit(2, 0), mux(&neg, mag.neg(), &mag), lit(fw + 1, 0)])),
            (is_mid, cat([lit(2, 0), mid_ipart, mid.bits(fw, 0)])),
        ],
        mux(&neg, word(&tiny_neg), word(&tiny_pos)),
    )
}

/// The lookup as a leaf of its own: `x[7:0]` -> `term`.
pub fn lookup_leaf(name: &str, arch: Exp2Arch, fmt: &FloatFormat) -> Leaf {
    let mut b = LeafBuilder::new(name);
    let x = b.input("x", 8);
    let term = b.output("term", term_width(fmt));
    let t = lookup_logic(&mut b, &x, arch, fmt);
    b.drive(&term, t);
    b.finish().expect("exp2 lookup leaf")
}

/// `hif8_exp2`'s first stage: the lookup, and the shift passed along beside
/// the term (`ts = {term, shift}`), so that one pipeline register holds both.
fn lookup_stage_leaf(arch: Exp2Arch, fmt: &FloatFormat) -> Leaf {
    let mut b = LeafBuilder::new("lookup");
    let x = b.input("x", 8);
    let shift = b.input("shift", 8);
    let ts = b.output("ts", term_width(fmt) + 8);
    let t = lookup_logic(&mut b, &x, arch, fmt);
    let t = b.wire("term", t);
    b.drive(&ts, cat([t, shift]));
    b.finish().expect("exp2 lookup stage")
}

/// The lookup's Verilog body (ports `x[7:0]`, `term`), for engines that paste it.
pub(crate) fn decomposed_lookup(fmt: &FloatFormat) -> String {
    lookup_leaf("exp_lookup", Exp2Arch::Decomposed, fmt).body()
}

/// The whole rounding (the four steps below, no registers between them) added
/// to a leaf under construction: 2^(term + shift) in `fmt`. `term` and
/// `shift` are named signals.
pub fn round_logic(b: &mut LeafBuilder, fmt: &FloatFormat, term: &Expr, shift: &Expr) -> Expr {
    let e = step_exponent(b, fmt, "e_", term, shift);
    let e = b.wire("r_exponent", e);
    let c = step_classify(b, fmt, "c_", &e);
    let c = b.wire("r_class", c);
    let s = step_shift(b, fmt, "s_", &c);
    let s = b.wire("r_shifted", s);
    step_round(b, fmt, "o_", &s)
}

/// The rounding as a leaf: `term`, `shift[7:0]` -> `y` (the BAPS engine's EXP2
/// lanes use it).
pub fn round_leaf(name: &str, fmt: &FloatFormat) -> Leaf {
    let mut b = LeafBuilder::new(name);
    let term = b.input("term", term_width(fmt));
    let shift = b.input("shift", 8);
    let y = b.output("y", fmt.width());
    let v = round_logic(&mut b, fmt, &term, &shift);
    b.drive(&y, v);
    b.finish().expect("exp2 round leaf")
}

/// The rounding's Verilog body (ports `term`, `shift[7:0]`, `y`).
pub(crate) fn round_verilog(fmt: &FloatFormat) -> String {
    round_leaf("exp_round", fmt).body()
}

/// Software twin of [`round_leaf`]: the IEEE bits of 2^(term + shift).
/// Used to fill the plain table of the baseline and to test the leaf;
/// co-simulation checks every entry against the independent golden model.
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

/// The plain table: the output format's bits of 2^x for every code, `x` -> `y`.
pub fn plain_table_leaf(name: &str, fmt: &FloatFormat) -> Leaf {
    let rows: Vec<(u64, u64)> = (0..=255u8).map(|c| (c as u64, round_term(&term(c, fmt), 0, fmt))).collect();
    let mut b = LeafBuilder::new(name);
    let x = b.input("a", 8);
    let y = b.output("b", fmt.width());
    b.comment(format!("{} of 2^x for every code", fmt.name));
    let t = b.table("entry", &x, fmt.width(), &rows, 0);
    b.drive(&y, t);
    b.finish().expect("exp2 plain table")
}

leaf_block! {
    /// A leaf of one bus in (`a`), one bus out (`b`): the rounding steps, the
    /// plain table.
    pub struct Exp2Step<const I: usize, const O: usize> {
        pub a: In<Bits<I>>,
        pub b: Out<Bits<O>>,
    }
}

leaf_block! {
    /// `hif8_exp2`'s lookup stage in rust-hdl.
    pub struct Exp2LookupStage<const TS: usize> {
        pub x: In<Bits<8>>,
        pub shift: In<Bits<8>>,
        pub ts: Out<Bits<TS>>,
    }
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
    x_q: PipeReg<8>,
    y_q: PipeReg<OW>,
}

impl<const OW: usize> Logic for Exp2PlainTable<OW> {
    #[hdl_gen]
    fn update(&mut self) {
        self.x_q.clk.next = self.clk.val();
        self.x_q.rst.next = self.rst.val();
        self.y_q.clk.next = self.clk.val();
        self.y_q.rst.next = self.rst.val();
        self.x_q.d.next = self.in_x.val();
        self.x_q.in_valid.next = self.in_valid.val();
        if self.in_reg.val() {
            self.lut.a.next = self.x_q.q.val();
            self.y_q.in_valid.next = self.x_q.out_valid.val();
        } else {
            self.lut.a.next = self.in_x.val();
            self.y_q.in_valid.next = self.in_valid.val();
        }
        self.y_q.d.next = self.lut.b.val();
        self.out_y.next = self.y_q.q.val();
        self.out_valid.next = self.y_q.out_valid.val();
    }
}

/// `exp2_table256`: the plain-table baseline, `stages` 1 (output register) or 2 (input too).
pub fn generate_plain_table(name: &str, cfg: &Exp2TableConfig) -> anyhow::Result<Module> {
    cfg.validate()?;
    let Exp2TableConfig { out_format, stages } = *cfg;
    let params = Params::Exp2Table256(*cfg);
    let desc = format!("baseline: y = {} of 2^x, x HiF8, from one 256-entry table (no shift)", out_format.name);
    crate::mono!(out_format.width(), |OW| {
        let mut b = Exp2PlainTable::<OW> {
            clk: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_x: Default::default(),
            out_valid: Default::default(),
            out_y: Default::default(),
            lut: Exp2Step::new(plain_table_leaf("table256", &out_format)).map_err(anyhow::Error::msg)?,
            in_reg: Constant::new(stages == 2),
            x_q: PipeReg::with_width(),
            y_q: PipeReg::with_width(),
        };
        emit(&mut b, name, params, stages, &desc)
    }, [16, 32])
}

/// The rounding cut into four steps, so that `hif8_exp2` can put a pipeline
/// register between any two (FPGA LUT levels are slow; one stage of the whole
/// rounding reaches ~60 MHz on ECP5); [`round_leaf`] chains them without
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

/// Width of the subnormal shift k (0 ..= man_bits + 3).
const fn k_bits(fmt: &FloatFormat) -> u32 {
    32 - (fmt.man_bits + 3).leading_zeros()
}

/// Width of the biased exponent and of 1 - ebias in steps 1 and 2.
const EXP_CALC_BITS: u32 = 12;

pub const fn step_widths(fmt: &FloatFormat) -> StepWidths {
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    StepWidths {
        b1: 2 + 2 * EXP_CALC_BITS + m + 2,
        b2: 2 + 1 + k_bits(fmt) + eb + m + 2,
        b3: 2 + 1 + eb + m + 2,
    }
}

/// `v >> n` as a concatenation of a slice of the named signal `v` (so that it
/// can be sliced again without a temporary).
fn shifted(v: &Expr, n: u32) -> Expr {
    if n == 0 {
        v.clone()
    } else if n >= v.width {
        lit(v.width, 0)
    } else {
        cat([lit(n, 0), v.bits(v.width - 1, n)])
    }
}

/// Step 1: the biased exponent of 2^(ipart + shift) (the rescale is an
/// exponent add). Locals are prefixed with `p` (several steps may share a leaf).
fn step_exponent(b: &mut LeafBuilder, fmt: &FloatFormat, p: &str, term: &Expr, shift: &Expr) -> Expr {
    let tw = term_width(fmt);
    let m = fmt.man_bits;
    let w = EXP_CALC_BITS;
    let ipart = b.wire(&format!("{p}ipart"), term.bits(tw - 3, tw - 2 - IPART_BITS).sext(w));
    let shift_w = b.wire(&format!("{p}shift12"), shift.sext(w));
    let ebias = b.wire(&format!("{p}ebias"), &ipart + &shift_w + lit(w, fmt.bias() as u64));
    b.comment("The subnormal shift 1 - ebias, from the inputs rather than after ebias, so that");
    b.comment("step 2 has one carry chain in depth, not two.");
    let k_full = b.wire(&format!("{p}k_full"), lit_signed(w, 1 - fmt.bias() as i64) - &ipart - &shift_w);
    cat([term.bits(tw - 1, tw - 2), ebias, k_full, term.bits(m + 1, 0)])
}

/// Step 2: subnormal / overflow, the subnormal right shift k, the exponent field.
fn step_classify(b: &mut LeafBuilder, fmt: &FloatFormat, p: &str, a: &Expr) -> Expr {
    let b1 = step_widths(fmt).b1;
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    let w = EXP_CALC_BITS;
    let kmax = m + 3; // beyond: below half the smallest subnormal, all in sticky
    let kw = k_bits(fmt);
    let ebias = b.wire(&format!("{p}ebias"), a.bits(b1 - 3, b1 - 2 - w));
    let k_full = b.wire(&format!("{p}k_full"), a.bits(b1 - 3 - w, b1 - 2 - 2 * w));
    let sub = b.wire(&format!("{p}sub"), ebias.msb() | ebias.eq(lit(w, 0)));
    let ovf = b.wire(&format!("{p}ovf"), !ebias.msb() & ebias.uge(lit(w, fmt.exp_max_field() as u64)));
    let k = b.wire(
        &format!("{p}k"),
        mux(!&sub, lit(kw, 0), mux(k_full.ugt(lit(w, kmax as u64)), lit(kw, kmax as u64), k_full.bits(kw - 1, 0))),
    );
    cat([a.bits(b1 - 1, b1 - 2), ovf, k, mux(&sub, lit(eb, 0), ebias.bits(eb - 1, 0)), a.bits(m + 1, 0)])
}

/// Step 3: 1.frac shifted right by k into place: mantissa and guard, and
/// sticky. Written for LUT fabrics: the shift as two levels of 4:1 (or 8:1)
/// muxes, and sticky straight from the input bits below k (bit i of 1.frac is
/// lost iff i < k) rather than after the shift; ECP5 hif8_exp2_s5 173 -> 180
/// MHz, sticky alone 158 -> 173 (the same logic, fewer LUT levels after mapping).
fn step_shift(b: &mut LeafBuilder, fmt: &FloatFormat, p: &str, a: &Expr) -> Expr {
    let b2 = step_widths(fmt).b2;
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    let kw = k_bits(fmt);
    let k = b.wire(&format!("{p}k"), a.bits(b2 - 4, b2 - 3 - kw));
    let one_frac = b.wire(&format!("{p}one_frac"), cat([bit(true), a.bits(m + 1, 1)]));
    let arms = |k: &Expr, lo: u32, n: u32, src: &Expr, step: u32, keep: u32| {
        let sel = k.bits(lo + n.trailing_zeros() - 1, lo);
        let shifted_by = |i: u32| shifted(src, i * step).bits(keep - 1, 0);
        select((0..n - 1).map(|i| (sel.eq(lit(sel.width, i as u64)), shifted_by(i))).collect(), shifted_by(n - 1))
    };
    b.comment("1.frac >> k[1:0]");
    let s1 = b.wire(&format!("{p}s1"), arms(&k, 0, 4, &one_frac, 1, m + 2));
    b.comment(format!("... >> 4 * k[{}:2]: the mantissa and the guard bit (the hidden one is not kept)", kw - 1));
    let sig = b.wire(&format!("{p}sig"), arms(&k, 2, 1 << (kw - 2), &s1, 4, m + 1));
    let below = b.wire(&format!("{p}below"), !lit(m + 2, (1u64 << (m + 2)) - 1).shl(&k));
    let sticky = b.wire(&format!("{p}sticky"), a.bit(0) | (&one_frac & &below).ne(lit(m + 2, 0)));
    cat([a.bits(b2 - 1, b2 - 3), a.bits(eb + m + 1, m + 2), sig.bits(m, 1), sig.bit(0), sticky])
}

/// Step 4: round to nearest even (no ties: see the module doc), specials.
fn step_round(b: &mut LeafBuilder, fmt: &FloatFormat, p: &str, a: &Expr) -> Expr {
    let b3 = step_widths(fmt).b3;
    let (m, eb) = (fmt.man_bits, fmt.exp_bits);
    let ow = fmt.width();
    let unrounded = b.wire(&format!("{p}unrounded"), a.bits(eb + m + 1, 2));
    let up = a.bit(1) & (a.bit(0) | unrounded.bit(0));
    let rounded = b.wire(&format!("{p}rounded"), &unrounded + up.zext(eb + m));
    let class = b.wire(&format!("{p}cls"), a.bits(b3 - 1, b3 - 2));
    b.comment("NaN; +Inf; 2^-Inf = +0; finite (overflow: +Inf)");
    select(
        vec![
            (class.eq(lit(2, Class::NaN as u64)), lit(ow, fmt.quiet_nan())),
            (class.eq(lit(2, Class::PosInf as u64)), lit(ow, fmt.pos_inf())),
            (class.eq(lit(2, Class::NegInf as u64)), lit(ow, 0)),
        ],
        mux(a.bit(b3 - 3), lit(ow, fmt.pos_inf()), cat([bit(false), rounded])),
    )
}

/// Step 1 as a leaf: `ts` = {term, shift} -> `b` = B1.
fn exponent_leaf(fmt: &FloatFormat) -> Leaf {
    let tw = term_width(fmt);
    let mut b = LeafBuilder::new("exponent");
    let ts = b.input("a", tw + 8);
    let out = b.output("b", step_widths(fmt).b1);
    let term = b.wire("term", ts.bits(tw + 7, 8));
    let shift = b.wire("shift", ts.bits(7, 0));
    let e = step_exponent(&mut b, fmt, "", &term, &shift);
    b.drive(&out, e);
    b.finish().expect("exp2 exponent step")
}

/// Steps 2..4 as leaves of their own: bus `a` in, bus `b` out.
fn step_leaf(name: &str, fmt: &FloatFormat, in_w: u32, out_w: u32, step: fn(&mut LeafBuilder, &FloatFormat, &str, &Expr) -> Expr) -> Leaf {
    let mut b = LeafBuilder::new(name);
    let a = b.input("a", in_w);
    let out = b.output("b", out_w);
    let v = step(&mut b, fmt, "", &a);
    b.drive(&out, v);
    b.finish().unwrap_or_else(|e| panic!("exp2 step {name}: {e}"))
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
/// the registers of [`cuts`] between them. The widths are the buses': TS =
/// term + shift, OW the output, B1..B3 of [`step_widths`].
#[derive(LogicBlock)]
pub struct Hif8Exp2<const TS: usize, const OW: usize, const B1: usize, const B2: usize, const B3: usize> {
    pub clk: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    pub in_valid: Signal<In, Bit>,
    pub in_x: Signal<In, Bits<8>>,
    pub in_shift: Signal<In, Bits<8>>,
    pub out_valid: Signal<Out, Bit>,
    pub out_y: Signal<Out, Bits<OW>>,
    lookup: Exp2LookupStage<TS>,
    expo: Exp2Step<TS, B1>,
    classify: Exp2Step<B1, B2>,
    shifter: Exp2Step<B2, B3>,
    round: Exp2Step<B3, OW>,
    cut0: Constant<Bit>,
    cut1: Constant<Bit>,
    cut2: Constant<Bit>,
    cut3: Constant<Bit>,
    ts_q: PipeReg<TS>,
    e_q: PipeReg<B1>,
    c_q: PipeReg<B2>,
    s_q: PipeReg<B3>,
    y_q: PipeReg<OW>,
    v0: Signal<Local, Bit>,
    v1: Signal<Local, Bit>,
    v2: Signal<Local, Bit>,
    v3: Signal<Local, Bit>,
}

impl<const TS: usize, const OW: usize, const B1: usize, const B2: usize, const B3: usize> Logic
    for Hif8Exp2<TS, OW, B1, B2, B3>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.ts_q.clk.next = self.clk.val();
        self.ts_q.rst.next = self.rst.val();
        self.e_q.clk.next = self.clk.val();
        self.e_q.rst.next = self.rst.val();
        self.c_q.clk.next = self.clk.val();
        self.c_q.rst.next = self.rst.val();
        self.s_q.clk.next = self.clk.val();
        self.s_q.rst.next = self.rst.val();
        self.y_q.clk.next = self.clk.val();
        self.y_q.rst.next = self.rst.val();
        self.lookup.x.next = self.in_x.val();
        self.lookup.shift.next = self.in_shift.val();
        self.ts_q.d.next = self.lookup.ts.val();
        self.ts_q.in_valid.next = self.in_valid.val();
        if self.cut0.val() {
            self.expo.a.next = self.ts_q.q.val();
            self.v0.next = self.ts_q.out_valid.val();
        } else {
            self.expo.a.next = self.lookup.ts.val();
            self.v0.next = self.in_valid.val();
        }
        self.e_q.d.next = self.expo.b.val();
        self.e_q.in_valid.next = self.v0.val();
        if self.cut1.val() {
            self.classify.a.next = self.e_q.q.val();
            self.v1.next = self.e_q.out_valid.val();
        } else {
            self.classify.a.next = self.expo.b.val();
            self.v1.next = self.v0.val();
        }
        self.c_q.d.next = self.classify.b.val();
        self.c_q.in_valid.next = self.v1.val();
        if self.cut2.val() {
            self.shifter.a.next = self.c_q.q.val();
            self.v2.next = self.c_q.out_valid.val();
        } else {
            self.shifter.a.next = self.classify.b.val();
            self.v2.next = self.v1.val();
        }
        self.s_q.d.next = self.shifter.b.val();
        self.s_q.in_valid.next = self.v2.val();
        if self.cut3.val() {
            self.round.a.next = self.s_q.q.val();
            self.v3.next = self.s_q.out_valid.val();
        } else {
            self.round.a.next = self.shifter.b.val();
            self.v3.next = self.v2.val();
        }
        self.y_q.d.next = self.round.b.val();
        self.y_q.in_valid.next = self.v3.val();
        self.out_y.next = self.y_q.q.val();
        self.out_valid.next = self.y_q.out_valid.val();
    }
}

impl<const TS: usize, const OW: usize, const B1: usize, const B2: usize, const B3: usize> Hif8Exp2<TS, OW, B1, B2, B3> {
    /// The unit of a configuration; an error if the leaves' ports are not
    /// the shell's widths.
    pub fn new(cfg: &Exp2Config) -> anyhow::Result<Self> {
        let fmt = cfg.out_format;
        let w = step_widths(&fmt);
        let tw = term_width(&fmt);
        let [c0, c1, c2, c3] = cuts(cfg.stages);
        let e = anyhow::Error::msg;
        Ok(Self {
            clk: Default::default(),
            rst: Default::default(),
            in_valid: Default::default(),
            in_x: Default::default(),
            in_shift: Default::default(),
            out_valid: Default::default(),
            out_y: Default::default(),
            lookup: Exp2LookupStage::new(lookup_stage_leaf(cfg.arch, &fmt)).map_err(e)?,
            expo: Exp2Step::new(exponent_leaf(&fmt)).map_err(e)?,
            classify: Exp2Step::new(step_leaf("classify", &fmt, w.b1, w.b2, step_classify)).map_err(e)?,
            shifter: Exp2Step::new(step_leaf("shifter", &fmt, w.b2, w.b3, step_shift)).map_err(e)?,
            round: Exp2Step::new(step_leaf("round", &fmt, w.b3, fmt.width(), step_round)).map_err(e)?,
            cut0: Constant::new(c0),
            cut1: Constant::new(c1),
            cut2: Constant::new(c2),
            cut3: Constant::new(c3),
            ts_q: PipeReg::with_width(),
            e_q: PipeReg::with_width(),
            c_q: PipeReg::with_width(),
            s_q: PipeReg::with_width(),
            y_q: PipeReg::with_width(),
            v0: Default::default(),
            v1: Default::default(),
            v2: Default::default(),
            v3: Default::default(),
        })
        .and_then(|u| {
            anyhow::ensure!(TS as u32 == tw + 8, "hif8_exp2: shell instance of the wrong format");
            Ok(u)
        })
    }
}

/// Width of a format's bits, at compile time (for the shells' port types).
pub const fn format_width(fmt: &FloatFormat) -> u32 {
    1 + fmt.exp_bits + fmt.man_bits
}

pub fn generate(name: &str, cfg: &Exp2Config) -> anyhow::Result<Module> {
    cfg.validate()?;
    let params = Params::Hif8Exp2(*cfg);
    let desc = format!(
        "y = {} of 2^(x + shift), x HiF8, shift int8; round to nearest even ({:?} lookup)",
        cfg.out_format.name, cfg.arch
    );
    let latency = cfg.stages;
    let Some(fi) = FLOAT_FORMATS.iter().position(|f| *f == cfg.out_format) else {
        anyhow::bail!("hif8_exp2: no output format {}", cfg.out_format.name)
    };
    // The bus widths of the format's instance, derived from the format table.
    crate::mono!(fi, |F| {
        const FMT: FloatFormat = FLOAT_FORMATS[F];
        const W: StepWidths = step_widths(&FMT);
        let mut unit = Hif8Exp2::<
            { term_width(&FMT) as usize + 8 },
            { format_width(&FMT) as usize },
            { W.b1 as usize },
            { W.b2 as usize },
            { W.b3 as usize },
        >::new(cfg)?;
        emit(&mut unit, name, params, latency, &desc)
    }, [0, 1, 2])
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

    /// The lookup leaf (both architectures, every format) gives the packed
    /// term of every code.
    #[test]
    fn lookup_leaf_is_term_of_every_code() {
        for fmt in FLOAT_FORMATS {
            for arch in [Exp2Arch::Table, Exp2Arch::Decomposed] {
                let leaf = lookup_leaf("lookup", arch, &fmt);
                for c in 0..=255u8 {
                    let got = &leaf.eval(&[("x", c as u64)])["term"];
                    assert_eq!(*got, pack(&term(c, &fmt), &fmt).into(), "{} {arch:?} code {c:#04x}", fmt.name);
                }
            }
        }
    }

    /// The rounding leaf equals its software twin for every code and shift.
    #[test]
    fn round_leaf_is_round_term() {
        for fmt in FLOAT_FORMATS {
            let leaf = round_leaf("round", &fmt);
            for c in 0..=255u8 {
                let t = term(c, &fmt);
                for s in -128..=127i32 {
                    let got = &leaf.eval(&[("term", pack(&t, &fmt)), ("shift", s as u8 as u64)])["y"];
                    assert_eq!(*got, round_term(&t, s, &fmt).into(), "{} code {c:#04x} shift {s}", fmt.name);
                }
            }
        }
    }

    /// The plain table's leaf is round_term with no shift.
    #[test]
    fn plain_table_leaf_entries() {
        let leaf = plain_table_leaf("t", &FP16);
        assert_eq!(leaf.eval(&[("a", 0x18)])["b"], 0x3DA8u32.into());
        assert_eq!(leaf.eval(&[("a", HIF8_NAN as u64)])["b"], 0x7E00u32.into());
    }

    #[test]
    fn term_widths_match_the_instantiations() {
        assert_eq!(term_width(&FP16), 24);
        assert_eq!(term_width(&BF16), 21);
        assert_eq!(term_width(&FP32), 37);
        for fmt in FLOAT_FORMATS {
            assert_eq!(format_width(&fmt), fmt.width());
        }
    }
}

#[cfg(test)]
mod sim_tests {
    use super::*;
    use crate::formats::FP16;

    const FMT: FloatFormat = FP16;
    const W: StepWidths = step_widths(&FMT);
    type Unit = Hif8Exp2<
        { term_width(&FMT) as usize + 8 },
        { format_width(&FMT) as usize },
        { W.b1 as usize },
        { W.b2 as usize },
        { W.b3 as usize },
    >;

    /// The rust-hdl simulation of the unit (leaf `update()`s, pipeline
    /// registers, the cuts of every stage count) gives round_term's results.
    #[test]
    fn rust_hdl_simulates_every_stage_count() {
        let cases: Vec<(u8, i8)> = vec![(0x00, 0), (0x08, 0), (0x18, 0), (0x98, -3), (0x08, -25), (0x08, 15), (0x80, 0), (0x6f, 1), (0xef, 0), (0x37, -20), (0xc3, 100)];
        for stages in 1..=5 {
            for arch in [Exp2Arch::Table, Exp2Arch::Decomposed] {
                let mut uut = Unit::new(&Exp2Config { arch, out_format: FMT, stages }).unwrap();
                uut.connect_all();
                let cases = cases.clone();
                let mut sim = Simulation::new();
                sim.add_clock(5, |x: &mut Box<Unit>| x.clk.next = !x.clk.val());
                sim.add_testbench(move |mut sim: Sim<Unit>| {
                    let mut x = sim.init()?;
                    let mut seen = 0;
                    for i in 0..cases.len() + stages as usize + 1 {
                        x.rst.next = false;
                        x.in_valid.next = i < cases.len();
                        if let Some(&(c, s)) = cases.get(i) {
                            x.in_x.next = (c as u64).into();
                            x.in_shift.next = (s as u8 as u64).into();
                        }
                        wait_clock_cycle!(sim, clk, x);
                        if x.out_valid.val() {
                            let (c, s) = cases[seen];
                            let want = round_term(&term(c, &FMT), s as i32, &FMT);
                            sim_assert_eq!(sim, x.out_y.val().index() as u64, want, x);
                            seen += 1;
                        }
                    }
                    sim_assert_eq!(sim, seen, cases.len(), x);
                    sim.done(x)
                });
                sim.run(Box::new(uut), 100_000).unwrap();
            }
        }
    }
}
