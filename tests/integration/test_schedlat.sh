#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Two CPU-bound threads pinned to one CPU wait for each other: their run-queue
# latency p99 is at least 1 ms, the waits fogd summed for the process match the
# kernel's own run_delay of its threads, and the host-wide histogram saw them too.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
fogd_start -o schedlat.outlier_us=2000 -o fogd.event_log_size=200000
t_require_collector schedlat

"$HELPERS/runq_pair" 3 0 >"$T_DIR/pair.out" &
pair=$!
T_CLEANUP_EXTRA="kill $pair 2>/dev/null"
t_wait_for 60 "runq_pair finished its busy phase" test -s "$T_DIR/pair.out"
sleep 1.5
j=$(api "/api/v1/processes/$pair") || t_fail "process $pair not tracked"
p99=$(jq -r '.runq.p99_seconds' <<<"$j")
n=$(jq -r '.runq.count' <<<"$j")
sum=$(jq -r '.runq.sum_seconds' <<<"$j")
kernel=$(awk '{ printf "%.6f", $2 / 1e9 }' "$T_DIR/pair.out")
t_log "runq waits $n, p99 $p99 s, sum $sum s; the kernel's run_delay of its threads $kernel s"
# the threads read run_delay just before they exit: fogd may see one more wait each
# (a time slice, a few ms; more on a loaded host), so 10% and 50 ms of slack
awk -v f="$sum" -v k="$kernel" 'BEGIN { d = f - k; if (d < 0) d = -d; exit !(k > 0.5 && d <= 0.1 * k + 0.05) }' ||
	t_fail "fogd summed $sum s of run-queue waits for $pair, the kernel $kernel s"
[ "$n" -ge 10 ] || t_fail "only $n run-queue waits recorded for the pinned pair"
awk -v p="$p99" 'BEGIN { exit !(p >= 0.001) }' || t_fail "runq p99 $p99 s is below 1 ms"
host=$(api /api/v1/schedlat | jq -r '.host.count')
[ "$host" -ge "$n" ] || t_fail "host histogram ($host) holds fewer waits than one process ($n)"
# waits over the 2 ms threshold arrived as outlier events for this pid
ev=$(api "/api/v1/events?type=runq_outlier&pid=$pair&limit=100" | jq --argjson p "$pair" '[.events[] | select(.pid == $p)] | length')
[ "$ev" -ge 1 ] || t_fail "no runq_outlier events for $pair"
fogd_stop
