#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The mem collector reports OOM kills: a helper that touches 256 MiB runs in a
# new memory cgroup limited to 64 MiB beneath fogd's own, the kernel kills it,
# and fogd must show an oom_kill event with the helper's pid, comm and cgroup,
# and count it in the mem collector's oom_kills.
. "$(dirname "$0")/lib.sh"

t_require_root_btf
fogd_start -o http.listen=off # the Unix socket is enough; 9477 may be taken
t_require_collector mem

limit=$((64 << 20))
name="fogd-test-oom-$$"
cg=
helper=

# Removes the test cgroup once the helper is gone (a cgroup with tasks cannot go).
remove_cgroup() {
	[ -n "$helper" ] && kill -KILL "$helper" 2>/dev/null
	[ -n "$helper" ] && wait "$helper" 2>/dev/null
	[ -n "$cg" ] || return 0
	# at exit: say so, never fail
	T_WAIT_FAIL=t_log t_wait_for 5 "cgroup $cg removed" cgroup_removed
}
cgroup_removed() { [ ! -d "$cg" ] || rmdir "$cg"; }
T_CLEANUP_EXTRA=remove_cgroup

mem_status() {
	api /api/v1/status | jq -c '.collectors[] | select(.name == "mem")'
}

# fogd's own cgroup in a hierarchy: the path field of the matching /proc/PID/cgroup line
v2_mount=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
v1_mount=$(findmnt -n -t cgroup -o TARGET,OPTIONS |
	awk '$2 ~ /(^|,)memory(,|$)/ { print $1; exit }')
if [ -n "$v2_mount" ] && grep -qw memory "$v2_mount/cgroup.controllers" 2>/dev/null; then
	self=$(awk -F: '$1 == "0" { print $3 }' "/proc/$FOGD_PID/cgroup")
	parent="$v2_mount${self%/}"
	grep -qw memory "$parent/cgroup.subtree_control" ||
		t_skip "cgroup v2 memory controller is not enabled for children of $parent"
	cg="$parent/$name"
	mkdir "$cg" || t_fail "cannot create cgroup $cg"
	echo "$limit" >"$cg/memory.max" || t_fail "cannot set memory.max of $cg"
	# with swap, the helper must not escape the limit by swapping
	if [ -e "$cg/memory.swap.max" ]; then
		echo 0 >"$cg/memory.swap.max" || t_fail "cannot set memory.swap.max of $cg"
	fi
	oom_count() { awk '$1 == "oom_kill" { print $2 }' "$cg/memory.events"; }
	rel="${cg#"$v2_mount"}"
elif [ -n "$v1_mount" ]; then
	self=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$FOGD_PID/cgroup")
	cg="$v1_mount${self%/}/$name"
	mkdir "$cg" || t_fail "cannot create cgroup $cg"
	echo "$limit" >"$cg/memory.limit_in_bytes" ||
		t_fail "cannot set memory.limit_in_bytes of $cg"
	if [ -e "$cg/memory.memsw.limit_in_bytes" ]; then
		echo "$limit" >"$cg/memory.memsw.limit_in_bytes" ||
			t_fail "cannot set memory.memsw.limit_in_bytes of $cg"
	fi
	oom_count() { awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control"; }
	rel="${cg#"$v1_mount"}"
else
	t_skip "no cgroup hierarchy with the memory controller"
fi
t_log "cgroup $cg, limit $limit bytes"

reclaims_before=$(api /api/v1/mem | jq -r '.memcg_reclaim.count')
kills_before=$(api /api/v1/mem | jq -r '.oom_kills')
[[ "$kills_before" =~ ^[0-9]+$ ]] ||
	t_fail "/api/v1/mem has no oom_kills ($kills_before): $(mem_status)"

# the subshell joins the cgroup, then becomes the helper (same pid)
(echo "$BASHPID" >"$cg/cgroup.procs" && exec "$HELPERS/touch_mem" -v -s 256) \
	>"$T_DIR/helper.out" 2>&1 &
helper=$!
rc=0
wait "$helper" || rc=$?
victim=$helper
helper=
[ "$rc" -eq 137 ] ||
	t_fail "touch_mem (pid $victim) ended with status $rc, not SIGKILL:" \
		"$(cat "$T_DIR/helper.out")"
[ "$(oom_count)" -ge 1 ] || t_fail "the kernel reports no OOM kill in $cg"
t_log "touch_mem (pid $victim) was OOM-killed"

# the event's cgroup is named in fogd's hierarchy: the test cgroup when fogd uses that one
mode=$(api /api/v1/status | jq -r '.cgroup.mode')
filter='.events[] | select(.type == "oom_kill" and .pid == $pid and .comm == "touch_mem"'
if [ "$mode" = "v1-memory" ] || { [ "$mode" = "v2" ] && [ "${cg#"$v2_mount"}" != "$cg" ]; }
then
	filter+=' and .cgroup == $cg)'
else
	filter+=')'
fi
t_wait_json /api/v1/events?type=oom_kill "$filter" 10 --argjson pid "$victim" --arg cg "$rel" ||
	t_fail "no oom_kill event for pid $victim in cgroup $rel:" \
		"$(api '/api/v1/events?type=oom_kill' | jq -c .events)"

# it mapped 256 MiB and was killed with its cgroup at the 64 MiB limit, mostly its own pages
page_size=$(getconf PAGESIZE)
event=$(api /api/v1/events?type=oom_kill |
	jq -c --argjson pid "$victim" '[.events[] | select(.pid == $pid)][0]')
jq -e --argjson uid "$(id -u)" --argjson vm $((256 << 20)) --argjson rss $((limit / 2)) \
	--argjson page "$page_size" \
	'.uid == $uid and .total_vm_pages * $page >= $vm and .rss_pages * $page >= $rss' \
	<<<"$event" >/dev/null ||
	t_fail "oom_kill event $event: want uid $(id -u), total_vm >= 256 MiB," \
		"rss >= $((limit / 2)) bytes"

t_wait_json /api/v1/mem '.oom_kills > $before' 10 --argjson before "$kills_before" ||
	t_fail "oom_kills stayed at $(api /api/v1/mem | jq .oom_kills), was $kills_before"

# the charges reclaimed in the cgroup before the kernel gave up and killed
if [[ "$reclaims_before" =~ ^[0-9]+$ ]]; then
	t_wait_json /api/v1/mem '.memcg_reclaim.count > $before' 10 \
		--argjson before "$reclaims_before" ||
		t_fail "memcg_reclaim.count stayed at $reclaims_before after an OOM kill at a limit"
else
	t_log "memcg_reclaim not available ($reclaims_before): not checked"
fi

fogd_stop
exit 0
