#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Documentation/operations.rst is a test: its shell blocks are extracted
# (tests/docs/rst-blocks) and run in page order, each on the hosts named by
# the ".. host:" comment before it, so the page cannot drift from the code.
#
# The hosts are the page's "example network", with its addresses:
#
#            inet: the internet (a router, ip_forward=1)
#     192.0.2.254      198.51.100.254 (brb)     203.0.113.254 (brc)
#         |                 |                    |             |
#      manager 192.0.2.1  gw1 198.51.100.1     gw2 203.0.113.1 gw3 203.0.113.2
#                           | lan0 10.1.0.1      | 10.2.0.1      | 10.3.0.1
#                         lan1 10.1.0.2        lan2 10.2.0.2   lan3 10.3.0.2
#
# Each host is a network namespace (lib.sh's names: $RST_P-mgr for the
# manager, $RST_P-gw1, $RST_P-lan1, ...) and a mount namespace, kept by a
# holder process, whose /etc, /usr, /var and /root are overlays of the VM's
# read-only root: `make install PREFIX=/usr` and the configuration files go
# there, per host. Commands a namespace cannot run (apt-get, systemctl,
# scp, ...) are functions of tests/docs/ops-host.sh. The gateways do not
# forward until the page's sysctl block says so.
#
# One KTAP result per block and host ("L243-manager": the block at line 243
# of the page, on the manager); a failing command names its line in the
# page. After the first failure the remaining blocks are skipped. Then the
# end state is checked with independent tools: every gateway's `wg show`,
# `roster -j member show` parsed by python's json, pings between the LANs,
# and that gw3, which left VPN 7 for good, is gone everywhere and stayed
# out across its restart.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# ROSTER_OPS_PAGE=FILE runs another copy of the page (to check that a broken page
# fails). RST_KEEP=1 keeps the scratch directory.
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

OPS_PAGE=${ROSTER_OPS_PAGE:-$ROSTER_TOP/Documentation/operations.rst}
OPS_BLOCKS=$ROSTER_TOP/tests/docs/rst-blocks
OPS_HOSTLIB=$ROSTER_TOP/tests/docs/ops-host.sh
OPS_BLOCK_TIMEOUT=${OPS_BLOCK_TIMEOUT:-180}
T_JOIN=${RST_T_JOIN:-60}

# the page's host names -> lib.sh's namespace names, and their addresses
OPS_HOSTS=(manager gw1 gw2 gw3 lan1 lan2 lan3)
declare -A OPS_NS=([manager]=mgr [gw1]=gw1 [gw2]=gw2 [gw3]=gw3 [lan1]=lan1 [lan2]=lan2 [lan3]=lan3)
declare -A OPS_ADDR=([manager]=192.0.2.1 [gw1]=198.51.100.1 [gw2]=203.0.113.1
	[gw3]=203.0.113.2 [lan1]=10.1.0.2 [lan2]=10.2.0.2 [lan3]=10.3.0.2)
declare -A OPS_PID=()

rst_suite_begin operations
if ! modprobe overlay 2>/dev/null && ! grep -qw overlay /proc/filesystems; then
	ktap_skip operations "no overlayfs"
	ktap_finish
fi
OPS_DIR=$RST_DIR/hosts
mkdir -p "$OPS_DIR"

# ------------------------------------------------------------ topology ----

ops_topology() {
	local n h b='' addr
	for h in inet mgr gw1 gw2 gw3 lan1 lan2 lan3; do b+="netns add $RST_P-$h"$'\n'; done
	ip -batch - <<<"$b" || return 1
	for h in inet mgr gw1 gw2 gw3 lan1 lan2 lan3; do
		RST_NS+=("$RST_P-$h")
		rst_log "created netns $RST_P-$h"
	done
	ip -n "$RST_P-inet" -batch - <<EOF || return 1
link set lo up
link add v-mgr type veth peer name eth0 netns $RST_P-mgr
addr add 192.0.2.254/24 dev v-mgr
link set v-mgr up
link add brb type bridge
addr add 198.51.100.254/24 dev brb
link set brb up
link add v-gw1 type veth peer name eth0 netns $RST_P-gw1
link set v-gw1 master brb
link set v-gw1 up
link add brc type bridge
addr add 203.0.113.254/24 dev brc
link set brc up
link add v-gw2 type veth peer name eth0 netns $RST_P-gw2
link set v-gw2 master brc
link set v-gw2 up
link add v-gw3 type veth peer name eth0 netns $RST_P-gw3
link set v-gw3 master brc
link set v-gw3 up
EOF
	rst_in inet sysctl -qw net.ipv4.ip_forward=1 || return 1
	ip -n "$RST_P-mgr" -batch - <<EOF || return 1
link set lo up
addr add 192.0.2.1/24 dev eth0
link set eth0 up
route add default via 192.0.2.254
EOF
	for n in 1 2 3; do
		addr=${OPS_ADDR[gw$n]}
		ip -n "$RST_P-gw$n" -batch - <<EOF || return 1
link set lo up
addr add $addr/24 dev eth0
link set eth0 up
route add default via ${addr%.*}.254
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
	done
}

# ops_host_up NAME: the holder of NAME's mount namespace (overlays mounted).
ops_host_up() {
	local h=$1 d=$OPS_DIR/$1 i
	mkdir -p "$d"
	# shellcheck disable=SC2016 # expanded by the holder's shell
	command ip netns exec "$RST_P-${OPS_NS[$h]}" unshare -m --propagation private bash -c '
		for m in etc usr var root; do
			mkdir -p "$1/$m-up" "$1/$m-work" &&
			mount -t overlay overlay -o "lowerdir=/$m,upperdir=$1/$m-up,workdir=$1/$m-work" "/$m" ||
				exit 1
		done
		touch "$1/ready"
		exec sleep infinity' _ "$d" </dev/null >"$d/holder.log" 2>&1 &
	OPS_PID[$h]=$!
	RST_PID[holder-$h]=$!
	for ((i = 0; i < 100; i++)); do
		[[ -e $d/ready ]] && break
		kill -0 "${OPS_PID[$h]}" 2>/dev/null || break
		sleep 0.1
	done
	if [[ ! -e $d/ready ]]; then
		cat "$d/holder.log"
		return 1
	fi
	echo "$h ${OPS_PID[$h]} ${OPS_ADDR[$h]}" >>"$OPS_DIR/hosts"
}

ops_hosts_up() {
	local h
	: >"$OPS_DIR/hosts"
	for h in "${OPS_HOSTS[@]}"; do
		ops_host_up "$h" || { echo "  host $h: no holder"; return 1; }
	done
}

# ------------------------------------------------------------- blocks ----

# ops_exec HOST CMD...: CMD in HOST (its network and mount namespaces).
ops_exec() {
	local h=$1
	shift
	nsenter -t "${OPS_PID[$h]}" -r -m -n -- "$@"
}

# ops_block HOST FILE LINE COND: one block of the page on HOST, with set -e
# and the ERR trap that names the failing line of the page. Exit 4: its
# skip-unless condition is false there.
ops_block() {
	local h=$1 file=$2 line=$3 cond=$4
	# shellcheck disable=SC2016 # expanded by the block's shell
	timeout -k 5 "$OPS_BLOCK_TIMEOUT" nsenter -t "${OPS_PID[$h]}" -r -m -n -- \
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root TERM=dumb LANG=C.UTF-8 OPS_HOST="$h" OPS_DIR="$OPS_DIR" \
		ROSTER_TOP="$ROSTER_TOP" \
		bash --norc --noprofile -c '
			cd /root || exit 1
			. "$4" || exit 1
			if [[ -n $3 ]] && ! eval "$3" >/dev/null 2>&1; then
				echo "# skip-unless is false here: $3"
				exit 4
			fi
			trap '\''ops_block_failed $? "$2" "$LINENO" "$BASH_COMMAND"'\'' ERR
			set -eE -o pipefail
			. "$1"' _ "$file" "$line" "$cond" "$OPS_HOSTLIB"
	local rc=$?
	[[ $rc -ne 124 ]] || echo "operations.rst:$line: on $h: the block timed out after $OPS_BLOCK_TIMEOUT s"
	return "$rc"
}

OPS_STOPPED=
ops_run_blocks() {
	local idx line hosts cond h name out rc
	while IFS=$'\t' read -r idx line hosts cond; do
		for h in ${hosts//,/ }; do
			name=L$line-$h
			if [[ -n $OPS_STOPPED ]]; then
				ktap_skip "$name" "after the failure at $OPS_STOPPED"
				continue
			fi
			out=$RST_DIR/block.out
			rc=0
			ops_block "$h" "$OPS_DIR/blocks/$idx.sh" "$line" "$cond" >"$out" 2>&1 </dev/null || rc=$?
			case $rc in
			0) ktap_pass "$name" ;;
			4) ktap_skip "$name" "$(sed -n 's/^# //p' "$out" | head -n 1)" ;;
			*)
				ktap_indent <"$out"
				ktap_fail "$name"
				RST_FAILED=1
				OPS_STOPPED="line $line on $h"
				;;
			esac
		done
	done <"$OPS_DIR/blocks/manifest"
}

# ------------------------------------------------------------- oracle ----

# gwN's public key (the same on rctl0 and every VPN interface)
ops_key() { rst_in "gw$1" wg show rctl0 public-key 2>/dev/null; }

# ops_wg_is N WANT: gwN's rvpn7 peers, "key endpoint allowed-ips" sorted,
# are exactly WANT (lines). Prints both when they differ.
ops_wg_is() {
	local n=$1 want=$2 have
	have=$(rst_in "gw$n" wg show rvpn7 dump | awk -F'\t' 'NR > 1 { print $1, $3, $4 }' | LC_ALL=C sort)
	[[ $have == "$want" ]] && return 0
	echo "  gw$n rvpn7 peers:"
	ktap_indent <<<"$have" | sed 's/^# /    /'
	echo "  want:"
	ktap_indent <<<"$want" | sed 's/^# /    /'
	return 1
}

ops_mesh_is() {
	ops_wg_is 1 "$K2 203.0.113.1:51807 10.2.0.0/24" &&
		ops_wg_is 2 "$K1 198.51.100.1:51807 10.1.0.0/24"
}

# the manager's table as JSON, checked by python's json module
ops_table_is() {
	rst_in mgr "$ROSTER_CLI" -j member show vpn 7 | python3 -c '
import json, sys
want = {
    "10.255.0.11": (sys.argv[1], "198.51.100.1:51807", ["10.1.0.0/24"]),
    "10.255.0.12": (sys.argv[2], "203.0.113.1:51807", ["10.2.0.0/24"]),
}
have = {m["id"]: (m["public_key"], m.get("endpoint"), sorted(m.get("allowed_ips", [])))
        for m in json.load(sys.stdin)}
if have != want:
    print("  vpn 7 on the manager: %r\n  want %r" % (have, want))
    sys.exit(1)' "$K1" "$K2"
}

ops_daemons_up() {
	local h u pid rc=0
	for h in manager gw1 gw2 gw3; do
		u=rosterd@gateway
		[[ $h != manager ]] || u=rosterd@manager
		pid=$(cat "$OPS_DIR/$h/var-up/log/roster-test/$u.pid" 2>/dev/null)
		if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
			echo "  $h: $u not running"
			rc=1
		fi
	done
	return "$rc"
}

ops_gw3_out() {
	rst_no_tunnel_to "$K3" 3 7 1 2 || return 1
	if rst_in gw3 ip link show rvpn7 >/dev/null 2>&1; then
		echo "  gw3 still has rvpn7"
		return 1
	fi
	[[ -z $(rst_in gw3 ip -4 route show 10.1.0.0/24) ]] || { echo "  gw3 still routes 10.1.0.0/24"; return 1; }
}

# ------------------------------------------------------------ cleanup ----

ops_dump_logs() {
	local f
	for f in "$OPS_DIR"/*/var-up/log/roster-test/*.log; do
		[[ -s $f ]] || continue
		echo "# ---- ${f#"$OPS_DIR"/} (last 25 lines) ----"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
}

# The page's daemons were started by its blocks, not by us: stop them by
# their pid files before lib.sh's cleanup stops the holders.
ops_cleanup() {
	local f pid i
	for f in "$OPS_DIR"/*/var-up/log/roster-test/*.pid; do
		[[ -e $f ]] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			[[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]] || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	rst_cleanup
}
trap ops_cleanup EXIT

# --------------------------------------------------------------- main ----

blocks_ok() {
	"$OPS_BLOCKS" "$OPS_PAGE" "$OPS_DIR/blocks" --hosts "$(IFS=,; echo "${OPS_HOSTS[*]}")"
}

if rst_check extract-blocks blocks_ok && rst_check topology ops_topology &&
	rst_check hosts ops_hosts_up; then
	ktap_diag "$(wc -l <"$OPS_DIR/blocks/manifest") blocks from ${OPS_PAGE#"$ROSTER_TOP"/}"
	ops_run_blocks
fi

if [[ -z $OPS_STOPPED && $RST_FAILED == 0 ]]; then
	K1=$(ops_key 1) K2=$(ops_key 2) K3=$(ops_key 3)
	rst_check daemons-running ops_daemons_up
	rst_check wg-peers rst_wait "$T_JOIN" ops_mesh_is || ops_mesh_is | ktap_indent
	rst_check table-json ops_table_is
	rst_check mesh-matches-table rst_mesh_ok 7 1 2
	rst_check mirrors-match-table rst_mirrors_ok 7 1 2
	rst_check ping-lan1-lan2 rst_ping 1 2
	rst_check ping-lan2-lan1 rst_ping 2 1
	rst_check gw3-gone rst_wait "$T_JOIN" ops_gw3_out || ops_gw3_out | ktap_indent
	rst_check gw3-stays-out rst_table_is 7 1 2
	rst_check lan3-cut-off rst_no_ping 3 1
fi

((RST_FAILED == 0)) || ops_dump_logs
ktap_diag "operations.sh: $((SECONDS - RST_T0)) s"
ktap_finish
