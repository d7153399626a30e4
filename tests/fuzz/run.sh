#!/usr/bin/env bash
# `make fuzz`: runs every target of tests/fuzz (built by the fuzz preset into build/fuzz) for
# SECONDS (default 60) over its seed corpus, tests/fuzz/corpus/<target>/ (only read), and what
# earlier runs found, build/fuzz/corpus/<target>/ (where new inputs go). Prints each target's
# executions (libFuzzer's stat::number_of_executed_units) and fails if any target crashed,
# leaked, hung or ran out of memory; the input that did it is in build/fuzz/crashes/<target>/
# (replay: build/fuzz/tests/fuzz/<target> FILE).
set -uo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/../.."
bin=build/fuzz/tests/fuzz
targets=(fuzz_http1_request fuzz_http1_response fuzz_chunked fuzz_yaml_config fuzz_discovery_response)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
total=0
for t in "${targets[@]}"; do
  mkdir -p "build/fuzz/corpus/$t" "build/fuzz/crashes/$t" build/fuzz/logs
  log=build/fuzz/logs/$t.log
  "$bin/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/crashes/$t/" "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    echo "$t: FAILED (exit $status) after ${execs:-?} executions; the end of $log:"
    tail -40 "$log" | sed 's/^/  /'
  else
    echo "$t: ${execs:-?} executions in ${seconds}s, no crash"
    total=$((total + ${execs:-0}))
  fi
done
echo "fuzz: $total executions in all"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashed: ${failed[*]} (inputs in build/fuzz/crashes/)"
  exit 1
fi
