// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scheduler extender in the daemon: a thread fetches the node signals
 * from Prometheus (a query per signal, see extender.c) when a route asked
 * for figures and the last fetch is older than REFRESH_S, with a timeout per
 * query, so a slow or hung Prometheus never holds the event loop; the routes
 * POST /scheduler/filter and /scheduler/prioritize answer from the last figures.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "base/clock.h"
#include "base/http_client.h"
#include "base/log.h"
#include "base/text.h"
#include "export/http.h"
#include "sched/extender.h"
#include "sched/extender_glue.h"

#define REFRESH_S 5.0
#define IDLE_S 300.0
#define PROM_MAX_BODY (16 << 20)

/*
 * The node signals are fetched by a thread of their own, so a slow or hung
 * Prometheus never holds fogd's loop: the routes answer at once from the
 * last figures, whose age says how fresh they are (stale nodes are "no data").
 */
struct fog_sched_extender {
	char url[256];
	char label[64];
	long timeout_ms;
	struct fog_ext_policy policy;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;	/* guards what follows */
	pthread_cond_t cond;	/* a route wants fresh figures, or stop */
	bool stop;
	struct fog_ext_nodes nodes;
	double fetched_at;	/* monotonic seconds; 0 never */
	double asked_at;	/* when a route last read the figures */
	/* owned by the thread */
	char fetch_error[512];	/* why the last fetch failed, "" it did not */
};

/* libcurl's progress callback: a non-zero return aborts the transfer at fogd's exit. */
static int abort_on_stop(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct fog_sched_extender *e = arg;
	bool stop;

	pthread_mutex_lock(&e->lock);
	stop = e->stop;
	pthread_mutex_unlock(&e->lock);
	return stop;
}

static int prom_query(struct fog_sched_extender *e, const char *q, size_t field, unsigned int bit,
		      struct fog_ext_nodes *ns)
{
	CURL *c = curl_easy_init();
	struct fog_http_body b = { .max = PROM_MAX_BODY };
	char *esc, *url, shown[256];
	long status = 0;
	CURLcode rc;
	int err = -EIO;

	if (!c)
		return -ENOMEM;
	esc = curl_easy_escape(c, q, 0);
	if (!esc || asprintf(&url, "%s/api/v1/query?query=%s", e->url, esc) < 0) {
		curl_free(esc);
		curl_easy_cleanup(c);
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fog_http_body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, e);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	rc = curl_easy_perform(c);
	if (!rc)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	/* the error is logged and shown: without the URL's credentials */
	fog_url_redact(shown, sizeof(shown), e->url);
	if (rc)
		snprintf(e->fetch_error, sizeof(e->fetch_error), "%.200s: %s", shown,
			 curl_easy_strerror(rc));
	else if (!b.p)
		snprintf(e->fetch_error, sizeof(e->fetch_error), "%.200s: empty answer (HTTP %ld)",
			 shown, status);
	else
		err = fog_ext_prom_vector(b.p, e->label, field, bit, ns, e->fetch_error,
					  sizeof(e->fetch_error));
	fog_http_body_reset(&b);
	free(url);
	curl_free(esc);
	curl_easy_cleanup(c);
	return err;
}

/* Fetches every node's signals into ns; 0, or a negative errno with e->fetch_error set. */
static int fetch(struct fog_sched_extender *e, struct fog_ext_nodes *ns)
{
	char q[6][320];
	const size_t field[6] = {
		offsetof(struct fog_ext_node, age_s), offsetof(struct fog_ext_node, cpu_util),
		offsetof(struct fog_ext_node, runq_p99_s), offsetof(struct fog_ext_node, mem_psi),
		offsetof(struct fog_ext_node, mem_used), offsetof(struct fog_ext_node, mem_total_mb),
	};
	const unsigned int bit[6] = { FOG_EXT_AGE, FOG_EXT_CPU, FOG_EXT_RUNQ, FOG_EXT_PSI,
				      FOG_EXT_MEM, 0 };
	const char *l = e->label;
	int err;

	snprintf(q[0], sizeof(q[0]), "min by (%s) (time() - timestamp(fog_build_info))", l);
	snprintf(q[1], sizeof(q[1]), "avg by (%s) (rate(fog_cpu_busy_seconds_total[1m]))", l);
	snprintf(q[2], sizeof(q[2]), "histogram_quantile(0.99, sum by (%s, le) "
		 "(rate(fog_runqueue_latency_seconds_bucket[1m])))", l);
	snprintf(q[3], sizeof(q[3]), "max by (%s) (rate(fog_pressure_stall_seconds_total"
		 "{resource=\"memory\",kind=\"some\"}[1m]))", l);
	snprintf(q[4], sizeof(q[4]), "1 - max by (%s) (fog_memory_available_bytes) / "
		 "max by (%s) (fog_memory_total_bytes)", l, l);
	snprintf(q[5], sizeof(q[5]), "max by (%s) (fog_memory_total_bytes) / 1048576", l);
	e->fetch_error[0] = '\0';
	for (int i = 0; i < 6; i++) {
		err = prom_query(e, q[i], field[i], bit[i], ns);
		if (err) {
			fog_ext_nodes_free(ns);
			return err;
		}
	}
	return 0;
}

/*
 * The fetching thread: figures older than REFRESH_S are fetched again while
 * routes are being asked (within IDLE_S), and once at start so the first
 * answer has data; an idle extender sends Prometheus no queries.
 */
static void *refresher(void *arg)
{
	struct fog_sched_extender *e = arg;
	struct fog_ext_nodes ns = { 0 }, old;
	double now;
	int err;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		now = fog_mono_now();
		if (e->fetched_at && (now - e->fetched_at < REFRESH_S ||
				      now - e->asked_at > IDLE_S)) {
			fog_cond_wait_until(&e->cond, &e->lock, now + REFRESH_S);
			continue;
		}
		pthread_mutex_unlock(&e->lock);
		memset(&ns, 0, sizeof(ns));
		err = fetch(e, &ns);
		if (err && !e->stop)
			fog_warnx("extender: node signals from prometheus: %s", e->fetch_error);
		pthread_mutex_lock(&e->lock);
		now = fog_mono_now();
		if (err) {
			/* keep the old figures: their age says how stale they are */
			for (unsigned int k = 0; k < e->nodes.n; k++)
				e->nodes.v[k].age_s += now - (e->fetched_at ? e->fetched_at : now);
		} else {
			old = e->nodes;
			e->nodes = ns;
			ns = old;
		}
		e->fetched_at = now;
		pthread_mutex_unlock(&e->lock);
		fog_ext_nodes_free(&ns);	/* the replaced figures, freed outside the lock */
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* ---- routes ---- */

static int answer(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx,
		  bool filter)
{
	struct fog_sched_extender *e = ctx;
	struct fog_ext_policy policy = e->policy;
	char err[256];
	json_error_t je;
	json_t *args = json_loadb(req->body, req->body_len, 0, &je), *res;

	if (!args) {
		snprintf(err, sizeof(err), "ExtenderArgs is not valid JSON: %s (line %d, column %d)",
			 je.text, je.line, je.column);
		return fog_http_json(resp, 400, json_pack("{s:s}", "Error", err));
	}
	pthread_mutex_lock(&e->lock);
	e->asked_at = fog_mono_now();
	if (e->fetched_at && e->asked_at - e->fetched_at >= REFRESH_S)
		pthread_cond_signal(&e->cond);	/* fresher figures for the next call */
	/* a node's age grew since the fetch: n->age_s + elapsed <= max_age_s */
	if (e->fetched_at)
		policy.max_age_s -= e->asked_at - e->fetched_at;
	res = filter ? fog_ext_filter(args, &e->nodes, &policy, err, sizeof(err)) :
		       fog_ext_prioritize(args, &e->nodes, &policy, err, sizeof(err));
	pthread_mutex_unlock(&e->lock);
	json_decref(args);
	if (!res)
		return fog_http_json(resp, 400, json_pack("{s:s}", "Error", err));
	return fog_http_json(resp, 200, res);
}

static int post_filter(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	return answer(req, resp, ctx, true);
}

static int post_prioritize(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	return answer(req, resp, ctx, false);
}

/* kube-scheduler calls them on the TCP listener */
static const struct fog_http_route routes[] = {
	{ "POST", "/scheduler/filter", FOG_HTTP_TCP, post_filter },
	{ "POST", "/scheduler/prioritize", FOG_HTTP_TCP, post_prioritize },
};

struct fog_sched_extender *fog_sched_extender__new(struct fog_http *h,
						   const struct fog_sched_extender_opts *o)
{
	struct fog_sched_extender *e;
	const char *url = o->prometheus_url ? o->prometheus_url : "";
	size_t n = strlen(url);
	int err;

	if (n >= sizeof(e->url) || (n && strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) ||
	    !o->node_label || !*o->node_label || strlen(o->node_label) >= sizeof(e->label) ||
	    strspn(o->node_label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
		    strlen(o->node_label) || !(o->timeout_s > 0) || !(o->max_age_s > 0)) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->url, sizeof(e->url), "%.*s", (int)(n && url[n - 1] == '/' ? n - 1 : n), url);
	snprintf(e->label, sizeof(e->label), "%s", o->node_label);
	e->timeout_ms = (long)(o->timeout_s * 1e3);
	fog_ext_policy_defaults(&e->policy);
	e->policy.max_age_s = o->max_age_s;
	pthread_mutex_init(&e->lock, NULL);
	err = fog_cond_init_mono(&e->cond);
	if (!err)
		err = FOG_HTTP_ROUTES(h, routes, e);
	if (!err && e->url[0]) {
		/* before the thread: libcurl's global set-up is not for concurrent callers */
		err = curl_global_init(CURL_GLOBAL_DEFAULT) ? -EIO : 0;
		if (!err)
			err = -pthread_create(&e->thread, NULL, refresher, e);
		e->thread_started = !err;
	}
	if (err) {
		fog_sched_extender__free(e);
		errno = -err;
		return NULL;
	}
	if (!e->url[0])
		fog_warnx("extender: no prometheus_url: every node is \"no data\"");
	return e;
}

void fog_sched_extender__free(struct fog_sched_extender *e)
{
	if (!e)
		return;
	if (e->thread_started) {
		pthread_mutex_lock(&e->lock);
		e->stop = true;
		pthread_cond_signal(&e->cond);
		pthread_mutex_unlock(&e->lock);
		pthread_join(e->thread, NULL);
		curl_global_cleanup();
	}
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	fog_ext_nodes_free(&e->nodes);
	free(e);
}
