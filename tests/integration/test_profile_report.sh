#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The HTML report and SVG flame graph of a profile of prof_hot, loaded in a real headless
# Chromium: no console errors, the page's script ran (frame labels are filled in by it)
# and the flame graph has a frame for the known hot function; the report names it among
# the top functions and as a bottleneck.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
browser=$(command -v chromium || command -v chromium-browser) || t_skip "needs chromium"

fogd_start
"$HELPERS/prof_hot" 6 >"$T_DIR/hot.out" &
hot=$!
T_CLEANUP_EXTRA="kill $hot 2>/dev/null"
t_wait_for 30 "prof_hot printed its pid" test -s "$T_DIR/hot.out"
r=$(t_post /api/v1/profile "{\"pid\": $hot, \"seconds\": 4}")
id=$(echo "$r" | jq -e .id) || t_fail "POST /api/v1/profile: $r"
t_wait_json "/api/v1/profile/$id" '.state == "done"' 10 || t_fail "profile not done"
api "/api/v1/profile/$id/html" >"$T_DIR/report.html" || t_fail "no html report"
api "/api/v1/profile/$id/svg" >"$T_DIR/flame.svg" || t_fail "no svg"
wait "$hot"

for page in report.html flame.svg; do
	timeout 90 "$browser" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
		--user-data-dir="$T_DIR/chromium" --dump-dom "file://$T_DIR/$page" \
		>"$T_DIR/$page.dom" 2>"$T_DIR/$page.err" || t_fail "chromium failed on $page"
	if grep -E 'CONSOLE.*(Uncaught|Error)' "$T_DIR/$page.err"; then
		t_fail "console errors loading $page"
	fi
	# the static file has empty labels: a filled one proves the script ran without throwing
	grep -q '<text x="[0-9.]*" y="[0-9]*">prof_hot_leaf</text>' "$T_DIR/$page.dom" ||
		t_fail "$page: no labelled frame for prof_hot_leaf after the page's script ran"
done
grep -q '<title>prof_hot_leaf ([0-9]* samples' "$T_DIR/report.html" ||
	t_fail "report's flame graph has no prof_hot_leaf frame"
grep -q '<td>prof_hot_leaf</td>' "$T_DIR/report.html" || t_fail "top functions lack prof_hot_leaf"
# the cpu_function rule needs the leaf over 1 s of CPU: a loaded host may not give it that
leaf=$(api "/api/v1/profile/$id/folded" | awk '{ n = split($1, f, ";"); if (f[n] == "prof_hot_leaf") s += $NF } END { print s + 0 }')
if [ "$leaf" -ge 110 ]; then
	grep -q '<td>cpu_function</td><td>prof_hot_leaf used' "$T_DIR/report.html" ||
		t_fail "report names no bottleneck in prof_hot_leaf ($leaf samples)"
fi
fogd_stop
