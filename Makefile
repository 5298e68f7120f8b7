# Lethe — the two commands: `make demo` and `make test`. Both install what is missing.
SWIFT ?= swift

.PHONY: demo test build bench deps clean

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

clean:
	rm -rf .build .lethe
