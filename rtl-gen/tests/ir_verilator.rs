//! The typed layer's two meanings agree: random width-checked expressions
//! (every operator, widths 1..96 so that wide values are covered) are printed
//! as Verilog, run through Verilator, and every output bit is compared with
//! the layer's own Rust evaluation on random inputs.

use num_bigint::BigUint;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rtl_gen::ir::{cat, mux, Expr, LeafBuilder};
use std::process::Command;

const WIDTHS: [u32; 6] = [1, 3, 8, 17, 64, 96];

fn rand_big(rng: &mut StdRng, width: u32) -> BigUint {
    let mut v = BigUint::from(0u8);
    for i in 0..width {
        if rng.gen_bool(0.5) {
            v.set_bit(i as u64, true);
        }
    }
    v
}

/// A random expression of exactly `width` bits over the named inputs.
fn gen(rng: &mut StdRng, inputs: &[Expr], width: u32, depth: u32) -> Expr {
    let leaf = |rng: &mut StdRng| {
        let same: Vec<&Expr> = inputs.iter().filter(|e| e.width == width).collect();
        if !same.is_empty() && rng.gen_bool(0.7) {
            return same[rng.gen_range(0..same.len())].clone();
        }
        // a slice or an extension of an input, or a constant
        let src = &inputs[rng.gen_range(0..inputs.len())];
        match rng.gen_range(0..3) {
            0 if src.width >= width => {
                let lo = rng.gen_range(0..=src.width - width);
                src.bits(lo + width - 1, lo)
            }
            1 if src.width < width => {
                if rng.gen_bool(0.5) {
                    src.zext(width)
                } else {
                    src.sext(width)
                }
            }
            _ => rtl_gen::ir::big(width, rand_big(rng, width)),
        }
    };
    if depth == 0 {
        return leaf(rng);
    }
    let sub = |rng: &mut StdRng, w: u32| gen(rng, inputs, w, depth - 1);
    match rng.gen_range(0..14) {
        0 => sub(rng, width) + sub(rng, width),
        1 => sub(rng, width) - sub(rng, width),
        2 => sub(rng, width) & sub(rng, width),
        3 => sub(rng, width) | sub(rng, width),
        4 => sub(rng, width) ^ sub(rng, width),
        5 => !sub(rng, width),
        6 => sub(rng, width).neg(),
        7 => mux(
            gen_bool(rng, inputs, depth - 1),
            sub(rng, width),
            sub(rng, width),
        ),
        8 => sub(rng, width).shl(sub(rng, 3)),
        9 => sub(rng, width).shr(sub(rng, 3)),
        10 => sub(rng, width).ashr(sub(rng, 3)),
        11 if width >= 2 => {
            let a = rng.gen_range(1..width);
            sub(rng, a).mul(sub(rng, width - a))
        }
        12 if width >= 2 => {
            let a = rng.gen_range(1..width);
            cat([sub(rng, a), sub(rng, width - a)])
        }
        13 if width == 1 => gen_bool(rng, inputs, depth - 1),
        _ => leaf(rng),
    }
}

fn gen_bool(rng: &mut StdRng, inputs: &[Expr], depth: u32) -> Expr {
    let w = WIDTHS[rng.gen_range(0..WIDTHS.len())];
    let (a, b) = (gen(rng, inputs, w, depth), gen(rng, inputs, w, depth));
    match rng.gen_range(0..13) {
        0 => a.eq(b),
        1 => a.ne(b),
        2 => a.ult(b),
        3 => a.ule(b),
        4 => a.ugt(b),
        5 => a.uge(b),
        6 => a.slt(b),
        7 => a.sle(b),
        8 => a.sgt(b),
        9 => a.sge(b),
        10 => a.any(),
        11 => a.all(),
        _ => a.parity(),
    }
}

#[test]
fn verilog_text_and_rust_evaluation_agree() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut b = LeafBuilder::new("dut");
    let inputs: Vec<Expr> = WIDTHS
        .iter()
        .enumerate()
        .map(|(i, w)| b.input(&format!("i{i}"), *w))
        .collect();
    let mut outs = vec![];
    for k in 0..60 {
        let w = WIDTHS[k % WIDTHS.len()];
        let mut e = gen(&mut rng, &inputs, w, 3);
        if k % 4 == 0 {
            // Name an intermediate: slices of named wires and chains of wires.
            let t = b.wire(&format!("t{k}"), e);
            e = mux(t.msb(), t.clone(), !&t);
        }
        let o = b.output(&format!("o{k}"), w);
        b.drive(&o, e);
        outs.push((format!("o{k}"), w));
    }
    let leaf = b.finish().expect("random expressions are well formed");

    // Vectors: random values, plus all-ones and zero.
    let vectors: Vec<Vec<BigUint>> = (0..40)
        .map(|n| {
            WIDTHS
                .iter()
                .map(|&w| match n {
                    0 => BigUint::from(0u8),
                    1 => (BigUint::from(1u8) << w) - 1u8,
                    _ => rand_big(&mut rng, w),
                })
                .collect()
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("ir_verilator_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut tb = String::from("module tb;\n");
    for (n, vec) in vectors.iter().enumerate() {
        for (k, w) in &outs {
            tb += &format!("    wire [{}:0] v{n}_{k};\n", w - 1);
        }
        let conns: Vec<String> = vec
            .iter()
            .enumerate()
            .map(|(i, x)| format!(".i{i}({}'h{:x})", WIDTHS[i], x))
            .chain(outs.iter().map(|(k, _)| format!(".{k}(v{n}_{k})")))
            .collect();
        tb += &format!("    dut u{n} ({});\n", conns.join(", "));
    }
    tb += "    initial $finish;\n    final begin\n";
    for n in 0..vectors.len() {
        for (k, _) in &outs {
            tb += &format!("        $display(\"{n} {k} %h\", v{n}_{k});\n");
        }
    }
    tb += "    end\nendmodule\n";
    std::fs::write(dir.join("dut.v"), leaf.module_text()).unwrap();
    std::fs::write(dir.join("tb.v"), tb).unwrap();
    let st = Command::new("verilator")
        .args([
            "--binary",
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-WIDTH",
            "--top-module",
            "tb",
            "-j",
            "2",
            "--Mdir",
        ])
        .arg(dir.join("obj"))
        .arg(dir.join("dut.v"))
        .arg(dir.join("tb.v"))
        .output()
        .expect("verilator on PATH (make test installs it)");
    assert!(
        st.status.success(),
        "verilator failed:\n{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let run = Command::new(dir.join("obj/Vtb")).output().unwrap();
    assert!(run.status.success());
    let text = String::from_utf8(run.stdout).unwrap();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('-')) {
        let mut f = line.split_whitespace();
        let (n, k, val) = (
            f.next().unwrap().parse::<usize>().unwrap(),
            f.next().unwrap(),
            f.next().unwrap(),
        );
        let got =
            BigUint::parse_bytes(val.as_bytes(), 16).unwrap_or_else(|| panic!("not hex: {line}"));
        let mut st = leaf.initial_state();
        for (i, x) in vectors[n].iter().enumerate() {
            leaf.set(&mut st, &format!("i{i}"), x.clone());
        }
        leaf.settle(&mut st);
        assert_eq!(
            leaf.get(&st, k),
            got,
            "vector {n}, output {k}: Rust evaluation vs Verilator"
        );
        checked += 1;
    }
    assert_eq!(checked, vectors.len() * outs.len());
    let _ = std::fs::remove_dir_all(&dir);
}
