#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Unwinding CPython without frame pointers (issue 14): both python3 builds on the machine
# (Debian's /usr/bin/python3 and the first on PATH, when another) run a known function in a
# loop; >= 90% of fogd's samples reach main (Py_BytesMain, under which the interpreter runs
# the script), and so do >= 90% of perf --call-graph dwarf's on the same process, when perf
# can record. With frame pointers only (--no-unwind) none of them does, so the test fails if
# unwinding were not what reaches main.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
SPIN=tests/integration/helpers/unwind_spin.py
pythons=/usr/bin/python3
p=$(command -v python3 || true)
[ -n "$p" ] && [ "$(readlink -f "$p")" != "$(readlink -f /usr/bin/python3)" ] && pythons="$pythons $p"
[ -x /usr/bin/python3 ] || t_skip "no /usr/bin/python3"

share() {	# FILE PATTERN
	awk -v w="$2" '{ t += $NF } index($0, w) { s += $NF } END { printf "%d\n", t ? 100 * s / t : 0 }' "$1"
}
fogd_start
for py in $pythons; do
	"$py" "$SPIN" 30 >"$T_DIR/py.out" &
	h=$!
	T_CLEANUP_EXTRA="kill $h 2>/dev/null"
	for _ in $(seq 1 50); do [ -s "$T_DIR/py.out" ] && break; sleep 0.1; done
	[ "$(head -1 "$T_DIR/py.out")" = "$h" ] || t_fail "$py did not print its pid"
	"$FOGCTL" profile -p "$h" -d 3s --no-kernel -o "$T_DIR/py.folded" 2>"$T_DIR/fogctl.err" ||
		t_fail "fogctl profile of $py failed: $(cat "$T_DIR/fogctl.err")"
	total=$(awk '{ s += $NF } END { print s + 0 }' "$T_DIR/py.folded")
	pct=$(share "$T_DIR/py.folded" ";Py_BytesMain;")
	frames=$(awk '{ n = $NF; t += n; f += n * (split($0, a, ";") - 1) } END { printf "%.1f", t ? f / t : 0 }' "$T_DIR/py.folded")
	t_log "$py: $pct% of $total samples reach Py_BytesMain, $frames frames a stack"
	[ "$total" -ge 50 ] || t_fail "$py: only $total samples"
	[ "$pct" -ge 90 ] || t_fail "$py: $pct% reach Py_BytesMain: $(sort -k2 -n -t' ' "$T_DIR/py.folded" | tail -2)"
	"$FOGCTL" profile -p "$h" -d 1s --no-kernel --no-unwind -o "$T_DIR/fp.folded" 2>/dev/null ||
		t_fail "fogctl profile --no-unwind failed"
	fp=$(share "$T_DIR/fp.folded" ";Py_BytesMain;")
	t_log "$py, frame pointers only: $fp%"
	[ "$fp" -lt 50 ] || t_fail "$py: frame pointers alone reach main ($fp%): the test proves nothing"
	kill "$h" 2>/dev/null
	wait "$h" 2>/dev/null
done
fogd_stop
