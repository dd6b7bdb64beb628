/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collection pipeline's state: for collect/ alone (collectors read the
 * configuration and the shared pieces through c->owner); every other part
 * sees struct fog_collect as opaque and takes what it needs from the ticks
 * it subscribed to and the accessors in collector.h.
 */
#ifndef FOG_COLLECT_INT_H
#define FOG_COLLECT_INT_H

#include "collect/collector.h"

struct fog_collect {
	const struct fog_config *cfg;	/* current configuration, borrowed */
	struct fog_loop *loop;
	struct fog_cgroup_info cgroup;
	struct fog_cgroup_cache *cgroups;
	struct fog_events *events;
	struct fog_agg *agg;
	struct fog_collector collectors[FOG_MAX_COLLECTORS];
	unsigned int n_collectors;
	int ncpu;	/* possible CPUs: the length of per-CPU map values */
	__u64 ticks;
	__u64 last_tick_ns;
	double tick_seconds;	/* length of the last tick interval */
	struct fog_signals host;	/* filled by the collectors at each tick */
	struct {
		const char *name;
		fog_tick_fn fn;
		void *ctx;
	} subs[FOG_MAX_SUBSCRIBERS];
	unsigned int n_subs;
	bool pins;	/* pin maps under cfg->pin_path */
};

#endif /* FOG_COLLECT_INT_H */
