/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Lazy values: created on first access, exactly once however many threads
 * ask at the same time, then cached. A releasable value can be destroyed
 * under memory pressure (fog_lazy__release, or by fog_memopt__reclaim) while
 * nobody holds it, and is created again on the next access.
 *
 * Every fog_lazy__get that returns a value takes a reference; give it back
 * with fog_lazy__put, or let FOG_LAZY_REF do it at the end of the scope.
 * The fast path (value ready) is one atomic compare-and-swap, no lock.
 */
#ifndef FOG_LAZY_H
#define FOG_LAZY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Makes the value; returns NULL and sets errno on failure (the next get tries again). */
typedef void *(*fog_lazy_create_fn)(void *ctx);
/* Frees a value create made. */
typedef void (*fog_lazy_destroy_fn)(void *value, void *ctx);

struct fog_lazy_opts {
	fog_lazy_create_fn create;   /* required */
	fog_lazy_destroy_fn destroy; /* required when releasable; called by __free too */
	void *ctx;		     /* passed to both */
	size_t size_hint;	     /* bytes the value holds, reported by reclaim */
	bool releasable;	     /* may be released under memory pressure */
	const char *name;	     /* for reports; copied */
};

struct fog_lazy_stats {
	uint64_t creates;     /* values made */
	uint64_t failures;    /* create calls that failed */
	uint64_t releases;    /* values released before __free */
	unsigned int holders; /* references held now */
	bool ready;	      /* a value is cached */
};

struct fog_lazy;

/* NULL and errno EINVAL without create, or releasable without destroy. */
struct fog_lazy *fog_lazy__new(const struct fog_lazy_opts *opts);
/* Destroys the cached value, if any; nobody may hold it any more. Accepts NULL. */
void fog_lazy__free(struct fog_lazy *l);

/* The value, created if needed, with a reference taken; NULL and errno when create fails. */
void *fog_lazy__get(struct fog_lazy *l);
/* Gives back a reference taken by fog_lazy__get. */
void fog_lazy__put(struct fog_lazy *l);

/*
 * Destroys the cached value if nobody holds it. Returns 0 when released,
 * -EBUSY when it is held, -ENOENT when there is no value, -EPERM when the
 * lazy value is not releasable.
 */
int fog_lazy__release(struct fog_lazy *l);
size_t fog_lazy__size_hint(const struct fog_lazy *l);
const char *fog_lazy__name(const struct fog_lazy *l);
void fog_lazy__stats(struct fog_lazy *l, struct fog_lazy_stats *out);

/* A scoped reference: the value is put back when the variable goes out of scope. */
struct fog_lazy_ref {
	struct fog_lazy *lazy;
	void *value; /* NULL when create failed (errno says why) */
};

static inline struct fog_lazy_ref fog_lazy_ref_get(struct fog_lazy *l)
{
	struct fog_lazy_ref r = {l, fog_lazy__get(l)};

	return r;
}

static inline void fog_lazy_ref_put(struct fog_lazy_ref *r)
{
	if (r->value)
		fog_lazy__put(r->lazy);
	r->value = NULL;
}

#define FOG_LAZY_REF(var, lazy)                                                                    \
	struct fog_lazy_ref var __attribute__((cleanup(fog_lazy_ref_put))) = fog_lazy_ref_get(lazy)

#endif /* FOG_LAZY_H */
