/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records of bpf/tasks.bpf.c's task iterator: what the kernel itself counts
 * per task, read once per tick instead of hooked per event.
 */
#ifndef FOG_ABI_TASKS_H
#define FOG_ABI_TASKS_H

#include "common.h"

/* the record is the thread group leader's: its figures include the group's exited threads */
#define FOG_TASK_LEADER 1u

/*
 * One per thread. A process's totals are the sum of its threads' records:
 * the leader's record adds what exited threads left in the process
 * (signal_struct), as /proc/PID/stat and /proc/PID/io add them.
 */
struct fog_task_rec {
	__u32 tgid;
	__u32 flags;	   /* FOG_TASK_* */
	__u64 runtime_ns;  /* se.sum_exec_runtime: on-CPU time charged by the scheduler */
	__u64 nvcsw;	   /* voluntary switches: the task blocked */
	__u64 nivcsw;	   /* involuntary switches: preempted while runnable */
	__u64 min_flt;	   /* page faults served without I/O */
	__u64 maj_flt;	   /* page faults that read from storage */
	__u64 read_bytes;  /* ioac: bytes this task caused to be read from storage */
	__u64 write_bytes; /* ioac: bytes it caused to be written (dirtied or direct) */
	__u64 syscr;	   /* ioac: read system calls */
	__u64 syscw;	   /* ioac: write system calls */
	/* leader records only: */
	__u64 start_ns;	 /* when the process started (boot-based): tells a reused pid */
	__u64 cgroup_id; /* in the hierarchy fogd names cgroups by */
	char comm[FOG_COMM_LEN];
};

#endif /* FOG_ABI_TASKS_H */
