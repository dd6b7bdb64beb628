#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 12: the allocation sampler's shared file is the tenant's. A process of nobody's runs
# with LD_PRELOAD=libfogalloc.so (prof_leak); fogd starts a memory profile of it (reading the
# file once at the start), then nobody puts something else at the file's path while the
# profile runs: an empty file, a sparse 100 GiB file, a FIFO, a symlink to /dev/zero, a copy
# whose counts and indices are garbage. (Each replaces the path by rename: the sampler keeps
# writing its own mapping, so the tenant lives and fogd reads what is at the path at the end.)
# For each: fogd answers /api/v1/status and /metrics throughout (each within 1 s), never dies
# (no SIGBUS), its RSS grows by less than a bound stated below, the profile finishes ("done")
# with the figures of the start copy and a note saying why, the refusal is counted in
# fog_profile_sampler_errors_total{reason} and logged once per reason.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v setpriv >/dev/null || t_skip "needs setpriv (util-linux)"
id nobody >/dev/null 2>&1 || t_skip "needs the user nobody"
SO="$PWD/$OUTPUT/libfogalloc.so"
[ -r "$SO" ] || t_fail "$SO not built"
NOGROUP=$(id -gn nobody)
RSS_GROWTH_MIB=200	# bound on fogd's RSS growth over all cases (each file copy is 4.4 MiB)

status_ok() { curl -sf --max-time 1 --unix-socket "$FOG_SOCK" http://localhost/api/v1/status >/dev/null; }
metrics_ok() { curl -sf --max-time 1 --unix-socket "$FOG_SOCK" http://localhost/metrics >/dev/null; }
errors() {	# fog_profile_sampler_errors_total{reason="$1"}
	curl -sf --max-time 10 --unix-socket "$FOG_SOCK" http://localhost/metrics |
		awk -v r="reason=\"$1\"" 'index($1, "fog_profile_sampler_errors_total{") == 1 &&
			index($1, r) { v = $2 } END { print v + 0 }'
}

fogd_start
rss0=$(t_rss_mib)
curl -sf --max-time 10 --unix-socket "$FOG_SOCK" http://localhost/metrics |
	grep -q '^fog_profile_sampler_errors_total{reason="size"} 0' ||
	t_fail_kill "fog_profile_sampler_errors_total{reason=\"size\"} is missing from /metrics or not 0"

chmod 755 "$T_DIR"
DIR=$T_DIR/nobody
mkdir "$DIR"
chown nobody "$DIR"
LEAKPID=
T_CLEANUP_EXTRA='[ -n "$LEAKPID" ] && kill "$LEAKPID" 2>/dev/null'

# hostile_case's wait: fogd answers each time within 1 s; true once the profile is not running
profile_ended() {
	status_ok || t_fail_kill "$name: /api/v1/status did not answer within 1 s (profile $state, $(fogd_state))"
	metrics_ok || t_fail_kill "$name: /metrics did not answer within 1 s (profile $state)"
	answered=$((answered + 1))
	state=$(api "/api/v1/profile/$id" | jq -r .state 2>/dev/null)
	[ "$state" != running ]
}

# Runs one case: $1 a name, $2 the reason counted, $3 a command run as nobody in $DIR, with
# $F the sampler file's name, that puts something else at that path.
hostile_case() {
	local name=$1 reason=$2 make=$3 before r id state answered=0 f
	before=$(errors "$reason")
	rm -f "$T_DIR/leak.out"
	# setpriv itself (not the function, whose subshell would be $!)
	setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups env LD_PRELOAD="$SO" \
		FOG_ALLOC_DIR="$DIR" "$HELPERS/prof_leak" 8 16 >"$T_DIR/leak.out" &
	LEAKPID=$!
	T_WAIT_FAIL=t_fail_kill t_wait_for 30 "$name: prof_leak printed its pid" test -s "$T_DIR/leak.out"
	[ "$(head -1 "$T_DIR/leak.out")" = "$LEAKPID" ] || t_fail_kill "$name: prof_leak did not print its pid"
	f=fogalloc.$LEAKPID
	[ -f "$DIR/$f" ] || t_fail_kill "$name: the sampler made no file $DIR/$f"
	r=$(t_post /api/v1/profile "{\"pid\": $LEAKPID, \"mode\": \"mem\", \"seconds\": 2}")
	id=$(echo "$r" | jq -e .id 2>/dev/null) || t_fail_kill "$name: POST mem profile: $r"
	(cd "$DIR" && F=$f t_as_nobody sh -c "$make") || t_fail_kill "$name: could not replace $f as nobody"
	[ "$(stat -c %U "$DIR/$f")" = nobody ] || t_fail_kill "$name: $f is not nobody's"
	# status and metrics while the profile runs and once it is finished, each within 1 s
	state=running
	T_WAIT_EVERY=0.2 T_WAIT_FAIL=t_fail_kill t_wait_for 60 "$name: profile $id ended" profile_ended
	kill -0 "$FOGD_PID" 2>/dev/null || t_fail_kill "$name: fogd died ($(tail -n 3 "$FOGD_LOG"))"
	[ "$state" = done ] || t_fail_kill "$name: profile $id not done: $(api "/api/v1/profile/$id" | head -c 400)"
	api "/api/v1/profile/$id" >"$T_DIR/$name.json" || t_fail_kill "$name: no profile summary"
	# what was valid: the start copy (prof_leak_grow had leaked its first half by then)
	jq -e '.summary.kind == "inuse" and .summary.total > 0' "$T_DIR/$name.json" >/dev/null ||
		t_fail_kill "$name: the profile kept nothing of the start copy: $(jq -c .summary "$T_DIR/$name.json" | head -c 400)"
	if [ "$reason" != counts ]; then
		jq -e '[.summary.notes[] | select(test("sampler file could not be read at the end"))] |
			length == 1' "$T_DIR/$name.json" >/dev/null ||
			t_fail_kill "$name: no note says the end copy was refused: $(jq -c .summary.notes "$T_DIR/$name.json")"
	fi
	[ "$(errors "$reason")" -gt "$before" ] ||
		t_fail_kill "$name: fog_profile_sampler_errors_total{reason=\"$reason\"} did not grow (still $before)"
	t_log "$name: status and metrics answered $answered times; total $(jq .summary.total "$T_DIR/$name.json") bytes live; $reason errors $before -> $(errors "$reason")"
	kill "$LEAKPID" 2>/dev/null
	wait "$LEAKPID" 2>/dev/null
	LEAKPID=
	rm -f "$DIR/$f"
}

hostile_case empty size ': >"$F.new" && mv -f "$F.new" "$F"'
hostile_case sparse size 'truncate -s 100G "$F.new" && mv -f "$F.new" "$F"'
hostile_case fifo not_regular 'mkfifo "$F.new" && mv -f "$F.new" "$F"'
hostile_case devzero not_regular 'ln -s /dev/zero "$F.new" && mv -Tf "$F.new" "$F"'
# garbage counts and indices in a copy of the real file: nstacks and ngrowth (header bytes
# 112..119), every stack's depth and every live slot's stack index
hostile_case garbage counts 'cp "$F" "$F.new" &&
	printf "\377\377\377\377\377\377\377\377" | dd of="$F.new" bs=1 seek=112 conv=notrunc status=none &&
	for i in 0 1 2 3 4 5 6 7 8 9; do
		printf "\377\377\377\177" | dd of="$F.new" bs=1 seek=$((4096 + i * 448 + 8)) conv=notrunc status=none
	done &&
	for i in $(seq 0 4096 65535); do
		printf "\377\377\377\377" | dd of="$F.new" bs=1 seek=$((4096 + 4096 * 448 + i * 40 + 32)) conv=notrunc status=none
	done && mv -f "$F.new" "$F"'

for reason in size not_regular counts; do
	n=$(grep -c "allocation sampler file refused ($reason, logged once)" "$FOGD_LOG")
	[ "$n" -eq 1 ] || t_fail_kill "the $reason refusal was logged $n times, want once"
done
rss=$(t_rss_mib)
t_log "fogd RSS: $rss0 MiB at start, $rss MiB after the hostile cases (bound: $RSS_GROWTH_MIB MiB more)"
[ $((rss - rss0)) -lt "$RSS_GROWTH_MIB" ] ||
	t_fail_kill "fogd's RSS grew from $rss0 to $rss MiB (want < $RSS_GROWTH_MIB MiB more)"
fogd_stop
