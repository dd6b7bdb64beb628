/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The profiler server's state, shared by server.c (sessions: start, finish,
 * list, the timer) and server_output.c (renders on their own threads, the
 * render cache, /debug/pprof/profile).
 */
#ifndef FOG_PROF_SERVER_INT_H
#define FOG_PROF_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <jansson.h>

#include "base/cgroup.h"
#include "export/http.h"
#include "fog/profiler.h"
#include "profile/render.h"

struct fog_agg;
struct fog_loop;

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
	struct fog_loop *loop;
	struct fog_agg *agg;	/* the daemon's process table; NULL: none */
	struct fog_cgroup_info cgroup;	/* where cgroups are; mount "" unknown */
	struct render renders[MAX_RENDERS];
	struct pprof_wait pprof[MAX_PPROF];
	int timer;
	unsigned int next_id;
	struct session sessions[MAX_SESSIONS];
};

/* server.c */
const struct fog_prof *fog_prof_srv_session_prof(struct session *s, const struct fog_http_req *req);
json_t *fog_prof_srv_session_json(struct session *s);

/* server_output.c */
/* Answers the renders that are done (wait: joins every one first, at exit). */
void fog_prof_srv_renders_poll(struct fog_profiler *pr, bool wait);
/* Finishes the /debug/pprof/profile requests whose time is up at now. */
void fog_prof_srv_pprof_poll(struct fog_profiler *pr, __u64 now);
void fog_prof_srv_pprof_finish(struct fog_profiler *pr, struct pprof_wait *w, bool abort);
int fog_prof_srv_get_profile(const struct fog_http_req *req, struct fog_http_resp *resp,
			     void *ctx);
int fog_prof_srv_get_pprof(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx);

#endif /* FOG_PROF_SERVER_INT_H */
