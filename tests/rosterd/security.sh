#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rosterd under attack (topology in tests/rosterd/lib.sh, plus an
# attacker "evil" on the internet bridge, 192.0.2.66). Attacks, each
# followed by: the manager's table (roster -j vpn show / member show) is
# unchanged, the daemons are alive, and where the daemon logs it, the log
# says so.
#
#   unauthorised-vpn   gw3 is invited for VPN 7 only but configured for 7
#                      and 9: its JOIN_REQ for 9 is refused (error logged on
#                      both sides), VPN 9 never appears, VPN 7 works.
#   forged identity    a) from the underlay: "evil" sends gw1's captured
#                      JOIN_REQ (rewritten as a fresh sender instance) with
#                      the source address of gw4 (enrolled, not a member)
#                      straight to the manager's control address 10.255.0.1
#                      via 192.0.2.1, and a LEAVE_REQ for VPN 7 as gw2
#                      (forged); and the captured JOIN (0 members) the
#                      manager once sent gw1, to gw1 with the manager's
#                      address as source. rp_filter is off everywhere (the
#                      kernel default in a new netns): only rosterd can
#                      refuse these.
#                      b) from inside the tunnel: gw1 adds gw4's identifier
#                      to its rctl0 and sends the same JOIN_REQ from it
#                      (WireGuard's allowed-ips must drop it).
#   replay             a) gw1's used token redeemed again (from "evil"):
#                      refused, exit 1; and on gw1's own enrolled host:
#                      refused ("already enrolled"), gw1's rctl0 untouched.
#                      b) gw2's daemon is restarted (a new session), then gw2
#                      is removed and its daemon stopped; every frame gw2
#                      sent on the underlay during its enrolment and join
#                      (WireGuard handshakes and the encrypted JOIN_REQ) is
#                      re-sent: no change. c) gw2's captured plaintext
#                      JOIN_REQs re-sent through the tunnel from gw2's own
#                      address and port: the first session's is stale
#                      (dropped, logged), the second session's a duplicate.
#   prefix theft       gw4 configured with 10.1.0.128/25 besides its own
#                      site, i.e. part of gw1's 10.1.0.0/24: its JOIN_REQ is
#                      refused (roster.ko's EADDRINUSE, naming gw1 as the
#                      holder, logged on both sides) and every gateway keeps
#                      routing 10.1.0.0/24 to gw1.
#   prefix race        gw2 and gw4 both announce 10.9.0.0/24 besides their
#                      sites, and both JOIN_REQs wait in the stopped
#                      manager's socket, so that it reads them in one batch
#                      (where a check against its own view of the table,
#                      updated only by notifications read later, passed
#                      both): exactly one of them joins and holds the
#                      prefix, the other is refused with EADDRINUSE naming
#                      the winner.
#   garbage            datagrams rosterd's decoder refuses (random bytes,
#                      encoded messages cut short, with bytes flipped or
#                      with a lying attribute length) to the control port
#                      from inside the tunnel (gw1 -> manager, manager ->
#                      gw1) and from the underlay (to 192.0.2.1:851, to the
#                      WireGuard port 51800, and spoofed as gw1 to
#                      10.255.0.1:851): nothing changes, daemons alive,
#                      "ignoring" logged.
#   local-user         a process running as uid 65534 on gw1 (setpriv)
#                      sends a LEAVE_REQ for VPN 7 to the manager's control
#                      address: rctl0 encrypts it with gw1's key, but it
#                      comes from an unprivileged port, so the manager
#                      drops it (logged) and gw1 stays a member with every
#                      gateway's peers intact.
#   still-works        afterwards gw4 starts and joins: the mesh converges.
#
# After the underlay forgeries a "heal" step undoes their damage (drops a
# forged member, restarts the gateways) so later checks stay independent.
#
# Captured messages are told apart, rewritten and forged with rd-inject
# (rst_inject, rst_msg_types), i.e. with rosterd's own codec.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}
SETTLE=${RST_SETTLE:-3}   # seconds given to a forged packet to do harm

rst_suite_begin security
check() { rst_check "$@"; }

# The manager's whole table (VPNs with generations, members with join
# times): any accepted forged message changes it.
snapshot() {
	rst_in mgr "$ROSTER_CLI" -j vpn show 2>&1
	rst_in mgr "$ROSTER_CLI" -j member show 2>&1
}
SNAP=
snap_take() { SNAP=$(snapshot); }
unchanged() {
	local now
	sleep "$SETTLE"
	now=$(snapshot)
	[[ $now == "$SNAP" ]] || {
		echo "  the manager's table changed:"
		diff <(echo "$SNAP" | jq -c '.[]') <(echo "$now" | jq -c '.[]') | sed 's/^/    /'
		return 1
	}
}
# logged NAME MARK REGEX: NAME's log has a matching line after line MARK.
logged() {
	rst_log_since "$1" "$2" | grep -qE "$3" || {
		echo "  no /$3/ in $1's log since line $2; it says:"
		rst_log_since "$1" "$2" | tail -n 5 | sed 's/^/    /'
		return 1
	}
}
# not_member VPN ID: ID is not in the manager's VPN
not_member() {
	[[ " $(rst_member_ids "$1") " != *" $2 "* ]] || {
		echo "  $2 is a member of vpn $1:"
		rst_members "$1" | sed 's/^/    /'
		return 1
	}
}
# not_logged NAME MARK REGEX: no matching line after line MARK.
not_logged() {
	! rst_log_since "$1" "$2" | grep -E "$3" | sed 's/^/  logged: /' | grep .
}
# captured FILE JQ-SELECT FIELD [TYPE]: FIELD of the captured packets
# matching JQ-SELECT (and whose payload is a TYPE message).
captured() {
	if [[ -z ${4:-} ]]; then
		jq -r "select($2) | .$3" "$RST_DIR/$1.cap"
		return
	fi
	jq -r "select($2) | \"\(.$3) \(.payload)\"" "$RST_DIR/$1.cap" |
		rst_msg_types | awk -v t="$4" '$1 == t { print $2 }'
}

check topology rst_topology 4
check attacker-node rst_node evil 192.0.2.66
for ns in mgr gw1 gw2 gw3 gw4; do
	rst_in "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
done
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
check capture-control-plaintext rst_capture_start mgr rctl0 ctl 600
check capture-gw2-underlay rst_capture_start gw2 eth0 ul2 600

# gw1, gw2: VPN 7. gw3: invited for 7, configured for 7 and 9. gw4:
# invited for 7, redeemed, daemon not started (enrolled, not a member).
check gw1-enrols rst_enrol 1 7
check gw2-enrols rst_enrol 2 7
rst_gw_config 3 7 9
tok3=$(rst_invite 3 7)
check gw3-redeems rst_redeem 3 "$tok3"
m3=$(rst_log_lines mgr)
check gw3-starts rst_gw_start 3
rst_gw_config 4 7
tok4=$(rst_invite 4 7)
check gw4-redeems rst_redeem 4 "$tok4"
check vpn7-table rst_wait "$T_JOIN" rst_table_is 7 1 2 3
check vpn7-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3
rst_capture_stop ctl
rst_capture_stop ul2

# ---- unauthorised VPN
check unauthorised-vpn9-absent test -z "$(rst_members 9)"
check unauthorised-refusal-logged-manager rst_wait 10 logged mgr "$m3" 'vpn 9.*(refused|not invited)'
check unauthorised-error-logged-gw3 rst_wait 10 logged gw3 0 'error: .*vpn 9'
check unauthorised-gw3-still-in-vpn7 rst_peers_ok 3 7

# ---- a local user on a gateway host
LEAVE7=$(rst_inject gw1 encode LEAVE_REQ --session "$(date +%s)" --vpn 7)
local_user_leave() {
	rst_in gw1 setpriv --reuid 65534 --regid 65534 --clear-groups python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes.fromhex(sys.argv[1]), (sys.argv[2], int(sys.argv[3])))
print("  uid %d sent %d bytes from port %d" % (os.getuid(), len(sys.argv[1]) // 2,
                                            s.getsockname()[1]))' \
		"$LEAVE7" "$RST_MGR_CTL" "$RST_CTL_PORT"
}
snap_take
m=$(rst_log_lines mgr)
check local-user-leave-sent local_user_leave
check local-user-leave-table-unchanged unchanged
check local-user-gw1-still-member rst_table_is 7 1 2 3
check local-user-mesh-intact rst_mesh_ok 7 1 2 3
check local-user-refusal-logged rst_wait 10 logged mgr "$m" \
	'ignoring LEAVE_REQ from 10\.255\.0\.11:[0-9]+: not from a privileged port'

# ---- captured messages
J1=$(captured ctl '.src == "10.255.0.11" and .dport == 851' payload JOIN_REQ | head -n 1)
J2=$(captured ctl '.src == "10.255.0.12" and .dport == 851' payload JOIN_REQ | head -n 1)
J2SPORT=$(captured ctl '.src == "10.255.0.12" and .dport == 851' sport JOIN_REQ | head -n 1)
JOIN_TO_GW1=$(captured ctl '.dst == "10.255.0.11" and .sport == 851' payload JOIN | head -n 1)
ktap_diag "captured: gw1 JOIN_REQ ${J1:0:40}..., gw2 JOIN_REQ ${J2:0:40}... (sport ${J2SPORT:-?}), JOIN to gw1 ${JOIN_TO_GW1:0:40}..."
check captured-join-reqs test -n "$J1" -a -n "$J2" -a -n "$JOIN_TO_GW1"
# gw2's LEAVE_REQ for VPN 7 (its session: --fresh replaces it anyway)
L2=$(rst_inject evil encode LEAVE_REQ --session random --vpn 7)
check forged-leave-encoded test -n "$L2"

# ---- forged identity from the underlay
rst_in evil ip addr add 10.255.0.14/32 dev eth0
rst_in evil ip addr add 10.255.0.12/32 dev eth0
rst_in evil ip route add 10.255.0.0/16 via 192.0.2.1   # towards the manager
rst_in evil ip route add 10.255.0.11/32 via 192.0.2.11 # towards gw1
peers1=$(rst_wg_peers 1 7)
snap_take
m=$(rst_log_lines mgr)
check forged-underlay-join-as-gw4-sent rst_inject evil send --from 10.255.0.14:851 --to 10.255.0.1:851 --fresh "$J1"
check forged-underlay-join-as-gw4 unchanged
check forged-underlay-gw4-not-member not_member 7 10.255.0.14
snap_take
check forged-underlay-leave-as-gw2-sent rst_inject evil send --from 10.255.0.12:851 --to 10.255.0.1:851 --fresh "$L2"
check forged-underlay-leave-as-gw2 unchanged
snap_take
g1=$(rst_log_lines gw1)
# (evil holds the manager's address only for this: it also talks *to* it)
rst_in evil ip addr add 10.255.0.1/32 dev eth0
check forged-underlay-join-to-gw1-sent rst_inject evil send --from 10.255.0.1:851 --to 10.255.0.11:851 --fresh --gen 1000000 "$JOIN_TO_GW1"
check forged-underlay-join-to-gw1-as-manager unchanged
# accepted, it would empty gw1's rvpn7 (a JOIN with no members) until gw1's
# resync (the new "session" makes it resync) restores it: look at the log
check forged-underlay-gw1-did-not-believe-it not_logged gw1 "$g1" 'manager restarted|gen 1000000|0 peer'
check forged-underlay-gw1-peers-kept test "$(rst_wg_peers 1 7)" == "$peers1"
g1=$(rst_log_lines gw1)
check garbage-underlay-to-gw1-sent rst_inject evil garbage --from 10.255.0.1:851 --to 10.255.0.11:851 40
rst_in evil ip addr del 10.255.0.1/32 dev eth0
check garbage-underlay-to-gw1-as-manager test "$(sleep 1; rst_wg_peers 1 7)" == "$peers1"
# Not "logged": the control socket is bound to rctl0, so the kernel never
# hands underlay datagrams to the daemon; the forged-underlay-* checks prove
# that nothing they carry is believed.
check forged-underlay-daemons-alive rst_all_alive mgr gw1 gw2 gw3

# Undo whatever the forged packets did, so that the checks below do not
# inherit the damage: drop a forged member, restart the gateways (a forged
# manager message may have left gw1 with a bogus view, a forged member's
# prefix may have been moved away from its owner's peer); each re-joins
# and reprograms rvpn7 from the JOIN message.
heal() {
	local id n
	for id in $(rst_member_ids 7); do
		case $id in
		10.255.0.11|10.255.0.12|10.255.0.13) ;;
		*) rst_in mgr "$ROSTER_CLI" member leave vpn 7 id "$id" reason admin ;;
		esac
	done
	rst_mesh_ok 7 1 2 3 && return 0
	for n in 1 2 3; do
		rst_daemon_stop "gw$n"
		rst_gw_start "$n" || return 1
	done
	rst_wait "$T_JOIN" rst_table_is 7 1 2 3 &&
		rst_wait_mesh "$T_JOIN" 7 1 2 3
}
check forged-underlay-heal heal

# ---- forged identity from inside the tunnel
snap_take
rst_in gw1 ip addr add 10.255.0.14/32 dev rctl0
check forged-in-tunnel-join-as-gw4-sent rst_inject gw1 send --from 10.255.0.14:851 --to 10.255.0.1:851 --fresh "$J1"
rst_in gw1 ip addr del 10.255.0.14/32 dev rctl0
check forged-in-tunnel-join-as-gw4 unchanged
check forged-in-tunnel-mesh-intact rst_mesh_ok 7 1 2 3

# ---- replay: a used invitation
mkdir -p "$RST_DIR/evil/state"
sed -e "s|$RST_DIR/gw1/state|$RST_DIR/evil/state|" -e 's/192.0.2.11/192.0.2.66/' \
	"$(rst_conf gw1)" >"$RST_DIR/evil/rosterd.conf"
snap_take
TOK1_USED=$(cat "$RST_DIR/gw1.token" 2>/dev/null)
replay_token() {
	! rst_in evil "$ROSTERD" redeem --config "$RST_DIR/evil/rosterd.conf" "$TOK1_USED" \
		>"$RST_DIR/evil-redeem.log" 2>&1 || {
		echo "  a used token was accepted:"
		sed 's/^/    /' "$RST_DIR/evil-redeem.log"
		return 1
	}
}
# The same token on gw1's own host, whose daemon runs: enrolling again
# would take its control tunnel over, so it is refused before anything
# is touched.
replay_token_enrolled() {
	local key rc=0
	key=$(rst_in gw1 wg show rctl0 private-key)
	! rst_redeem 1 "$TOK1_USED" || { echo "  redeem on the enrolled host succeeded"; rc=1; }
	tail -n 1 "$RST_DIR/gw1.redeem.log" | grep -q 'already enrolled' || {
		echo "  not refused as already enrolled:"
		tail -n 3 "$RST_DIR/gw1.redeem.log" | sed 's/^/    /'
		rc=1
	}
	[[ $(rst_in gw1 wg show rctl0 private-key) == "$key" ]] || { echo "  gw1's rctl0 key changed"; rc=1; }
	return "$rc"
}
if [[ -n $TOK1_USED ]]; then
	check replay-used-token-refused replay_token
	check replay-used-token-table-unchanged unchanged
	check replay-used-token-gw1-unharmed rst_mesh_ok 7 1 2 3
	snap_take
	check replay-used-token-on-enrolled-host-refused replay_token_enrolled
	check replay-used-token-on-enrolled-host-unchanged unchanged
else
	ktap_skip replay-used-token-refused "gw1's token not saved"
fi

# ---- a second session of gw2's daemon, so that its first one is stale
check capture-control-second-session rst_capture_start mgr rctl0 ctl2 300
rst_daemon_stop gw2
check replay-gw2-restarts rst_gw_start 2
check replay-gw2-rejoined rst_wait_mesh "$T_JOIN" 7 1 2 3
rst_capture_stop ctl2
# the JOIN_REQ of gw2's current session
J2B=$(captured ctl2 '.src == "10.255.0.12" and .dport == 851' payload JOIN_REQ | tail -n 1)
check captured-second-session-join-req test -n "$J2B" -a "$J2B" != "$J2"

# ---- replay: gw2's underlay frames after its removal
check replay-remove-gw2 rst_kick 2 7
check replay-gw2-gone rst_wait "$T_JOIN" rst_table_is 7 1 3
rst_daemon_stop gw2
check replay-mesh-without-gw2 rst_wait_mesh "$T_JOIN" 7 1 3
mapfile -t FRAMES < <(captured ul2 '.dir == "out" and .dst == "192.0.2.1" and .dport == 51800' frame)
ktap_diag "re-sending ${#FRAMES[@]} captured WireGuard frames gw2 -> manager"
snap_take
[[ ${#FRAMES[@]} -eq 0 ]] || check replay-underlay-frames-sent rst_inject gw2 frames eth0 "${FRAMES[@]}"
check replay-underlay-frames unchanged
check replay-underlay-frames-captured test "${#FRAMES[@]}" -gt 0

# ---- replay: the exact plaintext JOIN_REQs through the tunnel
snap_take
m=$(rst_log_lines mgr)
rst_in gw2 ss -uanp 2>/dev/null | grep -F ":${J2SPORT:-851}" | ktap_indent
check replay-in-tunnel-stale-session-sent rst_inject gw2 send --from "10.255.0.12:${J2SPORT:-851}" --to 10.255.0.1:851 "$J2"
check replay-in-tunnel-stale-session unchanged
check replay-in-tunnel-stale-session-logged rst_wait 10 logged mgr "$m" 'ignoring JOIN_REQ from 10.255.0.12.*earlier session'
not_member 7 10.255.0.12 >/dev/null || rst_kick 2 7
snap_take
check replay-in-tunnel-duplicate-sent rst_inject gw2 send --from "10.255.0.12:${J2SPORT:-851}" --to 10.255.0.1:851 "$J2B"
check replay-in-tunnel-duplicate unchanged
# undo a successful replay so that the checks below stay independent
not_member 7 10.255.0.12 >/dev/null || rst_kick 2 7

# ---- garbage
snap_take
m=$(rst_log_lines mgr)
g1=$(rst_log_lines gw1)
check garbage-in-tunnel-to-manager-sent rst_inject gw1 garbage --from 10.255.0.11 --to 10.255.0.1:851 40
check garbage-in-tunnel-to-manager unchanged
check garbage-in-tunnel-logged rst_wait 10 logged mgr "$m" 'warn: ignoring'
check garbage-in-tunnel-to-gw1-sent rst_inject mgr garbage --from 10.255.0.1 --to 10.255.0.11:851 40
check garbage-in-tunnel-to-gw1 test "$(sleep 1; rst_wg_peers 1 7)" == "$(rst_expected_peers 1 7)"
check garbage-to-gw1-logged rst_wait 10 logged gw1 "$g1" 'warn: ignoring'
m=$(rst_log_lines mgr)
check garbage-underlay-sent eval 'rst_inject evil garbage --from 192.0.2.66 --to 192.0.2.1:851 20 &&
	rst_inject evil garbage --from 192.0.2.66 --to 192.0.2.1:51800 20 &&
	rst_inject evil garbage --from 10.255.0.12 --to 10.255.0.1:851 20'
check garbage-underlay unchanged
check garbage-daemons-alive rst_all_alive mgr gw1 gw3
check garbage-mesh-intact rst_mesh_ok 7 1 3

# ---- prefix theft: gw4 also claims half of gw1's site
peers3=$(rst_wg_peers 3 7)
snap_take
m=$(rst_log_lines mgr)
echo "prefix = 10.1.0.128/25" >>"$(rst_conf gw4)"   # [vpn 7] is the last section
check prefix-theft-gw4-starts rst_gw_start 4
# 6.12 formats the refusal; 6.1's fixed text leaves the holder to the
# extack cookie, which the manager names alone
KERNEL_TEXT=1
[[ $(uname -r) != 6.1.* ]] || KERNEL_TEXT=
if [[ -n $KERNEL_TEXT ]]; then
	THEFT='prefix 10.1.0.128/25 overlaps 10.1.0.0/24 of member 10.255.0.11'
else
	THEFT='prefix overlaps a prefix of member 10.255.0.11'
fi
check prefix-theft-refused-manager rst_wait 20 logged mgr "$m" "JOIN_REQ from 10.255.0.14 for vpn 7 refused: $THEFT\$"
check prefix-theft-error-gw4 rst_wait 20 logged gw4 0 "error: vpn 7: the manager refused to join us: $THEFT \\(Address already in use\\)"
check prefix-theft-table-unchanged unchanged
check prefix-theft-gw3-peers-unchanged test "$(rst_wg_peers 3 7)" == "$peers3"
rst_daemon_stop gw4
sed -i '/^prefix = 10.1.0.128\/25$/d' "$(rst_conf gw4)"

# ---- prefix race: gw2 (removed above, daemon stopped) and gw4 (not a
# member) claim the same prefix at the same time
# queued N: gwN has logged its JOIN_REQ, after line MARK[N] of its log
declare -A MARK=()
queued() { rst_log_since "gw$1" "${MARK[$1]}" | grep -q 'info: vpn 7: JOIN_REQ'; }
# race_result: one of gw2 and gw4 is a member holding 10.9.0.0/24, the
# other is not a member; RACE_WINNER/RACE_LOSER = their numbers
race_result() {
	local m holders
	m=$(rst_members 7)
	holders=$(grep -F 10.9.0.0/24 <<<"$m" | awk '{ print $1 }' | xargs)
	case $holders in
	10.255.0.12) RACE_WINNER=2 RACE_LOSER=4 ;;
	10.255.0.14) RACE_WINNER=4 RACE_LOSER=2 ;;
	*) echo "  10.9.0.0/24 held by '$holders', want exactly one of gw2, gw4"; return 1 ;;
	esac
	not_member 7 "$(rst_gw_id "$RACE_LOSER")"
}
RACE_WINNER='' RACE_LOSER=''
for n in 2 4; do echo "prefix = 10.9.0.0/24" >>"$(rst_conf "gw$n")"; done
m=$(rst_log_lines mgr)
kill -STOP "${RST_PID[mgr]}"
for n in 2 4; do
	MARK[$n]=$(rst_log_lines "gw$n")
	check "prefix-race-gw$n-starts" rst_gw_start "$n"
done
check prefix-race-both-sent rst_wait 20 eval 'queued 2 && queued 4'
sleep 1   # through the tunnels into the stopped manager's socket
kill -CONT "${RST_PID[mgr]}"
check prefix-race-one-holder rst_wait 20 race_result
race_result >/dev/null
ktap_diag "prefix race: gw${RACE_WINNER:-?} won"
if [[ -n $RACE_WINNER ]]; then
	race_text='prefix overlaps a prefix'
	[[ -z $KERNEL_TEXT ]] || race_text='prefix 10.9.0.0/24 overlaps 10.9.0.0/24'
	check prefix-race-refused-manager rst_wait 20 logged mgr "$m" "JOIN_REQ from $(rst_gw_id "$RACE_LOSER") for vpn 7 refused: $race_text of member $(rst_gw_id "$RACE_WINNER")\$"
	check prefix-race-error-loser rst_wait 20 logged "gw$RACE_LOSER" "${MARK[$RACE_LOSER]}" 'error: vpn 7: the manager refused to join us: .*\(Address already in use\)'
fi
check prefix-race-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3 4
check prefix-race-daemons-alive rst_all_alive mgr gw1 gw2 gw3 gw4
for n in 2 4; do
	rst_daemon_stop "gw$n"
	sed -i '/^prefix = 10.9.0.0\/24$/d' "$(rst_conf "gw$n")"
done
[[ -z $RACE_WINNER ]] || rst_kick "$RACE_WINNER" 7
not_member 7 10.255.0.12 >/dev/null || rst_kick 2 7
not_member 7 10.255.0.14 >/dev/null || rst_kick 4 7

# ---- the system still works
check still-works-gw4-joins rst_gw_start 4
check still-works-table rst_wait "$T_JOIN" rst_table_is 7 1 3 4
check still-works-mesh rst_wait_mesh "$T_JOIN" 7 1 3 4
check still-works-ping rst_ping_all 1 3 4

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "security.sh: $((SECONDS - RST_T0)) s"
ktap_finish
