/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stack capture, in one of two modes:
 *  - on-CPU: loads bpf/profile.bpf.c, opens one cpu-clock perf event per CPU
 *    at the requested frequency and attaches the sampler to each;
 *  - off-CPU: loads bpf/offcpu.bpf.c, whose sched_switch program adds the time
 *    each blocked task of the target spends off the CPU to its stack.
 * User stacks are unwound with DWARF CFI (profile/unwind.h) unless fp_only.
 * When asked, reads the in-kernel counts and stacks into a symbolized fog_prof.
 * The only file of the profiler that includes these skeletons.
 */
#ifndef FOG_PROF_CAPTURE_H
#define FOG_PROF_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "fog/abi/profile.h"
#include "profile/prof.h"
#include "profile/symbolize.h"

struct fog_prof_capture;

enum fog_prof_capture_mode {
	FOG_PROF_CAPTURE_CPU,	/* on-CPU samples (a FOG_PROF_CPU profile) */
	FOG_PROF_CAPTURE_OFFCPU,	/* blocked time (a FOG_PROF_OFFCPU profile) */
};

struct fog_prof_capture_opts {
	__u32 target;	/* FOG_PROF_TARGET_* */
	__u32 pid;	/* FOG_PROF_TARGET_PID */
	__u64 cgroup_id;	/* FOG_PROF_TARGET_CGROUP */
	__u32 cgroup_mode;	/* which hierarchy cgroup_id is in (enum fog_cgroup_mode) */
	__u32 frequency;	/* samples per second per CPU; 0 means 99 */
	bool no_kernel;	/* user stacks only */
	bool idle;	/* count the idle task (on-CPU only) */
	__u32 mode;	/* enum fog_prof_capture_mode */
	bool lines;	/* resolve source files and lines (libdw) of user frames */
	bool fp_only;	/* walk user stacks by frame pointers only (no DWARF unwinding) */
	bool no_python;	/* no CPython interpreter frames (CPU and off-CPU; they need unwinding) */
};

/* Starts sampling; on failure NULL, errno set and err says why. */
struct fog_prof_capture *fog_prof_capture__new(const struct fog_prof_capture_opts *o, char *err,
					       size_t len);
void fog_prof_capture__free(struct fog_prof_capture *c);
/* Stops sampling (the counts stay readable). */
void fog_prof_capture__stop(struct fog_prof_capture *c);
/*
 * Stops if running, empties the counts, stacks and statistics and samples
 * again with the programs already loaded: a new window without loading BPF
 * again (tens to hundreds of ms on a busy host). 0 or a negative errno.
 */
int fog_prof_capture__restart(struct fog_prof_capture *c, char *err, size_t len);
/* Distinct processes sampled so far, up to max; returns how many. */
size_t fog_prof_capture__pids(struct fog_prof_capture *c, __u32 *pids, size_t max);
/*
 * Sums the per-CPU statistics. Off-CPU: samples are the blocks counted on
 * wake-up, lost_keys also counts blocks whose start could not be kept.
 */
void fog_prof_capture__stats(struct fog_prof_capture *c, struct fog_prof_stats *st);
/*
 * Reads every counted stack, symbolized through s, into p: samples (a
 * FOG_PROF_CPU profile) or nanoseconds blocked (p becomes FOG_PROF_OFFCPU).
 */
int fog_prof_capture__build(struct fog_prof_capture *c, struct fog_symbolizer *s,
			    struct fog_prof *p);

#endif /* FOG_PROF_CAPTURE_H */
