#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Each network namespace has its own roster table and its own limits: the
# same VPN ids and member ids live independently in two namespaces, changes
# in one are invisible in the other, a "notify" subscriber in one namespace
# gets no event for changes in the other, and the sysctls
# net.roster.max_vpns / net.roster.max_members (defaults 1024 / 131072,
# range 1..INT_MAX) are per namespace, set by that namespace's root and
# enforced there.
#
#   +--------------------------------+      +--------------------------------+
#   | $nsa                           |      | $nsb                           |
#   |  vpn 1: 10.0.0.1 (key 0x0a..)  |      |  vpn 1: 10.0.0.1 (key 0x0b..)  |
#   |  listener "a" (notify)         |      |  vpn 2: (empty)                |
#   |  max_vpns 2                    |      |  listener "b" (notify)         |
#   |                                |      |  max_members 1                 |
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
	listener-b-own-events delete-in-b-keeps-a listener-a-no-foreign-delete
	sysctl-defaults sysctl-per-netns sysctl-bad-values-refused
	sysctl-max-vpns-enforced sysctl-max-members-enforced
	sysctl-limits-other-netns-unaffected sysctl-unprivileged-refused
	sysctl-userns-root-sets-own sysctl-userns-root-not-init)
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
# member ids: IPv4 attributes are big-endian u32, given to YNL as integers
I1=$((10 << 24 | 1)) I2=$((10 << 24 | 2))

# One request per line; the answers are read back by line number (#N).
ynl_batch >"$ROSTER_TMP/out" 2>&1 <<EOS
ns $nsa
listen a
do vpn-new {"vpn-id": 1}
do member-join {"vpn-id": 1, "member": {"id-ipv4": $I1, "public-key": "$KA"}}
collect a
ns $nsb
listen b
do vpn-new {"vpn-id": 1}
do member-join {"vpn-id": 1, "member": {"id-ipv4": $I2, "public-key": "$KB"}}
do member-join {"vpn-id": 1, "member": {"id-ipv4": $I1, "public-key": "$KB"}}
do member-leave {"vpn-id": 1, "member": {"id-ipv4": $I2}}
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
check a-table-unchanged 17 '[.ok[] | [.["vpn-id"], .generation, .["member-count"]]] == [[1, 2, 1]]'
check a-table-unchanged-members 18 \
	'.ok | length == 1 and .[0].member["id-ipv4"] == "10.0.0.1" and .[0].member["public-key"] == $k' \
	--arg k "$KA"
check b-table 13 '[.ok[] | [.["vpn-id"], .generation, .["member-count"]]] == [[1, 4, 1], [2, 1, 0]]'
check a-unknown-vpn 19 '.errno == 2'
check listener-a-own-events 5 '[.ok[].name] == ["vpn-new-ntf", "member-joined-ntf"]'
check listener-a-no-foreign-events 20 '.ok == []'
check listener-b-own-events 15 '[.ok[] | [.name, .msg["vpn-id"], .msg.generation]] ==
	[["vpn-new-ntf", 1, 1], ["member-joined-ntf", 1, 2], ["member-joined-ntf", 1, 3],
	 ["member-left-ntf", 1, 4], ["vpn-new-ntf", 2, 1]]'
check delete-in-b-keeps-a 24 '.ok["vpn-id"] == 1 and .ok.generation == 2'
check listener-a-no-foreign-delete 25 '.ok == []'

# ---- limits: per-netns sysctls ------------------------------------------

SYS=/proc/sys/net/roster
ns_new nsd	# created after everything above: fresh
# sysctl_get NS NAME ("-" = this netns)
sysctl_get() {
	if [[ $1 == - ]]; then
		cat "$SYS/$2"
	else
		ip netns exec "$1" cat "$SYS/$2"
	fi
}
# sysctl_set NS NAME VALUE: the write's exit status
sysctl_set() {
	ip netns exec "$1" sh -c 'printf "%s\n" "$1" > "$2"' sh "$3" "$SYS/$2" 2>&1
}

sysctl_defaults() {
	local ns n v
	for ns in - "$nsa" "$nsb" "$nsd"; do
		for n in max_vpns:1024 max_members:131072; do
			v=$(sysctl_get "$ns" "${n%%:*}") || return 1
			echo "netns $ns: ${n%%:*} = $v"
			[[ $v == "${n#*:}" ]] || return 1
		done
	done
	ls -l "$SYS"
	# 0644, owned by root
	[[ $(stat -c %a "$SYS/max_vpns") == 644 && $(stat -c %a "$SYS/max_members") == 644 ]]
}
ktap_check sysctl-defaults sysctl_defaults

sysctl_per_netns() {
	sysctl_set "$nsa" max_vpns 2 || return 1
	sysctl_set "$nsb" max_members 1 || return 1
	echo "a: $(sysctl_get "$nsa" max_vpns) $(sysctl_get "$nsa" max_members)"
	echo "b: $(sysctl_get "$nsb" max_vpns) $(sysctl_get "$nsb" max_members)"
	echo "init: $(sysctl_get - max_vpns) $(sysctl_get - max_members)"
	[[ $(sysctl_get "$nsa" max_vpns) == 2 && $(sysctl_get "$nsa" max_members) == 131072 &&
		$(sysctl_get "$nsb" max_vpns) == 1024 && $(sysctl_get "$nsb" max_members) == 1 &&
		$(sysctl_get - max_vpns) == 1024 && $(sysctl_get - max_members) == 131072 ]]
}
ktap_check sysctl-per-netns sysctl_per_netns

# out of 1..INT_MAX, or no number: refused, the value kept
sysctl_bad_values() {
	local v n fails=0
	for n in max_vpns max_members; do
		for v in 0 -1 2147483648 4294967296 abc; do
			if sysctl_set "$nsd" "$n" "$v" >/dev/null; then
				echo "$n = '$v' accepted"
				fails=$((fails + 1))
			fi
		done
		[[ $(sysctl_get "$nsd" "$n") == "$([[ $n == max_vpns ]] && echo 1024 || echo 131072)" ]] ||
			{ echo "$n changed to $(sysctl_get "$nsd" "$n")"; fails=$((fails + 1)); }
		# the bounds themselves are fine
		sysctl_set "$nsd" "$n" 2147483647 || fails=$((fails + 1))
		[[ $(sysctl_get "$nsd" "$n") == 2147483647 ]] || fails=$((fails + 1))
		sysctl_set "$nsd" "$n" 1 || fails=$((fails + 1))
		[[ $(sysctl_get "$nsd" "$n") == 1 ]] || fails=$((fails + 1))
	done
	[[ $fails -eq 0 ]]
}
ktap_check sysctl-bad-values-refused sysctl_bad_values

# $nsa: max_vpns 2 (VPN 1 exists); $nsb: max_members 1 (VPN 2 is empty)
ynl_batch >"$ROSTER_TMP/lim" 2>&1 <<EOS
ns $nsa
do vpn-new {"vpn-id": 2}
do vpn-new {"vpn-id": 3}
do member-join {"vpn-id": 4, "member": {"id-ipv4": $I1, "public-key": "$KA"}}
do vpn-new {"vpn-id": 3, "generation": 7, "vpn-flags": ["follower"]}
dump vpn-get
ns $nsb
do member-join {"vpn-id": 2, "member": {"id-ipv4": $I1, "public-key": "$KB"}}
do member-join {"vpn-id": 2, "member": {"id-ipv4": $I2, "public-key": "$KB"}}
do member-join {"vpn-id": 2, "member": {"id-ipv4": $I1, "public-key": "$KA"}}
do vpn-new {"vpn-id": 3}
do vpn-new {"vpn-id": 4}
dump member-get {"vpn-id": 2}
ns $nsd
do vpn-new {"vpn-id": 1}
EOS
mapfile -t L <"$ROSTER_TMP/lim"
lim() {
	local n=$1 filter=$2
	printf 'answer %d: %s\n' "$n" "${L[$((n - 1))]:-}"
	jq -e "$filter" <<<"${L[$((n - 1))]:-null}" >/dev/null
}
max_vpns_enforced() {
	lim 2 '.ok["vpn-id"] == 2' &&
		lim 3 '.errno == 28 and (.extack.msg | contains("max_vpns"))' &&
		lim 4 '.errno == 28 and (.extack.msg | contains("max_vpns"))' &&
		lim 5 '.errno == 28 and (.extack.msg | contains("max_vpns"))' &&
		lim 6 '[.ok[]["vpn-id"]] == [1, 2]'
}
ktap_check sysctl-max-vpns-enforced max_vpns_enforced
max_members_enforced() {
	lim 8 '.ok["member-count"] == 1' &&
		lim 9 '.errno == 28 and (.extack.msg | contains("max_members"))' &&
		lim 10 '.ok["member-count"] == 1' &&
		lim 13 '[.ok[].member["id-ipv4"]] == ["10.0.0.1"]'
}
ktap_check sysctl-max-members-enforced max_members_enforced
# $nsb's max_vpns and $nsd's (now 1, from the bad-values test) are theirs
other_netns() {
	lim 11 '.ok["vpn-id"] == 3' && lim 12 '.ok["vpn-id"] == 4' &&
		lim 15 '.ok["vpn-id"] == 1'
}
ktap_check sysctl-limits-other-netns-unaffected other_netns

# Only the namespace's root sets its limits: not an unprivileged user ...
unpriv() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}
sysctl_unprivileged() {
	local out
	if out=$(unpriv sh -c "echo 5 > $SYS/max_vpns" 2>&1); then
		echo "unprivileged write accepted"
		return 1
	fi
	echo "unprivileged write: $out"
	[[ $(sysctl_get - max_vpns) == 1024 ]]
}
# ... but the root of a user namespace, in the network namespace it owns.
# (Creating a user namespace needs an unchrooted caller: scripts/vm-run's
# chroot into the host root refuses it with EPERM, even to root.)
userns_ok() {
	USERNS_ERR=$(unpriv unshare -U -r -n true 2>&1)
}
sysctl_userns_root() {
	local out
	out=$(unpriv unshare -U -r -n sh -c "id -u; cat $SYS/max_vpns; echo 5 > $SYS/max_vpns && cat $SYS/max_vpns" 2>&1)
	printf '%s\n' "$out"
	[[ $out == $'0\n1024\n5' ]] && [[ $(sysctl_get - max_vpns) == 1024 ]]
}
sysctl_userns_not_init() {
	local out
	if out=$(unpriv unshare -U -r sh -c "echo 5 > $SYS/max_vpns" 2>&1); then
		echo "write to the initial netns' sysctl from a user namespace accepted"
		return 1
	fi
	echo "user namespace root, initial netns: $out"
	[[ $(sysctl_get - max_vpns) == 1024 ]]
}
if command -v setpriv >/dev/null; then
	ktap_check sysctl-unprivileged-refused sysctl_unprivileged
	if userns_ok; then
		ktap_check sysctl-userns-root-sets-own sysctl_userns_root
		ktap_check sysctl-userns-root-not-init sysctl_userns_not_init
	else
		why="cannot create a user namespace here ($USERNS_ERR)"
		[[ $(stat -c %d:%i /) == "$(stat -L -c %d:%i /proc/1/root 2>/dev/null)" ]] ||
			why+=", chrooted"
		ktap_skip sysctl-userns-root-sets-own "$why"
		ktap_skip sysctl-userns-root-not-init "$why"
	fi
else
	for t in sysctl-unprivileged-refused sysctl-userns-root-sets-own sysctl-userns-root-not-init; do
		ktap_skip "$t" "setpriv (util-linux) not installed"
	done
fi

ktap_finish
