# The two setup commands: `make rtl` (generate the default IP set) and
# `make test` (install missing tools if root, then build and run every test).
CARGO ?= cargo
GEN := generated

.PHONY: all rtl test lint formal synth report bench accuracy setup clean sweep-ci sweep soak

all: rtl

setup:
	@scripts/setup.sh

rtl:
	$(CARGO) run -q --release -p rtl-gen -- defaults --out $(GEN)

lint: setup rtl
	@for f in $(GEN)/*.v; do \
	    verilator --lint-only -Wall $$f || exit 1; \
	done; echo "lint: $(GEN)/*.v clean under verilator -Wall"

# Yosys SAT proofs (scripts/formal.py): every hif8_exp2 module equals the golden
# EXP2 table for all 2^16 inputs, every fp32_to_hif8 module equals the reference
# formal/ref_fp32_to_hif8.v (from spec/hif8.md) for all 2^33 inputs, and each
# pipeline is its register-free logic delayed by the manifest latency. About 1.5
# minutes; logs in build/formal/.
formal: setup rtl
	CARGO="$(CARGO)" python3 scripts/formal.py

# The parameter sweep's CI sample (verif/tests/sweep.rs): SWEEP_CI_COUNT random
# legal configurations of every generator; the seed is fixed, chosen for
# coverage (LANES 1 and 16, DIV and CLB, 8- and 16-bit outputs, R = 1, FP16 /
# BF16 / FP32 EXP2, FP16 and BF16 BAPS, one-beat rows and rows longer than a
# block). Its models are compiled into verif with the default ones.
SWEEP_CI := build/sweep-ci
SWEEP_CI_SEED := 244
SWEEP_CI_COUNT := 16

sweep-ci:
	rm -rf $(SWEEP_CI)
	$(CARGO) run -q --release -p rtl-gen -- sweep --seed $(SWEEP_CI_SEED) --count $(SWEEP_CI_COUNT) --out $(SWEEP_CI)

# Unit tests, golden-model tests against the spec vectors, exhaustive and
# random co-simulation (release build: Verilator models at full speed), the
# parameter sweep's CI sample, the 2^32 FP32 -> HiF8 sweep, and the formal
# proofs. RTL_SWEEP_DIR is exported to formal too, which runs after sweep-ci
# (a sub-make, so that `make -j test` keeps the order), so verif is built once,
# with the sweep's models.
test: export RTL_SWEEP_DIR = $(CURDIR)/$(SWEEP_CI)
test: setup rtl lint sweep-ci
	$(MAKE) --no-print-directory formal
	$(CARGO) test --release --workspace
	$(CARGO) test --release -p verif --test golden_hif8 -- --ignored --nocapture

# A larger parameter sweep, as a benchmark: SWEEP_COUNT configurations drawn
# from SWEEP_SEED, SWEEP_ROWS random rows per engine (verif/tests/sweep.rs).
SWEEP_SEED ?= 1
SWEEP_COUNT ?= 60
SWEEP_ROWS ?= 3000
sweep: setup rtl
	rm -rf build/sweep-$(SWEEP_SEED)
	$(CARGO) run -q --release -p rtl-gen -- sweep --seed $(SWEEP_SEED) --count $(SWEEP_COUNT) --out build/sweep-$(SWEEP_SEED)
	RTL_SWEEP_DIR=$(CURDIR)/build/sweep-$(SWEEP_SEED) SWEEP_ROWS=$(SWEEP_ROWS) \
	    $(CARGO) test --release -p verif --test sweep -- --nocapture

# Long stream runs: SOAK_ROWS (default 10^5) rows through every default
# streaming module under random phases of gaps and stalls, stream rules checked
# every cycle, every row bit-exact (verif/tests/stream_soak.rs).
SOAK_ROWS ?= 100000
soak: setup rtl
	SOAK_ROWS=$(SOAK_ROWS) $(CARGO) test --release -p verif --test stream_soak -- --ignored --nocapture

# Quality of results, in one run (scripts/setup_qor.sh first installs the pinned
# Yosys, OpenSTA and YoWASP Yosys/nextpnr when run as root): sky130 area and
# OpenSTA timing of the default set (results/synth.*) and of the report's extra
# configurations (`rtl-gen qor-set`: engines at LANES 1/2/8, BAPS with one block
# per row; results/synth_qor.*), ECP5/iCE40 synthesis of every module and place
# and route over several seeds (results/fpga.json), co-simulated throughput
# (results/throughput.json). Of the engines (17-25k LUTs, their flip-flop row
# buffers behind wide read muxes: ~15 minutes each under WebAssembly) only
# hccs_softmax, a target of the report, is placed and routed by default; FPGA_ARGS=
# runs them all, FPGA_ARGS="--only MODULE ..." narrows the run.
FPGA_ARGS ?= --pnr-max-luts 5000 --pnr-also hccs_softmax
synth: setup rtl
	@scripts/setup_qor.sh
	python3 scripts/synth.py
	$(CARGO) run -q --release -p rtl-gen -- qor-set --out build/qor/gen
	python3 scripts/synth.py --gen build/qor/gen --name synth_qor
	python3 scripts/fpga.py $(FPGA_ARGS)
	$(CARGO) run -q --release -p verif --bin throughput

# Accuracy on the real MiniLM logits, the report's KL column: HCCS with the
# committed constants (params/hccs_minilm.json; `studies --bin calibrate` without
# --eval-only recalibrates them) -> results/hccs_accuracy.md, BAPS ->
# results/baps_accuracy.md. About a minute.
accuracy: setup
	$(CARGO) run -q --release -p studies --bin calibrate -- --eval-only
	$(CARGO) run -q --release -p studies --bin accuracy_baps

# The whole QoR report from a clean checkout: synthesis, place and route,
# throughput, co-simulation speed against cocotb, accuracy, then results/qor.md,
# qor.json and the plots qor_area_per_lane.svg, qor_area_vs_kl.svg.
report: synth bench accuracy
	python3 scripts/report.py
	$(CARGO) run -q --release -p studies --bin qor_plots

# Co-simulation speed: Rust + Verilator vs a cocotb + Icarus bench on hif8_exp2,
# same golden vectors, every output checked -> results/cosim_speed.md (bench/run.py;
# bench/setup.sh installs the pinned iverilog and cocotb); then the raw cycles/s of
# the Verilator model, printed.
bench: setup rtl
	@bench/setup.sh
	CARGO=$(CARGO) python3 bench/run.py
	$(CARGO) test --release -p verif --test cosim_hif8 -- --ignored --nocapture throughput

clean:
	$(CARGO) clean
	rm -rf build
