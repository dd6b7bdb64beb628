/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Taking a user stack to unwind in user space (include/fog/abi/unwind.h): the
 * user registers and up to FOG_UNW_STACK_BYTES of the stack above sp, as perf
 * does for --call-graph dwarf. Used by the CPU, off-CPU and uprobe programs.
 */
#ifndef FOG_UNWIND_BPF_H
#define FOG_UNWIND_BPF_H

#include "fog/abi/unwind.h"

/* Copies the x86_64 registers in DWARF order. */
static __always_inline void fog_unw_regs(struct fog_unw_sample *s, const struct pt_regs *r)
{
	s->regs[0] = r->ax;
	s->regs[1] = r->dx;
	s->regs[2] = r->cx;
	s->regs[3] = r->bx;
	s->regs[4] = r->si;
	s->regs[5] = r->di;
	s->regs[6] = r->bp;
	s->regs[7] = r->sp;
	s->regs[8] = r->r8;
	s->regs[9] = r->r9;
	s->regs[10] = r->r10;
	s->regs[11] = r->r11;
	s->regs[12] = r->r12;
	s->regs[13] = r->r13;
	s->regs[14] = r->r14;
	s->regs[15] = r->r15;
	s->regs[16] = r->ip;
}

/*
 * Fills s from the user registers uregs (a kernel pointer: the sample's
 * registers or bpf_task_pt_regs) of the current task: the registers, then the
 * stack from sp up to FOG_UNW_STACK_BYTES, cut at the main thread's stack top
 * and halved until readable (a thread's stack may end sooner). Returns 0, or
 * -1 when there is no user stack to copy.
 */
static __always_inline int fog_unw_fill(struct fog_unw_sample *s, const void *uregs)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs r;
	__u64 top, sp;
	__u32 len = FOG_UNW_STACK_BYTES;

	s->py_n = 0;	/* no interpreter frames unless bpf/python.bpf.h adds them */
	s->py_pad = 0;
	s->py_entry = 0;
	if (!t->mm || bpf_probe_read_kernel(&r, sizeof(r), uregs))
		return -1;
	fog_unw_regs(s, &r);
	sp = r.sp;
	top = BPF_CORE_READ(t, mm, start_stack);
	if (sp < top && top - sp < len)
		len = top - sp;	/* the main thread: nothing of its frames lies above */
	s->stack_len = 0;
	for (int i = 0; i < 6; i++) {
		if (len < FOG_UNW_MIN_BYTES)
			break;
		if (len <= FOG_UNW_STACK_BYTES && !bpf_probe_read_user(s->stack, len, (void *)sp)) {
			s->stack_len = len;
			return 0;
		}
		len >>= 1;
	}
	return 0;	/* registers only: the leaf frame still unwinds from them */
}

/* The user registers of the current task, whether the sample interrupted user or kernel mode. */
static __always_inline const void *fog_unw_user_regs(const struct pt_regs *sampled)
{
	if (sampled && (BPF_CORE_READ(sampled, cs) & 3) == 3)
		return sampled;
	return (const void *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

#endif /* FOG_UNWIND_BPF_H */
