// SPDX-License-Identifier: GPL-2.0-only
/*
 * Off-CPU profiler: time that tasks of the target spend blocked, by stack.
 * When a filtered task leaves the CPU in a sleeping state, sched_switch takes
 * its user and kernel stacks and the time; when it is switched back in, the
 * time away is added to its (process, user stack, kernel stack) count, in the
 * kernel, as libbpf-tools' offcputime does. Preemption (the task leaves the CPU
 * still runnable) is run-queue wait, not blocking, and is left out. A separate
 * object from profile.bpf.c, loaded only for an off-CPU profile: sched_switch
 * is the host's hottest tracepoint and nobody else should pay for it.
 * With cfg_unwind, the user registers and stack top of a block go to the ring
 * buffer (a FOG_UNW_BLOCK record, seq = when it blocked) and its time follows
 * as a FOG_UNW_WAKE record when it comes back, to be unwound in user space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fog.bpf.h"
#include "fog/abi/profile.h"
#include "unwind.bpf.h"
#include "python.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_BLOCKED 32768	/* threads blocked at once */
#define PF_EXITING 0x00000004	/* include/linux/sched.h: the task is exiting */

const volatile __u32 cfg_target = FOG_PROF_TARGET_HOST;	/* FOG_PROF_TARGET_* */
const volatile __u32 cfg_tgid;	/* for FOG_PROF_TARGET_PID */
const volatile __u64 cfg_cgroup_id;	/* for FOG_PROF_TARGET_CGROUP (exact cgroup) */
const volatile __u32 cfg_kernel = 1;	/* take kernel stacks */
const volatile __u32 cfg_unwind;	/* copy user stacks to offcpu_unwind (DWARF unwinding) */
const volatile __u32 cfg_python;	/* with cfg_unwind: walk CPython frames (offcpu_python) */

/* CPython processes: where their interpreter is (user/profile/pyproc.c fills it) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FOG_PY_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct fog_py_proc);
} offcpu_python SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FOG_UNW_RINGBUF_BYTES);
} offcpu_unwind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, FOG_PROF_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, FOG_PROF_MAX_DEPTH * sizeof(__u64));
} offcpu_stacks SEC(".maps");

/* LRU: a thread that blocks and exits never comes back to delete its entry */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_BLOCKED);
	__type(key, __u32);
	__type(value, struct fog_offcpu_start);
} offcpu_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FOG_PROF_MAX_KEYS);
	__type(key, struct fog_prof_key);
	__type(value, struct fog_offcpu_val);
} offcpu_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fog_offcpu_stats);
} offcpu_stats SEC(".maps");

static __always_inline bool wanted(struct task_struct *t)
{
	if (!t->pid)	/* the idle task */
		return false;
	if (cfg_target == FOG_PROF_TARGET_PID)
		return t->tgid == cfg_tgid;
	if (cfg_target == FOG_PROF_TARGET_CGROUP)
		return fog_task_cgroup_id(t) == cfg_cgroup_id;
	return true;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_offcpu_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	struct fog_offcpu_start *start, st = {};
	struct fog_offcpu_stats *stats;
	struct fog_offcpu_val *val;
	struct fog_prof_key key = {};
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0, tid;

	stats = bpf_map_lookup_elem(&offcpu_stats, &zero);
	if (!stats)
		return 0;
	/*
	 * prev is current here: its stacks are the ones bpf_get_stackid takes. A
	 * task leaving the CPU for the last time (exiting) is not blocked.
	 */
	if (fog_task_state(prev) != 0 && !(prev->flags & PF_EXITING) && wanted(prev)) {
		tid = prev->pid;
		st.ts_ns = now;
		st.tgid = prev->tgid;
		st.kern_stack_id = -14;
		if (cfg_kernel) {
			st.kern_stack_id = bpf_get_stackid(ctx, &offcpu_stacks, 0);
			if (st.kern_stack_id < 0 && st.kern_stack_id != -14)
				stats->lost_kern++;
		}
		st.user_stack_id = -14;
		if (cfg_unwind) {
			struct fog_unw_sample *u = bpf_ringbuf_reserve(&offcpu_unwind, sizeof(*u), 0);

			if (u) {
				u->kind = FOG_UNW_BLOCK;
				u->tgid = st.tgid;
				u->tid = tid;
				u->seq = now;
				u->value = 0;
				u->pad = 0;
				u->kern_stack_id = st.kern_stack_id;
				bpf_probe_read_kernel_str(u->comm, sizeof(u->comm), prev->comm);
				if (!fog_unw_fill(u, (const void *)bpf_task_pt_regs(prev))) {
					if (cfg_python)	/* prev is the current task here */
						fog_py_walk(u, &offcpu_python);
					bpf_ringbuf_submit(u, BPF_RB_NO_WAKEUP);
					st.user_stack_id = FOG_UNW_STACK_ID;
					stats->unwind++;
				} else {
					bpf_ringbuf_discard(u, BPF_RB_NO_WAKEUP);
				}
			} else {
				stats->lost_unwind++;
			}
		}
		if (st.user_stack_id != FOG_UNW_STACK_ID) {
			st.user_stack_id = bpf_get_stackid(ctx, &offcpu_stacks, BPF_F_USER_STACK);
			if (st.user_stack_id < 0 && st.user_stack_id != -14)	/* EFAULT: no user stack */
				stats->lost_user++;
		}
		stats->blocks++;
		if (bpf_map_update_elem(&offcpu_start, &tid, &st, BPF_ANY))
			stats->lost_starts++;
	}
	tid = next->pid;
	start = bpf_map_lookup_elem(&offcpu_start, &tid);
	if (!start)
		return 0;
	key.tgid = start->tgid;
	key.user_stack_id = start->user_stack_id;
	key.kern_stack_id = start->kern_stack_id;
	now -= start->ts_ns;
	if (key.user_stack_id == FOG_UNW_STACK_ID) {
		struct fog_unw_wake *w = bpf_ringbuf_reserve(&offcpu_unwind, sizeof(*w), 0);

		if (w) {
			w->kind = FOG_UNW_WAKE;
			w->tid = tid;
			w->seq = start->ts_ns;
			w->ns = now;
			bpf_map_delete_elem(&offcpu_start, &tid);
			bpf_ringbuf_submit(w, BPF_RB_NO_WAKEUP);
			stats->wakeups++;
			return 0;
		}
		stats->lost_unwind++;	/* counted below with its user stack lost */
		key.user_stack_id = -12;	/* ENOMEM */
	}
	bpf_map_delete_elem(&offcpu_start, &tid);
	val = bpf_map_lookup_elem(&offcpu_counts, &key);
	if (!val) {
		struct fog_offcpu_val init = {};

		bpf_probe_read_kernel_str(init.comm, sizeof(init.comm), next->comm);
		bpf_map_update_elem(&offcpu_counts, &key, &init, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&offcpu_counts, &key);
		if (!val) {
			stats->lost_keys++;
			return 0;
		}
	}
	__sync_fetch_and_add(&val->ns, now);
	__sync_fetch_and_add(&val->switches, 1);
	stats->wakeups++;
	return 0;
}
