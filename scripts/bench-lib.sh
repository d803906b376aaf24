# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/bench-lib.sh: helpers of scripts/bench-mesh on top of the
# tests/rosterd/lib.sh topology (sourced; sources lib.sh). Everything here
# is about many gateways at once, where one process per gateway per step
# is what costs under TCG:
#
#   bl_now                    CLOCK_MONOTONIC seconds (rosterd's log clock)
#   bl_ns N...                full netns names of gwN...
#   bl_enrol N...             config + invite + redeem, in parallel batches
#                             (ROSTER_BENCH_ENROL_BATCH, default 8); no start
#   bl_start N...             start gwN... daemons at once (no 0.2 s pause)
#   bl_stop N...              SIGTERM them all, wait, SIGKILL stragglers
#   bl_pubkey N               gwN's enrolled key (the manager's state)
#   bl_mesh_check VPN N...    every listed gateway's rvpnVPN peers == the
#                             other members in the manager's table (one
#                             wg-watch dump for all); prints the differences
#   bl_stamp_first FILE T0 RE first log stamp >= T0 on a line matching RE
#   bl_row FIGURE VALUE UNIT [BOUND BOUND_NAME TARGET N]   one result row
#   bl_table                  print the rows (and append them as JSON lines
#                             to $ROSTER_BENCH_JSON if set)
#   bl_etcd_cluster           store = etcd for the single-manager topology:
#                             a member in mgr's netns and two in e2, e3
#   bl_etcd_mgr_config        the manager's config on that cluster
#
# WG_WATCH: the wg-watch helper (default build/bench/wg-watch).

# shellcheck source=tests/rosterd/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tests/rosterd/lib.sh"

WG_WATCH=${WG_WATCH:-$ROSTER_TOP/build/bench/wg-watch}
BL_BENCH=${BL_BENCH:-mesh}

bl_now() { "$WG_WATCH" now; }

bl_ns() {
	local n
	for n in "$@"; do printf '%s-gw%s\n' "$RST_P" "$n"; done
}

# bl_enrol_one N: what rst_enrol does up to (not including) the start,
# with its redeem retries; leaves $RST_DIR/gwN.enrol-failed on failure.
bl_enrol_one() {
	local n=$1 tok try=1
	rst_gw_config "$n" 7
	tok=$(rst_invite "$n" 7)
	if [[ -z $tok ]]; then
		echo "invite failed" >"$RST_DIR/gw$n.enrol-failed"
		return 1
	fi
	until rst_redeem "$n" "$tok"; do
		if ((++try > ${RST_REDEEM_TRIES:-3})); then
			echo "redeem failed $((try - 1)) times" >"$RST_DIR/gw$n.enrol-failed"
			return 1
		fi
	done
}

# bl_enrol N...: enrol in parallel batches; the invitations serialise on
# the manager's state lock, but the redeems (a WireGuard handshake and
# a round trip each) overlap. Returns 1 if any failed (reasons printed).
bl_enrol() {
	local batch=${ROSTER_BENCH_ENROL_BATCH:-8} n i=0 rc=0 pids=()
	for n in "$@"; do
		bl_enrol_one "$n" &
		pids+=($!)
		if ((++i % batch == 0)); then
			wait "${pids[@]}"
			pids=()
		fi
	done
	((${#pids[@]} == 0)) || wait "${pids[@]}"
	for n in "$@"; do
		if [[ -e $RST_DIR/gw$n.enrol-failed ]]; then
			echo "# gw$n: enrolment failed: $(<"$RST_DIR/gw$n.enrol-failed"); last redeem log lines:"
			tail -n 3 "$RST_DIR/gw$n.redeem.log" 2>/dev/null | sed 's/^/#   /'
			rc=1
		fi
	done
	return $rc
}

# bl_start N...: start the gateway daemons back to back, then check that
# each survived its first half second.
# bl_rosterd: BL_ROSTERD = the argv that runs rosterd from a copy in tmpfs,
# with its libraries and the dynamic loader: over 9p without a cache every
# start re-reads them, which made the starts of 128 gateways spread over
# 73.6 s and the formation figure measure the emulator's file system.
bl_rosterd() {
	local rt=${TMPDIR:-/tmp}/bl-rt lib
	local ipb
	[[ -z ${BL_ROSTERD[*]:-} ]] || return 0
	BL_ROSTERD=("$ROSTERD")
	BL_IP=(ip)
	ipb=$(type -P ip) || return 0
	mkdir -p "$rt/lib" && cp /lib64/ld-linux-x86-64.so.2 "$rt/ld.so" &&
		cp "$ROSTERD" "$rt/rosterd" && cp "$ipb" "$rt/ip" || return 0
	for lib in $(ldd "$ROSTERD" "$ipb" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do
		cp "$lib" "$rt/lib/" || return 0
	done
	BL_ROSTERD=("$rt/ld.so" --library-path "$rt/lib" "$rt/rosterd")
	BL_IP=("$rt/ld.so" --library-path "$rt/lib" "$rt/ip")
}

bl_start() {
	local n rc=0
	bl_rosterd
	for n in "$@"; do
		command "${BL_IP[@]}" netns exec "$RST_P-gw$n" "${BL_ROSTERD[@]}" gateway \
			--config "$(rst_conf "gw$n")" >>"$RST_DIR/gw$n.log" 2>&1 </dev/null &
		RST_PID[gw$n]=$!
	done
	sleep 0.5
	for n in "$@"; do
		if ! rst_alive "gw$n"; then
			echo "# gw$n: daemon exited at once: $(tail -n 1 "$RST_DIR/gw$n.log")"
			rc=1
		fi
	done
	return $rc
}

# bl_dead PID: not running (gone, or a zombie that a subshell that started
# it has not reaped yet).
bl_dead() {
	local st
	kill -0 "$1" 2>/dev/null || return 0
	read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null || return 0
	[[ $st == Z ]]
}

bl_stop() {
	local n i alive pid
	for n in "$@"; do
		[[ -z ${RST_PID[gw$n]:-} ]] || kill -TERM "${RST_PID[gw$n]}" 2>/dev/null
	done
	for ((i = 0; i < 100; i++)); do
		alive=0
		for n in "$@"; do
			pid=${RST_PID[gw$n]:-}
			[[ -z $pid ]] || bl_dead "$pid" || { alive=1; break; }
		done
		((alive)) || break
		sleep 0.1
	done
	for n in "$@"; do
		pid=${RST_PID[gw$n]:-}
		[[ -n $pid ]] || continue
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "RST_PID[gw$n]"
	done
}

# bl_pubkey N: gwN's public key (rctl0's and its VPNs'), from its own
# identity file ("private-key B64"; the manager's membership is in its
# store, no longer in a text file).
bl_pubkey() {
	local k v
	while read -r k v; do
		[[ $k != private-key ]] || { wg pubkey <<<"$v"; return; }
	done <"$RST_DIR/gw$1/state/identity"
	return 1
}

# bl_mesh_check VPN N...: see the header. Prints one line per difference
# and a summary; returns 1 on any difference.
bl_mesh_check() {
	local v=$1 table dump
	shift
	table=$(rst_members "$v")
	# shellcheck disable=SC2046 # a word list
	dump=$("$WG_WATCH" dump "rvpn$v" $(bl_ns "$@")) || return 1
	awk -v p="$RST_P-gw" '
		FNR == NR {                       # the table: dev key endpoint prefixes
			if ($1 == "") next
			row[$1] = $2 " " $3 " " $4; nmem++; devs[nmem] = $1
			next
		}
		{                                 # the dump: ns self|peer ...
			n = substr($1, length(p) + 1); dev = "10.255.0." (n + 10)
			seen[dev] = 1
			if ($2 == "self") { self[dev] = $3; next }
			have[dev, $3 " " $4 " " $5] = 1; nhave[dev]++
		}
		END {
			bad = 0
			for (dev in seen) {
				member = (dev in row)
				want = 0
				for (i = 1; i <= nmem; i++) {
					d = devs[i]
					if (!member || d == dev) continue
					want++
					if (!((dev, row[d]) in have)) { print "  " dev ": missing peer " d " (" row[d] ")"; bad++ }
				}
				if (nhave[dev] + 0 != want) { print "  " dev ": " nhave[dev] + 0 " peers, want " want; bad++ }
				if (member && self[dev] != substr(row[dev], 1, index(row[dev], " ") - 1)) {
					print "  " dev ": own key " self[dev] " is not its member key"; bad++
				}
			}
			printf "  %d gateway(s) checked against %d member(s): %d difference(s)\n", length(seen), nmem, bad
			exit bad > 0
		}' <(printf '%s\n' "$table") <(printf '%s\n' "$dump")
}

# bl_stamp_first FILE T0 RE: the first ROSTERD_LOG_TIME stamp at or after
# T0 on a line of FILE matching the awk regex RE (nothing if none).
bl_stamp_first() {
	awk -v t0="$2" -v re="$3" '
		/^\[/ && $0 ~ re { t = substr($0, 2, index($0, "]") - 2) + 0; if (t >= t0) { print t; exit } }' "$1"
}

# bl_stamp_peers FILE T0 VPN COUNT: the first stamp at or after T0 at which
# the gateway of log FILE had COUNT peers on rvpnVPN by its own account (a
# JOIN/LIST sets the count, "peer X added"/"removed" change it by one).
bl_stamp_peers() {
	awk -v t0="$2" -v vpn="$3" -v want="$4" '
		/^\[/ {
			t = substr($0, 2, index($0, "]") - 2) + 0
			if (t < t0 || index($0, "vpn " vpn " gen ") == 0) next
			if (match($0, /: [0-9]+ peer\(s\) on /)) { split(substr($0, RSTART + 2), f, " "); c = f[1] + 0 }
			else if ($0 ~ /: peer [^ ]+ (added|set)/) c++   # v1 | v2 daemon
			else if ($0 ~ /: peer [^ ]+ removed/) c--
			else next
			if (c == want) { print t; exit }
		}' "$1"
}

# --------------------------------------------------------------- etcd ----

# The single manager of rst_topology on a three-member etcd cluster: one
# member in the manager's netns (192.0.2.1, first in its endpoints), two
# in netns e2 and e3 (192.0.2.2, .3) on the same bridge, so that every
# commit waits for a quorum across the underlay, as with several
# managers (rst_ha_topology), while the rest of the topology stays the
# one the SQLite figures are measured on. Timing as rst_etcd_start's.
BL_ETCD_NODES=(mgr e2 e3)
bl_etcd_url() { echo "http://192.0.2.$1:2379"; }

# bl_etcd_start I: member I (1..3), data in $RST_DIR/etcd-I, log
# $RST_DIR/etcd-I.log.
bl_etcd_start() {
	local i=$1 j cluster='' ip=192.0.2.$1 name=etcd-$1
	for ((j = 1; j <= 3; j++)); do cluster+="${cluster:+,}e$j=http://192.0.2.$j:2380"; done
	mkdir -p "$RST_DIR/$name"
	ip netns exec "$RST_P-${BL_ETCD_NODES[i - 1]}" etcd --name "e$i" --data-dir "$RST_DIR/$name" \
		--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--initial-cluster-token "$RST_P" \
		--heartbeat-interval "${RST_ETCD_HEARTBEAT:-200}" \
		--election-timeout "${RST_ETCD_ELECTION:-2000}" \
		--logger zap --log-outputs stderr \
		>>"$RST_DIR/$name.log" 2>&1 </dev/null &
	RST_PID[$name]=$!
}

bl_etcd_healthy() {
	local i out
	for i in 1 2 3; do
		out=$(ip netns exec "$RST_P-${BL_ETCD_NODES[i - 1]}" curl -s -m 5 "$(bl_etcd_url "$i")/health" 2>&1)
		[[ $out == *'"health":"true"'* ]] || return 1
	done
}

# bl_etcd_cluster: e2 and e3 on the bridge, the three members, healthy.
bl_etcd_cluster() {
	local i
	rst_node e2 192.0.2.2 && rst_node e3 192.0.2.3 || return 1
	for i in 1 2 3; do bl_etcd_start "$i"; done
	rst_wait 60 bl_etcd_healthy
}

# bl_etcd_mgr_config: rst_mgr_config's manager with store = etcd (name
# m1, lease-ttl ROSTER_BENCH_TTL, 3: it leads alone, and renews its lease
# as a manager of several does).
bl_etcd_mgr_config() {
	cat >>"$(rst_conf mgr)" <<EOF
store = etcd
etcd-endpoints = $(bl_etcd_url 1), $(bl_etcd_url 2), $(bl_etcd_url 3)
etcd-prefix = /roster/
name = m1
lease-ttl = ${ROSTER_BENCH_TTL:-3}
EOF
}

# ------------------------------------------------------------ results ----

BL_ROWS=()
# bl_row FIGURE VALUE UNIT [BOUND BOUND_NAME TARGET N]: "-" or "" for none.
bl_row() {
	local IFS=$'\t' a f=()
	# read -r with a tab IFS merges empty fields: store "-" instead
	for a in "$@"; do f+=("${a:--}"); done
	BL_ROWS+=("${f[*]}")
	printf '# result: %s = %s %s\n' "$1" "$2" "$3"
}

bl_num() { [[ -n $1 && $1 != - ]] && printf '%s' "$1" || printf 'null'; }

bl_table() {
	local r fig val unit bound bname target n ratio json=${ROSTER_BENCH_JSON:-}
	printf '\n%-48s | %12s | %12s | %7s | %s\n' figure value bound ratio target
	printf '%s\n' "-------------------------------------------------+--------------+--------------+---------+-------"
	for r in "${BL_ROWS[@]}"; do
		IFS=$'\t' read -r fig val unit bound bname target n <<<"$r"
		ratio=-
		if [[ -n ${bound:-} && $bound != - && -n $val && $val != - ]]; then
			ratio=$(awk -v a="$val" -v b="$bound" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
		fi
		printf '%-48s | %12s | %12s | %7s | %s\n' "$fig" "$val ${unit:-}" \
			"$([[ -n ${bound:-} && $bound != - ]] && echo "$bound ${unit:-}" || echo -)" \
			"$ratio" "$([[ -n ${target:-} && $target != - ]] && echo "<= ${target}x" || echo -)"
		[[ -n $json ]] || continue
		printf '{"bench":"%s","figure":"%s","value":%s,"unit":"%s","bound":%s,"bound_name":%s,"ratio":%s,"target":%s,"n":%s}\n' \
			"$BL_BENCH" "$fig" "$(bl_num "$val")" "${unit:-}" "$(bl_num "${bound:-}")" \
			"$([[ -n ${bname:-} && $bname != - ]] && printf '"%s"' "$bname" || echo null)" \
			"$(bl_num "$ratio")" "$(bl_num "${target:-}")" "$(bl_num "${n:-}")" >>"$json"
	done
}
