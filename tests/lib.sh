# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared helpers for roster's shell tests, sourced by tests/run,
# tests/vm-suite and tests/netns/*.sh (all bash):
#
#  - KTAP output in the format of the kernel's kselftest.h
#    (TAP version 13, plan, "ok N name", "not ok N name",
#    "ok N name # SKIP reason", "# " diagnostics) and exit codes
#    (0 pass, 1 fail, 4 all skipped);
#  - re-emission of another program's KTAP output as numbered results of
#    ours (one flat stream), with counting;
#  - network namespace naming (roster-$$-N) and cleanup;
#  - loading/unloading the module, and the kernel's YNL CLI.

ROSTER_TOP=${ROSTER_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

# ---------------------------------------------------------------- KTAP ----

KTAP_NUM=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

# ktap_header [PLAN]: print the header, and the plan if known up front.
ktap_header() {
	echo "TAP version 13"
	[[ -z ${1:-} ]] || echo "1..$1"
}

ktap_diag() {
	local line
	for line in "$@"; do printf '# %s\n' "$line"; done
}

# Prefix every line of stdin with "# ".
ktap_indent() {
	local line
	while IFS= read -r line || [[ -n $line ]]; do
		printf '# %s\n' "$line"
	done
}

ktap_pass() {
	KTAP_NUM=$((KTAP_NUM + 1)) KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_NUM $1"
}

ktap_fail() {
	KTAP_NUM=$((KTAP_NUM + 1)) KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_NUM $1"
}

# ktap_skip NAME REASON
ktap_skip() {
	KTAP_NUM=$((KTAP_NUM + 1)) KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_NUM $1 # SKIP ${2:-}"
}

# ktap_result NAME STATUS: 0 pass, 4 skip, anything else fail.
ktap_result() {
	case $2 in
	0) ktap_pass "$1" ;;
	4) ktap_skip "$1" "${3:-}" ;;
	*) ktap_fail "$1" ;;
	esac
}

# ktap_check NAME CMD...: run CMD (output captured) and report it as one
# test; CMD's output is shown as diagnostics when it fails.
ktap_check() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [[ $rc -eq 0 ]]; then
		ktap_pass "$name"
	else
		[[ -z $out ]] || printf '%s\n' "$out" | ktap_indent
		ktap_diag "'$*' exited $rc"
		ktap_fail "$name"
	fi
}

ktap_totals() {
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:$KTAP_SKIP error:0"
}

# Print the trailing plan and totals and exit like kselftest does.
ktap_finish() {
	echo "1..$KTAP_NUM"
	ktap_totals
	if [[ $KTAP_FAIL -gt 0 ]]; then
		exit $KSFT_FAIL
	elif [[ $KTAP_NUM -gt 0 && $KTAP_SKIP -eq $KTAP_NUM ]]; then
		exit $KSFT_SKIP
	fi
	exit $KSFT_PASS
}

# ktap_reemit PREFIX: read a program's KTAP/TAP output on stdin; re-emit its
# top-level result lines as our own numbered results named PREFIX:NAME and
# everything else as "# " diagnostics. A result without a name (6.1's
# harness prints "ok N # SKIP reason" for skips) is named after the last
# "#  RUN  fixture.test ..." line. Sets REEMIT_RESULTS/REEMIT_FAILED/
# REEMIT_PLAN for the caller. If KTAP_REEMIT_FILTER is set, only results
# whose name matches that extended regex count; the others become
# diagnostics.
ktap_reemit() {
	local prefix=$1 line neg num rest name directive last_run=
	local result_re='^(not )?ok ([0-9]+)( (.*))?$'
	REEMIT_RESULTS=0 REEMIT_FAILED=0 REEMIT_PLAN=
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		if [[ $line =~ $result_re ]]; then
			neg=${BASH_REMATCH[1]} num=${BASH_REMATCH[2]} rest=${BASH_REMATCH[4]}
			directive=
			# split at the first " #" (or a leading "#")
			if [[ $rest == \#* ]]; then
				name="" directive=${rest#\#}
			elif [[ $rest == *" #"* ]]; then
				name=${rest%%" #"*} directive=${rest#*" #"}
			else
				name=$rest
			fi
			directive=${directive#"${directive%%[![:space:]]*}"}
			name=${name%"${name##*[![:space:]]}"}
			# kselftest's ksft_test_result_error: "not ok N # error MSG"
			if [[ -z $name && $directive =~ ^[Ee][Rr][Rr][Oo][Rr][[:space:]]*(.*)$ ]]; then
				name=${BASH_REMATCH[1]}
			fi
			[[ -n $name ]] || name=${last_run:-test$num}
			name=${name// /_}
			if [[ -n ${KTAP_REEMIT_FILTER:-} && ! $name =~ $KTAP_REEMIT_FILTER ]]; then
				printf '# (not counted) %s\n' "$line"
				continue
			fi
			REEMIT_RESULTS=$((REEMIT_RESULTS + 1))
			if [[ $directive =~ ^[Ss][Kk][Ii][Pp]([[:space:]]+(.*))?$ ]]; then
				ktap_skip "$prefix:$name" "${BASH_REMATCH[2]}"
			elif [[ $directive =~ ^[Tt][Oo][Dd][Oo] ]]; then
				ktap_skip "$prefix:$name" "TODO ${directive#????}"
			elif [[ -z $neg ]]; then
				ktap_pass "$prefix:$name${directive:+ # $directive}"
			else
				REEMIT_FAILED=$((REEMIT_FAILED + 1))
				ktap_fail "$prefix:$name${directive:+ # $directive}"
			fi
			continue
		fi
		if [[ $line =~ ^#[[:space:]]+RUN[[:space:]]+([^[:space:]]+)[[:space:]]\.\.\. ]]; then
			last_run=${BASH_REMATCH[1]}
		elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
			REEMIT_PLAN=${BASH_REMATCH[1]}
		elif [[ $line =~ ^Bail[[:space:]]out! ]]; then
			REEMIT_FAILED=$((REEMIT_FAILED + 1))
			printf '# %s\n' "$line"
			ktap_fail "$prefix:bail-out"
			continue
		fi
		printf '# %s\n' "$line"
	done
}

# ktap_run_suite PREFIX TIMEOUT CMD...: run CMD with a time limit, re-emit
# its results, and add a failed result when it crashed, timed out or exited
# non-zero without reporting a failure, or reported fewer results than its
# plan. A program that prints no KTAP results at all counts as one test
# named PREFIX, passed iff it exited 0 (4 = skipped).
ktap_run_suite() {
	local prefix=$1 limit=$2 rc rcfile
	shift 2
	rcfile=$(mktemp "${TMPDIR:-/tmp}/roster-rc.XXXXXX")
	ktap_reemit "$prefix" < <(
		rc=0
		timeout --kill-after=10 "$limit" "$@" 2>&1 </dev/null || rc=$?
		echo "$rc" >"$rcfile"
	)
	rc=$(cat "$rcfile")
	rm -f "$rcfile"
	if [[ $REEMIT_RESULTS -eq 0 ]]; then
		case $rc in
		0) ktap_pass "$prefix" ;;
		4) ktap_skip "$prefix" "exited 4 (skip) without results" ;;
		124|137) ktap_diag "timed out after $limit s"; ktap_fail "$prefix" ;;
		*) ktap_diag "exited $rc"; ktap_fail "$prefix" ;;
		esac
		return 0
	fi
	if [[ $rc -eq 124 || $rc -eq 137 ]]; then
		ktap_fail "$prefix:timeout # killed after $limit s"
	elif [[ -z ${KTAP_REEMIT_FILTER:-} && $rc -ne 0 && $rc -ne 4 &&
		$REEMIT_FAILED -eq 0 ]]; then
		# (with a filter, the exit status also reflects uncounted tests)
		ktap_fail "$prefix:exit-status # exited $rc without a failed result"
	elif [[ -n $REEMIT_PLAN && -z ${KTAP_REEMIT_FILTER:-} &&
		$REEMIT_RESULTS -lt $REEMIT_PLAN ]]; then
		ktap_fail "$prefix:incomplete # $REEMIT_RESULTS of $REEMIT_PLAN planned results"
	fi
	return 0
}

# ------------------------------------------------------------- netns ----

ROSTER_NS_COUNT=0
ROSTER_NS_LIST=()
ROSTER_BG_PIDS=()

# ns_new VAR: create netns roster-$$-N with lo up and store its name in VAR.
ns_new() {
	local name
	ROSTER_NS_COUNT=$((ROSTER_NS_COUNT + 1))
	name=roster-$$-$ROSTER_NS_COUNT
	ip netns add "$name" || return 1
	ROSTER_NS_LIST+=("$name")
	ip -n "$name" link set lo up
	printf -v "$1" '%s' "$name"
}

ns_del() {
	local ns=$1 i
	ip netns del "$ns" 2>/dev/null
	for i in "${!ROSTER_NS_LIST[@]}"; do
		[[ ${ROSTER_NS_LIST[$i]} != "$ns" ]] || unset "ROSTER_NS_LIST[$i]"
	done
}

# Kill our background jobs and delete our namespaces (trap on EXIT).
roster_cleanup() {
	local pid ns
	for pid in "${ROSTER_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${ROSTER_BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ns in "${ROSTER_NS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	ROSTER_BG_PIDS=() ROSTER_NS_LIST=()
	[[ -z ${ROSTER_TMP:-} ]] || rm -rf "$ROSTER_TMP"
	return 0
}

# A private scratch dir (under /tmp, the only writable place in the VM).
roster_tmpdir() {
	ROSTER_TMP=$(mktemp -d "${TMPDIR:-/tmp}/roster-test.XXXXXX")
}

# netns inode number, as the module logs it
ns_inum() {
	ip netns exec "$1" stat -L -c %i /proc/self/ns/net
}

# ------------------------------------------------------------ module ----

# ROSTER_KO: the module file; ROSTER_KMOD_DIR: a tree of <release>/roster.ko
# (default build/kmod), for runs over several kernels.
roster_ko() {
	local dir=${ROSTER_KMOD_DIR:-$ROSTER_TOP/build/kmod}
	[[ $dir == /* ]] || dir=$ROSTER_TOP/$dir
	echo "${ROSTER_KO:-$dir/$(uname -r)/roster.ko}"
}

roster_loaded() {
	[[ -d /sys/module/roster ]]
}

# roster_load [PARAM=VALUE...]: insmod with the created/destroyed debug
# messages enabled from the first object on.
roster_load() {
	insmod "$(roster_ko)" dyndbg=+p "$@" && roster_dyndbg_on
}

roster_dyndbg_on() {
	local ctl=/sys/kernel/debug/dynamic_debug/control
	[[ -w $ctl ]] || return 0
	echo 'module roster +p' >"$ctl" 2>/dev/null || true
}

# rmmod, retrying briefly while netns teardown still holds a reference.
roster_unload() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		rmmod roster 2>/dev/null && return 0
		roster_loaded || return 0
		sleep 0.5
	done
	rmmod roster
}

# --------------------------------------------------------------- YNL ----

YNL_SRC=${ROSTER_YNL_SRC:-$ROSTER_TOP/build/linux-source-6.12}
YNL_CLI=$YNL_SRC/tools/net/ynl/cli.py
ROSTER_SPEC=$ROSTER_TOP/Documentation/netlink/specs/roster.yaml

ynl_available() {
	[[ -f $YNL_CLI ]] && command -v python3 >/dev/null &&
		python3 -c 'import yaml' 2>/dev/null
}

# ynl NS ARGS...: the kernel's YNL CLI on the roster spec, in netns NS
# ("-" = the current one), JSON output.
ynl() {
	local ns=$1
	shift
	if [[ $ns == - ]]; then
		python3 "$YNL_CLI" --spec "$ROSTER_SPEC" --no-schema --output-json "$@"
	else
		ip netns exec "$ns" python3 "$YNL_CLI" --spec "$ROSTER_SPEC" \
			--no-schema --output-json "$@"
	fi
}

# ynl_listen NS SECONDS OUTFILE: start a background "notify" subscriber in
# NS that collects notifications for SECONDS after it subscribed and then
# prints them as one JSON array; returns once it is subscribed (it is then
# in its sleep, the syscall after NETLINK_ADD_MEMBERSHIP). Sets YNL_LISTEN_PID.
ynl_listen() {
	local ns=$1 secs=$2 out=$3 i sc
	ip netns exec "$ns" python3 "$YNL_CLI" --spec "$ROSTER_SPEC" --no-schema \
		--output-json --subscribe notify --sleep "$secs" >"$out" 2>&1 &
	YNL_LISTEN_PID=$!
	ROSTER_BG_PIDS+=("$YNL_LISTEN_PID")
	for ((i = 0; i < 600; i++)); do
		# x86_64: 35 nanosleep, 230 clock_nanosleep
		read -r sc _ <"/proc/$YNL_LISTEN_PID/syscall" 2>/dev/null || return 1
		[[ $sc != 35 && $sc != 230 ]] || return 0
		sleep 0.1
	done
	return 1
}

# jq filter that drops the values that vary from run to run.
# shellcheck disable=SC2034 # used by the scenario scripts
YNL_NORMALISE='walk(if type == "object" then del(.["create-time"], .["join-time"]) else . end)'

# hex helpers: hex_ip4 10.0.0.1 -> 0a000001
hex_ip4() {
	local IFS=.
	# shellcheck disable=SC2086 # split on dots on purpose
	printf '%02x%02x%02x%02x' $1
}

# A fixed, recognisable 32-byte key: key_hex 7 -> "07" * 32
key_hex() {
	local b i out=
	printf -v b '%02x' "$1"
	for ((i = 0; i < 32; i++)); do out+=$b; done
	echo "$out"
}

# ynl_batch: one python3 process running the kernel's YNL library (the
# library under cli.py) for a whole script of requests read on stdin, one
# per line, answering one JSON line each. Python starts slowly in the VM
# (every import stats files over 9p), so scenario tests batch their
# requests here instead of starting cli.py per request. Commands:
#   ns NAME|-            switch to netns NAME (- = the initial one)
#   do OP [JSON]         -> {"ok": reply} | {"errno": N, "error": "...", "extack": ...}
#   excl OP JSON         do with NLM_F_EXCL
#   dump OP [JSON]       -> {"ok": [messages]} | {"errno": ...}
#   listen KEY           subscribe a new socket in this netns to "notify"
#   collect KEY          -> {"ok": [{"name": ..., "msg": ...}...]} drained
#   sh CMD...            run a command -> {"rc": N, "out": "..."}
#   reset                forget resolved families (after a module reload)
#   # ...                ignored (no answer)
read -r -d '' YNL_BATCH_PY <<'PYEOF'
import ctypes, json, os, shlex, subprocess, sys
top, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, 'tools/net/ynl'))
from lib import YnlFamily, Netlink, NlError
import yaml
# Parse the spec once, with libyaml when there is one (much faster in TCG).
_load, _cache = yaml.safe_load, {}
def _cached_load(stream):
    text = stream.read() if hasattr(stream, 'read') else stream
    if text not in _cache:
        loader = getattr(yaml, 'CSafeLoader', None)
        _cache[text] = yaml.load(text, Loader=loader) if loader else _load(text)
    return _cache[text]
yaml.safe_load = _cached_load
spec = os.path.join(top, 'Documentation/netlink/specs/roster.yaml')
libc = ctypes.CDLL(None, use_errno=True)
init_ns = os.open('/proc/self/ns/net', os.O_RDONLY)
fams, listeners, cur = {}, {}, '-'

class Enc(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, bytes):
            return o.hex()
        if isinstance(o, set):
            return sorted(o)
        # attributes YNL does not decode, such as the extack cookie
        if hasattr(o, 'raw') and hasattr(o, 'type'):
            return {'type': o.type, 'raw': o.raw.hex()}
        return json.JSONEncoder.default(self, o)

def fam():
    if cur not in fams:
        fams[cur] = YnlFamily(spec, '')
    return fams[cur]

def out(obj):
    sys.stdout.write(json.dumps(obj, cls=Enc) + '\n')
    sys.stdout.flush()

for line in sys.stdin:
    line = line.strip()
    if not line or line.startswith('#'):
        continue
    cmd, _, rest = line.partition(' ')
    try:
        if cmd == 'ns':
            fd = os.open('/run/netns/' + rest, os.O_RDONLY) if rest != '-' else init_ns
            if libc.setns(fd, 0x40000000) != 0:
                raise OSError(ctypes.get_errno(), 'setns ' + rest)
            cur = rest
            out({'ok': rest})
        elif cmd in ('do', 'excl', 'dump'):
            op, _, js = rest.partition(' ')
            attrs = json.loads(js) if js else {}
            if cmd == 'dump':
                out({'ok': fam().dump(op, attrs)})
            else:
                flags = [Netlink.NLM_F_EXCL] if cmd == 'excl' else None
                out({'ok': fam().do(op, attrs, flags)})
        elif cmd == 'listen':
            y = YnlFamily(spec, '')
            y.ntf_subscribe('notify')
            listeners[rest] = y
            out({'ok': rest})
        elif cmd == 'collect':
            y = listeners[rest]
            y.check_ntf()
            out({'ok': [{'name': m['name'], 'msg': m['msg']} for m in y.async_msg_queue]})
            y.async_msg_queue.clear()
        elif cmd == 'sh':
            p = subprocess.run(shlex.split(rest), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            out({'rc': p.returncode, 'out': p.stdout})
        elif cmd == 'reset':
            fams.clear()
            # the library caches family ids process-wide
            sys.modules['lib.ynl'].genl_family_name_to_id = None
            out({'ok': True})
        else:
            out({'errno': -1, 'error': 'unknown batch command ' + cmd})
    except NlError as e:
        out({'errno': e.error, 'error': os.strerror(e.error),
             'extack': e.nl_msg.extack})
    except Exception as e:
        out({'errno': -1, 'error': '%s: %s' % (type(e).__name__, e)})
PYEOF

ynl_batch() {
	python3 -c "$YNL_BATCH_PY" "$ROSTER_TOP" "$YNL_SRC"
}
