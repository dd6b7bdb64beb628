// SPDX-License-Identifier: GPL-2.0-only
/*
 * sched_sim: a seeded, repeatable cluster simulator for the placement engine.
 * It replays task and machine shapes of the Alibaba GPU trace v2023 (Weng et
 * al., "Beware of Fragmentation", USENIX ATC'23; read from its folder, never
 * copied) or a synthetic mix, time-compressed, against a hidden ground-truth
 * speed model, and reports per policy: best-worker accuracy (choice == the
 * oracle's), regret, mean and p99 completion time, SLA violations and cost.
 *
 * Policies: the engine's strategies (ML_ADAPTIVE, FIFO, PRIORITY, SLA, COST,
 * AFFINITY) and baselines implemented here: random, round-robin, least-loaded
 * (fewest reserved cores), Kubernetes' NodeResourcesFit LeastAllocated and
 * NodeResourcesBalancedAllocation scores, and a TargetLoadPacking-style score
 * on measured utilisation (Trimaran, target 40%). A last row, "oracle", places
 * every task on the oracle's choice (below) in the baselines' arrival order: a
 * reference for what the accuracy figure rewards, not a baseline.
 *
 * The seeded rules (cluster, speeds, run times, neighbours, signals) and what
 * each accuracy column counts are in docs/placement.md ("The simulator's rules").
 * SIM_DEBUG=1 in the environment prints every ML_ADAPTIVE miss after warm-up.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

#include "fog/sched.h"

#define MAX_W 256
#define MAX_T 20000
#define TRACE_DIR "../shared/traces/alibaba-gpu-v2023"

struct sim_worker {
	double cores;
	__u64 mem;
	__u32 gpus;
	double speed, cost;
	double alloc_cpu;
	__u64 alloc_mem;
	__u32 alloc_gpu;
	int running;
	double nn_until;	/* ms; noisy neighbour present while now < nn_until */
	bool nn_sent;		/* whether the last signals showed a neighbour */
};

struct sim_task {
	double arrive, nominal, deadline;	/* ms */
	double cores;
	__u64 mem;
	__u32 gpus;
	int prio;
	/* outcome */
	int worker;
	double start, end;
	bool done, placed;
};

struct node_shape {
	double cores;
	__u64 mem;
	__u32 gpus;
};

static struct sim_worker W[MAX_W], W0[MAX_W];
static struct sim_task T[MAX_T], T0[MAX_T];
static int nw = 16, nt;
static __u64 seed = 1;
static double spread = 1.12, util = 0.6, noise = 0.02, warm = 0.2, tie = 0.02;
static const char *trace_dir = TRACE_DIR;
static bool synthetic;
static bool verbose;
static double explore, alpha, forget;	/* ML knobs; 0: engine defaults */

static __u64 rng, prng;	/* world draws; the random policy's own draws */
static __u64 nn_rng;	/* neighbours' comings and goings */

static __u64 mix(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static __u64 rnd(void)
{
	return mix(&rng);
}

static double unif_of(__u64 *state)
{
	return (double)(mix(state) >> 11) / 9007199254740992.0;
}

static double unif(void)
{
	return unif_of(&rng);
}

/* A standard normal draw from its own stream (Box-Muller). */
static double gauss_of(__u64 *state)
{
	double u = unif_of(state), v = unif_of(state);

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* Task ti's run-time noise factor, lognormal (sigma 0.08), from its own stream. */
static double run_noise(int ti)
{
	__u64 state = seed ^ (0x9e3779b97f4a7c15ull * (__u64)(ti + 1));

	return exp(0.08 * gauss_of(&state));
}

/* ---- cluster and task generation ---- */

static int read_nodes(struct node_shape *out, int max)
{
	char path[512], line[256];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/openb_node_list_all_node.csv", trace_dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		char sn[64];
		double cpu;
		unsigned long long mem;
		unsigned int gpu;

		if (sscanf(line, "%63[^,],%lf,%llu,%u", sn, &cpu, &mem, &gpu) != 4)
			continue;	/* the header */
		out[n++] = (struct node_shape){ cpu / 1000, mem, gpu };
	}
	fclose(f);
	return n;
}

/* Trace pods with a run time; fills T0 in arrival order, returns the count. */
static int read_pods(int max)
{
	char path[512], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/openb_pod_list_default.csv", trace_dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		char *fld[12];
		int k = 0;
		double rt;

		for (char *p = line, *tok; k < 11 && (tok = strsep(&p, ",\n")); k++)
			fld[k] = tok;
		if (k < 11 || !strcmp(fld[0], "name") || !*fld[10] || !*fld[9])
			continue;
		rt = atof(fld[9]) - atof(fld[10]);
		if (rt <= 0)
			continue;
		T0[n].arrive = atof(fld[8]);	/* seconds, rescaled later */
		T0[n].cores = atof(fld[1]) / 1000;
		T0[n].mem = strtoull(fld[2], NULL, 10);
		T0[n].gpus = (__u32)atoi(fld[3]);
		T0[n].prio = !strcmp(fld[6], "Guaranteed") ? FOG_PRIO_CRITICAL :
			     !strcmp(fld[6], "LS")	   ? FOG_PRIO_HIGH :
			     !strcmp(fld[6], "Burstable")  ? FOG_PRIO_MEDIUM :
							     FOG_PRIO_LOW;
		T0[n].nominal = fmin(3000, fmax(100, 300 * pow(rt / 600, 0.3)));
		n++;
	}
	fclose(f);
	return n;
}

static int build(int max_tasks)
{
	static struct node_shape nodes[4096];
	int nn = 0, order[MAX_W];
	double total_cores = 0, work = 0, span;

	rng = seed;
	if (!synthetic) {
		nn = read_nodes(nodes, 4096);
		if (nn < 0) {
			fprintf(stderr, "sched_sim: cannot read the trace in %s: %s (use --synthetic)\n",
				trace_dir, strerror(-nn));
			return nn;
		}
	}
	for (int i = 0; i < nw; i++) {
		struct sim_worker *w = &W0[i];

		memset(w, 0, sizeof(*w));
		if (synthetic) {
			w->cores = 8 << (rnd() % 3);
			w->mem = (__u64)w->cores * 4096;
			w->gpus = i % 2 ? (__u32)(rnd() % 4 + 1) : 0;
		} else {
			/* half GPU machines, half any: trace pods mostly need a GPU */
			do {
				struct node_shape *s = &nodes[rnd() % (unsigned)nn];

				w->cores = s->cores;
				w->mem = s->mem;
				w->gpus = s->gpus;
			} while (i % 2 == 0 && !w->gpus);
		}
		order[i] = i;
		total_cores += w->cores;
	}
	for (int i = nw - 1; i > 0; i--) {	/* distinct random speed ranks */
		int j = (int)(rnd() % (unsigned)(i + 1)), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (int i = 0; i < nw; i++) {
		W0[i].speed = pow(spread, order[i]);
		W0[i].cost = (0.04 * W0[i].cores + 0.9 * W0[i].gpus) * W0[i].speed;
	}
	if (synthetic) {
		nt = max_tasks;
		for (int i = 0; i < nt; i++) {
			T0[i].arrive = i;
			T0[i].cores = (double)(1 + rnd() % 8);
			T0[i].mem = 1024 * (1 + rnd() % 8);
			T0[i].gpus = rnd() % 3 == 0 ? 1 : 0;
			T0[i].prio = (int)(rnd() % FOG_PRIO_COUNT);
			T0[i].nominal = 100 + unif() * 1900;
		}
	} else {
		nt = read_pods(max_tasks);
		if (nt < 0)
			return nt;
	}
	/* drop tasks no worker of this cluster can hold, then rescale arrivals */
	{
		int k = 0;

		for (int i = 0; i < nt; i++) {
			bool ok = false;

			for (int j = 0; j < nw && !ok; j++)
				ok = W0[j].cores >= T0[i].cores && W0[j].mem >= T0[i].mem &&
				     W0[j].gpus >= T0[i].gpus;
			if (ok)
				T0[k++] = T0[i];
		}
		nt = k;
	}
	for (int i = 0; i < nt; i++)
		work += T0[i].cores * T0[i].nominal;
	span = work / (total_cores * util);	/* ms over which arrivals spread */
	{
		double a0 = T0[0].arrive, a1 = T0[nt - 1].arrive;

		for (int i = 0; i < nt; i++) {
			/* trace order, gaps rescaled; equal trace times spread evenly */
			double frac = a1 > a0 ? (T0[i].arrive - a0) / (a1 - a0) : 0;

			T0[i].arrive = 0.5 * frac * span + 0.5 * span * i / nt;
			T0[i].deadline = T0[i].arrive + T0[i].nominal * (3 + 3 * unif());
		}
	}
	return 0;
}

/* ---- ground truth ---- */

static double true_ms(const struct sim_task *t, const struct sim_worker *w, double now)
{
	double share = w->alloc_cpu / w->cores;

	return t->nominal / w->speed * (1 + 0.6 * share) * (now < w->nn_until ? 1.9 : 1.0);
}

static bool fits(const struct sim_task *t, const struct sim_worker *w)
{
	return w->cores - w->alloc_cpu + 1e-9 >= t->cores && w->mem - w->alloc_mem >= t->mem &&
	       w->gpus - w->alloc_gpu >= t->gpus;
}

static int oracle(const struct sim_task *t, double now)
{
	double best = INFINITY;
	int b = -1;

	for (int i = 0; i < nw; i++)
		if (fits(t, &W[i]) && true_ms(t, &W[i], now) < best) {
			best = true_ms(t, &W[i], now);
			b = i;
		}
	return b;
}

/* ---- policies ---- */

enum policy {
	P_ML, P_FIFO, P_PRIORITY, P_SLA, P_COST, P_AFFINITY,
	P_RANDOM, P_RR, P_LEAST_LOADED, P_LEAST_ALLOC, P_BALANCED, P_TLP, P_ORACLE, P_COUNT,
};

static const char *const pnames[P_COUNT] = {
	"ml_adaptive", "fifo", "priority", "sla", "cost", "affinity",
	"random", "round_robin", "least_loaded", "k8s_least_alloc", "k8s_balanced",
	"load_aware_tlp", "oracle",
};

static double measured_util(const struct sim_worker *w, double now)
{
	return fmin(1.0, w->alloc_cpu / w->cores + (now < w->nn_until ? 0.5 : 0));
}

static double baseline_score(enum policy p, const struct sim_task *t, const struct sim_worker *w,
			     double now)
{
	double cf = (w->alloc_cpu + t->cores) / w->cores;
	double mf = (double)(w->alloc_mem + t->mem) / (double)w->mem;
	double u, target = 0.4;

	switch (p) {
	case P_LEAST_LOADED:
		return -w->alloc_cpu / w->cores;
	case P_LEAST_ALLOC:	/* NodeResourcesFit LeastAllocated: mean free share */
		return ((1 - cf) + (1 - mf)) / 2 * 100;
	case P_BALANCED:	/* NodeResourcesBalancedAllocation: 1 - std of shares */
		return (1 - fabs(cf - mf) / 2) * 100;
	case P_ORACLE:
		return -true_ms(t, w, now);
	case P_TLP:	/* TargetLoadPacking on measured utilisation plus the request */
		u = measured_util(w, now) + t->cores / w->cores;
		u *= 100;
		return u <= target * 100 ? (100 - target * 100) * u / (target * 100) + target * 100 :
					   target * 100 * (100 - u) / (100 - target * 100);
	default:
		return 0;
	}
}

struct result {
	__u64 decisions, correct, near;	/* near: within 5% of the oracle's time */
	__u64 tied;	/* the oracle's choice or within a factor exp(tie) of it */
	__u64 hidden;	/* chosen or oracle's worker changed unseen since the signals */
	double regret_num, regret_den;
	double sum_ct, sum_wait, cost;
	double sum_after;	/* completion times of the tasks after warm-up */
	int n_after;
	int sla_viol, done;
	double *ct;
};

/* Event heap of running tasks by end time. */
static int heap[MAX_T], nheap;

static void heap_push(int ti)
{
	int i = nheap++;

	while (i && T[heap[(i - 1) / 2]].end > T[ti].end) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = ti;
}

static int heap_pop(void)
{
	int top = heap[0], last = heap[--nheap], i = 0;

	for (;;) {
		int c = 2 * i + 1;

		if (c >= nheap)
			break;
		if (c + 1 < nheap && T[heap[c + 1]].end < T[heap[c]].end)
			c++;
		if (T[last].end <= T[heap[c]].end)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
	return top;
}

static double now_ms;
static struct result *cur;
static int rr_next;

static __u64 sim_clock(void *ctx)
{
	return (__u64)(now_ms * 1e6) + 1000000000ull;
}

static void start_task(int ti, int wi)
{
	struct sim_task *t = &T[ti];
	struct sim_worker *w = &W[wi];
	int best = oracle(t, now_ms);
	double exp_ms = true_ms(t, w, now_ms);

	if (ti >= (int)(warm * nt)) {
		cur->decisions++;
		cur->correct += best == wi;
		cur->near += exp_ms <= 1.05 * true_ms(t, &W[best], now_ms);
		cur->tied += best == wi || exp_ms <= exp(tie) * true_ms(t, &W[best], now_ms);
		cur->hidden += (now_ms < w->nn_until) != w->nn_sent ||
			       (now_ms < W[best].nn_until) != W[best].nn_sent;
		cur->regret_num += exp_ms - true_ms(t, &W[best], now_ms);
		cur->regret_den += true_ms(t, &W[best], now_ms);
	}
	t->worker = wi;
	t->placed = true;
	t->start = now_ms;
	t->end = now_ms + exp_ms * run_noise(ti);
	w->alloc_cpu += t->cores;
	w->alloc_mem += t->mem;
	w->alloc_gpu += t->gpus;
	w->running++;
	heap_push(ti);
}

static void on_placed(struct fog_sched *s, const struct fog_task_info *ti, void *ctx)
{
	int id = atoi(ti->spec.id), wi = atoi(ti->worker + 1);

	if (getenv("SIM_DEBUG") && id >= (int)(warm * nt)) {
		int b = oracle(&T[id], now_ms);

		if (b != wi)
			fprintf(stderr, "miss task %d: chose w%d true %.1f pred %.1f%s, oracle w%d "
				"true %.1f (ru %s %.1f) nn %d/%d load %.2f/%.2f\n", id, wi,
				true_ms(&T[id], &W[wi], now_ms), ti->explain.predicted_ms,
				ti->explain.explored ? " explored" : "", b,
				true_ms(&T[id], &W[b], now_ms), ti->explain.runner_up,
				ti->explain.runner_up_ms, now_ms < W[wi].nn_until,
				now_ms < W[b].nn_until, W[wi].alloc_cpu / W[wi].cores,
				W[b].alloc_cpu / W[b].cores);
	}

	start_task(id, wi);
	fog_sched__task_started(s, ti->spec.id);
}

static void send_signals(struct fog_sched *s)
{
	for (int i = 0; i < nw; i++) {
		struct sim_worker *w = &W[i];
		bool nn = now_ms < w->nn_until;
		struct fog_worker_signals sig = {
			.have = FOG_SIG_CPU_UTIL | FOG_SIG_RUNQ_P99 | FOG_SIG_LOAD,
			.cpu_util = measured_util(w, now_ms),
			.runq_p99_us = nn ? 4000 : 40 + 40 * w->alloc_cpu / w->cores,
			.load = w->alloc_cpu + (nn ? w->cores / 2 : 0),
		};
		char id[16];


		snprintf(id, sizeof(id), "w%d", i);
		fog_sched__worker_signals(s, id, &sig);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The engine for policy p (one of its strategies) with the cluster's workers. */
static struct fog_sched *engine_new(enum policy p)
{
	static const int strat[] = { FOG_STRAT_ML_ADAPTIVE, FOG_STRAT_FIFO, FOG_STRAT_PRIORITY,
				     FOG_STRAT_SLA, FOG_STRAT_COST, FOG_STRAT_AFFINITY };
	struct fog_sched_opts o = { .clock = sim_clock, .on_placed = on_placed, .seed = seed,
				    .signal_ttl_ns = 2000000000ull, .aging_ns = 5000000000ull,
				    .max_tasks = MAX_T, .sla_reject = false, .strategy = strat[p],
				    .explore_budget = explore, .ucb_alpha = alpha, .forget = forget };
	struct fog_sched *s = fog_sched__new(&o);

	for (int i = 0; s && i < nw; i++) {
		struct fog_worker_spec ws = { .cpu_cores = W[i].cores, .memory_mb = W[i].mem,
					      .gpu_count = W[i].gpus, .cost_per_hour = W[i].cost };
		char err[200];

		snprintf(ws.id, sizeof(ws.id), "w%d", i);
		if (fog_sched__worker_add(s, &ws, err, sizeof(err)))
			fprintf(stderr, "sched_sim: %s\n", err);
	}
	return s;
}

/* Task ti ends: its worker's room comes back; its figures go into r (the done-th). */
static void task_end(int ti, struct result *r, struct fog_sched *s, int done)
{
	struct sim_task *t = &T[ti];
	struct sim_worker *w = &W[t->worker];

	w->alloc_cpu -= t->cores;
	w->alloc_mem -= t->mem;
	w->alloc_gpu -= t->gpus;
	w->running--;
	t->done = true;
	r->ct[done] = t->end - t->arrive;
	r->sum_ct += t->end - t->arrive;
	r->sum_wait += t->start - t->arrive;
	if (ti >= (int)(warm * nt)) {
		r->sum_after += t->end - t->arrive;
		r->n_after++;
	}
	r->sla_viol += t->end > t->deadline;
	r->cost += w->cost * (t->end - t->start) / 3.6e6;
	if (s) {
		char id[16];

		snprintf(id, sizeof(id), "%d", ti);
		fog_sched__task_finished(s, id, FOG_TASK_SUCCEEDED, 0, false, 0, 0);
	}
}

/* Task ti arrives at the engine. */
static void submit(struct fog_sched *s, int ti)
{
	struct sim_task *t = &T[ti];
	struct fog_task_spec ts = {
		.priority = t->prio, .strategy = FOG_STRAT_DEFAULT, .cpu_cores = t->cores,
		.memory_mb = t->mem, .gpu_count = t->gpus, .est_runtime_ms = t->nominal,
		.type = t->gpus ? FOG_TYPE_GPU : FOG_TYPE_ANY,
		.deadline_ns = sim_clock(NULL) + (__u64)((t->deadline - t->arrive) * 1e6),
	};
	char err[200];

	snprintf(ts.id, sizeof(ts.id), "%d", ti);
	if (fog_sched__submit(s, &ts, err, sizeof(err)))
		fprintf(stderr, "sched_sim: task %d: %s\n", ti, err);
}

/* Baselines: arrival order, backfilling what fits; placed tasks leave queue. */
static void place_baseline(enum policy p, int *queue, int *nq)
{
	for (int qi = 0; qi < *nq;) {
		struct sim_task *t = &T[queue[qi]];
		double best = -INFINITY;
		int b = -1, feas[MAX_W], nf = 0;

		for (int k = 0; k < nw; k++) {
			int i = (rr_next + k) % nw;
			double sc;

			if (!fits(t, &W[i]))
				continue;
			feas[nf++] = i;
			sc = baseline_score(p, t, &W[i], now_ms);
			if (sc > best) {
				best = sc;
				b = i;
			}
		}
		if (!nf) {
			qi++;
			continue;
		}
		if (p == P_RANDOM)
			b = feas[mix(&prng) % (unsigned)nf];
		else if (p == P_RR)
			b = feas[0];
		rr_next = (b + 1) % nw;
		start_task(queue[qi], b);
		queue[qi] = queue[--*nq];
		/* keep arrival order among the rest */
		for (int k = qi; k + 1 < *nq && queue[k] > queue[k + 1]; k++) {
			int x = queue[k];

			queue[k] = queue[k + 1];
			queue[k + 1] = x;
		}
	}
}

static int run(enum policy p, struct result *r)
{
	static int queue[MAX_T];
	struct fog_sched *s = NULL;
	int next = 0, nq = 0, done = 0;
	double next_sig = 0, next_nn = 0;

	memcpy(W, W0, sizeof(W));
	memcpy(T, T0, sizeof(T[0]) * (size_t)nt);
	memset(r, 0, sizeof(*r));
	r->ct = calloc((size_t)nt, sizeof(double));
	cur = r;
	nheap = 0;
	rr_next = 0;
	now_ms = 0;
	nn_rng = seed ^ 0xabcdef;	/* neighbours: the same schedule for every policy */
	prng = seed;
	if (p <= P_AFFINITY) {
		s = engine_new(p);
		if (!s)
			return -errno;
	}
	while (done < nt) {
		double t_arr = next < nt ? T[next].arrive : INFINITY;
		double t_end = nheap ? T[heap[0]].end : INFINITY;
		double t_evt = fmin(fmin(t_arr, t_end), fmin(next_sig, next_nn));

		now_ms = t_evt;
		if (t_evt == next_nn) {	/* neighbours come and go, once a second */
			for (int i = 0; i < nw; i++)
				if (now_ms >= W[i].nn_until && unif_of(&nn_rng) < noise)
					W[i].nn_until = now_ms + 2000 + 8000 * unif_of(&nn_rng);
			next_nn += 1000;
			continue;
		}
		if (t_evt == next_sig) {
			for (int i = 0; i < nw; i++)	/* what signals show now, for "hidden" */
				W[i].nn_sent = now_ms < W[i].nn_until;
			if (s)
				send_signals(s);
			next_sig += 250;
			continue;
		}
		if (t_evt == t_end) {
			task_end(heap_pop(), r, s, done++);
		} else {
			if (s)
				submit(s, next);
			else
				queue[nq++] = next;
			next++;
		}
		if (s)
			fog_sched__schedule(s, 0);
		else
			place_baseline(p, queue, &nq);
	}
	if (s && verbose) {
		struct fog_sched_stats st;

		fog_sched__stats(s, &st);
		fprintf(stderr, "%s: decisions %llu explorations %llu ml error %.3f\n", pnames[p],
			(unsigned long long)st.decisions, (unsigned long long)st.explorations,
			st.ml_mean_abs_err);
	}
	fog_sched__free(s);
	r->done = done;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sched_sim [--seed N] [--workers N] [--tasks N] [--spread F] [--util F]\n"
		   "                 [--noise P] [--warm F] [--trace DIR | --synthetic]\n"
		   "                 [--policy NAME] [--explore F] [--alpha F] [--forget F]\n"
		   "                 [--tie F]\n"
		   "                 [--json] [-v]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", 1, NULL, 's' }, { "workers", 1, NULL, 'w' }, { "tasks", 1, NULL, 'n' },
		{ "spread", 1, NULL, 'p' }, { "util", 1, NULL, 'u' }, { "noise", 1, NULL, 'z' },
		{ "warm", 1, NULL, 'm' }, { "trace", 1, NULL, 't' }, { "synthetic", 0, NULL, 'S' },
		{ "policy", 1, NULL, 'P' }, { "explore", 1, NULL, 'e' }, { "alpha", 1, NULL, 'a' },
		{ "forget", 1, NULL, 'f' }, { "json", 0, NULL, 'j' }, { "help", 0, NULL, 'h' },
		{ "tie", 1, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, max_tasks = 4000, only = -1;
	bool json = false;

	while ((opt = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'w': nw = atoi(optarg); break;
		case 'n': max_tasks = atoi(optarg); break;
		case 'p': spread = atof(optarg); break;
		case 'u': util = atof(optarg); break;
		case 'z': noise = atof(optarg); break;
		case 'm': warm = atof(optarg); break;
		case 't': trace_dir = optarg; break;
		case 'S': synthetic = true; break;
		case 'j': json = true; break;
		case 'e': explore = atof(optarg); break;
		case 'a': alpha = atof(optarg); break;
		case 'f': forget = atof(optarg); break;
		case 'T': tie = atof(optarg); break;
		case 'v': verbose = true; break;
		case 'P':
			for (int i = 0; i < P_COUNT; i++)
				if (!strcmp(optarg, pnames[i]))
					only = i;
			if (only < 0) {
				fprintf(stderr, "sched_sim: unknown policy %s\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (nw < 2 || nw > MAX_W || max_tasks < 10 || max_tasks > MAX_T || spread < 1 ||
	    util <= 0 || util > 2 || noise < 0 || noise > 1 || warm < 0 || warm >= 1 || tie < 0 ||
	    tie > 1) {
		fprintf(stderr, "sched_sim: workers 2..%d, tasks 10..%d, spread >= 1, util in "
				"(0, 2], noise and warm in [0, 1), tie in [0, 1]\n", MAX_W, MAX_T);
		return 2;
	}
	if (build(max_tasks))
		return 1;
	if (!json)
		printf("# %s, seed %llu, %d workers, %d tasks, spread %.2f, util %.2f, noise %.3f, "
		       "accuracy after the first %.0f%%, tie within %.1f%%\n"
		       "# accuracy: decisions after warm-up (the first %d tasks) whose worker is\n"
		       "#   the oracle's, the lowest expected run time under the hidden model\n"
		       "#   among workers with room at that moment; tie_aware also counts a\n"
		       "#   worker whose expected time is within %.1f%% of the oracle's (equal\n"
		       "#   within the noise a run carries); mean/p99 completion = wait + run\n"
		       "#   from arrival, of all tasks (mean_after: of those after warm-up);\n"
		       "#   the oracle row places every task on the oracle's choice\n"
		       "%-16s %9s %9s %8s %8s %7s %10s %10s %6s %9s %8s %10s\n",
		       synthetic ? "synthetic" : "alibaba-gpu-v2023", (unsigned long long)seed, nw,
		       nt, spread, util, noise, warm * 100, (exp(tie) - 1) * 100, (int)(warm * nt),
		       (exp(tie) - 1) * 100, "policy", "accuracy", "tie_aware", "within5", "regret",
		       "hidden", "mean_ms", "p99_ms", "sla", "cost", "wait_ms", "mean_after");
	else
		printf("[");
	for (int p = 0, first = 1; p < P_COUNT; p++) {
		struct result r;

		if (only >= 0 && p != only)
			continue;
		if (run((enum policy)p, &r))
			return 1;
		qsort(r.ct, (size_t)r.done, sizeof(double), cmp_double);
		{
			double acc = r.decisions ? 100.0 * r.correct / r.decisions : 0;
			double near = r.decisions ? 100.0 * r.near / r.decisions : 0;
			double tied = r.decisions ? 100.0 * r.tied / r.decisions : 0;
			double hid = r.decisions ? 100.0 * r.hidden / r.decisions : 0;
			double reg = r.regret_den ? 100.0 * r.regret_num / r.regret_den : 0;
			double mean = r.sum_ct / r.done, p99 = r.ct[(int)(0.99 * (r.done - 1))];
			double after = r.n_after ? r.sum_after / r.n_after : 0;

			if (json)
				printf("%s{\"policy\":\"%s\",\"accuracy_pct\":%.2f,"
				       "\"tie_aware_pct\":%.2f,\"within5_pct\":%.2f,"
				       "\"regret_pct\":%.2f,\"hidden_pct\":%.2f,"
				       "\"mean_ms\":%.1f,\"p99_ms\":%.1f,\"sla_violations\":%d,"
				       "\"cost\":%.4f,\"wait_ms\":%.1f,\"mean_after_ms\":%.1f,"
				       "\"tasks\":%d,\"decisions\":%llu}",
				       first ? "" : ",", pnames[p], acc, tied, near, reg, hid, mean,
				       p99, r.sla_viol, r.cost, r.sum_wait / r.done, after, r.done,
				       (unsigned long long)r.decisions);
			else
				printf("%-16s %8.2f%% %8.2f%% %7.2f%% %7.2f%% %6.2f%% %10.1f "
				       "%10.1f %6d %9.4f %8.1f %10.1f\n",
				       pnames[p], acc, tied, near, reg, hid, mean, p99, r.sla_viol,
				       r.cost, r.sum_wait / r.done, after);
			first = 0;
		}
		free(r.ct);
	}
	if (json)
		printf("]\n");
	return 0;
}
