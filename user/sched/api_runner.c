// SPDX-License-Identifier: GPL-2.0-only
/*
 * Remote runners: a worker registered over the API has no executor in fogd;
 * a runner of its own pulls the tasks placed on it and reports how each went
 * (see api.h for the routes). Claimed tasks are running from the claim on and
 * time out unless reported within their timeout_ms (else the agent's
 * remote_timeout_s); reports train the learner and count in the statistics as
 * local runs do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "sched/api_int.h"
#include "sched/api_json.h"

struct claim_ctx {
	struct fog_sched_agent *a;
	json_t *arr;
	unsigned int max, n;
	bool claim;	/* claim placed tasks (else list placed and running ones) */
	char ids[FOG_SCHED_CLAIM_MAX][FOG_SCHED_ID_LEN];
};

static void collect_task(struct fog_sched *s, const struct fog_task_info *t, void *ctx)
{
	struct claim_ctx *c = ctx;

	if (c->n == c->max || (c->claim && t->state != FOG_TASK_PLACED))
		return;
	if (c->claim)
		snprintf(c->ids[c->n], FOG_SCHED_ID_LEN, "%s", t->spec.id);
	else
		json_array_append_new(c->arr, fog_sched_task_json(t, fog_sched__now(s)));
	c->n++;
}

/* A worker id from PREFIX/ID/<what>, refusing the local worker (fogd runs its tasks itself). */
static int remote_worker(struct fog_sched_agent *a, const struct fog_http_req *req,
			 const char *what, char *id, struct fog_http_resp *resp)
{
	struct fog_worker_info wi;
	const char *rest;

	if (fog_sched_agent_path_id(req->path, WORKERS, id, &rest) || strcmp(rest, what)) {
		fog_http_error(resp, 404, "no such endpoint: %s", req->path);
		return -ENOENT;
	}
	if (fog_sched__worker(a->s, id, &wi)) {
		fog_http_error(resp, 404, "no worker %s", id);
		return -ENOENT;
	}
	return 0;
}

static __u64 remote_timeout_ns(const struct fog_sched_agent *a)
{
	return (__u64)(a->o.remote_timeout_s * 1e9);
}

/* GET /api/v1/sched/workers/ID/tasks: the tasks placed or running there, read-only. */
static int get_worker_tasks(const struct fog_http_req *req, struct fog_http_resp *resp,
			    void *ctx)
{
	static struct claim_ctx c;	/* ids[] is large; the loop is single-threaded */
	struct fog_sched_agent *a = ctx;
	char id[FOG_SCHED_ID_LEN];

	if (remote_worker(a, req, "/tasks", id, resp))
		return 0;
	c = (struct claim_ctx){ .a = a, .arr = json_array(), .max = ~0u };
	fog_sched__for_each_worker_task(a->s, id, collect_task, &c);
	return fog_http_json(resp, 200, json_pack("{s:s,s:o}", "worker", id, "tasks", c.arr));
}

/*
 * POST /api/v1/sched/workers/ID/claim [{"max": N}]: a runner on worker ID
 * takes up to N (default 100, at most FOG_SCHED_CLAIM_MAX) of the tasks placed there;
 * they are running from now and must be reported through .../status within
 * their timeout_ms (else the agent's remote_timeout_s), or they time out.
 */
static int post_claim(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	static struct claim_ctx c;
	struct fog_sched_agent *a = ctx;
	char id[FOG_SCHED_ID_LEN];
	unsigned int max = 100;
	json_t *arr;

	if (remote_worker(a, req, "/claim", id, resp))
		return 0;
	if (a->local && !strcmp(id, LOCAL_ID))
		return fog_http_error(resp, 409, "worker %s is this host: fogd runs its tasks",
				      LOCAL_ID);
	if (req->body_len) {	/* an empty body claims the default number */
		char err[ERR_LEN];
		json_t *j = fog_sched_agent_body(req, resp);
		int rc;

		if (!j)
			return 0;
		rc = fog_sched_json_claim(j, &max, err, sizeof(err));
		json_decref(j);
		if (rc)
			return fog_http_error(resp, 400, "%s", err);
	}
	c = (struct claim_ctx){ .a = a, .max = max, .claim = true };
	fog_sched__for_each_worker_task(a->s, id, collect_task, &c);
	arr = json_array();
	for (unsigned int i = 0; i < c.n; i++) {
		struct fog_task_info ti;

		if (fog_sched__task_claimed(a->s, c.ids[i], remote_timeout_ns(a)) ||
		    fog_sched__task(a->s, c.ids[i], &ti))
			continue;
		json_array_append_new(arr, fog_sched_task_json(&ti, fog_sched__now(a->s)));
	}
	if (c.n)
		fog_debug("sched: worker %s claimed %u tasks", id, c.n);
	fog_sched_agent_set_period(a);	/* claimed tasks have timeouts to watch */
	return fog_http_json(resp, 200, json_pack("{s:s,s:f,s:o}", "worker", id,
						  "default_timeout_s", a->o.remote_timeout_s,
						  "tasks", arr));
}

/*
 * POST /api/v1/sched/tasks/ID/status: a remote runner's report, "running"
 * (claims one placed task) or its end (succeeded or failed, exit code or
 * signal, wall and CPU time, peak memory, OOM kill), which trains the learner
 * and counts in the statistics as a local run does.
 */
static int post_status(struct fog_sched_agent *a, const struct fog_http_req *req,
		       struct fog_http_resp *resp, const char *id)
{
	struct fog_task_result r;
	struct fog_task_info ti;
	char err[ERR_LEN], worker[FOG_SCHED_ID_LEN];
	json_t *j;
	int rc;

	if (fog_sched__task(a->s, id, &ti))
		return fog_http_error(resp, 404, "no task %s", id);
	j = fog_sched_agent_body(req, resp);
	if (!j)
		return 0;
	rc = fog_sched_json_result(j, &r, worker, err, sizeof(err));
	json_decref(j);
	if (rc)
		return fog_http_error(resp, 400, "%s", err);
	if (a->local && !strcmp(ti.worker, LOCAL_ID))
		return fog_http_error(resp, 409, "task %s runs on %s: fogd reports it itself", id,
				      LOCAL_ID);
	if (worker[0] && strcmp(worker, ti.worker))
		return fog_http_error(resp, 409, "task %s is placed on %s, not on %s", id,
				      ti.worker[0] ? ti.worker : "no worker", worker);
	if (ti.state == FOG_TASK_PENDING)
		return fog_http_error(resp, 409, "task %s is not placed yet", id);
	if (ti.state >= FOG_TASK_SUCCEEDED)
		return fog_http_error(resp, 409, "task %s has already ended (%s)", id,
				      fog_task_state_name(ti.state));
	if (r.state == FOG_TASK_RUNNING) {
		if (ti.state == FOG_TASK_PLACED)
			rc = fog_sched__task_claimed(a->s, id, remote_timeout_ns(a));
	} else {
		rc = fog_sched__task_report(a->s, id, &r);
	}
	if (rc)
		return fog_http_error(resp, rc == -EINVAL ? 400 : 500, "task %s: %s", id,
				      strerror(-rc));
	fog_debug("sched: task %s on %s reported %s", id, ti.worker,
		  fog_task_state_name(r.state));
	fog_sched_agent_changed(a);
	fog_sched__task(a->s, id, &ti);
	return fog_http_json(resp, 200, fog_sched_task_json(&ti, fog_sched__now(a->s)));
}

/* POST under /api/v1/sched/tasks/: only ID/status. */
static int post_task_sub(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	char id[FOG_SCHED_ID_LEN];
	const char *rest;

	if (fog_sched_agent_path_id(req->path, TASKS, id, &rest) || strcmp(rest, "/status"))
		return fog_http_error(resp, 404, "no such endpoint: %s", req->path);
	return post_status(ctx, req, resp, id);
}

const struct fog_http_route fog_sched_runner_routes[] = {
	{ "POST", TASKS "/", FOG_HTTP_UNIX, post_task_sub },
	{ "POST", WORKERS "/", FOG_HTTP_UNIX, post_claim },
	{ "GET", WORKERS "/", FOG_HTTP_TCP_API, get_worker_tasks },
};
const size_t fog_sched_runner_n_routes =
	sizeof(fog_sched_runner_routes) / sizeof(fog_sched_runner_routes[0]);
