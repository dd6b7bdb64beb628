#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Remote runners: a worker registered over the API gets tasks placed on it (never run by
# fogd's own executor); its runner (this script) claims them, runs their commands itself
# and reports how each went; the reports (exit code, wall and CPU time, peak memory) end the
# tasks, train the learner and count in the statistics; a claimed task never reported times
# out after its timeout_ms; wrong reports are refused with 4xx; state-changing routes answer
# only on the Unix socket. Batch submission and batch cancel answer per task.
. "$(dirname "$0")/lib.sh"
t_require_root_btf

PORT=$(t_free_port)
fogd_start -o http.listen="127.0.0.1:$PORT" -o http.tcp_api=on

[ "$(t_code POST /api/v1/sched/workers '{"id":"edge-1","cpu_cores":4,"memory_mb":4096,"labels":["site=edge"]}')" = 201 ] ||
	t_fail "register edge-1: $(cat "$T_BODY")"

# ---- tasks for the edge: placed there, not run here ----
marker="$T_DIR/ran-here"
for t in r-ok r-fail r-lost; do
	extra=
	[ "$t" = r-lost ] && extra='"timeout_ms":1500,'
	body="{\"id\":\"$t\",\"cpu_cores\":1,\"memory_mb\":64,\"affinity\":[\"site=edge\"],$extra\"command\":\"touch $marker-$t\"}"
	[ "$(t_code POST /api/v1/sched/tasks "$body")" = 201 ] || t_fail "submit $t: $(cat "$T_BODY")"
	jq -e '.state == "placed" and .worker == "edge-1"' "$T_BODY" >/dev/null ||
		t_fail "$t not placed on edge-1: $(cat "$T_BODY")"
done
api /api/v1/sched/workers/edge-1/tasks | jq -e '[.tasks[].id] | sort == ["r-fail","r-lost","r-ok"]' >/dev/null ||
	t_fail "edge-1's tasks: $(api /api/v1/sched/workers/edge-1/tasks)"
sleep 1
ls "$marker"-* >/dev/null 2>&1 && t_fail "fogd ran a task placed on a remote worker: $(ls "$marker"-*)"

# ---- the runner claims them all, at once ----
t_sched claim edge-1 --max 10 --json >"$T_DIR/claim.json" || t_fail "claim: $(cat "$T_DIR/claim.json")"
jq -e '[.tasks[] | select(.state == "running")] | length == 3' "$T_DIR/claim.json" >/dev/null ||
	t_fail "claimed tasks not running: $(cat "$T_DIR/claim.json")"
t_sched claim edge-1 --json | jq -e '.tasks | length == 0' >/dev/null || t_fail "a second claim got tasks again"

# runs each command here, as a runner on edge-1 would, and reports
run_and_report() {
	local id=$1 cmd t0 t1 wall rc=0
	cmd=$(jq -r --arg id "$id" '.tasks[] | select(.id == $id) | .command' "$T_DIR/claim.json")
	t0=$(date +%s.%N)
	sh -c "$cmd; sleep 0.3; exit $2" || rc=$?
	t1=$(date +%s.%N)
	wall=$(echo "$t1 - $t0" | bc)
	if [ "$rc" = 0 ]; then
		t_sched report "$id" --state succeeded --exit-code 0 --wall "${wall}s" --cpu-time 0.01s --peak-mb 12 --worker edge-1 --json
	else
		t_sched report "$id" --state failed --exit-code "$rc" --wall "${wall}s" --worker edge-1 --json
	fi
}
run_and_report r-ok 0 >"$T_DIR/ok.json" || t_fail "report r-ok: $(cat "$T_DIR/ok.json")"
[ -e "$marker-r-ok" ] || t_fail "the runner did not run r-ok's command"
jq -e '.state == "succeeded" and .exit_code == 0 and .cpu_s == 0.01 and .peak_memory_mb == 12 and .run_s >= 0.3 and .run_s < 2' \
	"$T_DIR/ok.json" >/dev/null || t_fail "r-ok after its report: $(cat "$T_DIR/ok.json")"
run_and_report r-fail 3 >"$T_DIR/fail.json" || t_fail "report r-fail: $(cat "$T_DIR/fail.json")"
jq -e '.state == "failed" and .exit_code == 3' "$T_DIR/fail.json" >/dev/null || t_fail "r-fail: $(cat "$T_DIR/fail.json")"

# ---- wrong reports: 4xx, nothing changes ----
[ "$(t_code POST /api/v1/sched/tasks/r-ok/status '{"state":"failed","exit_code":1}')" = 409 ] ||
	t_fail "a second report of an ended task is not 409: $(cat "$T_BODY")"
[ "$(t_code POST /api/v1/sched/tasks/r-lost/status '{"state":"done"}')" = 400 ] || t_fail "bad state is not 400"
[ "$(t_code POST /api/v1/sched/tasks/r-lost/status '{"state":"succeeded","exit_code":2}')" = 400 ] ||
	t_fail "succeeded with exit code 2 is not 400"
[ "$(t_code POST /api/v1/sched/tasks/r-lost/status '{"state":"failed","worker":"edge-2"}')" = 409 ] ||
	t_fail "a report from another worker is not 409: $(cat "$T_BODY")"
[ "$(t_code POST /api/v1/sched/tasks/nope/status '{"state":"failed"}')" = 404 ] || t_fail "unknown task is not 404"
[ "$(t_code POST /api/v1/sched/workers/local/claim '')" = 409 ] || t_fail "claiming the local worker is not 409"
[ "$(t_code POST /api/v1/sched/workers/nope/claim '')" = 404 ] || t_fail "claiming an unknown worker is not 404"
[ "$(t_code POST /api/v1/sched/workers/edge-1/claim '{"max":0}')" = 400 ] || t_fail "claim max 0 is not 400"
t_sched submit --id here-1 --cpu 0.5 --mem 32 --wait -- true >/dev/null || t_fail "a local task failed"
[ "$(t_code POST /api/v1/sched/tasks/here-1/status '{"state":"failed"}')" = 409 ] ||
	t_fail "a report on a task run by fogd itself is not 409"
[ "$(t_tcp_code POST "http://127.0.0.1:$PORT/api/v1/sched/tasks/r-lost/status" '{"state":"failed"}')" = 403 ] ||
	t_fail "status over TCP is not 403"
[ "$(t_tcp_code POST "http://127.0.0.1:$PORT/api/v1/sched/workers/edge-1/claim")" = 403 ] || t_fail "claim over TCP is not 403"
[ "$(t_tcp_code GET "http://127.0.0.1:$PORT/api/v1/sched/workers/edge-1/tasks")" = 200 ] || t_fail "worker tasks over TCP is not 200"

# ---- the claimed task nobody reports times out after its 1.5 s ----
t_wait_json /api/v1/sched/tasks/r-lost '.state == "timed_out" and (.reason | test("timeout of 1.500 s"))' 10 ||
	t_fail "r-lost did not time out: $(api /api/v1/sched/tasks/r-lost)"
[ "$(t_code POST /api/v1/sched/tasks/r-lost/status '{"state":"succeeded"}')" = 409 ] || t_fail "a report after the timeout is not 409"

# ---- one task claimed by its own report ----
[ "$(t_code POST /api/v1/sched/tasks '{"id":"r-one","cpu_cores":1,"memory_mb":8,"affinity":["site=edge"]}')" = 201 ] ||
	t_fail "submit r-one: $(cat "$T_BODY")"
[ "$(t_code POST /api/v1/sched/tasks/r-one/status '{"state":"running","worker":"edge-1"}')" = 200 ] &&
	jq -e '.state == "running"' "$T_BODY" >/dev/null || t_fail "running report: $(cat "$T_BODY")"
[ "$(t_code POST /api/v1/sched/tasks/r-one/status '{"state":"failed","signal":9,"oom_killed":true,"peak_memory_mb":8}')" = 200 ] ||
	t_fail "oom report: $(cat "$T_BODY")"
jq -e '.state == "failed" and .signal == 9 and .oom_killed and (.reason | test("OOM"))' "$T_BODY" >/dev/null ||
	t_fail "r-one: $(cat "$T_BODY")"

# ---- the reports count as local runs do ----
api /api/v1/sched/stats >"$T_DIR/stats.json"
jq -e '.completed == 2 and .failed == 2 and .timed_out == 1 and .ml.observations == 4 and .active == 0 and .pending == 0' \
	"$T_DIR/stats.json" >/dev/null || t_fail "stats: $(cat "$T_DIR/stats.json")"
api /api/v1/sched/workers | jq -e '.workers[] | select(.id == "edge-1") | .completed == 1 and .failed == 2 and .tasks == 0' >/dev/null ||
	t_fail "edge-1's counters: $(api /api/v1/sched/workers)"
api /api/v1/sched/tasks/r-ok/explain | jq -e '.actual_ms >= 300 and .actual_ms < 2000' >/dev/null ||
	t_fail "the learner did not see r-ok's run time: $(api /api/v1/sched/tasks/r-ok/explain)"

# ---- batches: one result per element, a bad one refuses only itself ----
[ "$(t_code POST /api/v1/sched/tasks '[{"id":"b-1","cpu_cores":0.1,"memory_mb":1,"affinity":["site=edge"]},{"id":"b-2","memroy_mb":1},{"id":"b-3","cpu_cores":0.1,"memory_mb":1,"affinity":["site=edge"]},{"id":"b-1"}]')" = 200 ] ||
	t_fail "batch submit: $(cat "$T_BODY")"
jq -e '.submitted == 2 and .rejected == 2 and ([.results[].status] == [201,400,201,400]) and (.results[1].error | test("memroy_mb")) and (.results[3].error | test("already exists"))' \
	"$T_BODY" >/dev/null || t_fail "batch results: $(cat "$T_BODY")"
[ "$(t_code POST /api/v1/sched/cancel '{"ids":["b-1","b-3","nope","r-ok"]}')" = 200 ] || t_fail "batch cancel: $(cat "$T_BODY")"
jq -e '.cancelled == 2 and ([.results[].status] == [200,200,404,409])' "$T_BODY" >/dev/null ||
	t_fail "batch cancel results: $(cat "$T_BODY")"
big=$(jq -nc '[range(1001) | {id: "x\(.)"}]')
[ "$(t_code POST /api/v1/sched/tasks "$big")" = 400 ] && jq -e '.error | test("at most 1000")' "$T_BODY" >/dev/null ||
	t_fail "a batch of 1001 is not refused: $(head -c 200 "$T_BODY")"
api /api/v1/sched/stats | jq -e '.submitted == .pending + .placed + .running + .completed + .failed + .timed_out + .cancelled' >/dev/null ||
	t_fail "counts do not reconcile: $(api /api/v1/sched/stats)"
fogd_stop
t_log "ok: placed remotely, claimed, reported, timed out, 4xx on wrong reports, batches"
