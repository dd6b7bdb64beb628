// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arena's page heap (a bitmap of pages in live runs, searched first fit
 * by address, committed chunk by chunk on first use) and the
 * central lists of each size class (runs of one class, each with its own
 * free list, handed to thread caches in batches). Also trim, which gives
 * committed chunks without live runs back to the kernel.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "mem/arena_int.h"

/* ---- page heap (heap_lock held) ---- */

/* The first index in [from, limit) whose bit is set (want) or clear (!want); limit if none. */
static uint32_t bit_find(const uint64_t *bits, uint32_t from, uint32_t limit, bool want)
{
	uint32_t i = from;

	while (i < limit) {
		uint64_t w = want ? bits[i >> 6] : ~bits[i >> 6];

		w &= ~0ull << (i & 63);
		if (w) {
			uint32_t hit = (i & ~63u) + (uint32_t)__builtin_ctzll(w);

			return hit < limit ? hit : limit;
		}
		i = (i & ~63u) + 64;
	}
	return limit;
}

static void bits_set(uint64_t *bits, uint32_t pg, uint32_t n, bool on)
{
	for (uint32_t i = pg; i < pg + n; i++) {
		if (on)
			bits[i >> 6] |= 1ull << (i & 63);
		else
			bits[i >> 6] &= ~(1ull << (i & 63));
	}
}

/*
 * Address-ordered first fit: the lowest n free pages in a row. It keeps
 * long-lived runs packed low and the free space in few large pieces, where
 * size-binned LIFO lists let it splinter (Johnstone and Wilson, "The memory
 * fragmentation problem: solved?", ISMM 1998). Pages above the top count as
 * free, so a hole at the top is extended rather than left behind.
 */
static uint32_t first_fit(const struct fog_arena *a, uint32_t n)
{
	uint32_t pos = a->lowfree;

	for (;;) {
		uint32_t start = bit_find(a->used, pos, a->npages, false), end;

		if (start >= a->npages || a->npages - start < n)
			return ARENA_NONE;
		end = bit_find(a->used, start, start + n, true);
		if (end == start + n)
			return start;
		pos = end;
	}
}

/* Adds delta live pages to every chunk [pg, pg + n) overlaps. */
static void chunk_live_add(struct fog_arena *a, uint32_t pg, uint32_t n, int sign)
{
	unsigned int per = 1u << (a->chunk_shift - ARENA_PAGE_SHIFT);

	while (n) {
		size_t c = pg / per;
		uint32_t take = per - pg % per;

		if (take > n)
			take = n;
		if (sign > 0)
			a->chunk_live[c] += take;
		else
			a->chunk_live[c] -= take;
		pg += take;
		n -= take;
	}
}

/*
 * Reads one byte in every huge-page frame of [p, p + len): each read maps
 * the shared zero page (nothing resident) and, with it, a page table, so no
 * later fault there can install a huge page in one go. Not instrumented:
 * the bytes may be poisoned for ASan, and nothing is written.
 */
__attribute__((no_sanitize_address)) static void map_page_tables(char *p, size_t len)
{
	for (size_t off = 0; off < len; off += ARENA_HUGE_SIZE)
		(void)*(volatile char *)(p + off);
}

/*
 * Makes every chunk under [pg, pg + n) readable and writable.
 *
 * Huge pages come in the background: the reservation is MADV_NOHUGEPAGE,
 * and a chunk turns MADV_HUGEPAGE only once its page tables exist, so its
 * first touches are 4 KiB faults and khugepaged collapses it into huge pages
 * later. A huge page faulted in on first touch would stall that allocation
 * for a 2 MiB clear (far longer on a guest whose free memory the host has
 * reclaimed) and make the whole chunk resident at once.
 */
static int commit_range(struct fog_arena *a, uint32_t pg, uint32_t n)
{
	size_t first = ((size_t)pg << ARENA_PAGE_SHIFT) >> a->chunk_shift;
	size_t last = (((size_t)(pg + n) << ARENA_PAGE_SHIFT) - 1) >> a->chunk_shift;
	size_t chunk = (size_t)1 << a->chunk_shift;

	for (size_t c = first; c <= last; c++) {
		char *p = a->base + (c << a->chunk_shift);

		if (a->chunk_committed[c])
			continue;
		if (mprotect(p, chunk, PROT_READ | PROT_WRITE))
			return -errno;
		if (a->hugepages) {
			map_page_tables(p, chunk);
			/* advice only: a refusal leaves the chunk on 4 KiB pages */
			madvise(p, chunk, MADV_HUGEPAGE);
		}
		a->chunk_committed[c] = 1;
		a->committed += chunk;
		if (a->committed > a->peak_committed)
			a->peak_committed = a->committed;
	}
	return 0;
}

/* A run of n pages, committed, not yet marked; ARENA_NONE with errno when none. */
uint32_t fog_arena_heap_alloc(struct fog_arena *a, uint32_t n)
{
	uint32_t pg = first_fit(a, n);
	int err;

	if (pg == ARENA_NONE) {
		errno = ENOMEM;
		return ARENA_NONE;
	}
	err = commit_range(a, pg, n);
	if (err) {
		errno = -err;
		return ARENA_NONE;
	}
	bits_set(a->used, pg, n, true);
	if (pg + n > a->top)
		a->top = pg + n;
	if (pg == a->lowfree)
		a->lowfree = bit_find(a->used, pg + n, a->npages, false);
	chunk_live_add(a, pg, n, 1);
	a->live_pages += n;
	return pg;
}

/* Returns a live run to the heap; its pages merge with free neighbours by being clear bits. */
void fog_arena_heap_free(struct fog_arena *a, uint32_t pg, uint32_t n)
{
	chunk_live_add(a, pg, n, -1);
	a->live_pages -= n;
	for (uint32_t i = 0; i < n; i++)
		a->pages[pg + i].kind = PG_FREE;
	bits_set(a->used, pg, n, false);
	if (pg < a->lowfree)
		a->lowfree = pg;
}

/* ---- central lists (class lock held) ---- */

static void partial_push(struct fog_arena *a, struct arena_central *cl, uint32_t h)
{
	struct arena_page *r = &a->pages[h];

	r->listed = 1;
	r->prev = ARENA_NONE;
	r->next = cl->partial;
	if (r->next != ARENA_NONE)
		a->pages[r->next].prev = h;
	cl->partial = h;
}

static void partial_remove(struct fog_arena *a, struct arena_central *cl, uint32_t h)
{
	struct arena_page *r = &a->pages[h];

	if (r->prev != ARENA_NONE)
		a->pages[r->prev].next = r->next;
	else
		cl->partial = r->next;
	if (r->next != ARENA_NONE)
		a->pages[r->next].prev = r->prev;
	r->listed = 0;
}

/* A new run for class c, on the partial list; ARENA_NONE with errno when the heap is full. */
static uint32_t run_new(struct fog_arena *a, struct arena_central *cl, unsigned int c)
{
	uint32_t n = fog_arena_cpages[c], size = fog_arena_csize[c], h, nblocks;
	size_t grains = ((size_t)n << ARENA_PAGE_SHIFT) >> ARENA_GRAIN_SHIFT;
	uint8_t *st;

	pthread_mutex_lock(&a->heap_lock);
	h = fog_arena_heap_alloc(a, n);
	if (h == ARENA_NONE) {
		pthread_mutex_unlock(&a->heap_lock);
		return ARENA_NONE;
	}
	nblocks = (n << ARENA_PAGE_SHIFT) / size;
	for (uint32_t i = 0; i < n; i++) {
		struct arena_page *p = &a->pages[h + i];

		p->kind = PG_SMALL;
		p->cls = (uint8_t)c;
		p->head = h;
		a->page_cls[h + i] = (uint8_t)c;
	}
	a->pages[h].npages = n;
	a->pages[h].nblocks = nblocks;
	a->pages[h].bump = 0;
	a->pages[h].out = 0;
	a->pages[h].free = NULL;
	pthread_mutex_unlock(&a->heap_lock);

	/* block starts are ST_FREE, everything else ST_INTERIOR */
	st = state_of(a, arena_page_addr(a, h));
	if (size == 16) {
		memset(st, ST_FREE, grains);
	} else {
		memset(st, ST_INTERIOR, grains);
		for (uint32_t b = 0; b < nblocks; b++)
			st[(b * size) >> ARENA_GRAIN_SHIFT] = ST_FREE;
	}
	POISON(arena_page_addr(a, h), (size_t)n << ARENA_PAGE_SHIFT);
	partial_push(a, cl, h);
	cl->nempty++;
	cl->nruns++;
	return h;
}

static void run_release(struct fog_arena *a, struct arena_central *cl, uint32_t h)
{
	partial_remove(a, cl, h);
	cl->nruns--;
	pthread_mutex_lock(&a->heap_lock);
	fog_arena_heap_free(a, h, a->pages[h].npages);
	pthread_mutex_unlock(&a->heap_lock);
}

/* Is p a block start of run h that is on a central list? (validates list links) */
static bool link_ok(struct fog_arena *a, uint32_t h, const void *p)
{
	const struct arena_page *r = &a->pages[h];
	uintptr_t start = (uintptr_t)arena_page_addr(a, h), off = (uintptr_t)p - start;
	uint32_t size = fog_arena_csize[r->cls];

	return off < (uintptr_t)r->bump * size && off % size == 0 &&
	       RELAXED_LOAD(state_of(a, p)) == ST_FREE;
}

/*
 * Takes up to want free blocks of class c, marked with state st; returns how
 * many. With own (a thread cache's slot for class c) the run they come from
 * leaves the partial list and stays the caller's until it runs dry, so each
 * thread carves its own runs: two threads' blocks (and their state bytes)
 * then rarely share a cache line.
 */
unsigned int fog_arena_central_take(struct fog_arena *a, unsigned int c, void **out,
				    unsigned int want, uint8_t st, uint32_t *own)
{
	struct arena_central *cl = &a->central[c];
	uint32_t size = fog_arena_csize[c];
	unsigned int got = 0;

	while (got < want) {
		uint32_t h = own ? *own : ARENA_NONE;
		struct arena_page *r;

		if (h == ARENA_NONE) {
			h = cl->partial;
			if (h == ARENA_NONE) {
				h = run_new(a, cl, c);
				if (h == ARENA_NONE)
					break;
			}
			if (!a->pages[h].out)
				cl->nempty--;
			if (own) {
				partial_remove(a, cl, h);
				a->pages[h].owned = 1;
				*own = h;
			}
		}
		r = &a->pages[h];
		while (got < want) {
			void *b = r->free;

			if (b) {
				void *next;

				UNPOISON(b, sizeof(void *));
				next = *(void **)b;
				if (next && !link_ok(a, h, next)) {
					/* overwritten after free: drop the rest, never hand out
					 * junk */
					next = NULL;
					ATOMIC_ADD(&a->corrupt_lists, 1);
				}
				r->free = next;
			} else if (r->bump < r->nblocks) {
				b = arena_page_addr(a, h) + (size_t)r->bump * size;
				r->bump++;
			} else {
				break;
			}
			RELAXED_STORE(state_of(a, b), st);
			POISON(b, size);
			out[got++] = b;
			r->out++;
		}
		if (!r->free && r->bump == r->nblocks) {
			/* dry: back on the partial list when a block comes home */
			if (r->owned) {
				r->owned = 0;
				*own = ARENA_NONE;
			} else {
				partial_remove(a, cl, h);
			}
		}
	}
	cl->out += got;
	return got;
}

/* Gives up a thread cache's run of class c: it goes back on the partial list. */
void fog_arena_central_disown(struct fog_arena *a, unsigned int c, uint32_t *own)
{
	struct arena_central *cl = &a->central[c];
	struct arena_page *r;
	uint32_t h = *own;

	if (h == ARENA_NONE)
		return;
	r = &a->pages[h];
	r->owned = 0;
	*own = ARENA_NONE;
	if (!r->free && r->bump == r->nblocks)
		return;
	partial_push(a, cl, h);
	if (!r->out) {
		if (cl->nempty)
			run_release(a, cl, h);
		else
			cl->nempty++;
	}
}

/* Puts n blocks of class c back on their runs' free lists. */
void fog_arena_central_put(struct fog_arena *a, unsigned int c, void *const *blocks, unsigned int n)
{
	struct arena_central *cl = &a->central[c];

	for (unsigned int i = 0; i < n; i++) {
		void *b = blocks[i];
		uint32_t h = a->pages[((uintptr_t)b - (uintptr_t)a->base) >> ARENA_PAGE_SHIFT].head;
		struct arena_page *r = &a->pages[h];

		RELAXED_STORE(state_of(a, b), ST_FREE);
		UNPOISON(b, sizeof(void *));
		*(void **)b = r->free;
		r->free = b;
		if (r->owned) {
			/* its owner takes it from the run's list on its next refill */
			r->out--;
			continue;
		}
		if (!r->listed)
			partial_push(a, cl, h);
		if (--r->out == 0) {
			/* keep one empty run per class against thrashing, release the others */
			if (cl->nempty)
				run_release(a, cl, h);
			else
				cl->nempty++;
		}
	}
	cl->out -= n;
}

void fog_arena_release_empty(struct fog_arena *a)
{
	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		struct arena_central *cl = &a->central[c];
		uint32_t h, next;

		pthread_mutex_lock(&cl->lock);
		for (h = cl->partial; h != ARENA_NONE; h = next) {
			next = a->pages[h].next;
			if (!a->pages[h].out) {
				run_release(a, cl, h);
				cl->nempty--;
			}
		}
		pthread_mutex_unlock(&cl->lock);
	}
}

long fog_arena__trim(struct fog_arena *a)
{
	size_t chunk = (size_t)1 << a->chunk_shift, released = 0;
	int err = 0;

	fog_arena__flush(a);
	fog_arena_release_empty(a);
	pthread_mutex_lock(&a->heap_lock);
	for (size_t c = 0; c < a->nchunks; c++) {
		size_t end = c, len;
		char *p;

		if (!a->chunk_committed[c] || a->chunk_live[c])
			continue;
		/* one system call per range of idle chunks */
		while (end + 1 < a->nchunks && a->chunk_committed[end + 1] &&
		       !a->chunk_live[end + 1])
			end++;
		p = a->base + (c << a->chunk_shift);
		len = (end - c + 1) * chunk;
		if (madvise(p, len, MADV_DONTNEED) || mprotect(p, len, PROT_NONE)) {
			err = -errno;
			break;
		}
		/* page tables may go with the pages: no huge fault when recommitted */
		if (a->hugepages)
			madvise(p, len, MADV_NOHUGEPAGE);
		for (size_t i = c; i <= end; i++)
			a->chunk_committed[i] = 0;
		a->committed -= len;
		released += len;
		c = end;
	}
	a->trimmed += released;
	pthread_mutex_unlock(&a->heap_lock);
	return err && !released ? err : (long)released;
}
