// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU profiler: a perf_event program (software cpu-clock, one event per CPU,
 * frequency set by user space) that takes the user and kernel stacks of the
 * interrupted task through a stack map and counts samples in-kernel per
 * (process, user stack, kernel stack), as libbpf-tools' profile does. Nothing
 * goes to user space per sample; the profiler reads the maps when it is done.
 * With cfg_unwind (code without frame pointers), the user registers and the
 * top of the user stack go to the ring buffer instead, to be unwound with
 * DWARF CFI in user space (user/profile/unwind.h); when the ring buffer is
 * full the sample falls back to the frame-pointer walk.
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

const volatile __u32 cfg_target = FOG_PROF_TARGET_HOST;	/* FOG_PROF_TARGET_* */
const volatile __u32 cfg_tgid;	/* for FOG_PROF_TARGET_PID */
const volatile __u64 cfg_cgroup_id;	/* for FOG_PROF_TARGET_CGROUP (exact cgroup) */
const volatile __u32 cfg_kernel = 1;	/* take kernel stacks */
const volatile __u32 cfg_idle;	/* count the idle task (pid 0) too */
const volatile __u32 cfg_unwind;	/* copy user stacks to prof_unwind (DWARF unwinding) */
const volatile __u32 cfg_python;	/* with cfg_unwind: walk CPython frames (prof_python) */

/* CPython processes: where their interpreter is (user/profile/pyproc.c fills it) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FOG_PY_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct fog_py_proc);
} prof_python SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FOG_UNW_RINGBUF_BYTES);
} prof_unwind SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, FOG_PROF_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, FOG_PROF_MAX_DEPTH * sizeof(__u64));
} prof_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FOG_PROF_MAX_KEYS);
	__type(key, struct fog_prof_key);
	__type(value, struct fog_prof_val);
} prof_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fog_prof_stats);
} prof_stats SEC(".maps");

SEC("perf_event")
int handle_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct fog_prof_key key = {};
	struct fog_prof_stats *st;
	struct fog_prof_val *val;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&prof_stats, &zero);
	if (!st)
		return 0;
	key.tgid = id >> 32;
	if ((!cfg_idle && (__u32)id == 0) ||
	    (cfg_target == FOG_PROF_TARGET_PID && key.tgid != cfg_tgid)) {
		st->filtered++;
		return 0;
	}
	if (cfg_target == FOG_PROF_TARGET_CGROUP &&
	    fog_task_cgroup_id(bpf_get_current_task_btf()) != cfg_cgroup_id) {
		st->filtered++;
		return 0;
	}
	st->samples++;
	if (cfg_unwind && key.tgid) {
		struct fog_unw_sample *u = bpf_ringbuf_reserve(&prof_unwind, sizeof(*u), 0);

		if (u) {
			u->kind = FOG_UNW_CPU;
			u->tgid = key.tgid;
			u->tid = (__u32)id;
			u->seq = 0;
			u->value = 1;
			u->pad = 0;
			bpf_get_current_comm(u->comm, sizeof(u->comm));
			u->kern_stack_id = cfg_kernel ? bpf_get_stackid(ctx, &prof_stacks, 0) : -14;
			if (u->kern_stack_id < 0 && u->kern_stack_id != -14)
				st->lost_kern++;
			if (!fog_unw_fill(u, fog_unw_user_regs((struct pt_regs *)&ctx->regs))) {
				if (cfg_python)
					fog_py_walk(u, &prof_python);
				/* user space wakes up on its own: no wake-up per sample */
				bpf_ringbuf_submit(u, BPF_RB_NO_WAKEUP);
				st->unwind++;
				return 0;
			}
			bpf_ringbuf_discard(u, BPF_RB_NO_WAKEUP);
		} else {
			st->lost_unwind++;
		}
	}
	/* no BPF_F_REUSE_STACKID: a collision must not rewrite stacks already counted */
	key.user_stack_id = bpf_get_stackid(ctx, &prof_stacks, BPF_F_USER_STACK);
	if (key.user_stack_id < 0 && key.user_stack_id != -14 /* EFAULT: no user stack */)
		st->lost_user++;
	key.kern_stack_id = -14;
	if (cfg_kernel) {
		key.kern_stack_id = bpf_get_stackid(ctx, &prof_stacks, 0);
		if (key.kern_stack_id < 0 && key.kern_stack_id != -14)
			st->lost_kern++;
	}
	val = bpf_map_lookup_elem(&prof_counts, &key);
	if (!val) {
		struct fog_prof_val init = {};

		bpf_get_current_comm(init.comm, sizeof(init.comm));
		bpf_map_update_elem(&prof_counts, &key, &init, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&prof_counts, &key);
		if (!val) {
			st->lost_keys++;
			return 0;
		}
	}
	__sync_fetch_and_add(&val->count, 1);
	return 0;
}
