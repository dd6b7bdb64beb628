#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The placement engine in fogd, driven through fogctl sched: a real command runs to success
# on the worker "local" (its output file and exit code are the ground truth); a task that
# touches more memory than its limit is OOM-killed and reported failed, while the same
# program under a large enough limit succeeds; an impossible task is rejected with the
# reason (422) and leaves no task behind; bad bodies get 400 naming the field (oversized ones: see http.c); a cancelled
# task's process is gone; explain answers for a placed task; the local worker's signals
# come from the collectors; mutating routes answer 403 on TCP, reads answer there.
. "$(dirname "$0")/lib.sh"
t_require_root_btf

PORT=$(t_free_port)
fogd_start -o http.listen="127.0.0.1:$PORT" -o http.tcp_api=on

api /api/v1/sched/stats >"$T_DIR/stats.json" || t_fail "GET /api/v1/sched/stats failed: is the sched agent wired into fogd?"
cgv=$(jq -r .cgroup_version "$T_DIR/stats.json")
[ "$cgv" = 1 ] || [ "$cgv" = 2 ] || t_skip "no usable memory cgroup controller for the executor (cgroup_version $cgv)"
t_log "executor uses cgroup v$cgv"

# ---- the local worker and its live signals ----
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
api /api/v1/sched/workers | jq -e --argjson cpus "$(nproc)" --argjson mb $((mem_kb / 1024)) \
	'.workers | length == 1 and .[0].id == "local" and .[0].cpu_cores == $cpus and .[0].memory_mb == $mb' >/dev/null ||
	t_fail "local worker wrong (want $(nproc) cores, $((mem_kb / 1024)) MiB): $(api /api/v1/sched/workers)"
t_wait_json /api/v1/sched/workers '.workers[0].signals | .state == "fresh" and .age_s < 5 and (.cpu_util | type) == "number"' 10 ||
	t_fail "local worker has no fresh signals: $(api /api/v1/sched/workers)"

t_task_dir
cp "$HELPERS/touch_mem" "$T_TASK_DIR/touch_mem"

# ---- a real command to success ----
out="$T_TASK_DIR/ok.out"
t_sched submit --id ok-1 --cpu 1 --mem 64 --priority high --wait --json -- \
	sh -c 'echo "ran as $$" > "$1"; exit 0' sh "$out" >"$T_DIR/ok.json" ||
	t_fail "fogctl sched submit --wait of a succeeding task failed: $(cat "$T_DIR/ok.json")"
grep -q '^ran as [0-9][0-9]*$' "$out" || t_fail "the task's command did not run (no $out)"

# a task holds no capability, though fogd runs as root
caps="$T_TASK_DIR/caps.out"
t_sched submit --id caps-1 --cpu 1 --mem 64 --wait -- \
	sh -c 'grep -E "^Cap(Eff|Prm|Bnd|Amb)|^NoNewPrivs" /proc/self/status > "$1"' sh "$caps" >/dev/null ||
	t_fail "the capability probe task failed"
for f in CapEff CapPrm CapBnd CapAmb; do
	grep -q "^$f:[[:space:]]*0000000000000000$" "$caps" || t_fail "task has $f: $(cat "$caps")"
done
grep -q "^NoNewPrivs:[[:space:]]*1$" "$caps" || t_fail "task may gain privileges: $(cat "$caps")"

# ---- a task runs as the task user: root's files, fogd's socket and fogd itself are out of reach ----
ids="$T_TASK_DIR/ids.out"
victim="/etc/fogd-test-task-$$"
t_sched submit --id ids-1 --cpu 0.5 --mem 32 --wait -- sh -c '
	echo "uid $(id -u) gid $(id -g) groups $(id -G)" > "$1"
	touch "$2" 2>/dev/null && echo wrote-etc >> "$1"
	kill -0 "$3" 2>/dev/null && echo signals-fogd >> "$1"
	[ -w "$4" ] && echo socket-writable >> "$1"
	exit 0' sh "$ids" "$victim" "$FOGD_PID" "$FOG_SOCK" >/dev/null || t_fail "the id probe task failed"
want_uid=$(id -u "$T_TASK_USER")
want_gid=$(id -g "$T_TASK_USER")
grep -qx "uid $want_uid gid $want_gid groups $want_gid" "$ids" ||
	t_fail "task not run as $T_TASK_USER ($want_uid:$want_gid, no other group): $(cat "$ids")"
[ ! -e "$victim" ] || { rm -f "$victim"; t_fail "a task created $victim"; }
! grep -q "wrote-etc\|signals-fogd\|socket-writable" "$ids" || t_fail "task reached root's things: $(cat "$ids")"

# ---- a task ends as a whole: a child it left behind dies with it ----
bgpid="$T_TASK_DIR/bg.pid"
t_sched submit --id bg-1 --cpu 0.5 --mem 32 --wait -- \
	sh -c 'sleep 300 & echo $! > "$1"; exit 0' sh "$bgpid" >/dev/null || t_fail "the daemonising task failed"
[ -s "$bgpid" ] || t_fail "the daemonising task wrote no pid"
left=$(cat "$bgpid")
gone() { ! kill -0 "$1" 2>/dev/null || { ps -o pid,user,cmd -p "$1"; false; }; }
# well within the child's 300 s sleep
t_wait_for 30 "the succeeded task's child sleep ($left) gone with it" gone "$left"
api /api/v1/sched/tasks/bg-1 | jq -e '.state == "succeeded"' >/dev/null ||
	t_fail "task bg-1: $(api /api/v1/sched/tasks/bg-1)"
jq -e '.state == "succeeded" and .exit_code == 0 and .worker == "local" and .priority == "high" and .oom_killed == false' \
	"$T_DIR/ok.json" >/dev/null || t_fail "task ok-1 not reported succeeded: $(cat "$T_DIR/ok.json")"

# a failing exit code is a failure, with the code
t_sched submit --id exit-3 --cpu 0.5 --mem 32 --wait -- sh -c 'exit 3' >/dev/null &&
	t_fail "a task exiting 3 was reported as succeeded"
api /api/v1/sched/tasks/exit-3 | jq -e '.state == "failed" and .exit_code == 3 and .oom_killed == false' >/dev/null ||
	t_fail "task exit-3: $(api /api/v1/sched/tasks/exit-3)"

# ---- the memory limit: OOM-killed under 64 MiB, fine under 512 MiB ----
t_sched submit --id oom-1 --cpu 1 --mem 64 --wait -- "$T_TASK_DIR/touch_mem" -s 256 >"$T_DIR/oom.txt" &&
	t_fail "a task touching 256 MiB under a 64 MiB limit succeeded: $(cat "$T_DIR/oom.txt")"
api /api/v1/sched/tasks/oom-1 >"$T_DIR/oom.json"
jq -e '.state == "failed" and .oom_killed == true and .signal == 9 and (.reason | test("OOM"))' "$T_DIR/oom.json" >/dev/null ||
	t_fail "task oom-1 not reported OOM-killed: $(cat "$T_DIR/oom.json")"
jq -e '.peak_memory_mb > 48 and .peak_memory_mb <= 65' "$T_DIR/oom.json" >/dev/null ||
	t_fail "task oom-1 peak memory not at its 64 MiB limit: $(jq .peak_memory_mb "$T_DIR/oom.json")"
grep -q "OOM-killed" "$T_DIR/oom.txt" || t_fail "fogctl does not say OOM-killed: $(cat "$T_DIR/oom.txt")"
t_sched submit --id oom-control --cpu 1 --mem 512 --wait -- "$T_TASK_DIR/touch_mem" -s 256 >/dev/null ||
	t_fail "the same program under 512 MiB failed: $(api /api/v1/sched/tasks/oom-control)"
api /api/v1/sched/tasks/oom-control | jq -e '.peak_memory_mb >= 256' >/dev/null ||
	t_fail "oom-control peak memory below the 256 MiB it touched: $(api /api/v1/sched/tasks/oom-control)"

# ---- impossible requirements: 422 with the reason, no task kept ----
huge=$((mem_kb / 1024 * 4))
if t_sched submit --id huge --cpu 1 --mem "$huge" -- true 2>"$T_DIR/huge.err"; then
	t_fail "a task needing $huge MiB was accepted on a $((mem_kb / 1024)) MiB host"
fi
grep -q "no worker has $huge MiB of memory" "$T_DIR/huge.err" || t_fail "no reason for the rejection: $(cat "$T_DIR/huge.err")"
grep -q "HTTP 422" "$T_DIR/huge.err" || t_fail "rejection is not a 422: $(cat "$T_DIR/huge.err")"
[ "$(t_code GET /api/v1/sched/tasks/huge)" = 404 ] || t_fail "the rejected task was kept"
t_sched submit --id many-cores --cpu $(($(nproc) * 8)) --mem 1 -- true 2>"$T_DIR/cores.err" &&
	t_fail "a task needing $(($(nproc) * 8)) cores was accepted"
grep -q "no worker has .* cpu cores" "$T_DIR/cores.err" || t_fail "no cpu reason: $(cat "$T_DIR/cores.err")"

# ---- bad bodies: 400 naming the field ----
code=$(t_code POST /api/v1/sched/tasks '{"id":"bad-1","memroy_mb":64}')
[ "$code" = 400 ] && jq -e '.error | test("memroy_mb")' "$T_BODY" >/dev/null || t_fail "unknown field: $code $(cat "$T_BODY")"
code=$(t_code POST /api/v1/sched/tasks '{"id":"bad-2","memory_mb":-5}')
[ "$code" = 400 ] && jq -e '.error | test("memory_mb")' "$T_BODY" >/dev/null || t_fail "negative size: $code $(cat "$T_BODY")"
code=$(t_code POST /api/v1/sched/tasks '{"id":"bad-3","cpu_cores":-1}')
[ "$code" = 400 ] && jq -e '.error | test("cpu_cores")' "$T_BODY" >/dev/null || t_fail "negative cpu: $code $(cat "$T_BODY")"
code=$(t_code POST /api/v1/sched/tasks '{"id":"ok-1","cpu_cores":1}')
[ "$code" = 400 ] && jq -e '.error | test("ok-1") and test("already exists")' "$T_BODY" >/dev/null || t_fail "duplicate id: $code $(cat "$T_BODY")"
code=$(t_code POST /api/v1/sched/tasks '{"id":"bad/4"}')
[ "$code" = 400 ] && jq -e '.error | test("id")' "$T_BODY" >/dev/null || t_fail "bad id: $code $(cat "$T_BODY")"
code=$(t_code POST /api/v1/sched/tasks '{"id": "bad-5", "priority": "urgent"}')
[ "$code" = 400 ] && jq -e '.error | test("priority")' "$T_BODY" >/dev/null || t_fail "bad priority: $code $(cat "$T_BODY")"
code=$(t_code POST /api/v1/sched/tasks '{"id": "bad-6"')
[ "$code" = 400 ] || t_fail "malformed JSON: $code $(cat "$T_BODY")"
api /api/v1/sched/tasks | jq -e '[.tasks[].id | select(startswith("bad"))] | length == 0' >/dev/null ||
	t_fail "a rejected task was kept: $(api /api/v1/sched/tasks | jq -c '[.tasks[].id]')"

# ---- explain for a placed task ----
api /api/v1/sched/tasks/ok-1/explain >"$T_DIR/explain.json"
jq -e '.task == "ok-1" and .worker == "local" and .decision.worker == "local" and .decision.predicted_ms > 0 and .decision.candidates == 1 and (.reason | length) > 0' \
	"$T_DIR/explain.json" >/dev/null || t_fail "explain ok-1: $(cat "$T_DIR/explain.json")"
t_sched explain ok-1 | grep -q "placed on local" || t_fail "fogctl sched explain: $(t_sched explain ok-1)"
[ "$(t_code GET /api/v1/sched/tasks/nope/explain)" = 404 ] || t_fail "explain of an unknown task is not 404"

# ---- cancel: the process goes away ----
pidf="$T_TASK_DIR/long.pid"
t_sched submit --id long-1 --cpu 0.5 --mem 32 -- sh -c 'echo $$ > "$1"; exec sleep 60' sh "$pidf" >/dev/null ||
	t_fail "submit long-1"
t_wait_for 30 "long-1 wrote its pid" test -s "$pidf"
pid=$(cat "$pidf" 2>/dev/null) || t_fail "long-1 did not start"
kill -0 "$pid" 2>/dev/null || t_fail "long-1 (pid $pid) is not running"
api /api/v1/sched/tasks/long-1 | jq -e '.state == "running"' >/dev/null || t_fail "long-1 not running: $(api /api/v1/sched/tasks/long-1)"
t_sched cancel long-1 >/dev/null || t_fail "fogctl sched cancel long-1 failed"
# well within its 60 s sleep
t_wait_for 30 "the cancelled task's process $pid gone" gone "$pid"
api /api/v1/sched/tasks/long-1 | jq -e '.state == "cancelled"' >/dev/null || t_fail "long-1 not cancelled: $(api /api/v1/sched/tasks/long-1)"
[ "$(t_code DELETE /api/v1/sched/tasks/long-1)" = 409 ] || t_fail "cancelling an ended task is not 409"

# ---- workers over the API ----
code=$(t_code POST /api/v1/sched/workers \
	'{"id":"w2","cpu_cores":4,"memory_mb":8192,"labels":["zone=a"],"signals":{"cpu_util":0.5,"age_s":1}}')
[ "$code" = 201 ] || t_fail "register w2: $code $(cat "$T_BODY")"
api /api/v1/sched/workers | jq -e '.workers[] | select(.id == "w2") | .signals.state == "fresh" and .signals.cpu_util == 0.5 and .signals.runq_p99_us == null' >/dev/null ||
	t_fail "w2 signals: $(api /api/v1/sched/workers)"
[ "$(t_code DELETE /api/v1/sched/workers/local)" = 409 ] || t_fail "removing the local worker is not refused"
[ "$(t_code DELETE /api/v1/sched/workers/w2)" = 200 ] || t_fail "removing w2 failed"
[ "$(t_code DELETE /api/v1/sched/workers/w2)" = 404 ] || t_fail "removing w2 twice is not 404"

# ---- TCP: reads yes, changes no ----
[ "$(t_tcp_code GET "http://127.0.0.1:$PORT/api/v1/sched/tasks")" = 200 ] || t_fail "GET tasks over TCP is not 200"
[ "$(t_tcp_code POST "http://127.0.0.1:$PORT/api/v1/sched/tasks" '{"id":"tcp-1"}')" = 403 ] ||
	t_fail "POST tasks over TCP is not 403"
[ "$(t_tcp_code DELETE "http://127.0.0.1:$PORT/api/v1/sched/tasks/ok-1")" = 403 ] ||
	t_fail "DELETE task over TCP is not 403"
[ "$(t_tcp_code POST "http://127.0.0.1:$PORT/scheduler/filter" '{}')" = 404 ] ||
	t_fail "the scheduler extender answers though it was not configured"

# ---- stats agree with what happened ----
api /api/v1/sched/stats >"$T_DIR/stats.json"
jq -e '.completed == 5 and .failed == 2 and .cancelled == 1 and .rejected == 3 and .pending == 0 and .active == 0 and .ml.observations == 7' \
	"$T_DIR/stats.json" >/dev/null || t_fail "stats: $(cat "$T_DIR/stats.json")"
own=$(t_own_cgroup memory "$FOGD_PID")
group="/sys/fs/cgroup/memory${own%/}/$FOG_TASK_CG"
[ "$cgv" = 1 ] && { [ -d "$group" ] || t_fail "executor cgroup $group not found while fogd runs"; }
# the executor's folder removed behind fogd's back (another fogd's exit, an operator): the
# next task creates it again and runs
if [ "$cgv" = 1 ]; then
	rmdir "$group" || t_fail "cannot remove the idle executor folder $group"
	t_sched submit --id heal-1 --cpu 0.5 --mem 32 --wait -- true >/dev/null ||
		t_fail "a task after its cgroup folder was removed: $(api /api/v1/sched/tasks/heal-1)"
	[ -d "$group" ] || t_fail "executor cgroup $group was not created again"
fi
fogd_stop
[ "$cgv" = 1 ] && [ -d "$group" ] && t_fail "executor cgroup $group left behind after fogd stopped"
t_log "ok: success, exit code, OOM kill with control, 422 reasons, 400 fields, explain, cancel, workers, TCP"
