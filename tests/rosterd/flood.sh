#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An enrolled gateway floods the manager (Documentation/security.rst,
# "Flooding the manager"). VPN 7 holds ROSTER_FLOOD_MEMBERS members (500:
# the rest are added with the roster CLI on the manager, without daemons);
# gw1 and gw2 are real gateways.
#
#   baseline     gw2 joins with no flood: the time from its daemon's start
#                to its first list applied is the join delay
#   sync flood   gw1's daemon is stopped (so nothing the manager sends it is
#                ever ACKed, the worst case) and ROSTER_FLOOD_COUNT (2000)
#                SYNC_REQs without a generation, each of which once queued
#                a whole list (36 parts), are sent from gw1's control port
#                250 us apart, while gw2 joins;
#                gw2, removed meanwhile, joins again during the flood
#   re-join      then 200 identical copies of gw1's own JOIN_REQ: none makes
#                a new generation (the VPN's generation is unchanged) and
#                the manager logs "re-joins vpn 7 unchanged"
# Afterwards: the manager's queues (its "queues:" line on SIGHUP) hold at
# most peer-queue-kib (1 MiB) to one peer, its RSS grew by less than
# RSS_BOUND_KB, it logged the rate limit, gw2 joined during the flood, and
# gw1, started again, converges. Reported, not asserted: the join delay
# with and without the flood (and their ratio), the manager's CPU time and
# RSS, the queue length.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}
MEMBERS=${ROSTER_FLOOD_MEMBERS:-500}
COUNT=${ROSTER_FLOOD_COUNT:-2000}
REJOINS=${ROSTER_FLOOD_REJOINS:-200}
# The queue bound (1 MiB to a peer), a few peer records and lists, and
# what SQLite and the allocator keep: 90 MB before the bound.
RSS_BOUND_KB=${ROSTER_FLOOD_RSS_KB:-16384}

rst_suite_begin flood
check() { rst_check "$@"; }

mgr_pid() { echo "${RST_PID[mgr]}"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(mgr_pid)/status"; }
# user + system CPU time, ms
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
		"/proc/$(mgr_pid)/stat"
}
now_ms() { date +%s%3N; }
vpn_gen() { rst_in mgr "$ROSTER_CLI" -j vpn show | jq -r '.[] | select(.id == 7) | .generation'; }
# logged NAME MARK REGEX
logged() { rst_log_since "$1" "$2" | grep -qE "$3"; }

# The other members: ids 10.254.x.y, no endpoint, one /24 each in
# 172.16.0.0/12, random keys. One CLI batch.
add_members() {
	local n=$1 f=$RST_DIR/members.batch
	python3 - "$n" >"$f" <<'EOF'
import base64, os, sys
for i in range(int(sys.argv[1])):
    key = base64.b64encode(os.urandom(32)).decode()
    print("member add vpn 7 id 10.254.%d.%d key %s allowed 172.%d.%d.0/24"
          % (i // 250, i % 250 + 1, key, 16 + i // 256, i % 256))
EOF
	rst_in mgr "$ROSTER_CLI" -batch "$f"
}

# join_delay N MARK T0: ms from T0 until gwN logged a list of vpn 7 with
# all the other members (after line MARK of its log); sets DELAY
DELAY=
applied() { logged "gw$1" "$2" "vpn 7 gen [0-9]+: $3 other member"; }
join_delay() {
	rst_wait "$T_JOIN" applied "$1" "$2" "$4" || return 1
	DELAY=$(($(now_ms) - $3))
}

check topology rst_topology 2
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr
OTHERS=$((MEMBERS - 2))
check members-added add_members "$OTHERS"
check gw1-enrols rst_enrol 1 7
check gw1-list rst_wait "$T_JOIN" applied 1 0 "$OTHERS"
# gw1's own JOIN_REQ, as its daemon sends it (rst_gw_config)
J1=$(rst_inject gw1 encode JOIN_REQ --session 1 --vpn 7 \
	--endpoint "$(rst_gw_ip 1):$(rst_vpn_port 7)" --prefix 10.1.0.0/24)
check join-req-encoded test -n "$J1"
SYNC=$(rst_inject gw1 encode SYNC_REQ --session 1 --vpn 7)

# ---- baseline: gw2 joins, no flood
rst_gw_config 2 7
tok2=$(rst_invite 2 7)
check gw2-redeems rst_redeem 2 "$tok2"
t0=$(now_ms)
check gw2-starts rst_gw_start 2
check gw2-joins-baseline join_delay 2 0 "$t0" "$((OTHERS + 1))"
BASE=$DELAY
ktap_diag "baseline: gw2 joined a VPN of $MEMBERS members in $BASE ms"
check gw2-kicked rst_kick 2 7
rst_daemon_stop gw2

# ---- the flood
rst_daemon_stop gw1
sleep 1
rss0=$(rss_kb)
cpu0=$(cpu_ms)
gen0=$(vpn_gen)
m=$(rst_log_lines mgr)
tf=$(now_ms)
# As gw1's daemon would send them (its sessions are start times, rel.c):
# a session newer than the stopped daemon's, older than its next start's.
SESSION=$(date +%s)
rst_inject gw1 flood --from "10.255.0.11:$RST_CTL_PORT" --to "$RST_MGR_CTL:$RST_CTL_PORT" \
	--session "$SESSION" --count "$COUNT" --gap-us 250 "$SYNC" >"$RST_DIR/flood.out" 2>&1 &
flood_pid=$!
sleep 0.3
g2=$(rst_log_lines gw2)
t0=$(now_ms)
check gw2-starts-in-flood rst_gw_start 2
check gw2-joins-in-flood join_delay 2 "$g2" "$t0" "$((OTHERS + 1))"
FLOODED=$DELAY
flood_sent() { wait "$flood_pid" || { sed 's/^/  /' "$RST_DIR/flood.out"; return 1; }; }
check flood-sent flood_sent
ktap_diag "flood: $COUNT SYNC_REQs sent in $(($(now_ms) - tf)) ms"
check rejoin-flood-sent rst_inject gw1 flood --from "10.255.0.11:$RST_CTL_PORT" \
	--to "$RST_MGR_CTL:$RST_CTL_PORT" --session "$SESSION" --first-seq "$((COUNT + 1))" \
	--count "$REJOINS" --gap-us 0 "$J1"
sleep 2
rss1=$(rss_kb)
cpu1=$(cpu_ms)
q=$(rst_log_lines mgr)
kill -HUP "$(mgr_pid)"
queues() { rst_log_since mgr "$q" | grep -m1 -E 'queues: '; }
check queues-logged rst_wait 10 queues
QLINE=$(queues)
ktap_diag "manager after the flood: ${QLINE#*info: }"
ktap_diag "manager RSS ${rss0} kB -> ${rss1} kB (+$((rss1 - rss0)) kB), CPU $((cpu1 - cpu0)) ms during the flood"
ratio=$(awk -v a="$FLOODED" -v b="$BASE" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
ktap_diag "gw2's join: $BASE ms without the flood, $FLOODED ms during it (ratio $ratio)"

most=$(sed -nE 's/.*at most ([0-9]+) to one peer.*/\1/p' <<<"$QLINE")
bytes=$(sed -nE 's/.* queued \(([0-9]+) bytes.*/\1/p' <<<"$QLINE")
bounded() {
	[[ -n $bytes && $bytes -le $((2 * 1024 * 1024)) ]] || {
		echo "  $bytes bytes queued (two peers, 1 MiB each at most)"
		return 1
	}
}
check queue-bounded bounded
check queue-per-peer test -n "$most"
check rss-bounded test "$((rss1 - rss0))" -lt "$RSS_BOUND_KB"
check rate-limit-logged logged mgr "$m" 'request rate over [0-9]+/s'
# handled (logged) first, then looked at: a manager behind its queue has
# not made the generations yet
check rejoin-logged rst_wait 20 logged mgr "$m" '10.255.0.11 re-joins vpn 7 unchanged'
check rejoin-no-new-generation test "$(vpn_gen)" == "$gen0"
check manager-alive rst_all_alive mgr gw2

# ---- gw1 back: the manager still serves it
sleep 1   # its next session is a later second than the flood's
g1=$(rst_log_lines gw1)
check gw1-restarts rst_gw_start 1
check gw1-converges rst_wait "$T_JOIN" applied 1 "$g1" "$((OTHERS + 1))"
# (rst_peers_ok over 500 peers costs more than this suite's budget)
peers_of() { [[ $(rst_in "gw$1" wg show rvpn7 peers | wc -l) -eq $2 ]]; }
check gw2-peers peers_of 2 "$((OTHERS + 1))"
check gw1-peers rst_wait 20 peers_of 1 "$((OTHERS + 1))"

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "flood.sh: $((SECONDS - RST_T0)) s"
ktap_finish
