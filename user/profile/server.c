// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/heap.h"
#include "agent/log.h"
#include "agent/loop.h"
#include "collect/collector.h"
#include "export/http.h"
#include "fog/profiler.h"
#include "profile/bottleneck.h"
#include "profile/render.h"
#include "profile/server.h"
#include "profile/session.h"
#include "profile/uprobe.h"

#define MAX_SESSIONS 8	/* running and finished, the oldest finished one goes first */
#define MAX_RUNNING 4
#define MAX_SECONDS 3600
#define MAX_FREQUENCY 10000
#define PPROF_DEFAULT_SECONDS 30	/* as Go's net/http/pprof */
#define PPROF_MAX_SECONDS 300
#define MAX_PPROF 2	/* /debug/pprof/profile requests sampling at once */
#define POLL_MS 250
#define ELF_CACHE_FILES 256
#define MAX_RENDERS 4	/* GET .../FORMAT rendering at once, each on its own thread */
#define MAX_CACHED 8	/* renders kept per profile */
#define CACHE_MAX_BODY (32u << 20)	/* a larger render is sent, not kept */

enum state { S_RUNNING, S_DONE, S_FAILED };

struct session {
	unsigned int id;	/* 0: slot free */
	enum state state;
	struct fog_prof_session *ps;	/* CPU: runs on its own thread (run_async) */
	struct fog_elfcache *cache;	/* ps's or up's own: their threads read the ELF files */
	struct fog_profile *mp;	/* memory (and I/O), through the library API */
	struct fog_profile_result *mr;
	struct fog_memprobe *up;	/* memory through uprobes (mem_source "uprobe") */
	bool offcpu;	/* ps is an off-CPU profile (mode "offcpu") */
	/*
	 * a memory profile's end (detaching, reading the sampler's file or the
	 * uprobes' maps, symbolizing) runs on a thread of its own; until it is
	 * done the loop reads nothing of mp, mr or up
	 */
	pthread_t reader;	/* up's: reads the target's files at the start */
	bool reading;
	pthread_t finisher;
	bool finishing;
	atomic_bool finished;
	int finish_err;
	/* renders of the finished profile, by format and view, newest last */
	struct cached {
		char key[32];
		char *body;
		size_t len;
		const char *content_type;
	} cached[MAX_CACHED];
	unsigned int ncached;
	unsigned int rendering;	/* render threads reading the profile */
	unsigned int seconds;
	__u64 started_ns;	/* monotonic */
	char target[128];
	char error[256];
};

/* A /debug/pprof/profile request waiting for its samples. */
struct pprof_wait {
	struct fog_prof_session *ps;	/* NULL: slot free; runs and renders on its thread */
	struct fog_elfcache *cache;	/* ps's own */
	struct fog_http_later *later;
	__u64 until_ns;	/* monotonic */
};

/* A GET .../FORMAT rendering on its own thread; the loop answers when it is done. */
struct render {
	struct session *s;	/* NULL: slot free */
	const struct fog_prof *p;
	char format[16];
	char key[32];
	struct fog_http_later *later;
	pthread_t thread;
	atomic_bool done;
	int err;
	struct fog_prof_output out;
};

struct fog_profiler {
	struct fog_collect *c;
	struct render renders[MAX_RENDERS];
	struct pprof_wait pprof[MAX_PPROF];
	int timer;
	unsigned int next_id;
	struct session sessions[MAX_SESSIONS];
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static struct fog_agg *agg_of(struct fog_profiler *pr)
{
	return pr->c ? pr->c->agg : NULL;
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
	fog_prof_session__procs(s->ps, agg_of(pr), true);
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

static void pprof_poll(struct fog_profiler *pr, __u64 now);
static void renders_poll(struct fog_profiler *pr, bool wait);

static void on_timer(void *ctx)
{
	struct fog_profiler *pr = ctx;
	__u64 now = mono_ns();

	pprof_poll(pr, now);
	renders_poll(pr, false);
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
				fog_prof_session__mark_end(s->ps, agg_of(pr));
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

static json_t *session_json(struct session *s)
{
	double elapsed = (double)(mono_ns() - s->started_ns) / 1e9;
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
static const struct fog_prof *session_prof(struct session *s, const struct fog_http_req *req)
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

		if (!path || path[0] != '/' || strstr(path, "/..") || !pr->c) {
			fog_http_error(resp, 400, "\"cgroup\" must be an absolute cgroup path such "
				       "as /user.slice (relative to the hierarchy's mount)");
			return -EINVAL;
		}
		snprintf(dir, sizeof(dir), "%s%s", pr->c->cgroup.mount, path);
		o->target = FOG_PROF_TARGET_CGROUP;
		o->cgroup_id = fog_cgroup_id_of(dir);
		o->cgroup_mode = pr->c->cgroup.mode;
		if (!o->cgroup_id) {
			fog_http_error(resp, 404, "no cgroup %.200s in the %s hierarchy (%.200s)",
				       path, fog_cgroup_mode_name(pr->c->cgroup.mode),
				       pr->c->cgroup.mount);
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
	json_t *body, *mode, *kernel, *lines, *unwind;
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
	o.fp_only = json_is_false(unwind);
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
		fog_prof_session__procs(s->ps, agg_of(pr), false);
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
	s->started_ns = mono_ns();
	snprintf(s->target, sizeof(s->target), "%s", target);
	if (s->up)
		fog_info("uprobe memory profile %u of %s started for %u s", s->id, target, seconds);
	else if (memory)
		fog_info("memory profile %u of %s started for %u s", s->id, target, seconds);
	else if (s->offcpu)
		fog_info("off-CPU profile %u of %s started for %u s", s->id, target, seconds);
	else
		fog_info("profile %u of %s started for %u s at %u Hz", s->id, target, seconds, freq);
	return fog_http_json(resp, 202, session_json(s));
}

static int list_profiles(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_profiler *pr = ctx;
	json_t *a = json_array();

	for (int i = 0; i < MAX_SESSIONS; i++)
		if (pr->sessions[i].id)
			json_array_append_new(a, session_json(&pr->sessions[i]));
	return fog_http_json(resp, 200, json_pack("{s:o}", "profiles", a));
}

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
static void renders_poll(struct fog_profiler *pr, bool wait)
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
static int get_profile(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
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
		return send_output(pr, s, session_prof(s, req), end + 1, req, resp);
	}
	j = session_json(s);
	if (s->state == S_DONE && session_prof(s, req)) {
		const struct fog_prof *p = session_prof(s, req);
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
static int get_pprof(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
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
	w->until_ns = mono_ns() + secs * 1000000000ULL;
	w->later = fog_http_defer(req);
	return FOG_HTTP_DEFERRED;
}

/* Answers a waiting pprof request: the profile, or stopping (503) when abort. */
static void pprof_finish(struct fog_profiler *pr, struct pprof_wait *w, bool abort)
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

static void pprof_poll(struct fog_profiler *pr, __u64 now)
{
	for (int i = 0; i < MAX_PPROF; i++) {
		struct pprof_wait *w = &pr->pprof[i];

		if (!w->ps)
			continue;
		if (now >= w->until_ns)
			fog_prof_session__stop_async(w->ps);
		if (fog_prof_session__async_done(w->ps, NULL))
			pprof_finish(pr, w, false);
	}
}

struct fog_profiler *fog_profiler__new(struct fog_http *h, struct fog_collect *c)
{
	struct fog_profiler *pr = calloc(1, sizeof(*pr));
	int err;

	if (!pr)
		return NULL;
	pr->c = c;
	pr->timer = -1;
	err = fog_http__route(h, "POST", "/api/v1/profile", FOG_HTTP_UNIX, post_profile, pr);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/profile", FOG_HTTP_TCP_PPROF,
				      list_profiles, pr);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/profile/", FOG_HTTP_TCP_PPROF,
				      get_profile, pr);
	if (!err)
		err = fog_http__route(h, "GET", "/debug/pprof/profile", FOG_HTTP_TCP_PPROF,
				      get_pprof, pr);
	if (err)
		goto fail;
	pr->timer = fog_loop__add_timer(c->loop, "profile sessions", POLL_MS, on_timer, pr);
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
		fog_loop__del_timer(pr->c->loop, pr->timer);
	renders_poll(pr, true);	/* before the profiles they read go */
	for (int i = 0; i < MAX_SESSIONS; i++)
		session_clear(&pr->sessions[i]);
	for (int i = 0; i < MAX_PPROF; i++)
		if (pr->pprof[i].ps)
			pprof_finish(pr, &pr->pprof[i], true);
	free(pr);
}
