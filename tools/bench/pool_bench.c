// SPDX-License-Identifier: GPL-2.0-only
/*
 * pool_bench: libfog's resource pool, measured.
 *
 * 1. 10,000 uses of three real resources (a connected socket pair, a 256 KiB
 *    mmap'd buffer, a worker thread), by 4 client threads: without a pool (factory
 *    and destructor per use) and with one (get and put). Reuse rate, factory calls,
 *    wall time, and peak footprint (resources alive at once, and bytes of buffers
 *    plus the pool's own bookkeeping).
 * 2. get + put in ns/op, uncontended and with 2 threads on one pool: medians of
 *    several repetitions, and the reuse rate over the measured window.
 *
 * Usage: pool_bench [-n uses] [-o ops] [-r repetitions]
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fog/pool.h"

#define CLIENTS		4
#define BUF_BYTES	(256 * 1024)
#define BUDGET_NS	50.0

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Factory calls and resources alive, counted by the resource kinds below. */
struct counts {
	atomic_long factory_calls;
	atomic_long live;
	atomic_long peak_live;
};

static void count_create(struct counts *c)
{
	long live = atomic_fetch_add(&c->live, 1) + 1;
	long peak = atomic_load(&c->peak_live);

	atomic_fetch_add(&c->factory_calls, 1);
	while (live > peak && !atomic_compare_exchange_weak(&c->peak_live, &peak, live))
		;
}

/* A connection: a connected AF_UNIX stream pair; a use is a 64-byte round trip. */
struct conn {
	int fd[2];
};

static int conn_new(void *ctx, void **out)
{
	struct conn *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd)) {
		int err = -errno;

		free(c);
		return err;
	}
	count_create(ctx);
	*out = c;
	return 0;
}

static void conn_free(void *ctx, void *res)
{
	struct conn *c = res;
	struct counts *k = ctx;

	close(c->fd[0]);
	close(c->fd[1]);
	free(c);
	atomic_fetch_sub(&k->live, 1);
}

static int conn_use(void *res)
{
	struct conn *c = res;
	char msg[64] = "ping", back[64];

	if (write(c->fd[0], msg, sizeof(msg)) != sizeof(msg))
		return -EIO;
	if (read(c->fd[1], back, sizeof(back)) != sizeof(back))
		return -EIO;
	return back[0] == 'p' ? 0 : -EIO;
}

/* A buffer: 256 KiB mapped and zeroed on creation; a use fills 4 KiB of it. */
static int buf_new(void *ctx, void **out)
{
	void *p = mmap(NULL, BUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	memset(p, 0, BUF_BYTES);
	count_create(ctx);
	*out = p;
	return 0;
}

static void buf_free(void *ctx, void *res)
{
	struct counts *k = ctx;

	munmap(res, BUF_BYTES);
	atomic_fetch_sub(&k->live, 1);
}

static int buf_use(void *res)
{
	memset(res, 0x5a, 4096);
	return ((volatile char *)res)[4095] == 0x5a ? 0 : -EIO;
}

/* A worker: a thread that runs one job at a time; a use is one job and its answer. */
struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long job;	/* > 0: a job to run */
	long answer;
	bool done;
	bool stop;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->job)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		w->answer = w->job * 2;
		w->job = 0;
		w->done = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int worker_new(void *ctx, void **out)
{
	struct worker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = pthread_create(&w->thread, NULL, worker_main, w);
	if (err) {
		free(w);
		return -err;
	}
	count_create(ctx);
	*out = w;
	return 0;
}

static void worker_free(void *ctx, void *res)
{
	struct worker *w = res;
	struct counts *k = ctx;

	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	atomic_fetch_sub(&k->live, 1);
}

static int worker_use(void *res)
{
	struct worker *w = res;
	long answer;

	pthread_mutex_lock(&w->lock);
	w->done = false;
	w->job = 21;
	pthread_cond_broadcast(&w->cond);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->lock);
	answer = w->answer;
	pthread_mutex_unlock(&w->lock);
	return answer == 42 ? 0 : -EIO;
}

struct kind {
	const char *name;
	enum fog_pool_type type;
	fog_pool_factory_fn factory;
	fog_pool_destroy_fn destroy;
	int (*use)(void *res);
	size_t bytes;	/* per resource, when known */
};

static const struct kind kinds[] = {
	{ "connection", FOG_POOL_CONNECTION, conn_new, conn_free, conn_use, 0 },
	{ "buffer 256K", FOG_POOL_BUFFER, buf_new, buf_free, buf_use, BUF_BYTES },
	{ "worker", FOG_POOL_WORKER, worker_new, worker_free, worker_use, 0 },
};

struct client {
	const struct kind *kind;
	struct fog_pool *pool;	/* NULL: factory and destructor per use */
	struct counts *counts;
	int uses;
	int errors;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	void *res;

	for (int i = 0; i < c->uses; i++) {
		if (c->pool) {
			res = fog_pool__get(c->pool, 10000);
			if (!res) {
				c->errors++;
				continue;
			}
			if (c->kind->use(res)) {
				c->errors++;
				fog_pool__invalidate(c->pool, res);
				continue;
			}
			fog_pool__put(c->pool, res);
		} else {
			if (c->kind->factory(c->counts, &res)) {
				c->errors++;
				continue;
			}
			if (c->kind->use(res))
				c->errors++;
			c->kind->destroy(c->counts, res);
		}
	}
	return NULL;
}

struct table_row {
	double seconds;
	long factory_calls;
	long peak_live;
	double reuse_pct;
	__u64 pool_bytes;
	int errors;
};

static struct table_row run_uses(const struct kind *k, bool pooled, int uses)
{
	struct counts counts = { 0 };
	struct client cl[CLIENTS];
	pthread_t t[CLIENTS];
	struct fog_pool *pool = NULL;
	struct fog_pool_stats st;
	struct table_row row = { 0 };
	__u64 t0;

	if (pooled) {
		struct fog_pool_opts o = {
			.type = k->type,
			.min_size = 0,
			.max_size = CLIENTS,
			.factory = k->factory,
			.destroy = k->destroy,
			.ctx = &counts,
		};

		pool = fog_pool__new(k->name, &o);
		if (!pool) {
			perror("pool_bench: fog_pool__new");
			exit(1);
		}
	}
	t0 = now_ns();
	for (int i = 0; i < CLIENTS; i++) {
		cl[i] = (struct client){ .kind = k, .pool = pool, .counts = &counts,
					 .uses = uses / CLIENTS + (i < uses % CLIENTS) };
		pthread_create(&t[i], NULL, client_main, &cl[i]);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(t[i], NULL);
		row.errors += cl[i].errors;
	}
	row.seconds = (now_ns() - t0) / 1e9;
	if (pool) {
		fog_pool__stats(pool, &st);
		row.reuse_pct = st.reuse_pct;
		row.pool_bytes = st.mem_bytes;
		fog_pool__free(pool);
	}
	row.factory_calls = atomic_load(&counts.factory_calls);
	row.peak_live = atomic_load(&counts.peak_live);
	return row;
}

static void print_row(const struct kind *k, const char *mode, const struct table_row *r, int uses)
{
	char foot[32] = "-";

	if (k->bytes)
		snprintf(foot, sizeof(foot), "%.2f MiB",
			 r->peak_live * (double)k->bytes / 1048576.0);
	printf("%-12s %-8s %8.2f%% %8ld %9.1f %8.2f %6ld %10s %9llu%s\n", k->name, mode,
	       r->reuse_pct, r->factory_calls, r->seconds * 1000, r->seconds * 1e6 / uses,
	       r->peak_live, foot, (unsigned long long)r->pool_bytes, r->errors ? "  ERRORS" : "");
}

static void table(int uses)
{
	printf("== %d uses by %d threads (%ld CPUs): factory + destructor per use vs pool "
	       "(max_size %d)\n",
	       uses, CLIENTS, sysconf(_SC_NPROCESSORS_ONLN), CLIENTS);
	printf("%-12s %-8s %9s %8s %9s %8s %6s %10s %9s\n", "resource", "mode", "reuse", "factory",
	       "time ms", "us/use", "peak", "peak mem", "pool B");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct table_row without = run_uses(&kinds[i], false, uses);
		struct table_row with = run_uses(&kinds[i], true, uses);

		print_row(&kinds[i], "no pool", &without, uses);
		print_row(&kinds[i], "pool", &with, uses);
		printf("%-12s %-8s %9s %8s %8.1fx faster with the pool\n", "", "", "", "",
		       without.seconds / with.seconds);
	}
	printf("peak: resources alive at once; peak mem: their bytes where known; pool B: the\n"
	       "pool's own bookkeeping (slots and index)\n");
}

/* Part 2: the cost of get + put itself, on a trivial pre-created resource. */
static int dummy_new(void *ctx, void **out)
{
	*out = malloc(64);
	return *out ? 0 : -ENOMEM;
}

static void dummy_free(void *ctx, void *res)
{
	free(res);
}

struct loop {
	struct fog_pool *pool;
	long ops;
	int cpu;	/* pin to this CPU, or -1 */
	pthread_barrier_t *start;
	__u64 ns;
	long failures;
};

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	__u64 t0;

	if (l->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(l->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (l->start)
		pthread_barrier_wait(l->start);
	t0 = now_ns();
	for (long i = 0; i < l->ops; i++) {
		void *r = fog_pool__get(l->pool, FOG_POOL_WAIT_FOREVER);

		if (!r || fog_pool__put(l->pool, r))
			l->failures++;
	}
	l->ns = now_ns() - t0;
	return NULL;
}

/* Without a pool: the same trivial resource made and freed per use. */
static double malloc_baseline(long ops)
{
	__u64 t0 = now_ns();

	for (long i = 0; i < ops; i++) {
		void *r;

		dummy_new(NULL, &r);
		*(volatile char *)r = 1;
		dummy_free(NULL, r);
	}
	return (double)(now_ns() - t0) / ops;
}

struct variant {
	const char *name;
	int threads;
	int max_size;
	int max_idle_ms;
	int leak_ms;
	bool time_all;
	bool budget;	/* the uncontended default the 50 ns budget is for */
};

static void run_variant(const struct variant *v, long ops, int reps, int ncpu)
{
	double ns[64], thr[64];
	__u64 acq = 0, reuses = 0;
	long failures = 0;

	for (int rep = 0; rep < reps; rep++) {
		/* one resource per thread made up front: the window measures steady state */
		struct fog_pool_opts o = {
			.min_size = v->threads < v->max_size ? v->threads : v->max_size,
			.max_size = v->max_size,
			.max_idle_ms = v->max_idle_ms,
			.leak_threshold_ms = v->leak_ms,
			.time_all_gets = v->time_all,
			.factory = dummy_new,
			.destroy = dummy_free,
		};
		struct fog_pool *pool = fog_pool__new("bench", &o);
		struct fog_pool_stats s0, s1;
		pthread_barrier_t start;
		struct loop l[2];
		pthread_t t[2];
		__u64 sum = 0;

		if (!pool) {
			perror("pool_bench: fog_pool__new");
			exit(1);
		}
		/* warm up: resources created, caches and branch predictors primed */
		l[0] = (struct loop){ .pool = pool, .ops = ops / 10, .cpu = -1 };
		loop_main(&l[0]);
		fog_pool__stats(pool, &s0);
		pthread_barrier_init(&start, NULL, v->threads);
		for (int i = 0; i < v->threads; i++) {
			l[i] = (struct loop){ .pool = pool, .ops = ops, .start = &start,
					      .cpu = v->threads > 1 && ncpu > 1 ? i % ncpu : -1 };
			pthread_create(&t[i], NULL, loop_main, &l[i]);
		}
		for (int i = 0; i < v->threads; i++) {
			pthread_join(t[i], NULL);
			sum += l[i].ns;
			failures += l[i].failures;
		}
		pthread_barrier_destroy(&start);
		fog_pool__stats(pool, &s1);
		acq += s1.acquisitions - s0.acquisitions;
		reuses += s1.reuses - s0.reuses;
		/* per-thread view: each thread's time per get + put */
		ns[rep] = (double)sum / v->threads / ops;
		/* all threads together: operations per second */
		thr[rep] = (double)ops * v->threads / ((double)sum / v->threads / 1e9) / 1e6;
		fog_pool__free(pool);
	}
	printf("%-42s %7d %8.1f %12.1f %9.3f%%%s\n", v->name, v->threads, median(ns, reps),
	       median(thr, reps), acq ? 100.0 * reuses / acq : 0,
	       failures         ? "  FAILURES" :
	       !v->budget       ? "" :
	       median(ns, reps) < BUDGET_NS ? "  within the 50 ns budget" :
					      "  OVER the 50 ns budget");
}

static void ns_per_op(long ops, int reps)
{
	static const struct variant variants[] = {
		{ "get+put", 1, 8, 0, 0, false, true },
		{ "get+put, reaping and leak checks on", 1, 8, 1000, 1000, false, true },
		{ "get+put, every get timed (opt-in)", 1, 8, 0, 0, true, false },
		{ "get+put, 2 threads, max_size 8", 2, 8, 0, 0, false, false },
		{ "get+put, 2 threads, max_size 1 (handoff)", 2, 1, 0, 0, false, false },
	};
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	double base[64];

	printf("\n== get + put, %ld ops per thread, median of %d repetitions (%d CPUs)\n", ops,
	       reps, ncpu);
	printf("%-42s %7s %8s %12s %10s\n", "case", "threads", "ns/op", "Mops/s total", "reuse");
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		run_variant(&variants[i], ops, reps, ncpu);
	for (int rep = 0; rep < reps; rep++)
		base[rep] = malloc_baseline(ops);
	printf("%-42s %7d %8.1f %12s %10s\n", "no pool: malloc(64) + free per use", 1,
	       median(base, reps), "", "0.000%");
	printf("ns/op: per thread, one get + one put; the malloc line is for scale: a pool pays\n"
	       "off for resources whose factory costs more than a get + put (table above)\n");
}

int main(int argc, char **argv)
{
	int uses = 10000, reps = 7, opt;
	long ops = 2000000;

	while ((opt = getopt(argc, argv, "n:o:r:")) != -1) {
		switch (opt) {
		case 'n':
			uses = atoi(optarg);
			break;
		case 'o':
			ops = atol(optarg);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n uses] [-o ops] [-r repetitions]\n", argv[0]);
			return 2;
		}
	}
	if (uses < CLIENTS || ops < 10 || reps < 1 || reps > 64) {
		fprintf(stderr, "pool_bench: need uses >= %d, ops >= 10, 1 <= repetitions <= 64\n",
			CLIENTS);
		return 2;
	}
	table(uses);
	ns_per_op(ops, reps);
	return 0;
}
