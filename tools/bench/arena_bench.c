// SPDX-License-Identifier: GPL-2.0-only
/*
 * arena_bench: libfog's arena against glibc malloc, mimalloc and jemalloc on
 * the same traces, side by side in one run. Each measurement runs in a fresh
 * child process (so allocators do not share a heap or a peak RSS), runs are
 * interleaved across allocators, and the table shows medians.
 *
 * mimalloc and jemalloc are loaded with dlopen (Debian's libmimalloc.so.2
 * and libjemalloc.so.2) so that libfog never links them; jemalloc needs more
 * static TLS than glibc reserves for dlopen, so the bench re-executes itself
 * once with GLIBC_TUNABLES=glibc.rtld.optional_static_tls raised.
 *
 * Usage: arena_bench [-r runs] [-s scale] [-t trace] [-a allocator]
 * (defaults 5, 1.0, all traces, all allocators; -a takes an index into the
 * table below, e.g. -a 0 for the arena alone under perf)
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "fog/arena.h"

#define MAX_RUNS 15
#define RING	 1024 /* producer/consumer hand-off ring */

enum alloc_kind { AK_ARENA, AK_ARENA_4K, AK_GLIBC, AK_MIMALLOC, AK_JEMALLOC, AK_COUNT };

struct allocator {
	const char *name;
	void *(*malloc)(size_t);
	void (*free)(void *);
	bool ok;
	char why[160];
};

static struct allocator allocs[AK_COUNT] = {
	[AK_ARENA] = {.name = "fog arena", .ok = true},
	[AK_ARENA_4K] = {.name = "arena 4K", .ok = true},
	[AK_GLIBC] = {.name = "glibc", .malloc = malloc, .free = free, .ok = true},
	[AK_MIMALLOC] = {.name = "mimalloc"},
	[AK_JEMALLOC] = {.name = "jemalloc"},
};

/* One step of a trace: free what slot holds, then allocate size into it. */
struct step {
	uint32_t slot;
	uint32_t size;
};

struct trace {
	const char *name;
	unsigned int threads; /* 1, or 2: each thread its own half of the trace */
	bool cross;	      /* one thread allocates, the other frees */
	uint32_t slots;
	size_t nsteps;
	struct step *steps;
};

struct result {
	double ns_per_op;
	uint64_t peak_rss;  /* bytes above the child's resident set before the run */
	uint64_t committed; /* arena: peak committed bytes */
	double utilization; /* arena: at the end of the run */
	int err;
};

static struct fog_arena *arena;

static bool is_arena(enum alloc_kind k)
{
	return k == AK_ARENA || k == AK_ARENA_4K;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/*
 * CPU time of the process, kernel time (page faults) included: on a busy
 * host a one-thread run is then not charged for the time it sat preempted.
 */
static uint64_t cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- traces ---- */

static size_t mixed_size(uint64_t r)
{
	unsigned int pick = r % 100;

	r >>= 8;
	if (pick < 70)
		return 16 + r % 241; /* 16-256 B */
	if (pick < 90)
		return 257 + r % 3840; /* up to 4 KiB */
	if (pick < 98)
		return 4097 + r % 61440;	  /* up to 64 KiB */
	return 65537 + r % (1024 * 1024 - 65536); /* up to 1 MiB */
}

static void trace_make(struct trace *t, const char *name, uint32_t slots, size_t nsteps, bool mixed,
		       unsigned int threads, bool cross)
{
	uint64_t s = 0x2545f4914f6cdd1dull;

	t->name = name;
	t->slots = slots;
	t->nsteps = nsteps;
	t->threads = threads;
	t->cross = cross;
	t->steps = malloc(nsteps * sizeof(*t->steps));
	if (!t->steps) {
		perror("arena_bench: trace");
		exit(1);
	}
	for (size_t i = 0; i < nsteps; i++) {
		uint64_t r = rng_next(&s);

		t->steps[i].slot = (uint32_t)(r % slots);
		r = rng_next(&s);
		t->steps[i].size = (uint32_t)(mixed ? mixed_size(r) : 16 + r % 241);
	}
}

/* ---- the loops, one per allocator so each call is direct where it can be ---- */

static inline void touch(void *p, size_t size)
{
	/* a byte in every 4 KiB page and the last one: the program uses what it asked for */
	for (size_t off = 0; off < size; off += 4096)
		((volatile char *)p)[off] = 1;
	((volatile char *)p)[size - 1] = 2;
}

#define CHURN(ALLOC, FREE)                                                                         \
	do {                                                                                       \
		for (size_t i = from; i < to; i++) {                                               \
			const struct step *st = &t->steps[i];                                      \
			void *p = live[st->slot];                                                  \
                                                                                                   \
			if (p)                                                                     \
				FREE(p);                                                           \
			p = ALLOC(st->size);                                                       \
			if (!p)                                                                    \
				return -ENOMEM;                                                    \
			touch(p, st->size);                                                        \
			live[st->slot] = p;                                                        \
		}                                                                                  \
	} while (0)

#define ARENA_ALLOC(size) fog_arena__alloc(arena, (size))
#define ARENA_FREE(p)	  fog_arena__dealloc(arena, (p))
#define PTR_ALLOC(size)	  a->malloc(size)
#define PTR_FREE(p)	  a->free(p)

static int churn(enum alloc_kind k, const struct trace *t, void **live, size_t from, size_t to)
{
	const struct allocator *a = &allocs[k];

	switch (k) {
	case AK_ARENA:
	case AK_ARENA_4K:
		CHURN(ARENA_ALLOC, ARENA_FREE);
		break;
	case AK_GLIBC:
		CHURN(malloc, free);
		break;
	default:
		CHURN(PTR_ALLOC, PTR_FREE);
		break;
	}
	return 0;
}

static void release_all(enum alloc_kind k, void **live, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!live[i])
			continue;
		if (is_arena(k))
			fog_arena__dealloc(arena, live[i]);
		else
			allocs[k].free(live[i]);
		live[i] = NULL;
	}
}

/* ---- threads ---- */

struct worker {
	enum alloc_kind k;
	const struct trace *t;
	void **live;
	size_t from, to;
	pthread_barrier_t *go;
	int err;
	/* producer and consumer share the ring */
	void **ring;
	uint64_t *head; /* written by the producer */
	uint64_t *tail; /* written by the consumer */
};

static void *churn_worker(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->go);
	w->err = churn(w->k, w->t, w->live, w->from, w->to);
	release_all(w->k, w->live, w->t->slots);
	return NULL;
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	const struct allocator *a = &allocs[w->k];

	pthread_barrier_wait(w->go);
	for (size_t i = w->from; i < w->to; i++) {
		size_t size = w->t->steps[i].size;
		void *p = is_arena(w->k)     ? fog_arena__alloc(arena, size)
			  : w->k == AK_GLIBC ? malloc(size)
					     : a->malloc(size);

		if (!p) {
			w->err = -ENOMEM;
			p = NULL;
		} else {
			touch(p, size);
		}
		while (i - __atomic_load_n(w->tail, __ATOMIC_ACQUIRE) >= RING)
			; /* ring full: the consumer is behind */
		w->ring[i % RING] = p;
		__atomic_store_n(w->head, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	const struct allocator *a = &allocs[w->k];

	pthread_barrier_wait(w->go);
	for (size_t i = w->from; i < w->to; i++) {
		void *p;

		while (__atomic_load_n(w->head, __ATOMIC_ACQUIRE) <= i)
			;
		p = w->ring[i % RING];
		__atomic_store_n(w->tail, i + 1, __ATOMIC_RELEASE);
		if (!p)
			continue;
		((volatile char *)p)[0]++;
		if (is_arena(w->k))
			fog_arena__dealloc(arena, p);
		else if (w->k == AK_GLIBC)
			free(p);
		else
			a->free(p);
	}
	return NULL;
}

static int run_threads(enum alloc_kind k, const struct trace *t, uint64_t *ns)
{
	struct worker w[2];
	pthread_barrier_t go;
	pthread_t th[2];
	uint64_t head = 0, tail = 0, t0;
	void **live[2] = {calloc(t->slots, sizeof(void *)), calloc(t->slots, sizeof(void *))};
	void **ring = calloc(RING, sizeof(void *));
	int err = 0;

	pthread_barrier_init(&go, NULL, 3);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){.k = k,
				       .t = t,
				       .live = live[i],
				       .go = &go,
				       .ring = ring,
				       .head = &head,
				       .tail = &tail};
		/* churn: each thread half the trace; cross: both walk all of it */
		w[i].from = t->cross ? 0 : i * (t->nsteps / 2);
		w[i].to = t->cross ? t->nsteps : (i + 1) * (t->nsteps / 2);
		pthread_create(&th[i], NULL, t->cross ? (i ? consumer : producer) : churn_worker,
			       &w[i]);
	}
	pthread_barrier_wait(&go);
	t0 = now_ns();
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		err = err ? err : w[i].err;
	}
	*ns = now_ns() - t0;
	pthread_barrier_destroy(&go);
	free(live[0]);
	free(live[1]);
	free(ring);
	return err;
}

/* ---- one measurement, in a child ---- */

static uint64_t status_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			v = strtoull(line + klen + 1, NULL, 10);
	fclose(f);
	return v;
}

static void reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	/* "5" resets VmHWM to the current resident set (Linux 4.0) */
	if (fd >= 0) {
		if (write(fd, "5", 1) < 0)
			perror("arena_bench: clear_refs");
		close(fd);
	}
}

static struct result measure(enum alloc_kind k, const struct trace *t)
{
	struct result r = {0};
	uint64_t base, ns;
	size_t ops, warm;
	void **live;

	if (is_arena(k)) {
		struct fog_arena_opts o = {.flags = k == AK_ARENA_4K ? FOG_ARENA_NO_HUGEPAGE : 0};

		arena = fog_arena__new(&o);
		if (!arena) {
			r.err = -errno;
			return r;
		}
	}
	reset_peak_rss();
	base = status_kb("VmRSS");
	if (t->threads > 1) {
		r.err = run_threads(k, t, &ns);
		/* cross: every step is an allocation in one thread and a free in the other */
		ops = t->cross ? t->nsteps : t->nsteps / 2;
	} else {
		live = calloc(t->slots, sizeof(void *));
		/* the first tenth fills the slots: not timed */
		warm = t->nsteps / 10;
		r.err = churn(k, t, live, 0, warm);
		ns = cpu_ns();
		if (!r.err)
			r.err = churn(k, t, live, warm, t->nsteps);
		ns = cpu_ns() - ns;
		ops = t->nsteps - warm;
		if (is_arena(k)) {
			struct fog_arena_stats s;

			fog_arena__stats(arena, &s);
			r.utilization = s.utilization;
		}
		release_all(k, live, t->slots);
		free(live);
	}
	r.ns_per_op = (double)ns / (double)ops;
	r.peak_rss = (status_kb("VmHWM") - base) * 1024;
	if (is_arena(k)) {
		struct fog_arena_stats s;

		fog_arena__stats(arena, &s);
		r.committed = s.peak_committed;
	}
	return r;
}

static struct result run_child(enum alloc_kind k, const struct trace *t)
{
	struct result r = {.err = -ECHILD};
	int fds[2], status;
	pid_t pid;

	if (pipe(fds))
		return r;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		r = measure(k, t);
		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &r, sizeof(r)) != sizeof(r))
		r.err = -ECHILD;
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return r;
}

/* ---- set-up and report ---- */

static void load(enum alloc_kind k, const char *lib, const char *m, const char *f)
{
	struct allocator *a = &allocs[k];
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(a->why, sizeof(a->why), "%s", dlerror());
		return;
	}
	a->malloc = (void *(*)(size_t))dlsym(h, m);
	a->free = (void (*)(void *))dlsym(h, f);
	if (!a->malloc || !a->free) {
		snprintf(a->why, sizeof(a->why), "%s: no %s/%s", lib, m, f);
		return;
	}
	a->ok = true;
}

/* jemalloc's initial-exec TLS does not fit the static TLS glibc keeps for dlopen. */
static void reexec_with_tls(char **argv)
{
	const char *old = getenv("GLIBC_TUNABLES");
	char val[512];

	if (getenv("FOG_ARENA_BENCH_REEXEC"))
		return;
	snprintf(val, sizeof(val), "%s%sglibc.rtld.optional_static_tls=65536", old ? old : "",
		 old ? ":" : "");
	setenv("GLIBC_TUNABLES", val, 1);
	setenv("FOG_ARENA_BENCH_REEXEC", "1", 1);
	execv("/proc/self/exe", argv);
	/* no re-exec: jemalloc will say why it cannot load */
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	struct trace traces[4];
	struct result res[4][AK_COUNT][MAX_RUNS];
	double scale = 1.0;
	int runs = 5, opt, ntraces = 4, only = -1, only_alloc = -1;
	uint64_t t0 = now_ns();

	reexec_with_tls(argv);
	while ((opt = getopt(argc, argv, "r:s:t:a:")) != -1) {
		if (opt == 'r') {
			runs = atoi(optarg);
		} else if (opt == 's') {
			scale = atof(optarg);
		} else if (opt == 't') {
			only = atoi(optarg);
		} else if (opt == 'a') {
			only_alloc = atoi(optarg);
		} else {
			fprintf(stderr,
				"usage: arena_bench [-r runs (1-%d)] [-s scale] [-t trace 0-3] "
				"[-a allocator 0-%d]\n",
				MAX_RUNS, AK_COUNT - 1);
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || !(scale > 0 && scale <= 100) || only < -1 || only > 3 ||
	    only_alloc < -1 || only_alloc >= AK_COUNT) {
		fprintf(stderr,
			"arena_bench: runs must be 1 to %d, scale 0 to 100, trace 0 to 3, "
			"allocator 0 to %d\n",
			MAX_RUNS, AK_COUNT - 1);
		return 2;
	}
	load(AK_MIMALLOC, "libmimalloc.so.2", "mi_malloc", "mi_free");
	load(AK_JEMALLOC, "libjemalloc.so.2", "malloc", "free");

	trace_make(&traces[0], "small churn, 16-256 B", 10000, (size_t)(4e6 * scale), false, 1,
		   false);
	trace_make(&traces[1], "mixed sizes, 16 B-1 MiB", 4000, (size_t)(1e6 * scale), true, 1,
		   false);
	trace_make(&traces[2], "small churn, 2 threads", 10000, (size_t)(4e6 * scale), false, 2,
		   false);
	trace_make(&traces[3], "cross-thread free, 16-256 B", 1, (size_t)(2e6 * scale), false, 2,
		   true);

	/* interleaved: every allocator runs once per round, so drift hits all alike */
	for (int r = 0; r < runs; r++)
		for (int t = 0; t < ntraces; t++)
			for (int k = 0; k < AK_COUNT; k++)
				if (allocs[k].ok && (only < 0 || only == t) &&
				    (only_alloc < 0 || only_alloc == k))
					res[t][k][r] = run_child(k, &traces[t]);

	printf("arena vs glibc malloc, mimalloc, jemalloc: medians of %d runs, each in a fresh "
	       "process\n",
	       runs);
	for (int k = 0; k < AK_COUNT; k++)
		if (!allocs[k].ok)
			printf("  %s: not measured (%s)\n", allocs[k].name, allocs[k].why);
	printf("%-28s %-10s %9s %9s %11s %11s %14s\n", "trace", "allocator", "ns/op", "vs glibc",
	       "vs mimalloc", "peak RSS", "arena commit");
	for (int t = 0; t < ntraces; t++) {
		double ns[AK_COUNT] = {0}, rss[AK_COUNT] = {0}, commit[AK_COUNT] = {0};

		if (only >= 0 && only != t)
			continue;

		for (int k = 0; k < AK_COUNT; k++) {
			double v[MAX_RUNS], m[MAX_RUNS], c[MAX_RUNS];
			int n = 0;

			for (int r = 0; allocs[k].ok && r < runs; r++) {
				if (res[t][k][r].err)
					continue;
				v[n] = res[t][k][r].ns_per_op;
				m[n] = (double)res[t][k][r].peak_rss;
				c[n++] = (double)res[t][k][r].committed;
			}
			if (!n)
				continue;
			ns[k] = median(v, n);
			rss[k] = median(m, n);
			commit[k] = median(c, n);
		}
		for (int k = 0; k < AK_COUNT; k++) {
			char vs_glibc[16] = "-", vs_mi[16] = "-", com[24] = "";

			if (only_alloc >= 0 && only_alloc != k)
				continue;
			if (!ns[k]) {
				printf("%-28s %-10s %9s\n", k ? "" : traces[t].name, allocs[k].name,
				       allocs[k].ok ? "failed" : "n/a");
				continue;
			}
			if (ns[AK_GLIBC])
				snprintf(vs_glibc, sizeof(vs_glibc), "%.2fx", ns[k] / ns[AK_GLIBC]);
			if (ns[AK_MIMALLOC])
				snprintf(vs_mi, sizeof(vs_mi), "%.2fx", ns[k] / ns[AK_MIMALLOC]);
			if (is_arena(k))
				snprintf(com, sizeof(com), "%.1f MiB", commit[k] / 1048576);
			printf("%-28s %-10s %9.1f %9s %11s %7.1f MiB %14s\n",
			       k ? "" : traces[t].name, allocs[k].name, ns[k], vs_glibc, vs_mi,
			       rss[k] / 1048576, com);
		}
		if (ns[AK_ARENA] && ns[AK_GLIBC] && ns[AK_MIMALLOC])
			printf("%-28s budget: faster than glibc %s, on par with mimalloc "
			       "(within 10%%) %s\n",
			       "", ns[AK_ARENA] < ns[AK_GLIBC] ? "yes" : "NO",
			       ns[AK_ARENA] <= 1.10 * ns[AK_MIMALLOC] ? "yes" : "NO");
	}
	printf("ns/op: one free plus one allocation (cross-thread: allocation in one thread, "
	       "free in the other); one-thread traces in process CPU time, two-thread traces "
	       "in wall time\n"
	       "peak RSS: growth of the child's resident set; arena 4K: FOG_ARENA_NO_HUGEPAGE\n"
	       "%.1f s in all\n",
	       (double)(now_ns() - t0) / 1e9);
	for (int t = 0; t < ntraces; t++)
		free(traces[t].steps);
	return 0;
}
