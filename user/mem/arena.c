// SPDX-License-Identifier: GPL-2.0-only
/*
 * The arena's allocation paths: thread caches (lock-free hot path), central
 * per-class lists of runs (one lock per class, taken once per batch), and the
 * page heap (one lock, taken to create or release a run). The layout follows
 * the size-class + thread-cache + page-run design of tcmalloc and mimalloc;
 * unlike them, block state lives in a side table so bad frees are refused.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem/arena_int.h"

#define ARENA_TLS_SLOTS	  64 /* arenas with thread caches at once; others use locks */
#define ARENA_MIN_RESERVE (4u << 20)

/* Class c: 16-byte steps up to 128, then 4 classes per power of two up to 64 KiB. */
#define CS(c) ((c) < 8 ? ((c) + 1) * 16u : (5u + ((c)-8) % 4) << (((c)-8) / 4 + 5))
/* Runs hold at least 8 blocks: one page up to 8 KiB, more pages above. */
#define CP(c) (CS(c) <= 8192 ? 1 : (8 * CS(c) + FOG_ARENA_PAGE_SIZE - 1) / FOG_ARENA_PAGE_SIZE)
/* A thread caches up to 128 KiB per class, between 4 and 64 blocks. */
#define CC(c)	  (131072 / CS(c) > 64 ? 64 : 131072 / CS(c) < 4 ? 4 : 131072 / CS(c))
#define ROW(m, c) m(c), m(c + 1), m(c + 2), m(c + 3)
#define TABLE(m)                                                                                   \
	ROW(m, 0), ROW(m, 4), ROW(m, 8), ROW(m, 12), ROW(m, 16), ROW(m, 20), ROW(m, 24),           \
		ROW(m, 28), ROW(m, 32), ROW(m, 36), ROW(m, 40)

const uint32_t fog_arena_csize[FOG_ARENA_NCLASSES] = {TABLE(CS)};
const uint8_t fog_arena_cpages[FOG_ARENA_NCLASSES] = {TABLE(CP)};
const uint8_t fog_arena_ccap[FOG_ARENA_NCLASSES] = {TABLE(CC)};

/* Class of sizes up to 1 KiB by (size + 15) / 16: a load instead of branches. */
#define LG(v) (31 - __builtin_clz(v))
#define LUT(k)                                                                                     \
	((k) <= 8 ? ((k) ? (k)-1 : 0)                                                              \
		  : 8 + (LG((k)*16 - 1) - 7) * 4 + ((((k)*16 - 1) >> (LG((k)*16 - 1) - 2)) & 3))
#define LUT8(k)                                                                                    \
	LUT(k), LUT(k + 1), LUT(k + 2), LUT(k + 3), LUT(k + 4), LUT(k + 5), LUT(k + 6), LUT(k + 7)
static const uint8_t class_lut[65] = {LUT8(0),	LUT8(8),  LUT8(16), LUT8(24), LUT8(32),
				      LUT8(40), LUT8(48), LUT8(56), LUT(64)};

_Static_assert(CS(FOG_ARENA_NCLASSES - 1) == FOG_ARENA_SMALL_MAX, "classes end at 64 KiB");
_Static_assert(sizeof(struct arena_tcache) < 32768, "thread cache size");

struct tls_slot {
	uint64_t gen; /* the arena's gen when tc was made for it */
	struct arena_tcache *tc;
};

/*
 * One extra slot that never matches: arenas without a thread-local slot use
 * it. Initial-exec: the slots sit at one offset from the thread pointer in
 * every thread, so the hot paths reach an arena's slot through %fs and that
 * offset, one load and no address arithmetic.
 */
static __thread struct tls_slot tls_slots[ARENA_TLS_SLOTS + 1]
	__attribute__((tls_model("initial-exec")));

/* (ASan would check %fs-relative addresses as if they were plain ones) */
#if defined(__x86_64__) && defined(__SEG_FS) && !defined(__SANITIZE_ADDRESS__)
#define TLS_SLOT(a) ((const __seg_fs struct tls_slot *)(a)->tls_off)
#define TLS_OFF(p)  ((uintptr_t)(p) - (uintptr_t)__builtin_thread_pointer())
#else
#define TLS_SLOT(a) ((const struct tls_slot *)&tls_slots[(a)->slot])
#define TLS_OFF(p)  ((uintptr_t)0)
#endif

/* Arenas that own a thread-local slot, for the thread-exit flush. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fog_arena *reg_arenas[ARENA_TLS_SLOTS];
static uint64_t reg_gen;
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static pthread_key_t reg_key;

static inline unsigned int size_class(size_t size)
{
	unsigned int lg;

	if (size <= 128)
		return (unsigned int)((size + 15) >> 4) - 1;
	lg = 63 - __builtin_clzl(size - 1);
	return 8 + (lg - 7) * 4 + (unsigned int)(((size - 1) >> (lg - 2)) & 3);
}

int fog_arena_size_class(size_t size)
{
	return size - 1 < FOG_ARENA_SMALL_MAX ? (int)size_class(size) : -1;
}

size_t fog_arena_class_size(int cls)
{
	return cls >= 0 && cls < FOG_ARENA_NCLASSES ? fog_arena_csize[cls] : 0;
}

/* ---- thread caches ---- */

/* The n oldest cached blocks of class c back to their runs. */
static void tcache_flush_class(struct fog_arena *a, struct arena_tcache *tc, unsigned int c,
			       unsigned int n)
{
	struct arena_central *cl = &a->central[c];
	struct arena_bin *b = &tc->bin[c];

	pthread_mutex_lock(&cl->lock);
	fog_arena_central_put(a, c, tc->slots[c], n);
	pthread_mutex_unlock(&cl->lock);
	held_sub(a, (uint64_t)n * fog_arena_csize[c]);
	memmove(tc->slots[c], tc->slots[c] + n, ((b->w & BIN_NMASK) - n) * sizeof(void *));
	RELAXED_STORE(&tc->flushed, tc->flushed + n);
	RELAXED_STORE(&b->w, b->w - n);
}

/* Every cached block back to its run, and the runs the cache owned back on the lists. */
static void tcache_flush_all(struct fog_arena *a, struct arena_tcache *tc)
{
	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		if (bin_cached(tc, c))
			tcache_flush_class(a, tc, c, bin_cached(tc, c));
		if (tc->own[c] != ARENA_NONE) {
			pthread_mutex_lock(&a->central[c].lock);
			fog_arena_central_disown(a, c, &tc->own[c]);
			pthread_mutex_unlock(&a->central[c].lock);
		}
	}
}

/* Thread exit: hand every cache back to its arena, if the arena still exists. */
static void tls_exit(void *unused)
{
	pthread_mutex_lock(&reg_lock);
	for (unsigned int i = 0; i < ARENA_TLS_SLOTS; i++) {
		struct tls_slot *s = &tls_slots[i];
		struct fog_arena *a = reg_arenas[i];
		struct arena_tcache *tc = s->tc;

		if (!s->gen || !a || a->gen != s->gen) {
			s->gen = 0;
			continue;
		}
		tcache_flush_all(a, tc);
		pthread_mutex_lock(&a->tc_lock);
		if (tc->prev)
			tc->prev->next = tc->next;
		else
			a->tcs = tc->next;
		if (tc->next)
			tc->next->prev = tc->prev;
		a->ntcs--;
		a->dead_nalloc += tcache_nalloc(tc);
		a->dead_nfree += tcache_nfree(tc);
		pthread_mutex_unlock(&a->tc_lock);
		free(tc);
		s->gen = 0;
		s->tc = NULL;
	}
	pthread_mutex_unlock(&reg_lock);
}

static void reg_init(void)
{
	pthread_key_create(&reg_key, tls_exit);
}

/* The calling thread's cache for a, created on first use; NULL: use the central path. */
static struct arena_tcache *tcache_slow(struct fog_arena *a)
{
	struct arena_tcache *tc;

	if (a->slot >= ARENA_TLS_SLOTS)
		return NULL;
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return NULL;
	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		tc->own[c] = ARENA_NONE;
		tc->bin[c].cap = fog_arena_ccap[c];
	}
	pthread_once(&reg_once, reg_init);
	pthread_setspecific(reg_key, tls_slots);
	pthread_mutex_lock(&a->tc_lock);
	tc->next = a->tcs;
	if (tc->next)
		tc->next->prev = tc;
	a->tcs = tc;
	a->ntcs++;
	pthread_mutex_unlock(&a->tc_lock);
	tls_slots[a->slot].tc = tc;
	tls_slots[a->slot].gen = a->gen;
	return tc;
}

static inline struct arena_tcache *tcache_get(struct fog_arena *a)
{
	struct tls_slot *s = &tls_slots[a->slot];

	if (likely(s->gen == a->gen))
		return s->tc;
	return tcache_slow(a);
}

/* ---- allocation ---- */

static void track(struct fog_arena *a, void *p, size_t size, const void *site, bool is_str)
{
	struct arena_rec *r = &a->recs[((uintptr_t)p - (uintptr_t)a->base) >> ARENA_GRAIN_SHIFT];

	RELAXED_STORE(&r->site, site);
	RELAXED_STORE(&r->size, (uint64_t)size | (is_str ? REC_SITE_STR : 0));
}

static void *alloc_fail(struct fog_arena *a, int err)
{
	ATOMIC_ADD(&a->failed_allocs, 1);
	errno = err;
	return NULL;
}

/* A page run of its own; NULL with errno (not yet counted as a failure). */
static void *alloc_large(struct fog_arena *a, size_t size)
{
	size_t n = (size + FOG_ARENA_PAGE_SIZE - 1) >> ARENA_PAGE_SHIFT;
	uint32_t pg;
	char *p;

	if (size > a->size) {
		errno = E2BIG;
		return NULL;
	}
	pthread_mutex_lock(&a->heap_lock);
	pg = fog_arena_heap_alloc(a, (uint32_t)n);
	if (pg == ARENA_NONE) {
		int err = errno;

		pthread_mutex_unlock(&a->heap_lock);
		errno = err;
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		a->pages[pg + i].kind = PG_LARGE;
		a->pages[pg + i].head = pg;
	}
	a->pages[pg].npages = (uint32_t)n;
	a->large_bytes += n << ARENA_PAGE_SHIFT;
	a->large_allocs++;
	p = arena_page_addr(a, pg);
	RELAXED_STORE(state_of(a, p), ST_LARGE);
	pthread_mutex_unlock(&a->heap_lock);
	held_add(a, n << ARENA_PAGE_SHIFT);
	POISON(p, n << ARENA_PAGE_SHIFT);
	UNPOISON(p, size);
	return p;
}

/* Refills an empty cache bin, then allocates from it. */
static void *alloc_refill(struct fog_arena *a, struct arena_tcache *tc, unsigned int c)
{
	struct arena_central *cl = &a->central[c];
	unsigned int got;

	pthread_mutex_lock(&cl->lock);
	got = fog_arena_central_take(a, c, tc->slots[c], fog_arena_ccap[c] / 2, ST_CACHED,
				     &tc->own[c]);
	pthread_mutex_unlock(&cl->lock);
	if (!got)
		return NULL;
	held_add(a, (uint64_t)got * fog_arena_csize[c]);
	RELAXED_STORE(&tc->refilled, tc->refilled + got);
	/* the stack pops from its end: hand the blocks out in address order */
	for (unsigned int i = 0, j = got - 1; i < j; i++, j--) {
		void *t = tc->slots[c][i];

		tc->slots[c][i] = tc->slots[c][j];
		tc->slots[c][j] = t;
	}
	/* the bin was empty: got - 1 blocks stay */
	RELAXED_STORE(&tc->bin[c].w, tc->bin[c].w + got - 1);
	return tc->slots[c][got - 1];
}

static void *alloc_central(struct fog_arena *a, unsigned int c)
{
	struct arena_central *cl = &a->central[c];
	void *p = NULL;
	unsigned int got;

	pthread_mutex_lock(&cl->lock);
	got = fog_arena_central_take(a, c, &p, 1, (uint8_t)(c + 1), NULL);
	pthread_mutex_unlock(&cl->lock);
	if (!got)
		return NULL;
	held_add(a, fog_arena_csize[c]);
	ATOMIC_ADD(&a->central_nalloc, 1);
	return p;
}

/* Everything but a cache hit: bad sizes, large runs, no cache yet, an empty bin, tracking. */
static __attribute__((noinline)) void *alloc_slow(struct fog_arena *a, size_t size,
						  const void *site, bool is_str)
{
	struct arena_tcache *tc;
	unsigned int c, n;
	void *p;

	if (size - 1 >= FOG_ARENA_SMALL_MAX) {
		if (!size)
			return alloc_fail(a, EINVAL);
		if (a->flags & FOG_ARENA_NO_LARGE)
			return alloc_fail(a, E2BIG);
		p = alloc_large(a, size);
		goto out;
	}
	c = size_class(size);
	tc = tcache_get(a);
	if (!tc) {
		p = alloc_central(a, c);
		goto out;
	}
	n = bin_cached(tc, c);
	if (!n) {
		p = alloc_refill(a, tc, c);
		if (!p)
			return alloc_fail(a, errno);
	} else {
		p = tc->slots[c][n - 1];
		RELAXED_STORE(&tc->bin[c].w, tc->bin[c].w - 1);
	}
	RELAXED_STORE(state_of(a, p), (uint8_t)(c + 1));
out:
	if (!p)
		return alloc_fail(a, errno);
	UNPOISON(p, size);
	if (a->recs)
		track(a, p, size, site, is_str);
	return p;
}

/* The hot path: a hit in the calling thread's cache, no lock, no call. */
static inline __attribute__((always_inline)) void *alloc(struct fog_arena *a, size_t size,
							 const void *site, bool is_str)
{
	__typeof__(TLS_SLOT(a)) s = TLS_SLOT(a);
	struct arena_bin *b;
	size_t c, n; /* word-sized: the - 1 below folds into the slot's address */
	uint64_t w;
	void *p;

	if (likely(size - 1 < 1024))
		c = class_lut[(size + 15) >> 4];
	else if (likely(size - 1 < FOG_ARENA_SMALL_MAX))
		c = size_class(size);
	else
		goto slow;
	if (unlikely(s->gen != a->fast_gen))
		goto slow;
	b = &s->tc->bin[c];
	w = b->w;
	n = (uint8_t)w; /* w & BIN_NMASK */
	if (unlikely(!n))
		goto slow;
	p = s->tc->slots[c][n - 1];
	RELAXED_STORE(&b->w, w - 1);
	RELAXED_STORE((uint8_t *)(a->state_bias + ((uintptr_t)p >> ARENA_GRAIN_SHIFT)),
		      (uint8_t)(c + 1));
	UNPOISON(p, size);
	return p;
slow:
	return alloc_slow(a, size, site, is_str);
}

void *fog_arena__alloc(struct fog_arena *a, size_t size)
{
	return alloc(a, size, __builtin_return_address(0), false);
}

void *fog_arena__alloc_at(struct fog_arena *a, size_t size, const char *site)
{
	return alloc(a, size, site, site != NULL);
}

void *fog_arena__calloc(struct fog_arena *a, size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes))
		return alloc_fail(a, EOVERFLOW);
	p = alloc(a, bytes, __builtin_return_address(0), false);
	if (p)
		memset(p, 0, bytes);
	return p;
}

/* ---- free ---- */

static int free_bad(struct fog_arena *a, int err)
{
	ATOMIC_ADD(&a->bad_frees, 1);
	return err;
}

/* Why a pointer whose granule holds no live block cannot be freed. */
static int free_refused(struct fog_arena *a, uintptr_t off, uint8_t s)
{
	uint8_t kind = RELAXED_LOAD(&a->pages[off >> ARENA_PAGE_SHIFT].kind);

	if (s == ST_INTERIOR || kind == PG_LARGE)
		return free_bad(a, -EINVAL);
	if (kind == PG_UNUSED)
		return free_bad(a, -EFAULT);
	return free_bad(a, -EALREADY);
}

static int free_large(struct fog_arena *a, void *ptr, uintptr_t off)
{
	uint32_t pg = (uint32_t)(off >> ARENA_PAGE_SHIFT), n;
	uint8_t *st = state_of(a, ptr);

	pthread_mutex_lock(&a->heap_lock);
	/* checked again under the lock: two frees of one run race to here */
	if (*st != ST_LARGE || a->pages[pg].kind != PG_LARGE || a->pages[pg].head != pg ||
	    (off & (FOG_ARENA_PAGE_SIZE - 1))) {
		uint8_t s = *st;

		pthread_mutex_unlock(&a->heap_lock);
		return free_refused(a, off, s);
	}
	n = a->pages[pg].npages;
	RELAXED_STORE(st, ST_FREE);
	fog_arena_heap_free(a, pg, n);
	a->large_bytes -= (size_t)n << ARENA_PAGE_SHIFT;
	a->large_frees++;
	pthread_mutex_unlock(&a->heap_lock);
	held_sub(a, (uint64_t)n << ARENA_PAGE_SHIFT);
	POISON(ptr, (size_t)n << ARENA_PAGE_SHIFT);
	return 0;
}

static int free_central(struct fog_arena *a, void *ptr, unsigned int c)
{
	struct arena_central *cl = &a->central[c];
	uint8_t *st = state_of(a, ptr);

	pthread_mutex_lock(&cl->lock);
	if (*st != c + 1) {
		pthread_mutex_unlock(&cl->lock);
		return free_bad(a, -EALREADY);
	}
	fog_arena_central_put(a, c, &ptr, 1);
	pthread_mutex_unlock(&cl->lock);
	held_sub(a, fog_arena_csize[c]);
	ATOMIC_ADD(&a->central_nfree, 1);
	return 0;
}

/* Everything but a plain free into a cache with room: errors, large runs, flushes, strict. */
static __attribute__((noinline)) int dealloc_slow(struct fog_arena *a, void *ptr)
{
	uintptr_t off = (uintptr_t)ptr - (uintptr_t)a->base;
	struct arena_tcache *tc;
	unsigned int c, n;
	uint8_t *st, s;

	if (off >= a->size || (off & (FOG_ARENA_ALIGN - 1))) {
		if (!ptr)
			return 0;
		return free_bad(a, off >= a->size ? -EFAULT : -EINVAL);
	}
	st = &a->state[off >> ARENA_GRAIN_SHIFT];
	s = RELAXED_LOAD(st);
	if (s - 1u >= FOG_ARENA_NCLASSES) {
		if (s == ST_LARGE)
			return free_large(a, ptr, off);
		return free_refused(a, off, s);
	}
	c = s - 1u;
	tc = tcache_get(a);
	if (!tc)
		return free_central(a, ptr, c);
	if (a->flags & FOG_ARENA_STRICT) {
		/* of two threads freeing one block at once, only one sees it live */
		if (__atomic_exchange_n(st, ST_CACHED, __ATOMIC_RELAXED) != s)
			return free_bad(a, -EALREADY);
	} else {
		RELAXED_STORE(st, ST_CACHED);
	}
	n = bin_cached(tc, c);
	if (n == tc->bin[c].cap) {
		/* full: the older half goes back to the runs */
		tcache_flush_class(a, tc, c, n / 2);
		n = bin_cached(tc, c);
	}
	POISON(ptr, fog_arena_csize[c]);
	tc->slots[c][n] = ptr;
	RELAXED_STORE(&tc->bin[c].w, tc->bin[c].w + BIN_PUSH + 1);
	return 0;
}

/*
 * The fast free keeps the exact check: the block's own state byte must say
 * "live, class c", so a double free, an interior pointer or a stale one is
 * refused whatever thread's cache the block went through. Measured on
 * tools/bench/arena_bench (small churn), the check costs about 8% of a
 * free + alloc pair, its loads and stores rather than cache misses: state
 * tables eight times denser (a byte per block, or per class-sized granule)
 * gained nothing, and a byte per block, whose index needs the run's head
 * and a division, made the allocation path slower. Checking only when a
 * cache flushes would let a block sit in a cache twice and be handed out
 * twice before that. So the check stays, and the rest of the path sheds
 * work instead: one compare for range and alignment, the slot through %fs,
 * the class from a byte table, and no counter (see struct arena_bin).
 */
int fog_arena__dealloc(struct fog_arena *a, void *ptr)
{
	uintptr_t off = (uintptr_t)ptr - (uintptr_t)a->base;
	/* granule index, rotated: a misaligned pointer comes out above ngrains */
	uintptr_t g = (off >> ARENA_GRAIN_SHIFT) | (off << (64 - ARENA_GRAIN_SHIFT));
	__typeof__(TLS_SLOT(a)) sl = TLS_SLOT(a);
	struct arena_tcache *tc;
	size_t c, n;
	uint64_t w;
	uint8_t *st;

	if (unlikely(g >= a->ngrains))
		goto slow;
	st = &a->state[g];
	/*
	 * The class from page_cls (a few hot lines), checked against the state
	 * byte (class + 1 for a live small block): the stores below then do not
	 * wait for the state table, which is further from the core.
	 */
	c = a->page_cls[off >> ARENA_PAGE_SHIFT];
	if (unlikely(RELAXED_LOAD(st) != c + 1 || sl->gen != a->free_gen))
		goto slow;
	tc = sl->tc;
	w = tc->bin[c].w;
	n = (uint8_t)w; /* w & BIN_NMASK */
	if (unlikely(n >= tc->bin[c].cap))
		goto slow; /* full */
	RELAXED_STORE(st, ST_CACHED);
	POISON(ptr, fog_arena_csize[c]);
	tc->slots[c][n] = ptr;
	RELAXED_STORE(&tc->bin[c].w, w + BIN_PUSH + 1);
	return 0;
slow:
	return dealloc_slow(a, ptr);
}

size_t fog_arena__usable_size(struct fog_arena *a, const void *ptr)
{
	uintptr_t off = (uintptr_t)ptr - (uintptr_t)a->base;
	uint8_t s;
	size_t n = 0;

	if (off >= a->size || (off & (FOG_ARENA_ALIGN - 1)))
		return 0;
	s = RELAXED_LOAD(state_of(a, ptr));
	if (s - 1u < FOG_ARENA_NCLASSES)
		return fog_arena_csize[s - 1];
	if (s != ST_LARGE)
		return 0;
	pthread_mutex_lock(&a->heap_lock);
	if (a->pages[off >> ARENA_PAGE_SHIFT].kind == PG_LARGE)
		n = (size_t)a->pages[off >> ARENA_PAGE_SHIFT].npages << ARENA_PAGE_SHIFT;
	pthread_mutex_unlock(&a->heap_lock);
	return n;
}

bool fog_arena__owns(const struct fog_arena *a, const void *ptr)
{
	return (uintptr_t)ptr - (uintptr_t)a->base < a->size;
}

const char *fog_arena__name(const struct fog_arena *a)
{
	return a->name;
}

/* ---- lifetime ---- */

static void *map_table(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static size_t table_bytes(size_t bytes)
{
	return (bytes + 4095) & ~(size_t)4095;
}

static void arena_unmap(struct fog_arena *a)
{
	if (a->base)
		munmap(a->base, a->size);
	if (a->state)
		munmap(a->state, table_bytes(a->size >> ARENA_GRAIN_SHIFT));
	if (a->recs)
		munmap(a->recs, table_bytes((a->size >> ARENA_GRAIN_SHIFT) * sizeof(*a->recs)));
	if (a->pages)
		munmap(a->pages, table_bytes(a->npages * sizeof(*a->pages)));
	if (a->page_cls)
		munmap(a->page_cls, table_bytes(a->npages));
	free(a->chunk_live);
	free(a->chunk_committed);
	free(a->used);
}

static int opts_check(const struct fog_arena_opts *o, size_t *reserve, size_t *chunk)
{
	*reserve = o && o->reserve ? o->reserve : FOG_ARENA_DEFAULT_RESERVE;
	*chunk = o && o->commit_chunk ? o->commit_chunk : FOG_ARENA_DEFAULT_CHUNK;
	if (*chunk < FOG_ARENA_PAGE_SIZE || (*chunk & (*chunk - 1)) || *chunk > (1u << 30))
		return -EINVAL;
	if (*reserve < ARENA_MIN_RESERVE || *reserve > (1ull << 46))
		return -EINVAL;
	*reserve = (*reserve + *chunk - 1) & ~(*chunk - 1);
	/* page indices are 32-bit */
	if ((*reserve >> ARENA_PAGE_SHIFT) >= ARENA_NONE)
		return -EINVAL;
	return 0;
}

struct fog_arena *fog_arena__new(const struct fog_arena_opts *opts)
{
	struct fog_arena *a;
	size_t reserve, chunk;
	char *raw, *base;
	int err;

	err = opts_check(opts, &reserve, &chunk);
	if (err) {
		errno = -err;
		return NULL;
	}
	if (posix_memalign((void **)&a, 64, sizeof(*a))) {
		errno = ENOMEM;
		return NULL;
	}
	memset(a, 0, sizeof(*a));
	a->flags = opts ? opts->flags : 0;
	snprintf(a->name, sizeof(a->name), "%s", opts && opts->name ? opts->name : "arena");

	/* over-reserve by one chunk so the base can be chunk-aligned (huge pages) */
	raw = mmap(NULL, reserve + chunk, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (raw == MAP_FAILED)
		goto out_errno;
	base = (char *)(((uintptr_t)raw + chunk - 1) & ~(uintptr_t)(chunk - 1));
	if (base > raw)
		munmap(raw, base - raw);
	munmap(base + reserve, raw + chunk - base);
	a->base = base;
	a->size = reserve;
	/*
	 * No huge page on first touch, even where THP is "always": commit_range
	 * advises each chunk MADV_HUGEPAGE once its page tables are in place.
	 * The kernel refuses both advices alike when it has no THP.
	 */
	if (!(a->flags & FOG_ARENA_NO_HUGEPAGE))
		a->hugepages = !madvise(base, reserve, MADV_NOHUGEPAGE);

	a->npages = (uint32_t)(reserve >> ARENA_PAGE_SHIFT);
	/* base is chunk-aligned: state byte of p = state_bias + p / 16 */
	a->chunk_shift = (unsigned int)__builtin_ctzl(chunk);
	a->nchunks = reserve >> a->chunk_shift;
	a->state = map_table(table_bytes(reserve >> ARENA_GRAIN_SHIFT));
	a->pages = map_table(table_bytes(a->npages * sizeof(*a->pages)));
	a->page_cls = map_table(table_bytes(a->npages));
	a->chunk_live = calloc(a->nchunks, sizeof(*a->chunk_live));
	a->chunk_committed = calloc(a->nchunks, 1);
	a->used = calloc((a->npages + 63) / 64, sizeof(*a->used));
	if (!a->state || !a->pages || !a->page_cls || !a->chunk_live || !a->chunk_committed ||
	    !a->used)
		goto out_errno;
	a->state_bias = (uintptr_t)a->state - ((uintptr_t)a->base >> ARENA_GRAIN_SHIFT);
	a->ngrains = reserve >> ARENA_GRAIN_SHIFT;
	if (a->flags & FOG_ARENA_TRACK) {
		a->recs = map_table(table_bytes((reserve >> ARENA_GRAIN_SHIFT) * sizeof(*a->recs)));
		if (!a->recs)
			goto out_errno;
	}
	pthread_mutex_init(&a->heap_lock, NULL);
	pthread_mutex_init(&a->tc_lock, NULL);
	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		pthread_mutex_init(&a->central[c].lock, NULL);
		a->central[c].partial = ARENA_NONE;
	}

	a->slot = ARENA_TLS_SLOTS;
	pthread_mutex_lock(&reg_lock);
	a->gen = ++reg_gen;
	/* tracking records every allocation, strict mode frees atomically: slow paths */
	a->fast_gen = a->recs ? UINT64_MAX : a->gen;
	a->free_gen = a->flags & FOG_ARENA_STRICT ? UINT64_MAX : a->gen;
	if (!(a->flags & FOG_ARENA_NO_TCACHE)) {
		for (unsigned int i = 0; i < ARENA_TLS_SLOTS; i++) {
			if (!reg_arenas[i]) {
				reg_arenas[i] = a;
				a->slot = i;
				break;
			}
		}
	}
	pthread_mutex_unlock(&reg_lock);
	a->tls_off = TLS_OFF(&tls_slots[a->slot]);
	return a;

out_errno:
	err = errno;
	arena_unmap(a);
	free(a);
	errno = err;
	return NULL;
}

void fog_arena__free(struct fog_arena *a)
{
	struct arena_tcache *tc, *next;

	if (!a)
		return;
	/* out of the registry first: an exiting thread then leaves its cache alone */
	pthread_mutex_lock(&reg_lock);
	if (a->slot < ARENA_TLS_SLOTS)
		reg_arenas[a->slot] = NULL;
	pthread_mutex_unlock(&reg_lock);
	if (a->slot < ARENA_TLS_SLOTS && tls_slots[a->slot].gen == a->gen)
		tls_slots[a->slot].gen = 0;
	for (tc = a->tcs; tc; tc = next) {
		next = tc->next;
		free(tc);
	}
	pthread_mutex_destroy(&a->heap_lock);
	pthread_mutex_destroy(&a->tc_lock);
	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++)
		pthread_mutex_destroy(&a->central[c].lock);
	UNPOISON(a->base, (size_t)a->top << ARENA_PAGE_SHIFT);
	arena_unmap(a);
	free(a);
}

int fog_arena__reset(struct fog_arena *a)
{
	uint32_t top;

	pthread_mutex_lock(&a->tc_lock);
	for (struct arena_tcache *tc = a->tcs; tc; tc = tc->next) {
		for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
			/* the dropped blocks count as flushed: tcache_nalloc stays right */
			RELAXED_STORE(&tc->flushed, tc->flushed + bin_cached(tc, c));
			RELAXED_STORE(&tc->bin[c].w, tc->bin[c].w & ~(uint64_t)BIN_NMASK);
			tc->own[c] = ARENA_NONE;
		}
	}
	pthread_mutex_unlock(&a->tc_lock);
	for (unsigned int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		struct arena_central *cl = &a->central[c];

		pthread_mutex_lock(&cl->lock);
		cl->partial = ARENA_NONE;
		cl->nempty = 0;
		cl->out = 0;
		cl->nruns = 0;
		pthread_mutex_unlock(&cl->lock);
	}
	pthread_mutex_lock(&a->heap_lock);
	top = a->top;
	memset(a->state, ST_FREE, ((size_t)top << ARENA_PAGE_SHIFT) >> ARENA_GRAIN_SHIFT);
	memset(a->pages, 0, (size_t)top * sizeof(*a->pages));
	memset(a->page_cls, 0, top);
	memset(a->chunk_live, 0, a->nchunks * sizeof(*a->chunk_live));
	memset(a->used, 0, (a->npages + 63) / 64 * sizeof(*a->used));
	a->lowfree = 0;
	a->top = 0;
	a->live_pages = 0;
	a->large_bytes = 0;
	RELAXED_STORE(&a->held, 0);
	pthread_mutex_unlock(&a->heap_lock);
	POISON(a->base, (size_t)top << ARENA_PAGE_SHIFT);
	return 0;
}

void fog_arena__flush(struct fog_arena *a)
{
	struct tls_slot *s = &tls_slots[a->slot];

	if (s->gen == a->gen)
		tcache_flush_all(a, s->tc);
}
