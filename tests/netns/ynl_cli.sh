#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Drive the roster family (uAPI v2) with the kernel's own YNL CLI
# (tools/net/ynl/cli.py from linux-source-6.12) and our YAML spec: requests,
# the plain-do JOIN/LEAVE replies, the JOIN message's member set (a dump
# filtered by vpn-id), stamped and follower changes, errors, and the
# notifications on the "notify" group, compared with a golden file
# (tests/golden/notify.json) as ovpn's selftests do.
#
#   +------------------------------+     +------------------------------+
#   | $ns1                         |     | $ns2                         |
#   |  cli.py --do/--dump/--multi  |     |  cli.py --subscribe notify   |
#   |  (requests and replies)      |     |    --sleep N --output-json   |
#   |                              |     |  cli.py --multi ... (script) |
#   +--------------+---------------+     +---------------+--------------+
#                  |      generic netlink "roster" v2    |
#                  +------------------+------------------+
#                                     |
#                          [ roster.ko, table per netns ]
#
# Addresses: the spec gives IPv4 attributes as big-endian u32 with display
# hint ipv4, so requests carry them as integers and replies show them as
# dotted quads; IPv6 ones are hex in requests and text in replies.
#
# Needs: roster.ko loaded, python3 + python3-yaml, jq,
# build/linux-source-6.12 (scripts/ksrc 6.12, done by tests/run on the host).
# shellcheck disable=SC2317,SC2154,SC2016,SC2119 # functions run via ktap_check; ns_new sets ns*; jq $vars
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"
trap roster_cleanup EXIT

TESTS=(vpn-new vpn-get-dump member-join-reply member-join-set member-leave
	member-get-dump vpn-new-eexist member-join-create-only
	member-join-create-only-unchanged member-join-nlm-excl-einval
	member-join-nlm-excl-unchanged member-get-do member-leave-enoent
	member-update member-update-record follower-vpn-get stamped-replies
	stamped-old-ealready stamped-gap-estale follower-unstamped-eperm
	prefix-overlap-eaddrinuse notify-golden)
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
NPFX=32		# prefixes per member (ROSTER_MAX_PREFIXES): ~0.5 KiB per member

# ip4_int 10.0.0.1 -> 167772161 (how YNL takes a big-endian u32)
ip4_int() {
	local IFS=.
	# shellcheck disable=SC2086 # split on dots on purpose
	set -- $1
	echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4))
}
id_ip() { printf '10.0.%d.%d' $(($1 / 256)) $(($1 % 256)); }

# member_json I [KEYBYTE]: member I (id 10.0.X.Y) with NPFX /24 prefixes
# 10.I.J.0/24 (no two members' prefixes overlap)
member_json() {
	local i=$1 key=${2:-$1} j pfx=
	for ((j = 0; j < NPFX; j++)); do
		pfx+=${pfx:+,}$(printf '{"ipv4":%d,"len":24}' "$(ip4_int "10.$i.$j.0")")
	done
	printf '{"id-ipv4":%d,"public-key":"%s","endpoint-ipv4":%d,"endpoint-port":%d,"prefix":[%s]}' \
		"$(ip4_int "$(id_ip "$i")")" "$(key_hex "$key")" "$(ip4_int "192.0.2.$i")" \
		$((51820 + i)) "$pfx"
}

join_json() { printf '{"vpn-id":%d,"member":%s}' "$1" "$2"; }

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
# only for what this test is about (do, dump, errors with their extack,
# notifications); the set-up and the plain error cases go through
# ynl_batch (the same YNL library, one process).
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
		.["member-count"] == 0 and (.["create-time"] - $now | fabs) < 600 and
		((.["vpn-flags"] // []) == []))'
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
# C3: one more joins (cli.py)
run_ynl C3 "$ns1" --do member-join --json "$(join_json 1 "$(member_json $((NMEMB + 1)))")"

# The reply is one message of exactly vpn-id, the new generation and the
# member count after the join; the i-th join's reply said i members at
# generation i + 1.
member_join_reply() {
	local out
	out=$(reply C3) || { echo "$out"; return 1; }
	JQ_ARGS=(--argjson n $((NMEMB + 1)) --argjson gen $((1 + NMEMB + 1)))
	jq_check "$out" '. == {"vpn-id": 1, "generation": $gen, "member-count": $n}' || return 1
	JQ_ARGS=(--argjson n "$NMEMB")
	jq_check "$(tail -n +2 "$ROSTER_TMP/B1" | jq -sc .)" \
		'[.[].ok | keys] | unique == [["generation", "member-count", "vpn-id"]]' || return 1
	jq_check "$(tail -n +2 "$ROSTER_TMP/B1" | jq -sc .)" \
		'[.[].ok["member-count"]] == [range(1; $n + 1)] and
		[.[].ok.generation] == [range(2; $n + 2)]'
}
ktap_check member-join-reply member_join_reply
GEN=$((1 + NMEMB + 1))	# VPN 1's generation now

# C4: the JOIN message's member set: a dump filtered by vpn-id, one member
# per message, each with vpn-id and the generation
run_ynl C4 "$ns1" --dump member-get --json '{"vpn-id": 1}'
member_join_set() {
	local out
	out=$(reply C4) || { echo "$out"; return 1; }
	JQ_ARGS=(--argjson gen "$GEN" --argjson n $((NMEMB + 1)))
	jq_check "$out" 'length == $n and
		all(.[]; (keys == ["generation", "member", "vpn-id"]) and
			.["vpn-id"] == 1 and .generation == $gen and
			(.member | type) == "object" and
			(.member.prefix | length) == '"$NPFX"') and
		([.[].member["id-ipv4"]] | unique | length) == $n'
}
ktap_check member-join-set member_join_set

# C5: a member leaves; the reply is the generation and the count after it
run_ynl C5 "$ns1" --do member-leave --json \
	"{\"vpn-id\": 1, \"reason\": \"expired\", \"member\": {\"id-ipv4\": $(ip4_int "$(id_ip 5)")}}"
member_leave() {
	local out
	out=$(reply C5) || { echo "$out"; return 1; }
	JQ_ARGS=(--argjson gen $((GEN + 1)) --argjson n "$NMEMB")
	jq_check "$out" '. == {"vpn-id": 1, "generation": $gen, "member-count": $n}'
}
ktap_check member-leave member_leave
GEN=$((GEN + 1))

# C6: dump of VPN 1: one message per member, in join order
run_ynl C6 "$ns1" --dump member-get --json '{"vpn-id": 1}'
member_get_dump() {
	local out want
	out=$(reply C6) || { echo "$out"; return 1; }
	want=$(for ((i = 1; i <= NMEMB + 1; i++)); do [[ $i -eq 5 ]] || id_ip "$i"; echo; done |
		grep . | jq -R . | jq -sc .)
	JQ_ARGS=(--argjson gen "$GEN" --argjson want "$want")
	jq_check "$out" 'all(.[]; .["vpn-id"] == 1 and .generation == $gen) and
		[.[].member["id-ipv4"]] == $want and
		[.[].member["join-generation"]] == [range(2; 6), range(7; 23)]'
}
ktap_check member-get-dump member_get_dump

# B2: errors and the other requests, through the library
{
	echo "ns $ns1"
	echo 'do vpn-new {"vpn-id": 7}'
	echo "do member-join {\"vpn-id\": 1, \"flags\": [\"create-only\"], \"member\": $(member_json 1 99)}"
	echo 'do vpn-get {"vpn-id": 1}'
	echo "excl member-join $(join_json 1 "$(member_json 1 99)")"
	echo 'do vpn-get {"vpn-id": 1}'
	echo "do member-get {\"vpn-id\": 1, \"member\": {\"id-ipv4\": $(ip4_int "$(id_ip 2)")}}"
	echo "do member-leave {\"vpn-id\": 1, \"member\": {\"id-ipv4\": $(ip4_int "$(id_ip 5)")}}"
	echo "do member-join $(join_json 1 "$(member_json 1 99)")"
	echo "do member-get {\"vpn-id\": 1, \"member\": {\"id-ipv4\": $(ip4_int "$(id_ip 1)")}}"
} | ynl_batch >"$ROSTER_TMP/B2" 2>&1

b2_check() {
	local n=$1 filter=$2 out
	shift 2
	out=$(batch_answer B2 "$n")
	printf 'answer %d: %s\n' "$n" "$out"
	jq -e "$@" "$filter" <<<"$out" >/dev/null
}
ktap_check vpn-new-eexist b2_check 2 '.errno == 17 and (.extack.msg | length) > 0'
# create-only on an existing member: EEXIST and nothing changed
ktap_check member-join-create-only b2_check 3 '.errno == 17 and (.extack.msg | length) > 0'
ktap_check member-join-create-only-unchanged b2_check 4 \
	'.ok.generation == $gen and .ok["member-count"] == $n' \
	--argjson gen "$GEN" --argjson n "$NMEMB"
# NLM_F_EXCL is no roster flag any more: the genetlink core refuses it
ktap_check member-join-nlm-excl-einval b2_check 5 \
	'.errno == 22 and .extack.msg == "ambiguous or reserved bits set in nlmsg_flags"'
ktap_check member-join-nlm-excl-unchanged b2_check 6 \
	'.ok.generation == $gen and .ok["member-count"] == $n' \
	--argjson gen "$GEN" --argjson n "$NMEMB"
ktap_check member-get-do b2_check 7 '.ok | .["vpn-id"] == 1 and .generation == $gen and
	(keys == ["generation", "member", "vpn-id"]) and
	.member["id-ipv4"] == $id and
	.member["endpoint-ipv4"] == "192.0.2.2" and .member["endpoint-port"] == 51822 and
	(.member.prefix | length) == '"$NPFX"' and
	.member.prefix[1] == {"ipv4": "10.2.1.0", "len": 24} and
	.member["join-generation"] == 3 and (.member | has("join-time"))' \
	--argjson gen "$GEN" --arg id "$(id_ip 2)"
ktap_check member-leave-enoent b2_check 8 '.errno == 2'
# re-join without create-only replaces the record in place: gen+1, the
# same count, the new key, join-generation = the new generation
ktap_check member-update b2_check 9 \
	'.ok == {"vpn-id": 1, "generation": $gen, "member-count": $n}' \
	--argjson gen $((GEN + 1)) --argjson n "$NMEMB"
ktap_check member-update-record b2_check 10 '.ok.member |
	.["public-key"] == $key and .["join-generation"] == $gen' \
	--argjson gen $((GEN + 1)) --arg key "$(key_hex 99)"
GEN=$((GEN + 1))

# Stamped changes on a follower VPN 50 (cli.py: its errors carry the
# extack cookie, which cli.py prints raw).
M50A="{\"id-ipv4\": $(ip4_int 10.50.0.1), \"public-key\": \"$(key_hex 5)\", \"prefix\": [{\"ipv4\": $(ip4_int 10.51.0.0), \"len\": 16}]}"
M50B="{\"id-ipv6\": \"fd000000000000000000000000000050\", \"public-key\": \"$(key_hex 6)\"}"
run_ynl S1 "$ns1" --multi vpn-new '{"vpn-id": 50, "generation": 10, "vpn-flags": ["follower"]}' \
	--multi member-join "{\"vpn-id\": 50, \"generation\": 11, \"member\": $M50A}" \
	--multi member-join "{\"vpn-id\": 50, \"generation\": 15, \"flags\": [\"resync\"], \"member\": $M50B}" \
	--multi member-leave "{\"vpn-id\": 50, \"generation\": 16, \"member\": {\"id-ipv6\": \"fd000000000000000000000000000050\"}}" \
	--multi vpn-get '{"vpn-id": 50}'
stamped_replies() {
	local out
	out=$(reply S1) || { echo "$out"; return 1; }
	jq_check "$out" '.[0]["vpn-id"] == 50 and .[0].generation == 10 and
		.[0]["vpn-flags"] == ["follower"] and
		.[1] == {"vpn-id": 50, "generation": 11, "member-count": 1} and
		.[2] == {"vpn-id": 50, "generation": 15, "member-count": 2} and
		.[3] == {"vpn-id": 50, "generation": 16, "member-count": 1}'
}
ktap_check stamped-replies stamped_replies
follower_vpn_get() {
	local out
	out=$(reply S1) || { echo "$out"; return 1; }
	jq_check "$out" '.[4] | .["vpn-id"] == 50 and .generation == 16 and
		.["member-count"] == 1 and .["vpn-flags"] == ["follower"]'
}
ktap_check follower-vpn-get follower_vpn_get

# cookie_u64 FILE: the u64 in the extack cookie (NLMSGERR_ATTR_COOKIE, type
# 3, which YNL does not decode) cli.py printed, e.g.
# "[type:3 len:12] b'\x10\x00...'"
cookie_u64() {
	python3 -c '
import ast, re, struct, sys
m = re.search(r"\[type:3 len:12\] (b.(?:\\.|[^\x27\\])*.)", open(sys.argv[1]).read())
print(struct.unpack("=Q", ast.literal_eval(m.group(1)))[0] if m else "none")' "$1"
}

# expect_refusal FILE ERRSTR GEN: cli.py failed with ERRSTR, the extack has
# a text and a cookie holding GEN
expect_refusal() {
	local f=$ROSTER_TMP/$1 c
	cat "$f"
	[[ $(cat "$f.rc") -ne 0 ]] && grep -q "Netlink error: $2" "$f" || return 1
	grep -qE "'msg': ['\"]roster: " "$f" || { echo "no roster extack text"; return 1; }
	c=$(cookie_u64 "$f")
	echo "cookie: $c"
	[[ $c == "$3" ]]
}
run_ynl S2 "$ns1" --do member-join --json "{\"vpn-id\": 50, \"generation\": 16, \"member\": $M50B}"
ktap_check stamped-old-ealready expect_refusal S2 "Operation already in progress" 16
run_ynl S3 "$ns1" --do member-join --json "{\"vpn-id\": 50, \"generation\": 18, \"member\": $M50B}"
ktap_check stamped-gap-estale expect_refusal S3 "Stale file handle" 16

# Unstamped changes on a follower: EPERM, with a text saying where to make
# them; an overlapping prefix: EADDRINUSE pointing at the prefix. Then
# VPN 50 must be as it was. (cli.py: these extacks carry a cookie too.)
run_ynl S4 "$ns1" --do member-join --json "{\"vpn-id\": 50, \"member\": $M50B}"
run_ynl S5 "$ns1" --do vpn-del --json '{"vpn-id": 50}'
run_ynl S6 "$ns1" --do member-join --json "{\"vpn-id\": 50, \"generation\": 17, \"member\": {\"id-ipv4\": $(ip4_int 10.50.0.2), \"public-key\": \"$(key_hex 7)\", \"prefix\": [{\"ipv4\": $(ip4_int 10.52.0.0), \"len\": 16}, {\"ipv4\": $(ip4_int 10.51.3.0), \"len\": 24}]}}"
run_ynl S7 "$ns1" --do vpn-get --json '{"vpn-id": 50}'
# refused FILE ERRSTR PATTERN: cli.py failed with ERRSTR, extack matching PATTERN
refused() {
	local f=$ROSTER_TMP/$1
	cat "$f"
	[[ $(cat "$f.rc") -ne 0 ]] && grep -q "Netlink error: $2" "$f" && grep -qE "$3" "$f"
}
vpn50_unchanged() {
	local out
	out=$(reply S7) || { echo "$out"; return 1; }
	jq_check "$out" '.generation == 16 and .["member-count"] == 1'
}
follower_unstamped() {
	refused S4 "Operation not permitted" "'msg': ['\"]roster: [^'\"]*follows another table" &&
		refused S5 "Operation not permitted" "'msg': ['\"]roster: [^'\"]*follows another table" &&
		vpn50_unchanged
}
ktap_check follower-unstamped-eperm follower_unstamped
# the second prefix is the culprit: YNL resolves the offset to its path
prefix_overlap() {
	refused S6 "Address already in use" "'msg': ['\"]roster: " &&
		grep -qE "'bad-attr': '\\.member\\.prefix" "$ROSTER_TMP/S6" && vpn50_unchanged
}
ktap_check prefix-overlap-eaddrinuse prefix_overlap

# Notifications: a scripted sequence of changes in $ns2 while a subscriber
# listens there; normalised (create-time/join-time dropped, flag lists
# sorted) and compared with tests/golden/notify.json. The failing requests
# in between must not notify anything.
K1=$(key_hex 1) K2=$(key_hex 2) K3=$(key_hex 3)
NORMALISE="$YNL_NORMALISE"' | walk(if type == "array" and length > 0 and
	all(.[]; type == "string") then sort else . end)'
notify_golden() {
	local v6=fd000000000000000000000000000001 ntf
	local a1 a2 p1 p2 ep
	a1=$(ip4_int 10.0.0.1) a2=$(ip4_int 10.0.0.2) ep=$(ip4_int 192.0.2.1)
	p1=$(ip4_int 10.1.0.0) p2=$(ip4_int 10.0.0.0)
	# the listener must outlive the 4 cli.py runs below
	local secs=$((5 * T_CLI + 10))
	[[ $secs -le 300 ]] || secs=300
	ynl_listen "$ns2" "$secs" "$ROSTER_TMP/ntf.raw" || { echo "listener did not start"; return 1; }
	ynl "$ns2" --multi vpn-new '{"vpn-id": 100}' \
		--multi member-join "{\"vpn-id\": 100, \"member\": {\"id-ipv4\": $a1, \"public-key\": \"$K1\", \"endpoint-ipv4\": $ep, \"endpoint-port\": 51820, \"prefix\": [{\"ipv4\": $p1, \"len\": 16}, {\"ipv6\": \"20010db8000000000000000000000000\", \"len\": 32}]}}" \
		--multi member-join "{\"vpn-id\": 100, \"member\": {\"id-ipv6\": \"$v6\", \"public-key\": \"$K2\", \"endpoint-ipv6\": \"20010db8000000000000000000000002\", \"endpoint-port\": 51821}}" \
		--multi member-join "{\"vpn-id\": 100, \"member\": {\"id-ipv4\": $a1, \"public-key\": \"$K3\"}}" \
		--multi member-join "{\"vpn-id\": 200, \"member\": {\"id-ipv4\": $a2, \"public-key\": \"$K1\"}}" \
		--multi member-leave "{\"vpn-id\": 100, \"reason\": \"admin\", \"member\": {\"id-ipv4\": $a1}}" \
		--multi member-leave "{\"vpn-id\": 200, \"flags\": [\"delete-empty\"], \"member\": {\"id-ipv4\": $a2}}" \
		--multi vpn-del '{"vpn-id": 100}' >"$ROSTER_TMP/ntf.changes" 2>&1 ||
		{ cat "$ROSTER_TMP/ntf.changes"; return 1; }
	# a follower with nested prefixes, stamped in order, then a resync
	ynl "$ns2" --multi vpn-new '{"vpn-id": 300, "generation": 10, "vpn-flags": ["follower", "nested-prefixes"]}' \
		--multi member-join "{\"vpn-id\": 300, \"generation\": 11, \"member\": {\"id-ipv4\": $a1, \"public-key\": \"$K1\", \"prefix\": [{\"ipv4\": $p2, \"len\": 8}]}}" \
		--multi member-join "{\"vpn-id\": 300, \"generation\": 12, \"member\": {\"id-ipv4\": $a2, \"public-key\": \"$K2\", \"prefix\": [{\"ipv4\": $p1, \"len\": 16}]}}" \
		--multi member-join "{\"vpn-id\": 300, \"generation\": 20, \"flags\": [\"resync\"], \"member\": {\"id-ipv6\": \"$v6\", \"public-key\": \"$K3\", \"join-generation\": 15, \"join-time\": 1700000000}}" \
		--multi member-leave "{\"vpn-id\": 300, \"generation\": 20, \"flags\": [\"resync\"], \"reason\": \"expired\", \"member\": {\"id-ipv4\": $a2}}" \
		>"$ROSTER_TMP/ntf.changes2" 2>&1 ||
		{ cat "$ROSTER_TMP/ntf.changes2"; return 1; }
	# rejected requests notify nothing (the kernel handles every request of
	# a batch; cli.py stops at the first error): ENOENT, ENOENT, ERANGE,
	# EALREADY, EPERM, EADDRINUSE
	! ynl "$ns2" --multi vpn-del '{"vpn-id": 100}' \
		--multi member-leave "{\"vpn-id\": 200, \"member\": {\"id-ipv4\": $a2}}" \
		--multi member-join "{\"vpn-id\": 400, \"member\": {\"id-ipv6\": \"0a00\", \"public-key\": \"$K1\"}}" \
		--multi member-join "{\"vpn-id\": 300, \"generation\": 20, \"member\": {\"id-ipv4\": $a2, \"public-key\": \"$K1\"}}" \
		--multi member-join "{\"vpn-id\": 300, \"member\": {\"id-ipv4\": $a2, \"public-key\": \"$K1\"}}" \
		--multi member-join "{\"vpn-id\": 300, \"generation\": 21, \"member\": {\"id-ipv4\": $a2, \"public-key\": \"$K1\", \"prefix\": [{\"ipv4\": $p2, \"len\": 8}]}}" \
		>"$ROSTER_TMP/ntf.errors" 2>&1 || { echo "the failing batch succeeded"; return 1; }
	ynl "$ns2" --do vpn-del --json '{"vpn-id": 300, "generation": 21}' >"$ROSTER_TMP/ntf.del" 2>&1 ||
		{ cat "$ROSTER_TMP/ntf.del"; return 1; }
	wait "$YNL_LISTEN_PID" || { cat "$ROSTER_TMP/ntf.raw"; return 1; }
	ntf=$(jq -S "$NORMALISE" "$ROSTER_TMP/ntf.raw") || { cat "$ROSTER_TMP/ntf.raw"; return 1; }
	if [[ -n ${ROSTER_GOLDEN_UPDATE:-} ]]; then
		printf '%s\n' "$ntf" >"$ROSTER_GOLDEN_UPDATE"
		echo "wrote $ROSTER_GOLDEN_UPDATE"
	fi
	diff -u "$GOLDEN/notify.json" - <<<"$ntf"
}
ktap_check notify-golden notify_golden

ktap_finish
