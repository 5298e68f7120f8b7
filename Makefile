# Lethe — the two commands: `make demo` and `make test`. Both install what is missing.
SWIFT ?= swift

.PHONY: demo test build bench fuzz deps clean

deps:
	@bash scripts/ensure-deps.sh

build: deps
	$(SWIFT) build

demo: deps
	@bash scripts/demo.sh

test: deps
	@bash scripts/test.sh

bench: deps
	@bash scripts/bench.sh

# libFuzzer targets (Fuzz/), FUZZ_SECONDS each (default 60); see docs/fuzzing.md.
fuzz: deps
	@bash scripts/fuzz.sh

clean:
	rm -rf .build .lethe Fuzz/.build
