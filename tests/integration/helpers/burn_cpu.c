// SPDX-License-Identifier: GPL-2.0-only
/*
 * Burns a given amount of CPU time, prints its own getrusage figure
 * ("<pid> <cpu_ns>"), then sleeps until killed: ground truth for the cpu test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/resource.h>

static unsigned long long used_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

int main(int argc, char **argv)
{
	unsigned long long target = (argc > 1 ? strtoull(argv[1], NULL, 10) : 1000) * 1000000ull;
	volatile unsigned long long x = 0;

	while (used_ns() < target)
		for (int i = 0; i < 100000; i++)
			x += i;
	printf("%d %llu\n", getpid(), used_ns());
	fflush(stdout);
	for (;;)
		pause();
}
