// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pending queue: an unordered array of waiting tasks, sorted into the
 * current strategy's order at the start of each scheduling pass (priorities
 * age with time, so no order is stable between passes).
 */
#include <errno.h>
#include <stdlib.h>

#include "sched/sched_int.h"

int fog_queue_add(struct fog_sched *s, struct fog_task *t)
{
	if (s->n_pending >= s->opts.max_tasks)
		return -ENOMEM;
	t->pend_idx = s->n_pending;
	s->pending[s->n_pending++] = t;
	return 0;
}

void fog_queue_del(struct fog_sched *s, struct fog_task *t)
{
	unsigned int i = t->pend_idx;

	if (i >= s->n_pending || s->pending[i] != t)
		return;
	s->pending[i] = s->pending[--s->n_pending];
	s->pending[i]->pend_idx = i;
}

/*
 * PRIORITY's aging: a task gains one level per aging_ns waited, without a cap,
 * so a LOW task waits at most 3 * aging_ns before it outranks every newly
 * arrived CRITICAL task: no task starves.
 */
int fog_queue_effective_priority(const struct fog_sched *s, const struct fog_task *t, __u64 now)
{
	__u64 waited = now > t->info.submit_ns ? now - t->info.submit_ns : 0;
	__u64 levels = waited / s->opts.aging_ns;

	if (levels > 1000000)
		levels = 1000000;
	return (int)t->info.spec.priority + (int)levels;
}

struct sort_ctx {
	const struct fog_sched *s;
	const struct fog_strategy_ops *ops;
	__u64 now;
};

static int cmp_task(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	const struct fog_task *x = *(struct fog_task *const *)a;
	const struct fog_task *y = *(struct fog_task *const *)b;

	return c->ops->compare(c->s, x, y, c->now);
}

unsigned int fog_queue_sorted(struct fog_sched *s, int strategy, __u64 now)
{
	struct sort_ctx c = { s, &fog_strategies[strategy], now };

	for (unsigned int i = 0; i < s->n_pending; i++)
		s->order[i] = s->pending[i];
	qsort_r(s->order, s->n_pending, sizeof(s->order[0]), cmp_task, &c);
	return s->n_pending;
}
