// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-task figures the kernel already keeps, read by a task iterator once per
 * tick: on-CPU time, context switches, page faults and I/O accounting. No
 * hook runs per switch or per fault for them; user space reads the iterator
 * (user/collect/tasks.c) and sums the threads of each process.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fog.bpf.h"
#include "fog/abi/tasks.h"

char LICENSE[] SEC("license") = "GPL";

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	struct fog_task_rec r = {};
	struct signal_struct *sig;

	if (!t)
		return 0;
	r.tgid = t->tgid;
	if (!r.tgid)
		return 0; /* the idle tasks */
	r.runtime_ns = t->se.sum_exec_runtime;
	r.nvcsw = t->nvcsw;
	r.nivcsw = t->nivcsw;
	r.min_flt = t->min_flt;
	r.maj_flt = t->maj_flt;
	if (bpf_core_field_exists(t->ioac)) {
		r.read_bytes = t->ioac.read_bytes;
		r.write_bytes = t->ioac.write_bytes;
		r.syscr = t->ioac.syscr;
		r.syscw = t->ioac.syscw;
	}
	if (t->pid == t->tgid) {
		r.flags = FOG_TASK_LEADER;
		sig = t->signal;
		if (sig) {
			/* what __exit_signal moved here from the threads that exited */
			r.runtime_ns += sig->sum_sched_runtime;
			r.nvcsw += sig->nvcsw;
			r.nivcsw += sig->nivcsw;
			r.min_flt += sig->min_flt;
			r.maj_flt += sig->maj_flt;
			if (bpf_core_field_exists(sig->ioac)) {
				r.read_bytes += sig->ioac.read_bytes;
				r.write_bytes += sig->ioac.write_bytes;
				r.syscr += sig->ioac.syscr;
				r.syscw += sig->ioac.syscw;
			}
		}
		r.start_ns = t->start_time;
		r.cgroup_id = fog_task_cgroup_id(t);
		__builtin_memcpy(r.comm, t->comm, sizeof(r.comm));
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
