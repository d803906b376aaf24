#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -n NETNS: every command works in the named namespace, tables are isolated.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 9
new_ns A
new_ns B

"$BIN" -n "$A" vpn add 1
"$BIN" -n "$A" member add vpn 1 id 10.0.0.1 key $KEY1 allowed 10.1.0.0/24
"$BIN" -n "$B" member add vpn 2 id 10.0.0.1 key $KEY2 allowed 10.1.0.0/24
run "$A" -j vpn show
check "A sees only its VPN" jqe '[.[].vpn_id] == [1]' <<<"$OUT"
run "$B" -j vpn show
check "B sees only its VPN" jqe '[.[].vpn_id] == [2]' <<<"$OUT"
run "$B" -j member show
check "B's member is B's" jqe 'length == 1 and .[0].public_key == "'$KEY2'"' <<<"$OUT"
run "/run/netns/$A" -j member show
check "-n accepts a path" jqe 'length == 1 and .[0].vpn_id == 1' <<<"$OUT"
ip netns exec "$B" "$BIN" -j vpn show >"$SCRATCH/o" 2>&1
check "same as ip netns exec" jqe '[.[].vpn_id] == [2]' "$SCRATCH/o"
run "$A" vpn del 2
check "A cannot delete B's VPN" test "$RC" = 1
run "$B" -j vpn show 2
check "B's VPN still there" jqe '.[0].member_count == 1' <<<"$OUT"
# the prefix invariants are per table: the same prefix in both namespaces
run "$A" member add vpn 2 id 10.0.0.2 key $KEY1 allowed 10.1.0.0/24
check "A's VPN 2 may hold B's prefix" test "$RC" = 0
# so are the limits (net.roster.max_vpns, per netns)
ip netns exec "$B" sysctl -qw net.roster.max_vpns=1
run "$B" vpn add 3
if [ "$RC" = 1 ] && grep -qF "net.roster.max_vpns" <<<"$ERR"; then
	run "$A" vpn add 3
	check "max_vpns=1 in B: B refuses a second VPN naming the sysctl, A does not" test "$RC" = 0
else
	diag "rc=$RC stderr: $ERR"; nok "max_vpns=1 in B: B refuses a second VPN naming the sysctl, A does not"
fi
ktap_done
