// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lazy values. One atomic word holds a READY bit and the number of holders:
 * a get on a ready value is a single compare-and-swap that adds a holder;
 * release succeeds only by swapping "ready, no holders" for "not ready", so
 * a value is never destroyed under a holder. Creation and destruction run
 * under a mutex, which makes creation happen exactly once per generation.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fog/lazy.h"

#define LAZY_READY   (1ull << 63)
#define LAZY_HOLDERS 0xffffffffull

struct fog_lazy {
	uint64_t state;	      /* LAZY_READY | holders */
	void *value;	      /* valid while LAZY_READY */
	pthread_mutex_t lock; /* serializes create and destroy */
	struct fog_lazy_opts opts;
	uint64_t creates; /* under lock */
	uint64_t failures;
	uint64_t releases;
	char name[32];
};

struct fog_lazy *fog_lazy__new(const struct fog_lazy_opts *opts)
{
	struct fog_lazy *l;

	if (!opts || !opts->create || (opts->releasable && !opts->destroy)) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->opts = *opts;
	snprintf(l->name, sizeof(l->name), "%s", opts->name ? opts->name : "lazy");
	l->opts.name = l->name;
	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void fog_lazy__free(struct fog_lazy *l)
{
	if (!l)
		return;
	if ((l->state & LAZY_READY) && l->opts.destroy)
		l->opts.destroy(l->value, l->opts.ctx);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void *fog_lazy__get(struct fog_lazy *l)
{
	uint64_t s = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
	void *v;

	while (s & LAZY_READY) {
		if (__atomic_compare_exchange_n(&l->state, &s, s + 1, true, __ATOMIC_ACQUIRE,
						__ATOMIC_ACQUIRE))
			return l->value;
	}
	pthread_mutex_lock(&l->lock);
	s = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
	if (s & LAZY_READY) {
		/* made by another thread while this one waited; release needs the lock */
		__atomic_fetch_add(&l->state, 1, __ATOMIC_ACQUIRE);
		v = l->value;
	} else {
		errno = 0;
		v = l->opts.create(l->opts.ctx);
		if (v) {
			l->value = v;
			l->creates++;
			__atomic_store_n(&l->state, LAZY_READY | 1, __ATOMIC_RELEASE);
		} else {
			int err = errno ? errno : EIO;

			l->failures++;
			pthread_mutex_unlock(&l->lock);
			errno = err;
			return NULL;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return v;
}

void fog_lazy__put(struct fog_lazy *l)
{
	__atomic_fetch_sub(&l->state, 1, __ATOMIC_RELEASE);
}

int fog_lazy__release(struct fog_lazy *l)
{
	uint64_t s;
	void *v;

	if (!l->opts.releasable)
		return -EPERM;
	pthread_mutex_lock(&l->lock);
	s = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
	if (!(s & LAZY_READY)) {
		pthread_mutex_unlock(&l->lock);
		return -ENOENT;
	}
	/* fails if a holder appears between the load and the swap */
	if ((s & LAZY_HOLDERS) ||
	    !__atomic_compare_exchange_n(&l->state, &s, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&l->lock);
		return -EBUSY;
	}
	v = l->value;
	l->value = NULL;
	l->opts.destroy(v, l->opts.ctx);
	l->releases++;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

size_t fog_lazy__size_hint(const struct fog_lazy *l)
{
	return l->opts.size_hint;
}

const char *fog_lazy__name(const struct fog_lazy *l)
{
	return l->name;
}

void fog_lazy__stats(struct fog_lazy *l, struct fog_lazy_stats *out)
{
	uint64_t s;

	pthread_mutex_lock(&l->lock);
	s = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
	out->creates = l->creates;
	out->failures = l->failures;
	out->releases = l->releases;
	out->holders = (unsigned int)(s & LAZY_HOLDERS);
	out->ready = s & LAZY_READY;
	pthread_mutex_unlock(&l->lock);
}
