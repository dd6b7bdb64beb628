// SPDX-License-Identifier: GPL-2.0-only
/*
 * Scheduler accounting for the cpu and schedlat collectors. One handler per hot
 * tracepoint: sched_switch does both on-CPU accounting and run-queue latency, so
 * the cost per switch is paid once. Nothing here looks a task up in a hash map:
 * per-process on-CPU time and switch counts are the kernel's own, read by the
 * task iterator of bpf/tasks.bpf.c once per tick; per-process run-queue waits
 * go to the group leader's task storage, read by dump_runq below. Host and
 * cgroup figures aggregate in per-CPU maps; only rare events (exec, exit,
 * latency outliers) go to the ring buffer. Each wait is also charged to the
 * tasks that held the CPU meanwhile (neighbour attribution, see attribute).
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
volatile __u32 cfg_nbr;	/* enum fog_nbr_mode: who a wait is charged to */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FOG_SCHED_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct fog_cgroup_sched);
} sched_cgroups SEC(".maps");

/* waits charged per {victim cgroup, culprit cgroup}, flushed from sched_cpu's pending pair */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, FOG_SCHED_MAX_NEIGHBOURS);
	__type(key, struct fog_nbr_key);
	__type(value, struct fog_nbr_val);
} sched_neighbours SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fog_cpu_sched);
} sched_cpu SEC(".maps");

/*
 * Per task, living and dying with it: the kernel's run_delay once the task
 * last arrived on a CPU (see account_wait), or, on kernels without
 * CONFIG_SCHED_INFO, when it last became runnable; in a group leader's, the
 * waits of the whole process (a zombie leader stays until its last thread
 * is reaped, so the process's figure lives exactly as long as the process).
 */
struct fog_task_wait {
	__u64 delay_seen;	/* sched_info.run_delay after the last arrival */
	__u64 queued_ns;	/* fallback: wakeup or preemption time (ktime) */
	__u64 seen;	/* delay_seen is set */
	__u64 pad;
	struct fog_hist runq;	/* leaders: the process's waits, added atomically */
	struct fog_culprit culprits[FOG_NBR_CULPRITS];	/* leaders: who held the CPU meanwhile */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct fog_task_wait);
} sched_queued SEC(".maps");

/*
 * The kernel stamps run-queue waits itself (CONFIG_SCHED_INFO), with the
 * clock of the task's run queue, reached through its group's cfs_rq
 * (CONFIG_FAIR_GROUP_SCHED; the per-CPU runqueues symbol needs KALLSYMS_ALL).
 * user/collect/sched.c asks the same question to attach the fallback.
 */
#define HAVE_SCHED_INFO(t) (bpf_core_field_exists((t)->sched_info) && \
			    bpf_core_field_exists((t)->se.cfs_rq))

FOG_EVENT_MAPS(sched, 256 * 1024);

#define PF_EXITING 0x00000004

static const struct fog_cgroup_sched zero_cgroup;
static const struct fog_nbr_val zero_nbr;

static __always_inline struct fog_cgroup_sched *cgroup_stats(__u64 cgid)
{
	struct fog_cgroup_sched *st;

	st = bpf_map_lookup_elem(&sched_cgroups, &cgid);
	if (st)
		return st;
	bpf_map_update_elem(&sched_cgroups, &cgid, &zero_cgroup, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sched_cgroups, &cgid);
}

/* Fallback only: the task becomes runnable now. */
static __always_inline void mark_queued(struct task_struct *t, __u64 now)
{
	struct fog_task_wait *w = bpf_task_storage_get(&sched_queued, t, 0,
						       BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (w)
		w->queued_ns = now;
}

/*
 * How long next waited for this CPU; false when it did not wait. The kernel
 * (CONFIG_SCHED_INFO, which /proc/PID/schedstat and delay accounting use)
 * stamps sched_info.last_queued with the run queue's clock when a task is
 * enqueued or preempted, and on arrival adds the wait to run_delay: this
 * tracepoint fires just before that, with rq->clock already updated, so the
 * wait is rq->clock - last_queued, the kernel's own figure. A wait spread
 * over two CPUs (the task moved while queued) was added to run_delay when it
 * left the first one: that part is run_delay's growth since the task last
 * arrived. No wakeup hook is needed, which halves the cost per wait.
 */
static __always_inline bool wait_of(struct task_struct *next, __u64 now, __u64 *lat,
				    struct fog_task_wait **wp)
{
	struct fog_task_wait *w;

	if (HAVE_SCHED_INFO(next)) {
		__u64 queued = next->sched_info.last_queued;
		__u64 delay = next->sched_info.run_delay, part = 0, cur = 0;
		struct cfs_rq *cfs = next->se.cfs_rq;
		__u64 clock = cfs && cfs->rq ? cfs->rq->clock : 0;

		if (queued && clock > queued)
			cur = clock - queued;
		w = bpf_task_storage_get(&sched_queued, next, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!w)
			return false;
		/* a task first seen now: its run_delay holds waits from before fogd */
		if (w->seen && delay > w->delay_seen)
			part = delay - w->delay_seen;
		w->delay_seen = delay + cur;
		w->seen = 1;
		*lat = part + cur;
		*wp = w;
		return queued || part;
	}
	w = bpf_task_storage_get(&sched_queued, next, 0, 0);
	if (!w || !w->queued_ns)
		return false;
	*lat = now - w->queued_ns;
	w->queued_ns = 0;
	*wp = w;
	return true;
}

/* Adds this CPU's pending on-CPU figures to their cgroup's entry. */
static __always_inline void flush_cpu(struct fog_cpu_sched *cpu)
{
	struct fog_cgroup_sched *cs;

	if (!cpu->pend.oncpu_ns && !cpu->pend.nvcsw && !cpu->pend.nivcsw)
		return;
	cs = cgroup_stats(cpu->pend_cpu_cgid);
	if (cs) {
		cs->oncpu_ns += cpu->pend.oncpu_ns;
		cs->nvcsw += cpu->pend.nvcsw;
		cs->nivcsw += cpu->pend.nivcsw;
		cs->cpu_batches = cpu->pend_cpu_batch + 1;
	}
	cpu->pend.oncpu_ns = cpu->pend.nvcsw = cpu->pend.nivcsw = 0;
	cpu->pend_cpu_batch++;
}

/* Adds this CPU's pending run-queue histogram to its cgroup's entry. */
static __always_inline void flush_runq(struct fog_cpu_sched *cpu)
{
	struct fog_cgroup_sched *cs;

	if (!cpu->pend.runq.sum_ns)
		return;
	cs = cgroup_stats(cpu->pend_runq_cgid);
	if (cs) {
		cs->runq.sum_ns += cpu->pend.runq.sum_ns;
		for (int i = 0; i < FOG_HIST_SLOTS; i++)
			cs->runq.slots[i] += cpu->pend.runq.slots[i];
		cs->runq_batches = cpu->pend_runq_batch + 1;
	}
	__builtin_memset(&cpu->pend.runq, 0, sizeof(cpu->pend.runq));
	cpu->pend_runq_batch++;
}

/*
 * busy is wall time since the last switch (interrupts included: the CPU was
 * busy); ran is what the scheduler itself charged the task, the figure
 * getrusage reports, so a process's CPU time matches its own view.
 */
static __always_inline void account_oncpu(struct fog_cpu_sched *cpu, __u64 cgid, bool involuntary,
					  __u64 busy, __u64 ran)
{
	cpu->busy_ns += busy;
	if (cgid != cpu->pend_cpu_cgid) {
		flush_cpu(cpu);
		cpu->pend_cpu_cgid = cgid;
	}
	cpu->pend.oncpu_ns += ran;
	if (involuntary)
		cpu->pend.nivcsw++;
	else
		cpu->pend.nvcsw++;
}

/*
 * Adds one wait to the process's histogram; threads on other CPUs add to it
 * too. Returns the group leader's storage, where the culprits go.
 */
static __always_inline struct fog_task_wait *proc_wait(struct fog_cpu_sched *cpu,
						       struct task_struct *next,
						       struct fog_task_wait *w, __u32 slot,
						       __u64 lat)
{
	struct task_struct *leader = next->group_leader;

	if (leader && leader != next)
		w = bpf_task_storage_get(&sched_queued, leader, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w) {
		cpu->tasks_full++;
		return NULL;
	}
	if (slot < FOG_HIST_SLOTS)
		__sync_fetch_and_add(&w->runq.slots[slot], 1);
	__sync_fetch_and_add(&w->runq.sum_ns, lat);
	return w;
}

/* Adds this CPU's pending {victim, culprit} pair to sched_neighbours. */
static __always_inline void flush_nbr(struct fog_cpu_sched *cpu)
{
	struct fog_nbr_val *v;

	if (!cpu->pend_nbr_val.waits)
		return;
	v = bpf_map_lookup_elem(&sched_neighbours, &cpu->pend_nbr);
	if (!v) {
		bpf_map_update_elem(&sched_neighbours, &cpu->pend_nbr, &zero_nbr, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&sched_neighbours, &cpu->pend_nbr);
	}
	if (v) {
		v->wait_ns += cpu->pend_nbr_val.wait_ns;
		v->waits += cpu->pend_nbr_val.waits;
		v->batches = cpu->pend_nbr_batch + 1;
	}
	cpu->pend_nbr_val.wait_ns = cpu->pend_nbr_val.waits = 0;
	cpu->pend_nbr_batch++;
}

/*
 * The victim process's culprits, a Space-Saving summary (see struct
 * fog_culprit). Threads of the victim on other CPUs update the same slots:
 * the sums are atomic; a slot taken over by two CPUs at once may name either
 * culprit for one wait, which the summary's error already allows for.
 */
static __always_inline void charge_proc(struct fog_task_wait *lw, const struct fog_nbr_seg *s,
					__u64 ns)
{
	struct fog_culprit *c, *min = NULL;

	for (int i = 0; i < FOG_NBR_CULPRITS; i++) {
		c = &lw->culprits[i];
		if (c->tgid == s->tgid) {
			c->cgroup_id = s->cgroup_id;
			__sync_fetch_and_add(&c->wait_ns, ns);
			return;
		}
		if (!min || c->wait_ns < min->wait_ns)
			min = c;
	}
	if (!min)
		return;
	min->err_ns = min->wait_ns;
	min->tgid = s->tgid;
	min->cgroup_id = s->cgroup_id;
	__sync_fetch_and_add(&min->wait_ns, ns);
}

static __always_inline void charge(struct fog_cpu_sched *cpu, struct fog_task_wait *lw,
				   __u64 victim_cgid, const struct fog_nbr_seg *s, __u64 ns)
{
	if (cpu->pend_nbr.victim_cgid != victim_cgid || cpu->pend_nbr.culprit_cgid != s->cgroup_id) {
		flush_nbr(cpu);
		cpu->pend_nbr.victim_cgid = victim_cgid;
		cpu->pend_nbr.culprit_cgid = s->cgroup_id;
	}
	cpu->pend_nbr_val.wait_ns += ns;
	cpu->pend_nbr_val.waits++;
	if (lw)
		charge_proc(lw, s, ns);
	cpu->nbr_charged_ns += ns;
}

/* The stretch prev held this CPU, which ends now. */
static __always_inline void push_seg(struct fog_cpu_sched *cpu, __u64 cgid, __u32 tgid, __u64 now)
{
	struct fog_nbr_seg *s = &cpu->segs[cpu->seg_next & (FOG_NBR_SEGS - 1)];

	s->cgroup_id = cgid;
	s->tgid = tgid;
	s->start_ns = cpu->last_switch_ns;
	s->end_ns = now;
	cpu->seg_next++;
}

/*
 * Charges a wait of lat ending now to the tasks that held this CPU meanwhile.
 * FOG_NBR_LAST: all of it to the task just switched out (one stretch read,
 * one pair). FOG_NBR_PROPORTIONAL: each of the last FOG_NBR_SEGS stretches
 * its overlap with the wait. The idle task is charged nothing, nor is a
 * wait's part older than the stretches kept (or spent on another CPU before
 * the victim moved here, as the stretches here overlap it only by chance):
 * that goes to nbr_unattributed_ns.
 */
static __always_inline void attribute(struct fog_cpu_sched *cpu, struct fog_task_wait *lw,
				      __u64 cgid, __u64 now, __u64 lat)
{
	__u64 from = now > lat ? now - lat : 0, before = cpu->nbr_charged_ns, done;
	__u32 n = cpu->seg_next;

	if (cfg_nbr == FOG_NBR_LAST) {
		struct fog_nbr_seg *s = &cpu->segs[(n - 1) & (FOG_NBR_SEGS - 1)];

		if (s->tgid)
			charge(cpu, lw, cgid, s, lat);
	} else {
		for (__u32 i = 1; i <= FOG_NBR_SEGS; i++) {
			struct fog_nbr_seg *s = &cpu->segs[(n - i) & (FOG_NBR_SEGS - 1)];
			__u64 a = s->start_ns > from ? s->start_ns : from;

			if (s->end_ns <= from)
				break;
			if (s->tgid && s->end_ns > a)
				charge(cpu, lw, cgid, s, s->end_ns - a);
			if (s->start_ns <= from)
				break;
		}
	}
	done = cpu->nbr_charged_ns - before;
	if (lat > done)
		cpu->nbr_unattributed_ns += lat - done;
}

static __always_inline void account_wait(struct fog_cpu_sched *cpu, struct task_struct *next,
					 __u64 now)
{
	struct fog_task_wait *w = NULL;
	struct fog_ev_runq *ev;
	__u64 lat = 0, cgid, limit;
	__u32 slot;

	if (!wait_of(next, now, &lat, &w))
		return;

	slot = fog_hist_slot(lat);
	if (slot < FOG_HIST_SLOTS)
		cpu->runq.slots[slot]++;
	cpu->runq.sum_ns += lat;
	w = proc_wait(cpu, next, w, slot, lat);
	cgid = fog_task_cgroup_id(next);
	if (cgid != cpu->pend_runq_cgid) {
		flush_runq(cpu);
		cpu->pend_runq_cgid = cgid;
	}
	if (slot < FOG_HIST_SLOTS)
		cpu->pend.runq.slots[slot]++;
	cpu->pend.runq.sum_ns += lat;
	if (cfg_nbr && lat)
		attribute(cpu, w, cgid, now, lat);

	limit = cfg_runq_outlier_ns;
	if (!limit || lat < limit)
		return;
	ev = fog_event_reserve(&sched_events, &sched_drops, sizeof(*ev), FOG_EV_RUNQ_OUTLIER);
	if (!ev)
		return;
	ev->pid = next->tgid;
	ev->tid = next->pid;
	ev->latency_ns = lat;
	ev->cgroup_id = cgid;
	ev->cpu = bpf_get_smp_processor_id();
	ev->pad = 0;
	BPF_CORE_READ_STR_INTO(&ev->comm, next, comm);
	fog_event_submit(&sched_events, ev, false);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct fog_cpu_sched *cpu;
	__u64 now = bpf_ktime_get_ns();
	bool runnable = fog_task_state(prev) == 0;	/* TASK_RUNNING: preempted */
	__u32 prev_pid = prev->pid, next_pid = next->pid, zero = 0;
	bool nbr = cfg_runqlat && cfg_nbr;
	__u64 prev_cgid = 0;

	cpu = bpf_map_lookup_elem(&sched_cpu, &zero);
	if (!cpu)
		return 0;
	cpu->switches++;
	if (prev_pid && (cfg_cpu || nbr))
		prev_cgid = fog_task_cgroup_id(prev);
	if (cfg_cpu && cpu->last_switch_ns && prev_pid) {
		__u64 runtime = prev->se.sum_exec_runtime, busy = now - cpu->last_switch_ns;
		/* a switch this program missed leaves another task's figure: use wall time */
		__u64 ran = prev_pid == cpu->cur_pid && runtime >= cpu->in_runtime_ns ?
				    runtime - cpu->in_runtime_ns :
				    busy;

		account_oncpu(cpu, prev_cgid, preempt || runnable, busy, ran);
	}
	if (nbr)
		push_seg(cpu, prev_cgid, prev_pid ? prev->tgid : 0, now);
	cpu->last_switch_ns = now;
	cpu->in_runtime_ns = next->se.sum_exec_runtime;
	cpu->cur_pid = next_pid;
	cpu->cur_tgid = next_pid ? next->tgid : 0;

	if (!cfg_runqlat)
		return 0;
	/* fallback: a preempted task waits on the run queue from now on */
	if (!HAVE_SCHED_INFO(prev) && runnable && prev_pid)
		mark_queued(prev, now);
	if (next_pid)
		account_wait(cpu, next, now);
	return 0;
}

/* Fallback only: attached when the kernel has no sched_info (see wait_of). */
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

	if (!cfg_cpu || p->pid != p->tgid)
		return 0;
	ev = fog_event_reserve(&sched_events, &sched_drops, sizeof(*ev), type);
	if (!ev)
		return 0;
	ev->pid = p->tgid;
	ev->ppid = p->real_parent ? p->real_parent->tgid : 0;
	ev->exit_code = type == FOG_EV_EXIT ? p->exit_code : 0;
	ev->pad = 0;
	ev->cgroup_id = fog_task_cgroup_id(p);
	BPF_CORE_READ_STR_INTO(&ev->comm, p, comm);
	fog_event_submit(&sched_events, ev, false);
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

/*
 * One record per process whose leader holds waits: the per-process run-queue
 * histograms, read once per tick by user/collect/sched.c.
 */
SEC("iter/task")
int dump_runq(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct fog_task_wait *w;
	struct fog_proc_runq r;

	if (!t || t->pid != t->tgid || !t->tgid)
		return 0;
	w = bpf_task_storage_get(&sched_queued, t, 0, 0);
	if (!w || !w->runq.sum_ns)
		return 0;
	r.tgid = t->tgid;
	r.pad = 0;
	__builtin_memcpy(&r.runq, &w->runq, sizeof(r.runq));
	__builtin_memcpy(&r.culprits, &w->culprits, sizeof(r.culprits));
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
