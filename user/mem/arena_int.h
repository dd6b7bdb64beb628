/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the arena shared by arena.c (allocation, caches, page heap)
 * and arena_report.c (statistics, live-allocation walks, leak reports).
 */
#ifndef FOG_MEM_ARENA_INT_H
#define FOG_MEM_ARENA_INT_H

#include <pthread.h>
#include <stdint.h>

#include "fog/arena.h"

#define ARENA_PAGE_SHIFT  16 /* FOG_ARENA_PAGE_SIZE */
#define ARENA_GRAIN_SHIFT 4  /* one state byte per 16 bytes */
#define ARENA_NONE	  UINT32_MAX
#define ARENA_CAP_MAX	  64	     /* most blocks a thread caches per class */
#define ARENA_HUGE_SIZE	  (2u << 20) /* x86-64 transparent huge page */

/* State bytes, one per 16-byte granule; only a block's first granule matters. */
enum {
	ST_FREE = 0, /* on a central free list, never carved, or no block here */
	/* 1 .. FOG_ARENA_NCLASSES: a live block of class state - 1 */
	ST_CACHED = 0xfc,   /* free, held in a thread's cache */
	ST_LARGE = 0xfd,    /* first granule of a live page run */
	ST_INTERIOR = 0xfe, /* inside a block, not its start */
};

enum page_kind {
	PG_UNUSED = 0, /* above the heap top: never handed out since creation or reset */
	PG_FREE,       /* in a free page run */
	PG_SMALL,      /* in a run of one size class */
	PG_LARGE,      /* in a run of one large allocation */
};

/*
 * One descriptor per 64 KiB page, in a side table. Every page of a live run
 * carries kind, cls and head; the run's other fields live in its head page.
 * Free pages carry only their kind (PG_FREE); their other fields are stale.
 */
struct arena_page {
	uint8_t kind;	/* enum page_kind */
	uint8_t cls;	/* size class of a small run */
	uint8_t listed; /* small head: on the class's partial list */
	uint8_t owned;	/* small head: a thread cache refills from it (not listed) */
	uint32_t head;	/* index of the run's first page */
	uint32_t npages;
	uint32_t nblocks; /* small: blocks in the run */
	uint32_t bump;	  /* small: blocks carved so far; the rest were never used */
	uint32_t out;	  /* small: blocks held by callers or thread caches */
	uint32_t next;	  /* small head: the class's partial list */
	uint32_t prev;
	void *free; /* small: free blocks, linked through their first word */
};

/* The central list of one size class. */
struct arena_central {
	pthread_mutex_t lock;
	uint32_t partial; /* first run that has free or never-carved blocks */
	uint32_t nempty;  /* runs on the partial list with out == 0 */
	uint64_t out;	  /* blocks held by callers or thread caches */
	uint64_t nruns;
} __attribute__((aligned(64)));

/*
 * One class in a thread's cache: a stack of free blocks, slots[0, n). The
 * count and the frees pushed so far share one word, n in the low 8 bits and
 * the pushes above them: a free adds BIN_PUSH + 1, an allocation takes 1
 * off, and neither path keeps a counter of its own. (A counter bumped on
 * every call is a chain of read-modify-writes through memory, one link per
 * call; it cost as much as the double-free check.) Allocations follow from
 * the balance, nalloc = refilled + frees - flushed - cached: tcache_nalloc.
 */
#define BIN_NMASK 0xffu
#define BIN_PUSH  (1ull << 8)

struct arena_bin {
	uint64_t w;   /* n | pushes * BIN_PUSH; read by stats from other threads */
	uint64_t cap; /* fog_arena_ccap of the class, next to w for the free path */
};

_Static_assert(ARENA_CAP_MAX <= BIN_NMASK && BIN_NMASK == UINT8_MAX, "n is w's low byte");

/* A thread's cache of free blocks for one arena. */
struct arena_tcache {
	struct arena_bin bin[FOG_ARENA_NCLASSES];
	uint64_t refilled;		  /* blocks taken from the central lists; relaxed atomics */
	uint64_t flushed;		  /* blocks given back to them, or dropped by a reset */
	uint32_t own[FOG_ARENA_NCLASSES]; /* run each class refills from, ARENA_NONE */
	struct arena_tcache *next;	  /* the arena's list, under tc_lock */
	struct arena_tcache *prev;
	void *slots[FOG_ARENA_NCLASSES][ARENA_CAP_MAX];
};

/* What FOG_ARENA_TRACK records per allocation, indexed like the state bytes. */
struct arena_rec {
	const void *site; /* "file:line" string or return address */
	uint64_t size;	  /* requested size; top bit: site is a string */
};

#define REC_SITE_STR (1ull << 63)

struct fog_arena {
	/* read by every call, written only at creation */
	char *base;	/* reserved range, aligned to the commit chunk */
	uint8_t *state; /* one byte per granule */
	/*
	 * pages[].cls again, one byte a page: the free path's class lookup then
	 * stays in a few cache lines however big the arena grows. Written with
	 * cls by run_new (heap_lock held); stale bytes (free or large pages)
	 * never meet a state byte of class + 1, since a run is released only
	 * when all its blocks came home.
	 */
	uint8_t *page_cls;
	struct arena_rec *recs; /* FOG_ARENA_TRACK, else NULL */
	size_t size;		/* bytes reserved */
	uint64_t gen;		/* unique per arena, never 0: matches thread-local slots */
	uint64_t fast_gen;	/* gen, or UINT64_MAX (held by no slot): always the slow path */
	uint64_t free_gen;	/* gen, or UINT64_MAX with FOG_ARENA_STRICT */
	uintptr_t state_bias;	/* state byte of p: state_bias + p / 16 */
	uintptr_t ngrains;	/* size / 16: granules, and state bytes */
	unsigned int slot;	/* thread-local slot, ARENA_TLS_SLOTS when none */
	uintptr_t tls_off;	/* that slot's offset from the thread pointer */
	unsigned int flags;

	/* page heap, under heap_lock */
	pthread_mutex_t heap_lock __attribute__((aligned(64)));
	struct arena_page *pages;
	uint32_t npages;  /* pages in the reservation */
	uint32_t top;	  /* pages below have been handed out at least once */
	uint32_t lowfree; /* every page below is in a live run */
	uint64_t *used;	  /* bitmap: page in a live run */
	unsigned int chunk_shift;
	size_t nchunks;
	uint32_t *chunk_live; /* pages of live runs per commit chunk */
	uint8_t *chunk_committed;
	size_t committed;
	size_t peak_committed;
	size_t live_pages;  /* pages in live runs, small and large */
	size_t large_bytes; /* in large runs */
	uint64_t large_allocs;
	uint64_t large_frees;
	uint64_t trimmed;

	/* thread caches, under tc_lock */
	pthread_mutex_t tc_lock __attribute__((aligned(64)));
	struct arena_tcache *tcs;
	unsigned int ntcs;
	uint64_t dead_nalloc; /* counters of caches whose thread has exited */
	uint64_t dead_nfree;

	/* atomics */
	uint64_t held __attribute__((aligned(64))); /* bytes out of the central lists */
	uint64_t peak_held;
	uint64_t central_nalloc; /* allocations and frees without a thread cache */
	uint64_t central_nfree;
	uint64_t failed_allocs;
	uint64_t bad_frees;
	uint64_t corrupt_lists;

	struct arena_central central[FOG_ARENA_NCLASSES];
	char name[32];
	bool hugepages; /* chunks turn MADV_HUGEPAGE when committed (see commit_range) */
};

/* Class geometry, the same for every arena. */
extern const uint32_t fog_arena_csize[FOG_ARENA_NCLASSES];
extern const uint8_t fog_arena_cpages[FOG_ARENA_NCLASSES];
extern const uint8_t fog_arena_ccap[FOG_ARENA_NCLASSES];

static inline char *arena_page_addr(const struct fog_arena *a, uint32_t pg)
{
	return a->base + ((size_t)pg << ARENA_PAGE_SHIFT);
}

#define RELAXED_LOAD(p)	    __atomic_load_n((p), __ATOMIC_RELAXED)
#define RELAXED_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ATOMIC_ADD(p, v)    __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Under -fsanitize=address free blocks are poisoned, so ASan sees use after free. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static inline uint8_t *state_of(const struct fog_arena *a, const void *p)
{
	return &a->state[((uintptr_t)p - (uintptr_t)a->base) >> ARENA_GRAIN_SHIFT];
}

/* Blocks of class c cached in tc. */
static inline uint32_t bin_cached(const struct arena_tcache *tc, unsigned int c)
{
	return (uint32_t)(RELAXED_LOAD(&tc->bin[c].w) & BIN_NMASK);
}

/* Frees into tc's bins; racy (but close) from another thread. */
static inline uint64_t tcache_nfree(const struct arena_tcache *tc)
{
	uint64_t n = 0;

	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++)
		n += RELAXED_LOAD(&tc->bin[c].w) / BIN_PUSH;
	return n;
}

/* Allocations from tc's bins: whatever came in and is neither cached nor flushed. */
static inline uint64_t tcache_nalloc(const struct arena_tcache *tc)
{
	uint64_t in = RELAXED_LOAD(&tc->refilled), out = RELAXED_LOAD(&tc->flushed);

	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		uint64_t w = RELAXED_LOAD(&tc->bin[c].w);

		in += w / BIN_PUSH;
		out += w & BIN_NMASK;
	}
	return in > out ? in - out : 0;
}

static inline void peak_update(struct fog_arena *a, uint64_t held)
{
	uint64_t peak = RELAXED_LOAD(&a->peak_held);

	while (held > peak && !__atomic_compare_exchange_n(&a->peak_held, &peak, held, true,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static inline void held_add(struct fog_arena *a, uint64_t bytes)
{
	peak_update(a, __atomic_add_fetch(&a->held, bytes, __ATOMIC_RELAXED));
}

static inline void held_sub(struct fog_arena *a, uint64_t bytes)
{
	__atomic_sub_fetch(&a->held, bytes, __ATOMIC_RELAXED);
}

/* arena_heap.c, heap_lock held: a run of n committed pages (ARENA_NONE and errno if none). */
uint32_t fog_arena_heap_alloc(struct fog_arena *a, uint32_t n);
/* arena_heap.c, heap_lock held: gives a live run back, merging free neighbours. */
void fog_arena_heap_free(struct fog_arena *a, uint32_t pg, uint32_t n);
/* arena_heap.c, class lock held: up to want free blocks of class c, their state set to st. */
unsigned int fog_arena_central_take(struct fog_arena *a, unsigned int c, void **out,
				    unsigned int want, uint8_t st, uint32_t *own);
/* arena_heap.c, class lock held: the run *own goes back to the partial list. */
void fog_arena_central_disown(struct fog_arena *a, unsigned int c, uint32_t *own);
/* arena_heap.c, class lock held: n blocks of class c back on their runs. */
void fog_arena_central_put(struct fog_arena *a, unsigned int c, void *const *blocks,
			   unsigned int n);
/* arena_heap.c: releases runs that hold no block, in every class. */
void fog_arena_release_empty(struct fog_arena *a);

#endif /* FOG_MEM_ARENA_INT_H */
