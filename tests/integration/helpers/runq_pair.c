// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two CPU-bound threads pinned to one CPU for a number of seconds, so each
 * waits on the run queue while the other runs; then sleeps until killed.
 * Prints "<pid>" when the busy phase is over.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double seconds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *spin(void *unused __attribute__((unused)))
{
	double end = now() + seconds;
	volatile unsigned long x = 0;

	while (now() < end)
		x++;
	return NULL;
}

int main(int argc, char **argv)
{
	int cpu = argc > 2 ? atoi(argv[2]) : 0;
	pthread_t a, b;
	cpu_set_t set;

	seconds = argc > 1 ? atof(argv[1]) : 3;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("sched_setaffinity");
		return 1;
	}
	/* threads inherit the affinity */
	pthread_create(&a, NULL, spin, NULL);
	pthread_create(&b, NULL, spin, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("%d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}
