// SPDX-License-Identifier: GPL-2.0-only
/*
 * A CPU-bound workload for the CPU profiler's overhead: a fixed amount of
 * integer work on one thread, timed. With -F HZ it profiles itself through the
 * library API (fog_profile_start on its own pid, FOG_PROFILE_CPU: the same BPF
 * sampler fogd uses) while it works; run plain under `perf record -F 99 -g`
 * for the reference. Prints the seconds the work took and the samples taken.
 * Usage: prof_bench [-F HZ] [-n ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "fog/profiler.h"

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void work(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + (x >> 29) + 1442695040888963407UL;
	sink = x;
}

int main(int argc, char **argv)
{
	struct fog_profile_opts o = { 0 };
	struct fog_profile_result *r = NULL;
	struct fog_profile *p = NULL;
	unsigned long n = 1500000000UL;
	double t0, t;
	int opt, err;

	while ((opt = getopt(argc, argv, "F:n:")) != -1) {
		switch (opt) {
		case 'F':
			o.frequency = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: prof_bench [-F HZ] [-n ITERATIONS]\n");
			return 2;
		}
	}
	if (o.frequency) {
		err = fog_profile_start(0, FOG_PROFILE_CPU, &o, &p);
		if (err) {
			fprintf(stderr, "prof_bench: %s\n", fog_profile_strerror());
			return 1;
		}
	}
	t0 = now();
	work(n);
	t = now() - t0;
	if (p && fog_profile_stop(p, &r)) {
		fprintf(stderr, "prof_bench: %s\n", fog_profile_strerror());
		return 1;
	}
	printf("%.4f %llu\n", t,
	       (unsigned long long)(r ? fog_profile_result_total(r, FOG_PROFILE_VIEW_CPU) : 0));
	fog_profile_result__free(r);
	return 0;
}
