// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement engine: task records, validation, submission with rejection
 * of requirements no worker can ever meet, placement of a new task and
 * scheduling passes, task lifecycle, run limits and statistics. Workers and
 * their constraints are in worker.c, the task table in table.c, the queue
 * order and retry passes in queue.c, strategies in strategy.c, the learner in
 * learner.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "sched/sched_int.h"

/* The engine's default clock (fog_sched_clock_fn). */
static __u64 mono_ns(void *ctx)
{
	return fog_now_ns();
}

__u64 fog_sched__now(const struct fog_sched *s)
{
	return s->opts.clock(s->opts.clock_ctx);
}

void fog_sched_set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

struct fog_sched *fog_sched__new(const struct fog_sched_opts *opts)
{
	struct fog_sched *s = calloc(1, sizeof(*s));
	struct fog_sched_opts *o;

	if (!s)
		return NULL;
	o = &s->opts;
	if (opts)
		*o = *opts;
	if ((int)o->strategy < 0 || o->strategy >= FOG_STRAT_COUNT || o->explore_budget < 0 ||
	    o->explore_budget > 1 || o->ucb_alpha < 0 || (o->forget && (o->forget <= 0.9 ||
								      o->forget > 1)) ||
	    !isfinite(o->interference_threshold) || !isfinite(o->interference_half_life_s) ||
	    o->interference_half_life_s < 0) {
		free(s);
		errno = EINVAL;
		return NULL;
	}
	o->signal_ttl_ns = o->signal_ttl_ns ?: 30000000000ull;
	o->aging_ns = o->aging_ns ?: 10000000000ull;
	o->max_tasks = o->max_tasks ?: 65536;
	o->max_workers = o->max_workers ?: 4096;
	o->explore_budget = o->explore_budget ?: 0.05;
	o->ucb_alpha = o->ucb_alpha ?: 1.0;
	o->forget = o->forget ?: 0.995;
	o->seed = o->seed ?: 0x5eed;
	o->clock = o->clock ?: mono_ns;
	s->rng = o->seed;
	for (s->index_size = 16; s->index_size < 2 * o->max_tasks; s->index_size <<= 1)
		;
	s->workers = calloc(o->max_workers, sizeof(*s->workers));
	s->hot = calloc(o->max_workers, sizeof(*s->hot));
	s->index = calloc(s->index_size, sizeof(*s->index));
	s->pending = calloc(o->max_tasks, sizeof(*s->pending));
	s->order = calloc(o->max_tasks, sizeof(*s->order));
	s->dl_heap = calloc(o->max_tasks, sizeof(*s->dl_heap));
	s->learner = fog_learner__new(o->max_workers, o);
	o->interference_threshold = o->interference_threshold ?: 0.1;
	o->interference_half_life_s = o->interference_half_life_s ?: 600;
	s->intf = fog_intf__new(o->interference_threshold, o->interference_half_life_s);
	s->cap_gen = s->retry_gen = 1;
	if (!s->workers || !s->hot || !s->index || !s->pending || !s->order || !s->dl_heap ||
	    !s->learner || !s->intf) {
		fog_sched__free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

void fog_sched__free(struct fog_sched *s)
{
	if (!s)
		return;
	for (struct fog_task *t = s->head, *next; t; t = next) {
		next = t->next;
		free(t);
	}
	fog_learner__free(s->learner);
	fog_intf__free(s->intf);
	free(s->workers);
	free(s->hot);
	free(s->index);
	free(s->pending);
	free(s->order);
	free(s->dl_heap);
	free(s);
}

void fog_sched__set_callbacks(struct fog_sched *s, fog_sched_task_fn on_placed,
			      fog_sched_task_fn on_done, void *ctx)
{
	s->opts.on_placed = on_placed;
	s->opts.on_done = on_done;
	s->opts.cb_ctx = ctx;
}

/* The earlier of the task's effective deadline and its run limit (0 when neither). */
static __u64 timeout_at(const struct fog_task *t)
{
	__u64 a = t->info.eff_deadline_ns, b = t->run_limit_ns;

	return !a ? b : !b ? a : a < b ? a : b;
}

/* ---- task lifecycle ---- */

void fog_sched_release(struct fog_sched *s, struct fog_task *t, __u64 now)
{
	struct fog_worker *w;

	if (t->worker < 0)
		return;
	w = &s->workers[t->worker];
	w->alloc_cpu -= t->info.spec.cpu_cores;
	if (w->alloc_cpu < 1e-9)
		w->alloc_cpu = 0;
	w->alloc_mem_mb -= t->info.spec.memory_mb;
	w->alloc_gpu -= t->info.spec.gpu_count;
	w->tasks--;
	fog_worker_unlink(w, t);
	if (w->unseen && t->info.place_ns > w->sig.at_ns) {
		w->unseen--;
		w->unseen_cpu -= t->info.spec.cpu_cores;
		if (w->unseen_cpu < 1e-9)
			w->unseen_cpu = 0;
	}
	fog_worker_refresh(s, (unsigned int)t->worker, now);
	t->worker = -1;
	s->st.active--;
	s->cap_gen++;	/* its room may let a waiting task in */
}

/* A pending task leaves the queue: under FIFO the next one may now be first in line. */
static void unqueue(struct fog_sched *s, struct fog_task *t)
{
	fog_queue_del(s, t);
	s->cap_gen++;
}

void fog_sched_finish(struct fog_sched *s, struct fog_task *t, enum fog_task_state st, __u64 now)
{
	fog_task_set_state(s, t, st);
	t->info.end_ns = now;
	t->run_limit_ns = 0;
	fog_deadline_set(s, t, 0);
	fog_table_ended(s, t);
	if (t->info.eff_deadline_ns && now > t->info.eff_deadline_ns && !t->info.sla_violated &&
	    st != FOG_TASK_CANCELLED) {
		t->info.sla_violated = true;
		s->st.sla_violations++;
	}
	switch (st) {
	case FOG_TASK_SUCCEEDED:
		s->st.completed++;
		break;
	case FOG_TASK_FAILED:
		s->st.failed++;
		break;
	case FOG_TASK_TIMED_OUT:
		s->st.timed_out++;
		break;
	default:
		s->st.cancelled++;
		break;
	}
	if (st != FOG_TASK_CANCELLED) {
		s->done_ring[s->done_pos++ % 64] = now;
	}
	if (s->opts.on_done)
		s->opts.on_done(s, &t->info, s->opts.cb_ctx);
}

void fog_sched_requeue(struct fog_sched *s, struct fog_task *t, __u64 now)
{
	fog_sched_release(s, t, now);
	fog_task_set_state(s, t, FOG_TASK_PENDING);
	t->info.worker[0] = '\0';
	t->has_x = false;
	t->intf_pen = 0;
	t->tried = false;
	fog_queue_add(s, t);
}

/* ---- tasks ---- */

static int check_task(const struct fog_task_spec *t, char *err, size_t len)
{
	if (!fog_sched_str_ok(t->id, sizeof(t->id)) || !t->id[0]) {
		fog_sched_set_err(err, len, "task id must be 1..%d characters", FOG_SCHED_ID_LEN - 1);
		return -EINVAL;
	}
	if ((unsigned int)t->priority >= FOG_PRIO_COUNT) {
		fog_sched_set_err(err, len, "task %s: priority must be low, medium, high or critical", t->id);
		return -EINVAL;
	}
	if (t->strategy < FOG_STRAT_DEFAULT || t->strategy >= FOG_STRAT_COUNT) {
		fog_sched_set_err(err, len, "task %s: unknown strategy %d", t->id, t->strategy);
		return -EINVAL;
	}
	if (!isfinite(t->cpu_cores) || t->cpu_cores < 0 || t->cpu_cores > 1e6) {
		fog_sched_set_err(err, len, "task %s: cpu_cores must be in [0, 1e6]", t->id);
		return -EINVAL;
	}
	if (t->memory_mb > (1ull << 40) || t->gpu_count > 1024) {
		fog_sched_set_err(err, len, "task %s: memory_mb or gpu_count out of range", t->id);
		return -EINVAL;
	}
	if ((unsigned int)t->type > FOG_TYPE_GPU) {
		fog_sched_set_err(err, len, "task %s: type must be any, cpu or gpu", t->id);
		return -EINVAL;
	}
	if (!isfinite(t->budget_per_hour) || t->budget_per_hour < 0 ||
	    !isfinite(t->est_runtime_ms) || t->est_runtime_ms < 0) {
		fog_sched_set_err(err, len, "task %s: budget and estimated run time must be >= 0", t->id);
		return -EINVAL;
	}
	if (t->n_affinity > FOG_SCHED_MAX_LABELS || t->n_anti > FOG_SCHED_MAX_LABELS) {
		fog_sched_set_err(err, len, "task %s: at most %d affinity labels each", t->id,
			FOG_SCHED_MAX_LABELS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < t->n_affinity; i++)
		if (!fog_sched_str_ok(t->affinity[i], FOG_SCHED_LABEL_LEN))
			return fog_sched_set_err(err, len, "task %s: affinity label too long", t->id), -EINVAL;
	for (unsigned int i = 0; i < t->n_anti; i++)
		if (!fog_sched_str_ok(t->anti_affinity[i], FOG_SCHED_LABEL_LEN))
			return fog_sched_set_err(err, len, "task %s: anti-affinity label too long", t->id),
			       -EINVAL;
	if (!fog_sched_str_ok(t->task_class, sizeof(t->task_class)) ||
	    !fog_sched_str_ok(t->command, sizeof(t->command))) {
		fog_sched_set_err(err, len, "task %s: class or command too long", t->id);
		return -EINVAL;
	}
	return 0;
}

static int effective_strategy(const struct fog_sched *s, const struct fog_task_spec *t)
{
	return t->strategy == FOG_STRAT_DEFAULT ? (int)s->opts.strategy : t->strategy;
}

int fog_sched__submit(struct fog_sched *s, const struct fog_task_spec *spec, char *err,
		      size_t err_len)
{
	__u64 now = fog_sched__now(s);
	struct fog_task *t;
	int rc = check_task(spec, err, err_len), strat;
	bool any = false;

	if (rc)
		goto reject;
	if (fog_sched_find(s, spec->id)) {
		fog_sched_set_err(err, err_len, "task %s already exists", spec->id);
		rc = -EEXIST;
		goto reject;
	}
	strat = effective_strategy(s, spec);
	for (unsigned int i = 0; i < s->n_workers && !any; i++)
		any = fog_sched_fits_static(s, strat, spec, i);
	if (!any) {
		fog_sched_never_fits_reason(s, strat, spec, err, err_len);
		rc = -ENOSPC;
		goto reject;
	}
	if (spec->deadline_ns && spec->deadline_ns <= now) {
		fog_sched_set_err(err, err_len, "task %s: its deadline has already passed", spec->id);
		rc = -ETIME;
		goto reject;
	}
	if (spec->timeout_ms > 365 * 86400000ull) {
		fog_sched_set_err(err, err_len, "task %s: timeout_ms must be at most a year", spec->id);
		rc = -EINVAL;
		goto reject;
	}
	if (s->n_tasks == s->opts.max_tasks && !fog_table_evict(s)) {
		fog_sched_set_err(err, err_len, "task table is full (%u tasks not finished)",
			s->opts.max_tasks);
		rc = -ENOMEM;
		goto reject;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		fog_sched_set_err(err, err_len, "out of memory");
		rc = -ENOMEM;
		goto reject;
	}
	t->info.spec = *spec;
	t->info.state = FOG_TASK_PENDING;
	t->info.strategy = strat;
	t->info.submit_ns = now;
	t->info.exit_status = -1;
	t->info.eff_deadline_ns = spec->deadline_ns;
	if (spec->sla_ms && (!t->info.eff_deadline_ns ||
			     now + spec->sla_ms * 1000000ull < t->info.eff_deadline_ns))
		t->info.eff_deadline_ns = now + spec->sla_ms * 1000000ull;
	t->worker = -1;
	t->seq = ++s->seq;
	t->dl_idx = FOG_NO_DL;
	if (fog_strategies[strat].admit) {
		rc = fog_strategies[strat].admit(s, t, err, err_len);
		if (rc) {
			free(t);
			goto reject;
		}
	}
	rc = fog_queue_add(s, t);
	if (rc) {
		free(t);
		fog_sched_set_err(err, err_len, "queue is full");
		goto reject;
	}
	fog_table_add(s, t);
	if (t->info.eff_deadline_ns)
		fog_deadline_set(s, t, t->info.eff_deadline_ns);
	s->st.submitted++;
	return 0;
reject:
	s->st.rejected++;
	return rc;
}

static void note_latency(struct fog_sched *s, __u64 ns)
{
	unsigned int b = ns ? 63 - (unsigned int)__builtin_clzll(ns) : 0;

	s->st.lat_hist[b < FOG_SCHED_LAT_BUCKETS ? b : FOG_SCHED_LAT_BUCKETS - 1]++;
	s->st.decisions++;
}

static __u64 clock_ns(void)
{
	return mono_ns(NULL);
}

/*
 * Signals expire with time, not with an event: the loads are refreshed now and
 * then. Only the load moves (nothing the worker reported or holds changed), so
 * gen stays; the learner checks freshness itself on every decision.
 */
void fog_sched_refresh_loads(struct fog_sched *s, __u64 now)
{
	if (now - s->last_refresh_ns < 100000000ull)	/* 100 ms of engine time */
		return;
	s->last_refresh_ns = now;
	for (unsigned int i = 0; i < s->n_workers; i++)
		if (s->workers[i].sig.have)
			s->hot[i].load = fog_sched_worker_load(s, &s->workers[i], now);
}

int fog_sched__pick(struct fog_sched *s, const struct fog_task_spec *t,
		    struct fog_sched_explain *why)
{
	int strat = effective_strategy(s, t), rc;
	__u64 t0, now;

	if (strat < 0 || strat >= FOG_STRAT_COUNT)
		return -EINVAL;
	/* one clock read for the decision's time and its latency when they are one clock */
	t0 = clock_ns();
	now = s->opts.clock == mono_ns ? t0 : fog_sched__now(s);
	fog_sched_refresh_loads(s, now);
	rc = fog_strategy_pick(s, strat, t, NULL, why, now);
	note_latency(s, clock_ns() - t0);
	return rc;
}

static void place(struct fog_sched *s, struct fog_task *t, int wi, __u64 now)
{
	struct fog_worker *w = &s->workers[wi];

	fog_queue_del(s, t);
	t->worker = wi;
	fog_task_set_state(s, t, FOG_TASK_PLACED);
	t->info.place_ns = now;
	snprintf(t->info.worker, sizeof(t->info.worker), "%s", w->spec.id);
	w->alloc_cpu += t->info.spec.cpu_cores;
	w->alloc_mem_mb += t->info.spec.memory_mb;
	w->alloc_gpu += t->info.spec.gpu_count;
	w->tasks++;
	fog_worker_link(w, t);
	fog_intf_placed(s, t, w, now);
	if (w->sig.have) {
		w->unseen++;
		w->unseen_cpu += t->info.spec.cpu_cores;
	}
	if (!t->has_x) {
		fog_learner_features(s, &t->info.spec, (unsigned int)wi, now, t->x);
		t->nominal_ms = fog_learner_nominal_ms(&t->info.spec);
		t->has_x = true;
	}
	fog_worker_refresh(s, (unsigned int)wi, now);
	s->st.active++;
	if (s->opts.on_placed)
		s->opts.on_placed(s, &t->info, s->opts.cb_ctx);
}

bool fog_sched_attempt(struct fog_sched *s, struct fog_task *t, __u64 now)
{
	__u64 t0 = clock_ns(), dt;
	int wi;

	t->has_x = false;
	t->intf_pen = 0;
	wi = fog_strategy_pick(s, t->info.strategy, &t->info.spec, t, &t->info.explain, now);
	dt = clock_ns() - t0;
	if (wi >= 0 || !t->tried)
		note_latency(s, dt);
	else
		s->st.retries++;
	t->tried = true;
	if (wi < 0) {
		t->tried_gen = s->cap_gen;
		snprintf(t->info.reason, sizeof(t->info.reason), "waiting: no worker has room now");
		return false;
	}
	if (!t->info.at_risk)
		t->info.reason[0] = '\0';
	place(s, t, wi, now);
	return true;
}

int fog_sched__schedule(struct fog_sched *s, unsigned int max)
{
	__u64 now = fog_sched__now(s), gen = s->cap_gen;
	const struct fog_strategy_ops *ops = &fog_strategies[s->opts.strategy];
	unsigned int n, placed = 0, i;

	fog_sched_refresh_loads(s, now);
	n = fog_queue_sorted(s, s->opts.strategy, now);
	for (i = 0; i < n && (!max || placed < max); i++) {
		if (fog_sched_attempt(s, s->order[i], now))
			placed++;
		else if (!ops->backfill)
			break;
	}
	/* every waiting task was tried (or the head blocks the queue): no retry due */
	if (i == n || !ops->backfill)
		s->retry_gen = gen;
	return (int)placed;
}

int fog_sched__place(struct fog_sched *s, const char *id)
{
	struct fog_task *t = fog_sched_find(s, id);
	__u64 now;

	if (!t)
		return -ENOENT;
	if (t->info.state != FOG_TASK_PENDING)
		return -EINVAL;
	if (!fog_strategies[s->opts.strategy].backfill && s->n_pending > 1) {
		snprintf(t->info.reason, sizeof(t->info.reason), "waiting: %u tasks ahead of it",
			 s->n_pending - 1);
		return 0;
	}
	now = fog_sched__now(s);
	fog_sched_refresh_loads(s, now);
	return fog_sched_attempt(s, t, now) ? 1 : 0;
}

int fog_sched__cancel(struct fog_sched *s, const char *id)
{
	struct fog_task *t = fog_sched_find(s, id);
	__u64 now;

	if (!t)
		return -ENOENT;
	if (fog_task_ended(t->info.state))
		return -EALREADY;
	now = fog_sched__now(s);
	if (t->info.state == FOG_TASK_PENDING)
		unqueue(s, t);
	else
		fog_sched_release(s, t, now);
	snprintf(t->info.reason, sizeof(t->info.reason), "cancelled");
	fog_sched_finish(s, t, FOG_TASK_CANCELLED, now);
	return 0;
}

int fog_sched__task(const struct fog_sched *s, const char *id, struct fog_task_info *out)
{
	const struct fog_task *t = fog_sched_find(s, id);

	if (!t)
		return -ENOENT;
	*out = t->info;
	return 0;
}

void fog_sched__for_each_task(const struct fog_sched *s, fog_sched_task_fn fn, void *ctx)
{
	for (const struct fog_task *t = s->head; t; t = t->next)
		fn((struct fog_sched *)s, &t->info, ctx);
}

int fog_sched__for_each_worker_task(const struct fog_sched *s, const char *id,
				    fog_sched_task_fn fn, void *ctx)
{
	int wi = fog_sched_worker_index(s, id);

	if (wi < 0)
		return -ENOENT;
	for (const struct fog_task *t = s->workers[wi].task_head, *next; t; t = next) {
		next = t->wnext;
		fn((struct fog_sched *)s, &t->info, ctx);
	}
	return 0;
}

/* PLACED -> RUNNING, with a run limit of timeout_ns when it is not 0. */
static int start(struct fog_sched *s, const char *id, __u64 timeout_ns)
{
	struct fog_task *t = fog_sched_find(s, id);

	if (!t)
		return -ENOENT;
	if (t->info.state != FOG_TASK_PLACED)
		return -EINVAL;
	fog_task_set_state(s, t, FOG_TASK_RUNNING);
	t->info.start_ns = fog_sched__now(s);
	if (timeout_ns) {
		t->run_limit_ns = t->info.start_ns + timeout_ns;
		fog_deadline_set(s, t, timeout_at(t));
	}
	return 0;
}

int fog_sched__task_started(struct fog_sched *s, const char *id)
{
	struct fog_task *t = fog_sched_find(s, id);

	return start(s, id, t ? t->info.spec.timeout_ms * 1000000ull : 0);
}

int fog_sched__task_claimed(struct fog_sched *s, const char *id, __u64 default_timeout_ns)
{
	struct fog_task *t = fog_sched_find(s, id);

	if (!t)
		return -ENOENT;
	return start(s, id, t->info.spec.timeout_ms ? t->info.spec.timeout_ms * 1000000ull :
						      default_timeout_ns);
}

int fog_sched__task_report(struct fog_sched *s, const char *id, const struct fog_task_result *r)
{
	struct fog_task *t = fog_sched_find(s, id);
	__u64 now = fog_sched__now(s);
	enum fog_task_state st = r->state;
	int wi;

	if (!t)
		return -ENOENT;
	if (st != FOG_TASK_SUCCEEDED && st != FOG_TASK_FAILED && st != FOG_TASK_TIMED_OUT)
		return -EINVAL;
	if (!isfinite(r->cpu_ms) || r->cpu_ms < 0 || !isfinite(r->peak_mem_mb) ||
	    r->peak_mem_mb < 0 || !isfinite(r->wall_ms) || r->wall_ms < 0)
		return -EINVAL;
	if (t->info.state != FOG_TASK_RUNNING && t->info.state != FOG_TASK_PLACED)
		return fog_task_ended(t->info.state) ? -EALREADY : -EINVAL;
	wi = t->worker;
	if (!t->info.start_ns)
		t->info.start_ns = t->info.place_ns;
	if (r->wall_ms > 0) {
		/* the runner's measure, without the transport delays; never before placement */
		__u64 wall = (__u64)(r->wall_ms * 1e6);

		t->info.start_ns = wall < now - t->info.place_ns ? now - wall : t->info.place_ns;
	}
	t->info.exit_status = r->exit_status;
	t->info.oom_killed = r->oom_killed;
	t->info.cpu_ms = r->cpu_ms;
	t->info.peak_mem_mb = r->peak_mem_mb;
	if (r->oom_killed)
		snprintf(t->info.reason, sizeof(t->info.reason),
			 "killed by the OOM killer at its memory limit of %llu MiB",
			 (unsigned long long)t->info.spec.memory_mb);
	if (st == FOG_TASK_SUCCEEDED)
		s->workers[wi].completed++;
	else
		s->workers[wi].failed++;
	if (t->has_x) {
		double actual = (double)(now - t->info.start_ns) / 1e6;
		double pred = t->info.explain.valid ? t->info.explain.predicted_ms : -1;

		if (pred > 0 && actual > 0) {
			double e = fabs(pred - actual) / actual;

			s->st.ml_mean_abs_err = s->st.ml_observations ?
							0.98 * s->st.ml_mean_abs_err + 0.02 * e : e;
		}
		s->st.ml_observations++;
		/* the interference it was predicted to suffer is not the worker's speed */
		fog_learner__observe(s, (unsigned int)wi, t->x, t->nominal_ms,
				     actual / exp(t->intf_pen), st == FOG_TASK_SUCCEEDED);
	}
	if (st == FOG_TASK_SUCCEEDED)
		fog_intf_done(s, t, (double)(now - t->info.start_ns) / 1e6, now);
	fog_sched_release(s, t, now);
	fog_sched_finish(s, t, st, now);
	return 0;
}

int fog_sched__task_finished(struct fog_sched *s, const char *id, enum fog_task_state st,
			     int exit_status, bool oom_killed, double cpu_ms, double peak_mem_mb)
{
	struct fog_task_result r = {
		.state = st,
		.exit_status = exit_status,
		.oom_killed = oom_killed,
		.cpu_ms = cpu_ms,
		.peak_mem_mb = peak_mem_mb,
	};

	return fog_sched__task_report(s, id, &r);
}

int fog_sched__expire(struct fog_sched *s)
{
	__u64 now = fog_sched__now(s);
	int n = 0;

	while (s->n_dl && s->dl_heap[0]->dl_ns < now) {
		struct fog_task *t = s->dl_heap[0];
		bool run_limit = t->run_limit_ns && t->dl_ns == t->run_limit_ns;

		if (t->info.state == FOG_TASK_PENDING)
			unqueue(s, t);
		else
			fog_sched_release(s, t, now);
		if (run_limit)
			snprintf(t->info.reason, sizeof(t->info.reason),
				 "no end reported within its timeout of %.3f s",
				 (double)(t->run_limit_ns - t->info.start_ns) / 1e9);
		else
			snprintf(t->info.reason, sizeof(t->info.reason), "deadline passed while %s",
				 fog_task_state_name(t->info.state));
		fog_sched_finish(s, t, FOG_TASK_TIMED_OUT, now);	/* takes it out of the heap */
		n++;
	}
	return n;
}

/* The upper edge of the bucket holding quantile q of the decision latencies. */
static double lat_quantile(const struct fog_sched_stats *st, double q)
{
	__u64 total = 0, run = 0;

	for (int i = 0; i < FOG_SCHED_LAT_BUCKETS; i++)
		total += st->lat_hist[i];
	if (!total)
		return 0;
	for (int i = 0; i < FOG_SCHED_LAT_BUCKETS; i++) {
		run += st->lat_hist[i];
		if ((double)run >= q * (double)total)
			return (double)(2ull << i);
	}
	return 0;
}

void fog_sched__stats(const struct fog_sched *s, struct fog_sched_stats *out)
{
	__u64 now = fog_sched__now(s), oldest = now;
	unsigned int k = 0, n = s->done_pos < 64 ? s->done_pos : 64;

	*out = s->st;
	out->pending = s->n_pending;
	out->placed = s->live[FOG_TASK_PLACED];
	out->running = s->live[FOG_TASK_RUNNING];
	for (unsigned int i = 0; i < n; i++)
		if (now - s->done_ring[i] <= 60000000000ull) {
			k++;
			if (s->done_ring[i] < oldest)
				oldest = s->done_ring[i];
		}
	if (k == 64 && now > oldest)
		out->throughput_per_s = 64.0 / ((double)(now - oldest) / 1e9);
	else
		out->throughput_per_s = k / 60.0;
	out->lat_p50_ns = lat_quantile(&s->st, 0.50);
	out->lat_p99_ns = lat_quantile(&s->st, 0.99);
}

/* ---- names ---- */

const char *fog_sched_strategy_name(int strategy)
{
	if (strategy < 0 || strategy >= FOG_STRAT_COUNT)
		return "default";
	return fog_strategies[strategy].name;
}

int fog_sched_strategy_parse(const char *name)
{
	for (int i = 0; i < FOG_STRAT_COUNT; i++)
		if (!strcasecmp(name, fog_strategies[i].name))
			return i;
	return -EINVAL;
}

static const char *const prio_names[FOG_PRIO_COUNT] = { "low", "medium", "high", "critical" };
static const char *const state_names[FOG_TASK_STATE_COUNT] = {
	"pending", "placed", "running", "succeeded", "failed", "timed_out", "cancelled",
};

const char *fog_task_priority_name(enum fog_task_priority p)
{
	return (unsigned int)p < FOG_PRIO_COUNT ? prio_names[p] : "unknown";
}

int fog_task_priority_parse(const char *name)
{
	for (int i = 0; i < FOG_PRIO_COUNT; i++)
		if (!strcasecmp(name, prio_names[i]))
			return i;
	return -EINVAL;
}

const char *fog_task_state_name(enum fog_task_state st)
{
	return (unsigned int)st < FOG_TASK_STATE_COUNT ? state_names[st] : "unknown";
}
