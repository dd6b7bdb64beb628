#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input to the uplink, each counted, logged once, and the rest goes on:
# - a receiver answering 400 with bytes that do not print: the samples are counted as
#   rejected (not retried), the status shows the answer made printable, and a receiver
#   answering 200 afterwards gets the next POSTs;
# - a corrupted old segment (bytes overwritten while fogd was stopped): cut at open and
#   counted, and the segments after it still arrive at a real Prometheus;
# - a full disk (the buffer on a 96 KiB tmpfs): the lost ticks are counted as write drops,
#   logged once, and once the backlog is acknowledged the buffer writes again.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
. "$(dirname "$0")/lib_uplink.sh"
T_CLEANUP_EXTRA="$T_CLEANUP_EXTRA; umount -l '$T_DIR/full' 2>/dev/null"

# 400 with garbage
up_stub_start 400 --garbage
fogd_start "${UP_OPTS[@]}" -o uplink.max_bytes=262144
up_wait_status '.requests.rejected >= 3' || t_fail "no rejected POSTs: $(api /api/v1/uplink)"
st=$(api /api/v1/uplink)
[ "$(jq '.requests.retried' <<<"$st")" = 0 ] || t_fail "a 400 was retried: $st"
[ "$(jq '.dropped.host.rejected' <<<"$st")" -gt 0 ] || t_fail "rejected samples not counted: $st"
jq -r .error <<<"$st" | grep -q '^HTTP 400: ' || t_fail "the status does not show the 400: $st"
LC_ALL=C grep -q '[^[:print:]]' <<<"$(jq -r .error <<<"$st")" && t_fail "the status shows bytes that do not print"
[ "$(grep -c 'refused a body' "$FOGD_LOG")" = 1 ] || t_fail "the 400 is not logged exactly once: $(grep -c 'refused a body' "$FOGD_LOG")"
up_stub_stop
ok0=$(api /api/v1/uplink | jq .requests.ok)
up_stub_start 200
up_wait_status ".requests.ok >= $ok0 + 3" || t_fail "a receiver answering 200 after the 400s got nothing: $(api /api/v1/uplink)"
up_stub_stop

# a corrupted old segment: the stub answers 503 so nothing is acknowledged
up_stub_start 503
sleep 4
fogd_stop
up_stub_stop
segs=("$T_DIR"/buf/host/*.seg)
[ "${#segs[@]}" -ge 3 ] || t_fail "only ${#segs[@]} host segments to corrupt one of"
printf 'not a record at all' | dd of="${segs[0]}" bs=1 seek=200 conv=notrunc status=none
fogd_start "${UP_OPTS[@]}" -o uplink.max_bytes=262144
[ "$(up_metric fog_uplink_corrupt_segments_total)" = 1 ] ||
	t_fail "fog_uplink_corrupt_segments_total is $(up_metric fog_uplink_corrupt_segments_total), want 1"
grep -q "1 corrupt segment part" "$FOGD_LOG" || t_fail "the corrupt segment is not logged"
up_prom_start
up_wait_status '.connected == true and .backlog_samples < 3000' 30 || t_fail "the backlog after the corrupt part was not sent: $(api /api/v1/uplink)"
n=$(up_snapshots | wc -l)
[ "$n" -ge 20 ] || t_fail "the receiver holds $n snapshots after the corrupt segment"
up_prom_stop
fogd_stop

# a full disk
mkdir -p "$T_DIR/full"
mount -t tmpfs -o size=96k,mode=0700 tmpfs "$T_DIR/full" || t_skip "cannot mount a tmpfs"
opts=("${UP_OPTS[@]}" -o uplink.directory="$T_DIR/full/buf")
fogd_start "${opts[@]}"
for _ in $(seq 1 100); do
	[ "$(api /metrics | awk '/^fog_uplink_samples_dropped_total\{.*reason="write"/ { s += $2 } END { print s + 0 }')" -gt 0 ] && break
	sleep 0.2
done
w=$(api /metrics | awk '/^fog_uplink_samples_dropped_total\{.*reason="write"/ { s += $2 } END { print s + 0 }')
[ "$w" -gt 0 ] || t_fail "no write drops counted on a full disk: $(api /api/v1/uplink)"
[ "$(grep -c "cannot write to the buffer" "$FOGD_LOG")" = 1 ] || t_fail "the full disk is not logged exactly once: $(grep uplink "$FOGD_LOG")"
api /api/v1/status >/dev/null || t_fail "fogd does not answer with its buffer's disk full"
up_prom_start
grep -q 'writing to the buffer again' "$FOGD_LOG" ||
	for _ in $(seq 1 100); do
		grep -q 'writing to the buffer again' "$FOGD_LOG" && break
		sleep 0.2
	done
grep -q 'writing to the buffer again' "$FOGD_LOG" || t_fail "the buffer never wrote again after the backlog was sent: $(api /api/v1/uplink)"
fogd_stop
