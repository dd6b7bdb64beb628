// SPDX-License-Identifier: GPL-2.0-only
/*
 * A CPU-bound program with a known profile: prof_hot_leaf gets about 80% of
 * the CPU time (called through prof_hot_caller), prof_cold_leaf about 20%.
 * Usage: prof_hot SECONDS[c]. Prints its pid, then burns CPU for SECONDS of
 * wall time, or with "c" until it has used SECONDS of CPU time (on a loaded
 * host, that takes longer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec ts;

	clock_gettime(clock_id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void prof_hot_leaf(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

__attribute__((noinline)) void prof_hot_caller(unsigned long n)
{
	prof_hot_leaf(n);
	sink++;
}

__attribute__((noinline)) void prof_cold_leaf(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 2862933555777941757UL + 3037000493UL;
	sink = x;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, end;

	if (argc > 1 && strchr(argv[1], 'c'))
		clock_id = CLOCK_PROCESS_CPUTIME_ID;
	printf("%d\n", (int)getpid());
	fflush(stdout);
	end = now() + secs;
	while (now() < end) {
		prof_hot_caller(400000);
		prof_cold_leaf(100000);
	}
	return 0;
}
