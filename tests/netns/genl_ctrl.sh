#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "roster" generic netlink family is registered once and visible, with
# the same id, version, ops and "notify" group, from every network namespace
# (generic netlink families are global; only the tables are per netns).
#
#   +------------------+   +-------------------+   +-------------------+
#   | init netns       |   | $ns1              |   | $ns2              |
#   | genl-ctrl-list   |   | ip netns exec ... |   | ip netns exec ... |
#   +--------+---------+   +---------+---------+   +---------+---------+
#            |                       |                       |
#            +-----------+-----------+-----------+-----------+
#                        |  CTRL_CMD_GETFAMILY dump (nlctrl)
#                  [ roster.ko: family "roster" v2, grp notify ]
#
# Needs: roster.ko loaded, genl-ctrl-list (libnl-utils).
# shellcheck disable=SC2317,SC2154,SC2016,SC2119 # functions run via ktap_check; ns_new sets ns*; jq $vars
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"
trap roster_cleanup EXIT

ktap_header 7

if ! command -v genl-ctrl-list >/dev/null; then
	for t in family-init family-ns1 family-ns2 same-id ops groups ns-exec; do
		ktap_skip "$t" "genl-ctrl-list (libnl-utils) not installed"
	done
	ktap_finish
fi
if ! roster_loaded; then
	for t in family-init family-ns1 family-ns2 same-id ops groups ns-exec; do
		ktap_skip "$t" "roster module not loaded"
	done
	ktap_finish
fi

# roster_block [NS]: the "roster" block of genl-ctrl-list -d, in NS.
roster_block() {
	local cmd=(genl-ctrl-list -d)
	[[ -z ${1:-} ]] || cmd=(ip netns exec "$1" "${cmd[@]}")
	"${cmd[@]}" | awk '/^0x/ { inb = ($2 == "roster") } inb'
}

# check_family NS: roster version 2 (uAPI v2), with grp notify
check_family() {
	local block
	block=$(roster_block "${1:-}")
	printf '%s\n' "$block"
	grep -qE '^0x[0-9a-f]+ roster version 2$' <<<"$block" &&
		grep -qE '^ +grp notify \(0x[0-9a-f]+\)$' <<<"$block"
}

ns_new ns1
ns_new ns2

ktap_check family-init check_family
ktap_check family-ns1 check_family "$ns1"
ktap_check family-ns2 check_family "$ns2"

same_id() {
	local a b c
	a=$(roster_block) b=$(roster_block "$ns1") c=$(roster_block "$ns2")
	printf '%s\n' "$a"
	[[ -n $a && $a == "$b" && $a == "$c" ]]
}
ktap_check same-id same_id

# ops 1..6 (VPN_NEW..MEMBER_GET) and 12 (VPN_SET) have a doit, VPN_GET and
# MEMBER_GET dumps, and only those two; the notification-only commands
# 7..11 and 13 (VPN_CHANGED_NTF) are not ops.
check_ops() {
	local block op
	block=$(roster_block)
	printf '%s\n' "$block"
	for op in 01 02 03 04 05 06 0c; do
		grep -qE "^ +op [^ ]+ \(0x$op\) <[^>]*has_doit" <<<"$block" ||
			{ echo "op 0x$op missing or without doit"; return 1; }
	done
	for op in 03 06; do
		grep -qE "^ +op [^ ]+ \(0x$op\) <[^>]*has_dump" <<<"$block" ||
			{ echo "op 0x$op without dump"; return 1; }
	done
	for op in 01 02 04 05 0c; do
		! grep -qE "^ +op [^ ]+ \(0x$op\) <[^>]*has_dump" <<<"$block" ||
			{ echo "op 0x$op has a dump"; return 1; }
	done
	[[ $(grep -cE '^ +op ' <<<"$block") -eq 7 ]] ||
		{ echo "not exactly 7 ops"; return 1; }
	for op in 07 08 09 0a 0b 0d; do
		! grep -qE "^ +op [^ ]+ \(0x$op\)" <<<"$block" ||
			{ echo "notification 0x$op registered as an op"; return 1; }
	done
}
ktap_check ops check_ops

check_groups() {
	local block
	block=$(roster_block)
	[[ $(grep -cE '^ +grp ' <<<"$block") -eq 1 ]]
}
ktap_check groups check_groups

# A namespace created after the module was loaded sees the family too.
ns_new ns3
ktap_check ns-exec check_family "$ns3"

ktap_finish
