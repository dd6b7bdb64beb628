// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pending queue: an unordered array of waiting tasks, sorted into the
 * current strategy's order at the start of each scheduling pass (priorities
 * age with time, so no order is stable between passes), and the bounded
 * retry passes that try waiting tasks again when room appears.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

bool fog_sched__retry_due(const struct fog_sched *s)
{
	return s->n_pending && s->retry_gen != s->cap_gen;
}

/*
 * The up to k first tasks in queue order that were not tried since room last
 * changed, into s->order (sorted): one pass over the queue keeping the best k
 * in a sorted array. With only_plausible, tasks larger than the most free room
 * any worker has are marked tried without an attempt.
 */
static unsigned int select_untried(struct fog_sched *s, unsigned int k, __u64 now,
				   bool only_plausible)
{
	const struct fog_strategy_ops *ops = &fog_strategies[s->opts.strategy];
	double max_cpu = 0;
	__s64 max_mem = 0;
	__s32 max_gpu = 0;
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->n_workers && only_plausible; i++) {
		const struct fog_worker_hot *h = &s->hot[i];

		max_cpu = h->free_cpu > max_cpu ? h->free_cpu : max_cpu;
		max_mem = h->free_mem_mb > max_mem ? h->free_mem_mb : max_mem;
		max_gpu = h->free_gpu > max_gpu ? h->free_gpu : max_gpu;
	}
	for (unsigned int i = 0; i < s->n_pending; i++) {
		struct fog_task *t = s->pending[i];
		const struct fog_task_spec *sp = &t->info.spec;
		unsigned int lo = 0, hi = n;

		if (t->tried_gen == s->cap_gen)
			continue;
		if (only_plausible && (sp->cpu_cores > max_cpu + 1e-9 ||
				       (__s64)sp->memory_mb > max_mem ||
				       (__s32)sp->gpu_count > max_gpu)) {
			t->tried_gen = s->cap_gen;
			continue;
		}
		if (n == k && ops->compare(s, t, s->order[n - 1], now) >= 0)
			continue;
		while (lo < hi) {
			unsigned int mid = (lo + hi) / 2;

			if (ops->compare(s, t, s->order[mid], now) < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (n < k)
			n++;
		memmove(&s->order[lo + 1], &s->order[lo], (n - 1 - lo) * sizeof(s->order[0]));
		s->order[lo] = t;
	}
	return n;
}

int fog_sched__retry(struct fog_sched *s, unsigned int budget)
{
	const struct fog_strategy_ops *ops = &fog_strategies[s->opts.strategy];
	__u64 now, gen = s->cap_gen;
	unsigned int n, placed = 0;

	if (!fog_sched__retry_due(s))
		return 0;
	if (!budget)
		budget = 1;
	now = fog_sched__now(s);
	fog_sched_refresh_loads(s, now);
	/* without backfill the first in line blocks the rest, fitting or not */
	n = select_untried(s, budget, now, ops->backfill);
	for (unsigned int i = 0; i < n; i++) {
		if (fog_sched_attempt(s, s->order[i], now)) {
			placed++;
		} else if (!ops->backfill) {
			s->retry_gen = gen;
			return (int)placed;
		}
	}
	if (n < budget)
		s->retry_gen = gen;
	return (int)placed;
}
