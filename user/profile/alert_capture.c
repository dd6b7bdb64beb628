// SPDX-License-Identifier: GPL-2.0-only
/* Profiles captured when an alert fires (see alert_capture.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/config.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/prom.h"
#include "export/http.h"
#include "export/metrics.h"
#include "fog/monitor.h"
#include "monitor/watch.h"
#include "profile/alert_capture.h"
#include "profile/continuous.h"
#include "profile/prof.h"
#include "profile/ring.h"
#include "profile/session.h"

#define MAX_CAPTURES 16	/* alerts whose capture is remembered; the oldest goes first */
#define POLL_MS 250	/* the capture thread snapshots new processes this often */
#define TIMER_MS 500	/* the loop joins finished capture threads this often */
#define ELF_CACHE_FILES 256
#define FREQUENCY 99

enum cap_state { C_FREE, C_PENDING, C_RUNNING, C_DONE, C_FAILED, C_SKIPPED };

static const char *const state_names[] = { "free", "pending", "capturing", "done", "failed",
					   "skipped" };

struct capture {
	struct fog_alert_capture *owner;
	enum cap_state state;
	unsigned long id;	/* the alert's */
	enum fog_monitor_resource resource;
	enum fog_alert_level level;	/* the level that started it */
	bool offcpu;	/* an off-CPU profile too: run-queue and I/O latency alerts */
	bool fp_only;	/* [profile] unwind = off */
	double seconds;
	__u64 start_unix_ns;
	__u64 order;	/* for choosing the oldest slot */
	char cpu_name[64];	/* the ring's files, "" none */
	char off_name[64];
	unsigned long long cpu_samples, off_samples;
	char error[256];	/* C_FAILED: why; C_SKIPPED: why not */
	pthread_t thread;
	bool threaded;
	atomic_bool done;	/* the thread is finished: the loop joins it */
};

struct fog_alert_capture {
	struct fog_loop *loop;
	int timer;
	struct fog_watch *watch;
	struct fog_prof_continuous *cont;
	/*
	 * the annotator runs on the observing thread under the monitor's lock, the
	 * capture threads write their results, the loop reads: lock guards the
	 * settings and caps
	 */
	pthread_mutex_t lock;
	bool on;
	enum fog_alert_level min;
	double seconds, min_interval;
	bool fp_only;
	__u64 last_start_ns;	/* monotonic; 0 never */
	__u64 next_order;
	atomic_bool quit;
	bool listening;	/* on_alert is the monitor's callback */
	struct capture caps[MAX_CAPTURES];
	unsigned long started, failed, skipped;
};

static void take_cfg(struct fog_alert_capture *c, const struct fog_config *cfg)
{
	c->on = strcmp(cfg->profile_on, "off") != 0;
	c->min = FOG_ALERT_ERROR;
	if (c->on)
		fog_alert_level_parse(cfg->profile_on, &c->min);
	c->seconds = cfg->profile_seconds;
	c->min_interval = cfg->profile_min_interval_s;
	c->fp_only = !cfg->prof_unwind;
}

/* Under c->lock. */
static struct capture *find(struct fog_alert_capture *c, unsigned long id)
{
	for (int i = 0; i < MAX_CAPTURES; i++)
		if (c->caps[i].state != C_FREE && c->caps[i].id == id)
			return &c->caps[i];
	return NULL;
}

/* A free slot, else the oldest one not capturing; under c->lock. */
static struct capture *slot(struct fog_alert_capture *c)
{
	struct capture *old = NULL;

	for (int i = 0; i < MAX_CAPTURES; i++) {
		struct capture *k = &c->caps[i];

		if (k->state == C_FREE)
			return k;
		if (k->state != C_PENDING && k->state != C_RUNNING && !k->threaded &&
		    (!old || k->order < old->order))
			old = k;
	}
	return old;
}

/* Under c->lock: whether a capture may start now, else why not in why. */
static bool may_start(struct fog_alert_capture *c, __u64 now, char *why, size_t len)
{
	for (int i = 0; i < MAX_CAPTURES; i++) {
		if (c->caps[i].state == C_PENDING || c->caps[i].state == C_RUNNING) {
			snprintf(why, len, "the profile of alert %lu is being captured",
				 c->caps[i].id);
			return false;
		}
	}
	if (c->last_start_ns && (double)(now - c->last_start_ns) / 1e9 < c->min_interval) {
		snprintf(why, len, "rate limit: the last alert profile started %.0f s ago, "
			 "profile_min_interval_s is %g", (double)(now - c->last_start_ns) / 1e9,
			 c->min_interval);
		return false;
	}
	return true;
}

/*
 * The monitor's annotator (its lock held, on the observing thread): decides
 * whether the change starts a capture and, if so, links the alert to it. The
 * thread starts in on_alert, after the monitor's lock is released.
 */
static void annotate(struct fog_alert *a, void *ctx)
{
	struct fog_alert_capture *c = ctx;
	__u64 now = fog_now_ns();
	struct capture *k;
	char why[160];

	if (a->resolved || !a->id)
		return;
	pthread_mutex_lock(&c->lock);
	k = find(c, a->id);
	if (!c->on || a->level < c->min || (k && k->state != C_SKIPPED))
		goto out;	/* one capture per alert: its link is the episode's already */
	if (!may_start(c, now, why, sizeof(why))) {
		if (!k)
			k = slot(c);
		if (k && !k->threaded) {
			*k = (struct capture){ .owner = c, .state = C_SKIPPED, .id = a->id,
					       .resource = a->resource, .level = a->level,
					       .order = ++c->next_order };
			snprintf(k->error, sizeof(k->error), "%s", why);
		}
		c->skipped++;
		goto out;
	}
	if (!k)
		k = slot(c);
	if (!k || k->threaded)
		goto out;
	*k = (struct capture){ .owner = c, .state = C_PENDING, .id = a->id,
			       .resource = a->resource, .level = a->level,
			       .offcpu = a->resource == FOG_MONITOR_RUNQ_LATENCY ||
					 a->resource == FOG_MONITOR_IO_LATENCY,
			       .seconds = c->seconds, .fp_only = c->fp_only,
			       .order = ++c->next_order };
	c->last_start_ns = now;
	snprintf(a->profile_url, sizeof(a->profile_url), "%s%lu", FOG_ALERT_PROFILE_PATH, a->id);
out:
	pthread_mutex_unlock(&c->lock);
}

/* Builds, encodes and keeps one finished session's profile; 0 or -errno with err set. */
static int keep(struct capture *k, struct fog_prof_session *ps, bool offcpu, char *name,
		size_t nlen, unsigned long long *samples, char *err, size_t elen)
{
	char prefix[48];
	void *buf = NULL;
	size_t len = 0;
	int rc = fog_prof_session__finish(ps);
	struct fog_prof *p = fog_prof_session__prof(ps);

	if (rc) {
		snprintf(err, elen, "building the %s profile failed: %s", offcpu ? "off-CPU" :
			 "CPU", strerror(-rc));
		return rc;
	}
	*samples = (unsigned long long)p->total;
	rc = fog_prof_pprof(p, &buf, &len);
	if (rc) {
		snprintf(err, elen, "encoding the profile failed: %s", strerror(-rc));
		return rc;
	}
	snprintf(prefix, sizeof(prefix), "%s%lu-%s-", FOG_PROF_RING_ALERT_PREFIX, k->id,
		 offcpu ? "offcpu" : "cpu");
	rc = fog_prof_continuous__keep(k->owner->cont, prefix,
				       (time_t)(k->start_unix_ns / 1000000000ULL), buf, len, name,
				       nlen, err, elen);
	free(buf);
	return rc;
}

/* Samples until the capture's time is up (or fogd stops: false). */
static bool sample(struct capture *k, struct fog_prof_session *cpu, struct fog_prof_session *off)
{
	__u64 end = fog_now_ns() + (__u64)(k->seconds * 1e9);
	struct timespec ts = { 0, POLL_MS * 1000000L };

	while (fog_now_ns() < end) {
		if (atomic_load(&k->owner->quit))
			return false;
		fog_prof_session__poll(cpu);
		if (off)
			fog_prof_session__poll(off);
		nanosleep(&ts, NULL);
	}
	return true;
}

/* The capture thread: loading BPF, sampling, symbolizing and writing stay off the loop. */
static void *capture_main(void *arg)
{
	struct capture *k = arg;
	struct fog_alert_capture *c = k->owner;
	struct fog_prof_capture_opts o = { .target = FOG_PROF_TARGET_HOST,
					   .frequency = FREQUENCY, .fp_only = k->fp_only };
	struct fog_elfcache *cache = fog_elfcache__new(ELF_CACHE_FILES);
	struct fog_prof_session *cpu = NULL, *off = NULL;
	char target[128], err[256] = "", cpu_name[64] = "", off_name[64] = "", off_err[256] = "";
	unsigned long long cpu_samples = 0, off_samples = 0;
	int rc = -ENOMEM;

	snprintf(target, sizeof(target), "host (alert %lu: %s %s)", k->id,
		 fog_monitor_resource_name(k->resource), fog_alert_level_name(k->level));
	if (!cache) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	cpu = fog_prof_session__new(&o, target, cache, err, sizeof(err));
	if (!cpu) {
		rc = errno ? -errno : -EIO;
		goto out;
	}
	if (k->offcpu) {
		o.mode = FOG_PROF_CAPTURE_OFFCPU;
		off = fog_prof_session__new(&o, target, cache, off_err, sizeof(off_err));
	}
	if (!sample(k, cpu, off)) {
		rc = -ECANCELED;
		snprintf(err, sizeof(err), "fogd stopped during the capture");
		goto out;
	}
	rc = keep(k, cpu, false, cpu_name, sizeof(cpu_name), &cpu_samples, err, sizeof(err));
	if (!rc && off && keep(k, off, true, off_name, sizeof(off_name), &off_samples, off_err,
			       sizeof(off_err)))
		off_name[0] = '\0';
out:
	fog_prof_session__free(off);
	fog_prof_session__free(cpu);
	fog_elfcache__free(cache);	/* after the sessions, whose symbolizers hold its files */
	pthread_mutex_lock(&c->lock);
	k->state = rc ? C_FAILED : C_DONE;
	snprintf(k->cpu_name, sizeof(k->cpu_name), "%s", cpu_name);
	snprintf(k->off_name, sizeof(k->off_name), "%s", off_name);
	k->cpu_samples = cpu_samples;
	k->off_samples = off_samples;
	snprintf(k->error, sizeof(k->error), "%s", rc ? err : k->offcpu && !off_name[0] ?
			 off_err : "");
	if (rc)
		c->failed++;
	pthread_mutex_unlock(&c->lock);
	if (rc)
		fog_warnx("alert %lu: profile not captured: %s", k->id, err);
	else
		fog_info("alert %lu: profile captured: %s (%llu samples)%s%s", k->id, cpu_name,
			 cpu_samples, off_name[0] ? ", " : "", off_name);
	atomic_store(&k->done, true);
	return NULL;
}

/* The monitor's callback, after its lock: starts the capture annotate decided on. */
static void on_alert(const struct fog_alert *a, void *ctx)
{
	struct fog_alert_capture *c = ctx;
	struct capture *k;
	int rc;

	pthread_mutex_lock(&c->lock);
	k = a->resolved ? NULL : find(c, a->id);
	if (!k || k->state != C_PENDING) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	k->state = C_RUNNING;
	k->start_unix_ns = fog_clock_ns(CLOCK_REALTIME);
	atomic_store(&k->done, false);
	rc = -pthread_create(&k->thread, NULL, capture_main, k);
	k->threaded = !rc;
	if (rc) {
		k->state = C_FAILED;
		snprintf(k->error, sizeof(k->error), "cannot start the capture thread: %s",
			 strerror(-rc));
		c->failed++;
	} else {
		c->started++;
	}
	pthread_mutex_unlock(&c->lock);
	if (rc)
		fog_warnx("alert %lu: profile not captured: %s", a->id, strerror(-rc));
	else
		fog_info("alert %lu (%s %s): capturing a %g s profile of the host", a->id,
			 fog_monitor_resource_name(a->resource), fog_alert_level_name(a->level),
			 k->seconds);
}

/* Joins the capture threads that are done (wait: every one, at exit). */
static void join_done(struct fog_alert_capture *c, bool wait)
{
	for (int i = 0; i < MAX_CAPTURES; i++) {
		struct capture *k = &c->caps[i];

		if (!k->threaded || (!wait && !atomic_load(&k->done)))
			continue;
		pthread_join(k->thread, NULL);
		pthread_mutex_lock(&c->lock);
		k->threaded = false;
		pthread_mutex_unlock(&c->lock);
	}
}

static void on_timer(void *ctx)
{
	join_done(ctx, false);
}

/* Under c->lock. */
static json_t *capture_json(const struct capture *k)
{
	json_t *j = json_pack("{s:I,s:s,s:s,s:s}", "alert", (json_int_t)k->id, "state",
			      state_names[k->state], "resource",
			      fog_monitor_resource_name(k->resource), "level",
			      fog_alert_level_name(k->level));

	if (!j)
		return NULL;
	if (k->state == C_PENDING || k->state == C_RUNNING || k->state == C_DONE) {
		char url[96];

		snprintf(url, sizeof(url), "%s%lu", FOG_ALERT_PROFILE_PATH, k->id);
		json_object_set_new(j, "url", json_string(url));
		json_object_set_new(j, "seconds", json_real(k->seconds));
		json_object_set_new(j, "offcpu", json_boolean(k->offcpu));
	}
	if (k->cpu_name[0]) {
		json_object_set_new(j, "cpu", json_string(k->cpu_name));
		json_object_set_new(j, "cpu_samples", json_integer((json_int_t)k->cpu_samples));
	}
	if (k->off_name[0]) {
		json_object_set_new(j, "offcpu_file", json_string(k->off_name));
		/* an off-CPU profile's total is time blocked */
		json_object_set_new(j, "offcpu_ns", json_integer((json_int_t)k->off_samples));
	}
	if (k->error[0])
		json_object_set_new(j, k->state == C_SKIPPED ? "reason" : "error",
				    json_string(k->error));
	return j;
}

/* /api/v1/alerts: an alert with a capture says how it went ("profile"). */
static void decorate(json_t *alert, void *ctx)
{
	struct fog_alert_capture *c = ctx;
	json_t *id = json_object_get(alert, "id");
	struct capture *k;

	if (!json_is_integer(id))
		return;
	pthread_mutex_lock(&c->lock);
	k = find(c, (unsigned long)json_integer_value(id));
	if (k)
		json_object_set_new(alert, "profile", capture_json(k));
	pthread_mutex_unlock(&c->lock);
}

static int get_list(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_alert_capture *c = ctx;
	json_t *a = json_array(), *j;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; a && i < MAX_CAPTURES; i++)
		if (c->caps[i].state != C_FREE)
			json_array_append_new(a, capture_json(&c->caps[i]));
	j = json_pack("{s:s,s:f,s:f,s:I,s:I,s:I,s:o*}", "profile_on",
		      c->on ? fog_alert_level_name(c->min) : "off", "profile_seconds", c->seconds,
		      "profile_min_interval_s", c->min_interval, "started",
		      (json_int_t)c->started, "failed", (json_int_t)c->failed, "skipped",
		      (json_int_t)c->skipped, "captures", a);
	pthread_mutex_unlock(&c->lock);
	return fog_http_json(resp, 200, j);
}

/* Parses the ID of .../alert/ID (digits only, no leading zero); 0 if it is not one. */
static unsigned long parse_id(const char *s)
{
	unsigned long v = 0;

	if (*s < '1' || *s > '9' || strlen(s) > 19)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	return v;
}

/* The ring file of alert id's profile: 0 (name "" if unknown here), or 1 with resp filled. */
static int file_of(struct fog_alert_capture *c, unsigned long id, bool offcpu, char *name,
		   size_t len, struct fog_http_resp *resp)
{
	const char *what = offcpu ? "off-CPU " : "";
	struct capture *k;
	int answered = 1;

	name[0] = '\0';	/* not of this run's memory: the ring may still have it */
	pthread_mutex_lock(&c->lock);
	k = find(c, id);
	if (!k)
		answered = 0;
	else if (k->state == C_PENDING || k->state == C_RUNNING)
		fog_http_error(resp, 409, "the profile of alert %lu is still being captured (%g s)",
			       id, k->seconds);
	else if (k->state == C_FAILED || k->state == C_SKIPPED)
		fog_http_error(resp, 404, "alert %lu has no profile: %s", id, k->error);
	else if (!(offcpu ? k->off_name : k->cpu_name)[0])
		fog_http_error(resp, 404, "alert %lu has no %sprofile%s%s", id, what,
			       k->error[0] ? ": " : "", k->error);
	else
		answered = snprintf(name, len, "%s", offcpu ? k->off_name : k->cpu_name) < 0;
	pthread_mutex_unlock(&c->lock);
	return answered;
}

static int get_profile(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_alert_capture *c = ctx;
	unsigned long id = parse_id(req->path + strlen(FOG_ALERT_PROFILE_PATH));
	const char *mode = fog_http_arg(req, "mode");
	bool offcpu = mode && !strcmp(mode, "offcpu");
	char name[64], prefix[48];
	void *buf;
	size_t n;
	int rc;

	if (!id)
		return fog_http_error(resp, 400, "not an alert id: '%.32s'",
				      req->path + strlen(FOG_ALERT_PROFILE_PATH));
	if (mode && !offcpu && strcmp(mode, "cpu"))
		return fog_http_error(resp, 400, "\"mode\" must be cpu or offcpu");
	if (file_of(c, id, offcpu, name, sizeof(name), resp))
		return 0;
	snprintf(prefix, sizeof(prefix), "%s%lu-%s-", FOG_PROF_RING_ALERT_PREFIX, id,
		 offcpu ? "offcpu" : "cpu");
	rc = name[0] ? fog_prof_continuous__read(c->cont, name, &buf, &n) :
		       fog_prof_continuous__read_newest(c->cont, prefix, &buf, &n);
	if (rc == -ENOENT || rc == -ENODATA)
		return fog_http_error(resp, 404, "no %sprofile of alert %lu in the ring (never "
				      "captured, or removed by its size and age limits)",
				      offcpu ? "off-CPU " : "", id);
	if (rc)
		return fog_http_error(resp, 500, "cannot read the profile of alert %lu: %s", id,
				      strerror(-rc));
	resp->status = 200;
	resp->content_type = "application/octet-stream";	/* gzipped pprof */
	resp->body = buf;
	resp->len = n;
	return 0;
}

static void metrics(void *ctx, struct fog_prom *w)
{
	struct fog_alert_capture *c = ctx;

	pthread_mutex_lock(&c->lock);
	fog_prom__family(w, "fog_alert_profiles", FOG_PROM_COUNTER,
			 "Profiles captured when an alert fired, by result: started, failed "
			 "(not kept), skipped (one was running, or the rate limit)");
	fog_prom__sample(w, (const char *[]){ "result", "started", NULL }, (double)c->started);
	fog_prom__sample(w, (const char *[]){ "result", "failed", NULL }, (double)c->failed);
	fog_prom__sample(w, (const char *[]){ "result", "skipped", NULL }, (double)c->skipped);
	pthread_mutex_unlock(&c->lock);
}

static const struct fog_http_route routes[] = {
	{ "GET", "/api/v1/profiles/alerts", FOG_HTTP_UNIX, get_list },
	{ "GET", FOG_ALERT_PROFILE_PATH, FOG_HTTP_UNIX, get_profile },
};

struct fog_alert_capture *fog_alert_capture__new(struct fog_http *h, struct fog_loop *loop,
						 struct fog_watch *w,
						 struct fog_prof_continuous *cont,
						 const struct fog_config *cfg)
{
	struct fog_alert_capture *c = calloc(1, sizeof(*c));
	struct fog_monitor *mon = fog_watch__monitor(w);
	int err;

	if (!c)
		return NULL;
	c->loop = loop;
	c->watch = w;
	c->cont = cont;
	c->timer = -1;
	pthread_mutex_init(&c->lock, NULL);
	take_cfg(c, cfg);
	err = FOG_HTTP_ROUTES(h, routes, c);
	if (!err)
		err = fog_metrics_add(metrics, c);
	if (!err)
		err = fog_monitor__on_alert(mon, on_alert, c);
	if (err)
		goto fail;
	c->listening = true;
	c->timer = fog_loop__add_timer(loop, "alert profiles", TIMER_MS, on_timer, c);
	if (c->timer < 0) {
		err = c->timer;
		goto fail;
	}
	fog_monitor__set_annotate(mon, annotate, c);
	fog_watch__set_decorate(w, decorate, c);
	return c;
fail:
	fog_alert_capture__free(c);
	errno = -err;
	return NULL;
}

void fog_alert_capture__free(struct fog_alert_capture *c)
{
	if (!c)
		return;
	if (c->listening)
		fog_monitor__off_alert(fog_watch__monitor(c->watch), on_alert, c);
	if (c->timer >= 0) {
		fog_monitor__set_annotate(fog_watch__monitor(c->watch), NULL, NULL);
		fog_watch__set_decorate(c->watch, NULL, NULL);
		fog_loop__del_timer(c->loop, c->timer);
	}
	atomic_store(&c->quit, true);
	join_done(c, true);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void fog_alert_capture__reconfigure(struct fog_alert_capture *c, const struct fog_config *cfg)
{
	pthread_mutex_lock(&c->lock);
	take_cfg(c, cfg);
	pthread_mutex_unlock(&c->lock);
}
