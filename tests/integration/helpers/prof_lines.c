// SPDX-License-Identifier: GPL-2.0-only
/*
 * A CPU-bound program built with debug information (-g) whose time is spent on
 * known source lines: the loop of lines_hot() (marked HOT_LINE) called from
 * lines_caller() (the call marked CALL_LINE). The test finds the lines by
 * their markers and checks the profile's file:line against them.
 * Usage: prof_lines SECONDS. Prints its pid, then burns CPU for SECONDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void lines_hot(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++) x = x * 6364136223846793005UL + 1; /* HOT_LINE */
	sink = x;
}

__attribute__((noinline)) void lines_caller(unsigned long n)
{
	lines_hot(n); /* CALL_LINE */
	sink++;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5, end;

	printf("%d\n", (int)getpid());
	fflush(stdout);
	end = now() + secs;
	while (now() < end)
		lines_caller(400000);
	return 0;
}
