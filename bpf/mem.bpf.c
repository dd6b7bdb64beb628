// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory accounting for the mem collector: reclaim stalls and OOM kills, which
 * the kernel does not time or report by itself. OOM kills are rare and go to
 * the ring buffer one record each. Page allocator traffic and page faults are
 * not hooked: the kernel counts them, host-wide in /proc/vmstat and faults
 * per task too (read by the task iterator, bpf/tasks.bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fog.bpf.h"
#include "fog/abi/mem.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fog_mem_stats);
} mem_stats SEC(".maps");

/* when a task entered reclaim; lives and dies with the task */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fog_mem_reclaim);
} mem_reclaim_ts SEC(".maps");

FOG_EVENT_MAPS(mem, 64 * 1024);

static __always_inline struct fog_mem_stats *stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mem_stats, &zero);
}

static __always_inline struct fog_mem_reclaim *reclaim_ts(bool create)
{
	return bpf_task_storage_get(&mem_reclaim_ts, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Begin and end arguments are not used: the stall is the time between them. */
SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(handle_direct_reclaim_begin)
{
	struct fog_mem_reclaim *r = reclaim_ts(true);

	if (r)
		r->direct_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(handle_direct_reclaim_end)
{
	struct fog_mem_reclaim *r = reclaim_ts(false);
	struct fog_mem_stats *st;
	__u64 start;

	if (!r || !r->direct_ns) /* began before the program was attached */
		return 0;
	start = r->direct_ns;
	r->direct_ns = 0;
	st = stats();
	if (st) {
		st->direct_reclaim++;
		st->direct_reclaim_ns += bpf_ktime_get_ns() - start;
	}
	return 0;
}

/* a charge that hits a memory cgroup's limit reclaims in the cgroup, not through direct reclaim */
SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(handle_memcg_reclaim_begin)
{
	struct fog_mem_reclaim *r = reclaim_ts(true);

	if (r)
		r->memcg_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(handle_memcg_reclaim_end)
{
	struct fog_mem_reclaim *r = reclaim_ts(false);
	struct fog_mem_stats *st;
	__u64 start;

	if (!r || !r->memcg_ns)
		return 0;
	start = r->memcg_ns;
	r->memcg_ns = 0;
	st = stats();
	if (st) {
		st->memcg_reclaim++;
		st->memcg_reclaim_ns += bpf_ktime_get_ns() - start;
	}
	return 0;
}

/* kernels before 6.2 kept the rss counters as atomics */
struct mm_struct___pre62 {
	struct {
		atomic_long_t count[4];
	} rss_stat;
} __attribute__((preserve_access_index));

/* what get_mm_counter() reports: the shared count, without unflushed per-CPU deltas */
static __always_inline __u64 mm_rss_pages(struct mm_struct *mm)
{
	struct mm_struct___pre62 *old = (void *)mm;
	__s64 file, anon, shmem;

	if (bpf_core_field_exists(mm->rss_stat[0].count)) {
		file = BPF_CORE_READ(mm, rss_stat[MM_FILEPAGES].count);
		anon = BPF_CORE_READ(mm, rss_stat[MM_ANONPAGES].count);
		shmem = BPF_CORE_READ(mm, rss_stat[MM_SHMEMPAGES].count);
	} else {
		file = BPF_CORE_READ(old, rss_stat.count[MM_FILEPAGES].counter);
		anon = BPF_CORE_READ(old, rss_stat.count[MM_ANONPAGES].counter);
		shmem = BPF_CORE_READ(old, rss_stat.count[MM_SHMEMPAGES].counter);
	}
	/* each count may be transiently negative while per-CPU deltas are pending */
	return (file > 0 ? file : 0) + (anon > 0 ? anon : 0) + (shmem > 0 ? shmem : 0);
}

SEC("tp_btf/mark_victim")
int BPF_PROG(handle_mark_victim, struct task_struct *task, uid_t uid)
{
	struct fog_ev_oom *ev;
	struct mm_struct *mm;

	ev = fog_event_reserve(&mem_events, &mem_drops, sizeof(*ev), FOG_EV_OOM_KILL);
	if (!ev)
		return 0;
	ev->pid = BPF_CORE_READ(task, tgid);
	ev->uid = uid;
	ev->cgroup_id = fog_task_cgroup_id(task);
	mm = BPF_CORE_READ(task, mm);
	if (mm) {
		ev->pages = mm_rss_pages(mm);
		ev->total_vm_pages = BPF_CORE_READ(mm, total_vm);
	} else {
		ev->pages = 0;
		ev->total_vm_pages = 0;
	}
	BPF_CORE_READ_STR_INTO(&ev->comm, task, comm);
	fog_event_submit(&mem_events, ev, true);
	return 0;
}
