#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The library API (include/fog/profiler.h) through prof_api, which profiles its own api_work()
# with fog_profile_run(): CPU + I/O names api_hot_leaf as the top function (the majority of
# samples), counts the 4 MiB it writes, and saves folded, SVG, pprof and HTML files; ALL under
# libfogalloc.so also names api_leak as the top leak within 4 sd of the 24 MiB it leaks; ALL
# without the sampler degrades to CPU + I/O; MEMORY alone without it is -ENOENT; without
# privileges CPU is -EPERM with a message saying what is needed.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
API="$HELPERS/prof_api"
# prof_api leaks on purpose (the memory profile must find it): not a finding for LeakSanitizer
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
[ -x "$API" ] || t_fail "$API not built"
# the expected stacks are clang's frame layout; in the sanitizer build libfog carries gcc's
# ASan calls, so the helper is linked by gcc and its frames differ
if nm "$API" 2>/dev/null | grep -q __asan_init; then
	t_skip "prof_api is built with AddressSanitizer (gcc): its stacks are not the clang layout this test checks"
fi

r=$("$API" cpu+io "$T_DIR") || t_fail "prof_api cpu+io crashed"
t_log "cpu+io: $r"
echo "$r" | jq -e '.rc == 0 and .modes == 5 and .cpu_top == "api_hot_leaf" and
	.cpu_top_self * 2 > .cpu_total and .wchar >= 4194304' >/dev/null || t_fail "cpu+io: $r"
grep -q '^prof_api;.*api_work;api_hot_leaf [0-9]*$' "$T_DIR/cpu.folded" ||
	t_fail "no api_work;api_hot_leaf stack: $(head -3 "$T_DIR/cpu.folded")"
xmllint --noout "$T_DIR/cpu.svg" || t_fail "cpu.svg is not well-formed"
grep -q '<title>api_hot_leaf (' "$T_DIR/cpu.svg" || t_fail "cpu.svg has no api_hot_leaf frame"
gunzip -t "$T_DIR/cpu.pb.gz" || t_fail "cpu.pb.gz is not gzip"
grep -q '<td>api_hot_leaf</td>' "$T_DIR/cpu.html" || t_fail "cpu.html lacks api_hot_leaf"
grep -q '<td>prof_api</td>' "$T_DIR/cpu.html" || t_fail "cpu.html has no I/O row for prof_api"

rm -f "$T_DIR"/*.folded
r=$(LD_PRELOAD="$PWD/$OUTPUT/libfogalloc.so" FOG_ALLOC_DIR="$T_DIR" "$API" all "$T_DIR") ||
	t_fail "prof_api all crashed"
t_log "all with the sampler: $r"
echo "$r" | jq -e '.rc == 0 and .modes == 7 and .cpu_top == "api_hot_leaf" and
	.leaks[0].function == "api_leak" and
	((.leaks[0].live_bytes - .leak_bytes) | fabs) <= 4 * ((.leak_bytes * 524288) | sqrt)' \
	>/dev/null || t_fail "all: $r"
[ -s "$T_DIR/inuse.folded" ] || t_fail "no inuse.folded"

r=$("$API" all "$T_DIR")
echo "$r" | jq -e '.rc == 0 and .modes == 5' >/dev/null || t_fail "all without the sampler: $r"
grep -q 'no memory profile: .*LD_PRELOAD' "$T_DIR/cpu.html" ||
	t_fail "the CPU report does not say why memory is missing"
r=$("$API" mem "$T_DIR")
echo "$r" | jq -e '.rc == -2 and (.error | test("LD_PRELOAD"))' >/dev/null ||
	t_fail "mem without the sampler: $r"

if command -v setpriv >/dev/null; then
	chmod 755 "$T_DIR"
	r=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$API" cpu "$T_DIR")
	t_log "unprivileged: $r"
	echo "$r" | jq -e '.rc == -1 and (.error | test("root"))' >/dev/null ||
		t_fail "unprivileged CPU profile: $r"
fi
