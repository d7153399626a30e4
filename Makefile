# Thin wrapper over the CMake presets; see README.md.
JOBS ?= $(shell nproc)

.PHONY: deps build debug run test bench clean

deps:
	scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

debug: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

run: build
	scripts/quickstart.sh

test: debug
	ctest --preset debug -j $(JOBS)

bench: build
	bench/compare/run.sh

clean:
	rm -rf build
