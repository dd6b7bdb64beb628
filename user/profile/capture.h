/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPU sample capture: loads bpf/profile.bpf.c, opens one cpu-clock perf event
 * per CPU at the requested frequency and attaches the sampler to each; when
 * asked, reads the in-kernel counts and stacks into a symbolized fog_prof.
 * The only file of the profiler that includes the skeleton.
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

struct fog_prof_capture_opts {
	__u32 target;	/* FOG_PROF_TARGET_* */
	__u32 pid;	/* FOG_PROF_TARGET_PID */
	__u64 cgroup_id;	/* FOG_PROF_TARGET_CGROUP */
	__u32 cgroup_mode;	/* which hierarchy cgroup_id is in (enum fog_cgroup_mode) */
	__u32 frequency;	/* samples per second per CPU; 0 means 99 */
	bool no_kernel;	/* user stacks only */
	bool idle;	/* count the idle task */
};

/* Starts sampling; on failure NULL, errno set and err says why. */
struct fog_prof_capture *fog_prof_capture__new(const struct fog_prof_capture_opts *o, char *err,
					       size_t len);
void fog_prof_capture__free(struct fog_prof_capture *c);
/* Stops sampling (the counts stay readable). */
void fog_prof_capture__stop(struct fog_prof_capture *c);
/* Distinct processes sampled so far, up to max; returns how many. */
size_t fog_prof_capture__pids(struct fog_prof_capture *c, __u32 *pids, size_t max);
/* Sums the per-CPU statistics. */
void fog_prof_capture__stats(struct fog_prof_capture *c, struct fog_prof_stats *st);
/* Reads every counted stack, symbolized through s, into p (a FOG_PROF_CPU profile). */
int fog_prof_capture__build(struct fog_prof_capture *c, struct fog_symbolizer *s,
			    struct fog_prof *p);

#endif /* FOG_PROF_CAPTURE_H */
