# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the tests of the profiler's pages (after lib.sh): flame_check PAGE CONFIG
# loads a copy of PAGE with flame_check.js appended (CONFIG: its window.FOG_CHECK, JSON) in
# headless Chromium at 1000x900, fails on console errors, and prints the JSON the script left.
FLAME_BROWSER=$(command -v chromium || command -v chromium-browser) || t_skip "needs chromium"

flame_check() {
	local page=$1 cfg=$2 copy="$T_DIR/check-$(basename "$1")"
	{
		cat "$page"
		printf '<script>window.FOG_CHECK = %s;</script>\n<script>\n' "$cfg"
		cat "$(dirname "${BASH_SOURCE[0]}")/flame_check.js"
		printf '</script>\n'
	} >"$copy"
	timeout 90 "$FLAME_BROWSER" --headless --no-sandbox --disable-gpu --enable-logging=stderr \
		--v=0 --window-size=1000,900 --user-data-dir="$T_DIR/chromium" --dump-dom \
		"file://$copy" >"$copy.dom" 2>"$copy.err" || t_fail "chromium failed on $page"
	if grep -E 'CONSOLE.*(Uncaught|Error)' "$copy.err"; then
		t_fail "console errors loading $page"
	fi
	python3 -c 'import html, re, sys
m = re.findall(r"<pre id=\"fogcheck\">([^<]*)</pre>", open(sys.argv[1]).read(), re.S)
print(html.unescape(m[-1]) if m else "{\"errors\": [\"no result: the check did not run\"]}")' \
		"$copy.dom"
}
