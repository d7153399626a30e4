#!/usr/bin/env bash
# Builds bench_apply (release) and runs it: CLUSTERS (default 1000) for the ratio, RUNS (21) per
# median. Exit status 0 only if a one-cluster change costs at most 1/20 of a full compile.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD_DIR:-$ROOT/build/release}
[[ -n "${SKIP_BUILD:-}" ]] || (cd "$ROOT" && cmake --preset release -B "$B" >/dev/null &&
  cmake --build "$B" -j2 --target bench_apply >/dev/null)
echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$B/bench/apply/bench_apply" "${CLUSTERS:-1000}" "${RUNS:-21}"
