// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/privs.h"
#include "base/loop.h"
#include "base/text.h"
#include "collect/agg.h"
#include "collect/collector.h"
#include "collect/neighbours.h"
#include "export/api.h"
#include "export/http.h"

static time_t started;
static struct fog_loop *api_loop;	/* whose stats /api/v1/status shows */

/* Parses an unsigned decimal query argument; absent leaves *out alone. */
static int arg_u64(const struct fog_http_req *req, struct fog_http_resp *resp, const char *key,
		   unsigned long long max, unsigned long long *out)
{
	const char *v = fog_http_arg(req, key);

	if (!v)
		return 0;
	if (fog_http_parse_u64(v, max, out)) {
		fog_http_error(resp, 400, "query argument %s: '%.64s' is not a number in 0..%llu",
			       key, v, max);
		return -EINVAL;
	}
	return 0;
}

static int get_status(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_collect *c = ctx;
	json_t *j = fog_collect__status_json(c);
	char caps[512];

	fog_privs_describe(caps, sizeof(caps));
	json_object_set_new(j, "capabilities", json_string(caps));
	json_object_set_new(j, "version", json_string(FOG_VERSION));
	json_object_set_new(j, "pid", json_integer(getpid()));
	json_object_set_new(j, "uptime_seconds", json_integer(time(NULL) - started));
	json_object_set_new(j, "config", json_string(fog_collect__config(c)->source[0] ? fog_collect__config(c)->source :
									  "(built-in defaults)"));
	if (api_loop) {
		struct fog_loop_stats ls;
		json_t *recent = json_array();
		__u64 now = fog_now_ns();

		fog_loop__stats(api_loop, &ls);
		for (unsigned int i = 0; i < ls.nrecent; i++)
			json_array_append_new(recent, json_pack("{s:s, s:f, s:f, s:f}", "name",
								ls.recent[i].name, "ms",
								(double)ls.recent[i].took_ns / 1e6,
								"cpu_ms",
								(double)ls.recent[i].cpu_ns / 1e6,
								"age_seconds",
								(double)(now - ls.recent[i].at_ns) / 1e9));
		json_object_set_new(j, "loop",
				    json_pack("{s:I, s:I, s:I, s:f, s:s, s:o}", "callbacks",
					      (json_int_t)ls.callbacks, "slow",
					      (json_int_t)ls.slow, "stalls",
					      (json_int_t)ls.stalls, "longest_ms",
					      (double)ls.longest_ns / 1e6, "longest", ls.longest,
					      "recent_slow", recent));
	}
	return fog_http_json(resp, 200, j);
}

/* Adds the cgroup path (or null when unresolved) to each process object. */
static json_t *with_cgroup_paths(struct fog_collect *c, json_t *procs)
{
	json_t *p;
	size_t i;

	json_array_foreach(procs, i, p) {
		const char *path = fog_collect__cgroup_path(
			c, (__u64)json_integer_value(json_object_get(p, "cgroup_id")));

		json_t *mc = json_object_get(p, "main_culprit");

		json_object_set_new(p, "cgroup", path ? json_string(path) : json_null());
		if (json_is_object(mc)) {
			/* the culprit named as top names it: its comm (when tracked) and cgroup */
			struct fog_proc *q = fog_agg__proc(
				fog_collect__agg(c), (__u32)json_integer_value(json_object_get(mc, "pid")),
				false);

			path = fog_collect__cgroup_path(
				c, (__u64)json_integer_value(json_object_get(mc, "cgroup_id")));
			json_object_set_new(mc, "comm", q ? fog_json_text(q->comm) : json_null());
			json_object_set_new(mc, "cgroup", path ? json_string(path) : json_null());
		}
	}
	return procs;
}

static int get_processes(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	static const char *const sorts[] = { "cpu", "runq", "io", "faults", "mem", "pid", NULL };
	struct fog_collect *c = ctx;
	const char *sort = fog_http_arg(req, "sort");
	unsigned long long limit = 0;
	bool ok = !sort;

	for (int i = 0; sort && sorts[i]; i++)
		ok |= !strcmp(sort, sorts[i]);
	if (!ok)
		return fog_http_error(resp, 400,
				      "query argument sort: '%.32s' is not one of cpu, runq, io, "
				      "faults, mem, pid", sort);
	if (arg_u64(req, resp, "limit", 1 << 20, &limit))
		return 0;
	return fog_http_json(resp, 200,
			     json_pack("{s:f,s:o}", "interval_seconds", fog_collect__tick_seconds(c),
				       "processes",
				       with_cgroup_paths(c, fog_agg__json(fog_collect__agg(c), sort ? sort : "cpu",
									  (unsigned int)limit))));
}

static int get_process(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_collect *c = ctx;
	const char *s = req->path + strlen("/api/v1/processes/");
	struct fog_proc *p;
	json_t *arr, *one;
	unsigned long long pid;

	if (fog_http_parse_u64(s, 0x7fffffff, &pid) || !pid)
		return fog_http_error(resp, 400, "'%.32s' is not a process id", s);
	p = fog_agg__proc(fog_collect__agg(c), (__u32)pid, false);
	if (!p)
		return fog_http_error(resp, 404, "process %llu is not tracked", pid);
	arr = with_cgroup_paths(c, json_pack("[o]", fog_proc_json(p)));
	one = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return fog_http_json(resp, 200, one);
}

static const char *cgroup_name(__u64 id, void *ctx)
{
	return fog_collect__cgroup_path(ctx, id);
}

static int get_events(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_collect *c = ctx;
	const char *type = fog_http_arg(req, "type");
	unsigned long long since = 0, limit = 1000, pid = 0;
	struct fog_event_filter f = { 0 };
	__u32 t = 0;

	if (type) {
		for (t = 1; t < FOG_EV_TYPE_MAX; t++)
			if (!strcmp(type, fog_event_type_name(t)))
				break;
		if (t == FOG_EV_TYPE_MAX)
			return fog_http_error(resp, 400,
					      "query argument type: '%.32s' is not one of exec, "
					      "exit, runq_outlier, oom_kill, io_outlier", type);
	}
	if (arg_u64(req, resp, "since", ~0ull >> 1, &since) ||
	    arg_u64(req, resp, "limit", 100000, &limit) ||
	    arg_u64(req, resp, "pid", 0x7fffffff, &pid))
		return 0;
	f.since = since;
	f.type = t;
	f.pid = (__u32)pid;
	f.limit = (unsigned int)limit;
	return fog_http_json(resp, 200, fog_events__json(fog_collect__events(c), &f, cgroup_name, c));
}

static int get_config(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_collect *c = ctx;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -errno;
	fog_config_write(fog_collect__config(c), f);
	fclose(f);
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = text;
	resp->len = len;
	return 0;
}

/*
 * /api/v1/neighbours[?cgroup=PATH|?pid=N][&limit=N]: run-queue waits charged to
 * the cgroups and processes that held the CPU meanwhile.
 */
static int get_neighbours(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_collect *c = ctx;
	const char *cgroup = fog_http_arg(req, "cgroup");
	unsigned long long pid = 0, limit = 20;
	json_t *j;

	if (arg_u64(req, resp, "pid", 0x7fffffff, &pid) || arg_u64(req, resp, "limit", 10000, &limit))
		return 0;
	if (cgroup && pid)
		return fog_http_error(resp, 400, "query arguments cgroup and pid: give one victim, "
				      "not both");
	if (cgroup && (cgroup[0] != '/' || strlen(cgroup) > 255))
		return fog_http_error(resp, 400, "query argument cgroup: '%.64s' is not a cgroup "
				      "path (one starting with /, at most 255 bytes)", cgroup);
	j = fog_collect__neighbours_json(c, cgroup, (__u32)pid, (unsigned int)limit);
	if (!j)
		return fog_http_error(resp, 503, "collector schedlat is not running: neighbours "
				      "come from its run-queue waits");
	if (pid && !json_array_size(json_object_get(j, "processes"))) {
		json_decref(j);
		return fog_http_error(resp, 404, "process %llu is not tracked", pid);
	}
	return fog_http_json(resp, 200, j);
}

/* /api/v1/<collector>: that collector's own figures. */
static int get_collector(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_collect *c = ctx;
	const char *name = req->path + strlen("/api/v1/");
	struct fog_collector *col = fog_collect__find(c, name);

	if (!col)
		return fog_http_error(resp, 404, "no such endpoint: %.64s", req->path);
	if (col->state != FOG_COLLECTOR_RUNNING)
		return fog_http_error(resp, 503, "collector %s is %s%s%s", name,
				      fog_collector_state_name(col->state),
				      col->error[0] ? ": " : "", col->error);
	return fog_http_json(resp, 200, col->ops->to_json(col));
}

static int get_index(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	json_t *eps = json_pack("[s,s,s,s,s,s,s,s,s,s,s]", "/api/v1/status", "/api/v1/processes",
				"/api/v1/processes/PID", "/api/v1/events", "/api/v1/config",
				"/api/v1/cpu", "/api/v1/schedlat", "/api/v1/neighbours",
				"/api/v1/mem", "/api/v1/io", "/api/v1/net");

	return fog_http_json(resp, 200,
			     json_pack("{s:s,s:s,s:o}", "name", "fogd", "version", FOG_VERSION,
				       "endpoints", eps));
}

static const struct fog_http_route routes[] = {
	{ "GET", "/api/v1/status", FOG_HTTP_TCP_API, get_status },
	{ "GET", "/api/v1/processes", FOG_HTTP_TCP_API, get_processes },
	{ "GET", "/api/v1/processes/", FOG_HTTP_TCP_API, get_process },
	{ "GET", "/api/v1/events", FOG_HTTP_TCP_API, get_events },
	{ "GET", "/api/v1/config", FOG_HTTP_TCP_API, get_config },
	{ "GET", "/api/v1/neighbours", FOG_HTTP_TCP_API, get_neighbours },
	{ "GET", "/api/v1/", FOG_HTTP_TCP_API, get_collector },
	{ "GET", "/", FOG_HTTP_TCP_API, get_index },
};

int fog_api_register(struct fog_http *h, struct fog_collect *collect, struct fog_loop *loop)
{
	started = time(NULL);
	api_loop = loop;
	return FOG_HTTP_ROUTES(h, routes, collect);
}
