#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# CPython 3.11 interpreter frames (issue 14): both python3 builds on the machine (Debian's
# /usr/bin/python3 and the first on PATH, when another) run helpers/py_frames.py, where
# main -> outer -> hot loops on arithmetic. fogd's folded stacks must reach native main
# (Py_BytesMain or main) in >= 90% of samples, name Python frames py:func (file.py:N) in
# place of _PyEval_EvalFrameDefault, have py:hot as the hottest innermost Python frame,
# and show the chain py:main -> py:outer -> py:hot in that order. With --no-python there
# is no py: frame at all, so the test fails if the frames did not come from the walk.
# Off-CPU: with hot sleeping instead, the time blocked is under the same chain. Threads:
# with outer -> hot in a second thread, on-CPU samples show Thread.run -> outer -> hot and
# main's time blocked shows main -> Thread.join (main holds no GIL meanwhile).
. "$(dirname "$0")/lib.sh"
t_require_root_btf
PROG=tests/integration/helpers/py_frames.py
# each build by its own executable (pyenv's python3 on PATH is a shim that starts it)
exe() { "$1" -c 'import sys; print(sys.executable)' 2>/dev/null; }
pythons=""
[ -x /usr/bin/python3 ] && pythons=$(exe /usr/bin/python3)
p=$(command -v python3 || true)
[ -n "$p" ] && p=$(exe "$p")
[ -n "$p" ] && [ "$(readlink -f "$p")" != "$(readlink -f "$pythons" 2>/dev/null)" ] &&
	pythons="$pythons $p"
[ -n "$pythons" ] || t_skip "no python3"

share() {	# FILE AWK-REGEX: percent of the samples whose stack matches
	awk -v w="$2" '{ t += $NF } $0 ~ w { s += $NF } END { printf "%d\n", t ? 100 * s / t : 0 }' "$1"
}
# The innermost py: frame of each stack, by function (the line cut off), hottest first.
hottest_py() {	# FILE
	awk '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); leaf = "";
	       for (i = k; i >= 1; i--) if (f[i] ~ /^py:/) { leaf = f[i]; break }
	       if (leaf != "") { sub(/ \(.*$/, "", leaf); w[leaf] += n } }
	     END { for (l in w) print w[l], l }' "$1" | sort -rn
}
fogd_start
for py in $pythons; do
	ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	if [ "$ver" != 3.11 ]; then
		t_log "$py is Python $ver: frames are read for 3.11 only, skipped"
		continue
	fi
	"$py" "$PROG" 30 >"$T_DIR/py.out" &
	h=$!
	T_CLEANUP_EXTRA="kill $h 2>/dev/null"
	for _ in $(seq 1 200); do [ -s "$T_DIR/py.out" ] && break; sleep 0.1; done
	[ "$(head -1 "$T_DIR/py.out")" = "$h" ] || t_fail "$py did not print its pid"
	"$FOGCTL" profile -p "$h" -d 3s --no-kernel -o "$T_DIR/py.folded" 2>"$T_DIR/fogctl.err" ||
		t_fail "fogctl profile of $py failed: $(cat "$T_DIR/fogctl.err")"
	total=$(awk '{ s += $NF } END { print s + 0 }' "$T_DIR/py.folded")
	main=$(share "$T_DIR/py.folded" ";(Py_BytesMain|main);")
	named=$(share "$T_DIR/py.folded" ";py:hot \\(py_frames\\.py:[0-9]+\\)")
	chain=$(share "$T_DIR/py.folded" ";py:<module> \\(py_frames\\.py:[0-9]+\\);py:main \\(py_frames\\.py:[0-9]+\\);py:outer \\(py_frames\\.py:[0-9]+\\);py:hot \\(py_frames\\.py:[0-9]+\\)")
	eval_left=$(share "$T_DIR/py.folded" ";_PyEval_EvalFrameDefault;")
	top=$(hottest_py "$T_DIR/py.folded" | head -1)
	t_log "$py: $total samples, $main% reach main, $named% in py:hot, $chain% with the whole chain, $eval_left% keep _PyEval_EvalFrameDefault; hottest Python frame: $top"
	[ "$total" -ge 50 ] || t_fail "$py: only $total samples"
	[ "$main" -ge 90 ] || t_fail "$py: $main% reach main: $(sort -k2 -n -t' ' "$T_DIR/py.folded" | tail -2)"
	[ "${top#* }" = "py:hot" ] || t_fail "$py: the hottest Python frame is '$top', not py:hot: $(hottest_py "$T_DIR/py.folded" | head -3 | tr '\n' ' ')"
	[ "$chain" -ge 50 ] || t_fail "$py: only $chain% of samples show <module> -> main -> outer -> hot: $(sort -k2 -n -t' ' "$T_DIR/py.folded" | tail -2)"
	grep -q ";py:outer (py_frames.py:[0-9]*);py:hot (py_frames.py:" "$T_DIR/py.folded" ||
		t_fail "$py: no py:outer -> py:hot"
	"$FOGCTL" profile -p "$h" -d 1s --no-kernel --no-python -o "$T_DIR/np.folded" 2>/dev/null ||
		t_fail "fogctl profile --no-python failed"
	np=$(share "$T_DIR/np.folded" ";py:")
	npeval=$(share "$T_DIR/np.folded" ";_PyEval_EvalFrameDefault")
	t_log "$py, --no-python: $np% with py: frames, $npeval% through _PyEval_EvalFrameDefault"
	[ "$np" -eq 0 ] || t_fail "$py: --no-python still shows py: frames"
	[ "$npeval" -ge 90 ] || t_fail "$py: without Python frames only $npeval% pass through _PyEval_EvalFrameDefault"
	kill "$h" 2>/dev/null
	wait "$h" 2>/dev/null
	# off-CPU: hot sleeps; its blocked time is under py:outer -> py:hot
	"$py" "$PROG" 30 sleep >"$T_DIR/py.out" &
	h=$!
	T_CLEANUP_EXTRA="kill $h 2>/dev/null"
	for _ in $(seq 1 200); do [ -s "$T_DIR/py.out" ] && break; sleep 0.1; done
	[ "$(head -1 "$T_DIR/py.out")" = "$h" ] || t_fail "$py sleep did not print its pid"
	"$FOGCTL" profile -p "$h" -d 2s --mode offcpu --no-kernel -o "$T_DIR/off.folded" \
		2>"$T_DIR/fogctl.err" || t_fail "fogctl profile --mode offcpu of $py failed: $(cat "$T_DIR/fogctl.err")"
	top=$(hottest_py "$T_DIR/off.folded" | head -1)
	chain=$(share "$T_DIR/off.folded" ";py:main \\(py_frames\\.py:[0-9]+\\);py:outer \\(py_frames\\.py:[0-9]+\\);py:hot \\(py_frames\\.py:[0-9]+\\)")
	t_log "$py off-CPU: hottest Python frame $top, $chain% of the time blocked under main -> outer -> hot"
	[ "${top#* }" = "py:hot" ] || t_fail "$py off-CPU: the hottest Python frame is '$top', not py:hot"
	[ "$chain" -ge 50 ] || t_fail "$py off-CPU: only $chain% under main -> outer -> hot: $(sort -k2 -n -t' ' "$T_DIR/off.folded" | tail -2)"
	kill "$h" 2>/dev/null
	wait "$h" 2>/dev/null
	# threads: outer -> hot runs in a second thread, main waits in Thread.join without the
	# GIL, so its frames come from the interpreter's thread list, the worker's from the GIL
	"$py" "$PROG" 30 thread >"$T_DIR/py.out" &
	h=$!
	T_CLEANUP_EXTRA="kill $h 2>/dev/null"
	for _ in $(seq 1 200); do [ -s "$T_DIR/py.out" ] && break; sleep 0.1; done
	[ "$(head -1 "$T_DIR/py.out")" = "$h" ] || t_fail "$py thread did not print its pid"
	"$FOGCTL" profile -p "$h" -d 2s --no-kernel -o "$T_DIR/thr.folded" 2>/dev/null ||
		t_fail "fogctl profile of $py thread failed"
	"$FOGCTL" profile -p "$h" -d 2s --mode offcpu --no-kernel -o "$T_DIR/thr_off.folded" \
		2>/dev/null || t_fail "fogctl profile --mode offcpu of $py thread failed"
	top=$(hottest_py "$T_DIR/thr.folded" | head -1)
	worker=$(share "$T_DIR/thr.folded" ";py:Thread\\.run \\([^;]*\\);([^;]*;)?py:outer \\(py_frames\\.py:[0-9]+\\);py:hot \\(py_frames\\.py:[0-9]+\\)")
	joined=$(share "$T_DIR/thr_off.folded" ";py:main \\(py_frames\\.py:[0-9]+\\);py:Thread\\.join \\(")
	t_log "$py threads: hottest Python frame $top, $worker% of samples under Thread.run -> outer -> hot, $joined% of the time blocked under main -> Thread.join"
	[ "${top#* }" = "py:hot" ] || t_fail "$py threads: the hottest Python frame is '$top', not py:hot"
	[ "$worker" -ge 50 ] || t_fail "$py threads: only $worker% under Thread.run -> (a C call) -> outer -> hot: $(sort -k2 -n -t' ' "$T_DIR/thr.folded" | tail -2)"
	[ "$joined" -ge 50 ] || t_fail "$py threads: only $joined% of the blocked time under main -> Thread.join: $(sort -k2 -n -t' ' "$T_DIR/thr_off.folded" | tail -2)"
	kill "$h" 2>/dev/null
	wait "$h" 2>/dev/null
done
fogd_stop
