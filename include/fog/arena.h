/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libfog memory arena: one pre-reserved address range, committed lazily in
 * chunks, carved into 64 KiB pages. Sizes up to 64 KiB are served from 44
 * size classes (16 B steps to 128 B, then four classes per power of two),
 * each class from runs of pages; bigger sizes from page runs of their own.
 *
 * Allocation and free are O(1): each thread keeps a small cache of free
 * blocks per class and trades them in batches with a per-class central list
 * under that class's lock, so the hot path takes no lock at all. A thread
 * refills from a run it owns until the run is dry, so threads carve separate
 * runs and their blocks do not share cache lines. Page runs come from an
 * address-ordered first-fit page heap, which keeps free space in few pieces.
 *
 * Committed chunks are madvise(MADV_HUGEPAGE)d by default, for fewer TLB
 * misses with big working sets. They are advised only once their page
 * tables exist, so first touches fault in 4 KiB pages (no allocation waits
 * for a 2 MiB clear) and khugepaged collapses the chunks into huge pages in
 * the background; a collapsed chunk is resident as a whole. Small arenas
 * that count their resident set should pass FOG_ARENA_NO_HUGEPAGE.
 *
 * Every block has a state byte in a side table (never inside user memory),
 * so a double free, a pointer into the middle of a block or a pointer that
 * is not from this arena is rejected with an error instead of corrupting it.
 *
 * Arena memory goes back only with its arena: never mix it with malloc/free.
 */
#ifndef FOG_ARENA_H
#define FOG_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FOG_ARENA_PAGE_SIZE	  (64u * 1024) /* pages that runs are made of */
#define FOG_ARENA_SMALL_MAX	  (64u * 1024) /* largest size-class allocation */
#define FOG_ARENA_NCLASSES	  44
#define FOG_ARENA_DEFAULT_RESERVE (1ull << 30)
#define FOG_ARENA_DEFAULT_CHUNK	  (2u * 1024 * 1024) /* commit unit: one huge page */
#define FOG_ARENA_ALIGN		  16u		     /* every block is aligned at least this much */

/*
 * fog_arena_opts.flags. FOG_ARENA_TRACK reserves as much address space
 * again for its records, and sends every allocation down the slow path.
 */
#define FOG_ARENA_TRACK	      (1u << 0) /* record call site and size of each allocation */
#define FOG_ARENA_NO_HUGEPAGE (1u << 1) /* no madvise(MADV_HUGEPAGE) of committed chunks */
#define FOG_ARENA_NO_LARGE    (1u << 2) /* reject sizes above 64 KiB (E2BIG) */
#define FOG_ARENA_STRICT      (1u << 3) /* atomic state change on free (see fog_arena__dealloc) */
#define FOG_ARENA_NO_TCACHE   (1u << 4) /* no per-thread caches: every call takes a class lock */

struct fog_arena_opts {
	size_t reserve;	     /* bytes of address space to reserve; 0: 1 GiB */
	size_t commit_chunk; /* commit granularity, a power of two >= 64 KiB; 0: 2 MiB */
	unsigned int flags;  /* FOG_ARENA_* */
	const char *name;    /* shown in reports; copied */
};

struct fog_arena_stats {
	size_t reserved;	/* address space reserved */
	size_t committed;	/* made readable and writable, in commit chunks */
	size_t in_use;		/* live allocations, each rounded up to its class or page run */
	size_t cached;		/* free blocks held in threads' caches */
	size_t tied_free;	/* free bytes inside size-class runs, thread caches included */
	size_t free_pages;	/* committed bytes in no run: reusable by any size, trimmable */
	size_t peak_in_use;	/* highest in_use + cached seen when a cache was refilled */
	size_t peak_committed;	/* highest committed */
	uint64_t allocs;	/* successful allocations */
	uint64_t frees;		/* successful frees */
	uint64_t failed_allocs; /* allocations refused (bad size, arena full) */
	uint64_t bad_frees;	/* frees refused (foreign, misaligned, double) */
	uint64_t corrupt_lists; /* central free lists found overwritten (use after free) */
	uint64_t trimmed;	/* bytes given back by fog_arena__trim, in total */
	double utilization;	/* in_use / committed, percent (0 when nothing is committed) */
	double fragmentation;	/* tied_free / committed, percent */
	unsigned int threads;	/* thread caches alive */
	bool hugepages;		/* THP advice is on and the kernel takes it */
};

struct fog_arena;

/* NULL opts: all defaults. Returns NULL and sets errno (EINVAL for bad opts, ENOMEM). */
struct fog_arena *fog_arena__new(const struct fog_arena_opts *opts);
/* Unmaps everything; every pointer from the arena becomes invalid. Accepts NULL. */
void fog_arena__free(struct fog_arena *a);

/*
 * Returns a block of at least size bytes aligned to 16 (to its size for
 * powers of two up to 64 KiB, to 64 KiB above), or NULL with errno:
 * EINVAL for size 0, E2BIG for a size that can never fit (above 64 KiB with
 * FOG_ARENA_NO_LARGE, or above the reservation), ENOMEM when the arena is full.
 */
void *fog_arena__alloc(struct fog_arena *a, size_t size);
/* The same, naming the call site ("file:line") recorded with FOG_ARENA_TRACK. */
void *fog_arena__alloc_at(struct fog_arena *a, size_t size, const char *site);
/* n * size zeroed bytes; EOVERFLOW when the product overflows. */
void *fog_arena__calloc(struct fog_arena *a, size_t n, size_t size);

#define FOG_ARENA_STR_(x) #x
#define FOG_ARENA_STR(x)  FOG_ARENA_STR_(x)
#define FOG_ARENA_SITE	  __FILE__ ":" FOG_ARENA_STR(__LINE__)
/* Allocation that records where it was made, for leak reports. */
#define fog_arena_alloc_here(a, size) fog_arena__alloc_at((a), (size), FOG_ARENA_SITE)

/*
 * Returns a block to the arena (fog_arena__free frees the arena itself,
 * following the __new / __free pairing). NULL is accepted (0). Errors, and
 * nothing changes: -EFAULT when ptr is not memory this arena handed out (another
 * arena, malloc, the stack, or pages unused since creation or reset),
 * -EINVAL when ptr points inside a block rather than at its start,
 * -EALREADY when the block is not allocated (double free, stale pointer).
 * Two frees of one block are always caught when one happens before the
 * other; two threads freeing the same block at the same instant is caught
 * only with FOG_ARENA_STRICT (one atomic exchange more per free).
 */
int fog_arena__dealloc(struct fog_arena *a, void *ptr);

/* The usable size of a live block, or 0 when ptr is not one. */
size_t fog_arena__usable_size(struct fog_arena *a, const void *ptr);
/* Does ptr point into memory reserved by this arena (live or not)? */
bool fog_arena__owns(const struct fog_arena *a, const void *ptr);

/*
 * Frees every allocation at once; committed memory is kept for reuse.
 * No other thread may use the arena during the call.
 */
int fog_arena__reset(struct fog_arena *a);
/* Returns the calling thread's cached free blocks to the central lists. */
void fog_arena__flush(struct fog_arena *a);
/*
 * Gives committed chunks that hold no live allocation back to the kernel
 * (madvise(MADV_DONTNEED), then PROT_NONE), after flushing the calling
 * thread's cache and releasing empty runs. Other threads' caches keep their
 * runs. Returns the bytes decommitted (>= 0) or a negative errno.
 */
long fog_arena__trim(struct fog_arena *a);

/* A consistent snapshot when no other thread allocates; otherwise close to one. */
void fog_arena__stats(struct fog_arena *a, struct fog_arena_stats *out);
const char *fog_arena__name(const struct fog_arena *a);

/* A live allocation, as fog_arena__for_each_live reports it. */
struct fog_arena_live {
	void *ptr;
	size_t size; /* requested size with FOG_ARENA_TRACK, else the usable size */
	size_t usable;
	const char *site;   /* "file:line" from fog_arena__alloc_at, else NULL */
	const void *caller; /* return address of fog_arena__alloc's caller, else NULL */
};

typedef int (*fog_arena_live_fn)(const struct fog_arena_live *live, void *ctx);

/*
 * Calls fn for every live allocation, in address order, until fn returns
 * non-zero (that value is returned). Sites are known only with
 * FOG_ARENA_TRACK. Racy but safe while other threads allocate.
 */
int fog_arena__for_each_live(struct fog_arena *a, fog_arena_live_fn fn, void *ctx);

/*
 * Writes live allocations grouped by call site, most bytes first, at most
 * max_sites lines (0: all). Returns the number of live allocations, or a
 * negative errno.
 */
long fog_arena__leak_report(struct fog_arena *a, FILE *out, unsigned int max_sites);

/* For tests and tools: the size class of a small size, and its block size. */
int fog_arena_size_class(size_t size);
size_t fog_arena_class_size(int cls);

#endif /* FOG_ARENA_H */
