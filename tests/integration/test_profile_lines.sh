#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Source lines (fogctl profile --lines) of prof_lines, built with -g, whose CPU time is spent
# on a known line (marked HOT_LINE in its source) reached from a known call (CALL_LINE): the
# folded frames read "lines_hot (prof_lines.c:HOT)" under "lines_caller (prof_lines.c:CALL)"
# for >= 80% of the samples, pprof's Line entries carry the line and its Function the source
# file, and a profile without --lines shows plain frames.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
SRC=tests/integration/helpers/prof_lines.c
hot=$(grep -n 'HOT_LINE \*/' "$SRC" | cut -d: -f1)
call=$(grep -n 'CALL_LINE \*/' "$SRC" | cut -d: -f1)
[ -n "$hot" ] && [ -n "$call" ] || t_fail "no HOT_LINE/CALL_LINE markers in $SRC"

fogd_start
"$HELPERS/prof_lines" 12 >"$T_DIR/lines.out" &
h=$!
T_CLEANUP_EXTRA="kill $h 2>/dev/null"
t_wait_for 30 "prof_lines printed its pid" test -s "$T_DIR/lines.out"
[ "$(head -1 "$T_DIR/lines.out")" = "$h" ] || t_fail "prof_lines did not print its pid"

"$FOGCTL" profile -p "$h" -d 3s --lines -o "$T_DIR/lines.folded" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile --lines failed: $(cat "$T_DIR/fogctl.err")"
want="lines_caller (prof_lines.c:$call);lines_hot (prof_lines.c:$hot)"
total=$(awk '{ s += $NF } END { printf "%.0f\n", s }' "$T_DIR/lines.folded")
good=$(awk -v w="$want" 'index($0, w) { s += $NF } END { printf "%.0f\n", s }' "$T_DIR/lines.folded")
t_log "$good of $total samples under '$want'"
[ "$total" -ge 30 ] || t_fail "only $total samples"
# fogctl names the hot user function (lines_hot burns the CPU) and the kernel share apart
grep -q '^fogctl profile: hot user function lines_hot: [0-9.]*% of samples incl. kernel time' \
	"$T_DIR/fogctl.err" || t_fail "fogctl names no hot user function: $(cat "$T_DIR/fogctl.err")"
grep -q '^fogctl profile: kernel: [0-9.]*% of samples' "$T_DIR/fogctl.err" ||
	t_fail "fogctl shows no kernel share: $(cat "$T_DIR/fogctl.err")"
[ $((good * 100)) -ge $((total * 80)) ] ||
	t_fail "'$want' has $good of $total samples: $(sort -t' ' -k2 -n "$T_DIR/lines.folded" | tail -3)"
grep -q ';main (prof_lines.c:[0-9]*);lines_caller' "$T_DIR/lines.folded" ||
	t_fail "main has no line: $(head -2 "$T_DIR/lines.folded")"

id=$(api /api/v1/profile | jq -e '.profiles[-1].id') || t_fail "no profile listed"
api "/api/v1/profile/$id/pprof" >"$T_DIR/lines.pb.gz" || t_fail "no pprof output"
if command -v protoc >/dev/null; then
	gunzip -c "$T_DIR/lines.pb.gz" | protoc --proto_path=user/profile --decode=fogpprof.Profile \
		profile.proto >"$T_DIR/lines.txt" || t_fail "protoc --decode failed"
	# "function file line" for every location line whose function is lines_hot or lines_caller
	awk 'BEGIN { ns = 0; nl = 0 }
		/^function \{/ { f = 1 } f && /^  id:/ { id = $2 } f && /^  name:/ { nm = $2 }
		f && /^  filename:/ { fl = $2 } /^}/ { if (f) { FN[id] = nm; FF[id] = fl }; f = 0; l = 0 }
		/^location \{/ { l = 1; lf = 0 } l && /^    function_id:/ { lf = $2 }
		l && /^    line:/ { LF[nl] = lf; LL[nl++] = $2 }
		/^string_table:/ { s = $0; sub(/^string_table: "/, "", s); sub(/"$/, "", s); S[ns++] = s }
		END { for (i = 0; i < nl; i++) { n = S[FN[LF[i]]]
			if (n == "lines_hot" || n == "lines_caller") print n, S[FF[LF[i]]], LL[i] } }' \
		"$T_DIR/lines.txt" | sort | uniq -c >"$T_DIR/pprof_lines"
	t_log "pprof lines: $(tr '\n' ' ' <"$T_DIR/pprof_lines")"
	grep -q " lines_hot /.*/prof_lines\.c $hot\$" "$T_DIR/pprof_lines" ||
		t_fail "no pprof location of lines_hot at prof_lines.c:$hot"
	grep -q " lines_caller /.*/prof_lines\.c $call\$" "$T_DIR/pprof_lines" ||
		t_fail "no pprof location of lines_caller at prof_lines.c:$call"
fi

# without --lines: plain frames
"$FOGCTL" profile -p "$h" -d 1s -o "$T_DIR/plain.folded" 2>/dev/null || t_fail "plain profile failed"
grep -q ';lines_caller;lines_hot [0-9]*$' "$T_DIR/plain.folded" || t_fail "plain frames: $(head -2 "$T_DIR/plain.folded")"
! grep -q '(prof_lines.c:' "$T_DIR/plain.folded" || t_fail "lines shown though not asked for"
code=$(t_code POST /api/v1/profile "{\"pid\": $h, \"lines\": \"yes\"}")
[ "$code" = 400 ] || t_fail "\"lines\": \"yes\": HTTP $code, want 400"
kill "$h" 2>/dev/null
fogd_stop
