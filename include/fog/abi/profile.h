/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps of bpf/profile.bpf.c (on-CPU samples) and bpf/offcpu.bpf.c (off-CPU
 * time), read by the profiler (user/profile/capture.c).
 */
#ifndef FOG_ABI_PROFILE_H
#define FOG_ABI_PROFILE_H

#include "common.h"

#define FOG_PROF_MAX_DEPTH 127	/* the kernel's default perf_event_max_stack */
#define FOG_PROF_MAX_STACKS 16384	/* distinct stacks kept in prof_stacks */
#define FOG_PROF_MAX_KEYS 32768	/* distinct (pid, user stack, kernel stack) counted */

/* Targets of one capture, the rodata value cfg_target */
#define FOG_PROF_TARGET_HOST 0
#define FOG_PROF_TARGET_PID 1
#define FOG_PROF_TARGET_CGROUP 2

/* prof_counts key: a negative stack id is the -errno of bpf_get_stackid */
struct fog_prof_key {
	__u32 tgid;
	__s32 user_stack_id;
	__s32 kern_stack_id;
	__u32 pad;
};

/* prof_counts value */
struct fog_prof_val {
	__u64 count;	/* samples */
	char comm[FOG_COMM_LEN];	/* set when the entry is created */
};

/* prof_stats: one per-CPU entry, index 0 */
struct fog_prof_stats {
	__u64 samples;	/* samples taken for the target */
	__u64 filtered;	/* samples of other processes or the idle task */
	__u64 lost_keys;	/* samples not counted: prof_counts was full */
	__u64 lost_user;	/* user stacks not stored (stack map full or collision) */
	__u64 lost_kern;	/* kernel stacks not stored */
	__u64 unwind;	/* user stacks copied to the ring buffer to be unwound */
	__u64 lost_unwind;	/* not copied (ring buffer full): walked by frame pointers */
};

/* offcpu_start: a filtered task that blocked, keyed by thread id */
struct fog_offcpu_start {
	__u64 ts_ns;	/* when it left the CPU */
	__u32 tgid;
	__s32 user_stack_id;
	__s32 kern_stack_id;
	__u32 pad;
};

/* offcpu_counts value, keyed by struct fog_prof_key */
struct fog_offcpu_val {
	__u64 ns;	/* time blocked */
	__u64 switches;	/* times it blocked there (and came back) */
	char comm[FOG_COMM_LEN];	/* set when the entry is created */
};

/* offcpu_stats: one per-CPU entry, index 0 */
struct fog_offcpu_stats {
	__u64 blocks;	/* filtered tasks that left the CPU blocked */
	__u64 wakeups;	/* of those, came back and were counted */
	__u64 lost_starts;	/* blocks not recorded: offcpu_start was full */
	__u64 lost_keys;	/* wake-ups not counted: offcpu_counts was full */
	__u64 lost_user;	/* user stacks not stored */
	__u64 lost_kern;	/* kernel stacks not stored */
	__u64 unwind;	/* user stacks copied to the ring buffer to be unwound */
	__u64 lost_unwind;	/* not copied (ring buffer full): walked by frame pointers */
};

#endif /* FOG_ABI_PROFILE_H */
