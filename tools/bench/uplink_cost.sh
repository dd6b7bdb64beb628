#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The uplink's costs (user/uplink/), pushing to a real Prometheus on 127.0.0.1:
# - the buffer's write cost per sample: CPU time of encoding, compressing and appending
#   (fog_uplink_write_cpu_seconds_total / fog_uplink_written_samples_total), and the
#   uplink thread's whole CPU time (sending too) per sample, at 200 ms ticks;
# - the catch-up rate after an outage of OUTAGE seconds: compressed bytes and samples
#   acknowledged per second until the backlog is gone, uncapped and at a cap of
#   [uplink] max_bytes_per_s = 100 kB/s, which applies to the backlog (live data is sent
#   beside it: the rate beside the live data, measured before the outage, is shown).
# usage: uplink_cost.sh FOGD [OUTAGE_SECONDS]
set -eu
FOGD=$1
OUTAGE=${2:-20}
DIR=$(mktemp -d /tmp/fogd-uplink-bench.XXXXXX)
SOCK="$DIR/fogd.sock"
PINS="/sys/fs/bpf/fogd-uplink-bench-$$"
FOGD_PID=
PROM_PID=
cleanup() {
	[ -n "$FOGD_PID" ] && kill -TERM "$FOGD_PID" 2>/dev/null && wait "$FOGD_PID" 2>/dev/null
	[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null
	rm -rf "$DIR" "$PINS"
}
trap cleanup EXIT
command -v prometheus >/dev/null || { echo "uplink bench: needs prometheus" >&2; exit 1; }
port=$((20000 + RANDOM % 30000))
api() { curl -sf --max-time 5 --unix-socket "$SOCK" "http://localhost$1"; }
metric() { api /metrics | awk -v m="$1" '$1 == m { print $2; exit }'; }
prom_up() {
	printf 'global:\n  scrape_interval: 1h\nstorage:\n  tsdb:\n    out_of_order_time_window: 2h\n' >"$DIR/rw.yml"
	prometheus --config.file="$DIR/rw.yml" --storage.tsdb.path="$DIR/tsdb" \
		--web.listen-address=127.0.0.1:$port --web.enable-remote-write-receiver >>"$DIR/prom.log" 2>&1 &
	PROM_PID=$!
	for _ in $(seq 1 200); do
		curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "uplink bench: prometheus did not start" >&2
	exit 1
}
prom_down() { kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null || true; PROM_PID=; }
fogd_up() {
	rm -rf "$DIR/buf"
	"$FOGD" -o fogd.socket="$SOCK" -o fogd.pin_path="$PINS" -o http.listen=off \
		-o fogd.tick_ms=200 -o uplink.url="http://127.0.0.1:$port/api/v1/write" \
		-o uplink.directory="$DIR/buf" -o uplink.max_backoff_s=0.5 -o monitor.profile_on=off \
		"$@" >"$DIR/fogd.log" 2>&1 &
	FOGD_PID=$!
	for _ in $(seq 1 300); do
		api /api/v1/status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "uplink bench: fogd did not start" >&2
	exit 1
}
fogd_down() { kill -TERM "$FOGD_PID"; wait "$FOGD_PID" || true; FOGD_PID=; }
# CPU seconds of fogd's uplink thread
thread_cpu() {
	local t
	for t in /proc/"$FOGD_PID"/task/*; do
		[ "$(cat "$t/comm")" = fogd-uplink ] || continue
		awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "$t/stat"
		return
	done
	echo 0
}

catch_up() { # label, then fogd options
	local label=$1 t0 b0 s0 t1 b1 s1
	shift
	fogd_up "$@"
	sleep 2
	prom_down
	sleep "$OUTAGE"
	b0=$(metric fog_uplink_sent_bytes_total)
	s0=$(api /api/v1/uplink | jq '[.sent[]] | add')
	t0=$(date +%s.%N)
	prom_up
	for _ in $(seq 1 600); do
		[ "$(api /api/v1/uplink | jq '.backlog_age_seconds < 1.5')" = true ] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	b1=$(metric fog_uplink_sent_bytes_total)
	s1=$(api /api/v1/uplink | jq '[.sent[]] | add')
	awk -v l="$label" -v o="$OUTAGE" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
		-v b="$((b1 - b0))" -v s="$((s1 - s0))" -v live="$LIVE" 'BEGIN {
		printf "catch-up %-22s %d s outage sent in %.1f s: %.0f kB/s compressed (%.0f kB/s beside the live data), %.0f samples/s\n",
			l, o, t, b / t / 1e3, (b / t - live) / 1e3, s / t }'
	fogd_down
}

prom_up
fogd_up
sleep 2
l0=$(metric fog_uplink_sent_bytes_total)
sleep 18
LIVE=$(awk -v a="$l0" -v b="$(metric fog_uplink_sent_bytes_total)" 'BEGIN { printf "%.0f", (b - a) / 18 }')
c0=$(thread_cpu)
w=$(metric fog_uplink_write_cpu_seconds_total)
n=$(metric fog_uplink_written_samples_total)
awk -v w="$w" -v n="$n" -v c="$c0" 'BEGIN {
	printf "buffer write cost: %.0f ns CPU per sample (encode, compress, append; %d samples)\n", w / n * 1e9, n
	printf "uplink thread, all of it (sending too): %.0f ns CPU per sample\n", c / n * 1e9 }'
echo "live data alone: $((LIVE / 1000)) kB/s compressed at 200 ms ticks (not under the cap)"
fogd_down
catch_up "uncapped" -o uplink.max_bytes_per_s=1099511627776
catch_up "at 100 kB/s (the cap)" -o uplink.max_bytes_per_s=100000
