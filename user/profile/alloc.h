/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The reading side of the allocation sampler (libfogalloc.so, allocfile.h):
 * a validated copy of one process's shared file, and the memory profiles built
 * from one copy or from two taken at the start and end of a profile: bytes
 * still live by stack (inuse), bytes allocated by stack, leak candidates and
 * the process's live bytes over time.
 */
#ifndef FOG_PROF_ALLOC_H
#define FOG_PROF_ALLOC_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "profile/allocfile.h"
#include "profile/prof.h"
#include "profile/symbolize.h"

struct fog_alloc_snap {
	__u32 pid;	/* as fogd sees it */
	__u64 read_ns;	/* CLOCK_MONOTONIC when copied */
	bool torn;	/* the writer kept changing it: figures may be off by one sample */
	char comm[16];	/* the process's name when read */
	struct fog_alloc_header hdr;
	struct fog_alloc_stack *stacks;	/* FOG_ALLOC_STACKS entries */
	struct fog_alloc_live *live;	/* FOG_ALLOC_LIVE entries */
};

/*
 * Copies and checks the sampler file of pid (found through /proc/PID/root and
 * the process's FOG_ALLOC_DIR). NULL, errno and err on failure: ENOENT when the
 * process does not run with the sampler, EPROTO for a file that is not one,
 * ESTALE for a file left by an earlier process with the same pid.
 */
struct fog_alloc_snap *fog_alloc_snap__read(__u32 pid, char *err, size_t len);
/* Parses a file already in memory (tests, saved copies); len must be the file size. */
struct fog_alloc_snap *fog_alloc_snap__parse(const void *buf, size_t len, __u32 pid, char *err,
					     size_t errlen);
void fog_alloc_snap__free(struct fog_alloc_snap *s);

/*
 * Sampler files refused or repaired, by reason: the file is the profiled
 * process's, so each is counted (fog_profile_sampler_errors_total{reason})
 * and logged once per reason.
 */
enum fog_alloc_err {
	FOG_ALLOC_ERR_NOT_REGULAR,	/* a FIFO, device, socket or symlink */
	FOG_ALLOC_ERR_SIZE,	/* not FOG_ALLOC_FILE_SIZE bytes: truncated, grown, sparse */
	FOG_ALLOC_ERR_FORMAT,	/* bad magic, version, capacities or sampling interval */
	FOG_ALLOC_ERR_COUNTS,	/* counts or indices past their tables, dropped or clamped */
	FOG_ALLOC_ERR_READ,	/* an I/O error */
	FOG_ALLOC_ERR_N,
};
__u64 fog_alloc_err_count(enum fog_alloc_err reason);
const char *fog_alloc_err_name(enum fog_alloc_err reason);
/*
 * The pid a process sees itself as (the last NSpid of its /proc/PID/status,
 * read from f, at most 16 KiB), which names its sampler file; pid when there is
 * none. Parsed by base/procfs.c, as symbolize.c's perf-map loader parses it.
 */
__u32 fog_alloc_status_ns_pid(FILE *f, __u32 pid);

/*
 * Fills p (kind FOG_PROF_INUSE or FOG_PROF_ALLOC) from end, and from what
 * changed since start when start is not NULL: allocated bytes count from
 * start; leak candidates get their growth. Frames resolve through sym.
 */
int fog_alloc_build(const struct fog_alloc_snap *end, const struct fog_alloc_snap *start,
		    struct fog_symbolizer *sym, struct fog_prof *p);

#endif /* FOG_PROF_ALLOC_H */
