#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module and namespace lifecycle with live objects:
#  - 5 x: fill 3 namespaces with VPNs and members, change a limit sysctl in
#    one, rmmod roster (must succeed, free everything and take the
#    net.roster sysctls away), insmod again: every table is empty and the
#    limits are back at their defaults;
#  - the limits are sysctls, not module parameters;
#  - deleting a namespace that holds members frees them (checked with the
#    module's created/destroyed debug messages);
#  - after rmmod, a CTRL_CMD_GETFAMILY by name ("genl ctrl get name roster")
#    autoloads roster.ko through its MODULE_ALIAS_GENL_FAMILY alias. The
#    root filesystem is read-only, so the module is installed into a tmpfs
#    copy of the module tree (depmod -b) and kernel.modprobe points to a
#    wrapper running "modprobe -d" on it (restored afterwards).
#
#   +-----------+ +-----------+ +-----------+    +-----------+
#   | $ns1      | | $ns2      | | $ns3      |    | $ns4      |
#   | vpn C1: 2 | | vpn C1: 2 | | vpn C1: 2 |    | vpn 9: 3  | -- ip netns del
#   | vpn C2: 1 | | vpn C2: 1 | | vpn C2: 1 |    +-----------+
#   | vpn C3: 0 | | vpn C3: 0 | | vpn C3: 0 |
#   |           | |           | | max_m. 1C |
#   +-----+-----+ +-----+-----+ +-----+-----+
#         +-------------+-------------+--------- rmmod / insmod, x5
#                  [ roster.ko ]
#
# Leaves roster loaded (with its debug messages on) for the next suites.
# shellcheck disable=SC2317,SC2154,SC2016,SC2119 # functions run via ktap_check; ns_new sets ns*; jq $vars
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"

CYCLES=5
TESTS=()
for ((c = 1; c <= CYCLES; c++)); do
	TESTS+=("cycle$c-filled" "cycle$c-rmmod" "cycle$c-empty-after-reload"
		"cycle$c-sysctls-reset")
done
TESTS+=(no-module-params netns-delete-frees-members autoload-by-family-name)
ktap_header ${#TESTS[@]}

restore() {
	[[ -z ${OLD_MODPROBE:-} ]] || echo "$OLD_MODPROBE" >/proc/sys/kernel/modprobe
	roster_loaded || roster_load
	roster_cleanup
}
trap restore EXIT

skip_all() {
	local t
	for t in "${TESTS[@]}"; do ktap_skip "$t" "$1"; done
	ktap_finish
}
ynl_available || skip_all "YNL library not available ($YNL_SRC; run scripts/ksrc 6.12 on the host)"
command -v jq >/dev/null || skip_all "jq not installed"
[[ -f $(roster_ko) ]] || skip_all "$(roster_ko) not built"
roster_loaded || roster_load || skip_all "cannot load $(roster_ko)"

roster_tmpdir
ns_new ns1
ns_new ns2
ns_new ns3
ns_new ns4
KEY=$(key_hex 42)

# The kernel log lines of this boot: the vm-suite's /dev/kmsg capture when
# there is one (complete), else dmesg (may have wrapped).
roster_log() {
	if [[ -r ${ROSTER_KMSG_LOG:-} ]]; then
		cat "$ROSTER_KMSG_LOG"
	else
		dmesg 2>/dev/null
	fi
}
# live member objects according to the log (created - destroyed)
member_balance() {
	roster_log | grep -oE 'roster: member [^ ]+ (created|destroyed)' |
		awk '{ n += ($4 == "created") ? 1 : -1 } END { print n + 0 }'
}

# IPv4 attributes are big-endian u32s: YNL takes them as integers
ip4() {
	local IFS=.
	# shellcheck disable=SC2086 # split on dots on purpose
	set -- $1
	echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4))
}
A1=$(ip4 10.0.0.1) A2=$(ip4 10.0.0.2) EP=$(ip4 192.0.2.2) P1=$(ip4 10.2.0.0)
SYS=/proc/sys/net/roster

# One python process for all cycles (see ynl_batch); answers by line. The
# "sh" commands run in the netns the batch is in (the last "ns").
{
	for ((c = 1; c <= CYCLES; c++)); do
		for ns in "$ns1" "$ns2" "$ns3"; do
			echo "ns $ns"
			echo "do member-join {\"vpn-id\": ${c}1, \"member\": {\"id-ipv4\": $A1, \"public-key\": \"$KEY\"}}"
			echo "do member-join {\"vpn-id\": ${c}1, \"member\": {\"id-ipv4\": $A2, \"public-key\": \"$KEY\", \"endpoint-ipv4\": $EP, \"endpoint-port\": 51820, \"prefix\": [{\"ipv4\": $P1, \"len\": 16}]}}"
			echo "do member-join {\"vpn-id\": ${c}2, \"member\": {\"id-ipv6\": \"fd000000000000000000000000000001\", \"public-key\": \"$KEY\"}}"
			echo "do vpn-new {\"vpn-id\": ${c}3}"
			echo "dump vpn-get"
		done
		echo "sh sh -c 'echo ${c}0 >$SYS/max_members && cat $SYS/max_members'"
		echo "sh sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do rmmod roster && exit 0; sleep 0.5; done; exit 1'"
		echo "sh sh -c 'test ! -e $SYS && test ! -e /sys/module/roster'"
		echo "sh insmod $(roster_ko) dyndbg=+p"
		echo "reset"
		echo "sh sh -c 'cat $SYS/max_vpns $SYS/max_members'"
		for ns in "$ns1" "$ns2" "$ns3"; do
			echo "ns $ns"
			echo "dump vpn-get"
		done
	done
	echo "ns $ns4"
	for d in 1 2 3; do
		echo "do member-join {\"vpn-id\": 9, \"member\": {\"id-ipv4\": $(ip4 10.0.0.$d), \"public-key\": \"$KEY\"}}"
	done
	echo "dump member-get"
} >"$ROSTER_TMP/in"
ynl_batch <"$ROSTER_TMP/in" >"$ROSTER_TMP/out" 2>&1
rc=$?
mapfile -t R <"$ROSTER_TMP/out"
per_cycle=$((3 * 6 + 6 + 3 * 2))
want=$((CYCLES * per_cycle + 5))
if [[ $rc -ne 0 || ${#R[@]} -ne $want ]]; then
	ktap_indent <"$ROSTER_TMP/out"
	ktap_diag "the YNL batch failed (exit $rc, ${#R[@]} of $want answers)"
fi

# answer N (0-based) satisfies FILTER?
answer_is() {
	jq -e "$2" <<<"${R[$1]:-null}" >/dev/null 2>&1
}

for ((c = 1; c <= CYCLES; c++)); do
	base=$(((c - 1) * per_cycle))
	ok=1
	for ((i = 0; i < 3; i++)); do
		b=$((base + i * 6))
		for ((j = 1; j <= 4; j++)); do
			answer_is $((b + j)) 'has("ok")' || { ok=0; ktap_diag "answer $((b + j)): ${R[$((b + j))]:-}"; }
		done
		answer_is $((b + 5)) "[.ok[] | [.[\"vpn-id\"], .[\"member-count\"]]] == [[${c}1, 2], [${c}2, 1], [${c}3, 0]]" ||
			{ ok=0; ktap_diag "dump: ${R[$((b + 5))]:-}"; }
	done
	if [[ $ok -eq 1 ]]; then ktap_pass "cycle$c-filled"; else ktap_fail "cycle$c-filled"; fi
	b=$((base + 18))
	if answer_is $((b + 1)) '.rc == 0'; then
		ktap_pass "cycle$c-rmmod"
	else
		ktap_diag "rmmod: ${R[$((b + 1))]:-}"
		ktap_fail "cycle$c-rmmod"
	fi
	ok=1
	answer_is $((b + 3)) '.rc == 0' || { ok=0; ktap_diag "insmod: ${R[$((b + 3))]:-}"; }
	for ((i = 0; i < 3; i++)); do
		answer_is $((b + 7 + 2 * i)) '.ok == []' ||
			{ ok=0; ktap_diag "dump after reload: ${R[$((b + 7 + 2 * i))]:-}"; }
	done
	if [[ $ok -eq 1 ]]; then ktap_pass "cycle$c-empty-after-reload"; else ktap_fail "cycle$c-empty-after-reload"; fi
	# set in $ns3 before the rmmod, gone with the module, default after
	ok=1
	answer_is "$b" ".rc == 0 and .out == \"${c}0\\n\"" || { ok=0; ktap_diag "set: ${R[$b]:-}"; }
	answer_is $((b + 2)) '.rc == 0' || { ok=0; ktap_diag "net.roster after rmmod: ${R[$((b + 2))]:-}"; }
	answer_is $((b + 5)) '.rc == 0 and .out == "1024\n131072\n"' ||
		{ ok=0; ktap_diag "after reload: ${R[$((b + 5))]:-}"; }
	if [[ $ok -eq 1 ]]; then ktap_pass "cycle$c-sysctls-reset"; else ktap_fail "cycle$c-sysctls-reset"; fi
done

# The limits are per-netns sysctls now, not module parameters.
no_module_params() {
	local p
	p=$(modinfo -p "$(roster_ko)")
	echo "modinfo -p: ${p:-(none)}"
	ls /sys/module/roster/parameters 2>/dev/null
	! grep -qE '^(max_vpns|max_members):' <<<"$p" &&
		[[ ! -e /sys/module/roster/parameters/max_vpns &&
			! -e /sys/module/roster/parameters/max_members ]] &&
		[[ -e $SYS/max_vpns && -e $SYS/max_members ]]
}
ktap_check no-module-params no_module_params

# ns4 holds 3 members (the batch process, which had sockets in it, has
# exited); deleting it must destroy them (netns cleanup runs async).
netns_delete() {
	local before after i
	answer_is $((want - 1)) '.ok | length == 3' || { echo "ns4 not filled: ${R[$((want - 1))]:-}"; return 1; }
	before=$(member_balance)
	ns_del "$ns4"
	for ((i = 0; i < 100; i++)); do
		after=$(member_balance)
		[[ $after -ne $((before - 3)) ]] || break
		sleep 0.2
	done
	echo "live members per the log: before $before, after $after"
	[[ $after -eq $((before - 3)) ]]
}
if ! roster_log | grep -qE 'roster: member [^ ]+ created'; then
	ktap_skip netns-delete-frees-members "no 'roster: member ... created' debug messages in the log"
else
	ktap_check netns-delete-frees-members netns_delete
fi

# Autoload: install roster.ko in a tmpfs module tree and let the kernel's
# modprobe helper use it. The helper runs in the root of PID 1, which in
# scripts/vm-run is the initramfs with our root at /newroot: find the path
# under which PID 1 sees our /tmp.
autoload() {
	local rel mods top prefix="" wrapper
	rel=$(uname -r)
	top=$ROSTER_TMP/modroot
	mods=$top/lib/modules/$rel
	mkdir -p "$mods/extra" || return 1
	cp "$(roster_ko)" "$mods/extra/" || return 1
	cp /lib/modules/"$rel"/modules.builtin* /lib/modules/"$rel"/modules.order "$mods/" 2>/dev/null
	depmod -b "$top" "$rel" || return 1
	grep -q 'net_pf_16_proto_16_family_roster\|net-pf-16-proto-16-family-roster' "$mods/modules.alias" ||
		{ echo "roster.ko has no MODULE_ALIAS_GENL_FAMILY alias:"; modinfo -F alias "$(roster_ko)"; return 1; }
	if [[ /proc/1/root/tmp -ef /tmp ]]; then
		prefix=
	elif [[ /proc/1/root/newroot/tmp -ef /tmp ]]; then
		prefix=/newroot
	else
		echo "cannot find our /tmp in PID 1's root"
		return 4
	fi
	wrapper=$ROSTER_TMP/modprobe
	{
		echo '#!/bin/sh'
		echo "echo \"\$@\" >>$prefix$ROSTER_TMP/modprobe.log"
		if [[ -n $prefix ]]; then
			echo "exec chroot $prefix /sbin/modprobe -d $top \"\$@\" dyndbg=+p"
		else
			echo "exec /sbin/modprobe -d $top \"\$@\" dyndbg=+p"
		fi
	} >"$wrapper"
	chmod 755 "$wrapper"
	roster_unload || { echo "rmmod failed"; return 1; }
	OLD_MODPROBE=$(cat /proc/sys/kernel/modprobe)
	echo "$prefix$wrapper" >/proc/sys/kernel/modprobe
	genl ctrl get name roster
	echo "$OLD_MODPROBE" >/proc/sys/kernel/modprobe
	OLD_MODPROBE=
	echo "modprobe helper calls: $(cat "$ROSTER_TMP/modprobe.log" 2>/dev/null)"
	roster_loaded && genl ctrl get name roster >/dev/null
}
out=$(autoload 2>&1)
rc=$?
printf '%s\n' "$out" | ktap_indent
if [[ $rc -eq 4 ]]; then
	ktap_skip autoload-by-family-name "kernel.modprobe helper cannot reach /tmp"
else
	ktap_result autoload-by-family-name "$rc"
fi
# the autoloaded module must have its debug messages on (leak accounting)
roster_loaded && roster_dyndbg_on

ktap_finish
