#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# rosterd command-line checks that need no privileges and no kernel:
# usage errors (exit 2), config errors (exit 1), invite -> token, redeem of
# a malformed or expired token (exit 1), the token's intake (standard
# input or a mode 0600 file; an argument warns), backup of the manager's store
# (seeded by the store unit test program beside rosterd). KTAP output.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
R=${ROSTERD:-$HERE/../rosterd}
STORE_TEST=${STORE_TEST:-$(dirname "$R")/tests/store-test}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
n=0
fails=0

# t DESC WANT_RC [GREP] -- CMD...
t() {
	desc=$1 want=$2 pat=$3
	shift 4
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq "$want" ] && { [ -z "$pat" ] || grep -q -- "$pat" "$T/out" "$T/err"; }; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (rc $rc, want $want${pat:+, /$pat/})"
		sed 's/^/# /' "$T/out" "$T/err"
		fails=$((fails + 1))
	fi
}

cat >"$T/mgr.conf" <<EOC
[manager]
endpoint = 192.0.2.1
state-dir = $T/mgr
EOC
cat >"$T/gw.conf" <<EOC
[gateway]
state-dir = $T/gw
endpoint = 192.0.2.11
[vpn 7]
listen-port = 51807
prefix = 10.11.0.0/24
EOC
printf '[manager]\nlisten-port = 0\n' >"$T/bad.conf"
printf '[manager]\nendpoint = 192.0.2.1\nstate-dir = %s\n' "$T/store" >"$T/store.conf"
printf '[manager]\nendpoint = 192.0.2.1\nstate-dir = %s\n' "$T/old" >"$T/old.conf"
mkdir -m 0700 "$T/old"
echo "10.255.0.11 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= 7" >"$T/old/gateways"

echo "TAP version 13"
echo "1..41"
t "no arguments: usage" 2 "Usage" -- "$R"
t "--help" 0 "Usage: rosterd manager" -- "$R" --help
t "-V" 0 "rosterd " -- "$R" -V
t "unknown command" 2 "unknown command" -- "$R" frobnicate
t "manager without --config" 2 "--config" -- "$R" manager
t "unknown option" 2 "invalid option" -- "$R" manager --config "$T/mgr.conf" --bogus
t "invite without --vpn" 2 "--vpn" -- "$R" invite --config "$T/mgr.conf" --id 10.255.0.11
t "invite with a bad --id" 2 "invalid --id" -- "$R" invite --config "$T/mgr.conf" --id nope --vpn 7 --prefix 10.11.0.0/24
t "invite with --ttl 0" 2 "invalid --ttl" -- "$R" invite --config "$T/mgr.conf" --id 10.255.0.11 --vpn 7 --prefix 10.11.0.0/24 --ttl 0
t "invite without --prefix" 2 "at least one --prefix" -- "$R" invite --config "$T/mgr.conf" --id 10.255.0.11 --vpn 7
t "invite with a bad --prefix" 2 "invalid --prefix" -- "$R" invite --config "$T/mgr.conf" --id 10.255.0.11 --vpn 7 --prefix 10.11.0.1/24
t "invite with --prefix ::/0" 1 "length 0" -- "$R" invite --config "$T/mgr.conf" --id 10.255.0.11 --vpn 7 --prefix ::/0
t "invite with --prefix in the control prefix" 1 "inside the control prefix" -- "$R" invite --config "$T/mgr.conf" --id 10.255.0.11 --vpn 7 --prefix 10.255.7.0/24
t "redeem with two arguments" 2 "at most one argument" -- "$R" redeem --config "$T/gw.conf" a b
t "redeem with --token-file and an argument" 2 "not both" -- "$R" redeem --config "$T/gw.conf" --token-file "$T/x" -
t "--token-file is for redeem only" 2 "only valid for redeem" -- "$R" leave --config "$T/gw.conf" --vpn 7 --token-file "$T/x"
t "redeem with nothing on standard input" 1 "standard input: no invitation token" -- "$R" redeem --config "$T/gw.conf" </dev/null
t "leave without --vpn" 2 "--vpn" -- "$R" leave --config "$T/gw.conf"
t "bad config: exit 1 with the line" 1 "line 2: listen-port" -- "$R" manager --config "$T/bad.conf"
t "missing config file: exit 1" 1 "cannot read" -- "$R" manager --config "$T/none.conf"
t "invite outside the control prefix" 1 "control-prefix" -- "$R" invite --config "$T/mgr.conf" --id 10.1.0.1 --vpn 7 --prefix 10.11.0.0/24
t "invite an IPv6 id into an IPv4 control network" 1 "an IPv6 id in an IPv4 control network" -- "$R" invite --config "$T/mgr.conf" --id fd00:255::11 --vpn 7 --prefix 10.11.0.0/24
t "invite prints one token line" 0 "" -- "$R" invite --config "$T/mgr.conf" --id 10.255.0.11 --vpn 7 --vpn 9 --prefix 10.11.0.0/24 --prefix fd00:11::/48 -q
# The store, read with sqlite3 (independent of rosterd's code): one
# invitation for 10.255.0.11 (0AFF000B) to VPNs 7 and 9, with an expiry.
# Its prefixes: two 18-byte records.
inv=$(sqlite3 -readonly "$T/mgr/roster.db" "SELECT hex(id), vpns, expiry > 0, length(prefixes) FROM invites" 2>&1)
if [ "$(wc -l <"$T/out")" -ne 1 ] || [ "$inv" != "0AFF000B|7,9|1|36" ]; then
	echo "# bad token output or stored invitation: $inv"; fails=$((fails + 1))
fi
# The token is a secret: standard input or a file only its owner reads.
t "redeem a malformed token (standard input)" 1 "invalid invitation token" -- "$R" redeem --config "$T/gw.conf" - <<EOT
AAAA
EOT
if grep -q "command line" "$T/err"; then echo "# warned about a token on standard input"; fails=$((fails + 1)); fi
printf '  AAAA\r\n\n' >"$T/tokfile"
chmod 600 "$T/tokfile"
t "redeem without an argument reads standard input" 1 "invalid invitation token" -- "$R" redeem --config "$T/gw.conf" <"$T/tokfile"
t "redeem --token-file (0600)" 1 "invalid invitation token" -- "$R" redeem --config "$T/gw.conf" --token-file "$T/tokfile"
chmod 640 "$T/tokfile"
t "redeem --token-file readable by the group: refused" 1 "readable or writable by group or others (mode 0640)" -- "$R" redeem --config "$T/gw.conf" --token-file "$T/tokfile"
if grep -q "invalid invitation token" "$T/err"; then echo "# a group-readable token file was read"; fails=$((fails + 1)); fi
chmod 604 "$T/tokfile"
t "redeem --token-file readable by others: refused" 1 "mode 0604" -- "$R" redeem --config "$T/gw.conf" --token-file "$T/tokfile"
t "redeem --token-file missing" 1 "cannot read the invitation token" -- "$R" redeem --config "$T/gw.conf" --token-file "$T/none"
t "redeem --token-file not a regular file" 1 "not a regular file" -- "$R" redeem --config "$T/gw.conf" --token-file /dev/null
printf 'AAAA\nBBBB\n' >"$T/two"; chmod 600 "$T/two"
t "redeem --token-file with two tokens" 1 "more than one invitation token" -- "$R" redeem --config "$T/gw.conf" --token-file "$T/two"
t "redeem a token argument: works, with a warning" 1 "WARNING: the invitation token was given on the command line" -- "$R" redeem --config "$T/gw.conf" "AAAA"
grep -q "invalid invitation token" "$T/err" || { echo "# the token argument was not used"; fails=$((fails + 1)); }
"$R" invite --config "$T/mgr.conf" --id 10.255.0.12 --vpn 7 --prefix 10.12.0.0/24 --ttl 1 -q >"$T/tok" 2>/dev/null
sleep 2
t "redeem an expired token" 1 "expired" -- "$R" redeem --config "$T/gw.conf" - <"$T/tok"

# backup
t "backup without DEST" 2 "exactly one DEST" -- "$R" backup --config "$T/store.conf"
t "backup with two DESTs" 2 "exactly one DEST" -- "$R" backup --config "$T/store.conf" "$T/a" "$T/b"
t "backup with --vpn" 2 "only valid for invite" -- "$R" backup --config "$T/store.conf" --vpn 7 "$T/a"
t "backup with a gateway config" 1 "no \[manager\] section" -- "$R" backup --config "$T/gw.conf" "$T/a"
# The text files of a manager not yet started on a store: no store is made.
t "backup with no store" 1 "no store" -- "$R" backup --config "$T/old.conf" "$T/a"
if [ -e "$T/old/roster.db" ] || [ -e "$T/a" ] || [ ! -e "$T/old/gateways" ]; then
	echo "# backup with no store created or renamed files"; fails=$((fails + 1))
fi
id=$("$STORE_TEST" seed "$T/store") || { echo "# cannot seed a store with $STORE_TEST"; fails=$((fails + 1)); }
t "backup of a store" 0 "" -- "$R" backup --config "$T/store.conf" -q "$T/backup.db"
if [ "$(sqlite3 "$T/backup.db" "SELECT id, generation FROM vpns; SELECT count(*) FROM members;
	SELECT lower(hex(value)) FROM meta WHERE key = 'identity'; PRAGMA integrity_check" 2>&1 | tr '\n' ' ')" \
	!= "7|3 2 $id ok " ] || [ "$(stat -c %a "$T/backup.db")" != 600 ]; then
	echo "# the backup is not a copy of the store"; fails=$((fails + 1))
fi
t "backup over an existing DEST refused" 1 "already exists" -- "$R" backup --config "$T/store.conf" "$T/backup.db"
echo x >"$T/other"
t "backup over any existing file refused" 1 "refusing to overwrite" -- "$R" backup --config "$T/store.conf" "$T/other"
[ "$(cat "$T/other")" = x ] || { echo "# an existing DEST was changed"; fails=$((fails + 1)); }
echo "# $fails failure(s)"
[ "$fails" -eq 0 ]
