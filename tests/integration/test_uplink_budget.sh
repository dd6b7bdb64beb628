#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A buffer budget (128 KiB) far too small for a 10 s outage at 200 ms ticks: the old part
# arrives downsampled (the host class's outage holds fewer than half its ticks, the oldest
# a step of 1 s or more apart), the merged samples are counted by class, the
# alert class arrives whole (one sample a tick), and the live part after it at every tick.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
. "$(dirname "$0")/lib_uplink.sh"

up_prom_start
fogd_start "${UP_OPTS[@]}" -o uplink.max_bytes=131072 -o uplink.step_s=1 -o uplink.coarse_step_s=4
for _ in $(seq 1 200); do
	[ "$(up_snapshots | wc -l)" -ge 5 ] && break
	sleep 0.2
done
up_prom_stop
up_wait_status '.connected == false' || t_fail "fogd still connected with the receiver stopped"
s0=$(up_metric fog_uplink_snapshots_total)
t_stop=$(date +%s.%N)
sleep 10
s1=$(up_metric fog_uplink_snapshots_total)
t_start=$(date +%s.%N)
st=$(api /api/v1/uplink)
t_log "outage: snapshots $s0 to $s1; buffer $(jq .buffer_bytes <<<"$st") bytes, downsampled $(jq -c .downsampled <<<"$st")"
[ "$(jq .buffer_bytes <<<"$st")" -le 131072 ] || t_fail "the buffer holds $(jq .buffer_bytes <<<"$st") bytes, over its 131072 budget"
[ "$(jq .downsampled.host <<<"$st")" -gt 0 ] || t_fail "no host samples counted as downsampled: $st"
[ "$(jq '.downsampled.alert + ([.dropped.alert[]] | add)' <<<"$st")" = 0 ] || t_fail "alert samples merged or dropped: $st"
up_prom_start
up_wait_status '.connected == true and .backlog_samples < 3000' 30 || t_fail "the backlog was not sent: $(api /api/v1/uplink)"
t_drained=$(date +%s.%N)
sleep 1

w=$(awk -v a="$t_stop" -v b="$t_start" 'BEGIN { printf "%dms", (b - a) * 1000 }')
alerts=$(up_q "count_over_time(fog_alerts_fired_total[$w])" "$t_start" | jq -r '.data.result[0].value[1] // 0')
hosts=$(up_q "count_over_time(fog_uplink_snapshots_total[$w])" "$t_start" | jq -r '.data.result[0].value[1] // 0')
ticks=$((s1 - s0))
t_log "the outage held $ticks ticks; the receiver has $alerts alert and $hosts host samples of it"
[ "$alerts" -ge $((ticks - 2)) ] || t_fail "the alert class's outage holds $alerts samples, not one a tick ($ticks)"
[ "$hosts" -ge 2 ] && [ "$hosts" -lt $((ticks / 2)) ] || t_fail "the host class's outage holds $hosts samples of $ticks ticks: not downsampled"
# the oldest host samples of the outage are a step (1 s) or more apart (the newest, not yet
# merged when the receiver came back, may be at every tick)
up_q "fog_uplink_snapshots_total[$w]" "$t_start" | jq -c '.data.result[0].values' >"$T_DIR/outage.json"
t_log "outage host samples (time, value): $(cat "$T_DIR/outage.json")"
gap=$(jq -r '.[1][0] - .[0][0]' "$T_DIR/outage.json")
awk -v g="$gap" 'BEGIN { exit !(g >= 0.95) }' || t_fail "the oldest host samples of the outage are $gap s apart, less than the 1 s step"
# once caught up, every tick again: the samples since then are consecutive snapshots
sleep 2
live=$(awk -v a="$t_drained" -v b="$(date +%s.%N)" 'BEGIN { printf "%dms", (b - a) * 1000 }')
up_q "fog_uplink_snapshots_total[$live]" | jq -r '.data.result[0].values[][1]' >"$T_DIR/live.txt"
awk 'NR > 1 && $1 != last + 1 { bad = 1 } { last = $1 } END { exit bad || NR < 8 }' "$T_DIR/live.txt" ||
	t_fail "live samples after the catch-up skip ticks: $(tr '\n' ' ' <"$T_DIR/live.txt")"
api /metrics | grep -q '^fog_uplink_samples_downsampled_total{class="host"} [1-9]' ||
	t_fail "fog_uplink_samples_downsampled_total{class=\"host\"} not counted in /metrics"
fogd_stop
