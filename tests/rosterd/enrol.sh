#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Enrolment across hosts, when it goes wrong (topology in
# tests/rosterd/lib.sh; the manager and gw1, gw2):
#
#   crash-before-enrolled  gw1's redeem is killed (SIGKILL) after its
#                      ENROLL reached the (stopped) manager's socket, with
#                      STATE-DIR/identity.pending on disk and no identity.
#                      The manager resumes and answers the dead redeem.
#   copied-token       meanwhile gw2's host redeems gw1's token with a key of
#                      its own: refused ("another key is under way"), exit
#                      1, and the manager's table and gateways unchanged.
#   resume             gw1's redeem run again with the same token (after a
#                      reboot: rctl0 gone, identity.pending kept) resumes
#                      with the pending key: enrolled (identity, no pending
#                      file, the key of identity.pending), and gw1 joins
#                      VPN 7.
#   crash-after-commit gw2 enrols; its identity is put back as
#                      identity.pending and rctl0 deleted, as a crash after
#                      the manager committed and before the gateway saved
#                      would leave it. Redeemed again with the same token
#                      (whose invitation key the manager has dropped), it
#                      asks through its own key's tunnel and is answered:
#                      enrolled with the same key, and gw2 joins VPN 7.
#
# KTAP on stdout; exit 0 iff nothing failed. Run in the VM, module loaded.
# shellcheck disable=SC2317 # functions run through rst_wait
set -u
# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

T_JOIN=${RST_T_JOIN:-60}

rst_suite_begin enrol
check() { rst_check "$@"; }

st() { echo "$RST_DIR/gw$1/state"; }
# the private key of gwN's identity file F, as its public key
pubkey_of() { sed -n 's/^private-key //p' "$(st "$1")/$2" | wg pubkey; }
# a datagram waits in the manager's control socket
mgr_queued() {
	rst_in mgr ss -Huna "sport = :$RST_CTL_PORT" | awk '$2 > 0 { f = 1 } END { exit !f }'
}
logged() { rst_log_since "$1" "$2" | grep -q -- "$3"; }

check topology rst_topology 2
rst_mgr_config
check manager-starts rst_mgr_start
check manager-control-interface rst_wait 20 rst_ctl_up mgr

# ---- a redeem that dies between ENROLL and ENROLLED
rst_gw_config 1 7
m=$(rst_log_lines mgr)
tok1=$(rst_invite 1 7)
check invite-gw1 test -n "$tok1"
# Stopped only once it knows the invitation: before, it would drop the
# queued ENROLL as from no one it knows (and the redeem, dead, would not
# repeat it).
check invite-gw1-loaded rst_wait 20 logged mgr "$m" "0 gateway(s), 1 pending invitation(s)"
kill -STOP "${RST_PID[mgr]}"
printf '%s\n' "$tok1" >"$RST_DIR/tok1"
# $! is rosterd itself: ip netns exec execs it in place
ip netns exec "$RST_P-gw1" "$ROSTERD" redeem --config "$(rst_conf gw1)" - <"$RST_DIR/tok1" \
	>>"$RST_DIR/gw1.redeem.log" 2>&1 &
redeem_pid=$!
check crash-before-enrolled-pending-saved rst_wait 20 test -s "$(st 1)/identity.pending"
check crash-before-enrolled-enroll-queued rst_wait 20 mgr_queued
kill -KILL "$redeem_pid"
wait "$redeem_pid" 2>/dev/null
check crash-before-enrolled-no-identity test ! -e "$(st 1)/identity"
pending1=$(pubkey_of 1 identity.pending)
kill -CONT "${RST_PID[mgr]}"
check crash-before-enrolled-manager-answers rst_wait 20 logged mgr "$m" "ENROLL from $(rst_gw_id 1): answering"

# ---- the token, copied, used second from another host with another key
rst_gw_config 2 7
members_before=$(rst_members 7)
thief_out=$(printf '%s\n' "$tok1" | rst_in gw2 "$ROSTERD" redeem --config "$(rst_conf gw2)" - 2>&1)
rc=$?
printf '%s\n' "$thief_out" >>"$RST_DIR/gw2.redeem.log"
check copied-token-refused test "$rc" -eq 1
thief_says() { grep -qF "the manager refused the enrolment: an enrolment with another key is under way" <<<"$thief_out"; }
check copied-token-says-why thief_says
check copied-token-manager-logs rst_wait 5 logged mgr "$m" "ENROLL from $(rst_gw_id 1) refused: an enrolment with another key is under way"
check copied-token-no-identity test ! -e "$(st 2)/identity"
check copied-token-table-unchanged test "$(rst_members 7)" = "$members_before"
rm -f "$(st 2)/identity.pending"

# ---- the first redeem, run again (after a reboot: the interface the
# dead redeem left is gone, identity.pending is not), resumes with its key
rst_in gw1 ip link del rctl0
check resume-redeems rst_redeem 1 "$tok1"
check resume-said-so grep -q "resuming an earlier redeem, same key" "$RST_DIR/gw1.redeem.log"
check resume-identity test -s "$(st 1)/identity" -a ! -e "$(st 1)/identity.pending"
check resume-same-key test "$(pubkey_of 1 identity)" = "$pending1"
check resume-gw1-starts rst_gw_start 1
check resume-gw1-joins rst_wait "$T_JOIN" rst_table_is 7 1

# ---- the manager committed, the gateway crashed before saving
tok2=$(rst_invite 2 7)
check invite-gw2 test -n "$tok2"
# fewer, quicker tries for the attempt through the dropped invitation key
sed -i 's/^retry-ms = 500$/retry-ms = 100/' "$(rst_conf gw2)"
check crash-after-commit-enrols rst_redeem 2 "$tok2"
key2=$(pubkey_of 2 identity)
mv "$(st 2)/identity" "$(st 2)/identity.pending"
rst_in gw2 ip link del rctl0
m=$(rst_log_lines mgr)
check crash-after-commit-redeems-again rst_redeem 2 "$tok2"
check crash-after-commit-asked-with-own-key grep -q "asking with the gateway key" "$RST_DIR/gw2.redeem.log"
check crash-after-commit-manager-answers logged mgr "$m" "ENROLL from $(rst_gw_id 2): already enrolled with that key, answering again"
check crash-after-commit-identity test -s "$(st 2)/identity" -a ! -e "$(st 2)/identity.pending"
check crash-after-commit-same-key test "$(pubkey_of 2 identity)" = "$key2"
check crash-after-commit-gw2-starts rst_gw_start 2
check crash-after-commit-gw2-joins rst_wait "$T_JOIN" rst_table_is 7 1 2
check daemons-alive rst_all_alive mgr gw1 gw2

((RST_FAILED == 0)) || rst_dump_logs 30
ktap_diag "enrol.sh: $((SECONDS - RST_T0)) s"
ktap_finish
