#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# roster monitor: one event per line (JSON with -j), vpn id and generation,
# nothing missing, per-netns, clean exit on SIGINT/SIGTERM.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 12
new_ns A
new_ns B

"$BIN" -n "$A" -j monitor >"$SCRATCH/a.json" 2>"$SCRATCH/a.err" & MJ=$!
"$BIN" -n "$A" monitor >"$SCRATCH/a.txt" 2>"$SCRATCH/a.txt.err" & MT=$!
"$BIN" -n "$B" -j monitor >"$SCRATCH/b.json" 2>&1 & MB=$!
"$BIN" -n "$A" -j monitor vpn 2 >"$SCRATCH/a2.json" 2>&1 & MF=$!

# Wait until both A monitors receive a probe event (they are subscribed).
for i in $(seq 1 60); do
	"$BIN" -n "$A" vpn add 999 >/dev/null 2>&1
	"$BIN" -n "$A" vpn del 999 >/dev/null 2>&1
	if grep -q '"vpn_del"' "$SCRATCH/a.json" 2>/dev/null && grep -q '^del vpn 999' "$SCRATCH/a.txt"; then
		break
	fi
	sleep 0.5
done
sleep 0.5
probe_lines=$(wc -l <"$SCRATCH/a.json")
probe_text=$(wc -l <"$SCRATCH/a.txt")

# Another process changes the table.
cat >"$SCRATCH/cmds" <<EOC
vpn add 1
member join vpn 1 dev 10.0.0.1 key $KEY1 endpoint 192.0.2.1:51820 allowed 10.1.0.0/24
member join vpn 1 dev 2001:db8::2 key $KEY2
member join vpn 1 dev 10.0.0.1 key $KEY2
member leave vpn 1 dev 2001:db8::2 reason admin
member leave vpn 1 dev 10.0.0.1 delete-empty
member join vpn 2 dev 10.0.0.3 key $KEY1
vpn del 2
EOC
"$BIN" -n "$A" -q -b "$SCRATCH/cmds"
check "changes applied" test $? = 0

for i in $(seq 1 60); do
	[ "$(grep -c '"event":"vpn_del","vpn_id":2' "$SCRATCH/a.json")" -ge 1 ] &&
	[ "$(grep -c '^del vpn 2 ' "$SCRATCH/a.txt")" -ge 1 ] && break
	sleep 0.5
done
sleep 0.5
kill -TERM $MJ; wait $MJ; rc_j=$?
kill -INT $MT; wait $MT; rc_t=$?
kill -TERM $MB $MF; wait $MB; wait $MF
[ $rc_j = 0 ] || diag "rc=$rc_j stderr: $(cat "$SCRATCH/a.err")"
check "monitor exits 0 on SIGTERM" test $rc_j = 0
check "monitor exits 0 on SIGINT" test $rc_t = 0

tail -n +$((probe_lines + 1)) "$SCRATCH/a.json" >"$SCRATCH/events.json"
check "every line is one valid JSON object" jqe -s 'length > 0 and all(.[]; type == "object")' "$SCRATCH/events.json"
got=$(jq -r '"\(.event) \(.vpn_id) \(.generation)"' "$SCRATCH/events.json" | tr '\n' '|')
want="vpn_new 1 1|member_joined 1 2|member_joined 1 3|member_updated 1 4|member_left 1 5|member_left 1 6|vpn_del 1 7|vpn_new 2 1|member_joined 2 2|vpn_del 2 3|"
if [ "$got" = "$want" ]; then ok "event sequence complete, generations consecutive"
else diag "got:  $got"; diag "want: $want"; nok "event sequence complete, generations consecutive"; fi
check "member_joined carries the full member" jqe -s '.[1].member.dev == "10.0.0.1" and .[1].member.public_key == "'$KEY1'" and .[1].member.endpoint == "192.0.2.1:51820" and .[1].member.allowed_ips == ["10.1.0.0/24"] and .[1].member.join_generation == 2' "$SCRATCH/events.json"
check "member_left carries dev and reason" jqe -s '.[4].member.dev == "2001:db8::2" and .[4].reason == "admin" and .[5].reason == "requested"' "$SCRATCH/events.json"
check "vpn_new carries member_count and create_time" jqe -s '.[0].member_count == 0 and (.[0].create_time | type) == "number"' "$SCRATCH/events.json"

tail -n +$((probe_text + 1)) "$SCRATCH/a.txt" >"$SCRATCH/events.txt"
got=$(awk '{print $1, $2, $3, $4, $5}' "$SCRATCH/events.txt" | tr '\n' '|')
want="new vpn 1 generation 1|join vpn 1 generation 2|join vpn 1 generation 3|update vpn 1 generation 4|leave vpn 1 generation 5|leave vpn 1 generation 6|del vpn 1 generation 7|new vpn 2 generation 1|join vpn 2 generation 2|del vpn 2 generation 3|"
if [ "$got" = "$want" ]; then ok "text monitor: same events, one line each"
else diag "got:  $got"; nok "text monitor: same events, one line each"; fi
check "text leave line" grep -qx 'leave vpn 1 generation 5 dev 2001:db8::2 reason admin' "$SCRATCH/events.txt"
check "other netns saw no event" test ! -s "$SCRATCH/b.json"
check "monitor vpn 2 filter" test "$(jq -r '"\(.event) \(.vpn_id)"' "$SCRATCH/a2.json" | sort -u | tr '\n' '|')" = "member_joined 2|vpn_del 2|vpn_new 2|"
ktap_done
