#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 12: the ELF and DWARF of profiled programs are parsed by the symbol helper, a process
# of its own user without privileges, and fogd goes on when the helper crashes or hangs.
#  1. a profile resolves its names through the helper (counted in fog_profile_helper_*);
#  2. the helper runs as fogd-sym with no capability, no_new_privs, a seccomp filter, not
#     dumpable, an empty environment, four open fds and its resource limits;
#  3. the helper is killed while it parses the profiled program: the profile finishes, the
#     crash is counted, the program's frames stay unresolved, fogd answers meanwhile;
#  4. the next profile of the same program resolves again (a new helper);
#  5. the helper hangs (stopped) while it parses: fogd answers meanwhile, kills it when its
#     time is up, counts a timeout and finishes the profile;
#  6. the same in continuous mode (one snapshot a second): /metrics answers all along, the
#     timeout is counted, and snapshots are written again once a new helper serves.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
id fogd-sym >/dev/null 2>&1 || t_fail "no user fogd-sym: make deps creates it"

metric() {	# metric NAME [LABEL]: the value of NAME (with LABEL among its labels), 0 when absent
	curl -sf --max-time 10 --unix-socket "$FOG_SOCK" http://localhost/metrics |
		awk -v n="$1" -v l="${2:-}" '{ split($1, a, "{") }
			a[1] == n && (l == "" || index($1, l)) { v = $2 } END { print v + 0 }'
}
helper_pid() { pgrep -P "$FOGD_PID" -x fogd-symhelper | head -1; }

PIDS=()
T_CLEANUP_EXTRA='for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done'

# Starts a fresh copy of prof_hot (a file fogd has not read yet); sets HOT to its pid.
start_hot() {
	cp "$HELPERS/prof_hot" "$T_DIR/$1"
	"$T_DIR/$1" 60 >"$T_DIR/$1.out" &
	HOT=$!
	PIDS+=("$HOT")
	t_wait_for 30 "$1 printed its pid" test -s "$T_DIR/$1.out"
	[ "$(cat "$T_DIR/$1.out")" = "$HOT" ] || t_fail "$1 did not print its pid"
}
# Starts a profile of $HOT for $1 s; sets ID.
start_profile() {
	local r
	r=$(t_post /api/v1/profile "{\"pid\": $HOT, \"seconds\": $1}")
	ID=$(echo "$r" | jq -e '.id') || t_fail "POST /api/v1/profile: $r"
}
# Waits (bounded by $1 s) for profile $ID, checking that fogd answers all along.
wait_profile() { T_WAIT_EVERY=0.5 t_wait_for "$1" "profile $ID done" profile_done; }
profile_done() {
	curl -sf --max-time 10 --unix-socket "$FOG_SOCK" http://localhost/metrics >/dev/null ||
		t_fail "fogd did not answer /metrics while profile $ID ran"
	api "/api/v1/profile/$ID" | jq -e '.state == "done"'
}

fogd_start
grep -q 'parsed by a helper running as fogd-sym' "$FOGD_LOG" || t_fail "fogd did not set up the helper"
[ "$(metric fog_profile_helper_enabled)" = 1 ] || t_fail "fog_profile_helper_enabled is not 1"

# ---- 1. names come through the helper ----
start_hot hot1
start_profile 2
wait_profile 30
api "/api/v1/profile/$ID/folded" >"$T_DIR/p1.folded" || t_fail "no folded output"
grep -q ';prof_hot_leaf [0-9]*$' "$T_DIR/p1.folded" ||
	t_fail "prof_hot_leaf not resolved through the helper: $(head -3 "$T_DIR/p1.folded")"
req=$(metric fog_profile_helper_requests_total)
[ "$req" -ge 2 ] || t_fail "fog_profile_helper_requests_total is $req after a profile"
[ "$(metric fog_profile_helper_starts_total)" -ge 1 ] || t_fail "no helper start counted"

# ---- 2. what the helper may do ----
hp=$(helper_pid)
[ -n "$hp" ] || t_fail "no fogd-symhelper child of fogd $FOGD_PID"
st=/proc/$hp/status
uid=$(id -u fogd-sym) gid=$(id -g fogd-sym)
awk -v u="$uid" '$1 == "Uid:" && !($2 == u && $3 == u && $4 == u && $5 == u) { exit 1 }' "$st" ||
	t_fail "helper uids: $(grep ^Uid "$st"), want $uid"
awk -v g="$gid" '$1 == "Gid:" && !($2 == g && $3 == g && $4 == g && $5 == g) { exit 1 }' "$st" ||
	t_fail "helper gids: $(grep ^Gid "$st"), want $gid"
[ "$(awk '$1 == "Groups:" { print NF - 1 }' "$st")" = 0 ] || t_fail "helper has groups: $(grep ^Groups "$st")"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	grep -q "^$c:[[:space:]]*0000000000000000$" "$st" || t_fail "helper $(grep "^$c" "$st")"
done
grep -q '^NoNewPrivs:[[:space:]]*1$' "$st" || t_fail "helper without no_new_privs"
grep -q '^Seccomp:[[:space:]]*2$' "$st" || t_fail "helper without a seccomp filter: $(grep ^Seccomp "$st")"
[ ! -s "/proc/$hp/environ" ] || t_fail "helper has an environment"
# /dev/null x3 and its socket; besides, only regular files: those the unwinder keeps (issue 14:
# files fogd handed over for unwinding, shared by the process layouts that map them)
nfd=0
for f in /proc/"$hp"/fd/*; do
	n=${f##*/}
	[ "$n" -le 3 ] && { nfd=$((nfd + 1)); continue; }
	[ -f "$f" ] || t_fail "helper fd $n is not a file the unwinder keeps: $(ls -l "$f")"
done
[ "$nfd" = 4 ] || t_fail "helper has $nfd of its 4 standard fds (/dev/null x3 and its socket): $(ls -l "/proc/$hp/fd")"
lim=/proc/$hp/limits
grep -q '^Max cpu time *600 *605 ' "$lim" || t_fail "helper CPU limit: $(grep '^Max cpu' "$lim")"
grep -q '^Max open files *337 *337 ' "$lim" || t_fail "helper fd limit: $(grep '^Max open' "$lim")"
grep -q '^Max core file size *0 *0 ' "$lim" || t_fail "helper core limit: $(grep '^Max core' "$lim")"
# AddressSanitizer reserves terabytes of address space: a build with it sets no bound there
if ! { nm -D "$FOGD" 2>/dev/null | grep -q __asan_init || nm "$FOGD" 2>/dev/null | grep -q __asan_init; }; then
	grep -q '^Max address space *3221225472 *3221225472 ' "$lim" ||
		t_fail "helper address space limit: $(grep '^Max address' "$lim")"
fi
t_log "helper $hp: uid $uid, no capabilities, seccomp, $nfd fds, limits set"

# ---- 3. the helper dies while it parses the profiled program ----
kill -STOP "$hp"
start_hot hot2
req0=$(metric fog_profile_helper_requests_total)
start_profile 2
# the program's own file is its first mapping, so the first file asked for
more_requests() { [ "$(metric fog_profile_helper_requests_total)" -gt "$req0" ]; }
T_WAIT_EVERY=0.2 t_wait_for 20 "a file sent to the stopped helper" more_requests
kill -KILL "$hp"
wait_profile 30
[ "$(metric fog_profile_helper_failures_total 'reason="crash"')" = 1 ] ||
	t_fail "crash not counted: $(curl -s --unix-socket "$FOG_SOCK" http://localhost/metrics | grep helper_failures)"
api "/api/v1/profile/$ID/folded" >"$T_DIR/p2.folded" || t_fail "no folded output after the crash"
[ -s "$T_DIR/p2.folded" ] || t_fail "the profile lost its samples with the helper"
! grep -q 'prof_hot_leaf' "$T_DIR/p2.folded" ||
	t_fail "hot2's names resolved although its parse was lost"
grep -q 'symbol helper: it died while parsing a file (crash)' "$FOGD_LOG" || t_fail "the crash was not logged"

# ---- 4. a new helper serves the next profile ----
start_profile 2
wait_profile 30
api "/api/v1/profile/$ID/folded" | grep -q ';prof_hot_leaf [0-9]*$' ||
	t_fail "hot2's names do not resolve through a new helper"
hp2=$(helper_pid)
[ -n "$hp2" ] && [ "$hp2" != "$hp" ] || t_fail "no new helper (was $hp, now '$hp2')"
[ "$(metric fog_profile_helper_starts_total)" -ge 2 ] || t_fail "the new helper's start is not counted"

# ---- 5. the helper hangs while it parses ----
kill -STOP "$hp2"
start_hot hot3
start_profile 2
# fogd answers all along (wait_profile checks); the helper's 20 s are up before 60 s
wait_profile 60
[ "$(metric fog_profile_helper_failures_total 'reason="timeout"')" = 1 ] || t_fail "timeout not counted"
! kill -0 "$hp2" 2>/dev/null || t_fail "the hung helper $hp2 is still there"
fogd_stop

# ---- 6. continuous mode: its worker waits for the helper, the loop does not ----
printf '[profile]\ncontinuous = on\nfrequency = 49\nsnapshot_s = 1\ndirectory = %s\n' \
	"$T_DIR/ring" >"$T_DIR/cont.ini"
fogd_start -c "$T_DIR/cont.ini"
written() { api /api/v1/profiles/continuous | jq -e '.written'; }
cont_started() {
	[ "$(written)" -ge 2 ] && [ -n "$(helper_pid)" ] && return 0
	api /api/v1/profiles/continuous
	return 1
}
T_WAIT_EVERY=0.5 t_wait_for 30 "continuous mode writing snapshots through a helper" cont_started
hp3=$(helper_pid)
kill -STOP "$hp3"
start_hot hot4	# a new file for the stopped helper
w0=$(written)
cont_timeout() {
	[ "$(metric fog_profile_helper_failures_total 'reason="timeout"')" = 1 ] && return 0
	# each answer within the bound, while the worker waits 20 s for the helper
	curl -sf --max-time 5 --unix-socket "$FOG_SOCK" http://localhost/metrics >/dev/null ||
		t_fail "fogd did not answer /metrics in 5 s while the helper hung"
	return 1
}
T_WAIT_EVERY=0.5 t_wait_for 60 "the hung helper's timeout counted in continuous mode" cont_timeout
w1=$(written)
t_wait_json /api/v1/profiles/continuous ".written >= $((w1 + 2))" 30 ||
	t_fail "no snapshots after the hung helper was replaced: $(api /api/v1/profiles/continuous)"
t_log "continuous: $w0 snapshots before the hang, $w1 when it was killed, more after"
fogd_stop
