# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/rosterd/lib.sh: the network-namespace topology that rosterd's
# end-to-end tests (tests/rosterd/*.sh) and the demo (scripts/demo-netns)
# run on, in the style of WireGuard's tools/testing/selftests/wireguard/
# netns.sh. Sourced by bash scripts; sources tests/lib.sh (KTAP helpers).
#
#                    192.0.2.0/24: the "internet" (underlay)
#   +----------------------------- $P-inet ------------------------------+
#   |                               br0                                  |
#   |   v-mgr        v-gw1         v-gw2         v-gw3         v-gw4     |
#   +-----|------------|-------------|-------------|-------------|-------+
#         |eth0        |eth0         |eth0         |eth0         |eth0
#   +-----+-----+ +----+-----+ +-----+----+ +------+---+ +-------+--+
#   | $P-mgr    | | $P-gw1   | | $P-gw2   | | $P-gw3   | | $P-gw4   |
#   | 192.0.2.1 | |192.0.2.11| |192.0.2.12| |192.0.2.13| |192.0.2.14|
#   | rctl0     | | rctl0    | | rctl0    | | rctl0    | | rctl0    |
#   | 10.255.0.1| |10.255.0.11 10.255.0.12 |10.255.0.13 |10.255.0.14
#   | rosterd   | | rvpn7... | | rvpn7... | | rvpn7... | | rvpn7... |
#   | manager   | | lan0     | | lan0     | | lan0     | | lan0     |
#   +-----------+ +10.1.0.1--+ +10.2.0.1--+ +10.3.0.1--+ +10.4.0.1--+
#                      |            |            |            |
#                 +----+-----+ +----+-----+ +----+-----+ +----+-----+
#                 | $P-lan1  | | $P-lan2  | | $P-lan3  | | $P-lan4  |
#                 | 10.1.0.2 | | 10.2.0.2 | | 10.3.0.2 | | 10.4.0.2 |
#                 +----------+ +----------+ +----------+ +----------+
#
# $P = rst-<pid>. Every gateway forwards (ip_forward=1); each lan host's
# default route is its gateway. The manager's control WireGuard interface
# rctl0 listens on 192.0.2.1:51800; each gateway's rctl0 carries its device
# identifier (Documentation/rosterd.rst). gwN (N = 1..200) has the underlay
# address 192.0.2.(10+N) and the identifier 10.255.0.(10+N): 192.0.2.11 and
# 10.255.0.11 for gw1, as drawn, up to 192.0.2.210 and 10.255.0.210 for
# gw200. VPN V's tunnel interface on a gateway is rvpnV, listening on 518VV
# (51807 for VPN 7), site prefix 10.N.0.0/24 (lan host 10.N.0.2).
# Only the gateways' lan0 addresses are routed over the VPN tunnels; nothing
# leaves the VM: every address lives in one of these namespaces.
#
# Functions (all return non-zero on failure; none exits):
#   rst_init                  scratch dir $RST_DIR, EXIT trap -> rst_cleanup
#   rst_suite_begin NAME      KTAP header, skip the suite (exit) if rosterd's
#                             needs are missing, rst_init; $RST_T0 = start
#   rst_topology [N]          inet + mgr + N gateways (default 4) + lans
#   rst_ns NAME               full netns name of NAME (mgr, gw1, lan3, ...)
#   rst_in NAME CMD...        run CMD in netns NAME
#   rst_mgr_config / rst_gw_config N VPN...   write the rosterd configs
#   rst_mgr_start / rst_gw_start N            start a daemon (background)
#   rst_daemon_stop NAME [SIG]                stop one (TERM: waits)
#   rst_all_alive NAME...     every named daemon still runs
#   rst_invite N VPN...       invitation token for gwN (printed); it may
#                             announce RST_INVITE_PREFIXES (10.0.0.0/8)
#   rst_redeem N TOKEN        redeem it in gwN's netns
#   rst_enrol N VPN...        config + invite + redeem + start gwN
#   rst_members VPN           the manager's table: "id key endpoint prefixes"
#   rst_table_is VPN N...     the manager's VPN has exactly gateways N...
#   rst_wg_peers N VPN        gwN's rvpnV peers: "key endpoint prefixes"
#   rst_expected_peers N VPN  the same, computed from the manager's table
#   rst_peers_ok N VPN        gwN's peers == the other members (diff shown)
#   rst_mesh_ok VPN N...      rst_peers_ok for every listed gateway
#   rst_mirror_ok N VPN       gwN's own roster.ko table == the manager's
#   rst_mirrors_ok VPN N...   rst_mirror_ok for every listed gateway
#   rst_wait_mirrors SECS VPN N...   wait for rst_mirrors_ok (diff shown)
#   rst_wait SECS CMD...      poll CMD (0.5 s) until it succeeds or SECS pass
#   rst_ping A B              lanA host reaches lanB host (3 tries)
#   rst_watch_start NAME GW...   background sampler of the gateways'
#                             WireGuard peers (every 50 ms): any removal
#                             is recorded
#   rst_watch_stop NAME       stop it; fails (printing gateway, interface,
#                             peer, time) if any peer was removed meanwhile
#   rst_watch_removals NAME   the count of removals recorded so far
#   rst_inject NS CMD...      forge/rewrite/send control messages with
#                             rosterd's own codec (rd-inject, below)
#   rst_capture_start NS IFACE NAME / rst_capture_stop NAME   UDP capture
#   rst_cleanup               kill the daemons, delete the namespaces
# Logging: every created/destroyed netns and started/stopped daemon is
# logged through rst_log ("# " lines on stdout; RST_LOG=FILE redirects them).
#
# Environment: ROSTERD (default userspace/daemon/rosterd), ROSTER_CLI
# (default userspace/cli/roster), RST_DAEMON_ARGS (extra daemon flags, e.g.
# -v), RST_VPN_BASE_PORT (default 51800: VPN V listens on BASE+V),
# RD_INJECT (default userspace/daemon/tests/rd-inject), RST_WG_WATCH
# (default build/bench/wg-watch), RST_WATCH_MS (the watcher's period, 50).

# shellcheck disable=SC2034 # RST_* results are read by the sourcing scripts
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ROSTERD=${ROSTERD:-$ROSTER_TOP/userspace/daemon/rosterd}
ROSTER_CLI=${ROSTER_CLI:-$ROSTER_TOP/userspace/cli/roster}
RST_P=${RST_P:-rst-$$}
RST_DIR=
RST_NS=()             # created namespaces, in creation order
declare -A RST_PID=() # daemon name -> pid
RST_MGR_UNDERLAY=192.0.2.1
RST_MGR_CTL=10.255.0.1
RST_MGR_PORT=51800
RST_CTL_PORT=851
RST_VPN_BASE_PORT=${RST_VPN_BASE_PORT:-51800}

rst_log() {
	if [[ -n ${RST_LOG:-} ]]; then
		# RST_LOG may live in RST_DIR, which rst_cleanup removes last
		[[ ! -d ${RST_LOG%/*} ]] || printf '%(%T)T %s\n' -1 "$*" >>"$RST_LOG"
	else
		printf '# %s\n' "$*"
	fi
}

rst_ns() { printf '%s-%s' "$RST_P" "$1"; }

# Tools (ip, wg, jq, tc, rosterd, roster) are started straight from the
# root filesystem. Copying them with their libraries and the dynamic loader
# to tmpfs once per VM made each start over 9p 2.5 to 3.2x faster (in the
# TCG VM: `ip -n NS link show` 0.24..0.31 s -> 0.097 s, `ip netns exec NS
# wg show all dump` 0.40 -> 0.13 s, jq 0.50 -> 0.40 s) for 9.9 s of copying
# per VM, but no suite measurably faster (mesh.sh 116 s with the copies,
# 103 s without, in one VM): the suites wait on the daemons, not on tool
# starts. So there is no copy.

# rst_in NAME CMD...: CMD in netns NAME.
rst_in() {
	local n=$1
	shift
	ip netns exec "$RST_P-$n" "$@"
}
# gwN's addresses: 10 + N in the last byte, so 1..9 keep the historical
# 192.0.2.1N / 10.255.0.1N and N goes up to RST_MAX_GW.
RST_MAX_GW=200
rst_gw_ip() { echo "192.0.2.$((10 + $1))"; }   # underlay address of gwN
rst_gw_id() { echo "10.255.0.$((10 + $1))"; }  # device identifier of gwN
rst_lan_ip() { echo "10.$1.0.2"; }    # host behind gwN
rst_vpn_port() { echo $((RST_VPN_BASE_PORT + $1)); }

# rst_init: scratch directory and cleanup trap (call once, first).
rst_init() {
	RST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$RST_P.XXXXXX") || return 1
	rst_hold_timestamps
	trap rst_cleanup EXIT
	trap 'exit 130' INT TERM
}

# rst_suite_begin NAME: the opening every tests/rosterd suite shares. A
# missing requirement is one skipped result, and the script exits here.
rst_suite_begin() {
	local why
	ktap_header ""
	if ! why=$(rst_require); then
		ktap_skip "$1" "$why"
		ktap_finish
	fi
	rst_init || exit 1
	RST_T0=$SECONDS
}

# Every ping enables and then disables the kernel's netstamp_needed static
# key (SO_TIMESTAMP), i.e. live-patches __netif_receive_skb_core. Under
# TCG such patching while another vCPU runs that code has oopsed ("int3"
# in __netif_receive_skb_core, seen in lossy.sh on 6.12). One long-lived
# ping in the initial netns keeps the key enabled for the whole test.
rst_hold_timestamps() {
	ping -q -i 30 127.0.0.1 >/dev/null 2>&1 </dev/null &
	RST_PID[tsholder]=$!
}

rst_ns_add() {
	local n=$1 full=$RST_P-$1
	ip netns add "$full" || return 1
	RST_NS+=("$full")
	ip -n "$full" link set lo up
	rst_log "created netns $full"
}

# rst_topology [NGW]: build the diagram above with NGW gateways
# (1..RST_MAX_GW). One `ip -batch` per namespace (process starts are what
# costs in the VM).
rst_topology() {
	local ngw=${1:-4} n node nodes=(mgr) b=
	if ((ngw < 1 || ngw > RST_MAX_GW)); then
		echo "rst_topology: $ngw gateways: 1..$RST_MAX_GW supported"
		return 1
	fi
	for ((n = 1; n <= ngw; n++)); do nodes+=("gw$n"); done
	for node in inet "${nodes[@]}"; do b+="netns add $RST_P-$node"$'\n'; done
	for ((n = 1; n <= ngw; n++)); do b+="netns add $RST_P-lan$n"$'\n'; done
	ip -batch - <<<"$b" || return 1
	for node in inet "${nodes[@]}"; do RST_NS+=("$RST_P-$node"); rst_log "created netns $RST_P-$node"; done
	for ((n = 1; n <= ngw; n++)); do RST_NS+=("$RST_P-lan$n"); rst_log "created netns $RST_P-lan$n"; done
	# the internet: a bridge with one veth per node (the other end is the
	# node's eth0)
	b=$'link set lo up\nlink add br0 type bridge\nlink set br0 up\n'
	for node in "${nodes[@]}"; do
		b+="link add v-$node type veth peer name eth0 netns $RST_P-$node"$'\n'
		b+="link set v-$node master br0"$'\n'"link set v-$node up"$'\n'
	done
	ip -n "$RST_P-inet" -batch - <<<"$b" || return 1
	ip -n "$RST_P-mgr" -batch - <<EOF || return 1
link set lo up
addr add $RST_MGR_UNDERLAY/24 dev eth0
link set eth0 up
EOF
	for ((n = 1; n <= ngw; n++)); do
		ip -n "$RST_P-gw$n" -batch - <<EOF || return 1
link set lo up
addr add $(rst_gw_ip "$n")/24 dev eth0
link set eth0 up
link add lan0 type veth peer name eth0 netns $RST_P-lan$n
addr add 10.$n.0.1/24 dev lan0
link set lan0 up
EOF
		ip -n "$RST_P-lan$n" -batch - <<EOF || return 1
link set lo up
addr add 10.$n.0.2/24 dev eth0
link set eth0 up
route add default via 10.$n.0.1
EOF
		rst_in "gw$n" sysctl -qw net.ipv4.ip_forward=1 || return 1
	done
	RST_NGW=$ngw
}

# rst_node NAME ADDR: one more netns NAME attached to the internet bridge
# as ADDR/24 (its eth0; the bridge port in inet is v-NAME).
rst_node() {
	local name=$1 addr=$2 full=$RST_P-$1
	rst_ns_add "$name" || return 1
	ip -n "$RST_P-inet" -batch - <<EOF || return 1
link add v-$name type veth peer name eth0 netns $full
link set v-$name master br0
link set v-$name up
EOF
	ip -n "$full" -batch - <<EOF || return 1
addr add $addr/24 dev eth0
link set eth0 up
EOF
}

# ----------------------------------------------------------- configs ----

rst_mgr_config() {
	mkdir -p "$RST_DIR/mgr/state"
	cat >"$RST_DIR/mgr/rosterd.conf" <<EOF
# manager ($(rst_ns mgr))
[manager]
listen-port = $RST_MGR_PORT
endpoint = $RST_MGR_UNDERLAY
control-address = $RST_MGR_CTL
control-prefix = 10.255.0.0/16
control-port = $RST_CTL_PORT
interface = rctl0
state-dir = $RST_DIR/mgr/state
log-level = info
EOF
}

# rst_gw_config N VPN...: gwN's config with a [vpn V] section per VPN.
rst_gw_config() {
	local n=$1 v f=$RST_DIR/gw$1/rosterd.conf
	shift
	mkdir -p "$RST_DIR/gw$n/state"
	cat >"$f" <<EOF
# gateway gw$n ($(rst_ns "gw$n")), device identifier $(rst_gw_id "$n")
[gateway]
state-dir = $RST_DIR/gw$n/state
interface = rctl0
endpoint = $(rst_gw_ip "$n")
retry-ms = 500
EOF
	for v in "$@"; do
		cat >>"$f" <<EOF

[vpn $v]
listen-port = $(rst_vpn_port "$v")
interface = rvpn$v
prefix = 10.$n.0.0/24
EOF
	done
}

rst_conf() { echo "$RST_DIR/$1/rosterd.conf"; }
rst_logfile() { echo "$RST_DIR/$1.log"; }

# ----------------------------------------------------------- daemons ----

# rst_daemon_start NAME NS ARGS...: rosterd ARGS in netns NS, stderr and
# stdout appended to $RST_DIR/NAME.log.
rst_daemon_start() {
	local name=$1 ns=$2 pid
	shift 2
	# $! is the daemon itself: ip netns exec execs rosterd in place.
	# shellcheck disable=SC2086 # RST_DAEMON_ARGS is a word list
	ip netns exec "$RST_P-$ns" "$ROSTERD" "$@" ${RST_DAEMON_ARGS:-} \
		>>"$RST_DIR/$name.log" 2>&1 </dev/null &
	pid=$!
	RST_PID[$name]=$pid
	rst_log "started daemon $name (pid $pid, netns $RST_P-$ns): rosterd $*"
	sleep 0.2
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		rst_log "daemon $name exited at once (status $?)"
		unset "RST_PID[$name]"
		return 1
	fi
}

rst_mgr_start() { rst_daemon_start mgr mgr manager --config "$(rst_conf mgr)"; }
rst_gw_start() { rst_daemon_start "gw$1" "gw$1" gateway --config "$(rst_conf "gw$1")"; }

rst_alive() {
	local pid=${RST_PID[$1]:-}
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# rst_all_alive NAME...: every named daemon still runs (the dead are named).
rst_all_alive() {
	local d rc=0
	for d in "$@"; do
		rst_alive "$d" || { echo "  $d died"; rc=1; }
	done
	return "$rc"
}

# rst_daemon_stop NAME [SIG]: TERM (default) waits up to 10 s, then KILL.
rst_daemon_stop() {
	local name=$1 sig=${2:-TERM} pid=${RST_PID[$1]:-} i st
	[[ -n $pid ]] || return 0
	kill "-$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	unset "RST_PID[$name]"
	rst_log "stopped daemon $name (pid $pid, SIG$sig, status $st)"
}

# rst_invite N VPN...: prints the token for gwN (runs in the mgr netns).
# What gwN may announce: RST_INVITE_PREFIXES (space separated), default
# 10.0.0.0/8, the sites' space, in which the suites move prefixes between
# gateways (the manager's fixed rules still keep them off 10.255.0.0/16).
rst_invite() {
	local n=$1 v p args=()
	shift
	for v in "$@"; do args+=(--vpn "$v"); done
	for p in ${RST_INVITE_PREFIXES:-10.0.0.0/8}; do args+=(--prefix "$p"); done
	rst_in mgr "$ROSTERD" invite --config "$(rst_conf mgr)" \
		--id "$(rst_gw_id "$n")" "${args[@]}" 2>>"$RST_DIR/invite.log"
}

rst_redeem() {
	# On standard input: the token is a secret (never on a command line).
	printf '%s\n' "$2" | rst_in "gw$1" "$ROSTERD" redeem --config "$(rst_conf "gw$1")" - \
		>>"$RST_DIR/gw$1.redeem.log" 2>&1
}

# rst_enrol N VPN...: write gwN's config (joining VPN...), invite it for
# those VPNs, redeem the token, start the gateway daemon.
rst_enrol() {
	local n=$1 tok
	shift
	rst_gw_config "$n" "$@"
	tok=$(rst_invite "$n" "$@")
	if [[ -z $tok ]]; then
		rst_log "invite for gw$n failed"
		return 1
	fi
	echo "$tok" >"$RST_DIR/gw$n.token"
	# A failed enrolment leaves the invitation pending (rosterd's manager
	# logs "the invitation stays pending"), so redeeming the same token
	# again is the user's recovery; RST_REDEEM_TRIES=1 makes it strict.
	local try=1
	until rst_redeem "$n" "$tok"; do
		echo "# redeem for gw$n failed (try $try of ${RST_REDEEM_TRIES:-3}): $(tail -n 1 "$RST_DIR/gw$n.redeem.log")"
		if ((++try > ${RST_REDEEM_TRIES:-3})); then
			return 1
		fi
	done
	rst_gw_start "$n"
}

# rst_leave N VPN: `rosterd leave` in gwN's netns (asks the manager).
rst_leave() {
	rst_in "gw$1" "$ROSTERD" leave --config "$(rst_conf "gw$1")" --vpn "$2" \
		>>"$RST_DIR/gw$1.leave.log" 2>&1
}

# rst_kick N VPN: the administrator removes gwN on the manager.
rst_kick() {
	rst_in mgr "$ROSTER_CLI" member leave vpn "$2" id "$(rst_gw_id "$1")" reason admin >/dev/null
}

# rst_ctl_up NAME: NAME's control interface exists (daemon started).
rst_ctl_up() { ip -n "$RST_P-$1" link show rctl0 >/dev/null 2>&1; }

# ------------------------------------------------------------ oracle ----
#
# Process starts are expensive in the VM (TCG, root over 9p with cache=none:
# every exec re-reads the binary and its libraries), so the oracle parses
# with bash builtins and calls each tool once per check.

# `roster -j member show` -> one member a line: "id key endpoint prefixes"
RST_JQ_MEMBERS='.[] | "\(.id) \(.public_key) \(.endpoint // "-") \((.allowed_ips // []) | sort | join(",") | if . == "" then "-" else . end)"'

# rst_members VPN: the manager's table for VPN, one member a line:
# "id key endpoint prefix,prefix" (nothing if the VPN is unknown). Also
# left in RST_MEMBERS.
rst_members() {
	RST_MEMBERS=$(rst_in mgr "$ROSTER_CLI" -j member show vpn "$1" 2>/dev/null |
		jq -r "$RST_JQ_MEMBERS")
	[[ -z $RST_MEMBERS ]] || printf '%s\n' "$RST_MEMBERS"
}

# rst_mirror_ok N VPN [MEMBERS]: gwN's own roster.ko (the gateway's mirror)
# holds VPN exactly as the manager's table does, gwN itself included (ids,
# keys, endpoints, prefixes), if gwN is a member; no such VPN if it is not.
# MEMBERS: rst_members output, fetched if not given. Prints the difference.
rst_mirror_ok() {
	local n=$1 v=$2 m=${3-$(rst_members "$2")} want have
	want=$(LC_ALL=C sort <<<"$m")
	[[ $'\n'$want == *$'\n'"$(rst_gw_id "$n") "* ]] || want=
	have=$(rst_in "gw$n" "$ROSTER_CLI" -j member show vpn "$v" 2>/dev/null |
		jq -r "$RST_JQ_MEMBERS" | LC_ALL=C sort)
	[[ $have != "$want" ]] || return 0
	echo "  gw$n's roster.ko, vpn $v (< the manager's, > gw$n's):"
	diff <(echo "$want") <(echo "$have") | grep '^[<>]' | sed 's/^/    /'
	return 1
}

# rst_mirrors_ok VPN N...: rst_mirror_ok for every listed gateway.
rst_mirrors_ok() {
	local v=$1 n rc=0 m
	shift
	m=$(rst_members "$v")
	for n in "$@"; do
		rst_mirror_ok "$n" "$v" "$m" || rc=1
	done
	return $rc
}

# rst_member_ids VPN: the members' ids, space separated.
rst_member_ids() {
	local id rest out=()
	while read -r id rest; do
		[[ -z $id ]] || out+=("$id")
	done < <(rst_members "$1")
	# sorted: the table lists members in its own order, not in join order
	# (under loss gw2's JOIN_REQ can overtake gw1's)
	((${#out[@]})) && printf '%s\n' "${out[@]}" | LC_ALL=C sort | xargs
}

# rst_table_is VPN N...: the manager's VPN has exactly gateways N... (in
# any order; the mismatch is printed).
rst_table_is() {
	local v=$1 n want=() have
	shift
	for n in "$@"; do want+=("$(rst_gw_id "$n")"); done
	have=$(rst_member_ids "$v")
	[[ $have == "$( ((${#want[@]})) && printf '%s\n' "${want[@]}" | LC_ALL=C sort | xargs)" ]] || {
		echo "  vpn $v members: '$have', want '${want[*]}'"
		return 1
	}
}

# rst_sort_csv A,B,C: the comma-separated list sorted (bash only).
rst_sort_csv() {
	local IFS=, arr i j t
	read -r -a arr <<<"$1"
	for ((i = 1; i < ${#arr[@]}; i++)); do
		t=${arr[$i]}
		for ((j = i - 1; j >= 0; j--)); do
			[[ ${arr[$j]} > $t ]] || break
			arr[j + 1]=${arr[$j]}
		done
		arr[j + 1]=$t
	done
	echo "${arr[*]}"
}

# rst_expected_peers N VPN [MEMBERS]: "key endpoint prefixes" of every other
# member if gwN is a member, nothing if it is not (MEMBERS: rst_members
# output, fetched if not given).
rst_expected_peers() {
	local me m=${3-$(rst_members "$2")} id key ep pfx
	me=$(rst_gw_id "$1")
	[[ $'\n'$m == *$'\n'"$me "* ]] || return 0
	while read -r id key ep pfx; do
		[[ -n $id && $id != "$me" ]] || continue
		echo "$key $ep $pfx"
	done <<<"$m" | LC_ALL=C sort
}

# rst_wg_dump N VPN: sets RST_WG_SELF (gwN's public key on rvpnV, empty if
# there is no such interface) and RST_WG_PEERS (lines "key endpoint
# prefixes", sorted).
rst_wg_dump() {
	local f1 f2 ep ips rest first=1 plines=()
	RST_WG_SELF='' RST_WG_PEERS=''
	# interface line: private-key public-key listen-port fwmark
	# peer plines: public-key preshared-key endpoint allowed-ips handshake ...
	while IFS=$'\t' read -r f1 f2 ep ips rest; do
		if ((first)); then
			RST_WG_SELF=$f2 first=0
			continue
		fi
		[[ $ep == "(none)" ]] && ep=-
		if [[ $ips == "(none)" || -z $ips ]]; then ips=-; else ips=$(rst_sort_csv "$ips"); fi
		plines+=("$f1 $ep $ips")
	done < <(rst_in "gw$1" wg show "rvpn$2" dump 2>/dev/null)
	[[ ${#plines[@]} -eq 0 ]] || RST_WG_PEERS=$(printf '%s\n' "${plines[@]}" | LC_ALL=C sort)
}

# rst_wg_peers N VPN: print gwN's rvpnV peers ("key endpoint prefixes").
rst_wg_peers() {
	rst_wg_dump "$1" "$2"
	[[ -z $RST_WG_PEERS ]] || printf '%s\n' "$RST_WG_PEERS"
}

# rst_wg_pubkey N VPN: gwN's public key on rvpnV.
rst_wg_pubkey() { rst_in "gw$1" wg show "rvpn$2" public-key 2>/dev/null; }

# rst_peers_ok N VPN [MEMBERS]: gwN's rvpnV peers are exactly the other
# members of VPN in the manager's table (none if gwN is not a member) (keys, endpoints, allowed-ips), each
# peer's prefixes are routed into rvpnV, and, if gwN is a member, its key
# on rvpnV is the one the manager stored. Prints what differs.
rst_peers_ok() {
	local n=$1 v=$2 m=${3-$(rst_members "$2")} want me id key ep pfx p rc=0 routes mine=
	want=$(rst_expected_peers "$n" "$v" "$m")
	rst_wg_dump "$n" "$v"
	if [[ $want != "$RST_WG_PEERS" ]]; then
		while read -r key ep pfx; do
			[[ -z $key ]] || grep -qxF "$key $ep $pfx" <<<"$RST_WG_PEERS" ||
				echo "  gw$n rvpn$v: missing peer $key $ep $pfx"
		done <<<"$want"
		while read -r key ep pfx; do
			[[ -z $key ]] || grep -qxF "$key $ep $pfx" <<<"$want" ||
				echo "  gw$n rvpn$v: extra peer $key $ep $pfx"
		done <<<"$RST_WG_PEERS"
		rc=1
	fi
	me=$(rst_gw_id "$n")
	while read -r id key ep pfx; do
		[[ $id == "$me" ]] && mine=$key
	done <<<"$m"
	if [[ -n $mine && $mine != "$RST_WG_SELF" ]]; then
		echo "  gw$n rvpn$v: own key ${RST_WG_SELF:-(no interface)} != member key $mine"
		rc=1
	fi
	# every other member's prefixes are routed into the tunnel
	if [[ -n $want ]]; then
		routes=$(ip -n "$RST_P-gw$n" -4 route show dev "rvpn$v" 2>/dev/null)
		while read -r key ep pfx; do
			[[ -n $key && $pfx != - ]] || continue
			for p in ${pfx//,/ }; do
				[[ $'\n'$routes == *$'\n'"$p "* ]] || {
					echo "  gw$n: no route $p dev rvpn$v"
					rc=1
				}
			done
		done <<<"$want"
	fi
	return $rc
}

# rst_mesh_ok VPN N...: every listed gateway's peers match the table.
rst_mesh_ok() {
	local v=$1 n rc=0 m
	shift
	m=$(rst_members "$v")
	for n in "$@"; do
		rst_peers_ok "$n" "$v" "$m" || rc=1
	done
	return $rc
}

# rst_no_tunnel_to N VPN GW...: none of the listed gateways has a peer with
# gwN's key (KEY) on rvpnV, nor a route to 10.N.0.0/24.
rst_no_tunnel_to() {
	local key=$1 n=$2 v=$3 g rc=0
	shift 3
	for g in "$@"; do
		rst_wg_dump "$g" "$v"
		if [[ $'\n'$RST_WG_PEERS == *$'\n'"$key "* ]]; then
			echo "  gw$g rvpn$v still has a peer for gw$n ($key)"
			rc=1
		fi
		if [[ -n $(ip -n "$RST_P-gw$g" -4 route show "10.$n.0.0/24" 2>/dev/null) ]]; then
			echo "  gw$g still routes 10.$n.0.0/24"
			rc=1
		fi
	done
	return $rc
}

# rst_check NAME CMD...: run CMD in this shell (so daemons it starts stay
# known to rst_cleanup) and report it as one KTAP result; its output
# becomes diagnostics when it fails (its "# " lines always). Sets
# RST_FAILED=1 on failure. Also
# notes checks that took 5 s or more.
RST_FAILED=0
rst_check() {
	local name=$1 rc=0 t0=$SECONDS ofile=${RST_DIR:-/tmp}/.check.$$
	shift
	"$@" >"$ofile" 2>&1 </dev/null || rc=$?
	if [[ $rc -eq 0 ]]; then
		# notes ("# ...") of a passing check are still shown
		grep '^# ' "$ofile" | ktap_indent
		ktap_pass "$name"
	else
		[[ ! -s $ofile ]] || ktap_indent <"$ofile"
		ktap_fail "$name"
		RST_FAILED=1
	fi
	rm -f "$ofile"
	((SECONDS - t0 < 5)) || ktap_diag "$name took $((SECONDS - t0)) s"
	return $rc
}

# rst_wait SECS CMD...: run CMD every 0.5 s until it succeeds (0) or SECS
# elapse (1). Sets RST_WAITED to the seconds it took.
rst_wait() {
	local secs=$1 t0=$SECONDS
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			RST_WAITED=$((SECONDS - t0))
			return 0
		fi
		if ((SECONDS - t0 >= secs)); then
			RST_WAITED=$((SECONDS - t0))
			return 1
		fi
		sleep 0.5
	done
}

# rst_wait_mesh SECS VPN N...: wait until rst_mesh_ok, print the
# difference if it never happens.
rst_wait_mesh() {
	local secs=$1
	shift
	if rst_wait "$secs" rst_mesh_ok "$@"; then
		return 0
	fi
	rst_mesh_ok "$@"
	return 1
}

# rst_wait_mirrors SECS VPN N...: wait until rst_mirrors_ok, print the
# difference if it never happens.
rst_wait_mirrors() {
	local secs=$1
	shift
	if rst_wait "$secs" rst_mirrors_ok "$@"; then
		return 0
	fi
	rst_mirrors_ok "$@"
	return 1
}

# rst_ping A B [TRIES]: the host behind gwA pings the host behind gwB.
rst_ping() {
	local a=$1 b=$2 tries=${3:-3} i
	for ((i = 0; i < tries; i++)); do
		rst_in "lan$a" ping -n -q -c 1 -W 2 "$(rst_lan_ip "$b")" >/dev/null 2>&1 && return 0
	done
	return 1
}

# rst_no_ping A B: lanA cannot reach lanB (two probes).
rst_no_ping() {
	! rst_in "lan$1" ping -n -q -c 2 -i 0.5 -W 1 "$(rst_lan_ip "$2")" >/dev/null 2>&1
}

# rst_ping_all N...: every ordered pair of the listed sites; prints failures.
rst_ping_all() {
	local a b rc=0
	for a in "$@"; do
		for b in "$@"; do
			[[ $a != "$b" ]] || continue
			if ! rst_ping "$a" "$b"; then
				echo "  lan$a -> lan$b ($(rst_lan_ip "$b")): no reply"
				rc=1
			fi
		done
	done
	return $rc
}

# rst_wg_summary N VPN: a person-readable rvpnV state of gwN, one peer a
# line: "peer gwM (key...) -> prefixes, handshake Ns ago|never".
rst_wg_summary() {
	local n=$1 v=$2 now
	now=$(date +%s)
	if ! rst_in "gw$n" ip link show "rvpn$v" >/dev/null 2>&1; then
		echo "  gw$n: no rvpn$v interface"
		return 0
	fi
	rst_in "gw$n" wg show "rvpn$v" dump | awk -F'\t' -v now="$now" -v gw="gw$n" -v v="$v" '
		NR == 1 { next }
		{
			# endpoint 192.0.2.(10+M):port is gwM
			who = $3; sub(/:.*/, "", who)
			if (who ~ /^192\.0\.2\.[0-9]+$/) { sub(/^192\.0\.2\./, "", who); who = "gw" (who - 10) }
			hs = ($5 == 0) ? "never" : (now - $5) "s ago"
			printf "  %s rvpn%s: peer %-4s %s... -> %-14s handshake %s\n", gw, v, who, substr($1, 1, 8), $4, hs
			np++
		}
		END { if (!np) printf "  %s rvpn%s: no peers\n", gw, v }'
}

# rst_log_since NAME MARK: lines of NAME's log after line MARK.
rst_log_lines() { wc -l <"$RST_DIR/$1.log" 2>/dev/null || echo 0; }
rst_log_since() { tail -n +"$(($2 + 1))" "$RST_DIR/$1.log" 2>/dev/null; }

# rst_dump_logs [LINES]: the tail of every daemon log as "# " diagnostics.
rst_dump_logs() {
	local f lines=${1:-25}
	for f in "$RST_DIR"/*.log; do
		[[ -s $f ]] || continue
		echo "# ---- ${f##*/} (last $lines lines) ----"
		tail -n "$lines" "$f" | sed 's/^/#   /'
	done
}

# ------------------------------------------------ packets and messages ----
#
# rst_inject NS ARGS...: userspace/daemon/tests/rd-inject in netns NS: it
# encodes, rewrites and decodes control messages with rosterd's own
# proto.c, so the suites never re-encode the wire format. Commands (the
# full list at the top of rd-inject.c):
#   encode TYPE [--session N|random --vpn N --gen N ...]   print hex
#   send --from SRC[:PORT] --to DST:PORT [--fresh] [--gen N] HEX...
#                             send each message from SRC:PORT (bound in NS,
#                             IP_FREEBIND): verbatim, or rewritten as a new
#                             sender instance would send it (--fresh: seq 1,
#                             new session id), with generation N (--gen)
#   garbage --from SRC[:PORT] --to DST:PORT N   N datagrams that rosterd's
#                             decoder refuses (random bytes, cut, flipped
#                             and lying-length messages from the encoder)
#   frames IFACE HEX...       transmit raw frames (as captured) on IFACE
# rst_msg_types: stdin lines whose last word is a hex message, each
# prefixed with its type (JOIN_REQ, ...; "invalid" if it does not decode).
RD_INJECT=${RD_INJECT:-$ROSTER_TOP/userspace/daemon/tests/rd-inject}
rst_inject() {
	local n=$1
	shift
	[[ -x $RD_INJECT ]] || { echo "rst_inject: $RD_INJECT not built (make userspace)" >&2; return 1; }
	rst_in "$n" "$RD_INJECT" "$@"
}
rst_msg_types() { "$RD_INJECT" decode; }

# The packet capture (python3 in the capturing netns); it only records
# frames, it does not decode the control protocol.
read -r -d '' RST_CAPTURE_PY <<'PYEOF'
import json, os, select, socket, struct, sys, time
ifname, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
iftype = int(open('/sys/class/net/%s/type' % ifname).read())
l2 = 14 if iftype == 1 else 0
f = open(out, 'w', buffering=1)
open(out + '.ready', 'w').close()
end = time.time() + secs
while time.time() < end and not os.path.exists(out + '.stop'):
    r, _, _ = select.select([s], [], [], 0.2)
    if not r:
        continue
    frame, addr = s.recvfrom(65535)
    ip = frame[l2:]
    if l2 and frame[12:14] != b'\x08\x00':
        continue
    if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
        continue
    ihl = (ip[0] & 15) * 4
    sport, dport = struct.unpack('!HH', ip[ihl:ihl + 4])
    f.write(json.dumps({'dir': 'out' if addr[2] == 4 else 'in',
                        'src': socket.inet_ntoa(ip[12:16]), 'sport': sport,
                        'dst': socket.inet_ntoa(ip[16:20]), 'dport': dport,
                        'payload': ip[ihl + 8:].hex(), 'frame': frame.hex()}) + '\n')
PYEOF

# rst_capture_start NS IFACE NAME [SECS]: background capture into
# $RST_DIR/NAME.cap (waits until it listens): UDP packets seen on IFACE for
# SECS s (default 120) or until rst_capture_stop NAME, as JSON lines
# {"dir": "in"|"out", "src", "sport", "dst", "dport", "payload": hex,
# "frame": hex}.
rst_capture_start() {
	local ns=$1 ifc=$2 name=$3 secs=${4:-120} cap=$RST_DIR/$3.cap i
	rst_in "$ns" python3 -c "$RST_CAPTURE_PY" "$ifc" "$cap" "$secs" &
	RST_PID[cap-$name]=$!
	for ((i = 0; i < 300; i++)); do
		[[ -e $cap.ready ]] && return 0
		kill -0 "${RST_PID[cap-$name]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

rst_capture_stop() {
	local cap=$RST_DIR/$1.cap pid
	pid=${RST_PID[cap-$1]:-}
	touch "$cap.stop"
	[[ -z $pid ]] || wait "$pid" 2>/dev/null
	unset "RST_PID[cap-$1]"
}

# ----------------------------------------------------------- watcher ----
#
# rst_watch_start NAME GW...: in the background, sample the peers of every
# WireGuard interface (what `wg show all dump` lists) of each listed
# gateway (N for gwN, or a node name such as mgr) every RST_WATCH_MS ms
# (default 50) until rst_watch_stop NAME, recording every peer that one
# sample had and a later one lacked. One process (build/bench/wg-watch
# removals) enters the namespaces with setns and reads them over netlink:
# a `wg` process per gateway per sample would cost more than 100 ms each
# in the VM.
RST_WG_WATCH=${RST_WG_WATCH:-$ROSTER_TOP/build/bench/wg-watch}
rst_watch_start() {
	local name=$1 g f=$RST_DIR/watch-$1 nss=() i
	shift
	[[ -x $RST_WG_WATCH ]] || { echo "rst_watch_start: $RST_WG_WATCH not built (make userspace)"; return 1; }
	for g in "$@"; do
		if [[ $g == *[!0-9]* ]]; then nss+=("$RST_P-$g"); else nss+=("$RST_P-gw$g"); fi
	done
	rm -f "$f.stop" "$f.out"
	"$RST_WG_WATCH" removals -i "${RST_WATCH_MS:-50}" "$f.stop" "${nss[@]}" \
		>"$f.out" 2>"$f.err" </dev/null &
	RST_PID[watch-$name]=$!
	# started: its first sample is the baseline
	for ((i = 0; i < 100; i++)); do
		grep -q '^start ' "$f.out" 2>/dev/null && return 0
		kill -0 "${RST_PID[watch-$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "rst_watch_start: the watcher did not start: $(cat "$f.err" 2>/dev/null)"
	return 1
}

# rst_watch_removals NAME: the count of removals recorded so far (also
# after rst_watch_stop).
rst_watch_removals() { grep -c '^removed ' "$RST_DIR/watch-$1.out" 2>/dev/null || true; }

# rst_watch_stop NAME: stop the watcher (after one last sample); fails if
# it recorded a removal, printing each ("gw2 rvpn7: peer KEY removed at
# HH:MM:SS.mmm"), or if it did not run to the end. Notes the longest gap
# between two samples.
rst_watch_stop() {
	local name=$1 f=$RST_DIR/watch-$1 pid st rc=0 w t ns ifc key
	pid=${RST_PID[watch-$name]:-}
	[[ -n $pid ]] || { echo "rst_watch_stop: no watcher $name"; return 1; }
	touch "$f.stop"
	wait "$pid"
	st=$?
	unset "RST_PID[watch-$name]"
	while read -r w w t ns ifc key; do
		echo "  ${ns#"$RST_P"-} $ifc: peer $key removed at $w"
		rc=1
	done < <(grep '^removed ' "$f.out")
	if [[ $st != 0 ]] || ! grep -q '^stats ' "$f.out"; then
		echo "  watcher $name failed (status $st): $(cat "$f.err")"
		rc=1
	fi
	grep '^stats ' "$f.out" | sed "s/^stats /# watcher $name: /"
	return $rc
}

# ----------------------------------------------------------- cleanup ----

# Runs once (EXIT trap, or called by hand first): a second call, e.g. from
# the trap after an explicit one, finds nothing left to do and says nothing.
RST_CLEANED=0
rst_cleanup() {
	local name ns i t0=$SECONDS
	((!RST_CLEANED)) || return 0
	RST_CLEANED=1
	for name in "${!RST_PID[@]}"; do
		kill -TERM "${RST_PID[$name]}" 2>/dev/null
	done
	for ((i = 0; i < 30; i++)); do
		local alive=0
		for name in "${!RST_PID[@]}"; do
			kill -0 "${RST_PID[$name]}" 2>/dev/null && alive=1
		done
		((alive)) || break
		sleep 0.1
	done
	for name in "${!RST_PID[@]}"; do
		kill -KILL "${RST_PID[$name]}" 2>/dev/null
		wait "${RST_PID[$name]}" 2>/dev/null
		[[ $name == cap-* || $name == watch-* || $name == tsholder ]] || rst_log "stopped daemon $name (pid ${RST_PID[$name]})"
	done
	RST_PID=()
	for ((i = ${#RST_NS[@]} - 1; i >= 0; i--)); do
		ns=${RST_NS[$i]}
		if ip netns del "$ns" 2>/dev/null; then
			rst_log "destroyed netns $ns"
		fi
	done
	RST_NS=()
	# before the directory goes: RST_LOG may be in it (scripts/demo-netns)
	rst_log "cleanup took $((SECONDS - t0)) s"
	if [[ -n $RST_DIR && -z ${RST_KEEP:-} ]]; then
		rm -rf "$RST_DIR"
	fi
	return 0
}

# rst_require: skip reasons common to every suite (prints one, returns 1).
rst_require() {
	[[ $(id -u) == 0 ]] || { echo "needs root"; return 1; }
	[[ -x $ROSTERD ]] || { echo "rosterd not built ($ROSTERD)"; return 1; }
	[[ -x $ROSTER_CLI ]] || { echo "roster not built ($ROSTER_CLI)"; return 1; }
	command -v wg >/dev/null || { echo "wg (wireguard-tools) missing"; return 1; }
	command -v jq >/dev/null || { echo "jq missing"; return 1; }
	command -v python3 >/dev/null || { echo "python3 missing"; return 1; }
	modprobe wireguard 2>/dev/null || [[ -d /sys/module/wireguard ]] ||
		{ echo "no wireguard module"; return 1; }
	roster_loaded || { echo "roster module not loaded"; return 1; }
	return 0
}

# ------------------------------------------------- several managers ----
#
# tests/rosterd/ha.sh: three managers on one etcd cluster. The topology
# (rst_ha_topology) replaces the single mgr namespace of rst_topology by
#
#   $P-m1  192.0.2.1  control 10.255.0.1  listen-port 51800  etcd m1
#   $P-m2  192.0.2.2  control 10.255.0.2  listen-port 51801  etcd m2
#   $P-m3  192.0.2.3  control 10.255.0.3  listen-port 51802  etcd m3
#   $P-obs 192.0.2.250  (reads etcd from the "internet" for the oracle)
#
# and the gateways and lans of rst_topology. mI runs etcd member mI
# (client http://192.0.2.I:2379, peer :2380) and `rosterd manager` with
# store = etcd on all three; all managers share control-port and the
# control prefix 10.255.0.0/16 (Documentation/etcd.rst).
#
# Functions:
#   rst_ha_topology [N]        inet + m1..m3 + obs + N gateways + lans
#   rst_etcd_start I / rst_etcd_stop I [SIG]   etcd member mI
#   rst_etcd_healthy I...      each member answers /health with a leader
#   rst_etcd_raw PREFIX        etcd's JSON for a range read of PREFIX, by
#                              obs from the first member that answers
#   rst_etcd_range PREFIX      the keys under PREFIX ("key<TAB>value")
#   rst_etcd_value KEY         one value (empty if absent)
#   rst_etcd_table VPN         sets RST_ETCD_GEN and RST_ETCD_MEMBERS (the
#                              store's VPN in rst_members' format)
#   rst_ha_mgr_config I [KEY=VALUE...]   mI's config (extra [manager] keys)
#   rst_ha_mgr_start I         rosterd manager in mI (daemon name mI)
#   rst_ha_invite I N VPN... / rst_ha_enrol I N VPN...   as rst_invite /
#                              rst_enrol, against mI's config
#   rst_ko_table NODE VPN      sets RST_KO_GEN and RST_KO_MEMBERS from
#                              NODE's roster.ko (m1, gw3, ...)
#   rst_ha_tables VPN NODE...  the same for many nodes at once
#   rst_ha_oracle VPN "GWS-IN" "MGRS" "GWS"   store == roster.ko of every
#                              listed manager and gateway == every listed
#                              gateway's WireGuard peers; the store's VPN
#                              has exactly the gateways GWS-IN
#   rst_wait_oracle SECS VPN ...   wait for it (the difference shown)
#   rst_ha_leader              the store's leader (P/leader), e.g. m2
#   rst_watch_stop_except NAME "NODE IFACE KEY"...   rst_watch_stop,
#                              except that the removals matching one of
#                              the glob patterns are expected
# RST_HA_DOWN[I]=1 marks etcd member I as unreachable (killed, or its
# namespace cut off), so that readers skip it.
RST_HA_NMGR=3
RST_HA_OBS=192.0.2.250
RST_ETCD_PREFIX=${RST_ETCD_PREFIX:-/roster/}
declare -A RST_HA_DOWN=()
rst_ha_ip() { echo "192.0.2.$1"; }
rst_ha_ctl() { echo "10.255.0.$1"; }
rst_ha_port() { echo $((RST_MGR_PORT + $1 - 1)); }
rst_etcd_url() { echo "http://192.0.2.$1:2379"; }

# rst_ha_topology [NGW]: the namespaces above, one `ip -batch` each.
rst_ha_topology() {
	local ngw=${1:-6} n i node nodes=() b=
	if ((ngw < 1 || ngw > RST_MAX_GW)); then
		echo "rst_ha_topology: $ngw gateways: 1..$RST_MAX_GW supported"
		return 1
	fi
	for ((i = 1; i <= RST_HA_NMGR; i++)); do nodes+=("m$i"); done
	nodes+=(obs)
	for ((n = 1; n <= ngw; n++)); do nodes+=("gw$n"); done
	for node in inet "${nodes[@]}"; do b+="netns add $RST_P-$node"$'\n'; done
	for ((n = 1; n <= ngw; n++)); do b+="netns add $RST_P-lan$n"$'\n'; done
	ip -batch - <<<"$b" || return 1
	for node in inet "${nodes[@]}"; do RST_NS+=("$RST_P-$node"); rst_log "created netns $RST_P-$node"; done
	for ((n = 1; n <= ngw; n++)); do RST_NS+=("$RST_P-lan$n"); rst_log "created netns $RST_P-lan$n"; done
	b=$'link set lo up\nlink add br0 type bridge\nlink set br0 up\n'
	for node in "${nodes[@]}"; do
		b+="link add v-$node type veth peer name eth0 netns $RST_P-$node"$'\n'
		b+="link set v-$node master br0"$'\n'"link set v-$node up"$'\n'
	done
	ip -n "$RST_P-inet" -batch - <<<"$b" || return 1
	for ((i = 1; i <= RST_HA_NMGR; i++)); do
		ip -n "$RST_P-m$i" -batch - <<EOF || return 1
link set lo up
addr add $(rst_ha_ip "$i")/24 dev eth0
link set eth0 up
EOF
	done
	ip -n "$RST_P-obs" -batch - <<EOF || return 1
link set lo up
addr add $RST_HA_OBS/24 dev eth0
link set eth0 up
EOF
	for ((n = 1; n <= ngw; n++)); do
		ip -n "$RST_P-gw$n" -batch - <<EOF || return 1
link set lo up
addr add $(rst_gw_ip "$n")/24 dev eth0
link set eth0 up
link add lan0 type veth peer name eth0 netns $RST_P-lan$n
addr add 10.$n.0.1/24 dev lan0
link set lan0 up
EOF
		ip -n "$RST_P-lan$n" -batch - <<EOF || return 1
link set lo up
addr add 10.$n.0.2/24 dev eth0
link set eth0 up
route add default via 10.$n.0.1
EOF
		rst_in "gw$n" sysctl -qw net.ipv4.ip_forward=1 || return 1
	done
	RST_NGW=$ngw
}

# ------------------------------------------------------------- etcd ----

# rst_etcd_start I: etcd member mI in netns mI, data in $RST_DIR/etcd-mI
# (a restart reuses it: etcd then ignores the --initial-* flags), log
# $RST_DIR/etcd-mI.log. Timing generous for TCG: RST_ETCD_HEARTBEAT
# (200 ms), RST_ETCD_ELECTION (2000 ms). Returns once the process runs;
# rst_etcd_healthy tells when it serves.
rst_etcd_start() {
	local i=$1 name=etcd-m$1 j cluster='' pid ip
	ip=$(rst_ha_ip "$i")
	for ((j = 1; j <= RST_HA_NMGR; j++)); do
		cluster+="${cluster:+,}m$j=http://$(rst_ha_ip "$j"):2380"
	done
	mkdir -p "$RST_DIR/$name"
	ip netns exec "$RST_P-m$i" etcd --name "m$i" --data-dir "$RST_DIR/$name" \
		--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--initial-cluster-token "$RST_P" \
		--heartbeat-interval "${RST_ETCD_HEARTBEAT:-200}" \
		--election-timeout "${RST_ETCD_ELECTION:-2000}" \
		--logger zap --log-outputs stderr \
		>>"$RST_DIR/$name.log" 2>&1 </dev/null &
	pid=$!
	RST_PID[$name]=$pid
	unset "RST_HA_DOWN[$i]"
	rst_log "started $name (pid $pid, netns $RST_P-m$i)"
	sleep 0.2
	kill -0 "$pid" 2>/dev/null || { echo "  $name exited at once: $(tail -n 3 "$RST_DIR/$name.log")"; return 1; }
}

# rst_etcd_stop I [SIG]: stop etcd member mI (TERM waits up to 10 s).
rst_etcd_stop() {
	RST_HA_DOWN[$1]=1
	rst_daemon_stop "etcd-m$1" "${2:-TERM}"
}

# rst_etcd_healthy I...: each member (asked in its own netns) reports
# health: it has a raft leader and serves a linearizable read.
rst_etcd_healthy() {
	local i rc=0 out
	for i in "$@"; do
		out=$(rst_in "m$i" curl -s -m 5 "$(rst_etcd_url "$i")/health" 2>&1)
		[[ $out == *'"health":"true"'* ]] || { echo "  etcd m$i: ${out:-no answer}"; rc=1; }
	done
	return $rc
}

# rst_etcd_raw PREFIX: etcd's JSON answer to one linearizable range read
# of every key under PREFIX, by obs, from the first member (not marked
# down) that answers.
rst_etcd_raw() {
	local p=$1 end i out c req
	# range_end: the prefix with its last byte + 1
	printf -v c '%d' "'${p: -1}"
	printf -v end '%s\\x%02x' "${p%?}" $((c + 1))
	# shellcheck disable=SC2059 # end holds the \x escape
	printf -v end "$end"
	req="{\"key\": \"$(printf '%s' "$p" | base64 -w0)\", \"range_end\": \"$(printf '%s' "$end" | base64 -w0)\"}"
	for ((i = 1; i <= RST_HA_NMGR; i++)); do
		[[ -z ${RST_HA_DOWN[$i]:-} ]] || continue
		out=$(rst_in obs curl -s -m 5 --connect-timeout 1 -X POST \
			"$(rst_etcd_url "$i")/v3/kv/range" -d "$req" 2>/dev/null) || continue
		[[ $out == *'"header"'* ]] || continue
		printf '%s\n' "$out"
		return 0
	done
	echo "rst_etcd_raw: no etcd member answered" >&2
	return 1
}

# rst_etcd_range PREFIX: "key<TAB>value" lines of every key under PREFIX.
rst_etcd_range() {
	local out
	out=$(rst_etcd_raw "$1") || return 1
	jq -r '.kvs[]? | "\(.key | @base64d)\t\(.value // "" | @base64d)"' <<<"$out"
}

# rst_etcd_value KEY: KEY's value (nothing if absent).
rst_etcd_value() {
	local k v rows
	rows=$(rst_etcd_range "$1") || return 1
	while IFS=$'\t' read -r k v; do
		[[ $k != "$1" ]] || { printf '%s\n' "$v"; return 0; }
	done <<<"$rows"
}

# jq: a member record of the store -> "id key endpoint prefixes", as
# RST_JQ_MEMBERS prints roster.ko's
RST_JQ_ETCD_MEMBER='"\(.id) \(.key // "-") \(if .endpoint == null then "-" elif (.endpoint | test(":")) then "[\(.endpoint)]:\(.port)" else "\(.endpoint):\(.port)" end) \((.prefixes // []) | sort | join(",") | if . == "" then "-" else . end)"'

# rst_etcd_table VPN: RST_ETCD_GEN (empty: no such VPN in the store) and
# RST_ETCD_MEMBERS (sorted lines "id key endpoint prefixes"), one read.
rst_etcd_table() {
	local h raw tag rest
	printf -v h '%08x' "$1"
	RST_ETCD_GEN='' RST_ETCD_MEMBERS=''
	raw=$(rst_etcd_raw "$RST_ETCD_PREFIX") || return 1
	while IFS=$'\t' read -r tag rest; do
		case $tag in
		gen) RST_ETCD_GEN=$rest ;;
		member) RST_ETCD_MEMBERS+=${RST_ETCD_MEMBERS:+$'\n'}$rest ;;
		esac
	done < <(jq -r --arg vk "${RST_ETCD_PREFIX}vpn/$h" --arg mk "${RST_ETCD_PREFIX}member/$h/" "
		[.kvs[]? | {k: (.key | @base64d), v: (.value // \"\" | @base64d)}]
		| (.[] | select(.k == \$vk) | \"gen\t\(.v)\"),
		  ([.[] | select(.k | startswith(\$mk)) | .v | fromjson | $RST_JQ_ETCD_MEMBER] | sort | .[] | \"member\t\(.)\")" <<<"$raw")
}

# rst_ko_table NODE VPN: RST_KO_GEN (empty: no such VPN) and
# RST_KO_MEMBERS (sorted) from NODE's roster.ko.
rst_ko_table() {
	RST_KO_GEN=$(rst_in "$1" "$ROSTER_CLI" -j vpn show 2>/dev/null |
		jq -r ".[] | select(.vpn_id == $2) | .generation")
	RST_KO_MEMBERS=''
	[[ -z $RST_KO_GEN ]] ||
		RST_KO_MEMBERS=$(rst_in "$1" "$ROSTER_CLI" -j member show vpn "$2" 2>/dev/null |
			jq -r "$RST_JQ_MEMBERS" | LC_ALL=C sort)
}

# rst_ha_tables VPN NODE...: RST_HA_GEN[NODE] (empty: no such VPN) and
# RST_HA_MEMBERS[NODE] (sorted, rst_members' format) from each NODE's
# roster.ko: the nodes are read in parallel, one process each, and decoded
# by one jq (process starts are what costs in the VM).
declare -A RST_HA_GEN=() RST_HA_MEMBERS=()
rst_ha_tables() {
	local v=$1 node tag rest d pids=()
	shift
	RST_HA_GEN=() RST_HA_MEMBERS=()
	d=$(mktemp -d "$RST_DIR/tables.XXXXXX") || return 1
	for node in "$@"; do
		# shellcheck disable=SC2016 # expanded by that sh
		ip netns exec "$RST_P-$node" sh -c '
			v=$("$0" -j vpn show 2>/dev/null) && [ -n "$v" ] || v=null
			m=$("$0" -j member show vpn "$1" 2>/dev/null) && [ -n "$m" ] || m=null
			printf "{\"node\": \"%s\", \"vpns\": %s, \"members\": %s}\n" "$2" "$v" "$m"' \
			"$ROSTER_CLI" "$v" "$node" >"$d/$node" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	while IFS=$'\t' read -r tag node rest; do
		case $tag in
		gen) RST_HA_GEN[$node]=$rest ;;
		member) RST_HA_MEMBERS[$node]+=${RST_HA_MEMBERS[$node]:+$'\n'}$rest ;;
		esac
	done < <(cat "$d"/* | jq -rn --argjson v "$v" "
		inputs | .node as \$n
		| ((.vpns // []) | map(select(.vpn_id == \$v)) | .[0].generation // null) as \$g
		| if \$g == null then \"gen\t\(\$n)\t\" else
			(\"gen\t\(\$n)\t\(\$g)\", ([(.members // []) | $RST_JQ_MEMBERS] | sort | .[] | \"member\t\(\$n)\t\(.)\"))
		  end")
	rm -rf "$d"
	for node in "$@"; do
		[[ -v RST_HA_GEN[$node] ]] || { echo "  $node's roster.ko could not be read"; return 1; }
	done
}

# rst_ha_oracle VPN "GWS-IN" "MGRS" "GWS": the store's VPN has exactly
# the gateways GWS-IN (numbers; empty: no member); the roster.ko of every
# manager I in MGRS holds it at the store's generation with the store's
# members; every gateway N in GWS that is a member holds the same in its
# roster.ko (a non-member: no such VPN), its rvpnVPN key is its member key,
# its peers are exactly the other members (keys, endpoints, allowed-ips:
# none if it is no member) and their prefixes are routed into rvpnVPN.
# RST_HA_TABLE, if set, replaces the store's members (the oracle's own
# test). Prints every difference.
rst_ha_oracle() {
	local v=$1 in=$2 mgrs=$3 gws=$4 t id key ep pfx rest ids=() want=() i n rc=0 have_s want_s
	local nodes=() nss=() node what self_key routes p
	local -A self=() peers=() mine=()
	rst_etcd_table "$v" || { echo "  the store cannot be read"; return 1; }
	t=${RST_HA_TABLE-$RST_ETCD_MEMBERS}
	while read -r id key rest; do
		[[ -z $id ]] && continue
		ids+=("$id")
		mine[$id]=$key
	done <<<"$t"
	for n in $in; do want+=("$(rst_gw_id "$n")"); done
	have_s=$( ((${#ids[@]})) && printf '%s\n' "${ids[@]}" | LC_ALL=C sort | xargs)
	want_s=$( ((${#want[@]})) && printf '%s\n' "${want[@]}" | LC_ALL=C sort | xargs)
	if [[ $have_s != "$want_s" ]]; then
		echo "  store, vpn $v (generation ${RST_ETCD_GEN:-none}): members '$have_s', want '$want_s'"
		rc=1
	fi
	for i in $mgrs; do nodes+=("m$i"); done
	for n in $gws; do nodes+=("gw$n"); nss+=("$RST_P-gw$n"); done
	rst_ha_tables "$v" "${nodes[@]}" || return 1
	for i in $mgrs; do
		if [[ ${RST_HA_GEN[m$i]} != "$RST_ETCD_GEN" ]]; then
			echo "  m$i's roster.ko, vpn $v: generation ${RST_HA_GEN[m$i]:-none}, the store's ${RST_ETCD_GEN:-none}"
			rc=1
		fi
		if [[ ${RST_HA_MEMBERS[m$i]:-} != "$t" ]]; then
			echo "  m$i's roster.ko, vpn $v (< the store's, > m$i's):"
			diff <(echo "$t") <(echo "${RST_HA_MEMBERS[m$i]:-}") | grep '^[<>]' | sed 's/^/    /'
			rc=1
		fi
	done
	[[ -n $gws ]] || return $rc
	# every gateway's rvpnV at once: "NS self KEY|-", "NS peer KEY EP PFX"
	while read -r node what key ep pfx; do
		node=${node#"$RST_P"-}
		if [[ $what == self ]]; then
			self[$node]=$key
		else
			[[ $pfx == - ]] || pfx=$(rst_sort_csv "$pfx")
			peers[$node]+="$key $ep $pfx"$'\n'
		fi
	done < <("$RST_WG_WATCH" dump "rvpn$v" "${nss[@]}")
	for n in $gws; do
		node=gw$n id=$(rst_gw_id "$n")
		local want_t='' want_p='' have_p
		if [[ -n ${mine[$id]+set} ]]; then
			want_t=$t
			want_p=$(while read -r i key ep pfx; do
				[[ -n $i && $i != "$id" ]] && echo "$key $ep $pfx"
			done <<<"$t" | LC_ALL=C sort)
			if [[ ${RST_HA_GEN[$node]} != "$RST_ETCD_GEN" ]]; then
				echo "  $node's roster.ko, vpn $v: generation ${RST_HA_GEN[$node]:-none}, the store's ${RST_ETCD_GEN:-none}"
				rc=1
			fi
			self_key=${self[$node]:--}
			if [[ $self_key != "${mine[$id]}" ]]; then
				echo "  $node rvpn$v: own key $self_key != member key ${mine[$id]}"
				rc=1
			fi
		fi
		if [[ ${RST_HA_MEMBERS[$node]:-} != "$want_t" ]]; then
			echo "  $node's roster.ko, vpn $v (< the store's, > $node's):"
			diff <(echo "$want_t") <(echo "${RST_HA_MEMBERS[$node]:-}") | grep '^[<>]' | sed 's/^/    /'
			rc=1
		fi
		have_p=$(printf '%s' "${peers[$node]:-}" | LC_ALL=C sort)
		if [[ $have_p != "$want_p" ]]; then
			diff <(echo "$want_p") <(echo "$have_p") | sed -n "s/^< /  $node rvpn$v: missing peer /p; s/^> /  $node rvpn$v: extra peer /p"
			rc=1
		fi
		[[ -n $want_p ]] || continue
		routes=$(ip -n "$RST_P-$node" -4 route show dev "rvpn$v" 2>/dev/null)
		while read -r key ep pfx; do
			[[ $pfx != - ]] || continue
			for p in ${pfx//,/ }; do
				[[ $'\n'$routes == *$'\n'"$p "* ]] || { echo "  $node: no route $p dev rvpn$v"; rc=1; }
			done
		done <<<"$want_p"
	done
	return $rc
}

# rst_wait_oracle SECS VPN "GWS-IN" "MGRS" "GWS": wait for rst_ha_oracle;
# print the difference if it never agrees.
rst_wait_oracle() {
	local secs=$1
	shift
	rst_wait "$secs" rst_ha_oracle "$@" && return 0
	rst_ha_oracle "$@"
	return 1
}

# ---------------------------------------------------------- managers ----

# rst_ha_mgr_config I [KEY=VALUE...]: mI's config; each KEY=VALUE adds a
# "KEY = VALUE" line to [manager] (name, lease-ttl, ...).
rst_ha_mgr_config() {
	local i=$1 j eps='' kv f=$RST_DIR/m$1/rosterd.conf
	shift
	for ((j = 1; j <= RST_HA_NMGR; j++)); do eps+="${eps:+, }$(rst_etcd_url "$j")"; done
	mkdir -p "$RST_DIR/m$i/state"
	cat >"$f" <<EOF
# manager m$i ($(rst_ns "m$i"))
[manager]
listen-port = $(rst_ha_port "$i")
endpoint = $(rst_ha_ip "$i")
control-address = $(rst_ha_ctl "$i")
control-prefix = 10.255.0.0/16
control-port = $RST_CTL_PORT
interface = rctl0
state-dir = $RST_DIR/m$i/state
log-level = info
store = etcd
etcd-endpoints = $eps
etcd-prefix = $RST_ETCD_PREFIX
EOF
	for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}" >>"$f"; done
}

rst_ha_mgr_start() { rst_daemon_start "m$1" "m$1" manager --config "$(rst_conf "m$1")"; }

# rst_ha_invite I N VPN...: rst_invite against mI's config (in mI).
rst_ha_invite() {
	local i=$1 n=$2 v p args=()
	shift 2
	for v in "$@"; do args+=(--vpn "$v"); done
	for p in ${RST_INVITE_PREFIXES:-10.0.0.0/8}; do args+=(--prefix "$p"); done
	rst_in "m$i" "$ROSTERD" invite --config "$(rst_conf "m$i")" \
		--id "$(rst_gw_id "$n")" "${args[@]}" 2>>"$RST_DIR/invite.log"
}

# rst_ha_enrol I N VPN...: rst_enrol through mI: gwN joins VPN...; it is
# invited for RST_INVITE_VPNS (space separated) if set, else for VPN...
rst_ha_enrol() {
	local i=$1 n=$2 tok try=1 inv
	shift 2
	rst_gw_config "$n" "$@"
	read -r -a inv <<<"${RST_INVITE_VPNS:-$*}"
	tok=$(rst_ha_invite "$i" "$n" "${inv[@]}")
	if [[ -z $tok ]]; then
		echo "  invite for gw$n failed: $(tail -n 1 "$RST_DIR/invite.log")"
		return 1
	fi
	echo "$tok" >"$RST_DIR/gw$n.token"
	until rst_redeem "$n" "$tok"; do
		echo "# redeem for gw$n failed (try $try of ${RST_REDEEM_TRIES:-3}): $(tail -n 1 "$RST_DIR/gw$n.redeem.log")"
		((++try <= ${RST_REDEEM_TRIES:-3})) || return 1
	done
	rst_gw_start "$n"
}

# rst_ha_leader: the store's leader, the value of P/leader (nothing while
# none leads).
rst_ha_leader() { rst_etcd_value "${RST_ETCD_PREFIX}leader"; }

# rst_watch_stop_except NAME "NODE IFACE KEY"...: rst_watch_stop, except
# that removals matching one of the glob patterns (e.g. "gw[1-5] rvpn9
# KEY", "gw6 rvpn9 *"; NODE as gw6, m1) are expected: they are counted in
# a note, not failed. (Base64 keys hold no glob character.)
rst_watch_stop_except() {
	local name=$1 f=$RST_DIR/watch-$1 pid st rc=0 w t ns ifc key ok=0 e
	shift
	pid=${RST_PID[watch-$name]:-}
	[[ -n $pid ]] || { echo "rst_watch_stop_except: no watcher $name"; return 1; }
	touch "$f.stop"
	wait "$pid"
	st=$?
	unset "RST_PID[watch-$name]"
	while read -r w w t ns ifc key; do
		ns=${ns#"$RST_P"-}
		for e in "$@"; do
			# shellcheck disable=SC2053 # e is a glob pattern
			[[ "$ns $ifc $key" != $e ]] || { ok=$((ok + 1)); continue 2; }
		done
		echo "  $ns $ifc: peer $key removed at $w"
		rc=1
	done < <(grep '^removed ' "$f.out")
	if [[ $st != 0 ]] || ! grep -q '^stats ' "$f.out"; then
		echo "  watcher $name failed (status $st): $(cat "$f.err")"
		rc=1
	fi
	((ok == 0)) || echo "# watcher $name: $ok expected removal(s)"
	grep '^stats ' "$f.out" | sed "s/^stats /# watcher $name: /"
	return $rc
}
