// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl profile: starts a profile in fogd over its Unix socket, shows
 * progress on a terminal, then saves the output in the format the file name
 * asks for (.folded/.txt, .pb.gz, .svg, .html, .speedscope.json, .json).
 *   fogctl profile -p PID | --cgroup PATH | --all [-d 10s] [-F 99] [--mode cpu|mem]
 *                  [--allocated] [-o FILE]
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

static void usage(FILE *f)
{
	fprintf(f, "usage: fogctl profile (-p PID | --cgroup PATH | --all) [-d DURATION] [-F HZ]\n"
		   "                     [--mode cpu|mem] [--no-kernel] [--allocated] [-o FILE]\n"
		   "  --mode mem  sampled allocations of a process run with\n"
		   "              LD_PRELOAD=libfogalloc.so: live bytes by stack and leak\n"
		   "              candidates (--allocated: bytes allocated during the profile)\n"
		   "  -o FILE   .html report, .svg flame graph, .pb.gz pprof, .folded stacks,\n"
		   "            .speedscope.json, .json summary; default: folded stacks on stdout\n");
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = NULL, *format = "folded", *mode = "cpu";
	unsigned int seconds = 10, hz = 99;
	bool tty = isatty(STDERR_FILENO), kernel = true, alloc_view = false;
	struct fogctl_buf b = { 0 };
	json_t *req = json_object(), *j;
	char path[128], *body;
	FILE *out = stdout;
	long status, id;
	int opt, targets = 0, rc = 1;

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
	if (!strcmp(mode, "memory"))
		mode = "mem";
	if (strcmp(mode, "cpu") && strcmp(mode, "mem")) {
		fprintf(stderr, "fogctl profile: --mode %s: use cpu, or mem for a process started "
				"with LD_PRELOAD=libfogalloc.so\n", mode);
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
			json_decref(j);
			if (!done)
				goto out;
			break;
		}
		if (tty && !strcmp(mode, "mem"))
			fprintf(stderr, "\rprofiling memory of %s: %.0f/%u s ",
				json_string_value(json_object_get(j, "target")),
				json_real_value(json_object_get(j, "elapsed_seconds")), seconds);
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
	free(b.p);
	b = (struct fogctl_buf){ 0 };
	snprintf(path, sizeof(path), "/api/v1/profile/%ld/%s%s", id, format,
		 alloc_view ? "?view=alloc" : "");
	status = fogctl_request("GET", path, NULL, &b, 60);
	if (status != 200) {
		if (status > 0)
			print_error("cannot fetch the output", status, &b);
		goto out;
	}
	if (fwrite(b.p, 1, b.len, out) != b.len || fflush(out)) {
		fprintf(stderr, "fogctl profile: writing %s: %s\n", out_path ? out_path : "stdout",
			strerror(errno));
		goto out;
	}
	if (out_path)
		fprintf(stderr, "fogctl profile: wrote %s (%zu bytes)\n", out_path, b.len);
	rc = 0;
out:
	if (out != stdout && fclose(out) && !rc) {
		fprintf(stderr, "fogctl profile: writing %s: %s\n", out_path, strerror(errno));
		rc = 1;
	}
	free(b.p);
	json_decref(req);
	return rc;
}
