#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The gateway's own table (topology in tests/rosterd/lib.sh): rosterd
# applies the manager's changes to the gateway's roster.ko, in a follower
# VPN stamped with the manager's generations, and programs WireGuard from
# that table only.
#
#   (a) the table is a follower: a hand edit with `roster` is refused and
#       changes nothing;
#   (b) a gateway daemon restart reconciles WireGuard from the table with
#       no flap: a watcher samples `wg show rvpn7 dump` during the
#       restart, no peer ever disappears, and the latest handshake of
#       every peer is kept;
#   (c) a gateway host "reboot" (daemon stopped, its VPN interface and its
#       follower VPN deleted): it rebuilds both from the manager, and the
#       other gateways lose no peer and keep their sessions with each other;
#   (d) `roster monitor` on a gateway shows the changes as they happen
#       (stamped joins of a new member).
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait and rst_check
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin gateway
check() { rst_check "$@"; }

# gwN's own table for VPN: "id key endpoint prefixes" lines, sorted.
own_table() {
	rst_in "gw$1" "$ROSTER_CLI" -j member show vpn "$2" 2>/dev/null |
		jq -r "$RST_JQ_MEMBERS" | LC_ALL=C sort
}

check topology rst_topology 4
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
joined=()
for n in 1 2 3; do
	check "gw$n-enrols" rst_enrol "$n" 7
	joined+=("$n")
	check "mesh-after-gw$n-joined" rst_wait_mesh "$T_JOIN" 7 "${joined[@]}"
	check "tables-after-gw$n-joined" rst_wait_mirrors "$T_JOIN" 7 "${joined[@]}"
done
check ping-all-pairs rst_ping_all 1 2 3

# ---- (a) a follower: hand edits are refused -------------------------------
follower() {
	local out
	out=$(rst_in "gw$1" "$ROSTER_CLI" vpn show) || return 1
	grep -E "^vpn $2 .*follower" <<<"$out" || { echo "  gw$1: $out"; return 1; }
}
check table-is-follower follower 1 7
hand_edit_refused() {
	local before after out rc=0
	before=$(own_table 1 7)
	if out=$(rst_in gw1 "$ROSTER_CLI" member join vpn 7 id 10.255.9.9 \
		key "$(rst_wg_pubkey 2 7)" allowed 10.99.0.0/24 2>&1); then
		echo "  an unstamped join was accepted"
		rc=1
	fi
	grep -q "follows another table" <<<"$out" || { echo "  join: $out"; rc=1; }
	if out=$(rst_in gw1 "$ROSTER_CLI" member leave vpn 7 id "$(rst_gw_id 2)" 2>&1); then
		echo "  an unstamped leave was accepted"
		rc=1
	fi
	grep -q "follows another table" <<<"$out" || { echo "  leave: $out"; rc=1; }
	if out=$(rst_in gw1 "$ROSTER_CLI" vpn del 7 2>&1); then
		echo "  an unstamped vpn del was accepted"
		rc=1
	fi
	after=$(own_table 1 7)
	[[ $before == "$after" ]] || { echo "  the table changed:"; diff <(echo "$before") <(echo "$after"); rc=1; }
	return "$rc"
}
check hand-edit-refused hand_edit_refused
check table-unchanged-after-hand-edit rst_mirrors_ok 7 1 2 3
check mesh-unchanged-after-hand-edit rst_mesh_ok 7 1 2 3

# ---- watchers -------------------------------------------------------------
# watch_start N: sample gwN's rvpn7 peers ("key handshake" lines, one
# sample per block ending in "--") into $RST_DIR/watch.gwN until watch_stop.
declare -A WATCH=()
watch_start() {
	local f=$RST_DIR/watch.gw$1
	: >"$f"
	rm -f "$f.stop"
	(
		while [[ ! -e $f.stop ]]; do
			rst_in "gw$1" wg show rvpn7 dump 2>/dev/null | tail -n +2 | cut -f 1,5
			echo --
			sleep 0.1
		done
	) >>"$f" 2>/dev/null &
	WATCH[$1]=$!
}
watch_stop() {
	touch "$RST_DIR/watch.gw$1.stop"
	wait "${WATCH[$1]}" 2>/dev/null
	unset "WATCH[$1]"
}
# handshakes N: "key latest-handshake" of gwN's rvpn7 peers.
handshakes() { rst_in "gw$1" wg show rvpn7 dump | tail -n +2 | cut -f 1,5 | LC_ALL=C sort; }
# never_lost N KEY...: every sample of gwN's watcher has every KEY.
never_lost() {
	local n=$1 f=$RST_DIR/watch.gw$1 k samples bad=0
	shift
	samples=$(grep -c -- '^--$' "$f")
	((samples >= 3)) || { echo "  only $samples sample(s)"; return 1; }
	for k in "$@"; do
		bad=$(awk -v k="$k" '$0 == "--" { if (!seen) n++; seen = 0; next }
			$1 == k { seen = 1 } END { print n + 0 }' "$f")
		((bad == 0)) || { echo "  gw$n: peer $k missing in $bad of $samples samples"; return 1; }
	done
	echo "# gw$n: $samples samples, no peer lost"
}
# kept BEFORE AFTER: every peer of BEFORE has a handshake in AFTER, at
# least as recent (a removed and re-added peer starts from 0).
kept() {
	local key t rc=0 now
	while read -r key t; do
		[[ -n $key ]] || continue
		now=$(awk -v k="$key" '$1 == k { print $2 }' <<<"$2")
		if [[ -z $now || $now == 0 || $now -lt $t ]]; then
			echo "  peer $key: latest handshake $t before, ${now:-none} after"
			rc=1
		fi
	done <<<"$1"
	return "$rc"
}
keys_of() { awk '{ print $1 }' <<<"$1"; }
# not_logged NAME MARK REGEX
not_logged() {
	! rst_log_since "$1" "$2" | grep -E "$3" | sed "s/^/  $1: /" | grep .
}
listed_since() { rst_log_since "$1" "$2" | grep -qE "info: vpn 7 gen [0-9]+: .* change\(s\) to the table"; }

# ---- (b) a daemon restart reconciles from the table, no flap --------------
hs1=$(handshakes 1)
check handshakes-before-restart test -n "$(awk '$2 != 0' <<<"$hs1")"
mark1=$(rst_log_lines gw1)
watch_start 1
sleep 0.5
rst_daemon_stop gw1
sleep 1
check gw1-restarts rst_gw_start 1
check gw1-listed-after-restart rst_wait "$T_JOIN" listed_since gw1 "$mark1"
sleep 1
watch_stop 1
# shellcheck disable=SC2046 # one word per key
check restart-no-peer-lost never_lost 1 $(keys_of "$hs1")
check restart-handshakes-kept kept "$hs1" "$(handshakes 1)"
check restart-no-peer-removed not_logged gw1 "$mark1" 'peer .* removed'
check mesh-after-restart rst_wait_mesh "$T_JOIN" 7 1 2 3
check tables-after-restart rst_wait_mirrors "$T_JOIN" 7 1 2 3

# ---- (c) a gateway host reboot -------------------------------------------
# gw3's host loses its table and its interfaces; gw1 and gw2 watch.
hs1=$(handshakes 1)
hs2=$(handshakes 2)
key3=$(rst_wg_pubkey 3 7)
mark1=$(rst_log_lines gw1)
mark2=$(rst_log_lines gw2)
mark3=$(rst_log_lines gw3)
watch_start 1
watch_start 2
rst_daemon_stop gw3
reboot_gw3() {
	rst_in gw3 "$ROSTER_CLI" vpn set 7 nofollower &&
		rst_in gw3 "$ROSTER_CLI" vpn del 7 &&
		ip -n "$RST_P-gw3" link del rvpn7
}
check gw3-loses-table-and-interface reboot_gw3
gone() { ! rst_in gw3 "$ROSTER_CLI" vpn show | grep -q "^vpn 7 " && ! ip -n "$RST_P-gw3" link show rvpn7; }
check gw3-table-gone gone
check gw3-starts-again rst_gw_start 3
check gw3-listed rst_wait "$T_JOIN" listed_since gw3 "$mark3"
check gw3-table-rebuilt rst_wait_mirrors "$T_JOIN" 7 1 2 3
check mesh-after-reboot rst_wait_mesh "$T_JOIN" 7 1 2 3
check gw3-follower-again follower 3 7
check ping-gw3-gw1 rst_ping 3 1
# gw2's session with gw3 predates the reboot; WireGuard starts a new
# handshake when the old one gets no answer (about 15 s).
check ping-gw2-gw3 rst_wait 40 rst_ping 2 3 1
watch_stop 1
watch_stop 2
# gw1 and gw2 never lost a peer, not even gw3's: its record came back
# unchanged, so its peer was never touched (only its session is new).
# shellcheck disable=SC2046
check reboot-gw1-no-peer-lost never_lost 1 $(keys_of "$hs1")
# shellcheck disable=SC2046
check reboot-gw2-no-peer-lost never_lost 2 $(keys_of "$hs2")
check reboot-gw1-gw2-session-kept kept "$(grep -vF "$key3" <<<"$hs1")" "$(handshakes 1)"
check reboot-gw2-gw1-session-kept kept "$(grep -vF "$key3" <<<"$hs2")" "$(handshakes 2)"
check reboot-gw1-no-peer-removed not_logged gw1 "$mark1" 'peer .* (removed|set)'
check reboot-gw2-no-peer-removed not_logged gw2 "$mark2" 'peer .* (removed|set)'

# ---- (d) roster monitor on a gateway ------------------------------------
mon=$RST_DIR/monitor.gw1
# A simple command (not lib.sh's ip() function) in the background, so that
# $! is the monitor itself: ip netns exec execs it in place.
command ip netns exec "$RST_P-gw1" "$ROSTER_CLI" monitor >"$mon" 2>&1 </dev/null &
monpid=$!
sleep 1
check gw4-enrols rst_enrol 4 7
check mesh-after-gw4-joined rst_wait_mesh "$T_JOIN" 7 1 2 3 4
check tables-after-gw4-joined rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
seen_join() { grep -E "^join .*vpn 7 .*$(rst_gw_id 4)" "$mon" | grep -q stamped; }
check monitor-shows-stamped-join rst_wait 10 seen_join
kill "$monpid" 2>/dev/null
wait "$monpid" 2>/dev/null
ktap_diag "monitor on gw1: $(wc -l <"$mon") line(s); last: $(tail -n 1 "$mon")"
check ping-gw4-gw1 rst_ping 4 1

check daemons-alive rst_all_alive mgr gw1 gw2 gw3 gw4

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "gateway.sh: $((SECONDS - RST_T0)) s"
ktap_finish
