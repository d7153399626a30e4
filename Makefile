# Thin wrapper over the CMake presets; see README.md.
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
# What `make run` starts (scripts/quickstart.sh); the tests are built by `make test`.
RUN_TARGETS = hermes hermes-controlplane hermesctl hermes-test-upstream

.PHONY: deps build debug run test bench fuzz clean

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

# Every libFuzzer target of tests/fuzz for FUZZ_SECONDS each over its seed corpus; fails on a crash.
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build
