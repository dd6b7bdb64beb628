// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interference between task classes: how much a task of one class (the
 * victim) is slowed beside a task of another (the culprit), learned from two
 * sources and forgotten with a half-life:
 *
 *   - the neighbour signal: run-queue wait of the victim's tasks charged to
 *     the culprit's, over the time the two ran side by side (exposure); its
 *     share s of that time, the victim waiting for CPUs the culprit held,
 *     stretches the victim's run by 1 / (1 - s): a cost (extra run time per
 *     unit) of s / (1 - s);
 *   - completions: a victim's run time beside the culprit against its run
 *     time without it (alone or beside other classes), as the ratio of their
 *     geometric means, minus 1.
 *
 * The signal names the culprit exactly, so it is used wherever the pair ran
 * side by side for long enough; completions, which cannot tell two
 * co-runners apart, speak for pairs the signal has not seen (remote workers).
 *
 * Bounded: at most FOG_INTF_CLASSES classes, a dense matrix of their pairs;
 * a new class takes the slot of the one touched longest ago, whose pairs go
 * with it. Every figure decays by 2^(-age / half-life), applied lazily when a
 * pair is read or written, so evidence of a neighbour long gone fades.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched_int.h"

#define MIN_EXPOSURE_S 1.0	/* side by side this long before the signal is judged */
#define MIN_RUNS 2.0	/* completions (decayed) beside and without before they are judged */
#define MAX_SHARE 0.9	/* a wait share above this is taken as this (cost 9) */
#define MAX_FIGURE 1e9	/* seconds: larger charges are refused as nonsense */
/*
 * Co-runners looked at on a worker: its most recently placed tasks. Bounds
 * the work of a placement or a decision on a worker holding thousands.
 */
#define SCAN_MAX 256

struct intf_class {
	char name[FOG_SCHED_LABEL_LEN];
	__u32 hash;	/* fog_intf_hash(name); 0: free slot */
	__u64 touched_ns;	/* last use: the slot touched longest ago is evicted */
	__u64 at_ns;	/* all_* decayed to here */
	double all_sum, all_w;	/* log ms of all its runs, weight */
	/* fog_intf__involved's answer, valid while ver and the second are unchanged */
	__u64 inv_ver, inv_s;
	bool inv;
};

struct intf_pair {
	__u64 at_ns;	/* figures decayed to here; 0: no data */
	double wait_s, exposure_s;	/* the neighbour signal */
	double beside_sum, beside_w;	/* log ms of runs beside the culprit, weight */
};

struct fog_intf {
	double threshold;	/* cost at which a pair interferes; <= 0: off */
	double half_life_ns;
	struct intf_class cls[FOG_INTF_CLASSES];
	struct intf_pair pair[FOG_INTF_CLASSES][FOG_INTF_CLASSES];	/* [victim][culprit] */
	__u64 evicted;
	__u64 ver;	/* bumped on every change: answers cached by class are stale */
};

/* FNV-1a of a class name, never 0 (0 means none). */
__u32 fog_intf_hash(const char *name)
{
	__u32 h = 2166136261u;

	if (!name || !name[0])
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h ? h : 1;
}

struct fog_intf *fog_intf__new(double threshold, double half_life_s)
{
	struct fog_intf *f;

	if (!isfinite(threshold) || !isfinite(half_life_s) || half_life_s <= 0) {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->threshold = threshold;
	f->half_life_ns = half_life_s * 1e9;
	return f;
}

void fog_intf__free(struct fog_intf *f)
{
	free(f);
}

double fog_intf_threshold(const struct fog_intf *f)
{
	return f ? f->threshold : 0;
}

static double decay(const struct fog_intf *f, __u64 from, __u64 now)
{
	return now > from ? exp2(-(double)(now - from) / f->half_life_ns) : 1.0;
}

static void pair_age(const struct fog_intf *f, struct intf_pair *p, __u64 now)
{
	double d;

	if (!p->at_ns || now <= p->at_ns) {
		if (!p->at_ns)
			p->at_ns = now ? now : 1;
		return;
	}
	d = decay(f, p->at_ns, now);
	p->wait_s *= d;
	p->exposure_s *= d;
	p->beside_sum *= d;
	p->beside_w *= d;
	p->at_ns = now;
}

static void class_age(const struct fog_intf *f, struct intf_class *c, __u64 now)
{
	double d = decay(f, c->at_ns, now);

	c->all_sum *= d;
	c->all_w *= d;
	c->at_ns = now;
}

static int find(const struct fog_intf *f, __u32 hash, const char *name)
{
	if (!hash)
		return -ENOENT;
	for (int i = 0; i < FOG_INTF_CLASSES; i++)
		if (f->cls[i].hash == hash && (!name || !strcmp(f->cls[i].name, name)))
			return i;
	return -ENOENT;
}

/*
 * The slot of class name, made when absent: in a free slot, else in the one
 * touched longest ago (never avoid's, the other class of a pair being charged).
 */
static int intern(struct fog_intf *f, const char *name, __u64 now, int avoid)
{
	__u32 h = fog_intf_hash(name);
	int i = find(f, h, name), victim = avoid == 0 ? 1 : 0;

	if (i >= 0 || !h)
		goto out;
	for (i = 0; i < FOG_INTF_CLASSES; i++) {
		if (!f->cls[i].hash)
			break;
		if (i != avoid && f->cls[i].touched_ns < f->cls[victim].touched_ns)
			victim = i;
	}
	if (i == FOG_INTF_CLASSES) {
		i = victim;
		f->evicted++;
	}
	f->ver++;
	memset(&f->cls[i], 0, sizeof(f->cls[i]));
	snprintf(f->cls[i].name, sizeof(f->cls[i].name), "%s", name);
	f->cls[i].hash = h;
	f->cls[i].at_ns = now;
	for (int k = 0; k < FOG_INTF_CLASSES; k++) {
		memset(&f->pair[i][k], 0, sizeof(f->pair[i][k]));
		memset(&f->pair[k][i], 0, sizeof(f->pair[k][i]));
	}
out:
	if (i >= 0)
		f->cls[i].touched_ns = now;
	return i;
}

static bool name_ok(const char *name)
{
	return name && memchr(name, '\0', FOG_SCHED_LABEL_LEN) && name[0];
}

__u32 fog_intf__touch(struct fog_intf *f, const char *name, __u64 now)
{
	if (!f || !name_ok(name))
		return 0;
	return intern(f, name, now, -1) >= 0 ? fog_intf_hash(name) : 0;
}

int fog_intf__charge(struct fog_intf *f, const char *victim, const char *culprit, double wait_s,
		     double exposure_s, __u64 now)
{
	struct intf_pair *p;
	int v, c;

	if (!f || !name_ok(victim) || !name_ok(culprit) || !isfinite(wait_s) ||
	    !isfinite(exposure_s) || wait_s < 0 || exposure_s < 0 || wait_s > MAX_FIGURE ||
	    exposure_s > MAX_FIGURE)
		return -EINVAL;
	v = intern(f, victim, now, -1);
	c = intern(f, culprit, now, v);
	p = &f->pair[v][c];
	pair_age(f, p, now);
	p->wait_s += wait_s;
	p->exposure_s += exposure_s;
	f->ver++;
	return 0;
}

void fog_intf__observe(struct fog_intf *f, __u32 victim, const __u32 *corun, unsigned int n,
		       double actual_ms, __u64 now)
{
	int v = f ? find(f, victim, NULL) : -ENOENT;
	double y;

	if (v < 0 || !(actual_ms > 0) || !isfinite(actual_ms))
		return;
	y = log(actual_ms);
	f->cls[v].touched_ns = now;
	f->ver++;
	class_age(f, &f->cls[v], now);
	f->cls[v].all_sum += y;
	f->cls[v].all_w += 1;
	for (unsigned int i = 0; i < n && i < FOG_INTF_CORUN; i++) {
		int c = find(f, corun[i], NULL);
		struct intf_pair *p;

		if (c < 0)
			continue;
		p = &f->pair[v][c];
		pair_age(f, p, now);
		p->beside_sum += y;
		p->beside_w += 1;
	}
}

/* The pair's cost now (extra run time per unit, 0 none known) and where it came from. */
static double pair_cost(const struct fog_intf *f, int v, int c, __u64 now,
			struct fog_sched_interference *out)
{
	const struct intf_pair *p = &f->pair[v][c];
	const struct intf_class *vc = &f->cls[v];
	double d = p->at_ns ? decay(f, p->at_ns, now) : 0, wait = p->wait_s * d;
	double exposure = p->exposure_s * d, bw = p->beside_w * d, bs = p->beside_sum * d;
	double dc = decay(f, vc->at_ns, now);
	/* the runs without the culprit: all of the class's but those beside it */
	double ow = vc->all_w * dc - bw, os = vc->all_sum * dc - bs, cost = 0, slow = 0;

	if (bw >= MIN_RUNS && ow >= MIN_RUNS)
		slow = exp(bs / bw - os / ow);
	if (exposure >= MIN_EXPOSURE_S) {
		double share = fmin(wait / exposure, MAX_SHARE);

		cost = share / (1.0 - share);
	} else if (slow > 0) {
		cost = fmax(slow - 1.0, 0);
	}
	if (out) {
		memset(out, 0, sizeof(*out));
		snprintf(out->victim, sizeof(out->victim), "%s", vc->name);
		snprintf(out->culprit, sizeof(out->culprit), "%s", f->cls[c].name);
		out->wait_s = wait;
		out->exposure_s = exposure;
		out->slowdown = slow;
		out->runs_beside = bw;
		out->runs_without = ow > 0 ? ow : 0;
		out->cost = cost;
		out->interferes = f->threshold > 0 && cost >= f->threshold;
	}
	return cost;
}

double fog_intf__cost(const struct fog_intf *f, __u32 victim, __u32 culprit, __u64 now,
		      struct fog_sched_interference *out)
{
	int v = f ? find(f, victim, NULL) : -ENOENT, c = f ? find(f, culprit, NULL) : -ENOENT;

	if (v < 0 || c < 0) {
		if (out)
			memset(out, 0, sizeof(*out));
		return 0;
	}
	return pair_cost(f, v, c, now, out);
}

/*
 * Costs are ratios of figures that decay together, so they move with time
 * only where a figure fades below its minimum: the answer is cached per
 * class until the table changes or a second of engine time passes.
 */
bool fog_intf__involved(struct fog_intf *f, __u32 cls, __u64 now)
{
	int v = f && f->threshold > 0 ? find(f, cls, NULL) : -ENOENT;
	struct intf_class *k;

	if (v < 0)
		return false;
	k = &f->cls[v];
	if (k->inv_ver == f->ver && k->inv_s == now / 1000000000ull)
		return k->inv;
	k->inv = false;
	for (int c = 0; c < FOG_INTF_CLASSES && !k->inv; c++) {
		if (!f->cls[c].hash)
			continue;
		if ((f->pair[v][c].at_ns && pair_cost(f, v, c, now, NULL) >= f->threshold) ||
		    (f->pair[c][v].at_ns && pair_cost(f, c, v, now, NULL) >= f->threshold))
			k->inv = true;
	}
	k->inv_ver = f->ver;
	k->inv_s = now / 1000000000ull;
	return k->inv;
}

int fog_intf__at(const struct fog_intf *f, unsigned int i, __u64 now, struct fog_sched_interference *out)
{
	unsigned int k = 0;

	if (!f)
		return -ENOENT;
	for (int v = 0; v < FOG_INTF_CLASSES; v++)
		for (int c = 0; c < FOG_INTF_CLASSES; c++) {
			if (!f->cls[v].hash || !f->cls[c].hash || !f->pair[v][c].at_ns)
				continue;
			if (k++ == i) {
				pair_cost(f, v, c, now, out);
				return 0;
			}
		}
	return -ENOENT;
}

unsigned int fog_intf__classes(const struct fog_intf *f)
{
	unsigned int n = 0;

	for (int i = 0; f && i < FOG_INTF_CLASSES; i++)
		n += f->cls[i].hash != 0;
	return n;
}

__u64 fog_intf__evicted(const struct fog_intf *f)
{
	return f ? f->evicted : 0;
}

/* ---- the engine's side: co-runners, completions, what strategies read ---- */

static void add_corun(struct fog_task *t, __u32 cls)
{
	for (unsigned int i = 0; i < t->n_corun; i++)
		if (t->corun[i] == cls)
			return;
	if (t->n_corun < FOG_INTF_CORUN)
		t->corun[t->n_corun++] = cls;
}

void fog_intf_placed(struct fog_sched *s, struct fog_task *t, const struct fog_worker *w,
		     __u64 now)
{
	unsigned int k = 0;

	t->cls = fog_intf__touch(s->intf, t->info.spec.task_class, now);
	t->n_corun = 0;
	if (!t->cls)
		return;
	for (struct fog_task *u = w->task_head; u && k < SCAN_MAX; u = u->wnext, k++) {
		if (u == t || !u->cls)
			continue;
		add_corun(t, u->cls);
		add_corun(u, t->cls);
	}
}

void fog_intf_done(struct fog_sched *s, const struct fog_task *t, double actual_ms, __u64 now)
{
	if (t->cls)
		fog_intf__observe(s->intf, t->cls, t->corun, t->n_corun, actual_ms, now);
}

/* Keeps in *worst the pair of the higher cost. */
static void keep_worst(const struct fog_sched *s, __u32 v, __u32 c, __u64 now, double *best,
		       struct fog_sched_interference *worst)
{
	double cost = fog_intf__cost(s->intf, v, c, now, NULL);

	if (cost > *best) {
		*best = cost;
		if (worst)	/* names copied only for a new worst */
			fog_intf__cost(s->intf, v, c, now, worst);
	}
}

/*
 * Either way round; the pair named is the one where cls suffers when that
 * interferes (the task's own slowdown says most), else the other way round.
 */
bool fog_intf_apart(const struct fog_sched *s, __u32 cls, unsigned int wi, __u64 now,
		    struct fog_sched_interference *worst)
{
	struct fog_sched_interference as_victim = { 0 }, as_culprit = { 0 };
	double thr = fog_intf_threshold(s->intf), v = 0, c = 0;
	unsigned int k = 0;

	if (thr <= 0)
		return false;
	for (const struct fog_task *u = s->workers[wi].task_head; u && k < SCAN_MAX;
	     u = u->wnext, k++) {
		if (!u->cls)
			continue;
		keep_worst(s, cls, u->cls, now, &v, &as_victim);
		keep_worst(s, u->cls, cls, now, &c, &as_culprit);
	}
	if (worst)
		*worst = v >= thr || v >= c ? as_victim : as_culprit;
	return v >= thr || c >= thr;
}

double fog_intf_penalty(const struct fog_sched *s, __u32 cls, unsigned int wi, __u64 now,
			struct fog_sched_interference *worst)
{
	double sum = 0, best = 0;
	unsigned int k = 0;

	for (const struct fog_task *u = s->workers[wi].task_head; u && k < SCAN_MAX;
	     u = u->wnext, k++) {
		double cost;

		if (!u->cls)
			continue;
		cost = fog_intf__cost(s->intf, cls, u->cls, now, NULL);
		if (cost > 0)
			sum += log1p(cost);
		keep_worst(s, cls, u->cls, now, &best, worst);
	}
	return sum;
}

void fog_intf_explain(struct fog_sched_explain *why, const struct fog_sched_interference *p,
		      const char *avoided)
{
	if (!why)
		return;
	why->interference = true;
	why->beside = !avoided;
	snprintf(why->avoided, sizeof(why->avoided), "%s", avoided ? avoided : "");
	snprintf(why->victim_class, sizeof(why->victim_class), "%s", p->victim);
	snprintf(why->culprit_class, sizeof(why->culprit_class), "%s", p->culprit);
	why->intf_wait_s = p->wait_s;
	why->intf_cost = p->cost;
	why->intf_slowdown = p->slowdown;
}

int fog_sched__interference_charge(struct fog_sched *s, const char *victim, const char *culprit,
				   double wait_s, double exposure_s)
{
	if (!s)
		return -EINVAL;
	return fog_intf__charge(s->intf, victim, culprit, wait_s, exposure_s, fog_sched__now(s));
}

int fog_sched__interference_at(const struct fog_sched *s, unsigned int i,
			       struct fog_sched_interference *out)
{
	if (!s || !out)
		return -EINVAL;
	return fog_intf__at(s->intf, i, fog_sched__now(s), out);
}
