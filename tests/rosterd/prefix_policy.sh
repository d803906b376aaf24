#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What an enrolled gateway may announce (topology in tests/rosterd/lib.sh,
# three gateways; Documentation/security.rst, "Address space: what a
# gateway may announce"). gw1 and gw2 are invited for their sites'
# 10.N.0.0/16; gw3, the rogue (VPNs 7 and 11..15), for 10.3.0.0/24 and,
# to show that the fixed rules hold whatever an invitation says, for
# 192.0.0.0/8 (the underlay, with the manager's and every gateway's
# endpoint) and 10.254.0.0/15 (a supernet of the control prefix
# 10.255.0.0/16).
#
#   inside             gw3 joins with 10.3.0.0/24: accepted, routed by gw2
#                      with rosterd's own protocol (82).
#   foreign route      gw1 has a route to 10.3.0.0/24 that rosterd did not
#                      create (an administrator's, proto static via eth0,
#                      as main's rosterd made its own, metric 100): gw1's
#                      rosterd leaves it alone (logged), neither replacing
#                      it nor shadowing it with one of a lower metric.
#   refused            gw3 restarted announcing in VPN 7, besides
#                      10.3.0.0/24, gw1's endpoint /32, and in VPNs 11..15
#                      one each of ::/0, 0.0.0.0/0, the control prefix, the
#                      manager's underlay address /32 and 10.9.0.0/24
#                      (outside its invitation): each JOIN_REQ is refused
#                      with an ERROR naming the prefix
#                      (logged by the manager and by gw3), and nothing
#                      changes (checked once after the pinned case): the
#                      manager's table, `ip -j route` and the WireGuard
#                      peers of gw1 and gw2.
#   pinned endpoint    gw3 announces endpoint 192.0.2.99, not the address
#                      its control tunnel comes from (192.0.2.13): refused
#                      naming both (endpoint-check = pinned, the default).
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}
SETTLE=${RST_SETTLE:-2}   # seconds given to a refused JOIN_REQ to do harm

rst_suite_begin prefix_policy
check() { rst_check "$@"; }

logged() {
	rst_log_since "$1" "$2" | grep -qF -- "$3" || {
		echo "  no '$3' in $1's log since line $2; it says:"
		rst_log_since "$1" "$2" | tail -n 5 | sed 's/^/    /'
		return 1
	}
}

# Everything a refused JOIN_REQ must leave as it was: the manager's table
# (VPNs with generations, members with join times), the main routing
# table and the rvpn7 peers of gw1 and gw2.
state() {
	local n
	rst_in mgr "$ROSTER_CLI" -j vpn show 2>&1
	rst_in mgr "$ROSTER_CLI" -j member show 2>&1
	for n in 1 2; do
		echo "gw$n routes:"
		ip -n "$(rst_ns "gw$n")" -j route show table main 2>&1 | jq -c 'sort_by(.dst)[]'
		ip -n "$(rst_ns "gw$n")" -6 -j route show table main 2>&1 | jq -c 'sort_by(.dst)[]'
		echo "gw$n peers:"
		rst_wg_peers "$n" 7
	done
}
STATE=
unchanged() {
	local now
	sleep "$SETTLE"
	now=$(state)
	[[ $now == "$STATE" ]] || {
		echo "  changed:"
		diff <(echo "$STATE") <(echo "$now") | grep '^[<>]' | sed 's/^/    /'
		return 1
	}
}

# route_is N PREFIX "DEV PROTO"...: gwN's routes to exactly PREFIX in the
# main table are these, in any order
route_is() {
	local n=$1 p=$2 have want
	shift 2
	have=$(ip -n "$(rst_ns "gw$n")" -j route show table main exact "$p" 2>/dev/null |
		jq -r '.[] | "\(.dev) \(.protocol // "boot")"' | LC_ALL=C sort | xargs)
	want=$(printf '%s\n' "$@" | LC_ALL=C sort | xargs)
	[[ $have == "$want" ]] || {
		echo "  gw$n: routes to $p: '$have', want '$want'"
		return 1
	}
}

check topology rst_topology 3
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
RST_INVITE_PREFIXES=10.1.0.0/16 check gw1-enrols rst_enrol 1 7
RST_INVITE_PREFIXES=10.2.0.0/16 check gw2-enrols rst_enrol 2 7
check mesh-gw1-gw2 rst_wait_mesh "$T_JOIN" 7 1 2

# ---- inside the invitation, and a route rosterd did not create on gw1
check foreign-route-added rst_in gw1 ip route add 10.3.0.0/24 via 192.0.2.13 dev eth0 proto static metric 100
m1=$(rst_log_lines gw1)
rst_gw_config 3 7
# invited for VPN 7 and five more, for the rogue's JOIN_REQs below
tok=$(RST_INVITE_PREFIXES="10.3.0.0/24 192.0.0.0/8 10.254.0.0/15" rst_invite 3 7 11 12 13 14 15)
check gw3-redeems rst_redeem 3 "$tok"
check gw3-starts rst_gw_start 3
check inside-table rst_wait "$T_JOIN" rst_table_is 7 1 2 3
check inside-mesh rst_wait_mesh "$T_JOIN" 7 2 3
check inside-route-proto-82 rst_wait 10 route_is 2 10.3.0.0/24 "rvpn7 82"
check foreign-route-logged rst_wait 10 logged gw1 "$m1" \
	"route 10.3.0.0/24 dev rvpn7 not installed: a route to it that rosterd did not create exists; left alone"
check foreign-route-left-alone route_is 1 10.3.0.0/24 "eth0 static"

# ---- refused, whatever the invitation says. One restart of gw3 for all:
# each [vpn] section sends its own JOIN_REQ. VPN 7 (gw1's and gw2's) gets
# gw1's endpoint besides gw3's site; VPNs 11..15 one rogue prefix each.
STATE=$(state)
declare -A ROGUE=([7]=192.0.2.11/32 [11]=::/0 [12]=0.0.0.0/0 [13]=10.255.0.0/16
	[14]=192.0.2.1/32 [15]=10.9.0.0/24)
declare -A WHY=(
	[7]="prefix 192.0.2.11/32 covers the endpoint 192.0.2.11 of member 10.255.0.11"
	[11]="prefix ::/0 has length 0: never routed into a VPN"
	[12]="prefix 0.0.0.0/0 has length 0: never routed into a VPN"
	[13]="prefix 10.255.0.0/16 overlaps the control prefix 10.255.0.0/16"
	[14]="prefix 192.0.2.1/32 covers the manager's endpoint 192.0.2.1"
	[15]="prefix 10.9.0.0/24 is outside the invitation's prefixes")
declare -A CASE=([7]=member-endpoint [11]=v6-default [12]=v4-default [13]=control-prefix
	[14]=manager-endpoint [15]=outside)
rst_daemon_stop gw3
echo "prefix = ${ROGUE[7]}" >>"$(rst_conf gw3)"   # [vpn 7] is the last section
for v in 11 12 13 14 15; do
	printf '\n[vpn %s]\nlisten-port = %s\ninterface = rvpn%s\nprefix = %s\n' \
		"$v" "$(rst_vpn_port "$v")" "$v" "${ROGUE[$v]}" >>"$(rst_conf gw3)"
done
m=$(rst_log_lines mgr)
g=$(rst_log_lines gw3)
check rogue-gw3-starts rst_gw_start 3
for v in 7 11 12 13 14 15; do
	check "${CASE[$v]}-refused-manager" rst_wait 20 logged mgr "$m" \
		"JOIN_REQ from 10.255.0.13 for vpn $v refused: ${WHY[$v]}"
	check "${CASE[$v]}-error-gw3" rst_wait 20 logged gw3 "$g" \
		"error: vpn $v: the manager refused to join us: ${WHY[$v]} (Operation not permitted)"
done

# ---- the endpoint is where the control tunnel comes from
rst_daemon_stop gw3
rst_gw_config 3 7
sed -i 's/^endpoint = .*/endpoint = 192.0.2.99/' "$(rst_conf gw3)"
m=$(rst_log_lines mgr)
check pinned-gw3-starts rst_gw_start 3
check pinned-refused-manager rst_wait 20 logged mgr "$m" \
	"JOIN_REQ from 10.255.0.13 for vpn 7 refused: endpoint 192.0.2.99 is not 192.0.2.13, the address the control tunnel comes from"
# Once for all the refusals: an accepted one would have replaced gw3's
# record (and a later refusal would not have put it back).
check nothing-changed unchanged
check daemons-alive rst_all_alive mgr gw1 gw2 gw3

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "prefix_policy.sh: $((SECONDS - RST_T0)) s"
ktap_finish
