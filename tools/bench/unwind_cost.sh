#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench, unwinding without frame pointers (issue 14): the cost per sample of fogd's
# DWARF unwinding beside perf record --call-graph dwarf on the same workload
# (unwind_chain cpu, gcc -O2 -fomit-frame-pointer, one busy thread), and continuous mode's
# share of the host's CPU at 19 Hz with unwinding on.
# - BPF: run_time_ns / run_cnt of fogd's perf_event program (kernel.bpf_stats_enabled), with
#   unwinding (registers + 16 KiB of stack to the ring buffer) and without (frame pointers);
# - user space: CPU time (utime + stime, /proc/PID/stat) of fogd and its symbol helper over
#   a profile, less fogd's own CPU over as long without one, per sample;
# - CPython frames: the same two figures profiling a python3 loop without and with the
#   interpreter walk (--no-python);
# - perf: CPU time of `perf record -F 99 --call-graph dwarf` plus `perf script` (where perf
#   unwinds), per sample.
# Knobs: UNWIND_BENCH_SECONDS (default 10), UNWIND_BENCH_CONT_SECONDS (default 60).
set -eu
cd "$(dirname "$0")/../.."
: "${OUTPUT:=build}"
SECS=${UNWIND_BENCH_SECONDS:-10}
CONT=${UNWIND_BENCH_CONT_SECONDS:-60}
FOGD="$OUTPUT/fogd"
FOGCTL="$OUTPUT/fogctl"
PROG="$OUTPUT/tests/helpers/unwind_chain"
DIR=$(mktemp -d /tmp/fogd-unwind-bench.XXXXXX)
SOCK="$DIR/fogd.sock"
PINS="/sys/fs/bpf/fogd-unwind-bench-$$"
FOGD_PID= W=
old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
TCK=$(getconf CLK_TCK)

cleanup() {
	[ -n "$W" ] && kill "$W" 2>/dev/null
	[ -n "$FOGD_PID" ] && kill -TERM "$FOGD_PID" 2>/dev/null && wait "$FOGD_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$old_stats" 2>/dev/null || true
	rm -rf "$DIR" "$PINS"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "unwind bench: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "unwind bench: needs perf (linux-perf)" >&2; exit 1; }
[ -x "$PROG" ] || { echo "unwind bench: build $PROG first (make all)" >&2; exit 1; }

fogd_up() {
	"$FOGD" -o fogd.socket="$SOCK" -o fogd.pin_path="$PINS" -o http.listen=off \
		-o monitor.profile_on=off "$@" >"$DIR/fogd.log" 2>&1 &
	FOGD_PID=$!
	for _ in $(seq 1 300); do
		curl -sf --max-time 5 --unix-socket "$SOCK" http://localhost/api/v1/status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "unwind bench: fogd did not start" >&2
	exit 1
}
fogd_down() { kill -TERM "$FOGD_PID"; wait "$FOGD_PID" || true; FOGD_PID=; }
# CPU ticks (utime + stime, all threads) of a process, 0 when gone
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
helper_pid() { pgrep -P "$FOGD_PID" -x fogd-symhelper | head -1; }
cpu_s() { awk -v t="$1" -v k="$TCK" 'BEGIN { printf "%.3f", t / k }'; }
# "run_time_ns run_cnt" summed over the programs named $1 (continuous mode keeps two loaded)
prog_stats() {
	bpftool -j prog show 2>/dev/null | jq -r --arg n "$1" \
		'[.[] | select(.name == $n)] | "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

sysctl -qw kernel.bpf_stats_enabled=1
fogd_up
"$PROG" cpu $((6 * SECS + 2 * CONT + 60)) >"$DIR/w.out" &
W=$!
sleep 1
echo "unwind cost, $(date -u +%F), workload unwind_chain cpu (pid $W), ${SECS} s profiles at 99 Hz"

# fogd's own CPU over as long with no profile: subtracted below
f0=$(ticks "$FOGD_PID"); sleep "$SECS"; idle=$(( $(ticks "$FOGD_PID") - f0 ))

profile() {	# LABEL [fogctl args]: one profile; prints the figures
	local label=$1 f h0 h1 hp st samples bpf
	shift
	f=$(ticks "$FOGD_PID"); hp=$(helper_pid); h0=$( [ -n "$hp" ] && ticks "$hp" || echo 0)
	"$FOGCTL" --socket "$SOCK" profile -p "$W" -d "${SECS}s" --no-kernel "$@" \
		-o "$DIR/$label.folded" 2>/dev/null &
	local c=$!
	sleep $((SECS - 1))
	st=$(prog_stats handle_cpu_sample)
	wait "$c"
	hp=${hp:-$(helper_pid)}
	h1=$( [ -n "$hp" ] && ticks "$hp" || echo 0)
	f=$(( $(ticks "$FOGD_PID") - f + h1 - h0 - idle ))
	[ "$f" -lt 0 ] && f=0
	samples=$(awk '{ s += $NF } END { print s + 0 }' "$DIR/$label.folded")
	bpf=$(echo "$st" | awk '{ printf "%.0f", $2 ? $1 / $2 : 0 }')
	awk -v l="$label" -v s="$samples" -v b="$bpf" -v t="$f" -v k="$TCK" 'BEGIN {
		printf "  %-22s %5d samples  BPF %6d ns/sample  fogd+helper CPU %7.1f us/sample\n",
			l, s, b, s ? 1e6 * t / k / s : 0 }'
}
profile "fogd, frame pointers" --no-unwind
profile "fogd, DWARF unwinding"
profile "fogd, DWARF (again)"

# perf: recording (copies 8 KiB of stack per sample) and unwinding (perf script)
TIMEFORMAT='%U %S'
rec=$( { time perf record -q -F 99 -e cpu-clock --call-graph dwarf -p "$W" -o "$DIR/perf.data" \
	-- sleep "$SECS" >/dev/null 2>&1; } 2>&1 | tail -1)
scr=$( { time perf script -i "$DIR/perf.data" -F comm,ip,sym >"$DIR/perf.txt" 2>/dev/null; } 2>&1 | tail -1)
ps=$(grep -c '^[^ 	]' "$DIR/perf.txt" || true)
awk -v r="$rec" -v c="$scr" -v s="$ps" 'BEGIN { split(r, a, " "); split(c, b, " ")
	printf "  %-22s %5d samples  record %7.1f us/sample  + script (unwinding) %7.1f us/sample\n",
		"perf --call-graph dwarf", s, s ? 1e6 * (a[1] + a[2]) / s : 0, s ? 1e6 * (b[1] + b[2]) / s : 0 }'
kill "$W" 2>/dev/null; W=

# CPython frames: the same profile of a python3 loop (helpers/py_frames.py) without and with
# the interpreter walk (up to 64 frames read in BPF, code objects read and named in fogd)
PY=${UNWIND_BENCH_PYTHON:-/usr/bin/python3}
if [ -x "$PY" ]; then
	"$PY" tests/integration/helpers/py_frames.py $((2 * SECS + 20)) >"$DIR/py.out" &
	W=$!
	sleep 1
	echo "  CPython ($PY, pid $W):"
	profile "python, --no-python" --no-python
	profile "python, py: frames"
	py=$(awk '/py:hot/ { s += $NF } { t += $NF } END { printf "%d", t ? 100 * s / t : 0 }' 		"$DIR/python, py: frames.folded")
	echo "  (py:hot named in $py% of the samples with frames)"
	kill "$W" 2>/dev/null; W=
fi
fogd_down

# continuous mode, the whole host at 19 Hz: fogd's CPU over fogd without it, with unwinding
# off ([profile] unwind = off, frame pointers) and on
ncpu=$(nproc)
"$PROG" cpu $((3 * CONT + 60)) >/dev/null &
W=$!
fogd_up
sleep 2
f0=$(ticks "$FOGD_PID"); sleep "$CONT"; base=$(( $(ticks "$FOGD_PID") - f0 ))
fogd_down
continuous() {	# on|off
	fogd_up -o profile.continuous=on -o profile.unwind="$1" -o profile.directory="$DIR/cont-$1"
	sleep 2
	local hp h0 h1 s0 s1 f0 f1
	hp=$(helper_pid); h0=$( [ -n "$hp" ] && ticks "$hp" || echo 0)
	s0=$(prog_stats handle_cpu_sample); f0=$(ticks "$FOGD_PID")
	sleep "$CONT"
	s1=$(prog_stats handle_cpu_sample); f1=$(ticks "$FOGD_PID")
	hp=${hp:-$(helper_pid)}; h1=$( [ -n "$hp" ] && ticks "$hp" || echo 0)
	awk -v u="$1" -v a="$s0" -v b="$s1" -v f="$((f1 - f0 + h1 - h0 - base))" -v k="$TCK" \
		-v n="$ncpu" -v t="$CONT" 'BEGIN {
		split(a, x, " "); split(b, y, " "); bpf = (y[1] - x[1]) / 1e9; runs = y[2] - x[2]
		if (f < 0) f = 0
		printf "  continuous 19 Hz, unwind=%-3s %d CPUs, %d s: %d samples, BPF %.3f s (%.0f ns each) + fogd+helper %.3f s over idle fogd = %.3f%% of the host\n",
			u, n, t, runs, bpf, runs ? 1e9 * bpf / runs : 0, f / k, 100 * (bpf + f / k) / (n * t) }'
	fogd_down
}
continuous off
continuous on
kill "$W" 2>/dev/null; W=
