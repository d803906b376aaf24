#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# rosterd end-to-end smoke test: one manager and two gateways in network
# namespaces on a bridged underlay (192.0.2.0/24), a LAN namespace behind
# each gateway. Needs roster.ko and wireguard loaded, root, and runs
# entirely inside the namespaces it creates:
#
#   scripts/vm-run --kernel 6.12 --timeout 600 -- sh -c \
#     'insmod build/kmod/$(uname -r)/roster.ko; modprobe wireguard; userspace/daemon/smoke.sh'
#
# Environment: ROSTERD (binary, default userspace/daemon/rosterd next to
# this script), ROSTER (the CLI), SMOKE_DIR (state, configs, logs; default
# /tmp/rosterd-smoke), KEEP=1 leaves the namespaces up.
# Output: KTAP; exit 0 if every step passed.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROSTERD=${ROSTERD:-$HERE/rosterd}
ROSTER=${ROSTER:-$HERE/../cli/roster}
D=${SMOKE_DIR:-/tmp/rosterd-smoke}
NS="mgr gw1 gw2 lan1 lan2 ul"
PIDS=""
n=0
fails=0

ok()   { n=$((n + 1)); echo "ok $n - $1"; }
nok()  { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
x()    { ns=$1; shift; ip netns exec "$ns" "$@"; }

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	if [ "${KEEP:-0}" != 1 ]; then
		for ns in $NS; do ip netns del "$ns" 2>/dev/null; done
	fi
}
trap cleanup EXIT

# wait_for SECS CMD...: poll CMD every 0.2 s.
wait_for() {
	end=$(($(date +%s) + $1)); shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

dump_logs() {
	for f in "$D"/*.log; do echo "# ---- $f"; sed 's/^/# /' "$f"; done
}

echo "TAP version 13"
echo "1..16"

rm -rf "$D"; mkdir -p "$D"
for ns in $NS; do ip netns del "$ns" 2>/dev/null; ip netns add "$ns"; x "$ns" ip link set lo up; done

# Underlay: a bridge in "ul", one veth per router.
x ul ip link add br0 type bridge
x ul ip link set br0 up
i=0
for r in mgr gw1 gw2; do
	case $r in mgr) a=192.0.2.1;; gw1) a=192.0.2.11;; gw2) a=192.0.2.12;; esac
	x ul ip link add "ul-$r" type veth peer name eth0 netns "$r"
	x ul ip link set "ul-$r" master br0 up
	x "$r" ip addr add "$a/24" dev eth0
	x "$r" ip link set eth0 up
done
# LANs: lanN -- gwN, 10.1N.0.0/24.
for k in 1 2; do
	x "gw$k" ip link add lan type veth peer name eth0 netns "lan$k"
	x "gw$k" ip addr add "10.1$k.0.1/24" dev lan
	x "gw$k" ip link set lan up
	x "gw$k" sysctl -qw net.ipv4.ip_forward=1
	x "lan$k" ip addr add "10.1$k.0.2/24" dev eth0
	x "lan$k" ip link set eth0 up
	x "lan$k" ip route add default via "10.1$k.0.1"
done

cat > "$D/mgr.conf" <<EOC
[manager]
listen-port = 51800
endpoint = 192.0.2.1
control-address = 10.255.0.1
control-prefix = 10.255.0.0/16
control-port = 851
interface = rctl0
state-dir = $D/mgr
EOC
for k in 1 2; do
	cat > "$D/gw$k.conf" <<EOC
[gateway]
state-dir = $D/gw$k
interface = rctl0
endpoint = 192.0.2.1$k
retry-ms = 300

[vpn 7]
listen-port = 51807
prefix = 10.1$k.0.0/24
EOC
done

# Backgrounded with `ip netns exec` directly so $! is rosterd's pid.
ip netns exec mgr "$ROSTERD" manager --config "$D/mgr.conf" -v 2>"$D/mgr.log" &
PIDS="$PIDS $!"
check "manager up" wait_for 10 x mgr ip addr show dev rctl0

# The underlay must forward before the first WireGuard handshake (a lost
# initiation costs 5 s).
for k in 1 2; do wait_for 30 x "gw$k" ping -c1 -W1 192.0.2.1; done
for k in 1 2; do
	tok=$(x mgr "$ROSTERD" invite --config "$D/mgr.conf" --id "10.255.0.1$k" --vpn 7 --ttl 600 2>>"$D/invite.log")
	echo "$tok" > "$D/gw$k.token"
	x "gw$k" "$ROSTERD" redeem --config "$D/gw$k.conf" -v "$tok" 2>"$D/redeem$k.log"
	check "gw$k redeemed its invitation" test $? -eq 0 -a -s "$D/gw$k/identity"
done
key1=$(x gw1 wg show rctl0 private-key)
x gw1 "$ROSTERD" redeem --config "$D/gw1.conf" "$(cat "$D/gw1.token")" 2>"$D/redeem-again.log"
rc=$?
if [ $rc -ne 0 ] && grep -q "already enrolled" "$D/redeem-again.log"; then
	ok "redeeming again on an enrolled host is refused (exit $rc)"
else
	nok "redeeming again on an enrolled host is refused (exit $rc)"
fi
check "the refused redeem left gw1's rctl0 key alone" test "$(x gw1 wg show rctl0 private-key)" = "$key1"

for k in 1 2; do
	ip netns exec "gw$k" "$ROSTERD" gateway --config "$D/gw$k.conf" -v 2>"$D/gw$k.log" &
	PIDS="$PIDS $!"
	GW2PID=$!
done

# peer_is NS OTHER PREFIX: NS's rvpn7 has OTHER's key as a peer with PREFIX.
peer_is() {
	k=$(x "$2" wg show rvpn7 public-key 2>/dev/null) || return 1
	[ -n "$k" ] && x "$1" wg show rvpn7 allowed-ips | grep -q "^$k	$3\$"
}
check "gw1 has gw2 as peer with allowed-ips 10.12.0.0/24" wait_for 30 peer_is gw1 gw2 10.12.0.0/24
check "gw2 has gw1 as peer with allowed-ips 10.11.0.0/24" wait_for 30 peer_is gw2 gw1 10.11.0.0/24
for k in 1 2; do echo "# gw$k:"; x "gw$k" wg show rvpn7 | sed 's/^/#   /'; done
check "ping lan1 -> lan2 through the tunnel" wait_for 20 x lan1 ping -c1 -W1 10.12.0.2
check "gw1 mirrors the membership in its roster.ko" \
	sh -c "ip netns exec gw1 $ROSTER member show vpn 7 2>&1 | grep -q 10.255.0.12"
echo "# manager table:"; x mgr "$ROSTER" member show 2>&1 | sed 's/^/#   /'

x gw2 "$ROSTERD" leave --config "$D/gw2.conf" --vpn 7 2>"$D/leave.log"
check "gw2 leave exits 0" test $? -eq 0
no_peers() { [ -z "$(x "$1" wg show rvpn7 peers)" ]; }
check "gw1 dropped gw2's peer" wait_for 20 no_peers gw1
check "gw2 dropped its peers" wait_for 20 no_peers gw2
check "no route to 10.12.0.0/24 on gw1 any more" \
	sh -c "! ip netns exec gw1 ip route show 10.12.0.0/24 | grep -q rvpn7"

# Restart convergence: a restarted gateway re-joins.
kill "$GW2PID" 2>/dev/null; wait "$GW2PID" 2>/dev/null
ip netns exec gw2 "$ROSTERD" gateway --config "$D/gw2.conf" -v 2>>"$D/gw2.log" &
GW2PID=$!; PIDS="$PIDS $GW2PID"
check "restarted gw2 re-joined: gw1 has its peer again" wait_for 30 peer_is gw1 gw2 10.12.0.0/24
check "ping lan2 -> lan1 after the re-join" wait_for 20 x lan2 ping -c1 -W1 10.11.0.2

# An operator removes gw2 on the manager with the roster CLI.
x mgr "$ROSTER" member leave vpn 7 id 10.255.0.12 reason admin
check "roster member leave on the manager: gw1 dropped gw2" wait_for 20 no_peers gw1
check "... and gw2 got the LIST and dropped its peers" wait_for 20 no_peers gw2

[ $fails -eq 0 ] || dump_logs
echo "# $fails failure(s)"
[ $fails -eq 0 ]
