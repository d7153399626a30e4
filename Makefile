# Thin wrapper over the CMake presets; see README.md.
JOBS ?= $(shell nproc)
# What `make run` starts (scripts/quickstart.sh); the tests are built by `make test`.
RUN_TARGETS = hermes hermes-controlplane hermesctl hermes-test-upstream

.PHONY: deps build debug run test bench clean

deps:
	scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

debug: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

run: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target $(RUN_TARGETS)
	scripts/quickstart.sh

test: debug
	ctest --preset debug -j $(JOBS)

bench: build
	scripts/install-deps.sh --bench
	bench/compare/run.sh

clean:
	rm -rf build
