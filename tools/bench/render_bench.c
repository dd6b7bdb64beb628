// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rendering cost in distinct functions: a CPU profile of N distinct leaf
 * functions (each under main -> dispatch, a kernel frame on every third
 * stack), rendered in every format; prints the median seconds per format over
 * R renders and the output's size. Rendering used to be quadratic in distinct
 * functions (issue 12: 20,000 took 1.34 s per render).
 * Usage: render_bench [-n FUNCTIONS] [-r REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "profile/prof.h"
#include "profile/render.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct fog_prof *make(long n)
{
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	long m = p ? fog_prof__frame(p, "main", "/bin/wide", 0x1000, false, 0) : -1;
	long d = p ? fog_prof__frame(p, "dispatch", "/bin/wide", 0x2000, false, 0) : -1;
	long k = p ? fog_prof__frame(p, "sys_write", "[kernel.kallsyms]", 0xffff0000, true, 0) : -1;
	char name[32];

	if (m < 0 || d < 0 || k < 0)
		return NULL;
	p->period = 10000000;
	p->frequency = 100;
	snprintf(p->target, sizeof(p->target), "bench");
	for (long i = 0; i < n; i++) {
		__u32 s[4];
		__u32 o = 0;
		long f;

		snprintf(name, sizeof(name), "fn_%06ld", i);
		f = fog_prof__frame(p, name, "/bin/wide", 0x10000 + 16 * (__u64)i, false, 0);
		if (f < 0)
			return NULL;
		if (i % 3 == 0)
			s[o++] = (__u32)k;
		s[o++] = (__u32)f;
		s[o++] = (__u32)d;
		s[o++] = (__u32)m;
		if (fog_prof__add_stack(p, 1000 + (__u32)(i % 16), "wide", s, o, 1 + i % 7,
					1 + i % 7))
			return NULL;
	}
	return p;
}

int main(int argc, char **argv)
{
	static const char *const formats[] = { "folded", "pprof", "speedscope", "svg", "html",
					       "json" };
	long n = 50000, reps = 3;
	struct fog_prof *p;
	double *t;
	int c;

	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		char *end;

		if (c == 'n' || c == 'r') {
			long v = strtol(optarg, &end, 10);

			if (*end || v <= 0 || v > 10000000) {
				fprintf(stderr, "render_bench: -%c '%s': give a positive count\n", c,
					optarg);
				return 2;
			}
			*(c == 'n' ? &n : &reps) = v;
			continue;
		}
		fprintf(stderr, "usage: render_bench [-n FUNCTIONS] [-r REPS]\n");
		return 2;
	}
	p = make(n);
	t = calloc((size_t)reps, sizeof(*t));
	if (!p || !t) {
		fprintf(stderr, "render_bench: out of memory\n");
		return 1;
	}
	printf("%ld distinct functions, %zu stacks, %zu frames:", n, p->nstacks, p->nframes);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		size_t len = 0;

		for (long r = 0; r < reps; r++) {
			struct fog_prof_output out;
			double t0 = now();
			int err = fog_prof_render(p, formats[f], &out);

			t[r] = now() - t0;
			if (err) {
				fprintf(stderr, "\nrender_bench: %s: %s\n", formats[f], strerror(-err));
				return 1;
			}
			len = out.len;
			free(out.body);
		}
		qsort(t, (size_t)reps, sizeof(*t), cmp_double);
		printf(" %s %.3f s (%zu kB)%s", formats[f], t[reps / 2], len / 1000,
		       f + 1 < sizeof(formats) / sizeof(formats[0]) ? ";" : "\n");
	}
	free(t);
	fog_prof__free(p);
	return 0;
}
