"""cocotb bench of hif8_exp2 (run by run_cocotb.py, `make bench`): every golden
vector of the file written by `exp2_vectors`, one per cycle, back to back;
out_valid and out_y checked `latency` cycles after each input. Writes the
vector count, mismatches and wall time of the vector loop to $BENCH_RESULT.
"""

import json
import os
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge


def load_vectors(path):
    """(x, shift, expected y) per line, hex; '#' lines are comments."""
    vectors = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            x, s, y = line.split()
            vectors.append((int(x, 16), int(s, 16), int(y, 16)))
    return vectors


@cocotb.test()
async def exp2_all_vectors(dut):
    vectors = load_vectors(os.environ["BENCH_VECTORS"])
    latency = int(os.environ["BENCH_LATENCY"])
    n = len(vectors)

    Clock(dut.clk, 10, unit="ns").start()
    dut.in_valid.value = 0
    dut.in_x.value = 0
    dut.in_shift.value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    await FallingEdge(dut.clk)
    dut.rst.value = 0

    # Inputs are driven and outputs sampled at the falling edge; the DUT samples
    # at the rising edge. At falling edge i the output of vector i - latency is
    # there, and vector i is applied (i >= n: idle cycles to drain the pipeline).
    mismatches = 0
    first = None
    t0 = time.perf_counter()
    for i in range(n + latency):
        if i >= latency:
            x, s, want = vectors[i - latency]
            valid = dut.out_valid.value
            got = dut.out_y.value
            if not (valid.is_resolvable and got.is_resolvable
                    and int(valid) == 1 and got.to_unsigned() == want):
                mismatches += 1
                if first is None:
                    first = (f"x={x:#04x} shift={s:#04x}: out_valid={valid} "
                             f"out_y={got}, expected {want:#06x}")
        if i < n:
            x, s, _ = vectors[i]
            dut.in_x.value = x
            dut.in_shift.value = s
            dut.in_valid.value = 1
        else:
            dut.in_valid.value = 0
        await FallingEdge(dut.clk)
    seconds = time.perf_counter() - t0

    with open(os.environ["BENCH_RESULT"], "w") as f:
        json.dump({"harness": "cocotb-icarus", "vectors": n,
                   "trust_inertial_writes": os.environ.get("COCOTB_TRUST_INERTIAL_WRITES", "0"), "seconds": seconds,
                   "vectors_per_s": n / seconds, "mismatches": mismatches}, f)
    dut._log.info("%d vectors in %.2f s = %.0f vectors/s, %d mismatches",
                  n, seconds, n / seconds, mismatches)
    assert mismatches == 0, f"{mismatches} mismatches; first: {first}"
