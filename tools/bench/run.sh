#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: fogd's collection overhead, first as BPF run time per event beside runqlat,
# biolatency and the floor in one run (tools/bench/bpf_cost.sh, the primary figure), then
# wall-clock A/B pairs (medians and every pair: the spread); ring-buffer drops under load,
# and fogd's own idle CPU and RSS.
# Knobs: BENCH_PAIRS (default 7), BENCH_IDLE_SECONDS (default 60), BENCH_BPF_REPEATS (default 3).
set -eu
cd "$(dirname "$0")/../.."
: "${OUTPUT:=build}"
PAIRS=${BENCH_PAIRS:-7}
IDLE=${BENCH_IDLE_SECONDS:-60}
FOGD="$OUTPUT/fogd"
DIR=$(mktemp -d /tmp/fogd-bench.XXXXXX)
SOCK="$DIR/fogd.sock"
PINS="/sys/fs/bpf/fogd-bench-$$"
FIO_FILE=/var/tmp/fogd-bench-fio.dat
FOGD_PID=
old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)

stall_load=
cleanup() {
	[ -n "$stall_load" ] && kill -- -"$stall_load" 2>/dev/null
	[ -n "$FOGD_PID" ] && kill -TERM "$FOGD_PID" 2>/dev/null && wait "$FOGD_PID" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$old_stats" 2>/dev/null || true
	rm -rf "$DIR" "$PINS" "$FIO_FILE"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (loads BPF programs)" >&2; exit 1; }
command -v perf >/dev/null || { echo "bench: needs perf (linux-perf)" >&2; exit 1; }

api() { curl -sf --max-time 5 --unix-socket "$SOCK" "http://localhost$1"; }

fogd_up() {
	# no alert profiles: a capture the benches' load sets off would be measured with fogd
	"$FOGD" -o fogd.socket="$SOCK" -o fogd.pin_path="$PINS" -o http.listen=off \
		-o monitor.profile_on=off "$@" >"$DIR/fogd.log" 2>&1 &
	FOGD_PID=$!
	for _ in $(seq 1 100); do
		api /api/v1/status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench: fogd did not start" >&2
	cat "$DIR/fogd.log" >&2
	exit 1
}

fogd_down() {
	kill -TERM "$FOGD_PID"
	wait "$FOGD_PID" || true
	FOGD_PID=
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# seconds one load run takes (for fio: seconds per million 4 KiB reads, from its IOPS)
run_load() {
	case $1 in
	messaging) perf bench sched messaging -g 10 -l 400 2>/dev/null | awk '/Total time:/ { print $3 }' ;;
	pipe) taskset -c 1 perf bench sched pipe -l 200000 2>/dev/null | awk '/Total time:/ { print $3 }' ;;
	fio) fio --name=fogd-bench --filename="$FIO_FILE" --size=256M --rw=randread --bs=4k \
		--direct=1 --iodepth=16 --ioengine=libaio --runtime=8 --time_based \
		--output-format=json 2>/dev/null | jq '1e6 / .jobs[0].read.iops' ;;
	esac
}

# A/B pairs: each pair runs the load without fogd and with all collectors on,
# the order alternating from pair to pair so drift does not favour either side.
# BPF run-time statistics stay off here: they add their own cost to every run.
overhead() {
	local load=$1 i base with
	: >"$DIR/$load.ratios"
	: >"$DIR/$load.base"
	run_load "$load" >/dev/null # warm caches
	for i in $(seq 1 "$PAIRS"); do
		if [ $((i % 2)) -eq 1 ]; then
			base=$(run_load "$load")
			fogd_up
			sleep 1
			with=$(run_load "$load")
			api /api/v1/status >"$DIR/status.$load.json"
			fogd_down
		else
			fogd_up
			sleep 1
			with=$(run_load "$load")
			api /api/v1/status >"$DIR/status.$load.json"
			fogd_down
			base=$(run_load "$load")
		fi
		echo "$base" >>"$DIR/$load.base"
		awk -v a="$base" -v b="$with" 'BEGIN { printf "%.4f\n", b / a }' >>"$DIR/$load.ratios"
	done
	printf '%-10s baseline median %.3f s, with fogd / without: median %.4f (pairs: %s)\n' \
		"$load" "$(median <"$DIR/$load.base")" "$(median <"$DIR/$load.ratios")" \
		"$(tr '\n' ' ' <"$DIR/$load.ratios")"
}

if command -v fio >/dev/null; then
	fio --name=fogd-bench-prep --filename="$FIO_FILE" --size=256M --rw=write --bs=1M \
		--direct=1 >/dev/null 2>&1
fi
echo "== collection overhead (primary): BPF run time per event, all collectors on, beside the"
echo "   tools they replace, one run, medians of ${BENCH_BPF_REPEATS:-3} (budget: fogd <= 0.5x the anchor)"
FIO_FILE=$FIO_FILE bash tools/bench/bpf_cost.sh "$FOGD" "${BENCH_BPF_REPEATS:-3}" pipe messaging fio ||
	echo "(bpf_cost.sh failed: see above)"
echo
echo "== collection overhead (secondary): wall clock, $PAIRS A/B pairs, medians and each pair"
echo "   (fio: seconds per million 4 KiB O_DIRECT reads at queue depth 16; noise on a shared"
echo "   host exceeds the effect: read the BPF figures above)"
sysctl -qw kernel.bpf_stats_enabled=0
overhead messaging
overhead pipe
[ -f "$FIO_FILE" ] && overhead fio
echo
echo "== BPF cost per event (kernel.bpf_stats_enabled=1, one run of each load with fogd)"
sysctl -qw kernel.bpf_stats_enabled=1
fogd_up
sleep 1
for load in pipe messaging fio; do
	[ "$load" = fio ] && [ ! -f "$FIO_FILE" ] && continue
	run_load "$load" >/dev/null
done
api /api/v1/status >"$DIR/status.stats.json"
fogd_down
sysctl -qw kernel.bpf_stats_enabled=0
rm -f "$FIO_FILE"
jq -r '.collectors[] | select(.state == "running") | .programs[] | select(.run_cnt > 0) |
	"\(.name)\t\(.run_cnt)\t\(.ns_per_run | floor)"' "$DIR/status.stats.json" | sort -u |
	awk -F'\t' 'BEGIN { printf "%-34s %12s %10s\n", "program", "runs", "ns/run" }
		{ printf "%-34s %12s %10s\n", $1, $2, $3 }'
echo
echo "== ring buffer under load"
for f in "$DIR"/status.*.json; do
	jq -r --arg f "$(basename "$f" .json | cut -d. -f2)" \
		'"\($f): \(.events.received) events received, \(.events.dropped) dropped, \(.events.malformed) malformed"' "$f"
done
sysctl -qw kernel.bpf_stats_enabled="$old_stats"

echo
echo "== /metrics scrape: fogd vs node_exporter on this host (budget: ~1,000 series < 1 ms)"
SCRAPES=${BENCH_SCRAPES:-300}
FOG_PORT=$((20000 + RANDOM % 20000))
NE_PORT=$((FOG_PORT + 1))
fogd_up -o http.listen=127.0.0.1:"$FOG_PORT" -o export.top_processes=200 -o export.top_cgroups=50
sleep 2
node_pid=
if command -v prometheus-node-exporter >/dev/null; then
	prometheus-node-exporter --web.listen-address=127.0.0.1:"$NE_PORT" >"$DIR/ne.log" 2>&1 &
	node_pid=$!
	for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NE_PORT/metrics" >/dev/null && break; sleep 0.1; done
fi
# per scrape: wall time seen by the client (median, p99) and the exporter's own CPU time
scrape_bench() {
	local name=$1 url=$2 pid=$3 t0 t1 series
	series=$(curl -sf "$url" | grep -vc '^#')
	t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	for _ in $(seq 1 "$SCRAPES"); do
		curl -s -o /dev/null -w '%{time_total}\n' "$url"
	done >"$DIR/scrape.$name"
	t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	sort -g "$DIR/scrape.$name" | awk -v n="$name" -v s="$series" -v c=$((t1 - t0)) \
		-v hz="$(getconf CLK_TCK)" -v k="$SCRAPES" \
		'{ v[NR] = $1 } END { printf "%-14s %5d series  median %.3f ms  p99 %.3f ms  CPU %.3f ms/scrape\n",
			n, s, v[int(NR / 2) + 1] * 1e3, v[int(NR * 0.99)] * 1e3, c / hz / k * 1e3 }'
}
scrape_bench fogd "http://127.0.0.1:$FOG_PORT/metrics" "$FOGD_PID"
echo "   fogd's own render time: $(curl -sf "http://127.0.0.1:$FOG_PORT/metrics" | awk '/^fog_scrape_duration_seconds / { printf "%.3f ms", $2 * 1e3 }')"
[ -n "$node_pid" ] && scrape_bench node_exporter "http://127.0.0.1:$NE_PORT/metrics" "$node_pid"
[ -n "$node_pid" ] && kill "$node_pid"
fogd_down

echo
echo "== uplink: the buffer's write cost per sample and the catch-up rate after an outage"
bash tools/bench/uplink_cost.sh "$FOGD" || echo "(uplink_cost.sh failed: see above)"
echo
echo "== fogd idle cost over $IDLE s"
fogd_up
sleep 2
hz=$(getconf CLK_TCK)
t0=$(awk '{ print $14 + $15 }' "/proc/$FOGD_PID/stat")
rss_max=0
for _ in $(seq 1 "$IDLE"); do
	sleep 1
	rss=$(awk '/VmRSS/ { print $2 }' "/proc/$FOGD_PID/status")
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
done
t1=$(awk '{ print $14 + $15 }' "/proc/$FOGD_PID/stat")
fogd_down
awk -v t0="$t0" -v t1="$t1" -v hz="$hz" -v s="$IDLE" -v rss="$rss_max" 'BEGIN {
	printf "cpu %.3f%% of one core (budget 0.5%%), max RSS %.1f MiB (budget 12 MiB)\n",
		(t1 - t0) / hz / s * 100, rss / 1024 }'

# ---------------------------------------------------------------------------
# Resource pool manager (libfog, include/fog/pool.h): the 10,000-use table
# (no pool vs pool: reuse, factory calls, time, peak footprint) and get + put
# ns/op uncontended and with 2 threads. Unprivileged, about 10 s.
# Knobs: BENCH_POOL_OPS (get + put per thread, default 2000000),
# BENCH_POOL_REPS (repetitions, median taken, default 7).
echo
echo "== resource pool (libfog)"
"$OUTPUT/bench/pool_bench" -o "${BENCH_POOL_OPS:-2000000}" -r "${BENCH_POOL_REPS:-7}"

# ---------------------------------------------------------------------------
# Placement engine (include/fog/sched.h): decision latency per strategy with
# 1,000 workers (p50/p99 of single timed decisions) and decisions/s at 100
# workers; then the seeded simulator: best-worker accuracy, regret, completion
# times, SLA violations and cost of ML_ADAPTIVE against the other strategies and
# the baselines, on the Alibaba GPU trace shapes (read from ../shared, skipped
# when absent) and on a synthetic mix. Unprivileged, about 15 s.
# Knobs: BENCH_SCHED_PICKS (timed decisions per strategy, default 50000),
# BENCH_SCHED_SEEDS (trace replay seeds, default "1 2 3 4 5"), BENCH_SCHED_SYNTH_SEEDS
# (synthetic mix seeds, default "1 2 3").
echo
echo "== placement engine: decision cost (budget: p99 < 10 us at 1,000 workers, >= 1M/s at 100)"
"$OUTPUT/bench/sched_bench" -w 1000 -r 100 -n "${BENCH_SCHED_PICKS:-50000}"
echo
echo "== placement engine: simulator (budget: ML_ADAPTIVE accuracy >= 95% after warm-up)"
TRACE=../shared/traces/alibaba-gpu-v2023
if [ -r "$TRACE/openb_pod_list_default.csv" ]; then
	for seed in ${BENCH_SCHED_SEEDS:-1 2 3 4 5}; do
		"$OUTPUT/bench/sched_sim" --trace "$TRACE" --seed "$seed" --tasks 4000
	done
else
	echo "(trace not found at $TRACE: replay skipped)"
fi
for seed in ${BENCH_SCHED_SYNTH_SEEDS:-1 2 3}; do
	"$OUTPUT/bench/sched_sim" --synthetic --seed "$seed" --tasks 4000
done

# ---- memory arena vs other allocators (tools/bench/arena_bench.c, about 15 s) ----
# Unprivileged; each measurement in a fresh child process, medians of 5 runs.
echo
echo "== memory arena vs glibc malloc, mimalloc, jemalloc"
"$OUTPUT/bench/arena_bench" -r 5

# ---- profiler (user/profile, tools/bench/prof_bench.c and alloc_bench.c, about 90 s) ----
# CPU profiling at 99 Hz on a CPU-bound workload: each round runs the same fixed work plain,
# profiling itself through libfog's API (the BPF sampler fogd uses, user stacks and kernel
# stacks) and under `perf record -F 99 -g`, in rotating order; medians of the ratios.
# Then the allocation sampler (LD_PRELOAD=libfogalloc.so, one sample per 512 KiB), A/B pairs
# in alternating order, on two malloc-heavy workloads: a bare malloc/free loop (the worst
# case: nothing but allocations, ~20 ns each, so the interposed call shows whole) and
# jansson JSON round trips (a program doing work with its allocations).
# Knob: BENCH_PROF_PAIRS (default 7).
PROF_PAIRS=${BENCH_PROF_PAIRS:-7}
echo
echo "== CPU profiling at 99 Hz, CPU-bound workload (budget < 1%), $PROF_PAIRS rounds, medians"
: >"$DIR/cpu.base"
: >"$DIR/cpu.fog"
: >"$DIR/cpu.perf"
: >"$DIR/cpu.samples"
"$OUTPUT/bench/prof_bench" -n 300000000 >/dev/null # warm up
for i in $(seq 1 "$PROF_PAIRS"); do
	for run in $(printf 'base\nfog\nperf\n' | tail -n +$((i % 3 + 1)); printf 'base\nfog\nperf\n' | head -n $((i % 3))); do
		case $run in
		base) "$OUTPUT/bench/prof_bench" | awk '{ print $1 }' >>"$DIR/cpu.base" ;;
		fog) "$OUTPUT/bench/prof_bench" -F 99 >"$DIR/cpu.out"
			awk '{ print $1 }' "$DIR/cpu.out" >>"$DIR/cpu.fog"
			awk '{ print $2 }' "$DIR/cpu.out" >>"$DIR/cpu.samples" ;;
		perf) perf record -q -F 99 -g -o "$DIR/perf.data" -- "$OUTPUT/bench/prof_bench" 2>/dev/null |
			awk '{ print $1 }' >>"$DIR/cpu.perf" ;;
		esac
	done
done
paste "$DIR/cpu.base" "$DIR/cpu.fog" | awk '{ printf "%.4f\n", $2 / $1 }' >"$DIR/cpu.fog.ratio"
paste "$DIR/cpu.base" "$DIR/cpu.perf" | awk '{ printf "%.4f\n", $2 / $1 }' >"$DIR/cpu.perf.ratio"
printf 'baseline median %.3f s; fogd sampler / plain: median %.4f (%s); perf record -F 99 -g / plain: median %.4f (%s); %s samples per run (median)\n' \
	"$(median <"$DIR/cpu.base")" "$(median <"$DIR/cpu.fog.ratio")" "$(tr '\n' ' ' <"$DIR/cpu.fog.ratio" | sed 's/ $//')" \
	"$(median <"$DIR/cpu.perf.ratio")" "$(tr '\n' ' ' <"$DIR/cpu.perf.ratio" | sed 's/ $//')" \
	"$(median <"$DIR/cpu.samples")"

echo
echo "== allocation sampler (libfogalloc.so) on a malloc-heavy workload (budget < 5%), $PROF_PAIRS pairs"
# A/B pairs of one workload without and with the sampler; files $DIR/$2.base, $2.ratios.
sampler_pairs() {
	local bin="$OUTPUT/bench/$1" a b
	: >"$DIR/$2.base"
	: >"$DIR/$2.ratios"
	"$bin" >/dev/null # warm up
	for i in $(seq 1 "$PROF_PAIRS"); do
		plain() { "$bin" | awk '{ print $1 }'; }
		sampled() {
			LD_PRELOAD="$PWD/$OUTPUT/libfogalloc.so" FOG_ALLOC_DIR="$DIR" "$bin" |
				awk '{ print $1 }'
		}
		if [ $((i % 2)) -eq 0 ]; then a=$(plain); b=$(sampled); else b=$(sampled); a=$(plain); fi
		echo "$a" >>"$DIR/$2.base"
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f\n", b / a }' >>"$DIR/$2.ratios"
	done
	printf 'baseline median %.3f s; with the sampler / without: median %.4f (pairs: %s)\n' \
		"$(median <"$DIR/$2.base")" "$(median <"$DIR/$2.ratios")" \
		"$(tr '\n' ' ' <"$DIR/$2.ratios" | sed 's/ $//')"
}
printf 'bare loop (alloc_bench, 20M malloc+free): '
sampler_pairs alloc_bench alloc
# a program doing real work with its allocations
printf 'JSON round trips (alloc_json, ~1,400 allocations each): '
sampler_pairs alloc_json json

# Rendering in distinct functions (tools/bench/render_bench.c, about 5 s): one CPU profile of
# BENCH_RENDER_FUNCS (default 50000) distinct leaf functions rendered in every format (median
# of 3). Was quadratic in distinct functions (issue 12: 20,000 took 1.34 s per render).
echo
echo "== profile rendering, ${BENCH_RENDER_FUNCS:-50000} distinct functions (render_bench)"
"$OUTPUT/bench/render_bench" -n "${BENCH_RENDER_FUNCS:-50000}" -r 3

# ---- load: HTTP and placement-engine submissions (tools/bench/sched_load.c, about 120 s) ----
# Loopback only. wrk against /metrics and /api/v1/processes on fogd's TCP listener while all
# collectors run (requests/s, p99 from wrk --latency); then tools/bench/sched_load submits
# tasks without a command (placed, never run) to the Unix socket, cancelling each after it
# is accepted so the task table stays in steady state: one task per request over one
# keep-alive connection for BENCH_LOAD_SECONDS (default 20), as fast as fogd answers; the
# issue's load, 10,000 submissions/s for BENCH_SCHED_SECONDS (default 60), one task per
# request over two connections; and BENCH_LOAD_SECONDS of tasks sent 100 to a request
# (array bodies, and batch cancels) as fast as fogd answers. sched_load itself checks that
# no task was lost (every cancel found its task; the last 1,000 are queried one by one),
# that fogd's counts reconcile (submitted grew by what the client saw accepted, and
# submitted == pending + placed + running + completed + failed + timed_out + cancelled) and
# reads the decision latency of the run from fogd's histogram (retries counted apart).
# Knobs: BENCH_WRK_SECONDS (default 10 per URL), BENCH_LOAD_SECONDS, BENCH_SCHED_SECONDS.
echo
echo "== load: wrk on fogd's TCP listener (all collectors on), placement-engine submissions"
LOAD_S=${BENCH_LOAD_SECONDS:-20}
WRK_S=${BENCH_WRK_SECONDS:-10}
load_port=$((20000 + RANDOM % 30000))
while ss -Htln "sport = :$load_port" | grep -q .; do load_port=$((20000 + RANDOM % 30000)); done
fogd_up -o http.listen="127.0.0.1:$load_port"
sleep 2
if command -v wrk >/dev/null; then
	for path in /metrics /api/v1/processes; do
		wrk -t1 -c8 -d"${WRK_S}s" --latency "http://127.0.0.1:$load_port$path" \
			>"$DIR/wrk.out" 2>&1 || true
		awk -v p="$path" '
			/Requests\/sec:/ { rps = $2 }
			/^ +99%/ { p99 = $2 }
			/Non-2xx/ { bad = $NF }
			/Socket errors/ { sock = $0 }
			END { printf "wrk %-18s %10s req/s, p99 %s%s%s\n", p, rps, p99,
				bad ? ", NON-2XX " bad : "", sock ? ", " sock : "" }' "$DIR/wrk.out"
	done
else
	echo "(wrk not installed: make deps)"
fi
SCHED_S=${BENCH_SCHED_SECONDS:-60}
sched_report() {
	jq -r '"sched_load \(.label): \(.created) tasks in \(.seconds) s: \(.submissions_per_s | floor) submissions/s " +
		"(\(.requests_per_s | floor) requests/s, each task also cancelled), round trip p50 <= \(.rtt_p50_us) us, " +
		"p99 <= \(.rtt_p99_us) us; \(.refused) refused, \(.errors) transport errors\n" +
		"  engine: submitted +\(.engine.submitted_delta) (client saw \(.created)), accounted \(.engine.accounted) = " +
		"pending \(.engine.pending) + placed \(.engine.placed) + running \(.engine.running) + completed " +
		"\(.engine.completed) + failed \(.engine.failed) + timed_out \(.engine.timed_out) + cancelled " +
		"\(.engine.cancelled) of \(.engine.submitted); \(.lost) lost, \(.missing) of \(.checked) queried missing: " +
		(if .lost == 0 and .missing == 0 and .engine.reconciled then "no task lost, counts reconcile"
		 else "TASKS LOST OR MISCOUNTED" end) + "\n" +
		"  decision latency p50 <= \(.engine.decision_p50_ns) ns, p99 <= \(.engine.decision_p99_ns) ns over " +
		"\(.engine.decisions) decisions, \(.engine.retries) retries apart (budget p99 < 10 us)"' "$1"
}
"$OUTPUT/bench/sched_load" -s "$SOCK" -d "$LOAD_S" -c 1 -p "bench1-$$" >"$DIR/load1.json" ||
	echo "sched_load (one task per request) reported a failure:"
jq '. + {label: "one task per request, 1 connection"}' "$DIR/load1.json" >"$DIR/load1l.json" &&
	sched_report "$DIR/load1l.json"
"$OUTPUT/bench/sched_load" -s "$SOCK" -d "$SCHED_S" -c 2 -r 10000 -p "bench2-$$" \
	>"$DIR/load2.json" || echo "sched_load (10,000/s) reported a failure:"
jq '. + {label: "10,000/s for \(.seconds | floor) s, one task per request, 2 connections"}' \
	"$DIR/load2.json" >"$DIR/load2l.json" && sched_report "$DIR/load2l.json"
"$OUTPUT/bench/sched_load" -s "$SOCK" -d "$LOAD_S" -c 2 -b 100 -p "bench3-$$" >"$DIR/load3.json" ||
	echo "sched_load (batches) reported a failure:"
jq '. + {label: "100 tasks per request, 2 connections"}' "$DIR/load3.json" >"$DIR/load3l.json" &&
	sched_report "$DIR/load3l.json"
fogd_down

# ---- profiler: uprobe memory mode (tools/bench/uprobe_bench.c, about 30 s) ----
# What the uprobe memory mode (mem_source "uprobe") costs a process: a worker runs
# malloc(64) + free pairs without probes and with the mode attached, in alternating A/B
# rounds, wall and CPU time per pair (medians); the per-hit costs the mode measures for its
# reports; the time of a process on the same libc that is not probed; attach and detach times.
# Knobs: BENCH_UPROBE_PAIRS (malloc + free pairs per run, default 50000), BENCH_PROF_PAIRS.
echo
UPROBE_ROUNDS=${BENCH_PROF_PAIRS:-7}
echo "== uprobe memory mode: cost per allocation, $UPROBE_ROUNDS A/B rounds"
"$OUTPUT/bench/uprobe_bench" -n "${BENCH_UPROBE_PAIRS:-50000}" -r "$UPROBE_ROUNDS"

# ---- event-loop stalls caused by profiling (budget: none of 50 ms or more) ----
# A host-wide CPU profile with source lines (the heaviest the profiler does: every process's
# ELF files and DWARF are read) while a mixed load runs, twice: the first with a cold symbol
# cache, the second warm. The loop counts its slow callbacks (50 ms or more) and remembers
# the last 8 by name: the count's growth over a profile, and their names, are printed, each
# with the CPU time the loop's thread got during it (much less than its length: the loop
# waited for a CPU, starved by the load, rather than doing the work).
# Knob: BENCH_STALL_SECONDS (profile length, default 10).
STALL_S=${BENCH_STALL_SECONDS:-10}
echo
echo "== event-loop stalls during a host-wide profile with --lines (budget: none >= 50 ms), ${STALL_S} s each"
fogd_up
# its own process group: perf's sender and receiver processes end with it (killing perf alone
# left 160 of them running after the bench)
setsid perf bench sched messaging -g 4 -l 100000 >/dev/null 2>&1 & stall_load=$!
for round in cold warm; do
	slow0=$(api /api/v1/status | jq '.loop.slow')
	t0=$(date +%s%N)
	"$OUTPUT/fogctl" --socket "$SOCK" profile --all -d "${STALL_S}s" --lines \
		-o "$DIR/stall-$round.html" >"$DIR/stall-$round.out" 2>&1 ||
		{ echo "$round: the profile failed: $(tail -n 2 "$DIR/stall-$round.out")"; continue; }
	window=$(awk -v t0="$t0" -v t1="$(date +%s%N)" 'BEGIN { printf "%.1f", (t1 - t0) / 1e9 }')
	api /api/v1/status >"$DIR/stall-$round.json"
	jq -r --argjson s0 "$slow0" --argjson w "$window" '.loop |
		"\("'"$round"'"): \(.slow - $s0) callbacks of 50 ms or more over the profile (\($w) s); " +
		"longest since start \(.longest_ms | floor) ms (\(.longest)); " +
		(.slow - $s0) as $d | .recent_slow | .[(length - ([$d, length] | min)):] |
		map("\(.name) \(.ms | floor) ms (\(.cpu_ms | floor) on a CPU)") |
		if length == 0 then "none: met" else "the last \(length): " + join(", ") +
		(if all(test("[(]([0-4]?[0-9]) on a CPU[)]$")) then
			": met (each ran under 50 ms on a CPU: the loop waited for one)" else ": not met" end) end' \
		"$DIR/stall-$round.json"
done
kill -- -"$stall_load" 2>/dev/null; wait "$stall_load" 2>/dev/null || true
fogd_down

# ---- unwinding without frame pointers (tools/bench/unwind_cost.sh, about 3 min) ----
echo
echo "== unwinding without frame pointers: cost per sample beside perf --call-graph dwarf =="
OUTPUT=$OUTPUT bash tools/bench/unwind_cost.sh || echo "(unwind_cost.sh failed: see above)"
