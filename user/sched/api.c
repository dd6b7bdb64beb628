// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement engine inside fogd (see api.h): the engine and its executor
 * driven by one timer of the event loop (placement passes, deadline expiry,
 * reaping finished children), the local host as the worker "local" whose live
 * signals are the collectors' host figures of each tick, and the HTTP routes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/log.h"
#include "agent/loop.h"
#include "collect/collector.h"
#include "export/http.h"
#include "fog/sched.h"
#include "sched/api.h"
#include "sched/api_json.h"
#include "sched/extender.h"

#define LOCAL_ID "local"
#define TIMER_BUSY_MS 50	/* while tasks wait or run: how late a completion is seen */
#define TIMER_IDLE_MS 1000
#define ERR_LEN 256

#define TASKS "/api/v1/sched/tasks"
#define WORKERS "/api/v1/sched/workers"

struct fog_sched_agent {
	struct fog_sched_agent_opts o;
	struct fog_sched *s;
	struct fog_executor *x;
	struct fog_collect *c;	/* borrowed; NULL: no host signals */
	struct fog_loop *loop;
	struct fog_sched_extender *ext;	/* NULL unless configured */
	int timer;
	unsigned int period_ms;
	__u64 seen_tick;	/* c->ticks of the last signals sent */
	bool local;	/* the worker "local" is registered */
};

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
 * The collectors' host figures of the last tick as the local worker's signals,
 * stamped with the tick's time; a figure whose collector is not running (NAN)
 * is left out, so it reads as "no data", not as zero.
 */
static void push_local_signals(struct fog_sched_agent *a)
{
	const struct fog_host_signals *h;
	struct fog_worker_signals sig = { 0 };
	__u64 now;

	if (!a->c || !a->local || a->c->ticks == a->seen_tick)
		return;
	a->seen_tick = a->c->ticks;
	h = &a->c->host;
	if (isfinite(h->cpu_busy) && h->cpu_busy >= 0) {
		sig.cpu_util = h->cpu_busy;
		sig.have |= FOG_SIG_CPU_UTIL;
	}
	if (isfinite(h->runq_p99_s) && h->runq_p99_s >= 0) {
		sig.runq_p99_us = h->runq_p99_s * 1e6;
		sig.have |= FOG_SIG_RUNQ_P99;
	}
	if (isfinite(h->psi_some) && h->psi_some >= 0) {
		sig.mem_psi = h->psi_some * 100;	/* worst "some" of cpu, memory, io */
		sig.have |= FOG_SIG_MEM_PSI;
	}
	if (isfinite(h->io_p99_s) && h->io_p99_s >= 0) {
		sig.io_p99_us = h->io_p99_s * 1e6;
		sig.have |= FOG_SIG_IO_P99;
	}
	now = fog_sched__now(a->s);
	/* both clocks are CLOCK_MONOTONIC; a tick stamp is never in the future */
	sig.at_ns = a->c->last_tick_ns && a->c->last_tick_ns <= now ? a->c->last_tick_ns : now;
	if (fog_sched__worker_signals(a->s, LOCAL_ID, &sig))
		fog_debug("sched: local signals refused");
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
		fog_warnx("sched: task %s did not start: %s", t->spec.id, strerror(-err));
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

/* One round: signals, reaping, expiry, placement; the timer runs faster while busy. */
static void run_once(struct fog_sched_agent *a)
{
	struct fog_sched_stats st;
	unsigned int want;

	push_local_signals(a);
	if (fog_executor__reap(a->x, 0) < 0)
		fog_debug("sched: reaping failed");
	fog_sched__expire(a->s);
	fog_sched__schedule(a->s, 0);
	fog_sched__stats(a->s, &st);
	want = st.pending || st.active || fog_executor__running(a->x) ? TIMER_BUSY_MS :
									 TIMER_IDLE_MS;
	if (want != a->period_ms && a->timer >= 0 &&
	    !fog_loop__set_timer(a->loop, a->timer, want))
		a->period_ms = want;
}

static void on_timer(void *ctx)
{
	run_once(ctx);
}

/* ---- routes ---- */

static json_t *parse_body(const struct fog_http_req *req, struct fog_http_resp *resp)
{
	json_error_t je;
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		fog_http_error(resp, 400, "body is not valid JSON: %s (line %d, column %d)",
			       je.text, je.line, je.column);
	return j;
}

static int post_task(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_task_spec t;
	struct fog_task_info ti;
	char err[ERR_LEN];
	json_t *j = parse_body(req, resp);
	int rc;

	if (!j)
		return 0;
	rc = fog_sched_json_task(j, fog_sched__now(a->s), &t, err, sizeof(err));
	json_decref(j);
	if (rc)
		return fog_http_error(resp, 400, "%s", err);
	rc = fog_sched__submit(a->s, &t, err, sizeof(err));
	switch (rc) {
	case 0:
		break;
	case -EEXIST:	/* the engine's message names the id */
	case -EINVAL:
		return fog_http_error(resp, 400, "field 'id': %s", err);
	case -ENOSPC:
	case -ETIME:
		return fog_http_error(resp, 422, "%s", err);
	case -ENOMEM:
		return fog_http_error(resp, 503, "%s", err);
	default:
		return fog_http_error(resp, 500, "%s", err);
	}
	fog_info("sched: task %s submitted (%s, %.3g cores, %llu MiB)", t.id,
		 fog_task_priority_name(t.priority), t.cpu_cores, (unsigned long long)t.memory_mb);
	run_once(a);	/* placed (and started) now when there is room */
	fog_sched__task(a->s, t.id, &ti);
	return fog_http_json(resp, 201, fog_sched_task_json(&ti, fog_sched__now(a->s)));
}

/* The ID of PREFIX/ID[/rest]: copies ID, points *rest at what follows ("" none). */
static int path_id(const char *path, const char *prefix, char *id, const char **rest)
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

	if (path_id(req->path, TASKS, id, &rest) || *rest)
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
	fog_info("sched: task %s cancelled", id);
	run_once(a);	/* its room goes to waiting tasks now */
	return fog_http_json(resp, 200, fog_sched_task_json(&ti, fog_sched__now(a->s)));
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

	if (want) {
		for (int i = 0; i < FOG_TASK_STATE_COUNT; i++)
			if (!strcmp(want, fog_task_state_name(i)))
				l.state = i;
		if (l.state < 0) {
			json_decref(l.arr);
			return fog_http_error(resp, 400, "state '%.32s' is not one of pending, "
					      "placed, running, succeeded, failed, timed_out, "
					      "cancelled", want);
		}
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

	if (path_id(req->path, TASKS, id, &rest) || (*rest && strcmp(rest, "/explain")))
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
	json_t *j = parse_body(req, resp);
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
	fog_info("sched: worker %s %s (%.3g cores, %llu MiB, %u GPUs)", w.id,
		 exists ? "updated" : "registered", w.cpu_cores,
		 (unsigned long long)w.memory_mb, w.gpu_count);
	run_once(a);
	fog_sched__worker(a->s, w.id, &wi);
	return fog_http_json(resp, exists ? 200 : 201, fog_sched_worker_json(&wi));
}

static int delete_worker(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_sched_agent *a = ctx;
	char id[FOG_SCHED_ID_LEN];
	const char *rest;

	if (path_id(req->path, WORKERS, id, &rest) || *rest)
		return fog_http_error(resp, 404, "no such endpoint: %s", req->path);
	if (a->local && !strcmp(id, LOCAL_ID))
		return fog_http_error(resp, 409, "worker %s is this host, managed by fogd itself",
				      LOCAL_ID);
	if (fog_sched__worker_remove(a->s, id))
		return fog_http_error(resp, 404, "no worker %s", id);
	fog_info("sched: worker %s removed", id);
	run_once(a);
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
	json_t *j;

	fog_sched__stats(a->s, &st);
	j = fog_sched_stats_json(&st, a->o.strategy);
	json_object_set_new(j, "workers", json_integer(fog_sched__worker_count(a->s)));
	json_object_set_new(j, "running_here", json_integer(fog_executor__running(a->x)));
	json_object_set_new(j, "cgroup_version",
			    json_integer(fog_executor__cgroup_version(a->x)));
	return fog_http_json(resp, 200, j);
}

static int add_routes(struct fog_sched_agent *a, struct fog_http *h)
{
	int err;

	err = fog_http__route_local(h, "POST", TASKS, post_task, a);
	if (!err)
		err = fog_http__route_local(h, "DELETE", TASKS "/", delete_task, a);
	if (!err)
		err = fog_http__route_local(h, "POST", WORKERS, post_worker, a);
	if (!err)
		err = fog_http__route_local(h, "DELETE", WORKERS "/", delete_worker, a);
	if (!err)
		err = fog_http__route(h, "GET", TASKS, get_tasks, a);
	if (!err)
		err = fog_http__route(h, "GET", TASKS "/", get_task, a);
	if (!err)
		err = fog_http__route(h, "GET", WORKERS, get_workers, a);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/sched/stats", get_stats, a);
	return err;
}

/* ---- lifecycle ---- */

struct fog_sched_agent *fog_sched_agent__new_opts(struct fog_http *h, struct fog_collect *c,
						  struct fog_loop *loop,
						  const struct fog_sched_agent_opts *o)
{
	struct fog_sched_opts so = { 0 };
	struct fog_sched_agent *a;
	int err;

	if (!h || !loop || !o || o->strategy < 0 || o->strategy >= FOG_STRAT_COUNT ||
	    !(o->signal_ttl_s > 0)) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->o = *o;
	a->c = c;
	a->loop = loop;
	a->timer = -1;
	so.strategy = o->strategy;
	so.sla_reject = o->sla_reject;
	so.signal_ttl_ns = (__u64)(o->signal_ttl_s * 1e9);
	a->s = fog_sched__new(&so);
	if (!a->s) {
		err = -errno;
		fog_warnx("sched: cannot create the engine: %s", strerror(errno));
		goto fail;
	}
	a->x = fog_executor__new(a->s, o->cgroup);
	if (!a->x) {
		err = -errno;
		fog_warnx("sched: cannot create the executor: %s", strerror(errno));
		goto fail;
	}
	if (!fog_executor__cgroup_version(a->x))
		fog_warnx("sched: no usable memory and cpu cgroup controllers: tasks run "
			  "without limits");
	fog_sched__set_callbacks(a->s, on_placed, on_done, a);
	if (o->local_worker) {
		err = add_local(a);
		if (err)
			goto fail;
	}
	err = add_routes(a, h);
	if (err) {
		fog_warnx("sched: cannot register the API routes: %s", strerror(-err));
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
			fog_warnx("sched: cannot set up the scheduler extender: %s",
				  strerror(errno));
			goto fail;
		}
	}
	a->period_ms = TIMER_IDLE_MS;
	a->timer = fog_loop__add_timer(loop, a->period_ms, on_timer, a);
	if (a->timer < 0) {
		err = a->timer;
		fog_warnx("sched: cannot create its timer: %s", strerror(-err));
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

struct fog_sched_agent *fog_sched_agent__new(struct fog_http *h, struct fog_collect *c,
					     struct fog_loop *loop, const struct fog_config *cfg)
{
	struct fog_sched_agent_opts o;

	fog_sched_agent_opts_defaults(&o);
	o.strategy = fog_sched_strategy_parse(cfg->sched_strategy); /* checked by the config */
	o.sla_reject = cfg->sla_reject;
	o.local_worker = cfg->local_worker;
	o.signal_ttl_s = cfg->signal_ttl_s;
	snprintf(o.cgroup, sizeof(o.cgroup), "%s", cfg->task_cgroup);
	o.extender = cfg->extender;
	if (strcmp(cfg->prometheus_url, "off"))
		snprintf(o.prometheus_url, sizeof(o.prometheus_url), "%s", cfg->prometheus_url);
	o.prometheus_timeout_s = cfg->prometheus_timeout_s;
	o.prometheus_max_age_s = cfg->prometheus_max_age_s;
	snprintf(o.node_label, sizeof(o.node_label), "%s", cfg->node_label);
	return fog_sched_agent__new_opts(h, c, loop, &o);
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
	free(a);
}
