#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make soak: fogd under mixed load for SOAK_MINUTES (default 30): stress-ng (CPU, context
# switches, memory, forks), fio (random reads and writes, rate-limited), perf bench sched
# messaging in a loop (hackbench: process churn), and every 10 s the API in use (/metrics,
# status, processes, events, a task run by the placement engine; a 2 s host profile each
# minute of the warm-up and then every 5 minutes). Every SOAK_INTERVAL_S (default 60) it samples fogd's RSS and
# open fd count (the fewest of 3 reads 1 s apart: a scrape or profile in flight holds some).
# The warm-up is the first SOAK_WARMUP_MINUTES (default: a sixth of the run, at least 1).
# fogd's process table is allocated up front but its pages are touched as pids hash into
# them, and the profiler caches the symbols of what it saw (and keeps the last finished
# profiles): so the warm-up also churns through many pids (hackbench) and profiles the host
# each minute, letting both reach their working size. The largest RSS and fd count seen in the warm-up are the
# baseline, and the soak fails when a later sample exceeds it by more than
# SOAK_RSS_MARGIN_KB (default 4096) or SOAK_FD_MARGIN (default 2).
# It also fails when fogd dies, stops answering, stops ticking, or does not exit cleanly.
# Samples go to SOAK_CSV (default $OUTPUT/soak.csv). Loopback and private folders only.
set -eu
cd "$(dirname "$0")/.."
: "${OUTPUT:=build}"
MINUTES=${SOAK_MINUTES:-30}
INTERVAL=${SOAK_INTERVAL_S:-60}
WARMUP=${SOAK_WARMUP_MINUTES:-$((MINUTES / 6 > 0 ? MINUTES / 6 : 1))}
RSS_MARGIN=${SOAK_RSS_MARGIN_KB:-4096}
FD_MARGIN=${SOAK_FD_MARGIN:-2}
CSV=${SOAK_CSV:-$OUTPUT/soak.csv}
FOGD="$OUTPUT/fogd"
DIR=$(mktemp -d /tmp/fogd-soak.XXXXXX)
SOCK="$DIR/fogd.sock"
PINS="/sys/fs/bpf/fogd-soak-$$"
FOGD_PID=
LOADS=()

cleanup() {
	local p
	for p in "${LOADS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait "${LOADS[@]}" 2>/dev/null || true
	if [ -n "$FOGD_PID" ] && kill -0 "$FOGD_PID" 2>/dev/null; then
		kill -TERM "$FOGD_PID"
		wait "$FOGD_PID" 2>/dev/null || true
	fi
	rm -rf "$DIR" "$PINS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "soak: FAIL: $*" >&2
	[ -s "$DIR/fogd.log" ] && tail -n 20 "$DIR/fogd.log" | sed 's/^/  | /' >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || { echo "soak: needs root (loads BPF programs)" >&2; exit 1; }
[ -x "$FOGD" ] || { echo "soak: $FOGD not built" >&2; exit 1; }
for c in stress-ng fio perf curl jq; do
	command -v "$c" >/dev/null || { echo "soak: needs $c (make deps)" >&2; exit 1; }
done
[ "$WARMUP" -lt "$MINUTES" ] || { echo "soak: SOAK_MINUTES must exceed the warm-up ($WARMUP)" >&2; exit 1; }

api() { curl -sf --max-time 30 --unix-socket "$SOCK" "http://localhost$1"; }
api_post() { curl -sf --max-time 30 --unix-socket "$SOCK" -X POST -d "$2" "http://localhost$1"; }

"$FOGD" -o fogd.socket="$SOCK" -o fogd.pin_path="$PINS" -o http.listen=off >"$DIR/fogd.log" 2>&1 &
FOGD_PID=$!
for _ in $(seq 1 100); do api /api/v1/status >/dev/null 2>&1 && break; sleep 0.1; done
api /api/v1/status >/dev/null 2>&1 || die "fogd did not start"
echo "soak: fogd $FOGD_PID, $MINUTES min, sample every $INTERVAL s, warm-up $WARMUP min," \
	"margins RSS +$RSS_MARGIN kB, fds +$FD_MARGIN; $(api /api/v1/status |
	jq -r '[.collectors[] | select(.state == "running") | .name] | join(" ")') running"

# the mixed load, all of it ending with the soak (killed by cleanup otherwise)
secs=$((MINUTES * 60 + 30))
stress-ng --cpu 1 --cpu-load 40 --switch 1 --vm 1 --vm-bytes 64M --fork 1 \
	--timeout "$secs" >/dev/null 2>&1 &
LOADS+=($!)
fio --name=fogd-soak --directory="$DIR" --size=64M --rw=randrw --bs=4k --direct=1 \
	--ioengine=libaio --iodepth=4 --rate_iops=500,500 --time_based --runtime="$secs" \
	>/dev/null 2>&1 &
LOADS+=($!)
(while :; do perf bench sched messaging -g 2 -l 200 >/dev/null 2>&1; sleep 5; done) &
LOADS+=($!)
# warm-up pid churn: 160 short-lived processes a run, until 30 s before the warm-up ends
# (10 groups, 400 processes, starved fogd for over 10 s on a shared 2-CPU host)
(
	end=$((SECONDS + WARMUP * 60 - 30))
	while [ "$SECONDS" -lt "$end" ]; do
		perf bench sched messaging -g 4 -l 20 >/dev/null 2>&1 || sleep 1
		sleep 0.2
	done
) &
LOADS+=($!)
# the API in use: what a Prometheus scrape and an operator do, and the placement engine
(
	i=0
	while :; do
		api /api/v1/status >/dev/null || true
		api /api/v1/processes >/dev/null || true
		api /api/v1/events >/dev/null || true
		api /metrics >/dev/null || true
		api_post /api/v1/sched/tasks "{\"id\":\"soak-$i\",\"cpu_cores\":0.1,\"memory_mb\":16,\"command\":\"sleep 0.2\"}" \
			>/dev/null || true
		# a host profile each minute of the warm-up (the symbol cache meets the
		# host's programs), then every 5 minutes
		if [ $((i % 30)) -eq 1 ] || { [ $((i % 6)) -eq 1 ] &&
			[ "$SECONDS" -lt $((WARMUP * 60 - 20)) ]; }; then
			api_post /api/v1/profile '{"all": true, "seconds": 2}' >/dev/null || true
		fi
		i=$((i + 1))
		sleep 10
	done
) >/dev/null 2>&1 &
LOADS+=($!)

# sets rss (kB), fds and ticks
sample() {
	kill -0 "$FOGD_PID" 2>/dev/null || die "fogd died"
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$FOGD_PID/status")
	fds=
	for _ in 1 2 3; do
		n=$(ls "/proc/$FOGD_PID/fd" | wc -l)
		[ -z "$fds" ] || [ "$n" -lt "$fds" ] && fds=$n
		sleep 1
	done
	ticks=$(api /api/v1/status | jq -e '.ticks') && [ -n "$ticks" ] ||
		die "fogd did not answer /api/v1/status within 30 s (state $(awk '{ print $3 }' \
			"/proc/$FOGD_PID/stat") $(cat "/proc/$FOGD_PID/wchan"), loadavg $(cut -d' ' -f1-3 \
			/proc/loadavg))"
}

echo "minute,rss_kb,fds,ticks,events_received,events_dropped,tasks_completed" >"$CSV"
base_rss=0 base_fds=0 last_ticks=0 fail=
printf 'soak: %6s %9s %5s %7s\n' minute rss_kB fds ticks
first_rss=
for m in $(seq 1 "$MINUTES"); do
	sleep $((INTERVAL > 3 ? INTERVAL - 3 : 0))
	sample
	[ "$ticks" -gt "$last_ticks" ] || die "fogd stopped ticking ($last_ticks -> $ticks)"
	last_ticks=$ticks
	extra=$(api /api/v1/status | jq -r '"\(.events.received),\(.events.dropped)"'),$(api /api/v1/sched/stats | jq .completed)
	echo "$m,$rss,$fds,$ticks,$extra" >>"$CSV"
	if [ "$m" -le "$WARMUP" ]; then
		[ "$rss" -gt "$base_rss" ] && base_rss=$rss
		[ "$fds" -gt "$base_fds" ] && base_fds=$fds
		printf 'soak: %6s %9s %5s %7s  (warm-up)\n' "$m" "$rss" "$fds" "$ticks"
		continue
	fi
	[ -n "$first_rss" ] || first_rss=$rss first_m=$m
	note=
	if [ "$rss" -gt $((base_rss + RSS_MARGIN)) ]; then
		note="RSS above $base_rss + $RSS_MARGIN kB"
		fail=1
	fi
	if [ "$fds" -gt $((base_fds + FD_MARGIN)) ]; then
		note="$note${note:+, }fds above $base_fds + $FD_MARGIN"
		fail=1
	fi
	printf 'soak: %6s %9s %5s %7s  %+d kB, %+d fds vs warm-up %s\n' "$m" "$rss" "$fds" "$ticks" \
		$((rss - base_rss)) $((fds - base_fds)) "$note"
done

[ "$m" -gt "${first_m:-$m}" ] && echo "soak: after the warm-up RSS moved $((rss - first_rss)) kB" \
	"from minute $first_m to $m ($(((rss - first_rss) / (m - first_m))) kB a minute)"
for p in "${LOADS[@]}"; do kill "$p" 2>/dev/null || true; done
wait "${LOADS[@]}" 2>/dev/null || true
LOADS=()
st=$(api /api/v1/sched/stats)
echo "soak: placement engine: $(jq -c '{submitted, completed, failed, rejected, pending, active}' <<<"$st")"
echo "soak: events: $(api /api/v1/status | jq -c '.events | del(.events, .counts)')"
rc=0
kill -TERM "$FOGD_PID"
wait "$FOGD_PID" || rc=$?
FOGD_PID=
[ "$rc" -eq 0 ] || die "fogd exited with status $rc after SIGTERM"
[ ! -e "$PINS" ] || die "pins left behind in $PINS"
grep -E ' (warn|error): ' "$DIR/fogd.log" | grep -v 'alert \|oom kill' | sort | uniq -c |
	sort -rn | head -n 5 | sed 's/^/soak: log: /' || true
[ -z "$fail" ] || die "fogd grew beyond its warm-up (samples in $CSV)"
echo "soak: ok: $MINUTES min, RSS and fds within the margins of the warm-up (samples in $CSV)"
