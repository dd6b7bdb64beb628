/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the resource pools shared by pool.c (get, put, reap), pool_stats.c
 * (figures, leaks, messages) and pool_mgr.c (named pools, reaper thread).
 */
#ifndef FOG_POOL_INT_H
#define FOG_POOL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/types.h>

#include "base/clock.h"
#include "fog/pool.h"

/* One resource's bookkeeping; slots are allocated in chunks and reused, never freed alone. */
struct fog_pool_slot {
	void *res;
	struct fog_pool_slot *prev;		/* idle list */
	struct fog_pool_slot *next;		/* idle list, or the list of unused slots */
	__u64 idle_since;			/* coarse ns, when max_idle_ms is set */
	__u64 acquired_at;			/* coarse ns, when leak detection is on */
	const struct fog_pool_site *site;	/* where the holder acquired it */
	void *caller;				/* return address into the holder */
	int tid;				/* the holder's thread */
	enum fog_pool_res_state state;
	bool leak_reported;			/* this acquisition was reported */
	bool used;				/* the slot holds or held a resource */
};

struct fog_pool_chunk {
	struct fog_pool_chunk *next;
	unsigned int n;
	struct fog_pool_slot slots[];
};

struct fog_pool {
	pthread_mutex_t lock;			/* guards the rest but opts, name, mgr */
	pthread_cond_t cond;			/* a resource or capacity freed up */
	struct fog_pool_slot *idle_head;	/* most recently put: reused first */
	struct fog_pool_slot *idle_tail;	/* least recently put: reaped first */
	struct fog_pool_slot **table;		/* resource pointer -> slot, linear probing */
	unsigned int table_mask;
	unsigned int table_used;
	bool clock_idle;			/* stamp idle_since on put */
	bool clock_hold;			/* stamp acquired_at and the holder on get */
	__u32 live;				/* every state but DESTROYED, and destroying */
	__u32 idle;
	__u32 in_use;
	__u32 validating;
	__u32 creating;
	__u32 waiters;
	__u32 peak_in_use;
	__u32 peak_live;
	__u32 slots_alloc;			/* slots in all chunks */
	__u64 created;
	__u64 destroyed;
	__u64 acquisitions;
	__u64 reuses;
	__u64 timeouts;
	__u64 busy;
	__u64 validation_failures;
	__u64 invalidations;
	__u64 reaped;
	__u64 factory_failures;
	__u64 bad_puts;
	__u64 leaks;
	struct fog_hist wait_ns;
	struct fog_pool_slot *free_slots;	/* unused slots */
	struct fog_pool_chunk *chunks;
	__u64 msg_window;			/* message rate limit: window start */
	unsigned int msg_count;			/* messages in the current window */
	struct fog_pool_opts opts;
	void *factory_ctx;			/* opts.ctx, or the pool for built-in buffers */
	char name[FOG_POOL_NAME_LEN];
	struct fog_pool_mgr *mgr;		/* owner, guarded by the manager's lock */
	struct fog_pool *mgr_next;
};

/* Message through the printer set by fog_pool_set_print; rate-limited per pool if pool. */
void fog_pool_msg(struct fog_pool *pool, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Held resources at now held for at least threshold ns, up to n into out; returns
 * how many there are. With mark, only unreported ones, which count as reported
 * (leaks statistic). Lock held.
 */
unsigned int fog_pool_scan_leaks(struct fog_pool *pool, __u64 now, __u64 threshold, bool mark,
				 struct fog_pool_leak *out, unsigned int n);
/* Sends leaks to the pool's on_leak or the printer. Lock not held. */
void fog_pool_report_leaks(struct fog_pool *pool, const struct fog_pool_leak *leaks,
			   unsigned int n);
/* Manager side of fog_pool__free: unlinks pool from its manager, if any. */
void fog_pool_mgr_detach(struct fog_pool *pool);

#endif /* FOG_POOL_INT_H */
