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
printf 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n' >"$T_DIR/am.yml"
"$AM_BIN" --config.file="$T_DIR/am.yml" --storage.path="$T_DIR/am-data" \
	--web.listen-address="127.0.0.1:$port" --cluster.listen-address= --log.level=warn \
	>"$T_DIR/am.log" 2>&1 &
am=$!
T_CLEANUP_EXTRA="kill $am 2>/dev/null; [ -n \"\${load:-}\" ] && kill \$load 2>/dev/null"
for _ in $(seq 1 100); do curl -sf "$AM/-/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$AM/-/ready" >/dev/null || t_fail "alertmanager not ready: $(tail -n 3 "$T_DIR/am.log")"

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
ok=0
for _ in $(seq 1 40); do
	if [ "$(am_cpu_alerts | jq "$high | length")" -ge 1 ]; then ok=1; break; fi
	sleep 0.5
done
[ "$ok" = 1 ] || t_fail "Alertmanager got no critical CPU alert under load: it has $(am_cpu_alerts | jq -c 'map(.labels)'); fogd says $(api /api/v1/alerts | jq -c '.alerts[] | select(.resource == "cpu")')"
a=$(am_cpu_alerts | jq -c "$high | .[0]")
t_log "alertmanager has: $(jq -c '.labels' <<<"$a")"
jq -e --arg h "$(hostname)" '.labels.instance == $h' <<<"$a" >/dev/null || t_fail "instance label is not the host name: $a"
lvl=$(api /api/v1/alerts | jq -r '.alerts[] | select(.resource == "cpu") | .level')
[ "$lvl" = critical ] || [ "$lvl" = error ] || t_fail "fogd's own alert level is $lvl"

kill "$load"
wait "$load" 2>/dev/null
load=
ok=0
for _ in $(seq 1 60); do
	if [ "$(am_cpu_alerts | jq length)" -eq 0 ]; then ok=1; break; fi
	sleep 0.5
done
[ "$ok" = 1 ] || t_fail "the CPU alert was not resolved in Alertmanager after the load stopped"
[ "$(api /api/v1/alerts | jq -r '.alerts[] | select(.resource == "cpu") | .level')" = info ] ||
	t_fail "fogd still alerts on cpu: $(api /api/v1/alerts | jq -c .)"
grep -q "alert resolved: cpu" "$FOGD_LOG" || t_fail "fogd did not log the resolution"
fogd_stop
