/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the placement engine's fogd agent: the agent's state and the helpers
 * shared by its routes (api.c) and the remote runners' routes (api_runner.c).
 * Not part of libfog's API.
 */
#ifndef FOG_SCHED_API_INT_H
#define FOG_SCHED_API_INT_H

#include <stdbool.h>
#include <jansson.h>

#include "export/http.h"
#include "fog/sched.h"
#include "sched/api.h"

#define LOCAL_ID "local"
#define ERR_LEN 256
#define TASKS "/api/v1/sched/tasks"
#define WORKERS "/api/v1/sched/workers"

struct fog_collect;
struct fog_loop;
struct fog_sched_extender;
struct fog_sched_feed;

#define TICK_TASKS 64	/* running tasks matched to the neighbour signal a tick */

struct fog_sched_agent {
	struct fog_sched_agent_opts o;
	struct fog_sched *s;
	struct fog_executor *x;
	struct fog_loop *loop;
	struct fog_sched_extender *ext;	/* NULL unless configured */
	int timer;
	unsigned int period_ms;
	bool local;	/* the worker "local" is registered */
	struct fog_collect *collect;	/* the neighbour signal's source; NULL none */
	struct fog_sched_feed *feed;	/* scratch of the interference feed */
};

/* The timer runs fast while tasks wait or run (completions, expiry, retries), else slowly. */
void fog_sched_agent_set_period(struct fog_sched_agent *a);
/*
 * After a request changed something: waiting tasks get a bounded retry pass
 * when room may have appeared (the rest on the next ticks).
 */
void fog_sched_agent_changed(struct fog_sched_agent *a);
/* The request body as JSON, or NULL with a 400 in resp. */
json_t *fog_sched_agent_body(const struct fog_http_req *req, struct fog_http_resp *resp);
/* The ID of PREFIX/ID[/rest]: copies ID, points *rest at what follows ("" none). */
int fog_sched_agent_path_id(const char *path, const char *prefix, char *id, const char **rest);

/* api_runner.c: claim, status and a worker's task list for remote runners (ctx: the agent) */
extern const struct fog_http_route fog_sched_runner_routes[];
extern const size_t fog_sched_runner_n_routes;

/* api_interference.c: the neighbour signal into the interference table, its route */
int fog_sched_agent_feed_new(struct fog_sched_agent *a);
void fog_sched_agent_feed_free(struct fog_sched_agent *a);
/* One tick of seconds: the local tasks' pairs charged (needs the collectors). */
void fog_sched_agent_interference_tick(struct fog_sched_agent *a, double seconds);
extern const struct fog_http_route fog_sched_interference_routes[];
extern const size_t fog_sched_interference_n_routes;

#endif /* FOG_SCHED_API_INT_H */
