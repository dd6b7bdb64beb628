// SPDX-License-Identifier: GPL-2.0-only
/*
 * fog_example: every part of libfog in one process, through the public headers only.
 *
 * The job: N tasks (100 by default), each computing the POSIX cksum of an input file
 * this process generates. For each task the process takes a job record from a resource
 * pool (records and their 1 MiB input buffers live on a memory arena, handed around as
 * zero-copy slices), fills the input, computes the expected checksum itself (with a
 * CRC table that is a lazy value), writes the file and submits the task to the
 * placement engine (ML_ADAPTIVE over 4 workers, some tasks overriding the strategy).
 * The executor runs each placed task as `sh -c "cksum < in > out; cat /proc/self/cgroup
 * >> out"` in a cgroup of its own beneath this process's cgroup, with the task's CPU and
 * memory limits. When a task ends, its output is checked against the expected checksum
 * and its cgroup line against the cgroup the executor should have used, and the record
 * goes back to the pool. Meanwhile the monitor samples the host with thresholds set,
 * its figures feed the workers' live signals, the memory optimizer watches pressure
 * (PSI) with the arena and the lazy table registered for reclaim, and, as root, the CPU
 * profiler samples this process for the whole run. At the end: an HTML profile report
 * and the figures (tasks completed, SLA violations, pool reuse, memory use, ...).
 *
 * Usage: fog_example [-o DIR] [-n TASKS] [-F HZ]
 * Exit status: 0 when every task succeeded with a verified result, 1 otherwise, 2 for
 * bad usage.
 */
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <fog/arena.h>
#include <fog/lazy.h>
#include <fog/memopt.h>
#include <fog/monitor.h>
#include <fog/pool.h>
#include <fog/profiler.h>
#include <fog/sched.h>
#include <fog/view.h>

#define INPUT_MAX	(4u << 20)	/* bytes of one task's input buffer */
#define INPUT_MIN	(2u << 20)
#define N_WORKERS	4
#define SLOTS		8		/* 4 workers x 2 tasks of 0.5 cores: jobs in flight */
#define RUN_LIMIT_S	120		/* the run gives up (and fails) after this */
#define SIGNAL_MS	250		/* workers' live signals refreshed this often */
#define MAX_TASKS	10000
#define PATH_LEN	512		/* work is at most 255 bytes, a file name 72 */

/* One task's record: taken from the pool when submitted, put back when it ended. */
struct job {
	struct fog_slice input;		/* arena block of INPUT_MAX bytes */
	char id[FOG_SCHED_ID_LEN];
	size_t len;			/* bytes of input in use */
	uint32_t expect;		/* POSIX cksum of the input */
	unsigned int index;
};

struct example {
	const char *dir;		/* output folder: report, work/ for task files */
	char work[256];
	char group[64];			/* executor cgroup folder name */
	unsigned int n_tasks;
	unsigned int hz;
	struct fog_arena *arena;
	struct fog_lazy *crc_lazy;
	struct fog_pool_mgr *mgr;
	struct fog_pool *pool;
	struct fog_memopt *memopt;
	struct fog_monitor *mon;
	struct fog_profile *prof;
	struct fog_sched *sched;
	struct fog_executor *exec;
	struct job *inflight[SLOTS];
	unsigned int submitted, ended, verified, in_cgroup;
	double task_peak_mb_max, task_peak_mb_sum, task_cpu_ms_sum;
	unsigned int pressure_changes;
	unsigned int alerts;
	int cg_version;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mib(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

/* ---- the CRC table: a lazy value, created on first use, releasable under pressure ---- */

/* POSIX cksum: CRC-32 with polynomial 0x04C11DB7, most significant bit first. */
static void *crc_table_create(void *ctx)
{
	uint32_t *tab = fog_arena__alloc(ctx, 256 * sizeof(*tab));

	if (!tab)
		return NULL;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;

		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? (c << 1) ^ 0x04C11DB7u : c << 1;
		tab[i] = c;
	}
	return tab;
}

static void crc_table_destroy(void *value, void *ctx)
{
	fog_arena__dealloc(ctx, value);
}

/*
 * The checksum `cksum` prints (POSIX.1-2017, cksum): the CRC of the data followed by
 * its length in as few bytes as it takes, least significant first, complemented.
 * Byte at a time on purpose: it is the example's hot function, the one the profile
 * should name.
 */
__attribute__((noinline)) static uint32_t example_cksum(const uint32_t *tab, struct fog_slice s)
{
	const unsigned char *p = s.ptr;
	uint32_t crc = 0;

	for (size_t i = 0; i < s.len; i++)
		crc = (crc << 8) ^ tab[(crc >> 24) ^ p[i]];
	for (size_t n = s.len; n; n >>= 8)
		crc = (crc << 8) ^ tab[(crc >> 24) ^ (n & 0xff)];
	return ~crc;
}

/* ---- the job pool: records and input buffers made on the arena ---- */

static int job_create(void *ctx, void **res)
{
	struct fog_arena *a = ctx;
	struct job *j = fog_arena__calloc(a, 1, sizeof(*j));

	if (!j)
		return -errno;
	j->input = fog_arena__slice(a, INPUT_MAX);
	if (!j->input.ptr) {
		int err = -errno;

		fog_arena__dealloc(a, j);
		return err;
	}
	*res = j;
	return 0;
}

static void job_destroy(void *ctx, void *res)
{
	struct job *j = res;

	fog_arena__dealloc(ctx, j->input.ptr);
	fog_arena__dealloc(ctx, j);
}

/* A record handed out again must still own a whole live input buffer. */
static bool job_valid(void *ctx, void *res)
{
	const struct job *j = res;

	return j->input.len == INPUT_MAX && !fog_arena__slice_check(ctx, j->input);
}

/* Reclaim callback of the memory optimizer: idle records beyond min_size go back. */
static uint64_t pool_reclaim(void *ctx)
{
	struct fog_pool *pool = ctx;
	int n = fog_pool__reap(pool, fog_pool_now_ns() + 3600ull * 1000000000ull);

	return n > 0 ? (uint64_t)n * (INPUT_MAX + sizeof(struct job)) : 0;
}

/* ---- callbacks of the memory optimizer and the monitor ---- */

static void on_pressure(const struct fog_mem_pressure *p, void *ctx)
{
	struct example *ex = ctx;

	__atomic_add_fetch(&ex->pressure_changes, 1, __ATOMIC_RELAXED);
	printf("memory pressure: %s -> %s (%s)\n", fog_mem_level_name(p->prev),
	       fog_mem_level_name(p->level), p->reason ? p->reason : "no source");
}

static void on_alert(const struct fog_alert *al, void *ctx)
{
	struct example *ex = ctx;

	__atomic_add_fetch(&ex->alerts, 1, __ATOMIC_RELAXED);
	printf("alert: %s %s -> %s: %s\n", fog_monitor_resource_name(al->resource),
	       fog_alert_level_name(al->previous), fog_alert_level_name(al->level), al->summary);
}

/* ---- set-up ---- */

static int setup_memory(struct example *ex)
{
	struct fog_arena_opts ao = {
		.reserve = 256u << 20,
		.flags = FOG_ARENA_NO_HUGEPAGE,
		.name = "fog_example",
	};
	struct fog_lazy_opts lo = {
		.create = crc_table_create,
		.destroy = crc_table_destroy,
		.size_hint = 256 * sizeof(uint32_t),
		.releasable = true,
		.name = "crc table",
	};
	struct fog_pool_mgr_opts mo = { .reap_interval_ms = 0 };
	struct fog_pool_opts po = {
		.type = FOG_POOL_BUFFER,
		.min_size = N_WORKERS,
		.max_size = SLOTS,
		.max_idle_ms = 30000,
		.leak_threshold_ms = 60000,
		.factory = job_create,
		.destroy = job_destroy,
		.validate = job_valid,
	};
	struct fog_memopt_opts mem = { .interval_ms = 250 };
	struct fog_memopt_source src[8];
	int n;

	ex->arena = fog_arena__new(&ao);
	if (!ex->arena) {
		fprintf(stderr, "fog_example: arena: %s\n", strerror(errno));
		return -errno;
	}
	lo.ctx = ex->arena;
	ex->crc_lazy = fog_lazy__new(&lo);
	ex->mgr = fog_pool_mgr__new(&mo);
	if (!ex->crc_lazy || !ex->mgr) {
		fprintf(stderr, "fog_example: lazy value or pool manager: %s\n", strerror(errno));
		return -errno;
	}
	po.ctx = ex->arena;
	ex->pool = fog_pool_mgr__create(ex->mgr, "jobs", &po);
	if (!ex->pool) {
		fprintf(stderr, "fog_example: pool: %s\n", strerror(errno));
		return -errno;
	}
	ex->memopt = fog_memopt__new(&mem);
	if (!ex->memopt) {
		fprintf(stderr, "fog_example: memory optimizer: %s\n", strerror(errno));
		return -errno;
	}
	if (fog_memopt__add_arena(ex->memopt, ex->arena) ||
	    fog_memopt__add_lazy(ex->memopt, ex->crc_lazy) ||
	    fog_memopt__add_reclaim(ex->memopt, pool_reclaim, ex->pool) ||
	    fog_memopt__on_pressure(ex->memopt, on_pressure, ex)) {
		fprintf(stderr, "fog_example: cannot register with the memory optimizer\n");
		return -ENOSPC;
	}
	n = fog_memopt__sources(ex->memopt, src, 8);
	for (int i = 0; i < n && i < 8; i++)
		printf("memory source: %-12s %s%s%s\n", src[i].name,
		       src[i].active ? (src[i].trigger ? "psi trigger" : "sampled") : "inactive",
		       src[i].error[0] ? ": " : "", src[i].error);
	return fog_memopt__start(ex->memopt);
}

static int setup_monitor(struct example *ex)
{
	static const struct {
		enum fog_monitor_resource r;
		double warning, critical;
	} th[] = {
		{ FOG_MONITOR_CPU, 0.85, 0.95 },
		{ FOG_MONITOR_MEMORY, 0.85, 0.95 },
		{ FOG_MONITOR_PSI, 0.20, 0.50 },
		{ FOG_MONITOR_RUNQ_LATENCY, 0.010, 0.050 },
		{ FOG_MONITOR_IO_LATENCY, 0.100, 0.500 },
	};
	struct fog_monitor_opts mo = { .interval_seconds = 0.25, .trend_window_seconds = 60 };
	int err;

	ex->mon = fog_monitor__new(&mo);
	if (!ex->mon) {
		fprintf(stderr, "fog_example: monitor: %s\n", fog_monitor_errmsg());
		return -errno;
	}
	for (size_t i = 0; i < sizeof(th) / sizeof(th[0]); i++) {
		err = fog_monitor__set_threshold(ex->mon, th[i].r, th[i].warning, th[i].critical,
						 1.0, th[i].warning * 0.05);
		if (err) {
			fprintf(stderr, "fog_example: threshold %s: %s\n",
				fog_monitor_resource_name(th[i].r), fog_monitor_errmsg());
			return err;
		}
	}
	err = fog_monitor__on_alert(ex->mon, on_alert, ex);
	if (!err)
		err = fog_monitor__start(ex->mon);
	if (err)
		fprintf(stderr, "fog_example: monitor: %s\n", fog_monitor_errmsg());
	return err;
}

static int setup_engine(struct example *ex)
{
	/* two zones, the cheaper workers in zone a */
	static const struct {
		const char *id, *zone;
		double cost;
	} ws[N_WORKERS] = {
		{ "w0", "zone=a", 0.10 },
		{ "w1", "zone=a", 0.12 },
		{ "w2", "zone=b", 0.30 },
		{ "w3", "zone=b", 0.35 },
	};
	struct fog_sched_opts so = {
		.strategy = FOG_STRAT_ML_ADAPTIVE,
		.seed = 42,
	};
	char err[FOG_SCHED_REASON_LEN];
	int rc;

	ex->sched = fog_sched__new(&so);
	if (!ex->sched) {
		fprintf(stderr, "fog_example: placement engine: %s\n", strerror(errno));
		return -errno;
	}
	for (int i = 0; i < N_WORKERS; i++) {
		struct fog_worker_spec w = {
			.cpu_cores = 1.0,
			.memory_mb = 512,
			.cost_per_hour = ws[i].cost,
			.n_labels = 1,
		};

		snprintf(w.id, sizeof(w.id), "%s", ws[i].id);
		snprintf(w.labels[0], sizeof(w.labels[0]), "%s", ws[i].zone);
		rc = fog_sched__worker_add(ex->sched, &w, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "fog_example: worker %s: %s\n", w.id, err);
			return rc;
		}
	}
	snprintf(ex->group, sizeof(ex->group), "fog-example-%d", (int)getpid());
	ex->exec = fog_executor__new(ex->sched, ex->group);
	if (!ex->exec) {
		fprintf(stderr, "fog_example: executor: %s\n", strerror(errno));
		return -errno;
	}
	ex->cg_version = fog_executor__cgroup_version(ex->exec);
	if (ex->cg_version)
		printf("executor: tasks run in cgroup v%d folders beneath this process's, in %s/\n",
		       ex->cg_version, ex->group);
	else
		printf("executor: no usable cgroup controllers: tasks run without limits\n");
	return 0;
}

/* The CPU profiler needs root (it loads BPF); without it the run goes on unprofiled. */
static void start_profile(struct example *ex)
{
	struct fog_profile_opts po = { .frequency = ex->hz };
	int err;

	if (geteuid() != 0) {
		printf("profile: skipped, CPU profiling loads BPF programs and needs root\n");
		return;
	}
	err = fog_profile_start(0, FOG_PROFILE_CPU, &po, &ex->prof);
	if (err) {
		printf("profile: skipped: %s\n", fog_profile_strerror());
		ex->prof = NULL;
		return;
	}
	printf("profile: sampling this process at %u Hz\n", ex->hz);
}

/* ---- the run ---- */

static void xorshift_fill(struct fog_slice s, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	unsigned char *p = s.ptr;

	for (size_t i = 0; i < s.len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, s.len - i < 8 ? s.len - i : 8);
	}
}

static void job_path(const struct example *ex, const struct job *j, const char *kind, char *out,
		     size_t len)
{
	snprintf(out, len, "%.255s/%.8s-%.63s", ex->work, kind, j->id);
}

/* Writes the whole of s to path. */
static int write_file(const char *path, struct fog_slice s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = 0;

	if (fd < 0)
		return -errno;
	while (s.len && !err) {
		ssize_t n = write(fd, s.ptr, s.len);

		if (n < 0)
			err = -errno;
		else
			fog_slice_advance(&s, (size_t)n);
	}
	close(fd);
	return err;
}

/* Prepares job j for task i and submits it; the engine owns it from there. */
static int submit_one(struct example *ex, struct job *j, unsigned int i)
{
	struct fog_task_spec t = {
		.priority = (enum fog_task_priority)(i % FOG_PRIO_COUNT),
		.strategy = FOG_STRAT_DEFAULT,
		.cpu_cores = 0.5,
		.memory_mb = 64,
		.sla_ms = 10000,
		.est_runtime_ms = 20,
		.task_class = "cksum",
	};
	char in[PATH_LEN], out[PATH_LEN], err[FOG_SCHED_REASON_LEN];
	struct fog_slice data;
	int rc;

	j->index = i;
	snprintf(j->id, sizeof(j->id), "task-%03u", i);
	j->len = INPUT_MIN + (size_t)(i * 7919u) % (INPUT_MAX - INPUT_MIN + 1);
	rc = fog_slice_sub(j->input, 0, j->len, &data);
	if (rc)
		return rc;
	xorshift_fill(data, i);
	{
		FOG_LAZY_REF(tab, ex->crc_lazy);

		if (!tab.value)
			return -errno;
		j->expect = example_cksum(tab.value, data);
	}
	job_path(ex, j, "in", in, sizeof(in));
	job_path(ex, j, "out", out, sizeof(out));
	rc = write_file(in, data);
	if (rc)
		return rc;
	/* every tenth task picks the cheapest worker, every tenth (offset 8) zone b only */
	if (i % 10 == 3) {
		t.strategy = FOG_STRAT_COST;
		t.budget_per_hour = 0.5;
	} else if (i % 10 == 8) {
		t.strategy = FOG_STRAT_AFFINITY;
		snprintf(t.affinity[0], sizeof(t.affinity[0]), "zone=b");
		t.n_affinity = 1;
	}
	snprintf(t.id, sizeof(t.id), "%s", j->id);
	if (snprintf(t.command, sizeof(t.command),
		     "cksum < '%s' > '%s' && cat /proc/self/cgroup >> '%s'", in, out, out) >=
	    (int)sizeof(t.command))
		return -ENAMETOOLONG;
	rc = fog_sched__submit(ex->sched, &t, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "fog_example: %s rejected: %s\n", j->id, err);
		return rc;
	}
	ex->submitted++;
	return 0;
}

/*
 * Checks an ended task's output: the checksum and length cksum printed must be the ones
 * computed here, and (with cgroups) the task must have run in its own cgroup folder,
 * <this process's cgroup>/<group>/<task id>.
 */
static void verify(struct example *ex, const struct job *j, const struct fog_task_info *ti)
{
	char path[PATH_LEN], line[4096], want[160];
	unsigned long crc = 0, len = 0;
	bool ok = false, in_cg = false;
	FILE *f;

	job_path(ex, j, "out", path, sizeof(path));
	f = fopen(path, "re");
	if (f) {
		if (fgets(line, sizeof(line), f) && sscanf(line, "%lu %lu", &crc, &len) == 2)
			ok = crc == j->expect && len == j->len;
		snprintf(want, sizeof(want), "/%s/%s\n", ex->group, j->id);
		while (fgets(line, sizeof(line), f)) {
			size_t n = strlen(line), w = strlen(want);

			if (n >= w && !strcmp(line + n - w, want))
				in_cg = true;
		}
		fclose(f);
	}
	unlink(path);
	job_path(ex, j, "in", path, sizeof(path));
	unlink(path);
	if (ti->state == FOG_TASK_SUCCEEDED && ok)
		ex->verified++;
	else
		fprintf(stderr, "fog_example: %s %s on %s: checksum %s (got %lu %lu, want %u %zu)%s%s\n",
			j->id, fog_task_state_name(ti->state), ti->worker[0] ? ti->worker : "-",
			ok ? "ok" : "wrong", crc, len, j->expect, j->len,
			ti->reason[0] ? ": " : "", ti->reason);
	if (in_cg)
		ex->in_cgroup++;
	if (ti->peak_mem_mb > ex->task_peak_mb_max)
		ex->task_peak_mb_max = ti->peak_mem_mb;
	ex->task_peak_mb_sum += ti->peak_mem_mb;
	ex->task_cpu_ms_sum += ti->cpu_ms;
}

/* Ended tasks: verified, their records back to the pool. */
static void collect_ended(struct example *ex)
{
	for (int k = 0; k < SLOTS; k++) {
		struct job *j = ex->inflight[k];
		struct fog_task_info ti;

		if (!j || fog_sched__task(ex->sched, j->id, &ti))
			continue;
		if (ti.state == FOG_TASK_PENDING || ti.state == FOG_TASK_PLACED ||
		    ti.state == FOG_TASK_RUNNING)
			continue;
		verify(ex, j, &ti);
		ex->ended++;
		ex->inflight[k] = NULL;
		if (fog_pool__put(ex->pool, j))
			fprintf(stderr, "fog_example: %s: record not taken back by the pool\n", j->id);
	}
}

/* The monitor's latest host sample and the memory optimizer's PSI, as worker signals. */
static void update_signals(struct example *ex)
{
	struct fog_monitor_sample smp;
	struct fog_mem_pressure mp;
	struct fog_worker_signals sig = { 0 };
	double at;

	if (fog_monitor__latest(ex->mon, &smp, &at))
		return;
	fog_memopt__last(ex->memopt, &mp);
	if (!isnan(smp.value[FOG_MONITOR_CPU])) {
		sig.cpu_util = smp.value[FOG_MONITOR_CPU];
		sig.have |= FOG_SIG_CPU_UTIL;
	}
	if (!isnan(smp.value[FOG_MONITOR_RUNQ_LATENCY])) {
		sig.runq_p99_us = smp.value[FOG_MONITOR_RUNQ_LATENCY] * 1e6;
		sig.have |= FOG_SIG_RUNQ_P99;
	}
	if (!isnan(smp.value[FOG_MONITOR_IO_LATENCY])) {
		sig.io_p99_us = smp.value[FOG_MONITOR_IO_LATENCY] * 1e6;
		sig.have |= FOG_SIG_IO_P99;
	}
	if (mp.host_some_pct >= 0) {
		sig.mem_psi = mp.host_some_pct;
		sig.have |= FOG_SIG_MEM_PSI;
	}
	for (unsigned int i = 0; i < fog_sched__worker_count(ex->sched); i++) {
		struct fog_worker_info wi;

		if (fog_sched__worker_at(ex->sched, i, &wi))
			continue;
		sig.load = wi.tasks;
		sig.have |= FOG_SIG_LOAD;
		fog_sched__worker_signals(ex->sched, wi.spec.id, &sig);
	}
}

static int free_slot(const struct example *ex)
{
	for (int k = 0; k < SLOTS; k++)
		if (!ex->inflight[k])
			return k;
	return -1;
}

static int run(struct example *ex)
{
	double t0 = mono_s(), next_sig = 0;
	bool failed_submit = false;

	while (!stop && ex->ended < (failed_submit ? ex->submitted : ex->n_tasks)) {
		int k;

		if (mono_s() - t0 > RUN_LIMIT_S) {
			fprintf(stderr, "fog_example: tasks still running after %d s, giving up\n",
				RUN_LIMIT_S);
			return -ETIMEDOUT;
		}
		/* as many new tasks as there are free records */
		while (!failed_submit && ex->submitted < ex->n_tasks && (k = free_slot(ex)) >= 0) {
			struct job *j = fog_pool__try_get(ex->pool);
			int rc;

			if (!j)
				break;
			rc = submit_one(ex, j, ex->submitted);
			if (rc) {
				fog_pool__put(ex->pool, j);
				fprintf(stderr, "fog_example: cannot submit task %u: %s\n",
					ex->submitted, strerror(-rc));
				failed_submit = true;
				break;
			}
			ex->inflight[k] = j;
		}
		if (mono_s() >= next_sig) {
			update_signals(ex);
			next_sig = mono_s() + SIGNAL_MS / 1e3;
		}
		/* placed tasks start through the executor's placement callback */
		fog_sched__schedule(ex->sched, 0);
		fog_executor__reap(ex->exec, 20);
		fog_sched__expire(ex->sched);
		collect_ended(ex);
	}
	return stop ? -EINTR : failed_submit ? -EIO : 0;
}

/* ---- the end: report and figures ---- */

static void finish_profile(struct example *ex, struct fog_profile_result **res)
{
	char path[PATH_LEN];
	const char *top;
	__u64 self = 0;

	*res = NULL;
	if (!ex->prof)
		return;
	if (fog_profile_stop(ex->prof, res)) {
		printf("profile: failed: %s\n", fog_profile_strerror());
		*res = NULL;
		return;
	}
	ex->prof = NULL;
	snprintf(path, sizeof(path), "%.255s/fog_example.html", ex->dir);
	if (fog_profile_result_save(*res, FOG_PROFILE_VIEW_CPU, path))
		printf("profile: cannot write %s: %s\n", path, fog_profile_strerror());
	else
		printf("profile report: %s\n", path);
	top = fog_profile_result_top(*res, FOG_PROFILE_VIEW_CPU, &self);
	printf("profile: %llu samples, hot user function %s (%llu samples incl. kernel time it "
	       "caused)\n",
	       (unsigned long long)fog_profile_result_total(*res, FOG_PROFILE_VIEW_CPU),
	       top ? top : "(none)", (unsigned long long)self);
}

static void print_figures(struct example *ex, double seconds)
{
	struct fog_sched_stats ss;
	struct fog_pool_stats ps;
	struct fog_arena_stats as;
	struct fog_lazy_stats ls;
	struct fog_reclaim_result rr;
	struct fog_mem_pressure mp;
	struct fog_monitor_stats ms;
	struct fog_monitor_sample smp;
	struct fog_trend tr;
	double at;

	fog_sched__stats(ex->sched, &ss);
	fog_pool__stats(ex->pool, &ps);
	fog_arena__stats(ex->arena, &as);
	fog_memopt__check(ex->memopt);
	fog_memopt__last(ex->memopt, &mp);
	fog_monitor__stats(ex->mon, &ms);

	printf("\nfigures (%.1f s):\n", seconds);
	printf("tasks submitted: %u\n", ex->submitted);
	printf("tasks completed: %llu\n", (unsigned long long)ss.completed);
	printf("tasks failed: %llu\n", (unsigned long long)(ss.failed + ss.timed_out));
	printf("results verified: %u\n", ex->verified);
	printf("tasks in their own cgroup: %u (cgroup v%d)\n", ex->in_cgroup, ex->cg_version);
	printf("sla violations: %llu\n", (unsigned long long)ss.sla_violations);
	for (unsigned int i = 0; i < fog_sched__worker_count(ex->sched); i++) {
		struct fog_worker_info wi;

		if (!fog_sched__worker_at(ex->sched, i, &wi))
			printf("worker %s (%s, %.2f/h): %llu completed, %llu failed\n", wi.spec.id,
			       wi.spec.labels[0], wi.spec.cost_per_hour,
			       (unsigned long long)wi.completed, (unsigned long long)wi.failed);
	}
	printf("placement: %llu decisions, %llu explorations, p99 <= %.0f ns, ml error %.0f%%\n",
	       (unsigned long long)ss.decisions, (unsigned long long)ss.explorations,
	       ss.lat_p99_ns, ss.ml_mean_abs_err * 100);
	printf("pool reuse: %.1f%% (%llu acquisitions, %llu created, %u of them up front, "
	       "peak %u in use)\n",
	       ps.reuse_pct, (unsigned long long)ps.acquisitions, (unsigned long long)ps.created,
	       ps.min_size, ps.peak_in_use);
	printf("memory, arena: %.1f MiB peak in use, %.1f MiB committed, %.1f%% utilization\n",
	       mib((double)as.peak_in_use), mib((double)as.committed), as.utilization);
	printf("memory, tasks: %.1f MiB peak max, %.1f MiB peak mean, %.0f ms cpu in total\n",
	       ex->task_peak_mb_max, ex->submitted ? ex->task_peak_mb_sum / ex->submitted : 0,
	       ex->task_cpu_ms_sum);
	printf("memory, host: %.1f%% used, level %s, %u pressure changes\n", mp.host.pct,
	       fog_mem_level_name(mp.level), ex->pressure_changes);
	if (!fog_memopt__reclaim(ex->memopt, &rr))
		printf("memory, reclaim: rss %.1f -> %.1f MiB, arena %.1f MiB, %u lazy value(s), "
		       "%.1f MiB of idle records, in %.2f ms\n",
		       mib((double)rr.rss_before), mib((double)rr.rss_after),
		       mib((double)rr.arena_bytes), rr.lazies, mib((double)rr.callback_bytes),
		       (double)rr.pause_ns / 1e6);
	fog_lazy__stats(ex->crc_lazy, &ls);
	printf("crc table: created %llu time(s), released %llu, cached %s\n",
	       (unsigned long long)ls.creates, (unsigned long long)ls.releases,
	       ls.ready ? "yes" : "no");
	if (!fog_monitor__latest(ex->mon, &smp, &at))
		printf("monitor: %lu samples, %u alerts, cpu %.1f%%, memory %.1f%%, psi %.1f%%\n",
		       ms.observations, ex->alerts, smp.value[FOG_MONITOR_CPU] * 100,
		       smp.value[FOG_MONITOR_MEMORY] * 100, smp.value[FOG_MONITOR_PSI] * 100);
	if (!fog_monitor__trend(ex->mon, FOG_MONITOR_CPU, &tr))
		printf("monitor, cpu trend: %s over %.1f s (p %.2f)\n",
		       fog_trend_direction_name(tr.direction), tr.span_seconds, tr.p_value);
}

static void teardown(struct example *ex)
{
	if (ex->prof)
		fog_profile_stop(ex->prof, NULL);
	fog_executor__free(ex->exec);	/* kills what still runs, removes its cgroups */
	for (int k = 0; k < SLOTS; k++) {
		char path[PATH_LEN];

		if (!ex->inflight[k])
			continue;
		job_path(ex, ex->inflight[k], "in", path, sizeof(path));
		unlink(path);
		job_path(ex, ex->inflight[k], "out", path, sizeof(path));
		unlink(path);
		fog_pool__put(ex->pool, ex->inflight[k]);
	}
	if (ex->work[0])
		rmdir(ex->work);
	fog_sched__free(ex->sched);
	fog_monitor__free(ex->mon);
	fog_memopt__free(ex->memopt);
	fog_pool_mgr__free(ex->mgr);
	fog_lazy__free(ex->crc_lazy);
	fog_arena__free(ex->arena);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fog_example [-o DIR] [-n TASKS] [-F HZ]\n"
		   "  -o DIR    folder for the HTML profile report and task files (default .)\n"
		   "  -n TASKS  tasks to run, 1..%d (default 100)\n"
		   "  -F HZ     CPU profile samples per second (default 499)\n",
		MAX_TASKS);
}

int main(int argc, char **argv)
{
	static struct example ex = { .dir = ".", .n_tasks = 100, .hz = 499 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct fog_profile_result *res = NULL;
	double t0;
	char *end;
	int opt, rc;

	while ((opt = getopt(argc, argv, "o:n:F:h")) != -1) {
		switch (opt) {
		case 'o':
			ex.dir = optarg;
			break;
		case 'n':
			ex.n_tasks = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !*optarg || !ex.n_tasks || ex.n_tasks > MAX_TASKS) {
				fprintf(stderr, "fog_example: -n: '%s' is not a number in 1..%d\n",
					optarg, MAX_TASKS);
				return 2;
			}
			break;
		case 'F':
			ex.hz = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !*optarg || !ex.hz || ex.hz > 10000) {
				fprintf(stderr, "fog_example: -F: '%s' is not a rate in 1..10000\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || strchr(ex.dir, '\'')) {
		usage(stderr);
		return 2;
	}
	/*
	 * task files live where the tasks can reach them: run as root, the
	 * executor starts them as FOG_EXEC_USER, who may not enter ex.dir
	 */
	snprintf(ex.work, sizeof(ex.work), "/tmp/fog_example-work.XXXXXX");
	if (!mkdtemp(ex.work) || chmod(ex.work, 0755)) {
		fprintf(stderr, "fog_example: cannot create %s: %s\n", ex.work, strerror(errno));
		return 1;
	}
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(FOG_EXEC_USER);

		if (!pw || chown(ex.work, pw->pw_uid, pw->pw_gid)) {
			fprintf(stderr, "fog_example: tasks run as %s: %s\n", FOG_EXEC_USER,
				pw ? strerror(errno) : "no such user (make deps creates it)");
			rmdir(ex.work);
			return 1;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	rc = setup_memory(&ex);
	if (!rc)
		rc = setup_monitor(&ex);
	if (!rc)
		rc = setup_engine(&ex);
	if (rc) {
		teardown(&ex);
		return 1;
	}
	start_profile(&ex);
	printf("running %u tasks on %d workers\n", ex.n_tasks, N_WORKERS);
	fflush(stdout);
	t0 = mono_s();
	rc = run(&ex);
	finish_profile(&ex, &res);
	print_figures(&ex, mono_s() - t0);
	fog_profile_result__free(res);
	if (!rc && (ex.verified != ex.n_tasks || ex.ended != ex.n_tasks))
		rc = -EIO;
	teardown(&ex);
	return rc ? 1 : 0;
}
