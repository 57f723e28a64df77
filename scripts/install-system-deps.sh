#!/usr/bin/env bash
# System tools the test suite uses beyond Node: openssl (independent CMS judge), python3
# (plistlib round trips) and, for the SCEP end-to-end test, certmonger (getcert, scep-submit;
# the test runs it on a private socket, so no D-Bus daemon is needed). Installs only what is
# missing, so a machine that has everything pays for a few `command -v` checks.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
command -v getcert >/dev/null || need+=(certmonger)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    # Containers have no init system: keep package scripts from starting services (certmonger)
    # that the tests start themselves. Our policy file is removed again afterwards.
    policy=/usr/sbin/policy-rc.d
    own_policy=
    if [ ! -e "$policy" ] && [ ! -d /run/systemd/system ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    trap 'if [ -n "$own_policy" ]; then rm -f "$policy"; fi' EXIT
    # Quiet when it works; the whole apt log when it does not.
    log=$(mktemp)
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "could not install: ${need[*]}" >&2
      exit 1
    fi
    rm -f "$log"
  else
    echo "missing system packages: ${need[*]} (install them with your package manager)" >&2
    exit 1
  fi
fi
