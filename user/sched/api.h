/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The placement engine inside fogd: one engine, the local host registered as
 * the worker "local" (its live signals from the collectors at every tick),
 * tasks with a command run by the local executor, and the JSON API:
 *
 *   Unix socket only (they change state):
 *   POST   /api/v1/sched/tasks            submit {"id": ..., "cpu_cores": ..., ...}, or a
 *                                         batch: an array of up to 1,000 of them
 *   DELETE /api/v1/sched/tasks/ID         cancel
 *   POST   /api/v1/sched/cancel           cancel a batch {"ids": [...]}
 *   POST   /api/v1/sched/workers          register or update {"id": ..., "cpu_cores": ...}
 *   DELETE /api/v1/sched/workers/ID       remove
 *   POST   /api/v1/sched/workers/ID/claim a remote runner takes tasks placed on ID
 *   POST   /api/v1/sched/tasks/ID/status  its report: running, succeeded or failed
 *   every listener (read-only):
 *   GET    /api/v1/sched/tasks[?state=S]  the tasks, oldest first
 *   GET    /api/v1/sched/tasks/ID         one task
 *   GET    /api/v1/sched/tasks/ID/explain why it was placed where it was
 *   GET    /api/v1/sched/workers          workers with their signals and their age
 *   GET    /api/v1/sched/workers/ID/tasks tasks placed or running on ID
 *   GET    /api/v1/sched/stats            counters, decision latency, ML insights
 *   GET    /api/v1/sched/interference     pairs of task classes: wait, slowdown, cost
 *
 *   A submission places only the new task; waiting tasks are retried when
 *   room appears (a task ends or is cancelled, a worker registers or
 *   changes) in passes of bounded work, continued on the timer.
 *   and, only when the operator turned it on, the Kubernetes scheduler
 *   extender (extender.h): POST /scheduler/filter, POST /scheduler/prioritize.
 */
#ifndef FOG_SCHED_API_H
#define FOG_SCHED_API_H

#include <stdbool.h>

struct fog_http;
struct fog_tick;
struct fog_loop;
struct fog_config;
struct fog_sched_agent;

/* Settings of the agent ([sched] in fogd's configuration, see the defaults in api.c). */
struct fog_sched_agent_opts {
	int strategy;			/* enum fog_sched_strategy: the engine's default */
	bool sla_reject;		/* SLA admission rejects (true) or flags at_risk */
	bool local_worker;		/* register this host as the worker "local" */
	double signal_ttl_s;		/* signals older than this are "no data" */
	char cgroup[64];		/* executor's cgroup folder beneath fogd's own */
	bool extender;			/* serve /scheduler/filter and /scheduler/prioritize */
	char prometheus_url[200];	/* the extender's node signals; "" none */
	double prometheus_timeout_s;	/* per query */
	double prometheus_max_age_s;	/* node samples older than this are "no data" */
	char node_label[64];		/* label naming a node in fogd's series */
	unsigned int runners;		/* pre-forked runners for local tasks, 1..64 */
	char user[32];			/* tasks run as this user and group (not root) */
	char group[32];
	unsigned int pids_max;		/* a task's processes and threads; 0: the default */
	double remote_timeout_s;	/* a claimed task without timeout_ms must end within */
	double interference_threshold;	/* a pair of classes interferes at this cost; 0 off */
	double interference_half_life_s;	/* its evidence fades by half in this */
};

void fog_sched_agent_opts_defaults(struct fog_sched_agent_opts *o);

/*
 * Creates the engine, the executor and the local worker, registers the routes
 * on h and a timer on loop. cfg is borrowed (only read here). NULL and errno on
 * failure (after a log message saying why).
 */
struct fog_sched_agent *fog_sched_agent__new(struct fog_http *h, struct fog_loop *loop,
					     const struct fog_config *cfg);
/* The same with explicit settings. */
struct fog_sched_agent *fog_sched_agent__new_opts(struct fog_http *h, struct fog_loop *loop,
						  const struct fog_sched_agent_opts *o);
/*
 * A fog_tick_fn (ctx: the agent): the tick's host signals become the local
 * worker's, and the neighbour signal of the tasks running here feeds the
 * interference table (with the collectors set by fog_sched_agent__set_collect).
 */
void fog_sched_agent__on_tick(const struct fog_tick *t, void *ctx);
/* Where the neighbour signal comes from (borrowed; NULL: none). */
struct fog_collect;
void fog_sched_agent__set_collect(struct fog_sched_agent *a, struct fog_collect *c);
/* Kills running tasks, removes their cgroups and frees everything; accepts NULL. */
void fog_sched_agent__free(struct fog_sched_agent *a);

#endif /* FOG_SCHED_API_H */
