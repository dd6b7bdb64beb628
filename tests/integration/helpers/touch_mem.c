// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper for the mem collector: maps fresh anonymous memory and writes
 * one byte per page, so each page costs exactly one user page fault (huge
 * pages are refused for the mapping). Prints "touched PAGES" when done.
 *
 *   touch_mem [-s MIB] [-v] [-w]
 *     -s MIB  how much to touch (default 256)
 *     -v      make this process the OOM killer's first choice (oom_score_adj 1000)
 *     -w      after touching, wait until killed instead of exiting; SIGUSR1
 *             then unmaps the memory and prints "freed"
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static volatile sig_atomic_t free_asked;

static void on_usr1(int sig __attribute__((unused)))
{
	free_asked = 1;
}

static int set_oom_victim(void)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "we");

	if (!f)
		return -errno;
	if (fputs("1000\n", f) == EOF) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

int main(int argc, char **argv)
{
	unsigned long mib = 256, pages, page = (unsigned long)sysconf(_SC_PAGESIZE);
	bool victim = false, wait = false;
	volatile char *mem;
	char *end;
	int opt, err;

	while ((opt = getopt(argc, argv, "s:vw")) != -1) {
		switch (opt) {
		case 's':
			errno = 0;
			mib = strtoul(optarg, &end, 10);
			if (errno || *end || !mib || mib > (1ul << 20)) {
				fprintf(stderr, "touch_mem: bad size '%s' (MiB, 1 to 1048576)\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			victim = true;
			break;
		case 'w':
			wait = true;
			break;
		default:
			fprintf(stderr, "usage: touch_mem [-s MIB] [-v] [-w]\n");
			return 2;
		}
	}
	if (victim) {
		err = set_oom_victim();
		if (err) {
			fprintf(stderr, "touch_mem: cannot set oom_score_adj: %s\n",
				strerror(-err));
			return 1;
		}
	}
	pages = (mib << 20) / page;
	mem = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("touch_mem: mmap");
		return 1;
	}
	/* one fault per page: no transparent huge pages of any size */
	if (madvise((void *)mem, pages * page, MADV_NOHUGEPAGE)) {
		perror("touch_mem: madvise");
		return 1;
	}
	for (unsigned long i = 0; i < pages; i++)
		mem[i * page] = 1;
	if (wait)
		signal(SIGUSR1, on_usr1);
	printf("touched %lu\n", pages);
	fflush(stdout);
	while (wait) {
		pause();
		if (free_asked && mem) {
			if (munmap((void *)mem, pages * page)) {
				perror("touch_mem: munmap");
				return 1;
			}
			mem = NULL;
			printf("freed\n");
			fflush(stdout);
		}
	}
	return 0;
}
