#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 12, findings 1 and 3: no file a tenant controls stalls or crashes the profiler. A
# process of nobody's runs code from anonymous executable memory (as a JIT does), so the
# symbolizer looks for its /tmp/perf-PID.map; nobody makes that file a FIFO, a symlink to
# /dev/zero, a sparse 100 GiB file. For each, a profile of the process finishes, fogd answers
# `status` while it runs and while it is finished (each answer within a generous 10 s), the
# JIT frames stay unresolved and the refusal shows in fog_profile_symbolize_errors_total.
# Then an ELF that nobody maps and truncates while it is profiled: fogd stays alive (no SIGBUS).
# Every wait is bounded, so the old code (which blocked in open() on the FIFO) fails here
# instead of hanging.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
[ "$(uname -m)" = x86_64 ] || t_skip "the JIT helper's code is x86-64"
command -v setpriv >/dev/null || t_skip "needs setpriv (util-linux)"
id nobody >/dev/null 2>&1 || t_skip "needs the user nobody"
NOGROUP=$(id -gn nobody)

# fogd may be blocked for good on the old code: kill it before failing, so the clean-up
# (SIGTERM, then wait) cannot hang
status_ok() { curl -sf --max-time 10 --unix-socket "$FOG_SOCK" http://localhost/api/v1/status >/dev/null; }
errors() {	# fog_profile_symbolize_errors_total{reason="$1"}
	curl -sf --max-time 10 --unix-socket "$FOG_SOCK" http://localhost/metrics |
		awk -v r="reason=\"$1\"" 'index($1, "fog_profile_symbolize_errors_total{") == 1 &&
			index($1, r) { v = $2 } END { print v + 0 }'
}


fogd_start
rss0=$(t_rss_mib)
errors not_regular | grep -qx 0 || t_fail_kill "fog_profile_symbolize_errors_total is missing from /metrics or not 0 at start"

JITPID=
PMAP=
T_CLEANUP_EXTRA='[ -n "$JITPID" ] && kill "$JITPID" 2>/dev/null; [ -n "$PMAP" ] && rm -f "$PMAP"'

# hostile_case's wait: fogd answers status each time within 10 s; true once the profile ended
profile_ended() {
	status_ok || t_fail_kill "$name: fogd did not answer status within 10 s during the profile (state $state, $(fogd_state))"
	answered=$((answered + 1))
	state=$(api "/api/v1/profile/$id" | jq -r .state 2>/dev/null)
	[ "$state" != running ]
}

# Runs one case: $1 a name, $2 the reason counted, $3 a command (run as nobody, with $PMAP set)
# that makes the perf map.
hostile_case() {
	local name=$1 reason=$2 make=$3 before r id state answered=0
	before=$(errors "$reason")
	rm -f "$T_DIR/jit.out"
	setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$HELPERS/hostile_jit" jit 30 >"$T_DIR/jit.out" &
	JITPID=$!
	T_WAIT_FAIL=t_fail_kill t_wait_for 30 "$name: hostile_jit printed its pid" test -s "$T_DIR/jit.out"
	[ "$(cat "$T_DIR/jit.out")" = "$JITPID" ] || t_fail_kill "$name: hostile_jit did not print its pid"
	PMAP=/tmp/perf-$JITPID.map
	rm -f "$PMAP"
	PMAP=$PMAP t_as_nobody sh -c "$make" || t_fail_kill "$name: could not make $PMAP as nobody"
	[ "$(stat -c %U "$PMAP")" = nobody ] || t_fail_kill "$name: $PMAP is not nobody's"
	r=$(t_post /api/v1/profile "{\"pid\": $JITPID, \"seconds\": 2}")
	id=$(echo "$r" | jq -e '.id' 2>/dev/null) || t_fail_kill "$name: POST /api/v1/profile: $r"
	# status while the profile runs and is finished; bounded: 40 tries of at most 10 s
	state=running
	T_WAIT_EVERY=0.3 T_WAIT_FAIL=t_fail_kill t_wait_for 60 "$name: profile $id ended" profile_ended
	[ "$answered" -ge 1 ] || t_fail_kill "$name: status never answered during the profile"
	[ "$state" = done ] || t_fail_kill "$name: profile $id not done: $(api "/api/v1/profile/$id")"
	api "/api/v1/profile/$id/folded" >"$T_DIR/$name.folded" || t_fail_kill "$name: no folded output"
	t_log "$name: status answered $answered times during the profile; $(wc -l <"$T_DIR/$name.folded") stacks"
	[ -s "$T_DIR/$name.folded" ] || t_fail_kill "$name: the profile of the spinning process is empty"
	# nothing came out of the hostile file: no frame is named [jit]
	! grep -q 'jit\]' "$T_DIR/$name.folded" || t_fail_kill "$name: a frame was resolved from $PMAP: $(grep -m1 'jit\]' "$T_DIR/$name.folded")"
	[ "$(errors "$reason")" -gt "$before" ] ||
		t_fail_kill "$name: fog_profile_symbolize_errors_total{reason=\"$reason\"} did not grow (still $before)"
	kill -0 "$FOGD_PID" 2>/dev/null || t_fail_kill "$name: fogd died"
	kill "$JITPID" 2>/dev/null
	wait "$JITPID" 2>/dev/null
	JITPID=
	rm -f "$PMAP"
	PMAP=
}

hostile_case fifo not_regular 'mkfifo "$PMAP"'
hostile_case devzero not_regular 'ln -s /dev/zero "$PMAP"'
hostile_case sparse perfmap 'truncate -s 100G "$PMAP"'
# each refusal is logged once per reason, not once per profile
n=$(grep -c 'symbolizer refused input (not_regular' "$FOGD_LOG")
[ "$n" -eq 1 ] || t_fail_kill "the not_regular refusal was logged $n times, want once"
grep -q 'symbolizer refused input (perfmap' "$FOGD_LOG" || t_fail_kill "the perfmap refusal was not logged"

# ---- an ELF its owner truncates while fogd profiles it ----
mkdir "$T_DIR/nobody"
chown nobody "$T_DIR/nobody"
chmod 755 "$T_DIR"
rm -f "$T_DIR/jit.out"
setpriv --reuid=nobody --regid="$NOGROUP" --clear-groups "$HELPERS/hostile_jit" elf 6 "$T_DIR/nobody/lib.so" >"$T_DIR/jit.out" &
JITPID=$!
T_WAIT_FAIL=t_fail_kill t_wait_for 30 "elf: hostile_jit printed its pid" test -s "$T_DIR/jit.out"
[ "$(cat "$T_DIR/jit.out")" = "$JITPID" ] || t_fail_kill "elf: hostile_jit did not print its pid"
grep -q "$T_DIR/nobody/lib.so" "/proc/$JITPID/maps" || t_fail_kill "elf: lib.so is not mapped"
r=$(t_post /api/v1/profile "{\"pid\": $JITPID, \"seconds\": 3}")
id=$(echo "$r" | jq -e '.id' 2>/dev/null) || t_fail_kill "elf: POST /api/v1/profile: $r"
t_wait_json "/api/v1/profile/$id" '.state == "done"' 30 ||
	t_fail_kill "elf: profile $id not done: $(api "/api/v1/profile/$id")"
[ "$(stat -c %s "$T_DIR/nobody/lib.so")" -eq 0 ] || t_fail_kill "elf: lib.so was not truncated during the profile"
api "/api/v1/profile/$id/folded" >/dev/null || t_fail_kill "elf: no folded output"
kill -0 "$FOGD_PID" 2>/dev/null || t_fail_kill "elf: fogd died ($(tail -n 3 "$FOGD_LOG"))"
status_ok || t_fail_kill "elf: fogd does not answer status after the profile"
t_log "elf: fogd alive and answering after its owner truncated a mapped ELF during the profile"
wait "$JITPID" 2>/dev/null
JITPID=

# bounded memory after all of it (the 100 GiB file and /dev/zero were read up to their
# bounds, 32 MiB): growth, not a total, so a sanitizer build (its quarantine keeps freed
# buffers) is held to the same bound
rss=$(t_rss_mib)
t_log "fogd RSS: $rss0 MiB at start, $rss MiB after the hostile cases"
[ $((rss - rss0)) -lt 200 ] || t_fail_kill "fogd's RSS grew from $rss0 to $rss MiB during the hostile cases (want < 200 MiB more)"
fogd_stop
