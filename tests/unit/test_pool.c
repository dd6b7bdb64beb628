// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resource pools: every check compares the pool's answers with what the test's own
 * factory, destructor and holders saw (counters, an atomic owner per resource).
 * Worker threads never call cmocka asserts; they count failures for the main thread.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fog/pool.h"
#include "fail_inject.h"

#define MS 1000000ull

struct res {
	atomic_int owner;	/* 0, or the id of the thread holding it */
	int id;			/* the factory call that made it */
	int uses;		/* gets that returned it, counted by the test */
	bool broken;		/* the validator rejects it */
};

/* Ground truth kept by the callbacks; reset before every test. */
static struct fx {
	atomic_int calls;	/* factory calls, failed ones included */
	atomic_int created;
	atomic_int destroyed;
	atomic_int validations;
	atomic_int violations;	/* destroyed while held, or a state check failed */
	int fail_at;		/* this factory call fails with fail_err */
	int fail_from;		/* this call and all later ones fail with -ENOSPC */
	int fail_err;
	int delay_ms;		/* each factory call sleeps this long */
	bool return_null;	/* succeed without a resource */
	void *dup;		/* return this pointer instead of a new resource */
	struct fog_pool *pool;	/* for the callbacks' state checks */
	bool check_states;
} fx;

static struct {
	pthread_mutex_t lock;
	int count;
	int last_err;
	char all[16384];
} cap = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void capture(void *ctx, int err, const char *msg)
{
	pthread_mutex_lock(&cap.lock);
	cap.count++;
	cap.last_err = err;
	strncat(cap.all, msg, sizeof(cap.all) - strlen(cap.all) - 2);
	strcat(cap.all, "\n");
	pthread_mutex_unlock(&cap.lock);
}

static bool cap_has(const char *needle)
{
	bool found;

	pthread_mutex_lock(&cap.lock);
	found = strstr(cap.all, needle) != NULL;
	pthread_mutex_unlock(&cap.lock);
	return found;
}

static void cap_reset(void)
{
	pthread_mutex_lock(&cap.lock);
	cap.count = 0;
	cap.last_err = 0;
	cap.all[0] = '\0';
	pthread_mutex_unlock(&cap.lock);
}

static int factory(void *ctx, void **out)
{
	struct fx *f = ctx;
	int call = atomic_fetch_add(&f->calls, 1) + 1;
	struct fog_pool_stats st;
	struct res *r;

	if (f->check_states && f->pool) {
		/* the lifecycle's CREATED state: counted while the factory runs */
		if (fog_pool__stats(f->pool, &st) || st.creating < 1)
			atomic_fetch_add(&f->violations, 1);
	}
	if (f->delay_ms)
		usleep(f->delay_ms * 1000);
	if (f->fail_at && call == f->fail_at)
		return f->fail_err;
	if (f->fail_from && call >= f->fail_from)
		return -ENOSPC;
	if (f->return_null)
		return 0;
	if (f->dup) {
		*out = f->dup;
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->id = call;
	atomic_fetch_add(&f->created, 1);
	*out = r;
	return 0;
}

static void destroy(void *ctx, void *p)
{
	struct fx *f = ctx;
	struct res *r = p;

	if (atomic_load(&r->owner))
		atomic_fetch_add(&f->violations, 1);
	atomic_fetch_add(&f->destroyed, 1);
	free(r);
}

static bool validate(void *ctx, void *p)
{
	struct fx *f = ctx;
	struct res *r = p;

	atomic_fetch_add(&f->validations, 1);
	if (f->check_states && f->pool &&
	    fog_pool__res_state(f->pool, r) != FOG_RES_VALIDATING)
		atomic_fetch_add(&f->violations, 1);
	return !r->broken;
}

static struct fog_pool_opts opts_of(int min, int max)
{
	return (struct fog_pool_opts){
		.type = FOG_POOL_CONNECTION,
		.min_size = min,
		.max_size = max,
		.factory = factory,
		.destroy = destroy,
		.ctx = &fx,
	};
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	memset(&fx, 0, sizeof(fx));
	cap_reset();
	fog_pool_set_print(capture, NULL);
	return 0;
}

static int teardown(void **state)
{
	/* every resource a test made is gone, and nothing was destroyed while held */
	assert_int_equal(atomic_load(&fx.created), atomic_load(&fx.destroyed));
	assert_int_equal(atomic_load(&fx.violations), 0);
	return 0;
}

static void stats_of(struct fog_pool *pool, struct fog_pool_stats *st)
{
	assert_int_equal(fog_pool__stats(pool, st), 0);
}

static __u64 hist_count(const struct fog_hist *h)
{
	__u64 n = 0;

	for (int i = 0; i < FOG_HIST_SLOTS; i++)
		n += h->slots[i];
	return n;
}

/* min_size resources exist after __new, each from one factory call, all idle. */
static void test_new_precreates_min(void **state)
{
	struct fog_pool_opts o = opts_of(3, 5);
	struct fog_pool_stats st;
	struct fog_pool *pool = fog_pool__new("db", &o);

	assert_non_null(pool);
	assert_string_equal(fog_pool__name(pool), "db");
	assert_int_equal(atomic_load(&fx.created), 3);
	stats_of(pool, &st);
	assert_int_equal(st.live, 3);
	assert_int_equal(st.idle, 3);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.created, 3);
	assert_int_equal(st.type, FOG_POOL_CONNECTION);
	assert_string_equal(fog_pool_type_name(st.type), "connection");
	fog_pool__free(pool);
	assert_int_equal(atomic_load(&fx.destroyed), 3);
}

static void expect_bad_opts(const char *name, const struct fog_pool_opts *o, const char *words)
{
	cap_reset();
	errno = 0;
	assert_null(fog_pool__new(name, o));
	assert_int_equal(errno, EINVAL);
	if (!cap_has(words))
		fail_msg("message for bad options lacks \"%s\": %s", words, cap.all);
	assert_int_equal(atomic_load(&fx.calls), 0);
}

/* Zero and negative sizes, min above max, and the rest: EINVAL and a message naming it. */
static void test_bad_options(void **state)
{
	struct fog_pool_opts o;
	char longname[FOG_POOL_NAME_LEN + 8];

	o = opts_of(0, 0);
	expect_bad_opts("p", &o, "max_size 0");
	o = opts_of(0, -4);
	expect_bad_opts("p", &o, "max_size -4");
	o = opts_of(0, FOG_POOL_SIZE_LIMIT + 1);
	expect_bad_opts("p", &o, "max_size");
	o = opts_of(-1, 4);
	expect_bad_opts("p", &o, "min_size -1 is negative");
	o = opts_of(5, 4);
	expect_bad_opts("p", &o, "min_size 5 above max_size 4");
	o = opts_of(0, 4);
	o.max_idle_ms = -1;
	expect_bad_opts("p", &o, "negative max_idle_ms");
	o = opts_of(0, 4);
	o.leak_threshold_ms = -10;
	expect_bad_opts("p", &o, "leak_threshold_ms -10");
	o = opts_of(0, 4);
	o.factory = NULL;
	expect_bad_opts("p", &o, "no factory");
	o = opts_of(0, 4);
	o.type = (enum fog_pool_type)99;
	expect_bad_opts("p", &o, "unknown type 99");
	o = opts_of(0, 4);
	expect_bad_opts(NULL, &o, "name missing");
	expect_bad_opts("", &o, "name missing");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_bad_opts(longname, &o, "longer than");
	expect_bad_opts("p", NULL, "options missing");
}

/* A pre-creation failing: NULL with the factory's errno, what was made is destroyed. */
static void test_factory_fails_during_new(void **state)
{
	struct fog_pool_opts o = opts_of(5, 8);

	fx.fail_at = 3;
	fx.fail_err = -ECONNREFUSED;
	errno = 0;
	assert_null(fog_pool__new("db", &o));
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(atomic_load(&fx.calls), 3);
	assert_int_equal(atomic_load(&fx.created), 2);
	assert_int_equal(atomic_load(&fx.destroyed), 2);
}

/* A get whose factory fails reports the factory's error and leaves the pool usable. */
static void test_factory_fails_during_get(void **state)
{
	struct fog_pool_opts o = opts_of(0, 2);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct fog_pool_stats st;
	struct res *r;

	assert_non_null(pool);
	fx.fail_at = 1;
	fx.fail_err = EHOSTUNREACH; /* a positive errno is taken as its negative */
	assert_null(fog_pool__get(pool, 100));
	assert_int_equal(errno, EHOSTUNREACH);
	stats_of(pool, &st);
	assert_int_equal(st.factory_failures, 1);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.acquisitions, 0);

	fx.return_null = true;
	assert_null(fog_pool__get(pool, 100));
	assert_int_equal(errno, EINVAL);
	assert_true(cap_has("factory succeeded without a resource"));
	fx.return_null = false;

	r = fog_pool__get(pool, 100);
	assert_non_null(r);
	/* a factory handing out a pointer the pool already has: refused, not destroyed */
	fx.dup = r;
	assert_null(fog_pool__get(pool, 100));
	assert_int_equal(errno, EEXIST);
	assert_true(cap_has("already a resource of the pool"));
	fx.dup = NULL;
	assert_int_equal(fog_pool__res_state(pool, r), FOG_RES_IN_USE);
	stats_of(pool, &st);
	assert_int_equal(st.factory_failures, 3);
	assert_int_equal(st.live, 1);
	assert_int_equal(fog_pool__put(pool, r), 0);
	fog_pool__free(pool);
}

struct slow_get {
	struct fog_pool *pool;
	void *res;
	int err;
};

static void *get_thread(void *arg)
{
	struct slow_get *g = arg;

	g->res = fog_pool__get(g->pool, 3000);
	g->err = g->res ? 0 : errno;
	return NULL;
}

/* A failed creation frees its capacity and wakes a thread waiting for it. */
static void test_factory_failure_wakes_waiter(void **state)
{
	struct fog_pool_opts o = opts_of(0, 1);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct slow_get a = { .pool = pool }, b = { .pool = pool };
	struct fog_pool_stats st;
	pthread_t ta, tb;
	__u64 t0;

	assert_non_null(pool);
	fx.delay_ms = 150;
	fx.fail_at = 1;
	fx.fail_err = -ECONNRESET;
	t0 = mono_ms();
	assert_int_equal(pthread_create(&ta, NULL, get_thread, &a), 0);
	/* b starts while a's factory call holds the only unit of capacity */
	do {
		usleep(1000);
		stats_of(pool, &st);
	} while (st.creating == 0);
	assert_int_equal(pthread_create(&tb, NULL, get_thread, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_null(a.res);
	assert_int_equal(a.err, ECONNRESET);
	assert_non_null(b.res);
	/* b was served by its own creation after a's failure, long before its timeout */
	assert_true(mono_ms() - t0 < 2000);
	assert_int_equal(fog_pool__put(pool, b.res), 0);
	fog_pool__free(pool);
}

/* try-get on an exhausted pool: EAGAIN at once, counted as busy. */
static void test_try_get_exhausted(void **state)
{
	struct fog_pool_opts o = opts_of(1, 2);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct fog_pool_stats st;
	void *a, *b;

	assert_non_null(pool);
	a = fog_pool__try_get(pool);
	b = (fog_pool__try_get)(pool); /* the function, not the macro */
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	errno = 0;
	assert_null(fog_pool__try_get(pool));
	assert_int_equal(errno, EAGAIN);
	stats_of(pool, &st);
	assert_int_equal(st.busy, 1);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.in_use, 2);
	assert_int_equal(fog_pool__put(pool, a), 0);
	assert_int_equal(fog_pool__put(pool, b), 0);
	fog_pool__free(pool);
}

/* An exhausted pool makes a get wait its timeout, then fail with ETIMEDOUT. */
static void test_get_times_out(void **state)
{
	struct fog_pool_opts o = opts_of(0, 2);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct fog_pool_stats st;
	void *a, *b;
	__u64 t0, waited;

	assert_non_null(pool);
	a = fog_pool__get(pool, 0);
	b = fog_pool__get(pool, 0);
	assert_non_null(a);
	assert_non_null(b);
	t0 = mono_ms();
	errno = 0;
	assert_null(fog_pool__get(pool, 120));
	waited = mono_ms() - t0;
	assert_int_equal(errno, ETIMEDOUT);
	/* about the timeout: not shorter, and not much longer on a loaded machine */
	assert_true(waited >= 120);
	assert_true(waited < 1000);
	stats_of(pool, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.waiters, 0);
	assert_int_equal(st.acquisitions, 2);
	assert_int_equal(fog_pool__put(pool, a), 0);
	assert_int_equal(fog_pool__put(pool, b), 0);
	fog_pool__free(pool);
}

struct delayed {
	struct fog_pool *pool;
	void *res;
	int delay_ms;
	bool invalidate;
};

static void *release_later(void *arg)
{
	struct delayed *d = arg;

	usleep(d->delay_ms * 1000);
	if (d->invalidate)
		fog_pool__invalidate(d->pool, d->res);
	else
		fog_pool__put(d->pool, d->res);
	return NULL;
}

/* A blocked get is served by a put from another thread; its wait is in the histogram. */
static void test_blocked_get_served_by_put(void **state)
{
	struct fog_pool_opts o = opts_of(0, 1);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct delayed d = { .pool = pool, .delay_ms = 60 };
	struct fog_pool_stats st;
	unsigned int slot_32ms = 25; /* [2^25, 2^26) ns = [33.5, 67) ms */
	__u64 t0, waited, late = 0;
	pthread_t t;
	void *r;

	assert_non_null(pool);
	d.res = fog_pool__get(pool, 0);
	assert_non_null(d.res);
	t0 = mono_ms();
	assert_int_equal(pthread_create(&t, NULL, release_later, &d), 0);
	r = fog_pool__get(pool, 5000);
	waited = mono_ms() - t0;
	pthread_join(t, NULL);
	assert_ptr_equal(r, d.res);
	assert_true(waited >= 55 && waited < 2000);
	stats_of(pool, &st);
	assert_int_equal(hist_count(&st.wait_ns), 2);
	for (unsigned int i = slot_32ms; i < FOG_HIST_SLOTS; i++)
		late += st.wait_ns.slots[i];
	assert_int_equal(late, 1);
	assert_true(st.wait_ns.sum_ns >= 55 * MS);
	assert_int_equal(st.reuses, 1);

	/* waiting without a limit; an invalidate frees capacity for a new resource */
	d.res = r;
	d.invalidate = true;
	assert_int_equal(pthread_create(&t, NULL, release_later, &d), 0);
	r = fog_pool__get(pool, FOG_POOL_WAIT_FOREVER);
	pthread_join(t, NULL);
	assert_non_null(r);
	assert_int_equal(((struct res *)r)->id, 2);
	assert_int_equal(fog_pool__put(pool, r), 0);
	fog_pool__free(pool);
}

/* A resource the validator rejects is destroyed and replaced by a new one. */
static void test_validator_rejects(void **state)
{
	struct fog_pool_opts o = opts_of(0, 4);
	struct fog_pool *pool;
	struct fog_pool_stats st;
	struct res *r, *r2;
	int first_id;

	o.validate = validate;
	pool = fog_pool__new("db", &o);
	assert_non_null(pool);
	fx.pool = pool;
	fx.check_states = true;
	r = fog_pool__get(pool, 0);
	assert_non_null(r);
	assert_int_equal(atomic_load(&fx.validations), 0); /* fresh ones are not validated */
	first_id = r->id;
	r->broken = true;
	assert_int_equal(fog_pool__put(pool, r), 0);
	assert_int_equal(fog_pool__res_state(pool, r), FOG_RES_IDLE);

	r2 = fog_pool__get(pool, 0);
	assert_non_null(r2);
	assert_int_equal(atomic_load(&fx.validations), 1);
	assert_int_not_equal(r2->id, first_id);
	assert_int_equal(atomic_load(&fx.created), 2);
	assert_int_equal(atomic_load(&fx.destroyed), 1);
	stats_of(pool, &st);
	assert_int_equal(st.validation_failures, 1);
	assert_int_equal(st.destroyed, 1);
	assert_int_equal(st.created, 2);
	assert_int_equal(st.reuses, 0);
	assert_int_equal(st.live, 1);

	/* a valid one passes and is reused */
	assert_int_equal(fog_pool__put(pool, r2), 0);
	assert_ptr_equal(fog_pool__get(pool, 0), r2);
	assert_int_equal(atomic_load(&fx.validations), 2);
	stats_of(pool, &st);
	assert_int_equal(st.reuses, 1);
	assert_int_equal(st.validation_failures, 1);
	assert_int_equal(fog_pool__put(pool, r2), 0);
	fx.pool = NULL;
	fog_pool__free(pool);
}

/* The lifecycle states a resource goes through, as the pool reports them. */
static void test_lifecycle_states(void **state)
{
	struct fog_pool_opts o = opts_of(0, 2);
	struct fog_pool *pool;
	struct fog_pool_stats st;
	struct res *r;

	o.validate = validate;
	pool = fog_pool__new("db", &o);
	assert_non_null(pool);
	fx.pool = pool;
	fx.check_states = true; /* factory: CREATED counted; validator: VALIDATING */
	r = fog_pool__get(pool, 0);
	assert_int_equal(fog_pool__res_state(pool, r), FOG_RES_IN_USE);
	assert_int_equal(fog_pool__put(pool, r), 0);
	assert_int_equal(fog_pool__res_state(pool, r), FOG_RES_IDLE);
	assert_ptr_equal(fog_pool__get(pool, 0), r);
	assert_int_equal(atomic_load(&fx.validations), 1);
	assert_int_equal(fog_pool__invalidate(pool, r), 0);
	/* destroyed: the pointer is no longer the pool's */
	assert_int_equal(fog_pool__res_state(pool, r), -ENOENT);
	stats_of(pool, &st);
	assert_int_equal(st.invalidations, 1);
	assert_int_equal(st.destroyed, 1);
	assert_int_equal(st.live, 0);
	assert_string_equal(fog_pool_res_state_name(FOG_RES_VALIDATING), "validating");
	fx.pool = NULL;
	fog_pool__free(pool);
}

/* Reaping: least recently used idle resources first, down to min_size and no further. */
static void test_reap_down_to_min(void **state)
{
	struct fog_pool_opts o = opts_of(2, 8);
	struct fog_pool_stats st;
	struct fog_pool *pool;
	struct res *r[6];
	__u64 now;

	o.max_idle_ms = 1000;
	pool = fog_pool__new("db", &o);
	assert_non_null(pool);
	for (int i = 0; i < 6; i++)
		assert_non_null(r[i] = fog_pool__get(pool, 0));
	for (int i = 0; i < 6; i++)
		assert_int_equal(fog_pool__put(pool, r[i]), 0);
	now = fog_pool_now_ns();
	assert_int_equal(fog_pool__reap(pool, now), 0);
	assert_int_equal(fog_pool__reap(pool, now + 500 * MS), 0);
	assert_int_equal(fog_pool__reap(pool, now + 2000 * MS), 4);
	stats_of(pool, &st);
	assert_int_equal(st.live, 2);
	assert_int_equal(st.idle, 2);
	assert_int_equal(st.reaped, 4);
	assert_int_equal(atomic_load(&fx.destroyed), 4);
	/* the two kept are the two put last */
	for (int i = 0; i < 4; i++)
		assert_int_equal(fog_pool__res_state(pool, r[i]), -ENOENT);
	assert_int_equal(fog_pool__res_state(pool, r[4]), FOG_RES_IDLE);
	assert_int_equal(fog_pool__res_state(pool, r[5]), FOG_RES_IDLE);
	/* no further, however long they stay idle */
	assert_int_equal(fog_pool__reap(pool, now + 100000 * MS), 0);
	stats_of(pool, &st);
	assert_int_equal(st.live, 2);

	/* held resources count toward min_size: 1 held + 3 idle reaps to 1 + 1 */
	r[0] = fog_pool__get(pool, 0);
	for (int i = 1; i < 4; i++)
		r[i] = fog_pool__get(pool, 0);
	for (int i = 1; i < 4; i++)
		assert_int_equal(fog_pool__put(pool, r[i]), 0);
	now = fog_pool_now_ns();
	assert_int_equal(fog_pool__reap(pool, now + 5000 * MS), 2);
	stats_of(pool, &st);
	assert_int_equal(st.live, 2);
	assert_int_equal(st.in_use, 1);
	assert_int_equal(st.idle, 1);
	assert_int_equal(fog_pool__put(pool, r[0]), 0);
	fog_pool__free(pool);
}

/* Without max_idle_ms nothing is reaped; a pool below min_size is refilled. */
static void test_reap_refills(void **state)
{
	struct fog_pool_opts o = opts_of(2, 4);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct fog_pool_stats st;
	void *r[4];

	assert_non_null(pool);
	for (int i = 0; i < 4; i++)
		r[i] = fog_pool__get(pool, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fog_pool__put(pool, r[i]), 0);
	assert_int_equal(fog_pool__reap(pool, fog_pool_now_ns() + 3600000 * MS), 0);
	stats_of(pool, &st);
	assert_int_equal(st.live, 4);
	for (int i = 0; i < 4; i++)
		r[i] = fog_pool__get(pool, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fog_pool__invalidate(pool, r[i]), 0);
	/* a failing factory: counted and said, and the next pass tries again */
	fx.fail_from = atomic_load(&fx.calls) + 2;
	assert_int_equal(fog_pool__reap(pool, 0), 0);
	stats_of(pool, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.factory_failures, 1);
	assert_true(cap_has("cannot keep min_size 2"));
	fx.fail_from = 0;
	assert_int_equal(fog_pool__reap(pool, 0), 0);
	stats_of(pool, &st);
	assert_int_equal(st.live, 2);
	assert_int_equal(st.idle, 2);
	fog_pool__free(pool);
}

/* The manager's reaper thread does the same on its own. */
static void test_reaper_thread(void **state)
{
	struct fog_pool_mgr_opts mo = { .reap_interval_ms = 10 };
	struct fog_pool_mgr *mgr = fog_pool_mgr__new(&mo);
	struct fog_pool_opts o = opts_of(1, 4);
	struct fog_pool_stats st;
	struct fog_pool *pool;
	void *r[4];
	__u64 t0;

	assert_non_null(mgr);
	o.max_idle_ms = 30;
	pool = fog_pool_mgr__create(mgr, "db", &o);
	assert_non_null(pool);
	for (int i = 0; i < 4; i++)
		assert_non_null(r[i] = fog_pool__get(pool, 0));
	for (int i = 0; i < 4; i++)
		assert_int_equal(fog_pool__put(pool, r[i]), 0);
	t0 = mono_ms();
	do {
		usleep(5000);
		stats_of(pool, &st);
	} while (st.live > 1 && mono_ms() - t0 < 3000);
	assert_int_equal(st.live, 1);
	usleep(100000);
	stats_of(pool, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.reaped, 3);

	/* below min_size after an invalidate: the thread refills */
	r[0] = fog_pool__get(pool, 0);
	assert_int_equal(fog_pool__invalidate(pool, r[0]), 0);
	t0 = mono_ms();
	do {
		usleep(5000);
		stats_of(pool, &st);
	} while (st.idle < 1 && mono_ms() - t0 < 3000);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.idle, 1);
	fog_pool_mgr__free(mgr);
}

#define WORKERS 4
#define ROUNDS 20000

struct worker {
	struct fog_pool *pool;
	int id;
	atomic_int *holders;
	atomic_int *max_holders;
	int gets;
	int invalidated;
	int failures;
};

/* get, claim ownership with a CAS (fails if another holder has it), release. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < ROUNDS; i++) {
		struct res *r;
		int expect = 0, h, m;

		r = (i % 3) ? fog_pool__get(w->pool, FOG_POOL_WAIT_FOREVER) :
			      fog_pool__try_get(w->pool);
		if (!r) {
			if (errno != EAGAIN)
				w->failures++;
			continue;
		}
		w->gets++;
		if (!atomic_compare_exchange_strong(&r->owner, &expect, w->id))
			w->failures++;
		h = atomic_fetch_add(w->holders, 1) + 1;
		m = atomic_load(w->max_holders);
		while (h > m && !atomic_compare_exchange_weak(w->max_holders, &m, h))
			;
		r->uses++;
		if (i % 64 == 0)
			sched_yield();
		atomic_fetch_sub(w->holders, 1);
		expect = w->id;
		if (!atomic_compare_exchange_strong(&r->owner, &expect, 0))
			w->failures++;
		if (i % 97 == 0) {
			if (fog_pool__invalidate(w->pool, r))
				w->failures++;
			w->invalidated++;
		} else if (fog_pool__put(w->pool, r)) {
			w->failures++;
		}
	}
	return NULL;
}

/* Several threads: never one resource with two holders, never more than max_size. */
static void run_concurrent(bool with_validator)
{
	struct fog_pool_opts o = opts_of(1, 3);
	struct worker w[WORKERS];
	pthread_t t[WORKERS];
	atomic_int holders = 0, max_holders = 0;
	struct fog_pool_stats st;
	struct fog_pool *pool;
	int gets = 0, inval = 0;

	if (with_validator)
		o.validate = validate;
	pool = fog_pool__new("db", &o);
	assert_non_null(pool);
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ .pool = pool, .id = i + 1, .holders = &holders,
					.max_holders = &max_holders };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(w[i].failures, 0);
		gets += w[i].gets;
		inval += w[i].invalidated;
	}
	assert_true(atomic_load(&max_holders) <= 3);
	stats_of(pool, &st);
	assert_int_equal(st.acquisitions, gets);
	assert_int_equal(st.invalidations, inval);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.waiters, 0);
	assert_true(st.peak_live <= 3);
	assert_true(st.peak_in_use <= 3);
	assert_int_equal(st.created, atomic_load(&fx.created));
	assert_int_equal(st.destroyed, atomic_load(&fx.destroyed));
	assert_int_equal(st.live, st.created - st.destroyed);
	assert_int_equal(st.idle, st.live);
	/* every get not served by reuse made its own resource; min_size were made up front */
	assert_int_equal(st.acquisitions - st.reuses, st.created - st.min_size);
	fog_pool__free(pool);
}

static void test_concurrent_no_double_handout(void **state)
{
	run_concurrent(false);
}

/* The same with a validator: the lock is dropped while it runs. */
static void test_concurrent_with_validator(void **state)
{
	run_concurrent(true);
}

static int leak_calls;
static struct fog_pool_leak last_leak;

static void on_leak(void *ctx, const struct fog_pool_leak *l)
{
	leak_calls++;
	last_leak = *l;
}

/* A resource held past the threshold is reported with the call site that took it. */
static void test_leak_report(void **state)
{
	struct fog_pool_opts o = opts_of(0, 4);
	struct fog_pool_leak leaks[4];
	struct fog_pool_stats st;
	struct fog_pool *pool;
	char want[128], *buf = NULL;
	size_t len = 0;
	FILE *f;
	void *r, *quick;
	int line;
	__u64 now;

	o.leak_threshold_ms = 50;
	pool = fog_pool__new("db", &o);
	assert_non_null(pool);
	line = __LINE__ + 1;
	r = fog_pool__get(pool, 0);
	assert_non_null(r);
	now = fog_pool_now_ns();
	assert_int_equal(fog_pool__leaks(pool, now + 10 * MS, leaks, 4), 0);
	quick = fog_pool__get(pool, 0); /* held only briefly: never a leak */
	assert_int_equal(fog_pool__put(pool, quick), 0);

	assert_int_equal(fog_pool__leaks(pool, now + 1000 * MS, leaks, 4), 1);
	assert_ptr_equal(leaks[0].res, r);
	assert_string_equal(leaks[0].pool, "db");
	assert_non_null(leaks[0].site);
	assert_int_equal(leaks[0].site->line, line);
	assert_string_equal(leaks[0].site->func, "test_leak_report");
	assert_non_null(strstr(leaks[0].site->file, "test_pool.c"));
	assert_int_equal(leaks[0].tid, gettid());
	assert_true(leaks[0].held_ns >= 900 * MS);
	/* the return address lies in this function's code */
	assert_true((char *)leaks[0].caller > (char *)test_leak_report);
	assert_true((char *)leaks[0].caller < (char *)test_leak_report + 65536);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(fog_pool__leak_report(pool, now + 1000 * MS, f), 1);
	fclose(f);
	snprintf(want, sizeof(want), "test_pool.c:%d in test_leak_report()", line);
	if (!strstr(buf, want))
		fail_msg("leak report lacks \"%s\": %s", want, buf);
	free(buf);

	/* without on_leak, reap sends it to the printer, once per acquisition */
	cap_reset();
	assert_int_equal(fog_pool__reap(pool, now + 1000 * MS), 0);
	assert_true(cap_has(want));
	assert_int_equal(cap.count, 1);
	assert_int_equal(fog_pool__reap(pool, now + 2000 * MS), 0);
	assert_int_equal(cap.count, 1);
	stats_of(pool, &st);
	assert_int_equal(st.leaks, 1);
	assert_int_equal(fog_pool__put(pool, r), 0);
	assert_int_equal(fog_pool__leaks(pool, now + 100000 * MS, leaks, 4), 0);
	fog_pool__free(pool);

	/* with on_leak; a new acquisition of the same resource is a new report */
	o.on_leak = on_leak;
	leak_calls = 0;
	pool = fog_pool__new("db2", &o);
	assert_non_null(pool);
	r = fog_pool__get(pool, 0);
	now = fog_pool_now_ns();
	fog_pool__reap(pool, now + 1000 * MS);
	fog_pool__reap(pool, now + 1500 * MS);
	assert_int_equal(leak_calls, 1);
	assert_ptr_equal(last_leak.res, r);
	assert_string_equal(last_leak.site->func, "test_leak_report");
	assert_int_equal(fog_pool__put(pool, r), 0);
	line = __LINE__ + 1;
	assert_ptr_equal(fog_pool__get(pool, 0), r);
	now = fog_pool_now_ns();
	fog_pool__reap(pool, now + 1000 * MS);
	assert_int_equal(leak_calls, 2);
	assert_int_equal(last_leak.site->line, line);
	assert_int_equal(fog_pool__put(pool, r), 0);
	fog_pool__free(pool);

	/* leak detection off: -ENODATA, not an empty answer */
	o = opts_of(0, 1);
	pool = fog_pool__new("db3", &o);
	assert_int_equal(fog_pool__leaks(pool, 0, leaks, 4), -ENODATA);
	fog_pool__free(pool);
}

/* Double put, foreign pointer, NULL, wrong pool: an error and a message, nothing broken. */
static void test_bad_release(void **state)
{
	struct fog_pool_opts o = opts_of(0, 3);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct fog_pool *other = fog_pool__new("cache", &o);
	struct fog_pool_stats st;
	struct res stack_res = { 0 };
	void *r, *r2, *all[3];
	char at[64];
	int line;

	assert_non_null(pool);
	assert_non_null(other);
	line = __LINE__ + 1;
	r = fog_pool__get(pool, 0);
	r2 = fog_pool__get(other, 0);
	assert_int_equal(fog_pool__put(pool, r), 0);

	cap_reset();
	assert_int_equal(fog_pool__put(pool, r), -EALREADY);
	assert_true(cap_has("put of"));
	assert_true(cap_has("which is idle, not held"));
	snprintf(at, sizeof(at), "test_pool.c:%d", line);
	assert_true(cap_has(at));
	assert_int_equal(cap.last_err, -EALREADY);

	cap_reset();
	assert_int_equal(fog_pool__put(pool, &stack_res), -ENOENT);
	assert_true(cap_has("not a resource of this pool"));
	assert_int_equal(fog_pool__put(pool, r2), -ENOENT); /* the other pool's */
	assert_int_equal(fog_pool__invalidate(pool, r2), -ENOENT);
	assert_int_equal(fog_pool__invalidate(pool, r), -EALREADY);
	assert_int_equal(fog_pool__put(pool, NULL), -EINVAL);
	assert_int_equal(fog_pool__invalidate(pool, NULL), -EINVAL);
	assert_int_equal(fog_pool__put(NULL, r), -EINVAL);
	assert_int_equal(fog_pool__invalidate(NULL, r), -EINVAL);
	errno = 0;
	assert_null(fog_pool__get(NULL, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(fog_pool__get(pool, -2));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fog_pool__res_state(pool, &stack_res), -ENOENT);

	/* an invalidated resource is gone: putting it back is a foreign put */
	r = fog_pool__get(pool, 0);
	assert_int_equal(fog_pool__invalidate(pool, r), 0);
	assert_int_equal(fog_pool__put(pool, r), -ENOENT);

	/* the pools are intact: counters right, every resource handed out once */
	stats_of(pool, &st);
	assert_int_equal(st.bad_puts, 8);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.live, st.idle);
	for (int i = 0; i < 3; i++)
		assert_non_null(all[i] = fog_pool__get(pool, 0));
	assert_ptr_not_equal(all[0], all[1]);
	assert_ptr_not_equal(all[1], all[2]);
	assert_ptr_not_equal(all[0], all[2]);
	assert_null(fog_pool__try_get(pool));
	for (int i = 0; i < 3; i++)
		assert_int_equal(fog_pool__put(pool, all[i]), 0);
	stats_of(other, &st);
	assert_int_equal(st.bad_puts, 0);
	assert_int_equal(st.in_use, 1);
	assert_int_equal(fog_pool__put(other, r2), 0);
	fog_pool__free(pool);
	fog_pool__free(other);
}

/* A bug in a loop is said a bounded number of times; the counter still counts all. */
static void test_messages_rate_limited(void **state)
{
	struct fog_pool_opts o = opts_of(0, 1);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct fog_pool_stats st;
	int x;

	for (int i = 0; i < 1000; i++)
		assert_int_equal(fog_pool__put(pool, &x), -ENOENT);
	assert_true(cap.count <= 11);
	assert_true(cap_has("more messages suppressed"));
	stats_of(pool, &st);
	assert_int_equal(st.bad_puts, 1000);
	fog_pool__free(pool);
}

/* Scripted random use against a model: every statistic matches what the test saw. */
static void test_stats_consistency(void **state)
{
	struct fog_pool_opts o = opts_of(1, 5);
	struct fog_pool_stats st;
	struct fog_pool *pool;
	struct res *held[5];
	unsigned int seed = 12345;
	int nheld = 0, acq = 0, reuses = 0, busy = 0, inval = 0, peak = 0;

	o.time_all_gets = true;
	pool = fog_pool__new("db", &o);
	assert_non_null(pool);
	for (int i = 0; i < 5000; i++) {
		int op = rand_r(&seed) % 4;

		if (op < 2) {
			struct res *r = fog_pool__try_get(pool);

			if (!r) {
				assert_int_equal(nheld, 5);
				busy++;
				continue;
			}
			acq++;
			/* id 1 was pre-created, not made by a get */
			if (r->uses++ > 0 || r->id == 1)
				reuses++;
			held[nheld++] = r;
			if (nheld > peak)
				peak = nheld;
		} else if (nheld) {
			int k = rand_r(&seed) % nheld;
			struct res *r = held[k];

			held[k] = held[--nheld];
			if (op == 3 && rand_r(&seed) % 8 == 0) {
				assert_int_equal(fog_pool__invalidate(pool, r), 0);
				inval++;
			} else {
				assert_int_equal(fog_pool__put(pool, r), 0);
			}
		}
	}
	stats_of(pool, &st);
	assert_int_equal(st.acquisitions, acq);
	assert_int_equal(st.reuses, reuses);
	assert_int_equal(st.busy, busy);
	assert_int_equal(st.invalidations, inval);
	assert_int_equal(st.peak_in_use, peak);
	assert_int_equal(st.in_use, nheld);
	assert_int_equal(st.created, atomic_load(&fx.created));
	assert_int_equal(st.destroyed, atomic_load(&fx.destroyed));
	assert_int_equal(st.live, st.created - st.destroyed);
	assert_int_equal(st.idle, st.live - st.in_use);
	assert_int_equal(hist_count(&st.wait_ns), acq);
	assert_true(st.wait_ns.sum_ns > 0); /* time_all_gets: even immediate gets timed */
	assert_true(st.mem_bytes > 0);
	assert_true(st.reuse_pct > 0 && st.reuse_pct <= 100);
	assert_true(st.reuse_pct * acq / 100.0 > reuses - 0.5 &&
		    st.reuse_pct * acq / 100.0 < reuses + 0.5);
	for (int i = 0; i < nheld; i++)
		assert_int_equal(fog_pool__put(pool, held[i]), 0);
	fog_pool__free(pool);
}

/* The manager: names, ownership, totals equal to the sum of the pools. */
static void test_manager(void **state)
{
	struct fog_pool_mgr_opts bad = { .reap_interval_ms = -1 };
	struct fog_pool_stats per[4], total, sa, sb;
	struct fog_pool_opts o = opts_of(1, 4);
	struct fog_pool *a, *b, *loose;
	struct fog_pool_mgr *mgr;
	void *r, *held;
	int calls;

	assert_null(fog_pool_mgr__new(&bad));
	assert_int_equal(errno, EINVAL);
	mgr = fog_pool_mgr__new(NULL);
	assert_non_null(mgr);
	a = fog_pool_mgr__create(mgr, "db", &o);
	o.type = FOG_POOL_WORKER;
	b = fog_pool_mgr__create(mgr, "workers", &o);
	assert_non_null(a);
	assert_non_null(b);
	calls = atomic_load(&fx.calls);
	assert_null(fog_pool_mgr__create(mgr, "db", &o));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(atomic_load(&fx.calls), calls);
	loose = fog_pool__new("db", &o);
	assert_int_equal(fog_pool_mgr__add(mgr, loose), -EEXIST);
	assert_int_equal(fog_pool_mgr__add(mgr, a), -EBUSY);
	fog_pool__free(loose);
	assert_ptr_equal(fog_pool_mgr__find(mgr, "workers"), b);
	assert_null(fog_pool_mgr__find(mgr, "nope"));

	r = fog_pool__get(a, 0);
	assert_int_equal(fog_pool__put(a, r), 0);
	r = fog_pool__get(b, 0);
	held = fog_pool__get(b, 0); /* held until b is freed: reported then */
	assert_non_null(held);
	assert_int_equal(fog_pool__put(b, r), 0);
	assert_int_equal(fog_pool_mgr__stats(mgr, per, 4, &total), 2);
	stats_of(a, &sa);
	stats_of(b, &sb);
	assert_string_equal(per[0].name, "db");
	assert_string_equal(per[1].name, "workers");
	assert_int_equal(per[1].type, FOG_POOL_WORKER);
	assert_string_equal(total.name, "all");
	assert_int_equal(total.pools, 2);
	assert_int_equal(total.acquisitions, sa.acquisitions + sb.acquisitions);
	assert_int_equal(total.created, sa.created + sb.created);
	assert_int_equal(total.live, sa.live + sb.live);
	assert_int_equal(total.in_use, 1);
	assert_int_equal(hist_count(&total.wait_ns), total.acquisitions);
	assert_true(total.reuse_pct > 0);
	assert_int_equal(fog_pool_mgr__stats(mgr, NULL, 0, NULL), 2);

	assert_int_equal(fog_pool_mgr__destroy(mgr, "db"), 0);
	assert_int_equal(fog_pool_mgr__destroy(mgr, "db"), -ENOENT);
	assert_int_equal(fog_pool_mgr__stats(mgr, NULL, 0, &total), 1);

	/* freeing a pool with a held resource: reported, the held one left to its holder */
	cap_reset();
	calls = atomic_load(&fx.destroyed);
	fog_pool__free(b); /* detaches it from the manager too */
	assert_true(cap_has("pool workers: freed with 1 resources in use"));
	assert_true(cap_has("in test_manager()"));
	assert_int_equal(atomic_load(&fx.destroyed), calls + 1); /* only the idle one */
	assert_int_equal(fog_pool_mgr__stats(mgr, NULL, 0, NULL), 0);
	destroy(&fx, held);
	fog_pool_mgr__free(mgr);
	fog_pool_mgr__free(NULL);
	fog_pool__free(NULL);
}

static int scoped_use(struct fog_pool *pool, bool fail_early, void **seen)
{
	FOG_POOL_SCOPED(conn, pool, 50);

	if (!conn.res)
		return -errno;
	*seen = conn.res;
	if (fog_pool__res_state(pool, conn.res) != FOG_RES_IN_USE)
		return -EPROTO;
	if (fail_early)
		return -EIO;
	return 0;
}

static void *scoped_keep(struct fog_pool *pool)
{
	FOG_POOL_SCOPED(conn, pool, 50);

	return fog_pool_guard__keep(&conn);
}

static int scoped_broken(struct fog_pool *pool)
{
	FOG_POOL_SCOPED(conn, pool, 50);

	return fog_pool_guard__invalidate(&conn);
}

/* The guard puts the resource back on every way out of its scope. */
static void test_scoped(void **state)
{
	struct fog_pool_opts o = opts_of(0, 1);
	struct fog_pool *pool = fog_pool__new("db", &o);
	struct fog_pool_stats st;
	void *seen = NULL, *kept;

	assert_non_null(pool);
	assert_int_equal(scoped_use(pool, false, &seen), 0);
	assert_int_equal(fog_pool__res_state(pool, seen), FOG_RES_IDLE);
	assert_int_equal(scoped_use(pool, true, &seen), -EIO);
	assert_int_equal(fog_pool__res_state(pool, seen), FOG_RES_IDLE);
	stats_of(pool, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.acquisitions, 2);
	assert_int_equal(st.bad_puts, 0);

	kept = scoped_keep(pool);
	assert_ptr_equal(kept, seen);
	assert_int_equal(fog_pool__res_state(pool, kept), FOG_RES_IN_USE);
	/* exhausted: the guard is empty, errno says why, nothing is put back */
	assert_int_equal(scoped_use(pool, false, &seen), -ETIMEDOUT);
	stats_of(pool, &st);
	assert_int_equal(st.bad_puts, 0);
	assert_int_equal(fog_pool__put(pool, kept), 0);

	assert_int_equal(scoped_broken(pool), 0);
	stats_of(pool, &st);
	assert_int_equal(st.invalidations, 1);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.bad_puts, 0);
	fog_pool__free(pool);
}

/* Buffer pools without a factory: aligned buffers of buffer_size, reused. */
static void test_buffer_pool(void **state)
{
	struct fog_pool_opts o = { .type = FOG_POOL_BUFFER, .max_size = 2, .buffer_size = 100 };
	struct fog_pool *pool = fog_pool__new("bufs", &o);
	char *a, *b;

	assert_non_null(pool);
	a = fog_pool__get(pool, 0);
	b = fog_pool__get(pool, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal((uintptr_t)a % 64, 0);
	assert_int_equal((uintptr_t)b % 64, 0);
	memset(a, 0xa5, 100);
	memset(b, 0x5a, 100);
	assert_int_equal(fog_pool__put(pool, a), 0);
	assert_ptr_equal(fog_pool__get(pool, 0), a);
	assert_int_equal((unsigned char)a[99], 0xa5);
	assert_int_equal(fog_pool__put(pool, a), 0);
	assert_int_equal(fog_pool__put(pool, b), 0);
	fog_pool__free(pool);
}

/* The table that maps resources to slots survives growth and heavy churn. */
static void test_many_resources(void **state)
{
	enum { N = 3000 };
	struct fog_pool_opts o = opts_of(10, N);
	struct fog_pool *pool = fog_pool__new("many", &o);
	struct fog_pool_stats st;
	void **r = calloc(N, sizeof(*r));

	assert_non_null(pool);
	assert_non_null(r);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			assert_non_null(r[i] = fog_pool__get(pool, 0));
		assert_null(fog_pool__try_get(pool));
		/* invalidate every third, put the rest back in a scrambled order */
		for (int i = 0; i < N; i++) {
			int k = (i * 7919) % N;

			if (k % 3 == 0)
				assert_int_equal(fog_pool__invalidate(pool, r[k]), 0);
			else
				assert_int_equal(fog_pool__put(pool, r[k]), 0);
		}
		for (int i = 0; i < N; i++) {
			int s = fog_pool__res_state(pool, r[i]);

			assert_int_equal(s, i % 3 == 0 ? -ENOENT : FOG_RES_IDLE);
		}
	}
	stats_of(pool, &st);
	assert_int_equal(st.live, N - N / 3);
	assert_int_equal(st.bad_puts, 0);
	free(r);
	fog_pool__free(pool);
}

/* ---- allocation failures (fail_inject.h): each one a clean ENOMEM, nothing leaked ---- */

/* A pool that creates 20 resources up front: every allocation on the way can fail. */
static void test_faults_new(void **state)
{
	struct fog_pool_opts conn = opts_of(20, 40);
	struct fog_pool_opts buf = { .type = FOG_POOL_BUFFER, .min_size = 20, .max_size = 40,
				     .buffer_size = 100 };
	const struct fog_pool_opts *cases[] = { &conn, &buf };
	struct fog_pool_stats st;
	struct fog_pool *pool;
	unsigned long runs;

	for (size_t i = 0; i < 2; i++) {
		FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 1000, runs, pool = fog_pool__new("f", cases[i]), {
			if (failed) {
				assert_null(pool);
				assert_int_equal(errno, ENOMEM);
				/* what the failed call created is gone again */
				assert_int_equal(atomic_load(&fx.created), atomic_load(&fx.destroyed));
			}
		});
		assert_non_null(pool);
		/* the pool itself, its table, a slot chunk, and for buffers 20 buffers */
		assert_true(runs > 3);
		stats_of(pool, &st);
		assert_int_equal(st.live, 20);
		assert_int_equal(st.idle, 20);
		fog_pool__free(pool);
	}
}

/* Gets that make new resources (slot chunks, the slot table's growth): a failed get changes nothing. */
static void test_faults_get(void **state)
{
	enum { N = 70 };
	struct fog_pool_opts o = opts_of(0, N);
	struct fog_pool *pool = fog_pool__new("g", &o);
	struct fog_pool_stats st;
	unsigned long runs, failures = 0;
	void *r[N];

	assert_non_null(pool);
	for (int i = 0; i < N; i++) {
		FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 100, runs, r[i] = fog_pool__get(pool, 0), {
			stats_of(pool, &st);
			if (failed) {
				assert_null(r[i]);
				assert_int_equal(st.live, i);
				assert_int_equal(st.in_use, i);
			} else {
				assert_non_null(r[i]);
				assert_int_equal(st.in_use, i + 1);
			}
		});
		failures += runs - 1;
	}
	/* at least one factory call per get, plus chunks and table growth */
	assert_true(failures > N);
	stats_of(pool, &st);
	assert_int_equal(st.acquisitions, N);
	assert_int_equal(st.created, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(fog_pool__put(pool, r[i]), 0);
	/* every resource reused after the failures: no slot or table entry went astray */
	for (int i = 0; i < N; i++)
		assert_non_null(r[i] = fog_pool__try_get(pool));
	assert_null(fog_pool__try_get(pool));
	for (int i = 0; i < N; i++)
		assert_int_equal(fog_pool__put(pool, r[i]), 0);
	fog_pool__free(pool);
}

/* The manager and its pools: new, create, and the manager's figures afterwards. */
static void test_faults_manager(void **state)
{
	struct fog_pool_mgr_opts mo = { .reap_interval_ms = 0 };
	struct fog_pool_opts o = opts_of(4, 8);
	struct fog_pool_stats per[4], total;
	struct fog_pool_mgr *mgr;
	struct fog_pool *pool;
	unsigned long runs;

	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 100, runs, mgr = fog_pool_mgr__new(&mo), {
		if (failed) {
			assert_null(mgr);
			assert_int_equal(errno, ENOMEM);
		}
	});
	assert_non_null(mgr);
	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "m%d", i);
		FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 1000, runs,
				 pool = fog_pool_mgr__create(mgr, name, &o), {
					 if (failed) {
						 assert_null(pool);
						 assert_int_equal(errno, ENOMEM);
						 assert_null(fog_pool_mgr__find(mgr, name));
					 }
				 });
		assert_non_null(pool);
		assert_ptr_equal(fog_pool_mgr__find(mgr, name), pool);
	}
	assert_int_equal(fog_pool_mgr__stats(mgr, per, 4, &total), 3);
	assert_int_equal(total.pools, 3);
	assert_int_equal(total.live, 12);
	fog_pool_mgr__free(mgr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_precreates_min, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factory_fails_during_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factory_fails_during_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_factory_failure_wakes_waiter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_try_get_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocked_get_served_by_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validator_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_down_to_min, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_refills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reaper_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_no_double_handout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_with_validator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leak_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_consistency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manager, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scoped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_resources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_manager, setup, teardown),
	};

	/* POOL_TEST=pattern runs only the matching tests */
	if (getenv("POOL_TEST"))
		cmocka_set_test_filter(getenv("POOL_TEST"));
	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
