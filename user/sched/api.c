// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement engine inside fogd (see api.h): the engine and its executor
 * driven by one timer of the event loop (placement passes, deadline expiry,
 * reaping finished children), the local host as the worker "local" whose live
 * signals are the collectors' host figures of each tick, and the HTTP routes
 * (those of remote runners are in api_runner.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/config.h"
#include "base/log.h"
#include "base/loop.h"
#include "collect/collector.h"
#include "export/http.h"
#include "fog/sched.h"
#include "sched/api.h"
#include "sched/api_int.h"
#include "sched/api_json.h"
#include "sched/extender.h"
#include "sched/extender_glue.h"

#define TIMER_BUSY_MS 50	/* while tasks wait or run: how late a completion is seen */
#define TIMER_IDLE_MS 1000
/*
 * Placement attempts per retry pass of the waiting queue (after a request
 * freed room, and on each timer tick while more are due): bounds the work a
 * single request can cause, whatever the backlog.
 */
#define RETRY_BUDGET 64
#define CANCEL "/api/v1/sched/cancel"

void fog_sched_agent_opts_defaults(struct fog_sched_agent_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->strategy = FOG_STRAT_ML_ADAPTIVE;
	o->sla_reject = false;
	o->local_worker = true;
	o->signal_ttl_s = 30;
	snprintf(o->cgroup, sizeof(o->cgroup), "fogd-tasks");
	o->extender = false;
	o->prometheus_timeout_s = 2;
	o->prometheus_max_age_s = 60;
	snprintf(o->node_label, sizeof(o->node_label), "instance");
	o->runners = FOG_EXEC_RUNNERS;
	snprintf(o->user, sizeof(o->user), "%s", FOG_EXEC_USER);
	snprintf(o->group, sizeof(o->group), "%s", FOG_EXEC_USER);
	o->pids_max = FOG_EXEC_PIDS_MAX;
	o->remote_timeout_s = 600;
	o->interference_threshold = 0.1;
	o->interference_half_life_s = 600;
}

/* ---- the local host as a worker ---- */

static __u64 meminfo_total_mb(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb / 1024;
}

static int add_local(struct fog_sched_agent *a)
{
	struct fog_worker_spec w = { .id = LOCAL_ID };
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char err[ERR_LEN];
	int rc;

	w.cpu_cores = cores > 0 ? (double)cores : 1;
	w.memory_mb = meminfo_total_mb();
	if (!w.memory_mb) {
		fog_warnx("sched: cannot read MemTotal from /proc/meminfo");
		return -EIO;
	}
	rc = fog_sched__worker_add(a->s, &w, err, sizeof(err));
	if (rc) {
		fog_warnx("sched: cannot register the local worker: %s", err);
		return rc;
	}
	a->local = true;
	return 0;
}

/*
 * The collectors' host figures of each tick (a fog_tick_fn, ctx: the agent)
 * as the local worker's signals, stamped with the tick's time; a figure whose
 * collector is not running is left out, so it reads as "no data", not as zero.
 */
void fog_sched_agent__on_tick(const struct fog_tick *t, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_worker_signals sig;
	__u64 now;

	if (!a->local)
		return;
	now = fog_sched__now(a->s);
	/* both clocks are CLOCK_MONOTONIC; a tick stamp is never in the future */
	fog_worker_signals_from(&sig, &t->host, t->at_ns && t->at_ns <= now ? t->at_ns : now);
	if (fog_sched__worker_signals(a->s, LOCAL_ID, &sig))
		fog_debug("sched: local signals refused");
	fog_sched_agent_interference_tick(a, t->seconds);
}

/* ---- the engine's callbacks: only tasks placed on this host run here ---- */

static void on_placed(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	int err;

	if (!t->spec.command[0] || strcmp(t->worker, LOCAL_ID))
		return;
	err = fog_executor__start(a->x, t->spec.id);
	if (err)
		fog_warnc(-err, "sched: task %s did not start", t->spec.id);
}

static void on_done(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	struct fog_sched_agent *a = ctx;

	/*
	 * Ends decided by the engine; an exit was reported by the reaper, whose
	 * child is already gone (its pid must not be signalled again).
	 */
	if (t->state == FOG_TASK_CANCELLED || t->state == FOG_TASK_TIMED_OUT)
		fog_executor__kill(a->x, t->spec.id);
}

/* The timer runs fast while tasks wait or run (completions, expiry, retries), else slowly. */
void fog_sched_agent_set_period(struct fog_sched_agent *a)
{
	struct fog_sched_stats st;
	unsigned int want;

	fog_sched__stats(a->s, &st);
	want = st.pending || st.active || fog_executor__running(a->x) ? TIMER_BUSY_MS :
									 TIMER_IDLE_MS;
	if (want != a->period_ms && a->timer >= 0 &&
	    !fog_loop__set_timer(a->loop, a->timer, want))
		a->period_ms = want;
}

/*
 * After a request changed something: waiting tasks get a bounded retry pass
 * when room may have appeared (the rest on the next ticks). Nothing here
 * grows with the number of tasks kept.
 */
void fog_sched_agent_changed(struct fog_sched_agent *a)
{
	fog_sched__retry(a->s, RETRY_BUDGET);
	if (a->period_ms != TIMER_BUSY_MS)
		fog_sched_agent_set_period(a);
}

/* One tick: signals, reaping, expiry, a retry pass; the timer runs faster while busy. */
static void run_once(struct fog_sched_agent *a)
{
	if (fog_executor__reap(a->x, 0) < 0)
		fog_debug("sched: reaping failed");
	fog_sched__expire(a->s);
	fog_sched__retry(a->s, RETRY_BUDGET);
	fog_sched_agent_set_period(a);
}

static void on_timer(void *ctx)
{
	run_once(ctx);
}

/* ---- routes ---- */

json_t *fog_sched_agent_body(const struct fog_http_req *req, struct fog_http_resp *resp)
{
	json_error_t je;
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		fog_http_error(resp, 400, "body is not valid JSON: %s (line %d, column %d)",
			       je.text, je.line, je.column);
	return j;
}

/* HTTP status of a refused submission, from the engine's errno. */
static int submit_status(int rc)
{
	switch (rc) {
	case -EEXIST:	/* the engine's message names the id */
	case -EINVAL:
		return 400;
	case -ENOSPC:
	case -ETIME:
		return 422;
	case -ENOMEM:
		return 503;
	default:
		return 500;
	}
}

/*
 * Parses, submits and places one task (only that task: waiting ones are
 * retried when room appears, not on every submission). Returns the HTTP
 * status, with the reason in err for a refusal.
 */
static int submit_one(struct fog_sched_agent *a, const json_t *j, struct fog_task_spec *t,
		      char *err, size_t len)
{
	int rc = fog_sched_json_task(j, fog_sched__now(a->s), t, err, len);

	if (rc)
		return 400;
	rc = fog_sched__submit(a->s, t, err, len);
	if (rc) {
		if (rc == -EEXIST || rc == -EINVAL) {
			char msg[ERR_LEN];

			snprintf(msg, sizeof(msg), "field 'id': %s", err);
			snprintf(err, len, "%s", msg);
		}
		return submit_status(rc);
	}
	fog_debug("sched: task %s submitted (%s, %.3g cores, %llu MiB)", t->id,
		  fog_task_priority_name(t->priority), t->cpu_cores,
		  (unsigned long long)t->memory_mb);
	fog_sched__place(a->s, t->id);	/* and started now when it has a command here */
	return 201;
}

/*
 * A batch: an array of up to FOG_SCHED_BATCH_MAX task bodies, each submitted on its own
 * (one refused task refuses only itself). 200 with one result per element,
 * in order: {"id", "status": 201, "state", "worker"} or {"status", "error"}.
 */
static int post_tasks(struct fog_sched_agent *a, const json_t *arr, struct fog_http_resp *resp)
{
	json_t *results, *e;
	size_t i, ok = 0;
	char err[ERR_LEN];

	if (json_array_size(arr) > FOG_SCHED_BATCH_MAX)
		return fog_http_error(resp, 400, "a batch holds at most %d tasks (got %zu)",
				      FOG_SCHED_BATCH_MAX, json_array_size(arr));
	/* room freed since the last pass goes to the tasks already waiting first */
	fog_sched__retry(a->s, RETRY_BUDGET);
	results = json_array();
	json_array_foreach(arr, i, e) {
		struct fog_task_spec t;
		struct fog_task_info ti;
		int st = submit_one(a, e, &t, err, sizeof(err));

		if (st == 201 && !fog_sched__task(a->s, t.id, &ti)) {
			json_t *worker = ti.worker[0] ? json_string(ti.worker) : json_null();

			ok++;
			json_array_append_new(results, json_pack("{s:s,s:i,s:s,s:o}", "id", t.id,
								 "status", 201, "state",
								 fog_task_state_name(ti.state),
								 "worker", worker));
		} else {
			json_array_append_new(results,
					      json_pack("{s:o,s:i,s:s}", "id",
							t.id[0] ? json_string(t.id) : json_null(),
							"status", st, "error", err));
		}
	}
	fog_sched_agent_changed(a);
	return fog_http_json(resp, 200, json_pack("{s:I,s:I,s:o}", "submitted", (json_int_t)ok,
						  "rejected", (json_int_t)(i - ok), "results",
						  results));
}

static int post_task(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_task_spec t;
	struct fog_task_info ti;
	char err[ERR_LEN];
	json_t *j = fog_sched_agent_body(req, resp);
	int st;

	if (!j)
		return 0;
	if (json_is_array(j)) {
		st = post_tasks(a, j, resp);
		json_decref(j);
		return st;
	}
	fog_sched__retry(a->s, RETRY_BUDGET);
	st = submit_one(a, j, &t, err, sizeof(err));
	json_decref(j);
	if (st != 201)
		return fog_http_error(resp, st, "%s", err);
	fog_sched_agent_changed(a);
	fog_sched__task(a->s, t.id, &ti);
	return fog_http_json(resp, 201, fog_sched_task_json(&ti, fog_sched__now(a->s)));
}

/* The ID of PREFIX/ID[/rest]: copies ID, points *rest at what follows ("" none). */
int fog_sched_agent_path_id(const char *path, const char *prefix, char *id, const char **rest)
{
	const char *p = path + strlen(prefix) + 1, *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	if (!n || n >= FOG_SCHED_ID_LEN)
		return -ENOENT;
	memcpy(id, p, n);
	id[n] = '\0';
	*rest = slash ? slash : "";
	return fog_sched_id_ok(id) ? 0 : -ENOENT;
}

static int delete_task(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_task_info ti;
	char id[FOG_SCHED_ID_LEN];
	const char *rest;
	int rc;

	if (fog_sched_agent_path_id(req->path, TASKS, id, &rest) || *rest)
		return fog_http_error(resp, 404, "no such endpoint: %s", req->path);
	rc = fog_sched__cancel(a->s, id);
	if (rc == -ENOENT)
		return fog_http_error(resp, 404, "no task %s", id);
	fog_sched__task(a->s, id, &ti);
	if (rc == -EALREADY)
		return fog_http_error(resp, 409, "task %s has already ended (%s)", id,
				      fog_task_state_name(ti.state));
	if (rc)
		return rc;
	fog_debug("sched: task %s cancelled", id);
	fog_sched_agent_changed(a);	/* its room goes to waiting tasks now */
	fog_sched__task(a->s, id, &ti);
	return fog_http_json(resp, 200, fog_sched_task_json(&ti, fog_sched__now(a->s)));
}

/*
 * POST /api/v1/sched/cancel {"ids": [...]}: cancels up to FOG_SCHED_BATCH_MAX tasks;
 * one result per id, in order: {"id", "status": 200|404|409, "state"}.
 */
static int post_cancel(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	json_t *j = fog_sched_agent_body(req, resp), *e, *results;
	const json_t *ids;
	char err[ERR_LEN];
	size_t i, done = 0;

	if (!j)
		return 0;
	if (fog_sched_json_ids(j, &ids, err, sizeof(err))) {
		json_decref(j);
		return fog_http_error(resp, 400, "%s", err);
	}
	results = json_array();
	json_array_foreach(ids, i, e) {
		const char *id = json_string_value(e);
		struct fog_task_info ti;
		int rc = fog_sched__cancel(a->s, id), st = 200;

		if (rc == -ENOENT)
			st = 404;
		else if (rc == -EALREADY)
			st = 409;
		else if (rc)
			st = 500;
		else
			done++;
		json_array_append_new(results,
				      json_pack("{s:s,s:i,s:o}", "id", id, "status", st, "state",
						fog_sched__task(a->s, id, &ti) ? json_null() :
						json_string(fog_task_state_name(ti.state))));
	}
	json_decref(j);
	fog_sched_agent_changed(a);
	return fog_http_json(resp, 200, json_pack("{s:I,s:o}", "cancelled", (json_int_t)done,
						  "results", results));
}

struct list_ctx {
	json_t *arr;
	int state;	/* -1: all */
	__u64 now;
};

static void add_task(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	struct list_ctx *l = ctx;

	if (l->state < 0 || (int)t->state == l->state)
		json_array_append_new(l->arr, fog_sched_task_json(t, l->now));
}

static int get_tasks(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct list_ctx l = { .arr = json_array(), .state = -1, .now = fog_sched__now(a->s) };
	const char *want = fog_http_arg(req, "state");

	if (want && (l.state = fog_sched_json_state(want)) < 0) {
		char names[160];

		json_decref(l.arr);
		fog_sched_json_state_names(names, sizeof(names));
		return fog_http_error(resp, 400, "query argument state: '%.32s' is not one of %s",
				      want, names);
	}
	fog_sched__for_each_task(a->s, add_task, &l);
	return fog_http_json(resp, 200, json_pack("{s:o}", "tasks", l.arr));
}

static int get_task(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_task_info ti;
	char id[FOG_SCHED_ID_LEN];
	const char *rest;

	if (fog_sched_agent_path_id(req->path, TASKS, id, &rest) ||
	    (*rest && strcmp(rest, "/explain")))
		return fog_http_error(resp, 404, "no such endpoint: %s", req->path);
	if (fog_sched__task(a->s, id, &ti))
		return fog_http_error(resp, 404, "no task %s", id);
	if (*rest)
		return fog_http_json(resp, 200, fog_sched_explain_json(&ti, fog_sched__now(a->s)));
	return fog_http_json(resp, 200, fog_sched_task_json(&ti, fog_sched__now(a->s)));
}

static int post_worker(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_worker_spec w;
	struct fog_worker_signals sig;
	struct fog_worker_info wi;
	char err[ERR_LEN];
	bool has_sig, exists;
	json_t *j = fog_sched_agent_body(req, resp);
	int rc;

	if (!j)
		return 0;
	rc = fog_sched_json_worker(j, fog_sched__now(a->s), &w, &sig, &has_sig, err,
				   sizeof(err));
	json_decref(j);
	if (rc)
		return fog_http_error(resp, 400, "%s", err);
	if (a->local && !strcmp(w.id, LOCAL_ID))
		return fog_http_error(resp, 409, "worker %s is this host, managed by fogd itself",
				      LOCAL_ID);
	exists = fog_sched__worker(a->s, w.id, &wi) == 0;
	rc = exists ? fog_sched__worker_update(a->s, &w, err, sizeof(err)) :
		      fog_sched__worker_add(a->s, &w, err, sizeof(err));
	if (rc == -EINVAL)
		return fog_http_error(resp, 400, "%s", err);
	if (rc == -ENOMEM || rc == -ENOSPC)
		return fog_http_error(resp, 503, "%s", err);
	if (rc)
		return fog_http_error(resp, 500, "%s", err);
	if (has_sig && fog_sched__worker_signals(a->s, w.id, &sig))
		return fog_http_error(resp, 400, "field 'signals': values out of range");
	/* runners re-post their signals often: only a registration is worth the log */
	if (exists)
		fog_debug("sched: worker %s updated", w.id);
	else
		fog_info("sched: worker %s registered (%.3g cores, %llu MiB, %u GPUs)", w.id,
			 w.cpu_cores, (unsigned long long)w.memory_mb, w.gpu_count);
	fog_sched_agent_changed(a);
	fog_sched__worker(a->s, w.id, &wi);
	return fog_http_json(resp, exists ? 200 : 201, fog_sched_worker_json(&wi));
}

static int delete_worker(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	char id[FOG_SCHED_ID_LEN];
	const char *rest;

	if (fog_sched_agent_path_id(req->path, WORKERS, id, &rest) || *rest)
		return fog_http_error(resp, 404, "no such endpoint: %s", req->path);
	if (a->local && !strcmp(id, LOCAL_ID))
		return fog_http_error(resp, 409, "worker %s is this host, managed by fogd itself",
				      LOCAL_ID);
	if (fog_sched__worker_remove(a->s, id))
		return fog_http_error(resp, 404, "no worker %s", id);
	fog_info("sched: worker %s removed", id);
	fog_sched_agent_changed(a);
	return fog_http_json(resp, 200, json_pack("{s:s}", "removed", id));
}

static int get_workers(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_worker_info wi;
	json_t *arr = json_array();

	for (unsigned int i = 0; !fog_sched__worker_at(a->s, i, &wi); i++)
		json_array_append_new(arr, fog_sched_worker_json(&wi));
	return fog_http_json(resp, 200, json_pack("{s:o}", "workers", arr));
}

static int get_stats(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_sched_stats st;
	int pids[FOG_EXEC_MAX_RUNNERS], n;
	json_t *j, *idle = json_array();

	fog_sched__stats(a->s, &st);
	j = fog_sched_stats_json(&st, a->o.strategy);
	json_object_set_new(j, "workers", json_integer(fog_sched__worker_count(a->s)));
	json_object_set_new(j, "running_here", json_integer(fog_executor__running(a->x)));
	n = fog_executor__idle_runners(a->x, pids, FOG_EXEC_MAX_RUNNERS);
	for (int i = 0; i < n && i < FOG_EXEC_MAX_RUNNERS; i++)
		json_array_append_new(idle, json_integer(pids[i]));
	/* pre-forked processes waiting to become the next local tasks */
	json_object_set_new(j, "runners", json_pack("{s:i,s:o}", "idle", n, "pids", idle));
	json_object_set_new(j, "cgroup_version",
			    json_integer(fog_executor__cgroup_version(a->x)));
	return fog_http_json(resp, 200, j);
}

static const struct fog_http_route routes[] = {
	{ "POST", TASKS, FOG_HTTP_UNIX, post_task },
	{ "DELETE", TASKS "/", FOG_HTTP_UNIX, delete_task },
	{ "POST", CANCEL, FOG_HTTP_UNIX, post_cancel },
	{ "POST", WORKERS, FOG_HTTP_UNIX, post_worker },
	{ "DELETE", WORKERS "/", FOG_HTTP_UNIX, delete_worker },
	{ "GET", TASKS, FOG_HTTP_TCP_API, get_tasks },
	{ "GET", TASKS "/", FOG_HTTP_TCP_API, get_task },
	{ "GET", WORKERS, FOG_HTTP_TCP_API, get_workers },
	{ "GET", "/api/v1/sched/stats", FOG_HTTP_TCP_API, get_stats },
};

/* This file's routes and the remote runners' (api_runner.c). */
static int add_routes(struct fog_sched_agent *a, struct fog_http *h)
{
	int err = FOG_HTTP_ROUTES(h, routes, a);

	err = err ?: fog_http__routes(h, fog_sched_interference_routes,
				      fog_sched_interference_n_routes, a);
	return err ? err : fog_http__routes(h, fog_sched_runner_routes,
					    fog_sched_runner_n_routes, a);
}

/* ---- lifecycle ---- */

struct fog_sched_agent *fog_sched_agent__new_opts(struct fog_http *h, struct fog_loop *loop,
						  const struct fog_sched_agent_opts *o)
{
	struct fog_sched_opts so = { 0 };
	struct fog_sched_agent *a;
	int err;

	if (!h || !loop || !o || o->strategy < 0 || o->strategy >= FOG_STRAT_COUNT ||
	    !(o->signal_ttl_s > 0) || !o->runners || o->runners > FOG_EXEC_MAX_RUNNERS ||
	    !(o->remote_timeout_s > 0) || o->remote_timeout_s > 365 * 86400.0 ||
	    !(o->interference_threshold >= 0) || !(o->interference_half_life_s > 0)) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->o = *o;
	a->loop = loop;
	a->timer = -1;
	so.strategy = o->strategy;
	so.sla_reject = o->sla_reject;
	so.signal_ttl_ns = (__u64)(o->signal_ttl_s * 1e9);
	/* 0 in the configuration turns it off; 0 in the engine's options is its default */
	so.interference_threshold = o->interference_threshold > 0 ? o->interference_threshold : -1;
	so.interference_half_life_s = o->interference_half_life_s;
	a->s = fog_sched__new(&so);
	if (!a->s) {
		err = -errno;
		fog_warnc(errno, "sched: cannot create the engine");
		goto fail;
	}
	a->x = fog_executor__new_opts(a->s, &(struct fog_executor_opts){
						 .group = o->cgroup,
						 .runners = o->runners,
						 .user = o->user,
						 .user_group = o->group,
						 .pids_max = o->pids_max });
	if (!a->x) {
		err = -errno;
		fog_warnc(errno, "sched: cannot create the executor");
		goto fail;
	}
	if (!fog_executor__cgroup_version(a->x))
		fog_warnx("sched: no usable memory and cpu cgroup controllers: tasks run "
			  "without limits");
	fog_sched__set_callbacks(a->s, on_placed, on_done, a);
	err = fog_sched_agent_feed_new(a);
	if (err)
		goto fail;
	if (o->local_worker) {
		err = add_local(a);
		if (err)
			goto fail;
	}
	err = add_routes(a, h);
	if (err) {
		fog_warnc(-err, "sched: cannot register the API routes");
		goto fail;
	}
	if (o->extender) {
		struct fog_sched_extender_opts eo = {
			.prometheus_url = o->prometheus_url,
			.timeout_s = o->prometheus_timeout_s,
			.max_age_s = o->prometheus_max_age_s,
			.node_label = o->node_label,
		};

		a->ext = fog_sched_extender__new(h, &eo);
		if (!a->ext) {
			err = -errno;
			fog_warnc(errno, "sched: cannot set up the scheduler extender");
			goto fail;
		}
	}
	a->period_ms = TIMER_IDLE_MS;
	a->timer = fog_loop__add_timer(loop, "task timeouts", a->period_ms, on_timer, a);
	if (a->timer < 0) {
		err = a->timer;
		fog_warnc(-err, "sched: cannot create its timer");
		goto fail;
	}
	fog_info("sched: placement engine ready (%s, %u workers, cgroup v%d for tasks)",
		 fog_sched_strategy_name(o->strategy), fog_sched__worker_count(a->s),
		 fog_executor__cgroup_version(a->x));
	return a;
fail:
	fog_sched_agent__free(a);
	errno = -err;
	return NULL;
}

struct fog_sched_agent *fog_sched_agent__new(struct fog_http *h, struct fog_loop *loop,
					     const struct fog_config *cfg)
{
	struct fog_sched_agent_opts o;

	fog_sched_agent_opts_defaults(&o);
	o.strategy = fog_sched_strategy_parse(cfg->sched_strategy); /* checked by the config */
	o.sla_reject = cfg->sla_reject;
	o.local_worker = cfg->local_worker;
	o.signal_ttl_s = cfg->signal_ttl_s;
	snprintf(o.cgroup, sizeof(o.cgroup), "%s", cfg->task_cgroup);
	o.runners = cfg->task_runners;
	snprintf(o.user, sizeof(o.user), "%s", cfg->run_user);
	snprintf(o.group, sizeof(o.group), "%s", cfg->run_group);
	o.pids_max = cfg->task_pids_max;
	o.remote_timeout_s = cfg->remote_timeout_s;
	o.interference_threshold = cfg->interference_threshold;
	o.interference_half_life_s = cfg->interference_half_life_s;
	o.extender = cfg->extender;
	if (strcmp(cfg->prometheus_url, "off"))
		snprintf(o.prometheus_url, sizeof(o.prometheus_url), "%s", cfg->prometheus_url);
	o.prometheus_timeout_s = cfg->prometheus_timeout_s;
	o.prometheus_max_age_s = cfg->prometheus_max_age_s;
	snprintf(o.node_label, sizeof(o.node_label), "%s", cfg->node_label);
	return fog_sched_agent__new_opts(h, loop, &o);
}

void fog_sched_agent__free(struct fog_sched_agent *a)
{
	if (!a)
		return;
	if (a->timer >= 0)
		fog_loop__del_timer(a->loop, a->timer);
	fog_sched_extender__free(a->ext);
	fog_executor__free(a->x);	/* kills what still runs, removes the cgroups */
	fog_sched__free(a->s);
	fog_sched_agent_feed_free(a);
	free(a);
}
