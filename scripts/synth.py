#!/usr/bin/env python3
"""`make synth`: Yosys synthesis of every module in generated/manifest.json.

Per module: generic synthesis (check -assert, no latches allowed), cell count,
`stat -tech cmos` transistor estimate, logic depth, then sky130_fd_sc_hd
mapping (dfflibmap + ABC with sky130 at the clock of constraints/clock.sdc) for
area in um^2. Writes results/synth.md and results/synth.json.
"""
import argparse
import concurrent.futures as cf
import json
import os
import shutil
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "generated")
BUILD = os.path.join(ROOT, "build", "synth")
PDK = os.path.join(ROOT, "..", "shared", "pdk", "sky130_fd_sc_hd__tt_025C_1v80.lib.gz")
SDC = os.path.join(ROOT, "constraints", "clock.sdc")


def clock_period_ns():
    m = re.search(r"-period\s+([0-9.]+)", open(SDC).read())
    return float(m.group(1))


# The ABC script: Yosys's default for `abc -D -liberty` without its SAT sweeping
# (`&fraig -x`, `scorr`), which ran for hours on exp2_fp32's 36 x 35 multiplier
# (it finishes in 13 s without; on the other modules the area moves by -5..+4 %,
# ABC's noise), then ABC's buffering and gate sizing for the clock (`buffer -p;
# upsize; dnsize`): without them the flip-flop row buffers' nets drive thousands of
# minimum-size loads and OpenSTA reported 1125 ns paths in hccs_softmax (85 ns with;
# +1-2 % area). One script for every module, so the ratios compare like with like.
def abc_cmd(period_ps, lib):
    return (f"abc -script +strash;dc2;dretime;strash;&get,-n;&dch,-f;&nf,-D,{period_ps};&put;"
            f"buffer,-p;upsize,-D,{period_ps};dnsize,-D,{period_ps} -liberty {lib}")


# Seconds one sky130 mapping may take (a safety net; every module here takes
# under a minute): a module over it keeps its generic numbers, marked not finished.
SKY130_TIMEOUT = 1800


class TimedOut(Exception):
    pass


def yosys(script, log, timeout=None):
    try:
        r = subprocess.run(["yosys", "-q", "-l", log, "-p", script], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimedOut(log)
    if r.returncode != 0:
        sys.exit(f"yosys failed ({log}):\n{r.stderr[-3000:]}")
    return open(log).read()


def last(pattern, text, conv=float, default=None):
    found = re.findall(pattern, text)
    return conv(found[-1]) if found else default


def timing(name, lib, period):
    """OpenSTA on the sky130 netlist: critical path (ns) and fmax (MHz)."""
    if not shutil.which("sta"):
        return None, None
    tcl = os.path.join(BUILD, f"{name}.sta.tcl")
    with open(tcl, "w") as f:
        f.write(f"read_liberty {lib}\nread_verilog {BUILD}/{name}.sky130.v\nlink_design {name}\n"
                f"read_sdc {SDC}\nreport_checks -path_delay max -digits 3\nexit\n")
    r = subprocess.run(["sta", "-no_splash", "-exit", tcl], capture_output=True, text=True)
    open(os.path.join(BUILD, f"{name}.sta.log"), "w").write(r.stdout + r.stderr)
    slack = last(r"(-?[0-9.]+)\s+slack", r.stdout)
    if slack is None:
        return None, None
    path = period - slack
    return path, 1000.0 / path


def memory_bits(json_path):
    """Bits of the RAM arrays (ROM tables were mapped to logic before)."""
    bits = 0
    for m in json.load(open(json_path))["modules"].values():
        for c in m["cells"].values():
            if c["type"] == "$mem_v2":
                bits += int(c["parameters"]["WIDTH"], 2) * int(c["parameters"]["SIZE"], 2)
    return bits


def synth(mod, lib, period_ps, gen=GEN, sky130_timeout=SKY130_TIMEOUT):
    name, path = mod["module"], os.path.join(gen, mod["file"])
    log = os.path.join(BUILD, f"{name}.generic.log")
    text = yosys(
        f"read_verilog {path}; hierarchy -check -top {name}; synth -flatten -top {name}; "
        f"check -assert; select -assert-none t:$dlatch t:$_DLATCH_* t:$_SR_*; "
        f"tee -o {BUILD}/{name}.stat.txt stat; tee -o {BUILD}/{name}.cmos.txt stat -tech cmos; "
        f"ltp -noff",
        log,
    )
    stat = open(f"{BUILD}/{name}.stat.txt").read()
    cmos = open(f"{BUILD}/{name}.cmos.txt").read()
    row = {
        "module": name,
        "params": mod["params"],
        "latency": mod["latency"],
        "cells": last(r"Number of cells:\s+(\d+)", stat, int),
        "flops": sum(int(n) for n in re.findall(r"\$_S?DFF\w*_\s+(\d+)", stat)),
        "transistors": last(r"Estimated number of transistors:\s+(\d+)", cmos, int),
        "depth": last(r"Longest topological path in \S+ \(length=(\d+)\)", text, int),
    }
    log = os.path.join(BUILD, f"{name}.sky130.log")
    try:
        text = yosys(
            f"read_liberty -lib {lib}; read_verilog {path}; hierarchy -check -top {name}; "
            f"synth -flatten -top {name}; dfflibmap -liberty {lib}; {abc_cmd(period_ps, lib)}; opt_clean; "
            f"check -assert; tee -o {BUILD}/{name}.sky130.txt stat -liberty {lib}; "
            f"setundef -zero; opt_clean -purge; write_verilog -noattr -simple-lhs {BUILD}/{name}.sky130.v",
            log,
            sky130_timeout,
        )
    except TimedOut:
        row.update({"sky130_um2": None, "sky130_cells": None, "logic_um2": None, "memory_bits": 0,
                    "critical_path_ns": None, "fmax_mhz": None,
                    "note": f"sky130 mapping not finished in {sky130_timeout} s (ABC)"})
        return row
    sky = open(f"{BUILD}/{name}.sky130.txt").read()
    row["sky130_um2"] = last(r"Chip area for module '\\?\S+':\s+([0-9.]+)", sky)
    row["sky130_cells"] = last(r"Number of cells:\s+(\d+)", sky, int)
    # Row buffers: the same flow with memories left unmapped ($mem cells carry
    # no area), so logic and memory bits are reported apart.
    log = os.path.join(BUILD, f"{name}.logic.log")
    coarse = (f"read_liberty -lib {lib}; read_verilog {path}; hierarchy -check -top {name}; "
              f"synth -flatten -top {name} -run :fine; memory_map t:$mem_v2 r:WR_PORTS=0 %i; "
              f"write_json {BUILD}/{name}.mem.json")
    yosys(coarse, log)
    row["memory_bits"] = memory_bits(f"{BUILD}/{name}.mem.json")
    row["critical_path_ns"], row["fmax_mhz"] = timing(name, lib, period_ps / 1000.0)
    if row["memory_bits"] == 0:
        # No RAM arrays: logic is the whole.
        row["logic_um2"] = row["sky130_um2"]
        return row
    yosys(
        f"{coarse}; opt -fast -full; techmap; opt -fast; dfflibmap -liberty {lib}; {abc_cmd(period_ps, lib)}; "
        f"opt_clean; tee -o {BUILD}/{name}.logic.txt stat -liberty {lib}",
        log,
    )
    row["logic_um2"] = last(r"Chip area for module '\\?\S+':\s+([0-9.]+)", open(f"{BUILD}/{name}.logic.txt").read())
    return row


def fmt(v, spec=".0f", none="n/a"):
    return none if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description="Yosys + sky130 + OpenSTA synthesis of a manifest's modules")
    ap.add_argument("--gen", default=GEN, help="folder holding manifest.json and the Verilog (default generated/)")
    ap.add_argument("--name", default="synth", help="results/<name>.json and .md (default synth)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", nargs="*", help="these modules only, merged into the existing results")
    ap.add_argument("--sky130-timeout", type=int, default=SKY130_TIMEOUT, help="seconds per sky130 mapping")
    args = ap.parse_args()
    os.makedirs(BUILD, exist_ok=True)
    lib = os.path.join(BUILD, "sky130_logic.lib")
    if not os.path.exists(lib):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "liberty_logic_only.py"), PDK, lib], check=True)
    manifest = json.load(open(os.path.join(args.gen, "manifest.json")))
    period = clock_period_ns()
    version = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.strip()
    if not shutil.which("sta"):
        print("synth: OpenSTA (`sta`) not found: timing columns will be n/a (apt-get install opensta)", file=sys.stderr)
    mods = [m for m in manifest["modules"] if not args.only or m["module"] in args.only]
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        rows = list(ex.map(lambda mod: synth(mod, lib, int(period * 1000), args.gen, args.sky130_timeout), mods))
    out_json = os.path.join(ROOT, "results", f"{args.name}.json")
    if args.only and os.path.exists(out_json):
        # Keep the other modules' rows, in manifest order.
        done = {r["module"]: r for r in json.load(open(out_json))["modules"]}
        done.update({r["module"]: r for r in rows})
        rows = [done[m["module"]] for m in manifest["modules"] if m["module"] in done]
    for row in rows:
        print(f"{row['module']}: {row['cells']} cells, {row['transistors']} transistors, "
              f"{row['sky130_um2']} um^2", file=sys.stderr)
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    sta = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "opensta"], capture_output=True, text=True).stdout
    with open(os.path.join(ROOT, "results", f"{args.name}.json"), "w") as f:
        json.dump({"yosys": version, "opensta": sta or None, "clock_ns": period, "modules": rows}, f, indent=1)
    lines = [
        f"Synthesis of generated/ ({version}; sky130_fd_sc_hd tt 025C 1v80, ABC: Yosys's `abc -D {int(period*1000)}` script without SAT sweeping, plus buffering and gate sizing; see scripts/synth.py).",
        "",
        "Area with memories mapped to flip-flops (no RAM macros in this flow); `logic only` leaves out the RAM arrays (row buffers, per-row state), whose bits are counted apart (a module without RAM arrays: logic only = the whole).",
        "",
        "Timing: OpenSTA on the mapped netlist, typical corner, ideal clock, no wires; ABC's buffers and gate sizes",
        "only (no placement): the flip-flop row buffers of the streaming engines, whose read muxes and write enables",
        "fan out to thousands of cells, still dominate their paths; SRAM macros would take them out.",
        "",
        "| module | parameters | latency | generic cells | flops | CMOS transistors | logic depth | memory bits | sky130 cells | sky130 area (um^2) | logic only (um^2) | critical path (ns) | fmax (MHz) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        lines.append(f"| `{r['module']}` | {p} | {r['latency']} | {r['cells']} | {r['flops']} | "
                     f"{r['transistors']} | {r['depth']} | {r['memory_bits']} | {fmt(r['sky130_cells'], 'd')} | {fmt(r['sky130_um2'], '.1f')} | {fmt(r['logic_um2'], '.1f')} | "
                     f"{fmt(r['critical_path_ns'], '.2f')} | {fmt(r['fmax_mhz'], '.0f')} |")
    open(os.path.join(ROOT, "results", f"{args.name}.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
