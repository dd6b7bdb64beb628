// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ground truth for per-process figures that must survive threads exiting:
 * for a given number of rounds, starts a few threads that each burn some CPU
 * and fault in fresh pages, then exit, while the main thread does the same.
 * Prints "done <pid>" and sleeps until killed, so /proc/PID/stat is still.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#define THREADS 4
#define PAGES 64

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* burns about ms of this thread's CPU and faults in PAGES fresh pages */
static void work(double ms)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile unsigned long x = 0;
	double end = cpu_now() + ms / 1e3;
	char *p;

	while (cpu_now() < end)
		for (int i = 0; i < 10000; i++)
			x += i;
	p = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	for (int i = 0; i < PAGES; i++)
		p[i * page] = 1;
	munmap(p, PAGES * page);
}

static void *thread_main(void *arg)
{
	(void)arg;
	work(5);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 100;
	pthread_t t[THREADS];

	for (int r = 0; r < rounds; r++) {
		int n = 0;

		for (int i = 0; i < THREADS; i++)
			if (!pthread_create(&t[n], NULL, thread_main, NULL))
				n++;
		work(1);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
	}
	printf("done %d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}
