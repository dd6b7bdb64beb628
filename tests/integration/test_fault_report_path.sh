#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Unwritable report paths for `fogctl profile -o`: a folder that does not exist (/proc/nope),
# a parent that is a file, and a file that takes no data (/dev/full behind a .html name).
# fogctl fails with a clear error naming the path and the reason, before sampling when it
# can tell; fogd is not disturbed: it answers, keeps ticking, and the next profile to a
# good path holds the profiled program's hot function.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
HOT="$HELPERS/prof_hot"
[ -x "$HOT" ] || t_fail "$HOT not built"

fogd_start -o fogd.tick_ms=500
"$HOT" 30 >"$T_DIR/hot.out" &
hot=$!
T_CLEANUP_EXTRA="kill $hot 2>/dev/null"
t_wait_for 30 "prof_hot printed its pid" test -s "$T_DIR/hot.out"
[ "$(cat "$T_DIR/hot.out")" = "$hot" ] || t_fail "prof_hot did not print its pid"
t_wait_json "/api/v1/processes/$hot" '.cpu_seconds > 0' 10 || t_fail "prof_hot not tracked"
cpu0=$(api "/api/v1/processes/$hot" | jq '.cpu_seconds')
ticks0=$(api /api/v1/status | jq '.ticks')

# fails at once, before a profile is started
bad_before() {
	local path=$1 why=$2 out rc=0 t0 ms
	t0=$(date +%s%N)
	out=$("$FOGCTL" profile -p "$hot" -d 30s -o "$path" 2>&1) || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -ne 0 ] || t_fail "fogctl profile -o $path succeeded: $out"
	grep -q "^fogctl profile: cannot write $path: $why" <<<"$out" ||
		t_fail "unclear error for -o $path: $out"
	# a refusal after sampling would take the 30 s asked for: half of it tells them apart
	[ "$ms" -lt 15000 ] || t_fail "fogctl took $ms ms to refuse $path (it sampled first?)"
	t_log "-o $path: exit $rc after $ms ms: $out"
}
bad_before /proc/nope/x.html "No such file or directory"
: >"$T_DIR/file"
bad_before "$T_DIR/file/x.html" "Not a directory"
n=$(api /api/v1/profile | jq '.profiles | length')
[ "$n" -eq 0 ] || t_fail "$n profiles were started for refused paths"

# opens fine, fails when written: the error comes after the profile, and says so
ln -s /dev/full "$T_DIR/full.html"
rc=0
out=$("$FOGCTL" profile -p "$hot" -d 1s -o "$T_DIR/full.html" 2>&1) || rc=$?
t_log "-o full.html (/dev/full): exit $rc: $out"
[ "$rc" -ne 0 ] || t_fail "fogctl profile -o /dev/full succeeded: $out"
grep -q "$T_DIR/full.html.*No space left on device" <<<"$out" ||
	t_fail "unclear error for a full device: $out"

# fogd is fine: still ticking, the process's figures kept and growing, profiles work
kill -0 "$FOGD_PID" || t_fail "fogd died"
ticks1=$(api /api/v1/status | jq '.ticks')
[ "$ticks1" -gt "$ticks0" ] || t_fail "fogd stopped ticking: $ticks0 -> $ticks1"
cpu1=$(api "/api/v1/processes/$hot" | jq '.cpu_seconds')
awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { exit !(b > a) }' ||
	t_fail "prof_hot's CPU time went from $cpu0 to $cpu1"
"$FOGCTL" profile -p "$hot" -d 1s -o "$T_DIR/ok.html" 2>"$T_DIR/ok.err" ||
	t_fail "profile to a good path failed: $(cat "$T_DIR/ok.err")"
grep -q 'prof_hot_leaf' "$T_DIR/ok.html" || t_fail "the report lacks prof_hot_leaf"
fogd_stop
