#!/usr/bin/env bash
# One HealthChecker thread against TARGETS loopback HTTP health endpoints (default 10,000, each its
# own address 127.1.x.y) probed every INTERVAL_MS (1000) for DURATION_S (20), the checker pinned to
# CHECKER_CPU and the endpoint server (a forked child) to SERVER_CPU. Extra arguments go to
# bench_healthcheck (e.g. --max-in-flight 256, --initial-jitter-ms 0, --kind tcp). Loopback only;
# the server child dies with the checker. Exit status 0 only if every target was probed every interval.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD_DIR:-$ROOT/build/release}
TARGETS=${TARGETS:-10000}
INTERVAL_MS=${INTERVAL_MS:-1000}
DURATION_S=${DURATION_S:-20}
CPUS=$(nproc)
CHECKER_CPU=${CHECKER_CPU:-$((CPUS - 1))}
SERVER_CPU=${SERVER_CPU:-0}
[[ -n "${SKIP_BUILD:-}" ]] || (cd "$ROOT" && cmake --preset release -B "$B" >/dev/null &&
  cmake --build "$B" -j2 --target bench_healthcheck >/dev/null)
# 10,000 probe connections in the checker, as many in the server (each its own process).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "# $(date -u +%FT%TZ) $(uname -r), $CPUS CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
RUN=(taskset -c "$CHECKER_CPU" "$B/bench/healthcheck/bench_healthcheck" --targets "$TARGETS"
  --interval-ms "$INTERVAL_MS" --duration-s "$DURATION_S" --server-cpu "$SERVER_CPU" "$@")
[[ -n "${NICE:-}" ]] || exec "${RUN[@]}"
# NICE=-10 (root): run at that nice level, so builds and tests on a shared box disturb the run less.
# With autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled) a task's nice only counts
# within its session, and sessions share the CPU equally: so the run gets a session of its own
# and the session gets the nice level too.
exec setsid --wait bash -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' \
  "$NICE" "${RUN[@]}"
