// SPDX-License-Identifier: GPL-2.0-only
/*
 * The neighbour signal into the placement engine's interference table (see
 * fog_sched_interference in fog/sched.h): at every tick, the tasks fogd runs
 * here are matched by cgroup id to schedlat's {victim, culprit} pairs, and
 * each pair of running tasks with a task class is charged the wait the one's
 * cgroup was charged to the other's over the tick, and the tick's length as
 * their time side by side (a pair without wait ran side by side unharmed).
 *
 * Foreign cgroups (everything fogd does not run) are left out: the engine
 * cannot keep a task from a process it does not place, and the host's load
 * they make already reaches the strategies as the local worker's signals.
 * Tasks without a task class are left out too: a class is what the lesson
 * applies to next time. At most TICK_TASKS running tasks are matched a tick.
 *
 * And the route GET /api/v1/sched/interference: the table's pairs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cgroup.h"
#include "base/log.h"
#include "base/sort.h"
#include "collect/collector.h"
#include "collect/neighbours.h"
#include "export/http.h"
#include "fog/sched.h"
#include "sched/api_int.h"
#include "sched/api_json.h"

struct run_task {
	__u64 cgid;
	char cls[FOG_SCHED_LABEL_LEN];
};

struct fog_sched_feed {
	struct run_task t[TICK_TASKS];
	unsigned int n;
	double wait_s[TICK_TASKS][TICK_TASKS];	/* [victim][culprit], this tick */
};

static int cmp_cgid(const void *a, const void *b)
{
	const struct run_task *x = a, *y = b;

	return x->cgid < y->cgid ? -1 : x->cgid > y->cgid;
}

static int find_task(const struct fog_sched_feed *f, __u64 cgid)
{
	unsigned int lo = 0, hi = f->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (f->t[mid].cgid == cgid)
			return (int)mid;
		if (f->t[mid].cgid < cgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void on_pair(__u64 victim, __u64 culprit, __u64 wait_ns, void *ctx)
{
	struct fog_sched_feed *f = ctx;
	int v, c;

	if (!wait_ns || (v = find_task(f, victim)) < 0 || (c = find_task(f, culprit)) < 0 ||
	    v == c)
		return;
	f->wait_s[v][c] += (double)wait_ns / 1e9;
}

/* The running local tasks with a class and a cgroup id, sorted by id; how many. */
static unsigned int running_tasks(struct fog_sched_agent *a, struct fog_sched_feed *f)
{
	const struct fog_cgroup_info *cg = fog_collect__cgroup(a->collect);
	struct fog_task_info ti;
	const char *id;
	__u64 cgid;

	f->n = 0;
	for (unsigned int i = 0; f->n < TICK_TASKS &&
				 !fog_executor__running_at(a->x, i, cg ? cg->mount : NULL, &id, &cgid);
	     i++) {
		if (!cgid || fog_sched__task(a->s, id, &ti) || !ti.spec.task_class[0])
			continue;
		f->t[f->n].cgid = cgid;
		memcpy(f->t[f->n].cls, ti.spec.task_class, sizeof(f->t[f->n].cls));
		f->n++;
	}
	fog_sort(f->t, f->n, sizeof(f->t[0]), cmp_cgid);
	return f->n;
}

void fog_sched_agent_interference_tick(struct fog_sched_agent *a, double seconds)
{
	struct fog_sched_feed *f = a->feed;

	if (!f || !a->collect || !(seconds > 0) || running_tasks(a, f) < 2)
		return;
	memset(f->wait_s, 0, sizeof(f->wait_s));
	/* no signal, no lesson: time side by side without it would read as harmless */
	if (fog_collect__neighbour_pairs(a->collect, on_pair, f))
		return;
	for (unsigned int v = 0; v < f->n; v++)
		for (unsigned int c = 0; c < f->n; c++)
			if (v != c && fog_sched__interference_charge(a->s, f->t[v].cls, f->t[c].cls,
								      f->wait_s[v][c], seconds))
				fog_debug("sched: interference of %s beside %s refused",
					  f->t[v].cls, f->t[c].cls);
}

int fog_sched_agent_feed_new(struct fog_sched_agent *a)
{
	a->feed = calloc(1, sizeof(*a->feed));
	return a->feed ? 0 : -ENOMEM;
}

void fog_sched_agent_feed_free(struct fog_sched_agent *a)
{
	free(a->feed);
	a->feed = NULL;
}

void fog_sched_agent__set_collect(struct fog_sched_agent *a, struct fog_collect *c)
{
	if (a)
		a->collect = c;
}

static void no_pair(__u64 victim, __u64 culprit, __u64 wait_ns, void *ctx)
{
}

/* GET /api/v1/sched/interference: every pair of task classes the table holds. */
static int get_interference(const struct fog_http_req *req, struct fog_http_resp *resp,
			    void *ctx)
{
	struct fog_sched_agent *a = ctx;
	struct fog_sched_interference p;
	json_t *arr = json_array();

	for (unsigned int i = 0; !fog_sched__interference_at(a->s, i, &p); i++)
		json_array_append_new(arr, fog_sched_interference_json(&p));
	return fog_http_json(resp, 200,
			     json_pack("{s:f,s:f,s:b,s:o}", "threshold",
				       a->o.interference_threshold, "half_life_s",
				       a->o.interference_half_life_s, "neighbour_signal",
				       a->collect && !fog_collect__neighbour_pairs(a->collect, no_pair, NULL),
				       "pairs", arr));
}

const struct fog_http_route fog_sched_interference_routes[] = {
	{ "GET", "/api/v1/sched/interference", FOG_HTTP_TCP_API, get_interference },
};
const size_t fog_sched_interference_n_routes =
	sizeof(fog_sched_interference_routes) / sizeof(fog_sched_interference_routes[0]);
