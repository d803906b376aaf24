#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel's prefix invariants from the command line: an overlapping (or,
# in a nested-prefixes VPN, an equal) prefix is refused with EADDRINUSE, and
# the error names the member holding it; nothing changes.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 17
new_ns NS

run "$NS" member add vpn 1 id 192.0.2.1 key $KEY1 allowed 10.1.0.0/16,2001:db8::/32
check "setup: a member with 10.1.0.0/16 and 2001:db8::/32" test "$RC" = 0
before=$(state "$NS")

run "$NS" member add vpn 1 id 192.0.2.2 key $KEY2 allowed 10.1.2.0/24
expect_err "a contained prefix: refused, the holder named" "Error: roster: " "192.0.2.1"
check "... the kernel's message (6.12: both prefixes; 6.1: the holder from the cookie)" bash -c 'grep -qF "10.1.2.0/24 overlaps 10.1.0.0/16 of 192.0.2.1" <<<"$0" || grep -qF "10.1.2.0/24 overlaps member 192.0.2.1'"'"'s" <<<"$0"' "$ERR"
run "$NS" member add vpn 1 id 192.0.2.2 key $KEY2 allowed 10.0.0.0/8
expect_err "a containing prefix: refused" "Error: roster: " "192.0.2.1"
run "$NS" member replace vpn 1 id 192.0.2.2 key $KEY2 allowed 10.1.0.0/16
expect_err "an equal prefix: refused" "Error: roster: " "192.0.2.1"
run "$NS" member add vpn 1 id 2001:db8:ff::2 key $KEY2 allowed 2001:db8:1::/48
expect_err "an IPv6 prefix inside another: refused, the holder and the prefix named" "Error: roster: " "overlaps" "192.0.2.1" "2001:db8:1::/48"
check "refusals changed nothing" test "$(state "$NS")" = "$before"

run "$NS" member add vpn 1 id 192.0.2.2 key $KEY2 allowed 10.2.0.0/16,10.0.0.0/15
expect_err "one prefix of several overlaps: refused, that one named" "192.0.2.1" "10.0.0.0/15"
run "$NS" member add vpn 1 id 192.0.2.2 key $KEY2 allowed 10.2.0.0/16,10.3.0.0/16
check "disjoint prefixes are fine" test "$RC" = 0
run "$NS" member add vpn 1 id 192.0.2.3 key $KEY2 allowed 10.3.0.0/24
expect_err "the second member holds 10.3.0.0/16: named" "192.0.2.2"

# a re-join is checked against everyone but itself
run "$NS" member replace vpn 1 id 192.0.2.1 key $KEY1 allowed 10.1.0.0/24,2001:db8::/32
check "replace shrinks the member's own prefix" test "$RC" = 0
run "$NS" member add vpn 1 id 192.0.2.3 key $KEY2 allowed 10.1.1.0/24
check "... and frees the rest of it" test "$RC" = 0

# the same prefix in another VPN is another table
run "$NS" member add vpn 2 id 192.0.2.9 key $KEY1 allowed 10.1.0.0/24
check "the same prefix in another VPN" test "$RC" = 0

# nested-prefixes: a hub's summary route over the spokes', never equal
run "$NS" vpn add 3 nested-prefixes
run "$NS" member add vpn 3 id 192.0.2.1 key $KEY1 allowed 10.0.0.0/8
run "$NS" member add vpn 3 id 192.0.2.2 key $KEY2 allowed 10.1.0.0/16
check "nested-prefixes: 10.1.0.0/16 inside 10.0.0.0/8 is fine" test "$RC" = 0
run "$NS" member add vpn 3 id 192.0.2.3 key $KEY2 allowed 10.1.0.0/16
expect_err "nested-prefixes: an equal prefix is refused, the holder named" "Error: roster: " "192.0.2.2"
run "$NS" member add vpn 3 id 192.0.2.3 key $KEY2 allowed 10.5.0.0/16,10.5.1.0/24
check "nested-prefixes: one member's own prefixes may nest" test "$RC" = 0
run "$NS" vpn show 3
check "vpn show names the flag" grep -Eq '^vpn 3 generation 4 members 3 created [0-9TZ:-]+ nested-prefixes$' <<<"$OUT"
ktap_done
