// SPDX-License-Identifier: GPL-2.0-only
/* What the arena holds: statistics, a walk over live allocations, leak reports by call site. */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mem/arena_int.h"

void fog_arena__stats(struct fog_arena *a, struct fog_arena_stats *out)
{
	size_t cached = 0, small_out = 0, small_runs = 0, small_in_use, live_pages, large;
	uint64_t allocs, frees, large_allocs, large_frees;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&a->tc_lock);
	allocs = a->dead_nalloc;
	frees = a->dead_nfree;
	for (struct arena_tcache *tc = a->tcs; tc; tc = tc->next) {
		for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++)
			cached += (size_t)bin_cached(tc, c) * fog_arena_csize[c];
		allocs += tcache_nalloc(tc);
		frees += tcache_nfree(tc);
	}
	out->threads = a->ntcs;
	pthread_mutex_unlock(&a->tc_lock);

	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		struct arena_central *cl = &a->central[c];

		pthread_mutex_lock(&cl->lock);
		small_out += cl->out * fog_arena_csize[c];
		small_runs += cl->nruns * ((size_t)fog_arena_cpages[c] << ARENA_PAGE_SHIFT);
		pthread_mutex_unlock(&cl->lock);
	}

	pthread_mutex_lock(&a->heap_lock);
	out->committed = a->committed;
	out->peak_committed = a->peak_committed;
	out->trimmed = a->trimmed;
	live_pages = a->live_pages;
	large = a->large_bytes;
	large_allocs = a->large_allocs;
	large_frees = a->large_frees;
	pthread_mutex_unlock(&a->heap_lock);

	/* the three snapshots are taken apart: clamp what other threads moved in between */
	if (cached > small_out)
		cached = small_out;
	small_in_use = small_out - cached;
	out->reserved = a->size;
	out->cached = cached;
	out->in_use = small_in_use + large;
	out->tied_free = small_runs > small_in_use ? small_runs - small_in_use : 0;
	live_pages <<= ARENA_PAGE_SHIFT;
	out->free_pages = out->committed > live_pages ? out->committed - live_pages : 0;
	out->peak_in_use = RELAXED_LOAD(&a->peak_held);
	out->allocs = allocs + RELAXED_LOAD(&a->central_nalloc) + large_allocs;
	out->frees = frees + RELAXED_LOAD(&a->central_nfree) + large_frees;
	out->failed_allocs = RELAXED_LOAD(&a->failed_allocs);
	out->bad_frees = RELAXED_LOAD(&a->bad_frees);
	out->corrupt_lists = RELAXED_LOAD(&a->corrupt_lists);
	if (out->committed) {
		out->utilization = 100.0 * (double)out->in_use / (double)out->committed;
		out->fragmentation = 100.0 * (double)out->tied_free / (double)out->committed;
	}
	out->hugepages = a->hugepages;
}

static void live_fill(struct fog_arena *a, void *p, size_t usable, struct fog_arena_live *l)
{
	memset(l, 0, sizeof(*l));
	l->ptr = p;
	l->usable = usable;
	l->size = usable;
	if (a->recs) {
		const struct arena_rec *r =
			&a->recs[((uintptr_t)p - (uintptr_t)a->base) >> ARENA_GRAIN_SHIFT];
		uint64_t size = RELAXED_LOAD(&r->size);
		const void *site = RELAXED_LOAD(&r->site);

		l->size = (size_t)(size & ~REC_SITE_STR);
		if (size & REC_SITE_STR)
			l->site = site;
		else
			l->caller = site;
	}
}

int fog_arena__for_each_live(struct fog_arena *a, fog_arena_live_fn fn, void *ctx)
{
	uint32_t pg = 0;

	for (;;) {
		struct arena_page run;
		struct fog_arena_live l;
		char *start;
		int ret;

		/* one run's layout under the lock; its blocks are read without it */
		pthread_mutex_lock(&a->heap_lock);
		if (pg >= a->top) {
			pthread_mutex_unlock(&a->heap_lock);
			return 0;
		}
		run = a->pages[pg];
		if ((run.kind != PG_SMALL && run.kind != PG_LARGE) || run.head != pg) {
			/* a free page: its other fields are stale */
			run.kind = PG_FREE;
			run.npages = 1;
		}
		pthread_mutex_unlock(&a->heap_lock);

		start = arena_page_addr(a, pg);
		if (run.kind == PG_SMALL) {
			uint32_t size = fog_arena_csize[run.cls];

			for (uint32_t b = 0; b < run.nblocks; b++) {
				char *p = start + (size_t)b * size;
				uint8_t s = RELAXED_LOAD(
					&a->state[((uintptr_t)p - (uintptr_t)a->base) >>
						  ARENA_GRAIN_SHIFT]);

				if (s != run.cls + 1u)
					continue;
				live_fill(a, p, size, &l);
				ret = fn(&l, ctx);
				if (ret)
					return ret;
			}
		} else if (run.kind == PG_LARGE &&
			   RELAXED_LOAD(&a->state[((uintptr_t)start - (uintptr_t)a->base) >>
						  ARENA_GRAIN_SHIFT]) == ST_LARGE) {
			live_fill(a, start, (size_t)run.npages << ARENA_PAGE_SHIFT, &l);
			ret = fn(&l, ctx);
			if (ret)
				return ret;
		}
		pg += run.npages ? run.npages : 1;
	}
}

/* ---- leak report ---- */

struct site_sum {
	const void *key; /* site string or caller address; NULL: unknown */
	bool is_str;
	uint64_t count;
	uint64_t bytes;
};

struct site_table {
	struct site_sum *v;
	size_t cap; /* power of two */
	size_t n;
	uint64_t total;
	uint64_t total_bytes;
	int err;
};

static size_t site_hash(const void *key, bool is_str)
{
	uint64_t h = (uintptr_t)key * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 17) ^ is_str;
}

static int site_grow(struct site_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct site_sum *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct site_sum *s = &t->v[i];
		size_t j;

		if (!s->count)
			continue;
		for (j = site_hash(s->key, s->is_str) & (cap - 1); v[j].count;
		     j = (j + 1) & (cap - 1))
			;
		v[j] = *s;
	}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

static int site_add(const struct fog_arena_live *l, void *ctx)
{
	struct site_table *t = ctx;
	const void *key = l->site ? (const void *)l->site : l->caller;
	bool is_str = l->site != NULL;
	size_t j;

	if (2 * (t->n + 1) > t->cap && (t->err = site_grow(t)))
		return t->err;
	for (j = site_hash(key, is_str) & (t->cap - 1); t->v[j].count; j = (j + 1) & (t->cap - 1))
		if (t->v[j].key == key && t->v[j].is_str == is_str)
			break;
	if (!t->v[j].count) {
		t->v[j].key = key;
		t->v[j].is_str = is_str;
		t->n++;
	}
	t->v[j].count++;
	t->v[j].bytes += l->size;
	t->total++;
	t->total_bytes += l->size;
	return 0;
}

static int by_bytes_desc(const void *x, const void *y)
{
	const struct site_sum *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	return a->count < b->count ? 1 : a->count > b->count ? -1 : 0;
}

static void site_print(FILE *out, const struct site_sum *s)
{
	Dl_info info;

	if (s->is_str) {
		fprintf(out, "%s", (const char *)s->key);
	} else if (!s->key) {
		fprintf(out, "unknown site (tracking off)");
	} else if (dladdr(s->key, &info) && info.dli_sname) {
		fprintf(out, "%s+0x%tx (%s)", info.dli_sname,
			(const char *)s->key - (const char *)info.dli_saddr,
			info.dli_fname ? info.dli_fname : "?");
	} else if (info.dli_fname && info.dli_fbase) {
		fprintf(out, "%s+0x%tx", info.dli_fname,
			(const char *)s->key - (const char *)info.dli_fbase);
	} else {
		fprintf(out, "%p", s->key);
	}
}

long fog_arena__leak_report(struct fog_arena *a, FILE *out, unsigned int max_sites)
{
	struct site_table t = {0};
	size_t used = 0;
	int err;

	err = fog_arena__for_each_live(a, site_add, &t);
	if (err) {
		free(t.v);
		return err;
	}
	for (size_t i = 0; i < t.cap; i++)
		if (t.v[i].count)
			t.v[used++] = t.v[i];
	if (used)
		qsort(t.v, used, sizeof(*t.v), by_bytes_desc);
	fprintf(out, "arena %s: %" PRIu64 " live allocations, %" PRIu64 " bytes, %zu sites%s\n",
		a->name, t.total, t.total_bytes, used,
		a->recs ? "" : " (FOG_ARENA_TRACK off: no call sites)");
	for (size_t i = 0; i < used && (!max_sites || i < max_sites); i++) {
		fprintf(out, "  %8" PRIu64 " allocations %12" PRIu64 " bytes  at ", t.v[i].count,
			t.v[i].bytes);
		site_print(out, &t.v[i]);
		fputc('\n', out);
	}
	if (max_sites && used > max_sites)
		fprintf(out, "  ... %zu more sites\n", used - max_sites);
	free(t.v);
	return (long)t.total;
}
