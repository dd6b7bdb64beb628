// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program with a known memory profile, for the allocation sampler
 * (LD_PRELOAD=libfogalloc.so): prof_leak_grow() leaks LEAK_MB in allocations of
 * 1000..8999 bytes, half at once and half over about a second and a half;
 * prof_churn() allocates and frees CHURN_MB meanwhile (nothing of it stays);
 * prof_big_alloc() makes one 12 MB allocation and frees it.
 * Usage: prof_leak LEAK_MB CHURN_MB. Prints its pid, then "done BYTES" with the
 * exact number of bytes leaked, then waits to be killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *volatile sink;
static unsigned long rng = 88172645463325252UL;

static unsigned long next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Leaks bytes (rounded up to whole allocations); returns the bytes leaked. */
__attribute__((noinline)) unsigned long prof_leak_grow(unsigned long bytes)
{
	unsigned long done = 0;

	while (done < bytes) {
		size_t n = 1000 + next() % 8000;
		char *p = malloc(n);

		if (!p)
			exit(1);
		p[0] = 1;
		sink = p;
		done += n;
	}
	return done;
}

__attribute__((noinline)) void prof_churn(unsigned long bytes)
{
	unsigned long done = 0;

	while (done < bytes) {
		size_t n = 16 + next() % 4000;
		char *p = malloc(n);

		if (!p)
			exit(1);
		p[0] = 1;
		sink = p;
		free(p);
		done += n;
	}
}

__attribute__((noinline)) void prof_big_alloc(void)
{
	char *p = malloc(12 * 1000 * 1000);

	if (!p)
		exit(1);
	memset(p, 1, 4096);
	sink = p;
	free(p);
}

int main(int argc, char **argv)
{
	unsigned long leak = (argc > 1 ? strtoul(argv[1], NULL, 10) : 64) << 20;
	unsigned long churn = (argc > 2 ? strtoul(argv[2], NULL, 10) : 256) << 20;
	struct timespec step = { 0, 50 * 1000000L };
	unsigned long leaked = 0;

	/* one call site: the whole leak is one stack */
	for (int i = 0; i <= 30; i++) {	/* the last 30 steps take about 1.5 s */
		leaked += prof_leak_grow(i ? leak / 2 / 30 : leak / 2);
		if (!i) {
			printf("%d\n", (int)getpid());
			fflush(stdout);
			continue;
		}
		prof_churn(churn / 30);
		nanosleep(&step, NULL);
	}
	prof_big_alloc();
	printf("done %lu\n", leaked);
	fflush(stdout);
	for (;;)
		pause();
}
