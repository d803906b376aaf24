#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two VPNs sharing a gateway stay isolated (topology in tests/rosterd/lib.sh):
#
#   VPN 7: gw1, gw2            VPN 9: gw2, gw3, gw4
#   gw1 -- rvpn7 -- gw2 -- rvpn9 -- gw3, gw4
#
# gw2 is in both (rvpn7 and rvpn9); gw1 only in 7; gw3, gw4 only in 9. Each
# gateway's rvpnV peers must equal the other members of V, a gateway gets
# no interface, peer or route for a VPN it is not in (gw1: nothing for 9;
# gw3/gw4: nothing for 7), and traffic flows inside each VPN but never
# between a VPN-7-only site and a VPN-9-only site, in either direction,
# even though gw2 forwards and is in both. Finally a peer deleted by hand
# (`wg set ... remove`) comes back with the gateway's next periodic sync.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin two_vpns
check() { rst_check "$@"; }

# nothing_for N V SITE...: gwN has no rvpnV and no route to the sites' LANs.
nothing_for() {
	local n=$1 v=$2 s rc=0
	shift 2
	if ip -n "$RST_P-gw$n" link show "rvpn$v" >/dev/null 2>&1; then
		echo "  gw$n has rvpn$v:"
		rst_in "gw$n" wg show "rvpn$v" | sed 's/^/    /'
		rc=1
	fi
	for s in "$@"; do
		if [[ -n $(ip -n "$RST_P-gw$n" -4 route show "10.$s.0.0/24") ]]; then
			echo "  gw$n routes 10.$s.0.0/24: $(ip -n "$RST_P-gw$n" -4 route show "10.$s.0.0/24")"
			rc=1
		fi
	done
	# and no peer key of those sites on any of gwN's interfaces
	local keys k
	keys=$(rst_in "gw$n" wg show all peers 2>/dev/null)
	for s in "$@"; do
		k=${SITEKEY[$s]:-}
		if [[ -n $k && $keys == *"$k"* ]]; then
			echo "  gw$n has a peer for gw$s ($k)"
			rc=1
		fi
	done
	return "$rc"
}

check topology rst_topology 4
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr

check gw1-enrols-vpn7 rst_enrol 1 7
check gw2-enrols-vpn7-vpn9 rst_enrol 2 7 9
check gw3-enrols-vpn9 rst_enrol 3 9
check gw4-enrols-vpn9 rst_enrol 4 9

check vpn7-table rst_wait "$T_JOIN" rst_table_is 7 1 2
check vpn9-table rst_wait "$T_JOIN" rst_table_is 9 2 3 4
check vpn7-mesh rst_wait_mesh "$T_JOIN" 7 1 2
check vpn9-mesh rst_wait_mesh "$T_JOIN" 9 2 3 4

declare -A SITEKEY=()
for n in 1 2 3 4; do
	SITEKEY[$n]=$(rst_in "gw$n" wg show all public-key 2>/dev/null | awk '{ print $2; exit }')
done
ktap_diag "keys: gw1 ${SITEKEY[1]} gw2 ${SITEKEY[2]} gw3 ${SITEKEY[3]} gw4 ${SITEKEY[4]}"

check gw1-nothing-for-vpn9 nothing_for 1 9 3 4
check gw3-nothing-for-vpn7 nothing_for 3 7 1
check gw4-nothing-for-vpn7 nothing_for 4 7 1
# the shared gateway keeps the VPNs apart: rvpn7 only VPN-7 peers, rvpn9 only VPN-9
check gw2-rvpn7-only-vpn7 rst_peers_ok 2 7
check gw2-rvpn9-only-vpn9 rst_peers_ok 2 9

check ping-inside-vpn7 rst_ping_all 1 2
check ping-inside-vpn9 rst_ping_all 2 3 4
check lan1-cannot-reach-lan3 rst_no_ping 1 3
check lan1-cannot-reach-lan4 rst_no_ping 1 4
check lan3-cannot-reach-lan1 rst_no_ping 3 1
check lan4-cannot-reach-lan1 rst_no_ping 4 1

# The gateways' own roster.ko mirrors keep the VPNs apart too: each holds
# exactly the VPNs it is in, as the manager's table has them.
mirror_has_no() {  # mirror_has_no N VPN: gwN's table has no VPN
	local ids
	ids=$(rst_in "gw$1" "$ROSTER_CLI" -j vpn show) || { echo "  roster vpn show failed on gw$1"; return 1; }
	ids=$(jq -r '.[].vpn_id' <<<"$ids")
	[[ $'\n'$ids$'\n' != *$'\n'"$2"$'\n'* ]] || { echo "  gw$1's roster.ko has vpn $2"; return 1; }
}
check gw1-mirror-has-no-vpn9 mirror_has_no 1 9
check gw3-mirror-has-no-vpn7 mirror_has_no 3 7
check gw4-mirror-has-no-vpn7 mirror_has_no 4 7
check mirrors-vpn7 rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
check mirrors-vpn9 rst_wait_mirrors "$T_JOIN" 9 1 2 3 4

# Leaving one VPN does not touch the other: gw2 leaves 9, stays in 7.
check gw2-leaves-vpn9 rst_leave 2 9
check vpn9-table-without-gw2 rst_wait "$T_JOIN" rst_table_is 9 3 4
check vpn7-table-unchanged rst_table_is 7 1 2
check vpn9-mesh-after-leave rst_wait_mesh "$T_JOIN" 9 2 3 4
check mirrors-vpn9-after-leave rst_wait_mirrors "$T_JOIN" 9 2 3 4
check gw2-mirror-vpn7-unchanged rst_mirror_ok 2 7
check vpn7-mesh-unchanged rst_mesh_ok 7 1 2
check ping-vpn7-still rst_ping_all 1 2
check lan3-cannot-reach-lan2-now rst_no_ping 3 2

# Drift: an operator deletes gw4's peer on gw3 by hand. gw3's daemon puts
# it back at its next periodic sync (sync-interval 30 s +-20 %), although
# the manager has nothing new to say.
g3=$(rst_log_lines gw3)
rst_in gw3 wg set rvpn9 peer "${SITEKEY[4]}" remove
check drift-peer-removed-by-hand test -z "$(rst_in gw3 wg show rvpn9 peers | grep -F "${SITEKEY[4]}")"
check drift-repaired rst_wait "$T_JOIN" rst_mesh_ok 9 3 4
drift_logged() {
	rst_log_since gw3 "$g3" | grep -qF "rvpn9 has 0 peer(s), 0 of the view's 1; re-programming"
}
check drift-repair-logged rst_wait 5 drift_logged
check drift-ping-vpn9 rst_ping_all 3 4

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "two_vpns.sh: $((SECONDS - RST_T0)) s"
ktap_finish
