#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The placement API's bodies and query arguments as fogd answers them over its socket: every
# route's body is read against its table of fields, so an unknown field, a value of the wrong
# type or out of range, and an unknown task state in ?state= are 400 with an error naming
# the field (or the state), and nothing is created or changed; the same bodies, well formed,
# are accepted with their meaning (a worker's signals: null is "not measured", as is absent).
. "$(dirname "$0")/lib.sh"
t_require_root_btf

fogd_start
code_of() { curl -s -o "$T_DIR/body" -w '%{http_code}' --max-time 10 --unix-socket "$FOG_SOCK" "$@"; }
post() { code_of -X POST -H 'Content-Type: application/json' -d "$2" "http://localhost$1"; }
# refused PATH BODY TEXT: 400 whose error holds TEXT (a fixed string)
refused() {
	local code
	code=$(post "$1" "$2")
	[ "$code" = 400 ] && jq -e --arg t "$3" '.error | contains($t)' "$T_DIR/body" >/dev/null ||
		t_fail "POST $1 $2: want 400 naming \"$3\", got $code $(cat "$T_DIR/body")"
}

# ---- task bodies ----
refused /api/v1/sched/tasks '{"id":"b1","colour":"red"}' "unknown field 'colour'"
refused /api/v1/sched/tasks '{"id":"b2","cpu_cores":"1"}' "field 'cpu_cores' must be a number"
refused /api/v1/sched/tasks '{"id":"b3","gpu_count":5000}' "field 'gpu_count' must be in 0..1024 (got 5000)"
refused /api/v1/sched/tasks '{"id":"b4","memory_mb":1.5}' "field 'memory_mb' must be an integer"
refused /api/v1/sched/tasks '{"id":"b5","affinity":["ok",""]}' "field 'affinity[1]' must not be empty"
refused /api/v1/sched/tasks '{"cpu_cores":1}' "field 'id' is required"
refused /api/v1/sched/tasks '{"id":"b6","type":"tpu"}' "field 'type' must be any, cpu or gpu (got 'tpu')"
[ "$(code_of http://localhost/api/v1/sched/tasks/b1)" = 404 ] || t_fail "a refused task was kept"

# a batch: each element read by the same table, refused ones named in their own result
[ "$(post /api/v1/sched/tasks '[{"id":"ok-1","cpu_cores":0.1,"memory_mb":8,"priority":"HIGH"},{"id":"b7","sla_ms":-1}]')" = 200 ] ||
	t_fail "batch: $(cat "$T_DIR/body")"
jq -e '.submitted == 1 and .rejected == 1 and (.results[1].error | contains("field '"'"'sla_ms'"'"'"))' \
	"$T_DIR/body" >/dev/null || t_fail "batch results: $(cat "$T_DIR/body")"
api /api/v1/sched/tasks/ok-1 | jq -e '.priority == "high" and .memory_mb == 8' >/dev/null ||
	t_fail "ok-1 as submitted: $(api /api/v1/sched/tasks/ok-1)"

# ---- the state argument of the task list ----
[ "$(code_of 'http://localhost/api/v1/sched/tasks?state=finished')" = 400 ] &&
	jq -e '.error | contains("state: '"'"'finished'"'"'") and contains("timed_out or cancelled")' \
		"$T_DIR/body" >/dev/null || t_fail "unknown state: $(cat "$T_DIR/body")"
[ "$(post /api/v1/sched/cancel '{"ids":["ok-1"]}')" = 200 ] || t_fail "cancel ok-1: $(cat "$T_DIR/body")"
api '/api/v1/sched/tasks?state=cancelled' | jq -e '[.tasks[].id] == ["ok-1"]' >/dev/null ||
	t_fail "?state=cancelled: $(api '/api/v1/sched/tasks?state=cancelled')"
api '/api/v1/sched/tasks?state=running' | jq -e '[.tasks[].id] | index("ok-1") == null' >/dev/null ||
	t_fail "?state=running lists a cancelled task"

# ---- cancel bodies ----
refused /api/v1/sched/cancel '{"ids":["ok-1"],"force":true}' "unknown field 'force'"
refused /api/v1/sched/cancel '{"ids":"ok-1"}' "field 'ids' must be an array of task ids"
refused /api/v1/sched/cancel '{"ids":["ok-1","a/b"]}' "field 'ids[1]' is not a task id"
refused /api/v1/sched/cancel '{}' "field 'ids' is required"

# ---- worker bodies and their signals ----
refused /api/v1/sched/workers '{"id":"w1","cpu_cores":2,"memory_mb":512,"signals":{"cpu":0.5}}' \
	"unknown field 'signals.cpu'"
refused /api/v1/sched/workers '{"id":"w1","cpu_cores":2,"memory_mb":512,"signals":{"mem_psi":250}}' \
	"field 'signals.mem_psi' must be in [0, 100] (got 250)"
refused /api/v1/sched/workers '{"id":"w1","cpu_cores":2}' "field 'memory_mb' is required"
api /api/v1/sched/workers | jq -e '[.workers[].id] | index("w1") == null' >/dev/null ||
	t_fail "a refused worker was registered"
[ "$(post /api/v1/sched/workers '{"id":"w1","cpu_cores":2,"memory_mb":512,"labels":["zone=a"],"signals":{"cpu_util":0.5,"mem_psi":null,"age_s":1}}')" = 201 ] ||
	t_fail "register w1: $(cat "$T_DIR/body")"
jq -e '.signals.cpu_util == 0.5 and .signals.mem_psi == null and .signals.load == null and .labels == ["zone=a"]' \
	"$T_DIR/body" >/dev/null || t_fail "w1's signals: $(cat "$T_DIR/body")"

# ---- remote runners' bodies ----
refused /api/v1/sched/workers/w1/claim '{"max":5,"all":true}' "unknown field 'all'"
refused /api/v1/sched/workers/w1/claim '{"max":"5"}' "field 'max' must be an integer"
[ "$(post /api/v1/sched/tasks '{"id":"r1","cpu_cores":0.1,"memory_mb":8,"affinity":["zone=a"]}')" = 201 ] ||
	t_fail "submit r1: $(cat "$T_DIR/body")"
refused /api/v1/sched/tasks/r1/status '{"state":"failed","exit_code":1,"signal":9}' \
	"fields 'exit_code' and 'signal' exclude each other"
refused /api/v1/sched/tasks/r1/status '{"state":"placed"}' \
	"field 'state' must be running, succeeded or failed (got 'placed')"
api /api/v1/sched/tasks/r1 | jq -e '.state == "placed" and .worker == "w1"' >/dev/null ||
	t_fail "r1 changed by refused reports: $(api /api/v1/sched/tasks/r1)"
[ "$(post /api/v1/sched/workers/w1/claim '{"max":1}')" = 200 ] &&
	jq -e '[.tasks[].id] == ["r1"]' "$T_DIR/body" >/dev/null || t_fail "claim r1: $(cat "$T_DIR/body")"

fogd_stop
t_log "ok: task, batch, cancel, worker, claim and status bodies refused naming the field; ?state= checked"
