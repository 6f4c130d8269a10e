use super::*;
use num_bigint::BigUint;

fn v(x: u64) -> BigUint {
    BigUint::from(x)
}

#[test]
fn width_mismatch_names_block_and_signal() {
    let mut b = LeafBuilder::new("adder");
    let a = b.input("a", 8);
    let c = b.input("c", 9);
    b.wire("sum", &a + &c);
    let e = b.finish().unwrap_err();
    assert!(
        e.contains("block `adder`") && e.contains("`sum`") && e.contains("Add of 8 and 9 bits"),
        "{e}"
    );
}

#[test]
fn output_width_and_undriven_outputs_are_errors() {
    let mut b = LeafBuilder::new("u");
    let a = b.input("a", 8);
    let y = b.output("y", 4);
    let _z = b.output("z", 1);
    b.drive(&y, a);
    let e = b.finish().unwrap_err();
    assert!(
        e.contains("`y` is 4 bits wide, assigned a 8-bit value"),
        "{e}"
    );
    assert!(e.contains("output `z` is never driven"), "{e}");
}

#[test]
fn a_signal_of_another_block_is_an_error() {
    let mut other = LeafBuilder::new("other");
    let foreign = other.input("x", 4);
    let mut b = LeafBuilder::new("mine");
    let a = b.input("a", 4);
    b.wire("w", &a ^ &foreign);
    let e = b.finish().unwrap_err();
    assert!(
        e.contains("`w` reads `x`, a signal of block `other`"),
        "{e}"
    );
}

#[test]
fn names_are_declared_once_and_slices_stay_in_range() {
    let mut b = LeafBuilder::new("u");
    let a = b.input("a", 4);
    b.wire("a", a.bits(4, 0));
    let e = b.finish().unwrap_err();
    assert!(
        e.contains("`a` declared twice") && e.contains("bits [4:0] of a 4-bit value"),
        "{e}"
    );
}

#[test]
fn evaluation_wraps_at_the_operand_width() {
    let mut b = LeafBuilder::new("ops");
    let a = b.input("a", 8);
    let c = b.input("c", 8);
    let outs: Vec<(&str, Expr)> = vec![
        ("add", &a + &c),
        ("sub", &a - &c),
        ("mul", a.mul(&c)),
        ("neg", a.neg()),
        ("slt", a.slt(&c)),
        ("ult", a.ult(&c)),
        ("ashr", a.ashr(lit(3, 2))),
        ("shl", a.shl(lit(4, 9))),
        ("cat", cat([a.bits(3, 0), c.bits(7, 4)])),
        ("sext", a.bits(7, 4).sext(8)),
        ("red", cat([a.any(), a.all(), a.parity()])),
        (
            "sel",
            select(
                vec![(a.eq(lit(8, 1)), lit(2, 1)), (a.ugt(&c), lit(2, 2))],
                lit(2, 3),
            ),
        ),
    ];
    for (n, e) in &outs {
        let o = b.output(n, e.width);
        b.drive(&o, e.clone());
    }
    let leaf = b.finish().unwrap();
    let r = leaf.eval(&[("a", 0xF0), ("c", 0x20)]);
    assert_eq!(r["add"], v(0x10));
    assert_eq!(r["sub"], v(0xD0));
    assert_eq!(r["mul"], v(0xF0 * 0x20));
    assert_eq!(r["neg"], v(0x10));
    assert_eq!(r["slt"], v(1)); // -16 < 32
    assert_eq!(r["ult"], v(0));
    assert_eq!(r["ashr"], v(0xFC));
    assert_eq!(r["shl"], v(0)); // shift past the width
    assert_eq!(r["cat"], v(0x02));
    assert_eq!(r["sext"], v(0xFF));
    assert_eq!(r["red"], v(0b100));
    assert_eq!(r["sel"], v(2));
}

#[test]
fn tables_and_part_selects() {
    let mut b = LeafBuilder::new("t");
    let sel = b.input("sel", 2);
    let bus = b.input("bus", 16);
    let t = b.table("t", &sel, 5, &[(0, 7), (2, 31)], 1);
    let y = b.output("y", 5);
    let p = b.output("p", 4);
    b.drive(&y, t);
    b.drive(&p, bus.part(&sel, 4));
    let leaf = b.finish().unwrap();
    for (s, want) in [(0, 7), (1, 1), (2, 31), (3, 1)] {
        let r = leaf.eval(&[("sel", s), ("bus", 0xABCD)]);
        assert_eq!(r["y"], v(want));
        assert_eq!(r["p"], v((0xABCD >> (4 * s)) & 0xF));
    }
    let text = leaf.module_text();
    assert!(
        text.contains("reg [4:0] t;")
            && text.contains("2'b10: t = 5'h1f;")
            && text.contains("bus[sel * 4 +: 4]"),
        "{text}"
    );
}

#[test]
fn registers_step_with_enable_and_reset() {
    let mut b = LeafBuilder::new("cnt");
    b.clock("clk");
    let rst = b.reset("rst");
    let en = b.input("en", 1);
    let q = b.output("q", 3);
    let r = b.reg("count", 3);
    b.next(&r, &r.q + lit(3, 1), Some(en), Some(5));
    b.drive(&q, r.q.clone());
    let _ = rst;
    let leaf = b.finish().unwrap();
    let mut st = leaf.initial_state();
    leaf.set(&mut st, "rst", 1u8);
    leaf.step(&mut st);
    assert_eq!(leaf.get(&st, "q"), v(5));
    leaf.set(&mut st, "rst", 0u8);
    leaf.set(&mut st, "en", 1u8);
    leaf.step(&mut st);
    leaf.step(&mut st);
    leaf.step(&mut st);
    assert_eq!(leaf.get(&st, "q"), v(0)); // 5 + 3 wraps
    leaf.set(&mut st, "en", 0u8);
    leaf.step(&mut st);
    assert_eq!(leaf.get(&st, "q"), v(0));
    let text = leaf.module_text();
    assert!(
        text.contains("if (en) count <= count + 3'b001;\n        if (rst) count <= 3'b101;"),
        "{text}"
    );
}

#[test]
fn printed_module_reads_as_written() {
    let mut b = LeafBuilder::new("clamp");
    b.doc("clamp: y = min(a, 100)");
    let a = b.input("a", 8);
    let y = b.output("y", 8);
    let big = b.wire("big", a.ugt(lit(8, 100)));
    b.drive(&y, mux(big, lit(8, 100), a));
    let text = b.finish().unwrap().module_text();
    assert_eq!(
        text,
        "// clamp: y = min(a, 100)\nmodule clamp (\n    input  wire [7:0] a,\n    output wire [7:0] y\n);\n    wire big = a > 8'h64;\n    assign y = big ? 8'h64 : a;\nendmodule\n"
    );
}

#[test]
fn memories_and_part_updates_follow_nonblocking_order() {
    let mut b = LeafBuilder::new("rf");
    b.clock("clk");
    b.reset("rst");
    let we = b.input("we", 1);
    let wa = b.input("wa", 2);
    let wd = b.input("wd", 8);
    let ra = b.input("ra", 2);
    let rd = b.output("rd", 8);
    let st = b.output("st", 8);
    let m = b.memory("mem", 8, 4);
    b.mem_write(&m, Some(we.clone()), &wa, &wd);
    let s = b.reg("slots", 8);
    // Two updates of one register: a part, then the whole (the later wins).
    b.update_part(&s, Some(we.clone()), &wa, 2, lit(2, 3));
    b.update(&s, Some(wa.eq(lit(2, 3))), lit(8, 0xAA));
    b.reset_value(&s, 0);
    b.drive(&rd, m.read(&ra));
    b.drive(&st, s.q.clone());
    let leaf = b.finish().unwrap();
    let mut state = leaf.initial_state();
    for (a, d) in [(0u8, 0x11u8), (2, 0x33)] {
        leaf.set(&mut state, "we", 1u8);
        leaf.set(&mut state, "wa", a);
        leaf.set(&mut state, "wd", d);
        leaf.step(&mut state);
    }
    leaf.set(&mut state, "we", 0u8);
    leaf.set(&mut state, "ra", 2u8);
    leaf.settle(&mut state);
    assert_eq!(leaf.get(&state, "rd"), v(0x33));
    assert_eq!(leaf.get(&state, "st"), v(0b0011_0011));
    leaf.set(&mut state, "wa", 3u8);
    leaf.step(&mut state);
    assert_eq!(leaf.get(&state, "st"), v(0xAA));
    leaf.set(&mut state, "rst", 1u8);
    leaf.step(&mut state);
    assert_eq!(leaf.get(&state, "st"), v(0));
    let text = leaf.module_text();
    assert!(
        text.contains("reg [7:0] mem [0:3];") && text.contains("if (we) mem[wa] <= wd;") && text.contains("if (we) slots[wa * 2 +: 2] <= 2'b11;"),
        "{text}"
    );
}

mod two_widths {
    use rust_hdl::prelude::*;
    crate::leaf_block! {
        /// A shell generic over two port widths.
        pub struct Widen<const I: usize, const O: usize> {
            pub a: In<Bits<I>>,
            pub b: Out<Bits<O>>,
        }
    }

    #[test]
    fn a_shell_may_be_generic_over_several_widths() {
        let mut b = super::LeafBuilder::new("widen");
        let a = b.input("a", 4);
        let y = b.output("b", 6);
        b.drive(&y, a.zext(6));
        let leaf = b.finish().unwrap();
        assert!(Widen::<4, 6>::new(leaf.clone()).is_ok());
        let e = Widen::<4, 7>::new(leaf).err().unwrap();
        assert!(e.contains("out b[7]"), "{e}");
    }
}
