/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A user stack to unwind without frame pointers: the user registers and a copy
 * of the top of the user stack at the sample, taken by bpf/unwind.bpf.h for
 * the CPU, off-CPU and uprobe allocation programs and sent through their ring
 * buffer; user space unwinds it with DWARF CFI in the symbol helper
 * (user/profile/unwind.h). The copy is the tenant's memory: hostile input.
 */
#ifndef FOG_ABI_UNWIND_H
#define FOG_ABI_UNWIND_H

#include "common.h"
#include "python.h"

#define FOG_UNW_STACK_BYTES 16384	/* of the user stack copied from sp upwards */
#define FOG_UNW_MIN_BYTES 64	/* a shorter readable stack is not copied */
#define FOG_UNW_NREGS 17	/* x86_64 DWARF registers 0-16: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
#define FOG_UNW_REG_SP 7
#define FOG_UNW_REG_IP 16
/* user_stack_id of a count whose user stack went to the ring buffer to be unwound */
#define FOG_UNW_STACK_ID (-1000)
#define FOG_UNW_RINGBUF_BYTES (8u << 20)	/* about 470 samples in flight */

/* Record kinds (fog_unw_sample.kind) */
#define FOG_UNW_CPU 1	/* an on-CPU sample: value 1 */
#define FOG_UNW_BLOCK 2	/* off-CPU: the stack of a block (seq), its time comes with FOG_UNW_WAKE */
#define FOG_UNW_WAKE 3	/* off-CPU: block seq lasted value ns (no stack, struct fog_unw_wake) */
#define FOG_UNW_ALLOC 4	/* uprobe allocation mode: the stack of allocation seq */

struct fog_unw_wake {
	__u32 kind;	/* FOG_UNW_WAKE */
	__u32 tid;	/* the thread that blocked */
	__u64 seq;	/* the FOG_UNW_BLOCK record's */
	__u64 ns;	/* time blocked */
};

struct fog_unw_sample {
	__u32 kind;	/* FOG_UNW_* */
	__u32 tgid;
	__u32 tid;
	__s32 kern_stack_id;	/* -errno of bpf_get_stackid, or -14 when none was taken */
	__u64 seq;	/* off-CPU and allocation records: what later records refer to */
	__u64 value;	/* FOG_UNW_CPU: 1 */
	__u32 stack_len;	/* bytes of stack[] copied from regs[FOG_UNW_REG_SP] */
	__u32 pad;
	__u64 regs[FOG_UNW_NREGS];
	char comm[FOG_COMM_LEN];
	__u32 py_n;	/* interpreter frames in py (CPU samples of CPython processes), else 0 */
	__u32 py_pad;
	__u64 py_entry;	/* bit i: py[i] is the first frame of its _PyEval_EvalFrameDefault call */
	struct fog_py_frame py[FOG_PY_MAX_FRAMES];
	__u8 stack[FOG_UNW_STACK_BYTES];
};

#endif /* FOG_ABI_UNWIND_H */
