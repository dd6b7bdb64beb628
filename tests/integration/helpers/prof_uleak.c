// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program with a known memory profile for the uprobe memory mode (no
 * preload: fogd probes its libc). It prints its pid and waits for SIGUSR1, so
 * the test can attach first; then, at once:
 *  - prof_uleak_keep() leaks KEEP_MB MiB in 4 KiB malloc blocks (one call site);
 *  - prof_uleak_churn(), on a second thread, allocates CHURN_MB MiB through
 *    malloc, realloc and calloc and frees every block again;
 *  - prof_uleak_big() makes one 12 MB allocation (glibc maps it) and frees it;
 *  - prof_uleak_map() maps 8 MiB anonymous memory and keeps it, and maps and
 *    unmaps 4 MiB.
 * Then it prints "done KEPT CHURNED" (exact bytes) and, with "exit", exits;
 * otherwise it waits to be killed.
 * Usage: prof_uleak wait|exit [KEEP_MB [CHURN_MB]]
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK 4096

static void *volatile sink;
static unsigned long churn_mb = 64;

__attribute__((noinline)) unsigned long prof_uleak_keep(unsigned long bytes)
{
	unsigned long done = 0;

	while (done < bytes) {
		char *p = malloc(BLOCK);

		if (!p)
			exit(1);
		p[0] = 1;
		sink = p;
		done += BLOCK;
	}
	return done;
}

/* Every block it allocates is freed before it returns; returns the bytes allocated. */
__attribute__((noinline)) unsigned long prof_uleak_churn(unsigned long bytes)
{
	unsigned long done = 0, rng = 88172645463325252UL;

	while (done < bytes) {
		size_t n;
		char *p, *q;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		n = 64 + rng % 4000;
		p = malloc(n);
		if (!p)
			exit(1);
		p[0] = 1;
		q = realloc(p, 2 * n);
		if (!q)
			exit(1);
		sink = q;
		free(q);
		p = calloc(1, n);
		if (!p)
			exit(1);
		sink = p;
		free(p);
		done += n + 2 * n + n;
	}
	return done;
}

__attribute__((noinline)) void prof_uleak_big(void)
{
	char *p = malloc(12 * 1000 * 1000);

	if (!p)
		exit(1);
	memset(p, 1, 4096);
	sink = p;
	free(p);
}

__attribute__((noinline)) void prof_uleak_map(void)
{
	const int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *keep = mmap(NULL, 8 << 20, prot, flags, -1, 0);
	char *gone = mmap(NULL, 4 << 20, prot, flags, -1, 0);

	if (keep == MAP_FAILED || gone == MAP_FAILED)
		exit(1);
	keep[0] = gone[0] = 1;
	sink = keep;
	munmap(gone, 4 << 20);
}

static void *churn_thread(void *arg)
{
	*(unsigned long *)arg = prof_uleak_churn(churn_mb << 20);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long keep_mb = argc > 2 ? strtoul(argv[2], NULL, 10) : 64, kept, churned = 0;
	bool stay = argc < 2 || strcmp(argv[1], "exit");
	pthread_t th;
	sigset_t set;
	int sig;

	if (argc > 3)
		churn_mb = strtoul(argv[3], NULL, 10);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("%d\n", (int)getpid());
	fflush(stdout);
	sigwait(&set, &sig);
	if (pthread_create(&th, NULL, churn_thread, &churned))
		return 1;
	kept = prof_uleak_keep(keep_mb << 20);
	prof_uleak_big();
	prof_uleak_map();
	pthread_join(th, NULL);
	printf("done %lu %lu\n", kept, churned);
	fflush(stdout);
	while (stay)
		pause();
	return 0;
}
