# SPDX-License-Identifier: GPL-2.0-only
# Shared by the uplink tests (test_uplink*.sh), after lib.sh: a real Prometheus with its
# remote-write receiver on 127.0.0.1, fogd pushing to it, and queries of what it holds.

command -v prometheus >/dev/null || t_fail "prometheus is not installed (tools/install-deps.sh installs it)"
# The receiver restarts on one port (fogd's URL names it), so the port comes from below the
# ephemeral range: an outgoing connection of any process on the host cannot take it meanwhile.
up_free_port() {
	local lo p
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${lo:-0}" -gt 12000 ] || lo=32768
	for _ in $(seq 1 50); do
		p=$((10000 + RANDOM % (lo - 10000)))
		[ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return 0; }
	done
	t_fail "no free port below $lo"
}
PROM_PORT=$(up_free_port)
PROM_PID=
STUB_PID=
UP_URL="http://127.0.0.1:$PROM_PORT/api/v1/write"
T_CLEANUP_EXTRA='[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null; [ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null && wait "$STUB_PID" 2>/dev/null'
# short ticks and syncs so that an outage of seconds holds many ticks
UP_OPTS=(-o fogd.tick_ms=200 -o uplink.url="$UP_URL" -o uplink.directory="$T_DIR/buf"
	-o uplink.sync_s=0.5 -o uplink.min_backoff_s=0.2 -o uplink.max_backoff_s=0.5)

# Starts (or restarts, on the same TSDB) Prometheus with the receiver and an out-of-order
# window (a backlog arrives after newer live samples); nothing is scraped.
up_prom_start() {
	cat >"$T_DIR/rw.yml" <<YML
global:
  scrape_interval: 1h
storage:
  tsdb:
    out_of_order_time_window: 2h
YML
	prometheus --config.file="$T_DIR/rw.yml" --storage.tsdb.path="$T_DIR/tsdb" \
		--web.listen-address=127.0.0.1:"$PROM_PORT" --web.enable-remote-write-receiver \
		>>"$T_DIR/prom.log" 2>&1 &
	PROM_PID=$!
	for _ in $(seq 1 200); do
		curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 && return 0
		kill -0 "$PROM_PID" 2>/dev/null || t_fail "prometheus exited: $(tail -n 5 "$T_DIR/prom.log")"
		sleep 0.1
	done
	t_fail "prometheus not ready within 20 s"
}

up_prom_stop() {
	kill "$PROM_PID"
	wait "$PROM_PID" 2>/dev/null
	PROM_PID=
}

# A receiver stub on the same port answering every POST with status $1 (more flags after).
up_stub_start() {
	python3 "$(dirname "$0")/helpers/rw_stub.py" --port "$PROM_PORT" --status "$1" \
		--headers "$T_DIR/stub.headers" "${@:2}" >>"$T_DIR/stub.log" 2>&1 &
	STUB_PID=$!
	for _ in $(seq 1 100); do
		ss -Htln "sport = :$PROM_PORT" | grep -q . && return 0
		sleep 0.1
	done
	t_fail "the receiver stub did not listen: $(cat "$T_DIR/stub.log")"
}

up_stub_stop() {
	kill "$STUB_PID"
	wait "$STUB_PID" 2>/dev/null
	STUB_PID=
}

# An instant query (at time $2 when given); prints the JSON answer.
up_q() {
	local t=()
	[ -n "${2:-}" ] && t=(--data-urlencode "time=$2")
	curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" "${t[@]}"
}

# The samples of fog_uplink_snapshots_total the receiver holds, "time value" a line, by time.
up_snapshots() {
	up_q 'fog_uplink_snapshots_total[1h]' | jq -r '.data.result[0].values[]? | "\(.[0]) \(.[1])"'
}

# One of fogd's own figures from its /metrics (the first sample whose series matches $1).
up_metric() {
	api /metrics | awk -v m="$1" '$1 == m { print $2; exit }'
}

# Fails unless each run of snapshot values the receiver holds (a restart begins a new one
# at 1) goes 1, 2, 3, ... without a gap or a repeat; prints each run's last value.
up_check_runs() {
	up_snapshots | awk '
		{ v = $2 + 0 }
		v == 1 && NR > 1 { print last; }
		NR > 1 && v != 1 && v != last + 1 { printf "gap or repeat: %d after %d\n", v, last; bad = 1 }
		NR == 1 && v != 1 { printf "first value %d, not 1\n", v; bad = 1 }
		{ last = v }
		END { if (NR) print last; exit bad }'
}

# Waits until `api /api/v1/uplink | jq -e FILTER` holds (timeout $2 s, default 20).
up_wait_status() {
	t_wait_json /api/v1/uplink "$1" "${2:-20}"
}
