#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Kubernetes scheduler extender fed by a real Prometheus that scrapes fogd: this host's
# node (named by Prometheus' instance label) is judged from its own figures -- a pod asking
# for more memory than /proc/meminfo's MemTotal is unresolvable there, a small pod passes --
# while a node Prometheus has never seen is "no data" (passes, middle score). A Prometheus
# that accepts connections and never answers does not hold fogd: the routes answer at once.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v prometheus >/dev/null || t_fail "prometheus is not installed (tools/install-deps.sh installs it)"

FOG_PORT=$(t_free_port)
PROM_PORT=$(t_free_port)
NODE="127.0.0.1:$FOG_PORT"
fogd_start -o http.listen="$NODE" -o sched.extender=on \
	-o sched.prometheus_url="http://127.0.0.1:$PROM_PORT" -o sched.prometheus_timeout_s=2
T_CLEANUP_EXTRA='[ -n "${prom:-}" ] && kill $prom 2>/dev/null; [ -n "${hang:-}" ] && kill $hang 2>/dev/null'

t_prometheus_start "$PROM_PORT" "$NODE"
prom=$PROM_PID

total_mib=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
pod() { # memory request in Mi
	printf '{"Pod": {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c",
	"resources": {"requests": {"cpu": "100m", "memory": "%sMi"}}}]}}, "Nodes": null,
	"NodeNames": ["%s", "ghost-node"]}' "$1" "$NODE"
}
ext() { curl -sf --max-time 5 -X POST -d "$2" "http://$NODE/scheduler/$1"; }

# the extender fetches in the background every 5 s while asked: wait for this node's figures
big=$((total_mib + 1024))
judged() {
	ext filter "$(pod $big)" >"$T_DIR/filter.json" 2>/dev/null &&
		jq -e --arg n "$NODE" '.FailedAndUnresolvableNodes[$n] != null' "$T_DIR/filter.json" >/dev/null && return 0
	echo "filter answered $(cat "$T_DIR/filter.json"); prometheus: $(tail -n 3 "$T_DIR/prom.log")"
	return 1
}
T_WAIT_EVERY=0.5 t_wait_for 60 "this node judged from its Prometheus figures" judged
t_log "pod of $big MiB on a $total_mib MiB host: $(jq -c .FailedAndUnresolvableNodes "$T_DIR/filter.json")"
jq -e '.NodeNames == ["ghost-node"] and .Error == "" and (.FailedNodes | length) == 0' "$T_DIR/filter.json" >/dev/null ||
	t_fail "filter of the big pod: $(cat "$T_DIR/filter.json")"
jq -e --arg n "$NODE" --arg m "$big" '.FailedAndUnresolvableNodes[$n] | contains($m + " MiB")' "$T_DIR/filter.json" >/dev/null ||
	t_fail "the reason does not name the request: $(cat "$T_DIR/filter.json")"

ext filter "$(pod 16)" >"$T_DIR/small.json" || t_fail "filter of a small pod failed"
jq -e --arg n "$NODE" '.NodeNames == [$n, "ghost-node"] and (.FailedAndUnresolvableNodes | length) == 0' \
	"$T_DIR/small.json" >/dev/null || t_fail "filter of a small pod: $(cat "$T_DIR/small.json")"
ext prioritize "$(pod 16)" >"$T_DIR/prio.json" || t_fail "prioritize failed"
t_log "prioritize: $(jq -c . "$T_DIR/prio.json")"
jq -e --arg n "$NODE" 'length == 2 and (map(select(.Host == "ghost-node"))[0].Score == 5) and
	(map(select(.Host == $n))[0].Score | . >= 0 and . <= 10)' "$T_DIR/prio.json" >/dev/null ||
	t_fail "prioritize: $(cat "$T_DIR/prio.json")"
fogd_stop
kill $prom 2>/dev/null; wait $prom 2>/dev/null; prom=

# ---- a Prometheus that never answers ----
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
while True:
	c, _ = s.accept(); held.append(c)
' "$PROM_PORT" & hang=$!
sleep 0.3
fogd_start -o http.listen="$NODE" -o sched.extender=on \
	-o sched.prometheus_url="http://127.0.0.1:$PROM_PORT" -o sched.prometheus_timeout_s=60
for i in 1 2 3; do
	t0=$(date +%s%N)
	ext filter "$(pod 16)" >"$T_DIR/hang.json" || t_fail "filter failed while Prometheus hangs"
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	# an answer that waited for the query would take its 60 s timeout: a third of it tells them apart
	[ "$ms" -lt 20000 ] || t_fail "filter took $ms ms while Prometheus hangs (its timeout is 60 s)"
done
t_log "filter answered in $ms ms while the Prometheus query hangs"
jq -e --arg n "$NODE" '.NodeNames == [$n, "ghost-node"]' "$T_DIR/hang.json" >/dev/null ||
	t_fail "with no figures every node is no data and passes: $(cat "$T_DIR/hang.json")"
t0=$(date +%s%N)
fogd_stop
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
t_log "fogd stopped in $ms ms with a query in flight"
[ "$ms" -lt 20000 ] || t_fail "fogd took $ms ms to stop with a hung Prometheus query (its timeout is 60 s)"
