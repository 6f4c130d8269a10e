//! Width-checked expressions: the tree that is both printed as Verilog and
//! evaluated in Rust.
//!
//! Every operator's width is fixed when the node is built, so the Verilog text
//! never depends on Verilog's context-determined widths: the operands of `+`,
//! `-`, `&`, `|`, `^`, `==`, `<`, `?:` must have equal widths (extend or slice
//! explicitly with [`Expr::zext`], [`Expr::sext`], [`Expr::bits`]), `*` yields
//! the sum of the widths, comparisons yield one bit. A node built from
//! mismatched operands is an error node: it carries the message up to the
//! block that names it (see [`super::leaf::Leaf`]), which reports the block and
//! the signal it was building.

use num_bigint::BigUint;
use num_traits::{One, Zero};
use std::sync::Arc;

/// Binary operators. Arithmetic wraps at the operand width (Verilog's `+` of
/// equal-width operands in an equal-width context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    /// Full product: width = width(a) + width(b).
    Mul,
    And,
    Or,
    Xor,
    Eq,
    Ne,
    /// Unsigned comparisons.
    Ult,
    Ule,
    Ugt,
    Uge,
    /// Two's-complement comparisons.
    Slt,
    Sle,
    Sgt,
    Sge,
    /// Shifts by an unsigned amount of any width; width = width(a).
    Shl,
    Shr,
    /// Arithmetic right shift (sign fill).
    Ashr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
    /// Reductions, one bit.
    RedOr,
    RedAnd,
    RedXor,
}

/// Where a referenced signal lives: its block and its name (a reference to
/// another block's signal is an error when the block is finished).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigRef {
    pub block: Arc<str>,
    pub name: Arc<str>,
    pub index: usize,
}

#[derive(Clone, Debug)]
pub enum Node {
    Const(BigUint),
    Sig(SigRef),
    /// bits [lo + width - 1 : lo] of a named signal (Verilog slices names only).
    Slice(SigRef, u32),
    /// `base[idx * width +: width]`: a part select at a run-time index.
    Part(SigRef, Box<Expr>, u32),
    /// A word of a memory at a run-time address.
    Word(SigRef, Box<Expr>),
    /// MSB first.
    Concat(Vec<Expr>),
    Un(UnOp, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Mux(Box<Expr>, Box<Expr>, Box<Expr>),
    Err(Arc<str>),
}

/// An expression of a known width.
#[derive(Clone, Debug)]
pub struct Expr {
    pub width: u32,
    pub node: Node,
}

pub fn mask(width: u32) -> BigUint {
    (BigUint::one() << width) - BigUint::one()
}

/// A constant of `width` bits (the value is reduced modulo 2^width; a value
/// that does not fit is an error).
pub fn lit(width: u32, value: u64) -> Expr {
    let v = BigUint::from(value);
    if width == 0 {
        return Expr::err("zero-width constant".into());
    }
    if v > mask(width) {
        return Expr::err(format!("constant {value} does not fit in {width} bits"));
    }
    Expr {
        width,
        node: Node::Const(v),
    }
}

/// A two's-complement constant (must fit in `width` bits as a signed value).
pub fn lit_signed(width: u32, value: i64) -> Expr {
    let lo = -(1i128 << (width - 1));
    let hi = (1i128 << (width - 1)) - 1;
    if !(lo..=hi).contains(&(value as i128)) {
        return Expr::err(format!(
            "constant {value} does not fit in {width} signed bits"
        ));
    }
    let v = if value < 0 {
        (BigUint::one() << width) - BigUint::from(value.unsigned_abs())
    } else {
        BigUint::from(value as u64)
    };
    Expr {
        width,
        node: Node::Const(v),
    }
}

pub fn big(width: u32, value: BigUint) -> Expr {
    if value > mask(width) {
        return Expr::err(format!("constant {value} does not fit in {width} bits"));
    }
    Expr {
        width,
        node: Node::Const(value),
    }
}

pub fn bit(b: bool) -> Expr {
    lit(1, b as u64)
}

/// `{parts[0], parts[1], ...}`, MSB first.
pub fn cat<I: IntoIterator<Item = Expr>>(parts: I) -> Expr {
    let parts: Vec<Expr> = parts.into_iter().collect();
    if let Some(e) = parts.iter().find(|p| p.is_err()) {
        return e.clone();
    }
    if parts.is_empty() {
        return Expr::err("empty concatenation".into());
    }
    let width = parts.iter().map(|p| p.width).sum();
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap();
    }
    Expr {
        width,
        node: Node::Concat(parts),
    }
}

/// `c ? a : b`.
pub fn mux(c: impl Into<Expr>, a: impl Into<Expr>, b: impl Into<Expr>) -> Expr {
    let (c, a, b) = (c.into(), a.into(), b.into());
    for e in [&c, &a, &b] {
        if e.is_err() {
            return e.clone();
        }
    }
    if c.width != 1 {
        return Expr::err(format!("mux condition is {} bits wide, must be 1", c.width));
    }
    if a.width != b.width {
        return Expr::err(format!("mux arms of {} and {} bits", a.width, b.width));
    }
    Expr {
        width: a.width,
        node: Node::Mux(Box::new(c), Box::new(a), Box::new(b)),
    }
}

/// Priority select: the value of the first arm whose condition holds, else `default`.
pub fn select(arms: Vec<(Expr, Expr)>, default: Expr) -> Expr {
    arms.into_iter()
        .rev()
        .fold(default, |acc, (c, v)| mux(c, v, acc))
}

impl Expr {
    pub fn err(msg: String) -> Expr {
        Expr {
            width: 0,
            node: Node::Err(msg.into()),
        }
    }
    pub fn is_err(&self) -> bool {
        matches!(self.node, Node::Err(_))
    }
    pub fn error(&self) -> Option<&str> {
        match &self.node {
            Node::Err(m) => Some(m),
            _ => None,
        }
    }
    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        if a.is_err() {
            return a;
        }
        if b.is_err() {
            return b;
        }
        use BinOp::*;
        let width = match op {
            Shl | Shr | Ashr => a.width,
            Mul => a.width + b.width,
            _ if a.width != b.width => {
                return Expr::err(format!(
                    "{op:?} of {} and {} bits (extend or slice one operand)",
                    a.width, b.width
                ))
            }
            Eq | Ne | Ult | Ule | Ugt | Uge | Slt | Sle | Sgt | Sge => 1,
            _ => a.width,
        };
        Expr {
            width,
            node: Node::Bin(op, Box::new(a), Box::new(b)),
        }
    }
    fn un(op: UnOp, a: Expr) -> Expr {
        if a.is_err() {
            return a;
        }
        let width = match op {
            UnOp::Not | UnOp::Neg => a.width,
            _ => 1,
        };
        Expr {
            width,
            node: Node::Un(op, Box::new(a)),
        }
    }

    pub fn eq(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Eq, self.clone(), o.into())
    }
    pub fn ne(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Ne, self.clone(), o.into())
    }
    pub fn ult(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Ult, self.clone(), o.into())
    }
    pub fn ule(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Ule, self.clone(), o.into())
    }
    pub fn ugt(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Ugt, self.clone(), o.into())
    }
    pub fn uge(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Uge, self.clone(), o.into())
    }
    pub fn slt(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Slt, self.clone(), o.into())
    }
    pub fn sle(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Sle, self.clone(), o.into())
    }
    pub fn sgt(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Sgt, self.clone(), o.into())
    }
    pub fn sge(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Sge, self.clone(), o.into())
    }
    pub fn shl(&self, amount: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Shl, self.clone(), amount.into())
    }
    pub fn shr(&self, amount: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Shr, self.clone(), amount.into())
    }
    pub fn ashr(&self, amount: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Ashr, self.clone(), amount.into())
    }
    /// Full-width product.
    pub fn mul(&self, o: impl Into<Expr>) -> Expr {
        Expr::bin(BinOp::Mul, self.clone(), o.into())
    }
    pub fn neg(&self) -> Expr {
        Expr::un(UnOp::Neg, self.clone())
    }
    pub fn any(&self) -> Expr {
        Expr::un(UnOp::RedOr, self.clone())
    }
    pub fn all(&self) -> Expr {
        Expr::un(UnOp::RedAnd, self.clone())
    }
    pub fn parity(&self) -> Expr {
        Expr::un(UnOp::RedXor, self.clone())
    }
    /// Zero-extends to `width` (an error if narrower than the expression).
    pub fn zext(&self, width: u32) -> Expr {
        if self.is_err() || width == self.width {
            return self.clone();
        }
        if width < self.width {
            return Expr::err(format!("zext of {} bits to {width}", self.width));
        }
        cat([lit(width - self.width, 0), self.clone()])
    }
    /// Sign-extends to `width`; the expression must be a named signal or a
    /// constant for its sign bit to be sliced (name it first otherwise).
    pub fn sext(&self, width: u32) -> Expr {
        if self.is_err() || width == self.width {
            return self.clone();
        }
        if width < self.width {
            return Expr::err(format!("sext of {} bits to {width}", self.width));
        }
        let sign = self.bit(self.width - 1);
        cat(std::iter::repeat(sign)
            .take((width - self.width) as usize)
            .chain([self.clone()]))
    }
    /// Bits [hi:lo] of a named signal or a constant.
    pub fn bits(&self, hi: u32, lo: u32) -> Expr {
        if self.is_err() {
            return self.clone();
        }
        if hi < lo || hi >= self.width {
            return Expr::err(format!("bits [{hi}:{lo}] of a {}-bit value", self.width));
        }
        let width = hi - lo + 1;
        match &self.node {
            _ if width == self.width => self.clone(),
            Node::Sig(s) => Expr {
                width,
                node: Node::Slice(s.clone(), lo),
            },
            Node::Slice(s, base) => Expr {
                width,
                node: Node::Slice(s.clone(), base + lo),
            },
            Node::Const(v) => Expr {
                width,
                node: Node::Const((v >> lo) & mask(width)),
            },
            Node::Concat(parts) => {
                // Slice the parts the range covers (no temporary needed).
                let mut out = Vec::new();
                let mut top = self.width;
                for p in parts {
                    let (phi, plo) = (top - 1, top - p.width);
                    top -= p.width;
                    if phi < lo || plo > hi {
                        continue;
                    }
                    out.push(p.bits(phi.min(hi) - plo, lo.max(plo) - plo));
                }
                cat(out)
            }
            _ => Expr::err(format!(
                "bits [{hi}:{lo}] of an unnamed expression: name it first (Leaf::wire)"
            )),
        }
    }
    pub fn bit(&self, i: u32) -> Expr {
        self.bits(i, i)
    }
    /// The low `width` bits.
    pub fn low(&self, width: u32) -> Expr {
        self.bits(width - 1, 0)
    }
    /// The most significant bit.
    pub fn msb(&self) -> Expr {
        self.bit(self.width.saturating_sub(1))
    }
    /// `self[idx * width +: width]` of a named signal.
    pub fn part(&self, idx: impl Into<Expr>, width: u32) -> Expr {
        let idx = idx.into();
        if self.is_err() {
            return self.clone();
        }
        if idx.is_err() {
            return idx;
        }
        match &self.node {
            Node::Sig(s) if self.width % width == 0 => Expr {
                width,
                node: Node::Part(s.clone(), Box::new(idx), width),
            },
            Node::Sig(_) => Expr::err(format!(
                "parts of {width} bits of a {}-bit signal",
                self.width
            )),
            _ => Expr::err("a run-time part select of an unnamed expression: name it first".into()),
        }
    }
    /// `n` copies, MSB first.
    pub fn repeat(&self, n: u32) -> Expr {
        cat(std::iter::repeat(self.clone()).take(n as usize))
    }
    /// Signals this expression reads (for the checks of a block).
    pub fn refs<'a>(&'a self, out: &mut Vec<&'a SigRef>) {
        match &self.node {
            Node::Sig(s) | Node::Slice(s, _) => out.push(s),
            Node::Part(s, i, _) | Node::Word(s, i) => {
                out.push(s);
                i.refs(out)
            }
            Node::Concat(p) => p.iter().for_each(|e| e.refs(out)),
            Node::Un(_, a) => a.refs(out),
            Node::Bin(_, a, b) => {
                a.refs(out);
                b.refs(out)
            }
            Node::Mux(c, a, b) => {
                c.refs(out);
                a.refs(out);
                b.refs(out)
            }
            Node::Const(_) | Node::Err(_) => {}
        }
    }
    pub fn is_zero_const(&self) -> bool {
        matches!(&self.node, Node::Const(v) if v.is_zero())
    }
}

macro_rules! binop {
    ($tr:ident, $f:ident, $op:ident) => {
        impl std::ops::$tr<Expr> for Expr {
            type Output = Expr;
            fn $f(self, o: Expr) -> Expr {
                Expr::bin(BinOp::$op, self, o)
            }
        }
        impl std::ops::$tr<&Expr> for Expr {
            type Output = Expr;
            fn $f(self, o: &Expr) -> Expr {
                Expr::bin(BinOp::$op, self, o.clone())
            }
        }
        impl std::ops::$tr<Expr> for &Expr {
            type Output = Expr;
            fn $f(self, o: Expr) -> Expr {
                Expr::bin(BinOp::$op, self.clone(), o)
            }
        }
        impl std::ops::$tr<&Expr> for &Expr {
            type Output = Expr;
            fn $f(self, o: &Expr) -> Expr {
                Expr::bin(BinOp::$op, self.clone(), o.clone())
            }
        }
    };
}
binop!(Add, add, Add);
binop!(Sub, sub, Sub);
binop!(BitAnd, bitand, And);
binop!(BitOr, bitor, Or);
binop!(BitXor, bitxor, Xor);

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::un(UnOp::Not, self)
    }
}
impl std::ops::Not for &Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::un(UnOp::Not, self.clone())
    }
}

impl From<&Expr> for Expr {
    fn from(e: &Expr) -> Expr {
        e.clone()
    }
}

/// Value of a two's-complement `width`-bit number.
pub fn to_signed(v: &BigUint, width: u32) -> num_bigint::BigInt {
    use num_bigint::BigInt;
    let b = BigInt::from(v.clone());
    if width > 0 && v.bit((width - 1) as u64) {
        b - (BigInt::one() << width)
    } else {
        b
    }
}
