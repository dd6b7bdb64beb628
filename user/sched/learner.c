// SPDX-License-Identifier: GPL-2.0-only
/*
 * ML_ADAPTIVE: learns online, from every completion, how long a task takes on
 * each worker and how likely it is to succeed there, and picks the worker with
 * the lowest optimistic expected completion time.
 *
 * Method: LinUCB with a hybrid linear model (L. Li, W. Chu, J. Langford,
 * R. E. Schapire, "A Contextual-Bandit Approach to Personalized News Article
 * Recommendation", WWW 2010, algorithms 1 and 2), for a cost to minimise: the
 * target is y = log(actual ms / nominal ms), predicted as
 *     y = theta_w . a  +  beta . z
 * where a are per-worker features (bias = the worker's speed, the task's share
 * of its cores and memory, GPU use) with one model per worker, and z are live
 * signal features (run-queue latency p99, CPU utilization, reserved load and
 * its square, a "no data" indicator, memory PSI) with one model shared by all workers, so a
 * noisy neighbour seen on one worker teaches what run-queue latency costs on
 * every worker. Each model is fitted by recursive least squares with an
 * exponential forgetting factor (S. Haykin, "Adaptive Filter Theory", ch. 13),
 * so a worker that degrades is re-learnt within about 1 / (1 - forget)
 * completions; the two are updated alternately on each other's residual
 * (backfitting), a cheap stand-in for the hybrid model's joint update.
 *
 * Choice: the lower confidence bound y - alpha * sigma * sqrt(a'P_w a + z'P_g z)
 * (P the RLS inverse covariances, sigma the residual spread) minus log of the
 * success probability (a Beta(1,1) posterior mean over forgetting counts).
 * Exploration is bounded: a choice that differs from the greedy one (lowest
 * expected time) counts as exploration, and once explorations exceed
 * explore_budget of the decisions (plus three per worker to warm up) the
 * greedy choice is taken instead. A worker never chosen is tried once first,
 * as UCB1 plays every arm once (Auer, Cesa-Bianchi, Fischer, "Finite-time
 * Analysis of the Multiarmed Bandit Problem", Machine Learning 2002).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched_int.h"

#define NA FOG_LEARN_ARM
#define NZ FOG_LEARN_SIG
#define P_MAX 1e4	/* cap on a covariance diagonal: no wind-up while unexcited */

struct arm {
	double P[NA][NA];
	double theta[NA];
	double succ, fail;	/* forgetting success counts */
	double var;		/* EWMA of squared residuals, log space */
	__u64 n;
	__u64 last;	/* the learner's choice count at its last update */
	bool tried;	/* chosen at least once */
};

struct fog_learner {
	struct arm *arms;
	unsigned int max;
	double Pg[NZ][NZ];	/* shared signal model */
	double beta[NZ];
	double forget;
	__u64 n;
	__u64 choices;	/* successful choices: the exploration budget's base */
	unsigned int n_arms;	/* workers: staleness is counted per worker's share */
};

static void arm_init(struct arm *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < NA; i++)
		a->P[i][i] = 1.0;
	a->var = 0.25;
}

struct fog_learner *fog_learner__new(unsigned int max_workers, const struct fog_sched_opts *o)
{
	struct fog_learner *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->arms = calloc(max_workers, sizeof(*l->arms));
	if (!l->arms) {
		free(l);
		return NULL;
	}
	l->max = max_workers;
	l->forget = o->forget;
	for (int i = 0; i < NZ; i++)
		l->Pg[i][i] = 1.0;
	return l;
}

void fog_learner__free(struct fog_learner *l)
{
	if (!l)
		return;
	free(l->arms);
	free(l);
}

void fog_learner__reset(struct fog_learner *l, unsigned int wi)
{
	if (wi < l->max)
		arm_init(&l->arms[wi]);
}

void fog_learner__move(struct fog_learner *l, unsigned int from, unsigned int to)
{
	if (from < l->max && to < l->max)
		l->arms[to] = l->arms[from];
}

/* The run time the target is relative to: the task's own estimate, else 1 s. */
double fog_learner_nominal_ms(const struct fog_task_spec *t)
{
	return t->est_runtime_ms > 0 ? t->est_runtime_ms : 1000.0;
}

void fog_learner_features(const struct fog_sched *s, const struct fog_task_spec *t,
			  unsigned int wi, __u64 now, double x[FOG_LEARN_DIM])
{
	const struct fog_worker *w = &s->workers[wi];
	bool fresh = fog_sched_signals_fresh(s, w, now);
	double *z = x + NA;

	x[0] = 1.0;
	x[1] = t->cpu_cores / w->spec.cpu_cores;
	x[2] = (double)t->memory_mb / (double)w->spec.memory_mb;
	x[3] = t->gpu_count ? 1.0 : 0.0;
	z[0] = fresh && (w->sig.have & FOG_SIG_RUNQ_P99) ? log1p(w->sig.runq_p99_us / 100.0) : 0;
	z[1] = fresh && (w->sig.have & FOG_SIG_CPU_UTIL) ? w->sig.cpu_util : 0;
	z[2] = w->alloc_cpu / w->spec.cpu_cores;
	z[3] = fresh ? 0 : 1.0;	/* "no data" is its own state, not a zero load */
	z[4] = fresh && (w->sig.have & FOG_SIG_MEM_PSI) ? w->sig.mem_psi / 100.0 : 0;
	z[5] = z[2] * z[2];	/* contention grows faster than linearly near full */
}

static double dot(const double *a, const double *b, int n)
{
	double r = 0;

	for (int i = 0; i < n; i++)
		r += a[i] * b[i];
	return r;
}

/* x' P x for a symmetric n x n P stored row-major. */
static double quad(const double *P, const double *x, int n)
{
	double r = 0;

	for (int i = 0; i < n; i++) {
		double row = 0;

		for (int j = 0; j < n; j++)
			row += P[i * n + j] * x[j];
		r += x[i] * row;
	}
	return r;
}

struct guess {
	double y;	/* expected log(ms / nominal) */
	double width;	/* one sigma, log space */
	double p;	/* success probability */
};

static void predict(const struct fog_learner *l, const struct arm *a, const double *x,
		    struct guess *g)
{
	const double *z = x + NA;
	double q = quad(&a->P[0][0], x, NA), age;

	/*
	 * An arm not updated for a while is forgotten as if its updates had gone
	 * on without data: its covariance grows by 1/forget per choice since, so a
	 * worker judged slow once is eventually tried again (within the budget).
	 */
	age = (double)(l->choices - a->last) / (double)(l->n_arms ? l->n_arms : 1);
	if (a->n && age > 0)
		q *= fmin(pow(1.0 / l->forget, age), 100.0);
	q += quad(&l->Pg[0][0], z, NZ);

	g->y = dot(a->theta, x, NA) + dot(l->beta, z, NZ);
	g->width = sqrt(a->var) * sqrt(q > 0 ? q : 0);
	g->p = (a->succ + 1.0) / (a->succ + a->fail + 2.0);
}

double fog_learner_predict_ms(const struct fog_sched *s, const struct fog_task_spec *t,
			      unsigned int wi)
{
	const struct arm *a = &s->learner->arms[wi];
	double x[FOG_LEARN_DIM];
	struct guess g;

	if (!a->n)
		return -1;
	fog_learner_features(s, t, wi, fog_sched__now(s), x);
	predict(s->learner, a, x, &g);
	return fog_learner_nominal_ms(t) * exp(g.y);
}

int fog_learner_choose(struct fog_sched *s, const struct fog_task_spec *t, struct fog_task *task,
		       struct fog_sched_explain *why)
{
	struct fog_learner *l = s->learner;
	unsigned int n = s->n_workers, i, cand = 0;
	double alpha = s->opts.ucb_alpha, best_lcb = INFINITY, best_g = INFINITY, second_g = INFINITY;
	int pick = -ENOSPC, greedy = -1, second = -1, untried = -1;

	l->n_arms = n;
	struct guess gp = { 0 }, gg = { 0 };
	double x[FOG_LEARN_DIM], xp[FOG_LEARN_DIM], xg[FOG_LEARN_DIM];
	__u64 now = fog_sched__now(s), allowed;
	bool explored = false;

	i = s->rr < n ? s->rr : 0;
	for (unsigned int k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		struct guess g;
		double lp, lcb, greedy_cost;

		if (!fog_sched_fits(s, FOG_STRAT_ML_ADAPTIVE, t, i))
			continue;
		cand++;
		if (!l->arms[i].tried && untried < 0)
			untried = (int)i;
		fog_learner_features(s, t, i, now, x);
		predict(l, &l->arms[i], x, &g);
		lp = log(g.p);
		lcb = g.y - alpha * g.width - lp;
		greedy_cost = g.y - lp;
		if (lcb < best_lcb) {
			best_lcb = lcb;
			pick = (int)i;
			gp = g;
			memcpy(xp, x, sizeof(x));
		}
		if (greedy_cost < best_g) {
			second_g = best_g;
			second = greedy;
			best_g = greedy_cost;
			greedy = (int)i;
			gg = g;
			memcpy(xg, x, sizeof(x));
		} else if (greedy_cost < second_g) {
			second_g = greedy_cost;
			second = (int)i;
		}
	}
	if (pick < 0) {
		if (why)
			why->valid = false;
		return pick;
	}
	l->choices++;
	if (untried >= 0) {
		/* every worker is tried once before any estimate is trusted (UCB1's rule) */
		pick = untried;
		explored = true;
		s->st.explorations++;
		fog_learner_features(s, t, (unsigned int)pick, now, xp);
		predict(l, &l->arms[pick], xp, &gp);
	} else if (pick != greedy) {
		/* bounded exploration: past the budget, take the best estimate */
		allowed = (__u64)(s->opts.explore_budget * (double)l->choices) + 3ull * n;
		if (s->st.explorations < allowed) {
			explored = true;
			s->st.explorations++;
		} else {
			pick = greedy;
			gp = gg;
			memcpy(xp, xg, sizeof(x));
		}
	}
	s->rr = (unsigned int)pick + 1;
	l->arms[pick].tried = true;
	if (task) {
		memcpy(task->x, xp, sizeof(xp));
		task->nominal_ms = fog_learner_nominal_ms(t);
		task->has_x = true;
	}
	if (why) {
		double nom = fog_learner_nominal_ms(t), ms = nom * exp(gp.y);
		int ru = pick == greedy ? second : greedy;

		memset(why, 0, sizeof(*why));
		why->valid = true;
		snprintf(why->worker, sizeof(why->worker), "%s", s->workers[pick].spec.id);
		why->predicted_ms = ms;
		why->uncertainty_ms = ms * (exp(gp.width) - 1.0);
		why->success_prob = gp.p;
		why->explored = explored;
		why->candidates = cand;
		if (ru >= 0) {
			double xr[FOG_LEARN_DIM];
			struct guess gr;

			fog_learner_features(s, t, (unsigned int)ru, now, xr);
			predict(l, &l->arms[ru], xr, &gr);
			snprintf(why->runner_up, sizeof(why->runner_up), "%s",
				 s->workers[ru].spec.id);
			why->runner_up_ms = nom * exp(gr.y);
		}
		snprintf(why->reason, sizeof(why->reason), "%s%s; %llu observations on it",
			 explored ? "explored: its lower confidence bound is the lowest" :
				    "lowest expected completion time",
			 l->arms[pick].n ? "" : " (no observations yet: prior)",
			 (unsigned long long)l->arms[pick].n);
	}
	return pick;
}

/*
 * One RLS step with forgetting on an n-dimensional model: gain k = P x /
 * (lambda + x'P x), theta += k e, P = (P - k x'P) / lambda, with P's diagonal
 * capped so directions the data never excite do not wind up.
 */
static void rls_update(double *P, double *theta, const double *x, double e, double lambda, int n)
{
	double Px[NA > NZ ? NA : NZ], k[NA > NZ ? NA : NZ], den = lambda;

	for (int i = 0; i < n; i++) {
		Px[i] = 0;
		for (int j = 0; j < n; j++)
			Px[i] += P[i * n + j] * x[j];
		den += x[i] * Px[i];
	}
	for (int i = 0; i < n; i++) {
		k[i] = Px[i] / den;
		theta[i] += k[i] * e;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			P[i * n + j] = (P[i * n + j] - k[i] * Px[j]) / lambda;
	for (int i = 0; i < n; i++)
		if (P[i * n + i] > P_MAX)
			for (int j = 0; j < n; j++)
				P[i * n + j] *= lambda;
}

void fog_learner__observe(struct fog_sched *s, unsigned int wi, const double x[FOG_LEARN_DIM],
			  double nominal_ms, double actual_ms, bool success)
{
	struct fog_learner *l = s->learner;
	struct arm *a;
	const double *z = x + NA;
	double y, e;

	if (wi >= l->max || !(actual_ms > 0) || !(nominal_ms > 0))
		return;
	a = &l->arms[wi];
	a->succ = a->succ * l->forget + (success ? 1 : 0);
	a->fail = a->fail * l->forget + (success ? 0 : 1);
	if (!success)
		return;	/* a failure's duration says nothing about speed */
	y = log(actual_ms / nominal_ms);
	e = y - dot(a->theta, x, NA) - dot(l->beta, z, NZ);
	a->var = a->n ? 0.95 * a->var + 0.05 * e * e : a->var;
	if (a->var < 1e-4)
		a->var = 1e-4;
	/* backfitting: each model learns the other's residual */
	rls_update(&a->P[0][0], a->theta, x, e, l->forget, NA);
	e = y - dot(a->theta, x, NA) - dot(l->beta, z, NZ);
	rls_update(&l->Pg[0][0], l->beta, z, e, l->forget, NZ);
	a->n++;
	a->last = l->choices;
	l->n++;
}
