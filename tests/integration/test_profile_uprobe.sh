#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Memory profile through uprobes on the target's libc (mem_source "uprobe"), of a process
# that does not run with the allocation sampler. prof_uleak, once attached and sent SIGUSR1,
# leaks 64 MiB in 4 KiB malloc blocks from prof_uleak_keep while prof_uleak_churn, on another
# thread, allocates about 64 MiB through malloc, realloc and calloc and frees all of it; it also
# makes one 12 MB allocation (freed), keeps an 8 MiB anonymous mapping and maps and unmaps 4 MiB.
#
# Tolerance: each thread counts its own bytes down to exponential sampling points (mean
# M = 524288), so each 4 KiB block of the leak is sampled independently with probability
# p = 1 - exp(-4096/M) = 0.00778 and then stands for 4096/p bytes. The estimate of the n = 16384
# blocks has sd = (4096/p) sqrt(n p (1-p)) = 5.9 MB, 8.8% of the 67.1 MB leaked (for small
# blocks sd ~ sqrt(bytes x M), the figure alloc.c notes). We allow 4 sd: a correct profiler
# fails this about once in 16,000 runs; a profiler off by a factor (lost samples, double counted
# nested calls, wrong weights) fails it. The same bound holds for the bytes prof_uleak_churn
# allocated (sizes 64..8126, each far below M). Blocks of 8 MiB or 12 MB are sampled with
# probability 1 - exp(-16) or more, so they are checked to within a few bytes.
# Also: a process that exits mid-profile still yields a report; unknown pid, a kernel thread
# (no libc) and a static binary get clear errors; nothing is left attached after a profile
# ends, after the target exits, or after fogd exits (bpftool link, and no int3 left on malloc in
# the process's memory); other processes get no breakpoint (the kernel's pid filter); duty cycling;
# fogctl --uprobe.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v bpftool >/dev/null || t_skip "needs bpftool"
MEAN=524288

# uprobe_multi links (type 12) of the memprobe programs, as bpftool link shows them
probes() {
	# this test's fogd's programs only (other fogds may profile on the same host): the
	# ids its program fds hold, as their fdinfo says
	local mine ids
	mine=$(grep -hs '^prog_id:' /proc/"$FOGD_PID"/fdinfo/* | awk '{ print $2 }' | sort -u |
		jq -sc .)
	ids=$(bpftool -j prog show 2>/dev/null | jq -c --argjson mine "${mine:-[]}" '[.[] |
		select((.name == "handle_alloc" or .name == "handle_free" or
		.name == "handle_return") and (.id as $i | $mine | index($i))) | .id]')
	bpftool -j link show 2>/dev/null | jq --argjson ids "$ids" '[.[] | select((.type == 12 or
		.type == "uprobe_multi") and (.prog_id as $p | $ids | index($p)))] | length'
}
# The first byte of libc's malloc as process $1 sees it: cc (int3) while a uprobe is planted.
malloc_byte() {
	local base lib off
	read -r base lib < <(awk '$6 ~ /\/libc\.so/ && $3 == "00000000" { split($1, a, "-");
		print a[1], $6; exit }' "/proc/$1/maps")
	off=$(nm -D --defined-only "/proc/$1/root$lib" | awk '$3 == "malloc" || $3 ~ /^malloc@/ {
		print $1; exit }')
	[ -n "$base" ] && [ -n "$off" ] || t_fail "cannot find malloc in process $1"
	dd if="/proc/$1/mem" bs=1 count=1 skip=$((16#$base + 16#$off)) iflag=skip_bytes 2>/dev/null |
		od -An -tx1 | tr -d ' \n'
}
no_probes() { [ "$(probes)" = 0 ] || { bpftool link show; false; }; }
wait_detached() { t_wait_for 20 "uprobes detached once the profile ended" no_probes; }
start_helper() { # mode -> $hp, output in $T_DIR/h.$hp
	"$HELPERS/prof_uleak" "$1" >"$T_DIR/h.out" &
	hp=$!
	t_wait_for 30 "prof_uleak printed its pid" test -s "$T_DIR/h.out"
	[ "$(head -1 "$T_DIR/h.out")" = "$hp" ] || t_fail "prof_uleak did not print its pid"
	mv "$T_DIR/h.out" "$T_DIR/h.$hp"
	T_CLEANUP_EXTRA="kill $hp 2>/dev/null; ${T_CLEANUP_EXTRA:-}"
}
# |est - truth| <= 4 sd with sd = sqrt(truth x M)
within4sd() { awk -v e="$1" -v t="$2" -v m=$MEAN 'BEGIN { d = e - t; if (d < 0) d = -d;
	exit !(d <= 4 * sqrt(t * m)) }'; }

fogd_start
sleep 60 & other=$!
T_CLEANUP_EXTRA="kill $other 2>/dev/null"
start_helper wait
leak=$hp
[ "$(malloc_byte "$leak")" != cc ] || t_fail "malloc of prof_uleak starts with int3 before any probe"
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $leak, \"mode\": \"mem\", \"mem_source\": \"uprobe\", \"seconds\": 12}")
[ "$code" = 202 ] || t_fail "POST uprobe profile: HTTP $code $(cat "$T_BODY")"
id=$(jq -e .id "$T_BODY") || t_fail "no id: $(cat "$T_BODY")"
jq -e '.mem_source == "uprobe" and .uprobe.attached' "$T_BODY" >/dev/null ||
	t_fail "answer does not say the source: $(cat "$T_BODY")"
n=$(probes)
[ "$n" -ge 3 ] || t_fail "want 3 uprobe_multi links (allocations, their returns, frees), bpftool shows $n"
[ "$(malloc_byte "$leak")" = cc ] || t_fail "no breakpoint on malloc in the profiled process"
# the pid filter: the kernel plants no breakpoint in other processes mapping the same libc
[ "$(malloc_byte "$other")" != cc ] || t_fail "another process got the breakpoint on malloc too"
kill -USR1 "$leak"
t_wait_for 30 "prof_uleak finished" grep '^done' "$T_DIR/h.$leak"
read -r _ kept churned < <(grep '^done' "$T_DIR/h.$leak") || t_fail "prof_uleak did not finish"
t_wait_json "/api/v1/profile/$id" '.state == "done"' 20 || t_fail "profile not done: $(api "/api/v1/profile/$id")"
wait_detached
[ "$(malloc_byte "$leak")" != cc ] || t_fail "the breakpoint on malloc stayed after the profile"
api "/api/v1/profile/$id" >"$T_DIR/mem.json" || t_fail "no profile summary"
t_log "leaked $kept bytes; top leak: $(jq -c '.summary.leaks[0] | {function, live_bytes, growing}' "$T_DIR/mem.json")"
t_log "cost: $(jq -c '.uprobe | {hits_total, sampled, cost_per_hit_ns, cost_per_return_ns, estimated_cost_seconds, lost}' "$T_DIR/mem.json")"

jq -e '.summary.kind == "inuse" and .summary.leaks[0].function == "prof_uleak_keep" and
	.summary.leaks[0].growing' "$T_DIR/mem.json" >/dev/null ||
	t_fail "top leak is not a growing prof_uleak_keep: $(jq -c '.summary.leaks[:3]' "$T_DIR/mem.json")"
live=$(jq '.summary.leaks[0].live_bytes' "$T_DIR/mem.json")
within4sd "$live" "$kept" || t_fail "prof_uleak_keep: $live bytes live, $kept leaked: outside 4 sd"
jq -e '.summary.leaks[0].stack | test("main;prof_uleak_keep$")' "$T_DIR/mem.json" >/dev/null ||
	t_fail "leak stack lacks main;prof_uleak_keep: $(jq .summary.leaks[0].stack "$T_DIR/mem.json")"
jq -e '.uprobe.lost == {"events": 0, "stacks": 0, "live": 0}' "$T_DIR/mem.json" >/dev/null ||
	t_fail "samples were lost: $(jq -c .uprobe.lost "$T_DIR/mem.json")"
# every block prof_uleak_churn allocated was freed and every free was seen: nothing live
churn=$(jq '[.summary.leaks[] | select(.function == "prof_uleak_churn") | .live_bytes] | add // 0' "$T_DIR/mem.json")
[ "$churn" = 0 ] || t_fail "prof_uleak_churn holds $churn bytes live, it frees all"
big=$(jq '[.summary.leaks[] | select(.function == "prof_uleak_big") | .live_bytes] | add // 0' "$T_DIR/mem.json")
[ "$big" = 0 ] || t_fail "prof_uleak_big holds $big bytes live, it freed its 12 MB"
# the kept mapping, exactly (sampled with p = 1 - e^-16); the unmapped one is gone
jq -e '[.summary.leaks[] | select(.function == "prof_uleak_map") | .live_bytes] |
	length == 1 and (.[0] - 8388608 | fabs) < 64' "$T_DIR/mem.json" >/dev/null ||
	t_fail "prof_uleak_map should hold its 8 MiB mapping: $(jq -c '[.summary.leaks[] | select(.function == "prof_uleak_map")]' "$T_DIR/mem.json")"
jq -e '.bottlenecks | map(select(.rule == "memory_leak" and (.evidence | startswith("prof_uleak_keep")))) | length == 1' \
	"$T_DIR/mem.json" >/dev/null || t_fail "no memory_leak finding: $(jq -c .bottlenecks "$T_DIR/mem.json")"
jq -e '.uprobe.hits.malloc >= 16384 and .uprobe.hits.free >= 16384 and .uprobe.hits_other_processes == 0 and
	(.uprobe.estimated_cost_seconds | type == "number") and (.summary.notes | map(select(test("^uprobe mode cost"))) | length == 1)' \
	"$T_DIR/mem.json" >/dev/null || t_fail "hits or cost not reported: $(jq -c '{u: .uprobe, n: .summary.notes}' "$T_DIR/mem.json")"

# bytes allocated: the churn (malloc, realloc and calloc call sites), and the 12 MB allocation once
api "/api/v1/profile/$id?view=alloc" >"$T_DIR/alloc.json" || t_fail "no alloc view"
ca=$(jq '[.summary.top_self[] | select(.function == "prof_uleak_churn") | .self] | add // 0' "$T_DIR/alloc.json")
within4sd "$ca" "$churned" || t_fail "prof_uleak_churn allocated $churned bytes, the profile says $ca: outside 4 sd"
jq -e '[.summary.top_self[] | select(.function == "prof_uleak_big") | .self] | add |
	(. - 12000000 | fabs) < 64' "$T_DIR/alloc.json" >/dev/null ||
	t_fail "prof_uleak_big's 12 MB allocation counted wrong (malloc's own mmap counted too?): $(jq -c '.summary.top_self' "$T_DIR/alloc.json")"
jq -e '.bottlenecks | map(select(.rule == "allocation" and (.evidence | startswith("prof_uleak_big allocated")))) | length == 1' \
	"$T_DIR/alloc.json" >/dev/null || t_fail "alloc view lacks the prof_uleak_big finding: $(jq -c .bottlenecks "$T_DIR/alloc.json")"
api "/api/v1/profile/$id/folded" >"$T_DIR/mem.folded" || t_fail "no folded output"
top=$(sort -k2 -n -r -t' ' "$T_DIR/mem.folded" | awk '{ n = split($1, f, ";"); print f[n]; exit }')
[ "$top" = prof_uleak_keep ] || t_fail "heaviest live stack ends in $top"

# fogctl: the option, the source and the cost said on stderr, the HTML report
"$FOGCTL" profile -p "$leak" --uprobe -d 2s -o "$T_DIR/mem.html" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile --uprobe: $(cat "$T_DIR/fogctl.err")"
grep -q 'memory from uprobes on .*libc.*probe hits' "$T_DIR/fogctl.err" ||
	t_fail "fogctl does not say the source: $(cat "$T_DIR/fogctl.err")"
grep -q '<h2>Memory</h2>' "$T_DIR/mem.html" || t_fail "report has no memory section"
grep -q 'uprobe mode' "$T_DIR/mem.html" || t_fail "report does not say the uprobe mode"
wait_detached

# duty cycle: the allocation probes on 300 ms of every 600 ms
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $leak, \"mode\": \"mem\", \"mem_source\": \"uprobe\", \"seconds\": 3, \"duty_on_ms\": 300, \"duty_off_ms\": 300}")
[ "$code" = 202 ] || t_fail "POST duty-cycled profile: HTTP $code $(cat "$T_BODY")"
id=$(jq .id "$T_BODY")
t_wait_json "/api/v1/profile/$id" '.state == "done"' 15 || t_fail "duty-cycled profile not done"
api "/api/v1/profile/$id" >"$T_DIR/duty.json"
jq -e '.uprobe.duty_cycle.switches >= 3 and .uprobe.alloc_probes_seconds < 0.85 * .uprobe.seconds' \
	"$T_DIR/duty.json" >/dev/null || t_fail "duty cycle not applied: $(jq -c .uprobe "$T_DIR/duty.json")"
wait_detached

# a process that exits during the profile: the report is there, the probes are gone
start_helper exit
quitter=$hp
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $quitter, \"mode\": \"mem\", \"mem_source\": \"uprobe\", \"seconds\": 60}")
[ "$code" = 202 ] || t_fail "POST profile of a quitting process: HTTP $code $(cat "$T_BODY")"
id=$(jq .id "$T_BODY")
t0=$SECONDS
kill -USR1 "$quitter"
wait "$quitter" 2>/dev/null
t_wait_json "/api/v1/profile/$id" '.state == "done"' 15 || t_fail "profile of an exited process: $(api "/api/v1/profile/$id")"
[ $((SECONDS - t0)) -lt 20 ] || t_fail "the profile did not end when its process exited"
wait_detached
api "/api/v1/profile/$id" >"$T_DIR/exit.json"
jq -e '.uprobe.process_exited and .summary.leaks[0].function == "prof_uleak_keep" and
	(.summary.notes | map(select(test("exited"))) | length == 1)' "$T_DIR/exit.json" >/dev/null ||
	t_fail "report of the exited process: $(jq -c '{u: .uprobe.process_exited, l: .summary.leaks[:2], n: .summary.notes}' "$T_DIR/exit.json")"

# bad targets: clear errors
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile '{"pid": 4194303, "mode": "mem", "mem_source": "uprobe"}')
[ "$code" = 404 ] && jq -e '.error | test("no such process")' "$T_BODY" >/dev/null ||
	t_fail "unknown pid: HTTP $code $(cat "$T_BODY")"
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile '{"pid": 2, "mode": "mem", "mem_source": "uprobe"}')
[ "$code" = 422 ] && jq -e '.error | test("no C library")' "$T_BODY" >/dev/null ||
	t_fail "kernel thread: HTTP $code $(cat "$T_BODY")"
if printf 'int main(void){for(;;);}\n' | ${CC:-cc} -static -x c - -o "$T_DIR/static" 2>/dev/null; then
	"$T_DIR/static" & st=$!
	code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $st, \"mode\": \"mem\", \"mem_source\": \"uprobe\"}")
	kill "$st"
	[ "$code" = 422 ] && jq -e '.error | test("static binary")' "$T_BODY" >/dev/null ||
		t_fail "static binary: HTTP $code $(cat "$T_BODY")"
fi
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $leak, \"mode\": \"mem\", \"mem_source\": \"uprobe\", \"seconds\": 301}")
[ "$code" = 400 ] || t_fail "301 s of uprobes: HTTP $code, want 400 $(cat "$T_BODY")"
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $leak, \"mode\": \"mem\"}")
[ "$code" = 404 ] && jq -e '.error | test("mem_source")' "$T_BODY" >/dev/null ||
	t_fail "no sampler, no uprobe asked: HTTP $code $(cat "$T_BODY")"
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $leak, \"mode\": \"mem\", \"mem_source\": \"ebpf\"}")
[ "$code" = 400 ] || t_fail "unknown mem_source: HTTP $code"

# fogd exits while attached: nothing stays behind, the target runs on
code=$(T_MAX_TIME=20 t_code POST /api/v1/profile "{\"pid\": $leak, \"mode\": \"mem\", \"mem_source\": \"auto\", \"seconds\": 60}")
[ "$code" = 202 ] && jq -e '.mem_source == "uprobe"' "$T_BODY" >/dev/null ||
	t_fail "auto without the sampler: HTTP $code $(cat "$T_BODY")"
[ "$(probes)" -ge 3 ] && [ "$(malloc_byte "$leak")" = cc ] || t_fail "probes not attached before fogd's exit"
# this fogd's programs (other fogds on the host may hold programs of the same names)
held=$(grep -hs '^prog_id:' /proc/"$FOGD_PID"/fdinfo/* | awk '{ print $2 }' | sort -u | jq -sc .)
fogd_stop
[ "$(malloc_byte "$leak")" != cc ] || t_fail "the breakpoint on malloc stayed after fogd exited"
left=$(bpftool -j prog show | jq -c --argjson held "$held" '[.[] | select(.id as $i |
	$held | index($i)) | select(.name == "handle_alloc" or .name == "handle_free" or
	.name == "handle_return") | "\(.id) \(.name)"]')
[ "$left" = "[]" ] || t_fail "memprobe programs of the stopped fogd still loaded: $left"
kill -0 "$leak" || t_fail "the profiled process died"
kill "$leak"
