// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two CPU-bound threads pinned to one CPU for a number of seconds, so each
 * waits on the run queue while the other runs; then sleeps until killed.
 * Prints "<pid> <ns>" when the busy phase is over: ns is the kernel's own
 * run-queue wait (run_delay, /proc/thread-self/schedstat) of the three
 * threads, each read at the end of its work.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double seconds;
static unsigned long long delay_a, delay_b;

/* The calling thread's run_delay: the second field of its schedstat, in ns. */
static unsigned long long run_delay(void)
{
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	fclose(f);
	return wait;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *spin(void *out)
{
	double end = now() + seconds;
	volatile unsigned long x = 0;

	while (now() < end)
		x++;
	*(unsigned long long *)out = run_delay();
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
	pthread_create(&a, NULL, spin, &delay_a);
	pthread_create(&b, NULL, spin, &delay_b);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("%d %llu\n", getpid(), delay_a + delay_b + run_delay());
	fflush(stdout);
	for (;;)
		pause();
}
