#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Series die with their cgroups: a burner in a fresh cgroup shows in /metrics under the
# cgroup's path; once the cgroup is removed its series leave /metrics within two ticks,
# and no series is ever labelled with a made-up name for an id that did not resolve.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
fogd_start
t_require_collector cpu
t_require_collector schedlat

mount=$(api /api/v1/status | jq -r '.cgroup.mount')
self=$(api /api/v1/status | jq -r '.cgroup.self')
rel="${self%/}/fogd-test-cgseries-$$"
cg="$mount$rel"
mkdir "$cg" || t_fail "cannot create cgroup $cg"
T_CLEANUP_EXTRA="kill \$b 2>/dev/null; sleep 0.2; rmdir '$cg' 2>/dev/null"
sh -c "echo \$\$ > '$cg/cgroup.procs' && exec '$HELPERS/burn_cpu' 600" >"$T_DIR/burn.out" &
b=$!
t_wait_for 30 "the burner finished" test -s "$T_DIR/burn.out"

series() { api /metrics | grep -F "cgroup=\"$rel\"" | cut -d' ' -f1; }
has_series() { [ -n "$(series)" ]; }
T_WAIT_EVERY=0.2 t_wait_for 20 "series of cgroup $rel in /metrics" has_series
n=$(series | wc -l)
[ "$n" -ge 2 ] || t_fail "no series for cgroup $rel in /metrics: $(api /metrics | grep '^fog_cgroup_cpu' | head -5)"
series | grep -q '^fog_cgroup_cpu_seconds' || t_fail "no fog_cgroup_cpu_seconds for $rel"
series | grep -q '^fog_cgroup_runqueue_latency_seconds' || t_fail "no run-queue series for $rel"
t_log "cgroup $rel has $n series"

kill "$b"
wait "$b" 2>/dev/null
rmdir "$cg" || t_fail "cannot remove cgroup $cg"
t0=$(api /api/v1/status | jq .ticks)
gone=
series_gone() {
	series | head -3
	[ -z "$(series)" ] && gone=$(api /api/v1/status | jq .ticks)
}
T_WAIT_EVERY=0.2 t_wait_for 20 "series of removed cgroup $rel gone from /metrics" series_gone
[ -n "$gone" ] || t_fail "no tick count once the series of $rel were gone"
t_log "series gone $((gone - t0)) ticks after the removal"
# two ticks, plus one the poll above may take to see it
[ $((gone - t0)) -le 3 ] || t_fail "series of $rel left /metrics $((gone - t0)) ticks after its removal"
api /api/v1/cpu | jq -e --arg p "$rel" '[.cgroups[] | select(.path == $p)] | length == 0' >/dev/null ||
	t_fail "removed cgroup $rel still in /api/v1/cpu"
if api /metrics | grep -q 'cgroup="unresolved:'; then
	t_fail "a series is labelled with an unresolved id: $(api /metrics | grep -m3 'cgroup="unresolved:')"
fi
fogd_stop
