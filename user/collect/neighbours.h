/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Noisy-neighbour attribution, user side: the {victim cgroup, culprit cgroup}
 * pairs bpf/sched.bpf.c charges run-queue waits to, read once per tick with
 * the schedlat collector's maps, and the per-process culprits the task
 * iterator brings. For collect/ and the API route alone.
 */
#ifndef FOG_COLLECT_NEIGHBOURS_H
#define FOG_COLLECT_NEIGHBOURS_H

#include <stdbool.h>
#include <linux/types.h>
#include <jansson.h>
#include "fog/abi/sched.h"

struct fog_collect;
struct fog_prom;
struct fog_nbr;

/* A cgroup id fogd has seen removed: its pairs are not revived by pending figures. */
typedef bool (*fog_nbr_dead_fn)(__u64 cgroup_id);

struct fog_nbr *fog_nbr__new(unsigned int max_pairs, int ncpu);
void fog_nbr__free(struct fog_nbr *n);
/*
 * One tick: sums sched_neighbours (map_fd) and the pending pair of each CPU in
 * cpus (the sched_cpu snapshot of this tick, ncpu entries).
 */
void fog_nbr__read(struct fog_nbr *n, int map_fd, const struct fog_cpu_sched *cpus, __u64 tick,
		   fog_nbr_dead_fn dead);
/* A cgroup is gone: its pairs leave the table and the map. */
void fog_nbr__forget(struct fog_nbr *n, int map_fd, __u64 cgroup_id);
/* mode names: "off", "last", "proportional"; FOG_NBR_OFF for anything else */
enum fog_nbr_mode fog_nbr_mode_of(const char *name);
const char *fog_nbr_mode_name(enum fog_nbr_mode m);

/* The process's main culprit: the slot charged most; NULL when none. */
const struct fog_culprit *fog_nbr_main_culprit(const struct fog_culprit *c);

/*
 * GET /api/v1/neighbours: victims filtered by cgroup path (NULL: all) or pid
 * (0: all), at most limit pairs and processes. fog_collect__neighbours_json
 * (user/collect/sched.c) is NULL when schedlat is not running.
 */
json_t *fog_nbr__json(struct fog_nbr *n, struct fog_collect *o, enum fog_nbr_mode mode,
		      const char *cgroup, __u32 pid, unsigned int limit);
json_t *fog_collect__neighbours_json(struct fog_collect *c, const char *cgroup, __u32 pid,
				     unsigned int limit);
/* One pair: the victim cgroup's wait charged to the culprit's over the last interval. */
typedef void (*fog_nbr_pair_fn)(__u64 victim_cgid, __u64 culprit_cgid, __u64 interval_wait_ns,
				void *ctx);
/* Calls fn for every pair of the last tick. */
void fog_nbr__each(const struct fog_nbr *n, fog_nbr_pair_fn fn, void *ctx);
/*
 * fog_nbr__each over schedlat's pairs (user/collect/sched.c, for the placement
 * engine's glue); -ENODEV when schedlat is not running or attribution is off.
 */
int fog_collect__neighbour_pairs(struct fog_collect *c, fog_nbr_pair_fn fn, void *ctx);
/* fog_cgroup_runqueue_wait_caused_seconds_total for the top pairs */
void fog_nbr__metrics(struct fog_nbr *n, struct fog_collect *o, struct fog_prom *w);

#endif /* FOG_COLLECT_NEIGHBOURS_H */
