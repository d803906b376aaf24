#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# roster vpn/member commands, text and JSON output, help at every level.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 31
new_ns NS

# help and version (no kernel needed)
run "$NS" help;        check "roster help" grep -q "OBJECT := { vpn | member | monitor }" <<<"$OUT"
run "$NS" vpn help;    check "roster vpn help" grep -q "roster vpn add ID" <<<"$OUT"
run "$NS" member help; check "roster member help" grep -q "roster member join vpn ID" <<<"$OUT"
run "$NS" -V;          check "roster -V" grep -q "roster utility, version" <<<"$OUT"

# the family is registered (independent check)
if command -v genl-ctrl-list >/dev/null; then
	check "genl-ctrl-list shows roster" bash -c 'genl-ctrl-list | grep -q " roster version 1"'
else
	skip "genl-ctrl-list shows roster" "libnl-utils not installed"
fi

run "$NS" -j vpn show
check "empty table: -j vpn show is []" test "$RC" = 0 -a "$OUT" = "[]"

run "$NS" vpn add 10
check "vpn add: exit 0, no output" test "$RC" = 0 -a -z "$OUT"
run "$NS" vpn show
check "vpn show text" grep -Eq '^vpn 10 generation 1 members 0 created [0-9-]+T[0-9:]+Z$' <<<"$OUT"
run "$NS" -j vpn show 10
check "-j vpn show ID" jqe 'length == 1 and .[0].vpn_id == 10 and .[0].generation == 1 and .[0].member_count == 0 and (.[0].create_time | type) == "number"' <<<"$OUT"
run "$NS" vpn
check "vpn without command = show" grep -q '^vpn 10 ' <<<"$OUT"

# join: first member sees nobody
run "$NS" member join vpn 10 dev 10.0.0.1 key $KEY1 endpoint 192.0.2.1:51820 allowed 10.1.0.0/24,10.2.0.0/16 allowed 2001:db8:1::/48
check "member join (first) text" test "$RC" = 0 -a "$OUT" = "vpn 10 generation 2 members 0"
# second member: the JOIN message lists the first
run "$NS" -j member join vpn 10 dev 2001:db8::2 key $KEY2 endpoint '[2001:db8::ff]:443'
check "member join -j lists the other member" jqe '.vpn_id == 10 and .generation == 3 and .member_count == 1 and (.members | length) == 1 and .members[0].dev == "10.0.0.1" and .members[0].public_key == "'$KEY1'" and .members[0].endpoint == "192.0.2.1:51820" and .members[0].allowed_ips == ["10.1.0.0/24","10.2.0.0/16","2001:db8:1::/48"] and .members[0].join_generation == 2' <<<"$OUT"
run "$NS" member join vpn 10 dev 10.0.0.3 key $KEY1
check "member join text lists others indented" test "$(grep -c '^    dev ' <<<"$OUT")" = 2

# member show
run "$NS" member show vpn 10
check "member show text: 3 lines in join order" test "$(cut -d' ' -f1-4 <<<"$OUT" | tr '\n' '|')" = "vpn 10 dev 10.0.0.1|vpn 10 dev 2001:db8::2|vpn 10 dev 10.0.0.3|"
check "member show text fields" grep -Eq "^vpn 10 dev 10.0.0.1 key $KEY1 endpoint 192.0.2.1:51820 allowed 10.1.0.0/24,10.2.0.0/16,2001:db8:1::/48 joined [0-9T:Z-]+ join-generation 2$" <<<"$OUT"
run "$NS" -j member show vpn 10
check "-j member show keys" jqe 'length == 3 and all(.[]; has("vpn_id") and has("dev") and has("public_key") and has("endpoint") and has("allowed_ips") and has("join_time") and has("join_generation")) and .[1].endpoint == "[2001:db8::ff]:443" and .[2].endpoint == null' <<<"$OUT"
run "$NS" -j -p member show vpn 10 dev 2001:db8::2
check "-j -p member show ID dev (pretty, valid)" bash -c 'jq -e "length == 1 and .[0].dev == \"2001:db8::2\"" <<<"$0" >/dev/null && test $(wc -l <<<"$0") -gt 3' "$OUT"
run "$NS" member join vpn 11 dev 10.0.0.1 key $KEY2
check "join creates missing VPN" test "$RC" = 0 -a "$OUT" = "vpn 11 generation 2 members 0"
run "$NS" -j member show
check "member show without vpn lists all VPNs" jqe 'length == 4 and ([.[].vpn_id] == [10,10,10,11])' <<<"$OUT"
run "$NS" member
check "member without command = show" test "$(wc -l <<<"$OUT")" = 4

# update (re-join without excl) keeps the position, bumps generation
run "$NS" -j member join vpn 10 dev 10.0.0.1 key $KEY2 allowed 10.9.0.0/16
check "re-join updates the member" jqe '.generation == 5 and .member_count == 2' <<<"$OUT"
run "$NS" -j member show vpn 10
check "updated member keeps position and new attrs" jqe '.[0].dev == "10.0.0.1" and .[0].public_key == "'$KEY2'" and .[0].allowed_ips == ["10.9.0.0/16"] and .[0].endpoint == null and .[0].join_generation == 5' <<<"$OUT"

# excl (NLM_F_EXCL): EEXIST on an existing member, nothing changed
before=$(state "$NS")
run "$NS" member join vpn 10 dev 10.0.0.1 key $KEY1 excl
if [ "$RC" = 1 ] && grep -qi "exist" <<<"$ERR" && [ "$(state "$NS")" = "$before" ]; then
	ok "join excl on existing member fails with EEXIST"
else
	diag "rc=$RC stderr: $ERR"; nok "join excl on existing member fails with EEXIST"
fi
run "$NS" member join vpn 10 dev 10.0.0.9 key $KEY1 excl
check "join excl of a new member succeeds" test "$RC" = 0

# leave
run "$NS" member leave vpn 10 dev 10.0.0.9
run "$NS" -j member leave vpn 10 dev 2001:db8::2 reason admin
check "leave -j lists the remaining members" jqe '.vpn_id == 10 and .member_count == 2 and ([.members[].dev] == ["10.0.0.1","10.0.0.3"])' <<<"$OUT"
run "$NS" member leave vpn 10 dev 10.0.0.1 reason expired
check "leave text" grep -Eq '^vpn 10 generation [0-9]+ members 1$' <<<"$OUT"
run "$NS" member leave vpn 10 dev 10.0.0.3
run "$NS" -j vpn show 10
check "empty VPN stays without delete-empty" jqe '.[0].member_count == 0' <<<"$OUT"
run "$NS" member leave vpn 11 dev 10.0.0.1 delete-empty
run "$NS" vpn show 11
check "delete-empty deletes the emptied VPN" test "$RC" = 1
run "$NS" vpn del 10
check "vpn del" test "$RC" = 0 -a -z "$OUT"
run "$NS" -j vpn show
check "table empty again" test "$OUT" = "[]"
run "$NS" -j member show
check "-j member show on empty table is []" test "$RC" = 0 -a "$OUT" = "[]"

ktap_done
