#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# BPF run time per event of fogd beside the tools an operator would run instead, in
# one run on the same host: kernel.bpf_stats_enabled=1, each tool started alone, the
# same workload, the run time and run count of the programs that tool holds (found
# through /proc/PID/fdinfo, so that other BPF users on the host are not counted).
#   per switch: programs on sched_switch and sched_wakeup*, over sched_switch's runs
#   per I/O:    programs on block_*, over block_rq_complete's runs
# Anchors (runqlat, biolatency, floor) come from $ANCHORS, else ../shared/anchors, else
# /work/shared/anchors; without them fogd's own figures are printed and the run goes on.
# Noisy-neighbour attribution (schedlat.neighbours) is measured on the switch workloads as
# fogd-nbr-off and fogd-nbr-last beside fogd (the default, proportional): what charging each
# wait to its culprits adds per context switch.
# usage: bpf_cost.sh FOGD REPEATS [pipe] [messaging] [fio]   (env FIO_FILE for fio)
set -u
FOGD=$1
REPS=$2
shift 2
DIR=$(mktemp -d /tmp/fogd-bpfcost.XXXXXX)
FIO_FILE=${FIO_FILE:-/var/tmp/fogd-bench-fio.dat}
ANCH=
for d in "${ANCHORS:-}" ../shared/anchors /work/shared/anchors; do
	[ -n "$d" ] && [ -x "$d/runqlat" ] && [ -x "$d/biolatency" ] && { ANCH=$d; break; }
done
TOOL_PID=
old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
	[ -n "$TOOL_PID" ] && kill -INT "$TOOL_PID" 2>/dev/null && wait "$TOOL_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$old_stats" 2>/dev/null || true
	rm -rf "$DIR" "/sys/fs/bpf/fogd-bpfcost-$$"
}
trap cleanup EXIT

workload() {
	case $1 in
	pipe) taskset -c 1 perf bench sched pipe -l 200000 >/dev/null 2>&1 ;;
	messaging) perf bench sched messaging -g 10 -l 400 >/dev/null 2>&1 ;;
	fio) fio --name=fogd-bpfcost --filename="$FIO_FILE" --size=256M --rw=randread --bs=4k \
		--direct=1 --ioengine=libaio --iodepth=16 --runtime=6 --time_based >/dev/null 2>&1 ;;
	esac
}

start_tool() {
	local nbr=()
	case $1 in
	fogd*)
		# fogd-nbr-MODE: fogd with schedlat.neighbours=MODE (fogd alone: the default)
		[ "$1" != fogd ] && nbr=(-o schedlat.neighbours="${1#fogd-nbr-}")
		"$FOGD" -o fogd.socket="$DIR/fogd.sock" -o fogd.pin_path="/sys/fs/bpf/fogd-bpfcost-$$" \
			-o http.listen=off -o monitor.profile_on=off "${nbr[@]}" >"$DIR/fogd.log" 2>&1 &
		TOOL_PID=$!
		for _ in $(seq 1 100); do
			curl -sf --max-time 2 --unix-socket "$DIR/fogd.sock" http://localhost/api/v1/status \
				>/dev/null 2>&1 && break
			sleep 0.1
		done
		sleep 1 ;;
	*)
		"$ANCH/$1" >/dev/null 2>&1 &
		TOOL_PID=$!
		sleep 2 ;;
	esac
}

stop_tool() {
	kill -INT "$TOOL_PID" 2>/dev/null
	wait "$TOOL_PID" 2>/dev/null
	TOOL_PID=
	sleep 0.3
}

# "name run_time_ns run_cnt" of every program the tool's process holds
snapshot() {
	local id
	for id in $(grep -h '^prog_id:' /proc/"$TOOL_PID"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -u); do
		bpftool prog show id "$id" -j 2>/dev/null |
			jq -r '"\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
	done
}

# One run: prints "total_ns switch_ns switches io_ns ios"
one() {
	local wl=$1 tool=$2
	start_tool "$tool"
	snapshot >"$DIR/before"
	workload "$wl"
	snapshot >"$DIR/after"
	stop_tool
	awk 'NR == FNR { t[$1] = $3; c[$1] = $4; next }
		($1 in t) { dt = $3 - t[$1]; dc = $4 - c[$1]; total += dt
			if ($2 ~ /switch|wakeup/) { sw += dt; if ($2 ~ /switch/ && dc > nsw) nsw = dc }
			if ($2 ~ /block|floor_issue|floor_complete/) { io += dt; if ($2 ~ /complete/ && dc > nio) nio = dc } }
		END { printf "%d %d %d %d %d\n", total, sw, nsw, io, nio }' "$DIR/before" "$DIR/after"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

sysctl -qw kernel.bpf_stats_enabled=1
if [ -z "$ANCH" ]; then
	echo "anchors (runqlat, biolatency, floor) not found in ../shared/anchors or /work/shared/anchors:"
	echo "fogd's own figures only, no ratio"
fi
printf '%-10s %-11s %10s %16s %14s\n' workload tool "BPF ms" "ns per switch" "ns per I/O"
for wl in "$@"; do
	if [ "$wl" = fio ] && ! command -v fio >/dev/null; then
		echo "fio        (fio not installed: skipped)"
		continue
	fi
	tools=fogd
	[ "$wl" != fio ] && tools="fogd fogd-nbr-off fogd-nbr-last"
	if [ -n "$ANCH" ]; then
		case $wl in
		fio) tools="floor biolatency fogd" ;;
		*) tools="floor runqlat $tools" ;;
		esac
	fi
	# rounds: each runs every tool once, so that a ratio compares runs under the same
	# conditions (the messaging load switches 40,000 to 800,000 times a run on a busy host)
	for tool in $tools; do : >"$DIR/runs.$tool"; done
	for _ in $(seq 1 "$REPS"); do
		for tool in $tools; do one "$wl" "$tool" >>"$DIR/runs.$tool"; done
	done
	for tool in $tools; do
		ms=$(awk '{ print $1 / 1e6 }' "$DIR/runs.$tool" | median)
		sw=$(awk '$3 > 0 { print $2 / $3 }' "$DIR/runs.$tool" | median)
		io=$(awk '$5 > 0 { print $4 / $5 }' "$DIR/runs.$tool" | median)
		printf '%-10s %-11s %10.1f %16s %14s\n' "$wl" "$tool" "$ms" "${sw:+$(printf %.0f "$sw")}" \
			"${io:+$(printf %.0f "$io")}"
	done
	if [ "$wl" != fio ]; then
		# per round: what attribution adds per switch over fogd without it
		for m in proportional last; do
			f=$DIR/runs.fogd
			[ $m = last ] && f=$DIR/runs.fogd-nbr-last
			paste -d' ' "$f" "$DIR/runs.fogd-nbr-off" | awk -v wl="$wl" -v m="$m" '
				$3 > 0 && $8 > 0 { print wl, "nbr-" m, $2 / $3 - $7 / $8 }' >>"$DIR/ratios"
		done
	fi
	[ -n "$ANCH" ] || continue
	anchor=runqlat
	[ "$wl" = fio ] && anchor=biolatency
	# per round: fogd's figure over the anchor's; the median of those
	paste -d' ' "$DIR/runs.fogd" "$DIR/runs.$anchor" | awk -v wl="$wl" '{
		if ($3 > 0 && $8 > 0 && $7 > 0) print wl, "sw", ($2 / $3) / ($7 / $8)
		if ($5 > 0 && $10 > 0 && $9 > 0) print wl, "io", ($4 / $5) / ($9 / $10)
		if ($6 > 0) print wl, "ms", $1 / $6 }' >>"$DIR/ratios"
done
echo "neighbour attribution, ns per switch over schedlat.neighbours=off (median of the rounds):"
for wl in pipe messaging; do
	for m in proportional last; do
		r=$(awk -v w="$wl" -v k="nbr-$m" '$1 == w && $2 == k { print $3 }' "$DIR/ratios" 2>/dev/null | median)
		[ -n "$r" ] && printf '  %-10s %-13s %+.0f ns  (rounds: %s)\n' "$wl" "$m" "$r" \
			"$(awk -v w="$wl" -v k="nbr-$m" '$1 == w && $2 == k { printf "%+.0f ", $3 }' "$DIR/ratios")"
	done
done
if [ -n "$ANCH" ]; then
	echo "fogd / anchor, median of the rounds' ratios (budget <= 0.5 per event; messaging BPF ms < 1):"
	for key in "pipe sw per switch" "messaging sw per switch" "messaging ms BPF ms" "fio io per I/O"; do
		set -- $key
		r=$(awk -v w="$1" -v k="$2" '$1 == w && $2 == k { print $3 }' "$DIR/ratios" 2>/dev/null | median)
		[ -n "$r" ] && printf '  %-10s %-10s %.2f  (rounds: %s)\n' "$1" "$3 $4" "$r" \
			"$(awk -v w="$1" -v k="$2" '$1 == w && $2 == k { printf "%.2f ", $3 }' "$DIR/ratios")"
	done
fi
