#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv6 end to end: an IPv6-only deployment and a mixed VPN.
#
#                2001:db8::/64: the "internet" (IPv6 only, no IPv4 at all)
#   +--------------------------- $P-inet ------------------------------+
#   |    v-mgr          v-gw1          v-gw2          v-gw3      v-gw4 |
#   +------|--------------|--------------|--------------|----------|---+
#   | mgr 2001:db8::1  gw1 ::11       gw2 ::12       gw3 ::13   gw4 ::14
#   | rctl0 fd00:255::1  fd00:255::11   fd00:255::12   ::13       ::14
#   |                  lan fd01:1::/64 lan fd01:2::/64 10.3.0.0/24 10.4.0.0/24
#   |                                                             + fd01:4::/64
#
#   VPN 7, IPv6 only: gw1 and gw2 (IPv6 sites).
#   VPN 9, mixed:     gw2 (IPv6 site), gw3 (IPv4 site), gw4 (both).
#
# The manager's endpoint, the gateways' endpoints, the control network
# (fd00:255::/64, so the gateway ids are IPv6 addresses) and VPN 7's site
# prefixes are IPv6; no namespace but the IPv4 sites' has an IPv4 address.
# Checked: the manager's table and every gateway's mirror (ids, keys,
# IPv6 endpoints, prefixes of both families), WireGuard peers and
# allowed-ips against the table (`wg show dump`), routes of both families
# into the tunnels (`ip -j route`), pings of both families across the
# VPNs and none between them, the control tunnel's IPv6 addresses and
# peers, a leave removing IPv4 and IPv6 routes alike, a gateway restarted
# from its IPv6 identity, and `rosterd invite` refusing ids the control
# network cannot hold.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_check / rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

# ------------------------------------------------- the IPv6 topology ----
# lib.sh's helpers that name addresses, redefined for this topology: the
# rest of lib.sh (invite, redeem, enrol, tables, mirrors, wg dumps) then
# works on it unchanged.
# shellcheck disable=SC2034 # read by lib.sh
RST_MGR_UNDERLAY=2001:db8::1
RST_MGR_CTL=fd00:255::1
# shellcheck disable=SC2034 # read by lib.sh (rst_invite)
RST_INVITE_PREFIXES="10.0.0.0/8 fd01::/16"
rst_gw_ip() { echo "2001:db8::$((10 + $1))"; }
rst_gw_id() { echo "fd00:255::$((10 + $1))"; }

# Site N's LAN, by family: gw1 and gw2 IPv6, gw3 IPv4, gw4 both.
site_v6() { [[ $1 != 3 ]]; }
site_v4() { [[ $1 == 3 || $1 == 4 ]]; }
site_prefixes() {
	site_v4 "$1" && echo "10.$1.0.0/24"
	site_v6 "$1" && echo "fd01:$1::/64"
	return 0
}
lan6() { echo "fd01:$1::2"; }
lan4() { echo "10.$1.0.2"; }

# topology6 N: inet, mgr and N gateways with their LAN hosts. Addresses
# are added nodad: duplicate address detection would hold every one
# tentative for a second or more, and nothing here can be duplicated.
topology6() {
	local ngw=$1 n node nodes=(mgr) b
	for ((n = 1; n <= ngw; n++)); do nodes+=("gw$n"); done
	for node in inet "${nodes[@]}"; do rst_ns_add "$node" || return 1; done
	for ((n = 1; n <= ngw; n++)); do rst_ns_add "lan$n" || return 1; done
	b=$'link add br0 type bridge\nlink set br0 up\n'
	for node in "${nodes[@]}"; do
		b+="link add v-$node type veth peer name eth0 netns $RST_P-$node"$'\n'
		b+="link set v-$node master br0"$'\n'"link set v-$node up"$'\n'
	done
	ip -n "$RST_P-inet" -batch - <<<"$b" || return 1
	ip -n "$RST_P-mgr" -batch - <<EOF || return 1
addr add $RST_MGR_UNDERLAY/64 dev eth0 nodad
link set eth0 up
EOF
	for ((n = 1; n <= ngw; n++)); do
		b="addr add $(rst_gw_ip "$n")/64 dev eth0 nodad"$'\n'"link set eth0 up"$'\n'
		b+="link add lan0 type veth peer name eth0 netns $RST_P-lan$n"$'\n'
		site_v4 "$n" && b+="addr add 10.$n.0.1/24 dev lan0"$'\n'
		site_v6 "$n" && b+="addr add fd01:$n::1/64 dev lan0 nodad"$'\n'
		ip -n "$RST_P-gw$n" -batch - <<<"$b"$'link set lan0 up\n' || return 1
		b=$'link set eth0 up\n'
		site_v4 "$n" && b+="addr add $(lan4 "$n")/24 dev eth0"$'\n'"route add default via 10.$n.0.1"$'\n'
		site_v6 "$n" && b+="addr add $(lan6 "$n")/64 dev eth0 nodad"$'\n'"route add ::/0 via fd01:$n::1"$'\n'
		ip -n "$RST_P-lan$n" -batch - <<<"$b" || return 1
		rst_in "gw$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	done
	# shellcheck disable=SC2034 # lib.sh's count of gateways
	RST_NGW=$ngw
}

mgr_config6() {
	mkdir -p "$RST_DIR/mgr/state"
	cat >"$RST_DIR/mgr/rosterd.conf" <<EOF
[manager]
listen-port = $RST_MGR_PORT
endpoint = $RST_MGR_UNDERLAY
control-address = $RST_MGR_CTL
control-prefix = fd00:255::/64
control-port = $RST_CTL_PORT
interface = rctl0
state-dir = $RST_DIR/mgr/state
log-level = info
EOF
}

# rst_enrol writes the gateway's config through rst_gw_config: this one.
rst_gw_config() {
	local n=$1 v p f=$RST_DIR/gw$1/rosterd.conf
	shift
	mkdir -p "$RST_DIR/gw$n/state"
	cat >"$f" <<EOF
[gateway]
state-dir = $RST_DIR/gw$n/state
interface = rctl0
endpoint = $(rst_gw_ip "$n")
retry-ms = 500
EOF
	for v in "$@"; do
		printf '\n[vpn %s]\nlisten-port = %s\ninterface = rvpn%s\n' "$v" "$(rst_vpn_port "$v")" "$v" >>"$f"
		for p in $(site_prefixes "$n"); do echo "prefix = $p" >>"$f"; done
	done
}

# ------------------------------------------------------------ oracle ----

# routes_of N IFACE: gwN's main-table routes (both families) through
# IFACE, one "dst" a line, sorted.
routes_of() {
	{
		ip -n "$RST_P-gw$1" -j -4 route show table main dev "$2" 2>/dev/null
		ip -n "$RST_P-gw$1" -j -6 route show table main dev "$2" 2>/dev/null
	} | jq -r '.[].dst' | LC_ALL=C sort
}

# mesh6_ok VPN N...: each listed gateway's rvpnV peers (key, endpoint,
# allowed-ips: `wg show dump`) are exactly the other members of the
# manager's table, and the routes into rvpnV are exactly their prefixes,
# IPv4 and IPv6.
mesh6_ok() {
	local v=$1 n m want rc=0
	shift
	m=$(rst_members "$v")
	for n in "$@"; do
		want=$(rst_expected_peers "$n" "$v" "$m")
		rst_wg_dump "$n" "$v"
		if [[ $want != "$RST_WG_PEERS" ]]; then
			echo "  gw$n rvpn$v peers (< the table's, > wg show's):"
			diff <(echo "$want") <(echo "$RST_WG_PEERS") | grep '^[<>]' | sed 's/^/    /'
			rc=1
		fi
		want=$(awk '$3 != "-" { gsub(",", "\n", $3); print $3 }' <<<"$want" | LC_ALL=C sort)
		if [[ $want != "$(routes_of "$n" "rvpn$v")" ]]; then
			echo "  gw$n routes dev rvpn$v: '$(routes_of "$n" "rvpn$v" | xargs)', want '$(xargs <<<"$want")'"
			rc=1
		fi
	done
	return "$rc"
}

wait_mesh6() {
	local secs=$1
	shift
	rst_wait "$secs" mesh6_ok "$@" || { mesh6_ok "$@"; return 1; }
}

# The manager's table holds IPv6 ids and endpoints and the sites' own
# prefixes (the JSON parsed by python3).
table_shape() {
	local v=$1
	shift
	rst_in mgr "$ROSTER_CLI" -j member show vpn "$v" | python3 -c '
import ipaddress, json, sys
v, gws = sys.argv[1], [int(g) for g in sys.argv[2:]]
want = {}
for n in gws:
    p = []
    if n in (3, 4): p.append("10.%d.0.0/24" % n)
    if n != 3: p.append("fd01:%d::/64" % n)
    # the ids and addresses are written in decimal digits, as rst_gw_id does
    want["fd00:255::%d" % (10 + n)] = ("[2001:db8::%d]:%d" % (10 + n, 51800 + int(v)), sorted(p))
rc = 0
for m in json.load(sys.stdin):
    ipaddress.IPv6Address(m["id"])
    w = want.pop(m["id"], None)
    got = (m["endpoint"], sorted(m["allowed_ips"]))
    if w != got:
        print("  vpn %s member %s: %s, want %s" % (v, m["id"], got, w)); rc = 1
for i in want:
    print("  vpn %s: no member %s" % (v, i)); rc = 1
sys.exit(rc)' "$v" "$@"
}

# No IPv4 address anywhere but on the IPv4 sites' LANs and loopbacks.
no_ipv4_underlay() {
	local node a rc=0
	for node in mgr gw1 gw2 gw3 gw4; do
		a=$(ip -n "$RST_P-$node" -j -4 addr show | jq -r '.[] | select(.ifname != "lo" and .ifname != "lan0") | .addr_info[] | "\(.local)/\(.prefixlen)"')
		[[ -z $a ]] || { echo "  $node has IPv4 addresses: $a"; rc=1; }
	done
	return "$rc"
}

# The control tunnel: the manager's rctl0 holds fd00:255::1/64 and one
# peer per gateway, allowed fd00:255::1N/128 and seen at 2001:db8::1N;
# gwN's rctl0 holds its id in fd00:255::/64 and the manager's peer at
# [2001:db8::1]:51800 allowed the whole control prefix.
ctl_tunnel_ok() {
	local n a want have rc=0
	a=$(ip -n "$RST_P-mgr" -j addr show dev rctl0 | jq -r '.[].addr_info[] | "\(.local)/\(.prefixlen)"')
	[[ $a == "fd00:255::1/64" ]] || { echo "  mgr rctl0 addresses: $a"; rc=1; }
	want='' have=''
	for n in "$@"; do want+="[$(rst_gw_ip "$n")] $(rst_gw_id "$n")/128"$'\n'; done
	have=$(rst_in mgr wg show rctl0 dump | awk -F'\t' 'NR > 1 { sub(/:[0-9]+$/, "", $3); print $3, $4 }' | LC_ALL=C sort)
	[[ $have == "$(LC_ALL=C sort <<<"${want%$'\n'}")" ]] || { echo "  mgr rctl0 peers: $have"; rc=1; }
	for n in "$@"; do
		a=$(ip -n "$RST_P-gw$n" -j addr show dev rctl0 | jq -r '.[].addr_info[] | "\(.local)/\(.prefixlen)"')
		[[ $a == "$(rst_gw_id "$n")/64" ]] || { echo "  gw$n rctl0 addresses: $a"; rc=1; }
		have=$(rst_in "gw$n" wg show rctl0 dump | awk -F'\t' 'NR > 1 { print $3, $4 }')
		[[ $have == "[$RST_MGR_UNDERLAY]:$RST_MGR_PORT fd00:255::/64" ]] ||
			{ echo "  gw$n rctl0 peer: $have"; rc=1; }
	done
	return "$rc"
}

# ping6 A B / ping4 A B: lanA reaches lanB's host (3 tries).
ping_fam() {
	local fam=$1 a=$2 b=$3 dst i
	if [[ $fam == 6 ]]; then dst=$(lan6 "$b"); else dst=$(lan4 "$b"); fi
	for ((i = 0; i < 3; i++)); do
		rst_in "lan$a" ping "-$fam" -n -q -c 1 -W 2 "$dst" >/dev/null 2>&1 && return 0
	done
	echo "  lan$a -> $dst: no reply"
	return 1
}
no_ping_fam() {
	local dst
	if [[ $1 == 6 ]]; then dst=$(lan6 "$3"); else dst=$(lan4 "$3"); fi
	! rst_in "lan$2" ping "-$1" -n -q -c 2 -i 0.5 -W 1 "$dst" >/dev/null 2>&1
}
pings() {
	local rc=0
	ping_fam 6 1 2 || rc=1
	ping_fam 6 2 1 || rc=1
	ping_fam 6 2 4 || rc=1
	ping_fam 6 4 2 || rc=1
	ping_fam 4 3 4 || rc=1
	ping_fam 4 4 3 || rc=1
	return "$rc"
}

# The tunnels carried it: every rvpn peer of gwN's has received bytes
# (over the IPv6 underlay: there is no other).
tunnel_rx() {
	local n=$1 v=$2 key rx rc=0
	while IFS=$'\t' read -r key _ _ _ _ rx _; do
		((rx > 0)) || { echo "  gw$n rvpn$v: nothing received from $key"; rc=1; }
	done < <(rst_in "gw$n" wg show "rvpn$v" dump | tail -n +2)
	return "$rc"
}

# invite_refused ID WHY: `rosterd invite --id ID` fails with status 1,
# says WHY on standard error and prints no token.
invite_refused() {
	local out err st
	err=$RST_DIR/invite-refused.err
	out=$(rst_in mgr "$ROSTERD" invite --config "$(rst_conf mgr)" --id "$1" --vpn 7 \
		--prefix fd01::/16 2>"$err")
	st=$?
	[[ $st == 1 && -z $out ]] && grep -qF -- "$2" "$err" && return 0
	echo "  invite --id $1: status $st, stdout '$out', stderr: $(cat "$err")"
	return 1
}

# -------------------------------------------------------------- run ----

rst_suite_begin ipv6
check() { rst_check "$@"; }

check topology topology6 4
check no-ipv4-underlay no_ipv4_underlay
mgr_config6
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr

check gw1-enrols-vpn7 rst_enrol 1 7
check gw2-enrols-vpn7-vpn9 rst_enrol 2 7 9
check gw3-enrols-vpn9 rst_enrol 3 9
check gw4-enrols-vpn9 rst_enrol 4 9

check vpn7-table rst_wait "$T_JOIN" rst_table_is 7 1 2
check vpn9-table rst_wait "$T_JOIN" rst_table_is 9 2 3 4
check vpn7-table-ipv6-records table_shape 7 1 2
check vpn9-table-mixed-records table_shape 9 2 3 4
check control-tunnel-ipv6 ctl_tunnel_ok 1 2 3 4
check vpn7-mesh wait_mesh6 "$T_JOIN" 7 1 2
check vpn9-mesh wait_mesh6 "$T_JOIN" 9 2 3 4
check mirrors-vpn7 rst_wait_mirrors "$T_JOIN" 7 1 2 3 4
check mirrors-vpn9 rst_wait_mirrors "$T_JOIN" 9 1 2 3 4
check pings-both-families pings
check tunnels-carried-it-vpn7 tunnel_rx 1 7
check tunnels-carried-it-vpn9 tunnel_rx 4 9
# VPNs stay apart whatever the family: lan1 (VPN 7 only) reaches nothing
# of VPN 9's, and lan4 nothing of VPN 7's.
check lan1-cannot-reach-lan4 no_ping_fam 6 1 4
check lan4-cannot-reach-lan1 no_ping_fam 6 4 1

# The control network's rules hold for IPv6 ids.
check invite-refuses-anycast-id invite_refused fd00:255:: "subnet-router anycast"
check invite-refuses-manager-id invite_refused fd00:255::1 "the manager's control address"
check invite-refuses-ipv4-id invite_refused 10.255.0.11 "an IPv4 id in an IPv6 control network"
check invite-refuses-outside-id invite_refused fd00:256::11 "outside the control prefix"

# A leave takes the dual-stack site's IPv4 and IPv6 routes away alike.
check gw4-leaves-vpn9 rst_leave 4 9
check vpn9-table-without-gw4 rst_wait "$T_JOIN" rst_table_is 9 2 3
check vpn9-mesh-after-leave wait_mesh6 "$T_JOIN" 9 2 3 4
no_routes_to_gw4() {
	local g r rc=0
	for g in 2 3; do
		r=$(routes_of "$g" rvpn9 | grep -E '^(10\.4\.0\.0/24|fd01:4::/64)$')
		[[ -z $r ]] || { echo "  gw$g still routes $(xargs <<<"$r")"; rc=1; }
	done
	return "$rc"
}
check gw4-routes-gone-both-families no_routes_to_gw4
check vpn7-untouched mesh6_ok 7 1 2

# A gateway restarted from its IPv6 identity file takes up its tunnels.
check gw1-stops rst_daemon_stop gw1
check gw1-restarts rst_gw_start 1
check vpn7-mesh-after-restart wait_mesh6 "$T_JOIN" 7 1 2
check control-tunnel-after-restart ctl_tunnel_ok 1 2 3 4
check ping6-after-restart ping_fam 6 1 2
check daemons-alive rst_all_alive mgr gw1 gw2 gw3 gw4

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "ipv6.sh: $((SECONDS - RST_T0)) s"
ktap_finish
