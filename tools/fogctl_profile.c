// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl profile: starts a profile in fogd over its Unix socket, shows
 * progress on a terminal, then saves the output in the format the file name
 * asks for (.folded/.txt, .pb.gz, .svg, .html, .speedscope.json, .json).
 *   fogctl profile -p PID | --cgroup PATH | --all [-d 10s] [-F 99] [--mode cpu|offcpu|mem]
 *                  [--lines] [--allocated] [-o FILE]
 *   fogctl profile -p PID --uprobe [--duty 1s/4s] ...  memory of any process (uprobes)
 *   fogctl profile continuous ...                   (fogctl_profile_continuous.c)
 *   fogctl profile alert ...                        (fogctl_profile_alert.c)
 *   fogctl profile diff ...                         (fogctl_profile_diff.c, when built)
 * This file holds the family's table and a profile run.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fogctl.h"
#include "fogctl_profile.h"

/* One profile run, as the command line asks for it. */
struct run {
	json_t *req;		/* the POST body being built */
	const char *out_path;	/* -o, NULL: stdout */
	const char *format;	/* the output route: folded, pprof, svg, ... */
	const char *mode;	/* cpu, offcpu or mem */
	unsigned int seconds;
	bool seconds_given, alloc_view, uprobe, tty;
	int targets;		/* -p, --cgroup and --all given */
};

static const struct fogctl_cmd cmds[] = {
	{ "continuous", fogctl_profile_continuous,
	  "[--json] | NAME|latest [-o FILE]: fogd's continuous snapshots" },
	{ "alert", fogctl_profile_alert,
	  "[--json] | ID [--mode cpu|offcpu] [-o report.html|.folded|.pb.gz]: the profile "
	  "captured when alert ID fired" },
	/* tools/fogctl_profile_diff.c */
	{ "diff", fogctl_profile_diff,
	  "BASE.pb.gz NEW.pb.gz [-o diff.html|.folded|.pb.gz] [--sample TYPE]: what grew, "
	  "what shrank" },
};

void fogctl_profile_usage(FILE *f)
{
	fprintf(f, "usage: fogctl profile (-p PID | --cgroup PATH | --all) [-d DURATION] [-F HZ]\n"
		   "                     [--mode cpu|offcpu|mem] [--lines] [--no-kernel]\n"
		   "                     [--no-unwind] [--no-python] [--allocated] [-o FILE]\n"
		   "       fogctl profile COMMAND [ARGS]\n"
		   "  -d DURATION  500ms, 30s, 1.5m, 2h (a bare number is seconds; default 10s):\n"
		   "            profiles last whole seconds, a fraction is rounded up\n"
		   "  --mode offcpu  time blocked off the CPU by stack, in nanoseconds\n"
		   "  --mode mem  sampled allocations of a process run with\n"
		   "              LD_PRELOAD=libfogalloc.so: live bytes by stack and leak\n"
		   "              candidates (--allocated: bytes allocated during the profile)\n"
		   "  --uprobe    mem of any process, through uprobes on its libc (no preload;\n"
		   "              costs the process microseconds per malloc and free; default\n"
		   "              30 s, at most 300 s); --duty 1s/4s attaches the allocation\n"
		   "              probes 1 s out of every 5\n"
		   "  --no-unwind  user stacks by frame pointers only (no DWARF unwinding)\n"
		   "  --no-python  no CPython 3.11 frames (py:func (file.py:12)) in place of\n"
		   "               the interpreter's _PyEval_EvalFrameDefault (cpu and offcpu)\n"
		   "  --lines   source file and line of user frames (binaries with debug info):\n"
		   "            folded frames read \"func (file.c:12)\", pprof carries the lines\n"
		   "  -o FILE   .html report, .svg flame graph, .pb.gz pprof, .folded stacks,\n"
		   "            .speedscope.json, .json summary; default: folded stacks on stdout\n"
		   "commands:\n");
	fogctl_usage_table(f, cmds, sizeof(cmds) / sizeof(cmds[0]));
}

int fogctl_profile(int argc, char **argv)
{
	return fogctl_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), fogctl_profile_usage,
			       fogctl_profile_run, argc, argv);
}

FILE *fogctl_profile_open(const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		fogctl_err("cannot write %s: %s", path, strerror(errno));
	return f;
}

/* What was saved: a note for people, or result with the file for --json. */
static void said_saved(const char *out_path, size_t bytes, json_t *result)
{
	json_t *j;

	if (!out_path)
		return;
	if (!fogctl_opts.json) {
		fogctl_note("wrote %s (%zu bytes)", out_path, bytes);
		return;
	}
	j = result ? json_deep_copy(result) : json_object();
	json_object_set_new(j, "output", json_string(out_path));
	json_object_set_new(j, "bytes", json_integer((json_int_t)bytes));
	fogctl_print_json(j);
	json_decref(j);
}

int fogctl_profile_save(const char *path, const char *what, long timeout_s, FILE *out,
			const char *out_path, json_t *result)
{
	struct fogctl_buf b = { 0 };
	long status = fogctl_request("GET", path, NULL, &b, timeout_s);
	int rc = 1;

	if (status != 200) {
		if (status > 0)
			fogctl_err_api(what, status, b.p);
	} else if (fwrite(b.p, 1, b.len, out) != b.len || fflush(out)) {
		fogctl_err("writing %s: %s", out_path ? out_path : "stdout", strerror(errno));
	} else {
		rc = 0;
	}
	if (out != stdout && fclose(out) && !rc) {
		fogctl_err("writing %s: %s", out_path, strerror(errno));
		rc = 1;
	}
	if (!rc)
		said_saved(out_path, b.len, result);
	free(b.p);
	return rc;
}

/* "1s/4s" (each half a duration of 1 ms to 1 h) into duty_on_ms and duty_off_ms. */
static int set_duty(json_t *req, const char *arg)
{
	const char *slash = strchr(arg, '/');
	uint64_t ns[2];
	char on[32];

	if (!slash || (size_t)(slash - arg) >= sizeof(on))
		goto bad;
	snprintf(on, sizeof(on), "%.*s", (int)(slash - arg), arg);
	if (fogctl_opt_duration("--duty ON", on, 0, &ns[0]) ||
	    fogctl_opt_duration("--duty OFF", slash + 1, 0, &ns[1]))
		return -1;
	for (int i = 0; i < 2; i++)
		if (ns[i] < 1000000 || ns[i] > 3600 * FOGCTL_NS_PER_S)
			goto bad;
	json_object_set_new(req, "duty_on_ms", json_integer((json_int_t)(ns[0] / 1000000)));
	json_object_set_new(req, "duty_off_ms", json_integer((json_int_t)(ns[1] / 1000000)));
	return 0;
bad:
	fogctl_err("--duty '%s': give ON/OFF times of 1ms to 1h such as 1s/4s or 500ms/2s", arg);
	return -1;
}

/* -p, --cgroup, --all into the request. */
static int set_target(struct run *r, int opt, const char *arg)
{
	unsigned long long pid;

	r->targets++;
	if (opt == 'c')
		return json_object_set_new(r->req, "cgroup", json_string(arg));
	if (opt == 'a')
		return json_object_set_new(r->req, "all", json_true());
	if (fogctl_opt_uint("-p", arg, 1, INT_MAX, &pid))
		return -1;
	return json_object_set_new(r->req, "pid", json_integer((json_int_t)pid));
}

static const struct option run_longopts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, 'c' },
	{ "all", no_argument, NULL, 'a' },
	{ "duration", required_argument, NULL, 'd' },
	{ "frequency", required_argument, NULL, 'F' },
	{ "mode", required_argument, NULL, 'm' },
	{ "output", required_argument, NULL, 'o' },
	{ "no-kernel", no_argument, NULL, 'K' },
	{ "no-unwind", no_argument, NULL, 'W' },
	{ "no-python", no_argument, NULL, 'Y' },
	{ "allocated", no_argument, NULL, 'A' },
	{ "lines", no_argument, NULL, 'L' },
	{ "uprobe", no_argument, NULL, 'U' },
	{ "duty", required_argument, NULL, 'D' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* One option into r; 0, or -1 once the error is said. */
static int run_opt(struct run *r, int opt, const char *arg)
{
	unsigned long long hz;
	bool rounded;

	switch (opt) {
	case 'p':
	case 'c':
	case 'a':
		return set_target(r, opt, arg);
	case 'd':
		r->seconds_given = true;
		if (fogctl_opt_seconds("-d", arg, &r->seconds, &rounded))
			return -1;
		if (rounded)
			fogctl_note("-d %s: profiles last whole seconds: %u s", arg, r->seconds);
		return 0;
	case 'F':
		if (fogctl_opt_uint("-F", arg, 1, UINT_MAX, &hz))
			return -1;
		return json_object_set_new(r->req, "frequency", json_integer((json_int_t)hz));
	case 'm':
		r->mode = arg;
		return 0;
	case 'o':
		r->out_path = arg;
		return 0;
	case 'K':
		return json_object_set_new(r->req, "kernel", json_false());
	case 'W':
		return json_object_set_new(r->req, "unwind", json_false());
	case 'Y':
		return json_object_set_new(r->req, "python", json_false());
	case 'A':
		r->alloc_view = true;
		return 0;
	case 'L':
		return json_object_set_new(r->req, "lines", json_true());
	case 'U':
		r->uprobe = true;
		return 0;
	case 'D':
		return set_duty(r->req, arg);
	}
	return -1;
}

/* The output format from -o's name; NULL once the error is said. */
static const char *format_of(const char *path)
{
	static const char *const ends[][2] = {
		{ ".folded", "folded" }, { ".txt", "folded" }, { ".pb.gz", "pprof" },
		{ ".pprof", "pprof" }, { ".speedscope.json", "speedscope" }, { ".svg", "svg" },
		{ ".html", "html" }, { ".json", "json" },
	};
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t e = strlen(ends[i][0]);

		if (n > e && !strcmp(path + n - e, ends[i][0]))
			return ends[i][1];
	}
	fogctl_err("-o %s: name it .html, .svg, .pb.gz, .folded, .speedscope.json or .json", path);
	return NULL;
}

/* The command line into r; 0, 1 after --help, or 2 once the error is said. */
static int parse_run(struct run *r, int argc, char **argv)
{
	int opt;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "p:c:ad:F:m:o:h", run_longopts)) != -1) {
		if (opt == 'h') {
			fogctl_profile_usage(stdout);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			fogctl_profile_usage(stderr);
			return 2;
		}
		if (run_opt(r, opt, optarg))
			return 2;
	}
	if (optind < argc) {
		fogctl_err("unexpected argument '%s' (the commands are continuous, alert and diff)",
			   argv[optind]);
		return 2;
	}
	if (r->targets != 1) {
		fogctl_err("give one of -p PID, --cgroup PATH or --all");
		fogctl_profile_usage(stderr);
		return 2;
	}
	if (!strcmp(r->mode, "memory") || (r->uprobe && !strcmp(r->mode, "cpu")))
		r->mode = "mem";
	if (!strcmp(r->mode, "off-cpu"))
		r->mode = "offcpu";
	if (strcmp(r->mode, "cpu") && strcmp(r->mode, "mem") && strcmp(r->mode, "offcpu")) {
		fogctl_err("--mode %s: use cpu, offcpu (time blocked), or mem for a process "
			   "started with LD_PRELOAD=libfogalloc.so",
			   r->mode);
		return 2;
	}
	if (r->out_path && !(r->format = format_of(r->out_path)))
		return 2;
	return 0;
}

/* The request's remaining fields: what parse_run settled. */
static void finish_request(struct run *r)
{
	json_t *req = r->req;

	if (r->uprobe) {
		json_object_set_new(req, "mem_source", json_string("uprobe"));
		if (!r->seconds_given)	/* fogd's default for uprobes */
			r->seconds = 30;
	} else {
		json_object_del(req, "duty_on_ms");
		json_object_del(req, "duty_off_ms");
	}
	json_object_set_new(req, "seconds", json_integer(r->seconds));
	if (!json_object_get(req, "frequency"))
		json_object_set_new(req, "frequency", json_integer(99));
	json_object_set_new(req, "mode", json_string(r->mode));
	if (!json_object_get(req, "kernel"))
		json_object_set_new(req, "kernel", json_true());
}

/* The source of a uprobe memory profile and what it cost the process, on stderr. */
static void print_uprobe_cost(const json_t *u, bool tty)
{
	const json_t *cost = json_object_get(u, "estimated_cost_seconds");
	const json_t *per = json_object_get(u, "cost_per_hit_ns");
	char extra[160] = "; cost per hit not measured";

	if (!u)
		return;
	if (json_is_real(cost))
		snprintf(extra, sizeof(extra),
			 "; cost to the process about %.3f s of CPU (malloc %.1f us, free %.1f us "
			 "per call, measured here)",
			 json_real_value(cost),
			 (fogctl_num(per, "malloc", 0) + fogctl_num(per, "return", 0)) / 1e3,
			 fogctl_num(per, "free", 0) / 1e3);
	if (tty)
		fputs("\r\033[K", fogctl_errf());
	fogctl_note("memory from uprobes on %s: %lld probe hits, %lld allocations sampled%s",
		    fogctl_str(u, "libc", "libc"),
		    (long long)json_integer_value(json_object_get(u, "hits_total")),
		    (long long)json_integer_value(json_object_get(u, "sampled")), extra);
}

/* CPU and off-CPU: the hottest user function and the kernel share, from the API's summary. */
static void print_summary(const json_t *s)
{
	const json_t *hot = json_object_get(s, "hot_user_function");
	const json_t *k = json_object_get(s, "kernel");
	double total = (double)json_integer_value(json_object_get(s, "total"));
	const char *kf = fogctl_str(k, "hottest_function", NULL);

	if (!s || total <= 0)
		return;
	if (json_is_object(hot))
		fogctl_note(
			"hot user function %s: %.1f%% of samples incl. kernel time it caused "
			"(%.1f%% in the kernel)",
			fogctl_str(hot, "function", "?"),
			100.0 * (double)json_integer_value(json_object_get(hot, "self")) / total,
			100.0 * (double)json_integer_value(json_object_get(hot, "self_in_kernel")) /
				total);
	else
		fogctl_note("no user function in the samples");
	if (json_is_object(k))
		fogctl_note("kernel: %.1f%% of samples%s%s", 100.0 * fogctl_num(k, "share", 0),
			    kf ? ", hottest kernel function " : "", kf ? kf : "");
}

/* One progress line on a terminal, from the profile's state. */
static void progress(const struct run *r, const json_t *j)
{
	char target_buf[256];
	/* the target names the tenant's process: no terminal control bytes */
	const char *target = fogctl_safe(fogctl_str(j, "target", "(null)"), target_buf,
					 sizeof(target_buf));
	double elapsed = fogctl_num(j, "elapsed_seconds", 0);
	long long samples = (long long)json_integer_value(json_object_get(j, "samples"));
	FILE *f = fogctl_errf();

	if (!r->tty)
		return;
	if (r->uprobe)
		fprintf(f, "\rprofiling memory of %s through uprobes: %.0f/%u s, %lld samples, "
			   "%lld probe hits ",
			target, elapsed, r->seconds, samples,
			(long long)json_integer_value(
				json_object_get(json_object_get(j, "uprobe"), "hits_total")));
	else if (!strcmp(r->mode, "mem"))
		fprintf(f, "\rprofiling memory of %s: %.0f/%u s ", target, elapsed, r->seconds);
	else if (!strcmp(r->mode, "offcpu"))
		fprintf(f, "\rprofiling off-CPU time of %s: %.0f/%u s, %lld blocks ", target,
			elapsed, r->seconds, samples);
	else
		fprintf(f, "\rprofiling %s: %.0f/%u s, %lld samples ", target, elapsed, r->seconds,
			samples);
}

/*
 * Polls profile id until it ends; 0 when done (result gets the summary of a
 * CPU or off-CPU profile, and the uprobe figures), 1 once the failure is said.
 */
static int wait_done(const struct run *r, long id, json_t *result)
{
	struct timespec ts = { 0, 250000000L };
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/api/v1/profile/%ld", id);
	for (;;) {
		const char *state;

		if (fogctl_call("lost the profile", "GET", path, NULL, 200, &j) != 200)
			return 1;
		state = fogctl_str(j, "state", NULL);
		if (state && !strcmp(state, "running")) {
			progress(r, j);
			json_decref(j);
			nanosleep(&ts, NULL);
			continue;
		}
		if (!state || strcmp(state, "done")) {
			if (r->tty)
				fputs("\r\033[K", fogctl_errf());
			fogctl_err("%s", fogctl_str(j, "error", "profile failed"));
			json_decref(j);
			return 1;
		}
		print_uprobe_cost(json_object_get(j, "uprobe"), r->tty);
		if (r->tty)
			fputs("\r\033[K", fogctl_errf());
		if (strcmp(r->mode, "mem")) {
			print_summary(json_object_get(j, "summary"));
			json_object_set(result, "summary", json_object_get(j, "summary"));
		}
		if (json_object_get(j, "uprobe"))
			json_object_set(result, "uprobe", json_object_get(j, "uprobe"));
		json_decref(j);
		return 0;
	}
}

/* fogctl profile (-p PID | --cgroup PATH | --all) [...]: one profile, saved. */
int fogctl_profile_run(int argc, char **argv)
{
	struct run r = { .format = "folded", .mode = "cpu", .seconds = 10 };
	FILE *out = stdout;
	char path[128], *body;
	json_t *j, *result;
	long id;
	int rc;

	r.req = json_object();
	r.tty = isatty(STDERR_FILENO);
	rc = parse_run(&r, argc, argv);
	if (rc) {
		json_decref(r.req);
		return rc == 1 ? 0 : rc;
	}
	finish_request(&r);
	if (r.out_path && !(out = fogctl_profile_open(r.out_path))) {
		json_decref(r.req);
		return 1;
	}
	body = json_dumps(r.req, JSON_COMPACT);
	json_decref(r.req);
	rc = fogctl_call("cannot start", "POST", "/api/v1/profile", body, 202, &j) == 202 ? 0 : 1;
	free(body);
	id = rc ? 0 : (long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	result = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)id, "mode", r.mode, "format",
			   r.format, "seconds", (json_int_t)r.seconds);
	if (!rc)
		rc = wait_done(&r, id, result);
	if (rc) {
		if (out != stdout)
			fclose(out);
		json_decref(result);
		return 1;
	}
	snprintf(path, sizeof(path), "/api/v1/profile/%ld/%s%s", id, r.format,
		 r.alloc_view ? "?view=alloc" : "");
	rc = fogctl_profile_save(path, "cannot fetch the output", 60, out, r.out_path, result);
	json_decref(result);
	return rc;
}
