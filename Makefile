# freqprop: build, test, demo and benchmarks.
# `make demo` and `make test` work on a fresh Debian machine: they first install the
# system packages the project needs (scripts/setup-system.sh, quiet when all are present).

CARGO ?= cargo
FREQPROP = target/debug/freqprop
ifneq ($(CARGO_TARGET_DIR),)
FREQPROP = $(CARGO_TARGET_DIR)/debug/freqprop
endif

.PHONY: all setup build test demo bench bench-ngspice bench-scale bench-training fmt lint clean-out

all: build

setup:
	@bash scripts/setup-system.sh

build: setup
	$(CARGO) build

# cargo-nextest runs the test binaries in parallel; it does not run doctests, so those run
# first with cargo test, and nextest's summary is the closing line. Without nextest: cargo test.
test: setup
	$(CARGO) build
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		status=0; \
		echo "+ $(CARGO) test --workspace --doc"; \
		$(CARGO) test --workspace --doc || status=1; \
		echo "+ $(CARGO) nextest run --workspace --no-fail-fast"; \
		$(CARGO) nextest run --workspace --no-fail-fast || status=1; \
		if [ $$status -ne 0 ]; then echo "make test: FAILED (see the doctest and test output above)"; fi; \
		exit $$status; \
	else \
		echo "+ $(CARGO) test --workspace --no-fail-fast"; \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

demo: setup
	$(CARGO) build --bin freqprop
	@mkdir -p out
	$(FREQPROP) demo -o out/demo
	$(FREQPROP) simulate examples/rectifier.cir -o out/rectifier.h5 --raw out/rectifier.raw
	$(FREQPROP) plot out/rectifier.h5 -o out/rectifier.png
	@echo "demo: trained run and figures in out/demo/; rectifier waveforms in out/rectifier.{h5,raw,png}"

bench: setup
	$(CARGO) bench

bench-ngspice: setup
	bash scripts/bench-ngspice.sh

# the diode mesh at 1k, 10k and 100k nodes, both Jacobian policies, ngspice on the 1k deck:
# docs/scaling.md (its hand-written notes from "## History" on are kept)
bench-scale: setup
	$(CARGO) run --release --example scale -- --sizes 1000,10000,100000 --drives current --jacobian across,within --ngspice-max 1024 --out docs/scaling.md

# training examples/s of both engines on Iris and digits, 1 and 2 threads: docs/training-performance.md
bench-training: setup
	$(CARGO) run --release -p freqprop-learn --example throughput -- --out docs/training-performance.md

fmt:
	$(CARGO) fmt --all

# `!(x > 0.0)` is how the code rejects NaN together with non-positive values: allowed.
lint: setup
	$(CARGO) clippy --workspace --all-targets -- -D warnings -A clippy::neg_cmp_op_on_partial_ord

clean-out:
	rm -rf out
