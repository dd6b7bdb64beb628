#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Continuous mode unwinds without frame pointers too (issue 14): with one snapshot a second
# at 49 Hz, the samples of unwind_chain (gcc -O2 -fomit-frame-pointer, hot leaf under
# main;chain_a;chain_b;chain_c) in the snapshots reach main through chain_a (>= 90%);
# with [profile] unwind = off (frame pointers) they do not, so the test fails if the chain
# were found without the unwinder.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
command -v protoc >/dev/null || t_skip "no protoc (protobuf-compiler) to decode the snapshots"
RING="$T_DIR/ring"

decode() { gunzip -c "$1" | protoc --proto_path=user/profile --decode=fogpprof.Profile profile.proto; }
# "SAMPLES CHAIN_SAMPLES" of pid in one decoded snapshot (ids are per snapshot): samples whose
# stack reaches main through chain_a (the process's whole life is sampled: the loop's clock
# reads in chain_a, its start and exit too)
chain_count() {
	awk -v pid="$1" '
		/^sample \{/ { S = 1; nv = 0; nl = 0; p = 0; next }
		S && /^  location_id:/ { L[nl++] = $2 } S && /^  value:/ { if (++nv == 1) v = $2 }
		S && /^    num:/ { p = $2 }
		/^location \{/ { LOC = 1; nf = 0 } LOC && /^  id:/ { lid = $2 }
		LOC && /^    function_id:/ { LF[lid] = LF[lid] " " $2 }
		/^function \{/ { FN = 1 } FN && /^  id:/ { fid = $2 } FN && /^  name:/ { FNM[fid] = $2 }
		/^string_table:/ { s = $0; sub(/^string_table: "/, "", s); sub(/"$/, "", s); ST[ns++] = s }
		/^}/ { if (S && p == pid) { n++; SV[n] = v; SN[n] = nl; for (i = 0; i < nl; i++) SL[n, i] = L[i] }
			S = 0; LOC = 0; FN = 0 }
		END { for (k = 1; k <= n; k++) { seen = ""
				for (i = 0; i < SN[k]; i++) { m = split(LF[SL[k, i]], f, " ")
					for (j = 1; j <= m; j++) seen = seen ";" ST[FNM[f[j]]] ";" }
				t += SV[k]
				if (index(seen, ";chain_a;") && index(seen, ";main;")) c += SV[k] }
			printf "%d %d\n", t, c }'
}

run() {	# on|off: prints "samples share"
	rm -rf "$RING"
	printf '[profile]\ncontinuous = on\nfrequency = 49\nsnapshot_s = 1\ndirectory = %s\nunwind = %s\n' \
		"$RING" "$1" >"$T_DIR/fogd.conf"
	fogd_start -c "$T_DIR/fogd.conf"
	t_wait_json /api/v1/profiles/continuous '.enabled and .sampling' 10 || t_fail "not sampling"
	"$HELPERS/unwind_chain" cpu 6 >"$T_DIR/w.out"
	h=$(head -1 "$T_DIR/w.out")
	w=$(api /api/v1/profiles/continuous | jq .written)
	t_wait_json /api/v1/profiles/continuous ".written >= $w + 2" 15 || t_fail "no snapshot written"
	fogd_stop
	for f in "$RING"/cpu-*.pb.gz; do
		decode "$f" >"$T_DIR/one.txt" || t_fail "$f does not decode"
		chain_count "$h" <"$T_DIR/one.txt"
	done | awk '{ t += $1; c += $2 } END { printf "%d %d\n", t, t ? 100 * c / t : 0 }'
}
read -r n pct <<<"$(run on)"
t_log "unwind = on: $pct% of $n continuous samples of unwind_chain reach main through chain_a"
[ "$n" -ge 20 ] || t_fail "only $n continuous samples of unwind_chain"
[ "$pct" -ge 90 ] || t_fail "continuous: the chain in $pct% of $n samples"
read -r n pct <<<"$(run off)"
t_log "unwind = off: $pct% of $n samples"
[ "$pct" -lt 50 ] || t_fail "frame pointers alone find the chain ($pct%): the test proves nothing"
