/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bottleneck rules over a profile: a function over a CPU-time budget, a stack
 * allocating over a size, a process reading or writing disk or sending over
 * the network faster than a rate, run-queue latency, memory pressure and leak
 * candidates (live allocations of one stack that grew over the profile). Each
 * finding names its evidence (function, stack, figure) and an action.
 */
#ifndef FOG_PROF_BOTTLENECK_H
#define FOG_PROF_BOTTLENECK_H

#include <jansson.h>

#include "profile/prof.h"

enum fog_severity {
	FOG_SEV_INFO,
	FOG_SEV_WARNING,
	FOG_SEV_CRITICAL,
};

struct fog_bottleneck_cfg {
	double func_seconds;	/* cumulative CPU of one function; default 1 s */
	double alloc_bytes;	/* bytes allocated by one stack; default 10 MB */
	double disk_bytes_per_s;	/* default 100 MB/s */
	double runq_p99_ns;	/* default 10 ms */
	double mem_psi_some;	/* % of time stalled (avg10); default 10 */
	double leak_growth_bytes;	/* live bytes one stack gained over a profile; 1 MB */
};

struct fog_finding {
	enum fog_severity severity;
	const char *rule;
	char evidence[512];	/* what was seen: function, stack, figure */
	char action[256];	/* what to do about it */
	double figure;
	double threshold;
};

void fog_bottleneck_defaults(struct fog_bottleneck_cfg *cfg);
/* Applies the rules; returns the number of findings (up to max) written to out. */
size_t fog_bottleneck_find(const struct fog_prof *p, const struct fog_bottleneck_cfg *cfg,
			   struct fog_finding *out, size_t max);
const char *fog_severity_name(enum fog_severity s);
json_t *fog_bottleneck_json(const struct fog_finding *f, size_t n);

#endif /* FOG_PROF_BOTTLENECK_H */
