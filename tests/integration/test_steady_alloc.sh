#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# After warm-up, fogd's steady-state collection performs no heap allocation: every
# allocation of the process is counted by an LD_PRELOAD shim over a minute of load
# (context switches, page faults, block I/O, loopback traffic) from a fixed set of
# processes, with every collector running and nobody querying fogd.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
SHIM="$OUTPUT/tests/preload/malloc_count.so"
[ -f "$SHIM" ] || t_fail "$SHIM is not built"
# ASan replaces malloc itself and must come first: the counter measures the plain build
if nm -D "$FOGD" 2>/dev/null | grep -q __asan_init || nm "$FOGD" 2>/dev/null | grep -q __asan_init; then
	t_skip "fogd is built with AddressSanitizer, whose allocator the counter cannot sit under"
fi
WINDOW=${STEADY_SECONDS:-60}

# the load first: its processes are there before fogd's warm-up ends
stress-ng --switch 1 --fault 1 --hdd 1 --hdd-bytes 16M --sock 1 --timeout $((WINDOW + 40)) \
	>/dev/null 2>&1 &
load=$!
# and 200 processes that wake twice a second, so the tables fogd sorts each tick hold more
# than a host of this kind may run (glibc's qsort allocates for arrays over 1 KiB)
wakers=
for _ in {1..200}; do
	perl -e 'while (1) { select(undef, undef, undef, 0.5) }' </dev/null >/dev/null 2>&1 &
	wakers="$wakers $!"
done
T_CLEANUP_EXTRA="kill $load $wakers 2>/dev/null"
sleep 3

COUNTS="$T_DIR/counts"
FOG_MALLOC_COUNT_FILE="$COUNTS" LD_PRELOAD="$SHIM" fogd_start -o monitor.enabled=off
for c in cpu schedlat mem io net; do t_require_collector "$c"; done

counts() {
	rm -f "$COUNTS"
	kill -USR2 "$FOGD_PID"
	t_wait_for 30 "fogd wrote its allocation counts after SIGUSR2" test -s "$COUNTS"
	cat "$COUNTS"
}
sleep 10 # warm-up: tables reach their working size
before=$(counts) || t_fail "no allocation counts from fogd (before the window)"
sleep "$WINDOW"
after=$(counts) || t_fail "no allocation counts from fogd (after the window)"
t_log "before: $before"
t_log "after:  $after"
[ -n "$before" ] && [ -n "$after" ] || t_fail "the allocation counter did not answer"
ticks=$(api /api/v1/status | jq .ticks)
[ "$ticks" -ge "$WINDOW" ] || t_fail "only $ticks ticks: collection did not run steadily"
[ "$before" = "$after" ] || t_fail "fogd allocated during steady-state collection: $before -> $after"
fogd_stop
