#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fogd's monitor end to end: a CPU load the test creates raises a CPU alert that a real
# Alertmanager on 127.0.0.1 receives with fogd's labels, and that is resolved there once
# the load stops. /api/v1/alerts and fog_alert_level agree.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
AM_BIN=$(command -v prometheus-alertmanager || true)
[ -n "$AM_BIN" ] || t_fail "prometheus-alertmanager is not installed (tools/install-deps.sh)"
command -v stress-ng >/dev/null || t_fail "stress-ng is not installed (tools/install-deps.sh)"

port=$(t_free_port)
AM="http://127.0.0.1:$port"
AM_PID=
T_CLEANUP_EXTRA='[ -n "$AM_PID" ] && kill "$AM_PID" 2>/dev/null; [ -n "${load:-}" ] && kill "$load" 2>/dev/null'
t_alertmanager_start "$port"

fogd_start -o monitor.cpu_warning=0.9 -o monitor.cpu_critical=0.95 -o monitor.for_s=2 \
	-o monitor.alertmanager="$AM" -o monitor.alertmanager_resend_s=2 -o fogd.tick_ms=500

am_cpu_alerts() {
	curl -sf "$AM/api/v2/alerts?active=true&silenced=false&inhibited=false" |
		jq '[.[] | select(.labels.alertname == "FogCpuHigh" and .labels.resource == "cpu")]'
}

stress-ng --cpu "$(nproc)" --timeout 60 >/dev/null 2>&1 &
load=$!
# a warning may come first (the trend sees the threshold coming): wait for the level the
# load reaches, critical (or error)
high='map(select(.labels.severity == "critical" or .labels.severity == "error"))'
high_alert() {
	[ "$(am_cpu_alerts | jq "$high | length")" -ge 1 ] && return 0
	echo "alertmanager has $(am_cpu_alerts | jq -c 'map(.labels)'); fogd says $(api /api/v1/alerts | jq -c '.alerts[] | select(.resource == "cpu")')"
	return 1
}
# within the 60 s the load lasts
T_WAIT_EVERY=0.5 t_wait_for 40 "a critical CPU alert in Alertmanager under load" high_alert
a=$(am_cpu_alerts | jq -c "$high | .[0]")
t_log "alertmanager has: $(jq -c '.labels' <<<"$a")"
jq -e --arg h "$(hostname)" '.labels.instance == $h' <<<"$a" >/dev/null || t_fail "instance label is not the host name: $a"
lvl=$(api /api/v1/alerts | jq -r '.alerts[] | select(.resource == "cpu") | .level')
[ "$lvl" = critical ] || [ "$lvl" = error ] || t_fail "fogd's own alert level is $lvl"

kill "$load"
wait "$load" 2>/dev/null
load=
no_cpu_alert() {
	am_cpu_alerts | jq -c 'map(.labels)'
	[ "$(am_cpu_alerts | jq length)" -eq 0 ]
}
# the host's other load must fall below the threshold too: a shared host takes its time
T_WAIT_EVERY=0.5 t_wait_for 90 "the CPU alert resolved in Alertmanager after the load stopped" no_cpu_alert
[ "$(api /api/v1/alerts | jq -r '.alerts[] | select(.resource == "cpu") | .level')" = info ] ||
	t_fail "fogd still alerts on cpu: $(api /api/v1/alerts | jq -c .)"
grep -q "alert resolved: cpu" "$FOGD_LOG" || t_fail "fogd did not log the resolution"
fogd_stop
