// SPDX-License-Identifier: GPL-2.0-only
/*
 * The six placement strategies as one table of struct fog_strategy_ops: each
 * gives a queue order, optional extra hard constraints, a worker score (higher
 * is better) or its own chooser, and an optional admission check. Capacity,
 * GPU, memory and label constraints are checked for all of them by
 * fog_sched_fits(); ties are spread by a rotating scan start.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sched/sched_int.h"

static int cmp_seq(const struct fog_task *a, const struct fog_task *b)
{
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int fifo_compare(const struct fog_sched *s, const struct fog_task *a,
			const struct fog_task *b, __u64 now)
{
	return cmp_seq(a, b);
}

/* Highest effective (aged) priority first, then submission order. */
static int prio_compare(const struct fog_sched *s, const struct fog_task *a,
			const struct fog_task *b, __u64 now)
{
	int pa = fog_queue_effective_priority(s, a, now);
	int pb = fog_queue_effective_priority(s, b, now);

	if (pa != pb)
		return pa > pb ? -1 : 1;
	return cmp_seq(a, b);
}

/*
 * Earliest deadline first (Liu and Layland, "Scheduling Algorithms for
 * Multiprogramming in a Hard-Real-Time Environment", JACM 1973): tasks without
 * a deadline follow all that have one, in priority order.
 */
static int edf_compare(const struct fog_sched *s, const struct fog_task *a,
		       const struct fog_task *b, __u64 now)
{
	__u64 da = a->info.eff_deadline_ns ? a->info.eff_deadline_ns : ~0ull;
	__u64 db = b->info.eff_deadline_ns ? b->info.eff_deadline_ns : ~0ull;

	if (da != db)
		return da < db ? -1 : 1;
	return prio_compare(s, a, b, now);
}

/* A small penalty for a type mismatch: CPU tasks leave GPU workers free. */
static double type_penalty(const struct fog_task_spec *t, const struct fog_worker_hot *h)
{
	if (t->type == FOG_TYPE_GPU && !h->gpu)
		return 1.0;
	if (t->type == FOG_TYPE_CPU && h->gpu)
		return 0.5;
	return 0;
}

/* Least loaded first: the load counts reservations and fresh live signals. */
static double balance_score(const struct fog_sched *s, const struct fog_task_spec *t,
			    const struct fog_worker *w, const struct fog_worker_hot *h, __u64 now)
{
	return -h->load - type_penalty(t, h);
}

double fog_strategy_expected_ms(const struct fog_sched *s, const struct fog_task_spec *t,
				unsigned int wi, __u64 now)
{
	double ms = fog_learner_predict_ms(s, t, wi, now);

	return ms >= 0 ? ms : t->est_runtime_ms;
}

/* Earliest expected completion: run time on the worker, stretched by its load. */
static double sla_score(const struct fog_sched *s, const struct fog_task_spec *t,
			const struct fog_worker *w, const struct fog_worker_hot *h, __u64 now)
{
	unsigned int wi = (unsigned int)(w - s->workers);
	double ms = fog_strategy_expected_ms(s, t, wi, now);

	if (ms <= 0)
		return balance_score(s, t, w, h, now);
	return -ms * (1.0 + h->load) - type_penalty(t, h);
}

/*
 * SLA admission: the earliest the task can finish is now + the work queued
 * ahead of it (EDF order, spread over the workers that could run it) + its own
 * expected run time on the fastest such worker. Unknown run times admit.
 */
static int sla_admit(struct fog_sched *s, struct fog_task *task, char *err, size_t err_len)
{
	const struct fog_task_spec *t = &task->info.spec;
	__u64 now = task->info.submit_ns, dl = task->info.eff_deadline_ns;
	double best = -1, ahead = 0, finish_ms;
	unsigned int feasible = 0;

	if (!dl)
		return 0;
	for (unsigned int i = 0; i < s->n_workers; i++) {
		double ms;

		if (!fog_sched_could_fit(&s->workers[i], t))
			continue;
		feasible++;
		ms = fog_strategy_expected_ms(s, t, i, now);
		if (ms > 0 && (best < 0 || ms < best))
			best = ms;
	}
	if (best < 0 || !feasible)
		return 0;
	for (unsigned int i = 0; i < s->n_pending; i++) {
		const struct fog_task *p = s->pending[i];

		if (p->info.eff_deadline_ns && p->info.eff_deadline_ns <= dl)
			ahead += p->info.spec.est_runtime_ms;
	}
	finish_ms = best + ahead / feasible;
	if ((double)now + finish_ms * 1e6 <= (double)dl)
		return 0;
	if (!s->opts.sla_reject) {
		task->info.at_risk = true;
		snprintf(task->info.reason, sizeof(task->info.reason),
			 "at risk: expected to finish %.0f ms after submission, deadline in %.0f ms",
			 finish_ms, (double)(dl - now) / 1e6);
		return 0;
	}
	snprintf(err, err_len,
		 "deadline cannot be met: expected to finish %.0f ms after submission "
		 "(%.0f ms of work queued ahead), deadline in %.0f ms",
		 finish_ms, ahead / feasible, (double)(dl - now) / 1e6);
	return -ETIME;
}

/* COST: a worker above the task's budget per hour is never used. */
static bool cost_allowed(const struct fog_sched *s, const struct fog_task_spec *t,
			 const struct fog_worker *w, const struct fog_worker_hot *h)
{
	return t->budget_per_hour <= 0 || h->cost_per_hour <= t->budget_per_hour;
}

/* Cheapest first; among equal prices the least loaded. */
static double cost_score(const struct fog_sched *s, const struct fog_task_spec *t,
			 const struct fog_worker *w, const struct fog_worker_hot *h, __u64 now)
{
	return -h->cost_per_hour * 1e3 - h->load;
}

/* AFFINITY: the preferred type becomes a requirement (labels are checked for all). */
static bool affinity_allowed(const struct fog_sched *s, const struct fog_task_spec *t,
			     const struct fog_worker *w, const struct fog_worker_hot *h)
{
	if (t->type == FOG_TYPE_GPU)
		return h->gpu;
	if (t->type == FOG_TYPE_CPU)
		return !h->gpu;
	return true;
}

static int scan_pick(struct fog_sched *s, int strategy, const struct fog_task_spec *t,
		     struct fog_sched_explain *why, __u64 now);

/*
 * AFFINITY's choice: the least loaded worker of the required type and labels
 * that runs no task of a class the task's class interferes with, either way
 * (anti-affinity by observed interference, fog_intf_apart); when every worker
 * that fits runs one, the least loaded of those, and the explanation says it
 * was placed beside its culprit. Without a known interfering pair it is the
 * plain scan of fog_strategy_pick.
 */
static int affinity_choose(struct fog_sched *s, const struct fog_task_spec *t,
			   struct fog_task *task, struct fog_sched_explain *why, __u64 now)
{
	struct fog_sched_interference pair, kept = { 0 }, beside = { 0 };
	double best_sc = -INFINITY, near_sc = -INFINITY, kept_sc = -INFINITY;
	__u32 cls = fog_intf_hash(t->task_class);
	unsigned int n = s->n_workers, i;
	int best = -ENOSPC, near = -1, kept_w = -1;

	if (why)
		memset(why, 0, sizeof(*why));
	if (!cls || !fog_intf__involved(s->intf, cls, now))
		return scan_pick(s, FOG_STRAT_AFFINITY, t, why, now);
	i = s->rr < n ? s->rr : 0;
	for (unsigned int k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		double sc;

		if (!fog_sched_fits(s, FOG_STRAT_AFFINITY, t, i))
			continue;
		sc = balance_score(s, t, &s->workers[i], &s->hot[i], now);
		if (!fog_intf_apart(s, cls, i, now, &pair)) {
			if (sc > best_sc) {
				best_sc = sc;
				best = (int)i;
			}
		} else if (sc > near_sc) {
			near_sc = sc;
			near = (int)i;
			beside = pair;
		}
		if (sc > kept_sc) {
			kept_sc = sc;
			kept_w = (int)i;
			kept = pair;
		}
	}
	if (best < 0 && near >= 0) {
		best = near;
		fog_intf_explain(why, &beside, NULL);
	} else if (best >= 0 && kept_w >= 0 && kept_w != best) {
		/* the worker a plain scan would have taken runs its culprit */
		fog_intf_explain(why, &kept, s->workers[kept_w].spec.id);
	}
	if (best >= 0)
		s->rr = (unsigned int)best + 1;
	return best;
}

const struct fog_strategy_ops fog_strategies[FOG_STRAT_COUNT] = {
	[FOG_STRAT_FIFO] = {
		.name = "fifo",
		.compare = fifo_compare,
		.backfill = false,
		.score = balance_score,
	},
	[FOG_STRAT_PRIORITY] = {
		.name = "priority",
		.compare = prio_compare,
		.backfill = true,
		.score = balance_score,
	},
	[FOG_STRAT_SLA] = {
		.name = "sla",
		.compare = edf_compare,
		.backfill = true,
		.score = sla_score,
		.admit = sla_admit,
	},
	[FOG_STRAT_COST] = {
		.name = "cost",
		.compare = prio_compare,
		.backfill = true,
		.allowed = cost_allowed,
		.score = cost_score,
	},
	[FOG_STRAT_AFFINITY] = {
		.name = "affinity",
		.compare = prio_compare,
		.backfill = true,
		.allowed = affinity_allowed,
		.score = balance_score,
		.choose = affinity_choose,
	},
	[FOG_STRAT_ML_ADAPTIVE] = {
		.name = "ml_adaptive",
		/*
		 * Which task waits matters as much as where it runs for the
		 * completion times ML_ADAPTIVE minimises: earliest deadline
		 * first (then aged priority), as SLA, lowered the mean
		 * completion on the trace replay by up to 40% (seed 3: 509 ->
		 * 294 ms) against priority order, where it waited behind
		 * long high-priority tasks.
		 */
		.compare = edf_compare,
		.backfill = true,
		.choose = fog_learner_choose,
	},
};

/* The worker of the best score that fits t under strategy, or -ENOSPC. */
static int scan_pick(struct fog_sched *s, int strategy, const struct fog_task_spec *t,
		     struct fog_sched_explain *why, __u64 now)
{
	const struct fog_strategy_ops *ops = &fog_strategies[strategy];
	unsigned int n = s->n_workers, i;
	double best_score = -INFINITY;
	int best = -ENOSPC;

	i = s->rr < n ? s->rr : 0;
	for (unsigned int k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		double sc;

		if (!fog_sched_fits(s, strategy, t, i))
			continue;
		sc = ops->score(s, t, &s->workers[i], &s->hot[i], now);
		if (sc > best_score) {
			best_score = sc;
			best = (int)i;
		}
	}
	if (best >= 0)
		s->rr = (unsigned int)best + 1;
	if (why)
		memset(why, 0, sizeof(*why));
	return best;
}

int fog_strategy_pick(struct fog_sched *s, int strategy, const struct fog_task_spec *t,
		      struct fog_task *task, struct fog_sched_explain *why, __u64 now)
{
	const struct fog_strategy_ops *ops = &fog_strategies[strategy];

	if (ops->choose)
		return ops->choose(s, t, task, why, now);
	return scan_pick(s, strategy, t, why, now);
}
