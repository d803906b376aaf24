#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# roster -batch: 10 000 joins, -force, failing line numbers, stdin; and a
# monitor that is stopped meanwhile overruns and resynchronises.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 14
new_ns NS
new_ns NS2

# 10 000 joins: 100 VPNs of 100 members, each with its own prefix.
awk -v k="$KEY1" 'BEGIN { for (v = 1; v <= 100; v++) for (m = 0; m < 100; m++)
	printf "member add vpn %d id 10.%d.%d.%d key %s allowed 172.%d.%d.0/24\n",
		v, v, int(m / 250), m % 250 + 1, k, 16 + v % 16, m }' >"$SCRATCH/joins"
check "batch file has 10000 lines" test "$(wc -l <"$SCRATCH/joins")" = 10000

# A small receive buffer (64 KiB) guarantees an overrun.
"$BIN" -n "$NS" -j -rcvbuf 65536 monitor >"$SCRATCH/mon.json" 2>"$SCRATCH/mon.err" & MON=$!
for i in $(seq 1 60); do
	"$BIN" -n "$NS" vpn add 4000 >/dev/null 2>&1; "$BIN" -n "$NS" vpn del 4000 >/dev/null 2>&1
	grep -q vpn_del "$SCRATCH/mon.json" && break
	sleep 0.5
done
kill -STOP $MON

start=$(date +%s.%N)
"$BIN" -n "$NS" -b "$SCRATCH/joins" >"$SCRATCH/joins.out"
rc=$?
end=$(date +%s.%N)
diag "10000 joins in $(echo "$end - $start" | bc 2>/dev/null || echo "?") s"
check "batch of 10000 joins succeeds, printing nothing" test $rc = 0 -a ! -s "$SCRATCH/joins.out"
run "$NS" -j member show
check "member show returns all 10000" jqe 'length == 10000' <<<"$OUT"
check "100 members in each of 100 VPNs" jqe 'group_by(.vpn_id) | length == 100 and all(.[]; length == 100)' <<<"$OUT"
run "$NS" -j vpn show
check "each VPN at generation 101" jqe 'length == 100 and all(.[]; .generation == 101 and .member_count == 100)' <<<"$OUT"

# The stopped monitor lost events: it must say so and resynchronise.
kill -CONT $MON
for i in $(seq 1 120); do
	grep -q '"sync_done"' "$SCRATCH/mon.json" && break
	# no overrun: the last event arrives instead
	grep -q '"vpn_id":100,"generation":101' "$SCRATCH/mon.json" && break
	sleep 0.5
done
sleep 1
kill -TERM $MON; wait $MON; rc=$?
if grep -q '"event":"overrun"' "$SCRATCH/mon.json"; then
	check "overrun: monitor resynchronised and exited 0" bash -c '[ "$0" = 0 ] && grep -q "\"sync_done\"" "$1"' "$rc" "$SCRATCH/mon.json"
	check "overrun: resync lists every VPN and member" jqe -s '([.[] | select(.event == "vpn_sync")] | length) == 100 and ([.[] | select(.event == "member_sync")] | length) == 10000' "$SCRATCH/mon.json"
else
	diag "$(tail -3 "$SCRATCH/mon.json") $(cat "$SCRATCH/mon.err")"
	nok "overrun: monitor resynchronised and exited 0"
	nok "overrun: resync lists every VPN and member"
fi

# failing line numbers, stop at first error, -force, stdin, comments
printf '# comment\nvpn add 1\n\nvpn add 1\nvpn add 2\n' >"$SCRATCH/b1"
run "$NS2" -b "$SCRATCH/b1"
check "batch stops at the first error, names the line" bash -c '[ "$0" = 1 ] && grep -qF "Command failed $1:4" <<<"$2"' "$RC" "$SCRATCH/b1" "$ERR"
run "$NS2" -j vpn show
check "... and runs nothing after it" jqe '[.[].vpn_id] == [1]' <<<"$OUT"
run "$NS2" -force -b "$SCRATCH/b1"
check "-force continues after errors, exit 1" bash -c '[ "$0" = 1 ] && [ $(grep -c "Command failed" <<<"$1") = 2 ]' "$RC" "$ERR"
run "$NS2" -j vpn show
check "... and ran the later lines" jqe '[.[].vpn_id] == [1,2]' <<<"$OUT"
printf 'vpn show\nmember add vpn 3 id 10.0.0.1 key %s\nmember show\n' "$KEY1" | "$BIN" -n "$NS2" -j -echo -b - >"$SCRATCH/out" 2>&1
check "-j -echo -b - (stdin): one JSON document per command" jqe -s 'length == 3 and (.[0] | length) == 2 and .[1].vpn_id == 3 and .[1].member_count == 1 and (.[2] | length) == 1' "$SCRATCH/out"
check "... each valid for a strict parser" json_lines "$SCRATCH/out"
printf 'vpn add 5 extra\n' >"$SCRATCH/b2"
run "$NS2" -b "$SCRATCH/b2"
check "batch usage error names word and line" bash -c '[ "$0" = 1 ] && grep -qF "argument \"extra\" is wrong" <<<"$1" && grep -qF ":1" <<<"$1"' "$RC" "$ERR"
ktap_done
