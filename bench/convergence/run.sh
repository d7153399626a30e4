#!/usr/bin/env bash
# How fast a config change reaches the fleet: hermes-controlplane (release build) with
#   1. PROXIES real hermes proxies (default 100), measured until the last reports SYNCED, and
#   2. STREAMS simulated proxies (default 10000; convergence_load opens them and ACKs like a proxy),
# CHANGES config changes each (default 100), p50/p99 from ApplyConfig returning to the last proxy.
# Also the control plane's memory per connected stream. Loopback only; everything is killed at exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD_DIR:-$ROOT/build/release}
PROXIES=${PROXIES:-100}
STREAMS=${STREAMS:-10000}
CHANGES=${CHANGES:-100}
[[ -n "${SKIP_BUILD:-}" ]] || (cd "$ROOT" && cmake --preset release >/dev/null &&
  cmake --build --preset release -j"$(nproc)" --target hermes hermes-controlplane convergence_load >/dev/null)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
TMP=$(mktemp -d /tmp/hermes-convergence.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

start_cp() {
  "$B/controlplane/hermes-controlplane" --listen 127.0.0.1:0 --http-listen off --db "$TMP/$1.db" --log-level warn >"$TMP/$1.out" 2>&1 &
  CP_PID=$!; pids+=("$CP_PID")
  for _ in $(seq 100); do grep -q "listening on" "$TMP/$1.out" && break; sleep 0.05; done
  CP_PORT=$(sed -n 's/^listening on .*(port \([0-9]*\)).*/\1/p' "$TMP/$1.out")
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

echo "== $PROXIES real proxies, $CHANGES changes"
start_cp real
for i in $(seq "$PROXIES"); do
  "$B/dataplane/hermes" --control-plane "127.0.0.1:$CP_PORT" --node-id "real-$i" --workers 1 \
    --cache-dir "$TMP/cache-$i" --log-level error >/dev/null 2>&1 &
  pids+=($!)
done
"$B/bench/convergence/convergence_load" --server "127.0.0.1:$CP_PORT" --streams 0 --changes "$CHANGES" \
  --proxies-ready "$PROXIES"
kill "$CP_PID"

echo "== $STREAMS simulated proxies, $CHANGES changes"
start_cp sim
before=$(rss_kib "$CP_PID")
"$B/bench/convergence/convergence_load" --server "127.0.0.1:$CP_PORT" --streams "$STREAMS" --changes "$CHANGES" &
LOAD=$!
# Memory while every stream is connected (sampled after the first changes).
sleep 20; after=$(rss_kib "$CP_PID")
wait "$LOAD"
echo "control plane RSS: $before KiB with no stream, $after KiB with $STREAMS: $(( (after - before) * 1024 / STREAMS )) bytes per stream"
