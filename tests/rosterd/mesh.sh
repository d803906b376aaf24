#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rosterd end to end: one manager, four gateways (topology in
# tests/rosterd/lib.sh). The gateways enrol and join VPN 7 one after
# another; after each join every joined gateway's rvpn7 peers must be
# exactly the other members of VPN 7 in the manager's roster.ko table (keys,
# endpoints, allowed-ips, routes). Then every site pings every other site
# through the tunnels. Then gw4 leaves (`rosterd leave`) and gw3 is removed
# by the administrator (`roster member leave` on the manager): nobody keeps
# a tunnel or route to them, and their own rvpn7 peers are gone.
#
# Each gateway mirrors the membership into its own roster.ko: after every
# step each member's table holds VPN 7 exactly as the manager's does, and a
# gateway that is not a member has no VPN 7. roster.ko refuses a prefix
# another member holds, so one step moves a prefix (10.44.0.0/24) from gw4
# to gw3 while gw1's daemon is down: gw1 comes back to a mirror that gives
# it to gw4 and a JOIN that gives it to gw3, and must store the JOIN
# without a refusal. No gateway ever logs a failed mirror write. Moving
# VPN 7's generation (`roster vpn set 7 generation N resync`) reaches every
# member as a list, so the next change is no gap.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded:
#   scripts/vm-run --kernel 6.12 -- tests/vm-suite tests/rosterd/mesh.sh
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}   # seconds a change may take to reach every gateway

rst_suite_begin mesh

check() { rst_check "$@"; }
# not_logged MARK REGEX NAME...: no line after line MARK of the NAMEs'
# logs matches REGEX (those that do are printed).
not_logged() {
	local mark=$1 re=$2 n rc=0
	shift 2
	for n in "$@"; do
		! rst_log_since "$n" "$mark" | grep -E "$re" | sed "s/^/  $n: /" | grep . || rc=1
	done
	return "$rc"
}

check topology rst_topology 4
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr

joined=()
for n in 1 2 3 4; do
	t0=$SECONDS
	check "gw$n-enrols" rst_enrol "$n" 7
	joined+=("$n")
	check "gw$n-in-table" rst_wait "$T_JOIN" rst_table_is 7 "${joined[@]}"
	check "mesh-after-gw$n-joined" rst_wait_mesh "$T_JOIN" 7 "${joined[@]}"
	check "mirrors-after-gw$n-joined" rst_wait_mirrors "$T_JOIN" 7 "${joined[@]}"
	ktap_diag "gw$n joined and the mesh of ${#joined[@]} converged in $((SECONDS - t0)) s"
done

t0=$SECONDS
check ping-all-pairs rst_ping_all 1 2 3 4
ktap_diag "12 pings in $((SECONDS - t0)) s"

# A prefix moves from gw4 to gw3 while gw1 is down.
EXTRA=10.44.0.0/24
extra() {  # extra N on|off: gwN's [vpn 7] (its last section) also announces EXTRA
	sed -i "\|^prefix = $EXTRA\$|d" "$(rst_conf "gw$1")"
	[[ $2 == off ]] || echo "prefix = $EXTRA" >>"$(rst_conf "gw$1")"
}
rejoin() {  # rejoin N: gwN's daemon restarts and joins again with its config
	rst_daemon_stop "gw$1"
	rst_gw_start "$1"
}
holds() {  # holds N: in the manager's table, EXTRA is gwN's and nobody else's
	local m
	m=$(rst_members 7 | grep -F "$EXTRA")
	[[ $m == "$(rst_gw_id "$1") "* && $m != *$'\n'* ]]
}
nobody_holds() { ! rst_members 7 | grep -qF "$EXTRA"; }
t0=$SECONDS
extra 4 on
check move-gw4-announces-extra rejoin 4
check move-gw4-holds-extra rst_wait "$T_JOIN" holds 4
check move-mirrors-gw4-holds rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
rst_daemon_stop gw1
extra 4 off
check move-gw4-drops-extra rejoin 4
check move-nobody-holds-extra rst_wait "$T_JOIN" nobody_holds
extra 3 on
check move-gw3-announces-extra rejoin 3
check move-gw3-holds-extra rst_wait "$T_JOIN" holds 3
m1=$(rst_log_lines gw1)
check move-gw1-restarts rst_gw_start 1
check move-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3 4
check move-mirrors-gw3-holds rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
check move-gw1-no-table-refusal not_logged "$m1" "table: |the table is not the manager's" gw1
extra 3 off
check move-gw3-drops-extra rejoin 3
check move-back-nobody-holds rst_wait "$T_JOIN" nobody_holds
check move-back-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3 4
check move-back-mirrors rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
check move-back-ping-all-pairs rst_ping_all 1 2 3 4
ktap_diag "the prefix moved and came back in $((SECONDS - t0)) s"

# gw4 asks to leave.
key4=$(rst_wg_pubkey 4 7)
check gw4-leave-exits-0 rst_leave 4 7
check gw4-gone-from-table rst_wait "$T_JOIN" rst_table_is 7 1 2 3
check no-tunnel-to-gw4 rst_wait "$T_JOIN" rst_no_tunnel_to "$key4" 4 7 1 2 3
check gw4-own-peers-gone rst_wait "$T_JOIN" rst_peers_ok 4 7
check mesh-after-gw4-left rst_wait_mesh "$T_JOIN" 7 1 2 3 4
check mirrors-after-gw4-left rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
check lan4-cut-off rst_no_ping 4 1

# The administrator moves VPN 7's generation (vpn set, no member changed):
# the manager lists the members again at the new generation, so that the
# next change (gw3's removal below) is no gap to them.
vpn7_gen() { rst_in mgr "$ROSTER_CLI" -j vpn show | jq -r '.[] | select(.vpn_id == 7) | .generation'; }
at_gen() {  # at_gen GEN N...: each gwN has logged its view at GEN
	local n
	for n in "${@:2}"; do
		rst_log_since "gw$n" "${gmark[$n]}" | grep -q "info: vpn 7 gen $1: " || return 1
	done
}
declare -A gmark=()
for n in 1 2 3; do gmark[$n]=$(rst_log_lines "gw$n"); done
gen=$(vpn7_gen)
check vpn-set-generation rst_in mgr "$ROSTER_CLI" vpn set 7 generation $((gen + 5)) resync
check vpn-set-members-listed rst_wait "$T_JOIN" at_gen $((gen + 5)) 1 2 3

# The administrator removes gw3 on the manager.
key3=$(rst_wg_pubkey 3 7)
check admin-removes-gw3 rst_kick 3 7
check gw3-gone-from-table rst_wait "$T_JOIN" rst_table_is 7 1 2
check no-tunnel-to-gw3 rst_wait "$T_JOIN" rst_no_tunnel_to "$key3" 3 7 1 2
check gw3-own-peers-gone rst_wait "$T_JOIN" rst_peers_ok 3 7
check mesh-after-gw3-removed rst_wait_mesh "$T_JOIN" 7 1 2 3 4
check mirrors-after-gw3-removed rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
check ping-remaining-pair rst_ping_all 1 2
check vpn-set-no-gap not_logged "${gmark[1]}" 'generation gap' gw1
check vpn-set-no-gap-gw2 not_logged "${gmark[2]}" 'generation gap' gw2

check daemons-alive rst_all_alive mgr gw1 gw2 gw3 gw4
check no-table-write-failed not_logged 0 "table: |the table is not the manager's" gw1 gw2 gw3 gw4

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "mesh.sh: $((SECONDS - RST_T0)) s"
ktap_finish
