// SPDX-License-Identifier: GPL-2.0-only
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
#include "base/heap.h"
#include "base/log.h"
#include "base/loop.h"
#include "collect/agg.h"
#include "export/http.h"
#include "fog/profiler.h"
#include "profile/bottleneck.h"
#include "profile/render.h"
#include "profile/server.h"
#include "profile/server_int.h"
#include "profile/session.h"
#include "profile/uprobe.h"

struct figures_walk {
	fog_prof_figures_fn fn;
	void *ctx;
};

static void figures_of(struct fog_proc *pr, void *ctx)
{
	struct figures_walk *w = ctx;
	struct fog_prof_task_figures f = {
		.pid = pr->pid,
		.oncpu_ns = pr->oncpu_ns,
		.io_read_bytes = pr->io_read_bytes,
		.io_write_bytes = pr->io_write_bytes,
		.runq_p99_ns = pr->runq_p99_ns,
		.rss_bytes = pr->rss_bytes,
	};

	_Static_assert(sizeof(f.comm) <= sizeof(pr->comm), "comm fits");
	memcpy(f.comm, pr->comm, sizeof(f.comm));
	f.comm[sizeof(f.comm) - 1] = '\0';
	w->fn(&f, w->ctx);
}

/* The session's view of the daemon's process table (collect/agg). */
static void each_task(void *src, fog_prof_figures_fn fn, void *ctx)
{
	struct figures_walk w = { fn, ctx };

	fog_agg__for_each(src, figures_of, &w);
}

static void finish_memory(struct session *s, int err)
{
	if (err) {
		s->state = S_FAILED;
		snprintf(s->error, sizeof(s->error), "%s", fog_profile_strerror());
		fog_warnx("profile %u: %s", s->id, s->error);
		return;
	}
	s->state = S_DONE;
	fog_info("memory profile %u of %s done: %llu bytes live (estimated)", s->id, s->target,
		 (unsigned long long)fog_profile_result_total(s->mr, FOG_PROFILE_VIEW_INUSE));
}

static void finish_uprobe(struct session *s, int err)
{
	if (err) {
		s->state = S_FAILED;
		snprintf(s->error, sizeof(s->error), "building the uprobe memory profile failed: %s",
			 strerror(-err));
		fog_warnx("profile %u: %s", s->id, s->error);
		return;
	}
	s->state = S_DONE;
	fog_info("uprobe memory profile %u of %s done: %llu samples, %llu bytes live (estimated)",
		 s->id, s->target, (unsigned long long)fog_memprobe__samples(s->up),
		 (unsigned long long)fog_memprobe__prof(s->up, false)->total);
}

static void *read_target_thread(void *arg)
{
	fog_memprobe__read_target(((struct session *)arg)->up);
	return NULL;
}

/* Joins the thread that read the target's files at the start, if any. */
static void join_reader(struct session *s)
{
	if (s->reading)
		pthread_join(s->reader, NULL);
	s->reading = false;
}

/* The finisher: detaches the uprobes and builds the memory profiles, or stops the preload's. */
static void *finish_thread(void *arg)
{
	struct session *s = arg;

	join_reader(s);
	if (s->up) {
		s->finish_err = fog_memprobe__finish(s->up);
	} else if (s->mp) {
		s->finish_err = fog_profile_stop(s->mp, &s->mr);
		s->mp = NULL;
	}
	atomic_store_explicit(&s->finished, true, memory_order_release);
	return NULL;
}

/* The loop's half, once the finisher is done: the state and the log line. */
static void finished(struct session *s)
{
	if (s->up)
		finish_uprobe(s, s->finish_err);
	else
		finish_memory(s, s->finish_err);
}

static void finish(struct fog_profiler *pr, struct session *s)
{
	(void)pr;
	if (!s->up && !s->mp)
		return;
	atomic_store(&s->finished, false);
	s->finishing = !pthread_create(&s->finisher, NULL, finish_thread, s);
	if (!s->finishing) {	/* no thread to be had: here, then */
		finish_thread(s);
		finished(s);
	}
}

/* Joins a finisher that is done (or, wait true, waits for it). */
static void join_finisher(struct session *s, bool wait)
{
	if (!s->finishing ||
	    (!wait && !atomic_load_explicit(&s->finished, memory_order_acquire)))
		return;
	pthread_join(s->finisher, NULL);
	s->finishing = false;
	finished(s);
}

/* A CPU session whose thread has built the profile: the collectors' figures, then done. */
static void cpu_done(struct fog_profiler *pr, struct session *s, int err)
{
	fog_prof_session__procs(s->ps, each_task, pr->agg, true);
	if (err) {
		s->state = S_FAILED;
		snprintf(s->error, sizeof(s->error), "reading the samples failed: %s",
			 strerror(-err));
		fog_warnx("profile %u: %s", s->id, s->error);
		return;
	}
	s->state = S_DONE;
	fog_info("profile %u of %s done: %llu samples", s->id, s->target,
		 (unsigned long long)fog_prof_session__prof(s->ps)->total);
}


static void on_timer(void *ctx)
{
	struct fog_profiler *pr = ctx;
	__u64 now = fog_now_ns();

	fog_prof_srv_pprof_poll(pr, now);
	fog_prof_srv_renders_poll(pr, false);
	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct session *s = &pr->sessions[i];

		if (!s->id || s->state != S_RUNNING)
			continue;
		if (s->finishing) {
			join_finisher(s, false);
			continue;
		}
		if (s->up) {	/* its own clock: time limit, duty cycle, the process's exit */
			if (fog_memprobe__poll(s->up))
				finish(pr, s);
			continue;
		}
		if (s->ps) {	/* its thread samples, snapshots and builds */
			int err;

			/* the end is the loop's: the collectors' figures at the same moment */
			if (now - s->started_ns >= (__u64)s->seconds * 1000000000ULL) {
				fog_prof_session__mark_end(s->ps, each_task, pr->agg);
				fog_prof_session__stop_async(s->ps);
			}
			if (fog_prof_session__async_done(s->ps, &err))
				cpu_done(pr, s, err);
			continue;
		}
		if (now - s->started_ns >= (__u64)s->seconds * 1000000000ULL)
			finish(pr, s);
	}
}

json_t *fog_prof_srv_session_json(struct session *s)
{
	double elapsed = (double)(fog_now_ns() - s->started_ns) / 1e9;
	static const char *const names[] = { "running", "done", "failed" };
	json_t *j = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)s->id, "state",
			      names[s->state], "target", s->target, "seconds",
			      (json_int_t)s->seconds);

	json_object_set_new(j, "mode", json_string(s->ps ? (s->offcpu ? "offcpu" : "cpu") : "mem"));
	if (!s->ps)
		json_object_set_new(j, "mem_source", json_string(s->up ? "uprobe" : "preload"));
	if (s->finishing)
		json_object_set_new(j, "finishing", json_true());
	else if (s->up) {
		json_object_set_new(j, "uprobe", fog_memprobe__json(s->up));
		json_object_set_new(j, "samples", json_integer((json_int_t)
							       fog_memprobe__samples(s->up)));
	}
	if (s->state == S_RUNNING) {
		json_object_set_new(j, "elapsed_seconds", json_real(elapsed));
		if (s->ps)
			json_object_set_new(j, "samples", json_integer((json_int_t)
						fog_prof_session__samples(s->ps)));
	}
	if (s->state == S_FAILED)
		json_object_set_new(j, "error", json_string(s->error));
	if (s->state == S_DONE)
		json_object_set_new(j, "renders_kept", json_integer(s->ncached));
	return j;
}

static void session_clear(struct session *s)
{
	join_finisher(s, true);
	join_reader(s);
	for (unsigned int i = 0; i < s->ncached; i++)
		free(s->cached[i].body);
	fog_prof_session__free(s->ps);	/* stops and joins its thread */
	fog_profile_stop(s->mp, NULL);
	fog_profile_result__free(s->mr);
	fog_memprobe__free(s->up);
	fog_elfcache__free(s->cache);	/* after ps and up, whose symbolizers hold its files */
	memset(s, 0, sizeof(*s));
}

/* The profile a GET renders: CPU, or for memory ?view=alloc or the live bytes (default). */
const struct fog_prof *fog_prof_srv_session_prof(struct session *s, const struct fog_http_req *req)
{
	const char *view = req ? fog_http_arg(req, "view") : NULL;

	if (s->ps)
		return fog_prof_session__prof(s->ps);
	if (s->up)
		return fog_memprobe__prof(s->up, view && !strcmp(view, "alloc"));
	if (!s->mr)
		return NULL;
	return fog_profile_result_prof(s->mr, view && !strcmp(view, "alloc") ?
					      FOG_PROFILE_VIEW_ALLOC : FOG_PROFILE_VIEW_INUSE);
}

static struct session *free_slot(struct fog_profiler *pr)
{
	struct session *oldest = NULL;
	int running = 0;

	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct session *s = &pr->sessions[i];

		if (!s->id)
			return s;
		if (s->state == S_RUNNING)
			running++;
		else if (!s->rendering && (!oldest || s->id < oldest->id))
			oldest = s;
	}
	if (running >= MAX_RUNNING || !oldest)
		return NULL;
	session_clear(oldest);
	return oldest;
}

/* Fills the capture options from a request body; on error writes resp and returns -EINVAL. */
static int parse_target(struct fog_profiler *pr, json_t *body, struct fog_prof_capture_opts *o,
			char *target, size_t tlen, struct fog_http_resp *resp)
{
	json_t *pid = json_object_get(body, "pid"), *cg = json_object_get(body, "cgroup");
	json_t *all = json_object_get(body, "all");
	int given = !!pid + !!cg + (json_is_true(all) ? 1 : 0);

	if (given != 1) {
		fog_http_error(resp, 400, "give exactly one of \"pid\", \"cgroup\" or \"all\": true");
		return -EINVAL;
	}
	if (pid) {
		json_int_t v = json_integer_value(pid);

		if (!json_is_integer(pid) || v <= 0 || v > 4194304) {
			fog_http_error(resp, 400, "\"pid\" must be a process id (1..4194304)");
			return -EINVAL;
		}
		o->target = FOG_PROF_TARGET_PID;
		o->pid = (__u32)v;
		snprintf(target, tlen, "pid %u", o->pid);
	} else if (cg) {
		const char *path = json_string_value(cg);
		char dir[1024];

		if (!path || path[0] != '/' || strstr(path, "/..") || !pr->cgroup.mount[0]) {
			fog_http_error(resp, 400, "\"cgroup\" must be an absolute cgroup path such "
				       "as /user.slice (relative to the hierarchy's mount)");
			return -EINVAL;
		}
		snprintf(dir, sizeof(dir), "%s%s", pr->cgroup.mount, path);
		o->target = FOG_PROF_TARGET_CGROUP;
		o->cgroup_id = fog_cgroup_id_of(dir);
		o->cgroup_mode = pr->cgroup.mode;
		if (!o->cgroup_id) {
			fog_http_error(resp, 404, "no cgroup %.200s in the %s hierarchy (%.200s)",
				       path, fog_cgroup_mode_name(pr->cgroup.mode),
				       pr->cgroup.mount);
			return -EINVAL;
		}
		snprintf(target, tlen, "cgroup %s", path);
	} else {
		o->target = FOG_PROF_TARGET_HOST;
		snprintf(target, tlen, "host");
	}
	return 0;
}

static int get_uint(json_t *body, const char *key, unsigned int def, unsigned int max,
		    unsigned int *out, struct fog_http_resp *resp)
{
	json_t *v = json_object_get(body, key);

	*out = def;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max) {
		fog_http_error(resp, 400, "\"%s\" must be an integer in 1..%u", key, max);
		return -EINVAL;
	}
	*out = (unsigned int)json_integer_value(v);
	return 0;
}

/* Where a memory profile's samples come from. */
enum mem_source { MEM_PRELOAD, MEM_UPROBE, MEM_AUTO };

struct mem_req {
	enum mem_source source;
	struct fog_memprobe_opts uo;
};

/*
 * "mem_source": "preload" (default: the process runs with libfogalloc.so),
 * "uprobe" (any process, through uprobes on its libc) or "auto" (uprobes when
 * the sampler is absent); "duty_on_ms" and "duty_off_ms" duty-cycle the uprobes.
 */
static int parse_mem_source(json_t *body, struct mem_req *mq, struct fog_http_resp *resp)
{
	json_t *src = json_object_get(body, "mem_source"), *secs = json_object_get(body, "seconds");
	const char *v = src ? json_string_value(src) : "preload";
	unsigned int on, off;

	if (!v || (strcmp(v, "preload") && strcmp(v, "uprobe") && strcmp(v, "auto"))) {
		fog_http_error(resp, 400, "\"mem_source\" must be \"preload\" (a process run with "
			       "libfogalloc.so), \"uprobe\" (any process: uprobes on its libc, "
			       "microseconds per allocation) or \"auto\"");
		return -EINVAL;
	}
	mq->source = !strcmp(v, "uprobe") ? MEM_UPROBE : !strcmp(v, "auto") ? MEM_AUTO :
									   MEM_PRELOAD;
	if (get_uint(body, "duty_on_ms", 0, 3600000, &on, resp) ||
	    get_uint(body, "duty_off_ms", 0, 3600000, &off, resp))
		return -EINVAL;
	if (!on != !off) {
		fog_http_error(resp, 400, "give both \"duty_on_ms\" and \"duty_off_ms\", or neither");
		return -EINVAL;
	}
	mq->uo.on_ms = on;
	mq->uo.off_ms = off;
	/* uprobes default to their own duration; the range of "seconds" is checked by the caller */
	mq->uo.seconds = json_is_integer(secs) && json_integer_value(secs) > 0 ?
				 (unsigned int)json_integer_value(secs) : 0;
	return 0;
}

/* Starts a memory profile from the source asked for; 0, or 1 when resp holds the error. */
static int start_memory(struct fog_profiler *pr, struct session *s, struct mem_req *mq, __u32 pid,
			unsigned int *seconds, struct fog_http_resp *resp)
{
	char err[256];
	int e;

	if (mq->source != MEM_UPROBE) {
		e = fog_profile_start((pid_t)pid, FOG_PROFILE_MEMORY | FOG_PROFILE_IO, NULL, &s->mp);
		if (!e)
			return 0;
		if (e != -ENOENT || mq->source == MEM_PRELOAD) {
			fog_http_error(resp, e == -ESRCH || e == -ENOENT ? 404 :
					     e == -EACCES || e == -EPERM ? 403 : 500,
				       "cannot start the profile: %s%s", fog_profile_strerror(),
				       e == -ENOENT ? "; or profile it through uprobes on its libc "
						      "(\"mem_source\": \"uprobe\", microseconds per "
						      "allocation)" : "");
			return 1;
		}
	}
	mq->uo.pid = pid;
	/* its own cache: its finisher thread reads it */
	s->cache = fog_elfcache__new(ELF_CACHE_FILES);
	s->up = s->cache ? fog_memprobe__new(&mq->uo, s->cache, err, sizeof(err)) : NULL;
	if (!s->cache)
		snprintf(err, sizeof(err), "out of memory");
	if (!s->up) {
		e = errno;
		fog_elfcache__free(s->cache);	/* the slot stays free */
		s->cache = NULL;
		fog_http_error(resp, e == ESRCH ? 404 : e == ENOENT ? 422 : e == EINVAL ? 400 :
				     e == EACCES || e == EPERM ? 403 : 500,
			       "cannot start the uprobe memory profile: %s", err);
		return 1;
	}
	/* the target's files are the tenant's: read on a thread, joined before the end */
	s->reading = !pthread_create(&s->reader, NULL, read_target_thread, s);
	if (!s->reading)
		fog_memprobe__read_target(s->up);
	*seconds = mq->uo.seconds ? mq->uo.seconds : FOG_MEMPROBE_DEFAULT_SECONDS;
	return 0;
}

static int post_profile(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_profiler *pr = ctx;
	struct fog_prof_capture_opts o = { 0 };
	struct mem_req mq = { 0 };
	json_error_t jerr;
	json_t *body, *mode, *kernel, *lines, *unwind, *python;
	struct session *s;
	unsigned int seconds, freq;
	char target[128], err[256];
	bool memory;

	body = json_loadb(req->body, req->body_len, 0, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		return fog_http_error(resp, 400, "body must be a JSON object: %s", jerr.text);
	}
	mode = json_object_get(body, "mode");
	kernel = json_object_get(body, "kernel");
	lines = json_object_get(body, "lines");
	unwind = json_object_get(body, "unwind");
	python = json_object_get(body, "python");
	if (mode && (!json_is_string(mode) || (strcmp(json_string_value(mode), "cpu") &&
						strcmp(json_string_value(mode), "mem") &&
						strcmp(json_string_value(mode), "offcpu")))) {
		json_decref(body);
		return fog_http_error(resp, 400, "\"mode\" must be \"cpu\", \"offcpu\" (time "
				      "blocked, by stack) or \"mem\" (memory, for a process "
				      "running with libfogalloc.so)");
	}
	if (lines && !json_is_boolean(lines)) {
		json_decref(body);
		return fog_http_error(resp, 400, "\"lines\" must be true or false");
	}
	if (unwind && !json_is_boolean(unwind)) {
		json_decref(body);
		return fog_http_error(resp, 400, "\"unwind\" must be true (DWARF unwinding, the "
				      "default) or false (frame pointers only)");
	}
	if (python && !json_is_boolean(python)) {
		json_decref(body);
		return fog_http_error(resp, 400, "\"python\" must be true (CPython frames, the "
				      "default) or false");
	}
	o.fp_only = json_is_false(unwind);
	o.no_python = json_is_false(python);
	memory = mode && !strcmp(json_string_value(mode), "mem");
	if (mode && !strcmp(json_string_value(mode), "offcpu"))
		o.mode = FOG_PROF_CAPTURE_OFFCPU;
	o.lines = json_is_true(lines);
	if (parse_target(pr, body, &o, target, sizeof(target), resp) ||
	    get_uint(body, "seconds", 10, MAX_SECONDS, &seconds, resp) ||
	    get_uint(body, "frequency", 99, MAX_FREQUENCY, &freq, resp) ||
	    (memory && parse_mem_source(body, &mq, resp))) {
		json_decref(body);
		return 0;
	}
	o.frequency = freq;
	o.no_kernel = kernel && json_is_false(kernel);
	json_decref(body);
	if (memory && o.target != FOG_PROF_TARGET_PID)
		return fog_http_error(resp, 400, "a memory profile needs a \"pid\"");
	s = free_slot(pr);
	if (!s)
		return fog_http_error(resp, 429, "%d profiles are running already", MAX_RUNNING);
	if (memory) {
		if (start_memory(pr, s, &mq, o.pid, &seconds, resp))
			return 0;
	} else {
		int e;

		s->cache = fog_elfcache__new(ELF_CACHE_FILES);
		if (!s->cache)
			return fog_http_error(resp, 500, "cannot start the profile: out of memory");
		s->ps = fog_prof_session__new(&o, target, s->cache, err, sizeof(err));
		if (!s->ps) {
			e = errno;
			session_clear(s);
			return fog_http_error(resp, e == ESRCH ? 404 : e == EACCES || e == EPERM ?
						    403 : 500, "cannot start the profile: %s", err);
		}
		fog_prof_session__procs(s->ps, each_task, pr->agg, false);
		/* the loop stops it on time (on_timer); its own deadline is a backstop */
		e = fog_prof_session__run_async(s->ps, seconds + 5.0, POLL_MS, NULL);
		if (e) {
			session_clear(s);
			return fog_http_error(resp, 500, "cannot start the profile's thread: %s",
					      strerror(-e));
		}
	}
	s->id = ++pr->next_id;
	s->offcpu = o.mode == FOG_PROF_CAPTURE_OFFCPU;
	s->state = S_RUNNING;
	s->seconds = seconds;
	s->started_ns = fog_now_ns();
	snprintf(s->target, sizeof(s->target), "%s", target);
	if (s->up)
		fog_info("uprobe memory profile %u of %s started for %u s", s->id, target, seconds);
	else if (memory)
		fog_info("memory profile %u of %s started for %u s", s->id, target, seconds);
	else if (s->offcpu)
		fog_info("off-CPU profile %u of %s started for %u s", s->id, target, seconds);
	else
		fog_info("profile %u of %s started for %u s at %u Hz", s->id, target, seconds, freq);
	return fog_http_json(resp, 202, fog_prof_srv_session_json(s));
}

static int list_profiles(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_profiler *pr = ctx;
	json_t *a = json_array();

	for (int i = 0; i < MAX_SESSIONS; i++)
		if (pr->sessions[i].id)
			json_array_append_new(a, fog_prof_srv_session_json(&pr->sessions[i]));
	return fog_http_json(resp, 200, json_pack("{s:o}", "profiles", a));
}

struct fog_profiler *fog_profiler__new(struct fog_http *h, struct fog_loop *loop,
				       struct fog_agg *agg, const struct fog_cgroup_info *cgroup)
{
	struct fog_profiler *pr = calloc(1, sizeof(*pr));
	int err;

	if (!pr)
		return NULL;
	pr->loop = loop;
	pr->agg = agg;
	if (cgroup)
		pr->cgroup = *cgroup;
	pr->timer = -1;
	err = fog_http__route(h, "POST", "/api/v1/profile", FOG_HTTP_UNIX, post_profile, pr);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/profile", FOG_HTTP_TCP_PPROF,
				      list_profiles, pr);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/profile/", FOG_HTTP_TCP_PPROF,
				      fog_prof_srv_get_profile, pr);
	if (!err)
		err = fog_http__route(h, "GET", "/debug/pprof/profile", FOG_HTTP_TCP_PPROF,
				      fog_prof_srv_get_pprof, pr);
	if (err)
		goto fail;
	pr->timer = fog_loop__add_timer(loop, "profile sessions", POLL_MS, on_timer, pr);
	if (pr->timer < 0) {
		err = pr->timer;
		goto fail;
	}
	return pr;
fail:
	fog_profiler__free(pr);
	errno = -err;
	return NULL;
}

void fog_profiler__free(struct fog_profiler *pr)
{
	if (!pr)
		return;
	if (pr->timer >= 0)
		fog_loop__del_timer(pr->loop, pr->timer);
	fog_prof_srv_renders_poll(pr, true);	/* before the profiles they read go */
	for (int i = 0; i < MAX_SESSIONS; i++)
		session_clear(&pr->sessions[i]);
	for (int i = 0; i < MAX_PPROF; i++)
		if (pr->pprof[i].ps)
			fog_prof_srv_pprof_finish(pr, &pr->pprof[i], true);
	free(pr);
}
