#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Unwinding without frame pointers (issue 14) on unwind_chain, built gcc -O2
# -fomit-frame-pointer, whose hot leaf is reached through main;chain_a;chain_b;chain_c:
# - cpu: >= 95% of fogd's samples show the whole chain, and fogd's folded stacks agree with
#   `perf record --call-graph dwarf` on the same process (>= 90% of the weight on identical
#   user stacks, each side's stacks cut to the chain's functions and libc's);
# - off-CPU (nanosleep in a loop): >= 95% of the time blocked is under the chain;
# - uprobe allocation mode (malloc and free in a loop): >= 95% of the bytes under the chain;
# - --lines: a function inlined into chain_c shows as its own frame at its line, under chain_c
#   at the line of the call (and not without --lines);
# - libc (a loop calling strtod): the caller's frames are present above libc's (the share
#   counts stacks with a frame below uw_libc, libc's).
# The frame-pointer walk of the same program (unwinding off) loses the chain: the test
# checks that too, so it fails if the chain were found by frame pointers anyway.
. "$(dirname "$0")/lib.sh"
t_require_root_btf
PROG="$HELPERS/unwind_chain"
CHAIN='main;chain_a;chain_b;chain_c'

start_prog() {	# MODE SECONDS: starts unwind_chain, sets $h
	"$PROG" "$1" "$2" >"$T_DIR/$1.out" &
	h=$!
	T_CLEANUP_EXTRA="kill $h 2>/dev/null"
	for _ in $(seq 1 50); do [ -s "$T_DIR/$1.out" ] && break; sleep 0.1; done
	[ "$(head -1 "$T_DIR/$1.out")" = "$h" ] || t_fail "unwind_chain did not print its pid"
}

# user frames only (no kernel), the process name first: "unwind_chain;main;...;uw_leaf N"
share() {	# FILE PATTERN: percent of the weight whose stack contains PATTERN
	awk -v w="$2" '{ t += $NF } index($0, w) { s += $NF } END { printf "%d\n", t ? 100 * s / t : 0 }' "$1"
}

fogd_start
start_prog cpu 30
"$FOGCTL" profile -p "$h" -d 3s --no-kernel -o "$T_DIR/cpu.folded" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile failed: $(cat "$T_DIR/fogctl.err")"
total=$(awk '{ s += $NF } END { print s + 0 }' "$T_DIR/cpu.folded")
[ "$total" -ge 40 ] || t_fail "only $total samples (a host too loaded to run unwind_chain)"
pct=$(share "$T_DIR/cpu.folded" "$CHAIN;uw_leaf")
t_log "cpu: $pct% of $total samples under $CHAIN;uw_leaf"
[ "$pct" -ge 95 ] || t_fail "$CHAIN;uw_leaf in $pct% of samples: $(sort -k2 -n -t' ' "$T_DIR/cpu.folded" | tail -3)"

# the frame-pointer walk does not find the chain: the unwinder is what finds it
"$FOGCTL" profile -p "$h" -d 1s --no-kernel --no-unwind -o "$T_DIR/fp.folded" 2>/dev/null ||
	t_fail "fogctl profile --no-unwind failed"
fp=$(share "$T_DIR/fp.folded" "$CHAIN;uw_leaf")
t_log "frame pointers only: $fp%"
[ "$fp" -lt 50 ] || t_fail "the frame-pointer walk finds the chain ($fp%): the test proves nothing"

# perf on the same process: the same stacks
if command -v perf >/dev/null && perf record -o "$T_DIR/probe.data" -e cpu-clock -- true >/dev/null 2>&1; then
	perf record -q -F 99 -e cpu-clock --call-graph dwarf -p "$h" -o "$T_DIR/perf.data" -- sleep 3 \
		>/dev/null 2>&1 || t_fail "perf record failed"
	# folded: "comm;outer;...;leaf 1" per sample, user frames only
	perf script -i "$T_DIR/perf.data" -F comm,ip,sym 2>/dev/null | awk '
		/^[^ \t]/ { if (n) emit(); comm = $1; n = 0; next }
		NF >= 2 { f[n++] = $2 }
		/^$/ { if (n) emit(); n = 0 }
		function emit(  s, i) { s = comm; for (i = n - 1; i >= 0; i--) s = s ";" f[i]; c[s]++; n = 0 }
		END { if (n) emit(); for (s in c) print s, c[s] }' >"$T_DIR/perf.folded"
	# both sides: keep the stack from main down, drop offsets and the libc start frames
	norm() { sed -e 's/+0x[0-9a-f]*//g' -e 's/^[^;]*;\(.*;\)\?main;/main;/' "$1" |
		awk '{ n = $NF; $NF = ""; sub(/ $/, ""); c[$0] += n } END { for (s in c) print s, c[s] }' | sort; }
	norm "$T_DIR/cpu.folded" >"$T_DIR/fogd.n"
	norm "$T_DIR/perf.folded" >"$T_DIR/perf.n"
	ptotal=$(awk '{ s += $NF } END { print s + 0 }' "$T_DIR/perf.n")
	[ "$ptotal" -ge 40 ] || t_fail "perf took only $ptotal samples"
	# weight on identical stacks: sum over stacks of min(fogd share, perf share)
	agree=$(awk 'FNR == NR { n = $NF; $NF = ""; a[$0] = n; ta += n; next }
		{ n = $NF; $NF = ""; b[$0] = n; tb += n }
		END { for (s in a) if (s in b) { x = a[s] / ta; y = b[s] / tb; m += x < y ? x : y }
		      printf "%d\n", 100 * m }' "$T_DIR/fogd.n" "$T_DIR/perf.n")
	t_log "fogd and perf --call-graph dwarf agree on $agree% of the weight ($ptotal perf samples)"
	[ "$agree" -ge 90 ] || t_fail "fogd and perf agree on $agree%: fogd $(sort -k2 -n -t' ' "$T_DIR/fogd.n" | tail -2) perf $(sort -k2 -n -t' ' "$T_DIR/perf.n" | tail -2)"
else
	t_log "perf cannot record here (perf_event_paranoid or no perf): the chain alone is checked"
fi
kill "$h" 2>/dev/null

# --lines: a function inlined into chain_c is a frame of its own (DWARF inlined calls), at its
# hot line, under chain_c at the line of the call, as perf shows it
SRC=tests/integration/helpers/unwind_chain.c
hot=$(grep -n 'INLINE_HOT \*/' "$SRC" | cut -d: -f1)
call=$(grep -n 'INLINE_CALL \*/' "$SRC" | cut -d: -f1)
start_prog inline 30
"$FOGCTL" profile -p "$h" -d 3s --no-kernel --lines -o "$T_DIR/inl.folded" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile --lines failed: $(cat "$T_DIR/fogctl.err")"
# the loop's two lines: its header and its body (INLINE_HOT); the inlined frame is the leaf
w1="chain_c (unwind_chain.c:$call);uw_inlined (unwind_chain.c:$((hot - 1))) "
w2="chain_c (unwind_chain.c:$call);uw_inlined (unwind_chain.c:$hot) "
pct=$(awk -v a="$w1" -v b="$w2" '{ t += $NF } index($0, a) || index($0, b) { s += $NF }
	END { printf "%d\n", t ? 100 * s / t : 0 }' "$T_DIR/inl.folded")
t_log "inline frames: $pct% end in chain_c (line $call);uw_inlined (line $hot)"
[ "$pct" -ge 90 ] || t_fail "inline frames: $pct%: $(sort -k2 -n -t' ' "$T_DIR/inl.folded" | tail -2)"
"$FOGCTL" profile -p "$h" -d 1s --no-kernel -o "$T_DIR/noinl.folded" 2>/dev/null || t_fail "profile failed"
! grep -q uw_inlined "$T_DIR/noinl.folded" || t_fail "inline frames shown without --lines"
kill "$h" 2>/dev/null

# through libc: strtod's callers are there
start_prog libc 30
"$FOGCTL" profile -p "$h" -d 3s --no-kernel -o "$T_DIR/libc.folded" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile failed: $(cat "$T_DIR/fogctl.err")"
pct=$(share "$T_DIR/libc.folded" "$CHAIN;uw_libc;")
t_log "libc: $pct% under $CHAIN;uw_libc;(libc)"
[ "$pct" -ge 90 ] || t_fail "$CHAIN;uw_libc in $pct%: $(sort -k2 -n -t' ' "$T_DIR/libc.folded" | tail -3)"
# libc's own frames under it (its internal functions are not in .dynsym: [unknown] or strtod)
kill "$h" 2>/dev/null

# off-CPU: the time blocked in nanosleep is under the chain (values are nanoseconds)
start_prog sleep 30
"$FOGCTL" profile -p "$h" -d 2s --mode offcpu --no-kernel -o "$T_DIR/off.folded" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile --mode offcpu failed: $(cat "$T_DIR/fogctl.err")"
pct=$(share "$T_DIR/off.folded" "$CHAIN;uw_sleep;")
t_log "off-CPU: $pct% of the time blocked under $CHAIN;uw_sleep"
[ "$pct" -ge 95 ] || t_fail "off-CPU: $CHAIN;uw_sleep has $pct%: $(sort -k2 -n -t' ' "$T_DIR/off.folded" | tail -3)"
kill "$h" 2>/dev/null

# uprobe allocation mode: malloc's caller and its callers (malloc is probed at its return)
start_prog alloc 30
"$FOGCTL" profile -p "$h" --uprobe -d 3s --allocated -o "$T_DIR/alloc.folded" 2>"$T_DIR/fogctl.err" ||
	t_fail "fogctl profile --uprobe failed: $(cat "$T_DIR/fogctl.err")"
pct=$(share "$T_DIR/alloc.folded" "$CHAIN;uw_alloc")
t_log "uprobe allocations: $pct% of the bytes allocated under $CHAIN;uw_alloc"
[ "$pct" -ge 95 ] || t_fail "uprobe: $CHAIN;uw_alloc has $pct%: $(sort -k2 -n -t' ' "$T_DIR/alloc.folded" | tail -3)"
kill "$h" 2>/dev/null
fogd_stop
