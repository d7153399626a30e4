#!/usr/bin/env bash
# How fast a config change and a health change reach the fleet: hermes-controlplane (release build)
#   1. with PROXIES real hermes proxies (default 100), CHANGES config changes (default 100), each
#      measured from ApplyConfig returning until the last proxy reports SYNCED;
#   2. with STREAMS simulated proxies (default 10000; convergence_load opens them and ACKs like a
#      proxy), the same changes, until the last stream received it; and the control plane's
#      memory per connected stream;
#   3. with both at once, HEALTH_CHANGES health changes (default 50; 0 skips it): the endpoint of a
#      health-checked cluster flips between 200 and 503, each change measured from its detection
#      (the health event's time) until the last stream received it and every real proxy ACKed it.
#   4. (phase "rollout", not in the default) with STREAMS simulated proxies, ROLLOUTS rollouts
#      (default 20) of a staged version to 10% of them, each then aborted: StartRollout called ->
#      the last moved stream has the version; AbortRollout called -> the last has the old one back;
#      then the control plane's CPU with a rollout in progress and without (about 3 minutes).
# PHASES (default "real sim health") picks phases. Loopback only; everything is killed at exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD_DIR:-$ROOT/build/release}
PROXIES=${PROXIES:-100}
STREAMS=${STREAMS:-10000}
CHANGES=${CHANGES:-100}
HEALTH_CHANGES=${HEALTH_CHANGES:-50}
PHASES=${PHASES:-real sim health}
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
# PROXIES real proxies of the control plane on CP_PORT; their pids in proxy_pids.
start_proxies() {
  proxy_pids=()
  for i in $(seq "$PROXIES"); do
    "$B/dataplane/hermes" --control-plane "127.0.0.1:$CP_PORT" --node-id "real-$i" --workers 1 \
      --cache-dir "$TMP/$1-cache-$i" --log-level error >/dev/null 2>&1 &
    pids+=($!); proxy_pids+=($!)
  done
}
stop() { for p in "$@"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

if [[ " $PHASES " == *" real "* ]]; then
  echo "== $PROXIES real proxies, $CHANGES changes"
  start_cp real
  start_proxies real
  "$B/bench/convergence/convergence_load" --server "127.0.0.1:$CP_PORT" --streams 0 --changes "$CHANGES" \
    --proxies-ready "$PROXIES"
  stop "$CP_PID" "${proxy_pids[@]}"
fi

if [[ " $PHASES " == *" sim "* ]]; then
  echo "== $STREAMS simulated proxies, $CHANGES changes"
  start_cp sim
  before=$(rss_kib "$CP_PID")
  "$B/bench/convergence/convergence_load" --server "127.0.0.1:$CP_PORT" --streams "$STREAMS" --changes "$CHANGES" &
  LOAD=$!
  # Memory while every stream is connected (sampled after the first changes).
  sleep 20; after=$(rss_kib "$CP_PID")
  wait "$LOAD"
  echo "control plane RSS: $before KiB with no stream, $after KiB with $STREAMS: $(( (after - before) * 1024 / STREAMS )) bytes per stream"
  stop "$CP_PID"
fi

if [[ " $PHASES " == *" health "* ]] && (( HEALTH_CHANGES > 0 )); then
  echo "== $PROXIES real + $STREAMS simulated proxies, $HEALTH_CHANGES health changes"
  start_cp health
  start_proxies health
  "$B/bench/convergence/convergence_load" --server "127.0.0.1:$CP_PORT" --streams "$STREAMS" \
    --proxies-ready "$PROXIES" --health-changes "$HEALTH_CHANGES" --poll-ms "${POLL_MS:-5}" \
    --verbose "${VERBOSE:-0}"
  stop "$CP_PID" "${proxy_pids[@]}"
fi

if [[ " $PHASES " == *" rollout "* ]]; then
  echo "== $STREAMS simulated proxies, ${ROLLOUTS:-20} rollouts to 10% and aborts"
  start_cp rollout
  "$B/bench/convergence/convergence_load" --server "127.0.0.1:$CP_PORT" --streams "$STREAMS" \
    --rollouts "${ROLLOUTS:-20}"
  # The control plane's CPU while one rollout is in progress and nothing else happens (the gate
  # is checked every 250 ms over every stream).
  "$B/bench/convergence/convergence_load" --server "127.0.0.1:$CP_PORT" --streams "$STREAMS" \
    --rollouts 1 --hold-ms 40000 >"$TMP/hold.out" 2>&1 &
  HOLD=$!
  # Sampled 20 s into each hold, after the streams' node state is written to SQLite.
  cpu_ms_per_s() {  # the control plane's CPU over 10 s, $2 s after the line $1 appears
    for _ in $(seq 600); do grep -q "$1" "$TMP/hold.out" && break; sleep 0.1; done
    sleep "$2"
    local t0 t1
    t0=$(awk '{print $14 + $15}' "/proc/$CP_PID/stat"); sleep 10; t1=$(awk '{print $14 + $15}' "/proc/$CP_PID/stat")
    echo $(( (t1 - t0) * 1000 / $(getconf CLK_TCK) / 10 ))
  }
  with=$(cpu_ms_per_s "holding the rollout" 20)
  without=$(cpu_ms_per_s "holding with no rollout" 20)
  echo "control plane CPU with $STREAMS streams idle: $with ms per second with a rollout in progress, $without ms without"
  wait "$HOLD" || true
  stop "$CP_PID"
fi
