#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The HTML report and SVG flame graph of a profile of prof_hot, loaded in a real headless
# Chromium: no console errors, the page's script ran (frame labels are filled in by it)
# and the flame graph has a frame for the known hot function; the report names it among
# the top functions and as a bottleneck. The report's layout, driven in Chromium through its
# own controls (flame_check.js): the flame graph comes first and spans the page, then the
# findings (their evidence wraps inside the page), then the tables; typing prof_hot_leaf in
# the search box highlights it alone with its share (~80% by construction); a click on
# prof_hot_caller zooms it to the full width and hides prof_cold_leaf beside it. The kernel
# fold on a profile of dd reading /dev/zero (its time is in read(2)): kernel frames hide, a
# [kernel] frame covers exactly what they covered, and unfolding brings them back.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
. "$(dirname "$0")/flame_check.sh"
browser=$FLAME_BROWSER

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
	grep -q '<td>cpu_function</td><td class="evidence">prof_hot_leaf used' "$T_DIR/report.html" ||
		t_fail "report names no bottleneck in prof_hot_leaf ($leaf samples)"
fi

# ---- the layout, through the page's own controls ----
res=$(flame_check "$T_DIR/report.html" \
	'{"search": "^prof_hot_leaf$", "zoom": "prof_hot_caller", "zoomOut": "prof_cold_leaf"}')
t_log "report.html in chromium: $res"
jq -e '.errors == []' <<<"$res" >/dev/null || t_fail "check script failed: $res"
jq -e '.flame_before_findings and .flame_before_tables and .findings_before_summary' \
	<<<"$res" >/dev/null || t_fail "the report does not open on the flame graph, then findings"
jq -e '.svg_width >= .page_width - 60 and .root_width >= .page_width - 80' <<<"$res" >/dev/null ||
	t_fail "the flame graph does not span the page"
jq -e '.hits == ["prof_hot_leaf"] and .hit_fill == ["rgb(230,0,230)"] and .hits_after_clear == 0' \
	<<<"$res" >/dev/null || t_fail "search did not highlight prof_hot_leaf alone"
# the share shown is that of the folded stacks holding prof_hot_leaf (kernel frames may sit on it)
api "/api/v1/profile/$id/folded" >"$T_DIR/report.folded"
want=$(awk '{ n = split($1, f, ";"); t += $NF; for (i = 2; i <= n; i++) if (f[i] == "prof_hot_leaf") {
	s += $NF; break } } END { printf "%.2f", t ? 100 * s / t : 0 }' "$T_DIR/report.folded")
jq -e --argjson w "$want" '(.matched - $w) | fabs < 0.02' <<<"$res" >/dev/null ||
	t_fail "search shows $(jq .matched <<<"$res")% matched, the folded stacks say $want%"
jq -e '.matched > 50 and (.matched_text | startswith("Matched: "))' <<<"$res" >/dev/null ||
	t_fail "search share: $(jq -c '[.matched, .matched_text]' <<<"$res")"
jq -e '.zoom_width > 0.99 and .zoom_out_shown == 0 and .unzoom_out_shown > 0' <<<"$res" \
	>/dev/null || t_fail "zoom on prof_hot_caller: $(jq -c '[.zoom_width, .zoom_out_shown, .unzoom_out_shown]' <<<"$res")"
if jq -e '.evidence_cells > 0' <<<"$res" >/dev/null; then
	jq -e '.evidence_overflow == 0 and .evidence_wrapped > 0 and .findings_table_fits' \
		<<<"$res" >/dev/null || t_fail "findings' evidence overflows or does not wrap: $res"
else
	t_log "no finding fired ($leaf samples of prof_hot_leaf): evidence wrapping not checked"
fi

# ---- the kernel fold, on a profile whose time is in the kernel ----
dd if=/dev/zero of=/dev/null bs=64k count=100000000 2>/dev/null &
ddpid=$!
T_CLEANUP_EXTRA="kill $hot $ddpid 2>/dev/null"
r=$(curl -s --max-time 10 --unix-socket "$FOG_SOCK" -X POST -d "{\"pid\": $ddpid, \"seconds\": 2}" \
	http://localhost/api/v1/profile)
id=$(echo "$r" | jq -e .id) || t_fail "POST /api/v1/profile (dd): $r"
t_wait_json "/api/v1/profile/$id" '.state == "done"' 10 || t_fail "dd profile not done"
kill "$ddpid" 2>/dev/null
api "/api/v1/profile/$id/html" >"$T_DIR/kernel.html" || t_fail "no html report of dd"
res=$(flame_check "$T_DIR/kernel.html" '{}')
t_log "kernel.html in chromium: $(jq -c '{kernel_frames, kf_shown_unfolded, kernel_shown_folded, kf_shown_folded, kf_names, kf_weight, kernel_weight_under_kf, kernel_shown_unfolded}' <<<"$res")"
jq -e '.errors == [] and .kernel_frames > 0 and .kf_shown_unfolded == 0' <<<"$res" >/dev/null ||
	t_fail "dd's report has no kernel frames, or shows [kernel] unfolded: $res"
jq -e '.kernel_shown_folded == 0 and .kf_shown_folded > 0 and .kf_names == ["[kernel]"]' \
	<<<"$res" >/dev/null || t_fail "folding left kernel frames or no [kernel] frame: $res"
jq -e '.kf_weight == .kernel_weight_under_kf and .kernel_shown_unfolded == .kernel_frames' \
	<<<"$res" >/dev/null || t_fail "[kernel] frames do not cover the kernel frames, or unfold failed: $res"
fogd_stop
