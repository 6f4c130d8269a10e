#!/usr/bin/env python3
"""`make formal`: Yosys SAT proofs that the 8-bit-input units equal their references.

For every module of generated/manifest.json of kind

* `hif8_exp2` (any out_format fp16 / bf16 / fp32, any arch, any stages):
  (a) comb: with its pipeline registers replaced by wires, out_y equals the GOLDEN table
      y = verif::golden::exp2::exp2_hif8(in_x, in_shift as i8, fmt) for all 2^16 inputs
      (reference Verilog written by `verif --bin formal_tables`), and out_valid = in_valid
      (rst = 0). The proof is split into 64 SAT problems, one per value of in_x[7:2] with
      in_x[1:0] and in_shift symbolic: with the top of x constant both the DUT and the
      table fold to a small problem;
  (b) seq: the real (pipelined) module, from an arbitrary register state, with rst = 0
      and arbitrary inputs every cycle, gives at cycle t + LATENCY exactly the outputs
      (out_y, out_valid) of (a)'s register-free module at cycle t;
* `fp32_to_hif8`: (a) comb: out_h equals formal/ref_fp32_to_hif8.v (written by hand
  from shared/spec/hif8.md) for all 2^33 values of (in_f, in_sat), in one SAT problem,
  and out_valid = in_valid; (b) seq as above. Before that, the reference itself must
  reproduce the spec vectors (shared/spec/hif8_encode_fp32.tsv, with and without sat,
  and encode(decode(c)) = c for every finite code of hif8_decode.tsv).

The SAT calls model undefined values (-enable_undef, inputs defined): an output that
could be x fails the proof. Netlists are simplified with `opt -full -keepdc`, whose
-mux_undef only drops the unreachable x branches `proc` adds to complete if/case trees;
the script refuses DUTs with explicit x/z literals, latches, or `check` warnings.

Logs: build/formal/<module>.log (summary), build/formal/<module>/ (yosys inputs and
logs). Exit status 1 on any counterexample, printed with the module and its inputs.

Usage: scripts/formal.py [--jobs N] [--rtl-dir DIR] [--no-build] [module ...]
(--jobs: modules proved in parallel, default 1 or $FORMAL_JOBS; --no-build: reuse
build/formal/ref instead of running formal_tables)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "formal")
REF_EXP2_DIR = os.path.join(BUILD, "ref")
REF_F2H = os.path.join(ROOT, "formal", "ref_fp32_to_hif8.v")
SPEC = os.path.normpath(os.path.join(ROOT, "..", "shared", "spec"))
SLICE_FREE_BITS = 2          # in_x bits left symbolic per EXP2 slice (64 slices)
FORMAT_WIDTH = {"fp16": 16, "bf16": 16, "fp32": 32}
OPT = "opt -full -keepdc"
SAT = "sat -enable_undef -set-def-inputs"

XZ_LITERAL = re.compile(r"\d*'[sS]?[bhdoBHDO][0-9a-fA-F_]*[xXzZ?]")


class ProofError(Exception):
    pass


def yosys(script_path, log_path):
    r = subprocess.run(["yosys", "-q", "-l", log_path, "-s", script_path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        tail = (r.stdout + r.stderr).strip()[-3000:]
        raise ProofError(f"yosys failed (see {os.path.relpath(log_path, ROOT)}):\n{tail}")
    return open(log_path).read()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


# ---------------------------------------------------------------------------
# DUT preparation

MODULE = re.compile(r"module\s+(\w+)\s*\((.*?)\)\s*;(.*?)endmodule", re.S)
PORT = re.compile(r"(input|output)\s+(?:wire|reg)\s*(\[\s*\d+\s*:\s*0\s*\])?\s*(\w+)$")
ANY_MODULE = re.compile(r"^\s*module\s+(\w+)", re.M)
# Port names of the two register helpers the generator emits.
DFF_PORTS = ["d", "q", "clock"]              # rust-hdl's DFF
PIPE_PORTS = ["clk", "rst", "in_valid", "d", "out_valid", "q"]   # rtl-gen blocks::pipe_reg


def ansi_ports(header):
    """[(direction, range, name)] of an ANSI port list."""
    ports = []
    for decl in header.split(","):
        m = PORT.match(decl.strip())
        if not m:
            return None
        ports.append((m.group(1), m.group(2) or "", m.group(3)))
    return ports


def dff_bypass(src, path):
    """Verilog overriding every register helper module by wires: rust-hdl's DFF
    (ports d, q, clock; body: an initial value and `always @(posedge clock) q <= d;`)
    by `assign q = d;`, and the typed layer's pipeline register (ports clk, rst,
    in_valid, d, out_valid, q; body: `valid_q <= in_valid & ~rst; data_q <= d;`)
    by `q = d`, `out_valid = in_valid & ~rst`."""
    out = ["// Register helpers of the DUT replaced by wires, for the combinational proof.\n"]
    names = []
    rest = src
    for m in MODULE.finditer(src):
        name, header, body = m.group(1), m.group(2), m.group(3)
        ports = ansi_ports(header)
        if ports is None:
            continue
        pnames = [p[2] for p in ports]
        rng = next((p[1] for p in ports if p[2] == "d"), "")
        code = re.sub(r"//[^\n]*", "", body)
        if pnames == DFF_PORTS:
            code = re.sub(r"initial\s+begin.*?end", "", code, flags=re.S)
            if not re.search(r"always\s*@\s*\(\s*posedge\s+clock\s*\)\s*begin\s*q\s*<=\s*d\s*;\s*end", code):
                raise ProofError(f"{path}: module {name}(d,q,clock) is not a plain register")
            out.append(f"module {name}(input wire {rng} d, output wire {rng} q, input wire clock);\n"
                       f"    assign q = d;\nendmodule\n")
        elif pnames == PIPE_PORTS:
            clocked = re.search(r"always\s*@\s*\(\s*posedge\s+clk\s*\)\s*begin(.*?)end", code, re.S)
            stmts = [x.strip() for x in clocked.group(1).split(";") if x.strip()] if clocked else []
            if stmts != ["valid_q <= in_valid & ~rst", "data_q <= d"] or len(re.findall(r"posedge", code)) != 1:
                raise ProofError(f"{path}: module {name} is not a plain pipeline register")
            out.append(f"module {name}(input wire clk, input wire rst, input wire in_valid, input wire {rng} d,\n"
                       f"    output wire out_valid, output wire {rng} q);\n"
                       f"    assign q = d;\n    assign out_valid = in_valid & ~rst;\nendmodule\n")
        else:
            continue
        names.append(name)
        rest = rest.replace(m.group(0), "")
    # Every clocked process of the file must be inside one of those helpers.
    if re.search(r"posedge|negedge", rest):
        raise ProofError(f"{path}: clocked logic outside the register helpers; "
                         "the bypass would not remove it")
    if not names:
        raise ProofError(f"{path}: no register helper modules found")
    return "".join(out), names


def check_dut_source(src, path):
    m = XZ_LITERAL.search(src)
    if m:
        raise ProofError(f"{path}: explicit x/z literal {m.group(0)!r}: the x-dropping "
                         "simplification of this script is not sound for it")


def elaborate_checks():
    """Run right after `proc`: no latches, no undriven or multiply driven signals."""
    return ("check -assert\n"
            "select -assert-none t:$dlatch t:$adlatch t:$dlatchsr t:$sr\n")


# ---------------------------------------------------------------------------
# counterexamples

SAT_SECTION = re.compile(r"Executing SAT pass")
VALUE_ROW = re.compile(r"^\s+(\d+\s+)?\\(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", re.M)


def sat_results(log, expected):
    """Per `sat` call: (ok, [(step, signal, hex), ...])."""
    parts = SAT_SECTION.split(log)[1:]
    if len(parts) != expected:
        raise ProofError(f"expected {expected} SAT runs in the log, found {len(parts)}")
    res = []
    for p in parts:
        if "SAT proof finished - no model found: SUCCESS!" in p:
            res.append((True, []))
        elif "SAT proof finished - model found: FAIL!" in p:
            rows = [((m.group(1) or "").strip(), m.group(2), m.group(4))
                    for m in VALUE_ROW.finditer(p)]
            res.append((False, rows))
        else:
            raise ProofError("SAT run with neither SUCCESS nor FAIL in the log")
    return res


def fmt_cex(rows, keep=lambda step, sig: True):
    """`sig=0xVALUE ...` of the model rows (step, signal, hex) that `keep` selects."""
    out = []
    for st, sig, hx in rows:
        if not keep(st, sig):
            continue
        val = f"0x{hx}" if re.fullmatch(r"[0-9a-fA-F]+", hx) else hx
        out.append(f"{sig}={val}")
    return " ".join(dict.fromkeys(out))


# ---------------------------------------------------------------------------
# proofs


def exp2_comb(mod, info, src_path, bypass_path, wdir):
    fmt = info["params"]["out_format"]
    W = FORMAT_WIDTH[fmt]
    ref = os.path.join(REF_EXP2_DIR, f"ref_exp2_{fmt}.v")
    k = SLICE_FREE_BITS
    n = 256 >> k
    h = ["// comb proof harness: DUT registers bypassed, in_x = {slice, xl}, rst = 0\n"]
    for j in range(n):
        rows = [(j << k) + i for i in range(1 << k)]
        h.append(f"(* keep_hierarchy *)\nmodule chk_{j:02x}(input wire [{k-1}:0] xl, input wire [7:0] in_shift, "
                 f"input wire in_valid, output wire [7:0] in_x, output wire [{W-1}:0] y_dut, "
                 f"output reg [{W-1}:0] y_ref, output wire v_dut, output wire trigger);\n")
        h.append(f"  assign in_x = {{{8-k}'h{j:x}, xl}};\n")
        h.append(f"  {mod} dut(.clk(1'b0), .rst(1'b0), .in_valid(in_valid), .in_x(in_x), "
                 f".in_shift(in_shift), .out_valid(v_dut), .out_y(y_dut));\n")
        for r in rows:
            h.append(f"  wire [{W-1}:0] r{r:02x};\n  ref_exp2_{fmt}_row_{r:02x} u{r:02x}(.shift(in_shift), .y(r{r:02x}));\n")
        h.append("  always @(*) case (xl)\n")
        for i, r in enumerate(rows):
            h.append(f"    {k}'d{i}: y_ref = r{r:02x};\n")
        h.append("  endcase\n")
        h.append("  assign trigger = (y_dut != y_ref) || (v_dut != in_valid);\nendmodule\n")
    h.append(f"module chk_all(input wire [{k-1}:0] xl, input wire [7:0] in_shift, input wire in_valid, "
             f"output wire [{n-1}:0] trig);\n")
    for j in range(n):
        h.append(f"  chk_{j:02x} c{j:02x}(.xl(xl), .in_shift(in_shift), .in_valid(in_valid), .in_x(), "
                 f".y_dut(), .y_ref(), .v_dut(), .trigger(trig[{j}]));\n")
    h.append("endmodule\n")
    harness = os.path.join(wdir, "comb_harness.v")
    write(harness, "".join(h))
    script = [
        f"read_verilog {src_path}",
        f"read_verilog -overwrite {bypass_path}",
        f"read_verilog {ref}",
        f"read_verilog {harness}",
        "hierarchy -check -top chk_all",
        "proc -norom",
        elaborate_checks(),
        "memory_map",
        "flatten",
        OPT,
    ]
    for j in range(n):
        script.append(f"{SAT} -prove trigger 0 -show-ports chk_{j:02x}")
    ys = os.path.join(wdir, "comb.ys")
    write(ys, "\n".join(script) + "\n")
    log = yosys(ys, os.path.join(wdir, "comb.log"))
    fails = []
    for j, (ok, rows) in enumerate(sat_results(log, n)):
        if not ok:
            fails.append(fmt_cex(rows, lambda st, sig: sig not in ("xl", "trigger")))
    what = (f"out_y == GOLDEN exp2_hif8(in_x, in_shift, {fmt.upper()}) and out_valid == in_valid, "
            f"all 2^16 (in_x, in_shift), registers bypassed ({n} SAT problems)")
    return what, fails


def f2h_comb(mod, info, src_path, bypass_path, wdir):
    h = f"""// comb proof harness: DUT registers bypassed, rst = 0
module chk(input wire [31:0] in_f, input wire in_sat, input wire in_valid,
           output wire [7:0] h_dut, output wire [7:0] h_ref, output wire v_dut, output wire trigger);
  {mod} dut(.clk(1'b0), .rst(1'b0), .in_valid(in_valid), .in_f(in_f), .in_sat(in_sat),
            .out_valid(v_dut), .out_h(h_dut));
  ref_fp32_to_hif8 r(.f(in_f), .sat(in_sat), .h(h_ref));
  assign trigger = (h_dut != h_ref) || (v_dut != in_valid);
endmodule
"""
    harness = os.path.join(wdir, "comb_harness.v")
    write(harness, h)
    script = [
        f"read_verilog {src_path}",
        f"read_verilog -overwrite {bypass_path}",
        f"read_verilog {REF_F2H}",
        f"read_verilog {harness}",
        "hierarchy -check -top chk",
        "proc -norom",
        elaborate_checks(),
        "memory_map",
        "flatten",
        OPT,
        f"{SAT} -prove trigger 0 -show-ports chk",
    ]
    ys = os.path.join(wdir, "comb.ys")
    write(ys, "\n".join(script) + "\n")
    log = yosys(ys, os.path.join(wdir, "comb.log"))
    (ok, rows), = sat_results(log, 1)
    fails = [] if ok else [fmt_cex(rows, lambda st, sig: sig != "trigger")]
    what = ("out_h == ref_fp32_to_hif8(in_f, in_sat) (formal/, from spec/hif8.md) and "
            "out_valid == in_valid, all 2^33 (in_f, in_sat), registers bypassed")
    return what, fails


def seq_proof(mod, info, src_path, bypass_path, wdir):
    L = int(info["latency"])
    ports = info["ports"]
    ins = [p for p in ports if p["dir"] == "input" and p["name"] not in ("clk", "rst")]
    outs = [p for p in ports if p["dir"] == "output"]
    if not any(p["name"] == "clk" for p in ports) or not any(p["name"] == "rst" for p in ports):
        raise ProofError(f"{mod}: expected clk and rst ports")
    rng = lambda p: f"[{p['width']-1}:0] " if p["width"] > 1 else ""
    decl = ["input wire clk"] + [f"input wire {rng(p)}{p['name']}" for p in ins]
    decl += [f"output wire {rng(p)}{p['name']}" for p in outs]
    decl += [f"output reg {rng(p)}exp_{p['name']}" for p in outs]
    decl += ["output wire trigger"]
    conn = lambda pre: ", ".join(
        [".clk(clk)", ".rst(1'b0)"] + [f".{p['name']}({p['name']})" for p in ins]
        + [f".{p['name']}({pre}{p['name']})" for p in outs])
    h = [f"// seq proof harness: pipelined {mod} vs its register-free copy delayed by {L} cycle(s)\n",
         f"module seqchk({', '.join(decl)});\n"]
    for p in outs:
        h.append(f"  wire {rng(p)}c_{p['name']};\n")
    h.append(f"  {mod}__seq dut({conn('')});\n")
    h.append(f"  {mod} comb({conn('c_')});\n")
    for p in outs:
        for i in range(1, L):
            h.append(f"  reg {rng(p)}d{i}_{p['name']};\n")
        chain = [f"c_{p['name']}"] + [f"d{i}_{p['name']}" for i in range(1, L)] + [f"exp_{p['name']}"]
        h.append("  always @(posedge clk) begin\n")
        for a, b in zip(chain, chain[1:]):
            h.append(f"    {b} <= {a};\n")
        h.append("  end\n")
    h.append("  assign trigger = " + " || ".join(f"({p['name']} != exp_{p['name']})" for p in outs) + ";\n")
    h.append("endmodule\n")
    harness = os.path.join(wdir, "seq_harness.v")
    write(harness, "".join(h))
    script = [
        f"read_verilog {src_path}",
        f"hierarchy -check -top {mod}",
        "proc -norom",
        elaborate_checks(),
        "flatten",
        f"rename {mod} {mod}__seq",
        f"read_verilog -overwrite {src_path}",
        f"read_verilog -overwrite {bypass_path}",
        f"read_verilog {harness}",
        "hierarchy -check -top seqchk",
        "proc -norom",
        "memory_map",
        "flatten",
        OPT,
        # Unconstrained initial state; inputs free at every step; check the last step.
        f"{SAT} -seq {L + 1} -prove-skip {L} -prove trigger 0 -show-ports seqchk",
    ]
    ys = os.path.join(wdir, "seq.ys")
    write(ys, "\n".join(script) + "\n")
    log = yosys(ys, os.path.join(wdir, "seq.log"))
    (ok, rows), = sat_results(log, 1)
    in_names = {p["name"] for p in ins}
    out_names = {p["name"] for p in outs} | {f"exp_{p['name']}" for p in outs}
    fails = [] if ok else [
        f"inputs at cycle 1: " + fmt_cex(rows, lambda st, sig: st == "1" and sig in in_names)
        + f"; outputs at cycle {L + 1} (exp_* = register-free module at cycle 1): "
        + fmt_cex(rows, lambda st, sig: st == str(L + 1) and sig in out_names)]
    what = (f"pipelined module from any register state (rst = 0): outputs at t+{L} == "
            f"register-free module at t")
    return what, fails


# ---------------------------------------------------------------------------
# reference sanity check


def check_f2h_reference():
    """ref_fp32_to_hif8 against the spec's test vectors."""
    vec = []
    for line in open(os.path.join(SPEC, "hif8_encode_fp32.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        f, h = line.split()[:2]
        f, h = int(f, 16), int(h, 16)
        vec.append((f, 0, h))
        vec.append((f, 1, {0x6F: 0x6E, 0xEF: 0xEE}.get(h, h)))
    for line in open(os.path.join(SPEC, "hif8_decode.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        c, f, _v, kind = line.split()[:4]
        if kind in ("zero", "denormal", "normal"):
            vec.append((int(f, 16), 0, int(c, 16)))
    kinds = {line.split()[3] for line in open(os.path.join(SPEC, "hif8_decode.tsv"))
             if line.strip() and not line.startswith("#")}
    if not {"zero", "denormal", "normal"} <= kinds:
        raise ProofError(f"hif8_decode.tsv: unexpected kinds {sorted(kinds)}")
    wdir = os.path.join(BUILD, "ref_check")
    ib = max(1, (len(vec) - 1).bit_length())
    lines = [f"// spec vectors for formal/ref_fp32_to_hif8.v: vector i = (f, sat, expected h)\n"
             f"module vecchk(input wire [{ib-1}:0] i, output wire [7:0] h, output reg [7:0] want, "
             f"output reg [31:0] f, output reg s, output wire bad);\n"
             f"  ref_fp32_to_hif8 r(.f(f), .sat(s), .h(h));\n"
             f"  always @(*) case (i)\n"]
    for i, (f, sat, h) in enumerate(vec):
        lines.append(f"    {ib}'d{i}: begin f = 32'h{f:08x}; s = 1'b{sat}; want = 8'h{h:02x}; end\n")
    lines.append("    default: begin f = 32'h00000000; s = 1'b0; want = 8'h00; end\n  endcase\n")
    lines.append("  assign bad = h != want;\nendmodule\n")
    harness = os.path.join(wdir, "vectors.v")
    write(harness, "".join(lines))
    ys = os.path.join(wdir, "vectors.ys")
    write(ys, "\n".join([f"read_verilog {REF_F2H}", f"read_verilog {harness}",
                         "hierarchy -check -top vecchk", "proc", "memory_map", "flatten", OPT,
                         f"{SAT} -prove bad 0 -show-ports vecchk"]) + "\n")
    log = yosys(ys, os.path.join(wdir, "vectors.log"))
    (ok, rows), = sat_results(log, 1)
    if not ok:
        raise ProofError(f"formal/ref_fp32_to_hif8.v disagrees with a spec vector: {fmt_cex(rows)} "
                         f"(vectors in {os.path.relpath(harness, ROOT)})")
    return len(vec)


# ---------------------------------------------------------------------------


def build_exp2_refs(formats):
    env = dict(os.environ)
    cargo = env.get("CARGO", "cargo")
    cmd = [cargo, "run", "-q", "--release", "-p", "verif", "--bin", "formal_tables", "--",
           "--out-dir", REF_EXP2_DIR]
    for f in sorted(formats):
        cmd += ["--format", f]
    r = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        raise ProofError("formal_tables failed")


def prove_module(info, gen_dir):
    mod = info["module"]
    wdir = os.path.join(BUILD, mod)
    os.makedirs(wdir, exist_ok=True)
    src_path = os.path.join(gen_dir, info["file"])
    src = open(src_path).read()
    check_dut_source(src, src_path)
    bypass, regs = dff_bypass(src, src_path)
    bypass_path = os.path.join(wdir, "bypass.v")
    write(bypass_path, bypass)
    comb = exp2_comb if info["kind"] == "hif8_exp2" else f2h_comb
    results = []
    for name, fn in (("comb", comb), ("seq", seq_proof)):
        t0 = time.time()
        try:
            what, fails = fn(mod, info, src_path, bypass_path, wdir)
        except ProofError as e:
            what, fails = "(error)", [str(e)]
        results.append((name, what, fails, time.time() - t0))
    lines = [f"module {mod} ({info['file']}, kind {info['kind']}, params {json.dumps(info['params'], sort_keys=True)}, "
             f"latency {info['latency']})",
             f"registers bypassed for comb: {', '.join(regs)}"]
    for name, what, fails, dt in results:
        lines.append(f"{name}: {'PROVED' if not fails else 'FAILED'} in {dt:.1f} s: {what}")
        lines += [f"  counterexample: {f}" for f in fails[:10]]
    write(os.path.join(BUILD, f"{mod}.log"), "\n".join(lines) + "\n")
    return mod, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modules", nargs="*", help="only these modules (default: all of the supported kinds)")
    ap.add_argument("--jobs", "-j", type=int, default=int(os.environ.get("FORMAL_JOBS", "1")))
    ap.add_argument("--rtl-dir", default=os.environ.get("RTL_GEN_DIR") or os.path.join(ROOT, "generated"))
    ap.add_argument("--no-build", action="store_true", help="reuse build/formal/ref (no cargo run)")
    args = ap.parse_args()
    gen_dir = os.path.abspath(os.path.join(ROOT, args.rtl_dir))
    t_start = time.time()
    manifest = json.load(open(os.path.join(gen_dir, "manifest.json")))
    mods = [m for m in manifest["modules"] if m["kind"] in ("hif8_exp2", "fp32_to_hif8")]
    if args.modules:
        unknown = set(args.modules) - {m["module"] for m in mods}
        if unknown:
            sys.exit(f"formal: not an hif8_exp2 / fp32_to_hif8 module of the manifest: {sorted(unknown)}")
        mods = [m for m in mods if m["module"] in args.modules]
    if not mods:
        sys.exit("formal: no hif8_exp2 / fp32_to_hif8 modules in the manifest")
    os.makedirs(BUILD, exist_ok=True)
    try:
        formats = {m["params"]["out_format"] for m in mods if m["kind"] == "hif8_exp2"}
        for f in formats:
            if f not in FORMAT_WIDTH:
                raise ProofError(f"unsupported out_format {f}")
        if formats and not args.no_build:
            t0 = time.time()
            build_exp2_refs(formats)
            print(f"formal: golden EXP2 reference tables ({', '.join(sorted(formats))}) "
                  f"in {time.time() - t0:.1f} s")
        if any(m["kind"] == "fp32_to_hif8" for m in mods):
            t0 = time.time()
            n = check_f2h_reference()
            print(f"formal: formal/ref_fp32_to_hif8.v matches {n} spec vectors ({time.time() - t0:.1f} s)")
    except ProofError as e:
        sys.exit(f"formal: {e}")

    failed = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        for mod, results in ex.map(lambda m: prove_module(m, gen_dir), mods):
            total = sum(r[3] for r in results)
            status = "PROVED" if all(not r[2] for r in results) else "FAILED"
            times = ", ".join(f"{r[0]} {r[3]:.1f} s" for r in results)
            print(f"formal: {mod:24s} {status}  ({times}; {total:.1f} s)  build/formal/{mod}.log")
            for name, _what, fails, _dt in results:
                for f in fails[:10]:
                    print(f"  {mod} {name} counterexample: {f}")
            if status != "PROVED":
                failed.append(mod)
    print(f"formal: {len(mods) - len(failed)}/{len(mods)} modules proved in {time.time() - t_start:.1f} s")
    if failed:
        sys.exit(f"formal: FAILED: {', '.join(failed)}")


if __name__ == "__main__":
    main()
