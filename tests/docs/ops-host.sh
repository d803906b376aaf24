# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# tests/docs/ops-host.sh: sourced by every shell block of
# Documentation/operations.rst that tests/rosterd/operations.sh runs, inside
# one "host": a network namespace plus a mount namespace whose /etc, /usr,
# /var and /root are overlays of the VM's read-only root, so that what the
# page installs and writes stays on that host.
#
# The commands a network namespace cannot run are shell functions here,
# mapped onto what the host can do; everything else runs as written:
#   apt-get, apt       nothing (the VM has the packages; noted)
#   make               the page's build and install: `make [module]
#                      [userspace]` checks that the tree was built before the
#                      VM (the tree is read-only there); `make install VAR=..`
#                      runs the userspace and daemon install targets with the
#                      same variables (module-install is left out: the module
#                      under test is loaded by tests/vm-suite, one kernel for
#                      every namespace)
#   modprobe roster    checks that that module is loaded
#   systemctl          rosterd@INSTANCE only: start/stop/restart/enable
#                      [--now]/disable/is-active/status run the installed
#                      unit's ExecStart= (%i substituted, its
#                      ConditionPathExists= and StateDirectory= honoured) in
#                      the background; pid and output in
#                      /var/log/roster-test/UNIT.{pid,log}
#   journalctl -u U    that output
#   scp FILE.. [USER@]ADDR:[PATH]   copies to the host with that address
#   reboot             refused: a namespace cannot reboot
#
# Environment (set by operations.sh): OPS_HOST (this host's name), OPS_DIR
# (the hosts file "NAME PID ADDRESS" per host), ROSTER_TOP.

ops_note() { echo "(test) $*"; }

# ERR trap of a block: the page's line of the failing command, once.
OPS_FAILED=
ops_block_failed() {
	[[ -z $OPS_FAILED ]] || return 0
	OPS_FAILED=1
	echo "operations.rst:$(($2 + $3 - 1)): on $OPS_HOST: exit status $1: $4" >&2
}

apt-get() { ops_note "apt-get $*: skipped, the VM has its packages"; }
apt() { apt-get "$@"; }

reboot() {
	echo "reboot: a network namespace cannot reboot (mark the block '.. host: none')" >&2
	return 1
}

ops_built() {
	local f
	for f in "$ROSTER_TOP/build/kmod/$(uname -r)/roster.ko" \
		"$ROSTER_TOP/userspace/cli/roster" "$ROSTER_TOP/userspace/daemon/rosterd"; do
		[[ -e $f ]] || { echo "make: $f not built (build the tree before the VM)" >&2; return 1; }
	done
}

make() {
	local a targets=() vars=() t
	for a in "$@"; do
		case $a in
		*=*) vars+=("$a") ;;
		-*) echo "make (test): option $a not supported" >&2; return 1 ;;
		*) targets+=("$a") ;;
		esac
	done
	[[ ${#targets[@]} -gt 0 ]] || targets=(all)
	for t in "${targets[@]}"; do
		case $t in
		all | module | userspace)
			ops_built || return 1
			ops_note "make $t: built before the VM"
			;;
		install)
			ops_built || return 1
			ops_note "make install ${vars[*]}: the userspace and daemon install targets" \
				"(module-install left out: the module under test is loaded)"
			command make -s -C "$ROSTER_TOP/userspace" install "${vars[@]}" || return 1
			command make -s -C "$ROSTER_TOP/userspace/daemon" install "${vars[@]}" || return 1
			;;
		*)
			echo "make (test): target $t not supported" >&2
			return 1
			;;
		esac
	done
}

modprobe() {
	local a
	for a in "$@"; do
		[[ $a == roster ]] || continue
		if [[ -d /sys/module/roster ]]; then
			ops_note "modprobe roster: the module under test is loaded"
			return 0
		fi
		echo "modprobe roster: the module under test is not loaded" >&2
		return 1
	done
	command modprobe "$@"
}

OPS_UNIT=/lib/systemd/system/rosterd@.service
OPS_RUN=/var/log/roster-test

# ops_alive PID: running (a zombie nobody reaps yet is not).
ops_alive() {
	local st
	[[ -n $1 && -e /proc/$1/stat ]] || return 1
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	[[ -n $st && $st != Z ]]
}

ops_unit_pid() { cat "$OPS_RUN/$1.pid" 2>/dev/null; }
ops_unit_active() { ops_alive "$(ops_unit_pid "$1")"; }

ops_unit_start() {
	local u=$1 inst=${1#*@} cond exec d pid argv i
	[[ -f $OPS_UNIT ]] || { echo "systemctl: $OPS_UNIT is not installed" >&2; return 1; }
	if ops_unit_active "$u"; then
		return 0
	fi
	cond=$(sed -n 's/^ConditionPathExists=//p' "$OPS_UNIT")
	cond=${cond//%i/$inst}
	if [[ -n $cond && ! -e $cond ]]; then
		echo "systemctl: $u: ConditionPathExists=$cond is false: not started" >&2
		return 1
	fi
	exec=$(sed -n 's/^ExecStart=//p' "$OPS_UNIT")
	exec=${exec//%i/$inst}
	read -r -a argv <<<"$exec"
	if [[ ! -x ${argv[0]} ]]; then
		echo "systemctl: $u: ExecStart=${argv[0]}: no such program" >&2
		return 1
	fi
	# shellcheck disable=SC2013 # a list of directory names
	for d in $(sed -n 's/^StateDirectory=//p' "$OPS_UNIT"); do
		mkdir -p "/var/lib/$d" && chmod 0700 "/var/lib/$d"
	done
	mkdir -p "$OPS_RUN"
	ops_note "systemctl start $u: ${argv[*]}"
	ROSTERD_LOG_TIME=1 setsid "${argv[@]}" >>"$OPS_RUN/$u.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$OPS_RUN/$u.pid"
	# Type=exec: started once exec'd. A daemon that dies at once (bad
	# config) is a failed start here, so that the block stops on it.
	for ((i = 0; i < 5; i++)); do
		sleep 0.2
		ops_alive "$pid" || break
	done
	if ! ops_alive "$pid"; then
		echo "systemctl: $u exited at once:" >&2
		tail -n 5 "$OPS_RUN/$u.log" >&2
		return 1
	fi
}

ops_unit_stop() {
	local u=$1 pid i
	pid=$(ops_unit_pid "$u")
	ops_alive "$pid" || return 0
	kill -TERM "$pid"
	# TimeoutStopSec=10s, then SIGKILL
	for ((i = 0; i < 100; i++)); do
		ops_alive "$pid" || break
		sleep 0.1
	done
	ops_alive "$pid" && kill -KILL "$pid"
	rm -f "$OPS_RUN/$u.pid"
	ops_note "systemctl stop $u (pid $pid)"
}

systemctl() {
	local a cmd='' now=0 units=() u rc=0
	for a in "$@"; do
		case $a in
		--now) now=1 ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=$a; else units+=("$a"); fi ;;
		esac
	done
	[[ $cmd != daemon-reload ]] || return 0
	for u in "${units[@]}"; do
		u=${u%.service}
		if [[ $u != rosterd@?* ]]; then
			echo "systemctl (test): only rosterd@ units, not $u" >&2
			return 1
		fi
		case $cmd in
		start) ops_unit_start "$u" || return 1 ;;
		stop) ops_unit_stop "$u" ;;
		restart) ops_unit_stop "$u"; ops_unit_start "$u" || return 1 ;;
		enable | disable)
			mkdir -p /etc/systemd/system/multi-user.target.wants
			if [[ $cmd == enable ]]; then
				ln -sf "$OPS_UNIT" "/etc/systemd/system/multi-user.target.wants/$u.service"
				((now == 0)) || ops_unit_start "$u" || return 1
			else
				rm -f "/etc/systemd/system/multi-user.target.wants/$u.service"
				((now == 0)) || ops_unit_stop "$u"
			fi
			;;
		is-active)
			if ops_unit_active "$u"; then echo active; else echo inactive; rc=3; fi
			;;
		status)
			if ops_unit_active "$u"; then
				echo "$u: active (running), pid $(ops_unit_pid "$u")"
			else
				echo "$u: inactive"
				rc=3
			fi
			tail -n 10 "$OPS_RUN/$u.log" 2>/dev/null
			;;
		*)
			echo "systemctl (test): $cmd not supported" >&2
			return 1
			;;
		esac
	done
	return $rc
}

journalctl() {
	local u='' n=''
	while [[ $# -gt 0 ]]; do
		case $1 in
		-u) u=${2%.service}; shift ;;
		-n) n=$2; shift ;;
		-b | --no-pager | -q) ;;
		*) echo "journalctl (test): $1 not supported" >&2; return 1 ;;
		esac
		shift
	done
	[[ -n $u ]] || { echo "journalctl (test): needs -u UNIT" >&2; return 1; }
	if [[ -n $n ]]; then tail -n "$n" "$OPS_RUN/$u.log"; else cat "$OPS_RUN/$u.log"; fi
}

# scp FILE... [USER@]ADDR:[PATH]: into that host's mount namespace.
scp() {
	local args=() a dest addr path pid hostaddr f to
	for a in "$@"; do
		case $a in
		-q | -p) ;;
		-*) echo "scp (test): option $a not supported" >&2; return 1 ;;
		*) args+=("$a") ;;
		esac
	done
	[[ ${#args[@]} -ge 2 ]] || { echo "scp (test): FILE... HOST:PATH" >&2; return 1; }
	dest=${args[-1]}
	unset 'args[-1]'
	[[ $dest == *:* ]] || { echo "scp (test): $dest is not HOST:PATH" >&2; return 1; }
	addr=${dest%%:*} path=${dest#*:}
	addr=${addr#*@}
	pid=
	while read -r _ a hostaddr; do
		[[ $hostaddr == "$addr" ]] && pid=$a
	done <"$OPS_DIR/hosts"
	[[ -n $pid ]] || { echo "scp: $addr: no such host" >&2; return 1; }
	for f in "${args[@]}"; do
		case $path in
		'') to=/root/${f##*/} ;;
		*/) to=$path${f##*/} ;;
		/*) to=$path ;;
		*) to=/root/$path ;;
		esac
		# shellcheck disable=SC2016 # expanded by the remote shell
		nsenter -t "$pid" -r -m -n -- sh -c 'umask 077 && cat >"$1"' _ "$to" <"$f" || return 1
	done
}
