// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool manager: named pools in the order they were added, their totals, and
 * an optional reaper thread. Without the thread, fogd's loop drives
 * fog_pool_mgr__reap() from a timer. The manager's lock is held while it reaps,
 * so a pool cannot be freed under the reaper.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "mem/pool_int.h"

struct fog_pool_mgr {
	pthread_mutex_t lock;		/* guards the list, stop, and pools' mgr fields */
	pthread_cond_t cond;		/* wakes the reaper to stop */
	struct fog_pool *head;
	struct fog_pool *tail;
	unsigned int npools;
	int interval_ms;
	bool thread_on;
	bool stop;
	pthread_t thread;
};

static void *reaper_main(void *arg)
{
	struct fog_pool_mgr *mgr = arg;
	double next;

	pthread_mutex_lock(&mgr->lock);
	next = fog_mono_now();
	while (!mgr->stop) {
		next += mgr->interval_ms / 1000.0;
		while (!mgr->stop && fog_cond_wait_until(&mgr->cond, &mgr->lock, next) != ETIMEDOUT)
			;
		if (mgr->stop)
			break;
		for (struct fog_pool *p = mgr->head; p; p = p->mgr_next)
			fog_pool__reap(p, 0);
	}
	pthread_mutex_unlock(&mgr->lock);
	return NULL;
}

struct fog_pool_mgr *fog_pool_mgr__new(const struct fog_pool_mgr_opts *opts)
{
	struct fog_pool_mgr *mgr;
	int err;

	if (opts && opts->reap_interval_ms < 0) {
		fog_pool_msg(NULL, -EINVAL, "pool manager: negative reap_interval_ms %d",
			     opts->reap_interval_ms);
		errno = EINVAL;
		return NULL;
	}
	mgr = calloc(1, sizeof(*mgr));
	if (!mgr)
		return NULL;
	pthread_mutex_init(&mgr->lock, NULL);
	fog_cond_init_mono(&mgr->cond);
	mgr->interval_ms = opts ? opts->reap_interval_ms : 0;
	if (mgr->interval_ms > 0) {
		err = pthread_create(&mgr->thread, NULL, reaper_main, mgr);
		if (err) {
			fog_pool_msg(NULL, -err, "pool manager: cannot start the reaper thread: %s",
				     strerror(err));
			pthread_cond_destroy(&mgr->cond);
			pthread_mutex_destroy(&mgr->lock);
			free(mgr);
			errno = err;
			return NULL;
		}
		mgr->thread_on = true;
	}
	return mgr;
}

/* Unlinks pool from mgr's list. Manager lock held. */
static void unlink_pool(struct fog_pool_mgr *mgr, struct fog_pool *pool)
{
	struct fog_pool **pp = &mgr->head, *prev = NULL;

	while (*pp && *pp != pool) {
		prev = *pp;
		pp = &(*pp)->mgr_next;
	}
	if (!*pp)
		return;
	*pp = pool->mgr_next;
	if (mgr->tail == pool)
		mgr->tail = prev;
	pool->mgr_next = NULL;
	pool->mgr = NULL;
	mgr->npools--;
}

void fog_pool_mgr_detach(struct fog_pool *pool)
{
	struct fog_pool_mgr *mgr = pool->mgr;

	if (!mgr)
		return;
	pthread_mutex_lock(&mgr->lock);
	unlink_pool(mgr, pool);
	pthread_mutex_unlock(&mgr->lock);
}

void fog_pool_mgr__free(struct fog_pool_mgr *mgr)
{
	struct fog_pool *pool;

	if (!mgr)
		return;
	if (mgr->thread_on) {
		pthread_mutex_lock(&mgr->lock);
		mgr->stop = true;
		pthread_cond_signal(&mgr->cond);
		pthread_mutex_unlock(&mgr->lock);
		pthread_join(mgr->thread, NULL);
	}
	while ((pool = mgr->head)) {
		pthread_mutex_lock(&mgr->lock);
		unlink_pool(mgr, pool);
		pthread_mutex_unlock(&mgr->lock);
		fog_pool__free(pool);
	}
	pthread_cond_destroy(&mgr->cond);
	pthread_mutex_destroy(&mgr->lock);
	free(mgr);
}

static struct fog_pool *find_locked(struct fog_pool_mgr *mgr, const char *name)
{
	for (struct fog_pool *p = mgr->head; p; p = p->mgr_next) {
		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
}

int fog_pool_mgr__add(struct fog_pool_mgr *mgr, struct fog_pool *pool)
{
	int err = 0;

	if (!mgr || !pool)
		return -EINVAL;
	pthread_mutex_lock(&mgr->lock);
	if (pool->mgr) {
		err = -EBUSY;
		fog_pool_msg(NULL, err, "pool %s: already owned by a manager", pool->name);
	} else if (find_locked(mgr, pool->name)) {
		err = -EEXIST;
		fog_pool_msg(NULL, err, "pool %s: the manager already has a pool of that name",
			     pool->name);
	} else {
		pool->mgr = mgr;
		pool->mgr_next = NULL;
		if (mgr->tail)
			mgr->tail->mgr_next = pool;
		else
			mgr->head = pool;
		mgr->tail = pool;
		mgr->npools++;
	}
	pthread_mutex_unlock(&mgr->lock);
	return err;
}

struct fog_pool *fog_pool_mgr__create(struct fog_pool_mgr *mgr, const char *name,
				      const struct fog_pool_opts *opts)
{
	struct fog_pool *pool;
	int err;

	if (!mgr) {
		errno = EINVAL;
		return NULL;
	}
	/* checked first so that a duplicate does not run the factory min_size times */
	if (fog_pool_mgr__find(mgr, name)) {
		fog_pool_msg(NULL, -EEXIST, "pool %s: the manager already has a pool of that name",
			     name);
		errno = EEXIST;
		return NULL;
	}
	pool = fog_pool__new(name, opts);
	if (!pool)
		return NULL;
	err = fog_pool_mgr__add(mgr, pool);
	if (err) {
		fog_pool__free(pool);
		errno = -err;
		return NULL;
	}
	return pool;
}

struct fog_pool *fog_pool_mgr__find(struct fog_pool_mgr *mgr, const char *name)
{
	struct fog_pool *pool;

	if (!mgr || !name)
		return NULL;
	pthread_mutex_lock(&mgr->lock);
	pool = find_locked(mgr, name);
	pthread_mutex_unlock(&mgr->lock);
	return pool;
}

int fog_pool_mgr__destroy(struct fog_pool_mgr *mgr, const char *name)
{
	struct fog_pool *pool;

	if (!mgr || !name)
		return -EINVAL;
	pthread_mutex_lock(&mgr->lock);
	pool = find_locked(mgr, name);
	if (pool)
		unlink_pool(mgr, pool);
	pthread_mutex_unlock(&mgr->lock);
	if (!pool)
		return -ENOENT;
	fog_pool__free(pool);
	return 0;
}

int fog_pool_mgr__reap(struct fog_pool_mgr *mgr, __u64 now_ns)
{
	int total = 0, n;

	if (!mgr)
		return -EINVAL;
	pthread_mutex_lock(&mgr->lock);
	for (struct fog_pool *p = mgr->head; p; p = p->mgr_next) {
		n = fog_pool__reap(p, now_ns);
		if (n > 0)
			total += n;
	}
	pthread_mutex_unlock(&mgr->lock);
	return total;
}

static void add_stats(struct fog_pool_stats *t, const struct fog_pool_stats *s)
{
	t->pools += s->pools;
	t->min_size += s->min_size;
	t->max_size += s->max_size;
	t->live += s->live;
	t->idle += s->idle;
	t->in_use += s->in_use;
	t->validating += s->validating;
	t->creating += s->creating;
	t->waiters += s->waiters;
	t->peak_in_use += s->peak_in_use;
	t->peak_live += s->peak_live;
	t->created += s->created;
	t->destroyed += s->destroyed;
	t->acquisitions += s->acquisitions;
	t->reuses += s->reuses;
	t->timeouts += s->timeouts;
	t->busy += s->busy;
	t->validation_failures += s->validation_failures;
	t->invalidations += s->invalidations;
	t->reaped += s->reaped;
	t->factory_failures += s->factory_failures;
	t->bad_puts += s->bad_puts;
	t->leaks += s->leaks;
	t->mem_bytes += s->mem_bytes;
	t->wait_ns.sum_ns += s->wait_ns.sum_ns;
	for (unsigned int i = 0; i < FOG_HIST_SLOTS; i++)
		t->wait_ns.slots[i] += s->wait_ns.slots[i];
}

int fog_pool_mgr__stats(struct fog_pool_mgr *mgr, struct fog_pool_stats *per_pool, size_t n,
			struct fog_pool_stats *total)
{
	struct fog_pool_stats s;
	unsigned int i = 0;

	if (!mgr || (!per_pool && n))
		return -EINVAL;
	if (total) {
		memset(total, 0, sizeof(*total));
		strcpy(total->name, "all");
		total->type = FOG_POOL_GENERIC;
	}
	pthread_mutex_lock(&mgr->lock);
	for (struct fog_pool *p = mgr->head; p; p = p->mgr_next, i++) {
		fog_pool__stats(p, &s);
		if (i < n)
			per_pool[i] = s;
		if (total)
			add_stats(total, &s);
	}
	pthread_mutex_unlock(&mgr->lock);
	if (total && total->acquisitions)
		total->reuse_pct = 100.0 * (double)total->reuses / (double)total->acquisitions;
	return (int)i;
}

int fog_pool_mgr__leak_report(struct fog_pool_mgr *mgr, __u64 now_ns, FILE *out)
{
	int total = 0, n;

	if (!mgr || !out)
		return -EINVAL;
	pthread_mutex_lock(&mgr->lock);
	for (struct fog_pool *p = mgr->head; p; p = p->mgr_next) {
		n = fog_pool__leak_report(p, now_ns, out);
		if (n > 0)
			total += n;
	}
	pthread_mutex_unlock(&mgr->lock);
	return total;
}
