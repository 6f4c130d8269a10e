//! Reusable blocks built from the typed layer, shared by every unit and engine:
//! the pipeline register here, the streaming engines' machinery in [`stream`].

pub mod stream;

use crate::ir::{Leaf, LeafBuilder};
use crate::leaf_block;
use rust_hdl::prelude::*;

/// A pipeline register of `width` data bits and a valid bit. The valid bit is
/// cleared by the synchronous reset; the data are not reset (never looked at
/// while valid is low), so they map to plain flip-flops.
pub fn pipe_reg(name: &str, width: u32) -> Leaf {
    let mut b = LeafBuilder::new(name);
    let _clk = b.clock("clk");
    let rst = b.reset("rst");
    let in_valid = b.input("in_valid", 1);
    let d = b.input("d", width);
    let out_valid = b.output("out_valid", 1);
    let q = b.output("q", width);
    let v = b.dff("valid_q", in_valid & !rst);
    let data = b.dff("data_q", d);
    b.drive(&out_valid, v);
    b.drive(&q, data);
    b.finish().expect("pipe_reg is well formed")
}

leaf_block! {
    /// The rust-hdl shell of [`pipe_reg`].
    pub struct PipeReg<const W: usize> {
        pub clk: In<Clock>,
        pub rst: In<Bit>,
        pub in_valid: In<Bit>,
        pub d: In<Bits<W>>,
        pub out_valid: Out<Bit>,
        pub q: Out<Bits<W>>,
    }
}

impl<const W: usize> PipeReg<W> {
    pub fn with_width() -> Self {
        PipeReg::new(pipe_reg("pipe_reg", W as u32)).expect("ports match by construction")
    }
}
