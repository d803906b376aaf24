#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host test of the `roster` command line: help, options and argument
# validation. Needs no kernel module: every bad input must be rejected
# before anything is sent. Prints KTAP.
set -u
cd "$(dirname "$0")/.."
BIN=${ROSTER_BIN:-cli/roster}
KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
n=0 fail=0
tests=()

ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }

# expect_fail NAME PATTERN ARGS...: exit status 1 and stderr matching PATTERN
expect_fail() {
	local name=$1 pat=$2; shift 2
	local err rc
	err=$("$BIN" "$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$pat" <<<"$err"; then ok "$name"
	else echo "# rc=$rc stderr: $err"; nok "$name"; fi
}
expect_ok() {
	local name=$1 pat=$2; shift 2
	local out rc
	out=$("$BIN" "$@" 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -qF -- "$pat" <<<"$out"; then ok "$name"
	else echo "# rc=$rc output: $out"; nok "$name"; fi
}

# The monitor's -t and -ts are checked in the VM (tests/cli/monitor.sh).
M="member add vpn 1 id 10.0.0.1 key $KEY"
# name % ok|fail % expected output substring % arguments (word-split)
cases=(
"help%ok%OBJECT := { vpn | member | monitor }%help"
"-h%ok%Usage: roster%-h"
"vpn help%ok%roster vpn add ID [ follower ] [ nested-prefixes ] [ generation N ]%vpn help"
"member help%ok%roster member { add | replace | join } vpn ID id ADDR key BASE64%member help"
"member help names del/leave%ok%roster member { del | leave } vpn ID id ADDR%member help"
"monitor help%ok%roster monitor [ -t[imestamp] | -ts[hort] ] [ vpn ID ]%monitor help"
"-V%ok%roster utility, version 2.0%-V"
"no object%fail%Usage: roster%"
"unknown object%fail%Object \"foo\" is unknown%foo"
"prefix of object is not accepted%fail%Object \"vp\" is unknown%vp show"
"unknown option%fail%Option \"-x\" is unknown%-x vpn show"
"-q is gone%fail%Option \"-q\" is unknown%-q vpn show"
"unknown vpn command%fail%Command \"sho\" is unknown%vpn sho"
"unknown member command%fail%Command \"ad\" is unknown%member ad"
"member create is not a command%fail%Command \"create\" is unknown%member create vpn 1"
"vpn add without id%fail%\"ID\" argument is required%vpn add"
"vpn id 0%fail%argument \"0\" is wrong: invalid VPN id%vpn add 0"
"vpn id too big%fail%argument \"4294967296\" is wrong%vpn del 4294967296"
"vpn trailing garbage%fail%argument \"foo\" is wrong: unknown keyword%vpn add 5 foo"
"vpn add abbreviated flag%fail%argument \"follow\" is wrong: unknown keyword%vpn add 5 follow"
"vpn add duplicate flag%fail%duplicate \"nested-prefixes\"%vpn add 5 nested-prefixes follower nested-prefixes"
"vpn add generation 0%fail%argument \"0\" is wrong: invalid generation%vpn add 5 generation 0"
"vpn add generation overflow%fail%argument \"18446744073709551616\" is wrong: invalid generation%vpn add 5 generation 18446744073709551616"
"vpn add generation without N%fail%Command line is not complete%vpn add 5 generation"
"vpn del takes no flags%fail%argument \"follower\" is wrong: unknown keyword%vpn del 5 follower"
"vpn del takes no resync%fail%argument \"resync\" is wrong: unknown keyword%vpn del 5 generation 3 resync"
"vpn show takes no generation%fail%argument \"generation\" is wrong: unknown keyword%vpn show 5 generation 3"
"vpn help names set%ok%roster vpn set ID [ { follower | nofollower } ] [ generation N [ resync ] ]%vpn help"
"vpn set without a change%fail%Error: nothing to change: give \"follower\", \"nofollower\" or \"generation N\".%vpn set 5"
"vpn set without id%fail%\"ID\" argument is required%vpn set"
"vpn set follower and nofollower%fail%argument \"nofollower\" is wrong: either follower or nofollower%vpn set 5 follower nofollower"
"vpn set nested-prefixes is fixed%fail%argument \"nested-prefixes\" is wrong: unknown keyword%vpn set 5 nested-prefixes"
"vpn set resync without generation%fail%argument \"resync\" is wrong: only with \"generation N\"%vpn set 5 follower resync"
"vpn add takes no resync%fail%argument \"resync\" is wrong: unknown keyword%vpn add 5 generation 3 resync"
"member unknown keyword%fail%argument \"foo\" is wrong: unknown keyword%$M foo"
"member dev is now id%fail%argument \"dev\" is wrong: unknown keyword%member add vpn 1 dev 10.0.0.1 key $KEY"
"member excl is now add%fail%argument \"excl\" is wrong: unknown keyword%member replace vpn 1 id 10.0.0.1 key $KEY excl"
"member add needs key%fail%\"key\" argument is required%member add vpn 1 id 10.0.0.1"
"member replace needs id%fail%\"id\" argument is required%member replace vpn 1 key $KEY"
"member join needs vpn%fail%\"vpn\" argument is required%member join id 10.0.0.1 key $KEY"
"member del needs id%fail%\"id\" argument is required%member del vpn 1"
"member leave needs vpn%fail%\"vpn\" argument is required%member leave id 10.0.0.1"
"bad id%fail%argument \"10.0.0.300\" is wrong: invalid id address%member add vpn 1 id 10.0.0.300 key $KEY"
"bad key%fail%argument \"abc\" is wrong: invalid key%member add vpn 1 id 10.0.0.1 key abc"
"bad endpoint v6 w/o brackets%fail%argument \"2001:db8::1:51820\" is wrong: invalid endpoint%$M endpoint 2001:db8::1:51820"
"bad endpoint port 0%fail%argument \"192.0.2.1:0\" is wrong%$M endpoint 192.0.2.1:0"
"prefix host bits%fail%argument \"10.1.0.1/24\" is wrong: Invalid prefix for given prefix length.%$M allowed 10.1.0.1/24"
"prefix too long%fail%argument \"10.1.0.0/33\" is wrong: invalid prefix length%$M allowed 10.1.0.0/33"
"duplicate prefix%fail%argument \"10.1.0.0/24\" is wrong: duplicate prefix%$M allowed 10.1.0.0/24,10.1.0.0/24"
"duplicate keyword%fail%duplicate \"id\"%member add vpn 1 id 10.0.0.1 id 10.0.0.2 key $KEY"
"duplicate generation%fail%duplicate \"generation\"%$M generation 2 generation 3"
"incomplete command%fail%Command line is not complete%member add vpn"
"bad reason%fail%argument \"later\" is wrong: invalid reason%member del vpn 1 id 10.0.0.1 reason later"
"del rejects key%fail%argument \"key\" is wrong: unknown keyword%member del vpn 1 id 10.0.0.1 key $KEY"
"add rejects reason%fail%argument \"reason\" is wrong: unknown keyword%$M reason admin"
"add rejects delete-empty%fail%argument \"delete-empty\" is wrong: unknown keyword%$M delete-empty"
"del rejects join-generation%fail%argument \"join-generation\" is wrong: unknown keyword%member leave vpn 1 id 10.0.0.1 generation 3 join-generation 2"
"show rejects generation%fail%argument \"generation\" is wrong: unknown keyword%member show vpn 1 generation 3"
"generation 0%fail%argument \"0\" is wrong: invalid generation%$M generation 0"
"generation not a number%fail%argument \"x\" is wrong: invalid generation%member del vpn 1 id 10.0.0.1 generation x"
"resync without generation%fail%argument \"resync\" is wrong: only with \"generation N\"%$M resync"
"del resync without generation%fail%argument \"resync\" is wrong: only with \"generation N\"%member del vpn 1 id 10.0.0.1 resync"
"join-generation without generation%fail%argument \"join-generation\" is wrong: only with \"generation N\"%$M join-generation 2"
"join-time without generation%fail%argument \"join-time\" is wrong: only with \"generation N\"%$M join-time 1700000000"
"join-generation above generation%fail%argument \"join-generation\" is wrong: above the change's generation%$M generation 4 resync join-generation 5"
"join-time 0%fail%argument \"0\" is wrong: invalid join-time%$M generation 4 join-time 0"
"-rcvbuf 0%fail%argument \"0\" is wrong: invalid receive buffer size%-rcvbuf 0 monitor"
"-rcvbuf wraps around int%fail%argument \"4294967297\" is wrong: invalid receive buffer size (1..2147483647 bytes)%-rcvbuf 4294967297 monitor"
"-rcvbuf above INT_MAX%fail%argument \"2147483648\" is wrong: invalid receive buffer size%-rcvbuf 2147483648 monitor"
"-rcvbuf overflows long%fail%argument \"99999999999999999999\" is wrong: invalid receive buffer size%-rcvbuf 99999999999999999999 monitor"
"-rcvbuf with a unit%fail%argument \"8M\" is wrong: invalid receive buffer size%-rcvbuf 8M monitor"
)
echo "TAP version 13"
echo "1..$(( ${#cases[@]} + 4 ))"
for c in "${cases[@]}"; do
	IFS='%' read -r name how pat args <<<"$c"
	# shellcheck disable=SC2086 # args is a word list
	if [ "$how" = ok ]; then expect_ok "$name" "$pat" $args
	else expect_fail "$name" "$pat" $args; fi
done
too_many=$(for i in $(seq 0 32); do printf '10.%d.0.0/16,' $i; done); too_many=${too_many%,}
expect_fail "too many prefixes" 'too many prefixes (at most 32)' member add vpn 1 id 10.0.0.1 key $KEY allowed "$too_many"
printf 'vpn help\n\n# comment\nvpn add 0\nvpn help\n' > "${TMPDIR:-/tmp}/roster-usage-batch.$$"
expect_fail "batch reports failing line" "Command failed ${TMPDIR:-/tmp}/roster-usage-batch.$$:4" -b "${TMPDIR:-/tmp}/roster-usage-batch.$$"
# A NUL byte must not cut "vpn add 0" down to a harmless "vpn help":
# the line fails, and with -force the next line still runs.
printf 'vpn help\nvpn help\0 add 0\n' > "${TMPDIR:-/tmp}/roster-usage-batch.$$"
expect_fail "batch refuses a NUL byte" "NUL byte in the line" -b "${TMPDIR:-/tmp}/roster-usage-batch.$$"
printf 'vpn\0 help\nvpn help\n' > "${TMPDIR:-/tmp}/roster-usage-batch.$$"
out=$("$BIN" -force -b "${TMPDIR:-/tmp}/roster-usage-batch.$$" 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -qF "NUL byte in the line" <<<"$out" &&
   grep -qF "Command failed ${TMPDIR:-/tmp}/roster-usage-batch.$$:1" <<<"$out" &&
   grep -qF "roster vpn add ID" <<<"$out"; then ok "batch -force goes on after a NUL byte"
else echo "# rc=$rc output: $out"; nok "batch -force goes on after a NUL byte"; fi
rm -f "${TMPDIR:-/tmp}/roster-usage-batch.$$"
echo "# $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
