#!/usr/bin/env python3
"""Co-simulation speed benchmark (`make bench`): the Rust + Verilator harness
(verif/src/bin/bench_exp2.rs) against a cocotb + Icarus Verilog bench
(bench/cocotb), both driving generated/hif8_exp2.v with the same golden vectors
(all 65,536 (x, shift) pairs, written by verif/src/bin/exp2_vectors.rs), one
per cycle, back to back, every output checked. Writes results/cosim_speed.md.

    python3 bench/run.py [--reps 200]     (after bench/setup.sh)

Exits non-zero if either harness sees a mismatch or fails. Python stdlib only
(the cocotb bench runs in its own process).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = "hif8_exp2"
VECTORS = ROOT / "build" / "bench" / f"{MODULE}_vectors.txt"
BUILD = ROOT / "build" / "bench"
REPORT = ROOT / "results" / "cosim_speed.md"
TARGET_RATIO = 1000


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, check=True, **kw)


def out(cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200,
                    help="passes of the Rust harness over the 65,536 vectors")
    args = ap.parse_args()
    cargo = os.environ.get("CARGO", "cargo")
    manifest = json.loads((ROOT / "generated" / "manifest.json").read_text())
    mod = next(m for m in manifest["modules"] if m["module"] == MODULE)
    load_before = os.getloadavg()

    # Build both Rust binaries first (untimed), then the vectors.
    run([cargo, "build", "-q", "--release", "-p", "verif", "--bin", "exp2_vectors", "--bin", "bench_exp2"])
    run([cargo, "run", "-q", "--release", "-p", "verif", "--bin", "exp2_vectors", "--",
         "--module", MODULE, "--out", str(VECTORS)])

    # cocotb + Icarus: one pass over the vectors in each write mode (wall time
    # also measured around the whole process: iverilog compile, simulator and
    # Python start-up).
    cocotb = {}
    for mode, flag in (("default", []), ("inertial", ["--trust-inertial-writes"])):
        result = BUILD / f"cocotb_{mode}.json"
        logf = BUILD / f"cocotb_{mode}.log"
        result.unlink(missing_ok=True)
        t0 = time.perf_counter()
        with open(logf, "w") as log:
            r = subprocess.run([sys.executable, str(ROOT / "bench" / "cocotb" / "run_cocotb.py"),
                                str(VECTORS), str(result), "--module", MODULE] + flag,
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
        if r.returncode != 0 or not result.exists():
            sys.exit(f"cocotb bench ({mode}) failed (exit {r.returncode}); log: {logf}")
        cb = json.loads(result.read_text())
        cb["wall"] = wall
        cocotb[mode] = cb
        print(f"cocotb + Icarus ({mode} writes): {cb['vectors']} vectors in {cb['seconds']:.2f} s = "
              f"{cb['vectors_per_s']:,.0f} vectors/s, {cb['mismatches']} mismatches "
              f"(process wall time {wall:.2f} s; log {logf.relative_to(ROOT)})", flush=True)

    # Rust + Verilator: the same file, --reps passes in one stream.
    cmd = [cargo, "run", "-q", "--release", "-p", "verif", "--bin", "bench_exp2", "--",
           "--module", MODULE, "--vectors", str(VECTORS), "--reps", str(args.reps)]
    print("+", " ".join(cmd), flush=True)
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    print(res.stdout + res.stderr, end="")
    if res.returncode != 0:
        sys.exit(f"Rust bench failed (exit {res.returncode})")
    rs = json.loads([l for l in res.stdout.splitlines() if l.startswith('{"harness"')][-1])

    if rs["mismatches"] or any(cb["mismatches"] for cb in cocotb.values()):
        sys.exit("mismatches: the benchmark is void")
    ratio = {mode: rs["vectors_per_s"] / cb["vectors_per_s"] for mode, cb in cocotb.items()}
    fastest = max(cocotb, key=lambda mode: cocotb[mode]["vectors_per_s"])

    versions = {
        "verilator": rs["verilator"],
        "rustc": out(["rustc", "--version"]),
        "icarus": out(["iverilog", "-V"]).splitlines()[0] if out(["iverilog", "-V"]) else "?",
        "icarus_deb": out(["dpkg-query", "-W", "-f=${Version}", "iverilog"]),
        "cocotb": out([sys.executable, "-c", "import cocotb; print(cocotb.__version__)"]),
        "python": platform.python_version(),
    }
    for k, v in versions.items():
        print(f"  {k}: {v}")
    verdict = {mode: "met" if r >= TARGET_RATIO else "NOT met" for mode, r in ratio.items()}
    for mode in cocotb:
        print(f"ratio Rust+Verilator / cocotb+Icarus ({mode} writes): {ratio[mode]:,.0f}x "
              f"(target >= {TARGET_RATIO}x: {verdict[mode]})")

    fmt = mod["params"].get("out_format", "?").upper()
    tools = (f"cocotb {versions['cocotb']} (PyPI), Python {versions['python']}; {versions['icarus']} "
             f"(Debian `iverilog` {versions['icarus_deb']})")
    cocotb_rows = "\n".join(
        f"| cocotb + Icarus Verilog (`bench/cocotb/`), {mode} writes | {tools} | {cb['vectors']:,} | "
        f"{cb['mismatches']} | {cb['seconds']:.3f} | {cb['vectors_per_s']:,.0f} |"
        for mode, cb in cocotb.items())
    ratio_list = ", ".join(f"{ratio[m]:,.0f}x over {m} writes" for m in cocotb)
    verdict_list = ", ".join(f"{verdict[m]} against {m} writes" for m in cocotb)
    cocotb_walls = " and ".join(f"{cb['wall']:.2f} s ({m})" for m, cb in cocotb.items())
    md = f"""# Co-simulation speed: Rust + Verilator vs cocotb + Icarus Verilog

Written by `make bench` (`bench/run.py`) on {datetime.date.today().isoformat()}.

Design: `generated/{mod['file']}` ({fmt} out, latency {mod['latency']} from `generated/manifest.json`).
Vectors: all 65,536 (x, shift) pairs of `build/bench/{VECTORS.name}`, written by
`verif/src/bin/exp2_vectors.rs` from `verif::golden::exp2::exp2_hif8`. Both harnesses read
that file and drive one vector per cycle, back to back; each checks out_valid and out_y
{mod['latency']} cycles after every input against the file's expected value.

| harness | tools | vectors | mismatches | seconds | vectors/s |
| --- | --- | ---: | ---: | ---: | ---: |
| Rust + Verilator (`verif/src/bin/bench_exp2.rs`, `verif::cosim::Model`) | {versions['verilator']}; {versions['rustc']} | {rs['vectors']:,} ({rs['reps']} x 65,536) | {rs['mismatches']} | {rs['seconds']:.3f} | {rs['vectors_per_s']:,.0f} |
{cocotb_rows}

**Ratio: {ratio[fastest]:,.0f}x** vectors/s of Rust + Verilator over the faster cocotb + Icarus
configuration ({fastest} writes); {ratio_list}. Target >= {TARGET_RATIO}x: {verdict[fastest]} against the
faster one, {verdict_list}.

- Seconds are the vector loop only (simulator built, reset done; golden values loaded
  beforehand). The whole cocotb process, with the `iverilog` compile and the simulator and
  Python start-up, took {cocotb_walls}.
- cocotb runs through its Python runner (`cocotb_tools.runner`) with `cocotb.clock.Clock`;
  inputs are written and outputs read at the falling edge, one `await FallingEdge` per
  vector. "default writes": `COCOTB_TRUST_INERTIAL_WRITES=0`, what cocotb's runner uses for
  Icarus (writes queued by cocotb's scheduler and applied in a ReadWrite callback, clock
  driven from Python). "inertial writes": `COCOTB_TRUST_INERTIAL_WRITES=1` (writes go straight
  to the simulator, C++ GPI clock); cocotb's runner turns it on for GHDL, NVC and Verilator but
  not for Icarus, and cocotb's notes say some simulators do not handle such writes properly.
  Every check passed in both modes here (any mismatch voids the run: no report is written).
- Machine: {cpu_model()}, {os.cpu_count()} cores shared with other jobs (load average
  {load_before[0]:.2f} at the start); the three measurements ran one after the other in the
  same run, each single-threaded. Expect a few tens of percent of noise between runs.
"""
    REPORT.write_text(md)
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
