#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Each network namespace has its own roster table: the same VPN ids and
# member devs live independently in two namespaces, changes in one are
# invisible in the other, and a "notify" subscriber in one namespace gets no
# event for changes in the other.
#
#   +--------------------------------+      +--------------------------------+
#   | $nsa                           |      | $nsb                           |
#   |  vpn 1: 10.0.0.1 (key 0x0a..)  |      |  vpn 1: 10.0.0.1 (key 0x0b..)  |
#   |  listener "a" (notify)         |      |  vpn 2: (empty)                |
#   |                                |      |  listener "b" (notify)         |
#   +---------------+----------------+      +----------------+---------------+
#                   |          generic netlink "roster"      |
#                   +-------------------+--------------------+
#                                       |
#                            [ roster.ko: table per netns ]
#
# Requests go through the kernel's YNL library (ynl_batch in tests/lib.sh:
# one python process setns()-ing between the namespaces; notifications
# are delivered synchronously, so draining a listener right after a request
# sees everything that request multicast).
# shellcheck disable=SC2317,SC2154,SC2016,SC2119 # functions run via ktap_check; ns_new sets ns*; jq $vars
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"
trap roster_cleanup EXIT

TESTS=(same-id-both-netns a-table-unchanged a-table-unchanged-members b-table
	a-unknown-vpn listener-a-own-events listener-a-no-foreign-events
	listener-b-own-events delete-in-b-keeps-a listener-a-no-foreign-delete)
ktap_header ${#TESTS[@]}
skip_all() {
	local t
	for t in "${TESTS[@]}"; do ktap_skip "$t" "$1"; done
	ktap_finish
}
ynl_available || skip_all "YNL library not available ($YNL_SRC; run scripts/ksrc 6.12 on the host)"
command -v jq >/dev/null || skip_all "jq not installed"
roster_loaded || skip_all "roster module not loaded"

roster_tmpdir
ns_new nsa
ns_new nsb
KA=$(key_hex 10) KB=$(key_hex 11)
D1=$(hex_ip4 10.0.0.1) D2=$(hex_ip4 10.0.0.2)

# One request per line; the answers are read back by line number (#N).
ynl_batch >"$ROSTER_TMP/out" 2>&1 <<EOS
ns $nsa
listen a
do vpn-new {"vpn-id": 1}
do member-join {"vpn-id": 1, "member": {"dev": "$D1", "public-key": "$KA"}}
collect a
ns $nsb
listen b
do vpn-new {"vpn-id": 1}
do member-join {"vpn-id": 1, "member": {"dev": "$D2", "public-key": "$KB"}}
do member-join {"vpn-id": 1, "member": {"dev": "$D1", "public-key": "$KB"}}
do member-leave {"vpn-id": 1, "member": {"dev": "$D2"}}
do vpn-new {"vpn-id": 2}
dump vpn-get
dump member-get
collect b
ns $nsa
dump vpn-get
dump member-get
do vpn-get {"vpn-id": 2}
collect a
ns $nsb
do vpn-del {"vpn-id": 1}
ns $nsa
do vpn-get {"vpn-id": 1}
collect a
EOS
rc=$?
mapfile -t R <"$ROSTER_TMP/out"
if [[ $rc -ne 0 || ${#R[@]} -ne 25 ]]; then
	ktap_indent <"$ROSTER_TMP/out"
	skip_all "the YNL batch failed (exit $rc, ${#R[@]} of 25 answers)"
fi

# check NAME LINE FILTER [jq args]: answer #LINE (1-based) must satisfy FILTER
check() {
	local name=$1 n=$2 filter=$3
	shift 3
	if jq -e "$@" "$filter" <<<"${R[$((n - 1))]}" >/dev/null 2>&1; then
		ktap_pass "$name"
	else
		ktap_diag "answer #$n: ${R[$((n - 1))]}"
		ktap_fail "$name"
	fi
}

check same-id-both-netns 8 '.ok["vpn-id"] == 1 and .ok.generation == 1'
check a-table-unchanged 17 '.ok == [{"vpn-id": 1, "generation": 2, "member-count": 1,
	"create-time": .ok[0]["create-time"]}]'
check a-table-unchanged-members 18 \
	'.ok | length == 1 and .[0].member[0].dev == $d and .[0].member[0]["public-key"] == $k' \
	--arg d "$D1" --arg k "$KA"
check b-table 13 '[.ok[] | [.["vpn-id"], .generation, .["member-count"]]] == [[1, 4, 1], [2, 1, 0]]'
check a-unknown-vpn 19 '.errno == 2'
check listener-a-own-events 5 '[.ok[].name] == ["vpn-new-ntf", "member-joined-ntf"]'
check listener-a-no-foreign-events 20 '.ok == []'
check listener-b-own-events 15 '[.ok[] | [.name, .msg["vpn-id"], .msg.generation]] ==
	[["vpn-new-ntf", 1, 1], ["member-joined-ntf", 1, 2], ["member-joined-ntf", 1, 3],
	 ["member-left-ntf", 1, 4], ["vpn-new-ntf", 2, 1]]'
check delete-in-b-keeps-a 24 '.ok["vpn-id"] == 1 and .ok.generation == 2'
check listener-a-no-foreign-delete 25 '.ok == []'

ktap_finish
