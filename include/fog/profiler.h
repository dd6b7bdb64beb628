/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libfog profiler API: profile a function, a region of code, or any process
 * for a while, in one or more modes, and render the result in the formats
 * fogd serves (folded stacks, pprof, speedscope, SVG flame graph, HTML report).
 *
 *   struct fog_profile_result *r;
 *   if (!fog_profile_run(work, arg, FOG_PROFILE_CPU, &r)) {
 *           fog_profile_result_save(r, FOG_PROFILE_VIEW_CPU, "work.svg");
 *           fog_profile_result__free(r);
 *   } else {
 *           fprintf(stderr, "%s\n", fog_profile_strerror());
 *   }
 *
 * Modes:
 *  - FOG_PROFILE_CPU: on-CPU stack samples of every thread of the target
 *    process (a perf_event BPF program, bpf/profile.bpf.c). It loads BPF, so it
 *    needs root, or CAP_BPF with CAP_PERFMON (CAP_SYS_ADMIN on older kernels):
 *    without them every call asking for it fails with -EPERM and
 *    fog_profile_strerror() says so. Code built without frame pointers loses
 *    the frames of its callers.
 *  - FOG_PROFILE_MEMORY: sampled allocations, read from the allocation
 *    sampler the target runs with (LD_PRELOAD=libfogalloc.so, one sample per
 *    512 KiB allocated on average): bytes allocated during the profile and live
 *    at its end by stack, leak candidates, live bytes over time. No privileges
 *    beyond reading the target's /proc files. Without the sampler: -ENOENT.
 *  - FOG_PROFILE_IO: the target's storage and read/write byte counts and calls
 *    over the profile, from /proc/PID/io.
 *  - FOG_PROFILE_ALL: all three. With CPU asked for, memory the target cannot
 *    give (no sampler) is left out with a note in the CPU profile instead of
 *    failing the call; CPU without privileges still fails with -EPERM.
 *
 * Every function returns 0 or a negative errno; fog_profile_strerror() holds
 * the message of the calling thread's last failure. Results are independent
 * objects: free each with fog_profile_result__free().
 */
#ifndef FOG_PROFILER_H
#define FOG_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

enum fog_profile_mode {
	FOG_PROFILE_CPU = 1 << 0,
	FOG_PROFILE_MEMORY = 1 << 1,
	FOG_PROFILE_IO = 1 << 2,
	FOG_PROFILE_ALL = FOG_PROFILE_CPU | FOG_PROFILE_MEMORY | FOG_PROFILE_IO,
};

/* What a result can be rendered as. */
enum fog_profile_view {
	FOG_PROFILE_VIEW_CPU,	/* CPU samples by stack */
	FOG_PROFILE_VIEW_ALLOC,	/* bytes allocated during the profile by stack */
	FOG_PROFILE_VIEW_INUSE,	/* bytes of sampled allocations live at the end, leak candidates */
};

struct fog_profile_opts {
	unsigned int frequency;	/* CPU samples per second per CPU; 0: 99 */
	bool no_kernel;	/* CPU: user stacks only */
};

/* Storage and read/write figures over the profile (/proc/PID/io deltas). */
struct fog_profile_io {
	double seconds;
	__u64 read_bytes;	/* fetched from storage */
	__u64 write_bytes;	/* sent to storage */
	__u64 rchar;	/* read by read(2) and the like, cache hits included */
	__u64 wchar;
	__u64 syscr;	/* read system calls */
	__u64 syscw;
};

/* One leak candidate of a memory profile (strings live as long as the result). */
struct fog_profile_leak {
	const char *func;	/* the allocating function */
	const char *stack;	/* "comm;outer;...;leaf" */
	__u64 live_bytes;	/* estimated */
	__s64 growth_bytes;	/* change over the profile */
	bool growing;
};

typedef void (*fog_profile_fn)(void *arg);
struct fog_profile;
struct fog_profile_result;

/* Profiles the calling process (all its threads) while fn(arg) runs in this thread. */
int fog_profile_run(fog_profile_fn fn, void *arg, unsigned int mode,
		    struct fog_profile_result **result);
/* The same with options (o may be NULL). */
int fog_profile_run_opts(fog_profile_fn fn, void *arg, unsigned int mode,
			 const struct fog_profile_opts *o, struct fog_profile_result **result);
/*
 * Starts profiling pid (0: the calling process) in the given modes (o may be
 * NULL). Stop it with fog_profile_stop(), which frees it.
 */
int fog_profile_start(pid_t pid, unsigned int mode, const struct fog_profile_opts *o,
		      struct fog_profile **out);
/* Stops, builds the result (result may be NULL to discard) and frees prof. */
int fog_profile_stop(struct fog_profile *prof, struct fog_profile_result **result);
/* The message of this thread's last failure, "" when none. */
const char *fog_profile_strerror(void);

void fog_profile_result__free(struct fog_profile_result *r);
/* The modes that produced data (a subset of those asked for). */
unsigned int fog_profile_result_modes(const struct fog_profile_result *r);
/* CPU: samples; ALLOC and INUSE: estimated bytes. 0 when the view is absent. */
__u64 fog_profile_result_total(const struct fog_profile_result *r, enum fog_profile_view v);
/*
 * The user function with the most value as the innermost user frame (self, which
 * includes the kernel time its calls caused) in a view, or NULL. Kernel time is in
 * the "json" summary's "kernel" object.
 */
const char *fog_profile_result_top(const struct fog_profile_result *r, enum fog_profile_view v,
				   __u64 *self);
/* -ENOENT when the I/O mode was not asked for. */
int fog_profile_result_io(const struct fog_profile_result *r, struct fog_profile_io *out);
/* Up to max leak candidates, largest live bytes first; returns how many. */
size_t fog_profile_result_leaks(const struct fog_profile_result *r, struct fog_profile_leak *out,
				size_t max);
/*
 * Renders a view: format "folded", "pprof" (gzipped profile.proto),
 * "speedscope", "svg", "html" or "json" (summary). *buf is malloc'd.
 * -ENOENT when the view is absent, -EINVAL for an unknown format.
 */
int fog_profile_result_render(const struct fog_profile_result *r, enum fog_profile_view v,
			      const char *format, void **buf, size_t *len);
/* Writes a view to path in the format its name ends with (.folded .pb.gz .svg .html ...). */
int fog_profile_result_save(const struct fog_profile_result *r, enum fog_profile_view v,
			    const char *path);
/* The profile behind a view for in-tree renderers (user/profile/prof.h), or NULL. */
const struct fog_prof *fog_profile_result_prof(const struct fog_profile_result *r,
					       enum fog_profile_view v);

#endif /* FOG_PROFILER_H */
