#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A process that lies to the CPython frame reader (issue 14, the tenant is the adversary):
# helpers/fake_python.c, run as a file named python3.11, has 3.11's symbols and memory
# layout, so fogd takes it for an interpreter, and then: frames in a cycle, a name that
# claims a megabyte, a file name of invalid code points, a location table whose varint never
# ends, a code object of the wrong type. Its hot loop is a native function named
# _PyEval_EvalFrameDefault, so the frames are merged there. fogd must stay up and answer,
# the walk stop at 64 frames, the name be cut to 127 bytes of 'A', the file name come out as
# one ? per invalid code point, without a line (the table gives none), the object of the
# wrong type show as py:[unreadable]; and a real python3 profiled afterwards is still named.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
FAKE="$OUTPUT/tests/helpers/fake_python"
[ -x "$FAKE" ] || t_fail "build $FAKE first (make all)"
cp "$FAKE" "$T_DIR/python3.11"
fogd_start
"$T_DIR/python3.11" 30 >"$T_DIR/fake.out" &
h=$!
T_CLEANUP_EXTRA="kill $h 2>/dev/null"
for _ in $(seq 1 50); do [ -s "$T_DIR/fake.out" ] && break; sleep 0.1; done
[ "$(head -1 "$T_DIR/fake.out")" = "$h" ] || t_fail "the fake python did not print its pid"
"$FOGCTL" profile -p "$h" -d 3s --no-kernel -o "$T_DIR/fake.folded" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile of the fake python failed: $(cat "$T_DIR/fogctl.err")"
api /api/v1/status >/dev/null || t_fail "fogd does not answer after profiling the fake python"
total=$(awk '{ s += $NF } END { print s + 0 }' "$T_DIR/fake.folded")
# per stack: py: frames, the longest py: frame, whether an unreadable one is there
awk '{ n = $NF; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); p = 0; long = 0; u = 0;
       for (i = 1; i <= k; i++) if (f[i] ~ /^py:/) { p++; if (length(f[i]) > long) long = length(f[i]);
                                                    if (f[i] == "py:[unreadable]") u++ }
       print n, p, long, u }' "$T_DIR/fake.folded" >"$T_DIR/fake.stats"
walked=$(awk '$2 == 64 { s += $1 } END { print s + 0 }' "$T_DIR/fake.stats")
over=$(awk '$2 > 64 { s += $1 } END { print s + 0 }' "$T_DIR/fake.stats")
unreadable=$(awk '$4 == 32 { s += $1 } END { print s + 0 }' "$T_DIR/fake.stats")
name="py:$(printf 'A%.0s' $(seq 1 127)) ($(printf '?%.0s' $(seq 1 16)))"
named=$(grep -cF ";$name;" "$T_DIR/fake.folded" || true)
longest=$(awk 'BEGIN { m = 0 } $3 > m { m = $3 } END { print m }' "$T_DIR/fake.stats")
t_log "fake python: $total samples, $walked with 64 frames, $over with more, $unreadable with 32 unreadable, longest py: frame $longest bytes, $named stacks with the cut name"
[ "$total" -ge 50 ] || t_fail "only $total samples"
[ "$over" -eq 0 ] || t_fail "$over samples with more than 64 interpreter frames"
[ $((100 * walked / total)) -ge 80 ] || t_fail "only $walked of $total samples walked the cycle to 64 frames"
[ $((100 * unreadable / total)) -ge 80 ] || t_fail "the code object of the wrong type is not py:[unreadable]"
[ "$named" -ge 1 ] || t_fail "no frame named '$name': $(head -c 600 "$T_DIR/fake.folded")"
[ "$longest" -le $((${#name})) ] || t_fail "a py: frame of $longest bytes: names are not cut"
kill "$h" 2>/dev/null
wait "$h" 2>/dev/null
# a real interpreter after the fake one: still named
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
if [ -n "$py" ] && [ "$("$py" -c 'import sys; print(sys.version_info[:2] == (3, 11))')" = True ]; then
	"$py" tests/integration/helpers/py_frames.py 20 >"$T_DIR/py.out" &
	h=$!
	T_CLEANUP_EXTRA="kill $h 2>/dev/null"
	for _ in $(seq 1 200); do [ -s "$T_DIR/py.out" ] && break; sleep 0.1; done
	"$FOGCTL" profile -p "$h" -d 2s --no-kernel -o "$T_DIR/py.folded" 2>/dev/null ||
		t_fail "fogctl profile of $py failed"
	grep -q ";py:outer (py_frames.py:[0-9]*);py:hot (py_frames.py:" "$T_DIR/py.folded" ||
		t_fail "$py after the fake: no py:outer -> py:hot"
	kill "$h" 2>/dev/null
	wait "$h" 2>/dev/null
fi
fogd_stop
