#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `rosterd status [-j]` on the manager and on a gateway (topology in
# tests/rosterd/lib.sh), every value checked against its source:
#
#   manager: role leader, its pid; VPN 7's generation and member count as
#   roster.ko has them (`roster -j vpn show`); each gateway's key (its
#   `wg show rctl0 public-key`), VPNs, last seen (between its enrolment
#   and now), this manager, and its endpoint (the manager's `wg show
#   rctl0 endpoints`); pending invitations as invited.
#   gateway: its id and key, its manager in use with rctl0's handshake and
#   transfer, VPN 7's generation (its own roster.ko), and each peer's
#   key, member id, allowed ips, handshake and transfer against `wg show
#   rvpn7 dump` taken before and after.
#
# The control socket is STATE_DIR/control.sock, mode 0600, and another
# user cannot use it. With the daemons stopped, status reads the state:
# the same VPNs, gateways, keys and peers, "running": false, and for the
# manager role "stopped" and last-seen times that were kept. Text and
# -j come from one document: the text shows the JSON's values.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_check / rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin status
check() { rst_check "$@"; }

# st NODE [-j]: rosterd status on NODE (mgr or gwN) with its config.
st() { rst_in "$1" "$ROSTERD" status --config "$(rst_conf "$1")" "${@:2}"; }

# sj NODE FILE: the JSON document into FILE, parsed once by jq (valid JSON).
sj() { st "$1" -j >"$2" && jq -e . "$2" >/dev/null; }

# jq_is FILE FILTER WANT: the filter's raw value is WANT (both printed if not).
jq_is() {
	local have
	have=$(jq -r "$2" "$1") || return 1
	[[ $have == "$3" ]] || { echo "  $2: '$have', want '$3'"; return 1; }
}

check topology rst_topology 2
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
T_ENROL=$(date +%s)
check gw1-enrols rst_enrol 1 7
check gw2-enrols rst_enrol 2 7
check mesh rst_wait_mesh "$T_JOIN" 7 1 2
check ping rst_ping_all 1 2
# A pending invitation (never redeemed) for gw3.
check invite-pending test -n "$(rst_invite 3 7)"

S=$RST_DIR/status
mkdir -p "$S"

# ---- the manager, running ----
sock_root_only() {
	local f=$RST_DIR/mgr/state/control.sock
	[[ -S $f ]] || { echo "  no socket $f"; return 1; }
	[[ $(stat -c %a "$f") == 600 && $(stat -c %u "$f") == 0 ]] ||
		{ echo "  $f: mode $(stat -c %a "$f") owner $(stat -c %u "$f")"; return 1; }
	# another user: refused (the state-dir is 0700, the socket 0600;
	# SO_PEERCRED is checked by tests/status-test)
	chmod 0755 "$RST_DIR" "$RST_DIR/mgr" "$RST_DIR/mgr/state"
	setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
    s.sendall(b"status\n")
    sys.exit("answered: %r" % s.recv(100))
except PermissionError:
    pass' "$f"
	local rc=$?
	chmod 0700 "$RST_DIR/mgr/state"
	return $rc
}
check mgr-socket-root-only sock_root_only

mgr_live() {
	local f=$S/mgr.json gen cnt n id key ep pid=${RST_PID[mgr]} now rc=0
	sj mgr "$f" || return 1
	jq_is "$f" .daemon manager || rc=1
	jq_is "$f" .role leader || rc=1
	jq_is "$f" .running true || rc=1
	jq_is "$f" .pid "$pid" || rc=1
	jq_is "$f" .control_address "$RST_MGR_CTL" || rc=1
	jq_is "$f" .public_key "$(rst_in mgr wg show rctl0 public-key)" || rc=1
	jq_is "$f" .pending_invitations 1 || rc=1
	read -r gen cnt < <(rst_in mgr "$ROSTER_CLI" -j vpn show |
		jq -r '.[] | select(.vpn_id == 7) | "\(.generation) \(.member_count)"')
	jq_is "$f" '.vpns | length' 1 || rc=1
	jq_is "$f" '.vpns[0] | "\(.id) \(.generation) \(.members)"' "7 $gen $cnt" || rc=1
	jq_is "$f" '.gateways | map(.id) | join(" ")' "$(rst_gw_id 1) $(rst_gw_id 2)" || rc=1
	now=$(date +%s)
	for n in 1 2; do
		id=$(rst_gw_id "$n")
		key=$(rst_in "gw$n" wg show rctl0 public-key)
		ep=$(rst_in mgr wg show rctl0 endpoints | awk -v k="$key" '$1 == k { sub(/:[0-9]+$/, "", $2); print $2 }')
		jq_is "$f" ".gateways[] | select(.id == \"$id\") | \"\(.public_key) \(.vpns) \(.joined) \(.manager) \(.endpoint)\"" \
			"$key [7] [7] $RST_MGR_CTL $ep" || rc=1
		[[ $ep == "$(rst_gw_ip "$n")" ]] || { echo "  rctl0 endpoint of gw$n: $ep"; rc=1; }
		jq -e --argjson lo "$T_ENROL" --argjson hi "$now" \
			".gateways[] | select(.id == \"$id\") | .last_seen >= \$lo and .last_seen <= \$hi" "$f" >/dev/null ||
			{ echo "  gw$n last_seen $(jq ".gateways[] | select(.id == \"$id\") | .last_seen" "$f") not in [$T_ENROL, $now]"; rc=1; }
	done
	return $rc
}
# the invitation reaches the daemon's index at its next store poll (1 s)
wait_then() { rst_wait 5 "$@" || "$@"; }
check mgr-status-json wait_then mgr_live

# has_lines TEXT LINE...: every LINE is a line of TEXT (indentation aside).
has_lines() {
	local t rc=0 v
	t=$(sed 's/^ *//' <<<"$1")
	shift
	for v in "$@"; do
		grep -qxF "$v" <<<"$t" || { echo "  no line '$v'"; rc=1; }
	done
	return $rc
}

# The text is the same document: every value of the JSON is in it.
mgr_text() {
	local t rc=0
	t=$(st mgr) || return 1
	printf '%s\n' "$t" >"$S/mgr.txt"
	has_lines "$t" \
		"role: leader" "daemon: running, pid ${RST_PID[mgr]}" \
		"pending invitations: 1" "vpn: 7" \
		"generation: $(jq -r '.vpns[0].generation' "$S/mgr.json")" \
		"members: 2" "gateway: $(rst_gw_id 1)" "gateway: $(rst_gw_id 2)" \
		"endpoint: $(rst_gw_ip 1)" "manager: $RST_MGR_CTL (this one)" \
		"public key: $(jq -r '.gateways[0].public_key' "$S/mgr.json")" || rc=1
	grep -q '^  last seen: .* ago$\|^  last seen: now$' <<<"$t" || { echo "  no last seen"; rc=1; }
	((rc == 0)) || sed 's/^/    /' <<<"$t"
	return $rc
}
check mgr-status-text mgr_text

# ---- a gateway, running ----
# dump_peer N KEY: "handshake rx tx allowed" of KEY in gwN's rvpn7 dump.
dump_peer() {
	rst_in "gw$1" wg show rvpn7 dump | awk -F'\t' -v k="$2" 'NR > 1 && $1 == k { print $5, $6, $7, $4 }'
}
gw_live() {
	local f=$S/gw1.json k2 gen hb rb tb ha ra ta allowed rc=0 sh sr stt
	k2=$(rst_wg_pubkey 2 7)
	read -r hb rb tb allowed < <(dump_peer 1 "$k2")
	sj gw1 "$f" || return 1
	read -r ha ra ta allowed < <(dump_peer 1 "$k2")
	jq_is "$f" .daemon gateway || rc=1
	jq_is "$f" .running true || rc=1
	jq_is "$f" .pid "${RST_PID[gw1]}" || rc=1
	jq_is "$f" .id "$(rst_gw_id 1)" || rc=1
	jq_is "$f" .public_key "$(rst_in gw1 wg show rctl0 public-key)" || rc=1
	jq_is "$f" .manager_in_use "$RST_MGR_CTL" || rc=1
	jq_is "$f" '.managers[0] | "\(.control_address) \(.in_use) \(.endpoint) \(.public_key)"' \
		"$RST_MGR_CTL true $RST_MGR_UNDERLAY:$RST_MGR_PORT $(rst_in mgr wg show rctl0 public-key)" || rc=1
	jq_is "$f" '.managers[0].latest_handshake' \
		"$(rst_in gw1 wg show rctl0 latest-handshakes | awk '{ print $2 }')" || rc=1
	gen=$(rst_in gw1 "$ROSTER_CLI" -j vpn show | jq -r '.[] | select(.vpn_id == 7) | .generation')
	jq_is "$f" '.vpns[0] | "\(.id) \(.interface) \(.joined) \(.generation) \(.members)"' \
		"7 rvpn7 true $gen 2" || rc=1
	jq_is "$f" '.vpns[0].peers | length' 1 || rc=1
	jq_is "$f" '.vpns[0].peers[0] | "\(.public_key) \(.id) \(.endpoint) \(.allowed_ips | join(","))"' \
		"$k2 $(rst_gw_id 2) $(rst_gw_ip 2):$(rst_vpn_port 7) $allowed" || rc=1
	read -r sh sr stt < <(jq -r '.vpns[0].peers[0] | "\(.latest_handshake) \(.transfer_rx) \(.transfer_tx)"' "$f")
	# between the dumps taken before and after
	((hb <= sh && sh <= ha && rb <= sr && sr <= ra && tb <= stt && stt <= ta && sh > 0 && sr > 0)) ||
		{ echo "  peer handshake/rx/tx $sh $sr $stt not within $hb..$ha $rb..$ra $tb..$ta"; rc=1; }
	return $rc
}
check gw1-status-json gw_live

gw_text() {
	local t rc=0
	t=$(st gw1) || return 1
	printf '%s\n' "$t" >"$S/gw1.txt"
	has_lines "$t" "gateway: $(rst_gw_id 1)" "daemon: running, pid ${RST_PID[gw1]}" \
		"manager: $RST_MGR_CTL (in use)" "vpn: 7" "joined: yes" \
		"generation: $(jq -r '.vpns[0].generation' "$S/gw1.json")" \
		"peer: $(rst_wg_pubkey 2 7)" "member: $(rst_gw_id 2)" \
		"allowed ips: 10.2.0.0/24" || rc=1
	grep -qE '^    transfer: .* received, .* sent$' <<<"$t" || { echo "  no transfer line"; rc=1; }
	((rc == 0)) || sed 's/^/    /' <<<"$t"
	return $rc
}
check gw1-status-text gw_text

# ---- no daemon: the state ----
check gw1-stops rst_daemon_stop gw1
gw_offline() {
	local f=$S/gw1-off.json rc=0
	sj gw1 "$f" || return 1
	[[ ! -e $RST_DIR/gw1/state/control.sock ]] || { echo "  control.sock left behind"; rc=1; }
	jq_is "$f" '"\(.running) \(.pid)"' "false null" || rc=1
	# what the state says is what the daemon said (minus the moving parts)
	local strip='del(.running, .pid, .time) | .managers[] |= del(.latest_handshake, .transfer_rx, .transfer_tx) | .vpns[].peers[] |= del(.latest_handshake, .transfer_rx, .transfer_tx)'
	diff <(jq -S "$strip" "$S/gw1.json") <(jq -S "$strip" "$f") | sed 's/^/    /' || rc=1
	st gw1 | grep -qxF '  daemon: not running (read from the state)' || { echo "  text says it runs"; rc=1; }
	return $rc
}
check gw1-status-from-state gw_offline

check mgr-stops rst_daemon_stop mgr
mgr_offline() {
	local f=$S/mgr-off.json rc=0 id t0 t1
	sj mgr "$f" || return 1
	jq_is "$f" '"\(.role) \(.running) \(.pid)"' "stopped false null" || rc=1
	jq_is "$f" .pending_invitations 1 || rc=1
	diff <(jq -S '.vpns' "$S/mgr.json") <(jq -S '.vpns' "$f") | sed 's/^/    /' || rc=1
	diff <(jq -S '.gateways | map(del(.last_seen))' "$S/mgr.json") \
		<(jq -S '.gateways | map(del(.last_seen))' "$f") | sed 's/^/    /' || rc=1
	# the times the daemon heard were kept in the store (no going back)
	for id in "$(rst_gw_id 1)" "$(rst_gw_id 2)"; do
		t0=$(jq ".gateways[] | select(.id == \"$id\") | .last_seen" "$S/mgr.json")
		t1=$(jq ".gateways[] | select(.id == \"$id\") | .last_seen" "$f")
		((t1 >= t0 && t1 > 0)) || { echo "  $id last_seen $t1 < $t0 seen by the daemon"; rc=1; }
	done
	st mgr | grep -qxF '  role: stopped' || { echo "  text: no 'role: stopped'"; rc=1; }
	return $rc
}
check mgr-status-from-state mgr_offline

# bad input: a clear error, exit 2; and no config: exit 1
usage_err() {
	local rc
	st mgr -x >/dev/null 2>&1; rc=$?
	((rc == 2)) || { echo "  unknown option: exit $rc"; return 1; }
	"$ROSTERD" status --config "$RST_DIR/none.conf" >/dev/null 2>&1; rc=$?
	((rc == 1)) || { echo "  missing config: exit $rc"; return 1; }
	"$ROSTERD" invite -j --config "$(rst_conf mgr)" >/dev/null 2>&1; rc=$?
	((rc == 2)) || { echo "  -j on invite: exit $rc"; return 1; }
}
check status-usage-errors usage_err

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "status.sh: $((SECONDS - RST_T0)) s"
ktap_finish
