/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libfog placement engine: places tasks on workers with one of six strategies
 * (FIFO, PRIORITY with aging, SLA with earliest-deadline-first and an admission
 * check, COST, AFFINITY, ML_ADAPTIVE), selectable per engine and overridable per
 * task. Every strategy respects hard constraints (free CPU, memory, GPUs, type)
 * and spreads load among equally good workers.
 *
 * Workers carry live signals (CPU utilization, run-queue latency p99, memory PSI,
 * block I/O latency p99, load) stamped with the time they were observed; a signal
 * older than the engine's signal_ttl_ns is "no data", an explicit state that
 * strategies see as such, never as a zero. Tasks placed since the last signal
 * update are added to a worker's load as estimates until new signals arrive.
 *
 * Time: every timestamp is in ns of the engine's clock (CLOCK_MONOTONIC unless
 * fog_sched_opts.clock is set, as the simulator does).
 *
 * Thread safety: none; one engine belongs to one thread (fogd's event loop).
 */
#ifndef FOG_SCHED_H
#define FOG_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "fog/signals.h"

#define FOG_SCHED_ID_LEN	64	/* task and worker ids, including the NUL */
#define FOG_SCHED_LABEL_LEN	32
#define FOG_SCHED_MAX_LABELS	8
#define FOG_SCHED_CMD_LEN	1024
#define FOG_SCHED_REASON_LEN	160
#define FOG_SCHED_LAT_BUCKETS	32	/* decision latency: log2 ns buckets */

struct fog_sched;

enum fog_sched_strategy {
	FOG_STRAT_FIFO,
	FOG_STRAT_PRIORITY,
	FOG_STRAT_SLA,
	FOG_STRAT_COST,
	FOG_STRAT_AFFINITY,
	FOG_STRAT_ML_ADAPTIVE,
	FOG_STRAT_COUNT,
	FOG_STRAT_DEFAULT = -1,	/* in a task: use the engine's strategy */
};

enum fog_task_priority {
	FOG_PRIO_LOW,
	FOG_PRIO_MEDIUM,
	FOG_PRIO_HIGH,
	FOG_PRIO_CRITICAL,
	FOG_PRIO_COUNT,
};

enum fog_task_state {
	FOG_TASK_PENDING,
	FOG_TASK_PLACED,	/* assigned a worker, not started */
	FOG_TASK_RUNNING,
	FOG_TASK_SUCCEEDED,
	FOG_TASK_FAILED,
	FOG_TASK_TIMED_OUT,
	FOG_TASK_CANCELLED,
	FOG_TASK_STATE_COUNT,
};

enum fog_worker_type {
	FOG_TYPE_ANY,	/* in a task: no preference */
	FOG_TYPE_CPU,
	FOG_TYPE_GPU,
};

/* Which live signals a worker has (bits of fog_worker_signals.have). */
enum fog_signal_bit {
	FOG_SIG_CPU_UTIL = 1 << 0,
	FOG_SIG_RUNQ_P99 = 1 << 1,
	FOG_SIG_MEM_PSI = 1 << 2,
	FOG_SIG_IO_P99 = 1 << 3,
	FOG_SIG_LOAD = 1 << 4,
};

struct fog_worker_spec {
	char id[FOG_SCHED_ID_LEN];
	double cpu_cores;	/* > 0 */
	__u64 memory_mb;	/* > 0 */
	__u32 gpu_count;	/* a worker with GPUs is of type GPU */
	double cost_per_hour;	/* >= 0, any currency */
	char labels[FOG_SCHED_MAX_LABELS][FOG_SCHED_LABEL_LEN];	/* "key=value" or a word */
	unsigned int n_labels;
};

struct fog_worker_signals {
	__u32 have;		/* FOG_SIG_* bits of the fields below that were measured */
	double cpu_util;	/* 0..1 of the worker's cores */
	double runq_p99_us;	/* run-queue latency p99 */
	double mem_psi;		/* memory PSI some avg10, percent */
	double io_p99_us;	/* block I/O latency p99 */
	double load;		/* runnable tasks (or cores busy) */
	__u64 at_ns;		/* when they were observed; 0 means now */
};

/*
 * The engine's signals from what fogd's collectors measured (NAN: left out, so
 * it reads as "no data"), observed at at_ns.
 */
void fog_worker_signals_from(struct fog_worker_signals *out, const struct fog_signals *s,
			     __u64 at_ns);

struct fog_task_spec {
	char id[FOG_SCHED_ID_LEN];
	enum fog_task_priority priority;
	int strategy;		/* enum fog_sched_strategy or FOG_STRAT_DEFAULT */
	double cpu_cores;	/* >= 0 */
	__u64 memory_mb;
	__u32 gpu_count;
	enum fog_worker_type type;	/* preferred worker type (AFFINITY: required) */
	__u64 deadline_ns;	/* absolute, engine clock; 0 for none */
	__u64 sla_ms;		/* completion target from submission; 0 for none */
	double budget_per_hour;	/* most it pays per worker hour; 0 for no limit */
	double est_runtime_ms;	/* caller's estimate on a nominal worker; 0 unknown */
	char affinity[FOG_SCHED_MAX_LABELS][FOG_SCHED_LABEL_LEN];	/* labels required */
	unsigned int n_affinity;
	char anti_affinity[FOG_SCHED_MAX_LABELS][FOG_SCHED_LABEL_LEN];	/* labels refused */
	unsigned int n_anti;
	char task_class[FOG_SCHED_LABEL_LEN];	/* learner grouping, e.g. "train"; may be "" */
	char command[FOG_SCHED_CMD_LEN];	/* sh -c command for the local executor; "" */
	__u64 timeout_ms;	/* longest run: past it a running task times out; 0 none */
};

/* Why ML_ADAPTIVE chose a worker. */
struct fog_sched_explain {
	bool valid;
	char worker[FOG_SCHED_ID_LEN];
	double predicted_ms;	/* expected completion time on it */
	double uncertainty_ms;	/* one-sigma width of that prediction */
	double success_prob;
	bool explored;		/* chosen for exploration, not as the best estimate */
	char runner_up[FOG_SCHED_ID_LEN];	/* "" when there was none */
	double runner_up_ms;
	unsigned int candidates;	/* feasible workers considered */
	char reason[FOG_SCHED_REASON_LEN];
	/*
	 * Noisy neighbours (any strategy; AFFINITY and ML_ADAPTIVE act on them):
	 * the pair of task classes whose interference kept the task from a
	 * worker (avoided), or that it was placed beside anyway (beside: no
	 * other worker fitted). Set only when interference is true.
	 */
	bool interference;
	bool beside;
	char avoided[FOG_SCHED_ID_LEN];	/* the worker it was kept from; "" when beside */
	char victim_class[FOG_SCHED_LABEL_LEN];
	char culprit_class[FOG_SCHED_LABEL_LEN];
	double intf_wait_s;	/* run-queue wait charged to the pair, decayed */
	double intf_cost;	/* the victim's extra run time beside the culprit, per unit */
	double intf_slowdown;	/* from completions, beside / without it; 0 unknown */
};

/* One task's view, as fog_sched__task returns it. */
struct fog_task_info {
	struct fog_task_spec spec;
	enum fog_task_state state;
	int strategy;		/* the one that placed it */
	char worker[FOG_SCHED_ID_LEN];	/* "" while pending */
	__u64 submit_ns, place_ns, start_ns, end_ns;
	__u64 eff_deadline_ns;	/* min(deadline, submit + sla); 0 none */
	bool at_risk;		/* SLA admission: deadline unlikely to be met */
	bool sla_violated;
	int exit_status;	/* wait status (as waitpid gives it); -1 unknown */
	bool oom_killed;
	double cpu_ms, peak_mem_mb;	/* from the executor; 0 unknown */
	struct fog_sched_explain explain;
	char reason[FOG_SCHED_REASON_LEN];	/* why it failed or waits */
};

/* One worker's view. */
struct fog_worker_info {
	struct fog_worker_spec spec;
	struct fog_worker_signals sig;
	bool signals_fresh;	/* false: "no data" (never sent or expired) */
	__u64 signal_age_ns;
	double alloc_cpu;	/* requirements of tasks placed or running on it */
	__u64 alloc_mem_mb;
	__u32 alloc_gpu;
	unsigned int tasks;	/* placed or running */
	unsigned int unseen;	/* placed since the last signals: counted as estimates */
	__u64 completed, failed;
};

struct fog_sched_stats {
	__u64 submitted, rejected, pending, active, completed, failed, timed_out, cancelled;
	__u64 sla_violations;
	__u64 decisions;	/* placement decisions made */
	__u64 explorations;	/* ML decisions that explored */
	double throughput_per_s;	/* completions over the last minute of engine time */
	__u64 lat_hist[FOG_SCHED_LAT_BUCKETS];	/* decision latency, bucket i: [2^i, 2^(i+1)) ns */
	double lat_p50_ns, lat_p99_ns;
	double ml_mean_abs_err;	/* |predicted - actual| / actual over completions, EWMA */
	__u64 ml_observations;
	__u64 ml_changes;	/* workers whose speed changed (CUSUM alarms on residuals) */
	/*
	 * Attempts to place a task that had been tried before and still found no
	 * room: kept out of decisions and the latency histogram, which count
	 * choices made (placements, picks, and a task's first attempt).
	 */
	__u64 retries;
	__u64 evicted;		/* ended tasks dropped from the table to make room */
	__u64 placed, running;	/* tasks in those states now (active = placed + running) */
};

typedef __u64 (*fog_sched_clock_fn)(void *ctx);
/* Called when a task is placed (the caller may start it) and when it ends. */
typedef void (*fog_sched_task_fn)(struct fog_sched *s, const struct fog_task_info *t, void *ctx);

struct fog_sched_opts {
	enum fog_sched_strategy strategy;
	/*
	 * Noisy neighbours: a pair of task classes interferes when the victim's
	 * extra run time beside the culprit (cost, see fog_sched_interference)
	 * reaches this; 0: 0.1, < 0: off (nothing is kept apart).
	 */
	double interference_threshold;
	double interference_half_life_s;	/* evidence fades by half in this; 0: 600 s */
	__u64 signal_ttl_ns;	/* signals older than this are no data; 0: 30 s */
	__u64 aging_ns;		/* PRIORITY: waiting this long raises a task one level; 0: 10 s */
	bool sla_reject;	/* SLA admission: reject (true) or flag at_risk (false) */
	unsigned int max_tasks;	/* tasks kept, finished ones included; 0: 65536 */
	unsigned int max_workers;	/* 0: 4096 */
	double explore_budget;	/* ML: largest share of decisions that explore; 0: 0.05 */
	double ucb_alpha;	/* ML: LinUCB confidence width; 0: 1.0 */
	double forget;		/* ML: RLS forgetting factor in (0.9, 1]; 0: 0.995 */
	__u64 seed;		/* ML exploration and tie breaking; 0: fixed default */
	fog_sched_clock_fn clock;	/* NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
	fog_sched_task_fn on_placed;	/* optional */
	fog_sched_task_fn on_done;	/* optional */
	void *cb_ctx;
};

struct fog_sched *fog_sched__new(const struct fog_sched_opts *opts);
void fog_sched__free(struct fog_sched *s);
/* Replaces on_placed, on_done and cb_ctx (e.g. to hand placed tasks to an executor). */
void fog_sched__set_callbacks(struct fog_sched *s, fog_sched_task_fn on_placed,
			      fog_sched_task_fn on_done, void *ctx);
__u64 fog_sched__now(const struct fog_sched *s);

/* Workers. -EEXIST duplicate id, -EINVAL bad sizes (reason in err, may be NULL). */
int fog_sched__worker_add(struct fog_sched *s, const struct fog_worker_spec *w, char *err,
			  size_t err_len);
/* Changes capacity, labels or cost; placed tasks stay. -ENOENT unknown id. */
int fog_sched__worker_update(struct fog_sched *s, const struct fog_worker_spec *w, char *err,
			     size_t err_len);
/* Removes a worker; its placed tasks go back to pending, running ones fail. */
int fog_sched__worker_remove(struct fog_sched *s, const char *id);
int fog_sched__worker_signals(struct fog_sched *s, const char *id,
			      const struct fog_worker_signals *sig);
int fog_sched__worker(const struct fog_sched *s, const char *id, struct fog_worker_info *out);
unsigned int fog_sched__worker_count(const struct fog_sched *s);
/* The i-th worker (0 <= i < count), in registration order. */
int fog_sched__worker_at(const struct fog_sched *s, unsigned int i, struct fog_worker_info *out);

/*
 * Submits a task. Rejected with a reason in err: -EINVAL bad fields, -EEXIST
 * duplicate id, -ENOSPC no worker can ever satisfy its requirements, -ETIME the
 * SLA admission check found its deadline cannot be met (with sla_reject), -ENOMEM
 * the task table is full.
 */
int fog_sched__submit(struct fog_sched *s, const struct fog_task_spec *t, char *err,
		      size_t err_len);
/* Cancels a pending, placed or running task (-EALREADY when it has ended). */
int fog_sched__cancel(struct fog_sched *s, const char *id);
int fog_sched__task(const struct fog_sched *s, const char *id, struct fog_task_info *out);
/* Calls fn for every known task, oldest first. */
void fog_sched__for_each_task(const struct fog_sched *s, fog_sched_task_fn fn, void *ctx);

/*
 * Makes up to max placement decisions (0: as many as possible) in the queue
 * order of the engine's strategy; returns how many tasks were placed.
 */
int fog_sched__schedule(struct fog_sched *s, unsigned int max);
/*
 * One placement decision for a task just submitted, without a pass over the
 * queue: 1 placed, 0 it waits (no room now, or, under a strategy without
 * backfill such as FIFO, other tasks wait ahead of it), -ENOENT, -EINVAL
 * (not pending).
 */
int fog_sched__place(struct fog_sched *s, const char *id);
/*
 * Retries waiting tasks after room may have appeared (completions, cancels,
 * worker registrations and updates): at most budget placement attempts, in the
 * queue order of the engine's strategy, each task at most once per change of
 * room; tasks that cannot fit on any worker's free room are skipped without an
 * attempt. Returns how many were placed. Does nothing when nothing changed
 * since the last complete pass; fog_sched__retry_due says whether one is due
 * (more than budget tasks to try leaves it due).
 */
int fog_sched__retry(struct fog_sched *s, unsigned int budget);
bool fog_sched__retry_due(const struct fog_sched *s);
/*
 * Chooses a worker for a task now without queueing or reserving it (the
 * hot path the benchmark and the Kubernetes extender use): the worker's index
 * for fog_sched__worker_at, or a negative errno (-ENOSPC none fits).
 */
int fog_sched__pick(struct fog_sched *s, const struct fog_task_spec *t,
		    struct fog_sched_explain *why);

/* Lifecycle reports from whoever runs the task. */
int fog_sched__task_started(struct fog_sched *s, const char *id);
/*
 * The task ended: state SUCCEEDED, FAILED or TIMED_OUT; the completion time
 * (start to end) trains the learner. cpu_ms, peak_mem_mb may be 0 (unknown).
 */
int fog_sched__task_finished(struct fog_sched *s, const char *id, enum fog_task_state state,
			     int exit_status, bool oom_killed, double cpu_ms, double peak_mem_mb);

/* How a task ended, as its runner saw it. */
struct fog_task_result {
	enum fog_task_state state;	/* SUCCEEDED, FAILED or TIMED_OUT */
	int exit_status;	/* wait status; -1 unknown */
	bool oom_killed;
	double cpu_ms, peak_mem_mb;	/* 0: unknown */
	double wall_ms;		/* run time the runner measured; 0: engine's start to now */
};

/* fog_sched__task_finished with the runner's own wall time (remote runners). */
int fog_sched__task_report(struct fog_sched *s, const char *id, const struct fog_task_result *r);
/*
 * A runner elsewhere took a placed task (it is RUNNING from now): unless it
 * reports the end within the task's timeout_ms, or default_timeout_ns when the
 * task has none (0: no limit), fog_sched__expire marks it TIMED_OUT.
 */
int fog_sched__task_claimed(struct fog_sched *s, const char *id, __u64 default_timeout_ns);
/* Calls fn for every task placed or running on worker id; -ENOENT unknown worker. */
int fog_sched__for_each_worker_task(const struct fog_sched *s, const char *id,
				    fog_sched_task_fn fn, void *ctx);
/*
 * Ends as TIMED_OUT every task past its effective deadline (pending, placed or
 * running) or running past its timeout; returns how many. Cost: the expired
 * tasks only (a heap of deadlines), not the table.
 */
int fog_sched__expire(struct fog_sched *s);

void fog_sched__stats(const struct fog_sched *s, struct fog_sched_stats *out);

/*
 * Noisy neighbours between task classes (FOG_SCHED_INTF_CLASSES at most; a new
 * class evicts the one used longest ago). The victim's cost beside the
 * culprit is its extra run time per unit: from the neighbour signal, s / (1 -
 * s) for s the share of their time side by side the victim waited for CPUs
 * the culprit held (once they ran side by side for a second), else from
 * completions, its geometric-mean run time beside the culprit over that without
 * it, minus 1 (two runs of each at least). Every figure fades with the half-life.
 * AFFINITY does not place a task on a worker running a class it interferes
 * with (either way) while another worker fits; ML_ADAPTIVE adds log(1 + cost)
 * of each co-runner to its predicted log run time.
 */
#define FOG_SCHED_INTF_CLASSES 32

struct fog_sched_interference {
	char victim[FOG_SCHED_LABEL_LEN];
	char culprit[FOG_SCHED_LABEL_LEN];
	double wait_s;		/* victim's run-queue wait charged to the culprit, decayed */
	double exposure_s;	/* time the two ran side by side, decayed */
	double slowdown;	/* completions: beside / without it; 0 unknown */
	double runs_beside, runs_without;	/* completions beside it and not, decayed */
	double cost;		/* extra run time per unit; 0 none known */
	bool interferes;	/* cost >= the threshold */
};

/*
 * The neighbour signal: victim's tasks waited wait_s for CPUs culprit's tasks
 * held, over exposure_s of running side by side (wait 0: they ran side by side
 * without harm). -EINVAL: a class name empty or unterminated within
 * FOG_SCHED_LABEL_LEN, a figure negative, not finite or beyond 1e9.
 */
int fog_sched__interference_charge(struct fog_sched *s, const char *victim, const char *culprit,
				   double wait_s, double exposure_s);
/* The i-th pair with data (0 <= i), as of now; -ENOENT past the last. */
int fog_sched__interference_at(const struct fog_sched *s, unsigned int i,
			       struct fog_sched_interference *out);

/* Names and parsing ("fifo", "priority", "sla", "cost", "affinity", "ml_adaptive"). */
const char *fog_sched_strategy_name(int strategy);
int fog_sched_strategy_parse(const char *name);	/* enum value or -EINVAL */
const char *fog_task_priority_name(enum fog_task_priority p);
int fog_task_priority_parse(const char *name);
const char *fog_task_state_name(enum fog_task_state st);

/*
 * The local executor: runs a placed task's command (sh -c) as a child process
 * in its own cgroup beneath the caller's, with a CPU quota of the task's
 * cpu_cores and a memory limit of its memory_mb (cgroup v2 where its memory
 * and cpu controllers are enabled, else the v1 memory and cpu hierarchies).
 * Exit status, wall and CPU time, peak memory and OOM kills are reported to the
 * engine (fog_sched__task_finished), which feeds the learner and statistics.
 * fog_executor__new installs itself as the engine's callbacks: placed tasks
 * with a command start, cancelled ones are killed.
 */
struct fog_executor;

#define FOG_EXEC_RUNNERS	4	/* pre-forked runners kept waiting, by default */
#define FOG_EXEC_MAX_RUNNERS	64

#define FOG_EXEC_USER		"fogd-task"	/* tasks' user and group, by default */
#define FOG_EXEC_PIDS_MAX	1024	/* a task's processes and threads at most, by default */
#define FOG_EXEC_DEFAULT_CPU	1.0	/* cores of a task that asks for none */
#define FOG_EXEC_DEFAULT_MEM_MB	1024	/* memory of a task that asks for none */

struct fog_executor_opts {
	const char *group;	/* cgroup folder made beneath the caller's, e.g. "fogd-tasks" */
	unsigned int runners;	/* pre-forked runners kept waiting; 0: FOG_EXEC_RUNNERS */
	const char *user;	/* root callers run tasks as this user; NULL: FOG_EXEC_USER (others: as themselves) */
	const char *user_group;	/* and this group; NULL: the user's name */
	unsigned int pids_max;	/* pids.max of a task; 0: FOG_EXEC_PIDS_MAX */
	double default_cpu;	/* cores of a task without cpu_cores; 0: FOG_EXEC_DEFAULT_CPU */
	__u64 default_mem_mb;	/* MiB of a task without memory_mb; 0: FOG_EXEC_DEFAULT_MEM_MB */
};

/*
 * Tasks start from a pool of pre-forked runner processes (children of the
 * caller that become the task user without any capability, wait for a task,
 * are moved into its cgroup by the caller and exec it): the fork is off the
 * placement path. A runner used or found dead is replaced on the next
 * fog_executor__reap. A task user that does not exist (or is root) is logged
 * here and fails every task (fog_executor__user_error says why).
 */
struct fog_executor *fog_executor__new_opts(struct fog_sched *s,
					    const struct fog_executor_opts *o);
/* group: the name of the cgroup folder made beneath the caller's, e.g. "fogd-tasks". */
struct fog_executor *fog_executor__new(struct fog_sched *s, const char *group);
/* Kills every running task, removes its cgroups and ends the idle runners. */
void fog_executor__free(struct fog_executor *x);
/* Which cgroup version it uses: 1, 2, or 0 when no usable controllers were found. */
int fog_executor__cgroup_version(const struct fog_executor *x);
/* Starts a placed task's command now (called by the placement callback). */
int fog_executor__start(struct fog_executor *x, const char *task_id);
int fog_executor__kill(struct fog_executor *x, const char *task_id);
/* Reaps finished children, waiting up to timeout_ms (0: do not wait); returns how many. */
int fog_executor__reap(struct fog_executor *x, int timeout_ms);
unsigned int fog_executor__running(const struct fog_executor *x);
/*
 * The i-th task running here (i < fog_executor__running): its id (valid until
 * the next reap) and the inode of its cgroup folder in the hierarchy mounted
 * at mount, the cgroup id BPF programs see for its processes (0: it has no
 * folder there). -ENOENT past the last.
 */
int fog_executor__running_at(const struct fog_executor *x, unsigned int i, const char *mount,
			     const char **id, __u64 *cgroup_id);
/* Ended tasks whose cgroups still held processes: retried on each reap, DRAIN_TRIES times. */
unsigned int fog_executor__draining(const struct fog_executor *x);
/* Why no task can run (the task user is missing), or NULL. */
const char *fog_executor__user_error(const struct fog_executor *x);
/* Pids of the runners waiting for a task: fills up to n of pids, returns how many wait. */
int fog_executor__idle_runners(const struct fog_executor *x, int *pids, unsigned int n);

#endif /* FOG_SCHED_H */
