/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPython 3.11 interpreter frames of a CPU sample (include/fog/abi/python.h):
 * the sampled thread's PyThreadState (the one holding the GIL when it is that
 * thread, else searched in the interpreter's list by pthread_self, which is
 * the thread's fs base on x86_64 and the same in every pid namespace), then
 * its current frame and the chain of previous frames, as py-spy reads them.
 * Every read is a bpf_probe_read_user of the tenant's memory: a bad pointer
 * only ends the walk.
 */
#ifndef FOG_PYTHON_BPF_H
#define FOG_PYTHON_BPF_H

#include "fog/abi/python.h"

/* The head of a 3.11 _PyInterpreterFrame (Include/internal/pycore_frame.h) */
struct fog_py311_frame {
	__u64 f_func, f_globals, f_builtins, f_locals;
	__u64 f_code;
	__u64 frame_obj;
	__u64 previous;
	__u64 prev_instr;
	__s32 stacktop;
	__u8 is_entry;
	__u8 owner;
	__u8 pad[2];
};

static __always_inline __u64 fog_py_read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (!addr || bpf_probe_read_user(&v, sizeof(v), (const void *)addr))
		return 0;
	return v;
}

/* The thread state of the current thread, or 0. */
static __always_inline __u64 fog_py_tstate(const struct fog_py_proc *pp)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 self = BPF_CORE_READ(t, thread.fsbase), ts;

	ts = fog_py_read_ptr(pp->runtime + pp->rt_tstate_current);
	if (ts && fog_py_read_ptr(ts + pp->ts_thread_id) == self)
		return ts;
	ts = fog_py_read_ptr(fog_py_read_ptr(pp->runtime + pp->rt_interp_head) +
			     pp->interp_threads_head);
	for (int i = 0; i < FOG_PY_MAX_THREADS && ts; i++) {
		if (fog_py_read_ptr(ts + pp->ts_thread_id) == self)
			return ts;
		ts = fog_py_read_ptr(ts + pp->ts_next);
	}
	return 0;
}

/* Adds the interpreter frames of the current thread to s, when its process runs CPython. */
static __always_inline void fog_py_walk(struct fog_unw_sample *s, void *procs)
{
	struct fog_py_proc *pp = bpf_map_lookup_elem(procs, &s->tgid);
	struct fog_py311_frame f;
	__u64 ts, frame;
	__u32 n = 0;

	if (!pp || pp->version != FOG_PY_V311)
		return;
	ts = fog_py_tstate(pp);
	if (!ts)
		return;
	frame = fog_py_read_ptr(fog_py_read_ptr(ts + pp->ts_cframe) + pp->cframe_current);
	for (int i = 0; i < FOG_PY_MAX_FRAMES; i++) {
		if (!frame || bpf_probe_read_user(&f, sizeof(f), (const void *)frame))
			break;
		s->py[i & (FOG_PY_MAX_FRAMES - 1)].code = f.f_code;
		s->py[i & (FOG_PY_MAX_FRAMES - 1)].instr = f.prev_instr;
		if (f.is_entry)
			s->py_entry |= 1ull << i;
		n = i + 1;
		frame = f.previous;
	}
	s->py_n = n;
}

#endif /* FOG_PYTHON_BPF_H */
