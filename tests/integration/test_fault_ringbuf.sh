#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A ring-buffer flood beyond the consumer's pace: with schedlat.outlier_us=1 every run-queue
# wait is an event, and a context-switch storm (stress-ng --switch, else perf bench sched
# messaging) produces far more than fogd drains. The drops are counted and agree in
# /api/v1/events, /api/v1/status and fog_ringbuf_drops_total on /metrics; the API answers
# within a bound all along; the tick keeps its pace; RSS stays bounded; and figures read
# before the flood (a process the test runs, the run-queue histogram, events consumed) are
# still there afterwards and still growing.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
FLOOD_S=12
# worst single answer during the flood (every CPU saturated by the storm): a consumer that
# drained without bound would hold the loop for the whole 12 s flood; load alone, seconds
API_BOUND_S=5
RSS_MARGIN_KB=$((8 * 1024))

port=$(t_free_port)
fogd_start -o schedlat.outlier_us=1 -o fogd.tick_ms=500 -o http.listen="127.0.0.1:$port"
t_require_collector schedlat
t_require_collector cpu
metric() {
	curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# a process of the test's own that switches voluntarily all along: its figure must survive
bash -c 'while :; do sleep 0.05; done' &
marker=$!
T_CLEANUP_EXTRA="kill $marker 2>/dev/null; [ -n \"\${load:-}\" ] && kill \$load 2>/dev/null"
t_wait_json "/api/v1/processes/$marker" '.nvcsw > 0' 10 ||
	t_fail "marker process $marker not tracked: $(api "/api/v1/processes/$marker")"
# the marker's voluntary switches, read until an answer comes (the code is logged if none)
nvcsw() {
	local v
	for _ in 1 2 3 4 5; do
		v=$(api "/api/v1/processes/$marker" | jq -e '.nvcsw') && [ -n "$v" ] &&
			{ echo "$v"; return 0; }
		t_log "GET /api/v1/processes/$marker: $(curl -s -o /dev/null -w '%{http_code}' \
			--max-time 5 --unix-socket "$FOG_SOCK" \
			"http://localhost/api/v1/processes/$marker")"
		sleep 0.5
	done
	return 1
}
sw0=$(nvcsw) || t_fail "marker process $marker not readable"
runq0=$(api /api/v1/schedlat | jq '.host.count')
ev0=$(api /api/v1/events | jq -c '{received, dropped}')
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$FOGD_PID/status")
ticks0=$(api /api/v1/status | jq '.ticks')
t_log "before: marker nvcsw $sw0, runq count $runq0, events $ev0, RSS $rss0 kB, tick $ticks0"

if command -v stress-ng >/dev/null; then
	# more switching pairs than CPUs, so fogd's consumer gets only a share of a CPU
	stress-ng --switch $((4 * $(nproc))) --timeout "$FLOOD_S" >/dev/null 2>&1 &
else
	timeout "$FLOOD_S" perf bench sched messaging -g 4 -l 1000000 >/dev/null 2>&1 &
fi
load=$!
start=$SECONDS
worst=0
worst_path=
answers=0
# Times one answer; keeps the slowest and its path.
timed() {
	local path=$1 t
	shift
	t=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 10 "$@" 2>&1) ||
		t_fail "$path did not answer during the flood: $t ($(fogd_state))"
	if awk -v a="$worst" -v b="$t" 'BEGIN { exit !(b > a) }'; then
		worst=$t
		worst_path=$path
	fi
	answers=$((answers + 1))
}
while kill -0 "$load" 2>/dev/null; do
	for path in /api/v1/status /api/v1/events; do
		timed "$path" --unix-socket "$FOG_SOCK" "http://localhost$path"
	done
	timed /metrics "http://127.0.0.1:$port/metrics"
	sleep 0.5
done
wait "$load"
load=
elapsed=$((SECONDS - start))
kill -0 "$FOGD_PID" || t_fail "fogd died during the flood"
# what held fogd's loop longest (each ring buffer source is bounded per wake-up)
loop=$(api /api/v1/status | jq -c '.loop')
t_log "flood: $elapsed s, $answers answers, slowest $worst s on $worst_path (bound $API_BOUND_S s); loop $loop"
awk -v w="$worst" -v b="$API_BOUND_S" 'BEGIN { exit !(w <= b) }' ||
	t_fail "$worst_path took $worst s during the flood (bound $API_BOUND_S s); loop $loop"

ev1=$(api /api/v1/events | jq -c '{received, dropped}')
st_drop=$(api /api/v1/status | jq '.events.dropped')
m_drop=$(metric fog_ringbuf_drops_total)
t_log "after: events $ev1, status dropped $st_drop, /metrics fog_ringbuf_drops_total $m_drop"
d0=$(jq .dropped <<<"$ev0")
d1=$(jq .dropped <<<"$ev1")
# the storm makes hundreds of thousands of switches a second, each an event; the 256 KiB
# buffer holds a few thousand and fogd's consumer runs on a fraction of a CPU
[ "$d1" -gt $((d0 + 1000)) ] || t_fail "no drops counted under the flood: $ev0 -> $ev1"
# read in this order, each figure can only have grown since the previous one
[ "$st_drop" -ge "$d1" ] || t_fail "status says $st_drop dropped, /api/v1/events said $d1"
[ -n "$m_drop" ] || t_fail "no fog_ringbuf_drops_total on /metrics"
awk -v m="$m_drop" -v s="$st_drop" 'BEGIN { exit !(m >= s) }' ||
	t_fail "/metrics says $m_drop dropped, status said $st_drop"
[ "$(jq .received <<<"$ev1")" -gt "$(jq .received <<<"$ev0")" ] ||
	t_fail "fogd consumed nothing during the flood: $ev0 -> $ev1"

# the tick kept its pace (500 ms) while the ring buffer overflowed
ticks1=$(api /api/v1/status | jq '.ticks')
# (at least a third of them: a consumer holding the loop for the flood would lose nearly all)
[ $((ticks1 - ticks0)) -ge $((elapsed * 2 / 3)) ] ||
	t_fail "only $((ticks1 - ticks0)) ticks in $elapsed s at 500 ms"

# nothing collected before the flood is lost, and collection goes on afterwards
sleep 1
runq1=$(api /api/v1/schedlat | jq '.host.count')
[ "$runq1" -gt "$runq0" ] || t_fail "run-queue count went from $runq0 to $runq1"
sw1=$(nvcsw) || t_fail "marker process lost after the flood"
[ "$sw1" -gt "$sw0" ] || t_fail "marker nvcsw went from $sw0 to $sw1"
ev2=$(api /api/v1/events | jq '.received')
sleep 1
[ "$(api /api/v1/events | jq '.received')" -gt "$ev2" ] ||
	t_fail "no events consumed after the flood"

rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$FOGD_PID/status")
t_log "RSS $rss0 kB -> $rss1 kB (margin $RSS_MARGIN_KB kB)"
# ASan keeps freed memory in its quarantine (up to 256 MiB): RSS says nothing there
if nm "$FOGD" 2>/dev/null | grep -q __asan_init; then
	t_log "sanitizer build: RSS bound not checked (ASan's quarantine holds freed memory)"
else
	[ "$rss1" -le $((rss0 + RSS_MARGIN_KB)) ] || t_fail "RSS grew from $rss0 kB to $rss1 kB"
fi
fogd_stop
