/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the placement engine: the engine, worker and task records shared by
 * engine.c, worker.c, table.c, queue.c, strategy.c and learner.c. Not part of
 * libfog's API.
 */
#ifndef FOG_SCHED_INT_H
#define FOG_SCHED_INT_H

#include <stdbool.h>
#include <string.h>

#include "fog/sched.h"

#define FOG_LEARN_ARM 1	/* per-worker features (the level), see learner.c */
#define FOG_LEARN_SIG 9	/* shared features: live signals and the task's shape */
#define FOG_LEARN_DIM (FOG_LEARN_ARM + FOG_LEARN_SIG)

struct fog_learner;
struct fog_intf;

#define FOG_INTF_CLASSES FOG_SCHED_INTF_CLASSES
#define FOG_INTF_CORUN 4	/* co-runner classes a task remembers */

/*
 * A worker's fields read on every decision, kept dense so a scan never touches
 * struct fog_worker (56 bytes a worker).
 */
struct fog_worker_hot {
	double free_cpu;
	__s64 free_mem_mb;
	__s32 free_gpu;
	bool gpu;	/* worker has GPUs */
	bool has_sig;	/* sig.have != 0 */
	double cost_per_hour;
	double load;	/* 0..1+: worker_load(), refreshed whenever it changes */
	__u64 sig_at_ns;	/* sig.at_ns: freshness is checked here */
	/*
	 * Changes whenever the worker's signals, reservations or capacity do
	 * (fog_worker_refresh): the learner's cached terms are valid while it
	 * is unchanged. Drawn from the engine's counter, so a value is never
	 * reused, not even by another worker moved into this slot; 0 is never
	 * drawn. 64 bits: it never wraps.
	 */
	__u64 gen;
};

struct fog_worker {
	struct fog_worker_spec spec;
	struct fog_worker_signals sig;
	double alloc_cpu;
	__u64 alloc_mem_mb;
	__u32 alloc_gpu;
	unsigned int tasks;	/* placed or running */
	unsigned int unseen;	/* placed since the signals were last updated */
	double unseen_cpu;	/* their CPU requirements, added to the measured load */
	__u64 completed, failed;
	struct fog_task *task_head;	/* its placed and running tasks (fog_task.wnext) */
};

struct fog_task {
	struct fog_task_info info;
	int worker;	/* index, -1 while pending or ended */
	__u64 seq;	/* submission order */
	unsigned int pend_idx;	/* position in the pending array while pending */
	bool unseen;	/* placed after the worker's last signals */
	double x[FOG_LEARN_DIM];	/* features at placement, for the learner */
	bool has_x;
	double nominal_ms;	/* the learner's scale for this task */
	unsigned int hash;	/* of its id, for the index */
	struct fog_task *prev, *next;	/* every kept task, in submission order */
	struct fog_task *wprev, *wnext;	/* tasks placed or running on the same worker */
	struct fog_task *end_next;	/* ended tasks, in the order they ended: evicted first */
	unsigned int dl_idx;	/* position in the deadline heap; FOG_NO_DL when not in it */
	__u64 dl_ns;	/* when it times out: min(effective deadline, start + run limit) */
	__u64 run_limit_ns;	/* start + timeout while running with a timeout; 0 none */
	__u64 tried_gen;	/* fog_sched.cap_gen of its last attempt that found no room */
	bool tried;	/* had a placement attempt: later misses are retries, not decisions */
	__u32 cls;	/* fog_intf_hash of its class while placed or running; 0 none */
	__u32 corun[FOG_INTF_CORUN];	/* classes that ran beside it on its worker */
	unsigned int n_corun;
	double intf_pen;	/* ML: log(1 + cost) of its co-runners added to its prediction */
};

#define FOG_NO_DL (~0u)

/* One strategy: queue order, admission and worker scoring. */
struct fog_strategy_ops {
	const char *name;
	/* < 0 when a goes before b in the queue at time now. */
	int (*compare)(const struct fog_sched *s, const struct fog_task *a,
		       const struct fog_task *b, __u64 now);
	/* Whether a task that does not fit now lets later ones be placed first. */
	bool backfill;
	/* Extra hard constraints beyond capacity and labels (NULL: none). */
	bool (*allowed)(const struct fog_sched *s, const struct fog_task_spec *t,
			const struct fog_worker *w, const struct fog_worker_hot *h);
	/*
	 * Higher is better; called only for workers that fit (NULL: choose()
	 * instead). now: the engine time of the decision.
	 */
	double (*score)(const struct fog_sched *s, const struct fog_task_spec *t,
			const struct fog_worker *w, const struct fog_worker_hot *h, __u64 now);
	/* Picks a worker itself (ML_ADAPTIVE); returns an index or a negative errno. */
	int (*choose)(struct fog_sched *s, const struct fog_task_spec *t, struct fog_task *task,
		      struct fog_sched_explain *why, __u64 now);
	/* Admission at submit: 0, or a negative errno with err filled (NULL: admit). */
	int (*admit)(struct fog_sched *s, struct fog_task *t, char *err, size_t err_len);
};

extern const struct fog_strategy_ops fog_strategies[FOG_STRAT_COUNT];

struct fog_sched {
	struct fog_sched_opts opts;
	struct fog_worker *workers;
	struct fog_worker_hot *hot;
	unsigned int n_workers;
	unsigned int rr;	/* rotating scan start: spreads ties */
	__u64 gen;		/* last fog_worker_hot.gen drawn */

	struct fog_task *head, *tail;	/* every kept task, oldest submission first */
	unsigned int n_tasks;
	struct fog_task *ended_head, *ended_tail;	/* ended tasks, oldest end first */
	struct fog_task **index;	/* open addressing (linear probing) by id */
	unsigned int index_size;	/* power of two, at least twice max_tasks */
	struct fog_task **pending;
	unsigned int n_pending;
	struct fog_task **order;	/* scratch for one scheduling pass */
	struct fog_task **dl_heap;	/* live tasks with a deadline or run limit, min-heap */
	unsigned int n_dl;
	__u64 seq;
	unsigned int live[FOG_TASK_RUNNING + 1];	/* tasks pending, placed, running */
	/*
	 * Bumped whenever room may have appeared (a task released its
	 * reservation, a worker came or changed, a waiting task left the queue):
	 * a pending task whose last miss was at the current value waits for the
	 * next bump instead of being tried again. retry_gen: the value the last
	 * complete retry pass ran for.
	 */
	__u64 cap_gen, retry_gen;

	struct fog_learner *learner;
	struct fog_intf *intf;	/* interference between task classes */
	__u64 rng;
	__u64 last_refresh_ns;	/* engine time of the last bulk load refresh */

	struct fog_sched_stats st;
	__u64 done_ring[64];	/* engine times of the latest completions, for throughput */
	unsigned int done_pos;
};

/* engine.c */
struct fog_task *fog_sched_find(const struct fog_sched *s, const char *id);
int fog_sched_worker_index(const struct fog_sched *s, const char *id);
bool fog_sched_signals_fresh(const struct fog_sched *s, const struct fog_worker *w, __u64 now);
/* Whether w could ever hold t (capacity only, ignoring what it runs now). */
bool fog_sched_could_fit(const struct fog_worker *w, const struct fog_task_spec *t);
/* Whether w has room for t now and passes labels and the strategy's constraints. */
bool fog_sched_fits(const struct fog_sched *s, int strategy, const struct fog_task_spec *t,
		    unsigned int wi);
/* Whether w could ever hold t under strategy's extra constraints (capacity, not room). */
bool fog_sched_fits_static(const struct fog_sched *s, int strategy, const struct fog_task_spec *t,
			   unsigned int wi);
/* Why no worker can ever take t: names the first requirement out of reach. */
void fog_sched_never_fits_reason(const struct fog_sched *s, int strategy,
				 const struct fog_task_spec *t, char *err, size_t len);
/* Recomputes worker wi's hot fields at engine time now and draws a new gen. */
void fog_worker_refresh(struct fog_sched *s, unsigned int wi, __u64 now);
/* A worker's load, 0..1 (more when oversubscribed), at engine time now. */
double fog_sched_worker_load(const struct fog_sched *s, const struct fog_worker *w, __u64 now);

/* Formats an error for the caller's buffer (err may be NULL). */
void fog_sched_set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Whether a fixed-size string field is terminated within size. */
static inline bool fog_sched_str_ok(const char *p, size_t size)
{
	return memchr(p, '\0', size) != NULL;
}

/* Task lifecycle steps shared by the engine and worker removal. */
/* Gives back what a placed or running task holds on its worker. */
void fog_sched_release(struct fog_sched *s, struct fog_task *t, __u64 now);
/* Ends a task in st: statistics, SLA check, the on_done callback. */
void fog_sched_finish(struct fog_sched *s, struct fog_task *t, enum fog_task_state st, __u64 now);
/* A placed task goes back to the queue (its worker went away). */
void fog_sched_requeue(struct fog_sched *s, struct fog_task *t, __u64 now);

/*
 * One attempt to place a pending task; true when it was placed. Its latency
 * goes into the histogram when it is a decision: a placement, or the task's
 * first attempt. Another miss of a task that already waits is a retry.
 */
bool fog_sched_attempt(struct fog_sched *s, struct fog_task *t, __u64 now);
/* Recomputes the loads of workers with signals, at most every 100 ms of engine time. */
void fog_sched_refresh_loads(struct fog_sched *s, __u64 now);

static inline bool fog_task_ended(enum fog_task_state st)
{
	return st >= FOG_TASK_SUCCEEDED;
}

/* table.c: the task table, its index and lists, the deadline heap */
/* Links a new task (state set) at the end of the table and into the index. */
void fog_table_add(struct fog_sched *s, struct fog_task *t);
/* Appends an ended task to the eviction order. */
void fog_table_ended(struct fog_sched *s, struct fog_task *t);
/* Frees the task that ended first to make room; false when every task is live. */
bool fog_table_evict(struct fog_sched *s);
void fog_worker_link(struct fog_worker *w, struct fog_task *t);
void fog_worker_unlink(struct fog_worker *w, struct fog_task *t);
/* Puts t in the deadline heap at dl_ns (0: takes it out). */
void fog_deadline_set(struct fog_sched *s, struct fog_task *t, __u64 dl_ns);
/* Moves t to state st, keeping the counts of live tasks. */
void fog_task_set_state(struct fog_sched *s, struct fog_task *t, enum fog_task_state st);

/* queue.c */
int fog_queue_add(struct fog_sched *s, struct fog_task *t);
void fog_queue_del(struct fog_sched *s, struct fog_task *t);
/* Fills s->order with the pending tasks in the order of strategy; returns the count. */
unsigned int fog_queue_sorted(struct fog_sched *s, int strategy, __u64 now);
int fog_queue_effective_priority(const struct fog_sched *s, const struct fog_task *t, __u64 now);

/* strategy.c */
/* The best worker for t under strategy at engine time now (an index), or -ENOSPC. */
int fog_strategy_pick(struct fog_sched *s, int strategy, const struct fog_task_spec *t,
		      struct fog_task *task, struct fog_sched_explain *why, __u64 now);
/* Expected run time (ms) of t on w: the learner's estimate, else the task's own. */
double fog_strategy_expected_ms(const struct fog_sched *s, const struct fog_task_spec *t,
				unsigned int wi, __u64 now);

/* learner.c: LinUCB over per-worker levels and a shared RLS model, see there */
struct fog_learner *fog_learner__new(unsigned int max_workers, const struct fog_sched_opts *o);
void fog_learner__free(struct fog_learner *l);
void fog_learner__reset(struct fog_learner *l, unsigned int wi);
/* Worker index from moved to to (the engine compacts its array on removal). */
void fog_learner__move(struct fog_learner *l, unsigned int from, unsigned int to);
void fog_learner_features(const struct fog_sched *s, const struct fog_task_spec *t,
			  unsigned int wi, __u64 now, double x[FOG_LEARN_DIM]);
double fog_learner_nominal_ms(const struct fog_task_spec *t);
int fog_learner_choose(struct fog_sched *s, const struct fog_task_spec *t, struct fog_task *task,
		       struct fog_sched_explain *why, __u64 now);
/* Predicted ms of t on wi, or a negative value when the worker has no observations. */
double fog_learner_predict_ms(const struct fog_sched *s, const struct fog_task_spec *t,
			      unsigned int wi, __u64 now);
void fog_learner__observe(struct fog_sched *s, unsigned int wi, const double x[FOG_LEARN_DIM],
			  double nominal_ms, double actual_ms, bool success);

/* interfere.c: the interference table of task classes, see there */
__u32 fog_intf_hash(const char *name);
struct fog_intf *fog_intf__new(double threshold, double half_life_s);
void fog_intf__free(struct fog_intf *f);
double fog_intf_threshold(const struct fog_intf *f);
/* The class's hash, its slot made or refreshed; 0 for a bad or empty name. */
__u32 fog_intf__touch(struct fog_intf *f, const char *name, __u64 now);
int fog_intf__charge(struct fog_intf *f, const char *victim, const char *culprit, double wait_s,
		     double exposure_s, __u64 now);
/* A run of class victim took actual_ms beside the n classes corun (0: alone). */
void fog_intf__observe(struct fog_intf *f, __u32 victim, const __u32 *corun, unsigned int n,
		       double actual_ms, __u64 now);
/* The cost of victim beside culprit now (0 none known); the pair's figures in out. */
double fog_intf__cost(const struct fog_intf *f, __u32 victim, __u32 culprit, __u64 now,
		      struct fog_sched_interference *out);
/* Whether class cls interferes with any class, either way (cheap to skip the rest). */
bool fog_intf__involved(struct fog_intf *f, __u32 cls, __u64 now);
int fog_intf__at(const struct fog_intf *f, unsigned int i, __u64 now,
		 struct fog_sched_interference *out);
unsigned int fog_intf__classes(const struct fog_intf *f);
__u64 fog_intf__evicted(const struct fog_intf *f);
/* t was placed on w: its class, and the classes it and w's tasks run beside. */
void fog_intf_placed(struct fog_sched *s, struct fog_task *t, const struct fog_worker *w,
		     __u64 now);
/* t succeeded in actual_ms: a completion beside its co-runners, or alone. */
void fog_intf_done(struct fog_sched *s, const struct fog_task *t, double actual_ms, __u64 now);
/* Whether worker wi runs a class that interferes with cls either way; the worst pair. */
bool fog_intf_apart(const struct fog_sched *s, __u32 cls, unsigned int wi, __u64 now,
		    struct fog_sched_interference *worst);
/* Sum of log(1 + cost) of cls beside each task on wi; the worst pair. */
double fog_intf_penalty(const struct fog_sched *s, __u32 cls, unsigned int wi, __u64 now,
			struct fog_sched_interference *worst);
/* Records pair p in why: kept from worker avoided, or (NULL) placed beside it. */
void fog_intf_explain(struct fog_sched_explain *why, const struct fog_sched_interference *p,
		      const char *avoided);

#endif /* FOG_SCHED_INT_H */
