// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scheduler accounting for the cpu and schedlat collectors. One handler per hot
 * tracepoint: sched_switch does both on-CPU accounting and run-queue latency, so
 * the cost per switch is paid once. Everything aggregates in per-CPU maps; only
 * rare events (exec, exit, latency outliers) go to the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fog.bpf.h"
#include "fog/abi/sched.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Run-time settings in .bss, written by user space while the programs run:
 * the cpu and schedlat collectors share this object and switch their halves.
 */
volatile __u32 cfg_cpu;	/* on-CPU accounting and exec/exit events */
volatile __u32 cfg_runqlat;	/* run-queue latency */
volatile __u64 cfg_runq_outlier_ns;	/* waits above this become events; 0: none */

/* not LRU: LRU maps evict before they are full; exits delete entries */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FOG_SCHED_MAX_TASKS);
	__type(key, __u32);
	__type(value, struct fog_task_sched);
} sched_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FOG_SCHED_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct fog_cgroup_sched);
} sched_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fog_cpu_sched);
} sched_cpu SEC(".maps");

/* when a task last became runnable; lives and dies with the task */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} sched_queued SEC(".maps");

FOG_EVENT_MAPS(sched, 256 * 1024);

#define PF_EXITING 0x00000004

static const struct fog_task_sched zero_task;
static const struct fog_cgroup_sched zero_cgroup;

static __always_inline struct fog_task_sched *task_stats(struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct fog_task_sched *st;

	st = bpf_map_lookup_elem(&sched_tasks, &tgid);
	if (st)
		return st;
	/* an exiting task's last switch must not bring back the entry its exit removed */
	if (BPF_CORE_READ(t, flags) & PF_EXITING)
		return NULL;
	bpf_map_update_elem(&sched_tasks, &tgid, &zero_task, BPF_NOEXIST);
	st = bpf_map_lookup_elem(&sched_tasks, &tgid);
	if (!st) {
		__u32 zero = 0;
		struct fog_cpu_sched *cpu = bpf_map_lookup_elem(&sched_cpu, &zero);

		if (cpu)
			cpu->tasks_full++;
	} else {
		st->cgroup_id = fog_task_cgroup_id(t);
		BPF_CORE_READ_STR_INTO(&st->comm, t, group_leader, comm);
	}
	return st;
}

static __always_inline struct fog_cgroup_sched *cgroup_stats(__u64 cgid)
{
	struct fog_cgroup_sched *st;

	st = bpf_map_lookup_elem(&sched_cgroups, &cgid);
	if (st)
		return st;
	bpf_map_update_elem(&sched_cgroups, &cgid, &zero_cgroup, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sched_cgroups, &cgid);
}

static __always_inline void mark_queued(struct task_struct *t, __u64 now)
{
	__u64 *ts = bpf_task_storage_get(&sched_queued, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (ts)
		*ts = now;
}

static __always_inline void account_oncpu(struct fog_cpu_sched *cpu, struct task_struct *prev,
					  bool involuntary, __u64 delta)
{
	struct fog_task_sched *ts;
	struct fog_cgroup_sched *cs;

	cpu->busy_ns += delta;
	ts = task_stats(prev);
	if (ts) {
		ts->oncpu_ns += delta;
		if (involuntary)
			ts->nivcsw++;
		else
			ts->nvcsw++;
	}
	cs = cgroup_stats(fog_task_cgroup_id(prev));
	if (cs) {
		cs->oncpu_ns += delta;
		if (involuntary)
			cs->nivcsw++;
		else
			cs->nvcsw++;
	}
}

static __always_inline void account_wait(struct fog_cpu_sched *cpu, struct task_struct *next,
					 __u64 now)
{
	struct fog_task_sched *ts;
	struct fog_cgroup_sched *cs;
	struct fog_ev_runq *ev;
	__u64 *queued, lat, cgid, limit;

	queued = bpf_task_storage_get(&sched_queued, next, 0, 0);
	if (!queued || !*queued)
		return;
	lat = now - *queued;
	*queued = 0;

	fog_hist_add(&cpu->runq, lat);
	ts = task_stats(next);
	if (ts)
		fog_hist_add(&ts->runq, lat);
	cgid = fog_task_cgroup_id(next);
	cs = cgroup_stats(cgid);
	if (cs)
		fog_hist_add(&cs->runq, lat);

	limit = cfg_runq_outlier_ns;
	if (!limit || lat < limit)
		return;
	ev = fog_event_reserve(&sched_events, &sched_drops, sizeof(*ev), FOG_EV_RUNQ_OUTLIER);
	if (!ev)
		return;
	ev->pid = BPF_CORE_READ(next, tgid);
	ev->tid = BPF_CORE_READ(next, pid);
	ev->latency_ns = lat;
	ev->cgroup_id = cgid;
	ev->cpu = bpf_get_smp_processor_id();
	ev->pad = 0;
	BPF_CORE_READ_STR_INTO(&ev->comm, next, comm);
	bpf_ringbuf_submit(ev, 0);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct fog_cpu_sched *cpu;
	__u64 now = bpf_ktime_get_ns();
	bool runnable = fog_task_state(prev) == 0;	/* TASK_RUNNING: preempted */
	__u32 zero = 0;

	cpu = bpf_map_lookup_elem(&sched_cpu, &zero);
	if (!cpu)
		return 0;
	cpu->switches++;
	if (cfg_cpu && cpu->last_switch_ns && BPF_CORE_READ(prev, pid) != 0)
		account_oncpu(cpu, prev, preempt || runnable, now - cpu->last_switch_ns);
	cpu->last_switch_ns = now;
	cpu->cur_tgid = BPF_CORE_READ(next, pid) ? BPF_CORE_READ(next, tgid) : 0;

	if (!cfg_runqlat)
		return 0;
	/* a preempted task waits on the run queue from now on */
	if (runnable && BPF_CORE_READ(prev, pid) != 0)
		mark_queued(prev, now);
	if (BPF_CORE_READ(next, pid) != 0)
		account_wait(cpu, next, now);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{
	mark_queued(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(handle_sched_wakeup_new, struct task_struct *p)
{
	mark_queued(p, bpf_ktime_get_ns());
	return 0;
}

static __always_inline int emit_proc(struct task_struct *p, __u32 type)
{
	struct fog_ev_proc *ev;

	if (!cfg_cpu || BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
		return 0;
	ev = fog_event_reserve(&sched_events, &sched_drops, sizeof(*ev), type);
	if (!ev)
		return 0;
	ev->pid = BPF_CORE_READ(p, tgid);
	ev->ppid = BPF_CORE_READ(p, real_parent, tgid);
	ev->exit_code = type == FOG_EV_EXIT ? BPF_CORE_READ(p, exit_code) : 0;
	ev->pad = 0;
	ev->cgroup_id = fog_task_cgroup_id(p);
	BPF_CORE_READ_STR_INTO(&ev->comm, p, comm);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_sched_process_exec, struct task_struct *p)
{
	return emit_proc(p, FOG_EV_EXEC);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_sched_process_exit, struct task_struct *p)
{
	return emit_proc(p, FOG_EV_EXIT);
}
