#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# CPU profile of a program with a known profile (prof_hot: prof_hot_leaf ~80%, prof_cold_leaf
# ~20%): the hot function holds the majority of samples and appears by name in the folded,
# pprof (decoded by the npm package pprof-format, plus our own dangling-id checks), SVG and
# speedscope outputs; /debug/pprof/profile?seconds=N serves a valid profile without holding
# fogd's loop; bad requests get clear errors.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v node >/dev/null || t_skip "needs node to decode pprof"
command -v npm >/dev/null || t_skip "needs npm to install pprof-format"
command -v xmllint >/dev/null || t_skip "needs xmllint (libxml2-utils)"

# an independent pprof reader, installed privately
(cd "$T_DIR" && npm install --silent --no-audit --no-fund pprof-format >/dev/null 2>&1) ||
	t_fail "npm install pprof-format failed (network?)"
cat >"$T_DIR/check_pprof.js" <<'JS'
// Decodes a gzipped pprof file with pprof-format and checks what it does not:
// string_table[0] == "", every id reference resolves, string indices are in range.
const fs = require('fs'), zlib = require('zlib');
const { Profile } = require(process.argv[2] + '/node_modules/pprof-format');
const raw = zlib.gunzipSync(fs.readFileSync(process.argv[3]));
const p = Profile.decode(raw);
const S = p.stringTable.strings, N = Number, errs = [];
const str = (i, what) => { if (N(i) < 0 || N(i) >= S.length) errs.push(`${what}: string ${i} out of range`); return S[N(i)]; };
if (S[0] !== '') errs.push('string_table[0] is not empty');
const ids = (arr, what) => { const m = new Map(); for (const x of arr) { const id = N(x.id);
	if (!id) errs.push(`${what} with id 0`); if (m.has(id)) errs.push(`${what} id ${id} twice`); m.set(id, x); } return m; };
const maps = ids(p.mapping, 'mapping'), locs = ids(p.location, 'location'), funcs = ids(p.function, 'function');
for (const t of p.sampleType) { str(t.type, 'sample_type'); str(t.unit, 'sample_type unit'); }
for (const m of p.mapping) { str(m.filename, 'mapping file'); str(m.buildId, 'mapping build_id'); }
for (const f of p.function) { str(f.name, 'function name'); str(f.systemName, 'function system_name'); str(f.filename, 'function file'); }
for (const l of p.location) { if (N(l.mappingId) && !maps.has(N(l.mappingId))) errs.push(`location ${l.id}: dangling mapping ${l.mappingId}`);
	if (!l.line.length) errs.push(`location ${l.id} without lines`);
	for (const ln of l.line) if (!funcs.has(N(ln.functionId))) errs.push(`location ${l.id}: dangling function ${ln.functionId}`); }
const want = process.argv[4], pid = process.argv[5] ? N(process.argv[5]) : 0;
let total = 0, hot = 0, anyHot = false;
for (const s of p.sample) {
	if (s.value.length !== p.sampleType.length) errs.push('sample with a wrong number of values');
	for (const id of s.locationId) if (!locs.has(N(id))) errs.push(`sample: dangling location ${id}`);
	let spid = 0; for (const lb of s.label) { const k = str(lb.key, 'label key'); if (lb.str) str(lb.str, 'label str'); if (k === 'pid') spid = N(lb.num); }
	if (pid && spid !== pid) continue;
	const v = N(s.value[0]); total += v;
	if (!s.locationId.length) continue;
	const leaf = locs.get(N(s.locationId[0]));
	const fn = leaf && funcs.get(N(leaf.line[0].functionId));
	if (fn && S[N(fn.name)] === want) { hot += v; anyHot = true; }
}
const types = p.sampleType.map(t => S[N(t.type)] + '/' + S[N(t.unit)]).join(',');
const buildIds = p.mapping.filter(m => S[N(m.buildId)]).length;
console.log(JSON.stringify({ errors: errs.slice(0, 20), total, hot, anyHot, types,
	period: N(p.period), mappings: p.mapping.length, buildIds, durationNanos: N(p.durationNanos) }));
JS

fogd_start

# ---- a profile of one pid ----
"$HELPERS/prof_hot" 14 >"$T_DIR/hot.out" &
hot=$!
T_CLEANUP_EXTRA="kill $hot 2>/dev/null"
t_wait_for 30 "prof_hot printed its pid" test -s "$T_DIR/hot.out"
[ "$(cat "$T_DIR/hot.out")" = "$hot" ] || t_fail "prof_hot did not print its pid"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t0=$(cpu_ticks "$hot")
w0=$(date +%s.%N)
r=$(t_post /api/v1/profile "{\"pid\": $hot, \"seconds\": 3}")
id=$(echo "$r" | jq -e '.id') || t_fail "POST /api/v1/profile: $r"
[ "$(echo "$r" | jq -r .state)" = running ] || t_fail "new profile not running: $r"
t_wait_json "/api/v1/profile/$id" '.state == "done"' 10 || t_fail "profile $id not done: $(api "/api/v1/profile/$id")"
# ground truth: the CPU time the process really got during the profile (on a busy host, less
# than the 3 s of wall time); at 99 Hz that is the number of samples to expect. The CPU is read
# before the request and after "done" is seen, a window longer than the profile's 3 s; one
# thread gets at most one CPU second per wall second outside the profile, so the CPU it got
# inside is at least ran - (wall - 3), whatever the host's speed or load.
t1=$(cpu_ticks "$hot")
w1=$(date +%s.%N)
ran=$(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { print (b - a) / hz }')
inside=$(awk -v r="$ran" -v a="$w0" -v b="$w1" 'BEGIN { x = r - ((b - a) - 3); if (x > 3) x = 3; if (x < 0) x = 0; print x }')
want=$(awk -v r="$inside" 'BEGIN { printf "%d", r * 99 * 0.8 }')

api "/api/v1/profile/$id/folded" >"$T_DIR/p.folded" || t_fail "no folded output"
# renders are kept per profile and format: a second GET is served from what was kept
api "/api/v1/profile/$id/folded" | cmp -s - "$T_DIR/p.folded" || t_fail "a second folded GET differs"
api "/api/v1/profile/$id" | jq -e '.renders_kept == 1' >/dev/null ||
	t_fail "folded twice: want 1 render kept: $(api "/api/v1/profile/$id" | jq -c '{renders_kept}')"
total=$(awk '{ s += $NF } END { print s + 0 }' "$T_DIR/p.folded")
hotn=$(awk '{ n = split($1, f, ";"); if (f[n] == "prof_hot_leaf") s += $NF } END { print s + 0 }' "$T_DIR/p.folded")
t_log "folded: $hotn of $total samples have prof_hot_leaf as leaf"
# one busy thread at 99 Hz: about 99 samples per second of CPU it got (at most 297 here)
t_log "the process ran ${ran} s of CPU around the profile, at least ${inside} s inside it: want >= $want samples"
[ "$total" -ge "$want" ] && [ "$total" -ge 30 ] ||
	t_fail "only $total samples for at least ${inside} s of CPU at 99 Hz"
[ $((hotn * 2)) -gt "$total" ] || t_fail "prof_hot_leaf has $hotn of $total samples, not the majority"
# ~80/20 by construction: the hot leaf is 65..95% of the samples
[ $((hotn * 100)) -ge $((total * 65)) ] && [ $((hotn * 100)) -le $((total * 95)) ] ||
	t_fail "prof_hot_leaf share $hotn/$total outside 65..95%"
grep -q '^prof_hot;.*main;prof_hot_caller;prof_hot_leaf [0-9]*$' "$T_DIR/p.folded" ||
	t_fail "no stack main;prof_hot_caller;prof_hot_leaf in folded output: $(head -5 "$T_DIR/p.folded")"
grep -q ';prof_cold_leaf [0-9]*$' "$T_DIR/p.folded" || t_fail "prof_cold_leaf missing"
# only the target process was sampled
awk -F';' '$1 != "prof_hot" { bad = 1 } END { exit bad }' "$T_DIR/p.folded" ||
	t_fail "samples of other processes in a pid profile"

api "/api/v1/profile/$id" | jq -e '.summary.top_self[0].function == "prof_hot_leaf"' >/dev/null ||
	t_fail "summary top function is not prof_hot_leaf: $(api "/api/v1/profile/$id" | jq -c .summary.top_self[0])"

api "/api/v1/profile/$id/pprof" >"$T_DIR/p.pb.gz" || t_fail "no pprof output"
res=$(node "$T_DIR/check_pprof.js" "$T_DIR" "$T_DIR/p.pb.gz" prof_hot_leaf "$hot") ||
	t_fail "pprof-format could not decode the profile"
t_log "pprof: $res"
echo "$res" | jq -e '.errors == []' >/dev/null || t_fail "pprof problems: $(echo "$res" | jq -c .errors)"
echo "$res" | jq -e --argjson t "$total" '.total == $t and .hot * 2 > .total' >/dev/null ||
	t_fail "pprof totals differ from folded ($total samples, hot $hotn): $res"
echo "$res" | jq -e '.types == "samples/count,cpu/nanoseconds" and .period == 10101010' >/dev/null ||
	t_fail "pprof sample types or period wrong: $res"
# the helper is built with a GNU build-id: the mapping must carry it
echo "$res" | jq -e '.buildIds >= 1' >/dev/null || t_fail "no mapping has a build-id"
if command -v protoc >/dev/null && [ -r user/profile/profile.proto ]; then
	gunzip -c "$T_DIR/p.pb.gz" | protoc --proto_path=user/profile --decode=fogpprof.Profile \
		profile.proto >"$T_DIR/p.txt" || t_fail "protoc --decode failed"
	grep -q '"prof_hot_leaf"' "$T_DIR/p.txt" || t_fail "protoc: no prof_hot_leaf string"
fi

api "/api/v1/profile/$id/svg" >"$T_DIR/p.svg" || t_fail "no svg output"
xmllint --noout "$T_DIR/p.svg" || t_fail "svg is not well-formed XML"
grep -q '<title>prof_hot_leaf ([0-9]* samples, [0-9.]*%)</title>' "$T_DIR/p.svg" ||
	t_fail "svg has no frame for prof_hot_leaf"
api "/api/v1/profile/$id/speedscope" | jq -e --arg p "$hot" \
	'(.shared.frames | map(.name) | index("prof_hot_leaf")) != null and
	 (.profiles[0].name | endswith("pid " + $p))' >/dev/null || t_fail "speedscope output wrong"
# the rule flags a function over 1 s of CPU: expect it when the leaf got that much
if [ "$hotn" -ge 110 ]; then
	api "/api/v1/profile/$id" | jq -e '.bottlenecks | map(select(.rule == "cpu_function" and
		(.evidence | startswith("prof_hot_leaf")))) | length == 1' >/dev/null ||
		t_fail "no cpu_function finding for prof_hot_leaf: $(api "/api/v1/profile/$id" | jq -c .bottlenecks)"
elif api "/api/v1/profile/$id" | jq -e '.bottlenecks | map(select(.rule == "cpu_function")) | length > 0' >/dev/null; then
	t_fail "a cpu_function finding though prof_hot_leaf got only $hotn samples"
fi

# ---- Go's endpoint: host-wide, while the helper runs; the loop serves others meanwhile ----
curl -sf --max-time 40 --unix-socket "$FOG_SOCK" \
	"http://localhost/debug/pprof/profile?seconds=10" -o "$T_DIR/host.pb.gz" & pp=$!
sleep 0.5
t0=$(date +%s%N)
api /api/v1/status >/dev/null || t_fail "status failed while a pprof profile was sampling"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
t_log "status answered in $ms ms while /debug/pprof/profile?seconds=10 sampled"
# the profile has 9.5 s to go: an answer within 6 s shows the loop was not held
[ "$ms" -lt 6000 ] || t_fail "status took $ms ms: the pprof request held fogd's loop"
kill -0 $pp 2>/dev/null || t_fail "the pprof request ended before its 10 s were up"
wait $pp || t_fail "GET /debug/pprof/profile?seconds=10 failed"
res=$(node "$T_DIR/check_pprof.js" "$T_DIR" "$T_DIR/host.pb.gz" prof_hot_leaf "$hot") ||
	t_fail "pprof-format could not decode /debug/pprof/profile"
t_log "debug/pprof: $res"
echo "$res" | jq -e '.errors == [] and .anyHot and .durationNanos >= 3000000000' >/dev/null ||
	t_fail "/debug/pprof/profile: $res"
wait "$hot"

# ---- bad requests ----
code=$(t_code POST /api/v1/profile '{"pid": 999999999}')
[ "$code" = 400 ] || t_fail "out-of-range pid: HTTP $code, want 400"
sleep 0.1 & gone=$!; wait $gone
code=$(t_code POST /api/v1/profile "{\"pid\": $gone}")
[ "$code" = 404 ] || t_fail "exited pid: HTTP $code, want 404"
code=$(t_code POST /api/v1/profile '{"all": true, "pid": 1}')
[ "$code" = 400 ] || t_fail "two targets: HTTP $code, want 400"
code=$(t_code POST /api/v1/profile 'nonsense')
[ "$code" = 400 ] || t_fail "bad JSON: HTTP $code, want 400"
code=$(t_code GET "/debug/pprof/profile?seconds=abc")
[ "$code" = 400 ] || t_fail "bad seconds: HTTP $code, want 400"
code=$(t_code GET "/api/v1/profile/$id/nosuchformat")
[ "$code" = 404 ] || t_fail "unknown format: HTTP $code, want 404"
fogd_stop
