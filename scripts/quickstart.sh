#!/usr/bin/env bash
# The demo behind `make run`: three test upstreams and a Hermes proxy serving
# config/example.yaml (listener :8080, admin :8081), in the foreground until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/release}
hermes=$build/dataplane/hermes
upstream=$build/tests/support/hermes-test-upstream
for b in "$hermes" "$upstream"; do
  [ -x "$b" ] || { echo "quickstart: $b is missing; run 'make build' first" >&2; exit 1; }
done

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
"$hermes" -config config/example.yaml &
pids+=($!)

for _ in $(seq 50); do
  curl -fsS -o /dev/null http://127.0.0.1:8081/ready 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null http://127.0.0.1:8081/ready || { echo "quickstart: hermes did not become ready" >&2; exit 1; }

cat <<'TXT'

Hermes is serving config/example.yaml on :8080 (admin on :8081). Try:
  curl -s localhost:8080/                          # web cluster, weights 2:1 across :9001 and :9002
  curl -s localhost:8080/api/echo                  # /api prefix -> api cluster, path rewritten to /echo
  curl -s -H 'Host: api.example.com' localhost:8080/echo
  curl -s localhost:8081/backends                  # original Hermes admin API: /health /backends /stats /circuits
  curl -s localhost:8081/metrics | grep hermes_cluster_requests_total
  kill -HUP $(pgrep -f 'hermes -config config/example.yaml')   # reload the file
Ctrl-C stops everything.
TXT
wait "${pids[-1]}"
