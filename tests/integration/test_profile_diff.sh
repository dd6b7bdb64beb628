#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fogctl profile diff on two CPU profiles of prof_shift, whose hot function the test picks:
# run "a" spends 4/5 of its work in shift_fn_a, run "b" 4/5 in shift_fn_b, each taken with
# fogctl profile -o X.pb.gz. The diff must show shift_fn_b grown and shift_fn_a shrunk: in
# the folded lines (both weights per stack; each column adds up to its profile's total as
# Google's protoc decodes the file), in the page (red and blue frames in headless Chromium,
# the changes table) and in the pprof output (NEW's samples, BASE's negated and labelled
# pprof::base, decoded by protoc). A bare (not gzipped) message reads the same. Bad input
# gets an error naming the file.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
. "$(dirname "$0")/flame_check.sh"
command -v protoc >/dev/null || t_skip "needs protoc (protobuf-compiler) to decode pprof"
PROTO_DIR="$(dirname "$0")/../../user/profile"

fogd_start
profile_run() {	# MODE OUT: a 3 s CPU profile of prof_shift MODE
	"$HELPERS/prof_shift" "$1" 8 >"$T_DIR/$1.pid" &
	local pid=$!
	T_CLEANUP_EXTRA="kill $pid 2>/dev/null"
	for _ in $(seq 1 50); do [ -s "$T_DIR/$1.pid" ] && break; sleep 0.1; done
	"$FOGCTL" profile -p "$pid" -d 3s -o "$2" 2>"$T_DIR/$1.err" ||
		t_fail "fogctl profile of prof_shift $1: $(cat "$T_DIR/$1.err")"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
profile_run a "$T_DIR/base.pb.gz"
profile_run b "$T_DIR/new.pb.gz"

# pprof text through protoc: "total V" (value 0 over samples), then "LEAF BASE? V" per sample
decode() {
	gzip -dc "$1" | protoc --decode=fogpprof.Profile --proto_path="$PROTO_DIR" profile.proto |
		python3 -c '
import re, sys
root, stack = {}, []
cur = root
for line in sys.stdin:
    line = line.strip()
    if line.endswith("{"):
        node = {}
        cur.setdefault(line[:-1].strip(), []).append(node)
        stack.append(cur)
        cur = node
    elif line == "}":
        cur = stack.pop()
    elif ":" in line:
        k, v = line.split(":", 1)
        v = v.strip()
        if v.startswith("\""):
            v = bytes(v[1:-1], "utf-8").decode("unicode_escape")
        cur.setdefault(k.strip(), []).append(v)
S = root.get("string_table", [])
fn = {f["id"][0]: S[int(f.get("name", ["0"])[0])] for f in root.get("function", [])}
loc = {l["id"][0]: fn.get(l["line"][0].get("function_id", ["0"])[0], "?") for l in root.get("location", [])}
total = 0
rows = []
for s in root.get("sample", []):
    v = int(s["value"][0])
    base = any(S[int(l.get("key", ["0"])[0])] == "pprof::base" and S[int(l.get("str", ["0"])[0])] == "true"
               for l in s.get("label", []))
    total += v
    rows.append("%s %d %d" % (loc.get(s["location_id"][0], "?") if "location_id" in s else "-", base, v))
print("total", total)
print("\n".join(rows))'
}
base_total=$(decode "$T_DIR/base.pb.gz" | awk '$1 == "total" { print $2 }')
new_total=$(decode "$T_DIR/new.pb.gz" | awk '$1 == "total" { print $2 }')
t_log "base $base_total samples, new $new_total samples (protoc)"
[ "${base_total:-0}" -gt 50 ] && [ "${new_total:-0}" -gt 50 ] || t_fail "too few samples to compare"

# ---- folded: both weights, shares by leaf ----
"$FOGCTL" profile diff "$T_DIR/base.pb.gz" "$T_DIR/new.pb.gz" -o "$T_DIR/diff.folded" \
	2>"$T_DIR/diff.err" || t_fail "fogctl profile diff -o diff.folded: $(cat "$T_DIR/diff.err")"
awk 'NF != 3 || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ { bad++ } END { exit bad > 0 }' \
	"$T_DIR/diff.folded" || t_fail "folded lines are not 'stack BASE NEW': $(head -3 "$T_DIR/diff.folded")"
read -r fb fn <<<"$(awk '{ b += $2; n += $3 } END { print b, n }' "$T_DIR/diff.folded")"
[ "$fb" = "$base_total" ] && [ "$fn" = "$new_total" ] ||
	t_fail "folded columns add up to $fb and $fn, protoc says $base_total and $new_total"
share() {	# LEAF COLUMN: that leaf's share of the column's total
	awk -v leaf="$1" -v c="$2" '{ n = split($1, f, ";"); t += $c; if (f[n] == leaf) s += $c }
		END { printf "%.3f", t ? s / t : 0 }' "$T_DIR/diff.folded"
}
a0=$(share shift_fn_a 2) a1=$(share shift_fn_a 3) b0=$(share shift_fn_b 2) b1=$(share shift_fn_b 3)
t_log "shift_fn_a: $a0 -> $a1 of the samples; shift_fn_b: $b0 -> $b1"
awk -v a0="$a0" -v a1="$a1" -v b0="$b0" -v b1="$b1" \
	'BEGIN { exit !(a0 - a1 > 0.3 && b1 - b0 > 0.3) }' ||
	t_fail "the diff does not show shift_fn_b grown and shift_fn_a shrunk (by 0.3 of the total)"

# a bare (not gzipped) profile.proto message reads the same
gzip -dc "$T_DIR/new.pb.gz" >"$T_DIR/new.pb"
"$FOGCTL" profile diff "$T_DIR/base.pb.gz" "$T_DIR/new.pb" >"$T_DIR/raw.folded" 2>"$T_DIR/diff.err" ||
	t_fail "fogctl profile diff of a bare message: $(cat "$T_DIR/diff.err")"
cmp -s "$T_DIR/raw.folded" "$T_DIR/diff.folded" || t_fail "a bare message diffs unlike its gzip file"

# ---- html: red for grown, blue for shrunk, in headless Chromium ----
"$FOGCTL" profile diff "$T_DIR/base.pb.gz" "$T_DIR/new.pb.gz" -o "$T_DIR/diff.html" \
	2>"$T_DIR/diff.err" || t_fail "fogctl profile diff -o diff.html: $(cat "$T_DIR/diff.err")"
res=$(flame_check "$T_DIR/diff.html" \
	'{"grew": "shift_fn_b", "shrank": "shift_fn_a", "search": "^shift_fn_", "zoom": "shift_run"}')
t_log "diff.html in chromium: $res"
jq -e '.errors == [] and .flame_before_changes and .svg_width >= .page_width - 60' <<<"$res" \
	>/dev/null || t_fail "the diff page does not open on a page-wide flame graph: $res"
jq -e '.grew_rgb[0] == 255 and .grew_rgb[2] < 200' <<<"$res" >/dev/null ||
	t_fail "shift_fn_b is not red: $(jq -c .grew_rgb <<<"$res")"
jq -e '.shrank_rgb[2] == 255 and .shrank_rgb[0] < 200' <<<"$res" >/dev/null ||
	t_fail "shift_fn_a is not blue: $(jq -c .shrank_rgb <<<"$res")"
jq -e '(.hits | sort) == ["shift_fn_a", "shift_fn_b"] and .matched > 90 and .zoom_width > 0.99' \
	<<<"$res" >/dev/null || t_fail "search or zoom on the diff page: $res"
grep -q '<tr><td>shift_fn_b</td><td>[0-9.]*</td><td>[0-9.]*</td><td class="grew">+' \
	"$T_DIR/diff.html" || t_fail "the changes table does not show shift_fn_b grown"
grep -q '<tr><td>shift_fn_a</td><td>[0-9.]*</td><td>[0-9.]*</td><td class="shrank">-' \
	"$T_DIR/diff.html" || t_fail "the changes table does not show shift_fn_a shrunk"

# ---- pprof: NEW, then BASE negated with pprof::base=true ----
"$FOGCTL" profile diff "$T_DIR/base.pb.gz" "$T_DIR/new.pb.gz" -o "$T_DIR/diff.pb.gz" \
	2>"$T_DIR/diff.err" || t_fail "fogctl profile diff -o diff.pb.gz: $(cat "$T_DIR/diff.err")"
decode "$T_DIR/diff.pb.gz" >"$T_DIR/diff.txt" || t_fail "protoc cannot decode diff.pb.gz"
read -r pos neg badsign <<<"$(awk 'NR > 1 { if ($2 == 1) { n += $3; if ($3 > 0) bad++ }
	else { p += $3; if ($3 < 0) bad++ } } END { print p + 0, n + 0, bad + 0 }' "$T_DIR/diff.txt")"
[ "$pos" = "$new_total" ] && [ "$neg" = "-$base_total" ] && [ "$badsign" = 0 ] ||
	t_fail "diff.pb.gz: new samples add up to $pos (want $new_total), base to $neg (want -$base_total), $badsign of the wrong sign"
net() { awk -v leaf="$1" 'NR > 1 && $1 == leaf { s += $3 } END { print s + 0 }' "$T_DIR/diff.txt"; }
[ "$(net shift_fn_b)" -gt 0 ] && [ "$(net shift_fn_a)" -lt 0 ] ||
	t_fail "diff.pb.gz nets: shift_fn_b $(net shift_fn_b), shift_fn_a $(net shift_fn_a)"

# ---- bad input: the error names the file and what is wrong ----
bad() {	# WANT_STATUS WANT_TEXT ARGS...
	local want=$1 text=$2 rc=0 out
	shift 2
	out=$("$FOGCTL" profile diff "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out" ||
		t_fail "fogctl profile diff $*: status $rc, '$out' (want $want, '$text')"
}
head -c 300 "$T_DIR/new.pb.gz" >"$T_DIR/cut.pb.gz"
bad 1 "/etc/passwd: not a pprof profile" /etc/passwd "$T_DIR/new.pb.gz"
bad 1 "$T_DIR/cut.pb.gz: bad gzip data" "$T_DIR/base.pb.gz" "$T_DIR/cut.pb.gz"
bad 1 "$T_DIR/none.pb.gz: cannot open" "$T_DIR/none.pb.gz" "$T_DIR/new.pb.gz"
bad 1 "/dev/zero: not a regular file" /dev/zero "$T_DIR/new.pb.gz"
bad 1 "has a negative value (a differential profile?" "$T_DIR/diff.pb.gz" "$T_DIR/new.pb.gz"
bad 1 "no sample value 'alloc_space'" --sample alloc_space "$T_DIR/base.pb.gz" "$T_DIR/new.pb.gz"
bad 2 "name it .html, .folded or .pb.gz" "$T_DIR/base.pb.gz" "$T_DIR/new.pb.gz" -o x.png
bad 2 "give two pprof files" "$T_DIR/base.pb.gz"
fogd_stop
