// SPDX-License-Identifier: GPL-2.0-only
/*
 * The profiler server's outputs: GET /api/v1/profile/ID[/FORMAT] renders on
 * threads of their own (the loop answers when one is done) with a cache per
 * profile, and /debug/pprof/profile samples the host and answers when done.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/cgroup.h"
#include "base/clock.h"
#include "base/clock.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/loop.h"
#include "export/http.h"
#include "fog/profiler.h"
#include "profile/bottleneck.h"
#include "profile/render.h"
#include "profile/server.h"
#include "profile/server_int.h"
#include "profile/server_int.h"
#include "profile/session.h"
#include "profile/uprobe.h"

static bool known_format(const char *format)
{
	static const char *const formats[] = { "folded", "pprof", "speedscope", "svg", "html",
					       "json" };

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(format, formats[i]))
			return true;
	return false;
}

/* The answer to a render: the output (taken) or the error. */
static int render_answer(int err, struct fog_prof_output *out, const char *format,
			 struct fog_http_resp *resp)
{
	if (err == -EINVAL)
		return fog_http_error(resp, 404, "no format '%.32s': use folded, pprof, speedscope, "
				      "svg, html or json", format);
	if (err == -EPROTONOSUPPORT)
		return fog_http_error(resp, 501, "fogd was built without protobuf-c: no pprof");
	if (err)
		return err;
	resp->status = 200;
	resp->content_type = out->content_type;
	resp->body = out->body;
	resp->len = out->len;
	out->body = NULL;
	return 0;
}

/* Keeps a copy of a render for the next GET of the same format and view. */
static void cache_render(struct session *s, const char *key, const struct fog_http_resp *resp)
{
	struct cached *c;
	char *copy;

	if (resp->status != 200 || resp->len > CACHE_MAX_BODY)
		return;
	copy = malloc(resp->len ? resp->len : 1);
	if (!copy)
		return;
	memcpy(copy, resp->body, resp->len);
	if (s->ncached == MAX_CACHED) {	/* the oldest goes */
		free(s->cached[0].body);
		memmove(&s->cached[0], &s->cached[1], (MAX_CACHED - 1) * sizeof(s->cached[0]));
		s->ncached--;
	}
	c = &s->cached[s->ncached++];
	snprintf(c->key, sizeof(c->key), "%s", key);
	c->body = copy;
	c->len = resp->len;
	c->content_type = resp->content_type;
}

static void *render_thread(void *arg)
{
	struct render *r = arg;

	r->err = fog_prof_render(r->p, r->format, &r->out);
	atomic_store_explicit(&r->done, true, memory_order_release);
	return NULL;
}

/* Answers the renders that are done (wait: every one, at shutdown). */
void fog_prof_srv_renders_poll(struct fog_profiler *pr, bool wait)
{
	for (int i = 0; i < MAX_RENDERS; i++) {
		struct render *r = &pr->renders[i];
		struct fog_http_resp resp = { 0 };

		if (!r->s || (!wait && !atomic_load_explicit(&r->done, memory_order_acquire)))
			continue;
		pthread_join(r->thread, NULL);
		if (render_answer(r->err, &r->out, r->format, &resp)) {
			fog_http_finish(r->later, NULL);
		} else {
			cache_render(r->s, r->key, &resp);
			fog_http_finish(r->later, &resp);
		}
		free(r->out.body);
		r->s->rendering--;
		memset(r, 0, sizeof(*r));
	}
}

/*
 * GET .../FORMAT of a finished profile: from the profile's renders when one is
 * kept, else rendered on a thread (the answer follows from the loop), or here
 * when no thread can be had.
 */
static int send_output(struct fog_profiler *pr, struct session *s, const struct fog_prof *p,
		       const char *format, const struct fog_http_req *req,
		       struct fog_http_resp *resp)
{
	const char *view = fog_http_arg(req, "view");
	struct fog_prof_output out = { 0 };
	struct render *r = NULL;
	char key[32];
	int rc;

	if (!p)
		return fog_http_error(resp, 404, "the profile has no such view");
	if (!known_format(format))
		return render_answer(-EINVAL, &out, format, resp);
	snprintf(key, sizeof(key), "%s:%s", format, view && !strcmp(view, "alloc") ? "alloc" : "");
	for (unsigned int i = 0; i < s->ncached; i++) {
		const struct cached *c = &s->cached[i];

		if (strcmp(c->key, key))
			continue;
		resp->body = malloc(c->len ? c->len : 1);
		if (!resp->body)
			return -ENOMEM;
		memcpy(resp->body, c->body, c->len);
		resp->len = c->len;
		resp->content_type = c->content_type;
		resp->status = 200;
		return 0;
	}
	for (int i = 0; i < MAX_RENDERS && !r; i++)
		if (!pr->renders[i].s)
			r = &pr->renders[i];
	if (r) {
		*r = (struct render){ .s = s, .p = p };
		snprintf(r->format, sizeof(r->format), "%s", format);
		snprintf(r->key, sizeof(r->key), "%s", key);
		if (pthread_create(&r->thread, NULL, render_thread, r)) {
			memset(r, 0, sizeof(*r));
		} else {
			r->later = fog_http_defer(req);
			if (r->later) {
				s->rendering++;
				return FOG_HTTP_DEFERRED;
			}
			pthread_join(r->thread, NULL);	/* no deferring here: answer now */
			rc = render_answer(r->err, &r->out, format, resp);
			free(r->out.body);
			memset(r, 0, sizeof(*r));
			if (!rc)
				cache_render(s, key, resp);
			return rc;
		}
	}
	rc = render_answer(fog_prof_render(p, format, &out), &out, format, resp);
	free(out.body);
	if (!rc)
		cache_render(s, key, resp);
	return rc;
}

/* GET /api/v1/profile/ID[/FORMAT] */
int fog_prof_srv_get_profile(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_profiler *pr = ctx;
	const char *rest = req->path + strlen("/api/v1/profile/");
	struct fog_finding found[32];
	struct fog_bottleneck_cfg cfg;
	struct session *s = NULL;
	unsigned long id;
	char *end;
	json_t *j;

	id = strtoul(rest, &end, 10);
	if (end == rest || (*end && *end != '/'))
		return fog_http_error(resp, 400, "profile id must be a number: %.64s", rest);
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (pr->sessions[i].id && pr->sessions[i].id == id)
			s = &pr->sessions[i];
	if (!s)
		return fog_http_error(resp, 404, "no profile %lu (finished ones are kept until %d "
				      "newer exist)", id, MAX_SESSIONS);
	if (*end == '/') {
		if (s->state != S_DONE)
			return fog_http_error(resp, 409, "profile %lu is %s", id,
					      s->state == S_RUNNING ? "still running" :
								      "failed");
		return send_output(pr, s, fog_prof_srv_session_prof(s, req), end + 1, req, resp);
	}
	j = fog_prof_srv_session_json(s);
	if (s->state == S_DONE && fog_prof_srv_session_prof(s, req)) {
		const struct fog_prof *p = fog_prof_srv_session_prof(s, req);
		size_t n;

		fog_bottleneck_defaults(&cfg);
		n = fog_bottleneck_find(p, &cfg, found, 32);
		json_object_set_new(j, "summary", fog_prof_summary_json(p, 20));
		json_object_set_new(j, "bottlenecks", fog_bottleneck_json(found, n));
	}
	return fog_http_json(resp, 200, j);
}

/*
 * Go's /debug/pprof/profile: samples the host for ?seconds=N and answers with
 * the gzipped profile. The connection waits, suspended, while the loop goes on.
 */
int fog_prof_srv_get_pprof(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_profiler *pr = ctx;
	struct fog_prof_capture_opts o = { .target = FOG_PROF_TARGET_HOST };
	const char *arg = fog_http_arg(req, "seconds"), *lines = fog_http_arg(req, "lines");
	struct pprof_wait *w = NULL;
	unsigned long secs = PPROF_DEFAULT_SECONDS;
	char err[256], *end;
	int rc;

	if (arg) {
		secs = strtoul(arg, &end, 10);
		if (!*arg || *end || secs < 1 || secs > PPROF_MAX_SECONDS)
			return fog_http_error(resp, 400, "seconds must be 1..%d (for longer "
					      "profiles POST /api/v1/profile)", PPROF_MAX_SECONDS);
	}
	o.lines = lines && !strcmp(lines, "1");	/* source lines in Line.line */
	for (int i = 0; i < MAX_PPROF && !w; i++)
		if (!pr->pprof[i].ps)
			w = &pr->pprof[i];
	if (!w)
		return fog_http_error(resp, 429, "%d pprof profiles are running already",
				      MAX_PPROF);
	w->cache = fog_elfcache__new(ELF_CACHE_FILES);
	w->ps = w->cache ? fog_prof_session__new(&o, "host", w->cache, err, sizeof(err)) : NULL;
	if (!w->ps) {
		if (!w->cache)
			snprintf(err, sizeof(err), "out of memory");
		fog_elfcache__free(w->cache);
		memset(w, 0, sizeof(*w));
		return fog_http_error(resp, 500, "cannot start the profile: %s", err);
	}
	/* sampled, symbolized and encoded on its own thread; the loop only hands it over */
	rc = fog_prof_session__run_async(w->ps, (double)secs + 5.0, POLL_MS, "pprof");
	if (rc) {
		fog_prof_session__free(w->ps);
		fog_elfcache__free(w->cache);
		memset(w, 0, sizeof(*w));
		return fog_http_error(resp, 500, "cannot start the profile's thread: %s",
				      strerror(-rc));
	}
	w->until_ns = fog_now_ns() + secs * 1000000000ULL;
	w->later = fog_http_defer(req);
	return FOG_HTTP_DEFERRED;
}

/* Answers a waiting pprof request: the profile, or stopping (503) when abort. */
void fog_prof_srv_pprof_finish(struct fog_profiler *pr, struct pprof_wait *w, bool abort)
{
	struct fog_http_resp resp = { 0 };
	struct fog_prof_output out;
	int rc = -ECANCELED;

	if (!abort) {
		fog_prof_session__async_done(w->ps, &rc);
		if (!rc)
			rc = fog_prof_session__take_output(w->ps, &out);
		if (!rc) {
			resp.status = 200;
			resp.content_type = out.content_type;
			resp.body = out.body;
			resp.len = out.len;
		}
		if (rc) {
			fog_heap_buf_put(resp.body);
			resp = (struct fog_http_resp){ 0 };
			fog_http_error(&resp, 500, "reading the samples failed: %s",
				       strerror(-rc));
		}
	}
	fog_http_finish(w->later, abort ? NULL : &resp);
	fog_prof_session__free(w->ps);	/* stops and joins its thread */
	fog_elfcache__free(w->cache);
	memset(w, 0, sizeof(*w));
}

void fog_prof_srv_pprof_poll(struct fog_profiler *pr, __u64 now)
{
	for (int i = 0; i < MAX_PPROF; i++) {
		struct pprof_wait *w = &pr->pprof[i];

		if (!w->ps)
			continue;
		if (now >= w->until_ns)
			fog_prof_session__stop_async(w->ps);
		if (fog_prof_session__async_done(w->ps, NULL))
			fog_prof_srv_pprof_finish(pr, w, false);
	}
}
