#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# roster monitor: one event per line (JSON with -j), vpn id and generation,
# nothing missing, per-netns, clean exit on SIGINT/SIGTERM; stamped and
# resync changes marked; -t and -ts timestamps as ip monitor's.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 27
new_ns A
new_ns B

"$BIN" -n "$A" -j monitor >"$SCRATCH/a.json" 2>"$SCRATCH/a.err" & MJ=$!
"$BIN" -n "$A" monitor >"$SCRATCH/a.txt" 2>"$SCRATCH/a.txt.err" & MT=$!
"$BIN" -n "$B" -j monitor >"$SCRATCH/b.json" 2>&1 & MB=$!
"$BIN" -n "$A" -j monitor vpn 2 >"$SCRATCH/a2.json" 2>&1 & MF=$!
"$BIN" -n "$A" monitor -t >"$SCRATCH/t.txt" 2>&1 & MTL=$!
"$BIN" -n "$A" -ts monitor >"$SCRATCH/ts.txt" 2>&1 & MTS=$!
"$BIN" -n "$A" -j monitor -t >"$SCRATCH/t.json" 2>&1 & MTJ=$!

# Wait until both A monitors receive a probe event (they are subscribed).
for i in $(seq 1 60); do
	"$BIN" -n "$A" vpn add 999 >/dev/null 2>&1
	"$BIN" -n "$A" vpn del 999 >/dev/null 2>&1
	if grep -q '"vpn_del"' "$SCRATCH/a.json" 2>/dev/null && grep -q '^del vpn 999' "$SCRATCH/a.txt" &&
		grep -q 'del vpn 999' "$SCRATCH/t.txt" && grep -q 'del vpn 999' "$SCRATCH/ts.txt" &&
		grep -q '"vpn_del"' "$SCRATCH/t.json"; then
		break
	fi
	sleep 0.5
done
sleep 0.5
probe_lines=$(wc -l <"$SCRATCH/a.json")
probe_text=$(wc -l <"$SCRATCH/a.txt")
probe_t=$(wc -l <"$SCRATCH/t.txt")
probe_ts=$(wc -l <"$SCRATCH/ts.txt")
probe_tj=$(wc -l <"$SCRATCH/t.json")

# Another process changes the table.
cat >"$SCRATCH/cmds" <<EOC
vpn add 1
member add vpn 1 id 10.0.0.1 key $KEY1 endpoint 192.0.2.1:51820 allowed 10.1.0.0/24
member join vpn 1 id 2001:db8::2 key $KEY2
member replace vpn 1 id 10.0.0.1 key $KEY2
member leave vpn 1 id 2001:db8::2 reason admin
member del vpn 1 id 10.0.0.1 delete-empty
member add vpn 2 id 10.0.0.3 key $KEY1
vpn del 2
vpn add 3 follower nested-prefixes generation 20
member add vpn 3 id 10.0.0.4 key $KEY1 generation 21
member replace vpn 3 id 10.0.0.5 key $KEY2 generation 25 resync
member del vpn 3 id 10.0.0.4 generation 26
vpn set 3 generation 30 resync
vpn set 3 nofollower
vpn del 3
EOC
"$BIN" -n "$A" -b "$SCRATCH/cmds"
check "changes applied" test $? = 0

for i in $(seq 1 60); do
	[ "$(grep -c '"event":"vpn_del","vpn_id":3' "$SCRATCH/a.json")" -ge 1 ] &&
	[ "$(grep -c '^del vpn 3 ' "$SCRATCH/a.txt")" -ge 1 ] &&
	grep -q 'del vpn 3 ' "$SCRATCH/t.txt" && grep -q 'del vpn 3 ' "$SCRATCH/ts.txt" &&
	grep -q '"event":"vpn_del","vpn_id":3' "$SCRATCH/t.json" && break
	sleep 0.5
done
sleep 0.5
kill -TERM $MJ; wait $MJ; rc_j=$?
kill -INT $MT; wait $MT; rc_t=$?
kill -TERM $MB $MF $MTL $MTS $MTJ; wait $MB; wait $MF; wait $MTL; wait $MTS; wait $MTJ
[ $rc_j = 0 ] || diag "rc=$rc_j stderr: $(cat "$SCRATCH/a.err")"
check "monitor exits 0 on SIGTERM" test $rc_j = 0
check "monitor exits 0 on SIGINT" test $rc_t = 0

tail -n +$((probe_lines + 1)) "$SCRATCH/a.json" >"$SCRATCH/events.json"
check "every line is one valid JSON object" jqe -s 'length > 0 and all(.[]; type == "object")' "$SCRATCH/events.json"
check "... for a strict parser too" json_lines "$SCRATCH/events.json"
got=$(jq -r '"\(.event) \(.vpn_id) \(.generation)"' "$SCRATCH/events.json" | tr '\n' '|')
want="vpn_new 1 1|member_joined 1 2|member_joined 1 3|member_updated 1 4|member_left 1 5|member_left 1 6|vpn_del 1 7|vpn_new 2 1|member_joined 2 2|vpn_del 2 3|vpn_new 3 20|member_joined 3 21|member_joined 3 25|member_left 3 26|vpn_changed 3 30|vpn_changed 3 30|vpn_del 3 31|"
if [ "$got" = "$want" ]; then ok "event sequence complete, generations consecutive"
else diag "got:  $got"; diag "want: $want"; nok "event sequence complete, generations consecutive"; fi
check "member_joined carries the full member" jqe -s '.[1].member.id == "10.0.0.1" and .[1].member.public_key == "'$KEY1'" and .[1].member.endpoint == "192.0.2.1:51820" and .[1].member.allowed_ips == ["10.1.0.0/24"] and .[1].member.join_generation == 2' "$SCRATCH/events.json"
check "member_left carries id and reason" jqe -s '.[4].member == {"id": "2001:db8::2"} and .[4].reason == "admin" and .[5].reason == "requested"' "$SCRATCH/events.json"
check "vpn_new carries member_count, create_time and flags" jqe -s '.[0].member_count == 0 and (.[0].create_time | type) == "number" and .[0].flags == [] and .[10].flags == ["follower","nested-prefixes"]' "$SCRATCH/events.json"
check "unstamped changes: stamped and resync false" jqe -s 'all(.[0:10][], .[15:][]; .stamped == false and .resync == false)' "$SCRATCH/events.json"
check "stamped changes: stamped true; the resync ones resync true" jqe -s '[.[10:15][] | [.stamped, .resync]] == [[true,false],[true,false],[true,true],[true,false],[true,true]]' "$SCRATCH/events.json"
check "vpn_changed: the VPN with its flags, before and after nofollower" jqe -s '.[14].member_count == 1 and .[14].flags == ["follower","nested-prefixes"] and .[15].flags == ["nested-prefixes"] and .[15].generation == 30' "$SCRATCH/events.json"

tail -n +$((probe_text + 1)) "$SCRATCH/a.txt" >"$SCRATCH/events.txt"
got=$(awk '{print $1, $2, $3, $4, $5}' "$SCRATCH/events.txt" | tr '\n' '|')
want="new vpn 1 generation 1|join vpn 1 generation 2|join vpn 1 generation 3|update vpn 1 generation 4|leave vpn 1 generation 5|leave vpn 1 generation 6|del vpn 1 generation 7|new vpn 2 generation 1|join vpn 2 generation 2|del vpn 2 generation 3|new vpn 3 generation 20|join vpn 3 generation 21|join vpn 3 generation 25|leave vpn 3 generation 26|set vpn 3 generation 30|set vpn 3 generation 30|del vpn 3 generation 31|"
if [ "$got" = "$want" ]; then ok "text monitor: same events, one line each"
else diag "got:  $got"; nok "text monitor: same events, one line each"; fi
check "text leave line" grep -qx 'leave vpn 1 generation 5 id 2001:db8::2 reason admin' "$SCRATCH/events.txt"
check "text: unstamped lines are not marked" bash -c '! sed -n "1,10p;16,17p" "$0" | grep -Eq "stamped|resync"' "$SCRATCH/events.txt"
check "text: stamped changes marked" test "$(sed -n '11,15p' "$SCRATCH/events.txt" | awk '{ print $NF }' | tr '\n' ' ')" = "stamped stamped resync stamped resync "
check "text: vpn set lines" bash -c 'sed -n 15p "$0" | grep -Eqx "set vpn 3 generation 30 members 1 created [0-9TZ:-]+ follower nested-prefixes stamped resync" && sed -n 16p "$0" | grep -Eqx "set vpn 3 generation 30 members 1 created [0-9TZ:-]+ nested-prefixes"' "$SCRATCH/events.txt"
check "text: the resync line" grep -Eqx 'join vpn 3 generation 25 id 10.0.0.5 key [A-Za-z0-9+/=]+ joined [0-9TZ:-]+ join-generation 25 stamped resync' "$SCRATCH/events.txt"
check "text: vpn_new of a follower shows its flags" grep -Eqx 'new vpn 3 generation 20 members 0 created [0-9TZ:-]+ follower nested-prefixes stamped' "$SCRATCH/events.txt"

# -t: a "Timestamp:" line before each event (ip monitor -t); -ts: a short
# timestamp at the start of the line (ip -ts monitor); -j -t: a key
tail -n +$((probe_t + 1)) "$SCRATCH/t.txt" >"$SCRATCH/t.events"
check "-t: every other line a Timestamp line, then the event" bash -c '[ "$(wc -l <"$0")" = 34 ] && ! awk "NR % 2 == 1" "$0" | grep -Evq "^Timestamp: [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4} [0-9]+ usec\$"' "$SCRATCH/t.events"
check "-t: the events are the same" test "$(awk 'NR % 2 == 0' "$SCRATCH/t.events")" = "$(cat "$SCRATCH/events.txt")"
tail -n +$((probe_ts + 1)) "$SCRATCH/ts.txt" >"$SCRATCH/ts.events"
check "-ts: [YYYY-MM-DDTHH:MM:SS.uuuuuu] before each event" bash -c '[ "$(wc -l <"$0")" = 17 ] && ! grep -Evq "^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}\] (new|del|set|join|update|leave) vpn " "$0"' "$SCRATCH/ts.events"
check "-ts: the events are the same" test "$(sed 's/^\[[^]]*\] //' "$SCRATCH/ts.events")" = "$(cat "$SCRATCH/events.txt")"
tail -n +$((probe_tj + 1)) "$SCRATCH/t.json" >"$SCRATCH/tj.events"
check "-j -t: a timestamp key in every event, valid JSON" jqe -s 'length == 17 and all(.[]; .timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"))' "$SCRATCH/tj.events"
check "-j -t: otherwise the same events" test "$(jq -c 'del(.timestamp, .create_time, .member.join_time)' "$SCRATCH/tj.events")" = "$(jq -c 'del(.create_time, .member.join_time)' "$SCRATCH/events.json")"
check "other netns saw no event" test ! -s "$SCRATCH/b.json"
check "monitor vpn 2 filter" test "$(jq -r '"\(.event) \(.vpn_id)"' "$SCRATCH/a2.json" | sort -u | tr '\n' '|')" = "member_joined 2|vpn_del 2|vpn_new 2|"
ktap_done
