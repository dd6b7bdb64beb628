#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fogd pushes its series by remote write to a real Prometheus; the receiver goes away
# (stopped, then a stub on its port answering 503) for about 25 ticks and comes back:
# every tick of the outage arrives (fog_uplink_snapshots_total holds 1, 2, 3, ... with no
# gap), the alert class's outage arrives before the host class's is complete (the catch-up
# is capped at 30 kB/s), the bearer token from its file goes in the Authorization header
# with the spec's headers, and the token is in no log, status or exposition.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
. "$(dirname "$0")/lib_uplink.sh"

secret="uplink-token-$$-$RANDOM"
printf '%s\n' "$secret" >"$T_DIR/token"
chmod 0600 "$T_DIR/token"
up_prom_start
fogd_start "${UP_OPTS[@]}" -o uplink.max_bytes_per_s=30000 \
	-o uplink.bearer_token_file="$T_DIR/token"
for _ in $(seq 1 200); do
	[ "$(up_snapshots | wc -l)" -ge 10 ] && break
	sleep 0.2
done
[ "$(up_snapshots | wc -l)" -ge 10 ] || t_fail "the receiver holds $(up_snapshots | wc -l) snapshots after 40 s: $(api /api/v1/uplink)"

# the outage: nothing listens, then a receiver that answers 503
t_stop=$(date +%s.%N)
up_prom_stop
up_wait_status '.connected == false' || t_fail "fogd still connected with the receiver stopped"
sleep 2
up_stub_start 503
sleep 3
up_stub_stop
s_out=$(up_metric fog_uplink_snapshots_total)
t_start=$(date +%s.%N)
up_prom_start
t_log "outage from $t_stop to $t_start, snapshot $s_out at its end"
st=$(api /api/v1/uplink)
[ "$(jq '.requests.retried' <<<"$st")" -ge 2 ] || t_fail "no retried POSTs counted: $st"
[ "$(jq '.retried.host' <<<"$st")" -gt 0 ] || t_fail "no retried host samples counted: $st"

# the spec's headers and the token reached the stub
hdr="$T_DIR/stub.headers"
[ -s "$hdr" ] || t_fail "the 503 stub got no POST"
grep -qx 'Content-Encoding: snappy' "$hdr" || t_fail "no Content-Encoding: snappy: $(head -n 12 "$hdr")"
grep -qx 'Content-Type: application/x-protobuf' "$hdr" || t_fail "no protobuf Content-Type"
grep -qx 'X-Prometheus-Remote-Write-Version: 0.1.0' "$hdr" || t_fail "no remote-write version header"
grep -qx "Authorization: Bearer $secret" "$hdr" || t_fail "the bearer token from its file was not sent"

# catch-up: counts of the alert and host classes over the outage, polled until both are whole
w=$(awk -v a="$t_stop" -v b="$t_start" 'BEGIN { printf "%dms", (b - a) * 1000 }')
count() { up_q "count_over_time($1[$w])" "$t_start" | jq -r '.data.result[0].value[1] // 0'; }
polls=()
for _ in $(seq 1 300); do
	a=$(count 'fog_alerts_fired_total')
	h=$(count 'fog_uplink_snapshots_total')
	polls+=("$a $h")
	if [ "$(api /api/v1/uplink | jq '.backlog_samples')" -lt 2000 ] && [ "$h" -gt 0 ] &&
		[ "$a" = "$h" ] && [ "${#polls[@]}" -gt 1 ]; then
		break
	fi
	sleep 0.2
done
t_log "alert and host samples of the outage while it caught up: ${polls[*]}"
final_a=${polls[-1]% *}
final_h=${polls[-1]#* }
[ "$final_a" = "$final_h" ] && [ "$final_h" -ge 20 ] ||
	t_fail "after the catch-up the outage holds $final_a alert and $final_h host samples (>= 20 ticks each expected)"
first=
for p in "${polls[@]}"; do
	[ "${p% *}" = "$final_a" ] && { first=$p; break; }
done
[ "${first#* }" -lt "$final_h" ] ||
	t_fail "the alert class's outage was complete ($first) only when the host class's was too"

# no gap, no repeat at fogd's tick resolution, and every tick until the outage ended
runs=$(up_check_runs) || t_fail "snapshots at the receiver: $runs"
[ "$(tail -n 1 <<<"$runs")" -ge "$s_out" ] || t_fail "the receiver's snapshots end at $runs, before $s_out"
[ "$(wc -l <<<"$runs")" = 1 ] || t_fail "the snapshot counter restarted: $runs"

# the token is nowhere to be read
api /metrics >"$T_DIR/metrics.txt"
api /api/v1/uplink >"$T_DIR/status.json"
api /api/v1/config >"$T_DIR/config.txt" 2>/dev/null || true
"$FOGCTL" status >"$T_DIR/fogctl.txt" 2>&1 || t_fail "fogctl status failed: $(cat "$T_DIR/fogctl.txt")"
grep -q 'uplink: connected' "$T_DIR/fogctl.txt" || t_fail "fogctl status shows no connected uplink: $(cat "$T_DIR/fogctl.txt")"
fogd_stop
for f in "$FOGD_LOG" "$T_DIR/metrics.txt" "$T_DIR/status.json" "$T_DIR/config.txt" "$T_DIR/fogctl.txt"; do
	grep -qF "$secret" "$f" && t_fail "the bearer token appears in $(basename "$f")"
done
exit 0
