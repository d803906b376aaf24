#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rosterd end to end: the manager loses its kernel table and nobody
# notices. Five gateways form VPN 7; a watcher samples every gateway's
# WireGuard peers during the whole test and records any removal.
#
#  1. Reboot. The manager's daemon stops and its table is lost (in the VM
#     every namespace shares one kernel, so the manager's VPN is deleted in
#     its namespace: an rmmod would wipe the gateways' tables too). The
#     daemon starts again on the same state directory: the table comes back
#     at the same generation with the same members, no gateway removes a
#     peer, and the restarted manager sends no membership message at all
#     (no storm). A gateway that joins right after gets a full mesh.
#  2. The kernel ahead of the store. With the daemon stopped, the
#     administrator removes a gateway with the roster CLI (a change the
#     kernel holds and the store lacks, as after a crash between the two
#     commits). At start the higher generation wins: the store takes the
#     kernel's table and the members are told; the gateway is gone
#     everywhere, its own peers included.
#  3. Crash during a burst. Every gateway daemon restarts at once (each
#     re-join is a change); the manager is SIGKILLed in the middle and its
#     table lost. What any gateway was told is in the store: each gateway's
#     own table (a follower of the manager's) is older than or as old as
#     the restored table, and its members are among the restored ones.
#     Then every gateway's WireGuard peers and table equal the manager's.
#  4. Store identity. The manager starts on a state directory whose store
#     is gone (a new, empty store with a new identity, the same key): it
#     knows no gateway, and no gateway removes anything. With the store
#     back, everything carries on.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded:
#   scripts/vm-run --kernel 6.12 -- tests/vm-suite tests/rosterd/reboot.sh
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin reboot

check() { rst_check "$@"; }
roster_mgr() { rst_in mgr "$ROSTER_CLI" "$@"; }
vpn_gen() { roster_mgr -j vpn show | jq -r ".[] | select(.vpn_id == $1) | .generation"; }
# gw_gen N: the generation of VPN 7 in gwN's own table (0: none)
gw_gen() {
	local g
	g=$(rst_in "gw$1" "$ROSTER_CLI" -j vpn show | jq -r '.[] | select(.vpn_id == 7) | .generation')
	echo "${g:-0}"
}
# table_was GEN MEMBERS: the manager's VPN 7 is at GEN with exactly MEMBERS
table_was() {
	local gen members
	gen=$(vpn_gen 7)
	members=$(rst_members 7 | LC_ALL=C sort)
	[[ $gen == "$1" && $members == "$2" ]] && return 0
	echo "  vpn 7: generation ${gen:-none} (want $1)"
	diff <(echo "$2") <(echo "$members") | grep '^[<>]' | sed 's/^/    /'
	return 1
}
lose_table() {  # the manager host's kernel forgets its table
	roster_mgr vpn del 7 && [[ -z $(vpn_gen 7) ]]
}
# sent_since MARK: the manager's "messages sent:" line after log line MARK
sent_since() { rst_log_since mgr "$1" | sed -n 's/.*messages sent: *//p' | tail -n 1; }
# no_membership_sent MARK: the manager sent no JOIN, LIST, NOTIFY or REMOVE
no_membership_sent() {
	local s
	s=$(sent_since "$1")
	echo "  sent: ${s:-(no summary)}"
	[[ -n $s ]] && ! grep -qE 'JOIN |LIST |NOTIFY |REMOVE ' <<<"$s"
}
logged_since() { rst_log_since "$1" "$2" | grep -qE "$3"; }

check topology rst_topology 6
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
for n in 1 2 3 4 5; do
	check "gw$n-enrols" rst_enrol "$n" 7
done
# Periodic syncs every SYNC s instead of 30, so that the test can wait for
# every gateway to have stated its view to a restarted manager.
SYNC=4
for n in 1 2 3 4 5; do
	sed -i "s/^retry-ms = .*/&\nsync-interval = $SYNC/" "$(rst_conf "gw$n")"
	rst_daemon_stop "gw$n"
	check "gw$n-restarts-with-sync-$SYNC" rst_gw_start "$n"
done
check mesh-formed rst_wait_mesh "$T_JOIN" 7 1 2 3 4 5
check tables-formed rst_wait_mirrors "$T_JOIN" 7 1 2 3 4 5

# 1. reboot ------------------------------------------------------------
gen0=$(vpn_gen 7)
members0=$(rst_members 7 | LC_ALL=C sort)
check watcher-starts rst_watch_start reboot 1 2 3 4 5
rst_daemon_stop mgr
check reboot-table-lost lose_table
mark=$(rst_log_lines mgr)
t0=$SECONDS
check reboot-manager-restarts rst_mgr_start
check reboot-table-restored rst_wait 30 table_was "$gen0" "$members0"
ktap_diag "the table came back at generation $gen0 in $((SECONDS - t0)) s"
check reboot-restore-logged rst_wait 10 logged_since mgr "$mark" "restored from the store at generation $gen0"
# Every gateway states its view in its next periodic SYNC_REQ (every
# SYNC s here, +-20 %): the restarted manager answers none of them with a
# list, since the table is the one they know.
sleep $((SYNC * 12 / 10 + 2))
rst_daemon_stop mgr
check reboot-no-storm no_membership_sent "$mark"
check reboot-tables-unchanged rst_mirrors_ok 7 1 2 3 4 5
check second-restart rst_mgr_start
check join-after-restart rst_enrol 6 7
sed -i "s/^retry-ms = .*/&\nsync-interval = $SYNC/" "$(rst_conf gw6)"
check mesh-after-restart rst_wait_mesh "$T_JOIN" 7 1 2 3 4 5 6
check tables-after-restart rst_wait_mirrors "$T_JOIN" 7 1 2 3 4 5 6
check reboot-no-peer-removed rst_watch_stop reboot

# 2. the kernel ahead of the store ------------------------------------
rst_daemon_stop mgr
key4=$(rst_wg_pubkey 4 7)
check ahead-admin-removes-gw4 rst_kick 4 7
mark=$(rst_log_lines mgr)
check ahead-manager-restarts rst_mgr_start
check ahead-kernel-wins rst_wait 20 logged_since mgr "$mark" "the kernel is ahead of the store"
check ahead-gw4-gone rst_wait "$T_JOIN" rst_no_tunnel_to "$key4" 4 7 1 2 3 5 6
check ahead-gw4-own-peers-gone rst_wait "$T_JOIN" rst_peers_ok 4 7
check ahead-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3 5 6
check ahead-tables rst_wait_mirrors "$T_JOIN" 7 1 2 3 4 5 6

# 3. crash during a burst of joins -------------------------------------
for n in 1 2 3 5 6; do rst_daemon_stop "gw$n"; done
# One after another (0.2 s each), in this shell, so that the harness
# knows their pids: a burst of five re-joins within a second, and the
# manager is killed in its middle, while the first ones are being handled.
for n in 1 2 3 5 6; do
	rst_gw_start "$n"
	[[ $n != 3 ]] || rst_daemon_stop mgr KILL
done
# Nobody changes the gateways' tables while the manager is dead: what
# each holds now is what it was told.
declare -A told_gen=() told=()
for n in 1 2 3 5 6; do
	told_gen[$n]=$(gw_gen "$n")
	told[$n]=$(rst_in "gw$n" "$ROSTER_CLI" -j member show vpn 7 2>/dev/null | jq -r '.[].id' | sort)
done
check crash-table-lost lose_table
check crash-manager-restarts rst_mgr_start
restored_gen=
holds_what_was_told() {
	local n id rc=0 ids
	restored_gen=$(vpn_gen 7)
	ids=$(rst_member_ids 7)
	[[ -n $restored_gen ]] || { echo "  no vpn 7"; return 1; }
	for n in 1 2 3 5 6; do
		if ((told_gen[$n] > restored_gen)); then
			echo "  gw$n was told generation ${told_gen[$n]}, the store has $restored_gen"
			rc=1
		fi
		for id in ${told[$n]}; do
			[[ " $ids " == *" $id "* ]] || { echo "  gw$n was told of $id, not in the store"; rc=1; }
		done
	done
	return "$rc"
}
check crash-store-holds-what-was-told rst_wait 20 holds_what_was_told
ktap_diag "told generations: ${told_gen[*]}; restored at $restored_gen"
check crash-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3 5 6
check crash-tables rst_wait_mirrors "$T_JOIN" 7 1 2 3 4 5 6

# 4. store identity ------------------------------------------------------
check identity-watcher-starts rst_watch_start identity 1 2 3 5 6
rst_daemon_stop mgr
state=$RST_DIR/mgr/state
mkdir -p "$RST_DIR/mgr/saved"
mv "$state"/roster.db* "$RST_DIR/mgr/saved/"
mark=$(rst_log_lines mgr)
check identity-empty-store-starts rst_mgr_start
check identity-new-store rst_wait 10 logged_since mgr "$mark" "store: .*identity"
# Long enough for every gateway to try the manager twice (sync-interval)
sleep $((SYNC * 2 + 2))
rst_daemon_stop mgr
rm -f "$state"/roster.db*
mv "$RST_DIR/mgr/saved"/roster.db* "$state/"
check identity-store-back rst_mgr_start
check identity-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3 5 6
check identity-tables rst_wait_mirrors "$T_JOIN" 7 1 2 3 4 5 6
check identity-no-peer-removed rst_watch_stop identity
check ping-after-all rst_ping_all 1 2 6

check daemons-alive rst_all_alive mgr gw1 gw2 gw3 gw5 gw6

((RST_FAILED == 0)) || rst_dump_logs 40
ktap_diag "reboot.sh: $((SECONDS - RST_T0)) s"
ktap_finish
