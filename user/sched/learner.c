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
 *     y = theta_w . a  +  beta . (z - zbar_w)
 * where a are per-worker features (bias = the worker's speed, the task's share
 * of its cores and memory, GPU use) with one model per worker, and z are live
 * signal features (run-queue latency p99, CPU utilization, reserved load and
 * its square, a "no data" indicator, memory PSI) with one model shared by all
 * workers, so a noisy neighbour seen on one worker teaches what run-queue
 * latency costs on every worker.
 *
 * The shared model sees each worker's signals relative to zbar_w, their
 * forgetting-weighted mean over that worker's own observations (the "within"
 * or fixed-effects estimator of panel regression): the worker's bias then
 * absorbs its usual conditions, and a change of beta learnt on other workers
 * does not move the prediction of a worker at its usual conditions. Without
 * it, an idle worker's stale bias drifted with every shared update.
 *
 * Each model is fitted by recursive least squares with an exponential
 * forgetting factor (S. Haykin, "Adaptive Filter Theory", ch. 13): P is the
 * inverse of the weighted Gram matrix A, kept up to date by the
 * Sherman-Morrison formula (J. Sherman, W. J. Morrison, Ann. Math. Statist.
 * 21(1), 1950) in O(d^2) per completion, so no matrix is ever inverted. The
 * two models are updated alternately on each other's residual (backfitting).
 * Residuals are clipped at 3 sigma (a Huber-style M-estimate) so one run
 * slowed by a neighbour that the signals did not show yet does not skew a
 * worker's speed; a lasting change is caught instead by a two-sided CUSUM on
 * the standardised residuals (E. S. Page, "Continuous Inspection Schemes",
 * Biometrika 1954): on an alarm the worker's covariance is reset to the prior
 * and its next updates are not clipped, so it is re-learnt within a few
 * completions rather than the 1 / (1 - forget) that forgetting alone takes.
 *
 * Choice: the lower confidence bound y - alpha * sigma * sqrt(a'P_w a + dz'P_g dz)
 * (sigma the residual spread) minus log of the success probability (a
 * Beta(1,1) posterior mean over forgetting counts). Exploration is bounded: a
 * choice that differs from the greedy one (lowest expected time) counts as
 * exploration, and once explorations exceed explore_budget of the decisions
 * (plus three per worker to warm up) the greedy choice is taken instead. A
 * worker never chosen is tried once first, as UCB1 plays every arm once (Auer,
 * Cesa-Bianchi, Fischer, "Finite-time Analysis of the Multiarmed Bandit
 * Problem", Machine Learning 2002).
 *
 * Cost of a decision: the per-worker terms that do not depend on the task
 * (signal features, their deviation from zbar, the worker's coefficients and
 * the diagonal of its P) are cached and recomputed only when the worker's
 * signals, reservations or model change (one compare of the worker's
 * generation, fog_worker_hot.gen, and one of its freshness, which moves with
 * time alone). A first pass over the feasible workers, reading only the dense
 * fog_worker_hot array and two cache lines of the cache per worker, computes
 * the exact expected time and a cheap upper bound of the
 * confidence width from the diagonals alone (|P_ij| <= sqrt(P_ii P_jj) for a
 * positive semi-definite P, so x'Px <= (sum |x_i| sqrt(P_ii))^2); only the
 * shortlist whose optimistic bound could still beat the best exact bound gets
 * the full quadratic forms and the square root. No allocation per decision.
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
#define STALE_MAX 100.0	/* cap on the covariance growth of an arm left alone */
#define CLIP 3.0	/* residuals beyond CLIP sigma are clipped */
#define CUSUM_K 0.5	/* CUSUM slack, in sigmas */
#define CUSUM_H 8.0	/* CUSUM alarm threshold, in sigmas */
#define CUSUM_MIN_N 8	/* observations before an arm's residuals are judged */

struct arm {
	double P[NA][NA];
	double theta[NA];
	double zbar[NZ];	/* forgetting-weighted mean of z over its observations */
	double wsum;		/* the weight behind zbar */
	double succ, fail;	/* forgetting success counts */
	double var;		/* EWMA of squared (clipped) residuals, log space */
	double cu_hi, cu_lo;	/* CUSUM of standardised residuals, both directions */
	unsigned int relearn;	/* updates left without clipping after a change */
	__u64 n;
	__u64 last;	/* the learner's choice count at its last update */
	bool tried;	/* chosen at least once */
};

/*
 * A worker's task-independent decision terms, and the worker generation and
 * freshness they were computed for; aligned so the first pass reads two cache
 * lines a worker. observe(), reset and move set gen to 0 (never drawn).
 */
struct wcache {
	/* first pass: mean = base + k1 * cores + k2 * mem_mb + k3 * gpu + bz */
	double base, k1, k2, k3;
	/* sigma * sqrt(a'P_w a) <= r0 + r1 * cores + r2 * mem_mb + r3 * gpu */
	double r0, r1, r2, r3;
	double bz;	/* beta . dz, for the shared model of version gver */
	double wz;	/* sum of sqrt(Pg_ii) |dz_i| sigma: bounds sigma sqrt(dz'Pg dz) */
	__u64 gver;
	double last;	/* the arm's last update, in choices; +inf until it has one */
	__u64 gen;	/* fog_worker_hot.gen the terms are for; 0: invalid */
	bool tried;
	bool fresh;
	/* second pass */
	double sd;	/* sigma */
	double inv_cores, inv_mem;
	double dz[NZ];	/* z - zbar */
	double adz[NZ];	/* |dz| * sigma */
} __attribute__((aligned(64)));

/* One feasible worker in the first pass. */
struct cand {
	unsigned int wi;
	double lb;	/* lower bound of its LCB */
	double mean;	/* expected log time minus log success probability */
};

struct fog_learner {
	struct arm *arms;
	struct wcache *wc;
	struct cand *cand;
	unsigned int max;
	double Pg[NZ][NZ];	/* shared signal model */
	double beta[NZ];
	double gsd[NZ];		/* sqrt of Pg's diagonal */
	__u64 gver;		/* version of the shared model, bumped on every update */
	double forget;
	double *stale;		/* stale[k] = min(forget^-k, STALE_MAX), k whole ages */
	double *stale_sd;	/* its square roots */
	unsigned int n_stale;
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

static void gsd_refresh(struct fog_learner *l)
{
	for (int i = 0; i < NZ; i++)
		l->gsd[i] = sqrt(fmax(l->Pg[i][i], 0));
}

struct fog_learner *fog_learner__new(unsigned int max_workers, const struct fog_sched_opts *o)
{
	struct fog_learner *l = calloc(1, sizeof(*l));
	unsigned int k = 1;

	if (!l)
		return NULL;
	l->forget = o->forget;
	/* whole ages until the growth reaches its cap (forget = 1: never grows) */
	if (l->forget < 1.0)
		k = (unsigned int)fmin(ceil(log(STALE_MAX) / -log(l->forget)), 65536) + 1;
	l->arms = calloc(max_workers, sizeof(*l->arms));
	l->wc = aligned_alloc(_Alignof(struct wcache), max_workers * sizeof(*l->wc));
	if (l->wc)
		memset(l->wc, 0, max_workers * sizeof(*l->wc));
	l->cand = calloc(max_workers, sizeof(*l->cand));
	l->stale = calloc(k, sizeof(double));
	l->stale_sd = calloc(k, sizeof(double));
	if (!l->arms || !l->wc || !l->cand || !l->stale || !l->stale_sd) {
		fog_learner__free(l);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned int i = 0; i < k; i++) {
		l->stale[i] = fmin(pow(1.0 / l->forget, i), STALE_MAX);
		l->stale_sd[i] = sqrt(l->stale[i]);
	}
	l->n_stale = k;
	l->max = max_workers;
	for (int i = 0; i < NZ; i++)
		l->Pg[i][i] = 1.0;
	gsd_refresh(l);
	return l;
}

void fog_learner__free(struct fog_learner *l)
{
	if (!l)
		return;
	free(l->arms);
	free(l->wc);
	free(l->cand);
	free(l->stale);
	free(l->stale_sd);
	free(l);
}

void fog_learner__reset(struct fog_learner *l, unsigned int wi)
{
	if (wi < l->max) {
		arm_init(&l->arms[wi]);
		l->wc[wi].gen = 0;
	}
}

void fog_learner__move(struct fog_learner *l, unsigned int from, unsigned int to)
{
	if (from < l->max && to < l->max) {
		l->arms[to] = l->arms[from];
		l->wc[to].gen = 0;
	}
}

/* The run time the target is relative to: the task's own estimate, else 1 s. */
double fog_learner_nominal_ms(const struct fog_task_spec *t)
{
	return t->est_runtime_ms > 0 ? t->est_runtime_ms : 1000.0;
}

/* The shared signal features of a worker (task-independent). */
static void signal_features(const struct fog_worker *w, bool fresh, double *z)
{
	z[0] = fresh && (w->sig.have & FOG_SIG_RUNQ_P99) ? log1p(w->sig.runq_p99_us / 100.0) : 0;
	z[1] = fresh && (w->sig.have & FOG_SIG_CPU_UTIL) ? w->sig.cpu_util : 0;
	z[2] = w->alloc_cpu / w->spec.cpu_cores;
	z[3] = fresh ? 0 : 1.0;	/* "no data" is its own state, not a zero load */
	z[4] = fresh && (w->sig.have & FOG_SIG_MEM_PSI) ? w->sig.mem_psi / 100.0 : 0;
	z[5] = z[2] * z[2];	/* contention grows faster than linearly near full */
}

void fog_learner_features(const struct fog_sched *s, const struct fog_task_spec *t,
			  unsigned int wi, __u64 now, double x[FOG_LEARN_DIM])
{
	const struct fog_worker *w = &s->workers[wi];

	x[0] = 1.0;
	x[1] = t->cpu_cores / w->spec.cpu_cores;
	x[2] = (double)t->memory_mb / (double)w->spec.memory_mb;
	x[3] = t->gpu_count ? 1.0 : 0.0;
	signal_features(w, fog_sched_signals_fresh(s, w, now), x + NA);
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

/* The covariance growth of an arm not updated for a while, as a table index. */
static unsigned int stale_idx(const struct fog_learner *l, const struct arm *a)
{
	double age;

	if (!a->n)
		return 0;
	/*
	 * An arm not updated for a while is forgotten as if its updates had gone
	 * on without data: its covariance grows by 1/forget per n_arms choices
	 * since, so a worker judged slow once is eventually tried again (within
	 * the budget). Whole ages keep it a table look-up.
	 */
	age = (double)(l->choices - a->last) / (double)(l->n_arms ? l->n_arms : 1);
	return age >= (double)(l->n_stale - 1) ? l->n_stale - 1 : (unsigned int)age;
}

struct guess {
	double y;	/* expected log(ms / nominal) */
	double width;	/* one sigma, log space */
	double p;	/* success probability */
};

/* The full prediction from raw features x (a, then z). */
static void predict(const struct fog_learner *l, const struct arm *a, const double *x,
		    struct guess *g)
{
	double dz[NZ], q;

	for (int i = 0; i < NZ; i++)
		dz[i] = x[NA + i] - a->zbar[i];
	q = quad(&a->P[0][0], x, NA) * l->stale[stale_idx(l, a)] + quad(&l->Pg[0][0], dz, NZ);
	g->y = dot(a->theta, x, NA) + dot(l->beta, dz, NZ);
	g->width = sqrt(a->var) * sqrt(q > 0 ? q : 0);
	g->p = (a->succ + 1.0) / (a->succ + a->fail + 2.0);
}

double fog_learner_predict_ms(const struct fog_sched *s, const struct fog_task_spec *t,
			      unsigned int wi, __u64 now)
{
	const struct arm *a = &s->learner->arms[wi];
	double x[FOG_LEARN_DIM];
	struct guess g;

	if (!a->n)
		return -1;
	fog_learner_features(s, t, wi, now, x);
	predict(s->learner, a, x, &g);
	return fog_learner_nominal_ms(t) * exp(g.y);
}

/* The shared model's part of a cache entry, after the shared model changed. */
static void __attribute__((noinline)) wcache_rebeta(const struct fog_learner *l, struct wcache *c)
{
	double bz = 0, wz = 0;

	for (int j = 0; j < NZ; j++) {
		bz += l->beta[j] * c->dz[j];
		wz += l->gsd[j] * c->adz[j];
	}
	c->bz = bz;
	c->wz = wz;
	c->gver = l->gver;
}

/*
 * Recomputes worker wi's cache entry. Out of line so the scan that calls it
 * keeps its loop state in registers (this path calls libm).
 */
static void __attribute__((noinline)) wcache_fill(struct fog_sched *s, unsigned int wi, bool fresh)
{
	struct fog_learner *l = s->learner;
	const struct fog_worker *w = &s->workers[wi];
	const struct arm *a = &l->arms[wi];
	struct wcache *c = &l->wc[wi];
	double z[NZ], sd;

	c->fresh = fresh;
	c->gen = s->hot[wi].gen;
	c->tried = a->tried;
	c->last = a->n ? (double)a->last : INFINITY;

	signal_features(w, fresh, z);
	sd = sqrt(a->var);
	c->sd = sd;
	c->inv_cores = 1.0 / w->spec.cpu_cores;
	c->inv_mem = 1.0 / (double)w->spec.memory_mb;
	c->base = a->theta[0] - log((a->succ + 1.0) / (a->succ + a->fail + 2.0));
	c->k1 = a->theta[1] * c->inv_cores;
	c->k2 = a->theta[2] * c->inv_mem;
	c->k3 = a->theta[3];
	c->r0 = sd * sqrt(fmax(a->P[0][0], 0));
	c->r1 = sd * sqrt(fmax(a->P[1][1], 0)) * c->inv_cores;
	c->r2 = sd * sqrt(fmax(a->P[2][2], 0)) * c->inv_mem;
	c->r3 = sd * sqrt(fmax(a->P[3][3], 0));
	c->bz = c->wz = 0;
	for (int i = 0; i < NZ; i++) {
		c->dz[i] = z[i] - a->zbar[i];
		c->adz[i] = fabs(c->dz[i]) * sd;
		c->bz += l->beta[i] * c->dz[i];
		c->wz += l->gsd[i] * c->adz[i];
	}
	c->gver = l->gver;
}

/*
 * Brings worker wi's cached decision terms up to date; cheap when nothing
 * changed: the worker's generation covers its signals, reservations and
 * capacity, fresh the expiry of its signals, gen 0 the learner's own changes.
 */
static inline const struct wcache *wcache_get(struct fog_sched *s, unsigned int wi, __u64 now)
{
	struct fog_learner *l = s->learner;
	const struct fog_worker_hot *h = &s->hot[wi];
	struct wcache *c = &l->wc[wi];
	bool fresh = h->has_sig && now - h->sig_at_ns <= s->opts.signal_ttl_ns;

	if (__builtin_expect(c->gen != h->gen || c->fresh != fresh, 0))
		wcache_fill(s, wi, fresh);
	else if (__builtin_expect(c->gver != l->gver, 0))
		wcache_rebeta(l, c);
	return c;
}

/* Whole ages since the cached arm's last update, capped: an index into l->stale. */
static unsigned int cache_stale_idx(const struct fog_learner *l, const struct wcache *c,
				    double inv_arms)
{
	double age = ((double)l->choices - c->last) * inv_arms;

	/* no observations: last is +inf, age -inf, never stale */
	if (!(age > 0))
		return 0;
	return age >= (double)(l->n_stale - 1) ? l->n_stale - 1 : (unsigned int)age;
}

/* The exact lower confidence bound of a first-pass candidate. */
static double exact_lcb(const struct fog_learner *l, const struct fog_task_spec *t,
			unsigned int wi, const struct wcache *c, double mean, double alpha,
			double inv_arms)
{
	const struct arm *a = &l->arms[wi];
	double x[NA] = { 1.0, t->cpu_cores * c->inv_cores, (double)t->memory_mb * c->inv_mem,
			 t->gpu_count ? 1.0 : 0.0 };
	double q = quad(&a->P[0][0], x, NA) * l->stale[cache_stale_idx(l, c, inv_arms)] +
		   quad(&l->Pg[0][0], c->dz, NZ);

	return mean - alpha * c->sd * sqrt(q > 0 ? q : 0);
}

int fog_learner_choose(struct fog_sched *s, const struct fog_task_spec *t, struct fog_task *task,
		       struct fog_sched_explain *why, __u64 now)
{
	struct fog_learner *l = s->learner;
	unsigned int n = s->n_workers, i, cand = 0;
	double alpha = s->opts.ucb_alpha, best_lcb = INFINITY, best_g = INFINITY, second_g = INFINITY;
	double tc = t->cpu_cores, tm = (double)t->memory_mb, tg = t->gpu_count ? 1.0 : 0.0;
	double min_lb = INFINITY, inv_arms;
	int pick = -ENOSPC, greedy = -1, second = -1, untried = -1, min_k = -1;
	bool slow_fit = t->n_affinity || t->n_anti ||
			fog_strategies[FOG_STRAT_ML_ADAPTIVE].allowed;
	struct guess gp;
	double xp[FOG_LEARN_DIM];
	__u64 allowed;
	bool explored = false;

	l->n_arms = n;
	inv_arms = 1.0 / (double)(n ? n : 1);
	/* loop invariants in locals: stores to cands[] would make the compiler reload them */
	const struct fog_worker_hot *hot = s->hot;
	const struct wcache *wc = l->wc;
	const double *stale_sd = l->stale_sd;
	struct cand *cands = l->cand;
	const double choices = (double)l->choices;
	const unsigned int n_stale = l->n_stale;
	const double stale_top = (double)(n_stale - 1);

	/* first pass: exact expected times, optimistic bounds, no square roots */
	i = s->rr < n ? s->rr : 0;
	for (unsigned int k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		const struct fog_worker_hot *h = &hot[i];
		const struct wcache *c;
		double mean, wa, lb, age;
		unsigned int ahead = i + 6 < n ? i + 6 : (i + 6) % n;

		/* the scan is memory-bound: fetch a few workers ahead */
		__builtin_prefetch(&hot[ahead]);
		__builtin_prefetch(&wc[ahead]);
		__builtin_prefetch((const char *)&wc[ahead] + 64);

		if (h->free_cpu + 1e-9 < tc || h->free_mem_mb < (__s64)t->memory_mb ||
		    h->free_gpu < (__s32)t->gpu_count)
			continue;
		if (slow_fit && !fog_sched_fits(s, FOG_STRAT_ML_ADAPTIVE, t, i))
			continue;
		c = wcache_get(s, i, now);
		if (!c->tried && untried < 0)
			untried = (int)i;
		mean = c->base + c->k1 * tc + c->k2 * tm + c->k3 * tg + c->bz;
		age = (choices - c->last) * inv_arms;	/* no observations: -inf */
		age = age > 0 ? age : 0;	/* not fmax: that is a libm call */
		wa = (c->r0 + c->r1 * tc + c->r2 * tm + c->r3 * tg) *
		     stale_sd[age < stale_top ? (unsigned int)age : n_stale - 1];
		/* a hair of slack so rounding never drops the true best from the shortlist */
		lb = mean - alpha * (wa + c->wz) * (1 + 1e-9) - 1e-12;
		cands[cand++] = (struct cand){ .wi = i, .lb = lb, .mean = mean };
		if (lb < min_lb) {
			min_lb = lb;
			min_k = (int)cand - 1;
		}
		if (mean < best_g) {
			second_g = best_g;
			second = greedy;
			best_g = mean;
			greedy = (int)i;
		} else if (mean < second_g) {
			second_g = mean;
			second = (int)i;
		}
	}
	if (!cand) {
		if (why)
			why->valid = false;
		return pick;
	}
	/* second pass: the exact bound, only where the cheap one could still win */
	{
		const struct cand *m = &l->cand[min_k];

		best_lcb = exact_lcb(l, t, m->wi, &l->wc[m->wi], m->mean, alpha, inv_arms);
		pick = (int)m->wi;
	}
	for (unsigned int k = 0; k < cand; k++) {
		const struct cand *m = &l->cand[k];
		double lcb;

		if (m->lb >= best_lcb || (int)k == min_k)
			continue;
		lcb = exact_lcb(l, t, m->wi, &l->wc[m->wi], m->mean, alpha, inv_arms);
		/* equal bounds: the earlier in scan order, as a single scan would */
		if (lcb < best_lcb || (lcb == best_lcb && k < (unsigned int)min_k)) {
			best_lcb = lcb;
			pick = (int)m->wi;
		}
	}
	l->choices++;
	if (untried >= 0) {
		/* every worker is tried once before any estimate is trusted (UCB1's rule) */
		pick = untried;
		explored = true;
		s->st.explorations++;
	} else if (pick != greedy) {
		/* bounded exploration: past the budget, take the best estimate */
		allowed = (__u64)(s->opts.explore_budget * (double)l->choices) + 3ull * n;
		if (s->st.explorations < allowed) {
			explored = true;
			s->st.explorations++;
		} else {
			pick = greedy;
		}
	}
	s->rr = (unsigned int)pick + 1;
	l->arms[pick].tried = true;
	l->wc[pick].tried = true;
	if (!task && !why)
		return pick;
	fog_learner_features(s, t, (unsigned int)pick, now, xp);
	predict(l, &l->arms[pick], xp, &gp);
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
 * (lambda + x'P x), theta += k e, P = (P - k x'P) / lambda -- the
 * Sherman-Morrison update of P = A^-1 for A = lambda A + x x' -- with P's
 * diagonal capped so directions the data never excite do not wind up.
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

static double clip(double e, double lim)
{
	return e > lim ? lim : e < -lim ? -lim : e;
}

/*
 * Page's CUSUM on u = e / sigma: g+ = max(0, g+ + u - k), g- likewise for -u;
 * an alarm when either exceeds h. Returns whether the arm's level changed.
 */
static bool cusum(struct arm *a, double u)
{
	a->cu_hi = fmax(0, a->cu_hi + u - CUSUM_K);
	a->cu_lo = fmax(0, a->cu_lo - u - CUSUM_K);
	if (a->cu_hi < CUSUM_H && a->cu_lo < CUSUM_H)
		return false;
	a->cu_hi = a->cu_lo = 0;
	return true;
}

void fog_learner__observe(struct fog_sched *s, unsigned int wi, const double x[FOG_LEARN_DIM],
			  double nominal_ms, double actual_ms, bool success)
{
	struct fog_learner *l = s->learner;
	struct arm *a;
	const double *z = x + NA;
	double y, e, sd, lim, dz[NZ];

	if (wi >= l->max || !(actual_ms > 0) || !(nominal_ms > 0))
		return;
	a = &l->arms[wi];
	l->wc[wi].gen = 0;
	a->succ = a->succ * l->forget + (success ? 1 : 0);
	a->fail = a->fail * l->forget + (success ? 0 : 1);
	if (!success)
		return;	/* a failure's duration says nothing about speed */
	for (int i = 0; i < NZ; i++)
		dz[i] = a->n ? z[i] - a->zbar[i] : 0;
	y = log(actual_ms / nominal_ms);
	e = y - dot(a->theta, x, NA) - dot(l->beta, dz, NZ);
	sd = sqrt(a->var);
	if (a->n >= CUSUM_MIN_N && !a->relearn && cusum(a, e / sd)) {
		/* the worker changed: forget what its model knew and re-learn it */
		for (int i = 0; i < NA; i++)
			for (int j = 0; j < NA; j++)
				a->P[i][j] = i == j ? 1.0 : 0;
		a->relearn = NA + 2;
		s->st.ml_changes++;
	}
	lim = a->relearn || a->n < CUSUM_MIN_N ? INFINITY : CLIP * sd;
	e = clip(e, lim);
	a->var = a->n ? 0.95 * a->var + 0.05 * e * e : a->var;
	if (a->var < 1e-4)
		a->var = 1e-4;
	/* backfitting: each model learns the other's residual */
	rls_update(&a->P[0][0], a->theta, x, e, l->forget, NA);
	if (a->n) {
		e = clip(y - dot(a->theta, x, NA) - dot(l->beta, dz, NZ), lim);
		rls_update(&l->Pg[0][0], l->beta, dz, e, l->forget, NZ);
		gsd_refresh(l);
		l->gver++;
	}
	/* the worker's usual conditions, weighted as its model weighs its data */
	a->wsum = a->wsum * l->forget + 1.0;
	for (int i = 0; i < NZ; i++)
		a->zbar[i] += (z[i] - a->zbar[i]) / a->wsum;
	if (a->relearn)
		a->relearn--;
	a->n++;
	a->last = l->choices;
	l->n++;
}
