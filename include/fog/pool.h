/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libfog resource pools: named pools of reusable resources (connections, workers,
 * buffers, anything a factory can make), a manager that owns named pools and reaps
 * them, per-pool and total statistics, and leak reports naming the call site that
 * acquired a resource held too long.
 *
 * A pool hands out the caller's own resource pointers. Each pool keeps a LIFO list
 * of idle resources (the most recently used, cache-warm one is reused first; the
 * least recently used ones age at the tail and are reaped) behind one mutex, so an
 * uncontended get + put is a few tens of ns and performs no malloc. Factory,
 * validator and destructor run outside the pool lock; a pool never holds more than
 * max_size live resources, counting ones being created or destroyed.
 *
 * Clock: idle ages and hold times use CLOCK_MONOTONIC_COARSE (a few ns to read,
 * one scheduler tick of resolution); fog_pool_now_ns() returns it. Wait times use
 * CLOCK_MONOTONIC (about 20 ns to read), read only when a get finds no idle
 * resource, so a get served at once counts as 0 ns in the wait histogram (with
 * opts.time_all_gets every get is timed).
 *
 * Thread safety: every function may be called from any thread, except that a pool
 * or manager must not be freed while another thread still uses it. Factory,
 * validator, destructor and on_leak run without the pool's lock (they may read its
 * state or stats) but must not call the manager: its reaper holds the manager's lock.
 */
#ifndef FOG_POOL_H
#define FOG_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "fog/abi/common.h"

#define FOG_POOL_NAME_LEN	32		/* bytes, including the terminating NUL */
#define FOG_POOL_SIZE_LIMIT	(1 << 20)	/* largest accepted max_size */
#define FOG_POOL_WAIT_FOREVER	(-1)		/* timeout_ms that never expires */

struct fog_pool;
struct fog_pool_mgr;

/* What a pool holds: a label for reports and metrics, except BUFFER (see buffer_size). */
enum fog_pool_type {
	FOG_POOL_GENERIC,
	FOG_POOL_CONNECTION,
	FOG_POOL_WORKER,
	FOG_POOL_BUFFER,
	FOG_POOL_TYPE_COUNT,
};

/* Lifecycle of one resource. */
enum fog_pool_res_state {
	FOG_RES_CREATED,	/* the factory is making it */
	FOG_RES_IDLE,		/* in the pool, ready to be handed out */
	FOG_RES_IN_USE,		/* held by a caller */
	FOG_RES_VALIDATING,	/* taken from the idle list, the validator is checking it */
	FOG_RES_DESTROYED,	/* given to the destructor; its pointer is no longer the pool's */
};

/* Makes one resource into *res; returns 0 or a negative errno. */
typedef int (*fog_pool_factory_fn)(void *ctx, void **res);
/* Releases what the factory made. */
typedef void (*fog_pool_destroy_fn)(void *ctx, void *res);
/* Whether an idle resource is still usable; a rejected one is destroyed. */
typedef bool (*fog_pool_validate_fn)(void *ctx, void *res);

/* Where a resource was acquired: filled in by the fog_pool__get() macros. */
struct fog_pool_site {
	const char *file;
	int line;
	const char *func;
};

/* One resource held longer than the pool's leak threshold. */
struct fog_pool_leak {
	const char *pool;			/* the pool's name */
	void *res;
	__u64 held_ns;
	const struct fog_pool_site *site;	/* NULL when acquired without the macros */
	void *caller;				/* return address into the acquiring code */
	int tid;				/* thread that acquired it */
};

/* Called once per leaked acquisition, from fog_pool__reap() (or the reaper thread). */
typedef void (*fog_pool_leak_fn)(void *ctx, const struct fog_pool_leak *leak);

struct fog_pool_opts {
	enum fog_pool_type type;
	int min_size;			/* created by fog_pool__new, kept by the reaper */
	int max_size;			/* live resources at most, 1..FOG_POOL_SIZE_LIMIT */
	int max_idle_ms;		/* idle longer than this above min_size: reaped; 0 never */
	int leak_threshold_ms;		/* held longer than this: reported as a leak; 0 off */
	bool time_all_gets;		/* time every get, not only those that had to wait */
	fog_pool_factory_fn factory;	/* NULL only for FOG_POOL_BUFFER with buffer_size */
	fog_pool_destroy_fn destroy;	/* NULL: nothing to release */
	fog_pool_validate_fn validate;	/* NULL: resources are always valid */
	size_t buffer_size;		/* BUFFER without factory: 64-byte aligned buffers */
	void *ctx;			/* passed to the callbacks */
	fog_pool_leak_fn on_leak;	/* NULL: leaks go to the message printer */
	void *leak_ctx;
};

/* Plain figures for one pool or for all pools of a manager. */
struct fog_pool_stats {
	char name[FOG_POOL_NAME_LEN];	/* "all" for a manager's total */
	enum fog_pool_type type;	/* FOG_POOL_GENERIC for a total */
	__u32 pools;			/* 1, or how many pools a total covers */
	__u32 min_size;
	__u32 max_size;
	__u32 live;			/* resources that exist: created and not destroyed */
	__u32 idle;
	__u32 in_use;
	__u32 validating;
	__u32 creating;			/* factory calls in progress */
	__u32 waiters;			/* threads blocked in a get */
	__u32 peak_in_use;		/* for a total: the sum of the pools' peaks */
	__u32 peak_live;		/* likewise */
	__u64 created;			/* successful factory calls */
	__u64 destroyed;		/* destructor calls */
	__u64 acquisitions;		/* successful gets */
	__u64 reuses;			/* gets served by an existing resource */
	__u64 timeouts;			/* gets that gave up after their timeout */
	__u64 busy;			/* try-gets that found the pool exhausted */
	__u64 validation_failures;
	__u64 invalidations;
	__u64 reaped;			/* idle resources reclaimed after max_idle_ms */
	__u64 factory_failures;
	__u64 bad_puts;			/* double or foreign puts and invalidates */
	__u64 leaks;			/* leak reports made */
	__u64 mem_bytes;		/* the pool's own bookkeeping, not the resources */
	double reuse_pct;		/* 100 * reuses / acquisitions; 0 before any get */
	struct fog_hist wait_ns;	/* successful gets: time spent creating or waiting */
};

/*
 * Receives the library's messages (bad input, leaks), at most 10 a minute per pool;
 * err is the negative errno the call returned, or 0. Called with the pool's lock
 * held: it must not call into the pool. Default: fog_warnx.
 */
typedef void (*fog_pool_print_fn)(void *ctx, int err, const char *msg);
/* Sets the message printer for all pools; fn NULL silences them. */
void fog_pool_set_print(fog_pool_print_fn fn, void *ctx);

const char *fog_pool_type_name(enum fog_pool_type type);
const char *fog_pool_res_state_name(enum fog_pool_res_state state);
/* The pools' clock (CLOCK_MONOTONIC_COARSE) in ns: the time base of reap and leaks. */
__u64 fog_pool_now_ns(void);

/*
 * A pool named name (1..FOG_POOL_NAME_LEN-1 bytes) with opts->min_size resources
 * created up front. Returns NULL and sets errno: EINVAL for bad options (with a
 * message saying which), the factory's error if a pre-creation fails (whatever it
 * created is destroyed), ENOMEM.
 */
struct fog_pool *fog_pool__new(const char *name, const struct fog_pool_opts *opts);
/*
 * Destroys the idle resources and frees the pool; detaches it from its manager.
 * Resources still held are reported as leaks and left to their holders (their
 * destructor is not called); putting them back afterwards is a use after free.
 */
void fog_pool__free(struct fog_pool *pool);
const char *fog_pool__name(const struct fog_pool *pool);

/*
 * Takes a resource, creating one if none is idle and the pool is below max_size,
 * otherwise waiting up to timeout_ms (FOG_POOL_WAIT_FOREVER: no limit) for a put.
 * Returns NULL and sets errno: ETIMEDOUT, EAGAIN (timeout_ms 0 and exhausted),
 * EINVAL, or the factory's error.
 */
void *fog_pool__get_at(struct fog_pool *pool, int timeout_ms, const struct fog_pool_site *site);
void *fog_pool__get(struct fog_pool *pool, int timeout_ms);
/* fog_pool__get(pool, 0): never waits. */
void *fog_pool__try_get(struct fog_pool *pool);
/*
 * Gives a held resource back. Returns 0, -EALREADY if it is not held (double put),
 * -ENOENT if it is not this pool's (foreign, or already destroyed), -EINVAL for NULL.
 */
int fog_pool__put(struct fog_pool *pool, void *res);
/* Destroys a held resource that turned out broken instead of giving it back; errors as put. */
int fog_pool__invalidate(struct fog_pool *pool, void *res);

/*
 * Maintenance pass at now_ns (fog_pool_now_ns() time base; 0 reads it): destroys
 * idle resources unused for max_idle_ms, least recently used first, never going
 * below min_size; re-creates resources up to min_size; reports new leaks. Returns
 * how many resources it reclaimed, or a negative errno.
 */
int fog_pool__reap(struct fog_pool *pool, __u64 now_ns);

/* The state of one of the pool's resources, or -ENOENT / -EINVAL. */
int fog_pool__res_state(struct fog_pool *pool, const void *res);
int fog_pool__stats(struct fog_pool *pool, struct fog_pool_stats *out);
/*
 * Resources held longer than the leak threshold at now_ns (0: now): fills up to
 * n entries of out (out may be NULL when n is 0) and returns how many there are,
 * or a negative errno (-EINVAL, or -ENODATA when leak detection is off). Entry
 * pointers stay valid while the pool exists.
 */
int fog_pool__leaks(struct fog_pool *pool, __u64 now_ns, struct fog_pool_leak *out, size_t n);
/* Writes one line per leaked resource to out; returns how many, or a negative errno. */
int fog_pool__leak_report(struct fog_pool *pool, __u64 now_ns, FILE *out);

/*
 * Scoped use: the resource goes back when the guard leaves scope, on every path.
 *
 *	FOG_POOL_SCOPED(conn, pool, 100);
 *	if (!conn.res)
 *		return -errno;
 *	if (send_query(conn.res) < 0)
 *		return -EIO;	(conn.res is put back here)
 *
 * fog_pool_guard__invalidate() destroys it early instead; fog_pool_guard__keep()
 * takes it out of the guard (the caller then owes a put).
 */
struct fog_pool_guard {
	struct fog_pool *pool;
	void *res;
};

void fog_pool_guard__release(struct fog_pool_guard *guard);
int fog_pool_guard__invalidate(struct fog_pool_guard *guard);
void *fog_pool_guard__keep(struct fog_pool_guard *guard);

/* The call site, in static storage: no cost at run time. */
#define FOG_POOL_SITE()                                                                            \
	({                                                                                         \
		static const struct fog_pool_site __fog_pool_site = { __FILE__, __LINE__,          \
								       __func__ };         \
		&__fog_pool_site;                                                                  \
	})

#define fog_pool__get(pool, timeout_ms) fog_pool__get_at((pool), (timeout_ms), FOG_POOL_SITE())
#define fog_pool__try_get(pool)		fog_pool__get_at((pool), 0, FOG_POOL_SITE())

#define FOG_POOL_SCOPED(name, pool, timeout_ms)                                                    \
	struct fog_pool_guard name __attribute__((cleanup(fog_pool_guard__release))) = {          \
		(pool), fog_pool__get_at((pool), (timeout_ms), FOG_POOL_SITE())                    \
	}

/* Manager: named pools, totals, and an optional reaper thread. */
struct fog_pool_mgr_opts {
	int reap_interval_ms;	/* > 0: a thread reaps every pool this often; 0: call __reap */
};

/* Returns NULL and sets errno (EINVAL, ENOMEM, or pthread_create's error). */
struct fog_pool_mgr *fog_pool_mgr__new(const struct fog_pool_mgr_opts *opts);
/* Stops the reaper thread, then frees every pool it owns (see fog_pool__free). */
void fog_pool_mgr__free(struct fog_pool_mgr *mgr);
/* Takes ownership of pool; -EEXIST if a pool of that name is there, -EBUSY if owned. */
int fog_pool_mgr__add(struct fog_pool_mgr *mgr, struct fog_pool *pool);
/* fog_pool__new + fog_pool_mgr__add; NULL and errno on failure. */
struct fog_pool *fog_pool_mgr__create(struct fog_pool_mgr *mgr, const char *name,
				      const struct fog_pool_opts *opts);
/* Borrowed pointer, or NULL when there is no pool of that name. */
struct fog_pool *fog_pool_mgr__find(struct fog_pool_mgr *mgr, const char *name);
/* Detaches and frees the named pool; -ENOENT if there is none. */
int fog_pool_mgr__destroy(struct fog_pool_mgr *mgr, const char *name);
/* fog_pool__reap on every pool; returns the total reclaimed. */
int fog_pool_mgr__reap(struct fog_pool_mgr *mgr, __u64 now_ns);
/*
 * Per-pool figures into up to n entries of per_pool (in the order pools were added)
 * and their total into *total (either may be NULL); returns the number of pools.
 */
int fog_pool_mgr__stats(struct fog_pool_mgr *mgr, struct fog_pool_stats *per_pool, size_t n,
			struct fog_pool_stats *total);
/* fog_pool__leak_report for every pool; returns the total. */
int fog_pool_mgr__leak_report(struct fog_pool_mgr *mgr, __u64 now_ns, FILE *out);

#endif /* FOG_POOL_H */
