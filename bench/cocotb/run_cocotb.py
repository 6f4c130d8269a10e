#!/usr/bin/env python3
"""Builds generated/<module>.v with Icarus Verilog and runs test_hif8_exp2.py
on it through cocotb's Python runner.

    python3 bench/cocotb/run_cocotb.py VECTORS RESULT_JSON [--module hif8_exp2]
        [--trust-inertial-writes]

The latency comes from generated/manifest.json. --trust-inertial-writes sets
COCOTB_TRUST_INERTIAL_WRITES=1 (writes go straight to the simulator, C++ clock);
without it the variable is 0, cocotb's default for Icarus. Exits non-zero if
the test fails.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from cocotb_tools.runner import get_runner
from cocotb_tools.check_results import get_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vectors")
    ap.add_argument("result")
    ap.add_argument("--module", default="hif8_exp2")
    ap.add_argument("--trust-inertial-writes", action="store_true")
    args = ap.parse_args()

    manifest = json.loads((ROOT / "generated" / "manifest.json").read_text())
    mod = next(m for m in manifest["modules"] if m["module"] == args.module)
    build_dir = ROOT / "build" / "bench" / "cocotb"

    runner = get_runner("icarus")
    runner.build(sources=[ROOT / "generated" / mod["file"]], hdl_toplevel=args.module,
                 build_dir=build_dir, always=True, timescale=("1ns", "1ps"))
    # The runner gives the simulator os.environ over its extra_env: set them here.
    os.environ.update({
        "BENCH_VECTORS": str(Path(args.vectors).resolve()),
        "BENCH_LATENCY": str(mod["latency"]),
        "BENCH_RESULT": str(Path(args.result).resolve()),
        "COCOTB_TRUST_INERTIAL_WRITES": "1" if args.trust_inertial_writes else "0",
    })
    results = runner.test(test_module="test_hif8_exp2", hdl_toplevel=args.module,
                          build_dir=build_dir, results_xml=str(build_dir / "results.xml"))
    _, failed = get_results(results)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
