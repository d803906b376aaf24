#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rosterd end to end: several managers on one etcd cluster (issue #13).
# Topology: tests/rosterd/lib.sh, "several managers": m1 m2 m3, each with
# one member of a three-member etcd cluster and one `rosterd manager`
# with store = etcd on all three (name = mI, lease-ttl = 3 once rosterd
# knows those keys), six gateways with LANs, and obs, which reads etcd for
# the oracle.
#
# The oracle, at the end of every step: the store's VPN (read from etcd)
# has exactly the expected gateways, and every running manager's
# roster.ko, every gateway's roster.ko and every gateway's WireGuard peers
# (keys, endpoints, allowed-ips, routes) are that table, at the store's
# generation. It is tested itself first: a forged table must make every
# layer of it disagree. A watcher (wg-watch, every RST_WATCH_MS = 100 ms)
# samples every gateway's WireGuard peers during each case and fails it if
# a tunnel is removed that the case did not remove; it is tested too, on a
# scratch interface.
#
# Baseline (always): the etcd cluster forms; m1 starts on it (and leads,
# once managers campaign); six gateways enrol through `rosterd invite`
# run against m1's config and join VPN 7 (a full mesh; the lans ping each
# other); then every gateway also joins VPN 9 in a burst of restarts, and
# gw6 leaves VPN 9 again: no other tunnel goes.
#
# The failover cases run by default, on m1, m2 and m3 (RST_HA_CASES=0, or
# ROSTER_HA_CASES=0 through scripts/vm-run, runs only the baseline with one
# manager):
#   1. SIGKILL the leader's rosterd and its etcd member during a burst of
#      joins (every gateway joins VPN 9): every join a gateway was told of
#      is in the store, the rest complete through the new leader; the old
#      leader's etcd member and rosterd come back, and it follows.
#   4. A standby loses its kernel table (its VPNs deleted in its netns
#      while its daemon is stopped), restarts, reloads it from the store.
#   2. The leader's netns is cut off (eth0 down). The new leader removes
#      gw6 from VPN 9; the cut-off one removes gw5 from its own roster.ko.
#      After the heal: gw6 is gone, gw5 is not (the old leader committed
#      nothing, and told nobody), and the old leader follows.
#   5. etcd loses its quorum (two members SIGKILLed) for longer than the
#      lease; every manager's watch starts again once the quorum is
#      back (rosterd status says it runs); tunnels and the data plane
#      stay; after the return a leader
#      leads and gw6 leaves VPN 9 through it (`rosterd leave`).
#   3. Rolling restart of the three managers (TERM, start, one by one);
#      then gw6 joins VPN 9 again.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded:
#   scripts/vm-run --kernel 6.12 -- tests/vm-suite tests/rosterd/ha.sh
#   scripts/vm-run --kernel 6.12 -- env ROSTER_HA_CASES=0 tests/vm-suite tests/rosterd/ha.sh
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}      # seconds a change may take to reach everyone
T_FAIL=${RST_T_FAILOVER:-30}  # seconds a new leader may take
HA_CASES=${RST_HA_CASES:-${ROSTER_HA_CASES:-1}}
RST_WATCH_MS=${RST_WATCH_MS:-100}
TTL=3
GWS="1 2 3 4 5 6"  # for the oracle
GW=(1 2 3 4 5 6)     # the same, as words

rst_suite_begin ha
for tool in etcd curl base64; do
	if ! command -v "$tool" >/dev/null; then
		ktap_skip ha "$tool missing (scripts/install-deps)"
		ktap_finish
	fi
done

check() { rst_check "$@"; }
logged() { rst_log_since "$1" "$2" | grep -qE "$3"; }
# not_logged MARK REGEX NAME...: no line after MARK of the NAMEs' logs
# matches REGEX (those that do are printed).
not_logged() {
	local mark=$1 re=$2 n rc=0
	shift 2
	for n in "$@"; do
		! rst_log_since "$n" "$mark" | grep -E "$re" | sed "s/^/  $n: /" | grep . || rc=1
	done
	return "$rc"
}
etcd_up() {  # etcd_up SECS I...: the members are healthy within SECS
	local secs=$1
	shift
	rst_wait "$secs" rst_etcd_healthy "$@" || { rst_etcd_healthy "$@"; return 1; }
}
# Does this rosterd know [manager] name and lease-ttl? (Not before the
# managers campaign: the parser refuses unknown keys.)
knows_names() {
	local d=$RST_DIR/probe
	mkdir -p "$d/state"
	printf '[manager]\nendpoint = 192.0.2.1\nstate-dir = %s/state\nstore = etcd\netcd-endpoints = http://127.0.0.1:9\nname = probe\nlease-ttl = %s\n' \
		"$d" "$TTL" >"$d/c.conf"
	! "$ROSTERD" invites --config "$d/c.conf" 2>&1 | grep -q "unknown key"
}
leader() {  # the leading manager's number (nothing if none leads)
	local l
	l=$(rst_ha_leader) || return 1
	[[ $l == m[1-9] ]] || return 1
	echo "${l#m}"
}
leads() { [[ $(leader) == "$1" ]]; }
# watch_becomes I true|false: watch_is within 20 s (why not, if not).
watch_becomes() { rst_wait 20 watch_is "$@" || watch_is "$@"; }
# raft_apart I: etcd's raft leader is not member mI, as etcdctl (run from
# mI's netns) reads the member's own status ("IS LEADER", the 5th field).
raft_apart() {
	local out
	out=$(rst_in "m$1" etcdctl --endpoints "$(rst_etcd_url "$1")" endpoint status \
		-w simple 2>&1) || { echo "  etcdctl: $out"; return 1; }
	[[ $(cut -d, -f5 <<<"$out" | tr -d ' ') == false ]] || { echo "  m$1's member leads: $out"; return 1; }
}
# raft_to I: etcd's raft leadership onto member mI (etcdctl move-leader,
# which finds the current raft leader among the endpoints).
raft_to() {
	local id
	id=$(rst_in "m$1" etcdctl --endpoints "$(rst_etcd_url "$1")" endpoint status -w simple |
		cut -d, -f2 | tr -d ' ')
	rst_in "m$1" etcdctl --endpoints "$(rst_etcd_url 1),$(rst_etcd_url 2),$(rst_etcd_url 3)" \
		move-leader "$id"
}
# watch_is I true|false: mI's `rosterd status -j` (parsed by jq) says its
# store watch runs (at a revision) or not.
watch_is() {
	local j
	j=$(rst_in "m$1" "$ROSTERD" status --config "$(rst_conf "m$1")" -j 2>&1) ||
		{ echo "  m$1: status: $j"; return 1; }
	jq -e --argjson want "$2" \
		'.store_watch.live == $want and (.store_watch.revision | type) == "number" and
		 (.store_watch.revision > 0)' <<<"$j" >/dev/null && return 0
	echo "  m$1: store_watch $(jq -c .store_watch <<<"$j" 2>&1)"
	return 1
}
led_by_other() { local l; l=$(leader) && [[ $l != "$1" ]]; }
has_leader() { leader >/dev/null; }
others() {  # the managers but I
	local i out=()
	for ((i = 1; i <= RST_HA_NMGR; i++)); do ((i == $1)) || out+=("$i"); done
	echo "${out[*]}"
}
# gw_config N VPN...: gwN's config; VPN 9's prefix is 10.N.9.0/24 (VPN 7
# keeps 10.N.0.0/24, the lan: two VPNs cannot route one prefix).
gw_config() {
	local n=$1 f
	f=$(rst_conf "gw$n")
	shift
	rst_gw_config "$n" "$@"
	sed -i "/^interface = rvpn9\$/{n;s|^prefix = .*|prefix = 10.$n.9.0/24|}" "$f"
}
restart_gw() {  # restart_gw N VPN...: gwN's daemon restarts joining VPN...
	local n=$1
	gw_config "$@"
	rst_daemon_stop "gw$n"
	rst_gw_start "$n"
}

check topology rst_ha_topology 6
for i in 1 2 3; do
	check "etcd-m$i-starts" rst_etcd_start "$i"
done
t0=$SECONDS
check etcd-cluster-healthy etcd_up 60 1 2 3
ktap_diag "the etcd cluster formed in $((SECONDS - t0)) s"

named=0
if knows_names; then
	named=1
else
	ktap_diag "rosterd knows no [manager] name / lease-ttl yet: one manager, no leader key"
fi
if [[ $HA_CASES == 1 ]]; then
	MGRS="1 2 3"
else
	MGRS=1
fi
for i in 1 2 3; do
	if ((named)); then
		rst_ha_mgr_config "$i" "name=m$i" "lease-ttl=$TTL"
	else
		rst_ha_mgr_config "$i"
	fi
done

check m1-starts rst_ha_mgr_start 1
check m1-up rst_wait 30 logged m1 0 "manager up: "
if ((named)); then
	check m1-leads rst_wait "$T_FAIL" leads 1
	check m1-leader-logged rst_wait 10 logged m1 0 "leader: this manager \(m1\) now leads"
fi
if [[ $HA_CASES == 1 ]]; then
	for i in 2 3; do
		check "m$i-starts" rst_ha_mgr_start "$i"
		check "m$i-standby" rst_wait 30 logged "m$i" 0 "standby: "
		check "m$i-watches" rst_wait 10 logged "m$i" 0 "store: watching /"
		check "m$i-status-watch-live" watch_becomes "$i" true
	done
	check m1-still-leads leads 1
	# The leader keeps etcd's raft leader off its own host (etcd-move-leader).
	check raft-leader-onto-m1 raft_to 1
	check raft-leader-off-m1-again rst_wait 40 raft_apart 1
	rst_log_since m1 0 | grep -q "moved it to" &&
		ktap_diag "m1 moved etcd's raft leader off its host"
fi

# Enrolment through m1; every gateway may join VPNs 7 and 9.
t0=$SECONDS
enrol() { RST_INVITE_VPNS="7 9" rst_ha_enrol 1 "$1" 7; }
for n in "${GW[@]}"; do
	check "gw$n-enrols" enrol "$n"
done
check vpn7-oracle rst_wait_oracle "$T_JOIN" 7 "$GWS" "$MGRS" "$GWS"
ktap_diag "six gateways enrolled and VPN 7 converged in $((SECONDS - t0)) s"
rst_etcd_table 7 && ktap_diag "the store: vpn 7 at generation $RST_ETCD_GEN, $(wc -l <<<"$RST_ETCD_MEMBERS") members, e.g. $(head -n 1 <<<"$RST_ETCD_MEMBERS")"
check vpn7-ping rst_ping_all 1 3 6

# The oracle's own test: a table in which one member's key differs must
# make every manager's and every gateway's comparison fail.
oracle_catches() {
	local t out n i rc=0
	rst_etcd_table 7 || return 1
	[[ -n $RST_ETCD_MEMBERS ]] || { echo "  no members"; return 1; }
	t=$(awk 'NR == 1 { c = substr($2, 1, 1); $2 = (c == "A" ? "B" : "A") substr($2, 2) } { print }' \
		<<<"$RST_ETCD_MEMBERS")
	if out=$(RST_HA_TABLE=$t rst_ha_oracle 7 "$GWS" "$MGRS" "$GWS"); then
		echo "  the oracle agreed with a forged table"
		return 1
	fi
	for i in $MGRS; do
		[[ $out == *"m$i's roster.ko, vpn 7 (<"* ]] || { echo "  m$i's roster.ko not compared"; rc=1; }
	done
	for n in "${GW[@]}"; do
		[[ $out == *"gw$n's roster.ko, vpn 7"* ]] || { echo "  gw$n's roster.ko not compared"; rc=1; }
		[[ $out == *"gw$n rvpn7: "* ]] || { echo "  gw$n's peers not compared"; rc=1; }
	done
	((rc == 0)) || printf '%s\n' "$out"
	return "$rc"
}
check oracle-catches-a-forged-table oracle_catches

# The watcher's own test, on a scratch interface in lan1: two peers go,
# one of them expected; it must count both and fail on the other.
watcher_catches() {
	local k1 k2 out i
	k1=$(wg genkey | wg pubkey) k2=$(wg genkey | wg pubkey)
	rst_in lan1 ip link add wgtest type wireguard || return 1
	rst_in lan1 wg set wgtest peer "$k1" allowed-ips 10.98.0.0/24 peer "$k2" allowed-ips 10.99.0.0/24 || return 1
	rst_watch_start selftest lan1 || return 1
	rst_in lan1 wg set wgtest peer "$k1" remove
	sleep 0.3
	rst_in lan1 wg set wgtest peer "$k2" remove
	for ((i = 0; i < 50; i++)); do
		(($(rst_watch_removals selftest) >= 2)) && break
		sleep 0.1
	done
	rst_in lan1 ip link del wgtest
	if out=$(rst_watch_stop_except selftest "lan1 wgtest $k1"); then
		echo "  the watcher missed a removal:"
		printf '%s\n' "$out"
		return 1
	fi
	[[ $out == *"lan1 wgtest: peer $k2 removed"* && $out != *"peer $k1 removed"* &&
		$out == *"1 expected removal"* ]] || { printf '%s\n' "$out"; return 1; }
}
check watcher-catches-a-removal watcher_catches

if [[ $HA_CASES != 1 ]]; then
	# One manager: a burst of joins (every gateway restarts, joining VPN
	# 9 too), then gw6 leaves VPN 9. Nothing else loses a tunnel.
	check base-watcher-starts rst_watch_start base "${GW[@]}"
	t0=$SECONDS
	for n in "${GW[@]}"; do
		check "base-gw$n-joins-vpn9" restart_gw "$n" 7 9
	done
	check base-vpn9-oracle rst_wait_oracle "$T_JOIN" 9 "$GWS" "$MGRS" "$GWS"
	ktap_diag "the burst of six joins converged in $((SECONDS - t0)) s"
	check base-vpn7-oracle rst_ha_oracle 7 "$GWS" "$MGRS" "$GWS"
	key6=$(rst_wg_pubkey 6 9)
	check base-gw6-leaves-vpn9 rst_leave 6 9
	check base-vpn9-without-gw6 rst_wait_oracle "$T_JOIN" 9 "1 2 3 4 5" "$MGRS" "$GWS"
	check base-no-other-tunnel-removed rst_watch_stop_except base "gw[1-5] rvpn9 $key6" "gw6 rvpn9 *"
	ktap_skip ha-cases "the failover cases are off (RST_HA_CASES=0)"
else
	((named)) || ktap_diag "rosterd does not campaign yet (no name / lease-ttl): the cases fail"

	# 1. SIGKILL the leader (rosterd and its etcd member) during a burst
	L=$(leader) || L=1
	check c1-watcher-starts rst_watch_start c1 "${GW[@]}"
	t0=$SECONDS
	for n in "${GW[@]}"; do
		restart_gw "$n" 7 9
		if ((n == 3)); then
			rst_daemon_stop "m$L" KILL
			rst_etcd_stop "$L" KILL
			tk=$SECONDS
		fi
	done
	# What each gateway holds of VPN 9 now, it was told (by the old leader,
	# or already by the new one: the property holds for both).
	declare -A told_gen=() told=()
	rst_ha_tables 9 "${GW[@]/#/gw}"
	for n in "${GW[@]}"; do
		told_gen[$n]=${RST_HA_GEN[gw$n]:-0}
		told[$n]=$(cut -d' ' -f1 <<<"${RST_HA_MEMBERS[gw$n]:-}" | xargs)
	done
	check c1-new-leader rst_wait "$T_FAIL" led_by_other "$L"
	N=$(leader)
	ktap_diag "m${N:-?} leads $((SECONDS - tk)) s after m$L was killed"
	check c1-new-leader-logged rst_wait 10 logged "m${N:-0}" 0 "leader: this manager \(m${N:-0}\) now leads"
	check c1-joins-complete rst_wait_oracle "$T_JOIN" 9 "$GWS" "$(others "$L")" "$GWS"
	ktap_diag "the burst completed $((SECONDS - t0)) s after it began"
	holds_what_was_told() {
		local n id rc=0
		rst_etcd_table 9 || return 1
		for n in "${GW[@]}"; do
			if ((told_gen[$n] > RST_ETCD_GEN)); then
				echo "  gw$n was told generation ${told_gen[$n]}, the store has $RST_ETCD_GEN"
				rc=1
			fi
			for id in ${told[$n]}; do
				[[ $'\n'$RST_ETCD_MEMBERS == *$'\n'"$id "* ]] ||
					{ echo "  gw$n was told of $id, not in the store"; rc=1; }
			done
		done
		return "$rc"
	}
	check c1-store-holds-what-was-told holds_what_was_told
	ktap_diag "told generations: ${told_gen[*]}; the store is at $RST_ETCD_GEN"
	check c1-vpn7-intact rst_ha_oracle 7 "$GWS" "$(others "$L")" "$GWS"
	mark=$(rst_log_lines "m$L")
	check "c1-etcd-m$L-returns" rst_etcd_start "$L"
	check "c1-etcd-m$L-healthy" etcd_up 60 1 2 3
	check "c1-m$L-returns" rst_ha_mgr_start "$L"
	check "c1-m$L-standby" rst_wait 30 logged "m$L" "$mark" "standby: "
	check c1-vpn9-oracle rst_wait_oracle "$T_JOIN" 9 "$GWS" "1 2 3" "$GWS"
	check c1-vpn7-oracle rst_ha_oracle 7 "$GWS" "1 2 3" "$GWS"
	check c1-no-tunnel-removed rst_watch_stop c1

	# 4. a standby loses its kernel table
	L=$(leader) || L=1
	S=$(others "$L")
	S=${S%% *}
	check c4-watcher-starts rst_watch_start c4 "${GW[@]}"
	rst_daemon_stop "m$S"
	lose() {  # both VPNs go from mS's roster.ko (a standby's follow)
		local v
		for v in 7 9; do
			rst_in "m$S" "$ROSTER_CLI" vpn set "$v" nofollower
			rst_in "m$S" "$ROSTER_CLI" vpn del "$v"
		done
		rst_ha_tables 7 "m$S" && [[ -z ${RST_HA_GEN[m$S]} ]] &&
			rst_ha_tables 9 "m$S" && [[ -z ${RST_HA_GEN[m$S]} ]]
	}
	check "c4-m$S-table-lost" lose
	mark=$(rst_log_lines "m$S")
	check "c4-m$S-restarts" rst_ha_mgr_start "$S"
	check "c4-m$S-standby" rst_wait 30 logged "m$S" "$mark" "standby: "
	check c4-vpn7-oracle rst_wait_oracle 30 7 "$GWS" "1 2 3" "$GWS"
	check c4-vpn9-oracle rst_wait_oracle 30 9 "$GWS" "1 2 3" "$GWS"
	check "c4-m$L-still-leads" leads "$L"
	check c4-no-tunnel-removed rst_watch_stop c4

	# 2. partition the leader
	L=$(leader) || L=1
	key5=$(rst_wg_pubkey 5 9) key6=$(rst_wg_pubkey 6 9)
	check c2-watcher-starts rst_watch_start c2 "${GW[@]}"
	markL=$(rst_log_lines "m$L")
	ip -n "$RST_P-m$L" link set eth0 down
	RST_HA_DOWN[$L]=1
	tk=$SECONDS
	# At once, before it notices: the cut-off leader's roster.ko drops
	# gw5 (once it stands by, its follower VPNs refuse that change).
	if rst_in "m$L" "$ROSTER_CLI" member leave vpn 9 id "$(rst_gw_id 5)" reason admin 2>/dev/null; then
		ktap_diag "the cut-off m$L's roster.ko dropped gw5"
	else
		ktap_diag "the cut-off m$L's roster.ko refused to drop gw5 (it already stood by)"
	fi
	check c2-new-leader rst_wait "$T_FAIL" led_by_other "$L"
	N=$(leader) || N=0
	ktap_diag "m$N leads $((SECONDS - tk)) s after m$L was cut off"
	check "c2-m$N-removes-gw6" rst_in "m$N" "$ROSTER_CLI" member leave vpn 9 id "$(rst_gw_id 6)" reason admin
	check c2-change-applied rst_wait_oracle "$T_JOIN" 9 "1 2 3 4 5" "$(others "$L")" "$GWS"
	ip -n "$RST_P-m$L" link set eth0 up
	unset "RST_HA_DOWN[$L]"
	check c2-etcd-heals etcd_up 60 1 2 3
	check "c2-m$L-follows" rst_wait_oracle "$T_JOIN" 9 "1 2 3 4 5" "1 2 3" "$GWS"
	check "c2-m$L-standby" logged "m$L" "$markL" "standby: "
	check "c2-m$N-still-leads" leads "$N"
	check c2-vpn7-oracle rst_ha_oracle 7 "$GWS" "1 2 3" "$GWS"
	check c2-gw6-rejoins restart_gw 6 7 9
	check c2-vpn9-oracle rst_wait_oracle "$T_JOIN" 9 "$GWS" "1 2 3" "$GWS"
	# gw5's tunnels never went; gw6's in VPN 9 did (and came back)
	check c2-no-other-tunnel-removed rst_watch_stop_except c2 "gw[1-5] rvpn9 $key6" "gw6 rvpn9 *"
	[[ -n $key5 ]] || ktap_diag "gw5 had no rvpn9 key"

	# 5. etcd quorum loss and return
	L=$(leader) || L=1
	read -r A B <<<"$(others "$L")"
	check c5-watcher-starts rst_watch_start c5 "${GW[@]}"
	declare -A m5
	for i in 1 2 3; do m5[$i]=$(rst_log_lines "m$i"); done
	rst_etcd_stop "$A" KILL
	rst_etcd_stop "$B" KILL
	# longer than the lease: nobody can lead meanwhile
	sleep $((3 * TTL + 2))
	check c5-data-plane rst_ping_all 1 6
	check c5-daemons-alive rst_all_alive m1 m2 m3 gw1 gw2 gw3 gw4 gw5 gw6
	check "c5-etcd-m$A-returns" rst_etcd_start "$A"
	check "c5-etcd-m$B-returns" rst_etcd_start "$B"
	check c5-etcd-healthy etcd_up 60 1 2 3
	tk=$SECONDS
	check c5-a-leader rst_wait "$T_FAIL" has_leader
	ktap_diag "m$(leader) leads $((SECONDS - tk)) s after the quorum returned"
	# a member without its cluster ends the watch (hasleader): each
	# manager watches again once the quorum is back
	for i in 1 2 3; do
		check "c5-m$i-watches-again" rst_wait 20 logged "m$i" "${m5[$i]}" "store: watching "
		check "c5-m$i-status-watch-live" watch_becomes "$i" true
	done
	key6=$(rst_wg_pubkey 6 9)
	check c5-gw6-leaves-vpn9 rst_leave 6 9
	check c5-vpn9-oracle rst_wait_oracle "$T_JOIN" 9 "1 2 3 4 5" "1 2 3" "$GWS"
	check c5-vpn7-oracle rst_ha_oracle 7 "$GWS" "1 2 3" "$GWS"
	check c5-no-other-tunnel-removed rst_watch_stop_except c5 "gw[1-5] rvpn9 $key6" "gw6 rvpn9 *"

	# 3. rolling restart of the three managers
	check c3-watcher-starts rst_watch_start c3 "${GW[@]}"
	for i in 1 2 3; do
		mark=$(rst_log_lines "m$i")
		rst_daemon_stop "m$i"
		check "c3-m$i-restarts" rst_ha_mgr_start "$i"
		check "c3-m$i-back" rst_wait 30 logged "m$i" "$mark" "leader: this manager|standby: "
		check "c3-a-leader-after-m$i" rst_wait "$T_FAIL" has_leader
	done
	check c3-gw6-rejoins-vpn9 restart_gw 6 7 9
	check c3-vpn9-oracle rst_wait_oracle "$T_JOIN" 9 "$GWS" "1 2 3" "$GWS"
	check c3-vpn7-oracle rst_ha_oracle 7 "$GWS" "1 2 3" "$GWS"
	check c3-no-tunnel-removed rst_watch_stop c3
	check c3-ping rst_ping_all 2 5
fi

daemons=()
for i in $MGRS; do daemons+=("m$i" "etcd-m$i"); done
for n in "${GW[@]}"; do daemons+=("gw$n"); done
check daemons-alive rst_all_alive "${daemons[@]}"
check no-table-write-failed not_logged 0 "table: |the table is not the manager's" "${GW[@]/#/gw}"

# the daemons' logs, and a little of etcd's (JSON, verbose)
dump_logs() {
	local f n
	for f in "$RST_DIR"/*.log; do
		[[ -s $f ]] || continue
		n=30
		[[ ${f##*/} != etcd-* ]] || n=8
		echo "# ---- ${f##*/} (last $n lines) ----"
		tail -n "$n" "$f" | sed 's/^/#   /'
	done
}
((RST_FAILED == 0)) || dump_logs
ktap_diag "ha.sh: $((SECONDS - RST_T0)) s"
ktap_finish
