// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ground truth for unwinding without frame pointers (built gcc -O2
 * -fomit-frame-pointer by mk/profile.mk): main calls chain_a, chain_b,
 * chain_c (noinline, none with a frame pointer), and chain_c the work of the
 * mode given:
 *   cpu    a hot leaf of its own (uw_leaf)
 *   libc   a hot loop calling libc's strtod (libc code without frame pointers)
 *   sleep  nanosleep, 1 ms at a time (off-CPU time)
 *   inline a hot loop inlined into chain_c (uw_inlined, always_inline: DWARF inline frames)
 *   alloc  malloc and free of 64 KiB blocks, 4 a millisecond (the uprobe allocation mode)
 * Usage: unwind_chain MODE SECONDS; prints its pid first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static const char *mode;
static volatile unsigned long sink;
static double deadline;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

NOINLINE static unsigned long uw_leaf(unsigned long x)
{
	for (int i = 0; i < 1000000; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

static char numbers[64][32];

NOINLINE static double uw_libc(void)
{
	double s = 0;

	for (int i = 0; i < 20000; i++)
		s += strtod(numbers[i & 63], NULL);
	return s;
}

NOINLINE static void uw_sleep(void)
{
	struct timespec ts = { 0, 1000000 };

	nanosleep(&ts, NULL);
}

NOINLINE static void uw_alloc(void)
{
	struct timespec ts = { 0, 1000000 };

	for (int i = 0; i < 4; i++) {
		char *p = malloc(65536);

		if (!p)
			continue;
		p[i] = (char)i;
		sink += (unsigned long)p[i];
		free(p);
	}
	nanosleep(&ts, NULL);
}

static inline __attribute__((always_inline)) unsigned long uw_inlined(unsigned long x)
{
	for (int i = 0; i < 1000000; i++)
		x = x * 2862933555777941757ul + 3037000493ul; /* INLINE_HOT */
	return x;
}

NOINLINE static void chain_c(void)
{
	if (!strcmp(mode, "inline"))
		sink += uw_inlined(sink); /* INLINE_CALL */
	else if (!strcmp(mode, "cpu"))
		sink += uw_leaf(sink);
	else if (!strcmp(mode, "libc"))
		sink += (unsigned long)uw_libc();
	else if (!strcmp(mode, "sleep"))
		uw_sleep();
	else
		uw_alloc();
	__asm__ volatile("" ::: "memory");	/* no tail call: chain_c stays on the stack */
}

NOINLINE static void chain_b(void)
{
	chain_c();
	__asm__ volatile("" ::: "memory");
}

NOINLINE static void chain_a(void)
{
	while (now() < deadline)
		chain_b();
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: unwind_chain cpu|libc|sleep|alloc SECONDS\n");
		return 2;
	}
	mode = argv[1];
	for (int i = 0; i < 64; i++)
		snprintf(numbers[i], sizeof(numbers[i]), "%d.%de%d", i * 7919, i * 104729, i % 9);
	deadline = now() + atof(argv[2]);
	printf("%d\n", getpid());
	fflush(stdout);
	chain_a();
	return 0;
}
