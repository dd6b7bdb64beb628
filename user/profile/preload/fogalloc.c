// SPDX-License-Identifier: GPL-2.0-only
/*
 * libfogalloc.so: the cheap allocation profiler, for processes that opt in
 * with LD_PRELOAD=.../libfogalloc.so. It wraps malloc, calloc, realloc,
 * reallocarray, free and the aligned allocators around glibc's own
 * (__libc_malloc and friends), samples allocations by bytes with an
 * exponential interval (see allocfile.h: jemalloc's and Go's heap sampling),
 * takes the stack of a sampled allocation by walking frame pointers, and keeps
 * sampled allocations that are still live, so a free removes them. Everything
 * goes into the shared file FOG_ALLOC_DIR/fogalloc.PID that fogd and the
 * profiler API read (user/profile/alloc.c).
 *
 * Cost: an allocation that is not sampled pays one thread-local subtraction; a
 * free pays one load from a 128 KiB table of per-bucket live counts (it takes
 * the lock only when its bucket holds a live sampled allocation). A sampled
 * allocation (one per 512 KiB allocated by default) walks the stack and takes
 * the lock.
 *
 * Environment: FOG_ALLOC_MEAN (interval mean in bytes, default 524288),
 * FOG_ALLOC_DIR (default /dev/shm), FOG_ALLOC_KEEP=1 (leave the file at exit).
 * Frames are walked through frame pointers only: code built without them
 * (Debian's libc) loses its callers' frames, never the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "profile/allocfile.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS __thread __attribute__((tls_model("initial-exec")))
#define FILTER_BITS 16
#define LIVE_MAX (FOG_ALLOC_LIVE / 2)	/* beyond this load the table stops taking entries */
#define GROWTH_STEP_NS 1000000000ULL

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

static TLS int64_t t_left;	/* bytes to the next sampling point */
static TLS uint64_t t_rng;	/* 0: this thread is not set up yet */
static TLS int t_busy;	/* in the sampler: nested allocations are not sampled */
static TLS uintptr_t t_stack_hi;	/* top of this thread's stack, 0: unknown */

static struct fog_alloc_header *g_hdr;
static struct fog_alloc_stack *g_stacks;
static struct fog_alloc_live *g_live;
static volatile int g_on;	/* the file is mapped and sampling runs */
static double g_mean = FOG_ALLOC_MEAN;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int g_live_used, g_live_dead;	/* under g_lock */
static char g_path[512];
static uint16_t g_filter[1 << FILTER_BITS];	/* live samples per pointer bucket */

static inline unsigned int ptr_bucket(uintptr_t p, unsigned int bits)
{
	return (unsigned int)(((p >> 4) * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

/*
 * The free filter's bucket: plain address bits, so pointers close together
 * (what malloc hands out in a row) share cache lines of the filter.
 */
static inline unsigned int filter_bucket(uintptr_t p)
{
	return (unsigned int)(p >> 4) & ((1U << FILTER_BITS) - 1);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: a uniform double in (0, 1] */
static double rng_unit(void)
{
	uint64_t x = t_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t_rng = x;
	return (double)(((x * 0x2545f4914f6cdd1dULL) >> 11) + 1) / 9007199254740992.0;
}

static int64_t next_interval(void)
{
	double v = fog_alloc_interval(rng_unit(), g_mean);

	return v < 1 ? 1 : v > 4e18 ? (int64_t)4e18 : (int64_t)v;
}

static void thread_setup(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	t_rng = (mono_ns() ^ ((uint64_t)(uintptr_t)&t_rng << 17) ^ (uint64_t)gettid()) | 1;
	if (!pthread_getattr_np(pthread_self(), &attr)) {
		if (!pthread_attr_getstack(&attr, &addr, &size))
			t_stack_hi = (uintptr_t)addr + size;
		pthread_attr_destroy(&attr);
	}
}

/*
 * Return addresses from the frame pointer of the allocator entry point: the
 * first is its caller's. Frames must lie between here and the stack's top and
 * go strictly upwards, so a frame pointer of code built without one ends the
 * walk instead of a read outside the stack.
 */
static __attribute__((noinline)) unsigned int walk(uintptr_t fp, __u64 *ips)
{
	uintptr_t lo = (uintptr_t)__builtin_frame_address(0), hi = t_stack_hi;
	unsigned int n = 0;

	ips[n++] = ((uintptr_t *)fp)[1];	/* the entry point's own frame is ours */
	fp = ((uintptr_t *)fp)[0];
	while (n < FOG_ALLOC_DEPTH && hi && !(fp & 7) && fp >= lo && fp + 16 <= hi) {
		uintptr_t next = ((uintptr_t *)fp)[0], ret = ((uintptr_t *)fp)[1];

		if (ret < 4096)
			break;
		ips[n++] = ret;
		if (next <= fp)
			break;
		fp = next;
	}
	return n;
}

static void write_begin(void)
{
	__atomic_store_n(&g_hdr->seq, g_hdr->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(void)
{
	__atomic_store_n(&g_hdr->seq, g_hdr->seq + 1, __ATOMIC_RELEASE);
}

static __u32 stack_slot(const __u64 *ips, unsigned int n)
{
	__u64 h = 0xcbf29ce484222325ULL;
	__u32 i;

	for (unsigned int k = 0; k < n; k++)
		h = (h ^ ips[k]) * 0x100000001b3ULL;
	h |= 1;	/* 0 marks a free slot */
	for (i = (__u32)h & (FOG_ALLOC_STACKS - 1);; i = (i + 1) & (FOG_ALLOC_STACKS - 1)) {
		struct fog_alloc_stack *s = &g_stacks[i];

		if (!i)
			continue;	/* slot 0 collects what does not fit */
		if (!s->hash)
			break;
		if (s->hash == h && s->depth == n && !memcmp(s->ips, ips, n * sizeof(*ips)))
			return i;
	}
	if (g_hdr->nstacks >= FOG_ALLOC_STACKS * 3 / 4) {
		g_hdr->lost_stacks++;
		return 0;
	}
	memcpy(g_stacks[i].ips, ips, n * sizeof(*ips));
	g_stacks[i].depth = n;
	g_stacks[i].hash = h;
	g_hdr->nstacks++;
	return i;
}

static struct fog_alloc_live *live_find(uintptr_t p)
{
	for (unsigned int i = ptr_bucket(p, 16);; i = (i + 1) & (FOG_ALLOC_LIVE - 1)) {
		if (g_live[i].ptr == p)
			return &g_live[i];
		if (!g_live[i].ptr)
			return NULL;
	}
}

static void live_rebuild(void)
{
	struct fog_alloc_live *keep = __libc_malloc(g_live_used * sizeof(*keep) + 1);
	unsigned int n = 0;

	if (!keep)
		return;
	for (unsigned int i = 0; i < FOG_ALLOC_LIVE; i++)
		if (g_live[i].ptr > 1)
			keep[n++] = g_live[i];
	memset(g_live, 0, FOG_ALLOC_LIVE * sizeof(*g_live));
	for (unsigned int k = 0; k < n; k++) {
		unsigned int i = ptr_bucket(keep[k].ptr, 16);

		while (g_live[i].ptr)
			i = (i + 1) & (FOG_ALLOC_LIVE - 1);
		g_live[i] = keep[k];
	}
	g_live_dead = 0;
	__libc_free(keep);
}

static bool live_add(uintptr_t p, __u64 size, __u64 w, __u64 now, __u32 stack)
{
	unsigned int i;

	if (g_live_used >= LIVE_MAX)
		return false;
	if (g_live_used + g_live_dead >= FOG_ALLOC_LIVE * 3 / 4)
		live_rebuild();
	for (i = ptr_bucket(p, 16); g_live[i].ptr > 1; i = (i + 1) & (FOG_ALLOC_LIVE - 1))
		;
	if (g_live[i].ptr == 1)
		g_live_dead--;
	g_live[i] = (struct fog_alloc_live){ p, size, w, now, stack, 0 };
	g_live_used++;
	return true;
}

/* Appends a point to the live-bytes series; when full, every other point goes. */
static void growth_point(__u64 now)
{
	struct fog_alloc_header *h = g_hdr;

	if (h->ngrowth && now - h->growth[h->ngrowth - 1].mono_ns < h->growth_step_ns) {
		h->growth[h->ngrowth - 1].live_bytes = h->live_bytes;
		return;
	}
	if (h->ngrowth >= FOG_ALLOC_GROWTH) {
		for (unsigned int i = 0; i < FOG_ALLOC_GROWTH / 2; i++)
			h->growth[i] = h->growth[2 * i + 1];
		h->ngrowth = FOG_ALLOC_GROWTH / 2;
		h->growth_step_ns *= 2;
	}
	h->growth[h->ngrowth++] = (struct fog_alloc_point){ now, h->live_bytes };
}

static void record(void *p, size_t size, uintptr_t fp)
{
	__u64 ips[FOG_ALLOC_DEPTH], now = mono_ns();
	double wd = fog_alloc_weight((double)size, g_mean);
	__u64 w = (__u64)(wd + 0.5), objs = (__u64)(wd / (double)(size ? size : 1) + 0.5);
	unsigned int n = walk(fp, ips);
	struct fog_alloc_stack *st;
	__u32 slot;

	pthread_mutex_lock(&g_lock);
	write_begin();
	slot = stack_slot(ips, n);
	st = &g_stacks[slot];
	st->samples++;
	st->alloc_bytes += w;
	st->alloc_objects += objs;
	g_hdr->samples++;
	g_hdr->alloc_bytes += w;
	if (size >= FOG_ALLOC_BIG) {
		st->big++;
		g_hdr->big++;
	}
	if (live_add((uintptr_t)p, size, w, now, slot)) {
		g_hdr->live_bytes += w;
		__atomic_add_fetch(&g_filter[filter_bucket((uintptr_t)p)], 1,
				   __ATOMIC_RELAXED);
	} else {
		/* untracked: counted as freed so live figures stay a lower bound, not drift */
		g_hdr->lost_live++;
		st->free_bytes += w;
		st->free_objects += objs;
	}
	growth_point(now);
	write_end();
	pthread_mutex_unlock(&g_lock);
}

/* The slow path of an allocation that reached a sampling point (or a new thread). */
static __attribute__((noinline)) void sample(void *p, size_t size, uintptr_t fp)
{
	if (t_busy)
		return;	/* the counter stays due: the next allocation samples */
	t_busy = 1;
	if (g_on != 1) {
		if (g_on < 0)
			t_left = INT64_MAX;	/* no file: this thread never samples */
		goto out;	/* before set-up: the next allocation tries again */
	}
	if (!t_rng) {
		thread_setup();
		t_left += next_interval();	/* a new thread starts a fresh interval */
		if (t_left > 0)
			goto out;
	}
	while (t_left <= 0)
		t_left += next_interval();
	record(p, size, fp);
out:
	t_busy = 0;
}

static __attribute__((noinline)) void forget(void *p)
{
	struct fog_alloc_live *l;

	if (!g_on)
		return;
	pthread_mutex_lock(&g_lock);
	l = live_find((uintptr_t)p);
	if (l) {
		struct fog_alloc_stack *st = &g_stacks[l->stack < FOG_ALLOC_STACKS ? l->stack : 0];

		write_begin();
		st->free_bytes += l->weight;
		st->free_objects += (__u64)((double)l->weight / (double)(l->size ? l->size : 1) + 0.5);
		g_hdr->frees++;
		g_hdr->live_bytes -= l->weight;
		l->ptr = 1;
		g_live_used--;
		g_live_dead++;
		__atomic_sub_fetch(&g_filter[filter_bucket((uintptr_t)p)], 1,
				   __ATOMIC_RELAXED);
		growth_point(mono_ns());
		write_end();
	}
	pthread_mutex_unlock(&g_lock);
}

static inline void on_free(void *p)
{
	if (p && __builtin_expect(__atomic_load_n(&g_filter[filter_bucket((uintptr_t)p)],
						  __ATOMIC_RELAXED) != 0, 0))
		forget(p);
}

static inline void on_alloc(void *p, size_t size, uintptr_t fp)
{
	if (__builtin_expect(!p, 0))
		return;
	if (__builtin_expect((t_left -= (int64_t)size) > 0, 1))
		return;
	sample(p, size, fp);
}

#define FP() ((uintptr_t)__builtin_frame_address(0))

EXPORT void *malloc(size_t size)
{
	void *p = __libc_malloc(size);

	on_alloc(p, size, FP());
	return p;
}

EXPORT void free(void *p)
{
	on_free(p);
	__libc_free(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
	void *p = __libc_calloc(n, size);

	on_alloc(p, n * size, FP());
	return p;
}

EXPORT void *realloc(void *old, size_t size)
{
	void *p;

	/* before glibc frees it: the address may be handed out again at once */
	on_free(old);
	p = __libc_realloc(old, size);
	if (size)
		on_alloc(p, size, FP());
	return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	on_free(old);
	old = __libc_realloc(old, bytes);
	if (bytes)
		on_alloc(old, bytes, FP());
	return old;
}

EXPORT void *memalign(size_t align, size_t size)
{
	void *p = __libc_memalign(align, size);

	on_alloc(p, size, FP());
	return p;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	void *p = __libc_memalign(align, size);

	on_alloc(p, size, FP());
	return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	on_alloc(p, size, FP());
	*out = p;
	return 0;
}

EXPORT void *valloc(size_t size)
{
	void *p = __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size);

	on_alloc(p, size, FP());
	return p;
}

EXPORT void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p = __libc_memalign(page, (size + page - 1) & ~(page - 1));

	on_alloc(p, size, FP());
	return p;
}

static __u64 start_time(void)
{
	char buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
				"%*d %*d %*d %llu", &t) != 1)
		return 0;
	return t;
}

/* Creates and maps this process's file; false (sampling stays off) on failure. */
static bool map_file(void)
{
	const char *dir = getenv("FOG_ALLOC_DIR");
	void *m;
	int fd;

	if (!dir || !*dir)
		dir = FOG_ALLOC_DIR_DEFAULT;
	snprintf(g_path, sizeof(g_path), "%s/" FOG_ALLOC_PREFIX "%d", dir, (int)getpid());
	fd = open(g_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return false;
	if (ftruncate(fd, (off_t)FOG_ALLOC_FILE_SIZE)) {
		close(fd);
		unlink(g_path);
		return false;
	}
	m = mmap(NULL, FOG_ALLOC_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		unlink(g_path);
		return false;
	}
	g_hdr = m;
	g_stacks = (struct fog_alloc_stack *)((char *)m + FOG_ALLOC_HEADER_SIZE);
	g_live = (struct fog_alloc_live *)(g_stacks + FOG_ALLOC_STACKS);
	g_hdr->version = FOG_ALLOC_VERSION;
	g_hdr->header_size = FOG_ALLOC_HEADER_SIZE;
	g_hdr->pid = (__u32)getpid();
	g_hdr->depth = FOG_ALLOC_DEPTH;
	g_hdr->stacks_cap = FOG_ALLOC_STACKS;
	g_hdr->live_cap = FOG_ALLOC_LIVE;
	g_hdr->start_time = start_time();
	g_hdr->mean = (__u64)g_mean;
	g_hdr->nstacks = 1;	/* slot 0 */
	g_hdr->growth_step_ns = GROWTH_STEP_NS;
	__atomic_store_n(&g_hdr->magic, FOG_ALLOC_MAGIC, __ATOMIC_RELEASE);
	return true;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&g_lock);
}

/* The child gets its own file: the parent's mapping is shared and stays the parent's. */
static void atfork_child(void)
{
	pthread_mutex_init(&g_lock, NULL);
	if (!g_on)
		return;
	g_on = 0;
	munmap(g_hdr, FOG_ALLOC_FILE_SIZE);
	g_hdr = NULL;
	memset(g_filter, 0, sizeof(g_filter));
	g_live_used = g_live_dead = 0;
	g_on = map_file() ? 1 : -1;
}

__attribute__((constructor)) static void fogalloc_init(void)
{
	const char *mean = getenv("FOG_ALLOC_MEAN");

	if (mean && *mean) {
		char *end;
		double v = strtod(mean, &end);

		if (!*end && v >= 1 && v <= 1e12)
			g_mean = v;
	}
	if (!map_file()) {
		g_on = -1;
		return;
	}
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	g_on = 1;
}

__attribute__((destructor)) static void fogalloc_fini(void)
{
	const char *keep = getenv("FOG_ALLOC_KEEP");

	/* the mapping stays: other threads and later destructors may still allocate */
	if (g_on == 1 && !(keep && !strcmp(keep, "1")))
		unlink(g_path);
}
