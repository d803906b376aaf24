#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Eviction for good: the stolen-gateway story (topology in
# tests/rosterd/lib.sh; the manager and gw1, gw2, gw3 in VPN 7).
#
#   stolen        gw3's host is stolen. `rosterd revoke --id 10.255.0.13`
#                 on the running manager: it says what it revoked (gw3's
#                 key) and where from (vpn 7); gw3 leaves the table at once,
#                 the manager logs its REMOVE ("left (admin)"), its key
#                 leaves the manager's rctl0, the store holds no gateway
#                 10.255.0.13 and records its key as revoked, and gw1 and
#                 gw2 drop their peer and route for it (wg show, ip route;
#                 their own roster.ko tables too).
#   thief         the thief restarts gw3's daemon: refused (nothing comes
#                 back through its control tunnel), it never re-joins, and
#                 it appears nowhere: not in the table, not on rctl0, not in
#                 the store, not among the invitations, no member's peer.
#                 Its LAN reaches no site.
#   manager-down  gw2 is revoked while the manager is stopped: roster.ko and
#                 rctl0 lose it at once. Its record is then put back into
#                 roster.ko by hand, as a table restored from an older store
#                 would have it; the manager, started, evicts it (not
#                 enrolled, key revoked) and gw1 drops its peer.
#   invitation    a pending invitation is listed by `rosterd invites` (text,
#                 and -j checked with python3's json), revoked, then listed
#                 nowhere and gone from rctl0.
#   fresh-key     gw3's id invited again: the stolen host, resuming with its
#                 old (revoked) key, is refused with "the key is revoked";
#                 a redeem with a fresh key enrols, and gw3 joins VPN 7
#                 again under its new key.
#   floor         how long the revoke took to reach gw1 (its peer for gw3
#                 gone, watched every 20 ms), against the same removal made
#                 with `roster member leave ... reason admin` on the manager:
#                 one REMOVE without the store transaction and rctl0 work
#                 (a diagnostic line with both and their ratio).
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin evict
check() { rst_check "$@"; }

st() { echo "$RST_DIR/gw$1/state"; }
mgr_rosterd() { rst_in mgr "$ROSTERD" "$@" --config "$(rst_conf mgr)"; }
logged() { rst_log_since "$1" "$2" | grep -q -- "$3"; }
# the private key of gwN's identity file F, as its public key
pubkey_of() { sed -n 's/^private-key //p' "$(st "$1")/$2" | wg pubkey; }
# the manager's rctl0 has a peer with key KEY
ctl_peer() { rst_in mgr wg show rctl0 peers | grep -qxF -- "$1"; }
no_ctl_peer() {
	! ctl_peer "$1" || { echo "  the manager's rctl0 still has peer $1"; return 1; }
}
# the store, read with sqlite3 (not with rosterd's code): rows of TABLE
# whose id is gwN's (10.255.0.(10+N), 4 bytes)
store_rows() {
	sqlite3 -readonly "$RST_DIR/mgr/state/roster.db" \
		"SELECT count(*) FROM $1 WHERE hex(id) = '$(printf '0AFF00%02X' $((10 + $2)))'"
}
# gwN's rctl0 received bytes (from the manager)
ctl_rx() { rst_in "gw$1" wg show rctl0 transfer | awk '{ s += $2 } END { print s + 0 }'; }
# check runs its command with standard input from /dev/null: TEXT as an argument
has() { grep -qF -- "$2" <<<"$1" || { echo "  no '$2' in: $1"; return 1; }; }
# How long a removal takes to reach a member: gone_start NAME KEY starts a
# watcher (build/bench/wg-watch, CLOCK_MONOTONIC) waiting for KEY to leave
# gw1's rvpn7 and notes the time; gone_ms NAME prints the milliseconds from
# that time to the first query that found it gone.
gone_start() {
	local i
	"$RST_WG_WATCH" key -g -t 30 -i 20 rvpn7 "$2" "$RST_P-gw1" >"$RST_DIR/gone-$1.out" 2>&1 &
	RST_PID[watch-gone-$1]=$!
	for ((i = 0; i < 50; i++)); do
		grep -q '^start ' "$RST_DIR/gone-$1.out" && break
		sleep 0.1
	done
	"$RST_WG_WATCH" now >"$RST_DIR/gone-$1.t0"
}
gone_ms() {
	local i
	# polled, not waited for: this runs in a command substitution, whose
	# shell cannot wait for its parent's children
	for ((i = 0; i < 300; i++)); do
		grep -q '^last ' "$RST_DIR/gone-$1.out" && break
		sleep 0.1
	done
	awk -v t0="$(cat "$RST_DIR/gone-$1.t0")" '$1 == "last" { printf "%d\n", ($2 - t0) * 1000 }' \
		"$RST_DIR/gone-$1.out"
}
said() {
	grep -qxF -- "$2" <<<"$1" && return 0
	echo "  no line '$2' in:"
	while read -r l; do echo "    $l"; done <<<"$1"
	return 1
}

check topology rst_topology 3
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
for n in 1 2 3; do
	check "enrol-gw$n" rst_enrol "$n" 7
done
check all-join rst_wait "$T_JOIN" rst_table_is 7 1 2 3
check mesh rst_wait_mesh 30 7 1 2 3
check ping-3-1 rst_ping 3 1
key3=$(pubkey_of 3 identity)
key2=$(pubkey_of 2 identity)
check keys-known test -n "$key3" -a -n "$key2"

# ---- stolen: revoked on the running manager
m=$(rst_log_lines mgr)
gone_start revoke "$key3"
res=$(mgr_rosterd revoke --id "$(rst_gw_id 3)" 2>&1)
rc=$?
printf '%s\n' "$res" >>"$RST_DIR/revoke.log"
check stolen-revoke-exit-0 test "$rc" -eq 0
check stolen-revoke-names-key said "$res" "revoked gateway $(rst_gw_id 3) key $key3"
check stolen-revoke-names-vpn said "$res" "removed $(rst_gw_id 3) from vpn 7 (reason admin)"
check stolen-out-of-table rst_table_is 7 1 2
check stolen-off-rctl0 no_ctl_peer "$key3"
check stolen-not-in-store test "$(store_rows gateways 3)" = 0
check stolen-key-recorded-revoked test "$(store_rows revoked 3)" = 1
check stolen-remove-fanned-out rst_wait 10 logged mgr "$m" "$(rst_gw_id 3) left (admin)"
check stolen-members-drop-peer rst_wait_mesh 20 7 1 2
check stolen-no-tunnel-to-gw3 rst_no_tunnel_to "$key3" 3 7 1 2
check stolen-member-tables rst_wait_mirrors 20 7 1 2
revoke_ms=$(gone_ms revoke)
check stolen-latency-measured test -n "$revoke_ms"

# ---- thief: gw3's daemon restarted
rst_daemon_stop gw3
m=$(rst_log_lines mgr)
check thief-restarts rst_gw_start 3
rx0=$(ctl_rx 3)
# a gateway joins at start: enrolled, it would be back in under 2 s
sleep 6
check thief-alive rst_all_alive gw3
check thief-nothing-back test "$(ctl_rx 3)" = "$rx0"
check thief-not-rejoined rst_table_is 7 1 2
thief_joined() { rst_log_since mgr "$m" | grep -E "$(rst_gw_id 3) (re-)?joins vpn"; }
check thief-never-joined test -z "$(thief_joined)"
check thief-off-rctl0 no_ctl_peer "$key3"
check thief-not-in-store test "$(store_rows gateways 3)" = 0 -a "$(store_rows invites 3)" = 0
check thief-not-invited test "$(mgr_rosterd invites -j | jq length)" = 0
check thief-no-member-peer rst_mesh_ok 7 1 2
check thief-no-tunnel rst_no_tunnel_to "$key3" 3 7 1 2
check thief-reaches-no-site rst_no_ping 3 1

# ---- manager-down: gw2 revoked with the manager stopped
rst_daemon_stop mgr
res=$(mgr_rosterd revoke --id "$(rst_gw_id 2)" 2>&1)
rc=$?
printf '%s\n' "$res" >>"$RST_DIR/revoke.log"
check manager-down-revoke-exit-0 test "$rc" -eq 0
check manager-down-revoke-names-vpn said "$res" "removed $(rst_gw_id 2) from vpn 7 (reason admin)"
check manager-down-out-of-table rst_table_is 7 1
check manager-down-off-rctl0 no_ctl_peer "$key2"
# back in roster.ko, as a table restored from a store older than the revoke
check manager-down-stale-record rst_in mgr "$ROSTER_CLI" member add vpn 7 id "$(rst_gw_id 2)" \
	key "$key2" endpoint "$(rst_gw_ip 2):$(rst_vpn_port 7)" allowed 10.2.0.0/24
check manager-down-stale-table rst_table_is 7 1 2
m=$(rst_log_lines mgr)
check manager-down-manager-starts rst_mgr_start
check manager-down-evicted rst_wait 20 logged mgr "$m" "vpn 7: evicted $(rst_gw_id 2): not enrolled, and its key $key2 is revoked"
check manager-down-table rst_wait 10 rst_table_is 7 1
check manager-down-gw1-drops-peer rst_wait_mesh 30 7 1
check manager-down-no-tunnel rst_no_tunnel_to "$key2" 2 7 1

# ---- invitation: listed, revoked, gone
inv_id=10.255.0.20
tok=$(mgr_rosterd invite --id "$inv_id" --vpn 7 --prefix 10.20.0.0/24 --ttl 600 2>>"$RST_DIR/invite.log")
check invitation-token test -n "$tok"
inv_json=$(mgr_rosterd invites -j 2>&1)
printf '%s\n' "$inv_json" >>"$RST_DIR/invites.log"
inv_key=$(python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert len(v) == 1, v
i = v[0]
assert set(i) == {"id", "key", "vpns", "prefixes", "expiry", "expires_in"}, i
assert (i["id"], i["vpns"], i["prefixes"]) == (sys.argv[2], [7], ["10.20.0.0/24"]), i
assert 590 <= i["expires_in"] <= 600 and abs(i["expiry"] - i["expires_in"] - int(sys.argv[3])) <= 5, i
print(i["key"])' "$inv_json" "$inv_id" "$(date +%s)")
check invitation-listed-json test -n "$inv_key"
inv_text=$(mgr_rosterd invites 2>&1)
check invitation-listed-text said "$inv_text" "invitation: $inv_id"
check invitation-listed-text-key said "$inv_text" "  key: $inv_key"
check invitation-on-rctl0 rst_wait 10 ctl_peer "$inv_key"
res=$(mgr_rosterd revoke --id "$inv_id" 2>&1)
rc=$?
printf '%s\n' "$res" >>"$RST_DIR/revoke.log"
check invitation-revoke-exit-0 test "$rc" -eq 0
check invitation-revoke-names-key said "$res" "revoked invitation $inv_id key $inv_key"
check invitation-not-listed test "$(mgr_rosterd invites -j | jq length)" = 0
check invitation-not-listed-text test -z "$(mgr_rosterd invites)"
check invitation-off-rctl0 no_ctl_peer "$inv_key"
res=$(mgr_rosterd revoke --id "$inv_id" 2>&1)
rc=$?
check invitation-revoke-again-exit-1 test "$rc" -eq 1

# ---- fresh-key: gw3's id invited again
tok3=$(rst_invite 3 7)
check fresh-key-invited test -n "$tok3"
rst_daemon_stop gw3
# the stolen host's state, as a redeem that would resume with its key
mv "$(st 3)/identity" "$(st 3)/identity.pending"
rst_in gw3 ip link del rctl0
m=$(rst_log_lines mgr)
res=$(printf '%s\n' "$tok3" | rst_in gw3 "$ROSTERD" redeem --config "$(rst_conf gw3)" - 2>&1)
rc=$?
printf '%s\n' "$res" >>"$RST_DIR/gw3.redeem.log"
check fresh-key-old-key-refused test "$rc" -eq 1
check fresh-key-old-key-says-why has "$res" "the manager refused the enrolment: the key is revoked"
check fresh-key-manager-logs logged mgr "$m" "ENROLL from $(rst_gw_id 3) refused: its key is revoked"
check fresh-key-not-enrolled test "$(store_rows gateways 3)" = 0
rm -f "$(st 3)/identity.pending"
check fresh-key-redeems rst_redeem 3 "$tok3"
key3new=$(pubkey_of 3 identity)
check fresh-key-is-new test -n "$key3new" -a "$key3new" != "$key3"
check fresh-key-gw3-starts rst_gw_start 3
check fresh-key-gw3-joins rst_wait "$T_JOIN" rst_table_is 7 1 3
check fresh-key-mesh rst_wait_mesh 30 7 1 3
check fresh-key-ping rst_ping 1 3
no_peer_key() {
	rst_wg_dump "$3" "$2"
	[[ $'\n'$RST_WG_PEERS != *$'\n'"$1 "* ]] || { echo "  gw$3 rvpn$2 has a peer $1"; return 1; }
}
check fresh-key-old-key-nowhere no_peer_key "$key3" 7 1

# ---- the floor: the same removal reaching gw1, made by hand (not for good)
gone_start kick "$key3new"
rst_kick 3 7
kick_ms=$(gone_ms kick)
check floor-latency-measured test -n "$kick_ms"
if [[ -n $revoke_ms && -n $kick_ms ]]; then
	ktap_diag "revoke -> gw1 drops the peer: $revoke_ms ms; roster member leave (admin) -> gw1 drops it: $kick_ms ms (floor); ratio $(awk -v a="$revoke_ms" -v b="$kick_ms" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
fi
check daemons-alive rst_all_alive mgr gw1 gw3

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "evict.sh: $((SECONDS - RST_T0)) s"
ktap_finish
