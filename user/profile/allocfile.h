/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The shared file of the allocation sampler (libfogalloc.so, preloaded into a
 * process that opts in): the sampler writes it, fogd and the profiler API read
 * it (user/profile/alloc.c). One file per process, FOG_ALLOC_DIR/fogalloc.PID
 * (default /dev/shm), mapped shared: a header, a table of distinct stacks with
 * their sampled totals, and a table of the sampled allocations still live.
 *
 * The writer changes the tables under its own lock and brackets every change
 * with seq (odd while it writes, a seqlock), so a reader copies the file
 * without stopping the process and retries when seq moved. Readers treat the
 * contents as untrusted: every count and index is checked before use.
 *
 * Sampling is by bytes with an exponential interval, as jemalloc's prof_sample
 * (opt.lg_prof_sample, mean 512 KiB) and Go's runtime.MemProfileRate do: the
 * allocated bytes are a Poisson process of sampling points of rate 1/mean, an
 * allocation of size S is sampled when a point falls in it (probability
 * p = 1 - exp(-S/mean)) and then stands for S/p bytes, so sums stay unbiased.
 */
#ifndef FOG_PROF_ALLOCFILE_H
#define FOG_PROF_ALLOCFILE_H

#include <math.h>
#include <linux/types.h>

#define FOG_ALLOC_MAGIC 0x434f4c4c41474f46ULL	/* "FOGALLOC" little-endian */
#define FOG_ALLOC_VERSION 1
#define FOG_ALLOC_DEPTH 48	/* frames kept per stack */
#define FOG_ALLOC_STACKS 4096	/* distinct stacks; slot 0 holds "table full" */
#define FOG_ALLOC_LIVE 65536	/* live sampled allocations tracked */
#define FOG_ALLOC_GROWTH 128	/* points of the live-bytes series */
#define FOG_ALLOC_MEAN 524288	/* default sampling interval (bytes), FOG_ALLOC_MEAN env */
#define FOG_ALLOC_BIG 10000000ULL	/* an allocation this large is a "big" one (10 MB) */
#define FOG_ALLOC_HEADER_SIZE 4096
#define FOG_ALLOC_DIR_DEFAULT "/dev/shm"
#define FOG_ALLOC_PREFIX "fogalloc."

/* One point of the live-bytes series: spacing doubles each time the series fills. */
struct fog_alloc_point {
	__u64 mono_ns;	/* CLOCK_MONOTONIC of the writer */
	__u64 live_bytes;	/* estimated live bytes (sum of live sample weights) */
};

struct fog_alloc_header {
	__u64 magic;
	__u32 version;
	__u32 header_size;	/* FOG_ALLOC_HEADER_SIZE: the stacks start there */
	__u32 pid;	/* as the writer sees it (its namespace) */
	__u32 depth;	/* FOG_ALLOC_DEPTH */
	__u32 stacks_cap;	/* FOG_ALLOC_STACKS */
	__u32 live_cap;	/* FOG_ALLOC_LIVE */
	__u64 start_time;	/* /proc/self/stat start time: a reused pid is told apart */
	__u64 mean;	/* sampling interval mean in bytes */
	__u64 seq;	/* seqlock: odd while the writer changes the file */
	__u64 samples;	/* sampled allocations */
	__u64 frees;	/* sampled allocations freed */
	__u64 lost_live;	/* sampled but not tracked as live: live table full */
	__u64 lost_stacks;	/* stacks counted in slot 0: stack table full */
	__u64 live_bytes;	/* estimated live bytes */
	__u64 alloc_bytes;	/* estimated bytes allocated since start */
	__u64 big;	/* allocations of FOG_ALLOC_BIG bytes or more */
	__u32 nstacks;	/* stack slots used, slot 0 included */
	__u32 ngrowth;	/* points used in growth */
	__u64 growth_step_ns;	/* spacing of the series' points */
	struct fog_alloc_point growth[FOG_ALLOC_GROWTH];
};

struct fog_alloc_stack {
	__u64 hash;
	__u32 depth;	/* frames in ips, leaf (the caller of malloc) first */
	__u32 pad;
	__u64 samples;	/* sampled allocations from here */
	__u64 alloc_bytes;	/* estimated bytes allocated (sum of weights) */
	__u64 alloc_objects;	/* estimated allocations (sum of 1/p) */
	__u64 free_bytes;	/* estimated bytes of those freed again */
	__u64 free_objects;
	__u64 big;	/* allocations of FOG_ALLOC_BIG bytes or more */
	__u64 ips[FOG_ALLOC_DEPTH];	/* return addresses */
};

/* A live sampled allocation; ptr 0 is an empty slot, 1 a deleted one. */
struct fog_alloc_live {
	__u64 ptr;
	__u64 size;	/* requested bytes */
	__u64 weight;	/* bytes it stands for */
	__u64 mono_ns;	/* when it was made */
	__u32 stack;	/* index in the stack table */
	__u32 pad;
};

#define FOG_ALLOC_FILE_SIZE                                                                     \
	(FOG_ALLOC_HEADER_SIZE + (__u64)FOG_ALLOC_STACKS * sizeof(struct fog_alloc_stack) +     \
	 (__u64)FOG_ALLOC_LIVE * sizeof(struct fog_alloc_live))

_Static_assert(sizeof(struct fog_alloc_header) <= FOG_ALLOC_HEADER_SIZE, "header too large");

/*
 * The bytes one sampled allocation of size bytes stands for: size / p with
 * p = 1 - exp(-size/mean), the chance that a sampling point fell in it.
 */
static inline double fog_alloc_weight(double size, double mean)
{
	double p = -expm1(-size / mean);

	return p > 0 ? size / p : mean;
}

/* The next sampling interval: exponential with the given mean, from u in (0, 1]. */
static inline double fog_alloc_interval(double u, double mean)
{
	return -log(u) * mean;
}

#endif /* FOG_PROF_ALLOCFILE_H */
