#!/bin/sh
# Command mode hook for Kamailio through kamcmd (the ctl module): the agent's `command` hook type.
# Prefer the `jsonrpc` hook (no program started on every failover; see docs/sip-servers.md).
# KAMCMD_SOCK: the ctl socket (kamailio.cfg with -A WITH_CTL -A 'CTL_SOCK="tcp:127.0.0.1:2046"').
set -eu
sock=${KAMCMD_SOCK:-tcp:127.0.0.1:2046}
case "${SWITCHYARD_ACTION:-}" in
  set-mode)
    case "${SWITCHYARD_MODE:-}" in primary|backup) ;; *) echo "bad mode" >&2; exit 2 ;; esac
    kamcmd -s "$sock" pv.shvSet mode str "$SWITCHYARD_MODE" >/dev/null
    echo "$SWITCHYARD_MODE" ;;
  get-mode)
    kamcmd -s "$sock" pv.shvGet mode ;;  # prints value: primary|backup
  *) echo "SWITCHYARD_ACTION must be set-mode or get-mode" >&2; exit 2 ;;
esac
