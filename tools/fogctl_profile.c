// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl profile: starts a profile in fogd over its Unix socket, shows
 * progress on a terminal, then saves the output in the format the file name
 * asks for (.folded/.txt, .pb.gz, .svg, .html, .speedscope.json, .json).
 *   fogctl profile -p PID | --cgroup PATH | --all [-d 10s] [-F 99] [--mode cpu|offcpu|mem]
 *                  [--lines] [--allocated] [-o FILE]
 *   fogctl profile -p PID --uprobe [--duty 1s/4s] ...  memory of any process (uprobes)
 *   fogctl profile continuous [--json]              the snapshots of continuous mode
 *   fogctl profile continuous NAME|latest [-o FILE] one snapshot (gzipped pprof)
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "fogctl.h"


static void print_error(const char *what, long status, const struct fogctl_buf *b)
{
	json_t *j = b->p ? json_loads(b->p, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "error"));

	fprintf(stderr, "fogctl profile: %s: %s (HTTP %ld)\n", what, msg ? msg : "no reason given",
		status);
	json_decref(j);
}

/* "10", "10s", "2m", "500ms" -> whole seconds (at least 1); 0 when malformed. */
static unsigned int parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v <= 0)
		return 0;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (*end && strcmp(end, "s"))
		return 0;
	return v < 1 ? 1 : (unsigned int)(v + 0.5);
}

/* "1s/4s" -> on and off in ms; -1 when malformed. */
static int parse_duty(const char *s, unsigned int *on, unsigned int *off)
{
	char a[32], *slash;
	double v[2];

	snprintf(a, sizeof(a), "%s", s);
	slash = strchr(a, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (int i = 0; i < 2; i++) {
		const char *p = i ? slash + 1 : a;
		char *end;

		v[i] = strtod(p, &end);
		if (end == p || v[i] <= 0)
			return -1;
		if (!strcmp(end, "s") || !*end)
			v[i] *= 1000;
		else if (strcmp(end, "ms"))
			return -1;
	}
	if (v[0] < 1 || v[1] < 1 || v[0] > 3600000 || v[1] > 3600000)
		return -1;
	*on = (unsigned int)v[0];
	*off = (unsigned int)v[1];
	return 0;
}

/* The source of a uprobe memory profile and what it cost the process, on stderr. */
static void print_uprobe_cost(json_t *u, bool tty)
{
	json_t *cost = json_object_get(u, "estimated_cost_seconds");

	if (!u)
		return;
	fprintf(stderr, "%sfogctl profile: memory from uprobes on %s: %lld probe hits, %lld "
		"allocations sampled", tty ? "\r\033[K" : "",
		json_string_value(json_object_get(u, "libc")) ?: "libc",
		(long long)json_integer_value(json_object_get(u, "hits_total")),
		(long long)json_integer_value(json_object_get(u, "sampled")));
	if (json_is_real(cost))
		fprintf(stderr, "; cost to the process about %.3f s of CPU (malloc %.1f us, free "
			"%.1f us per call, measured here)\n", json_real_value(cost),
			(json_real_value(json_object_get(json_object_get(u, "cost_per_hit_ns"),
							 "malloc")) +
			 json_real_value(json_object_get(json_object_get(u, "cost_per_hit_ns"),
							 "return"))) / 1e3,
			json_real_value(json_object_get(json_object_get(u, "cost_per_hit_ns"),
							"free")) / 1e3);
	else
		fprintf(stderr, "; cost per hit not measured\n");
}

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
	return NULL;
}

/* CPU and off-CPU: the hottest user function and the kernel share, from the API's summary. */
static void print_summary(const json_t *s)
{
	const json_t *hot = json_object_get(s, "hot_user_function");
	const json_t *k = json_object_get(s, "kernel");
	double total = (double)json_integer_value(json_object_get(s, "total"));
	const char *kf = json_string_value(json_object_get(k, "hottest_function"));

	if (!s || total <= 0)
		return;
	if (json_is_object(hot))
		fprintf(stderr, "fogctl profile: hot user function %s: %.1f%% of samples incl. "
			"kernel time it caused (%.1f%% in the kernel)\n",
			json_string_value(json_object_get(hot, "function")) ?: "?",
			100.0 * (double)json_integer_value(json_object_get(hot, "self")) / total,
			100.0 * (double)json_integer_value(json_object_get(hot, "self_in_kernel")) /
				total);
	else
		fprintf(stderr, "fogctl profile: no user function in the samples\n");
	if (json_is_object(k))
		fprintf(stderr, "fogctl profile: kernel: %.1f%% of samples%s%s\n",
			100.0 * json_real_value(json_object_get(k, "share")),
			kf ? ", hottest kernel function " : "", kf ? kf : "");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: fogctl profile (-p PID | --cgroup PATH | --all) [-d DURATION] [-F HZ]\n"
		   "                     [--mode cpu|offcpu|mem] [--lines] [--no-kernel]\n"
		   "                     [--allocated] [-o FILE]\n"
		   "       fogctl profile continuous [--json] | continuous NAME|latest [-o FILE]\n"
		   "  --mode offcpu  time blocked off the CPU by stack, in nanoseconds\n"
		   "  --mode mem  sampled allocations of a process run with\n"
		   "              LD_PRELOAD=libfogalloc.so: live bytes by stack and leak\n"
		   "              candidates (--allocated: bytes allocated during the profile)\n"
		   "  --uprobe    mem of any process, through uprobes on its libc (no preload;\n"
		   "              costs the process microseconds per malloc and free; default\n"
		   "              30 s, at most 300 s); --duty 1s/4s attaches the allocation\n"
		   "              probes 1 s out of every 5\n"
		   "  --no-unwind  user stacks by frame pointers only (no DWARF unwinding)\n"
		   "  --lines   source file and line of user frames (binaries with debug info):\n"
		   "            folded frames read \"func (file.c:12)\", pprof carries the lines\n"
		   "  -o FILE   .html report, .svg flame graph, .pb.gz pprof, .folded stacks,\n"
		   "            .speedscope.json, .json summary; default: folded stacks on stdout\n"
		   "  continuous  list the snapshots of fogd's continuous mode, or save one\n"
		   "            (gzipped pprof; default: stdout)\n");
}

/* GETs path into out (out_path NULL: stdout); 0, or 1 once the error is said. */
static int save_output(const char *path, const char *what, int timeout, FILE *out,
		       const char *out_path)
{
	struct fogctl_buf b = { 0 };
	long status = fogctl_request("GET", path, NULL, &b, timeout);
	int rc = 1;

	if (status != 200) {
		if (status > 0)
			print_error(what, status, &b);
	} else if (fwrite(b.p, 1, b.len, out) != b.len || fflush(out)) {
		fprintf(stderr, "fogctl profile: writing %s: %s\n", out_path ? out_path : "stdout",
			strerror(errno));
	} else {
		if (out_path)
			fprintf(stderr, "fogctl profile: wrote %s (%zu bytes)\n", out_path, b.len);
		rc = 0;
	}
	free(b.p);
	return rc;
}

/* fogctl profile continuous [--json] | continuous NAME|latest [-o FILE] */
static int continuous(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL;
	struct fogctl_buf b = { 0 };
	bool json = false;
	char path[256];
	FILE *out = stdout;
	long status;
	int opt, rc = 1;
	json_t *j = NULL, *snap;
	size_t i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "fogctl profile continuous: one snapshot name at a time\n");
		return 2;
	}
	if (optind == argc) {	/* the list */
		status = fogctl_request("GET", "/api/v1/profiles/continuous", NULL, &b, 10);
		if (status != 200) {
			if (status > 0)
				print_error("cannot list the snapshots", status, &b);
			goto out;
		}
		if (json) {
			fputs(b.p, stdout);
			putchar('\n');
			rc = 0;
			goto out;
		}
		j = json_loads(b.p, 0, NULL);
		printf("continuous profiling: %s, %lld Hz, a snapshot every %g s, in %s\n",
		       json_is_true(json_object_get(j, "enabled")) ? "on" : "off",
		       (long long)json_integer_value(json_object_get(j, "frequency")),
		       json_real_value(json_object_get(j, "snapshot_seconds")),
		       json_string_value(json_object_get(j, "directory")) ?: "?");
		printf("kept: %zu snapshots, %lld bytes (max %lld bytes, %g s); errors: %lld%s%s\n",
		       json_array_size(json_object_get(j, "snapshots")),
		       (long long)json_integer_value(json_object_get(j, "bytes")),
		       (long long)json_integer_value(json_object_get(j, "max_bytes")),
		       json_real_value(json_object_get(j, "max_age_seconds")),
		       (long long)json_integer_value(json_object_get(j, "errors")),
		       json_string_value(json_object_get(j, "last_error")) ? ", last: " : "",
		       json_string_value(json_object_get(j, "last_error")) ?: "");
		json_array_foreach(json_object_get(j, "snapshots"), i, snap)
			printf("%-34s %s %10lld\n",
			       json_string_value(json_object_get(snap, "name")) ?: "?",
			       json_string_value(json_object_get(snap, "time")) ?: "?",
			       (long long)json_integer_value(json_object_get(snap, "bytes")));
		rc = 0;
		goto out;
	}
	if (strlen(argv[optind]) > 64 || strchr(argv[optind], '/')) {
		fprintf(stderr, "fogctl profile continuous: '%s' is not a snapshot name\n",
			argv[optind]);
		return 2;
	}
	if (out_path) {
		out = fopen(out_path, "wb");
		if (!out) {
			fprintf(stderr, "fogctl profile: cannot write %s: %s\n", out_path,
				strerror(errno));
			return 1;
		}
	}
	snprintf(path, sizeof(path), "/api/v1/profiles/continuous/%s", argv[optind]);
	rc = save_output(path, "cannot fetch the snapshot", 30, out, out_path);
out:
	if (out != stdout && fclose(out) && !rc) {
		fprintf(stderr, "fogctl profile: writing %s: %s\n", out_path, strerror(errno));
		rc = 1;
	}
	json_decref(j);
	free(b.p);
	return rc;
}

int fogctl_profile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "frequency", required_argument, NULL, 'F' },
		{ "mode", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-kernel", no_argument, NULL, 'K' },
		{ "allocated", no_argument, NULL, 'A' },
		{ "lines", no_argument, NULL, 'L' },
		{ "no-unwind", no_argument, NULL, 'W' },
		{ "uprobe", no_argument, NULL, 'U' },
		{ "duty", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL, *format = "folded", *mode = "cpu";
	unsigned int seconds = 10, hz = 99;
	bool tty = isatty(STDERR_FILENO), kernel = true, alloc_view = false, lines = false;
	bool uprobe = false, seconds_given = false, unwind = true;
	unsigned int duty_on = 0, duty_off = 0;
	struct fogctl_buf b = { 0 };
	json_t *req = json_object(), *j, *summary = NULL;
	char path[128], *body;
	FILE *out = stdout;
	long status, id;
	int opt, targets = 0, rc = 1;

	if (argc > 1 && !strcmp(argv[1], "continuous")) {
		json_decref(req);
		return continuous(argc - 1, argv + 1);
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:c:ad:F:m:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': {
			char *end;
			long pid = strtol(optarg, &end, 10);

			if (*end || pid <= 0) {
				fprintf(stderr, "fogctl profile: -p '%s' is not a pid\n", optarg);
				goto out;
			}
			json_object_set_new(req, "pid", json_integer(pid));
			targets++;
			break;
		}
		case 'c':
			json_object_set_new(req, "cgroup", json_string(optarg));
			targets++;
			break;
		case 'a':
			json_object_set_new(req, "all", json_true());
			targets++;
			break;
		case 'd':
			seconds = parse_duration(optarg);
			seconds_given = true;
			if (!seconds) {
				fprintf(stderr, "fogctl profile: -d '%s' is not a duration (10s, "
						"2m, 500ms)\n", optarg);
				goto out;
			}
			break;
		case 'F':
			hz = (unsigned int)atoi(optarg);
			break;
		case 'm':
			mode = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'K':
			kernel = false;
			break;
		case 'A':
			alloc_view = true;
			break;
		case 'L':
			lines = true;
			break;
		case 'W':
			unwind = false;
			break;
		case 'U':
			uprobe = true;
			break;
		case 'D':
			if (parse_duty(optarg, &duty_on, &duty_off)) {
				fprintf(stderr, "fogctl profile: --duty '%s': give ON/OFF times such "
						"as 1s/4s or 500ms/2s\n", optarg);
				goto out;
			}
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	if (targets != 1) {
		fprintf(stderr, "fogctl profile: give one of -p PID, --cgroup PATH or --all\n");
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (!strcmp(mode, "memory") || (uprobe && !strcmp(mode, "cpu")))
		mode = "mem";
	if (!strcmp(mode, "off-cpu"))
		mode = "offcpu";
	if (strcmp(mode, "cpu") && strcmp(mode, "mem") && strcmp(mode, "offcpu")) {
		fprintf(stderr, "fogctl profile: --mode %s: use cpu, offcpu (time blocked), or mem "
				"for a process started with LD_PRELOAD=libfogalloc.so\n", mode);
		goto out;
	}
	if (out_path) {
		format = format_of(out_path);
		if (!format) {
			fprintf(stderr, "fogctl profile: -o %s: name it .html, .svg, .pb.gz, "
					".folded, .speedscope.json or .json\n", out_path);
			goto out;
		}
		/* before sampling: a path that cannot be written fails now, not after */
		out = fopen(out_path, "wb");
		if (!out) {
			fprintf(stderr, "fogctl profile: cannot write %s: %s\n", out_path,
				strerror(errno));
			out = stdout;
			goto out;
		}
	}
	json_object_set_new(req, "seconds", json_integer(seconds));
	json_object_set_new(req, "frequency", json_integer(hz));
	json_object_set_new(req, "mode", json_string(mode));
	json_object_set_new(req, "kernel", json_boolean(kernel));
	if (lines)
		json_object_set_new(req, "lines", json_true());
	if (!unwind)
		json_object_set_new(req, "unwind", json_false());
	if (uprobe) {
		json_object_set_new(req, "mem_source", json_string("uprobe"));
		if (!seconds_given) {	/* fogd's default for uprobes */
			seconds = 30;
			json_object_set_new(req, "seconds", json_integer(seconds));
		}
		if (duty_on) {
			json_object_set_new(req, "duty_on_ms", json_integer(duty_on));
			json_object_set_new(req, "duty_off_ms", json_integer(duty_off));
		}
	}
	body = json_dumps(req, JSON_COMPACT);
	status = fogctl_request("POST", "/api/v1/profile", body, &b, 10);
	free(body);
	if (status < 0)
		goto out;
	if (status != 202) {
		print_error("cannot start", status, &b);
		goto out;
	}
	j = json_loads(b.p, 0, NULL);
	id = (long)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	for (;;) {
		struct timespec ts = { 0, 250000000L };
		const char *state;

		free(b.p);
		b = (struct fogctl_buf){ 0 };
		snprintf(path, sizeof(path), "/api/v1/profile/%ld", id);
		status = fogctl_request("GET", path, NULL, &b, 10);
		if (status != 200) {
			if (status > 0)
				print_error("lost the profile", status, &b);
			goto out;
		}
		j = json_loads(b.p, 0, NULL);
		state = json_string_value(json_object_get(j, "state"));
		if (!state || strcmp(state, "running")) {
			bool done = state && !strcmp(state, "done");

			if (!done)
				fprintf(stderr, "%sfogctl profile: %s\n", tty ? "\r\033[K" : "",
					json_string_value(json_object_get(j, "error")) ?:
						"profile failed");
			if (done)
				print_uprobe_cost(json_object_get(j, "uprobe"), tty);
			if (done && (!strcmp(mode, "cpu") || !strcmp(mode, "offcpu")))
				summary = json_incref(json_object_get(j, "summary"));
			json_decref(j);
			if (!done)
				goto out;
			break;
		}
		if (tty && uprobe)
			fprintf(stderr, "\rprofiling memory of %s through uprobes: %.0f/%u s, %lld "
				"samples, %lld probe hits ",
				json_string_value(json_object_get(j, "target")),
				json_real_value(json_object_get(j, "elapsed_seconds")), seconds,
				(long long)json_integer_value(json_object_get(j, "samples")),
				(long long)json_integer_value(json_object_get(
					json_object_get(j, "uprobe"), "hits_total")));
		else if (tty && !strcmp(mode, "mem"))
			fprintf(stderr, "\rprofiling memory of %s: %.0f/%u s ",
				json_string_value(json_object_get(j, "target")),
				json_real_value(json_object_get(j, "elapsed_seconds")), seconds);
		else if (tty && !strcmp(mode, "offcpu"))
			fprintf(stderr, "\rprofiling off-CPU time of %s: %.0f/%u s, %lld blocks ",
				json_string_value(json_object_get(j, "target")),
				json_real_value(json_object_get(j, "elapsed_seconds")), seconds,
				(long long)json_integer_value(json_object_get(j, "samples")));
		else if (tty)
			fprintf(stderr, "\rprofiling %s: %.0f/%u s, %lld samples ",
				json_string_value(json_object_get(j, "target")),
				json_real_value(json_object_get(j, "elapsed_seconds")), seconds,
				(long long)json_integer_value(json_object_get(j, "samples")));
		json_decref(j);
		nanosleep(&ts, NULL);
	}
	if (tty)
		fputs("\r\033[K", stderr);
	print_summary(summary);
	json_decref(summary);
	snprintf(path, sizeof(path), "/api/v1/profile/%ld/%s%s", id, format,
		 alloc_view ? "?view=alloc" : "");
	rc = save_output(path, "cannot fetch the output", 60, out, out_path);
out:
	if (out != stdout && fclose(out) && !rc) {
		fprintf(stderr, "fogctl profile: writing %s: %s\n", out_path, strerror(errno));
		rc = 1;
	}
	free(b.p);
	json_decref(req);
	return rc;
}
