#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A process burns 1.5 s of CPU; fogd's on-CPU time for it is within 5% of its getrusage.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
fogd_start
t_require_collector cpu

"$HELPERS/burn_cpu" 1500 >"$T_DIR/burn.out" &
burn=$!
T_CLEANUP_EXTRA="kill $burn 2>/dev/null"
t_wait_for 60 "burn_cpu printed its figures" test -s "$T_DIR/burn.out"
read -r pid truth_ns <"$T_DIR/burn.out"
[ "$pid" = "$burn" ] || t_fail "helper printed pid '$pid', expected $burn"
# the helper sleeps now: its time is all accounted at the switch; wait for a tick
sleep 2.5
got=$(api "/api/v1/processes/$pid" | jq -r '.cpu_seconds') || t_fail "process $pid not tracked"
t_log "getrusage ${truth_ns} ns, fogd ${got} s"
awk -v got="$got" -v truth="$truth_ns" 'BEGIN {
	t = truth / 1e9; d = (got - t) / t; if (d < 0) d = -d;
	exit !(d <= 0.05) }' || t_fail "cpu_seconds $got is not within 5% of ${truth_ns} ns"

# involuntary + voluntary switches were counted for it
sw=$(api "/api/v1/processes/$pid" | jq '.nvcsw + .nivcsw')
[ "$sw" -ge 1 ] || t_fail "no context switches counted for $pid"
# per-CPU busy time covers at least what the helper used
busy=$(api /api/v1/cpu | jq '[.cpus[].busy_seconds] | add')
awk -v b="$busy" -v t="$truth_ns" 'BEGIN { exit !(b >= t / 1e9) }' ||
	t_fail "host busy time $busy s is below the helper's own CPU time"
# the process's cgroup is named as /proc/PID/cgroup names it, in fogd's hierarchy
mode=$(api /api/v1/status | jq -r '.cgroup.mode')
case $mode in
v2) want=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup") ;;
v1-memory) want=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$pid/cgroup") ;;
v1-cpu) want=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "/proc/$pid/cgroup") ;;
esac
cg=$(api "/api/v1/processes/$pid" | jq -r '.cgroup')
[ "$cg" = "$want" ] || t_fail "process cgroup '$cg', /proc/$pid/cgroup says '$want' ($mode)"
fogd_stop

# a cgroup's on-CPU time: a burner alone in a fresh cgroup beneath fogd's own
fogd_start
mode=$(api /api/v1/status | jq -r '.cgroup.mode')
mount=$(api /api/v1/status | jq -r '.cgroup.mount')
self=$(api /api/v1/status | jq -r '.cgroup.self')
cg="$mount${self%/}/fogd-test-cpu-$$"
mkdir "$cg" || t_fail "cannot create cgroup $cg"
T_CLEANUP_EXTRA="$T_CLEANUP_EXTRA; kill \$b2 2>/dev/null; sleep 0.2; rmdir '$cg'"
sh -c "echo \$\$ > '$cg/cgroup.procs' && exec '$HELPERS/burn_cpu' 800" >"$T_DIR/burn2.out" &
b2=$!
t_wait_for 60 "burn_cpu in $cg printed its figures" test -s "$T_DIR/burn2.out"
read -r pid2 truth2 <"$T_DIR/burn2.out"
sleep 2.5
rel="${self%/}/fogd-test-cpu-$$"
got2=$(api /api/v1/cpu | jq -r --arg p "$rel" '.cgroups[] | select(.path == $p) | .cpu_seconds')
t_log "cgroup $rel ($mode): getrusage ${truth2} ns, fogd ${got2:-none} s"
[ -n "$got2" ] || t_fail "cgroup $rel not in /api/v1/cpu"
awk -v got="$got2" -v truth="$truth2" 'BEGIN {
	t = truth / 1e9; d = (got - t) / t; if (d < 0) d = -d; exit !(d <= 0.05) }' ||
	t_fail "cgroup cpu_seconds $got2 is not within 5% of its only process's ${truth2} ns"
kill "$b2"
fogd_stop
