// SPDX-License-Identifier: GPL-2.0-only
/*
 * The memory arena and zero-copy views: size classes and alignment, reuse,
 * statistics, reset, lazy commit and trim, tracking with call sites, thread
 * caches under concurrent churn, and every kind of bad input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "fog/arena.h"
#include "fog/view.h"
#include "fail_inject.h"

#define MiB (1024u * 1024)

/* An allocation that records its site, and the "file:line" it must be reported as. */
#define ALLOC_NOTING(a, size, where)                                                               \
	(snprintf((where), sizeof(where), "%s:%d", __FILE__, __LINE__),                            \
	 fog_arena_alloc_here((a), (size)))

static int arena_setup(void **state)
{
	struct fog_arena_opts o = {.name = "test"};

	*state = fog_arena__new(&o);
	return *state ? 0 : -1;
}

static int arena_teardown(void **state)
{
	fog_arena__free(*state);
	return 0;
}

static int cmp_ptr(const void *x, const void *y)
{
	uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;

	return a < b ? -1 : a > b;
}

static bool all_distinct(void **v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_ptr);
	for (size_t i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return false;
	return true;
}

/* ---- size classes and alignment ---- */

/* Every size maps to the smallest class that holds it, on the hot path too. */
static void test_size_classes(void **state)
{
	struct fog_arena *a = *state;
	size_t prev = 0;

	for (int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		size_t cs = fog_arena_class_size(c);

		assert_true(cs > prev);
		assert_int_equal(cs % 16, 0);
		prev = cs;
	}
	assert_int_equal(prev, FOG_ARENA_SMALL_MAX);
	assert_int_equal(fog_arena_class_size(FOG_ARENA_NCLASSES), 0);
	assert_int_equal(fog_arena_size_class(0), -1);
	assert_int_equal(fog_arena_size_class(FOG_ARENA_SMALL_MAX + 1), -1);
	for (size_t size = 1; size <= FOG_ARENA_SMALL_MAX; size++) {
		int c = fog_arena_size_class(size);
		void *p;

		assert_true(c >= 0);
		assert_true(fog_arena_class_size(c) >= size);
		if (c > 0)
			assert_true(fog_arena_class_size(c - 1) < size);
		if (size % 61 && size > 2048)
			continue; /* every size below 2 KiB, a sample above */
		p = fog_arena__alloc(a, size);
		assert_non_null(p);
		assert_int_equal(fog_arena__usable_size(a, p), fog_arena_class_size(c));
		assert_int_equal(fog_arena__dealloc(a, p), 0);
	}
}

/* Every class gives 16-byte alignment, powers of two their own, large runs 64 KiB. */
static void test_alignment(void **state)
{
	struct fog_arena *a = *state;
	void *keep[FOG_ARENA_NCLASSES][5];

	for (int c = 0; c < FOG_ARENA_NCLASSES; c++) {
		size_t cs = fog_arena_class_size(c);

		for (int i = 0; i < 5; i++) {
			size_t size = i % 2 ? cs : cs - 15;
			uintptr_t p = (uintptr_t)fog_arena__alloc(a, size);

			assert_true(p != 0);
			assert_int_equal(p % FOG_ARENA_ALIGN, 0);
			if (!(cs & (cs - 1)))
				assert_int_equal(p % cs, 0);
			memset((void *)p, 0xa5, size); /* all of it is writable */
			keep[c][i] = (void *)p;
		}
	}
	for (size_t size = FOG_ARENA_SMALL_MAX + 1; size < 4 * MiB; size = size * 3 + 7) {
		void *p = fog_arena__alloc(a, size);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % FOG_ARENA_PAGE_SIZE, 0);
		memset(p, 1, size);
		assert_int_equal(fog_arena__dealloc(a, p), 0);
	}
	for (int c = 0; c < FOG_ARENA_NCLASSES; c++)
		for (int i = 0; i < 5; i++)
			assert_int_equal(fog_arena__dealloc(a, keep[c][i]), 0);
}

/* ---- reuse ---- */

static void test_reuse_freed_block(void **state)
{
	struct fog_arena *a = *state;
	void *p = fog_arena__alloc(a, 100), *q;

	assert_non_null(p);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	q = fog_arena__alloc(a, 97); /* same class */
	assert_ptr_equal(p, q);
	assert_int_equal(fog_arena__dealloc(a, q), 0);
}

/* A second round of the same allocations reuses the same memory and commits nothing new. */
static void test_reuse_many(void **state)
{
	struct fog_arena *a = *state;
	enum { N = 20000 };
	void **first = calloc(N, sizeof(void *)), **second = calloc(N, sizeof(void *));
	struct fog_arena_stats s1, s2;

	for (int i = 0; i < N; i++)
		first[i] = fog_arena__alloc(a, 16 + (size_t)(i % 40) * 24);
	for (int i = 0; i < N; i++)
		assert_int_equal(fog_arena__dealloc(a, first[i]), 0);
	fog_arena__stats(a, &s1);
	for (int i = 0; i < N; i++)
		second[i] = fog_arena__alloc(a, 16 + (size_t)(i % 40) * 24);
	fog_arena__stats(a, &s2);
	/* nothing new committed: the second round lives where the first did */
	assert_int_equal(s1.committed, s2.committed);
	assert_int_equal(s1.peak_committed, s2.peak_committed);
	assert_true(all_distinct(first, N));
	assert_true(all_distinct(second, N));
	assert_true(second[0] >= first[0]);
	assert_true((char *)second[N - 1] < (char *)first[0] + s1.committed);
	for (int i = 0; i < N; i++)
		assert_int_equal(fog_arena__dealloc(a, second[i]), 0);
	free(first);
	free(second);
}

/* ---- statistics ---- */

static void test_stats_consistent(void **state)
{
	struct fog_arena *a = *state;
	struct fog_arena_stats s;
	size_t want = 0;
	void *p[300], *big;

	fog_arena__stats(a, &s);
	assert_int_equal(s.reserved, FOG_ARENA_DEFAULT_RESERVE);
	assert_int_equal(s.committed, 0);
	assert_int_equal(s.in_use, 0);
	for (int i = 0; i < 300; i++) {
		size_t size = 1 + (size_t)i * 37;

		p[i] = fog_arena__alloc(a, size);
		want += fog_arena_class_size(fog_arena_size_class(size));
	}
	big = fog_arena__alloc(a, 200000); /* 4 pages */
	want += 4 * FOG_ARENA_PAGE_SIZE;
	fog_arena__stats(a, &s);
	assert_int_equal(s.in_use, want);
	assert_int_equal(s.allocs, 301);
	assert_int_equal(s.frees, 0);
	assert_int_equal(s.committed, s.in_use + s.tied_free + s.free_pages);
	assert_true(s.peak_in_use >= s.in_use);
	assert_true(s.peak_committed >= s.committed);
	assert_true(s.utilization > 0 && s.utilization <= 100);
	assert_true(fabs(s.utilization - 100.0 * (double)s.in_use / (double)s.committed) < 1e-9);
	assert_true(s.fragmentation >= 0 && s.fragmentation + s.utilization <= 100.0 + 1e-9);
	assert_int_equal(s.threads, 1);

	for (int i = 0; i < 300; i += 2) {
		want -= fog_arena__usable_size(a, p[i]);
		assert_int_equal(fog_arena__dealloc(a, p[i]), 0);
	}
	want -= fog_arena__usable_size(a, big);
	assert_int_equal(fog_arena__dealloc(a, big), 0);
	fog_arena__stats(a, &s);
	assert_int_equal(s.in_use, want);
	assert_int_equal(s.frees, 151);
	assert_int_equal(s.committed, s.in_use + s.tied_free + s.free_pages);
	assert_true(s.cached > 0);
	assert_true(s.tied_free >= s.cached);
	for (int i = 1; i < 300; i += 2)
		assert_int_equal(fog_arena__dealloc(a, p[i]), 0);
	fog_arena__flush(a);
	fog_arena__stats(a, &s);
	assert_int_equal(s.in_use, 0);
	assert_int_equal(s.cached, 0);
	assert_int_equal(s.allocs, s.frees);
	assert_int_equal(s.bad_frees, 0);
}

/* ---- reset ---- */

static void test_reset(void **state)
{
	struct fog_arena *a = *state;
	struct fog_arena_stats before, after;
	void *p[100], *big, *q;

	for (int i = 0; i < 100; i++)
		p[i] = fog_arena__alloc(a, 64);
	big = fog_arena__alloc(a, 1 * MiB);
	assert_non_null(big);
	fog_arena__stats(a, &before);
	assert_int_equal(fog_arena__reset(a), 0);
	fog_arena__stats(a, &after);
	assert_int_equal(after.in_use, 0);
	assert_int_equal(after.cached, 0);
	assert_int_equal(after.committed, before.committed); /* kept for reuse */
	/* pointers from before the reset are stale: refused, nothing corrupted */
	assert_int_equal(fog_arena__dealloc(a, p[3]), -EFAULT);
	assert_int_equal(fog_arena__dealloc(a, big), -EFAULT);
	assert_int_equal(fog_arena__usable_size(a, p[3]), 0);
	/* the memory is handed out again, from the start of the arena */
	q = fog_arena__alloc(a, 64);
	assert_ptr_equal(q, p[0]);
	fog_arena__stats(a, &after);
	assert_int_equal(after.committed, before.committed);
	assert_int_equal(after.in_use, 64);
	assert_int_equal(fog_arena__dealloc(a, q), 0);
}

/* ---- lazy commit and trim ---- */

static void test_lazy_commit(void **state)
{
	struct fog_arena_opts o = {.reserve = 256 * MiB, .commit_chunk = 1 * MiB};
	struct fog_arena *a = fog_arena__new(&o);
	struct fog_arena_stats s;
	enum { N = 64 * 1024 }; /* 64 MiB in 1 KiB blocks */
	void **v = calloc(N, sizeof(void *));

	assert_non_null(a);
	fog_arena__stats(a, &s);
	assert_int_equal(s.reserved, 256 * MiB);
	assert_int_equal(s.committed, 0);
	assert_non_null(v[0] = fog_arena__alloc(a, 16));
	fog_arena__stats(a, &s);
	assert_int_equal(s.committed, 1 * MiB); /* one chunk for one small block */
	for (int i = 1; i < N; i++) {
		v[i] = fog_arena__alloc(a, 1024);
		assert_non_null(v[i]);
		if (i == N / 4) {
			fog_arena__stats(a, &s);
			/* a quarter of the data, plus at most a chunk of slack */
			assert_true(s.committed >= 16 * MiB);
			assert_true(s.committed <= 18 * MiB);
		}
	}
	fog_arena__stats(a, &s);
	assert_true(s.committed >= 64 * MiB);
	assert_true(s.committed <= 66 * MiB);
	assert_true(s.utilization > 95.0);
	for (int i = 0; i < N; i++)
		assert_int_equal(fog_arena__dealloc(a, v[i]), 0);
	free(v);
	fog_arena__free(a);
}

static void test_trim(void **state)
{
	struct fog_arena_opts o = {.reserve = 256 * MiB, .commit_chunk = 1 * MiB};
	struct fog_arena *a = fog_arena__new(&o);
	struct fog_arena_stats s;
	void *big[16], *small[2000], *keep;
	long got;

	assert_non_null(a);
	keep = fog_arena__alloc(a, 48); /* pins its chunk */
	for (int i = 0; i < 16; i++) {
		big[i] = fog_arena__alloc(a, 2 * MiB);
		memset(big[i], i, 2 * MiB);
	}
	for (int i = 0; i < 2000; i++)
		small[i] = fog_arena__alloc(a, 512);
	fog_arena__stats(a, &s);
	assert_true(s.committed >= 33 * MiB);
	for (int i = 0; i < 16; i++)
		assert_int_equal(fog_arena__dealloc(a, big[i]), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(fog_arena__dealloc(a, small[i]), 0);
	got = fog_arena__trim(a);
	/* everything but the chunk that holds the live 48-byte block */
	assert_true(got >= 32 * MiB);
	fog_arena__stats(a, &s);
	assert_int_equal(s.committed, 1 * MiB);
	assert_int_equal(s.trimmed, (size_t)got);
	assert_int_equal(s.in_use, 48);
	/* trimmed memory comes back on demand, zeroed by the kernel */
	big[0] = fog_arena__alloc(a, 4 * MiB);
	assert_non_null(big[0]);
	assert_int_equal(((unsigned char *)big[0])[12345], 0);
	memset(big[0], 7, 4 * MiB);
	assert_int_equal(fog_arena__trim(a), 0); /* nothing idle */
	assert_int_equal(fog_arena__dealloc(a, big[0]), 0);
	assert_int_equal(fog_arena__dealloc(a, keep), 0);
	fog_arena__free(a);
}

/* ---- tracking and leak reports ---- */

struct site_count {
	const char *site;
	int n;
	size_t bytes;
	int callers;
};

static int count_site(const struct fog_arena_live *l, void *ctx)
{
	struct site_count *c = ctx;

	for (; c->site; c++) {
		if (l->site && !strcmp(l->site, c->site)) {
			c->n++;
			c->bytes += l->size;
			return 0;
		}
	}
	if (!l->site && l->caller)
		c->callers++;
	return 0;
}

static void test_tracking_leak_report(void **state)
{
	struct fog_arena_opts o = {.reserve = 64 * MiB, .flags = FOG_ARENA_TRACK, .name = "leaky"};
	struct fog_arena *a = fog_arena__new(&o);
	char site_a[64], site_b[64], *text = NULL;
	struct site_count counts[3] = {{site_a}, {site_b}, {NULL}};
	void *pa[10], *pb[3], *anon;
	size_t len = 0;
	FILE *out;
	long n;

	assert_non_null(a);
	for (int i = 0; i < 10; i++)
		pa[i] = ALLOC_NOTING(a, 40, site_a);
	for (int i = 0; i < 3; i++)
		pb[i] = ALLOC_NOTING(a, 100000, site_b);
	anon = fog_arena__alloc(a, 24);
	assert_non_null(anon);
	for (int i = 0; i < 10; i += 2)
		assert_int_equal(fog_arena__dealloc(a, pa[i]), 0);
	assert_int_equal(fog_arena__dealloc(a, pb[1]), 0);

	assert_int_equal(fog_arena__for_each_live(a, count_site, counts), 0);
	assert_int_equal(counts[0].n, 5);
	assert_int_equal(counts[0].bytes, 5 * 40); /* requested sizes, not class sizes */
	assert_int_equal(counts[1].n, 2);
	assert_int_equal(counts[1].bytes, 2 * 100000);
	assert_int_equal(counts[2].callers, 1); /* the plain call records its caller */

	out = open_memstream(&text, &len);
	n = fog_arena__leak_report(a, out, 0);
	fclose(out);
	assert_int_equal(n, 8);
	assert_non_null(strstr(text, "arena leaky: 8 live allocations, 200224 bytes, 3 sites"));
	/* biggest first */
	assert_non_null(strstr(text, site_b));
	assert_non_null(strstr(text, site_a));
	assert_true(strstr(text, site_b) < strstr(text, site_a));
	assert_non_null(strstr(text, "       2 allocations       200000 bytes  at "));
	assert_non_null(strstr(text, "       5 allocations          200 bytes  at "));
	free(text);

	text = NULL;
	out = open_memstream(&text, &len);
	assert_int_equal(fog_arena__leak_report(a, out, 1), 8);
	fclose(out);
	assert_non_null(strstr(text, "... 2 more sites"));
	assert_null(strstr(text, site_a));
	free(text);
	fog_arena__free(a);
}

static int stop_after_two(const struct fog_arena_live *l, void *ctx)
{
	return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_for_each_live_stops(void **state)
{
	struct fog_arena *a = *state;
	void *p[4];
	int seen = 0;

	for (int i = 0; i < 4; i++)
		p[i] = fog_arena__alloc(a, 32);
	assert_int_equal(fog_arena__for_each_live(a, stop_after_two, &seen), 42);
	assert_int_equal(seen, 2);
	for (int i = 0; i < 4; i++)
		fog_arena__dealloc(a, p[i]);
}

/* ---- threads ---- */

enum { CHURN_THREADS = 4, CHURN_OPS = 200000, CHURN_LIVE = 512, HANDOFF = 64 };

struct churn {
	struct fog_arena *a;
	unsigned int id;
	uint64_t errors;
	/* blocks handed to the next thread to free: cross-thread frees */
	pthread_mutex_t lock;
	void *inbox[HANDOFF];
	unsigned int ninbox;
	struct churn *next;
};

struct block_hdr {
	uint64_t owner; /* thread id and sequence: a block handed out twice breaks it */
	uint64_t size;
};

static bool block_ok(const struct block_hdr *h)
{
	const unsigned char *tail = (const unsigned char *)h + h->size - 8;
	uint64_t t;

	memcpy(&t, tail, 8);
	return t == ~h->owner;
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	struct block_hdr *live[CHURN_LIVE] = {0};
	uint64_t rng = 0x9e3779b97f4a7c15ull * (c->id + 1), seq = 0;

	for (int op = 0; op < CHURN_OPS; op++) {
		unsigned int slot;
		size_t size;

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		slot = rng % CHURN_LIVE;
		if (live[slot]) {
			if (!block_ok(live[slot]))
				c->errors++;
			if (rng & 0x100000) {
				pthread_mutex_lock(&c->next->lock);
				if (c->next->ninbox < HANDOFF) {
					c->next->inbox[c->next->ninbox++] = live[slot];
					live[slot] = NULL;
				}
				pthread_mutex_unlock(&c->next->lock);
			}
			if (live[slot] && fog_arena__dealloc(c->a, live[slot]))
				c->errors++;
			live[slot] = NULL;
		}
		pthread_mutex_lock(&c->lock);
		for (unsigned int i = 0; i < c->ninbox; i++) {
			if (!block_ok(c->inbox[i]) || fog_arena__dealloc(c->a, c->inbox[i]))
				c->errors++;
		}
		c->ninbox = 0;
		pthread_mutex_unlock(&c->lock);
		size = 32 + (rng >> 40) % (rng & 0x200000 ? 3000 : 200);
		live[slot] = fog_arena__alloc(c->a, size);
		if (!live[slot]) {
			c->errors++;
			continue;
		}
		live[slot]->owner = ((uint64_t)c->id << 48) | ++seq;
		live[slot]->size = size;
		{
			uint64_t t = ~live[slot]->owner;

			memcpy((unsigned char *)live[slot] + size - 8, &t, 8);
		}
	}
	for (unsigned int i = 0; i < CHURN_LIVE; i++) {
		if (live[i] && (!block_ok(live[i]) || fog_arena__dealloc(c->a, live[i])))
			c->errors++;
	}
	return NULL;
}

static void churn_run(struct fog_arena *a)
{
	struct churn c[CHURN_THREADS];
	pthread_t t[CHURN_THREADS];
	struct fog_arena_stats s;

	for (unsigned int i = 0; i < CHURN_THREADS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].a = a;
		c[i].id = i + 1;
		c[i].next = &c[(i + 1) % CHURN_THREADS];
		pthread_mutex_init(&c[i].lock, NULL);
	}
	for (unsigned int i = 0; i < CHURN_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &c[i]), 0);
	for (unsigned int i = 0; i < CHURN_THREADS; i++)
		pthread_join(t[i], NULL);
	/* inboxes left over after their owner finished */
	for (unsigned int i = 0; i < CHURN_THREADS; i++) {
		for (unsigned int k = 0; k < c[i].ninbox; k++) {
			assert_true(block_ok(c[i].inbox[k]));
			assert_int_equal(fog_arena__dealloc(a, c[i].inbox[k]), 0);
		}
		assert_int_equal(c[i].errors, 0);
		pthread_mutex_destroy(&c[i].lock);
	}
	fog_arena__flush(a);
	fog_arena__stats(a, &s);
	/* exited threads handed their caches back */
	assert_int_equal(s.in_use, 0);
	assert_int_equal(s.cached, 0);
	assert_int_equal(s.allocs, s.frees);
	assert_true(s.allocs >= CHURN_THREADS * (uint64_t)CHURN_OPS);
	assert_int_equal(s.bad_frees, 0);
	assert_int_equal(s.corrupt_lists, 0);
}

static void test_threads_churn(void **state)
{
	churn_run(*state);
}

static void test_threads_churn_no_cache(void **state)
{
	struct fog_arena_opts o = {.reserve = 256 * MiB, .flags = FOG_ARENA_NO_TCACHE};
	struct fog_arena *a = fog_arena__new(&o);

	assert_non_null(a);
	churn_run(a);
	fog_arena__free(a);
}

struct own_arg {
	struct fog_arena *a;
	pthread_barrier_t *go;
	void *p[200];
};

static void *own_thread(void *arg)
{
	struct own_arg *o = arg;

	pthread_barrier_wait(o->go);
	for (int i = 0; i < 200; i++)
		o->p[i] = fog_arena__alloc(o->a, 48);
	pthread_barrier_wait(o->go); /* both done before either frees */
	for (int i = 0; i < 200; i++)
		fog_arena__dealloc(o->a, o->p[i]);
	return NULL;
}

/* Each thread carves its own runs: no 64 KiB page holds blocks of both threads. */
static void test_threads_own_runs(void **state)
{
	struct fog_arena *a = *state;
	struct own_arg o[2] = {{.a = a}, {.a = a}};
	pthread_barrier_t go;
	pthread_t t[2];

	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		o[i].go = &go;
		pthread_create(&t[i], NULL, own_thread, &o[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < 200; i++) {
		uintptr_t page = (uintptr_t)o[0].p[i] / FOG_ARENA_PAGE_SIZE;

		assert_non_null(o[0].p[i]);
		for (int k = 0; k < 200; k++)
			assert_true((uintptr_t)o[1].p[k] / FOG_ARENA_PAGE_SIZE != page);
	}
}

enum { RACE_N = 20000 };

struct race {
	struct fog_arena *a;
	void **v;
	pthread_barrier_t *go;
	unsigned int ok;
	unsigned int already;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(r->go);
	for (unsigned int i = 0; i < RACE_N; i++) {
		int err = fog_arena__dealloc(r->a, r->v[i]);

		if (!err)
			r->ok++;
		else if (err == -EALREADY)
			r->already++;
	}
	return NULL;
}

/* With FOG_ARENA_STRICT two threads freeing the same blocks at once: each block freed once. */
static void test_strict_racing_double_free(void **state)
{
	struct fog_arena_opts o = {.reserve = 64 * MiB, .flags = FOG_ARENA_STRICT};
	struct fog_arena *a = fog_arena__new(&o);
	void **v = calloc(RACE_N, sizeof(void *)), **again = calloc(RACE_N, sizeof(void *));
	pthread_barrier_t go;
	struct race r[2];
	pthread_t t[2];

	assert_non_null(a);
	for (unsigned int i = 0; i < RACE_N; i++)
		v[i] = fog_arena__alloc(a, 32);
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct race){.a = a, .v = v, .go = &go};
		pthread_create(&t[i], NULL, race_thread, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(r[0].ok + r[1].ok, RACE_N);
	assert_int_equal(r[0].already + r[1].already, RACE_N);
	/* no block went into two caches: the next allocations are all different */
	for (unsigned int i = 0; i < RACE_N; i++)
		again[i] = fog_arena__alloc(a, 32);
	assert_true(all_distinct(again, RACE_N));
	free(v);
	free(again);
	fog_arena__free(a);
}

/* More arenas than thread-local slots: the extra ones take the locked path and still work. */
static void test_many_arenas(void **state)
{
	enum { N = 70 };
	struct fog_arena_opts o = {.reserve = 4 * MiB, .commit_chunk = 64 * 1024};
	struct fog_arena *a[N];

	for (int i = 0; i < N; i++) {
		struct fog_arena_stats s;
		void *p;

		a[i] = fog_arena__new(&o);
		assert_non_null(a[i]);
		p = fog_arena__alloc(a[i], 200);
		assert_non_null(p);
		assert_true(fog_arena__owns(a[i], p));
		if (i)
			assert_false(fog_arena__owns(a[i - 1], p));
		assert_int_equal(fog_arena__dealloc(a[i], p), 0);
		fog_arena__stats(a[i], &s);
		assert_int_equal(s.allocs, 1);
		assert_int_equal(s.frees, 1);
	}
	for (int i = 0; i < N; i++)
		fog_arena__free(a[i]);
}

/* ---- bad input ---- */

static void test_bad_opts(void **state)
{
	struct fog_arena_opts o = {.commit_chunk = 3 * MiB};

	errno = 0;
	assert_null(fog_arena__new(&o));
	assert_int_equal(errno, EINVAL);
	o = (struct fog_arena_opts){.commit_chunk = 4096};
	assert_null(fog_arena__new(&o));
	assert_int_equal(errno, EINVAL);
	o = (struct fog_arena_opts){.reserve = 4096};
	assert_null(fog_arena__new(&o));
	assert_int_equal(errno, EINVAL);
}

static void test_bad_sizes(void **state)
{
	struct fog_arena_opts o = {.reserve = 8 * MiB, .commit_chunk = 1 * MiB};
	struct fog_arena *a = fog_arena__new(&o), *nolarge;
	struct fog_arena_stats s;
	void *p;

	assert_non_null(a);
	errno = 0;
	assert_null(fog_arena__alloc(a, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(fog_arena__alloc(a, 8 * MiB + 1)); /* beyond the arena: never fits */
	assert_int_equal(errno, E2BIG);
	assert_null(fog_arena__alloc(a, SIZE_MAX));
	assert_int_equal(errno, E2BIG);
	assert_null(fog_arena__calloc(a, SIZE_MAX / 2, 3));
	assert_int_equal(errno, EOVERFLOW);
	p = fog_arena__alloc(a, 6 * MiB);
	assert_non_null(p);
	assert_null(fog_arena__alloc(a, 3 * MiB)); /* fits the arena, not what is left */
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	p = fog_arena__alloc(a, 3 * MiB); /* the freed run serves it */
	assert_non_null(p);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	fog_arena__stats(a, &s);
	assert_int_equal(s.failed_allocs, 5);

	o.flags = FOG_ARENA_NO_LARGE;
	nolarge = fog_arena__new(&o);
	assert_non_null(nolarge);
	assert_non_null(p = fog_arena__alloc(nolarge, FOG_ARENA_SMALL_MAX));
	assert_int_equal(fog_arena__dealloc(nolarge, p), 0);
	assert_null(fog_arena__alloc(nolarge, FOG_ARENA_SMALL_MAX + 1));
	assert_int_equal(errno, E2BIG);
	fog_arena__free(nolarge);
	fog_arena__free(a);
}

/* Fills small runs until the arena is full: ENOMEM, then it recovers after frees. */
static void test_full_arena(void **state)
{
	struct fog_arena_opts o = {.reserve = 4 * MiB, .commit_chunk = 1 * MiB};
	struct fog_arena *a = fog_arena__new(&o);
	enum { MAX = 4 * 1024 * 1024 / 4096 };
	void *v[MAX + 1];
	int n = 0;

	assert_non_null(a);
	while (n <= MAX && (v[n] = fog_arena__alloc(a, 4096)))
		n++;
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(n, MAX); /* 4 KiB blocks fill 64 KiB runs exactly */
	assert_true(all_distinct(v, n));
	for (int i = 0; i < n; i++)
		assert_int_equal(fog_arena__dealloc(a, v[i]), 0);
	/* cached blocks and the spare run pin pages; trim hands them all back */
	assert_true(fog_arena__trim(a) >= 3 * MiB);
	assert_non_null(v[0] = fog_arena__alloc(a, 2 * MiB));
	assert_int_equal(fog_arena__dealloc(a, v[0]), 0);
	fog_arena__free(a);
}

static void test_bad_frees(void **state)
{
	struct fog_arena *a = *state, *other;
	struct fog_arena_stats s;
	char *p = fog_arena__alloc(a, 64), *big = fog_arena__alloc(a, 300000), *q, *r;
	void *heap = malloc(64);
	int local;

	assert_non_null(p);
	assert_non_null(big);
	other = fog_arena__new(NULL);
	assert_non_null(other);
	assert_int_equal(fog_arena__dealloc(a, NULL), 0);
	assert_int_equal(fog_arena__dealloc(a, heap), -EFAULT);
	assert_int_equal(fog_arena__dealloc(a, &local), -EFAULT);
	assert_int_equal(fog_arena__dealloc(other, p), -EFAULT);  /* another arena's block */
	assert_int_equal(fog_arena__dealloc(a, p + 1), -EINVAL);  /* misaligned */
	assert_int_equal(fog_arena__dealloc(a, p + 16), -EINVAL); /* inside the block */
	assert_int_equal(fog_arena__dealloc(a, p + 48), -EINVAL);
	assert_int_equal(fog_arena__dealloc(a, big + FOG_ARENA_PAGE_SIZE), -EINVAL);
	assert_int_equal(fog_arena__dealloc(a, big + 16), -EINVAL);
	/* a page inside the reservation never handed out */
	assert_int_equal(fog_arena__dealloc(a, p + 512 * (size_t)MiB), -EFAULT);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	assert_int_equal(fog_arena__dealloc(a, p), -EALREADY); /* double free */
	assert_int_equal(fog_arena__dealloc(a, big), 0);
	assert_int_equal(fog_arena__dealloc(a, big), -EALREADY);
	fog_arena__flush(a); /* now p sits on a central list: still refused */
	assert_int_equal(fog_arena__dealloc(a, p), -EALREADY);
	fog_arena__stats(a, &s);
	assert_int_equal(s.bad_frees, 11);
	assert_int_equal(s.frees, 2);
	assert_int_equal(s.in_use, 0);
	/* nothing was corrupted: two allocations get two different blocks */
	q = fog_arena__alloc(a, 64);
	r = fog_arena__alloc(a, 64);
	assert_non_null(q);
	assert_non_null(r);
	assert_ptr_not_equal(q, r);
	assert_int_equal(fog_arena__dealloc(a, q), 0);
	assert_int_equal(fog_arena__dealloc(a, r), 0);
	assert_int_equal(fog_arena__usable_size(a, heap), 0);
	assert_int_equal(fog_arena__usable_size(a, p + 16), 0);
	fog_arena__stats(other, &s);
	assert_int_equal(s.bad_frees, 1);
	free(heap);
	fog_arena__free(other);
}

/* A thread's cache holds freed blocks (cache_get pops them first): every way back is refused. */
struct second_free {
	struct fog_arena *a;
	void *p;
	int err;
};

static void *free_elsewhere(void *arg)
{
	struct second_free *f = arg;

	f->err = fog_arena__dealloc(f->a, f->p);
	return NULL;
}

static void test_double_free_through_cache(void **state)
{
	struct fog_arena *a = *state;
	struct fog_arena_stats s;
	struct second_free f;
	enum { N = 200 }; /* more than a bin holds: frees flush older blocks to the runs */
	void *p, *q, *v[N];
	pthread_t t;

	/* in this thread's cache; a second free from another thread (its own cache) */
	p = fog_arena__alloc(a, 40);
	assert_non_null(p);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	f = (struct second_free){.a = a, .p = p};
	pthread_create(&t, NULL, free_elsewhere, &f);
	pthread_join(t, NULL);
	assert_int_equal(f.err, -EALREADY);
	assert_int_equal(fog_arena__dealloc(a, p), -EALREADY);
	/* handed out again (the cache is a stack): its new owner frees it once */
	q = fog_arena__alloc(a, 33);
	assert_ptr_equal(q, p);
	assert_int_equal(fog_arena__dealloc(a, q), 0);
	assert_int_equal(fog_arena__dealloc(a, q), -EALREADY);

	/* p freed first, then enough of its class that the bin overflows and p leaves it */
	p = fog_arena__alloc(a, 48);
	for (int i = 0; i < N; i++)
		v[i] = fog_arena__alloc(a, 48);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(fog_arena__dealloc(a, v[i]), 0);
	fog_arena__stats(a, &s);
	assert_true(s.cached < (N + 1) * 48); /* some went back to the runs, p among the oldest */
	assert_int_equal(fog_arena__dealloc(a, p), -EALREADY);
	for (int i = 0; i < N; i += 37)
		assert_int_equal(fog_arena__dealloc(a, v[i]), -EALREADY);

	fog_arena__stats(a, &s);
	assert_int_equal(s.bad_frees, 4 + (N + 36) / 37);
	assert_int_equal(s.frees, 2 + 1 + N);
	assert_int_equal(s.allocs, s.frees);
	assert_int_equal(s.in_use, 0);
}

/* Pointers that were never this arena's blocks, at the edges of the fast path's checks. */
static void test_foreign_pointers(void **state)
{
	struct fog_arena *a = *state, *other = fog_arena__new(NULL);
	struct fog_arena_stats s;
	char *p = fog_arena__alloc(a, 96), *op, *lo, *hi;

	assert_non_null(other);
	assert_non_null(p);
	op = fog_arena__alloc(other, 96);
	assert_non_null(op);
	/* another arena's block, live and then cached there: not ours either way */
	assert_int_equal(fog_arena__dealloc(a, op), -EFAULT);
	assert_int_equal(fog_arena__dealloc(other, op), 0);
	assert_int_equal(fog_arena__dealloc(a, op), -EFAULT);
	/* just outside the reservation, both ends, and the last granule inside it */
	lo = p - ((uintptr_t)p & (FOG_ARENA_DEFAULT_CHUNK - 1)); /* the base is chunk-aligned */
	assert_true(fog_arena__owns(a, lo));
	assert_false(fog_arena__owns(a, lo - 16));
	assert_int_equal(fog_arena__dealloc(a, lo - 16), -EFAULT);
	hi = lo + FOG_ARENA_DEFAULT_RESERVE;
	assert_false(fog_arena__owns(a, hi));
	assert_int_equal(fog_arena__dealloc(a, hi), -EFAULT);
	assert_int_equal(fog_arena__dealloc(a, hi - 16), -EFAULT);
	assert_int_equal(fog_arena__dealloc(a, hi - 8), -EINVAL);
	/* misaligned by each amount a rotated offset could hide */
	for (int k = 1; k < 16; k++)
		assert_int_equal(fog_arena__dealloc(a, p + k), -EINVAL);
	assert_int_equal(fog_arena__dealloc(a, p + 32), -EINVAL); /* inside its block */
	fog_arena__stats(a, &s);
	assert_int_equal(s.bad_frees, 2 + 3 + 1 + 15 + 1);
	assert_int_equal(s.frees, 0);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	fog_arena__free(other);
}

/* allocs and frees stay exact with the hot paths counting nothing: flushes, refills, reset. */
static void *churn_and_exit(void *arg)
{
	struct fog_arena *a = arg;
	void *v[300];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 300; i++)
			v[i] = fog_arena__alloc(a, 16 + (size_t)(i % 7) * 16);
		for (int i = 0; i < 300; i++)
			fog_arena__dealloc(a, v[i]);
	}
	return NULL; /* its cache goes back at thread exit, counters and all */
}

static void test_counts_exact(void **state)
{
	struct fog_arena *a = *state;
	struct fog_arena_stats s;
	enum { N = 5000 };
	void **v = calloc(N, sizeof(void *));
	uint64_t allocs = 0, frees = 0;
	pthread_t t;

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++) {
			v[i] = fog_arena__alloc(a, 1 + (size_t)((i * 7919) % 3000));
			allocs++;
		}
		/* every other one back, then the rest: bins overflow and refill */
		for (int i = 0; i < N; i += 2, frees++)
			assert_int_equal(fog_arena__dealloc(a, v[i]), 0);
		fog_arena__stats(a, &s);
		assert_int_equal(s.allocs, allocs);
		assert_int_equal(s.frees, frees);
		for (int i = 1; i < N; i += 2, frees++)
			assert_int_equal(fog_arena__dealloc(a, v[i]), 0);
	}
	pthread_create(&t, NULL, churn_and_exit, a);
	pthread_join(t, NULL);
	allocs += 900;
	frees += 900;
	fog_arena__stats(a, &s);
	assert_int_equal(s.allocs, allocs);
	assert_int_equal(s.frees, frees);
	assert_int_equal(s.in_use, 0);
	/* a reset frees the live ones without counting them: allocs stay, frees do not move */
	for (int i = 0; i < 100; i++, allocs++)
		v[i] = fog_arena__alloc(a, 200);
	for (int i = 0; i < 50; i++, frees++)
		assert_int_equal(fog_arena__dealloc(a, v[i]), 0);
	assert_int_equal(fog_arena__reset(a), 0);
	fog_arena__stats(a, &s);
	assert_int_equal(s.allocs, allocs);
	assert_int_equal(s.frees, frees);
	assert_int_equal(s.in_use, 0);
	assert_non_null(v[0] = fog_arena__alloc(a, 200));
	assert_int_equal(fog_arena__dealloc(a, v[0]), 0);
	fog_arena__stats(a, &s);
	assert_int_equal(s.allocs, allocs + 1);
	assert_int_equal(s.frees, frees + 1);
	free(v);
}

/* THP is on for this arena, yet a first touch faults in 4 KiB, not a whole huge page. */
static void test_hugepage_no_fault_in(void **state)
{
	struct fog_arena_opts o = {.reserve = 64 * MiB};
	struct fog_arena *a = fog_arena__new(&o);
	struct fog_arena_stats s;
	long pg = sysconf(_SC_PAGESIZE);
	size_t n = FOG_ARENA_DEFAULT_CHUNK / (size_t)pg, resident = 0;
	unsigned char *vec = calloc(n, 1);
	char *p, *chunk;

	assert_non_null(a);
	p = fog_arena__alloc(a, 300000); /* a run of its own at the start of a fresh chunk */
	assert_non_null(p);
	fog_arena__stats(a, &s);
	assert_int_equal(s.committed, FOG_ARENA_DEFAULT_CHUNK);
	chunk = (char *)((uintptr_t)p & ~(uintptr_t)(FOG_ARENA_DEFAULT_CHUNK - 1));
	p[12345] = 1;
	assert_int_equal(mincore(chunk, FOG_ARENA_DEFAULT_CHUNK, vec), 0);
	for (size_t i = 0; i < n; i++)
		resident += vec[i] & 1;
	/*
	 * A huge page on first touch would make all 512 pages resident; here the
	 * touched page, and the zero page the arena mapped its page table with
	 */
	assert_true(resident >= 1);
	assert_true(resident <= 2);
	if (s.hugepages) {
		/* the chunk itself is advised: khugepaged may collapse it later */
		FILE *f = fopen("/proc/self/smaps", "re");
		char line[256];
		bool in = false, advised = false;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			unsigned long lo, hi;

			if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
			    strchr(line, '-') < strchr(line, ' '))
				in = lo <= (uintptr_t)chunk && (uintptr_t)chunk < hi;
			else if (in && !strncmp(line, "VmFlags:", 8))
				advised = strstr(line, " hg") != NULL;
		}
		fclose(f);
		assert_true(advised);
	}
	free(vec);
	assert_int_equal(fog_arena__dealloc(a, p), 0);
	fog_arena__free(a);
}

/* A block written after its free, on a central list: the damage is contained. */
static void test_use_after_free_contained(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* the test itself writes freed memory, which ASan reports */
#else
	struct fog_arena_opts o = {.reserve = 64 * MiB, .flags = FOG_ARENA_NO_TCACHE};
	struct fog_arena *a = fog_arena__new(&o);
	enum { N = 200 };
	void *v[N], *w[N];
	struct fog_arena_stats s;

	assert_non_null(a);
	for (int i = 0; i < N; i++)
		v[i] = fog_arena__alloc(a, 128);
	for (int i = 0; i < N; i++)
		assert_int_equal(fog_arena__dealloc(a, v[i]), 0);
	/* the last freed block heads the free list; its link now points at a live-looking spot */
	*(void **)v[N - 1] = (char *)v[5] + 16;
	for (int i = 0; i < N; i++) {
		w[i] = fog_arena__alloc(a, 128);
		assert_non_null(w[i]);
	}
	assert_true(all_distinct(w, N));
	fog_arena__stats(a, &s);
	assert_int_equal(s.corrupt_lists, 1);
	fog_arena__free(a);
#endif
}

/* ---- zero-copy views ---- */

static void test_slices(void **state)
{
	struct fog_arena *a = *state;
	char buf[] = "key=value;next", value[] = "value", other[] = "valuE";
	struct fog_slice s = fog_slice_make(buf, strlen(buf)), k, v, rest, d;
	size_t at;
	uint32_t word;

	assert_int_equal(fog_slice_find(s, '=', &at), 0);
	assert_int_equal(at, 3);
	assert_int_equal(fog_slice_split(s, at, &k, &rest), 0);
	assert_int_equal(k.len, 3);
	assert_ptr_equal(k.ptr, buf); /* a view, not a copy */
	assert_int_equal(fog_slice_advance(&rest, 1), 0);
	assert_int_equal(fog_slice_find(rest, ';', &at), 0);
	assert_int_equal(fog_slice_sub(rest, 0, at, &v), 0);
	assert_true(fog_slice_eq(v, fog_slice_make(value, 5)));
	assert_false(fog_slice_eq(v, fog_slice_make(other, 5)));
	assert_int_equal(fog_slice_find(v, '#', &at), -ENOENT);

	/* bounds: nothing outside s, whatever the arithmetic */
	assert_int_equal(fog_slice_sub(s, 0, s.len + 1, &d), -ERANGE);
	assert_int_equal(fog_slice_sub(s, s.len, 1, &d), -ERANGE);
	assert_int_equal(fog_slice_sub(s, 2, SIZE_MAX, &d), -ERANGE);
	assert_int_equal(fog_slice_sub(s, SIZE_MAX, 2, &d), -ERANGE);
	assert_int_equal(fog_slice_sub(s, s.len, 0, &d), 0);
	assert_int_equal(d.len, 0);
	assert_int_equal(fog_slice_split(s, s.len + 1, &k, &rest), -ERANGE);
	d = s;
	assert_int_equal(fog_slice_advance(&d, s.len + 1), -ERANGE);
	assert_int_equal(d.len, s.len);
	errno = 0;
	assert_null(fog_slice_at(s, s.len - 3, 4));
	assert_int_equal(errno, ERANGE);
	assert_non_null(fog_slice_at(s, s.len - 4, 4));
	assert_int_equal(fog_slice_read(s, 0, &word, 4), 0);
	assert_memory_equal(&word, "key=", 4);
	assert_int_equal(fog_slice_read(s, s.len - 2, &word, 4), -ERANGE);

	/* over arena memory: the view is checked against the live block it lies in */
	d = fog_arena__slice_dup(a, s);
	assert_non_null(d.ptr);
	assert_true(fog_slice_eq(d, s));
	assert_ptr_not_equal(d.ptr, buf);
	assert_int_equal(fog_arena__slice_check(a, d), 0);
	assert_int_equal(fog_slice_sub(d, 4, 5, &v), 0);
	assert_int_equal(fog_arena__slice_check(a, v), 0);
	v.len = fog_arena__usable_size(a, d.ptr); /* up to the end of its block */
	assert_int_equal(fog_arena__slice_check(a, v), -ERANGE);
	assert_int_equal(fog_arena__slice_check(a, s), -EFAULT); /* not arena memory */
	assert_int_equal(fog_arena__dealloc(a, d.ptr), 0);
	assert_int_equal(fog_arena__slice_check(a, d), -EFAULT); /* freed */
	d = fog_arena__slice(a, 200000);
	assert_int_equal(d.len, 200000);
	assert_int_equal(fog_slice_sub(d, 150000, 40000, &v), 0);
	assert_int_equal(fog_arena__slice_check(a, v), 0);
	assert_int_equal(fog_arena__dealloc(a, d.ptr), 0);
	d = fog_arena__slice(a, 0);
	assert_null(d.ptr);
	assert_int_equal(d.len, 0);
}

/* ---- allocation and mmap failures (fail_inject.h): clean errors, nothing leaked ---- */

/* Every allocation and mapping of a new arena (tracking on and off) can fail. */
static void test_faults_new(void **state)
{
	const unsigned int flags[] = { 0, FOG_ARENA_TRACK };
	struct fog_arena_stats st;
	struct fog_arena *a;
	unsigned long runs;

	for (size_t i = 0; i < 2; i++) {
		struct fog_arena_opts o = { .reserve = 16u << 20, .flags = flags[i], .name = "f" };

		FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC | FAIL_INJECT_MMAP, 100, runs,
				 a = fog_arena__new(&o), {
					 if (failed) {
						 assert_null(a);
						 assert_int_equal(errno, ENOMEM);
					 }
				 });
		assert_non_null(a);
		/* 8 calls fail in turn (the arena, its reservation, three tables, three bitmaps),
		 * a 9th with tracking (the records); then a clean run */
		assert_int_equal(runs, 9 + (flags[i] ? 1 : 0));
		assert_non_null(fog_arena__alloc(a, 100));
		fog_arena__stats(a, &st);
		assert_int_equal(st.allocs, 1);
		fog_arena__free(a);
	}
}

/*
 * A thread's first allocation makes its cache: when that fails the allocation goes the
 * central path and still succeeds; the arena's figures count each block once.
 */
static void test_faults_first_alloc(void **state)
{
	struct fog_arena_opts o = { .reserve = 16u << 20, .name = "f" };
	struct fog_arena *a = fog_arena__new(&o);
	struct fog_arena_stats st;
	unsigned long runs, kept = 0;
	void *p;

	assert_non_null(a);
	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 10, runs, p = fog_arena__alloc(a, 100), {
		assert_non_null(p);
		memset(p, 0x5a, 100);
		assert_true(fog_arena__owns(a, p));
		kept++;
	});
	assert_int_equal(runs, 2);
	fog_arena__stats(a, &st);
	assert_int_equal(st.allocs, kept);
	assert_int_equal(st.failed_allocs, 0);
	fog_arena__free(a);
}

static char sites[40][16];

/* The leak report's site table grows twice on the way; a failure is -ENOMEM and no report. */
static void test_faults_leak_report(void **state)
{
	struct fog_arena_opts o = { .reserve = 16u << 20, .flags = FOG_ARENA_TRACK, .name = "r" };
	struct fog_arena *a = fog_arena__new(&o);
	unsigned long runs;
	size_t len;
	char *buf;
	FILE *f;
	long n;

	assert_non_null(a);
	for (int i = 0; i < 40; i++) {
		snprintf(sites[i], sizeof(sites[i]), "site%d", i);
		for (int k = 0; k <= i % 3; k++)
			assert_non_null(fog_arena__alloc_at(a, 32 + 16 * k, sites[i]));
	}
	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 10, runs, {
		f = open_memstream(&buf, &len);
		assert_non_null(f);
		n = fog_arena__leak_report(a, f, 0);
		fclose(f);
	}, {
		if (failed) {
			assert_int_equal(n, -ENOMEM);
			assert_int_equal(len, 0);
		} else {
			/* 40 sites, 1 + 2 + 3 allocations in turn */
			assert_int_equal(n, 13 * 6 + 1);
			assert_non_null(strstr(buf, "79 live allocations"));
			assert_non_null(strstr(buf, "40 sites"));
			assert_non_null(strstr(buf, "site39\n"));
		}
		free(buf);
	});
	/* 64 entries, then 128 */
	assert_int_equal(runs, 3);
	fog_arena__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_size_classes, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(test_alignment, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(test_reuse_freed_block, arena_setup,
						arena_teardown),
		cmocka_unit_test_setup_teardown(test_reuse_many, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(test_stats_consistent, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(test_reset, arena_setup, arena_teardown),
		cmocka_unit_test(test_lazy_commit),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_tracking_leak_report),
		cmocka_unit_test_setup_teardown(test_for_each_live_stops, arena_setup,
						arena_teardown),
		cmocka_unit_test_setup_teardown(test_threads_churn, arena_setup, arena_teardown),
		cmocka_unit_test(test_threads_churn_no_cache),
		cmocka_unit_test_setup_teardown(test_threads_own_runs, arena_setup, arena_teardown),
		cmocka_unit_test(test_strict_racing_double_free),
		cmocka_unit_test(test_many_arenas),
		cmocka_unit_test(test_bad_opts),
		cmocka_unit_test(test_bad_sizes),
		cmocka_unit_test(test_full_arena),
		cmocka_unit_test_setup_teardown(test_bad_frees, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(test_double_free_through_cache, arena_setup,
						arena_teardown),
		cmocka_unit_test_setup_teardown(test_foreign_pointers, arena_setup, arena_teardown),
		cmocka_unit_test_setup_teardown(test_counts_exact, arena_setup, arena_teardown),
		cmocka_unit_test(test_hugepage_no_fault_in),
		cmocka_unit_test(test_use_after_free_contained),
		cmocka_unit_test_setup_teardown(test_slices, arena_setup, arena_teardown),
		cmocka_unit_test(test_faults_new),
		cmocka_unit_test(test_faults_first_alloc),
		cmocka_unit_test(test_faults_leak_report),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
