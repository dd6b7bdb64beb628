/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-process aggregates that every collector fills on its tick: one table,
 * sized at start, keyed by tgid. Rates are computed at the end of each tick
 * from the previous tick's totals; processes that are gone are dropped.
 */
#ifndef FOG_AGG_H
#define FOG_AGG_H

#include <stdbool.h>
#include <linux/types.h>
#include <jansson.h>
#include "fog/abi/sched.h"

struct fog_proc {
	__u32 pid;	/* tgid */
	__u32 ppid;
	char comm[FOG_COMM_LEN];
	__u64 cgroup_id;
	__u64 first_ns;	/* when fogd first saw it */

	/* cpu */
	__u64 oncpu_ns;
	__u64 nvcsw;
	__u64 nivcsw;
	double cpu_share;	/* of one CPU over the last tick */
	/* schedlat */
	struct fog_hist runq;	/* since fogd first saw it */
	double runq_p99_ns;	/* over the last tick, -1 if it did not wait */
	struct fog_culprit culprits[FOG_NBR_CULPRITS];	/* who held its CPUs while it waited */
	/* mem */
	__u64 faults;	/* user page faults */
	double faults_per_s;
	__u64 rss_bytes;	/* from /proc/PID/statm at the last tick */
	/* io: the kernel's I/O accounting of the process (ioac) */
	__u64 io_read_ops;	/* read system calls */
	__u64 io_write_ops;	/* write system calls */
	__u64 io_read_bytes;
	__u64 io_write_bytes;
	double io_bytes_per_s;

	/* internal */
	__u64 start_ns;	/* the kernel's start time of the process, 0: not read */
	__u64 acc_tick;	/* the tick acc sums the threads of (user/collect/tasks.c) */
	struct {
		__u64 runtime_ns, nvcsw, nivcsw, faults, read_bytes, write_bytes, syscr, syscw;
	} acc;
	__u64 seen_tick;
	__u64 prev_oncpu_ns;
	__u64 prev_faults;
	__u64 prev_io_bytes;
	__u64 rss_tick;	/* the collect tick rss_bytes was read at, 0: never */
	__u64 rss_faults, rss_oncpu_ns;	/* faults and CPU time then */
	struct fog_hist runq_prev;
	struct fog_culprit culprits_prev[FOG_NBR_CULPRITS];	/* at the tick before */
	bool used;
};

struct fog_agg;

struct fog_agg *fog_agg__new(unsigned int max_procs);
void fog_agg__free(struct fog_agg *a);
/* The entry for pid, created when create is true; NULL when absent or the table is full. */
struct fog_proc *fog_agg__proc(struct fog_agg *a, __u32 pid, bool create);
void fog_agg__remove(struct fog_agg *a, __u32 pid);
unsigned int fog_agg__count(const struct fog_agg *a);
/* Entries that could not be added because the table was full. */
__u64 fog_agg__overflows(const struct fog_agg *a);

/* Brackets one round of collector ticks. */
void fog_agg__tick_begin(struct fog_agg *a, __u64 now_ns);
void fog_agg__tick_end(struct fog_agg *a, __u64 now_ns);

typedef void (*fog_proc_fn)(struct fog_proc *p, void *ctx);
void fog_agg__for_each(struct fog_agg *a, fog_proc_fn fn, void *ctx);

/* sort: "cpu", "runq", "io", "faults", "mem" or "pid"; limit 0 means all. */
json_t *fog_agg__json(struct fog_agg *a, const char *sort, unsigned int limit);
json_t *fog_proc_json(const struct fog_proc *p);

#endif /* FOG_AGG_H */
