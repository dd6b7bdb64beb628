// SPDX-License-Identifier: GPL-2.0-only
/*
 * The profiler's HTTP API (user/profile/server.c): POST /api/v1/profile bodies
 * (JSON from a client), GET /api/v1/profile/ID[/FORMAT] paths, and every output
 * format rendered from a profile whose function and module names come from the
 * input (as symbol names come from the ELF files of profiled processes).
 *
 * The routes and the timer are captured with ld --wrap; the capture session is
 * replaced by the one below, which records the options it was given and builds
 * its profile from the input, so no BPF program is loaded. CLOCK_MONOTONIC is
 * wrapped so that a timer operation can make running profiles due.
 *
 * Query arguments (?view=...) come through a wrapped fog_http_arg.
 *
 * Input: operations, each an op byte then its operands: a body, a path (with a
 * query after '?') or a name up to a NUL, or for "time passes" a length and that
 * many bytes of stacks.
 * Properties: every request is answered (handler returns 0) with a status the
 * API documents; JSON bodies parse; options reaching the session are in range;
 * in SVG and HTML every '<' and '&' opens markup (names are escaped).
 */
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/loop.h"
#include "collect/agg.h"
#include "base/cgroup.h"
#include "export/http.h"
#include "fog/profiler.h"
#include "fuzz.h"
#include "profile/render.h"
#include "profile/server.h"
#include "profile/session.h"
#include "profile/uprobe.h"

#define MAX_ROUTES 8
#define MAX_NAMES 6

struct route {
	const char *method, *path;
	fog_http_handler_fn fn;
	void *ctx;
};

static struct route routes[MAX_ROUTES];
static unsigned int n_routes;
static fog_loop_timer_fn timer_fn;
static void *timer_ctx;
static time_t mono_offset;	/* seconds added to CLOCK_MONOTONIC */
static char cg_root[256];
static struct fog_cgroup_info cg_info;

/* names the next finished profile is built from, and whether any needs escaping */
static struct fuzz_in *cur_in;
static char *names[MAX_NAMES];
static unsigned int n_names;

/*
 * Query arguments of the request under way ("k=v&k2=v2", any bytes but NUL:
 * libmicrohttpd has percent-decoded them before a handler asks), found by the
 * wrapped fog_http_arg as MHD finds them (the first with that key).
 */
static char *cur_query;

const char *__wrap_fog_http_arg(const struct fog_http_req *req, const char *key)
{
	size_t kl = strlen(key);

	for (char *p = cur_query; p && *p;) {
		char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			static char val[512];

			snprintf(val, sizeof(val), "%.*s", (int)(len - kl - 1), p + kl + 1);
			return val;
		}
		p += len + (amp ? 1 : 0);
	}
	return NULL;
}

int __real_clock_gettime(clockid_t clk, struct timespec *ts);

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	int rc = __real_clock_gettime(clk, ts);

	if (!rc && clk == CLOCK_MONOTONIC)
		ts->tv_sec += mono_offset;
	return rc;
}

static int add(const char *method, const char *path, fog_http_handler_fn fn, void *ctx)
{
	FUZZ_CHECK(n_routes < MAX_ROUTES);
	routes[n_routes++] = (struct route){ method, path, fn, ctx };
	return 0;
}

int __wrap_fog_http__route(struct fog_http *h, const char *method, const char *path,
			   enum fog_http_where where, fog_http_handler_fn fn, void *ctx)
{
	return add(method, path, fn, ctx);
}

int __wrap_fog_loop__add_timer(struct fog_loop *loop, const char *name, unsigned int period_ms,
			       fog_loop_timer_fn fn, void *ctx)
{
	timer_fn = fn;
	timer_ctx = ctx;
	return 1;
}

int __wrap_fog_loop__del_timer(struct fog_loop *loop, int id)
{
	FUZZ_CHECK(id == 1);
	timer_fn = NULL;
	return 0;
}

/* ---- the capture session, replaced ---- */

struct fog_prof_session {
	struct fog_prof_capture_opts o;
	struct fog_prof *prof;
	/* run_async: due at until_ns of the wrapped clock, built on the next check then */
	bool async, built;
	__u64 until_ns;
	int err;
	char format[16];
	struct fog_prof_output out;
};

static __u64 mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

struct fog_prof_session *fog_prof_session__new(const struct fog_prof_capture_opts *o,
					       const char *target, struct fog_elfcache *cache,
					       char *err, size_t len)
{
	struct fog_prof_session *s;

	FUZZ_CHECK(o->frequency >= 1 && o->frequency <= 10000);
	switch (o->target) {
	case FOG_PROF_TARGET_PID:
		FUZZ_CHECK(o->pid >= 1 && o->pid <= 4194304);
		break;
	case FOG_PROF_TARGET_CGROUP:
		FUZZ_CHECK(o->cgroup_id != 0);
		break;
	case FOG_PROF_TARGET_HOST:
		break;
	default:
		FUZZ_CHECK(!"unknown target");
	}
	FUZZ_CHECK(target && strlen(target) < 128);
	if (o->pid == 4194304) { /* a process that does not exist */
		snprintf(err, len, "no process %u", o->pid);
		errno = ESRCH;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	FUZZ_CHECK(s);
	s->o = *o;
	return s;
}

void fog_prof_session__free(struct fog_prof_session *s)
{
	if (!s)
		return;
	fog_prof__free(s->prof);
	free(s->out.body);
	free(s);
}

int fog_prof_session__run_async(struct fog_prof_session *s, double seconds, unsigned int poll_ms,
				const char *format)
{
	FUZZ_CHECK(!s->async && seconds > 0 && seconds <= 3600 && poll_ms);
	s->async = true;
	s->until_ns = mono_now() + (__u64)(seconds * 1e9);
	snprintf(s->format, sizeof(s->format), "%s", format ? format : "");
	return 0;
}

void fog_prof_session__stop_async(struct fog_prof_session *s)
{
	s->until_ns = 0;
}

bool fog_prof_session__async_done(struct fog_prof_session *s, int *err)
{
	if (!s->async)
		return false;
	if (!s->built) {
		if (mono_now() < s->until_ns)
			return false;
		s->built = true;
		s->err = fog_prof_session__finish(s);
		if (!s->err && s->format[0])
			s->err = fog_prof_render(s->prof, s->format, &s->out);
	}
	if (err)
		*err = s->err;
	return true;
}

int fog_prof_session__take_output(struct fog_prof_session *s, struct fog_prof_output *out)
{
	if (!s->built || !s->out.body)
		return -ENODATA;
	*out = s->out;
	s->out = (struct fog_prof_output){ 0 };
	return 0;
}

void fog_prof_session__poll(struct fog_prof_session *s)
{
}

/*
 * The uprobe memory mode, replaced: its options are checked as they reach it,
 * and attaching fails as for a process without a C library, so the request's
 * parsing and the error path are what is fuzzed.
 */
struct fog_memprobe *fog_memprobe__new(const struct fog_memprobe_opts *o,
				       struct fog_elfcache *cache, char *err, size_t len)
{
	FUZZ_CHECK(o->pid >= 1 && o->pid <= 4194304);
	FUZZ_CHECK(o->seconds <= FOG_MEMPROBE_MAX_SECONDS);
	snprintf(err, len, "process %u: no C library to probe", o->pid);
	errno = ENOENT;
	return NULL;
}

void fog_memprobe__free(struct fog_memprobe *m)
{
	FUZZ_CHECK(!m);
}

bool fog_memprobe__poll(struct fog_memprobe *m)
{
	FUZZ_CHECK(!"no memprobe session exists");
	return false;
}

void fog_memprobe__read_target(struct fog_memprobe *m)
{
	FUZZ_CHECK(m);
}

int fog_memprobe__finish(struct fog_memprobe *m)
{
	FUZZ_CHECK(!"no memprobe session exists");
	return -EINVAL;
}

const struct fog_prof *fog_memprobe__prof(const struct fog_memprobe *m, bool allocated)
{
	FUZZ_CHECK(!"no memprobe session exists");
	return NULL;
}

__u64 fog_memprobe__samples(struct fog_memprobe *m)
{
	FUZZ_CHECK(!"no memprobe session exists");
	return 0;
}

json_t *fog_memprobe__json(struct fog_memprobe *m)
{
	FUZZ_CHECK(!"no memprobe session exists");
	return NULL;
}

/* The profile: frames named by the input's names, stacks of them with input values. */
int fog_prof_session__finish(struct fog_prof_session *s)
{
	struct fuzz_in *in = cur_in;
	__u32 frames[8];

	s->prof = fog_prof__new(FOG_PROF_CPU);
	FUZZ_CHECK(s->prof);
	s->prof->frequency = s->o.frequency;
	s->prof->period = 1000000000ull / s->o.frequency;
	s->prof->duration_ns = 1000000000ull;
	snprintf(s->prof->target, sizeof(s->prof->target), "fuzz");
	for (int st = 0; st < 4 && in->n; st++) {
		__u32 n = 1 + fuzz_u8(in) % 8;

		for (__u32 i = 0; i < n; i++) {
			uint8_t sel = fuzz_u8(in);
			const char *func = n_names ? names[sel % n_names] : "main";
			const char *mod = n_names && (sel & 0x80) ? names[(sel >> 3) % n_names] : NULL;
			long idx = fog_prof__frame(s->prof, func, mod, fuzz_u8(in), sel & 0x40, 0);

			FUZZ_CHECK(idx >= 0);
			frames[i] = (__u32)idx;
		}
		FUZZ_CHECK(fog_prof__add_stack(s->prof, 1 + fuzz_u8(in), n_names ? names[0] : "x",
					       frames, n, 1 + fuzz_u8(in), 1) == 0);
	}
	if (n_names)
		fog_prof__note(s->prof, "%s", names[n_names - 1]);
	return 0;
}

struct fog_prof *fog_prof_session__prof(struct fog_prof_session *s)
{
	return s->prof;
}

struct fog_prof *fog_prof_session__take(struct fog_prof_session *s)
{
	struct fog_prof *p = s->prof;

	s->prof = NULL;
	return p;
}

void fog_prof_session__procs(struct fog_prof_session *s, fog_prof_tasks_fn each, void *src,
			     bool end)
{
}

void fog_prof_session__mark_end(struct fog_prof_session *s, fog_prof_tasks_fn each, void *src)
{
}

/* the target runs without collectors (no process table): the walk finds nothing */
void fog_agg__for_each(struct fog_agg *a, fog_proc_fn fn, void *ctx)
{
}

__u64 fog_prof_session__samples(struct fog_prof_session *s)
{
	return 0;
}

/* Memory profiles (the library API) never start here: the process is "gone". */
int fog_profile_start(pid_t pid, unsigned int mode, const struct fog_profile_opts *o,
		      struct fog_profile **out)
{
	FUZZ_CHECK(pid >= 1 && pid <= 4194304);
	return -ESRCH;
}

int fog_profile_stop(struct fog_profile *prof, struct fog_profile_result **result)
{
	FUZZ_CHECK(!prof);
	return 0;
}

const char *fog_profile_strerror(void)
{
	return "no such process";
}

void fog_profile_result__free(struct fog_profile_result *r)
{
	FUZZ_CHECK(!r);
}

__u64 fog_profile_result_total(const struct fog_profile_result *r, enum fog_profile_view v)
{
	return 0;
}

const struct fog_prof *fog_profile_result_prof(const struct fog_profile_result *r,
					       enum fog_profile_view v)
{
	return NULL;
}

/* ---- requests ---- */

static const struct route *find(const char *method, const char *path)
{
	const struct route *best = NULL;

	for (unsigned int i = 0; i < n_routes; i++) {
		const struct route *r = &routes[i];
		size_t l = strlen(r->path);

		if (strcmp(r->method, method))
			continue;
		if (!strcmp(r->path, path))
			return r;
		if (r->path[l - 1] == '/' && !strncmp(r->path, path, l) &&
		    (!best || strlen(best->path) < l))
			best = r;
	}
	return best;
}

/* Skips from a "<script" or "<style" at p to its end tag: their text is not markup. */
static const char *skip_raw(const char *p, const char *end)
{
	static const char *const tags[][2] = { { "<script", "</script" }, { "<style", "</style" } };

	for (size_t t = 0; t < 2; t++) {
		size_t l = strlen(tags[t][0]);
		const char *close;

		if ((size_t)(end - p) < l || strncasecmp(p, tags[t][0], l))
			continue;
		close = memmem(p, (size_t)(end - p), tags[t][1], strlen(tags[t][1]));
		return close ? close + 1 : end;
	}
	return p;
}

/*
 * SVG and HTML carry function names from ELF files: escaped, every '<' of the
 * output opens a tag or comment and every '&' an entity. A name written raw
 * with '<' or '&' before anything else breaks that (the names here hold them).
 */
static void check_escaped(const struct fog_http_resp *resp, const char *format)
{
	const char *p = resp->body, *end = resp->body + resp->len;

	if (strcmp(format, "svg") && strcmp(format, "html"))
		return;
	for (; p < end; p++) {
		const char *q = skip_raw(p, end);
		unsigned char next;

		if (q != p) {
			p = q;
			continue;
		}
		if (*p != '<' && *p != '&')
			continue;
		next = p + 1 < end ? (unsigned char)p[1] : 0;
		if (*p == '<' && (isalpha(next) || next == '/' || next == '!' || next == '?'))
			continue;
		if (*p == '&' && (isalpha(next) || next == '#'))
			continue;
		fprintf(stderr, "fuzz: %s output has a raw '%c' at byte %zu: '%.40s'\n", format, *p,
			(size_t)(p - resp->body), p);
		FUZZ_CHECK(!"markup from a name is not escaped");
	}
}

/*
 * Renders answer later, from the timer, once their thread is done (server.c):
 * the token and the answer are captured here and request() waits for it.
 */
static bool deferred, answered;
static struct fog_http_resp answer;

struct fog_http_later *__wrap_fog_http_defer(const struct fog_http_req *req)
{
	static int token;

	(void)req;
	FUZZ_CHECK(!deferred);
	deferred = true;
	answered = false;
	return (struct fog_http_later *)&token;
}

void __wrap_fog_http_finish(struct fog_http_later *later, struct fog_http_resp *resp)
{
	FUZZ_CHECK(deferred && later);
	deferred = false;
	answered = true;
	answer = (struct fog_http_resp){ 0 };
	if (resp)
		answer = *resp;
	else
		fog_http_error(&answer, 503, "fogd is stopping");
}

static void request(const char *method, const char *path, const char *body, size_t body_len)
{
	static const int statuses[] = { 200, 202, 400, 404, 409, 429, 501, 503 };
	struct fog_http_req req = { .method = method, .path = path, .body = body,
				    .body_len = body_len, .accept = "", .local = true };
	struct fog_http_resp resp = { 0 };
	const struct route *r = find(method, path);
	const char *slash;
	bool known = false;
	int rc;

	if (!r)
		return;
	rc = r->fn(&req, &resp, r->ctx);
	if (rc == FOG_HTTP_DEFERRED) {	/* a render on its thread: the timer answers */
		for (int i = 0; !answered && i < 200000; i++) {
			timer_fn(timer_ctx);
			if (!answered)
				usleep(50);
		}
		FUZZ_CHECK(answered);
		resp = answer;
		rc = 0;
	}
	if (rc)
		fprintf(stderr, "fuzz: %s %s answered %d (a 500)\n", method, path, rc);
	/* every answer is a documented status: request bytes echoed in errors stay valid UTF-8 */
	FUZZ_CHECK(rc == 0);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: %s %s -> %d %s (%zu bytes)\n", method, path, resp.status,
			resp.content_type, resp.len);
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		known |= resp.status == statuses[i];
	FUZZ_CHECK(known);
	FUZZ_CHECK(resp.body && resp.content_type);
	if (strstr(resp.content_type, "json")) {
		json_error_t jerr;
		json_t *j = json_loadb(resp.body, resp.len, 0, &jerr);

		FUZZ_CHECK(j);
		if (resp.status >= 400)
			FUZZ_CHECK(json_is_string(json_object_get(j, "error")));
		json_decref(j);
	}
	slash = strrchr(path, '/');
	if (resp.status == 200 && slash)
		check_escaped(&resp, slash + 1);
	free(resp.body);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void cleanup(void)
{
	if (cg_root[0])
		nftw(cg_root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[320];

	fog_log_set_level(FOG_LOG_ERROR);
	/* run.sh points FUZZ_TMP into build-fuzz/: a crash skips the atexit clean-up */
	snprintf(cg_root, sizeof(cg_root), "%s/fogd-fuzz-cg.XXXXXX",
		 getenv("FUZZ_TMP") ? getenv("FUZZ_TMP") : "/tmp");
	FUZZ_CHECK(mkdtemp(cg_root));
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "%s/app.slice", cg_root);
	FUZZ_CHECK(mkdir(dir, 0700) == 0);
	snprintf(dir, sizeof(dir), "%s/app.slice/job 1", cg_root);
	FUZZ_CHECK(mkdir(dir, 0700) == 0);
	cg_info.mode = FOG_CGROUP_V2;
	snprintf(cg_info.mount, sizeof(cg_info.mount), "%s", cg_root);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct fog_profiler *pr;
	char path[512];

	n_routes = 0;
	n_names = 0;
	mono_offset = 0;
	pr = fog_profiler__new(NULL, NULL, NULL, &cg_info);
	FUZZ_CHECK(pr && timer_fn);
	while (in.n) {
		uint8_t op = fuzz_u8(&in);
		char *s;

		switch (op % 4) {
		case 0: /* a body: the bytes up to a NUL */
			s = fuzz_str(&in);
			request("POST", "/api/v1/profile", s, strlen(s));
			free(s);
			break;
		case 1: { /* a path below /api/v1/profile/, query arguments after a '?' */
			char *q;

			s = fuzz_str(&in);
			q = strchr(s, '?');
			if (q)
				*q++ = '\0';
			snprintf(path, sizeof(path), "/api/v1/profile/%s", s);
			cur_query = q;
			request("GET", path, "", 0);
			cur_query = NULL;
			free(s);
			break;
		}
		case 2: /* a name for frames of the profiles that finish next */
			s = fuzz_str(&in);
			if (n_names < MAX_NAMES && s[0])
				names[n_names++] = s;
			else
				free(s);
			break;
		default: { /* time passes: running profiles finish, built from the next L bytes */
			struct fuzz_in stacks = { in.p, fuzz_u8(&in) };

			stacks.p = in.p;
			if (stacks.n > in.n)
				stacks.n = in.n;
			in.p += stacks.n;
			in.n -= stacks.n;
			cur_in = &stacks;
			mono_offset += 3601;
			timer_fn(timer_ctx);
			cur_in = NULL;
			request("GET", "/api/v1/profile", "", 0);
			break;
		}
		}
	}
	fog_profiler__free(pr);
	for (unsigned int i = 0; i < n_names; i++)
		free(names[i]);
	return 0;
}
