#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The mem collector counts user page faults per process: a helper writes one
# byte to each page of 256 MiB of fresh anonymous memory (huge pages refused),
# which costs one fault per page, and fogd must report at least that many
# faults for the helper's pid, in the host total too, its resident set and
# its memory cgroup's use; once the helper unmaps it, its resident set falls.
. "$(dirname "$0")/lib.sh"

t_require_root_btf
fogd_start -o http.listen=off # the Unix socket is enough; 9477 may be taken
t_require_collector mem

# the helper's figures from /api/v1/processes, for failure messages
proc_json() {
	api /api/v1/processes | jq -c --argjson pid "$helper" \
		'[.processes[] | select(.pid == $pid) | {pid, comm, faults, rss_bytes, cgroup}]'
}

faults_before=$(api /api/v1/mem | jq -r '.faults_total')
[[ "$faults_before" =~ ^[0-9]+$ ]] ||
	t_fail "/api/v1/mem has no faults_total ($faults_before):" \
		"$(api /api/v1/status | jq -c '.collectors[] | select(.name == "mem")')"

out="$T_DIR/touch_mem.out"
"$HELPERS/touch_mem" -s 256 -w >"$out" &
helper=$!
T_CLEANUP_EXTRA='kill "$helper" 2>/dev/null; wait "$helper" 2>/dev/null'

touched() {
	grep -q '^touched ' "$out" && return 0
	kill -0 "$helper" 2>/dev/null || t_fail "touch_mem exited early: $(cat "$out")"
	return 1
}
t_wait_for 60 "touch_mem touched its memory" touched
pages=$(awk '/^touched /{print $2}' "$out")
[ -n "$pages" ] || t_fail "touch_mem printed no page count: $(cat "$out")"
page_size=$(getconf PAGESIZE)
[ "$((pages * page_size))" -eq $((256 << 20)) ] ||
	t_fail "touch_mem touched $pages pages of $page_size bytes, not 256 MiB"
t_log "touch_mem (pid $helper) touched $pages pages"

t_wait_json /api/v1/processes '.processes[] | select(.pid == $pid) | .faults >= $want' 10 \
	--argjson pid "$helper" --argjson want "$pages" ||
	t_fail "fogd shows $(proc_json) for pid $helper, want faults >= $pages"

t_wait_json /api/v1/processes '.processes[] | select(.pid == $pid) | .rss_bytes >= $want' 10 \
	--argjson pid "$helper" --argjson want "$((pages * page_size))" ||
	t_fail "fogd shows $(proc_json) for pid $helper, want rss_bytes >= $((pages * page_size))"

t_wait_json /api/v1/mem '.faults_total - $before >= $want' 10 \
	--argjson before "$faults_before" --argjson want "$pages" ||
	t_fail "faults_total grew from $faults_before to $(api /api/v1/mem | jq .faults_total)," \
		"want +$pages at least"

# the helper's memory is charged to its memory cgroup, reported when fogd's hierarchy has one
mode=$(api /api/v1/status | jq -r '.cgroup.mode')
mount=$(api /api/v1/status | jq -r '.cgroup.mount')
cg=
if [ "$mode" = "v1-memory" ]; then
	cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$helper/cgroup")
elif [ "$mode" = "v2" ] && grep -qw memory "$mount/cgroup.controllers" 2>/dev/null; then
	cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$helper/cgroup")
	[ "$cg" = "/" ] && cg= # the v2 root has no memory.current
fi
if [ -n "$cg" ]; then
	t_wait_json /api/v1/mem '.cgroups[] | select(.path == $cg) | .usage_bytes >= $want' 10 \
		--arg cg "$cg" --argjson want $((256 << 20)) ||
		t_fail "cgroup $cg of pid $helper: $(api /api/v1/mem | jq -c .cgroups)," \
			"want usage_bytes >= $((256 << 20))"
else
	t_log "no memory controller in fogd's cgroup hierarchy ($mode): cgroup use not checked"
fi

# it unmaps the memory: its resident set falls (the reading follows a process that ran)
kill -USR1 "$helper"
t_wait_for 30 "touch_mem freed its memory" grep '^freed' "$out"
t_wait_json /api/v1/processes '.processes[] | select(.pid == $pid) | .rss_bytes < $want' 10 \
	--argjson pid "$helper" --argjson want "$((64 << 20))" ||
	t_fail "fogd shows $(proc_json) for pid $helper after it unmapped 256 MiB, want rss_bytes < 64 MiB"

kill "$helper"
wait "$helper" 2>/dev/null
fogd_stop
exit 0
