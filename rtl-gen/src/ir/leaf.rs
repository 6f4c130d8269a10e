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
    /// An array of `depth` words (`reg [w-1:0] m [0:depth-1]`), read
    /// combinationally with [`Mem::read`], written at the clock edge.
    Mem,
}

#[derive(Clone, Debug)]
pub struct Decl {
    pub name: Arc<str>,
    pub width: u32,
    pub kind: Kind,
    /// Words of a memory (0 for other signals).
    pub depth: u32,
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

/// What a clocked assignment writes.
#[derive(Clone, Debug)]
enum Target {
    Whole(usize),
    /// `reg[idx * width +: width]`
    Part(usize, Expr, u32),
    /// `mem[addr]`
    Word(usize, Expr),
}

/// `if (cond) target <= value;` at the clock edge. Updates apply in order
/// (a later one wins, as in one Verilog always block), resets after them all.
#[derive(Clone, Debug)]
struct Update {
    target: Target,
    cond: Option<Expr>,
    value: Expr,
}

#[derive(Clone, Debug)]
pub struct Leaf {
    pub name: Arc<str>,
    decls: Vec<Decl>,
    stmts: Vec<Stmt>,
    updates: Vec<Update>,
    /// Synchronous reset values (by the reset input), per register.
    resets: Vec<(usize, BigUint)>,
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

/// A memory declared with [`LeafBuilder::memory`].
#[derive(Clone, Debug)]
pub struct Mem {
    index: usize,
    block: Arc<str>,
    name: Arc<str>,
    pub width: u32,
    pub depth: u32,
}

impl Mem {
    /// The word at `addr`, read combinationally (a small array or a register
    /// file; memories meant for RAM macros are read through a register).
    pub fn read(&self, addr: impl Into<Expr>) -> Expr {
        let addr = addr.into();
        if addr.is_err() {
            return addr;
        }
        Expr {
            width: self.width,
            node: Node::Word(
                SigRef { block: self.block.clone(), name: self.name.clone(), index: self.index },
                Box::new(addr),
            ),
        }
    }
}

impl LeafBuilder {
    pub fn new(name: &str) -> Self {
        LeafBuilder {
            leaf: Leaf {
                name: name.into(),
                decls: vec![],
                stmts: vec![],
                updates: vec![],
                resets: vec![],
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
        self.leaf.decls.push(Decl { name: name.into(), width, kind, depth: 0 });
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
    pub fn next(&mut self, reg: &Reg, next: impl Into<Expr>, enable: Option<Expr>, reset: Option<u64>) {
        self.update(reg, enable, next);
        if let Some(v) = reset {
            self.reset_value(reg, v);
        }
    }
    /// `if (cond) reg <= value;` (every cycle without a condition). A register
    /// may have several updates: the last one whose condition holds wins.
    pub fn update(&mut self, reg: &Reg, cond: Option<Expr>, value: impl Into<Expr>) {
        let width = self.leaf.decls[reg.index].width;
        self.push_update(reg.index, Target::Whole(reg.index), cond, value.into(), width);
    }
    /// `if (cond) reg[idx * width +: width] <= value;`
    pub fn update_part(&mut self, reg: &Reg, cond: Option<Expr>, idx: impl Into<Expr>, width: u32, value: impl Into<Expr>) {
        let idx = idx.into();
        let (name, rw) = (self.leaf.decls[reg.index].name.clone(), self.leaf.decls[reg.index].width);
        if width == 0 || rw % width != 0 {
            self.errors.push(format!("register `{name}`: parts of {width} bits of {rw}"));
        }
        if !self.check(&name, &idx, None) {
            return;
        }
        self.push_update(reg.index, Target::Part(reg.index, idx, width), cond, value.into(), width);
    }
    /// The value `reg` takes while the reset input is high.
    pub fn reset_value(&mut self, reg: &Reg, value: u64) {
        let d = &self.leaf.decls[reg.index];
        let name = d.name.clone();
        if self.leaf.reset.is_none() {
            self.errors.push(format!("register `{name}` has a reset value in a block without a reset input"));
        } else if BigUint::from(value) > mask(d.width) {
            self.errors.push(format!("register `{name}`: reset value {value} does not fit"));
        } else {
            self.leaf.resets.push((reg.index, BigUint::from(value)));
        }
    }
    /// A memory of `depth` words of `width` bits.
    pub fn memory(&mut self, name: &str, width: u32, depth: u32) -> Mem {
        if self.leaf.clock.is_none() {
            self.errors.push(format!("memory `{name}` in a block without a clock"));
        }
        let index = self.declare(name, width, Kind::Mem);
        self.leaf.decls[index].depth = depth;
        self.driven[index] = true;
        Mem { index, block: self.leaf.name.clone(), name: name.into(), width, depth }
    }
    /// `if (cond) mem[addr] <= data;`
    pub fn mem_write(&mut self, mem: &Mem, cond: Option<Expr>, addr: impl Into<Expr>, data: impl Into<Expr>) {
        let addr = addr.into();
        if !self.check(&mem.name, &addr, None) {
            return;
        }
        self.push_update(mem.index, Target::Word(mem.index, addr), cond, data.into(), mem.width);
    }
    fn push_update(&mut self, index: usize, target: Target, cond: Option<Expr>, value: Expr, width: u32) {
        let name = self.leaf.decls[index].name.clone();
        self.driven[index] = true;
        let mut ok = self.check(&name, &value, Some(width));
        if let Some(c) = &cond {
            ok &= self.check(&name, c, Some(1));
        }
        if ok {
            self.leaf.updates.push(Update { target, cond, value });
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
        Node::Word(m, addr) => format!("{}[{}]", m.name, verilog(addr)),
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
                Kind::Mem => writeln!(s, "reg {}{} [0:{}];", range(d.width), d.name, d.depth - 1).unwrap(),
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
        if !self.updates.is_empty() || !self.resets.is_empty() {
            let clk = &self.decls[self.clock.expect("checked by finish")].name;
            writeln!(s, "always @(posedge {clk}) begin").unwrap();
            for u in &self.updates {
                let target = match &u.target {
                    Target::Whole(i) => self.decls[*i].name.to_string(),
                    Target::Part(i, idx, w) => format!("{}[{} * {w} +: {w}]", self.decls[*i].name, verilog(idx)),
                    Target::Word(i, addr) => format!("{}[{}]", self.decls[*i].name, verilog(addr)),
                };
                let assign = format!("{target} <= {};", verilog(&u.value));
                match &u.cond {
                    None => writeln!(s, "    {assign}").unwrap(),
                    Some(c) => writeln!(s, "    if ({}) {assign}", verilog(c)).unwrap(),
                }
            }
            if !self.resets.is_empty() {
                let rst = &self.decls[self.reset.expect("checked by reset_value")].name;
                let lines: Vec<String> =
                    self.resets.iter().map(|(i, v)| format!("{} <= {};", self.decls[*i].name, literal(self.decls[*i].width, v))).collect();
                if lines.len() == 1 {
                    writeln!(s, "    if ({rst}) {}", lines[0]).unwrap();
                } else {
                    writeln!(s, "    if ({rst}) begin").unwrap();
                    for l in lines {
                        writeln!(s, "        {l}").unwrap();
                    }
                    writeln!(s, "    end").unwrap();
                }
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
    /// Words of each memory, by declaration index (empty for other signals).
    mems: Vec<Vec<BigUint>>,
}

fn eval(e: &Expr, st: &State) -> BigUint {
    let v = &st.values[..];
    use BinOp::*;
    let m = || mask(e.width);
    match &e.node {
        Node::Const(c) => c.clone(),
        Node::Sig(s) => v[s.index].clone(),
        Node::Slice(s, lo) => (&v[s.index] >> *lo) & m(),
        Node::Part(s, idx, w) => {
            let i = eval(idx, st).to_u64().unwrap_or(u64::MAX);
            (&v[s.index] >> (i.saturating_mul(*w as u64))) & m()
        }
        Node::Concat(p) => p
            .iter()
            .fold(BigUint::zero(), |acc, x| (acc << x.width) | eval(x, st)),
        Node::Un(op, a) => {
            let x = eval(a, st);
            match op {
                UnOp::Not => m() ^ x,
                UnOp::Neg => ((m() ^ x) + BigUint::one()) & m(),
                UnOp::RedOr => BigUint::from(!x.is_zero() as u8),
                UnOp::RedAnd => BigUint::from((x == mask(a.width)) as u8),
                UnOp::RedXor => BigUint::from((x.count_ones() & 1) as u8),
            }
        }
        Node::Bin(op, a, b) => {
            let (x, y) = (eval(a, st), eval(b, st));
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
        Node::Word(m, addr) => {
            let a = eval(addr, st).to_usize().unwrap_or(usize::MAX);
            st.mems[m.index].get(a).cloned().unwrap_or_default()
        }
        Node::Mux(c, a, b) => {
            if eval(c, st).is_zero() {
                eval(b, st)
            } else {
                eval(a, st)
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
            mems: self.decls.iter().map(|d| vec![BigUint::zero(); d.depth as usize]).collect(),
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
                Stmt::Assign(t, e) => st.values[*t] = eval(e, st),
                Stmt::Table {
                    target,
                    sel,
                    rows,
                    default,
                } => {
                    let k = eval(sel, st).to_u64().unwrap_or(u64::MAX);
                    st.values[*target] = rows
                        .iter()
                        .find(|r| r.0 == k)
                        .map_or(default.clone(), |r| r.1.clone());
                }
                Stmt::Comment(_) => {}
            }
        }
    }
    /// One rising clock edge: settle, update every register and memory
    /// (values computed before any is written, as non-blocking assignments),
    /// settle again.
    pub fn step(&self, st: &mut State) {
        self.settle(st);
        let rst = self.reset.map(|r| !st.values[r].is_zero()).unwrap_or(false);
        enum W {
            Val(usize, BigUint),
            Part(usize, u64, u32, BigUint),
            Word(usize, usize, BigUint),
        }
        let writes: Vec<W> = self
            .updates
            .iter()
            .filter(|u| u.cond.as_ref().map_or(true, |c| !eval(c, st).is_zero()))
            .map(|u| {
                let v = eval(&u.value, st);
                match &u.target {
                    Target::Whole(i) => W::Val(*i, v),
                    Target::Part(i, idx, w) => W::Part(*i, eval(idx, st).to_u64().unwrap_or(u64::MAX), *w, v),
                    Target::Word(i, a) => W::Word(*i, eval(a, st).to_usize().unwrap_or(usize::MAX), v),
                }
            })
            .collect();
        for w in writes {
            match w {
                W::Val(i, v) => st.values[i] = v,
                W::Part(i, k, pw, v) => {
                    let width = self.decls[i].width as u64;
                    if let Some(lo) = k.checked_mul(pw as u64).filter(|lo| lo + pw as u64 <= width) {
                        let keep = mask(width as u32) ^ (mask(pw) << lo);
                        st.values[i] = (&st.values[i] & keep) | (v << lo);
                    }
                }
                W::Word(i, a, v) => {
                    if let Some(word) = st.mems[i].get_mut(a) {
                        *word = v;
                    }
                }
            }
        }
        if rst {
            for (i, v) in &self.resets {
                st.values[*i] = v.clone();
            }
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
