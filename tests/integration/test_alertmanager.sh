#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# libfog's monitor pushes alerts to a real Alertmanager (v2 API) started here on 127.0.0.1:
# delivery is retried while Alertmanager is down without blocking observe(), a firing alert
# shows up with its labels, is re-sent while it fires, changes severity, and disappears when
# resolved (endsAt = resolve time, long before its firing endsAt would expire it).
# No fogd: tests/integration/libfog/am_push.c drives the library through its public API.
. "$(dirname "$0")/lib.sh"

AM_BIN=$(command -v prometheus-alertmanager || true)
[ -n "$AM_BIN" ] || t_skip "prometheus-alertmanager is not installed (tools/install-deps.sh)"
[ -f "$OUTPUT/libfog.a" ] || t_fail "$OUTPUT/libfog.a is missing: run make first"

AM_PID=
push_pid=
T_CLEANUP_EXTRA='[ -n "$push_pid" ] && kill "$push_pid" 2>/dev/null; [ -n "$AM_PID" ] && kill "$AM_PID" 2>/dev/null && wait "$AM_PID" 2>/dev/null'

# the helper links libfog.a; the Makefile's helper rule builds stand-alone programs
cc=${CC:-gcc}
san=
nm "$OUTPUT/libfog.a" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
$cc -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror $san -Iinclude -Iuser \
	tests/integration/libfog/am_push.c "$OUTPUT/libfog.a" \
	$(pkg-config --libs jansson libcurl libbpf) -lelf -lz -lpthread -lm \
	-o "$T_DIR/am_push" 2>"$T_DIR/cc.log" || t_fail "cannot build am_push: $(head -c 600 "$T_DIR/cc.log")"

port=$(t_free_port)
AM="http://127.0.0.1:$port"
INST="fog-test-$$"

# Sends one command to am_push and sets REPLY to its answer.
push() {
	echo "$*" >&"${PUSH[1]}"
	read -r -t 40 REPLY <&"${PUSH[0]}" || t_fail "am_push did not answer '$*': $(tail -n 5 "$T_DIR/am_push.log")"
}

# Our alert as Alertmanager lists it (active ones only), one JSON object per line.
am_alerts() {
	curl -sf --max-time 5 "$AM/api/v2/alerts" |
		jq -c --arg i "$INST" '.[] | select(.labels.alertname == "FogCpuHigh" and .labels.instance == $i)'
}

# Epoch seconds of an Alertmanager timestamp field of our alert with the given severity.
am_time() {
	am_alerts | jq -r --arg s "$1" --arg f "$2" \
		'select(.labels.severity == $s) | .[$f] | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601'
}

coproc PUSH { exec "$T_DIR/am_push" "$AM" "$INST" 2 2>>"$T_DIR/am_push.log"; }
# bash unsets PUSH_PID once the coprocess ends: keep the pid in a variable of our own
push_pid=$PUSH_PID

# 1. Alertmanager is down: observing must not wait for the delivery
push observe cpu 0.95
ms=${REPLY#observed }
t_log "observe with alertmanager down took $ms ms"
awk -v ms="$ms" 'BEGIN { exit !(ms < 100) }' || t_fail "observe blocked for $ms ms while alertmanager was down"
sleep 1
push stats
t_log "before alertmanager starts: $REPLY"
set -- $REPLY
[ "$3" -eq 0 ] && [ "$5" -ge 1 ] || t_fail "expected retries and no delivery yet, got '$REPLY'"

# 2. it comes up: the retry delivers the alert
t_alertmanager_start "$port"
push flush 20
[ "$REPLY" = "flushed 0" ] || t_fail "delivery did not complete: '$REPLY'"
alert=$(am_alerts)
[ -n "$alert" ] || t_fail "alertmanager has no FogCpuHigh alert for $INST: $(curl -s "$AM/api/v2/alerts")"
t_log "alertmanager has: $alert"
jq -e '.labels.severity == "critical" and .labels.resource == "cpu" and
	.annotations.value == "95%" and (.annotations.summary | test("above the critical threshold 90%")) and
	.generatorURL == "http://127.0.0.1/am_push" and .status.state == "active"' <<<"$alert" >/dev/null ||
	t_fail "unexpected alert: $alert"

# 3. still firing: it is re-sent (every 2 s here), which moves endsAt forward
ends1=$(am_time critical endsAt)
sleep 3
push observe cpu 0.97
push flush 20
ends2=$(am_time critical endsAt)
t_log "endsAt moved from $ends1 to $ends2"
[ -n "$ends1" ] && [ -n "$ends2" ] && [ "$ends2" -gt "$ends1" ] ||
	t_fail "re-sending did not extend endsAt ($ends1 -> $ends2)"
am_alerts | jq -e 'select(.labels.severity == "critical") | .annotations.value == "97%"' >/dev/null ||
	t_fail "re-sent alert did not refresh its value: $(am_alerts)"

# 4. down to ERROR: the critical alert ends, an error one starts
push observe cpu 0.6
push flush 20
# Alertmanager shows an ended alert as resolved once its endsAt has passed in its own view;
# the bound stays below the ~8 s after which the critical one would expire unended
severities() {
	sev=$(am_alerts | jq -r '.labels.severity' | sort | tr '\n' ' ')
	echo "severities '$sev'"
	[ "$sev" = "error " ]
}
t_wait_for 5 "after the drop to error alertmanager lists the error alert alone" severities

# 5. resolved: gone at once (its firing endsAt is still ~8 s away)
t_resolve=$(date +%s)
push observe cpu 0.1
push flush 20
[ "$REPLY" = "flushed 0" ] || t_fail "resolve was not delivered: '$REPLY'"
no_alert() {
	local a
	a=$(am_alerts)
	echo "$a"
	[ -z "$a" ]
}
t_wait_for 5 "the resolved alert gone from alertmanager" no_alert
[ $(($(date +%s) - t_resolve)) -lt 6 ] || t_fail "alert took too long to go: it expired instead of resolving"

push stats
t_log "$REPLY"
set -- $REPLY
[ "$7" -eq 0 ] || t_fail "deliveries failed: $REPLY"

eval "exec ${PUSH[1]}>&-"
wait "$push_pid" || t_fail "am_push exited with an error: $(tail -n 5 "$T_DIR/am_push.log")"
push_pid=
grep -i "panic\|error" "$T_DIR/alertmanager.log" && t_fail "alertmanager logged errors"
exit 0
