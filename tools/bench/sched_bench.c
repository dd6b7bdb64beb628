// SPDX-License-Identifier: GPL-2.0-only
/*
 * sched_bench: placement decision cost per strategy. For each strategy, an
 * engine with W workers of seeded random shapes and fresh signals (ML_ADAPTIVE
 * after a training phase of 20 observations per worker) answers fog_sched__pick
 * for seeded random tasks: each decision timed alone (p50, p99 over -n picks)
 * and a run of back-to-back picks for decisions per second.
 * Usage: sched_bench [-w WORKERS] [-n PICKS] [-s SEED]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fog/sched.h"

static __u64 rng = 42;

static __u64 rnd(void)
{
	__u64 z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static struct fog_task_spec rand_task(int i)
{
	struct fog_task_spec t = { .strategy = FOG_STRAT_DEFAULT };

	snprintf(t.id, sizeof(t.id), "t%d", i);
	t.priority = (enum fog_task_priority)(rnd() % FOG_PRIO_COUNT);
	t.cpu_cores = (double)(1 + rnd() % 8);
	t.memory_mb = 512 * (1 + rnd() % 16);
	t.gpu_count = rnd() % 4 == 0 ? 1 : 0;
	t.budget_per_hour = 5.0;
	t.est_runtime_ms = 100 + (double)(rnd() % 1000);
	return t;
}

static struct fog_sched *setup(int strategy, int nw)
{
	struct fog_sched_opts o = { .strategy = strategy, .max_workers = (unsigned int)nw,
				    .seed = 7 };
	struct fog_sched *s = fog_sched__new(&o);
	char err[200];

	if (!s)
		return NULL;
	for (int i = 0; i < nw; i++) {
		struct fog_worker_spec w = { 0 };
		struct fog_worker_signals sig = {
			.have = FOG_SIG_CPU_UTIL | FOG_SIG_RUNQ_P99 | FOG_SIG_LOAD,
			.cpu_util = (double)(rnd() % 100) / 100,
			.runq_p99_us = (double)(rnd() % 5000),
			.load = (double)(rnd() % 32),
		};

		snprintf(w.id, sizeof(w.id), "w%d", i);
		w.cpu_cores = (double)(8 << (rnd() % 4));
		w.memory_mb = (__u64)w.cpu_cores * 4096;
		w.gpu_count = rnd() % 2 ? (__u32)(rnd() % 8) : 0;
		w.cost_per_hour = (double)(rnd() % 1000) / 100;
		if (fog_sched__worker_add(s, &w, err, sizeof(err)) ||
		    fog_sched__worker_signals(s, w.id, &sig)) {
			fprintf(stderr, "sched_bench: %s\n", err);
			fog_sched__free(s);
			return NULL;
		}
	}
	if (strategy == FOG_STRAT_ML_ADAPTIVE) {
		/* train: place, run and finish tasks so every worker has observations */
		for (int i = 0; i < 20 * nw; i++) {
			struct fog_task_spec t = rand_task(1000000 + i);

			if (fog_sched__submit(s, &t, err, sizeof(err)))
				continue;
			fog_sched__schedule(s, 0);
			if (!fog_sched__task_started(s, t.id))
				fog_sched__task_finished(s, t.id, FOG_TASK_SUCCEEDED, 0, false, 0, 0);
			else
				fog_sched__cancel(s, t.id);
		}
	}
	return s;
}

int main(int argc, char **argv)
{
	int nw = 1000, n = 200000, opt, rate_w = 100;
	__u64 *lat;
	struct fog_task_spec *tasks;

	while ((opt = getopt(argc, argv, "w:n:s:r:")) != -1) {
		switch (opt) {
		case 'w': nw = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 's': rng = strtoull(optarg, NULL, 0); break;
		case 'r': rate_w = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: sched_bench [-w WORKERS] [-r RATE_WORKERS] [-n PICKS] "
					"[-s SEED]\n");
			return 2;
		}
	}
	if (nw < 1 || nw > 100000 || rate_w < 1 || rate_w > 100000 || n < 100) {
		fprintf(stderr, "sched_bench: bad arguments\n");
		return 2;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	tasks = calloc(1024, sizeof(*tasks));
	if (!lat || !tasks)
		return 1;
	for (int i = 0; i < 1024; i++)
		tasks[i] = rand_task(i);
	printf("%-12s %14s %14s %18s\n", "strategy", "p50 ns", "p99 ns", "decisions/s");
	for (int st = 0; st < FOG_STRAT_COUNT; st++) {
		struct fog_sched *s = setup(st, nw), *r = setup(st, rate_w);
		__u64 t0, sink = 0;
		double rate;

		if (!s || !r) {
			fprintf(stderr, "sched_bench: setup failed: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			__u64 a = now_ns();

			sink += (__u64)fog_sched__pick(s, &tasks[i & 1023], NULL);
			lat[i] = now_ns() - a;
		}
		qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
		t0 = now_ns();
		for (int i = 0; i < n * 5; i++)
			sink += (__u64)fog_sched__pick(r, &tasks[i & 1023], NULL);
		rate = (double)n * 5 / ((double)(now_ns() - t0) / 1e9);
		printf("%-12s %14llu %14llu %18.0f   (%d workers; rate at %d)%s\n",
		       fog_sched_strategy_name(st), (unsigned long long)lat[n / 2],
		       (unsigned long long)lat[(size_t)(n * 0.99)], rate, nw, rate_w,
		       sink == 42 ? " " : "");
		fog_sched__free(s);
		fog_sched__free(r);
	}
	free(lat);
	free(tasks);
	return 0;
}
