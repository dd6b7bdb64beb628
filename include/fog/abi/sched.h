/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps of bpf/sched.bpf.c, read by the cpu and schedlat collectors. */
#ifndef FOG_ABI_SCHED_H
#define FOG_ABI_SCHED_H

#include "common.h"

/* sched_cgroups at least; twice [fogd] max_cgroups when that is more (LRU headroom) */
#define FOG_SCHED_MAX_CGROUPS 1024

/*
 * Records of the dump_runq task iterator: a process's run-queue waits since
 * fogd first saw it, kept in its group leader's task storage.
 */
struct fog_proc_runq {
	__u32 tgid;
	__u32 pad;
	struct fog_hist runq;
};

/* sched_cgroups: per-CPU values keyed by cgroup id */
struct fog_cgroup_sched {
	__u64 oncpu_ns;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 pad;
	struct fog_hist runq;
	/*
	 * Not summed: how many pending batches this CPU has flushed into the
	 * entry, on-CPU and run-queue parts; user space compares them with
	 * fog_cpu_sched's batch numbers so a batch is never counted twice.
	 */
	__u64 cpu_batches;
	__u64 runq_batches;
};

/* sched_cpu: one per-CPU entry, index 0 */
struct fog_cpu_sched {
	__u64 busy_ns;	/* time spent running any task but the idle task */
	__u64 switches;
	__u64 last_switch_ns;	/* when this CPU last switched */
	__u32 cur_tgid;	/* tgid running since then, 0 for the idle task */
	__u32 cur_pid;	/* its thread id: in_runtime_ns is valid only for it */
	__u32 pad;
	__u32 tasks_full;	/* waits not accounted per process: no task storage to hold them */
	__u64 in_runtime_ns;	/* the running task's se.sum_exec_runtime when it came in */
	struct fog_hist runq;	/* host-wide run-queue latency, this CPU's share */
	/*
	 * Per-cgroup figures not yet added to sched_cgroups: while the same
	 * cgroup keeps switching on this CPU they pile up here, which spares
	 * two hash lookups per switch. User space adds them when it reads.
	 */
	__u64 pend_cpu_cgid;	/* cgroup of oncpu_ns, nvcsw, nivcsw below */
	__u64 pend_runq_cgid;	/* cgroup of the runq histogram below */
	__u64 pend_cpu_batch;	/* batches flushed so far: the pending one's number */
	__u64 pend_runq_batch;
	struct fog_cgroup_sched pend;
};

#endif /* FOG_ABI_SCHED_H */
