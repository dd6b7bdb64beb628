/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The unwinder thread of a capture (unwinder.c): drains the ring buffer of
 * copied user stacks, batches them per process and has them unwound
 * (unwind.h: in the symbol helper, or here), counting the stacks.
 */
#ifndef FOG_PROF_UNWINDER_H
#define FOG_PROF_UNWINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "profile/unwind.h"

struct fog_unwinder;

/* One counted stack: user frames are return addresses (the leaf is the sampled ip). */
struct fog_unw_stack {
	__u32 tgid;
	__s32 kern_stack_id;
	__u32 nips;
	__u32 pad;
	__u64 value;	/* samples (CPU), nanoseconds (off-CPU) */
	__u64 count;	/* samples or blocks */
	char comm[FOG_COMM_LEN];
	__u64 ips[FOG_PROF_MAX_DEPTH];
	__u32 npy;	/* interpreter frames (fog_unwinder__py_name), innermost first */
	__u32 py[FOG_PY_MAX_FRAMES];
};

struct fog_unwinder_stats {
	__u64 samples;	/* records read from the ring buffer */
	__u64 unwound;	/* samples that got at least their leaf and one caller */
	__u64 frames;	/* user frames over all samples */
	__u64 failed;	/* samples of batches the helper failed on ([unknown]) */
	__u64 lost;	/* samples not counted: too many distinct stacks */
	__u64 batches;	/* helper requests */
};

/*
 * Starts draining the ring buffer map rb_fd in a thread of its own. NULL and
 * errno on failure.
 */
struct fog_unwinder *fog_unwinder__new(int rb_fd);
/* Stops the thread; accepts NULL. */
void fog_unwinder__free(struct fog_unwinder *u);
/*
 * Waits until every record in the ring buffer so far is read and unwound (call
 * it once sampling stopped, before reading the stacks).
 */
void fog_unwinder__flush(struct fog_unwinder *u);
/* Forgets the counted stacks (a new window); the ring buffer should be idle. */
void fog_unwinder__reset(struct fog_unwinder *u);
/*
 * Off-CPU: thread tid still blocked at the end, since block seq: adds ns to
 * that block's stack. Call after flush.
 */
void fog_unwinder__add_blocked(struct fog_unwinder *u, __u32 tid, __u64 seq, __u64 ns);
/*
 * Allocation mode: the unwound stack of the FOG_UNW_ALLOC record (tid, seq),
 * or NULL. Call after flush; valid as the counted stacks are.
 */
const struct fog_unw_stack *fog_unwinder__find(struct fog_unwinder *u, __u32 tid, __u64 seq);
/* The counted stacks, valid until the next reset or free (call after flush). */
size_t fog_unwinder__stacks(struct fog_unwinder *u, const struct fog_unw_stack **v);
void fog_unwinder__stats(struct fog_unwinder *u, struct fog_unwinder_stats *st);
/*
 * Names the CPython frames of the samples (pyproc.h), map_fd being the
 * sampler's prof_python; pid (or 0), a process the thread looks at first
 * rather than at its first sample. 0 or a negative errno.
 */
int fog_unwinder__python(struct fog_unwinder *u, int map_fd, __u32 pid);
/* The name and file of interpreter frame id of a counted stack; NULL when unknown. */
const char *fog_unwinder__py_name(struct fog_unwinder *u, __u32 id, const char **file);
/* Distinct processes in the counted stacks, up to max; returns how many. */
size_t fog_unwinder__pids(struct fog_unwinder *u, __u32 *pids, size_t max);

#endif /* FOG_PROF_UNWINDER_H */
