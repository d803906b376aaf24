#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -n NETNS: every command works in the named namespace, tables are isolated.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 7
new_ns A
new_ns B

"$BIN" -n "$A" vpn add 1
"$BIN" -n "$A" member join vpn 1 dev 10.0.0.1 key $KEY1 >/dev/null
"$BIN" -n "$B" member join vpn 2 dev 10.0.0.1 key $KEY2 >/dev/null
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
ktap_done
