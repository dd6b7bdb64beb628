/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by fogd's BPF programs. */
#ifndef FOG_BPF_H
#define FOG_BPF_H

#include "fog/abi/events.h"

/*
 * Which cgroup hierarchy identifies a task's cgroup, set by user space before
 * load: 0 the unified (v2) hierarchy, 1 the v1 memory hierarchy, 2 the v1 cpu one.
 */
const volatile __u32 cfg_cgroup_mode = 0;

#define FOG_CGROUP_V2 0
#define FOG_CGROUP_V1_MEMORY 1
#define FOG_CGROUP_V1_CPU 2

/* Ring buffer of discrete events plus a per-CPU counter of failed reservations. */
#define FOG_EVENT_MAPS(prefix, bytes)                                                              \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                \
		__uint(max_entries, bytes);                                                        \
	} prefix##_events SEC(".maps");                                                            \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                           \
		__uint(max_entries, 1);                                                            \
		__type(key, __u32);                                                                \
		__type(value, __u64);                                                              \
	} prefix##_drops SEC(".maps")

static __always_inline void *fog_event_reserve(void *events, void *drops, __u32 size, __u32 type)
{
	struct fog_event_hdr *hdr = bpf_ringbuf_reserve(events, size, 0);
	__u32 zero = 0;

	if (!hdr) {
		__u64 *n = bpf_map_lookup_elem(drops, &zero);

		if (n)
			(*n)++;
		return NULL;
	}
	hdr->type = type;
	hdr->size = size;
	hdr->ts_ns = bpf_ktime_get_ns();
	return hdr;
}

static __always_inline __u32 fog_hist_slot(__u64 v)
{
	__u32 slot = 0;

	/* floor(log2(v)) without loops the verifier must unroll */
	if (v >> 32) { v >>= 32; slot += 32; }
	if (v >> 16) { v >>= 16; slot += 16; }
	if (v >> 8) { v >>= 8; slot += 8; }
	if (v >> 4) { v >>= 4; slot += 4; }
	if (v >> 2) { v >>= 2; slot += 2; }
	if (v >> 1) { slot += 1; }
	return slot < FOG_HIST_SLOTS ? slot : FOG_HIST_SLOTS - 1;
}

static __always_inline void fog_hist_add(struct fog_hist *h, __u64 v)
{
	__u32 slot = fog_hist_slot(v);

	if (slot < FOG_HIST_SLOTS)
		h->slots[slot]++;
	h->sum_ns += v;
}

/*
 * The task's cgroup id in the configured hierarchy. tp_btf programs get
 * trusted task pointers, so the chain is read with plain loads (the JIT
 * guards them) rather than bpf_probe_read calls: this runs twice per
 * context switch.
 */
static __always_inline __u64 fog_task_cgroup_id(struct task_struct *t)
{
	struct cgroup_subsys_state *css;
	struct css_set *cs = t->cgroups;
	int id;

	if (!cs)
		return 0;
	if (cfg_cgroup_mode == FOG_CGROUP_V2)
		return cs->dfl_cgrp ? cs->dfl_cgrp->kn->id : 0;
	if (cfg_cgroup_mode == FOG_CGROUP_V1_MEMORY)
		id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	else
		id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
	if (id < 0 || id >= 16)
		return 0;
	css = cs->subsys[id];
	if (!css || !css->cgroup)
		return 0;
	return css->cgroup->kn->id;
}

/* kernels before 5.14 named the field state */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long fog_task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___old *)t)->state;
}

/*
 * Submits an event without waking the consumer unless a good part of the
 * ring is filled: a wake-up is itself a context switch, and fogd drains the
 * rings at every tick anyway. urgent events (OOM kills) wake at once.
 */
static __always_inline void fog_event_submit(void *events, void *ev, bool urgent)
{
	__u64 pending = bpf_ringbuf_query(events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(events, BPF_RB_RING_SIZE);

	bpf_ringbuf_submit(ev, urgent || pending > size / 4 ? BPF_RB_FORCE_WAKEUP :
							   BPF_RB_NO_WAKEUP);
}

#endif /* FOG_BPF_H */
