#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Key rotation (Documentation/operations.rst, "Rotating keys"), on the
# topology of tests/rosterd/lib.sh with three gateways in VPN 7:
#
#   (a) `rosterd rotate-key` on a running gateway: it reports the new key,
#       which is then gw1's key on rvpn7 and rctl0, the manager's rctl0
#       peer for gw1 and its VPN record, every member's peer (the old key
#       gone everywhere), and every table; traffic between the sites
#       stops for less than 2 s (a lost handshake would cost WireGuard's
#       5 s REKEY_TIMEOUT);
#   (b) a refused key (the old one, now revoked) is reported by the
#       command, exit 1, and changes nothing;
#   (c) without a daemon the key stays pending, and the next start
#       rotates to it (the same path as a crash before the announcement);
#   (d) key-lifetime rotates by itself.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait and rst_check
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin rotate
check() { rst_check "$@"; }

state() { echo "$RST_DIR/gw$1/state"; }
rotate_key() { rst_in "gw$1" "$ROSTERD" rotate-key --config "$(rst_conf "gw$1")" "${@:2}"; }
# The manager's rctl0 peer for gwN (the key whose allowed-ips is its id).
mgr_ctl_key() {
	rst_in mgr wg show rctl0 dump | awk -F'\t' -v a="$(rst_gw_id "$1")/32" 'NR > 1 && $4 == a { print $1 }'
}
# gwN's key in the manager's record of VPN 7.
mgr_vpn_key() { rst_members 7 | awk -v id="$(rst_gw_id "$1")" '$1 == id { print $2 }'; }
# key_is N KEY: gwN's key is KEY on rvpn7, its rctl0, the manager's rctl0
# and VPN record; no member has a peer with another key for gwN.
key_is() {
	local n=$1 k=$2 got rc=0 m
	got=$(rst_wg_pubkey "$n" 7)
	[[ $got == "$k" ]] || { echo "  gw$n rvpn7: $got"; rc=1; }
	got=$(rst_in "gw$n" wg show rctl0 public-key)
	[[ $got == "$k" ]] || { echo "  gw$n rctl0: $got"; rc=1; }
	got=$(mgr_ctl_key "$n")
	[[ $got == "$k" ]] || { echo "  manager rctl0 peer for gw$n: ${got:-none}"; rc=1; }
	got=$(mgr_vpn_key "$n")
	[[ $got == "$k" ]] || { echo "  manager vpn 7 record of gw$n: ${got:-none}"; rc=1; }
	for m in 1 2 3; do
		[[ $m != "$n" ]] || continue
		got=$(rst_in "gw$m" wg show rvpn7 dump | awk -F'\t' -v p="10.$n.0.0/24" 'NR > 1 && $4 == p { print $1 }')
		[[ $got == "$k" ]] || { echo "  gw$m's peer for site $n: ${got:-none}"; rc=1; }
	done
	return "$rc"
}
# nowhere KEY: no WireGuard interface of any node has KEY as a peer.
nowhere() {
	local node
	for node in mgr gw1 gw2 gw3; do
		if rst_in "$node" wg show all dump | awk -F'\t' 'NF > 5 { print $2 }' | grep -qxF "$1"; then
			echo "  $node still has a peer $1"
			return 1
		fi
	done
}
private_of() { awk '$1 == "private-key" { print $2 }' "$(state "$1")/identity"; }
has() { grep -qF -- "$1" <<<"$2" || { echo "  not in: $2"; return 1; }; }
has_re() { grep -qE -- "$1" <<<"$2" || { echo "  not in: $2"; return 1; }; }
settled() { rst_mesh_ok 7 1 2 3 && rst_mirrors_ok 7 1 2 3; }

check topology rst_topology 3
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
for n in 1 2 3; do
	check "gw$n-enrols" rst_enrol "$n" 7
done
check mesh rst_wait_mesh "$T_JOIN" 7 1 2 3
check tables rst_wait_mirrors "$T_JOIN" 7 1 2 3
check ping-all-pairs rst_ping_all 1 2 3

# ---- (a) rotate-key on a running gateway --------------------------------
old1=$(rst_wg_pubkey 1 7)
oldpriv1=$(private_of 1)
check key-before key_is 1 "$old1"
# lan1 pings lan2 every 20 ms through the rotation: gw1 switches first
# (on the ACK), so it is gw2 that must start the handshake, having no
# traffic of its own for gw1 while gw1's packets go unanswered.
pingout=$RST_DIR/ping-a.out
rst_in lan1 ping -n -D -i 0.02 -c 300 -W 1 "$(rst_lan_ip 2)" >"$pingout" 2>&1 &
pingpid=$!
sleep 1
res=$(rotate_key 1 2>&1)
rc=$?
ktap_diag "rotate-key: $(tr '\n' ' ' <<<"$res")"
check rotate-key-exit-0 test "$rc" -eq 0
new1=$(rst_wg_pubkey 1 7)
check rotate-key-reports-new-key has "public key: $new1" "$res"
check rotate-key-reports-old-key has "previous key: $old1" "$res"
check key-changed test "$new1" != "$old1"
check pending-file-gone test ! -e "$(state 1)/identity.next"
check key-everywhere rst_wait 10 key_is 1 "$new1"
key_is 1 "$new1" | sed 's/^/# /'
check old-key-nowhere nowhere "$old1"
check mesh-after-rotation rst_wait_mesh "$T_JOIN" 7 1 2 3
check tables-after-rotation rst_wait_mirrors "$T_JOIN" 7 1 2 3
wait "$pingpid"
# The longest time between two echo replies (ping -D stamps): WireGuard
# queues what it cannot send yet, so a stall shows there more than in the
# losses. A missed handshake would be 5 s (REKEY_TIMEOUT).
gap=$(awk '/icmp_seq=/ { t = substr($1, 2, length($1) - 2) + 0
	if (n++ && t - last > gap) gap = t - last; last = t } END { printf "%d", gap * 1000 }' "$pingout")
ktap_diag "lan1 -> lan2 during the rotation: $(grep 'packets transmitted' "$pingout"); longest gap $gap ms"
check rotation-gap-under-2s test "${gap:-99999}" -lt 2000
check ping-all-after-rotation rst_ping_all 1 2 3
check manager-logged grep -q "$(rst_gw_id 1) rotated its key to $new1" "$(rst_logfile mgr)"

# ---- (b) a refused key --------------------------------------------------
# gw1's old key is revoked; put it up as the next one. The daemon is held
# while the command starts, so that the command finds it pending (and
# waits for its fate) before the daemon announces it.
refused() {
	local out rc=0 pid=${RST_PID[gw1]}
	kill -STOP "$pid"
	printf 'private-key %s\n' "$oldpriv1" >"$(state 1)/identity.next"
	chmod 600 "$(state 1)/identity.next"
	rotate_key 1 --wait 20 >"$RST_DIR/refused.out" 2>&1 &
	local cmd=$!
	sleep 2
	kill -CONT "$pid"
	wait "$cmd" || rc=$?
	out=$(cat "$RST_DIR/refused.out")
	echo "# rotate-key: $(tr '\n' ' ' <<<"$out")"
	((rc == 1)) || { echo "  exit $rc, not 1"; return 1; }
	grep -q "refused the next key: the key was revoked" <<<"$out" || return 1
}
check revoked-key-refused refused
check refused-key-unchanged key_is 1 "$new1"
check refused-logged grep -q "ROTATE from $(rst_gw_id 1) refused: the key was revoked" "$(rst_logfile mgr)"
check refused-pending-gone test ! -e "$(state 1)/identity.next"
check refused-control-works rst_wait 10 settled

# ---- (c) no daemon: pending, done at the next start -----------------------
rst_daemon_stop gw1
res=$(rotate_key 1 2>&1)
rc=$?
ktap_diag "rotate-key: $(tr '\n' ' ' <<<"$res")"
check offline-exit-0 test "$rc" -eq 0
check offline-says-pending has_re "no rosterd gateway runs; the next key .* is pending" "$res"
pending=$(awk '$1 == "private-key" { print $2 }' "$(state 1)/identity.next" | wg pubkey)
check offline-pending-key-reported has "$pending" "$res"
check offline-key-unchanged test "$(rst_wg_pubkey 1 7)" = "$new1"
check gw1-restarts rst_gw_start 1
check offline-rotated-at-start rst_wait 20 key_is 1 "$pending"
check offline-old-key-nowhere nowhere "$new1"
check mesh-after-offline rst_wait_mesh "$T_JOIN" 7 1 2 3
check tables-after-offline rst_wait_mirrors "$T_JOIN" 7 1 2 3
check ping-after-offline rst_ping_all 1 2 3

# ---- (d) key-lifetime ---------------------------------------------------
old3=$(rst_wg_pubkey 3 7)
rst_daemon_stop gw3
sed -i 's/^\[gateway\]$/[gateway]\nkey-lifetime = 1m/' "$(rst_conf gw3)"
# a key born long ago: due at once
echo 1 >"$(state 3)/key-created"
check gw3-restarts rst_gw_start 3
lifetime_rotated() { [[ $(rst_wg_pubkey 3 7) != "$old3" ]] && key_is 3 "$(rst_wg_pubkey 3 7)"; }
check lifetime-rotates rst_wait 20 lifetime_rotated
check lifetime-logged grep -q "key-lifetime 60 s): rotating" "$(rst_logfile gw3)"
born=$(cat "$(state 3)/key-created")
check lifetime-born-now test $(($(date +%s) - born)) -lt 30
check mesh-after-lifetime rst_wait_mesh "$T_JOIN" 7 1 2 3
check ping-after-lifetime rst_ping_all 1 2 3

check daemons-alive rst_all_alive mgr gw1 gw2 gw3

((RST_FAILED == 0)) || rst_dump_logs 40
ktap_diag "rotate.sh: $((SECONDS - RST_T0)) s"
ktap_finish
