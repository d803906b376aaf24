#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rosterd's Prometheus metrics (metrics-file, Documentation/operations.rst
# "Metrics"), end to end: a manager and three gateways in VPN 7 each write
# a textfile every second; every file is read with Prometheus's own parser
# (python3-prometheus-client) and its values are checked against what the
# suite made happen and against the other daemons' files:
#
#   - three joins: joins, fan-outs, NOTIFYs (0 + 1 + 2), the VPN's
#     generation and members as `roster -j vpn show` has them on the
#     manager and on every gateway, gateways enrolled and seen, last seen;
#     every message one side counts as sent (first sends and
#     retransmissions) the other counts as received, per type;
#   - a forged SYNC_REQ without a view: one resync, one more LIST;
#   - gw3 stopped (SIGSTOP) while the administrator removes gw2: the
#     REMOVE to gw3 is retransmitted, given up after the last try, and gw3
#     reads every copy once it runs again; gw1, whose rvpn7 was deleted by
#     hand, counts WireGuard reconcile errors, gw3 none; leaves per reason;
#   - a requested leave; the files' mode, no temporary file left, and a
#     stopped daemon's file removed.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait / check
# shellcheck disable=SC2034,SC2004 # S_* are read through namerefs (val, use)
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin metrics
check() { rst_check "$@"; }

PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
if ! "$PY" -c 'import prometheus_client.parser' 2>/dev/null; then
	ktap_skip metrics "python3-prometheus-client missing"
	ktap_finish
fi

MDIR=$RST_DIR/textfile		# node_exporter's textfile directory, in effect
mkdir -p "$MDIR"
mfile() { echo "$MDIR/$1.prom"; }

# Every sample of a file, as Prometheus's parser reads it, goes into the
# associative array P: P[name{k="v",...}] = value (labels sorted; integers
# without a fraction). A file the parser refuses fails the check.
declare -A P=()
# One parser start for several files (each costs seconds in the VM):
# "FILE<tab>KEY<tab>VALUE" lines.
read -r -d '' PROM_PY <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families as parse
for path in sys.argv[1:]:
    for fam in parse(open(path).read()):
        for s in fam.samples:
            labels = ','.join('%s="%s"' % kv for kv in sorted(s.labels.items()))
            v = float(s.value)
            print('%s\t%s{%s}\t%s' % (path, s.name, labels, int(v) if v.is_integer() else repr(v)))
PYEOF
# prom_parse FILE...: every sample of the FILEs into PARSED[FILE<tab>KEY].
declare -A PARSED=()
prom_parse() {
	local out f k v
	PARSED=()
	out=$("$PY" -c "$PROM_PY" "$@" 2>&1) || { echo "  $*: the parser refused it: $out"; return 1; }
	while IFS=$'\t' read -r f k v; do PARSED[$f$'\t'$k]=$v; done <<<"$out"
}
# prom_load FILE: FILE's samples into P (P[KEY] = value).
prom_load() {
	local fk
	prom_parse "$1" || return 1
	P=()
	for fk in "${!PARSED[@]}"; do P[${fk#*$'\t'}]=${PARSED[$fk]}; done
}
# pv KEY: P's value for KEY (name{labels}), "missing" if absent.
pv() { echo "${P[$1]-missing}"; }
# is KEY WANT: P[KEY] == WANT, else the difference is printed.
is() {
	local have
	have=$(pv "$1")
	[[ $have == "$2" ]] || { echo "  $1 = $have, want $2"; return 1; }
}

# Each daemon's file, loaded into S_<name> (copies of P), for the sums.
declare -A S_mgr=() S_gw1=() S_gw2=() S_gw3=()
save_as() {
	local -n dst=S_$1
	local k
	dst=()
	for k in "${!P[@]}"; do dst[$k]=${P[$k]}; done
}
# use NAME: P becomes NAME's saved file.
use() {
	local -n src=S_$1
	local k
	P=()
	for k in "${!src[@]}"; do P[$k]=${src[$k]}; done
}
load_all() {
	local d fk f
	prom_parse "$(mfile mgr)" "$(mfile gw1)" "$(mfile gw2)" "$(mfile gw3)" || return 1
	for d in mgr gw1 gw2 gw3; do
		f=$(mfile "$d")
		P=()
		for fk in "${!PARSED[@]}"; do
			[[ ${fk%%$'\t'*} == "$f" ]] && P[${fk#*$'\t'}]=${PARSED[$fk]}
		done
		save_as "$d"
	done
}
# settle SECS CMD...: rst_wait, then CMD once more to show why it failed.
settle() {
	local secs=$1
	shift
	rst_wait "$secs" "$@" || { "$@"; return 1; }
}
# val DAEMON KEY
val() { local -n src=S_$1; echo "${src[$2]-0}"; }
# flows TYPE "FROM..." "TO...": what the FROM daemons count as sent of
# TYPE (first sends and retransmissions) the TO daemons count as received:
# the underlay loses nothing here, so every copy arrives.
flows() {
	local t=$1 sent=0 got=0 d
	for d in $2; do
		sent=$((sent + $(val "$d" "rosterd_messages_sent_total{type=\"$t\"}") +
			$(val "$d" "rosterd_messages_retransmitted_total{type=\"$t\"}")))
	done
	for d in $3; do got=$((got + $(val "$d" "rosterd_messages_received_total{type=\"$t\"}"))); done
	((sent == got)) || { echo "  $t: $2 sent $sent (retransmissions included), $3 received $got"; return 1; }
	((sent > 0)) || { echo "  $t: none sent"; return 1; }
}

# metrics_conf NAME: metrics every second into the textfile directory.
metrics_conf() {
	sed -i "/^\[$2\]/a metrics-file = $(mfile "$1")\nmetrics-interval = 1" "$(rst_conf "$1")"
}

# enrol N: rst_enrol with the metrics lines in gwN's config.
enrol() {
	local n=$1 tok
	rst_gw_config "$n" 7
	metrics_conf "gw$n" gateway
	tok=$(rst_invite "$n" 7) || return 1
	rst_redeem "$n" "$tok" || return 1
	rst_gw_start "$n"
}

# vpn_json NAME: `roster -j vpn show vpn 7` in NAME's netns, checked with jq:
# "generation members".
vpn_json() {
	rst_in "$1" "$ROSTER_CLI" -j vpn show | jq -er '.[] | select(.vpn_id == 7) |
		"\(.generation) \(.member_count)"'
}

check topology rst_topology 3
rst_mgr_config
metrics_conf mgr manager
# Short retries, so that a give-up takes seconds (0.1 s doubling to the
# 4 s cap over 8 tries: about 10 s), not the default's 20.
sed -i 's/^log-level = info/&\nretry-ms = 100/' "$(rst_conf mgr)"
T_START=$(date +%s)
check manager-starts rst_mgr_start
check manager-writes-metrics rst_wait 20 test -s "$(mfile mgr)"
check manager-file-parses prom_load "$(mfile mgr)"
check manager-role is 'rosterd_info{role="manager",version="'"$("$ROSTERD" --version | awk '{ print $2 }')"'"}' 1
check manager-no-joins-yet is 'rosterd_joins_total{}' 0
for n in 1 2 3; do check "gw$n-enrols" enrol "$n"; done
check vpn7-table rst_wait "$T_JOIN" rst_table_is 7 1 2 3
check vpn7-mesh rst_wait_mesh "$T_JOIN" 7 1 2 3

# The files settle once every message is acknowledged (a second per write).
three_joins() {
	prom_load "$(mfile mgr)" && is 'rosterd_joins_total{}' 3 &&
		is 'rosterd_gateways_seen{}' 3 && is 'rosterd_vpn_members{vpn="7"}' 3
}
check mgr-three-joins settle 20 three_joins
sleep 3
check all-files-parse load_all
read -r GEN MEMBERS < <(vpn_json mgr)
ktap_diag "vpn 7 on the manager: generation $GEN, $MEMBERS member(s)"
use mgr
check mgr-enrolled is 'rosterd_gateways_enrolled{}' 3
check mgr-generation-is-roster.ko is 'rosterd_vpn_generation{vpn="7"}' "$GEN"
check mgr-members-is-roster.ko is 'rosterd_vpn_members{vpn="7"}' "$MEMBERS"
# One fan-out per join; gw1 is told of nobody, gw2 of gw1, gw3 of both.
check mgr-fanouts-three is 'rosterd_fanout_duration_seconds_count{}' 3
ktap_diag "fan-outs: $(pv 'rosterd_fanout_duration_seconds_count{}') in $(pv 'rosterd_fanout_duration_seconds_sum{}') s, each at most $(awk -v s="$(pv 'rosterd_fanout_duration_seconds_sum{}')" 'BEGIN { printf "%.1f", s * 1000 }') ms"
check mgr-fanout-buckets is 'rosterd_fanout_duration_seconds_bucket{le="+Inf"}' 3
check mgr-notify-0-1-2 is 'rosterd_messages_sent_total{type="NOTIFY"}' 3
check mgr-no-leaves is 'rosterd_leaves_total{reason="requested"}' 0
check mgr-invitations-redeemed is 'rosterd_invitations_pending{}' 0
last_seen_ok() {
	local n t now
	now=$(date +%s)
	for n in 1 2 3; do
		t=$(pv "rosterd_gateway_last_seen_time_seconds{id=\"$(rst_gw_id "$n")\"}")
		((t >= T_START && t <= now)) || { echo "  gw$n last seen $t, not in [$T_START, $now]"; return 1; }
	done
}
check mgr-last-seen-each last_seen_ok
for n in 1 2 3; do
	check "gw$n-role" test "$(val "gw$n" 'rosterd_info{role="gateway",version="'"$("$ROSTERD" --version | awk '{ print $2 }')"'"}')" = 1
	read -r g m < <(vpn_json "gw$n")
	check "gw$n-view-generation" test "$(val "gw$n" 'rosterd_vpn_generation{vpn="7"}')" = "$g" -a "$g" = "$GEN"
	check "gw$n-view-members" test "$(val "gw$n" 'rosterd_vpn_members{vpn="7"}')" = "$m" -a "$m" = 3
	check "gw$n-no-reconcile-errors" test "$(val "gw$n" 'rosterd_wg_reconcile_errors_total{vpn="7"}')" = 0
	check "gw$n-one-join-req" test "$(val "gw$n" 'rosterd_messages_sent_total{type="JOIN_REQ"}')" = 1
done
check flow-join-req flows JOIN_REQ "gw1 gw2 gw3" mgr
check flow-join flows JOIN mgr "gw1 gw2 gw3"
check flow-notify flows NOTIFY mgr "gw1 gw2 gw3"

# A SYNC_REQ without a view (forged from gw1's host, a privileged port,
# through its control tunnel): the manager sends gw1 the whole list.
lists_before=$(val mgr 'rosterd_messages_sent_total{type="LIST"}')
resyncs_before=$(val mgr 'rosterd_resyncs_total{}')
SYNC=$(rst_inject gw1 encode SYNC_REQ --session random --vpn 7)
check forged-sync-req-sent rst_inject gw1 send --from "$(rst_gw_id 1):852" \
	--to "$RST_MGR_CTL:$RST_CTL_PORT" "$SYNC"
one_resync() { prom_load "$(mfile mgr)" && is 'rosterd_resyncs_total{}' $((resyncs_before + 1)); }
check mgr-one-resync settle 10 one_resync
check mgr-one-more-list is 'rosterd_messages_sent_total{type="LIST"}' $((lists_before + 1))

# gw3 stops reading (SIGSTOP) and gw1's rvpn7 is deleted by hand; the
# administrator removes gw2. The REMOVE to gw3 goes unacknowledged.
rst_in gw1 ip link del rvpn7
kill -STOP "${RST_PID[gw3]}"
check kick-gw2 rst_kick 2 7
gave_up() {
	prom_load "$(mfile mgr)" && is 'rosterd_messages_gave_up_total{type="REMOVE"}' 1
}
check mgr-gives-up-remove settle 30 gave_up
ktap_diag "the REMOVE to the stopped gw3 given up ${RST_WAITED} s after the removal (8 tries, retry-ms 100)"
kill -CONT "${RST_PID[gw3]}"
check vpn7-table-without-gw2 rst_wait "$T_JOIN" rst_table_is 7 1 3
sleep 3
check files-parse-after-kick load_all
use mgr
check mgr-leave-admin is 'rosterd_leaves_total{reason="admin"}' 1
check mgr-joins-still-three is 'rosterd_joins_total{}' 3
check mgr-fanouts-four is 'rosterd_fanout_duration_seconds_count{}' 4
check mgr-members-two is 'rosterd_vpn_members{vpn="7"}' 2
check mgr-remove-tried-8-times test $(($(val mgr 'rosterd_messages_retransmitted_total{type="REMOVE"}'))) -ge 7
# Every copy sent to gw3 waited in its socket: it reads all 8 tries.
check gw3-read-every-copy test "$(val gw3 'rosterd_messages_received_total{type="REMOVE"}')" = 8
check flow-remove flows REMOVE mgr "gw1 gw3"
check gw1-reconcile-errors test "$(val gw1 'rosterd_wg_reconcile_errors_total{vpn="7"}')" -ge 1
check gw3-no-reconcile-errors test "$(val gw3 'rosterd_wg_reconcile_errors_total{vpn="7"}')" = 0
check gw1-view-follows test "$(val gw1 'rosterd_vpn_members{vpn="7"}')" = 2

# gw3 asks to leave.
check gw3-leaves rst_leave 3 7
left() { prom_load "$(mfile mgr)" && is 'rosterd_leaves_total{reason="requested"}' 1; }
check mgr-leave-requested settle 20 left
check mgr-fanouts-five is 'rosterd_fanout_duration_seconds_count{}' 5

# The files: 0644, nothing else in the directory (the temporary files
# are hidden and renamed), and a stopped daemon's file goes.
files_ok() {
	local f listing
	listing=$(ls -A "$MDIR")
	[[ $listing == $'gw1.prom\ngw2.prom\ngw3.prom\nmgr.prom' ]] || { echo "  $MDIR: $listing"; return 1; }
	for f in "$MDIR"/*.prom; do
		[[ $(stat -c %a "$f") == 644 ]] || { echo "  $f: mode $(stat -c %a "$f")"; return 1; }
	done
}
check textfiles-0644-no-litter files_ok
rst_daemon_stop gw2
check gw2-file-removed-at-exit test ! -e "$(mfile gw2)"
rst_daemon_stop mgr
check mgr-file-removed-at-exit test ! -e "$(mfile mgr)"

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "metrics.sh: $((SECONDS - RST_T0)) s"
ktap_finish
