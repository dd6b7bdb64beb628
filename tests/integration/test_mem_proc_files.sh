#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad /proc content costs only the figure it holds: fogd runs in a mount
# namespace where /proc/meminfo has a malformed MemAvailable line and
# /proc/pressure/memory a malformed full line. The mem collector must warn
# once about each, report those figures as null, and keep every other one.
. "$(dirname "$0")/lib.sh"

t_require_root_btf
command -v unshare >/dev/null || t_skip "needs unshare (util-linux)"
[ -r /proc/pressure/memory ] || t_skip "kernel has no PSI (/proc/pressure/memory)"

cat >"$T_DIR/meminfo" <<'END'
MemTotal:       1000000 kB
MemFree:         400000 kB
MemAvailable:    plenty kB
SwapTotal:         2048 kB
SwapFree:          1024 kB
END
cat >"$T_DIR/pressure_memory" <<'END'
some avg10=1.50 avg60=2.50 avg300=3.50 total=7000000
full avg10=oops avg60=0.00 avg300=0.00 total=0
END

# fogd_start runs $FOGD: make it a wrapper that enters a private mount namespace first
real_fogd=$(readlink -f "$FOGD")
cat >"$T_DIR/fogd-ns" <<END
#!/usr/bin/env bash
exec unshare --mount --propagation private bash -c '
	mount --bind "$T_DIR/meminfo" /proc/meminfo &&
	mount --bind "$T_DIR/pressure_memory" /proc/pressure/memory &&
	exec "$real_fogd" "\$@"' fogd "\$@"
END
chmod +x "$T_DIR/fogd-ns"
FOGD="$T_DIR/fogd-ns"
fogd_start -o http.listen=off # the Unix socket is enough; 9477 may be taken
t_require_collector mem

# a few ticks, so a warning repeated per tick would show
sleep 3
mem=$(api /api/v1/mem) || t_fail "cannot read /api/v1/mem"
jq -e '.memory.total_bytes == 1000000 * 1024 and .memory.free_bytes == 400000 * 1024 and
	.memory.swap_total_bytes == 2048 * 1024 and .memory.swap_free_bytes == 1024 * 1024 and
	.memory.available_bytes == null and .memory.used_bytes == null' <<<"$mem" >/dev/null ||
	t_fail "memory figures from the bad /proc/meminfo: $(jq -c .memory <<<"$mem")"
jq -e '.psi.memory.some.avg10 == 1.5 and .psi.memory.some.avg300 == 3.5 and
	.psi.memory.some.total_seconds == 7 and .psi.memory.full == null' <<<"$mem" >/dev/null ||
	t_fail "memory pressure from the bad file: $(jq -c .psi.memory <<<"$mem")"
# the files left alone are read as usual
jq -e '.psi.cpu.some.avg10 >= 0 and .psi.io.some.total_seconds >= 0 and .faults_total >= 0' \
	<<<"$mem" >/dev/null || t_fail "figures from good files are missing: $(jq -c . <<<"$mem")"

want='unexpected content in /proc/meminfo: line 3: MemAvailable has a bad value'
n=$(grep -c "$want" "$FOGD_LOG")
[ "$n" -eq 1 ] || t_fail "want one warning '$want', got $n"
want='unexpected content in /proc/pressure/memory: line 2: avg10 has a bad value'
n=$(grep -c "$want" "$FOGD_LOG")
[ "$n" -eq 1 ] || t_fail "want one warning '$want', got $n"

fogd_stop
exit 0
