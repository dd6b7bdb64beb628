// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resource pools: creation, get, put, invalidate and the reaper pass.
 *
 * The fast path is one mutex round per get and per put: a get pops the head of a
 * doubly linked LIFO idle list, a put finds the resource's slot through an
 * open-addressing table (resource pointer -> slot, which is also how double and
 * foreign puts are caught) and pushes it back. No malloc there; the slow paths
 * (factory, validator, destructor) run with the lock dropped, while the slot they
 * work on is in a transient state (CREATED, VALIDATING, DESTROYED) and counted in
 * live, so max_size holds at every instant.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem/pool_int.h"

/* The pools' time base (fog/pool.h): CLOCK_MONOTONIC_COARSE, one scheduler tick of resolution. */
__u64 fog_pool_now_ns(void)
{
	return fog_clock_ns(CLOCK_MONOTONIC_COARSE);
}

#define NSEC_PER_MSEC	1000000ull
#define NSEC_PER_SEC	1000000000ull
#define LEAKS_PER_PASS	32	/* leaks reported by one reap; the rest in the next */
#define BUFFER_ALIGN	64

static __thread int cached_tid;

static int self_tid(void)
{
	if (!cached_tid)
		cached_tid = gettid();
	return cached_tid;
}

/* Log2 slot of a wait, as fog_hist_slot() in bpf/fog.bpf.h buckets it. */
static unsigned int hist_slot(__u64 v)
{
	unsigned int s = v < 2 ? 0 : 63 - (unsigned int)__builtin_clzll(v);

	return s < FOG_HIST_SLOTS ? s : FOG_HIST_SLOTS - 1;
}

/* Fibonacci hashing of the pointer; the high half is the better mixed one. */
static inline unsigned int table_home(const void *res, unsigned int mask)
{
	return (unsigned int)(((uintptr_t)res * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

static struct fog_pool_slot *table_find(const struct fog_pool *pool, const void *res)
{
	unsigned int mask = pool->table_mask;
	unsigned int i = table_home(res, mask);
	struct fog_pool_slot *s;

	while ((s = pool->table[i])) {
		if (s->res == res)
			return s;
		i = (i + 1) & mask;
	}
	return NULL;
}

static void table_place(struct fog_pool_slot **table, unsigned int mask, struct fog_pool_slot *s)
{
	unsigned int i = table_home(s->res, mask);

	while (table[i])
		i = (i + 1) & mask;
	table[i] = s;
}

/* Keeps the load at or below one half; grows only on the creation path. */
static int table_add(struct fog_pool *pool, struct fog_pool_slot *s)
{
	unsigned int size = pool->table_mask + 1;

	if ((pool->table_used + 1) * 2 > size) {
		unsigned int nsize = size * 2, nmask = nsize - 1;
		struct fog_pool_slot **nt = calloc(nsize, sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		for (unsigned int i = 0; i < size; i++) {
			if (pool->table[i])
				table_place(nt, nmask, pool->table[i]);
		}
		free(pool->table);
		pool->table = nt;
		pool->table_mask = nmask;
	}
	table_place(pool->table, pool->table_mask, s);
	pool->table_used++;
	return 0;
}

/* Backward-shift deletion: no tombstones, so lookups stay short under churn. */
static void table_del(struct fog_pool *pool, struct fog_pool_slot *s)
{
	unsigned int mask = pool->table_mask;
	unsigned int i = table_home(s->res, mask), j;

	while (pool->table[i] != s)
		i = (i + 1) & mask;
	j = i;
	for (;;) {
		struct fog_pool_slot *t;
		unsigned int k;

		j = (j + 1) & mask;
		t = pool->table[j];
		if (!t)
			break;
		k = table_home(t->res, mask);
		/* t may move into the hole at i unless its home lies cyclically in (i, j] */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			pool->table[i] = t;
			i = j;
		}
	}
	pool->table[i] = NULL;
	pool->table_used--;
}

static void idle_push(struct fog_pool *pool, struct fog_pool_slot *s)
{
	s->state = FOG_RES_IDLE;
	s->prev = NULL;
	s->next = pool->idle_head;
	if (pool->idle_head)
		pool->idle_head->prev = s;
	else
		pool->idle_tail = s;
	pool->idle_head = s;
	pool->idle++;
}

static void idle_unlink(struct fog_pool *pool, struct fog_pool_slot *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		pool->idle_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		pool->idle_tail = s->prev;
	s->prev = s->next = NULL;
	pool->idle--;
}

/* An unused slot, allocating a chunk when none is left (never beyond max_size). */
static struct fog_pool_slot *slot_take(struct fog_pool *pool)
{
	struct fog_pool_slot *s = pool->free_slots;
	struct fog_pool_chunk *c;
	unsigned int n;

	if (!s) {
		n = pool->slots_alloc < 8 ? 8 : pool->slots_alloc;
		if (n < (unsigned int)pool->opts.min_size)
			n = pool->opts.min_size;
		if (n > (unsigned int)pool->opts.max_size - pool->slots_alloc)
			n = pool->opts.max_size - pool->slots_alloc;
		c = calloc(1, sizeof(*c) + n * sizeof(c->slots[0]));
		if (!c)
			return NULL;
		c->n = n;
		c->next = pool->chunks;
		pool->chunks = c;
		pool->slots_alloc += n;
		for (unsigned int i = n; i-- > 0;) {
			c->slots[i].state = FOG_RES_DESTROYED;
			c->slots[i].next = pool->free_slots;
			pool->free_slots = &c->slots[i];
		}
		s = pool->free_slots;
	}
	pool->free_slots = s->next;
	s->next = s->prev = NULL;
	return s;
}

/* A slot whose resource is gone (or never came): capacity is free again. */
static void slot_release(struct fog_pool *pool, struct fog_pool_slot *s)
{
	s->state = FOG_RES_DESTROYED;
	s->res = NULL;
	s->site = NULL;
	s->caller = NULL;
	s->prev = NULL;
	s->next = pool->free_slots;
	pool->free_slots = s;
	pool->live--;
	if (pool->waiters)
		pthread_cond_signal(&pool->cond);
}

/* Destroys the resource of a slot already out of every list. Lock held, dropped inside. */
static void slot_destroy(struct fog_pool *pool, struct fog_pool_slot *s)
{
	void *res = s->res;

	table_del(pool, s);
	s->state = FOG_RES_DESTROYED;
	if (pool->opts.destroy) {
		pthread_mutex_unlock(&pool->lock);
		pool->opts.destroy(pool->factory_ctx, res);
		pthread_mutex_lock(&pool->lock);
	}
	pool->destroyed++;
	slot_release(pool, s);
}

/*
 * Makes one resource in a new slot (state CREATED, counted in live), or NULL with
 * *errp set. Lock held on entry and return, dropped around the factory.
 */
static struct fog_pool_slot *slot_create(struct fog_pool *pool, int *errp)
{
	struct fog_pool_slot *s = slot_take(pool);
	void *res = NULL;
	int err;

	if (!s) {
		pool->factory_failures++;
		fog_pool_msg(pool, -ENOMEM, "pool %s: no memory for resource slots", pool->name);
		*errp = -ENOMEM;
		return NULL;
	}
	s->state = FOG_RES_CREATED;
	s->used = true;
	pool->live++;
	pool->creating++;
	if (pool->live > pool->peak_live)
		pool->peak_live = pool->live;
	pthread_mutex_unlock(&pool->lock);
	err = pool->opts.factory(pool->factory_ctx, &res);
	pthread_mutex_lock(&pool->lock);
	pool->creating--;
	if (err > 0)
		err = -err;
	if (!err && !res) {
		err = -EINVAL;
		fog_pool_msg(pool, err, "pool %s: factory succeeded without a resource",
			     pool->name);
	} else if (!err && table_find(pool, res)) {
		/* not destroyed: the pointer belongs to a live resource */
		err = -EEXIST;
		fog_pool_msg(pool, err, "pool %s: factory returned %p, already a resource of the pool",
			     pool->name, res);
	}
	if (err) {
		pool->factory_failures++;
		slot_release(pool, s);
		*errp = err;
		return NULL;
	}
	s->res = res;
	pool->created++;
	if (table_add(pool, s)) {
		fog_pool_msg(pool, -ENOMEM, "pool %s: no memory to index resource %p", pool->name,
			     res);
		s->state = FOG_RES_DESTROYED;
		if (pool->opts.destroy) {
			pthread_mutex_unlock(&pool->lock);
			pool->opts.destroy(pool->factory_ctx, res);
			pthread_mutex_lock(&pool->lock);
		}
		pool->destroyed++;
		slot_release(pool, s);
		*errp = -ENOMEM;
		return NULL;
	}
	return s;
}

/* Creates idle resources up to min_size. Lock held. */
static int pool_fill(struct fog_pool *pool)
{
	struct fog_pool_slot *s;
	int err = 0;

	while (pool->live < (__u32)pool->opts.min_size) {
		s = slot_create(pool, &err);
		if (!s)
			return err;
		if (pool->clock_idle)
			s->idle_since = fog_pool_now_ns();
		idle_push(pool, s);
		if (pool->waiters)
			pthread_cond_signal(&pool->cond);
	}
	return 0;
}

/* Runs the validator on an idle resource just unlinked; destroys it if rejected. Lock held. */
static bool slot_validate(struct fog_pool *pool, struct fog_pool_slot *s)
{
	bool ok;

	s->state = FOG_RES_VALIDATING;
	pool->validating++;
	pthread_mutex_unlock(&pool->lock);
	ok = pool->opts.validate(pool->opts.ctx, s->res);
	pthread_mutex_lock(&pool->lock);
	pool->validating--;
	if (ok)
		return true;
	pool->validation_failures++;
	slot_destroy(pool, s);
	return false;
}

static int buffer_factory(void *ctx, void **res)
{
	const struct fog_pool *pool = ctx;
	size_t sz = (pool->opts.buffer_size + BUFFER_ALIGN - 1) & ~(size_t)(BUFFER_ALIGN - 1);

	*res = aligned_alloc(BUFFER_ALIGN, sz);
	return *res ? 0 : -ENOMEM;
}

static void buffer_destroy(void *ctx, void *res)
{
	free(res);
}

static int check_opts(const char *name, const struct fog_pool_opts *o)
{
	if (!name || !*name) {
		fog_pool_msg(NULL, -EINVAL, "pool name missing");
		return -EINVAL;
	}
	if (strlen(name) >= FOG_POOL_NAME_LEN) {
		fog_pool_msg(NULL, -EINVAL, "pool name %.*s... longer than %d bytes",
			     FOG_POOL_NAME_LEN - 1, name, FOG_POOL_NAME_LEN - 1);
		return -EINVAL;
	}
	if (!o) {
		fog_pool_msg(NULL, -EINVAL, "pool %s: options missing", name);
		return -EINVAL;
	}
	if ((unsigned int)o->type >= FOG_POOL_TYPE_COUNT) {
		fog_pool_msg(NULL, -EINVAL, "pool %s: unknown type %d", name, (int)o->type);
		return -EINVAL;
	}
	if (o->max_size <= 0 || o->max_size > FOG_POOL_SIZE_LIMIT) {
		fog_pool_msg(NULL, -EINVAL, "pool %s: max_size %d outside 1..%d", name, o->max_size,
			     FOG_POOL_SIZE_LIMIT);
		return -EINVAL;
	}
	if (o->min_size < 0) {
		fog_pool_msg(NULL, -EINVAL, "pool %s: min_size %d is negative", name, o->min_size);
		return -EINVAL;
	}
	if (o->min_size > o->max_size) {
		fog_pool_msg(NULL, -EINVAL, "pool %s: min_size %d above max_size %d", name,
			     o->min_size, o->max_size);
		return -EINVAL;
	}
	if (o->max_idle_ms < 0 || o->leak_threshold_ms < 0) {
		fog_pool_msg(NULL, -EINVAL,
			     "pool %s: negative max_idle_ms %d or leak_threshold_ms %d", name,
			     o->max_idle_ms, o->leak_threshold_ms);
		return -EINVAL;
	}
	if (!o->factory && !(o->type == FOG_POOL_BUFFER && o->buffer_size)) {
		fog_pool_msg(NULL, -EINVAL,
			     "pool %s: no factory (or buffer_size for a buffer pool)", name);
		return -EINVAL;
	}
	return 0;
}

struct fog_pool *fog_pool__new(const char *name, const struct fog_pool_opts *opts)
{
	pthread_mutexattr_t ma;
	struct fog_pool *pool;
	unsigned int size = 16;
	int err;

	err = check_opts(name, opts);
	if (err) {
		errno = -err;
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	while (size < 2 * (unsigned int)opts->min_size)
		size *= 2;
	pool->table = calloc(size, sizeof(*pool->table));
	if (!pool->table) {
		free(pool);
		errno = ENOMEM;
		return NULL;
	}
	pool->table_mask = size - 1;
	/* adaptive: a short spin before sleeping suits critical sections of a few ns */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&pool->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	fog_cond_init_mono(&pool->cond);
	pool->opts = *opts;
	if (!opts->factory) {
		pool->opts.factory = buffer_factory;
		pool->opts.destroy = buffer_destroy;
		pool->factory_ctx = pool;
	} else {
		pool->factory_ctx = opts->ctx;
	}
	strcpy(pool->name, name);
	pool->clock_idle = opts->max_idle_ms > 0;
	pool->clock_hold = opts->leak_threshold_ms > 0;

	pthread_mutex_lock(&pool->lock);
	err = pool_fill(pool);
	pthread_mutex_unlock(&pool->lock);
	if (err) {
		fog_pool__free(pool);
		errno = -err;
		return NULL;
	}
	return pool;
}

void fog_pool__free(struct fog_pool *pool)
{
	struct fog_pool_leak held[8];
	struct fog_pool_slot *s;
	struct fog_pool_chunk *c;
	unsigned int n;

	if (!pool)
		return;
	fog_pool_mgr_detach(pool);
	pthread_mutex_lock(&pool->lock);
	if (pool->in_use || pool->validating || pool->creating) {
		fog_pool_msg(pool, -EBUSY, "pool %s: freed with %u resources in use, not destroyed",
			     pool->name, pool->in_use + pool->validating + pool->creating);
		n = fog_pool_scan_leaks(pool, fog_pool_now_ns(), 0, false, held, 8);
		pthread_mutex_unlock(&pool->lock);
		fog_pool_report_leaks(pool, held, n);
		pthread_mutex_lock(&pool->lock);
	}
	while ((s = pool->idle_head)) {
		idle_unlink(pool, s);
		slot_destroy(pool, s);
	}
	pthread_mutex_unlock(&pool->lock);
	while ((c = pool->chunks)) {
		pool->chunks = c->next;
		free(c);
	}
	free(pool->table);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

const char *fog_pool__name(const struct fog_pool *pool)
{
	return pool ? pool->name : NULL;
}

static void *pool_get(struct fog_pool *pool, int timeout_ms, const struct fog_pool_site *site,
		      void *caller)
{
	struct fog_pool_slot *s;
	__u64 t0 = 0, deadline = 0;
	void *res;
	int err;

	if (!pool) {
		errno = EINVAL;
		return NULL;
	}
	if (timeout_ms < FOG_POOL_WAIT_FOREVER) {
		pthread_mutex_lock(&pool->lock);
		fog_pool_msg(pool, -EINVAL, "pool %s: get with timeout %d ms", pool->name,
			     timeout_ms);
		pthread_mutex_unlock(&pool->lock);
		errno = EINVAL;
		return NULL;
	}
	if (pool->opts.time_all_gets)
		t0 = fog_now_ns();
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		s = pool->idle_head;
		if (s) {
			idle_unlink(pool, s);
			if (pool->opts.validate && !slot_validate(pool, s))
				continue;
			pool->reuses++;
			break;
		}
		if (pool->live < (__u32)pool->opts.max_size) {
			if (!t0)
				t0 = fog_now_ns();
			s = slot_create(pool, &err);
			if (!s)
				goto fail;
			break;
		}
		if (timeout_ms == 0) {
			pool->busy++;
			err = -EAGAIN;
			goto fail;
		}
		if (!t0)
			t0 = fog_now_ns();
		if (timeout_ms > 0) {
			if (!deadline) {
				deadline = t0 + (__u64)timeout_ms * NSEC_PER_MSEC;
			} else if (fog_now_ns() >= deadline) {
				pool->timeouts++;
				err = -ETIMEDOUT;
				goto fail;
			}
		}
		pool->waiters++;
		if (timeout_ms < 0) {
			pthread_cond_wait(&pool->cond, &pool->lock);
		} else {
			fog_cond_wait_until(&pool->cond, &pool->lock, (double)deadline / 1e9);
		}
		pool->waiters--;
	}

	s->state = FOG_RES_IN_USE;
	s->site = site;
	s->caller = caller;
	if (pool->clock_hold) {
		s->acquired_at = fog_pool_now_ns();
		s->tid = self_tid();
		s->leak_reported = false;
	}
	if (++pool->in_use > pool->peak_in_use)
		pool->peak_in_use = pool->in_use;
	pool->acquisitions++;
	if (t0) {
		__u64 wait = fog_now_ns() - t0;

		pool->wait_ns.slots[hist_slot(wait)]++;
		pool->wait_ns.sum_ns += wait;
	} else {
		pool->wait_ns.slots[0]++;
	}
	res = s->res;
	pthread_mutex_unlock(&pool->lock);
	return res;

fail:
	pthread_mutex_unlock(&pool->lock);
	errno = -err;
	return NULL;
}

void *fog_pool__get_at(struct fog_pool *pool, int timeout_ms, const struct fog_pool_site *site)
{
	return pool_get(pool, timeout_ms, site, __builtin_return_address(0));
}

/* The functions behind the macros of the same name, for callers without the macros. */
void *(fog_pool__get)(struct fog_pool *pool, int timeout_ms)
{
	return pool_get(pool, timeout_ms, NULL, __builtin_return_address(0));
}

void *(fog_pool__try_get)(struct fog_pool *pool)
{
	return pool_get(pool, 0, NULL, __builtin_return_address(0));
}

/* A put or invalidate of something not held; reports it and unlocks. Lock held. */
static int bad_release(struct fog_pool *pool, const struct fog_pool_slot *s, const void *res,
		       const char *what)
{
	int err;

	pool->bad_puts++;
	if (!s) {
		err = -ENOENT;
		fog_pool_msg(pool, err, "pool %s: %s of %p, which is not a resource of this pool",
			     pool->name, what, res);
	} else if (s->site) {
		err = -EALREADY;
		fog_pool_msg(pool, err, "pool %s: %s of %p, which is %s, not held (last acquired at %s:%d)",
			     pool->name, what, res, fog_pool_res_state_name(s->state),
			     s->site->file, s->site->line);
	} else {
		err = -EALREADY;
		fog_pool_msg(pool, err, "pool %s: %s of %p, which is %s, not held", pool->name,
			     what, res, fog_pool_res_state_name(s->state));
	}
	pthread_mutex_unlock(&pool->lock);
	return err;
}

/*
 * The held slot of res for a put or an invalidate, with the lock held and
 * in_use already dropped; NULL (lock released, *err set) when res is not held.
 */
static struct fog_pool_slot *release_begin(struct fog_pool *pool, void *res, const char *what,
					   int *err)
{
	struct fog_pool_slot *s;

	pthread_mutex_lock(&pool->lock);
	if (!res) {
		pool->bad_puts++;
		fog_pool_msg(pool, -EINVAL, "pool %s: %s of NULL", pool->name, what);
		pthread_mutex_unlock(&pool->lock);
		*err = -EINVAL;
		return NULL;
	}
	s = table_find(pool, res);
	if (!s || s->state != FOG_RES_IN_USE) {
		*err = bad_release(pool, s, res, what);
		return NULL;
	}
	pool->in_use--;
	return s;
}

int fog_pool__put(struct fog_pool *pool, void *res)
{
	struct fog_pool_slot *s;
	int err;

	if (!pool)
		return -EINVAL;
	s = release_begin(pool, res, "put", &err);
	if (!s)
		return err;
	if (pool->clock_idle)
		s->idle_since = fog_pool_now_ns();
	idle_push(pool, s);
	if (pool->waiters)
		pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

int fog_pool__invalidate(struct fog_pool *pool, void *res)
{
	struct fog_pool_slot *s;
	int err;

	if (!pool)
		return -EINVAL;
	s = release_begin(pool, res, "invalidate", &err);
	if (!s)
		return err;
	pool->invalidations++;
	slot_destroy(pool, s);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

int fog_pool__reap(struct fog_pool *pool, __u64 now)
{
	struct fog_pool_leak leaks[LEAKS_PER_PASS];
	struct fog_pool_slot *victims = NULL, *s;
	unsigned int nleaks = 0;
	__u64 max_idle;
	int n = 0, err;

	if (!pool)
		return -EINVAL;
	if (!now)
		now = fog_pool_now_ns();
	max_idle = (__u64)pool->opts.max_idle_ms * NSEC_PER_MSEC;
	pthread_mutex_lock(&pool->lock);
	/* the tail is the least recently put: stop at the first one still fresh */
	while (max_idle && (s = pool->idle_tail) && pool->live - n > (__u32)pool->opts.min_size &&
	       s->idle_since + max_idle <= now) {
		idle_unlink(pool, s);
		s->state = FOG_RES_DESTROYED;
		s->next = victims;
		victims = s;
		n++;
	}
	while ((s = victims)) {
		victims = s->next;
		s->next = NULL;
		pool->reaped++;
		slot_destroy(pool, s);
	}
	if (pool->clock_hold)
		nleaks = fog_pool_scan_leaks(pool, now,
					     (__u64)pool->opts.leak_threshold_ms * NSEC_PER_MSEC,
					     true, leaks, LEAKS_PER_PASS);
	err = pool_fill(pool);
	if (err)
		fog_pool_msg(pool, err, "pool %s: cannot keep min_size %d, %u resources live",
			     pool->name, pool->opts.min_size, pool->live);
	pthread_mutex_unlock(&pool->lock);
	fog_pool_report_leaks(pool, leaks, nleaks);
	return n;
}

int fog_pool__res_state(struct fog_pool *pool, const void *res)
{
	struct fog_pool_slot *s;
	int state;

	if (!pool || !res)
		return -EINVAL;
	pthread_mutex_lock(&pool->lock);
	s = table_find(pool, res);
	state = s ? (int)s->state : -ENOENT;
	pthread_mutex_unlock(&pool->lock);
	return state;
}

void fog_pool_guard__release(struct fog_pool_guard *guard)
{
	if (guard->res)
		fog_pool__put(guard->pool, guard->res);
	guard->res = NULL;
}

int fog_pool_guard__invalidate(struct fog_pool_guard *guard)
{
	int err;

	if (!guard->res)
		return -EINVAL;
	err = fog_pool__invalidate(guard->pool, guard->res);
	guard->res = NULL;
	return err;
}

void *fog_pool_guard__keep(struct fog_pool_guard *guard)
{
	void *res = guard->res;

	guard->res = NULL;
	return res;
}
