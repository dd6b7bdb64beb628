#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Memory profile through the allocation sampler (LD_PRELOAD=libfogalloc.so): prof_leak leaks a
# known number of bytes from prof_leak_grow while prof_churn allocates and frees four times as
# much. fogd's memory profile must name prof_leak_grow as the top leak candidate, growing, with
# live bytes within 4 standard deviations of the truth (sampling one allocation per 512 KiB:
# sd = sqrt(bytes x 524288), about 9% of 64 MiB); prof_churn holds nearly nothing live; the
# bytes-allocated view has the 12 MB allocation of prof_big_alloc as a bottleneck; the pprof
# output decodes with inuse types; fogctl writes an HTML report; a process without the sampler
# gets a clear error.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
SO="$OUTPUT/libfogalloc.so"
[ -r "$SO" ] || t_fail "$SO not built"

fogd_start
LD_PRELOAD="$PWD/$SO" FOG_ALLOC_DIR="$T_DIR" "$HELPERS/prof_leak" 64 256 >"$T_DIR/leak.out" &
leak=$!
T_CLEANUP_EXTRA="kill $leak 2>/dev/null"
t_wait_for 30 "prof_leak printed its pid" test -s "$T_DIR/leak.out"
[ "$(head -1 "$T_DIR/leak.out")" = "$leak" ] || t_fail "prof_leak did not print its pid"
[ -f "$T_DIR/fogalloc.$leak" ] || t_fail "the sampler made no file $T_DIR/fogalloc.$leak"

r=$(t_post /api/v1/profile "{\"pid\": $leak, \"mode\": \"mem\", \"seconds\": 3}")
id=$(echo "$r" | jq -e .id) || t_fail "POST mem profile: $r"
t_wait_json "/api/v1/profile/$id" '.state == "done"' 10 || t_fail "profile not done: $(api "/api/v1/profile/$id")"
truth=$(awk '/^done/ { print $2 }' "$T_DIR/leak.out")
[ -n "$truth" ] || t_fail "prof_leak did not finish within the profile"

api "/api/v1/profile/$id" >"$T_DIR/mem.json" || t_fail "no profile summary"
t_log "leaked $truth bytes; top leak: $(jq -c '.summary.leaks[0] | {function, live_bytes, growth_bytes, growing}' "$T_DIR/mem.json")"
jq -e '.summary.kind == "inuse" and .summary.leaks[0].function == "prof_leak_grow" and
	.summary.leaks[0].growing' "$T_DIR/mem.json" >/dev/null ||
	t_fail "top leak is not a growing prof_leak_grow: $(jq -c '.summary.leaks[:3]' "$T_DIR/mem.json")"
jq -e --argjson t "$truth" '.summary.leaks[0].live_bytes as $v |
	(($v - $t) | fabs) <= 4 * (($t * 524288) | sqrt)' "$T_DIR/mem.json" >/dev/null ||
	t_fail "live bytes of prof_leak_grow $(jq .summary.leaks[0].live_bytes "$T_DIR/mem.json") outside 4 sd of $truth"
jq -e '.summary.leaks[0].stack | test("main;prof_leak_grow$")' "$T_DIR/mem.json" >/dev/null ||
	t_fail "leak stack lacks main;prof_leak_grow: $(jq .summary.leaks[0].stack "$T_DIR/mem.json")"
# at most one churn allocation is ever live: far below one sampling interval on average
churn=$(jq '[.summary.leaks[] | select(.function == "prof_churn") | .live_bytes] | add // 0' "$T_DIR/mem.json")
[ "$churn" -le $((4 * 1048576)) ] || t_fail "prof_churn holds $churn bytes live, it frees all"
jq -e '.bottlenecks | map(select(.rule == "memory_leak" and (.evidence | startswith("prof_leak_grow")))) | length == 1' \
	"$T_DIR/mem.json" >/dev/null || t_fail "no memory_leak finding: $(jq -c .bottlenecks "$T_DIR/mem.json")"

# the bytes-allocated view: the 12 MB allocation is a finding of the allocation rule
curl -sf --max-time 5 --unix-socket "$FOG_SOCK" "http://localhost/api/v1/profile/$id?view=alloc" \
	>"$T_DIR/alloc.json" || t_fail "no alloc view"
jq -e '.summary.kind == "alloc" and (.bottlenecks | map(select(.rule == "allocation" and
	(.evidence | startswith("prof_big_alloc allocated")))) | length == 1)' "$T_DIR/alloc.json" \
	>/dev/null || t_fail "alloc view lacks the prof_big_alloc finding: $(jq -c .bottlenecks "$T_DIR/alloc.json")"

api "/api/v1/profile/$id/folded" >"$T_DIR/mem.folded" || t_fail "no folded output"
top=$(sort -k2 -n -r -t' ' "$T_DIR/mem.folded" | awk '{ n = split($1, f, ";"); print f[n]; exit }')
[ "$top" = prof_leak_grow ] || t_fail "heaviest live stack ends in $top"
if command -v protoc >/dev/null; then
	api "/api/v1/profile/$id/pprof" | gunzip -c | protoc --proto_path=user/profile \
		--decode=fogpprof.Profile profile.proto >"$T_DIR/mem.txt" || t_fail "pprof does not decode"
	grep -q '"inuse_space"' "$T_DIR/mem.txt" || t_fail "pprof sample types are not inuse_*"
	grep -q '"prof_leak_grow"' "$T_DIR/mem.txt" || t_fail "pprof lacks prof_leak_grow"
fi

"$FOGCTL" profile -p "$leak" --mode mem -d 1s -o "$T_DIR/mem.html" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile --mode mem: $(cat "$T_DIR/fogctl.err")"
grep -q '<h2>Memory</h2>' "$T_DIR/mem.html" || t_fail "report has no memory section"
grep -q '<td>prof_leak_grow</td>' "$T_DIR/mem.html" || t_fail "report names no prof_leak_grow"
kill "$leak"
wait "$leak" 2>/dev/null

# a process without the sampler
sleep 5 & plain=$!
code=$(curl -s -o "$T_DIR/err.json" -w '%{http_code}' --max-time 5 --unix-socket "$FOG_SOCK" \
	-X POST -d "{\"pid\": $plain, \"mode\": \"mem\"}" http://localhost/api/v1/profile)
kill $plain
[ "$code" = 404 ] || t_fail "profile of a process without the sampler: HTTP $code, want 404"
jq -e '.error | test("LD_PRELOAD")' "$T_DIR/err.json" >/dev/null || t_fail "unclear error: $(cat "$T_DIR/err.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$FOG_SOCK" \
	-X POST -d '{"all": true, "mode": "mem"}' http://localhost/api/v1/profile)
[ "$code" = 400 ] || t_fail "host-wide memory profile: HTTP $code, want 400"
fogd_stop
