#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for tests/cli/*.sh (sourced; running it directly is a no-op).
# Each test runs as root inside the VM with roster.ko loaded (or ROSTER_KO
# set), works in its own network namespaces and writes only below /tmp.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "TAP version 13"; echo "1..0 # SKIP helper library, not a test"; exit 0
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${ROSTER_BIN:-$REPO/userspace/cli/roster}
case $BIN in /*) ;; *) BIN=$REPO/$BIN ;; esac
KEY1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
KEY2=xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
T_NUM=0 T_FAIL=0 T_SKIP=0
NSS=()
SCRATCH=$(mktemp -d /tmp/roster-test.XXXXXX)

cleanup() {
	local ns p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ktap_plan() { echo "TAP version 13"; echo "1..$1"; }
ok() { T_NUM=$((T_NUM + 1)); echo "ok $T_NUM $1"; }
nok() { T_NUM=$((T_NUM + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_NUM $1"; }
skip() { T_NUM=$((T_NUM + 1)); T_SKIP=$((T_SKIP + 1)); echo "ok $T_NUM $1 # SKIP $2"; }
# check NAME CMD...: ok if CMD succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
diag() { sed 's/^/# /' <<<"$*"; }
ktap_done() {
	echo "# $((T_NUM - T_FAIL - T_SKIP)) passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}

require_module() {
	if [ ! -d /sys/module/roster ]; then
		if [ -n "${ROSTER_KO:-}" ]; then
			insmod "$ROSTER_KO" || modprobe roster
		else
			insmod "$REPO/build/kmod/$(uname -r)/roster.ko" 2>/dev/null || modprobe roster 2>/dev/null
		fi
	fi
	if [ ! -d /sys/module/roster ]; then
		ktap_plan 1; echo "ok 1 roster # SKIP roster.ko not loaded"; exit 0
	fi
	if ! command -v jq >/dev/null; then
		ktap_plan 1; echo "ok 1 roster # SKIP jq missing"; exit 0
	fi
}

# new_ns VAR: create a uniquely named netns and store its name in VAR
new_ns() {
	local name="rst-$(basename "$0" .sh)-$$-${#NSS[@]}"
	ip netns add "$name" || { echo "Bail out! cannot create netns"; exit 1; }
	NSS+=("$name")
	printf -v "$1" '%s' "$name"
}

# run NS ARGS...: run roster in NS; stdout -> $OUT, stderr -> $ERR, status -> $RC
run() {
	local ns=$1; shift
	"$BIN" -n "$ns" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
	RC=$?
	OUT=$(<"$SCRATCH/out")
	ERR=$(<"$SCRATCH/err")
}
# is_json: $OUT is exactly one JSON document (a strict parser: python's
# json, which also refuses NaN and trailing garbage; jq if python is missing)
PY=$(command -v /usr/bin/python3 || command -v python3)
is_json() { json_doc <<<"$OUT"; }
json_doc() {
	if [ -n "$PY" ]; then
		"$PY" -c 'import json, sys
def bad(c): raise ValueError(c)
json.loads(sys.stdin.read(), parse_constant=bad)' 2>/dev/null
	else
		jq -e . >/dev/null 2>&1
	fi
}
# json_lines FILE: every line of FILE is one JSON document, and there is one
json_lines() {
	if [ -n "$PY" ]; then
		"$PY" -c 'import json, sys
def bad(c): raise ValueError(c)
n = 0
for line in open(sys.argv[1]):
    json.loads(line, parse_constant=bad); n += 1
sys.exit(0 if n else 1)' "$1" 2>/dev/null
	else
		jq -e -s 'length > 0' "$1" >/dev/null 2>&1
	fi
}
# jqe FILTER [FILE]: jq -e, quietly
jqe() { jq -e "$@" >/dev/null; }
# expect_err NAME PATTERN...: the last run failed with status 1, printed
# nothing on stdout and every PATTERN (fixed strings) on stderr
expect_err() {
	local name=$1 p; shift
	for p in "$@"; do
		if ! grep -qF -- "$p" <<<"$ERR"; then
			diag "rc=$RC stdout: $OUT"; diag "stderr: $ERR (wanted: $p)"; nok "$name"
			return
		fi
	done
	if [ "$RC" = 1 ] && [ -z "$OUT" ]; then ok "$name"
	else diag "rc=$RC stdout: $OUT"; diag "stderr: $ERR"; nok "$name"; fi
}
# state NS: canonical JSON of the whole table (VPNs and members)
state() {
	{ "$BIN" -n "$1" -j vpn show; "$BIN" -n "$1" -j member show; } 2>&1 | jq -cS 'map(del(.create_time))' 2>&1
}
