/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps of bpf/sched.bpf.c, read by the cpu and schedlat collectors. */
#ifndef FOG_ABI_SCHED_H
#define FOG_ABI_SCHED_H

#include "common.h"

/* sched_cgroups at least; twice [fogd] max_cgroups when that is more (LRU headroom) */
#define FOG_SCHED_MAX_CGROUPS 1024

/* sched_neighbours at least: {victim cgroup, culprit cgroup} pairs charged */
#define FOG_SCHED_MAX_NEIGHBOURS 4096

/* culprits kept per process, in its group leader's task storage */
#define FOG_NBR_CULPRITS 4

/* on-CPU stretches each CPU remembers, for the proportional attribution */
#define FOG_NBR_SEGS 32

/* schedlat.neighbours: how a run-queue wait is charged to the tasks that held the CPU */
enum fog_nbr_mode {
	FOG_NBR_OFF = 0,
	FOG_NBR_LAST = 1,	/* all of it to the task switched out when the victim came in */
	FOG_NBR_PROPORTIONAL = 2,	/* to each task that ran meanwhile, by its time there */
};

/*
 * One culprit of a process: a Space-Saving counter (Metwally, Agrawal and
 * El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data
 * Streams", ICDT 2005): a new culprit takes the smallest slot and inherits its
 * count as err_ns, so wait_ns - err_ns is charged to this culprit for sure.
 */
struct fog_culprit {
	__u32 tgid;	/* the culprit process, 0: a free slot */
	__u32 pad;
	__u64 cgroup_id;	/* its cgroup when last charged */
	__u64 wait_ns;	/* the victim's waits charged to it */
	__u64 err_ns;	/* of which possibly another's, inherited with the slot */
};

/*
 * Records of the dump_runq task iterator: a process's run-queue waits since
 * fogd first saw it, kept in its group leader's task storage.
 */
struct fog_proc_runq {
	__u32 tgid;
	__u32 pad;
	struct fog_hist runq;
	struct fog_culprit culprits[FOG_NBR_CULPRITS];
};

/* sched_neighbours: per-CPU values keyed by {victim cgroup, culprit cgroup} */
struct fog_nbr_key {
	__u64 victim_cgid;
	__u64 culprit_cgid;
};

struct fog_nbr_val {
	__u64 wait_ns;	/* victim's run-queue wait charged to the culprit */
	__u64 waits;	/* waits the culprit had a share in */
	__u64 batches;	/* not summed: as fog_cgroup_sched's, for the pending pair */
	__u64 pad;
};

/* One stretch of a CPU held by one task, ended by a switch. */
struct fog_nbr_seg {
	__u64 cgroup_id;
	__u64 start_ns;
	__u64 end_ns;
	__u32 tgid;	/* 0: the idle task, charged nothing */
	__u32 pad;
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
	/* neighbour attribution: the pair charged last, pending like the above */
	struct fog_nbr_key pend_nbr;
	struct fog_nbr_val pend_nbr_val;
	__u64 pend_nbr_batch;
	__u64 nbr_unattributed_ns;	/* waits no stretch on this CPU covered */
	__u64 nbr_charged_ns;	/* waits charged to some culprit */
	__u32 seg_next;	/* segs[seg_next % FOG_NBR_SEGS] is the next to write */
	__u32 pad2;
	struct fog_nbr_seg segs[FOG_NBR_SEGS];
};

#endif /* FOG_ABI_SCHED_H */
