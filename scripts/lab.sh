#!/usr/bin/env bash
# Switchyard network lab: two SIP Server hosts and a SIP client as network namespaces on one bridge.
#
#   scripts/lab.sh setup | teardown | status | cut NODE | restore NODE | env
#
#   <prefix>-br      a namespace holding only the bridge br0 (deleting it removes every veth)
#   <prefix>-host1   eth0 198.18.0.11/24 (bridge port "host1")   net.ipv4.ip_nonlocal_bind=1
#   <prefix>-host2   eth0 198.18.0.12/24 (bridge port "host2")   net.ipv4.ip_nonlocal_bind=1
#   <prefix>-client  eth0 198.18.0.20/24 (bridge port "client")
#   root namespace   <prefix>-root 198.18.0.1/32 (bridge port "root") + /32 routes to the hosts, the client
#                    and the VIP: the control path. /32 routes, not a /24, so that other labs using other
#                    addresses of 198.18.0.0/24 at the same time do not collide with this one.
#
#   cut host1     an nft table inside host1's namespace drops traffic to and from the control address only:
#                 the controller loses host1, the client still reaches it (data path intact).
#   restore host1 deletes that table.
#
# Settings (environment): SY_LAB_PREFIX (syl), SY_LAB_CONTROL (198.18.0.1), SY_LAB_HOST1 (198.18.0.11),
# SY_LAB_HOST2 (198.18.0.12), SY_LAB_CLIENT (198.18.0.20), SY_LAB_VIP (198.18.0.100), SY_LAB_PREFIXLEN (24),
# SY_LAB_LOCK (/tmp/switchyard-lab.lock). Every address must be inside 198.18.0.0/24 (network-lab rules).
# Setup and teardown are serialised with flock, idempotent, and each takes well under a second.
set -Eeuo pipefail

P="${SY_LAB_PREFIX:-syl}"
CONTROL="${SY_LAB_CONTROL:-198.18.0.1}"
HOST1="${SY_LAB_HOST1:-198.18.0.11}"
HOST2="${SY_LAB_HOST2:-198.18.0.12}"
CLIENT="${SY_LAB_CLIENT:-198.18.0.20}"
VIP="${SY_LAB_VIP:-198.18.0.100}"
PLEN="${SY_LAB_PREFIXLEN:-24}"
LOCK="${SY_LAB_LOCK:-/tmp/switchyard-lab.lock}"
NODES=(host1 host2 client)
CUT_TABLE="switchyard_cut"

die() { echo "lab.sh: $*" >&2; exit 1; }

[[ "$P" =~ ^[a-z][a-z0-9]{1,8}$ ]] || die "SY_LAB_PREFIX must be 2-9 lowercase letters/digits starting with a letter (got '$P')"
for a in "$CONTROL" "$HOST1" "$HOST2" "$CLIENT" "$VIP"; do
  [[ "$a" =~ ^198\.18\.0\.([0-9]{1,3})$ ]] && (( BASH_REMATCH[1] >= 1 && BASH_REMATCH[1] <= 254 )) \
    || die "lab address '$a' is not inside 198.18.0.0/24 (network-lab rules)"
done
[[ "$PLEN" == 24 ]] || die "SY_LAB_PREFIXLEN must be 24 (the lab lives in 198.18.0.0/24)"

ROOTIF="${P}-root"

addr_of() {
  case "$1" in
    host1) echo "$HOST1" ;; host2) echo "$HOST2" ;; client) echo "$CLIENT" ;; *) die "unknown node '$1'" ;;
  esac
}

need_root() { [[ $(id -u) == 0 ]] || die "must run as root (network namespaces)"; }

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

kill_ns() {
  local ns=$1 pids
  ns_exists "$ns" || return 0
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [[ -z "$pids" ]] && return 0
  kill -TERM $pids 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [[ -z "$pids" ]] && return 0
    sleep 0.02
  done
  kill -KILL $pids 2>/dev/null || true
  for _ in $(seq 1 50); do
    [[ -z "$(ip netns pids "$ns" 2>/dev/null || true)" ]] && return 0
    sleep 0.01
  done
}

do_teardown() {
  local n
  for n in "${NODES[@]}" br; do kill_ns "$P-$n"; done
  for n in "${NODES[@]}" br; do
    if ns_exists "$P-$n"; then ip netns del "$P-$n" 2>/dev/null || true; fi
  done
  # The root veth goes away with its peer in <prefix>-br; delete it by hand if a failed setup left it alone.
  if ip link show "$ROOTIF" >/dev/null 2>&1; then ip link del "$ROOTIF" 2>/dev/null || true; fi
  # If a namespace was still referenced (a stray mount), say so: that is a leftover.
  for n in "${NODES[@]}" br; do
    if ns_exists "$P-$n"; then echo "lab.sh: warning: namespace $P-$n still exists after teardown" >&2; fi
  done
}

check_free() {
  # Another lab (other prefix) using one of our addresses would make routes ambiguous: refuse clearly.
  local a dev
  for a in "$HOST1" "$HOST2" "$CLIENT" "$VIP"; do
    dev=$(ip -o route show "$a/32" 2>/dev/null | awk '{for(i=1;i<=NF;i++) if($i=="dev") print $(i+1)}' | head -1)
    if [[ -n "$dev" && "$dev" != "$ROOTIF" ]]; then
      die "address $a is already routed through '$dev' (another lab is running?); choose other SY_LAB_* addresses"
    fi
  done
  if ip -o addr show | grep -q "inet $CONTROL/"; then
    dev=$(ip -o addr show | awk -v a="$CONTROL/" 'index($4,a)==1 {print $2}' | head -1)
    [[ "$dev" == "$ROOTIF" ]] || die "control address $CONTROL is already on '$dev' in the root namespace"
  fi
}

do_setup() {
  do_teardown
  check_free
  local n addr
  ip netns add "$P-br"
  ip -n "$P-br" link set lo up
  ip -n "$P-br" link add br0 type bridge stp_state 0 forward_delay 0
  ip -n "$P-br" link set br0 up
  for n in "${NODES[@]}"; do
    addr=$(addr_of "$n")
    ip netns add "$P-$n"
    ip netns exec "$P-$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$P-$n" link set lo up
    ip link add eth0 netns "$P-$n" type veth peer name "$n" netns "$P-br"
    ip -n "$P-br" link set "$n" master br0 up
    ip -n "$P-$n" addr add "$addr/$PLEN" dev eth0
    ip -n "$P-$n" link set eth0 up
  done
  for n in host1 host2; do
    ip netns exec "$P-$n" sysctl -qw net.ipv4.ip_nonlocal_bind=1
  done
  # Control path from the root namespace.
  ip link add "$ROOTIF" type veth peer name root netns "$P-br"
  ip -n "$P-br" link set root master br0 up
  ip addr add "$CONTROL/32" dev "$ROOTIF"
  ip link set "$ROOTIF" up
  for addr in "$HOST1" "$HOST2" "$CLIENT" "$VIP"; do
    ip route replace "$addr/32" dev "$ROOTIF" src "$CONTROL"
  done
}

do_cut() {
  local n=$1
  addr_of "$n" >/dev/null
  ns_exists "$P-$n" || die "namespace $P-$n does not exist (run setup first)"
  ip netns exec "$P-$n" nft -f - <<EOF
table ip $CUT_TABLE
delete table ip $CUT_TABLE
table ip $CUT_TABLE {
  chain input { type filter hook input priority -10; policy accept; ip saddr $CONTROL drop; }
  chain output { type filter hook output priority -10; policy accept; ip daddr $CONTROL drop; }
}
EOF
}

do_restore() {
  local n=$1
  addr_of "$n" >/dev/null
  ns_exists "$P-$n" || return 0
  ip netns exec "$P-$n" nft delete table ip "$CUT_TABLE" 2>/dev/null || true
}

do_status() {
  local n any=0
  for n in br "${NODES[@]}"; do
    if ns_exists "$P-$n"; then
      any=1
      echo "namespace $P-$n"
      if [[ "$n" == br ]]; then
        ip -n "$P-$n" -br link show master br0 2>/dev/null | sed 's/^/  port /'
      else
        ip -n "$P-$n" -o -4 addr show dev eth0 2>/dev/null | awk '{print "  addr " $4}'
        ip -n "$P-$n" -br link show dev eth0 2>/dev/null | awk '{print "  mac  " $3}'
        if ip netns exec "$P-$n" nft list table ip "$CUT_TABLE" >/dev/null 2>&1; then echo "  CUT from $CONTROL"; fi
        local pids; pids=$(ip netns pids "$P-$n" 2>/dev/null | tr '\n' ' ')
        [[ -n "$pids" ]] && echo "  pids $pids"
      fi
    fi
  done
  if ip link show "$ROOTIF" >/dev/null 2>&1; then
    any=1
    echo "root link $ROOTIF $(ip -o -4 addr show dev "$ROOTIF" | awk '{print $4}')"
  fi
  if (( any == 0 )); then echo "no lab with prefix $P"; return 0; fi
  local holders=""
  for n in host1 host2; do
    if ip -n "$P-$n" -o -4 addr show dev eth0 2>/dev/null | grep -q " $VIP/"; then holders+="$n "; fi
  done
  echo "VIP $VIP held by: ${holders:-nobody}"
}

do_env() {
  cat <<EOF
SY_LAB_PREFIX=$P
SY_LAB_CONTROL=$CONTROL
SY_LAB_HOST1=$HOST1
SY_LAB_HOST2=$HOST2
SY_LAB_CLIENT=$CLIENT
SY_LAB_VIP=$VIP
SY_LAB_PREFIXLEN=$PLEN
EOF
}

cmd="${1:-}"
case "$cmd" in
  setup|teardown|cut|restore) need_root ;;
esac
case "$cmd" in
  setup)
    exec 9>"$LOCK"; flock -w 30 9 || die "could not take the lab lock $LOCK"
    trap 'rc=$?; trap - ERR; do_teardown; die "setup failed (exit $rc); torn down"' ERR
    do_setup
    trap - ERR
    ;;
  teardown)
    exec 9>"$LOCK"; flock -w 30 9 || die "could not take the lab lock $LOCK"
    do_teardown
    ;;
  cut) [[ -n "${2:-}" ]] || die "usage: lab.sh cut NODE"; do_cut "$2" ;;
  restore) [[ -n "${2:-}" ]] || die "usage: lab.sh restore NODE"; do_restore "$2" ;;
  status) do_status ;;
  env) do_env ;;
  *) echo "usage: $0 setup|teardown|status|cut NODE|restore NODE|env" >&2; exit 2 ;;
esac
