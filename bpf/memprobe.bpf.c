// SPDX-License-Identifier: GPL-2.0-only
/*
 * The profiler's uprobe memory mode: uprobes on one process's libc malloc,
 * calloc, realloc, free, mmap and munmap, a return probe shared by the four
 * allocating functions, and the sampling decision made here, so only sampled
 * allocations reach user space (user/profile/uprobe.c). User space attaches
 * them through uprobe_multi links (one per program, the function in the
 * attach cookie, filtered to the process by the kernel), so the programs are
 * loaded with expected_attach_type BPF_TRACE_UPROBE_MULTI.
 *
 * Sampling is by bytes with an exponential interval (mean cfg_mean, 512 KiB
 * by default), as jemalloc's prof_sample and Go's MemProfileRate do: each
 * thread counts down the bytes to its next sampling point; an allocation that
 * crosses it is sampled and a new interval drawn. BPF has no floating point,
 * so the interval comes from a table of the exponential's quantiles that user
 * space fills (cfg_exp), read at a bpf_get_prandom_u32() position and
 * interpolated within the bucket.
 *
 * The stack is taken at the return probe: glibc's malloc does not set up a
 * frame pointer, so a stack taken at its entry would skip the caller. The
 * return also gives the address, which goes into memprobe_live; a free or
 * munmap of an address found there is sent to user space, every other free
 * costs one hash lookup.
 *
 * Every probe hit traps into the kernel (several microseconds here) whether
 * or not it is sampled: that, not this code, is the mode's cost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "fog/abi/memprobe.h"
#include "fog/abi/profile.h"
#include "unwind.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define MAP_ANONYMOUS_FLAG 0x20
#define NEST_NS 10000000000ULL	/* a pending call older than this lost its return */

const volatile __u32 cfg_tgid;	/* the profiled process (init pid namespace) */
const volatile __u64 cfg_mean = 524288;	/* sampling interval mean, bytes */
const volatile __u64 cfg_libc_lo;	/* the target's libc text: mmap calls from there are */
const volatile __u64 cfg_libc_hi;	/* libc's own (malloc's arenas, thread stacks) */
/* quantiles of Exp(1) in FOG_MEMPROBE_EXP_ONE units, bucket i = [cfg_exp[i], cfg_exp[i+1]) */
const volatile __u32 cfg_exp[FOG_MEMPROBE_EXP_N + 1];
/*
 * Copy the user registers and stack of a sampled allocation to memprobe_unwind
 * (a FOG_UNW_ALLOC record, seq = the event's ts_ns) for DWARF unwinding; the
 * event's stack_id is then FOG_UNW_STACK_ID.
 */
const volatile __u32 cfg_unwind;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FOG_UNW_RINGBUF_BYTES);
} memprobe_unwind SEC(".maps");

/* bumped by user space whenever it attaches or detaches: pending calls from before are stale */
__u32 epoch;

/* The allocator call a thread is in (the outermost one), between entry and return. */
struct thread_state {
	__s64 left;	/* bytes to the next sampling point */
	__u64 sp;	/* stack pointer at the call's entry */
	__u64 size;
	__u64 ts_ns;
	__u32 kind;
	__u32 epoch;
	__u8 active;
	__u8 sampled;
	__u8 started;	/* left holds an interval */
	__u8 pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} memprobe_threads SEC(".maps");

/* sampled addresses not yet freed -> enum fog_memprobe_kind of the allocation */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FOG_MEMPROBE_LIVE);
	__type(key, __u64);
	__type(value, __u32);
} memprobe_live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, FOG_MEMPROBE_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, FOG_MEMPROBE_DEPTH * sizeof(__u64));
} memprobe_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FOG_MEMPROBE_RING);
} memprobe_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fog_memprobe_stats);
} memprobe_stats SEC(".maps");

/* The stats of this CPU when the current task belongs to the target, else NULL. */
static __always_inline struct fog_memprobe_stats *target_stats(void)
{
	struct fog_memprobe_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&memprobe_stats, &zero);
	if (!st)
		return NULL;
	/* first thing: the probes are on a file other processes map too */
	if ((bpf_get_current_pid_tgid() >> 32) != cfg_tgid) {
		st->filtered++;
		return NULL;
	}
	return st;
}

/* An Exp(cfg_mean) interval in bytes, at least 1. */
static __always_inline __s64 next_interval(void)
{
	__u32 r = bpf_get_prandom_u32();
	__u32 i = r >> (32 - FOG_MEMPROBE_EXP_BITS);
	__u64 lo, hi, q;

	if (i >= FOG_MEMPROBE_EXP_N)
		return (__s64)cfg_mean;
	lo = cfg_exp[i];
	hi = cfg_exp[i + 1];
	/* the low 16 bits are independent of the index bits: the position in the bucket */
	q = lo + (((hi > lo ? hi - lo : 0) * (r & 0xffff)) >> 16);
	q = (cfg_mean * q) / FOG_MEMPROBE_EXP_ONE;
	return q ? (__s64)q : 1;
}

static __always_inline void emit(struct fog_memprobe_stats *st, __u32 kind, __u64 addr,
				 __u64 size, __s32 stack_id, __u32 flags)
{
	struct fog_memprobe_event *e = bpf_ringbuf_reserve(&memprobe_events, sizeof(*e), 0);

	if (!e) {
		st->lost_events++;
		return;
	}
	e->addr = addr;
	e->size = size;
	e->ts_ns = bpf_ktime_get_ns();
	e->stack_id = stack_id;
	e->kind = kind;
	e->flags = flags;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	bpf_ringbuf_submit(e, 0);
}

/* A free of addr if it is a sampled allocation of the right family. */
static __always_inline void forget(struct fog_memprobe_stats *st, __u64 addr, bool mapping)
{
	__u32 *kind;

	if (!addr)
		return;
	kind = bpf_map_lookup_elem(&memprobe_live, &addr);
	if (!kind || (*kind == FOG_MEMPROBE_MMAP) != mapping)
		return;
	/* realloc(p, 0) frees p twice over (its entry, then free): one delete wins */
	if (bpf_map_delete_elem(&memprobe_live, &addr))
		return;
	st->freed++;
	emit(st, mapping ? FOG_MEMPROBE_MUNMAP : FOG_MEMPROBE_FREE, addr, 0, -1, 0);
}

/*
 * The entry of an allocating call: count its bytes down and remember the call
 * for the return probe. A call made while the thread is inside another one
 * (glibc's realloc(NULL, n) jumps to malloc; malloc maps memory) is the same
 * allocation: it is not counted again.
 */
static __always_inline int on_entry(struct pt_regs *ctx, struct fog_memprobe_stats *st,
				    __u32 kind, __u64 size)
{
	struct thread_state *t;
	__u64 sp = PT_REGS_SP(ctx), now;
	__u32 ep = epoch;

	t = bpf_task_storage_get(&memprobe_threads, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return 0;
	now = bpf_ktime_get_ns();
	if (t->active && t->epoch == ep && sp <= t->sp && now - t->ts_ns < NEST_NS) {
		st->nested++;
		return 0;
	}
	if (!t->started) {
		t->left = next_interval();
		t->started = 1;
	}
	t->left -= (__s64)size;
	t->sampled = t->left <= 0;
	if (t->sampled)
		t->left = next_interval();
	t->active = 1;
	t->sp = sp;
	t->size = size;
	t->ts_ns = now;
	t->kind = kind;
	t->epoch = ep;
	return 0;
}

/*
 * The entry of malloc, calloc, realloc or mmap: one program attached to the
 * four functions through one uprobe_multi link, the attach cookie saying which.
 */
SEC("uprobe")
int handle_alloc(struct pt_regs *ctx)
{
	struct fog_memprobe_stats *st = target_stats();
	__u32 kind = (__u32)bpf_get_attach_cookie(ctx);
	__u64 size, ret = 0;

	if (!st || kind >= FOG_MEMPROBE_FREE)
		return 0;
	st->entries[kind]++;
	switch (kind) {
	case FOG_MEMPROBE_MALLOC:
		size = PT_REGS_PARM1(ctx);
		break;
	case FOG_MEMPROBE_CALLOC:
		size = PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx);
		break;
	case FOG_MEMPROBE_REALLOC:
		/* the old block is gone whether realloc moves it or not (failures are rare) */
		forget(st, PT_REGS_PARM1(ctx), false);
		size = PT_REGS_PARM2(ctx);
		break;
	default:	/* mmap(addr, len, prot, flags, fd, offset) */
		if (!(PT_REGS_PARM4(ctx) & MAP_ANONYMOUS_FLAG))
			return 0;	/* file mappings are not allocations */
		/* the return address is at the stack pointer on entry: who called mmap */
		if (!bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(ctx)) &&
		    ret >= cfg_libc_lo && ret < cfg_libc_hi) {
			st->internal++;
			return 0;
		}
		size = PT_REGS_PARM2(ctx);
		break;
	}
	return on_entry(ctx, st, kind, size);
}

/* The entry of free or munmap (the cookie says which): one hash lookup unless sampled. */
SEC("uprobe")
int handle_free(struct pt_regs *ctx)
{
	struct fog_memprobe_stats *st = target_stats();
	__u32 kind = (__u32)bpf_get_attach_cookie(ctx);

	if (!st)
		return 0;
	if (kind == FOG_MEMPROBE_FREE || kind == FOG_MEMPROBE_MUNMAP)
		st->entries[kind]++;
	forget(st, PT_REGS_PARM1(ctx), kind == FOG_MEMPROBE_MUNMAP);
	return 0;
}

/*
 * The return of malloc, calloc, realloc or mmap: the call is the thread's
 * pending one when the stack pointer is just above where it was at the entry
 * (the return address popped). A sampled call sends its address, size and
 * stack, and its address is watched for the free.
 */
SEC("uprobe")
int handle_return(struct pt_regs *ctx)
{
	__u64 rc = PT_REGS_RC(ctx);
	struct fog_memprobe_stats *st = target_stats();
	struct fog_memprobe_event *e;
	struct thread_state *t;
	__u32 kind, flags = 0;

	if (!st)
		return 0;
	st->returns++;
	t = bpf_task_storage_get(&memprobe_threads, bpf_get_current_task_btf(), 0, 0);
	if (!t || !t->active || t->epoch != epoch || PT_REGS_SP(ctx) != t->sp + 8)
		return 0;
	t->active = 0;
	if (!t->sampled || !rc || rc == (__u64)-1 /* MAP_FAILED */)
		return 0;
	kind = t->kind;
	st->sampled++;
	/* reserved before the address is watched, so its free cannot be read first */
	e = bpf_ringbuf_reserve(&memprobe_events, sizeof(*e), 0);
	if (!e) {
		st->lost_events++;
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->stack_id = -1;
	if (cfg_unwind) {
		struct fog_unw_sample *u = bpf_ringbuf_reserve(&memprobe_unwind, sizeof(*u), 0);

		if (u) {
			u->kind = FOG_UNW_ALLOC;
			u->tgid = cfg_tgid;
			u->tid = e->tid;
			u->kern_stack_id = -14;
			u->seq = e->ts_ns;
			u->value = 0;
			u->pad = 0;
			bpf_get_current_comm(u->comm, sizeof(u->comm));
			/* a uprobe's registers are the user's: the caller of malloc is the leaf */
			if (!fog_unw_fill(u, ctx)) {
				bpf_ringbuf_submit(u, BPF_RB_NO_WAKEUP);
				e->stack_id = FOG_UNW_STACK_ID;
			} else {
				bpf_ringbuf_discard(u, BPF_RB_NO_WAKEUP);
			}
		}
	}
	if (e->stack_id == -1)
		e->stack_id = bpf_get_stackid(ctx, &memprobe_stacks, BPF_F_USER_STACK);
	if (e->stack_id < 0 && e->stack_id != FOG_UNW_STACK_ID)
		st->lost_stacks++;
	if (bpf_map_update_elem(&memprobe_live, &rc, &kind, BPF_ANY)) {
		flags = FOG_MEMPROBE_UNTRACKED;
		st->lost_live++;
	}
	e->addr = rc;
	e->size = t->size;
	e->kind = kind;
	e->flags = flags;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
