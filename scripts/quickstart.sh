#!/usr/bin/env bash
# The demo behind `make run`: hermes-controlplane on its embedded SQLite file, three test
# upstreams, a managed Hermes proxy (listener :8080, admin 127.0.0.1:8081), and config/example.yaml applied
# with hermesctl. In the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/release}
hermes=$build/dataplane/hermes
controlplane=$build/controlplane/hermes-controlplane
hermesctl=$build/ctl/hermesctl
upstream=$build/tests/support/hermes-test-upstream
for b in "$hermes" "$controlplane" "$hermesctl" "$upstream"; do
  [ -x "$b" ] || { echo "quickstart: $b is missing; run 'make build' first" >&2; exit 1; }
done
state=${STATE_DIR:-build/demo}
mkdir -p "$state"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for spec in 9001:web-a 9002:web-b 9003:api; do
  "$upstream" --listen "127.0.0.1:${spec%%:*}" --name "${spec#*:}" >/dev/null &
  pids+=($!)
done
"$controlplane" --listen 127.0.0.1:9090 --http-listen 127.0.0.1:9091 --db "$state/hermes.db" >"$state/controlplane.out" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$state/controlplane.out" 2>/dev/null && break; sleep 0.1; done
grep -q "listening on" "$state/controlplane.out" || { echo "quickstart: the control plane did not start" >&2; exit 1; }

"$hermes" --control-plane 127.0.0.1:9090 --node-id demo-1 --label zone=local \
  --cache-dir "$state/cache" &
pids+=($!)

export HERMES_SERVER=127.0.0.1:9090
"$hermesctl" apply -f config/example.yaml --message "make run demo"

for _ in $(seq 100); do
  curl -fsS -o /dev/null http://127.0.0.1:8081/ready 2>/dev/null && curl -fsS -o /dev/null http://127.0.0.1:8080/ 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null http://127.0.0.1:8080/ || { echo "quickstart: hermes did not serve the applied config" >&2; exit 1; }
"$hermesctl" proxies
"$hermesctl" status

cat <<'TXT'

hermes-controlplane (gRPC :9090, HTTP :9091 /metrics, store build/demo/hermes.db) pushed config/example.yaml to the
proxy demo-1, serving on :8080 (admin 127.0.0.1:8081). Try:
  curl -s localhost:8080/                          # web cluster, weights 2:1 across :9001 and :9002
  curl -s localhost:8080/api/echo                  # /api prefix -> api cluster, path rewritten to /echo
  curl -s -H 'Host: api.example.com' localhost:8080/echo
  curl -s 127.0.0.1:8081/backends                  # original Hermes admin API: /health /backends /stats /circuits
  export HERMES_SERVER=127.0.0.1:9090
  build/release/ctl/hermesctl proxies              # who runs what, SYNCED / STALE / NACKED
  build/release/ctl/hermesctl status               # healthy / degraded / unhealthy, and why
  build/release/ctl/hermesctl backends             # health checked by the control plane, rates, p99
  build/release/ctl/hermesctl stats --window 1m    # the fleet's traffic (proxies report every 10s)
  build/release/ctl/hermesctl circuits
  build/release/ctl/hermesctl history
  build/release/ctl/hermesctl get config
  build/release/ctl/hermesctl rollback             # the fleet back to the previous version
  build/release/ctl/hermesctl apply -f my.yaml --stage           # store a version without deploying it
  build/release/ctl/hermesctl rollout start N --steps 50%,100% --interval 30s --auto
  build/release/ctl/hermesctl rollout status --watch             # gate, moved proxies; ends with the rollout
  build/release/ctl/hermesctl drain demo-1 --wait                # the proxy stops taking connections
Ctrl-C stops everything.
TXT
wait "${pids[-1]}"
