#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# /metrics passes promtool's lint in both formats, and a real Prometheus on 127.0.0.1
# scrapes fogd: up{job="fogd"} == 1 and a fog_ series equals fogd's JSON figure.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v prometheus >/dev/null || t_fail "prometheus is not installed (tools/install-deps.sh installs it)"

FOG_PORT=$(t_free_port)
PROM_PORT=$(t_free_port)
fogd_start -o http.listen=127.0.0.1:"$FOG_PORT" -o export.top_processes=1000

# a process with a known, fixed CPU time (it sleeps after burning)
"$HELPERS/burn_cpu" 300 >"$T_DIR/burn.out" &
burn=$!
T_CLEANUP_EXTRA="kill $burn 2>/dev/null; [ -n \"\${prom:-}\" ] && kill \$prom 2>/dev/null"
t_wait_for 30 "burn_cpu printed its figures" test -s "$T_DIR/burn.out"
sleep 2

curl -sf "http://127.0.0.1:$FOG_PORT/metrics" >"$T_DIR/metrics.txt" || t_fail "no /metrics on TCP"
promtool check metrics <"$T_DIR/metrics.txt" >"$T_DIR/lint.txt" 2>&1 ||
	t_fail "promtool check metrics: $(cat "$T_DIR/lint.txt")"
grep -q '^fog_runqueue_latency_seconds_bucket{le="+Inf"}' "$T_DIR/metrics.txt" ||
	t_fail "no run-queue histogram in /metrics"
curl -sf -H 'Accept: application/openmetrics-text; version=1.0.0' \
	-D "$T_DIR/om.hdr" "http://127.0.0.1:$FOG_PORT/metrics" >"$T_DIR/om.txt"
grep -qi '^content-type: application/openmetrics-text' "$T_DIR/om.hdr" || t_fail "OpenMetrics not served"
[ "$(tail -n 1 "$T_DIR/om.txt")" = "# EOF" ] || t_fail "OpenMetrics exposition does not end in # EOF"
grep -q '^# TYPE fog_context_switches counter' "$T_DIR/om.txt" || t_fail "OpenMetrics counter family named wrong"

t_prometheus_start "$PROM_PORT" "127.0.0.1:$FOG_PORT"
prom=$PROM_PID
q() { curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1"; }
fogd_up() {
	[ "$(q 'up{job="fogd"}' | jq -r '.data.result[0].value[1]' 2>/dev/null)" = 1 ] && return 0
	tail -n 5 "$T_DIR/prom.log"
	return 1
}
T_WAIT_EVERY=0.5 t_wait_for 60 "Prometheus seeing up{job=\"fogd\"} == 1" fogd_up
got=$(q "fog_process_cpu_seconds_total{pid=\"$burn\"}" | jq -r '.data.result[0].value[1]')
want=$(api "/api/v1/processes/$burn" | jq -r '.cpu_seconds')
t_log "prometheus $got, fogd json $want"
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d < 1e-6) }' ||
	t_fail "Prometheus has $got for the helper's CPU seconds, fogd's JSON $want"
fogd_stop
