// SPDX-License-Identifier: GPL-2.0-only
/*
 * The profiler's library API (include/fog/profiler.h) on itself: profiles
 * api_work() with fog_profile_run() in the modes given, where api_hot_leaf()
 * burns about 1.5 s of CPU, api_leak() leaks LEAK bytes (and more when run
 * with libfogalloc.so) and api_write() writes 4 MiB to a file.
 * Usage: prof_api MODES OUTDIR (MODES: cpu, mem, io, all, or cpu+io ...).
 * Writes OUTDIR/<view>.{folded,svg,pb.gz,html} and prints one JSON line with
 * the return code, the message, the top functions, the I/O and the leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fog/profiler.h"

#define LEAK (24UL << 20)

static volatile unsigned long sink;
static void *volatile keep;
static const char *outdir;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void api_hot_leaf(void)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < 1000000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

__attribute__((noinline)) void api_leak(void)
{
	for (unsigned long done = 0; done < LEAK; done += 4000) {
		char *p = malloc(4000);

		if (!p)
			exit(1);
		p[0] = 1;
		keep = p;
	}
}

__attribute__((noinline)) void api_write(void)
{
	char path[512], buf[65536];
	int fd;

	memset(buf, 'x', sizeof(buf));
	snprintf(path, sizeof(path), "%s/written", outdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		exit(1);
	for (int i = 0; i < 64; i++)
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			exit(1);
	close(fd);
}

static void api_work(void *arg __attribute__((unused)))
{
	double end = now() + 1.5;

	api_leak();
	api_write();
	while (now() < end)
		api_hot_leaf();
}

static void save(struct fog_profile_result *r, enum fog_profile_view v, const char *name)
{
	static const char *const ends[] = { "folded", "svg", "pb.gz", "html" };
	char path[512];

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", outdir, name, ends[i]);
		if (fog_profile_result_save(r, v, path))
			fprintf(stderr, "prof_api: %s\n", fog_profile_strerror());
	}
}

int main(int argc, char **argv)
{
	struct fog_profile_result *r = NULL;
	struct fog_profile_leak leaks[4];
	struct fog_profile_io io = { 0 };
	unsigned int mode = 0;
	const char *top;
	__u64 self;
	size_t n;
	int rc;

	if (argc != 3)
		return 2;
	outdir = argv[2];
	if (strstr(argv[1], "cpu"))
		mode |= FOG_PROFILE_CPU;
	if (strstr(argv[1], "mem"))
		mode |= FOG_PROFILE_MEMORY;
	if (strstr(argv[1], "io"))
		mode |= FOG_PROFILE_IO;
	if (!strcmp(argv[1], "all"))
		mode = FOG_PROFILE_ALL;
	rc = fog_profile_run(api_work, NULL, mode, &r);
	printf("{\"rc\": %d, \"error\": \"%s\"", rc, fog_profile_strerror());
	if (rc) {
		printf("}\n");
		return 0;
	}
	printf(", \"modes\": %u", fog_profile_result_modes(r));
	top = fog_profile_result_top(r, FOG_PROFILE_VIEW_CPU, &self);
	printf(", \"cpu_top\": \"%s\", \"cpu_top_self\": %llu, \"cpu_total\": %llu", top ? top : "",
	       (unsigned long long)self,
	       (unsigned long long)fog_profile_result_total(r, FOG_PROFILE_VIEW_CPU));
	if (!fog_profile_result_io(r, &io))
		printf(", \"wchar\": %llu, \"seconds\": %.3f", (unsigned long long)io.wchar,
		       io.seconds);
	n = fog_profile_result_leaks(r, leaks, 4);
	printf(", \"leak_bytes\": %lu, \"leaks\": [", LEAK);
	for (size_t i = 0; i < n; i++)
		printf("%s{\"function\": \"%s\", \"live_bytes\": %llu}", i ? ", " : "", leaks[i].func,
		       (unsigned long long)leaks[i].live_bytes);
	printf("]}\n");
	if (fog_profile_result_modes(r) & FOG_PROFILE_CPU)
		save(r, FOG_PROFILE_VIEW_CPU, "cpu");
	if (fog_profile_result_modes(r) & FOG_PROFILE_MEMORY)
		save(r, FOG_PROFILE_VIEW_INUSE, "inuse");
	fog_profile_result__free(r);
	return 0;
}
