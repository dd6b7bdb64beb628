/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps and records of bpf/memprobe.bpf.c, the profiler's uprobe memory mode,
 * read by user/profile/uprobe.c: sampled allocations and the frees of sampled
 * addresses go to a ring buffer; per-CPU counters say how often the probes
 * fired, which is what the mode costs the profiled process.
 */
#ifndef FOG_ABI_MEMPROBE_H
#define FOG_ABI_MEMPROBE_H

#include "common.h"

#define FOG_MEMPROBE_DEPTH 48	/* user frames kept per stack (libfogalloc keeps as many) */
#define FOG_MEMPROBE_STACKS 8192	/* distinct stacks in the stack map */
#define FOG_MEMPROBE_LIVE 32768	/* sampled addresses watched for their free */
#define FOG_MEMPROBE_RING (512 * 1024)	/* ring buffer bytes */
#define FOG_MEMPROBE_EXP_BITS 10	/* the exponential interval's table has 2^bits buckets */
#define FOG_MEMPROBE_EXP_N (1 << FOG_MEMPROBE_EXP_BITS)
#define FOG_MEMPROBE_EXP_ONE 65536	/* fixed-point 1.0 of the table */

/* What a record or a counter is about. */
enum fog_memprobe_kind {
	FOG_MEMPROBE_MALLOC,
	FOG_MEMPROBE_CALLOC,
	FOG_MEMPROBE_REALLOC,
	FOG_MEMPROBE_MMAP,	/* anonymous mmap called from outside libc */
	FOG_MEMPROBE_FREE,	/* free of a sampled address (free, or realloc moving it) */
	FOG_MEMPROBE_MUNMAP,	/* munmap of a sampled mapping's start */
	FOG_MEMPROBE_KINDS,
};

#define FOG_MEMPROBE_UNTRACKED 1	/* sampled, but the live map was full: free not seen */

/* One ring-buffer record. */
struct fog_memprobe_event {
	__u64 addr;
	__u64 size;	/* bytes asked for; 0 for frees */
	__u64 ts_ns;	/* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__s32 stack_id;	/* user stack at the return, -errno when not stored */
	__u32 kind;	/* enum fog_memprobe_kind */
	__u32 flags;	/* FOG_MEMPROBE_UNTRACKED */
	__u32 tid;
};

/* memprobe_stats: one per-CPU entry, index 0 */
struct fog_memprobe_stats {
	__u64 entries[FOG_MEMPROBE_KINDS];	/* entry probe hits of the target by function */
	__u64 returns;	/* return probe hits of the target */
	__u64 filtered;	/* hits of other processes (uprobes are per file) */
	__u64 nested;	/* allocator calls made inside another one (not counted twice) */
	__u64 internal;	/* mmap/munmap called by libc itself (malloc's own mappings) */
	__u64 sampled;	/* allocations sampled */
	__u64 freed;	/* frees of sampled addresses */
	__u64 lost_events;	/* records the ring buffer had no room for */
	__u64 lost_stacks;	/* stacks not stored (stack map full or collision) */
	__u64 lost_live;	/* sampled addresses not watched: live map full */
};

#endif /* FOG_ABI_MEMPROBE_H */
