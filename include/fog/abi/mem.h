/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps of bpf/mem.bpf.c, read by the mem collector. */
#ifndef FOG_ABI_MEM_H
#define FOG_ABI_MEM_H

#include "common.h"

/* mem_stats: one per-CPU entry, index 0; every field is a counter */
struct fog_mem_stats {
	__u64 direct_reclaim;	 /* direct reclaim stalls that ended */
	__u64 direct_reclaim_ns; /* time tasks spent in them */
	__u64 memcg_reclaim;	 /* reclaim stalls at a memory cgroup's limit that ended */
	__u64 memcg_reclaim_ns;
};

/* mem_reclaim_ts: task storage, when the task entered reclaim (0: it is not in it) */
struct fog_mem_reclaim {
	__u64 direct_ns;
	__u64 memcg_ns;
};

#endif /* FOG_ABI_MEM_H */
