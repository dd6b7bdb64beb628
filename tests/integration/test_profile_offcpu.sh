#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Off-CPU profile (fogctl profile --mode offcpu) of prof_offcpu, which burns CPU in offcpu_burn()
# and sleeps 20 x 50 ms in sleepy_wait(), measuring the time it really slept: the profile
# attributes >= 80% of the blocked time to stacks through sleepy_wait, its total is within 10%
# of the measured sleep, pprof says nanoseconds and sums to the folded total, and the
# sched_switch program is loaded only while an off-CPU profile runs.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v bpftool >/dev/null || t_skip "needs bpftool"
offcpu_progs() { bpftool prog show 2>/dev/null | grep -c 'handle_offcpu' || true; }

fogd_start
[ "$(offcpu_progs)" -eq 0 ] || t_fail "an off-CPU program is loaded before any off-CPU profile"

mkfifo "$T_DIR/go"
"$HELPERS/prof_offcpu" 20 50 <"$T_DIR/go" >"$T_DIR/off.out" &
h=$!
T_CLEANUP_EXTRA="kill $h 2>/dev/null"
exec 7>"$T_DIR/go"	# the helper waits for a line: it blocks before the profile starts
t_wait_for 30 "prof_offcpu printed its pid" test -s "$T_DIR/off.out"
[ "$(head -1 "$T_DIR/off.out")" = "$h" ] || t_fail "prof_offcpu did not print its pid"

"$FOGCTL" profile -p "$h" -d 8s --mode offcpu -o "$T_DIR/off.folded" 2>"$T_DIR/fogctl.err" &
ctl=$!
t_wait_json /api/v1/profile '.profiles | map(select(.state == "running" and .mode == "offcpu")) |
	length == 1' 10 || t_fail "no running off-CPU profile: $(api /api/v1/profile)"
[ "$(offcpu_progs)" -ge 1 ] || t_fail "no off-CPU program loaded while the profile runs"
echo go >&7
exec 7>&-
wait "$h" || t_fail "prof_offcpu failed"
truth=$(tail -1 "$T_DIR/off.out" | jq -e '.slept_ns') || t_fail "no ground truth: $(cat "$T_DIR/off.out")"
wait "$ctl" || t_fail "fogctl profile --mode offcpu failed: $(cat "$T_DIR/fogctl.err")"
[ "$(offcpu_progs)" -eq 0 ] || t_fail "the off-CPU program stays loaded after the profile"

total=$(awk '{ s += $NF } END { printf "%.0f\n", s }' "$T_DIR/off.folded")
sleepy=$(awk 'index($0, ";sleepy_wait;") { s += $NF } END { printf "%.0f\n", s }' "$T_DIR/off.folded")
t_log "off-CPU: $sleepy of $total ns through sleepy_wait; prof_offcpu measured $truth ns asleep"
[ "$total" -gt 0 ] || t_fail "empty off-CPU profile: $(cat "$T_DIR/off.folded")"
[ $((sleepy * 100)) -ge $((total * 80)) ] ||
	t_fail "sleepy_wait has $sleepy of $total ns (< 80%): $(sort -t' ' -k2 -n "$T_DIR/off.folded" | tail -3)"
awk -v t="$total" -v w="$truth" 'BEGIN { d = t - w; if (d < 0) d = -d; exit !(d <= w * 0.10) }' ||
	t_fail "off-CPU total $total ns is not within 10% of the $truth ns slept"
grep -q ';main;sleepy_wait;' "$T_DIR/off.folded" || t_fail "no main;sleepy_wait stack: $(head -3 "$T_DIR/off.folded")"
# the CPU burner never blocks: it has (almost) no off-CPU time
burn=$(awk 'index($0, ";offcpu_burn") { s += $NF } END { printf "%.0f\n", s }' "$T_DIR/off.folded")
[ $((burn * 100)) -le "$total" ] || t_fail "offcpu_burn has $burn ns off-CPU"

id=$(api /api/v1/profile | jq -e '[.profiles[] | select(.mode == "offcpu")][-1].id') ||
	t_fail "the off-CPU profile is not listed"
api "/api/v1/profile/$id" | jq -e '.summary.kind == "offcpu" and .mode == "offcpu" and
	(.bottlenecks | length == 0)' >/dev/null || t_fail "summary: $(api "/api/v1/profile/$id" | jq -c '.summary.kind, .bottlenecks')"
api "/api/v1/profile/$id/pprof" >"$T_DIR/off.pb.gz" || t_fail "no pprof output"
if command -v protoc >/dev/null; then
	gunzip -c "$T_DIR/off.pb.gz" | protoc --proto_path=user/profile --decode=fogpprof.Profile \
		profile.proto >"$T_DIR/off.txt" || t_fail "protoc --decode failed"
	# sample types (switches/count, offcpu/nanoseconds) and the second values' sum
	res=$(awk 'BEGIN { nt = 0; ns = 0; sum = 0 }
		/^sample_type \{/ { st = 1 } st && /^  type:/ { ty[nt] = $2 } st && /^  unit:/ { un[nt++] = $2 }
		/^}/ { st = 0; smp = 0 }
		/^sample \{/ { smp = 1; nv = 0 } smp && /^  value:/ { if (++nv == 2) sum += $2 }
		/^string_table:/ { s = $0; sub(/^string_table: "/, "", s); sub(/"$/, "", s); S[ns++] = s }
		END { printf "%s/%s,%s/%s %.0f\n", S[ty[0]], S[un[0]], S[ty[1]], S[un[1]], sum }' "$T_DIR/off.txt")
	t_log "pprof: $res"
	[ "$res" = "switches/count,offcpu/nanoseconds $total" ] ||
		t_fail "pprof types or sum wrong: '$res', want 'switches/count,offcpu/nanoseconds $total'"
fi
code=$(t_code POST /api/v1/profile '{"all": true, "mode": "sleep"}')
[ "$code" = 400 ] || t_fail "unknown mode: HTTP $code, want 400"
fogd_stop
