/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Discrete events that collectors send to user space through ring buffers.
 * Every record starts with struct fog_event_hdr; user space checks that the
 * record length matches the size its type requires before reading it.
 */
#ifndef FOG_ABI_EVENTS_H
#define FOG_ABI_EVENTS_H

#include "common.h"

enum fog_event_type {
	FOG_EV_EXEC = 1,
	FOG_EV_EXIT = 2,
	FOG_EV_RUNQ_OUTLIER = 3,
	FOG_EV_OOM_KILL = 4,
	FOG_EV_IO_OUTLIER = 5,
	FOG_EV_TYPE_MAX = 6,
};

struct fog_event_hdr {
	__u32 type;	/* enum fog_event_type */
	__u32 size;	/* sizeof the whole record */
	__u64 ts_ns;	/* bpf_ktime_get_ns() */
};

/* FOG_EV_EXEC and FOG_EV_EXIT */
struct fog_ev_proc {
	struct fog_event_hdr hdr;
	__u32 pid;	/* tgid */
	__u32 ppid;
	__s32 exit_code;	/* exit only: wait status as the parent sees it */
	__u32 pad;
	__u64 cgroup_id;
	char comm[FOG_COMM_LEN];
};

/* FOG_EV_RUNQ_OUTLIER: a task waited on a run queue longer than the threshold */
struct fog_ev_runq {
	struct fog_event_hdr hdr;
	__u32 pid;	/* tgid */
	__u32 tid;
	__u64 latency_ns;
	__u64 cgroup_id;
	__u32 cpu;
	__u32 pad;
	char comm[FOG_COMM_LEN];
};

/* FOG_EV_OOM_KILL: the OOM killer chose a victim */
struct fog_ev_oom {
	struct fog_event_hdr hdr;
	__u32 pid;	/* tgid of the victim */
	__u32 uid;
	__u64 cgroup_id;	/* victim's cgroup in the configured hierarchy */
	__u64 pages;	/* victim's resident pages: anon + file + shmem */
	__u64 total_vm_pages;
	char comm[FOG_COMM_LEN];
};

/* FOG_EV_IO_OUTLIER: a block request took longer than the threshold */
struct fog_ev_io {
	struct fog_event_hdr hdr;
	__u32 dev;	/* kernel dev_t: major << 20 | minor */
	__u32 pid;	/* tgid that issued the request, 0 if unknown */
	__u64 latency_ns;
	__u64 bytes;
	__u64 sector;
	__u32 write;
	__u32 pad;
	char comm[FOG_COMM_LEN];
};

#endif /* FOG_ABI_EVENTS_H */
