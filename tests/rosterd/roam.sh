#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Moving endpoints and expiring dead sites (topology in tests/rosterd/lib.sh),
# VPN 7 of gw1, gw2, gw3; the manager's [vpn 7] has expire-after = 12s and
# every gateway states its view every 3 s (sync-interval), which is what
# keeps a live site heard from.
#
#   roam:   gw1 has endpoint = auto. Its member record carries the address
#           the manager's rctl0 sees it at. Its underlay address changes
#           (192.0.2.11 -> 192.0.2.111, gw1 itself sending nothing on the
#           VPN): the manager announces it again, gw2's and gw3's peers for
#           it follow, and lan2 reaches lan1 with gw2 the one to send first
#           (WireGuard's own roaming cannot help: gw1 is silent). Timed from
#           the change of address: when the manager's WireGuard sees the new
#           address (the floor: nothing can follow before that), and when
#           gw2's and gw3's peers point there; and back again.
#   expiry: gw3's underlay is cut. Past expire-after the manager removes it
#           (reason expired): gw1 and gw2 lose the peer and the route. The
#           link comes back: gw3 is told it was expired (LIST with REJOIN)
#           and joins again by itself, and the sites reach each other.
#   admin:  a member removed by the administrator is not asked to join
#           again: it stays out.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait and rst_check
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}
EXPIRE=12
SYNC=3
OLD=$(rst_gw_ip 1)
NEW=192.0.2.111
PORT=$(rst_vpn_port 7)

rst_suite_begin roam
# stamped log lines (CLOCK_MONOTONIC): a move is timed by them
export ROSTERD_LOG_TIME=1
check() { rst_check "$@"; }

# gateway N's config for VPN 7 with sync-interval SYNC, endpoint = auto if
# AUTO is 1; invited, redeemed, started.
enrol() {
	local n=$1 auto=$2 f tok
	rst_gw_config "$n" 7
	f=$(rst_conf "gw$n")
	if ((auto)); then
		sed -i "s/^endpoint = .*/endpoint = auto/" "$f"
	fi
	sed -i "s/^retry-ms = .*/&\nsync-interval = $SYNC/" "$f"
	tok=$(rst_invite "$n" 7)
	[[ -n $tok ]] || { echo "  invite for gw$n failed"; return 1; }
	rst_redeem "$n" "$tok" || { echo "  redeem: $(tail -n 1 "$RST_DIR/gw$n.redeem.log")"; return 1; }
	rst_gw_start "$n"
}

# member_ep N: gwN's endpoint in the manager's table for VPN 7.
member_ep() {
	local id key ep rest
	while read -r id key ep rest; do
		[[ $id == "$(rst_gw_id "$1")" ]] && { echo "$ep"; return 0; }
	done < <(rst_members 7)
	return 1
}

member_ep_is() { [[ $(member_ep "$1") == "$2" ]]; }

# ep_of NS IFACE KEY: the endpoint IFACE in netns NS has for peer KEY.
ep_of() {
	local k ep
	while read -r k ep; do
		[[ $k == "$3" ]] && { echo "$ep"; return 0; }
	done < <(rst_in "$1" wg show "$2" endpoints 2>/dev/null)
	return 1
}

# uptime: CLOCK_BOOTTIME in s, the clock of the daemons' log stamps
# (ROSTERD_LOG_TIME: CLOCK_MONOTONIC, the same in a VM that never sleeps).
uptime() { local u _; read -r u _ </proc/uptime; echo "$u"; }

# stamp NAME PATTERN: the log stamp of NAME's first line after line
# MARK[NAME] that matches PATTERN (extended regex).
declare -A MARK=()
stamp() {
	rst_log_since "$1" "${MARK[$1]}" | grep -E -m1 -- "$2" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'
}

# peers_set GEN: gw2's and gw3's logs show gw1's peer set at GEN.
peers_set() {
	[[ -n $(stamp gw2 "gen $1: peer $(rst_gw_id 1) set") &&
		-n $(stamp gw3 "gen $1: peer $(rst_gw_id 1) set") ]]
}

# move FROM TO: gw1's underlay address FROM -> TO (deleted first: deleting
# a primary address deletes its secondaries), gw1 sending nothing on the
# VPN. Timed from the change: when the manager's rctl0 sees gw1 at TO (the
# floor: nothing can follow before; sampled, so late by up to one sample),
# when the manager announces gw1 again (its log), and when gw2 and gw3
# point their peer for gw1 at TO (their logs).
move() {
	local from=$1 to=$2 t0 t_obs='' gen='' t_ann t2 t3 n
	for n in mgr gw2 gw3; do MARK[$n]=$(rst_log_lines "$n"); done
	t0=$(uptime)
	ip -n "$RST_P-gw1" -batch - <<EOF || return 1
addr del $from/24 dev eth0
addr add $to/24 dev eth0
EOF
	while [[ -z $t_obs ]]; do
		[[ $(ep_of mgr rctl0 "$KEY1") != "$to:"* ]] || t_obs=$(uptime)
		if [[ -z $t_obs ]] && awk -v a="$(uptime)" -v b="$t0" 'BEGIN { exit !(a - b > 30) }'; then
			echo "  after 30 s the manager still sees gw1 at $(ep_of mgr rctl0 "$KEY1")"
			return 1
		fi
	done
	rst_wait 20 stamp_of_move "$from" "$to"
	gen=$(rst_log_since mgr "${MARK[mgr]}" |
		sed -n "s/.*moved from $from to $to: announced again (gen \([0-9]*\)).*/\1/p" | head -n 1)
	[[ -n $gen ]] || { echo "  the manager did not announce gw1 at $to"; return 1; }
	t_ann=$(stamp mgr "moved from $from to $to")
	rst_wait 20 peers_set "$gen" || { echo "  gw2/gw3 did not set gw1's peer at gen $gen"; return 1; }
	t2=$(stamp gw2 "gen $gen: peer $(rst_gw_id 1) set")
	t3=$(stamp gw3 "gen $gen: peer $(rst_gw_id 1) set")
	[[ $(ep_of gw2 rvpn7 "$KEY1") == "$to:$PORT" && $(ep_of gw3 rvpn7 "$KEY1") == "$to:$PORT" ]] || {
		echo "  gw2 has gw1 at $(ep_of gw2 rvpn7 "$KEY1"), gw3 at $(ep_of gw3 rvpn7 "$KEY1")"
		return 1
	}
	awk -v t0="$t0" -v o="$t_obs" -v an="$t_ann" -v a="$t2" -v b="$t3" -v f="$from" -v t="$to" 'BEGIN {
		m = (a > b ? a : b) - t0
		printf "# roam %s -> %s: rctl0 on the manager sees it after %.2f s (the floor), the manager announces it after %.2f s, gw2 and gw3 follow after %.2f and %.2f s: %.2f s after the floor\n",
			f, t, o - t0, an - t0, a - t0, b - t0, m - (o - t0)
	}'
}

stamp_of_move() { [[ -n $(stamp mgr "moved from $1 to $2: announced again") ]]; }

# expiry: cut gw3's underlay, wait for the manager to remove it; prints the
# time from the cut.
cut_and_expire() {
	local t0=$SECONDS
	ip -n "$RST_P-inet" link set v-gw3 down || return 1
	if ! rst_wait 40 rst_table_is 7 1 2; then
		rst_table_is 7 1 2
		return 1
	fi
	echo "# expiry: gw3 removed $((SECONDS - t0)) s after its link was cut (expire-after ${EXPIRE} s after it was last heard, sync-interval ${SYNC} s)"
}

logged() { grep -q -- "$2" "$(rst_logfile "$1")" || { echo "  $1's log lacks '$2'"; return 1; }; }

back() {
	local t0=$SECONDS
	ip -n "$RST_P-inet" link set v-gw3 up || return 1
	if ! rst_wait 30 rst_table_is 7 1 2 3; then
		rst_table_is 7 1 2 3
		return 1
	fi
	echo "# expiry: gw3 a member again $((SECONDS - t0)) s after its link came back"
}

stays_out() {
	rst_kick 2 7 || return 1
	rst_wait 10 rst_table_is 7 1 3 || { rst_table_is 7 1 3; return 1; }
	# several of gw2's sync-intervals, and the manager's expiry passes
	sleep $((2 * SYNC))
	rst_table_is 7 1 3 || return 1
	! grep -q "expired us" "$(rst_logfile gw2)" || { echo "  gw2 was asked to join again"; return 1; }
}

check topology rst_topology 3
rst_mgr_config
printf '\n[vpn 7]\nexpire-after = %ss\n' "$EXPIRE" >>"$(rst_conf mgr)"
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
check gw1-enrols-endpoint-auto enrol 1 1
check gw2-enrols enrol 2 0
check gw3-enrols enrol 3 0
check vpn7-table rst_wait "$T_JOIN" rst_table_is 7 1 2 3
check vpn7-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3
KEY1=$(rst_wg_pubkey 1 7)
KEY3=$(rst_wg_pubkey 3 7)
check auto-endpoint-is-the-observed-address rst_wait 10 member_ep_is 1 "$OLD:$PORT"
check mesh-pings rst_ping_all 1 2 3

check roam-peers-follow-the-move move "$OLD" "$NEW"
check roam-table-has-the-new-address member_ep_is 1 "$NEW:$PORT"
check roam-mesh rst_mesh_ok 7 1 2 3
check roam-lan2-reaches-lan1 rst_ping 2 1
check roam-lan1-reaches-lan3 rst_ping 1 3
check roam-back-peers-follow move "$NEW" "$OLD"
check roam-back-mesh rst_mesh_ok 7 1 2 3
check roam-back-lan3-reaches-lan1 rst_ping 3 1

check expiry-removes-the-silent-site cut_and_expire
check expiry-reason-expired logged mgr "$(rst_gw_id 3) expired: last heard from"
check expiry-no-tunnel-to-gw3 rst_no_tunnel_to "$KEY3" 3 7 1 2
check expiry-others-stay rst_mesh_ok 7 1 2
check expiry-site-comes-back-by-itself back
check expiry-gw3-was-told-to-rejoin logged gw3 "the manager expired us"
check expiry-mesh-again rst_wait_mesh 20 7 1 2 3
check expiry-lan3-reaches-lan2 rst_ping 3 2

check admin-removal-stays stays_out
check daemons-alive rst_all_alive mgr gw1 gw2 gw3

((RST_FAILED)) && rst_dump_logs 40
ktap_diag "roam.sh took $((SECONDS - RST_T0)) s"
ktap_finish
