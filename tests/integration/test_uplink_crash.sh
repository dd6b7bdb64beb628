#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kill -9 of fogd during an outage, a torn record left at the end of the newest segment
# (what a crash in the middle of a write leaves), then fogd and the receiver start again:
# every tick the first fogd synced arrives (1, 2, ... up to at least the snapshot read
# 1.5 s, three sync intervals, before the kill), none twice or wrong, the torn tail is
# cut and counted (fog_uplink_torn_tails_total 1), never sent, and nothing is dropped.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
. "$(dirname "$0")/lib_uplink.sh"

up_prom_start
fogd_start "${UP_OPTS[@]}"
for _ in $(seq 1 200); do
	[ "$(up_snapshots | wc -l)" -ge 5 ] && break
	sleep 0.2
done
[ "$(up_snapshots | wc -l)" -ge 5 ] || t_fail "the receiver holds $(up_snapshots | wc -l) snapshots after 40 s"
up_prom_stop
up_wait_status '.connected == false' || t_fail "fogd still connected with the receiver stopped"
sleep 3
synced=$(up_metric fog_uplink_snapshots_total)
sleep 1.5
kill -9 "$FOGD_PID"
wait "$FOGD_PID" 2>/dev/null
FOGD_PID=
rm -rf "$FOG_PINS" # kill -9 leaves the pins; the next fogd takes the folder anew
t_log "fogd killed during the outage; snapshot $synced was synced"

# a torn record: a header's first bytes ("FREC", a length) and no more
seg=$(ls "$T_DIR"/buf/host/*.seg | tail -n 1)
[ -n "$seg" ] || t_fail "no host segment in $T_DIR/buf/host"
size=$(stat -c %s "$seg")
printf 'FREC\x00\x10\x00\x00\x07\x00\x00\x00' >>"$seg"

fogd_start "${UP_OPTS[@]}"
[ "$(stat -c %s "$seg")" = "$size" ] || t_fail "the torn tail was not cut: $seg is $(stat -c %s "$seg") bytes, was $size"
[ "$(up_metric fog_uplink_torn_tails_total)" = 1 ] ||
	t_fail "fog_uplink_torn_tails_total is $(up_metric fog_uplink_torn_tails_total), want 1"
grep -q 'cut 1 torn tail' "$FOGD_LOG" || t_fail "the cut is not logged"
sleep 1
up_prom_start
ok=0
for _ in $(seq 1 300); do
	if runs=$(up_check_runs) && [ "$(wc -l <<<"$runs")" = 2 ] &&
		[ "$(head -n 1 <<<"$runs")" -ge "$synced" ]; then
		ok=1
		break
	fi
	sleep 0.2
done
[ "$ok" = 1 ] || t_fail "the receiver's snapshot runs: $runs (the first should reach $synced, then a second from 1)"
t_log "runs at the receiver end at: $(tr '\n' ' ' <<<"$runs")"
api /metrics >"$T_DIR/metrics.txt"
dropped=$(awk '/^fog_uplink_samples_dropped_total/ { s += $2 } END { print s + 0 }' "$T_DIR/metrics.txt")
[ "$dropped" = 0 ] || t_fail "samples dropped: $(grep '^fog_uplink_samples_dropped_total' "$T_DIR/metrics.txt" | grep -v ' 0$')"
# nothing but fogd's series came from the buffer: every name the receiver holds is fogd's
bad=$(up_q 'count by (__name__) ({job="fogd"})' | jq -r '.data.result[].metric.__name__' | grep -v '^fog_' || true)
[ -z "$bad" ] || t_fail "the receiver holds series fogd never wrote: $bad"
fogd_stop
