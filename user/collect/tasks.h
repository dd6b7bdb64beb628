/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the kernel counts per task (on-CPU time, context switches, page
 * faults, I/O accounting), read for every task by one BPF task iterator per
 * tick (bpf/tasks.bpf.c) and summed per process into the aggregates. The cpu,
 * mem and io collectors share it: each takes the figures it reports.
 */
#ifndef FOG_COLLECT_TASKS_H
#define FOG_COLLECT_TASKS_H

#include <linux/types.h>

struct fog_collector;
struct fog_collect;

/* the figures a collector takes */
#define FOG_TASKS_CPU	 1u /* oncpu_ns, nvcsw, nivcsw */
#define FOG_TASKS_FAULTS 2u /* faults: minor + major */
#define FOG_TASKS_IO	 4u /* io_read_bytes, io_write_bytes */

/* Loads the iterator on first use; on failure fills c->error and returns a negative errno. */
int fog_tasks__get(struct fog_collector *c, unsigned int figures);
void fog_tasks__put(struct fog_collector *c, unsigned int figures);
/*
 * Reads every task once per tick (later calls in the same tick return at
 * once) into the aggregates; returns 0 or a negative errno.
 */
int fog_tasks__read(struct fog_collect *o);
/* How many records the last read gave (threads), for status. */
unsigned int fog_tasks__threads(void);

#endif /* FOG_COLLECT_TASKS_H */
