/* SPDX-License-Identifier: GPL-2.0-only */
/* The mem collector's state, shared by mem.c (loading, reading) and mem_export.c (JSON, metrics). */
#ifndef FOG_COLLECT_MEM_H
#define FOG_COLLECT_MEM_H

#include <stdbool.h>
#include <linux/types.h>
#include <jansson.h>

#include "base/meminfo.h"
#include "base/psi.h"
#include "fog/abi/mem.h"

struct bpf_link;
struct fog_collector;
struct fog_prom;
struct mem_bpf;

enum mem_prog {
	MEM_DIRECT_BEGIN,
	MEM_DIRECT_END,
	MEM_MEMCG_BEGIN,
	MEM_MEMCG_END,
	MEM_OOM,
	MEM_N_PROGS,
};

enum mem_cg_files {
	MEM_CG_NONE, /* the hierarchy has no memory controller */
	MEM_CG_V1,   /* memory.usage_in_bytes, memory.limit_in_bytes, memory.failcnt */
	MEM_CG_V2,   /* memory.current, memory.max, memory.events */
};

struct mem_cgroup {
	__u64 id;
	unsigned int procs; /* tracked processes in it */
	bool resolved;	    /* path is known */
	char path[256];	    /* relative to the hierarchy's mount */
	__u64 usage;	    /* bytes, ~0 when it could not be read */
	__u64 limit;	    /* bytes, FOG_MEMCG_NO_LIMIT for none, 0 when it could not be read */
	__u64 failcnt;	    /* times the limit was hit, ~0 when it could not be read */
	bool has_limit;
};

struct fog_mem {
	struct mem_bpf *skel;
	struct bpf_link *links[MEM_N_PROGS];
	bool events;	  /* the ring buffer is a source of owner->events */
	bool oom_counted; /* and mem_on_event counts its OOM kills */
	bool subscribed;  /* mem_on_event is subscribed to owner->events */
	long page_size;

	struct fog_mem_stats now, prev;
	bool have_stats; /* now holds a reading */
	bool have_rates; /* and prev another, one tick earlier */
	double page_alloc_per_s;
	double page_free_per_s;
	double faults_per_s;
	struct mem_vmstat {
		__u64 faults;	  /* pgfault */
		__u64 page_alloc; /* pgalloc_*: pages handed out, 1 << order each */
		__u64 page_free;  /* pgfree */
	} vm, prev_vm;		  /* /proc/vmstat now and a tick earlier */
	bool have_faults;	   /* vm holds a reading */
	bool have_fault_rate;	   /* and prev_vm one a tick earlier */
	bool tasks;		   /* per-process faults come from the task iterator */
	__u64 oom_kills;
	bool stats_warned;

	struct fog_psi psi[FOG_PSI_RESOURCES];
	bool psi_read[FOG_PSI_RESOURCES]; /* the file could be read at the last tick */
	bool psi_warned[FOG_PSI_RESOURCES];
	struct fog_meminfo meminfo;
	bool meminfo_warned;

	enum mem_cg_files cg_files;
	struct mem_cgroup *cgroups; /* the last tick's, most processes first */
	unsigned int n_cgroups;
	unsigned int cap_cgroups;
	unsigned int cgroups_omitted; /* over cfg->max_cgroups at the last tick */
	__u64 *cg_ids;		      /* scratch: the tracked processes' cgroup ids */
	unsigned int n_ids, cap_ids;

	void *values; /* scratch: one per-CPU value of mem_stats */
};

json_t *fog_mem_json(struct fog_collector *c);
void fog_mem_metrics(struct fog_collector *c, struct fog_prom *w);

#endif /* FOG_COLLECT_MEM_H */
