#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# roster vpn/member commands, text and JSON output, help at every level;
# member add vs replace vs del and the join/leave aliases.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 43
new_ns NS

# help and version (no kernel needed)
run "$NS" help;        check "roster help" grep -q "OBJECT := { vpn | member | monitor }" <<<"$OUT"
run "$NS" vpn help;    check "roster vpn help" grep -qF "roster vpn add ID [ follower ] [ nested-prefixes ] [ generation N ]" <<<"$OUT"
run "$NS" member help; check "roster member help" grep -qF "roster member { add | replace | join } vpn ID id ADDR key BASE64" <<<"$OUT"
run "$NS" -V;          check "roster -V" grep -q "roster utility, version 2" <<<"$OUT"

# the family is registered, version 2 (independent check)
if command -v genl-ctrl-list >/dev/null; then
	check "genl-ctrl-list shows roster version 2" bash -c 'genl-ctrl-list | grep -q " roster version 2"'
else
	skip "genl-ctrl-list shows roster version 2" "libnl-utils not installed"
fi

run "$NS" -j vpn show
check "empty table: -j vpn show is []" test "$RC" = 0 -a "$OUT" = "[]"

run "$NS" vpn add 10
check "vpn add: exit 0, no output" test "$RC" = 0 -a -z "$OUT"
run "$NS" vpn show
check "vpn show text" grep -Eq '^vpn 10 generation 1 members 0 created [0-9-]+T[0-9:]+Z$' <<<"$OUT"
run "$NS" -j vpn show 10
check "-j vpn show ID (no flags: [])" jqe 'length == 1 and .[0].vpn_id == 10 and .[0].generation == 1 and .[0].member_count == 0 and (.[0].create_time | type) == "number" and .[0].flags == []' <<<"$OUT"
run "$NS" vpn
check "vpn without command = show" grep -q '^vpn 10 ' <<<"$OUT"
run "$NS" -echo vpn add 12 nested-prefixes
check "-echo vpn add prints the VPN with its flags" grep -Eq '^vpn 12 generation 1 members 0 created [0-9TZ:-]+ nested-prefixes$' <<<"$OUT"
run "$NS" vpn del 12

# member add: a new member; changes print nothing without -echo
run "$NS" member add vpn 10 id 10.0.0.1 key $KEY1 endpoint 192.0.2.1:51820 allowed 10.1.0.0/24,10.2.0.0/16 allowed 2001:db8:1::/48
check "member add: exit 0, no output" test "$RC" = 0 -a -z "$OUT"
run "$NS" -echo member add vpn 10 id 2001:db8::2 key $KEY2 endpoint '[2001:db8::ff]:443'
check "-echo member add: generation and member count" test "$RC" = 0 -a "$OUT" = "vpn 10 generation 3 members 2"
run "$NS" -j -echo member join vpn 10 id 10.0.0.3 key $KEY1
check "... vpn_id, generation, member_count" jqe '. == {"vpn_id": 10, "generation": 4, "member_count": 3}' <<<"$OUT"
check "... valid for a strict parser" is_json
run "$NS" -j member add vpn 10 id 10.0.0.4 key $KEY2
check "-j member add without -echo prints nothing" test "$RC" = 0 -a -z "$OUT"

# member show
run "$NS" member show vpn 10
check "member show text: 4 lines in join order" test "$(cut -d' ' -f1-4 <<<"$OUT" | tr '\n' '|')" = "vpn 10 id 10.0.0.1|vpn 10 id 2001:db8::2|vpn 10 id 10.0.0.3|vpn 10 id 10.0.0.4|"
check "member show text fields" grep -Eq "^vpn 10 id 10.0.0.1 key $KEY1 endpoint 192.0.2.1:51820 allowed 10.1.0.0/24,10.2.0.0/16,2001:db8:1::/48 joined [0-9T:Z-]+ join-generation 2$" <<<"$OUT"
run "$NS" -j member show vpn 10
check "-j member show keys (id, not dev)" jqe 'length == 4 and all(.[]; has("vpn_id") and has("id") and (has("dev") | not) and has("public_key") and has("endpoint") and has("allowed_ips") and has("join_time") and has("join_generation")) and .[1].endpoint == "[2001:db8::ff]:443" and .[2].endpoint == null and .[0].allowed_ips == ["10.1.0.0/24","10.2.0.0/16","2001:db8:1::/48"]' <<<"$OUT"
check "-j member show: valid for a strict parser" is_json
run "$NS" -j -p member show vpn 10 id 2001:db8::2
check "-j -p member show ID id (pretty, valid)" bash -c 'jq -e "length == 1 and .[0].id == \"2001:db8::2\"" <<<"$0" >/dev/null && test $(wc -l <<<"$0") -gt 3' "$OUT"
run "$NS" member add vpn 11 id 10.0.0.1 key $KEY2
run "$NS" -j vpn show 11
check "member add creates a missing VPN (generation 1, joined at 2)" jqe '.[0].generation == 2 and .[0].member_count == 1' <<<"$OUT"
run "$NS" -j member show
check "member show without vpn lists all VPNs" jqe 'length == 5 and ([.[].vpn_id] == [10,10,10,10,11])' <<<"$OUT"
run "$NS" member
check "member without command = show" test "$(wc -l <<<"$OUT")" = 5

# add vs replace: add never replaces, replace (and join) does
before=$(state "$NS")
run "$NS" member add vpn 10 id 10.0.0.1 key $KEY2
expect_err "member add of an existing member: EEXIST" "Error: roster: member exists (create-only)."
check "... and nothing changed" test "$(state "$NS")" = "$before"
run "$NS" -echo member replace vpn 10 id 10.0.0.1 key $KEY2 allowed 10.9.0.0/16
check "member replace of an existing member" test "$RC" = 0 -a "$OUT" = "vpn 10 generation 6 members 4"
run "$NS" -j member show vpn 10
check "replaced member keeps its position, new record" jqe '.[0].id == "10.0.0.1" and .[0].public_key == "'$KEY2'" and .[0].allowed_ips == ["10.9.0.0/16"] and .[0].endpoint == null and .[0].join_generation == 6' <<<"$OUT"
run "$NS" -echo member join vpn 10 id 10.0.0.1 key $KEY1
check "member join is replace" test "$RC" = 0 -a "$OUT" = "vpn 10 generation 7 members 4"
run "$NS" -echo member replace vpn 10 id 10.0.0.9 key $KEY1
check "member replace of a new member adds it" test "$RC" = 0 -a "$OUT" = "vpn 10 generation 8 members 5"
run "$NS" -j member show vpn 10 id 10.0.0.9
check "... it is there" jqe '.[0].join_generation == 8' <<<"$OUT"

# del and its alias leave
run "$NS" -echo member del vpn 10 id 10.0.0.9
check "member del" test "$RC" = 0 -a "$OUT" = "vpn 10 generation 9 members 4"
run "$NS" member show vpn 10 id 10.0.0.9
expect_err "... it is gone" "Error: roster: no such member."
run "$NS" member del vpn 10 id 10.0.0.9
expect_err "member del of a missing member: ENOENT" "Error: roster: no such member."
run "$NS" -j -echo member leave vpn 10 id 2001:db8::2 reason admin
check "member leave is del" jqe '. == {"vpn_id": 10, "generation": 10, "member_count": 3}' <<<"$OUT"
run "$NS" -j member show vpn 10
check "the others stay, in order" jqe '[.[].id] == ["10.0.0.1","10.0.0.3","10.0.0.4"]' <<<"$OUT"
run "$NS" member del vpn 10 id 10.0.0.1 reason expired
run "$NS" member leave vpn 10 id 10.0.0.3
run "$NS" member del vpn 10 id 10.0.0.4
run "$NS" -j vpn show 10
check "empty VPN stays without delete-empty" jqe '.[0].member_count == 0 and .[0].generation == 13' <<<"$OUT"
run "$NS" -echo member del vpn 11 id 10.0.0.1 delete-empty
check "delete-empty: the change's reply, members 0" test "$RC" = 0 -a "$OUT" = "vpn 11 generation 3 members 0"
run "$NS" vpn show 11
expect_err "delete-empty deleted the emptied VPN" "Error: roster: no such VPN."
run "$NS" vpn del 10
check "vpn del" test "$RC" = 0 -a -z "$OUT"
run "$NS" -echo vpn del 10
expect_err "vpn del of a missing VPN" "Error: roster: no such VPN."
run "$NS" -j vpn show
check "table empty again" test "$OUT" = "[]"
run "$NS" -j member show
check "-j member show on empty table is []" test "$RC" = 0 -a "$OUT" = "[]"

ktap_done
