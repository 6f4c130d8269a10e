//! A leaf block: ports, named wires, constant tables and registers built from
//! width-checked [`Expr`]s. The same description prints as Verilog
//! ([`Leaf::body`], [`Leaf::module_text`]) and evaluates in Rust
//! ([`Leaf::eval`], [`Leaf::step`]), so a generator's unit has an emulate
//! function beside its Verilog, and a rust-hdl block wrapping it (see
//! [`super::hdl`]) has a real `update()`.
//!
//! Signals can only be referenced through the handles the builder returns, and
//! every signal is declared before it is read, so declaration order is
//! evaluation order. Errors (width mismatches, a signal of another block, an
//! undriven output, a name declared twice) are collected and returned by
//! [`LeafBuilder::finish`] as one message naming the block and the signal.

use super::expr::{mask, BinOp, Expr, Node, SigRef, UnOp};
use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Input,
    Output,
    Wire,
    /// A register: value held in the state, updated by [`Leaf::step`].
    Reg,
}

#[derive(Clone, Debug)]
pub struct Decl {
    pub name: Arc<str>,
    pub width: u32,
    pub kind: Kind,
}

#[derive(Clone, Debug)]
enum Stmt {
    Comment(String),
    /// `wire [w-1:0] name = expr;` (or `assign` of an output).
    Assign(usize, Expr),
    /// A constant table: `always @(*) case (sel) ... endcase`.
    Table {
        target: usize,
        sel: Expr,
        rows: Vec<(u64, BigUint)>,
        default: BigUint,
    },
}

#[derive(Clone, Debug)]
struct RegUpdate {
    target: usize,
    next: Expr,
    enable: Option<Expr>,
    /// Synchronous reset value (by `rst`).
    reset: Option<BigUint>,
}

#[derive(Clone, Debug)]
pub struct Leaf {
    pub name: Arc<str>,
    decls: Vec<Decl>,
    stmts: Vec<Stmt>,
    regs: Vec<RegUpdate>,
    clock: Option<usize>,
    reset: Option<usize>,
    /// Verilog header comment lines (purpose, latency).
    pub doc: Vec<String>,
}

pub struct LeafBuilder {
    leaf: Leaf,
    errors: Vec<String>,
    pending_comment: Vec<String>,
    driven: Vec<bool>,
}

/// An output port to be driven once with [`LeafBuilder::drive`].
#[derive(Clone, Debug)]
pub struct Out(usize);

/// A register declared with [`LeafBuilder::reg`], updated with [`LeafBuilder::next`].
#[derive(Clone, Debug)]
pub struct Reg {
    index: usize,
    pub q: Expr,
}

impl LeafBuilder {
    pub fn new(name: &str) -> Self {
        LeafBuilder {
            leaf: Leaf {
                name: name.into(),
                decls: vec![],
                stmts: vec![],
                regs: vec![],
                clock: None,
                reset: None,
                doc: vec![],
            },
            errors: vec![],
            pending_comment: vec![],
            driven: vec![],
        }
    }

    pub fn doc(&mut self, line: impl Into<String>) {
        self.leaf.doc.push(line.into());
    }

    fn declare(&mut self, name: &str, width: u32, kind: Kind) -> usize {
        if self.leaf.decls.iter().any(|d| &*d.name == name) {
            self.errors.push(format!("`{name}` declared twice"));
        }
        if width == 0 {
            self.errors.push(format!("`{name}`: zero width"));
        }
        self.leaf.decls.push(Decl {
            name: name.into(),
            width,
            kind,
        });
        self.driven.push(matches!(kind, Kind::Input | Kind::Wire));
        self.leaf.decls.len() - 1
    }

    fn handle(&self, index: usize) -> Expr {
        let d = &self.leaf.decls[index];
        Expr {
            width: d.width,
            node: Node::Sig(SigRef {
                block: self.leaf.name.clone(),
                name: d.name.clone(),
                index,
            }),
        }
    }

    /// Checks an expression about to be assigned to `name` (its width, and that
    /// it reads only this block's signals).
    fn check(&mut self, name: &str, e: &Expr, width: Option<u32>) -> bool {
        if let Some(m) = e.error() {
            self.errors.push(format!("`{name}`: {m}"));
            return false;
        }
        if let Some(w) = width {
            if e.width != w {
                self.errors.push(format!(
                    "`{name}` is {w} bits wide, assigned a {}-bit value",
                    e.width
                ));
                return false;
            }
        }
        let mut refs = vec![];
        e.refs(&mut refs);
        for r in refs {
            let ok = r.block == self.leaf.name
                && self
                    .leaf
                    .decls
                    .get(r.index)
                    .is_some_and(|d| d.name == r.name);
            if !ok {
                self.errors.push(format!(
                    "`{name}` reads `{}`, a signal of block `{}`, not of this block",
                    r.name, r.block
                ));
                return false;
            }
        }
        true
    }

    /// A comment printed above the next statement.
    pub fn comment(&mut self, text: impl Into<String>) {
        self.pending_comment.push(text.into());
    }
    fn flush_comment(&mut self) {
        for c in std::mem::take(&mut self.pending_comment) {
            self.leaf.stmts.push(Stmt::Comment(c));
        }
    }

    pub fn clock(&mut self, name: &str) -> Expr {
        let i = self.declare(name, 1, Kind::Input);
        self.leaf.clock = Some(i);
        self.handle(i)
    }
    /// The synchronous reset input that [`LeafBuilder::reg_reset`] registers use.
    pub fn reset(&mut self, name: &str) -> Expr {
        let i = self.declare(name, 1, Kind::Input);
        self.leaf.reset = Some(i);
        self.handle(i)
    }
    pub fn input(&mut self, name: &str, width: u32) -> Expr {
        let i = self.declare(name, width, Kind::Input);
        self.handle(i)
    }
    pub fn output(&mut self, name: &str, width: u32) -> Out {
        Out(self.declare(name, width, Kind::Output))
    }
    pub fn drive(&mut self, out: &Out, e: impl Into<Expr>) {
        let e = e.into();
        let (name, width) = (
            self.leaf.decls[out.0].name.clone(),
            self.leaf.decls[out.0].width,
        );
        if self.driven[out.0] {
            self.errors.push(format!("output `{name}` driven twice"));
        }
        self.driven[out.0] = true;
        if self.check(&name, &e, Some(width)) {
            self.flush_comment();
            self.leaf.stmts.push(Stmt::Assign(out.0, e));
        }
    }
    /// A named wire equal to `e`; its width is the expression's.
    pub fn wire(&mut self, name: &str, e: impl Into<Expr>) -> Expr {
        let e = e.into();
        let ok = self.check(name, &e, None);
        let i = self.declare(name, e.width.max(1), Kind::Wire);
        if ok {
            self.flush_comment();
            self.leaf.stmts.push(Stmt::Assign(i, e));
        }
        self.handle(i)
    }
    /// A constant table `name = rows[sel]` (rows not listed: `default`).
    pub fn table(
        &mut self,
        name: &str,
        sel: &Expr,
        width: u32,
        rows: &[(u64, u64)],
        default: u64,
    ) -> Expr {
        let rows = rows.iter().map(|&(k, v)| (k, BigUint::from(v))).collect();
        self.table_big(name, sel, width, rows, BigUint::from(default))
    }
    pub fn table_big(
        &mut self,
        name: &str,
        sel: &Expr,
        width: u32,
        rows: Vec<(u64, BigUint)>,
        default: BigUint,
    ) -> Expr {
        let ok = self.check(name, sel, None);
        let i = self.declare(name, width, Kind::Wire);
        for (k, v) in rows.iter().chain([(0, default.clone())].iter()) {
            if *v > mask(width) {
                self.errors.push(format!(
                    "table `{name}`: value {v} does not fit in {width} bits"
                ));
            }
            if sel.width < 64 && *k >> sel.width != 0 {
                self.errors.push(format!(
                    "table `{name}`: index {k} does not fit the {}-bit select",
                    sel.width
                ));
            }
        }
        if ok {
            self.flush_comment();
            self.leaf.stmts.push(Stmt::Table {
                target: i,
                sel: sel.clone(),
                rows,
                default,
            });
        }
        self.handle(i)
    }
    /// A register of `width` bits; give its next value with [`LeafBuilder::next`].
    pub fn reg(&mut self, name: &str, width: u32) -> Reg {
        if self.leaf.clock.is_none() {
            self.errors
                .push(format!("register `{name}` in a block without a clock"));
        }
        let index = self.declare(name, width, Kind::Reg);
        Reg {
            index,
            q: self.handle(index),
        }
    }
    /// `reg <= next` every cycle (when `enable`, if given); with `reset`, the
    /// register takes that value while the reset input is high.
    pub fn next(
        &mut self,
        reg: &Reg,
        next: impl Into<Expr>,
        enable: Option<Expr>,
        reset: Option<u64>,
    ) {
        let next = next.into();
        let (name, width) = (
            self.leaf.decls[reg.index].name.clone(),
            self.leaf.decls[reg.index].width,
        );
        if self.driven[reg.index] {
            self.errors
                .push(format!("register `{name}` given two next values"));
        }
        self.driven[reg.index] = true;
        let mut ok = self.check(&name, &next, Some(width));
        if let Some(en) = &enable {
            ok &= self.check(&name, en, Some(1));
        }
        if reset.is_some() && self.leaf.reset.is_none() {
            self.errors.push(format!(
                "register `{name}` has a reset value in a block without a reset input"
            ));
            ok = false;
        }
        if ok {
            self.leaf.regs.push(RegUpdate {
                target: reg.index,
                next,
                enable,
                reset: reset.map(BigUint::from),
            });
        }
    }
    /// A register of `d` (a pipeline register), no enable, no reset.
    pub fn dff(&mut self, name: &str, d: impl Into<Expr>) -> Expr {
        let d = d.into();
        let r = self.reg(name, d.width.max(1));
        self.next(&r, d, None, None);
        r.q
    }
    /// A pipeline cut: a register of `d` when `registered`, else a wire.
    pub fn cut(&mut self, name: &str, d: impl Into<Expr>, registered: bool) -> Expr {
        if registered {
            self.dff(name, d)
        } else {
            self.wire(name, d)
        }
    }

    pub fn finish(mut self) -> Result<Leaf, String> {
        for (d, driven) in self.leaf.decls.iter().zip(&self.driven) {
            if !driven {
                self.errors.push(format!(
                    "{} `{}` is never driven",
                    if d.kind == Kind::Reg {
                        "register"
                    } else {
                        "output"
                    },
                    d.name
                ));
            }
        }
        if self.errors.is_empty() {
            Ok(self.leaf)
        } else {
            Err(format!(
                "block `{}`: {}",
                self.leaf.name,
                self.errors.join("; ")
            ))
        }
    }
}

// ---------------------------------------------------------------------------
// Verilog

fn range(width: u32) -> String {
    if width == 1 {
        String::new()
    } else {
        format!("[{}:0] ", width - 1)
    }
}

fn literal(width: u32, v: &BigUint) -> String {
    if width <= 4 {
        format!("{width}'b{:0w$b}", v.to_u64().unwrap(), w = width as usize)
    } else {
        format!("{width}'h{:0w$x}", v, w = width.div_ceil(4) as usize)
    }
}

/// Verilog text of an expression. Every operand of a width-sensitive operator
/// has the operator's width (see `expr`), so context-determined widths never
/// change a result; signed operators go through `$signed`, and their results
/// back through `$unsigned` so that they do not make an enclosing expression
/// signed.
pub fn verilog(e: &Expr) -> String {
    fn prec(e: &Expr) -> u8 {
        match &e.node {
            Node::Mux(..) => 1,
            Node::Bin(..) => 2,
            _ => 3,
        }
    }
    fn paren(e: &Expr) -> String {
        if prec(e) < 3 {
            format!("({})", verilog(e))
        } else {
            verilog(e)
        }
    }
    match &e.node {
        Node::Const(v) => literal(e.width, v),
        Node::Sig(s) => s.name.to_string(),
        Node::Slice(s, lo) if e.width == 1 => format!("{}[{lo}]", s.name),
        Node::Slice(s, lo) => format!("{}[{}:{lo}]", s.name, lo + e.width - 1),
        Node::Part(s, idx, w) => format!("{}[{} * {w} +: {w}]", s.name, paren(idx)),
        Node::Concat(p) => format!(
            "{{{}}}",
            p.iter().map(verilog).collect::<Vec<_>>().join(", ")
        ),
        Node::Un(op, a) => match op {
            UnOp::Not => format!("~{}", paren(a)),
            UnOp::Neg => format!("-{}", paren(a)),
            UnOp::RedOr => format!("|{}", paren(a)),
            UnOp::RedAnd => format!("&{}", paren(a)),
            UnOp::RedXor => format!("^{}", paren(a)),
        },
        Node::Bin(op, a, b) => {
            use BinOp::*;
            let sym = match op {
                Add => "+",
                Sub => "-",
                Mul => "*",
                And => "&",
                Or => "|",
                Xor => "^",
                Eq => "==",
                Ne => "!=",
                Ult | Slt => "<",
                Ule | Sle => "<=",
                Ugt | Sgt => ">",
                Uge | Sge => ">=",
                Shl => "<<",
                Shr => ">>",
                Ashr => ">>>",
            };
            match op {
                Mul => {
                    // Both operands widened to the product width: self-determined.
                    let w = e.width;
                    format!("{} * {}", verilog(&a.zext(w)), verilog(&b.zext(w)))
                }
                Slt | Sle | Sgt | Sge => {
                    format!("$signed({}) {sym} $signed({})", verilog(a), verilog(b))
                }
                Ashr => format!("$unsigned($signed({}) >>> {})", verilog(a), paren(b)),
                _ => format!("{} {sym} {}", paren(a), paren(b)),
            }
        }
        Node::Mux(c, a, b) => format!(
            "{} ? {} : {}",
            paren(c),
            paren(a),
            if prec(b) == 1 { verilog(b) } else { paren(b) }
        ),
        Node::Err(m) => panic!("printing an error expression: {m}"),
    }
}

/// The right-hand side of an assignment: a chain of three or more `?:` arms
/// one arm a line (a priority select reads as a table), anything else on one line.
fn rhs(e: &Expr) -> String {
    let mut arms = vec![];
    let mut cur = e;
    while let Node::Mux(c, a, b) = &cur.node {
        let c = match c.node {
            Node::Bin(..) | Node::Mux(..) => format!("({})", verilog(c)),
            _ => verilog(c),
        };
        let a = match a.node {
            Node::Bin(..) | Node::Mux(..) => format!("({})", verilog(a)),
            _ => verilog(a),
        };
        arms.push(format!("{c} ? {a} :"));
        cur = b;
    }
    if arms.len() < 3 {
        return verilog(e);
    }
    let mut s = String::new();
    for a in arms {
        s += &format!("\n    {a}");
    }
    s + &format!("\n    {}", verilog(cur))
}

impl Leaf {
    pub fn clock_name(&self) -> Option<&str> {
        self.clock.map(|i| &*self.decls[i].name)
    }
    pub fn decls(&self) -> &[Decl] {
        &self.decls
    }
    pub fn ports(&self) -> impl Iterator<Item = &Decl> {
        self.decls
            .iter()
            .filter(|d| matches!(d.kind, Kind::Input | Kind::Output))
    }

    /// Declarations and logic, for inside a module whose ports are declared
    /// elsewhere (rust-hdl's module shell declares them, outputs as `reg`).
    pub fn body(&self) -> String {
        self.text(true)
    }

    fn text(&self, outputs_are_regs: bool) -> String {
        let mut s = String::new();
        let out_is_table: Vec<usize> = self
            .stmts
            .iter()
            .filter_map(|st| match st {
                Stmt::Table { target, .. } => Some(*target),
                _ => None,
            })
            .collect();
        for (i, d) in self.decls.iter().enumerate() {
            match d.kind {
                Kind::Reg => writeln!(s, "reg {}{};", range(d.width), d.name).unwrap(),
                Kind::Wire if out_is_table.contains(&i) => {
                    writeln!(s, "reg {}{};", range(d.width), d.name).unwrap()
                }
                _ => {}
            }
        }
        for st in &self.stmts {
            match st {
                Stmt::Comment(c) => writeln!(s, "// {c}").unwrap(),
                Stmt::Assign(t, e) => {
                    let d = &self.decls[*t];
                    if d.kind == Kind::Output {
                        if outputs_are_regs {
                            writeln!(s, "always @(*) {} = {};", d.name, rhs(e)).unwrap()
                        } else {
                            writeln!(s, "assign {} = {};", d.name, rhs(e)).unwrap()
                        }
                    } else {
                        writeln!(s, "wire {}{} = {};", range(d.width), d.name, rhs(e)).unwrap()
                    }
                }
                Stmt::Table {
                    target,
                    sel,
                    rows,
                    default,
                } => {
                    let d = &self.decls[*target];
                    writeln!(s, "always @(*) begin\n    case ({})", verilog(sel)).unwrap();
                    for (k, v) in rows {
                        writeln!(
                            s,
                            "        {}: {} = {};",
                            literal(sel.width, &BigUint::from(*k)),
                            d.name,
                            literal(d.width, v)
                        )
                        .unwrap();
                    }
                    writeln!(
                        s,
                        "        default: {} = {};\n    endcase\nend",
                        d.name,
                        literal(d.width, default)
                    )
                    .unwrap();
                }
            }
        }
        if !self.regs.is_empty() {
            let clk = &self.decls[self.clock.expect("checked by finish")].name;
            writeln!(s, "always @(posedge {clk}) begin").unwrap();
            for r in &self.regs {
                let d = &self.decls[r.target];
                let assign = format!("{} <= {};", d.name, verilog(&r.next));
                let line = match (&r.reset, &r.enable) {
                    (None, None) => assign,
                    (None, Some(en)) => format!("if ({}) {assign}", verilog(en)),
                    (Some(v), en) => {
                        let rst = &self.decls[self.reset.unwrap()].name;
                        let go = en
                            .as_ref()
                            .map_or(String::new(), |en| format!("if ({}) ", verilog(en)));
                        format!(
                            "if ({rst}) {} <= {};\n    else {go}{assign}",
                            d.name,
                            literal(d.width, v)
                        )
                    }
                };
                writeln!(s, "    {line}").unwrap();
            }
            writeln!(s, "end").unwrap();
        }
        s
    }

    /// The block as a module of its own, ANSI port list.
    pub fn module_text(&self) -> String {
        let mut s = String::new();
        for l in &self.doc {
            writeln!(s, "// {l}").unwrap();
        }
        let ports: Vec<String> = self
            .ports()
            .map(|d| {
                format!(
                    "    {} wire {}{}",
                    if d.kind == Kind::Input {
                        "input "
                    } else {
                        "output"
                    },
                    range(d.width),
                    d.name
                )
            })
            .collect();
        writeln!(s, "module {} (\n{}\n);", self.name, ports.join(",\n")).unwrap();
        for line in self.text(false).lines() {
            if line.is_empty() {
                s.push('\n');
            } else {
                writeln!(s, "    {line}").unwrap();
            }
        }
        s += "endmodule\n";
        s
    }
}

// ---------------------------------------------------------------------------
// Evaluation

/// Values of every signal of a leaf, by declaration index; registers hold state.
#[derive(Clone, Debug)]
pub struct State {
    values: Vec<BigUint>,
}

fn eval(e: &Expr, v: &[BigUint]) -> BigUint {
    use BinOp::*;
    let m = || mask(e.width);
    match &e.node {
        Node::Const(c) => c.clone(),
        Node::Sig(s) => v[s.index].clone(),
        Node::Slice(s, lo) => (&v[s.index] >> *lo) & m(),
        Node::Part(s, idx, w) => {
            let i = eval(idx, v).to_u64().unwrap_or(u64::MAX);
            (&v[s.index] >> (i.saturating_mul(*w as u64))) & m()
        }
        Node::Concat(p) => p
            .iter()
            .fold(BigUint::zero(), |acc, x| (acc << x.width) | eval(x, v)),
        Node::Un(op, a) => {
            let x = eval(a, v);
            match op {
                UnOp::Not => m() ^ x,
                UnOp::Neg => ((m() ^ x) + BigUint::one()) & m(),
                UnOp::RedOr => BigUint::from(!x.is_zero() as u8),
                UnOp::RedAnd => BigUint::from((x == mask(a.width)) as u8),
                UnOp::RedXor => BigUint::from((x.count_ones() & 1) as u8),
            }
        }
        Node::Bin(op, a, b) => {
            let (x, y) = (eval(a, v), eval(b, v));
            let w = a.width;
            let flag = |c: bool| BigUint::from(c as u8);
            let sx = || super::expr::to_signed(&x, w);
            let sy = || super::expr::to_signed(&y, w);
            match op {
                Add => (x + y) & m(),
                Sub => ((x + (BigUint::one() << w)) - y) & m(),
                Mul => x * y,
                And => x & y,
                Or => x | y,
                Xor => x ^ y,
                Eq => flag(x == y),
                Ne => flag(x != y),
                Ult => flag(x < y),
                Ule => flag(x <= y),
                Ugt => flag(x > y),
                Uge => flag(x >= y),
                Slt => flag(sx() < sy()),
                Sle => flag(sx() <= sy()),
                Sgt => flag(sx() > sy()),
                Sge => flag(sx() >= sy()),
                Shl => match y.to_u32() {
                    Some(n) if n < w => (x << n) & m(),
                    _ => BigUint::zero(),
                },
                Shr => match y.to_u32() {
                    Some(n) if n < w => x >> n,
                    _ => BigUint::zero(),
                },
                Ashr => {
                    let neg = x.bit((w - 1) as u64);
                    let n = y.to_u32().unwrap_or(u32::MAX).min(w);
                    let shifted = if n >= w { BigUint::zero() } else { &x >> n };
                    if neg {
                        shifted | (m() ^ (m() >> n))
                    } else {
                        shifted
                    }
                }
            }
        }
        Node::Mux(c, a, b) => {
            if eval(c, v).is_zero() {
                eval(b, v)
            } else {
                eval(a, v)
            }
        }
        Node::Err(msg) => panic!("evaluating an error expression: {msg}"),
    }
}

impl Leaf {
    /// All zeros (registers included).
    pub fn initial_state(&self) -> State {
        State {
            values: vec![BigUint::zero(); self.decls.len()],
        }
    }
    fn index_of(&self, name: &str) -> usize {
        self.decls
            .iter()
            .position(|d| &*d.name == name)
            .unwrap_or_else(|| panic!("block `{}` has no signal `{name}`", self.name))
    }
    /// Sets an input (masked to its width).
    pub fn set(&self, st: &mut State, name: &str, value: impl Into<BigUint>) {
        let i = self.index_of(name);
        assert_eq!(
            self.decls[i].kind,
            Kind::Input,
            "block `{}`: `{name}` is not an input",
            self.name
        );
        st.values[i] = value.into() & mask(self.decls[i].width);
    }
    pub fn get(&self, st: &State, name: &str) -> BigUint {
        st.values[self.index_of(name)].clone()
    }
    /// Settles the combinational logic from the inputs and the registers.
    pub fn settle(&self, st: &mut State) {
        for s in &self.stmts {
            match s {
                Stmt::Assign(t, e) => st.values[*t] = eval(e, &st.values),
                Stmt::Table {
                    target,
                    sel,
                    rows,
                    default,
                } => {
                    let k = eval(sel, &st.values).to_u64().unwrap_or(u64::MAX);
                    st.values[*target] = rows
                        .iter()
                        .find(|r| r.0 == k)
                        .map_or(default.clone(), |r| r.1.clone());
                }
                Stmt::Comment(_) => {}
            }
        }
    }
    /// One rising clock edge: settle, update every register, settle again.
    pub fn step(&self, st: &mut State) {
        self.settle(st);
        let rst = self.reset.map(|r| !st.values[r].is_zero()).unwrap_or(false);
        let nexts: Vec<(usize, BigUint)> = self
            .regs
            .iter()
            .filter_map(|r| {
                if let (true, Some(v)) = (rst, &r.reset) {
                    return Some((r.target, v.clone()));
                }
                let en = r
                    .enable
                    .as_ref()
                    .map_or(true, |e| !eval(e, &st.values).is_zero());
                en.then(|| (r.target, eval(&r.next, &st.values)))
            })
            .collect();
        for (t, v) in nexts {
            st.values[t] = v;
        }
        self.settle(st);
    }
    /// Combinational evaluation: outputs for the given inputs (a block without
    /// registers; for registered blocks use [`Leaf::step`]).
    pub fn eval(&self, inputs: &[(&str, u64)]) -> HashMap<String, BigUint> {
        let mut st = self.initial_state();
        for (n, v) in inputs {
            self.set(&mut st, n, *v);
        }
        self.settle(&mut st);
        self.decls
            .iter()
            .enumerate()
            .filter(|(_, d)| d.kind == Kind::Output)
            .map(|(i, d)| (d.name.to_string(), st.values[i].clone()))
            .collect()
    }
}
