#!/usr/bin/env bash
# scripts/service-guard.sh against a policy-rc.d in a temp dir: the guard is in place only while
# its command runs, and afterwards the file that was there before is back byte for byte with its
# mode (or there is none if there was none), also when the command fails or a signal stops the
# script. Run by ctest (scripts.service_guard); needs no root and no apt.
set -uo pipefail
guard="$(cd "$(dirname "$0")/../.." && pwd)/scripts/service-guard.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Each case runs in its own bash with POLICY_RC_D in a fresh dir; $1 names it, $2 is its script.
run_case() {
  local dir="$tmp/$1"
  mkdir -p "$dir"
  POLICY_RC_D="$dir/policy-rc.d" GUARD="$guard" bash -c "set -euo pipefail; source \"\$GUARD\"; $2"
}

# During the command: exit 101, executable. After: nothing left.
run_case absent 'without_service_starts sh -c "test -x \"$POLICY_RC_D\" && \"$POLICY_RC_D\"; test \$? -eq 101"' ||
  fail "absent: the command did not see an executable policy-rc.d exiting 101"
[ -e "$tmp/absent/policy-rc.d" ] && fail "absent: policy-rc.d left behind"
[ -n "$(ls -A "$tmp/absent")" ] && fail "absent: files left behind: $(ls -A "$tmp/absent")"

# A policy-rc.d of the machine's (content and mode) comes back as it was.
mkdir -p "$tmp/present"
printf '#!/bin/sh\nexit 0\n' >"$tmp/present/policy-rc.d"
chmod 750 "$tmp/present/policy-rc.d"
run_case present 'without_service_starts sh -c "\"$POLICY_RC_D\"; test \$? -eq 101"' ||
  fail "present: the guard was not in place during the command"
[ "$(cat "$tmp/present/policy-rc.d")" = "$(printf '#!/bin/sh\nexit 0')" ] || fail "present: content not restored"
[ "$(stat -c %a "$tmp/present/policy-rc.d")" = 750 ] || fail "present: mode not restored"
[ "$(ls -A "$tmp/present")" = policy-rc.d ] || fail "present: files left behind: $(ls -A "$tmp/present")"

# A failing command: its status is returned, the original is back.
mkdir -p "$tmp/failing"
echo original >"$tmp/failing/policy-rc.d"
status=0
run_case failing 'without_service_starts sh -c "exit 7"' || status=$?
[ "$status" = 7 ] || fail "failing: status $status, want 7"
[ "$(cat "$tmp/failing/policy-rc.d")" = original ] || fail "failing: original not restored"

# The script is stopped by SIGTERM while the command runs (as Ctrl-C or a CI timeout would).
mkdir -p "$tmp/signal"
echo original >"$tmp/signal/policy-rc.d"
status=0
run_case signal 'without_service_starts sh -c "kill -TERM \$PPID; sleep 0.2"; echo not reached' || status=$?
[ "$status" = 143 ] || fail "signal: status $status, want 143"
[ "$(cat "$tmp/signal/policy-rc.d")" = original ] || fail "signal: original not restored"
[ "$(ls -A "$tmp/signal")" = policy-rc.d ] || fail "signal: files left behind: $(ls -A "$tmp/signal")"

# The command exits the script itself (an exit inside a sourced function or set -e elsewhere).
run_case exiting 'f() { exit 3; }; without_service_starts f' && fail "exiting: status 0"
[ -e "$tmp/exiting/policy-rc.d" ] && fail "exiting: policy-rc.d left behind"

# A run killed with SIGKILL left the backup: the next run puts the machine's file back first.
mkdir -p "$tmp/killed"
echo original >"$tmp/killed/policy-rc.d.hermes-saved"
printf '#!/bin/sh\nexit 101\n' >"$tmp/killed/policy-rc.d"
run_case killed 'without_service_starts true' 2>/dev/null || fail "killed: the next run failed"
[ "$(cat "$tmp/killed/policy-rc.d" 2>/dev/null)" = original ] || fail "killed: original not put back"
[ "$(ls -A "$tmp/killed")" = policy-rc.d ] || fail "killed: files left behind: $(ls -A "$tmp/killed")"

# install-deps.sh itself, with apt, dpkg and systemctl replaced by stubs on PATH that report
# every package missing and record each apt-get install with whether the guard was in place.
stubs="$tmp/stubs"
mkdir -p "$stubs" "$tmp/deps"
cat >"$stubs/dpkg-query" <<'STUB'
#!/bin/sh
exit 1
STUB
cat >"$stubs/apt-get" <<'STUB'
#!/bin/sh
[ "$1" = install ] || exit 0
if [ -x "$POLICY_RC_D" ]; then guard=guarded; else guard=unguarded; fi
echo "$guard $*" >>"$APT_LOG"
STUB
cat >"$stubs/systemctl" <<'STUB'
#!/bin/sh
echo "systemctl $*" >>"$APT_LOG"
STUB
chmod +x "$stubs"/*
deps="$(dirname "$guard")/install-deps.sh"
run_deps() {
  : >"$tmp/deps/apt.log"
  PATH="$stubs:$PATH" POLICY_RC_D="$tmp/deps/policy-rc.d" APT_LOG="$tmp/deps/apt.log" \
    "$deps" "$@" >/dev/null
}
if [ "$(id -u)" != 0 ]; then
  echo "service_guard_test: not root, install-deps.sh would call sudo: its cases are skipped"
else
  run_deps || fail "install-deps.sh: status $?"
  grep -q '^unguarded install .*libboost1.81-dev' "$tmp/deps/apt.log" || fail "install-deps.sh: build deps not installed (unguarded)"
  grep -qE 'nginx|haproxy|caddy|wrk' "$tmp/deps/apt.log" && fail "install-deps.sh without --bench installs benchmark packages"
  grep -q '^guarded' "$tmp/deps/apt.log" && fail "install-deps.sh without --bench used the guard"
  echo original >"$tmp/deps/policy-rc.d"
  run_deps --bench || fail "install-deps.sh --bench: status $?"
  grep -q '^unguarded install .*libboost1.81-dev.* wrk' "$tmp/deps/apt.log" || fail "install-deps.sh --bench: build deps and wrk not installed unguarded"
  grep -q '^guarded install .*nginx-light haproxy caddy' "$tmp/deps/apt.log" || fail "install-deps.sh --bench: peers not installed under the guard"
  grep -q '^guarded install .*libboost' "$tmp/deps/apt.log" && fail "install-deps.sh --bench: build deps installed under the guard"
  grep -q '^systemctl disable --quiet nginx' "$tmp/deps/apt.log" || fail "install-deps.sh --bench: nginx left enabled at boot"
  [ "$(cat "$tmp/deps/policy-rc.d")" = original ] || fail "install-deps.sh --bench: policy-rc.d not restored"
fi

[ "$failures" = 0 ] && echo "service_guard_test: all cases pass"
exit $((failures > 0))
