#!/usr/bin/env bash
# Side-by-side benchmark: Hermes vs nginx vs HAProxy vs Caddy as HTTP/1.1 reverse proxies over
# one shared upstream (hermes-test-upstream), all on 127.0.0.1. See bench/README.md.
#
# Env options:
#   ROUNDS=5            interleaved rounds (proxy order shuffled each round)
#   DURATION=10s        measured wrk run per proxy per round
#   WARMUP=2s           un-measured wrk run before each measured run (default 1s if DURATION < 5s)
#   CONNS=64            wrk connections
#   WRK_THREADS=1       wrk threads
#   PROXIES="hermes nginx haproxy caddy"   subset / order of proxies
#   SKIP_BUILD=1        do not build Hermes (use what is in build/release)
#   HERMES_BASE_BIN=FILE  another hermes binary (an earlier commit's release build) run as the
#                       proxy `hermes-base` with the same config as `hermes`: a change measured
#                       against what it changes, in one run (PROXIES="hermes hermes-base ...")
#   SKIP_IDLE=1         skip the idle-connection memory test
#   IDLE_CONNS=10000    idle keep-alive connections for the memory test
#   PROXY_CPU=1         the CPU every proxy is pinned to; wrk + upstream get all the others
#   NICE=-10            run proxies, upstream and wrk at this nice level (root; less noise from
#                       other work on a shared machine)
#   OUT=FILE            also write the report to FILE
#   KEEP_TMP=1          keep the temp dir (configs, logs, raw wrk output)
#   UPSTREAM=stub       harness debugging only: an nginx `return 200` stub instead of
#                       hermes-test-upstream (the report says so)
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIB="python3 $HERE/benchlib.py"

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
PROXIES=${PROXIES:-"hermes nginx haproxy caddy"}
IDLE_CONNS=${IDLE_CONNS:-10000}
UPSTREAM=${UPSTREAM:-hermes-test-upstream}
HERMES_BIN=${HERMES_BIN:-$ROOT/build/release/dataplane/hermes}
UPSTREAM_BIN=${UPSTREAM_BIN:-$ROOT/build/release/tests/support/hermes-test-upstream}

dur_ms() {  # "10s" / "500ms" / "2m" / "7" -> milliseconds (integer); fails on anything else
  local v=$1
  if [[ $v =~ ^([0-9]+)ms$ ]]; then echo "${BASH_REMATCH[1]}"
  elif [[ $v =~ ^([0-9]+)s?$ ]]; then echo $(( BASH_REMATCH[1] * 1000 ))
  elif [[ $v =~ ^([0-9]+)m$ ]]; then echo $(( BASH_REMATCH[1] * 60000 ))
  else return 1; fi
}
DUR_MS=$(dur_ms "$DURATION") || { echo "bad DURATION=$DURATION (use e.g. 10s, 500ms, 1m)" >&2; exit 2; }
if [[ -z "${WARMUP:-}" ]]; then
  if (( DUR_MS >= 5000 )); then WARMUP=2s; else WARMUP=1s; fi
fi
WARM_MS=$(dur_ms "$WARMUP") || { echo "bad WARMUP=$WARMUP" >&2; exit 2; }
WRK_TIMEOUT=$(( DUR_MS / 1000 + 30 ))
WARM_TIMEOUT=$(( WARM_MS / 1000 + 30 ))

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ------------------------------------------------------------------ CPU layout
NPROC=$(nproc)
PROXY_CPU=${PROXY_CPU:-1}
if (( NPROC < 2 )); then
  log "only $NPROC CPU: no pinning (proxies, wrk and upstream share the core; numbers are not meaningful)"
  PROXY_CPU=""; LOAD_CPUS=""
else
  (( PROXY_CPU < NPROC )) || PROXY_CPU=1
  LOAD_CPUS=""; LOAD_NCPU=0
  for (( c = 0; c < NPROC; c++ )); do
    (( c == PROXY_CPU )) && continue
    LOAD_CPUS+="${LOAD_CPUS:+,}$c"; LOAD_NCPU=$(( LOAD_NCPU + 1 ))
  done
fi
(( ${LOAD_NCPU:-0} > 0 )) || LOAD_NCPU=1
UPSTREAM_THREADS=${UPSTREAM_THREADS:-$LOAD_NCPU}
# Command prefixes (arrays, not functions, so `&` / timeout exec the real program and $! is its pid).
# NICE (e.g. -10, needs root) raises the priority of everything measured, alike for all, so that
# unrelated work on a shared machine disturbs the run less.
PIN_PROXY=(); PIN_LOAD=()
if [[ -n "${NICE:-}" && "${NICE:-0}" != 0 ]]; then PIN_PROXY=(nice -n "$NICE"); PIN_LOAD=(nice -n "$NICE"); fi
[[ -n "$PROXY_CPU" ]] && PIN_PROXY+=(taskset -c "$PROXY_CPU")
[[ -n "$LOAD_CPUS" ]] && PIN_LOAD+=(taskset -c "$LOAD_CPUS")

# ------------------------------------------------------------------ limits, temp dir, cleanup
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if (( NOFILE < IDLE_CONNS + 1000 )); then
  log "warning: open-files limit $NOFILE < IDLE_CONNS+1000; the idle test will open fewer connections"
fi

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
TMP=$(mktemp -d /tmp/hermes-bench.XXXXXX)
declare -a STARTED_PIDS=()

kill_tree() {  # TERM a process we started and its descendants, then KILL what is left
  local pid=$1 p
  local all
  all=$(tree_pids "$pid")
  for p in $all; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 30); do
    local alive=0
    for p in $all; do kill -0 "$p" 2>/dev/null && alive=1; done
    (( alive )) || return 0
    sleep 0.1
  done
  for p in $all; do kill -KILL "$p" 2>/dev/null; done
}

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill_tree "$pid"; done
  wait 2>/dev/null
  if [[ -n "${KEEP_TMP:-}" ]]; then log "temp dir kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

tree_pids() {  # PID and all its descendants (pgrep -P, recursively)
  local p
  echo "$1"
  for p in $(pgrep -P "$1" 2>/dev/null); do tree_pids "$p"; done
}

cpu_ticks() {  # utime+stime+cutime+cstime (clock ticks) over PID's process tree; threads are
  local p line rest total=0  # included in a process' utime/stime
  for p in $(tree_pids "$1"); do
    { read -r line <"/proc/$p/stat"; } 2>/dev/null || continue
    rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest  # $1=state ... $12=utime $13=stime $14=cutime $15=cstime
    total=$(( total + ${12} + ${13} + ${14} + ${15} ))
  done
  echo "$total"
}

serving_pids() {  # the processes that serve: the children if any (nginx master -> worker), else PID
  local kids
  kids=$(pgrep -P "$1" 2>/dev/null | paste -sd' ')
  echo "${kids:-$1}"
}

mem_kib() {  # mem_kib FIELD PID... -> sum of FIELD (VmRSS, VmHWM) in KiB
  local field=$1 p total=0 v
  shift
  for p in "$@"; do
    v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null)
    total=$(( total + ${v:-0} ))
  done
  echo "$total"
}

wait_http() {  # wait_http PORT PID TIMEOUT_S -> 0 once GET / answers 200
  local port=$1 pid=$2 timeout=${3:-15} i
  for (( i = 0; i < timeout * 10; i++ )); do
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/")" == 200 ]]; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# ------------------------------------------------------------------ build
need_hermes=0
for p in $PROXIES; do [[ $p == hermes* ]] && need_hermes=1; done
if [[ -z "${SKIP_BUILD:-}" ]] && { (( need_hermes )) || [[ $UPSTREAM != stub ]]; } &&
   pgrep -f "ninja.*build/release|cmake --build.*release" >/dev/null 2>&1; then
  log "another build of build/release is running: not building, using the binaries as they are"
elif [[ -z "${SKIP_BUILD:-}" ]] && { (( need_hermes )) || [[ $UPSTREAM != stub ]]; }; then
  log "building release (cmake --preset release; cmake --build --preset release -j2)"
  if ! (cd "$ROOT" && cmake --preset release >"$TMP/build.log" 2>&1 &&
        cmake --build --preset release -j2 --target hermes hermes-test-upstream >>"$TMP/build.log" 2>&1); then
    log "build failed (tail of log follows); continuing with whatever binaries exist"
    tail -n 20 "$TMP/build.log" >&2
  fi
fi

# ------------------------------------------------------------------ ports
# All at once so they are distinct: stub upstream, hermes admin, one per proxy.
read -r -a FREE_PORTS <<<"$($LIB freeports 10)"
next_port() { NEXT_PORT=${FREE_PORTS[0]}; FREE_PORTS=("${FREE_PORTS[@]:1}"); }

# ------------------------------------------------------------------ upstream
UPORT=""
if [[ $UPSTREAM == stub ]]; then
  log "UPSTREAM=stub: using an nginx 'return 200' stub (harness debugging only)"
  mkdir -p "$TMP/stub/logs"
  next_port; UPORT=$NEXT_PORT
  cat >"$TMP/stub/nginx.conf" <<EOF
worker_processes $UPSTREAM_THREADS;
daemon off;
master_process on;
$( (( EUID == 0 )) && echo "user root;" )
pid $TMP/stub/nginx.pid;
error_log $TMP/stub/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$UPORT backlog=4096;
    location / { return 200 "hello from the stub upstream\n"; }
  }
}
EOF
  "${PIN_LOAD[@]}" nginx -p "$TMP/stub" -c "$TMP/stub/nginx.conf" -e "$TMP/stub/error.log" \
    >"$TMP/stub/stdout.log" 2>&1 &
  upid=$!
  STARTED_PIDS+=("$upid")
  UPSTREAM_DESC="nginx stub (return 200), $UPSTREAM_THREADS worker(s) — NOT hermes-test-upstream"
else
  if [[ ! -x $UPSTREAM_BIN ]]; then
    log "upstream binary $UPSTREAM_BIN is missing (build it, or UPSTREAM=stub for harness debugging)"
    exit 1
  fi
  "${PIN_LOAD[@]}" "$UPSTREAM_BIN" --listen 127.0.0.1:0 --threads "$UPSTREAM_THREADS" --name bench-upstream \
    >"$TMP/upstream.out" 2>"$TMP/upstream.err" &
  upid=$!
  STARTED_PIDS+=("$upid")
  for _ in $(seq 100); do
    UPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$TMP/upstream.out" | head -n1)
    [[ -n $UPORT ]] && break
    kill -0 "$upid" 2>/dev/null || break
    sleep 0.1
  done
  UPSTREAM_DESC="hermes-test-upstream, $UPSTREAM_THREADS thread(s)"
fi
if [[ -z $UPORT ]] || ! wait_http "$UPORT" "$upid" 15; then
  log "upstream did not come up; logs:"
  cat "$TMP"/upstream.* "$TMP"/stub/*.log 2>/dev/null | tail -n 20 >&2
  exit 1
fi
log "upstream on 127.0.0.1:$UPORT ($UPSTREAM_DESC)"

# ------------------------------------------------------------------ proxy configs and start
declare -A PORT PID SERVE_PIDS
: >"$TMP/failed.tsv"

# `hermes` runs as a user would: circuit breakers on (the default) and outlier detection on.
# `hermes-bare` (opt-in: PROXIES="hermes hermes-bare") has both off, to measure what they cost.
write_hermes_config() {
  local d=$1 port=$2 aport=$3 resilience=$4
  cat >"$d/hermes.yaml" <<EOF
listeners:
  - { name: main, address: "127.0.0.1:$port", idle_timeout: 300s, max_connections: 20000 }
admin: { address: "127.0.0.1:$aport" }
clusters:
  - name: up
    endpoints: [ { address: "127.0.0.1:$UPORT" } ]
    pool: { max_idle_per_endpoint: 1024 }
    health_check: { enabled: false }
    limits: { max_connections: 20000, max_pending_requests: 20000, max_requests: 20000 }
$resilience
routes:
  - { name: all, cluster: up }
EOF
}

run_hermes() {
  local name=$1 port=$2 resilience=$3 d=$TMP/$1 aport HERMES_BIN=${4:-$HERMES_BIN}
  mkdir -p "$d"
  next_port; aport=$NEXT_PORT
  write_hermes_config "$d" "$port" "$aport" "$resilience"
  [[ -x $HERMES_BIN ]] || { echo "binary $HERMES_BIN missing" >"$d/stderr.log"; return 1; }
  if ! timeout 10 "$HERMES_BIN" --validate -config "$d/hermes.yaml" >"$d/stderr.log" 2>&1 </dev/null; then
    return 1
  fi
  "${PIN_PROXY[@]}" "$HERMES_BIN" -config "$d/hermes.yaml" --workers 1 --log-level warn >"$d/stdout.log" 2>"$d/stderr.log" &
}

start_hermes() {
  run_hermes hermes "$1" "    outlier_detection: { consecutive_5xx: 5 }"
}

start_hermes-bare() {
  run_hermes hermes-bare "$1" "    circuit_breaker: { enabled: false }"
}

start_hermes-base() {
  [[ -n ${HERMES_BASE_BIN:-} ]] || { echo "HERMES_BASE_BIN is not set" >&2; return 1; }
  run_hermes hermes-base "$1" "    outlier_detection: { consecutive_5xx: 5 }" "$HERMES_BASE_BIN"
}

start_nginx() {
  local d=$TMP/nginx port=$1
  mkdir -p "$d/logs"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
$( (( EUID == 0 )) && echo "user root;" )
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 10000000;
  client_body_temp_path $d/client_body;
  proxy_temp_path $d/proxy_temp;
  fastcgi_temp_path $d/fastcgi_temp;
  uwsgi_temp_path $d/uwsgi_temp;
  scgi_temp_path $d/scgi_temp;
  upstream up {
    server 127.0.0.1:$UPORT;
    keepalive 256;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  "${PIN_PROXY[@]}" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/stdout.log" 2>"$d/stderr.log" &
}

start_haproxy() {
  local d=$TMP/haproxy port=$1
  mkdir -p "$d"
  cat >"$d/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 20000
  ulimit-n $NOFILE
$( (( NOFILE < 40100 )) && echo "  no strict-limits  # maxconn 20000 wants ~40k fds; the 10k idle test needs ~10k" )

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s

frontend main
  bind 127.0.0.1:$port
  maxconn 20000
  default_backend up

backend up
  server up1 127.0.0.1:$UPORT
EOF
  "${PIN_PROXY[@]}" haproxy -db -f "$d/haproxy.cfg" >"$d/stdout.log" 2>"$d/stderr.log" &
}

start_caddy() {
  local d=$TMP/caddy port=$1
  mkdir -p "$d/home" "$d/data" "$d/config"
  cat >"$d/Caddyfile" <<EOF
{
  admin off
  auto_https off
  servers {
    timeouts {
      idle 300s
    }
  }
}
http://127.0.0.1:$port {
  bind 127.0.0.1
  reverse_proxy 127.0.0.1:$UPORT {
    transport http {
      keepalive 300s
      keepalive_idle_conns 1024
      keepalive_idle_conns_per_host 1024
    }
  }
}
EOF
  env HOME="$d/home" XDG_DATA_HOME="$d/data" XDG_CONFIG_HOME="$d/config" GOMAXPROCS=1 \
    "${PIN_PROXY[@]}" caddy run --config "$d/Caddyfile" --adapter caddyfile >"$d/stdout.log" 2>"$d/stderr.log" &
}

version_of() {
  case $1 in
    hermes-base) local v=""
             [[ -x ${HERMES_BASE_BIN:-} ]] && v=$(timeout 2 "$HERMES_BASE_BIN" --version 2>&1 </dev/null | head -n1)
             echo "${v#hermes } ($HERMES_BASE_BIN)" ;;
    hermes|hermes-bare)  local v=""
             [[ -x $HERMES_BIN ]] && v=$(timeout 2 "$HERMES_BIN" --version 2>&1 </dev/null | head -n1)
             v=${v#hermes }
             echo "${v:-?} (git $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null)$(cd "$ROOT" && git diff --quiet HEAD -- dataplane common 2>/dev/null || echo '+uncommitted changes'))" ;;
    nginx)   nginx -v 2>&1 | head -n1 ;;
    haproxy) haproxy -v 2>&1 | head -n1 ;;
    caddy)   caddy version 2>&1 | head -n1 ;;
  esac
}

RUNNING=()
STARTING=()
ORDER=""  # the proxies asked for, valid and de-duplicated: the rows of the report
for p in $PROXIES; do  # start them all, then wait for each (faster than one by one)
  case $p in hermes|hermes-bare|hermes-base|nginx|haproxy|caddy) ;; *) log "unknown proxy '$p' (skipped)"; continue ;; esac
  [[ -n ${PORT[$p]:-} ]] && continue  # listed twice
  next_port; PORT[$p]=$NEXT_PORT
  ORDER+="$p "
  if ! "start_$p" "${PORT[$p]}"; then
    printf '%s\tfailed to start\n' "$p" >>"$TMP/failed.tsv"
    log "$p: failed to start: $(tail -n 5 "$TMP/$p/stderr.log" 2>/dev/null | tr '\n' ' ')"
    continue
  fi
  PID[$p]=$!
  STARTED_PIDS+=("${PID[$p]}")
  STARTING+=("$p")
done
for p in "${STARTING[@]}"; do
  if ! wait_http "${PORT[$p]}" "${PID[$p]}" 15; then
    printf '%s\tfailed to start\n' "$p" >>"$TMP/failed.tsv"
    log "$p: did not answer 200 on 127.0.0.1:${PORT[$p]}; log tail:"
    tail -n 5 "$TMP/$p/stderr.log" "$TMP/$p/error.log" 2>/dev/null | sed 's/^/    /' >&2
    kill_tree "${PID[$p]}"
    continue
  fi
  SERVE_PIDS[$p]=$(serving_pids "${PID[$p]}")
  log "$p: up on 127.0.0.1:${PORT[$p]} (pid ${PID[$p]}, serving pid(s) ${SERVE_PIDS[$p]})"
  RUNNING+=("$p")
done
if (( ${#RUNNING[@]} == 0 )); then log "no proxy started"; exit 1; fi

# ------------------------------------------------------------------ interleaved rounds
RUNS=$TMP/runs.tsv
: >"$RUNS"
for (( round = 1; round <= ROUNDS; round++ )); do
  order=$(printf '%s\n' "${RUNNING[@]}" | shuf | tr '\n' ' ')
  log "round $round/$ROUNDS: $order"
  for p in $order; do
    if ! kill -0 "${PID[$p]}" 2>/dev/null; then
      log "$p: process died; skipped"
      grep -q "^$p	" "$TMP/failed.tsv" || printf '%s\tdied during the run\n' "$p" >>"$TMP/failed.tsv"
      continue
    fi
    url="http://127.0.0.1:${PORT[$p]}/"
    timeout --foreground "$WARM_TIMEOUT" "${PIN_LOAD[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d"$WARMUP" "$url" >/dev/null 2>&1
    out=$TMP/wrk-$p-$round.txt
    t0=$(cpu_ticks "${PID[$p]}")
    w0=$(date +%s%N)
    timeout --foreground "$WRK_TIMEOUT" "${PIN_LOAD[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency "$url" >"$out" 2>&1
    w1=$(date +%s%N)
    t1=$(cpu_ticks "${PID[$p]}")
    # parsed at the end (benchlib.py table); runs.tsv: proxy round wrk-output cpu-ticks wall-ns
    printf '%s\t%s\t%s\t%s\t%s\n' "$p" "$round" "$out" "$((t1 - t0))" "$((w1 - w0))" >>"$RUNS"
    log "  $p: $(awk '/Requests\/sec/ {print $2}' "$out") req/s, p99 $(awk '$1 == "99%" || $1 == "99.000%" {print $2}' "$out"), cpu $((t1 - t0)) ticks in $(( (w1 - w0) / 1000000 )) ms$(grep -q 'Non-2xx\|Socket errors' "$out" && echo ' (errors, see report)')"
  done
done

# Peak RSS after the load rounds (before the idle test adds its connections).
MEM=$TMP/mem.tsv
: >"$MEM"
for p in "${RUNNING[@]}"; do
  kill -0 "${PID[$p]}" 2>/dev/null || continue
  SERVE_PIDS[$p]=$(serving_pids "${PID[$p]}")
  # shellcheck disable=SC2086
  printf '%s\t%s\n' "$p" "$(mem_kib VmHWM ${SERVE_PIDS[$p]})" >>"$MEM"
done

# ------------------------------------------------------------------ idle connections
IDLE=$TMP/idle.tsv
: >"$IDLE"
if [[ -z "${SKIP_IDLE:-}" ]]; then
  for p in "${RUNNING[@]}"; do
    kill -0 "${PID[$p]}" 2>/dev/null || continue
    pids=$(tr ' ' ',' <<<"${SERVE_PIDS[$p]}")
    res=$(timeout --foreground 120 "${PIN_LOAD[@]}" python3 "$HERE/idle_conns.py" --port "${PORT[$p]}" --count "$IDLE_CONNS" \
            --pids "$pids" 2>"$TMP/idle-$p.err")
    log "idle $p: ${res:-failed: $(tail -n 2 "$TMP/idle-$p.err" | tr '\n' ' ')}"
    if [[ $res =~ ok=([0-9]+)\ n=([0-9]+)\ rss_before_kib=([0-9]+)\ rss_after_kib=([0-9]+) ]]; then
      printf '%s\t%s\t%s\t%s\t%s\n' "$p" "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}" \
        "${BASH_REMATCH[2]}" >>"$IDLE"
    fi
    sleep 0.5  # let the proxy reap the closed connections before the next one is measured
  done
fi

# ------------------------------------------------------------------ report
{
  echo "## Hermes vs nginx / HAProxy / Caddy — reverse proxy over one upstream"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), host: $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "- load average (1/5/15 min) at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) — other work on this machine skews absolute numbers"
  echo "- rounds: $ROUNDS (order shuffled per round), duration: $DURATION, warm-up: $WARMUP, connections: $CONNS, wrk threads: $WRK_THREADS"
  echo "- pinning: proxies on CPU ${PROXY_CPU:-none}; wrk + upstream on CPU(s) ${LOAD_CPUS:-none}${NICE:+; nice $NICE}"
  echo "- upstream: $UPSTREAM_DESC$([[ $UPSTREAM != stub ]] && echo " ($UPSTREAM_BIN)")"
  echo "- hermes binary: $HERMES_BIN"
  echo "- each proxy: 1 worker (hermes --workers 1, nginx worker_processes 1, haproxy nbthread 1, caddy GOMAXPROCS=1), access logs off, upstream keep-alive"
  if [[ -z "${SKIP_IDLE:-}" ]]; then
    echo "- idle test: $IDLE_CONNS keep-alive connections, each after one request; KiB/conn = (VmRSS after - before) / connections kept open"
  fi
  echo "- versions: hermes $(version_of hermes); $(version_of nginx); $(version_of haproxy); caddy $(version_of caddy); $(wrk -v 2>&1 | head -n1)"
  echo
  $LIB table "$RUNS" "$MEM" "$IDLE" "$TMP/failed.tsv" "$ORDER"
  echo
  echo "Medians over rounds; CPU µs/req = proxy CPU time (utime+stime of all its processes and threads) / requests completed."
  echo "Peak RSS = VmHWM of the serving process(es) after the load rounds."
} >"$TMP/report.md"

cat "$TMP/report.md"
if [[ -n "${OUT:-}" ]]; then
  mkdir -p "$(dirname "$OUT")" && cp "$TMP/report.md" "$OUT" && log "report written to $OUT"
fi
