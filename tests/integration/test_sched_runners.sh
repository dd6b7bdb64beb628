#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The executor's pre-forked runners in fogd: runners wait as children of fogd holding none of
# its file descriptors (no BPF link, listener or map keeps living in them) and no capability
# (none effective, permitted or in the bounding set; no_new_privs); a task's command
# runs in a runner that existed before the task was submitted; a used runner and an idle
# runner killed from outside are both replaced (the dead one reaped, not left a zombie);
# fogd's exit ends the idle runners.
. "$(dirname "$0")/lib.sh"
t_require_root_btf

fogd_start
idle_pids() { api /api/v1/sched/stats | jq -r '.runners.pids[]' | sort -n; }

t_wait_json /api/v1/sched/stats '.runners.idle == 4' 10 || t_fail "no 4 idle runners: $(api /api/v1/sched/stats | jq -c .runners)"
before=$(idle_pids)
for p in $before; do
	[ "$(awk '{ print $4 }' "/proc/$p/stat")" = "$FOGD_PID" ] || t_fail "runner $p is not fogd's child"
	# stdin, stdout, stderr (/dev/null) and its socket: nothing else of fogd's
	n=$(ls "/proc/$p/fd" | wc -l)
	[ "$n" = 4 ] || t_fail "runner $p holds $n fds: $(ls -l "/proc/$p/fd")"
	readlink "/proc/$p/fd/1" | grep -q '^/dev/null$' || t_fail "runner $p's stdout is $(readlink "/proc/$p/fd/1")"
	caps=$(awk '/^(CapEff|CapPrm|CapBnd|NoNewPrivs):/ { printf "%s %s ", $1, $2 }' "/proc/$p/status")
	[ "$caps" = "CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 " ] ||
		t_fail "idle runner $p holds privileges: $caps"
	uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$p/status")
	want=$(id -u "$T_TASK_USER")
	[ "$uids" = "$want $want $want $want" ] || t_fail "idle runner $p is not $T_TASK_USER: Uid $uids"
done

# ---- a task runs in one of the runners that waited before it was submitted ----
t_task_dir
out="$T_TASK_DIR/pid.out"
# fogctl makes the command "exec sh -c ...": the runner's own pid runs it, so $$ is the runner
t_sched submit --id pid-1 --cpu 0.5 --mem 32 --wait -- sh -c 'echo $$ > "$1"' sh "$out" >/dev/null ||
	t_fail "task pid-1 failed: $(api /api/v1/sched/tasks/pid-1)"
task_pid=$(cat "$out")
grep -qx "$task_pid" <<<"$before" || t_fail "task ran in pid $task_pid, not in a waiting runner ($(echo $before))"

# ---- the used runner is replaced ----
t_wait_json /api/v1/sched/stats '.runners.idle == 4 and (.runners.pids | index($p) | not)' 10 --argjson p "$task_pid" ||
	t_fail "used runner not replaced: $(api /api/v1/sched/stats | jq -c .runners)"

# ---- an idle runner killed from outside is reaped and replaced ----
victim=$(idle_pids | head -1)
kill -9 "$victim"
t_wait_json /api/v1/sched/stats '.runners.idle == 4 and (.runners.pids | index($p) | not)' 10 --argjson p "$victim" ||
	t_fail "killed runner $victim not replaced: $(api /api/v1/sched/stats | jq -c .runners)"
[ -e "/proc/$victim" ] && t_fail "killed runner $victim left as $(awk '{ print $3 }' "/proc/$victim/stat")"
t_sched submit --id after-kill --cpu 0.5 --mem 32 --wait -- true >/dev/null || t_fail "a task after the kill failed"

# ---- fogd's exit ends the idle runners ----
last=$(idle_pids)
fogd_stop
for p in $last; do
	[ -e "/proc/$p" ] && t_fail "idle runner $p outlived fogd"
done
t_log "ok: runners hold no fogd fds, run tasks, are replaced when used or killed, end with fogd"
