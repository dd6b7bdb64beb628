#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A process whose threads start and exit throughout: its on-CPU time and page
# faults in fogd are within 1% of what /proc/PID/stat says for the whole
# process (exited threads included) once it is still.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
fogd_start -o http.listen=off
t_require_collector cpu
t_require_collector mem

out="$T_DIR/churn.out"
"$HELPERS/thread_churn" 150 >"$out" &
churn=$!
T_CLEANUP_EXTRA='kill "$churn" 2>/dev/null'
churn_done() {
	grep -q '^done ' "$out" && return 0
	kill -0 "$churn" 2>/dev/null || t_fail "thread_churn exited early: $(cat "$out")"
	return 1
}
t_wait_for 60 "thread_churn finished" churn_done
# the process sleeps now: its figures stay; two ticks for fogd to read them
sleep 2.5
read -r -a st < <(sed 's/.*) //' "/proc/$churn/stat")
# after "pid (comm) ": state is field 0; minflt 7, majflt 9, utime 11, stime 12
hz=$(getconf CLK_TCK)
cpu_truth=$(awk -v u="${st[11]}" -v s="${st[12]}" -v hz="$hz" 'BEGIN { printf "%.3f", (u + s) / hz }')
faults_truth=$((st[7] + st[9]))
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$churn/status")
j=$(api "/api/v1/processes/$churn") || t_fail "process $churn not tracked"
cpu=$(jq -r '.cpu_seconds' <<<"$j")
faults=$(jq -r '.faults' <<<"$j")
t_log "stat: cpu ${cpu_truth} s, faults $faults_truth ($threads thread left); fogd: cpu $cpu s, faults $faults"
awk -v f="$cpu" -v t="$cpu_truth" 'BEGIN { d = f - t; if (d < 0) d = -d; exit !(t > 0.5 && d <= 0.01 * t + 0.01) }' ||
	t_fail "cpu_seconds $cpu is not within 1% of /proc/$churn/stat's ${cpu_truth} s"
awk -v f="$faults" -v t="$faults_truth" 'BEGIN { d = f - t; if (d < 0) d = -d; exit !(t > 10000 && d <= 0.01 * t) }' ||
	t_fail "faults $faults are not within 1% of /proc/$churn/stat's minflt+majflt $faults_truth"
fogd_stop
