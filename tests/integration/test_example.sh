#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The end-to-end example (tools/examples/fog_example.c): one process using the pool, the
# arena, the memory optimizer, the monitor, the profiler and the placement engine runs
# 100 real tasks to completion. Ground truth: each task's output (cksum of an input the
# example generated) and the cgroup it ran in, checked by the example per task; here its
# figures must add up (every task completed and verified, per-worker counts summing to
# the total, the pool's reuse % matching its own acquisition and creation counts), the
# HTML report must exist and name the hot function (the example's checksum loop), and
# nothing may be left behind: no task cgroups, no task processes, no work files. Run as
# an unprivileged user it must still complete, saying that profiling needs root.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || t_skip "needs root (task cgroups, CPU profiler)"
EX="$OUTPUT/examples/fog_example"
[ -x "$EX" ] || t_fail "$EX is not built (make builds it through mk/examples.mk)"
HOT=example_cksum

field() { sed -n "s/^$1: \([0-9.]*\).*/\1/p" "$T_DIR/out" | head -n 1; }

start=$SECONDS
timeout 60 "$EX" -o "$T_DIR" >"$T_DIR/out" 2>"$T_DIR/err"
rc=$?
took=$((SECONDS - start))
t_log "fog_example took $took s (status $rc)"
sed 's/^/  | /' "$T_DIR/out" >&2
[ -s "$T_DIR/err" ] && sed 's/^/  ! /' "$T_DIR/err" >&2
[ "$rc" -eq 0 ] || t_fail "fog_example exited with status $rc"

cgv=$(sed -n 's/^tasks in their own cgroup: [0-9]* (cgroup v\([0-9]\))$/\1/p' "$T_DIR/out")
[ "$cgv" = 1 ] || [ "$cgv" = 2 ] ||
	t_skip "no usable memory cgroup controller for the executor (cgroup v$cgv)"

# ---- tasks: all 100 completed, each result verified, each in its own cgroup ----
[ "$(field 'tasks submitted')" = 100 ] || t_fail "tasks submitted: want 100"
[ "$(field 'tasks completed')" = 100 ] || t_fail "tasks completed: want 100"
[ "$(field 'tasks failed')" = 0 ] || t_fail "tasks failed: want 0"
[ "$(field 'results verified')" = 100 ] || t_fail "results verified: want 100"
[ "$(field 'tasks in their own cgroup')" = 100 ] || t_fail "tasks in their own cgroup: want 100"
per_worker=$(sed -n 's/^worker w[0-9] .*: \([0-9]*\) completed, \([0-9]*\) failed$/\1 \2/p' \
	"$T_DIR/out" | awk '{ c += $1; f += $2; n++ } END { print n, c, f }')
[ "$per_worker" = "4 100 0" ] ||
	t_fail "per-worker counts (workers, completed, failed) are '$per_worker', want '4 100 0'"
sla=$(field 'sla violations')
[ -n "$sla" ] && [ "$sla" -le 100 ] ||
	t_fail "sla violations missing or above the task count: '$sla'"
t_log "sla violations: $sla"

# ---- the pool: reuse % > 90 and consistent with its own counts ----
n='\([0-9]*\)'
re="^pool reuse: \([0-9.]*\)% ($n acquisitions, $n created, $n of them up front, peak $n in use)\$"
read -r pct acq created upfront peak < <(sed -n "s/$re/\1 \2 \3 \4 \5/p" "$T_DIR/out")
[ -n "${pct:-}" ] || t_fail "no pool reuse line"
[ "$acq" = 100 ] || t_fail "pool acquisitions $acq, want one per task (100)"
[ "$created" -le 8 ] && [ "$peak" -le 8 ] ||
	t_fail "pool created $created (peak $peak), max_size is 8"
# gets that were not reuses are the creations beyond the ones made up front
awk -v p="$pct" -v a="$acq" -v c="$created" -v u="$upfront" \
	'BEGIN { want = 100 * (a - (c - u)) / a; exit !(p > 90 && p - want < 0.06 && want - p < 0.06) }' ||
	t_fail "pool reuse $pct% is not > 90 or not 100 * ($acq - ($created - $upfront)) / $acq"

# ---- memory and monitor figures are there and plausible ----
grep -Eq '^memory, arena: [0-9.]+ MiB peak in use' "$T_DIR/out" || t_fail "no arena memory figure"
arena_peak=$(sed -n 's/^memory, arena: \([0-9.]*\) MiB peak in use.*/\1/p' "$T_DIR/out")
# 8 records of 4 MiB inputs at most, at least one record's input
awk -v m="$arena_peak" 'BEGIN { exit !(m >= 4 && m <= 33) }' ||
	t_fail "arena peak $arena_peak MiB: want 4..33 (records of 4 MiB, at most 8)"
grep -Eq '^memory, tasks: [0-9.]+ MiB peak max' "$T_DIR/out" || t_fail "no task memory figure"
grep -Eq '^memory, host: [0-9.]+% used' "$T_DIR/out" || t_fail "no host memory figure"
grep -Eq '^crc table: created [1-9][0-9]* time\(s\), released 1,' "$T_DIR/out" ||
	t_fail "the reclaim did not release the lazy crc table"
samples=$(sed -n 's/^monitor: \([0-9]*\) samples.*/\1/p' "$T_DIR/out")
[ -n "$samples" ] && [ "$samples" -ge 1 ] || t_fail "the monitor took no sample"

# ---- the profile: an HTML report naming the hot function ----
if grep -q '^profile: skipped' "$T_DIR/out"; then
	t_log "profiling was not possible: $(grep '^profile: skipped' "$T_DIR/out")"
else
	report=$(sed -n 's/^profile report: //p' "$T_DIR/out")
	[ "$report" = "$T_DIR/fog_example.html" ] || t_fail "no profile report line (got '$report')"
	[ -s "$report" ] || t_fail "report $report is missing or empty"
	grep -q '<html' "$report" || t_fail "$report is not HTML"
	hot=$(sed -n 's/^profile: [0-9]* samples, hot user function \([^ ]*\) .*/\1/p' "$T_DIR/out")
	[ "$hot" = "$HOT" ] || t_fail "hot function '$hot', want $HOT (the checksum loop)"
	grep -q "$HOT" "$report" || t_fail "report $report does not mention $HOT"
fi

# ---- nothing left behind ----
group=$(sed -n 's/^executor: .* in \(fog-example-[0-9]*\)\/$/\1/p' "$T_DIR/out")
[ -n "$group" ] || t_fail "the executor did not say which cgroup folder it used"
left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "$group" 2>/dev/null)
[ -z "$left" ] || t_fail "task cgroups left behind: $left"
ls -d "$T_DIR"/fog_example-work.* >/dev/null 2>&1 && t_fail "work folder left behind"
pgrep -f "$T_DIR/fog_example-work" >/dev/null && t_fail "task processes left behind"

# ---- bad usage is refused ----
"$EX" -n 0 >/dev/null 2>&1
[ $? -eq 2 ] || t_fail "fog_example -n 0 was not refused with status 2"

# ---- unprivileged: no cgroups, no profiler, still every task done ----
if setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$EX" 2>/dev/null; then
	chmod o+x "$T_DIR"
	mkdir "$T_DIR/nobody" && chown nobody:nogroup "$T_DIR/nobody"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		timeout 60 "$EX" -n 20 -o "$T_DIR/nobody" >"$T_DIR/out.nobody" 2>&1 ||
		t_fail "fog_example as nobody failed: $(cat "$T_DIR/out.nobody")"
	grep -q '^profile: skipped, CPU profiling loads BPF programs and needs root$' \
		"$T_DIR/out.nobody" || t_fail "as nobody, no clear message that profiling needs root"
	grep -q '^results verified: 20$' "$T_DIR/out.nobody" ||
		t_fail "as nobody, not all 20 tasks verified: $(cat "$T_DIR/out.nobody")"
	[ ! -e "$T_DIR/nobody/fog_example.html" ] || t_fail "as nobody, a report appeared"
else
	t_log "nobody cannot run $EX here: unprivileged run not checked"
fi
exit 0
