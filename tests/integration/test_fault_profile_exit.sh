#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A profiled process that exits mid-profile: prof_hot burns 1 s of CPU during a 12 s profile
# of its pid, then exits. The profile completes (done, not failed) with the frames resolved
# while it ran (prof_hot_leaf on top), says the process exited, and fogd goes on: it ticks,
# answers, and a second profile works.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
HOT="$HELPERS/prof_hot"
[ -x "$HOT" ] || t_fail "$HOT not built"

fogd_start -o fogd.tick_ms=500
# the CPU time it used after the profile began is the ground truth for the sample count (on
# a busy host its start and the request take a while of it)
(TIMEFORMAT='%U %S'; time "$HOT" 1c >"$T_DIR/hot.out") 2>"$T_DIR/hot.time" &
runner=$!
t_wait_for 30 "prof_hot printed its pid" test -s "$T_DIR/hot.out"
hot=$(cat "$T_DIR/hot.out")
[ -n "$hot" ] && [ -d "/proc/$hot" ] || t_fail "prof_hot did not print its pid"
T_CLEANUP_EXTRA="kill $hot 2>/dev/null"
r=$(t_post /api/v1/profile "{\"pid\": $hot, \"seconds\": 12}")
id=$(jq -e '.id' <<<"$r") || t_fail "POST /api/v1/profile: $r"
# sampling began before the answer: CPU used from here on was sampled
at_post=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$hot/stat" 2>/dev/null || echo 1)
ticks0=$(api /api/v1/status | jq '.ticks')
wait "$runner"
# the profile must still be sampling when its process is gone (whatever the host's speed)
state=$(api "/api/v1/profile/$id" | jq -r '.state')
t_log "prof_hot $hot exited; the profile is $state"
[ "$state" = running ] || t_fail "the profile is '$state' when prof_hot exited: it did not exit mid-profile"
kill -0 "$hot" 2>/dev/null && t_fail "prof_hot still runs"
t_wait_json "/api/v1/profile/$id" '.state != "running"' 30 ||
	t_fail "profile $id still running: $(api "/api/v1/profile/$id" | jq -c .)"
p=$(api "/api/v1/profile/$id")
t_log "profile: $(jq -c '{state, error, total: .summary.total, top: .summary.top_self[0],
	notes: .summary.notes}' <<<"$p")"
jq -e '.state == "done"' <<<"$p" >/dev/null || t_fail "profile not done: $(jq -c . <<<"$p")"
total=$(awk '{ printf "%.3f", $1 + $2 }' "$T_DIR/hot.time")
cpu=$(awk -v t="$total" -v a="$at_post" 'BEGIN { printf "%.3f", t - a }')
# sampling is statistical: at 0.1 s of CPU 10 samples are expected, sd ~3
want=$(awk -v c="$cpu" 'BEGIN { n = int(c * 99 * 0.4); print (n > 3 ? n : 3) }')
t_log "prof_hot used $total s of CPU, $cpu s of it after the profile began: want at least $want samples at 99 Hz"
jq -e --argjson w "$want" '.summary.total >= $w' <<<"$p" >/dev/null ||
	t_fail "too few samples: $(jq -c .summary.total <<<"$p") for $cpu s of CPU"
jq -e '.summary.top_self[0].function == "prof_hot_leaf"' <<<"$p" >/dev/null ||
	t_fail "frames not resolved: top is $(jq -c '.summary.top_self[0:3]' <<<"$p")"
jq -e --arg pid "$hot" \
	'.summary.notes | any(test("process " + $pid + " exited during the profile"))' <<<"$p" \
	>/dev/null || t_fail "the profile does not say the process exited: $(jq -c .summary.notes <<<"$p")"
api "/api/v1/profile/$id/folded" | grep -q 'prof_hot_caller;prof_hot_leaf [0-9]*$' ||
	t_fail "no resolved prof_hot_caller;prof_hot_leaf stack in the folded output"
api "/api/v1/profile/$id/html" | grep -q "process $hot exited" ||
	t_fail "the HTML report does not say the process exited"

# fogd goes on
[ "$(api /api/v1/status | jq '.ticks')" -gt "$ticks0" ] || t_fail "fogd stopped ticking"
"$HOT" 3 >"$T_DIR/hot2.out" &
hot2=$!
T_CLEANUP_EXTRA="kill $hot2 2>/dev/null"
t_wait_for 30 "the second prof_hot printed its pid" test -s "$T_DIR/hot2.out"
r=$(t_post /api/v1/profile "{\"pid\": $hot2, \"seconds\": 1}")
id2=$(jq -e '.id' <<<"$r") || t_fail "second POST /api/v1/profile: $r"
t_wait_json "/api/v1/profile/$id2" '.state == "done"' 10 || t_fail "second profile not done"
api "/api/v1/profile/$id2" | jq -e '.summary.top_self[0].function == "prof_hot_leaf" and
	(.summary.notes | all(test("exited") | not))' >/dev/null ||
	t_fail "second profile: $(api "/api/v1/profile/$id2" | jq -c .summary)"
api "/api/v1/profile/$id" | jq -e '.state == "done"' >/dev/null || t_fail "first profile lost"
fogd_stop
