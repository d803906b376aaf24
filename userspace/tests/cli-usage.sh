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

echo "TAP version 13"
echo "1..34"
expect_ok "help" "OBJECT := { vpn | member | monitor }" help
expect_ok "-h" "Usage: roster" -h
expect_ok "vpn help" "roster vpn add ID" vpn help
expect_ok "member help" "roster member leave" member help
expect_ok "monitor help" "roster monitor [ vpn ID ]" monitor help
expect_ok "-V" "roster utility, version" -V
expect_fail "no object" "Usage: roster"
expect_fail "unknown object" 'Object "foo" is unknown' foo
expect_fail "prefix of object is not accepted" 'Object "vp" is unknown' vp show
expect_fail "unknown option" 'Option "-x" is unknown' -x vpn show
expect_fail "unknown vpn command" 'Command "sho" is unknown' vpn sho
expect_fail "unknown member command" 'Command "joi" is unknown' member joi
expect_fail "vpn add without id" '"ID" argument is required' vpn add
expect_fail "vpn id 0" 'argument "0" is wrong: invalid VPN id' vpn add 0
expect_fail "vpn id too big" 'argument "4294967296" is wrong' vpn del 4294967296
expect_fail "vpn trailing garbage" 'argument "foo" is wrong: unknown keyword' vpn add 5 foo
expect_fail "member unknown keyword" 'argument "foo" is wrong: unknown keyword' member join vpn 1 foo
expect_fail "member join needs key" '"key" argument is required' member join vpn 1 dev 10.0.0.1
expect_fail "member join needs dev" '"dev" argument is required' member join vpn 1 key $KEY
expect_fail "member join needs vpn" '"vpn" argument is required' member join dev 10.0.0.1 key $KEY
expect_fail "bad dev" 'argument "10.0.0.300" is wrong: invalid dev address' member join vpn 1 dev 10.0.0.300 key $KEY
expect_fail "bad key" 'argument "abc" is wrong: invalid key' member join vpn 1 dev 10.0.0.1 key abc
expect_fail "bad endpoint v6 w/o brackets" 'argument "2001:db8::1:51820" is wrong: invalid endpoint' member join vpn 1 dev 10.0.0.1 key $KEY endpoint 2001:db8::1:51820
expect_fail "bad endpoint port 0" 'argument "192.0.2.1:0" is wrong' member join vpn 1 dev 10.0.0.1 key $KEY endpoint 192.0.2.1:0
expect_fail "prefix host bits" 'argument "10.1.0.1/24" is wrong: Invalid prefix for given prefix length.' member join vpn 1 dev 10.0.0.1 key $KEY allowed 10.1.0.1/24
expect_fail "prefix too long" 'argument "10.1.0.0/33" is wrong: invalid prefix length' member join vpn 1 dev 10.0.0.1 key $KEY allowed 10.1.0.0/33
expect_fail "duplicate prefix" 'argument "10.1.0.0/24" is wrong: duplicate prefix' member join vpn 1 dev 10.0.0.1 key $KEY allowed 10.1.0.0/24,10.1.0.0/24
too_many=$(for i in $(seq 0 32); do printf '10.%d.0.0/16,' $i; done); too_many=${too_many%,}
expect_fail "too many prefixes" 'too many prefixes (at most 32)' member join vpn 1 dev 10.0.0.1 key $KEY allowed "$too_many"
expect_fail "duplicate keyword" 'duplicate "dev"' member join vpn 1 dev 10.0.0.1 dev 10.0.0.2 key $KEY
expect_fail "incomplete command" 'Command line is not complete' member join vpn
expect_fail "bad reason" 'argument "later" is wrong: invalid reason' member leave vpn 1 dev 10.0.0.1 reason later
expect_fail "leave rejects key" 'argument "key" is wrong: unknown keyword' member leave vpn 1 dev 10.0.0.1 key $KEY
expect_fail "join rejects reason" 'argument "reason" is wrong: unknown keyword' member join vpn 1 dev 10.0.0.1 key $KEY reason admin
printf 'vpn help\n\n# comment\nvpn add 0\nvpn help\n' > "${TMPDIR:-/tmp}/roster-usage-batch.$$"
expect_fail "batch reports failing line" "Command failed ${TMPDIR:-/tmp}/roster-usage-batch.$$:4" -b "${TMPDIR:-/tmp}/roster-usage-batch.$$"
rm -f "${TMPDIR:-/tmp}/roster-usage-batch.$$"
echo "# $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
