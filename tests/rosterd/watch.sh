#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The durability watcher of tests/rosterd/lib.sh (rst_watch_start/stop/
# removals) catches what it exists to catch. No daemon runs: two gateways'
# namespaces get WireGuard interfaces by hand (gw1: rvpn7 and rvpn9, gw2:
# rvpn7, two peers each), then:
#
#   quiet        nothing is removed (a peer is added, endpoints change):
#                rst_watch_stop passes, 0 removals
#   peer-removed `wg set ... peer K remove` on gw2: rst_watch_stop fails
#                naming gw2, rvpn7 and K; 1 removal
#   flap         a peer removed and re-added 0.3 s later on gw1: caught
#   iface-gone   gw1's rvpn9 deleted: each of its peers counts
#   lib-exit-clean  a script whose RST_LOG is in RST_DIR (the demo's)
#                prints nothing after its last line
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM.
# shellcheck disable=SC2317 # functions run through rst_check
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

rst_suite_begin watch
check() { rst_check "$@"; }

# mkwg N IFACE PEERS: gwN's IFACE with PEERS fresh peers; their keys are
# printed
mkwg() {
	local n=$1 ifc=$2 k i keys=()
	rst_in "gw$n" ip link add "$ifc" type wireguard || return 1
	rst_in "gw$n" wg set "$ifc" private-key <(wg genkey) || return 1
	for ((i = 1; i <= $3; i++)); do
		k=$(wg genkey | wg pubkey)
		rst_in "gw$n" wg set "$ifc" peer "$k" allowed-ips "10.20$i.$n.0/24" || return 1
		keys+=("$k")
	done
	printf '%s\n' "${keys[@]}"
}

# stop_fails NAME PATTERN...: rst_watch_stop NAME fails and its report
# has a line matching each PATTERN (grep -E).
stop_fails() {
	local name=$1 out p rc=0
	shift
	# not in $(...): the watcher is a child of this shell
	if rst_watch_stop "$name" >"$RST_DIR/stop.out"; then
		out=$(cat "$RST_DIR/stop.out")
		echo "  rst_watch_stop $name passed; it should have failed:"
		echo "$out" | sed 's/^/    /'
		return 1
	fi
	out=$(cat "$RST_DIR/stop.out")
	for p in "$@"; do
		grep -qE "$p" <<<"$out" || { echo "  no /$p/ in:"; echo "$out" | sed 's/^/    /'; rc=1; }
	done
	return "$rc"
}

removals_are() {
	[[ $(rst_watch_removals "$1") == "$2" ]] || {
		echo "  $1: $(rst_watch_removals "$1") removals, want $2"
		return 1
	}
}

check topology rst_topology 2
mapfile -t K17 < <(mkwg 1 rvpn7 2)
mapfile -t K19 < <(mkwg 1 rvpn9 2)
mapfile -t K27 < <(mkwg 2 rvpn7 2)
check interfaces test "${#K17[@]}" -eq 2 -a "${#K19[@]}" -eq 2 -a "${#K27[@]}" -eq 2

# ---- nothing removed: additions and changes are not removals
check quiet-start rst_watch_start quiet 1 2
rst_in gw1 wg set rvpn7 peer "$(wg genkey | wg pubkey)" allowed-ips 10.99.0.0/24
rst_in gw2 wg set rvpn7 peer "${K27[0]}" endpoint 192.0.2.99:51807
sleep 0.5
check quiet-passes rst_watch_stop quiet
check quiet-no-removals removals_are quiet 0

# ---- one peer removed by hand
check peer-removed-start rst_watch_start removed 1 2
rst_in gw2 wg set rvpn7 peer "${K27[1]}" remove
sleep 0.5
check peer-removed-counted removals_are removed 1
check peer-removed-fails stop_fails removed "^  gw2 rvpn7: peer ${K27[1]//+/\\+} removed at [0-9:.]+$"
check peer-removed-count-kept removals_are removed 1

# ---- a flap: removed and re-added before the test looks
check flap-start rst_watch_start flap 1 2
rst_in gw1 wg set rvpn7 peer "${K17[0]}" remove
sleep 0.3
rst_in gw1 wg set rvpn7 peer "${K17[0]}" allowed-ips 10.201.1.0/24
sleep 0.3
check flap-peer-back eval "rst_in gw1 wg show rvpn7 peers | grep -qxF '${K17[0]}'"
check flap-fails stop_fails flap "^  gw1 rvpn7: peer ${K17[0]//+/\\+} removed"

# ---- an interface deleted: each of its peers
check iface-gone-start rst_watch_start gone 1 2
rst_in gw1 ip link del rvpn9
sleep 0.5
check iface-gone-fails stop_fails gone "^  gw1 rvpn9: peer ${K19[0]//+/\\+} removed" \
	"^  gw1 rvpn9: peer ${K19[1]//+/\\+} removed"
check iface-gone-counted removals_are gone 2

# ---- lib.sh's own exit (scripts/demo-netns: RST_LOG inside RST_DIR):
# nothing after the script's last line, even if rst_cleanup runs twice
# (by hand, then from the EXIT trap)
lib_exit_clean() {
	local out
	out=$(RST_P=rst-exit-$$ bash -c '. "$1"; rst_init; RST_LOG=$RST_DIR/netns.log
		rst_log one; echo verdict; rst_cleanup; exit 0' _ "$ROSTER_TOP/tests/rosterd/lib.sh" 2>&1)
	[[ $out == verdict ]] || {
		echo "  want only 'verdict', got:"
		echo "$out" | sed 's/^/    /'
		return 1
	}
}
check lib-exit-clean lib_exit_clean

ktap_diag "watch.sh: $((SECONDS - RST_T0)) s"
ktap_finish
