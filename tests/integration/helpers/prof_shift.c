// SPDX-License-Identifier: GPL-2.0-only
/*
 * A CPU-bound program whose hot function is chosen at start, for differential
 * profiles: "prof_shift a SECONDS" spends 4/5 of its work in shift_fn_a and 1/5
 * in shift_fn_b, "prof_shift b SECONDS" the other way round. Both functions run
 * the same loop per unit of work, reached through main -> shift_run. Prints its
 * pid, then burns CPU for SECONDS of wall time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void shift_fn_a(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

__attribute__((noinline)) void shift_fn_b(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 2862933555777941757UL + 3037000493UL;
	sink = x;
}

__attribute__((noinline)) void shift_run(int mode_b, double secs)
{
	double end = now() + secs;
	unsigned long big = 400000, small = 100000;

	while (now() < end) {
		shift_fn_a(mode_b ? small : big);
		shift_fn_b(mode_b ? big : small);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "a") && strcmp(argv[1], "b"))) {
		fprintf(stderr, "usage: prof_shift a|b SECONDS\n");
		return 2;
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	shift_run(argv[1][0] == 'b', atof(argv[2]));
	return 0;
}
