/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython interpreter frames (issue 14): for each process user space found
 * running CPython 3.11 (user/profile/pyproc.c), prof_python holds where its
 * _PyRuntime is and the offsets of the thread-state fields; the CPU sampler
 * (bpf/python.bpf.h) finds the sampled thread's PyThreadState and walks its
 * _PyInterpreterFrame list, recording each frame's code object and last
 * instruction in the sample (struct fog_unw_sample.py). User space names them
 * from the code objects. Every pointer is the tenant's: hostile input.
 */
#ifndef FOG_ABI_PYTHON_H
#define FOG_ABI_PYTHON_H

#include "common.h"

#define FOG_PY_MAX_FRAMES 64	/* interpreter frames walked per sample */
#define FOG_PY_MAX_THREADS 32	/* thread states searched for the sampled thread */
#define FOG_PY_MAX_PROCS 1024	/* entries of prof_python */
#define FOG_PY_V311 0x030b	/* fog_py_proc.version: the 3.11 frame layout */

/* prof_python value, keyed by tgid */
struct fog_py_proc {
	__u64 runtime;	/* address of _PyRuntime */
	__u32 version;	/* FOG_PY_V311 */
	__u16 rt_tstate_current;	/* _PyRuntimeState.gilstate.tstate_current */
	__u16 rt_interp_head;	/* _PyRuntimeState.interpreters.head */
	__u16 interp_threads_head;	/* PyInterpreterState.threads.head */
	__u16 ts_next;	/* PyThreadState.next */
	__u16 ts_cframe;	/* PyThreadState.cframe */
	__u16 ts_thread_id;	/* PyThreadState.thread_id: pthread_self(), the thread's fs base */
	__u16 cframe_current;	/* _PyCFrame.current_frame */
	__u16 pad[3];
};

/* One interpreter frame of a sample, innermost first */
struct fog_py_frame {
	__u64 code;	/* f_code: the PyCodeObject */
	__u64 instr;	/* prev_instr: inside the code object's co_code_adaptive */
};

#endif /* FOG_ABI_PYTHON_H */
