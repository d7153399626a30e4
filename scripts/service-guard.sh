# Sourced by install-deps.sh: runs one command (the apt call installing the benchmark peers) with
# Debian's policy-rc.d telling invoke-rc.d to start no service, and leaves the machine's own
# policy-rc.d as it was afterwards, also when the command fails or the script is stopped by a
# signal. POLICY_RC_D (default /usr/sbin/policy-rc.d) and SUDO ("" or "sudo") may be set first.

POLICY_RC_D=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
SUDO=${SUDO:-}
service_guard_placed=0  # 1 while POLICY_RC_D is ours (or absent) and the machine's is in the backup

# Where the machine's own policy-rc.d waits meanwhile. Left behind only by a SIGKILL; the next
# run puts it back first.
service_guard_backup() { echo "$POLICY_RC_D.hermes-saved"; }

service_guard_install() {
  local backup
  backup=$(service_guard_backup)
  if [ -e "$backup" ] || [ -L "$backup" ]; then
    echo "install-deps: putting back $POLICY_RC_D from $backup (an earlier run was killed)" >&2
    $SUDO mv -f "$backup" "$POLICY_RC_D" || return 1
  fi
  if [ -e "$POLICY_RC_D" ] || [ -L "$POLICY_RC_D" ]; then
    $SUDO mv "$POLICY_RC_D" "$backup" || return 1
  fi
  service_guard_placed=1
  if ! printf '#!/bin/sh\n# scripts/install-deps.sh: no service starts while the benchmark peers install\nexit 101\n' |
      $SUDO tee "$POLICY_RC_D" >/dev/null || ! $SUDO chmod 755 "$POLICY_RC_D"; then
    service_guard_restore
    return 1
  fi
}

# Puts back what was there before service_guard_install, or removes ours if nothing was.
service_guard_restore() {
  [ "$service_guard_placed" = 1 ] || return 0
  local backup
  backup=$(service_guard_backup)
  if [ -e "$backup" ] || [ -L "$backup" ]; then
    $SUDO mv -f "$backup" "$POLICY_RC_D" || return 1
  else
    $SUDO rm -f "$POLICY_RC_D" || return 1
  fi
  service_guard_placed=0
}

# without_service_starts COMMAND...: runs COMMAND under the guard and returns its status.
without_service_starts() {
  trap 'service_guard_restore' EXIT
  trap 'service_guard_restore; trap - EXIT; exit 129' HUP
  trap 'service_guard_restore; trap - EXIT; exit 130' INT
  trap 'service_guard_restore; trap - EXIT; exit 143' TERM
  local status=0
  if service_guard_install; then
    "$@" || status=$?
    service_guard_restore || status=1
  else
    status=1
  fi
  trap - EXIT HUP INT TERM
  return "$status"
}
