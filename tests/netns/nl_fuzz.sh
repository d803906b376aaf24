#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The netlink fuzzer (tests/netns/nl_fuzz.py) against the loaded roster.ko,
# in a namespace of its own, for a short budget:
#
#   ROSTER_FUZZ_SECS   seconds of fuzzing (default 20; make check keeps it
#                      short, scripts/check-debug and longer runs raise it)
#   ROSTER_FUZZ_SEED   the seed (default 1, so that make check is
#                      reproducible; "random" draws one; it is printed, and
#                      the same seed replays the same messages)
#   ROSTER_FUZZ_MUTATE share of mutated requests (default 0.3)
#
# Tests: the fuzzer's oracles (every request answered, policy violations
# refused, known errnos, growing generations, the table's invariants),
# then no object left once the namespace is gone (the module's
# created/destroyed debug messages) and no WARN, BUG or oops in the kernel
# log of the run.
# shellcheck disable=SC2317,SC2154,SC2119 # functions run via ktap_check; ns_new sets ns
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"

ORACLES=(answered refused errno generation invariants)
TESTS=()
for o in "${ORACLES[@]}"; do TESTS+=("fuzz-$o"); done
TESTS+=(fuzz-no-leak fuzz-kernel-log)
ktap_header ${#TESTS[@]}

skip_all() {
	local t
	for t in "${TESTS[@]}"; do ktap_skip "$t" "$1"; done
	ktap_finish
}
trap roster_cleanup EXIT

SECS=${ROSTER_FUZZ_SECS:-20}
SEED=${ROSTER_FUZZ_SEED:-1}
[[ $SEED == random ]] && SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
MUTATE=${ROSTER_FUZZ_MUTATE:-0.3}
[[ $SECS =~ ^[0-9]+$ && $SEED =~ ^[0-9]+$ ]] ||
	skip_all "ROSTER_FUZZ_SECS and ROSTER_FUZZ_SEED must be whole numbers"
python3 -c 'import yaml' 2>/dev/null || skip_all "python3-yaml not installed"
[[ -f $(roster_ko) ]] || roster_loaded || skip_all "$(roster_ko) not built"
roster_loaded || roster_load || skip_all "cannot load $(roster_ko)"

roster_tmpdir
ns_new ns
inum=$(ns_inum "$ns")

roster_log() {
	if [[ -r ${ROSTER_KMSG_LOG:-} ]]; then
		cat "$ROSTER_KMSG_LOG"
	else
		dmesg 2>/dev/null
	fi
}
# live objects according to the log: members (all namespaces) and this
# namespace's VPNs, created - destroyed
balance() {
	roster_log | awk -v ns="(netns $inum)" '
		/roster: member [^ ]+ created/ { m++ }
		/roster: member [^ ]+ destroyed/ { m-- }
		/roster: vpn [^ ]+ created/ && index($0, ns) { v++ }
		/roster: vpn [^ ]+ destroyed/ && index($0, ns) { v-- }
		/roster: (vpn|member) [^ ]+ created/ { seen = 1 }
		END { printf "%d %d %d\n", m, v, seen }'
}

marker="nl_fuzz: start $$ seed $SEED"
echo "$marker" >/dev/kmsg 2>/dev/null || true
read -r m0 _ _ <<<"$(balance)"

ktap_diag "seed $SEED, ${SECS} s, mutated share $MUTATE (replay: ROSTER_FUZZ_SEED=$SEED ROSTER_FUZZ_SECS=$SECS)"
rc=0
ip netns exec "$ns" python3 "$ROSTER_TOP/tests/netns/nl_fuzz.py" \
	--spec "$ROSTER_SPEC" --seed "$SEED" --seconds "$SECS" --mutate "$MUTATE" \
	--results "$ROSTER_TMP/results" 2>&1 | while IFS= read -r line; do
		case $line in
		'#'*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done
rc=${PIPESTATUS[0]}
[[ -f $ROSTER_TMP/results ]] || ktap_diag "the fuzzer exited $rc without results"

for o in "${ORACLES[@]}"; do
	r=$(sed -n "s/^$o=//p" "$ROSTER_TMP/results" 2>/dev/null)
	case $r in
	ok*) ktap_pass "fuzz-$o" ;;
	fail*) ktap_diag "$o: ${r#fail } failure(s)"; ktap_fail "fuzz-$o" ;;
	*) ktap_fail "fuzz-$o" ;;
	esac
done

# Deleting the namespace must free what the fuzzer left in it (after an
# RCU grace period or two).
no_leak() {
	local m v seen i
	ns_del "$ns"
	for ((i = 0; i < 100; i++)); do
		read -r m v seen <<<"$(balance)"
		[[ $m -eq $m0 && $v -eq 0 ]] && break
		sleep 0.2
	done
	echo "members live before $m0, after $m; VPNs of netns $inum live after: $v"
	[[ $seen -eq 1 ]] || { echo "no created/destroyed messages (dynamic debug off?)"; return 4; }
	[[ $m -eq $m0 && $v -eq 0 ]]
}
out=$(no_leak 2>&1)
lrc=$?
printf '%s\n' "$out" | ktap_indent
ktap_result fuzz-no-leak $lrc "no created/destroyed messages"

kernel_log() {
	local bad
	bad=$(dmesg 2>/dev/null | sed -n "/$marker/,\$p" |
		grep -E 'WARNING:|BUG:|Oops|kernel BUG|general protection|KASAN|UBSAN|refcount_t:|list_(add|del) corruption|cut here|possible circular locking|suspected memory leak')
	[[ -z $bad ]] || { printf '%s\n' "$bad" | head -n 20; return 1; }
}
ktap_check fuzz-kernel-log kernel_log
ktap_finish
