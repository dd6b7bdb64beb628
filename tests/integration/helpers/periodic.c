// SPDX-License-Identifier: GPL-2.0-only
/*
 * A periodic short task: every PERIOD_US it wakes and burns SPIN_US of its own
 * CPU time (counted on its thread's CPU clock, so a preempted burst still does
 * the same work), then sleeps to the next period; until killed. Prints its pid
 * once running. The victim (and the sleeper) of the neighbours test.
 * usage: periodic SPIN_US PERIOD_US
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static unsigned long long ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	unsigned long long spin, period, next, end;
	struct timespec ts;

	if (argc != 3) {
		fprintf(stderr, "usage: periodic SPIN_US PERIOD_US\n");
		return 2;
	}
	spin = strtoull(argv[1], NULL, 10) * 1000;
	period = strtoull(argv[2], NULL, 10) * 1000;
	if (!period || spin >= period) {
		fprintf(stderr, "periodic: SPIN_US must be below PERIOD_US, and PERIOD_US above 0\n");
		return 2;
	}
	printf("%d\n", getpid());
	fflush(stdout);
	next = ns_of(CLOCK_MONOTONIC);
	for (;;) {
		end = ns_of(CLOCK_THREAD_CPUTIME_ID) + spin;
		while (ns_of(CLOCK_THREAD_CPUTIME_ID) < end)
			;
		next += period;
		if (next < ns_of(CLOCK_MONOTONIC))
			next = ns_of(CLOCK_MONOTONIC);	/* overran: the next period starts now */
		ts.tv_sec = next / 1000000000ull;
		ts.tv_nsec = next % 1000000000ull;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}
