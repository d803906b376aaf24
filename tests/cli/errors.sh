#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every bad input: a clear message on stderr, exit status 1, nothing changed.
# The kernel's refusals come with its extack message.
source "$(dirname "$0")/lib.sh"
require_module
new_ns NS

# Some state to protect.
"$BIN" -n "$NS" vpn add 1
"$BIN" -n "$NS" member add vpn 1 id 10.0.0.1 key $KEY1 allowed 10.1.0.0/24
"$BIN" -n "$NS" member add vpn 1 id 2001:db8::1 key $KEY2
before=$(state "$NS")

too_many=$(for i in $(seq 0 32); do printf '10.%d.0.0/16,' $i; done); too_many=${too_many%,}
J="member add vpn 1 id 10.0.0.5 key $KEY1"
# name | expected stderr substring | arguments (word-split)
cases=(
"bad id|argument \"10.0.0.300\" is wrong: invalid id address|member add vpn 1 id 10.0.0.300 key $KEY1"
"id hostname|argument \"host\" is wrong: invalid id address|member replace vpn 1 id host key $KEY1"
"dev is not a keyword any more|argument \"dev\" is wrong: unknown keyword|member add vpn 1 dev 10.0.0.5 key $KEY1"
"short key|argument \"AAEC\" is wrong: invalid key|member add vpn 1 id 10.0.0.5 key AAEC"
"key bad char|is wrong: invalid key|member add vpn 1 id 10.0.0.5 key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!="
"endpoint v6 without brackets|argument \"2001:db8::1:51820\" is wrong: invalid endpoint|$J endpoint 2001:db8::1:51820"
"endpoint port 0|argument \"192.0.2.1:0\" is wrong: invalid endpoint|$J endpoint 192.0.2.1:0"
"endpoint port 70000|argument \"192.0.2.1:70000\" is wrong: invalid endpoint|$J endpoint 192.0.2.1:70000"
"endpoint without port|argument \"192.0.2.1\" is wrong: invalid endpoint|$J endpoint 192.0.2.1"
"prefix host bits|argument \"10.1.0.1/24\" is wrong: Invalid prefix for given prefix length.|$J allowed 10.1.0.1/24"
"v6 prefix host bits|argument \"2001:db8::1/64\" is wrong: Invalid prefix for given prefix length.|$J allowed 2001:db8::1/64"
"prefix length 33|argument \"10.1.0.0/33\" is wrong: invalid prefix length|$J allowed 10.1.0.0/33"
"prefix length 129|argument \"2001:db8::/129\" is wrong: invalid prefix length|$J allowed 2001:db8::/129"
"duplicate prefix|argument \"10.1.0.0/24\" is wrong: duplicate prefix|$J allowed 10.1.0.0/24 allowed 10.1.0.0/24"
"33 prefixes|too many prefixes (at most 32)|$J allowed $too_many"
"empty prefix in list|is wrong: invalid prefix|$J allowed 10.1.0.0/24,,10.2.0.0/24"
"unknown keyword|argument \"foo\" is wrong: unknown keyword|$J foo"
"abbreviated keyword|argument \"al\" is wrong: unknown keyword|$J al 10.1.0.0/24"
"excl is gone (add is create-only)|argument \"excl\" is wrong: unknown keyword|$J excl"
"vpn id 0|argument \"0\" is wrong: invalid VPN id|member add vpn 0 id 10.0.0.5 key $KEY1"
"vpn id overflow|argument \"4294967296\" is wrong: invalid VPN id|vpn add 4294967296"
"vpn id not a number|argument \"x1\" is wrong: invalid VPN id|vpn del x1"
"vpn add unknown flag|argument \"leader\" is wrong: unknown keyword|vpn add 2 leader"
"generation 0|argument \"0\" is wrong: invalid generation|$J generation 0"
"generation not a number|argument \"12a\" is wrong: invalid generation|vpn add 2 generation 12a"
"resync without generation|argument \"resync\" is wrong: only with \"generation N\"|$J resync"
"join-generation without generation|argument \"join-generation\" is wrong: only with \"generation N\"|$J join-generation 1"
"join-generation above generation|argument \"join-generation\" is wrong: above the change's generation|$J generation 4 join-generation 9"
"missing key|\"key\" argument is required|member add vpn 1 id 10.0.0.5"
"missing id|\"id\" argument is required|member del vpn 1"
"missing vpn|\"vpn\" argument is required|member replace id 10.0.0.5 key $KEY1"
"bad reason|argument \"bored\" is wrong: invalid reason|member del vpn 1 id 10.0.0.1 reason bored"
"duplicate id|duplicate \"id\"|member leave vpn 1 id 10.0.0.1 id 10.0.0.1"
"incomplete|Command line is not complete|member add vpn 1 id"
"unknown object|Object \"mem\" is unknown|mem show"
"unknown command|Command \"remove\" is unknown|vpn remove 1"
"unknown member command|Command \"create\" is unknown|member create vpn 1 id 10.0.0.5 key $KEY1"
"unknown option|Option \"-z\" is unknown|-z vpn show"
"vpn add existing (EEXIST)|Error: roster: VPN exists.|vpn add 1"
"vpn del unknown (ENOENT)|Error: roster: no such VPN.|vpn del 2"
"vpn show unknown|Error: roster: no such VPN.|vpn show 2"
"del unknown member|Error: roster: no such member.|member del vpn 1 id 10.0.0.99"
"del unknown vpn|Error: roster: no such VPN.|member del vpn 7 id 10.0.0.1"
"member show unknown vpn|Error: |member show vpn 7"
"member show unknown id|Error: roster: no such member.|member show vpn 1 id 10.0.0.99"
"add existing member (EEXIST)|Error: roster: member exists (create-only).|member add vpn 1 id 10.0.0.1 key $KEY1"
"kernel: member's own prefixes overlap|Error: roster: the member's prefixes overlap each other.|$J allowed 10.5.0.0/16,10.5.1.0/24"
"kernel: delete-empty cannot be stamped|Error: roster: delete-empty cannot be stamped: stamp a vpn-del.|member del vpn 1 id 10.0.0.1 delete-empty generation 4"
"kernel: stamped join into a missing VPN|Error: roster: no such VPN: create it with a stamped vpn-new first.|member add vpn 9 id 10.0.0.5 key $KEY1 generation 2"
"kernel: join-time in an unstamped change (no: the CLI)|argument \"join-time\" is wrong: only with \"generation N\"|$J join-time 1700000000"
)
ktap_plan $(( ${#cases[@]} + 3 ))
for c in "${cases[@]}"; do
	IFS='|' read -r name pat args <<<"$c"
	# shellcheck disable=SC2086
	run "$NS" $args
	expect_err "$name" "$pat"
done
after=$(state "$NS")
if [ "$before" = "$after" ]; then ok "bad inputs changed nothing"
else diag "before: $before"; diag "after: $after"; nok "bad inputs changed nothing"; fi

run no-such-netns-$$ vpn show
check "-n unknown netns: error, status 1" bash -c '[ "$0" = 1 ] && grep -q "network namespace" <<<"$1"' "$RC" "$ERR"
run "$NS" -j vpn show 2
check "-j on error prints no partial JSON" test "$RC" = 1 -a -z "$OUT"
ktap_done
