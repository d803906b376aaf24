#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Stamped changes (generation N [ resync ]) and follower VPNs from the
# command line: in order they apply, old, duplicate and gapped ones are
# refused with the kernel's message and the VPN's generation, and change
# nothing; a follower refuses unstamped changes; a restore keeps the
# members' join generation and time.
source "$(dirname "$0")/lib.sh"
require_module
ktap_plan 44
new_ns NS

M1="id 10.0.0.1 key $KEY1 allowed 10.1.0.0/24"
M2="id 10.0.0.2 key $KEY2 allowed 10.2.0.0/24"

# a follower, created at the generation of the table it follows
run "$NS" -echo vpn add 7 follower generation 10
check "vpn add follower generation 10" grep -Eq '^vpn 7 generation 10 members 0 created [0-9TZ:-]+ follower$' <<<"$OUT"
run "$NS" -j vpn show 7
check "-j vpn show: flags [\"follower\"], generation 10" jqe '.[0].flags == ["follower"] and .[0].generation == 10' <<<"$OUT"
run "$NS" vpn add 7 generation 3
expect_err "vpn add of an existing VPN, stamped: EEXIST" "Error: roster: VPN exists."

# a follower takes no unstamped change
before=$(state "$NS")
run "$NS" member add vpn 7 $M1
expect_err "follower refuses an unstamped member add (EPERM)" "Error: roster: VPN" "follows another table: change it there, or stamp" "generation 10"
run "$NS" member del vpn 7 id 10.0.0.1
expect_err "... and an unstamped member del" "follows another table" "generation 10"
run "$NS" vpn del 7
expect_err "... and an unstamped vpn del" "follows another table" "generation 10"
check "... nothing changed" test "$(state "$NS")" = "$before"

# in order: each stamp is the next generation
run "$NS" -echo member add vpn 7 $M1 generation 11
check "stamped add in order (11)" test "$RC" = 0 -a "$OUT" = "vpn 7 generation 11 members 1"
run "$NS" -echo member replace vpn 7 $M2 generation 12
check "stamped replace in order (12)" test "$RC" = 0 -a "$OUT" = "vpn 7 generation 12 members 2"
before=$(state "$NS")

# refused: duplicate, old, gap -- with the kernel's message and the
# generation the VPN is at (6.12 says it in the text, 6.1 in the cookie)
run "$NS" member replace vpn 7 $M2 generation 12
expect_err "duplicate stamp: EALREADY, VPN at 12" "Error: roster: " "old" "generation 12"
run "$NS" member add vpn 7 id 10.0.0.3 key $KEY1 generation 5
expect_err "old stamp: EALREADY, VPN at 12" "Error: roster: " "old" "generation 12"
run "$NS" member add vpn 7 id 10.0.0.3 key $KEY1 generation 14
expect_err "gap (14 after 12): ESTALE, VPN at 12" "Error: roster: " "skips" "generation 12"
run "$NS" member del vpn 7 id 10.0.0.1 generation 20
expect_err "gapped del: ESTALE" "skips" "generation 12"
run "$NS" vpn del 7 generation 12
expect_err "old vpn del: EALREADY" "old" "generation 12"
run "$NS" -j member add vpn 7 id 10.0.0.3 key $KEY1 generation 14
check "-j: the error is on stderr, stdout stays empty" test "$RC" = 1 -a -z "$OUT"
check "refused stamped changes changed nothing" test "$(state "$NS")" = "$before"

# resync: a catch-up to a generation, at it or later
run "$NS" -echo member replace vpn 7 id 10.0.0.3 key $KEY1 generation 15 resync
check "resync skips ahead to 15" test "$RC" = 0 -a "$OUT" = "vpn 7 generation 15 members 3"
run "$NS" -echo member del vpn 7 id 10.0.0.2 generation 15 resync
check "resync at the current generation (15 again)" test "$RC" = 0 -a "$OUT" = "vpn 7 generation 15 members 2"
run "$NS" member replace vpn 7 $M2 generation 14 resync
expect_err "resync below the generation: EALREADY" "old" "generation 15"
run "$NS" member del vpn 7 id 10.0.0.1 delete-empty generation 16
expect_err "delete-empty cannot be stamped (EINVAL)" "Error: roster: delete-empty cannot be stamped: stamp a vpn-del."
run "$NS" -j member show vpn 7
check "members after the resync" jqe '[.[].id] == ["10.0.0.1","10.0.0.3"] and .[1].join_generation == 15' <<<"$OUT"

# a stamped change to a VPN that does not exist: create it stamped first
run "$NS" member add vpn 8 $M1 generation 2
expect_err "stamped add to a missing VPN: ENOENT" "Error: roster: no such VPN: create it with a stamped vpn-new first."
run "$NS" vpn show 8
expect_err "... which it did not create" "Error: roster: no such VPN."

# restore: the VPN at G, every member at G with resync and its own join
# generation and time
run "$NS" vpn add 8 generation 40
run "$NS" member add vpn 8 $M1 generation 40 resync join-generation 33 join-time 1600000000
check "restore: member added at 40 with join-generation 33" test "$RC" = 0
run "$NS" member add vpn 8 $M2 generation 40 resync join-generation 40
run "$NS" -j member show vpn 8
check "restore kept join generation and time" jqe '.[0].join_generation == 33 and .[0].join_time == 1600000000 and .[1].join_generation == 40 and .[1].join_time > 1600000000' <<<"$OUT"
run "$NS" member show vpn 8 id 10.0.0.1
check "restore: text shows the stored join time" grep -q " joined 2020-09-13T12:26:40Z join-generation 33$" <<<"$OUT"
run "$NS" -j vpn show 8
check "restored VPN at generation 40, not a follower" jqe '.[0].generation == 40 and .[0].member_count == 2 and .[0].flags == []' <<<"$OUT"
run "$NS" -echo member add vpn 8 id 10.0.0.9 key $KEY1
check "an unstamped change to a non-follower goes on from 40" test "$RC" = 0 -a "$OUT" = "vpn 8 generation 41 members 3"

# vpn set: the follower mark, and a generation moved by a catch-up
run "$NS" -echo vpn set 8 follower
check "vpn set follower: flags, no new generation" grep -Eq '^vpn 8 generation 41 members 3 created [0-9TZ:-]+ follower$' <<<"$OUT"
run "$NS" member del vpn 8 id 10.0.0.9
expect_err "... unstamped changes refused now" "follows another table" "generation 41"
run "$NS" -echo vpn set 8 generation 45 resync
check "vpn set generation 45 resync: a catch-up with nothing to change" grep -q '^vpn 8 generation 45 members 3 ' <<<"$OUT"
run "$NS" vpn set 8 generation 44
expect_err "vpn set to an old generation: EALREADY" "old" "generation 45"
run "$NS" vpn set 8 generation 47
expect_err "vpn set skipping ahead without resync: ESTALE" "skips" "generation 45"
run "$NS" -j -echo vpn set 8 nofollower
check "vpn set nofollower promotes the follower" jqe '.vpn_id == 8 and .generation == 45 and .flags == []' <<<"$OUT"
run "$NS" -echo member del vpn 8 id 10.0.0.9
check "... which takes unstamped changes again" test "$RC" = 0 -a "$OUT" = "vpn 8 generation 46 members 2"
run "$NS" vpn set 99 follower
expect_err "vpn set of a missing VPN" "Error: roster: no such VPN."

# stamped vpn del in order
run "$NS" vpn del 7 generation 16
check "stamped vpn del in order" test "$RC" = 0 -a -z "$OUT"
run "$NS" vpn show 7
expect_err "... deleted it" "Error: roster: no such VPN."

# generations beyond 2^53 and up to 2^64-1: exact in text, valid JSON
run "$NS" vpn add 9 follower generation 18446744073709551614
run "$NS" -echo member add vpn 9 $M1 generation 18446744073709551615
check "stamp 2^64-1 in order" test "$RC" = 0 -a "$OUT" = "vpn 9 generation 18446744073709551615 members 1"
run "$NS" -j vpn show 9
check "-j with generation 2^64-1: valid JSON, a positive number" bash -c 'jq -e ".[0].generation > 1.8e19" <<<"$0" >/dev/null' "$OUT"
check "... and for a strict parser" is_json

# a VPN at 2^64-1 takes no unstamped change: the next generation would wrap
run "$NS" vpn add 10 generation 18446744073709551615
run "$NS" member add vpn 10 $M1
expect_err "unstamped change at generation 2^64-1: refused, no wrap to 0" "largest generation"
run "$NS" -j vpn show 10
check "... the VPN unchanged at 2^64-1, no member" jqe '.[0].generation > 1.8e19 and .[0].member_count == 0' <<<"$OUT"
run "$NS" vpn del 10
check "... and it can still be deleted" test "$RC" = 0
ktap_done
