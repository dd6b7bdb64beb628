#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Continuous mode ([profile] continuous = on, one snapshot a second at 49 Hz) into a ring on a
# small tmpfs: the snapshots are gzipped pprof files named by time in a 0700 folder; the samples
# they hold for prof_hot match the CPU time it used (at 49 Hz); an on-demand profile at the same
# time counts its own 99 Hz samples; a reload to a smaller max_bytes (half of what is on disk)
# removes the oldest files first; a full disk is counted (API and /metrics) while sampling goes on and nothing written is
# lost; fogctl lists and fetches snapshots.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v protoc >/dev/null || t_skip "needs protoc to decode pprof"
mkdir -p "$T_DIR/small"
mount -t tmpfs -o size=512k,mode=0755 fogd-test "$T_DIR/small" || t_skip "cannot mount a tmpfs"
T_CLEANUP_EXTRA="umount $T_DIR/small"
RING="$T_DIR/small/a/ring"
# no alert profiles: they share the ring, and an alert on the shared host would add files
write_cfg() {
	printf '[profile]\ncontinuous = on\nfrequency = 49\nsnapshot_s = 1\ndirectory = %s\nmax_bytes = %s\n[monitor]\nprofile_on = off\n' \
		"$RING" "$1" >"$T_DIR/fogd.ini"
}
cont() { api /api/v1/profiles/continuous; }
written() { cont | jq '.written'; }
decode() { gunzip -c "$1" | protoc --proto_path=user/profile --decode=fogpprof.Profile profile.proto; }
# samples (value[0]) of one pid in decoded profiles
pid_samples() {
	awk -v pid="$1" 'BEGIN { s = 0 } /^sample \{/ { in_s = 1; nv = 0; v = 0; p = 0 }
		in_s && /^  value:/ { if (++nv == 1) v = $2 } in_s && /^    num:/ { p = $2 }
		/^}/ { if (in_s && p == pid) s += v; in_s = 0 } END { printf "%.0f\n", s }'
}
wait_written() {	# until N more snapshots are written
	local want=$(($(written) + $1))
	t_wait_json /api/v1/profiles/continuous ".written >= $want" "$2" ||
		t_fail "fewer than $want snapshots written: $(cont)"
}

write_cfg 1048576
fogd_start -c "$T_DIR/fogd.ini"
t_wait_json /api/v1/profiles/continuous '.enabled and .sampling' 10 || t_fail "not sampling: $(cont)"
[ "$(stat -c %a "$RING")" = 700 ] || t_fail "$RING has mode $(stat -c %a "$RING"), want 700"

# ---- ground truth: the CPU time prof_hot uses shows in the snapshots at 49 Hz, and in an
# on-demand host profile running at the same time at 99 Hz: each counts its own samples ----
r=$(t_post /api/v1/profile '{"all": true, "seconds": 7}')
id=$(echo "$r" | jq -e .id) || t_fail "POST /api/v1/profile: $r"
(TIMEFORMAT='%U %S'; time "$HELPERS/prof_hot" 4 >"$T_DIR/hot.out") 2>"$T_DIR/hot.time" ||
	t_fail "prof_hot failed"
h=$(cat "$T_DIR/hot.out")
cpu=$(awk '{ print $1 + $2 }' "$T_DIR/hot.time")
t_wait_json "/api/v1/profile/$id" '.state == "done"' 15 || t_fail "on-demand profile not done"
wait_written 2 10	# the window holding prof_hot's end is on disk
api "/api/v1/profile/$id/pprof" | gunzip -c |
	protoc --proto_path=user/profile --decode=fogpprof.Profile profile.proto >"$T_DIR/od.txt" ||
	t_fail "the on-demand profile does not decode"
od=$(pid_samples "$h" <"$T_DIR/od.txt")
for f in "$RING"/cpu-*.pb.gz; do decode "$f" || t_fail "$f does not decode"; done >"$T_DIR/all.txt"
got=$(pid_samples "$h" <"$T_DIR/all.txt")
t_log "prof_hot used $cpu s of CPU: $got samples in the snapshots (49 Hz), $od in the on-demand profile (99 Hz)"
# within 3 sd of the counting noise plus 15% (a loaded host), so shared counts (49 + 99 Hz in
# both) or stolen events (none) fail
within() {
	awk -v n="$1" -v e="$2" 'BEGIN { d = n - e; if (d < 0) d = -d; exit !(e > 0 && d <= 3 * sqrt(e) + 0.15 * e + 3) }'
}
within "$got" "$(awk -v c="$cpu" 'BEGIN { print c * 49 }')" ||
	t_fail "$got continuous samples for $cpu s of CPU at 49 Hz"
within "$od" "$(awk -v c="$cpu" 'BEGIN { print c * 99 }')" ||
	t_fail "$od on-demand samples for $cpu s of CPU at 99 Hz"
grep -q '"prof_hot_leaf"' "$T_DIR/all.txt" || t_fail "no prof_hot_leaf in the snapshots"
for f in "$RING"/*; do
	[[ "$(basename "$f")" =~ ^cpu-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\.pb\.gz$ ]] || t_fail "unexpected file $f"
done
# the API lists what is in the folder (a snapshot may land between the two reads: retry)
for try in 1 2 3 4 5; do
	listed=$(cont | jq -r '.snapshots[].name' | sort)
	[ "$listed" = "$(cd "$RING" && ls cpu-* | sort)" ] && break
	[ "$try" = 5 ] && t_fail "listing differs from the folder: $listed / $(ls "$RING")"
	sleep 0.2
done
cont | jq -e '.errors == 0 and .bytes > 0' >/dev/null || t_fail "errors: $(cont | jq -c 'del(.snapshots)')"

# ---- fogctl lists and fetches ----
# the newest first: a snapshot written between the two reads is then only missing from $newest
newest=$(cont | jq -r '.snapshots[0].name')
"$FOGCTL" profile continuous >"$T_DIR/list" || t_fail "fogctl profile continuous failed"
grep -q "^$newest " "$T_DIR/list" || t_fail "fogctl does not list $newest: $(head -3 "$T_DIR/list")"
"$FOGCTL" profile continuous "$newest" -o "$T_DIR/got.pb.gz" 2>/dev/null || t_fail "fetch failed"
cmp -s "$T_DIR/got.pb.gz" "$RING/$newest" || t_fail "fetched snapshot differs from $RING/$newest"
"$FOGCTL" profile continuous nosuch -o "$T_DIR/x" 2>/dev/null && t_fail "an unknown snapshot was fetched"

# ---- a smaller max_bytes on reload: the oldest go first ----
oldest=$(cont | jq -r '.snapshots[-1].name')
# half of what is on disk now (snapshots are smaller on a quiet host), at least the minimum
before=$(du -cb "$RING"/cpu-* | tail -1 | cut -f1)
limit=$((before / 2 > 4096 ? before / 2 : 4096))
[ "$before" -gt "$limit" ] || t_fail "only $before bytes of snapshots: too few to test the limit"
write_cfg "$limit"
kill -HUP "$FOGD_PID"
wait_written 2 10
bytes=$(du -cb "$RING"/cpu-* | tail -1 | cut -f1)
t_log "before the reload $before bytes; max_bytes $limit; after: $bytes bytes in $(ls "$RING" | wc -l) files: $(cont | jq -c '{bytes, removed, written}')"
[ "$bytes" -le "$limit" ] || t_fail "$bytes bytes on disk over max_bytes $limit"
[ ! -e "$RING/$oldest" ] || t_fail "the oldest snapshot $oldest is still there"
cont | jq -e --argjson m "$limit" '.removed >= 1 and .max_bytes == $m and .bytes <= $m' >/dev/null ||
	t_fail "after the reload: $(cont | jq -c 'del(.snapshots)')"

# ---- a full disk: counted, sampling goes on, nothing written is lost ----
# max_bytes above the disk's size again: a snapshot larger than the limit (their size depends
# on the host) must not be the error seen here
write_cfg 1048576
kill -HUP "$FOGD_PID"
wait_written 1 10
e0=$(cont | jq '.errors')
dd if=/dev/zero of="$T_DIR/small/filler" bs=4k 2>/dev/null
t_wait_json /api/v1/profiles/continuous ".errors >= $e0 + 1" 10 ||
	t_fail "a full disk is not counted: $(cont | jq -c 'del(.snapshots)')"
# from the first failure on nothing is written, so nothing is removed for size either
(cd "$RING" && md5sum cpu-*) >"$T_DIR/before.md5"
t_wait_json /api/v1/profiles/continuous ".errors >= $e0 + 3 and .sampling" 10 ||
	t_fail "sampling stopped or failures not counted: $(cont | jq -c 'del(.snapshots)')"
cont | jq -e '.last_error | test("No space left")' >/dev/null || t_fail "last_error: $(cont | jq .last_error)"
(cd "$RING" && md5sum -c --quiet "$T_DIR/before.md5") || t_fail "snapshots changed or went while the disk was full"
ls -a "$RING" | grep -q '\.tmp$' && t_fail "a temporary file was left behind"
curl -s --unix-socket "$FOG_SOCK" http://localhost/metrics |
	awk '$1 == "fog_profile_continuous_errors_total" { found = $2 >= 2 } END { exit !found }' ||
	t_fail "fog_profile_continuous_errors_total does not count the failures"
rm -f "$T_DIR/small/filler"
wait_written 1 10
fogd_stop
