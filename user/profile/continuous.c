// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/config.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/prom.h"
#include "export/http.h"
#include "export/metrics.h"
#include "profile/alloc.h"
#include "profile/capture.h"
#include "profile/continuous.h"
#include "profile/prof.h"
#include "profile/ring.h"
#include "profile/symbolize.h"

#define TICK_MS 1000	/* new processes are snapshotted for symbols this often */
#define ELF_CACHE_FILES 128
#define MAX_NEW_PIDS 512	/* processes read per tick: bounds the work of one tick */
#define MAX_JOBS 64	/* the worker's queue: a worker this far behind loses new work */

/* ---- the sampler ---- */

struct fog_prof_continuous {
	struct fog_loop *loop;
	int timer;
	/* settings */
	bool on;
	__u32 frequency;
	bool fp_only;	/* [profile] unwind = off: frame pointers only */
	bool no_python;	/* [profile] python = off: no CPython frames */
	double snapshot_s;
	char dir[200];
	__u64 max_bytes;
	double max_age_s;
	/* the window being sampled, and the last one's capture kept loaded for the next */
	struct fog_prof_capture *cap;
	struct fog_prof_capture *spare;
	__u64 start_unix_ns;
	__u64 start_mono_ns;
	__u64 retry_ns;	/* the sampler failed to start: when to try again */
	__u32 *seen;	/* processes snapshotted for symbols in this window */
	size_t nseen, cap_seen;
	/*
	 * The worker thread owns the symbolizer: it reads the new processes'
	 * files and builds, encodes and writes each finished window, so nothing
	 * a profiled process controls is read on the loop. The loop queues jobs;
	 * lock guards the queue, the ring and the figures below.
	 */
	pthread_t worker;
	bool have_worker;
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* a job or quit */
	pthread_cond_t idle;	/* the queue ran empty */
	struct job {
		struct fog_prof_capture *cap;	/* a window to build, or NULL */
		__u32 *pids;	/* else processes to read */
		size_t npids;
		__u64 start_unix_ns, duration_ns;
		bool keep_empty;
	} jobs[MAX_JOBS];
	unsigned int job_head, njobs;
	bool busy, quit;
	struct fog_prof_capture *returned;	/* built: the loop keeps it as its spare */
	__u64 dropped;	/* jobs lost to a full queue */
	/* kept across windows; the worker's */
	struct fog_elfcache *cache;
	struct fog_symbolizer *sym;
	struct fog_prof_ring *ring;	/* NULL while the folder cannot be used */
	/* figures */
	__u64 snapshots;	/* written */
	__u64 errors;	/* snapshots lost: write, build or sampler failures */
	__u64 samples;	/* in snapshots written */
	double last_seconds;	/* building and writing the last snapshot took this long */
	double max_seconds;
	char last_error[512];
};

/* Under c->lock. */
static void fail(struct fog_prof_continuous *c, const char *msg)
{
	c->errors++;
	snprintf(c->last_error, sizeof(c->last_error), "%s", msg);
	fog_warnx("continuous profile: %s", msg);
}

static int start_window(struct fog_prof_continuous *c)
{
	struct fog_prof_capture_opts o = { .target = FOG_PROF_TARGET_HOST,
					   .frequency = c->frequency,
					   .fp_only = c->fp_only,
					   .no_python = c->no_python };
	char err[256];
	int rc;

	/* loading BPF takes 50-750 ms here: a window reuses the last one's programs */
	if (c->spare) {
		rc = fog_prof_capture__restart(c->spare, err, sizeof(err));
		if (!rc) {
			c->cap = c->spare;
			c->spare = NULL;
		} else {
			fog_prof_capture__free(c->spare);
			c->spare = NULL;
		}
	}
	if (!c->cap)
		c->cap = fog_prof_capture__new(&o, err, sizeof(err));
	if (!c->cap) {
		rc = -errno;
		pthread_mutex_lock(&c->lock);
		fail(c, err);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	c->start_unix_ns = fog_clock_ns(CLOCK_REALTIME);
	c->start_mono_ns = fog_clock_ns(CLOCK_MONOTONIC);
	c->nseen = 0;
	return 0;
}

/* Queues a job for the worker; false (and the job's pids freed) when the queue is full. */
static bool enqueue(struct fog_prof_continuous *c, const struct job *j)
{
	bool ok;

	pthread_mutex_lock(&c->lock);
	ok = c->njobs < MAX_JOBS;
	if (ok) {
		c->jobs[(c->job_head + c->njobs) % MAX_JOBS] = *j;
		c->njobs++;
		pthread_cond_signal(&c->wake);
	} else {
		c->dropped++;
	}
	pthread_mutex_unlock(&c->lock);
	if (!ok)
		free(j->pids);
	return ok;
}

/* Waits until the worker has done everything queued (reconfiguration, shutdown). */
static void drain(struct fog_prof_continuous *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->have_worker && (c->njobs || c->busy))
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Queues the processes sampled for the first time in this window: the worker
 * reads their maps and files, so they resolve.
 */
static void snapshot_new_pids(struct fog_prof_continuous *c)
{
	__u32 pids[MAX_NEW_PIDS], *fresh;
	size_t n, nfresh = 0;

	if (!c->cap)
		return;
	n = fog_prof_capture__pids(c->cap, pids, MAX_NEW_PIDS);
	fresh = n ? malloc(n * sizeof(*fresh)) : NULL;
	if (!fresh)
		return;
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < c->nseen && c->seen[j] != pids[i]; j++)
			;
		if (j < c->nseen)
			continue;
		if (c->nseen == c->cap_seen) {
			size_t cap = c->cap_seen ? c->cap_seen * 2 : 256;
			__u32 *v = realloc(c->seen, cap * sizeof(*v));

			if (!v)
				return;
			c->seen = v;
			c->cap_seen = cap;
		}
		c->seen[c->nseen++] = pids[i];
		fresh[nfresh++] = pids[i];
	}
	if (!nfresh) {
		free(fresh);
		return;
	}
	enqueue(c, &(struct job){ .pids = fresh, .npids = nfresh });
}

/* Under c->lock. */
static void open_ring(struct fog_prof_continuous *c)
{
	char err[256];

	if (c->ring)
		return;
	c->ring = fog_prof_ring__new(c->dir, c->max_bytes, c->max_age_s, err, sizeof(err));
	if (!c->ring)
		fail(c, err);
}

/* Under c->lock: the ring for a read, opened if it can be (nothing counted if not). */
static void open_ring_to_read(struct fog_prof_continuous *c)
{
	char err[256];

	if (!c->ring)
		c->ring = fog_prof_ring__new(c->dir, c->max_bytes, c->max_age_s, err, sizeof(err));
}

/*
 * The worker's half of a window's end: symbolizes, encodes and writes it,
 * then hands the capture back for the next window (or frees it).
 */
static void build_window(struct fog_prof_continuous *c, struct job *j)
{
	__u64 t0 = fog_clock_ns(CLOCK_MONOTONIC);
	struct fog_prof *p = fog_prof__new(FOG_PROF_CPU);
	char err[512];
	void *buf = NULL;
	size_t len = 0;
	int rc = -ENOMEM;

	if (p) {
		p->start_unix_ns = j->start_unix_ns;
		p->duration_ns = j->duration_ns;
		snprintf(p->target, sizeof(p->target), "host (continuous)");
		rc = fog_prof_capture__build(j->cap, c->sym, p);
	}
	pthread_mutex_lock(&c->lock);
	if (!rc && !p->total && !j->keep_empty)
		goto out;	/* stopping right after a window began: nothing to keep */
	if (!rc) {
		pthread_mutex_unlock(&c->lock);
		rc = fog_prof_pprof(p, &buf, &len);
		pthread_mutex_lock(&c->lock);
	}
	if (rc) {
		snprintf(err, sizeof(err), "building the snapshot failed: %s", strerror(-rc));
		fail(c, err);
		goto out;
	}
	open_ring(c);
	if (!c->ring)
		goto out;
	rc = fog_prof_ring__write(c->ring, (time_t)(j->start_unix_ns / 1000000000ULL), buf, len,
				  (time_t)(fog_clock_ns(CLOCK_REALTIME) / 1000000000ULL), err,
				  sizeof(err));
	if (rc) {
		fail(c, err);
		goto out;
	}
	c->snapshots++;
	c->samples += p->total;
out:
	c->last_seconds = (double)(fog_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	if (c->last_seconds > c->max_seconds)
		c->max_seconds = c->last_seconds;
	if (p)
		fog_debug("continuous profile: %llu samples, %zu bytes, built and written in "
			  "%.3f s", (unsigned long long)p->total, len, c->last_seconds);
	if (j->keep_empty && !c->returned) {
		c->returned = j->cap;
		j->cap = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	free(buf);
	fog_prof__free(p);
	fog_prof_capture__free(j->cap);
	/* processes that exited are forgotten, the rest keep their symbols */
	fog_symbolizer__prune(c->sym);
}

static void *worker_main(void *arg)
{
	struct fog_prof_continuous *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct job j;

		while (!c->njobs && !c->quit)
			pthread_cond_wait(&c->wake, &c->lock);
		if (!c->njobs)
			break;	/* quit, with nothing left to do */
		j = c->jobs[c->job_head];
		c->job_head = (c->job_head + 1) % MAX_JOBS;
		c->njobs--;
		c->busy = true;
		pthread_mutex_unlock(&c->lock);
		if (j.cap) {
			build_window(c, &j);
		} else {
			for (size_t i = 0; i < j.npids; i++)
				fog_symbolizer__add_pid(c->sym, j.pids[i]);
			free(j.pids);
		}
		pthread_mutex_lock(&c->lock);
		c->busy = false;
		if (!c->njobs)
			pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/*
 * Ends the window: the next one starts first (so sampling never pauses; the
 * two overlap for the microseconds between attaching one and detaching the
 * other), then the finished one goes to the worker. restart false stops.
 */
static void end_window(struct fog_prof_continuous *c, bool restart)
{
	struct fog_prof_capture *old = c->cap;
	__u64 now = fog_clock_ns(CLOCK_MONOTONIC);
	struct job j;

	if (!old)
		return;
	snapshot_new_pids(c);
	fog_prof_capture__stop(old);
	j = (struct job){ .cap = old, .start_unix_ns = c->start_unix_ns,
			  .duration_ns = now - c->start_mono_ns, .keep_empty = restart };
	c->cap = NULL;
	if (restart)
		start_window(c);
	if (!enqueue(c, &j)) {
		pthread_mutex_lock(&c->lock);
		fail(c, "the snapshot worker is behind (a symbol helper that does not answer?): "
			"a window is lost");
		pthread_mutex_unlock(&c->lock);
		fog_prof_capture__free(old);
	}
}

/* The capture the worker is done with becomes the spare the next window starts from. */
static void take_returned(struct fog_prof_continuous *c)
{
	struct fog_prof_capture *r;

	pthread_mutex_lock(&c->lock);
	r = c->returned;
	c->returned = NULL;
	pthread_mutex_unlock(&c->lock);
	if (r && !c->spare)
		c->spare = r;
	else
		fog_prof_capture__free(r);
}

static void on_tick(void *ctx)
{
	struct fog_prof_continuous *c = ctx;
	__u64 now = fog_clock_ns(CLOCK_MONOTONIC);

	take_returned(c);
	if (!c->on) {	/* alert profiles may be kept in the ring: its age limit holds */
		pthread_mutex_lock(&c->lock);
		if (c->ring)
			fog_prof_ring__expire(c->ring,
					      (time_t)(fog_clock_ns(CLOCK_REALTIME) / 1000000000ULL));
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (!c->cap) {	/* the sampler failed to start: try again, once a window */
		if (now < c->retry_ns)
			return;
		c->retry_ns = now + (__u64)(c->snapshot_s * 1e9);
		if (start_window(c))
			return;
	}
	snapshot_new_pids(c);
	/* half a tick early rather than a whole tick late */
	if ((double)(now - c->start_mono_ns) + TICK_MS * 1e6 / 2 >= c->snapshot_s * 1e9) {
		end_window(c, true);
	} else {
		pthread_mutex_lock(&c->lock);
		if (c->ring)
			fog_prof_ring__expire(c->ring,
					      (time_t)(fog_clock_ns(CLOCK_REALTIME) / 1000000000ULL));
		pthread_mutex_unlock(&c->lock);
	}
}

static int get_list(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_prof_continuous *c = ctx;
	json_t *j;

	pthread_mutex_lock(&c->lock);
	j = json_pack("{s:b,s:b,s:I,s:f,s:s,s:I,s:f,s:I,s:I,s:f,s:f}", "enabled", c->on, "sampling",
		      c->cap != NULL, "frequency", (json_int_t)c->frequency, "snapshot_seconds",
		      c->snapshot_s, "directory", c->dir, "max_bytes", (json_int_t)c->max_bytes,
		      "max_age_seconds", c->max_age_s, "written", (json_int_t)c->snapshots,
		      "errors", (json_int_t)c->errors, "last_build_seconds", c->last_seconds,
		      "max_build_seconds", c->max_seconds);
	if (!j) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	json_object_set_new(j, "last_error", c->last_error[0] ? json_string(c->last_error) :
								  json_null());
	if (c->cap)
		json_object_set_new(j, "window_seconds",
				    json_real((double)(fog_clock_ns(CLOCK_MONOTONIC) -
						       c->start_mono_ns) / 1e9));
	json_object_set_new(j, "bytes", json_integer(c->ring ? (json_int_t)
						     fog_prof_ring__bytes(c->ring) : 0));
	json_object_set_new(j, "removed", json_integer(c->ring ? (json_int_t)
						       fog_prof_ring__removed(c->ring) : 0));
	json_object_set_new(j, "snapshots", c->ring ? fog_prof_ring__json(c->ring) : json_array());
	json_object_set_new(j, "lost_jobs", json_integer((json_int_t)c->dropped));
	pthread_mutex_unlock(&c->lock);
	return fog_http_json(resp, 200, j);
}

static int get_snapshot(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_prof_continuous *c = ctx;
	const char *name = req->path + strlen("/api/v1/profiles/continuous/");
	void *buf;
	size_t n;
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = c->ring ? fog_prof_ring__read(c->ring, name, &buf, &n) : -ENODATA;
	pthread_mutex_unlock(&c->lock);
	if (rc == -ENODATA)
		return fog_http_error(resp, 404, "no snapshots: %s", c->on ?
				      "none written yet" : "[profile] continuous is off");
	if (rc == -ENOENT)
		return fog_http_error(resp, 404, "no snapshot '%.64s' (see /api/v1/profiles/"
				      "continuous)", name);
	if (rc)
		return fog_http_error(resp, 500, "cannot read snapshot %.64s: %s", name,
				      strerror(-rc));
	resp->status = 200;
	resp->content_type = "application/octet-stream";	/* gzipped pprof, as Go serves it */
	resp->body = buf;
	resp->len = n;
	return 0;
}

static void metrics(void *ctx, struct fog_prom *w)
{
	struct fog_prof_continuous *c = ctx;

	pthread_mutex_lock(&c->lock);
	fog_prom__family(w, "fog_profile_continuous_enabled", FOG_PROM_GAUGE,
			 "Whether continuous CPU profiling samples the host");
	fog_prom__sample(w, NULL, c->on && c->cap);
	fog_prom__family(w, "fog_profile_continuous_snapshots", FOG_PROM_COUNTER,
			 "Continuous profile snapshots written");
	fog_prom__sample(w, NULL, (double)c->snapshots);
	fog_prom__family(w, "fog_profile_continuous_errors", FOG_PROM_COUNTER,
			 "Continuous profile snapshots lost (full disk, unwritable folder)");
	fog_prom__sample(w, NULL, (double)c->errors);
	fog_prom__family(w, "fog_profile_continuous_samples", FOG_PROM_COUNTER,
			 "CPU samples in the snapshots written");
	fog_prom__sample(w, NULL, (double)c->samples);
	fog_prom__family(w, "fog_profile_continuous_bytes", FOG_PROM_GAUGE,
			 "Size of the snapshots kept on disk");
	fog_prom__sample(w, NULL, c->ring ? (double)fog_prof_ring__bytes(c->ring) : 0);
	fog_prom__family(w, "fog_profile_continuous_files", FOG_PROM_GAUGE,
			 "Snapshots kept on disk");
	fog_prom__sample(w, NULL, c->ring ? (double)fog_prof_ring__count(c->ring) : 0);
	fog_prom__family(w, "fog_profile_continuous_removed", FOG_PROM_COUNTER,
			 "Snapshots removed by the size and age limits");
	fog_prom__sample(w, NULL, c->ring ? (double)fog_prof_ring__removed(c->ring) : 0);
	fog_prom__family(w, "fog_profile_continuous_build_seconds", FOG_PROM_GAUGE,
			 "Time the last snapshot took to symbolize, encode and write");
	fog_prom__sample(w, NULL, c->last_seconds);
	pthread_mutex_unlock(&c->lock);
	/* every symbolizer's refusals (elfsym.c), for on-demand and continuous profiles alike */
	fog_prom__family(w, "fog_profile_symbolize_errors", FOG_PROM_COUNTER,
			 "Symbolizer inputs refused or cut short, by reason (files, perf maps, "
			 "maps of profiled processes)");
	for (int r = 0; r < FOG_SYMERR_N; r++)
		fog_prom__sample(w, (const char *[]){ "reason", fog_symerr_name(r), NULL },
				 (double)fog_symerr_count(r));
	/* the allocation sampler's files (alloc.c), read by memory profiles */
	fog_prom__family(w, "fog_profile_sampler_errors", FOG_PROM_COUNTER,
			 "Allocation sampler files refused or repaired, by reason (not a regular "
			 "file, wrong size, bad format, counts past their tables, I/O error)");
	for (int r = 0; r < FOG_ALLOC_ERR_N; r++)
		fog_prom__sample(w, (const char *[]){ "reason", fog_alloc_err_name(r), NULL },
				 (double)fog_alloc_err_count(r));
}

static void take_cfg(struct fog_prof_continuous *c, const struct fog_config *cfg)
{
	c->on = cfg->prof_continuous;
	c->frequency = cfg->prof_frequency;
	c->fp_only = !cfg->prof_unwind;
	c->no_python = !cfg->prof_python;
	c->snapshot_s = cfg->prof_snapshot_s;
	snprintf(c->dir, sizeof(c->dir), "%s", cfg->prof_dir);
	c->max_bytes = cfg->prof_max_bytes;
	c->max_age_s = cfg->prof_max_age_s;
}

static void start(struct fog_prof_continuous *c)
{
	pthread_mutex_lock(&c->lock);
	open_ring(c);
	if (c->ring)
		fog_prof_ring__expire(c->ring, (time_t)(fog_clock_ns(CLOCK_REALTIME) / 1000000000ULL));
	pthread_mutex_unlock(&c->lock);
	if (start_window(c))
		return;
	fog_info("continuous profile: sampling the host at %u Hz, a snapshot every %g s into %s",
		 c->frequency, c->snapshot_s, c->dir);
	/* the second capture is loaded now, not in the loop at the first window's end */
	if (!c->spare) {
		struct fog_prof_capture_opts o = { .target = FOG_PROF_TARGET_HOST,
						   .frequency = c->frequency,
					   .fp_only = c->fp_only,
					   .no_python = c->no_python };
		char err[256];

		c->spare = fog_prof_capture__new(&o, err, sizeof(err));
		fog_prof_capture__stop(c->spare);
	}
}

struct fog_prof_continuous *fog_prof_continuous__new(struct fog_http *h, struct fog_loop *loop,
						     const struct fog_config *cfg)
{
	struct fog_prof_continuous *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->loop = loop;
	c->timer = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->idle, NULL);
	take_cfg(c, cfg);
	c->cache = fog_elfcache__new(ELF_CACHE_FILES);
	c->sym = c->cache ? fog_symbolizer__new(c->cache) : NULL;
	if (!c->sym) {
		err = -ENOMEM;
		goto fail;
	}
	err = -pthread_create(&c->worker, NULL, worker_main, c);
	if (err)
		goto fail;
	c->have_worker = true;
	err = fog_http__route(h, "GET", "/api/v1/profiles/continuous", FOG_HTTP_UNIX,
			      get_list, c);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/profiles/continuous/",
				      FOG_HTTP_UNIX, get_snapshot, c);
	if (!err)
		err = fog_metrics_add(metrics, c);
	if (err)
		goto fail;
	c->timer = fog_loop__add_timer(loop, "continuous profile", TICK_MS, on_tick, c);
	if (c->timer < 0) {
		err = c->timer;
		goto fail;
	}
	if (c->on)
		start(c);
	return c;
fail:
	fog_prof_continuous__free(c);
	errno = -err;
	return NULL;
}

void fog_prof_continuous__free(struct fog_prof_continuous *c)
{
	if (!c)
		return;
	if (c->timer >= 0)
		fog_loop__del_timer(c->loop, c->timer);
	if (c->have_worker) {
		end_window(c, false);	/* the last window is kept too */
		pthread_mutex_lock(&c->lock);
		c->quit = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->worker, NULL);	/* after the jobs queued */
	} else {
		fog_prof_capture__free(c->cap);
	}
	fog_prof_capture__free(c->returned);
	fog_prof_capture__free(c->spare);
	fog_prof_ring__free(c->ring);
	fog_symbolizer__free(c->sym);
	fog_elfcache__free(c->cache);
	pthread_cond_destroy(&c->idle);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c->seen);
	free(c);
}

void fog_prof_continuous__reconfigure(struct fog_prof_continuous *c, const struct fog_config *cfg)
{
	bool sampler = c->on != cfg->prof_continuous || c->frequency != cfg->prof_frequency ||
		       c->fp_only != !cfg->prof_unwind || c->no_python != !cfg->prof_python;
	bool ring = strcmp(c->dir, cfg->prof_dir) || c->max_bytes != cfg->prof_max_bytes ||
		    c->max_age_s != cfg->prof_max_age_s;

	if (sampler || ring) {
		end_window(c, false);	/* written under the settings it was sampled with */
		drain(c);
		take_returned(c);
		fog_prof_capture__free(c->spare);	/* it samples at the old frequency */
		c->spare = NULL;
	}
	if (ring) {
		pthread_mutex_lock(&c->lock);
		fog_prof_ring__free(c->ring);
		c->ring = NULL;
		pthread_mutex_unlock(&c->lock);
	}
	take_cfg(c, cfg);
	if (!c->on) {
		if (sampler)
			fog_info("continuous profile: stopped");
		return;
	}
	if (!c->cap) {
		start(c);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (c->ring)	/* a shorter max_age applies now */
		fog_prof_ring__expire(c->ring, (time_t)(fog_clock_ns(CLOCK_REALTIME) / 1000000000ULL));
	pthread_mutex_unlock(&c->lock);
}

int fog_prof_continuous__keep(struct fog_prof_continuous *c, const char *prefix, time_t t,
			      const void *buf, size_t n, char *name, size_t nlen, char *err,
			      size_t elen)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	if (!c->ring)	/* its failure is the caller's to count, not a snapshot lost */
		c->ring = fog_prof_ring__new(c->dir, c->max_bytes, c->max_age_s, err, elen);
	if (!c->ring) {
		rc = -errno;
		pthread_mutex_unlock(&c->lock);
		return rc ? rc : -EIO;
	}
	rc = fog_prof_ring__write_as(c->ring, prefix, t, buf, n,
				     (time_t)(fog_clock_ns(CLOCK_REALTIME) / 1000000000ULL), err,
				     elen);
	if (!rc)
		fog_prof_ring__find_newest(c->ring, prefix, name, nlen);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int fog_prof_continuous__read(struct fog_prof_continuous *c, const char *name, void **buf,
			      size_t *n)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	open_ring_to_read(c);
	rc = c->ring ? fog_prof_ring__read(c->ring, name, buf, n) : -ENODATA;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int fog_prof_continuous__read_newest(struct fog_prof_continuous *c, const char *prefix, void **buf,
				     size_t *n)
{
	char name[64];
	int rc;

	pthread_mutex_lock(&c->lock);
	open_ring_to_read(c);
	rc = !c->ring ? -ENODATA : fog_prof_ring__find_newest(c->ring, prefix, name, sizeof(name));
	if (!rc)
		rc = fog_prof_ring__read(c->ring, name, buf, n);
	pthread_mutex_unlock(&c->lock);
	return rc;
}
