// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every parser of a profiled process's /proc/PID/stat and /proc/PID/status
 * text (the comm in it is the tenant's: any bytes but NUL, ')' and spaces
 * included), on the same input:
 *   - fog_profile_stat_cpu_ticks (run.c: utime + stime of a library profile);
 *   - fog_proc_start_time (symbolize.c: field 22, which tells a reused pid
 *     apart), fed through a wrapped open() that hands it the input as the
 *     file of a pid that cannot exist;
 *   - fog_alloc_status_ns_pid (alloc.c: the last NSpid, naming the sampler's
 *     file).
 * All three go through base/procfs.c (symbolize.c's perf-map loader reads NSpid
 * with it too); not reached here: the preload's start time of its own process
 * (preload/fogalloc.c, which runs inside the tenant).
 * Properties: no crash or read past the text; a parse fails on text without
 * the ") " that ends comm; the NSpid is the pid given when no line names one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "profile/alloc.h"
#include "profile/render.h"
#include "profile/run.h"
#include "profile/session.h"
#include "profile/symbolize.h"

#define PID 4194304	/* above pid_max's limit: no process has it */
#define STAT_PATH "/proc/4194304/stat"

static const uint8_t *cur;
static size_t cur_len;

int __real_open(const char *path, int flags, ...);

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	int mode;

	if (cur && !strcmp(path, STAT_PATH))
		return fuzz_memfd(cur, cur_len);
	va_start(ap, flags);
	mode = va_arg(ap, int);
	va_end(ap);
	return __real_open(path, flags, mode);
}

/* run.c's CPU sessions and rendering are not reached from its parsers: not linked */
struct fog_prof_session *fog_prof_session__new(const struct fog_prof_capture_opts *o,
					       const char *target, struct fog_elfcache *cache,
					       char *err, size_t len)
{
	abort();
}

void fog_prof_session__free(struct fog_prof_session *s)
{
}

int fog_prof_session__finish(struct fog_prof_session *s)
{
	abort();
}

struct fog_prof *fog_prof_session__take(struct fog_prof_session *s)
{
	abort();
}

int fog_prof_render(const struct fog_prof *p, const char *format, struct fog_prof_output *out)
{
	abort();
}

const char *fog_prof_format_of_path(const char *path)
{
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	const char *close = strrchr(text, ')');
	bool has_fields = close && close[1] == ' ';
	__u64 ticks = 0, start;
	FILE *f;

	/* an exact-size copy: ASan sees a read past its NUL */
	if (fog_profile_stat_cpu_ticks(text, &ticks))
		FUZZ_CHECK(has_fields);
	cur = data;
	cur_len = size;
	start = fog_proc_start_time(PID);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: cpu ticks %llu, start time %llu\n", (unsigned long long)ticks,
			(unsigned long long)start);
	cur = NULL;
	f = fmemopen(text, size ? size : 1, "r");
	FUZZ_CHECK(f);
	if (!memmem(data, size, "NSpid:", 6))
		FUZZ_CHECK(fog_alloc_status_ns_pid(f, 77) == 77);
	else
		(void)fog_alloc_status_ns_pid(f, 77);
	fclose(f);
	free(text);
	return 0;
}
