#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Drive the roster family with the kernel's own YNL CLI (tools/net/ynl/cli.py
# from linux-source-6.12) and our YAML spec: requests, multi-part JOIN/LEAVE
# replies, dumps, errors, and the notifications on the "notify" group,
# compared with golden files (tests/golden/*.json) as ovpn's selftests do.
#
#   +------------------------------+     +------------------------------+
#   | $ns1                         |     | $ns2                         |
#   |  cli.py --do/--dump/--multi  |     |  cli.py --subscribe notify   |
#   |  (requests and replies)      |     |    --sleep N --output-json   |
#   |                              |     |  cli.py --multi ... (script) |
#   +--------------+---------------+     +---------------+--------------+
#                  |      generic netlink "roster" v1    |
#                  +------------------+------------------+
#                                     |
#                          [ roster.ko, table per netns ]
#
# Needs: roster.ko loaded, python3 + python3-yaml, jq,
# build/linux-source-6.12 (scripts/ksrc 6.12, done by tests/run on the host).
# shellcheck disable=SC2317,SC2154,SC2016,SC2119 # functions run via ktap_check; ns_new sets ns*; jq $vars
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"
trap roster_cleanup EXIT

TESTS=(vpn-new vpn-get-dump member-join-multipart member-leave member-get-dump
	vpn-new-eexist member-join-excl member-join-excl-unchanged member-get-do
	member-leave-enoent member-update member-update-record notify-golden)
GOLDEN=$ROSTER_TOP/tests/golden
ktap_header ${#TESTS[@]}

skip_all() {
	local t
	for t in "${TESTS[@]}"; do ktap_skip "$t" "$1"; done
	ktap_finish
}
ynl_available || skip_all "YNL CLI not available ($YNL_CLI; run scripts/ksrc 6.12 on the host)"
command -v jq >/dev/null || skip_all "jq not installed"
roster_loaded || skip_all "roster module not loaded"

roster_tmpdir
ns_new ns1
ns_new ns2

NMEMB=20	# members in VPN 1 before the 21st joins
NPFX=32		# prefixes per member (ROSTER_MAX_PREFIXES): ~0.7 KiB per member

dev_hex() { printf '0a00%02x%02x' $(($1 / 256)) $(($1 % 256)); }

# member_json I [KEYBYTE]: member I (dev 10.0.X.Y) with NPFX /24 prefixes
member_json() {
	local i=$1 key=${2:-$1} j pfx=
	for ((j = 0; j < NPFX; j++)); do
		pfx+=${pfx:+,}$(printf '{"addr":"%s","len":24}' "$(printf '0a%02x%02x00' "$i" "$j")")
	done
	printf '{"dev":"%s","public-key":"%s","endpoint-addr":"%s","endpoint-port":%d,"prefix":[%s]}' \
		"$(dev_hex "$i")" "$(key_hex "$key")" "$(hex_ip4 "192.0.2.$i")" $((51820 + i)) "$pfx"
}

join_json() { printf '{"vpn-id":%d,"member":%s}' "$1" "$2"; }

# as_list: a reply of one message is printed as an object, more as a list
AS_LIST='if type == "array" then . else [.] end'

# expect_errno ERRSTR CMD...: CMD must fail with that strerror text
expect_errno() {
	local want=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$out"
	[[ $rc -ne 0 ]] && grep -q "Netlink error: $want" <<<"$out"
}

# jq_check JSON FILTER: FILTER (with --argjson vars from JQ_ARGS) must be true
jq_check() {
	local json=$1 filter=$2
	printf '%s\n' "$json"
	jq -e "${JQ_ARGS[@]}" "$filter" <<<"$json" >/dev/null
}
JQ_ARGS=()

# Python starts slowly in the VM (imports stat files over 9p): cli.py runs
# only for what this test is about (do, dump, multi-part replies,
# notifications); the set-up and error cases go through ynl_batch (the same
# YNL library, one process). Big JOIN/LEAVE replies span several messages,
# which the kernel streams like a dump: a request batched behind one on the
# same socket gets EBUSY (CONTRACT.md), so they always come last in a batch.
# run_ynl FILE NS ARGS...: cli.py output to FILE, exit status kept
run_ynl() {
	local f=$ROSTER_TMP/$1 ns=$2 t0=$SECONDS
	shift 2
	ynl "$ns" "$@" >"$f" 2>&1
	echo $? >"$f.rc"
	YNL_SECS=$((SECONDS - t0))
}
# reply FILE: the output, if cli.py succeeded
reply() {
	cat "$ROSTER_TMP/$1"
	[[ $(cat "$ROSTER_TMP/$1.rc") -eq 0 ]]
}
# batch_answer FILE N: the N-th (1-based) answer of a ynl_batch run
batch_answer() {
	sed -n "${2}p" "$ROSTER_TMP/$1"
}

# C1: three VPNs, created out of order
run_ynl C1 "$ns1" --multi vpn-new '{"vpn-id": 1}' --multi vpn-new '{"vpn-id": 7}' \
	--multi vpn-new '{"vpn-id": 3}'
T_CLI=$YNL_SECS

# vpn-new: reply {vpn-id, generation 1, member-count 0, create-time ~ now}
vpn_new() {
	local out
	out=$(reply C1) || { echo "$out"; return 1; }
	JQ_ARGS=(--argjson now "$(date +%s)")
	jq_check "$out" '[.[]["vpn-id"]] == [1, 7, 3] and all(.[]; .generation == 1 and
		.["member-count"] == 0 and (.["create-time"] - $now | fabs) < 600)'
}
ktap_check vpn-new vpn_new

# C2: vpn-get dump, ascending vpn-id
run_ynl C2 "$ns1" --dump vpn-get
vpn_get_dump() {
	local out
	out=$(reply C2) || { echo "$out"; return 1; }
	jq_check "$out" '[.[]["vpn-id"]] == [1, 3, 7] and
		all(.[]; .["member-count"] == 0 and .generation == 1)'
}
ktap_check vpn-get-dump vpn_get_dump

# B1: NMEMB big members join VPN 1 one by one
{
	echo "ns $ns1"
	for ((i = 1; i <= NMEMB; i++)); do
		echo "do member-join $(join_json 1 "$(member_json "$i")")"
	done
} | ynl_batch >"$ROSTER_TMP/B1" 2>&1
# C3: one more joins; the reply lists the NMEMB others
run_ynl C3 "$ns1" --do member-join --json "$(join_json 1 "$(member_json $((NMEMB + 1)))")"

# The reply is multi-part: every message carries vpn-id and the new
# generation, only the first member-count, together exactly member-count
# members; and the i-th join's reply listed the i-1 members before it.
member_join_multipart() {
	local out
	out=$(reply C3) || { echo "$out"; return 1; }
	echo "reply of $(jq "$AS_LIST | length" <<<"$out") message(s)"
	JQ_ARGS=(--argjson n "$NMEMB" --argjson gen $((1 + NMEMB + 1)))
	jq_check "$out" "$AS_LIST"' |
		all(.[]; .["vpn-id"] == 1 and .generation == $gen) and
		.[0]["member-count"] == $n and
		([.[1:][] | has("member-count")] | any | not) and
		([.[].member // [] | .[]] | length) == $n and
		([.[].member // [] | .[].dev] | unique | length) == $n and
		all(.[].member // [] | .[]; .prefix | length == '"$NPFX"')' || return 1
	JQ_ARGS=(--argjson n "$NMEMB")
	jq_check "$(tail -n +2 "$ROSTER_TMP/B1" | jq -sc .)" \
		'[.[].ok | '"$AS_LIST"' | .[0]["member-count"]] == [range(0; $n)] and
		[.[].ok | '"$AS_LIST"' | .[0].generation] == [range(2; $n + 2)]'
}
ktap_check member-join-multipart member_join_multipart
GEN=$((1 + NMEMB + 1))	# VPN 1's generation now

# C4: a member leaves; the multi-part reply lists the remaining ones
run_ynl C4 "$ns1" --do member-leave --json \
	"{\"vpn-id\": 1, \"reason\": \"expired\", \"member\": {\"dev\": \"$(dev_hex 5)\"}}"
member_leave() {
	local out
	out=$(reply C4) || { echo "$out"; return 1; }
	JQ_ARGS=(--argjson gen $((GEN + 1)) --argjson n "$NMEMB" --arg dev "$(dev_hex 5)")
	jq_check "$out" "$AS_LIST"' | all(.[]; .["vpn-id"] == 1 and .generation == $gen) and
		.[0]["member-count"] == $n and
		([.[].member // [] | .[]] | length) == $n and
		([.[].member // [] | .[].dev] | index($dev) == null)'
}
ktap_check member-leave member_leave
GEN=$((GEN + 1))

# C5: dump of VPN 1: one message per member, in join order
run_ynl C5 "$ns1" --dump member-get --json '{"vpn-id": 1}'
member_get_dump() {
	local out want
	out=$(reply C5) || { echo "$out"; return 1; }
	want=$(for ((i = 1; i <= NMEMB + 1; i++)); do [[ $i -eq 5 ]] || dev_hex "$i"; echo; done |
		grep . | jq -R . | jq -sc .)
	JQ_ARGS=(--argjson gen "$GEN" --argjson want "$want")
	jq_check "$out" 'all(.[]; .["vpn-id"] == 1 and .generation == $gen and
			(.member | length) == 1) and
		[.[].member[0].dev] == $want and
		[.[].member[0]["join-generation"]] == [range(2; 6), range(7; 23)]'
}
ktap_check member-get-dump member_get_dump

# B2: errors and the other requests, through the library
{
	echo "ns $ns1"
	echo 'do vpn-new {"vpn-id": 7}'
	echo "excl member-join $(join_json 1 "$(member_json 1 99)")"
	echo 'do vpn-get {"vpn-id": 1}'
	echo "do member-get {\"vpn-id\": 1, \"member\": {\"dev\": \"$(dev_hex 2)\"}}"
	echo "do member-leave {\"vpn-id\": 1, \"member\": {\"dev\": \"$(dev_hex 5)\"}}"
	echo "do member-join $(join_json 1 "$(member_json 1 99)")"
	echo "do member-get {\"vpn-id\": 1, \"member\": {\"dev\": \"$(dev_hex 1)\"}}"
} | ynl_batch >"$ROSTER_TMP/B2" 2>&1

b2_check() {
	local n=$1 filter=$2 out
	shift 2
	out=$(batch_answer B2 "$n")
	printf 'answer %d: %s\n' "$n" "$out"
	jq -e "$@" "$filter" <<<"$out" >/dev/null
}
ktap_check vpn-new-eexist b2_check 2 '.errno == 17'
# NLM_F_EXCL on an existing member: EEXIST and nothing changed
ktap_check member-join-excl b2_check 3 '.errno == 17'
ktap_check member-join-excl-unchanged b2_check 4 \
	'.ok.generation == $gen and .ok["member-count"] == $n' \
	--argjson gen "$GEN" --argjson n "$NMEMB"
ktap_check member-get-do b2_check 5 '.ok | .["vpn-id"] == 1 and .generation == $gen and
	(.member | length) == 1 and .member[0].dev == $dev and
	.member[0]["endpoint-addr"] == $ep and .member[0]["endpoint-port"] == 51822 and
	(.member[0].prefix | length) == '"$NPFX"' and
	.member[0].prefix[1] == {"addr": "0a020100", "len": 24} and
	.member[0]["join-generation"] == 3 and (.member[0] | has("join-time"))' \
	--argjson gen "$GEN" --arg dev "$(dev_hex 2)" --arg ep "$(hex_ip4 192.0.2.2)"
ktap_check member-leave-enoent b2_check 6 '.errno == 2'
# re-join without NLM_F_EXCL replaces the record in place: gen+1, the
# others listed, the new key, join-generation = the new generation
ktap_check member-update b2_check 7 '.ok | '"$AS_LIST"' | all(.[]; .generation == $gen) and
	.[0]["member-count"] == $n - 1 and
	([.[].member // [] | .[].dev] | index($dev) == null)' \
	--argjson gen $((GEN + 1)) --argjson n "$NMEMB" --arg dev "$(dev_hex 1)"
ktap_check member-update-record b2_check 8 '.ok.member[0] |
	.["public-key"] == $key and .["join-generation"] == $gen' \
	--argjson gen $((GEN + 1)) --arg key "$(key_hex 99)"

# Notifications: a scripted sequence of changes in $ns2 while a subscriber
# listens there; normalised (create-time/join-time dropped) and compared
# with tests/golden/notify.json. The failing requests at the end must not
# notify anything.
K1=$(key_hex 1) K2=$(key_hex 2) K3=$(key_hex 3)
notify_golden() {
	local dev6=fd000000000000000000000000000001 ntf
	# the listener must outlive the 2 cli.py runs below
	local secs=$((3 * T_CLI + 10))
	[[ $secs -le 240 ]] || secs=240
	ynl_listen "$ns2" "$secs" "$ROSTER_TMP/ntf.raw" || { echo "listener did not start"; return 1; }
	ynl "$ns2" --multi vpn-new '{"vpn-id": 100}' \
		--multi member-join "{\"vpn-id\": 100, \"member\": {\"dev\": \"0a000001\", \"public-key\": \"$K1\", \"endpoint-addr\": \"c0000201\", \"endpoint-port\": 51820, \"prefix\": [{\"addr\": \"0a010000\", \"len\": 16}, {\"addr\": \"20010db8000000000000000000000000\", \"len\": 32}]}}" \
		--multi member-join "{\"vpn-id\": 100, \"member\": {\"dev\": \"$dev6\", \"public-key\": \"$K2\"}}" \
		--multi member-join "{\"vpn-id\": 100, \"member\": {\"dev\": \"0a000001\", \"public-key\": \"$K3\"}}" \
		--multi member-join "{\"vpn-id\": 200, \"member\": {\"dev\": \"0a000002\", \"public-key\": \"$K1\"}}" \
		--multi member-leave '{"vpn-id": 100, "reason": "admin", "member": {"dev": "0a000001"}}' \
		--multi member-leave '{"vpn-id": 200, "flags": ["delete-empty"], "member": {"dev": "0a000002"}}' \
		--multi vpn-del '{"vpn-id": 100}' >"$ROSTER_TMP/ntf.changes" 2>&1 ||
		{ cat "$ROSTER_TMP/ntf.changes"; return 1; }
	# rejected requests notify nothing (the kernel handles every request of
	# a batch; cli.py stops at the first error): ENOENT, ENOENT, EINVAL
	! ynl "$ns2" --multi vpn-del '{"vpn-id": 100}' \
		--multi member-leave '{"vpn-id": 200, "member": {"dev": "0a000002"}}' \
		--multi member-join "{\"vpn-id\": 300, \"member\": {\"dev\": \"0a00\", \"public-key\": \"$K1\"}}" \
		>/dev/null 2>&1 || return 1
	wait "$YNL_LISTEN_PID" || { cat "$ROSTER_TMP/ntf.raw"; return 1; }
	ntf=$(jq -S "$YNL_NORMALISE" "$ROSTER_TMP/ntf.raw") || { cat "$ROSTER_TMP/ntf.raw"; return 1; }
	diff -u "$GOLDEN/notify.json" - <<<"$ntf"
}
ktap_check notify-golden notify_golden

ktap_finish
