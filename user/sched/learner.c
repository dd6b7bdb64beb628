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
 *     y = ybar_w  +  beta . (z - zbar_w)
 * where z are features with one model shared by all workers: the worker's
 * live signals (run-queue latency p99, CPU utilization, reserved share of its
 * cores and its square, a "no data" indicator, memory PSI, block I/O latency
 * p99) and the task's shape on it (its share of the worker's cores, GPU use);
 * ybar_w and zbar_w are the forgetting-weighted means of y and z over worker
 * w's own completions, with the same weights. This is the "within" or
 * fixed-effects estimator of panel regression: the worker's level ybar_w is
 * its speed at its usual conditions zbar_w, and beta, fitted on every
 * worker's deviations from its own means, moves a prediction only as far as
 * the conditions now differ from the usual ones. So a noisy neighbour seen on
 * one worker teaches what run-queue latency costs on every worker, and a
 * worker whose first runs were all behind a neighbour is not judged slow once
 * the neighbour leaves. (An earlier version fitted the level by RLS on the
 * residuals while zbar moved on its own: after a long neighbour episode the
 * two disagreed and the worker looked 10% slow for hundreds of runs.)
 *
 * Why the task's shape is shared and not per worker: a worker sees a narrow
 * range of shapes (an 8-core worker only tasks that fit it, a GPU worker
 * mostly GPU tasks), so a per-worker shape coefficient is nearly collinear
 * with its speed: the pair fits the shapes it saw and extrapolates wildly to
 * the ones it did not (on the Alibaba trace replay a CPU task on a GPU worker
 * was predicted 1.7x too slow, and that worker never chosen for it again). A
 * shared coefficient is identified across all workers.
 *
 * beta is fitted by recursive least squares with an exponential forgetting
 * factor (S. Haykin, "Adaptive Filter Theory", ch. 13) on the within-worker
 * deviations added one completion at a time as in B. P. Welford's updating
 * ("Note on a Method for Calculating Corrected Sums of Squares and Products",
 * Technometrics 4(3), 1962); its P, the inverse of the weighted Gram matrix,
 * is kept up to date by the Sherman-Morrison formula (J. Sherman, W. J.
 * Morrison, Ann. Math. Statist. 21(1), 1950) in O(d^2) per completion, so no
 * matrix is ever inverted. What contention costs changes rarely and every
 * completion informs it, so the shared model forgets four times slower than a
 * worker's level.
 *
 * Errors are judged against their own spread, the innovation variance
 * sigma^2 (1 + P_w + dz'P_g dz) of a Kalman filter: where the shared model has
 * seen little (a neighbour's run-queue latency before its cost is known) a
 * large error is expected. sigma^2 is a worker's residual variance shrunk
 * towards the variance pooled over all workers, (d0 s0^2 + n s_w^2) / (d0 + n)
 * with d0 = 4 (the moderated variance of G. K. Smyth, "Linear Models and
 * Empirical Bayes Methods for Assessing Differential Expression in Microarray
 * Experiments", Stat. Appl. Genet. Mol. Biol. 3(1), 2004), so a worker with
 * few completions has a sensible spread; its success probability is shrunk
 * the same way towards the pooled rate. Errors beyond 3 spreads are clipped
 * (a Huber-style M-estimate), so one run slowed by a neighbour the signals
 * did not show yet does not skew a worker's speed; a lasting change is caught
 * instead by a two-sided CUSUM on the standardised errors (E. S. Page,
 * "Continuous Inspection Schemes", Biometrika 1954) tuned to shifts of three
 * spreads or more (slow drift of the fit within a spread is forgetting's
 * job: alarms on it overshot, and a level left too slow is never corrected,
 * as that worker is no longer chosen) and robust (each step clipped, so three
 * large errors in a row are needed): on an alarm the worker's level moves by
 * the mean error since the change point and its next runs are not clipped,
 * so it is re-learnt within a few completions rather than the 1 / (1 -
 * forget) that forgetting alone takes.
 *
 * Choice: the lower confidence bound y - alpha * sigma * sqrt(P_w), P_w = 1 /
 * the worker's weight, minus log of its success probability (the expected
 * time with retries is t / p). Only the worker's own uncertainty earns
 * exploration: the shared model learns from every completion on any worker,
 * and the signals it reads vary by themselves (neighbours come and go, loads
 * rise and fall), which explores it for free (H. Bastani, M. Bayati,
 * K. Khosravi, "Mostly Exploration-Free Algorithms for Contextual Bandits",
 * Management Science 67(3), 2021); with its width in the bound, a worker with
 * a noisy neighbour looked promising precisely because its signals were
 * unusual. Exploration is bounded: a choice that differs from the greedy one
 * (lowest expected time) counts as exploration, and once explorations exceed
 * explore_budget of the decisions (plus three per worker to warm up) the
 * greedy choice is taken instead. A worker never chosen is tried once first,
 * as UCB1 plays every arm once (Auer, Cesa-Bianchi, Fischer, "Finite-time
 * Analysis of the Multiarmed Bandit Problem", Machine Learning 2002). A worker
 * not updated for a while has its level's variance grown as if its updates had
 * gone on without data, so one judged slow once is eventually tried again
 * (within the budget).
 *
 * Cost of a decision: the per-worker terms that do not depend on the task
 * (its features' deviation from zbar, its level, spread and success
 * probability) are cached and recomputed only when the worker's signals,
 * reservations or model change (one compare of the worker's generation,
 * fog_worker_hot.gen, and one of its freshness, which moves with time alone),
 * or, cheaply, when the shared model changed. A decision is then one pass
 * over the feasible workers reading the dense fog_worker_hot array and one
 * cache line of the cache per worker: the expected time is linear in the
 * task's cores and GPU use, and the bound needs no square root (a table of
 * the staleness growth's square roots). No allocation per decision.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched_int.h"

#define NA FOG_LEARN_ARM
#define NZ FOG_LEARN_SIG
#define P_MAX 1e4	/* cap on a covariance diagonal: no wind-up while unexcited */
#define P_PRIOR 100.0	/* a worker's level's variance before its first run (residual variances) */
#define STALE_MAX 100.0	/* cap on the covariance growth of an arm left alone */
#define CLIP 3.0	/* residuals beyond CLIP sigma are clipped */
#define CUSUM_K 1.5	/* CUSUM slack, in sigmas: half the smallest shift worth an alarm */
#define CUSUM_H 6.0	/* CUSUM alarm threshold, in sigmas */
#define CUSUM_MIN_N 8	/* observations before an arm's residuals are judged */
#define CUSUM_U_MAX 4.0	/* cap on one standardised residual's CUSUM step */
#define RELEARN 3	/* unclipped updates after a change alarm */
#define VAR_D0 4.0	/* prior observations behind the pooled variance */
#define VAR_INIT 0.25	/* pooled variance before any residual (sigma 0.5) */
#define VAR_MIN 1e-4
#define SUCC_M 4.0	/* prior observations behind the pooled success rate */
#define SHARED_SLOWER 4.0	/* the shared model forgets this many times slower */

/* The shared features, z = x + NA. */
enum {
	Z_RUNQ,		/* log1p(run-queue p99 / 100 us) */
	Z_UTIL,		/* CPU utilization, 0..1 */
	Z_RES,		/* reserved share of the worker's cores (placed and running tasks) */
	Z_RES2,		/* its square: contention grows faster than linearly near full */
	Z_NODATA,	/* no fresh signals: its own state, not a zero load */
	Z_PSI,		/* memory PSI some avg10, 0..1 */
	Z_IO,		/* log1p(block I/O p99 / 1 ms) */
	Z_WORKER,	/* the features above depend on the worker alone */
	Z_TCPU = Z_WORKER,	/* the task's share of the worker's cores */
	Z_TGPU,		/* the task uses GPUs */
	Z_COUNT,
};

static_assert(NA == 1, "a worker's own model is its level alone");
static_assert(Z_COUNT == NZ, "FOG_LEARN_SIG matches the shared features");

struct arm {
	double ybar;		/* forgetting-weighted mean of y over its observations */
	double zbar[NZ];	/* and of z, with the same weights */
	double wsum;		/* the weight behind them: 1 / wsum is the level's variance */
	double succ, fail;	/* forgetting success counts */
	double s2, sw;		/* forgetting sum of e^2 / (1 + P_w + dz'P_g dz), its weight */
	double cu_hi, cu_lo;	/* CUSUM of standardised residuals, both directions */
	double hi_sum, lo_sum;	/* sums of the residuals in each CUSUM's current run */
	unsigned int hi_n, lo_n;	/* and their counts */
	unsigned int relearn;	/* updates left without clipping after a change */
	__u64 n;
	__u64 last;	/* the learner's choice count at its last update */
	bool tried;	/* chosen at least once */
};

/*
 * A worker's task-independent decision terms, and the worker generation,
 * freshness and shared-model version they were computed for. The decision
 * pass reads the first cache line only. observe(), reset and move set gen to
 * 0 (never drawn).
 */
struct wcache {
	/* decision pass: mean = base + k1 * task cores + k3 * gpu */
	double base, k1, k3;
	double r0;	/* sigma * sqrt(P_w): the level's width before staleness */
	double last;	/* the arm's last update, in choices; +inf until it has one */
	__u64 gen;	/* fog_worker_hot.gen the terms are for; 0: invalid */
	__u64 gver;	/* shared model version of base, k1, k3 */
	bool tried;
	bool fresh;
	/* for a new shared model */
	double thp;	/* ybar - log(success probability) */
	double inv_cores;
	double zt[NZ - Z_WORKER];	/* zbar of the task features */
	double dz[Z_WORKER];	/* worker features minus zbar */
} __attribute__((aligned(64)));

struct fog_learner {
	struct arm *arms;
	struct wcache *wc;
	unsigned int max;
	double Pg[NZ][NZ];	/* shared model */
	double beta[NZ];
	__u64 gver;		/* version of the shared model, bumped on every update */
	double forget, forget_g;	/* of a worker's level, of the shared model */
	double pool;		/* residual variance pooled over all workers */
	double succ, fail;	/* forgetting success counts pooled over all workers */
	double *stale;		/* stale[k] = min(forget^-k, STALE_MAX), k whole ages */
	double *stale_sd;	/* its square roots */
	unsigned int n_stale;
	__u64 choices;	/* successful choices: the exploration budget's base */
	unsigned int n_arms;	/* workers: staleness is counted per worker's share */
};

static void arm_init(struct arm *a)
{
	memset(a, 0, sizeof(*a));
}

/* The variance of a worker's level, in residual variances. */
static double arm_P(const struct arm *a)
{
	return a->n ? 1.0 / a->wsum : P_PRIOR;
}

/*
 * The worker's success probability: its forgetting counts with a prior of
 * SUCC_M observations at the pooled rate (itself under a Beta(1,1) prior), so
 * a worker with two successes is not judged a 75% bet.
 */
static double arm_p(const struct fog_learner *l, const struct arm *a)
{
	double pool = (l->succ + 1.0) / (l->succ + l->fail + 2.0);

	return (a->succ + SUCC_M * pool) / (a->succ + a->fail + SUCC_M);
}

/* The worker's residual variance, shrunk towards the pooled one. */
static double arm_var(const struct fog_learner *l, const struct arm *a)
{
	double v = (VAR_D0 * l->pool + a->s2) / (VAR_D0 + a->sw);

	return v > VAR_MIN ? v : VAR_MIN;
}

struct fog_learner *fog_learner__new(unsigned int max_workers, const struct fog_sched_opts *o)
{
	struct fog_learner *l = calloc(1, sizeof(*l));
	unsigned int k = 1;

	if (!l)
		return NULL;
	l->forget = o->forget;
	l->forget_g = 1.0 - (1.0 - o->forget) / SHARED_SLOWER;
	l->pool = VAR_INIT;
	/* whole ages until the growth reaches its cap (forget = 1: never grows) */
	if (l->forget < 1.0)
		k = (unsigned int)fmin(ceil(log(STALE_MAX) / -log(l->forget)), 65536) + 1;
	l->arms = calloc(max_workers, sizeof(*l->arms));
	l->wc = aligned_alloc(_Alignof(struct wcache), max_workers * sizeof(*l->wc));
	if (l->wc)
		memset(l->wc, 0, max_workers * sizeof(*l->wc));
	l->stale = calloc(k, sizeof(double));
	l->stale_sd = calloc(k, sizeof(double));
	if (!l->arms || !l->wc || !l->stale || !l->stale_sd) {
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
	for (unsigned int i = 0; i < max_workers; i++)
		arm_init(&l->arms[i]);
	for (int i = 0; i < NZ; i++)
		l->Pg[i][i] = 1.0;
	return l;
}

void fog_learner__free(struct fog_learner *l)
{
	if (!l)
		return;
	free(l->arms);
	free(l->wc);
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

/* The shared features that depend on the worker alone, z[0 .. Z_WORKER). */
static void worker_features(const struct fog_worker *w, bool fresh, double *z)
{
	__u32 have = fresh ? w->sig.have : 0;

	z[Z_RUNQ] = have & FOG_SIG_RUNQ_P99 ? log1p(w->sig.runq_p99_us / 100.0) : 0;
	z[Z_UTIL] = have & FOG_SIG_CPU_UTIL ? w->sig.cpu_util : 0;
	z[Z_RES] = w->alloc_cpu / w->spec.cpu_cores;
	z[Z_RES2] = z[Z_RES] * z[Z_RES];
	z[Z_NODATA] = fresh ? 0 : 1.0;
	z[Z_PSI] = have & FOG_SIG_MEM_PSI ? w->sig.mem_psi / 100.0 : 0;
	z[Z_IO] = have & FOG_SIG_IO_P99 ? log1p(w->sig.io_p99_us / 1000.0) : 0;
}

void fog_learner_features(const struct fog_sched *s, const struct fog_task_spec *t,
			  unsigned int wi, __u64 now, double x[FOG_LEARN_DIM])
{
	const struct fog_worker *w = &s->workers[wi];
	double *z = x + NA;

	x[0] = 1.0;
	worker_features(w, fog_sched_signals_fresh(s, w, now), z);
	z[Z_TCPU] = t->cpu_cores / w->spec.cpu_cores;
	z[Z_TGPU] = t->gpu_count ? 1.0 : 0.0;
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

/* Whole ages since an arm's last update (l->choices - last), capped: an index into l->stale. */
static unsigned int age_idx(const struct fog_learner *l, double last)
{
	/*
	 * An arm not updated for a while is forgotten as if its updates had gone
	 * on without data: its variance grows by 1/forget per n_arms choices
	 * since. Whole ages keep it a table look-up. No observations: last is
	 * +inf, the age -inf, never stale.
	 */
	double age = ((double)l->choices - last) / (double)(l->n_arms ? l->n_arms : 1);

	if (!(age > 0))
		return 0;
	return age >= (double)(l->n_stale - 1) ? l->n_stale - 1 : (unsigned int)age;
}

struct guess {
	double y;	/* expected log(ms / nominal) */
	double width;	/* one sigma, log space: the level's and the shared model's */
	double p;	/* success probability */
};

/* The full prediction from raw features x (the level's 1, then z). */
static void predict(const struct fog_learner *l, const struct arm *a, const double *x,
		    struct guess *g)
{
	double dz[NZ], q;

	for (int i = 0; i < NZ; i++)
		dz[i] = x[NA + i] - a->zbar[i];
	q = arm_P(a) * l->stale[age_idx(l, a->n ? (double)a->last : INFINITY)] +
	    quad(&l->Pg[0][0], dz, NZ);
	g->y = a->ybar + dot(l->beta, dz, NZ);
	g->width = sqrt(arm_var(l, a)) * sqrt(q > 0 ? q : 0);
	g->p = arm_p(l, a);
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
static void wcache_rebeta(const struct fog_learner *l, struct wcache *c)
{
	const double *b = l->beta;
	double base = c->thp;

	for (int j = 0; j < Z_WORKER; j++)
		base += b[j] * c->dz[j];
	c->base = base - b[Z_TCPU] * c->zt[Z_TCPU - Z_WORKER] -
		  b[Z_TGPU] * c->zt[Z_TGPU - Z_WORKER];
	c->k1 = b[Z_TCPU] * c->inv_cores;
	c->k3 = b[Z_TGPU];
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
	double z[Z_WORKER];

	c->fresh = fresh;
	c->gen = s->hot[wi].gen;
	c->tried = a->tried;
	c->last = a->n ? (double)a->last : INFINITY;
	worker_features(w, fresh, z);
	for (int j = 0; j < Z_WORKER; j++)
		c->dz[j] = z[j] - a->zbar[j];
	for (int j = Z_WORKER; j < NZ; j++)
		c->zt[j - Z_WORKER] = a->zbar[j];
	/* the pooled spread and success rate it reads drift slowly: taken as of now */
	c->thp = a->ybar - log(arm_p(l, a));
	c->inv_cores = 1.0 / w->spec.cpu_cores;
	c->r0 = sqrt(arm_var(l, a) * arm_P(a));
	wcache_rebeta(l, c);
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

/* Fills the explanation of choosing pick (runner-up ru, or -1). */
static void explain(struct fog_sched *s, const struct fog_task_spec *t, int pick, int ru,
		    const struct guess *gp, bool explored, unsigned int cand, __u64 now,
		    struct fog_sched_explain *why)
{
	struct fog_learner *l = s->learner;
	double nom = fog_learner_nominal_ms(t), ms = nom * exp(gp->y);

	memset(why, 0, sizeof(*why));
	why->valid = true;
	snprintf(why->worker, sizeof(why->worker), "%s", s->workers[pick].spec.id);
	why->predicted_ms = ms;
	why->uncertainty_ms = ms * (exp(gp->width) - 1.0);
	why->success_prob = gp->p;
	why->explored = explored;
	why->candidates = cand;
	if (ru >= 0) {
		double xr[FOG_LEARN_DIM];
		struct guess gr;

		fog_learner_features(s, t, (unsigned int)ru, now, xr);
		predict(l, &l->arms[ru], xr, &gr);
		snprintf(why->runner_up, sizeof(why->runner_up), "%s", s->workers[ru].spec.id);
		why->runner_up_ms = nom * exp(gr.y);
	}
	snprintf(why->reason, sizeof(why->reason), "%s%s; %llu observations on it",
		 explored ? "explored: its lower confidence bound is the lowest" :
			    "lowest expected completion time",
		 l->arms[pick].n ? "" : " (no observations yet: prior)",
		 (unsigned long long)l->arms[pick].n);
}

/*
 * The interference behind a choice: the worker the model would have taken
 * without its co-runners' penalty, when that is not pick, or pick's own
 * interfering co-runner (placed beside it: it was still the best).
 */
static void explain_intf(struct fog_sched *s, __u32 cls, int pick, int plain, __u64 now,
			 struct fog_sched_explain *why)
{
	struct fog_sched_interference p;

	if (plain >= 0 && plain != pick &&
	    fog_intf_penalty(s, cls, (unsigned int)plain, now, &p) > 0)
		fog_intf_explain(why, &p, s->workers[plain].spec.id);
	else if (fog_intf_penalty(s, cls, (unsigned int)pick, now, &p) > 0 && p.interferes)
		fog_intf_explain(why, &p, NULL);
}

int fog_learner_choose(struct fog_sched *s, const struct fog_task_spec *t, struct fog_task *task,
		       struct fog_sched_explain *why, __u64 now)
{
	struct fog_learner *l = s->learner;
	unsigned int n = s->n_workers, i, cand = 0;
	double alpha = s->opts.ucb_alpha, best_lcb = INFINITY, best_g = INFINITY, second_g = INFINITY;
	double tc = t->cpu_cores, tg = t->gpu_count ? 1.0 : 0.0;
	int pick = -ENOSPC, greedy = -1, second = -1, untried = -1;
	bool slow_fit = t->n_affinity || t->n_anti ||
			fog_strategies[FOG_STRAT_ML_ADAPTIVE].allowed;
	struct guess gp;
	double xp[FOG_LEARN_DIM], pen = 0, plain_g = INFINITY;
	__u64 allowed;
	bool explored = false;
	/* noisy neighbours: only a class with a known interfering pair pays for the look */
	__u32 cls = s->intf ? fog_intf_hash(t->task_class) : 0;
	bool intf_on = cls && fog_intf__involved(s->intf, cls, now);
	int plain = -1;

	l->n_arms = n;
	/* loop invariants in locals: the compiler cannot keep them across the stores */
	const struct fog_worker_hot *hot = s->hot;
	const struct wcache *wc = l->wc;
	const double *stale_sd = l->stale_sd;
	const double choices = (double)l->choices;
	const double inv_arms = 1.0 / (double)(n ? n : 1);
	const unsigned int n_stale = l->n_stale;
	const double stale_top = (double)(n_stale - 1);

	i = s->rr < n ? s->rr : 0;
	for (unsigned int k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		const struct fog_worker_hot *h = &hot[i];
		const struct wcache *c;
		double mean, lcb, age;
		unsigned int ahead = i + 6 < n ? i + 6 : (i + 6) % n;

		/* the scan is memory-bound: fetch a few workers ahead */
		__builtin_prefetch(&hot[ahead]);
		__builtin_prefetch(&wc[ahead]);

		if (h->free_cpu + 1e-9 < tc || h->free_mem_mb < (__s64)t->memory_mb ||
		    h->free_gpu < (__s32)t->gpu_count)
			continue;
		if (slow_fit && !fog_sched_fits(s, FOG_STRAT_ML_ADAPTIVE, t, i))
			continue;
		c = wcache_get(s, i, now);
		cand++;
		if (!c->tried && untried < 0)
			untried = (int)i;
		mean = c->base + c->k1 * tc + c->k3 * tg;
		if (__builtin_expect(intf_on, 0)) {
			/* the co-runners' interference stretches its run: log(1 + cost) each */
			if (mean < plain_g) {
				plain_g = mean;
				plain = (int)i;
			}
			mean += fog_intf_penalty(s, cls, i, now, NULL);
		}
		age = (choices - c->last) * inv_arms;	/* no observations: -inf */
		age = age > 0 ? age : 0;	/* not fmax: that is a libm call */
		lcb = mean - alpha * c->r0 *
				     stale_sd[age < stale_top ? (unsigned int)age : n_stale - 1];
		/* equal bounds: the earlier in scan order, which rotates */
		if (lcb < best_lcb) {
			best_lcb = lcb;
			pick = (int)i;
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
	if (intf_on)
		gp.y += pen = fog_intf_penalty(s, cls, (unsigned int)pick, now, NULL);
	if (task) {
		memcpy(task->x, xp, sizeof(xp));
		task->nominal_ms = fog_learner_nominal_ms(t);
		task->has_x = true;
		task->intf_pen = pen;
	}
	if (why) {
		explain(s, t, pick, pick == greedy ? second : greedy, &gp, explored, cand, now,
			why);
		if (intf_on)
			explain_intf(s, cls, pick, plain, now, why);
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
	double Px[NZ], k[NZ], den = lambda;

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

/* One side of the CUSUM: g = max(0, g + v - k), with the run since g was last 0. */
static void cusum_side(double *g, double *sum, unsigned int *n, double v, double e)
{
	*g += v - CUSUM_K;
	if (*g <= 0) {
		*g = 0;
		*sum = 0;
		*n = 0;
	} else {
		*sum += e;
		(*n)++;
	}
}

/*
 * Page's CUSUM on u = e / sigma (e the error, sigma its spread): g+ = max(0,
 * g+ + u - k), g- likewise for -u; an alarm when either exceeds h. u is
 * clipped to CUSUM_U_MAX first (a robust CUSUM), so it takes at least three
 * large errors of one sign to raise an alarm, never one or two outliers (tasks
 * placed on signals up to one period old, the neighbour just gone, run fast
 * while the model expects them slow). On an alarm, returns the number of
 * observations in the alarming run (the change is estimated to have happened
 * where that CUSUM was last 0, its maximum-likelihood change point) and their
 * mean error in *shift, the level's change; else 0.
 */
static unsigned int cusum(struct arm *a, double u, double e, double *shift)
{
	unsigned int n;

	u = clip(u, CUSUM_U_MAX);
	cusum_side(&a->cu_hi, &a->hi_sum, &a->hi_n, u, e);
	cusum_side(&a->cu_lo, &a->lo_sum, &a->lo_n, -u, e);
	if (a->cu_hi >= CUSUM_H) {
		*shift = a->hi_sum / a->hi_n;
		n = a->hi_n;
	} else if (a->cu_lo >= CUSUM_H) {
		*shift = a->lo_sum / a->lo_n;
		n = a->lo_n;
	} else {
		return 0;
	}
	a->cu_hi = a->cu_lo = a->hi_sum = a->lo_sum = 0;
	a->hi_n = a->lo_n = 0;
	return n;
}

void fog_learner__observe(struct fog_sched *s, unsigned int wi, const double x[FOG_LEARN_DIM],
			  double nominal_ms, double actual_ms, bool success)
{
	struct fog_learner *l = s->learner;
	struct arm *a;
	const double *z = x + NA;
	double y, e, sd, lim, q, shift, dz[NZ];
	unsigned int run;

	if (wi >= l->max || !(actual_ms > 0) || !(nominal_ms > 0))
		return;
	a = &l->arms[wi];
	l->wc[wi].gen = 0;
	a->succ = a->succ * l->forget + (success ? 1 : 0);
	a->fail = a->fail * l->forget + (success ? 0 : 1);
	l->succ = l->succ * l->forget_g + (success ? 1 : 0);
	l->fail = l->fail * l->forget_g + (success ? 0 : 1);
	if (!success)
		return;	/* a failure's duration says nothing about speed */
	y = log(actual_ms / nominal_ms);
	for (int i = 0; i < NZ; i++)
		dz[i] = z[i] - a->zbar[i];
	/* the prediction error; the first observation is against no data at all */
	e = a->n ? y - a->ybar - dot(l->beta, dz, NZ) : 0;
	/*
	 * Judged against its own spread, the innovation's: sigma^2 (1 + P_w +
	 * dz'P_g dz). Where the shared model has seen little (a neighbour's
	 * run-queue latency before its cost is known) a large error is expected
	 * and neither clipped nor counted as a change.
	 */
	q = 1.0 + (a->n ? arm_P(a) : 0) + quad(&l->Pg[0][0], dz, NZ);
	sd = sqrt(arm_var(l, a) * q);
	if (a->n >= CUSUM_MIN_N && !a->relearn && (run = cusum(a, e / sd, e, &shift))) {
		/*
		 * The worker changed: its level moves by the mean error since the
		 * change, and weighs no more than the runs since, so the next
		 * ones (not clipped) settle it.
		 */
		a->ybar += shift;
		e -= shift;
		a->wsum = fmin(a->wsum, (double)run);
		a->relearn = RELEARN;
		s->st.ml_changes++;
	}
	lim = a->relearn || a->n < CUSUM_MIN_N ? INFINITY : CLIP * sd;
	if (fabs(e) > lim) {
		/* the observation as if its residual were lim: one outlier moves little */
		y -= e - clip(e, lim);
		e = clip(e, lim);
	}
	if (a->n) {
		double e2 = fmin(e * e / q, CLIP * CLIP * l->pool);

		a->s2 = a->s2 * l->forget + e2;
		a->sw = a->sw * l->forget + 1.0;
		l->pool = 0.99 * l->pool + 0.01 * e2;
	}
	/*
	 * The shared model learns from the observation's deviation from the
	 * worker's means: the within-worker scatter, added one observation at a
	 * time (B. P. Welford, "Note on a Method for Calculating Corrected Sums
	 * of Squares and Products", Technometrics 4(3), 1962): with weight
	 * c^2 = W' / (W' + 1), W' the worker's decayed weight, these increments
	 * sum to the forgetting-weighted within-worker Gram matrix and moments.
	 */
	if (a->wsum > 0) {
		double wd = a->wsum * l->forget, c = sqrt(wd / (wd + 1.0)), cd[NZ];

		for (int i = 0; i < NZ; i++)
			cd[i] = c * dz[i];
		rls_update(&l->Pg[0][0], l->beta, cd, c * (y - a->ybar - dot(l->beta, dz, NZ)),
			   l->forget_g, NZ);
		l->gver++;
	}
	/* the worker's level and usual conditions move together, with the same weights */
	a->wsum = a->wsum * l->forget + 1.0;
	a->ybar += (y - a->ybar) / a->wsum;
	for (int i = 0; i < NZ; i++)
		a->zbar[i] += (z[i] - a->zbar[i]) / a->wsum;
	if (a->relearn)
		a->relearn--;
	a->n++;
	a->last = l->choices;
}
