// SPDX-License-Identifier: GPL-2.0-only
/*
 * A malloc-heavy workload for the allocation sampler's overhead (run once plain
 * and once with LD_PRELOAD=libfogalloc.so): OPS allocations of 16..1040 bytes,
 * each written (a cache line) and kept in a window of 4096 slots whose previous
 * occupant is freed, as a request-handling program would. Prints the seconds
 * it took and the ns per malloc + free pair.
 * Usage: alloc_bench [OPS] (default 20000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000000UL;
	static char *slot[SLOTS];
	unsigned long x = 88172645463325252UL, sum = 0;
	double t0, t;

	t0 = now();
	for (unsigned long i = 0; i < ops; i++) {
		unsigned int k;
		size_t n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (unsigned int)(x >> 20) & (SLOTS - 1);
		n = 16 + (x & 1023);
		free(slot[k]);
		slot[k] = malloc(n);
		if (!slot[k])
			return 1;
		memset(slot[k], (int)i, n < 64 ? n : 64);
		sum += (unsigned char)slot[k][0];
	}
	t = now() - t0;
	for (unsigned int k = 0; k < SLOTS; k++)
		free(slot[k]);
	printf("%.4f s, %.1f ns per malloc+free (check %lu)\n", t, t / (double)ops * 1e9, sum & 1);
	return 0;
}
