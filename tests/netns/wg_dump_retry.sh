#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reading a WireGuard device while it changes. A dump of more than one
# netlink message can be marked interrupted (NLM_F_DUMP_INTR) when a `wg
# set` lands between its parts; the packaged embeddable library's
# wg_get_device then retries for ever. rosterd and the benchmarks use it
# through userspace/daemon/wglib.c, which must read again and return.
#
#   +------------------------------------------------------------+
#   | $ns                                                        |
#   |   wgd0: 48 peers          <-- `wg set` in a loop (writer)  |
#   |     ^                                                      |
#   |     +-- wg-watch count (wglib.c wg_get_device, in a loop)  |
#   +------------------------------------------------------------+
#
# wg-watch waits for a peer count the device never has, so it reads the
# device for SECS seconds and must then time out by itself ("timeout",
# exit 1) with the writer still going, after having retried at least one
# interrupted dump (else the race was not exercised and the test skips).
# Needs: the wireguard module, wg(8), build/bench/wg-watch.
# shellcheck disable=SC2317 # functions run via ktap_check
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "$0")")/../lib.sh"

WG_WATCH=${ROSTER_WG_WATCH:-build/bench/wg-watch}
PEERS=48
SECS=${ROSTER_WG_DUMP_SECS:-6}
TRIES=${ROSTER_WG_DUMP_TRIES:-3}
ns=
writer=
cleanup() {
	[[ -z $writer ]] || kill "$writer" 2>/dev/null
	[[ -z $writer ]] || wait "$writer" 2>/dev/null
	[[ -z $ns ]] || ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT

ktap_header 3
skip_all() {
	local t
	for t in device-ready reads-return race-exercised; do ktap_skip "$t" "$1"; done
	ktap_finish
}
[[ -x $WG_WATCH ]] || skip_all "$WG_WATCH not built (make -C scripts/bench)"
command -v wg >/dev/null || skip_all "wg (wireguard-tools) not installed"
modprobe wireguard 2>/dev/null
ns=roster-wgd-$$
ip netns add "$ns" || skip_all "cannot create a netns"
ip -n "$ns" link add wgd0 type wireguard 2>/dev/null || skip_all "no WireGuard in this kernel"

conf=$(mktemp /tmp/roster-wgd.XXXXXX)
{
	echo "[Interface]"
	echo "PrivateKey = $(wg genkey)"
	for ((i = 1; i <= PEERS; i++)); do
		echo "[Peer]"
		echo "PublicKey = $(wg genkey | wg pubkey)"
		echo "AllowedIPs = 10.$i.0.0/24, 10.255.0.$i/32"
		echo "Endpoint = 192.0.2.$i:51820"
	done
} >"$conf"
device_ready() {
	ip netns exec "$ns" wg setconf wgd0 "$conf" || return 1
	local n
	n=$(ip netns exec "$ns" wg show wgd0 peers | wc -l)
	[[ $n -eq $PEERS ]] || { echo "  wg show: $n peers, want $PEERS"; return 1; }
}
ktap_check device-ready device_ready
rm -f "$conf"

# The writer changes one peer's allowed-ips as fast as wg(8) can.
victim=$(ip netns exec "$ns" wg show wgd0 peers | head -n 1)
(
	i=0
	while :; do
		ip netns exec "$ns" wg set wgd0 peer "$victim" allowed-ips "10.200.$((i % 250)).0/24" 2>/dev/null
		i=$((i + 1))
	done
) &
writer=$!

# TRIES runs of wg-watch, each reading for SECS s: an interrupted dump
# must not keep it (the external timeout is 6x that). Run in this shell, to
# sum the interrupted dumps.
intr=0 stuck=0
for ((k = 1; k <= TRIES; k++)); do
	out=$(timeout $((6 * SECS)) "$WG_WATCH" count -t "$SECS" -i 1 wgd0 $((PEERS + 1)) "$ns")
	rc=$?
	if [[ $rc -ne 1 ]] || ! grep -q '^timeout' <<<"$out"; then
		ktap_diag "run $k: exit $rc (want 1 and a timeout line: stuck in wg_get_device?)"
		printf '%s\n' "$out" | ktap_indent
		stuck=1
		break
	fi
	n=$(awk '$1 == "stats" { for (i = 2; i < NF; i++) if ($i == "intr") print $(i + 1) }' <<<"$out")
	intr=$((intr + ${n:-0}))
	ktap_diag "run $k: $(grep '^stats' <<<"$out")"
done
if ((stuck)); then
	ktap_fail reads-return
else
	ktap_pass reads-return
fi
if ((intr > 0)); then
	ktap_diag "$intr interrupted dump(s) read again"
	ktap_pass race-exercised
else
	ktap_skip race-exercised "no dump was interrupted in $TRIES x $SECS s"
fi
ktap_finish
