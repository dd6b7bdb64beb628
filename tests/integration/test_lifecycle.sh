#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# fogd's life: config check, privileges, pins readable by bpftool, a 0600 socket,
# SIGHUP with a bad and a good config, SIGTERM leaving nothing behind, kill -9 and restart.
. "$(dirname "$0")/lib.sh"
t_require_root_btf

# -n: a bad file is refused with file, line and key
printf '[fogd]\ntick_ms = 500\n[collectors]\ncpu = on\nspeed = 11\n' >"$T_DIR/bad.ini"
if out=$("$FOGD" -n -c "$T_DIR/bad.ini" 2>&1); then t_fail "fogd -n accepted a bad config"; fi
grep -q "bad.ini:5: unknown key 'speed' in section \[collectors\]" <<<"$out" ||
	t_fail "fogd -n error does not name file, line and key: $out"
printf '[fogd]\ntick_ms = 500\n' >"$T_DIR/good.ini"
out=$("$FOGD" -n -c "$T_DIR/good.ini") || t_fail "fogd -n refused a good config"
grep -q "^tick_ms = 500" <<<"$out" || t_fail "fogd -n did not print the effective config"

# without CAP_BPF it refuses to start and says which capability is missing
if command -v setpriv >/dev/null; then
	if out=$(setpriv --bounding-set=-bpf,-perfmon "$FOGD" -o fogd.socket="$T_DIR/x.sock" 2>&1); then
		t_fail "fogd started without CAP_BPF"
	fi
	grep -q "missing capabilities: CAP_BPF" <<<"$out" || t_fail "no capability message: $out"
	grep -q "CAP_PERFMON" <<<"$out" || t_fail "CAP_PERFMON not named: $out"
fi

# ids of the programs that use fogd's pinned sched_cpu map
fogd_prog_ids() {
	local map
	map=$(bpftool map show pinned "$FOG_PINS/sched_cpu" -j | jq .id)
	bpftool prog list -j | jq -r --argjson m "$map" '[.[] | select(any(.map_ids[]?; . == $m)) | .id] | join(" ")'
}

# true when none of the ids is loaded (the kernel frees programs asynchronously: wait for it)
progs_gone() {
	local id left=
	for id in $1; do
		bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"
	done
	[ -z "$left" ] && return 0
	echo "still loaded:$left"
	return 1
}

# more cgroups tracked than the BPF map's default holds: the map grows to twice as many
printf '[fogd]\ntick_ms = 500\nmax_cgroups = 600\n' >"$T_DIR/fogd.ini"
fogd_start -c "$T_DIR/fogd.ini"
t_require_collector cpu
cgmax=$(bpftool -j map show pinned "$FOG_PINS/sched_cgroups" | jq .max_entries)
[ "$cgmax" = 1200 ] || t_fail "sched_cgroups holds $cgmax entries with max_cgroups = 600, not 1200"
[ "$(stat -c %a "$FOG_SOCK")" = 600 ] || t_fail "socket mode is $(stat -c %a "$FOG_SOCK"), not 600"
# after set-up fogd holds only what reloads, profiles and tasks need (setuid, setgid and kill
# start tasks and hooks as [fogd] run_user and end them)
caps=$(api /api/v1/status | jq -r .capabilities)
grep -q "bpf" <<<"$caps" && grep -q "perfmon" <<<"$caps" || t_fail "fogd dropped what it needs: $caps"
for c in chown dac_override fowner net_raw sys_module sys_admin sys_resource; do
	grep -qw "$c" <<<"$caps" && t_fail "fogd still holds $c: $caps"
done
# fogctl status says what fogd holds and how its loop is doing
st=$("$FOGCTL" status) || t_fail "fogctl status failed"
grep -q "^capabilities: .*bpf" <<<"$st" || t_fail "fogctl status shows no capabilities: $st"
grep -Eq "^loop: [0-9]+ callbacks, [0-9]+ of 50 ms or more, [0-9]+ stalls of 100 ms or more, longest [0-9.]+ ms \(" <<<"$st" ||
	t_fail "fogctl status shows no loop line: $st"
bnd=$(awk '/^CapBnd/ { print $2 }' "/proc/$FOGD_PID/status")
[ "$bnd" != "000001ffffffffff" ] || t_fail "fogd's bounding set was not reduced"
[ -e "$FOG_PINS/sched_cpu" ] || t_fail "no pin $FOG_PINS/sched_cpu"
bpftool map dump pinned "$FOG_PINS/sched_cpu" | grep -q '"busy_ns"' ||
	t_fail "bpftool cannot dump sched_cpu with named fields"
ids=$(fogd_prog_ids)
[ -n "$ids" ] || t_fail "bpftool shows no programs held by fogd"

# SIGHUP with a broken file: keeps running with the old config and says why
printf '[fogd]\ntick_ms = never\n' >"$T_DIR/fogd.ini"
kill -HUP "$FOGD_PID"
sleep 1
kill -0 "$FOGD_PID" || t_fail "fogd died on SIGHUP with a bad config"
grep -q "reload failed, keeping the running configuration: .*fogd.ini:2: \[fogd\] tick_ms: 'never'" "$FOGD_LOG" ||
	t_fail "bad reload not reported"
api /api/v1/status >/dev/null || t_fail "API gone after a bad reload"
# SIGHUP with a good file that turns schedlat off
printf '[fogd]\ntick_ms = 500\n[collectors]\nschedlat = off\n' >"$T_DIR/fogd.ini"
kill -HUP "$FOGD_PID"
t_wait_json /api/v1/status '.collectors[] | select(.name == "schedlat") | .state == "off"' 5 ||
	t_fail "schedlat still on after reload"
t_require_collector cpu
api /api/v1/config | grep -q "^schedlat = off" || t_fail "/api/v1/config does not show the new config"

# SIGTERM: exit 0, no pins, no programs left
fogd_stop
[ ! -e "$FOG_PINS" ] || t_fail "pin folder $FOG_PINS left behind: $(ls "$FOG_PINS")"
[ ! -e "$FOG_SOCK" ] || t_fail "socket left behind"
t_wait_for 20 "fogd's programs unloaded after SIGTERM" progs_gone "$ids"

# kill -9: the kernel frees programs with the fds; the next fogd clears stale pins
fogd_start
ids=$(fogd_prog_ids)
kill -9 "$FOGD_PID"
wait "$FOGD_PID" 2>/dev/null
FOGD_PID=
[ -e "$FOG_PINS/sched_cpu" ] || t_fail "expected stale pins after kill -9"
t_wait_for 20 "fogd's programs unloaded after kill -9" progs_gone "$ids"
fogd_start
grep -q "removed stale pin" "$FOGD_LOG" || t_fail "restart did not clear stale pins"
t_require_collector cpu
fogd_stop
