#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Alertmanager and webhook endpoints that hang (hang_server: accepts, reads, never answers)
# or refuse (a closed port), each way round: with a CPU alert firing at once, fogd's tick
# keeps its pace, the API answers fast, the posts are retried (the monitor's stats and the log
# name each URL, the hanging server sees the connections), what the monitor observed before
# is still there and growing, and SIGTERM waits for a hung post no longer than its 3 s grace.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v stress-ng >/dev/null || t_fail "stress-ng is not installed (tools/install-deps.sh)"
HANG="$HELPERS/hang_server"
[ -x "$HANG" ] || t_fail "$HANG not built"
WATCH_S=13	# a hung post times out after 5 s: two attempts at least
# bounds against the fault's own time scale, not the host's speed: an answer or a tick held by
# a hung post would wait for its 5 s timeout; load alone has made answers take over 1 s here
API_BOUND_S=4

"$HANG" >"$T_DIR/hang.out" 2>&1 &
hang=$!
stress-ng --cpu 1 --cpu-load 30 --timeout 120 >/dev/null 2>&1 &
load=$!
T_CLEANUP_EXTRA="kill $hang $load 2>/dev/null"
t_wait_for 30 "hang_server printed its port" grep -q '^port ' "$T_DIR/hang.out"
hport=$(awk '/^port / { print $2 }' "$T_DIR/hang.out")
[ -n "$hport" ] || t_fail "hang_server did not start: $(cat "$T_DIR/hang.out")"
rport=$(t_free_port)
curl -s --max-time 2 "http://127.0.0.1:$rport/" >/dev/null 2>&1 &&
	t_fail "port $rport was supposed to be closed"

# one round: $1 gets the hanging server, $2 the closed port
round() {
	local am_url wh_url hung refused ticks0 obs0 t0 worst=0 t n el ticks1 stats accepted
	if [ "$1" = alertmanager ]; then
		am_url="http://127.0.0.1:$hport" wh_url="http://127.0.0.1:$rport"
	else
		am_url="http://127.0.0.1:$rport" wh_url="http://127.0.0.1:$hport"
	fi
	hung=$1 refused=$2
	accepted=$(grep -c '^accepted' "$T_DIR/hang.out")
	fogd_start -o monitor.alertmanager="$am_url" -o monitor.webhook="$wh_url" \
		-o monitor.cpu_warning=0.01 -o monitor.for_s=0 -o monitor.alertmanager_resend_s=1 \
		-o fogd.tick_ms=500
	t_require_collector cpu
	t_wait_json /api/v1/alerts \
		'.alerts[] | select(.resource == "cpu" and .level != "info")' 10 ||
		t_fail "no CPU alert with cpu_warning=0.01: $(api /api/v1/alerts | jq -c .)"
	ticks0=$(api /api/v1/status | jq '.ticks')
	obs0=$(api /api/v1/metrics | jq '.monitor.observations')
	[ "$obs0" -gt 0 ] || t_fail "the monitor observed nothing"
	t0=$SECONDS
	n=0
	while [ $((SECONDS - t0)) -lt "$WATCH_S" ]; do
		for path in /api/v1/status /api/v1/alerts /api/v1/metrics; do
			t=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 10 \
				--unix-socket "$FOG_SOCK" "http://localhost$path" 2>&1) ||
				t_fail "$path did not answer: $t ($(fogd_state))"
			worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
			n=$((n + 1))
		done
		sleep 0.5
	done
	el=$((SECONDS - t0))
	ticks1=$(api /api/v1/status | jq '.ticks')
	stats=$(api /api/v1/metrics | jq -c '.monitor')
	t_log "$hung hangs, $refused refused: $((ticks1 - ticks0)) ticks in $el s, $n answers," \
		"slowest ${worst} s; monitor $stats"
	awk -v w="$worst" -v b="$API_BOUND_S" 'BEGIN { exit !(w <= b) }' ||
		t_fail "an API answer took $worst s (bound $API_BOUND_S s)"
	# 500 ms ticks: at least half of them while posts hang and fail (a loop held by each 5 s
	# post would lose most)
	[ $((ticks1 - ticks0)) -ge $((el * 2 / 2)) ] ||
		t_fail "only $((ticks1 - ticks0)) ticks in $el s at 500 ms"
	jq -e --argjson o "$obs0" '.observations > $o' <<<"$stats" >/dev/null ||
		t_fail "the monitor stopped observing: $obs0 -> $stats"
	# refused: retried after 1, 2, 4, 8 s; hung: after each 5 s timeout
	jq -e '.posts_retried >= 3 and .posts_sent == 0' <<<"$stats" >/dev/null ||
		t_fail "posts not retried or counted as sent: $stats"
	# (Alertmanager's URL gets /api/v2/alerts appended)
	grep -Eq "$refused http://127.0.0.1:$rport(/[^ ]*)?: Couldn't connect to server; retrying" \
		"$FOGD_LOG" || t_fail "no retry logged for the refusing $refused"
	grep -Eq "$hung http://127.0.0.1:$hport(/[^ ]*)?: Timeout was reached; retrying" \
		"$FOGD_LOG" || t_fail "no timeout logged for the hanging $hung"
	[ $(($(grep -c '^accepted' "$T_DIR/hang.out") - accepted)) -ge 2 ] ||
		t_fail "fogd did not connect twice to the hanging $hung: $(tail -n 3 "$T_DIR/hang.out")"
	# the alert raised before is still there
	api /api/v1/alerts | jq -e '.alerts[] | select(.resource == "cpu" and .level != "info")' \
		>/dev/null || t_fail "the CPU alert is gone: $(api /api/v1/alerts | jq -c .)"
	# SIGTERM while a post hangs: fogd gives pending posts 3 s to drain (fog_watch__free),
	# then aborts the hung transfer instead of waiting for its timeout
	t0=$(date +%s%N)
	fogd_stop
	t=$((($(date +%s%N) - t0) / 1000000))
	t_log "SIGTERM to exit: $t ms"
	# 3 s of grace, then the transfer is aborted: no wait for further retries (each 5 s)
	[ "$t" -lt 8000 ] || t_fail "fogd took $t ms to stop with a hung post"
}

round alertmanager webhook
round webhook alertmanager
