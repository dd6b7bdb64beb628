// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl: the command-line client of fogd. It reads fogd's JSON API over the
 * local Unix socket (libcurl), never the kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "fogctl.h"

static const char *sock_path = FOGCTL_DEFAULT_SOCKET;
static bool json_mode;

/* The one error printer: JSON in --json mode, plain text otherwise. */
static void __attribute__((format(printf, 1, 2))) p_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_mode) {
		json_t *j = json_pack("{s:s}", "error", msg);

		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		fprintf(stderr, "fogctl: %s\n", msg);
	}
}

/* GETs path; returns the body (caller frees) and the HTTP status, or NULL with an error printed. */
static char *http_get(const char *path, long *status)
{
	struct fogctl_buf b = { 0 };

	*status = fogctl_request("GET", path, NULL, &b, 10);
	if (*status < 0) {
		free(b.p);
		if (json_mode)
			p_err("cannot reach fogd on %s", fogctl_socket());
		return NULL;
	}
	return b.p ? b.p : strdup("");
}

/* GETs path as JSON; on a non-200 answer prints fogd's error and returns NULL. */
static json_t *get_json(const char *path, bool quiet)
{
	json_error_t jerr;
	long status = 0;
	char *body = http_get(path, &status);
	json_t *j;

	if (!body)
		return NULL;
	j = json_loads(body, 0, &jerr);
	if (!j) {
		p_err("fogd sent malformed JSON for %s: %s", path, jerr.text);
		free(body);
		return NULL;
	}
	free(body);
	if (status != 200) {
		if (!quiet)
			p_err("%s: %s (HTTP %ld)", path,
			      json_string_value(json_object_get(j, "error")) ?: "error", status);
		json_decref(j);
		return NULL;
	}
	return j;
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : -1;
}

static const char *human_bytes(double b, char *out, size_t len)
{
	static const char *const units[] = { "B", "K", "M", "G", "T" };
	int u = 0;

	if (b < 0)
		return snprintf(out, len, "-"), out;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f%s" : "%.0f%s", b, units[u]);
	return out;
}

/* ---- status ---- */

static int do_status(int argc, char **argv)
{
	json_t *j = get_json("/api/v1/status", false), *c;
	size_t i;

	if (!j)
		return 1;
	if (json_mode) {
		print_json(j);
		json_decref(j);
		return 0;
	}
	printf("fogd %s, pid %lld, up %llds, config %s\n",
	       json_string_value(json_object_get(j, "version")),
	       json_integer_value(json_object_get(j, "pid")),
	       json_integer_value(json_object_get(j, "uptime_seconds")),
	       json_string_value(json_object_get(j, "config")));
	printf("capabilities: %s\n", json_string_value(json_object_get(j, "capabilities")) ?: "-");
	printf("cgroups: %s at %s (fogd in %s)\n",
	       json_string_value(json_object_get(json_object_get(j, "cgroup"), "mode")),
	       json_string_value(json_object_get(json_object_get(j, "cgroup"), "mount")),
	       json_string_value(json_object_get(json_object_get(j, "cgroup"), "self")));
	json_array_foreach(json_object_get(j, "collectors"), i, c) {
		const char *err = json_string_value(json_object_get(c, "error"));

		printf("  %-10s %-12s %s\n", json_string_value(json_object_get(c, "name")),
		       json_string_value(json_object_get(c, "state")), err ? err : "");
	}
	c = json_object_get(j, "events");
	printf("events: %lld received, %lld malformed, %lld dropped\n",
	       json_integer_value(json_object_get(c, "received")),
	       json_integer_value(json_object_get(c, "malformed")),
	       json_integer_value(json_object_get(c, "dropped")));
	c = json_object_get(j, "loop");
	if (c)
		printf("loop: %lld callbacks, %lld of 50 ms or more, %lld stalls of 100 ms or more, "
		       "longest %.1f ms (%s)\n",
		       json_integer_value(json_object_get(c, "callbacks")),
		       json_integer_value(json_object_get(c, "slow")),
		       json_integer_value(json_object_get(c, "stalls")),
		       json_number_value(json_object_get(c, "longest_ms")),
		       json_string_value(json_object_get(c, "longest")) ?: "-");
	json_decref(j);
	/* the uplink (user/uplink/glue.c), when [uplink] url is set */
	j = get_json("/api/v1/uplink", true);
	c = json_object_get(j, "sent");
	if (j)
		printf("uplink: %s, backlog %lld bytes, %.0f s old; %lld samples sent, %lld POSTs "
		       "retried%s%s\n",
		       json_is_true(json_object_get(j, "connected")) ? "connected" : "not connected",
		       json_integer_value(json_object_get(j, "backlog_bytes")),
		       json_number_value(json_object_get(j, "backlog_age_seconds")),
		       json_integer_value(json_object_get(c, "alert")) +
			       json_integer_value(json_object_get(c, "host")) +
			       json_integer_value(json_object_get(c, "detail")),
		       json_integer_value(json_object_get(json_object_get(j, "requests"), "retried")),
		       *(json_string_value(json_object_get(j, "error")) ?: "") ? "; " : "",
		       json_string_value(json_object_get(j, "error")) ?: "");
	json_decref(j);
	return 0;
}

/* ---- get ---- */

static int do_get(int argc, char **argv)
{
	json_t *j;

	if (argc != 1 || argv[0][0] != '/') {
		p_err("usage: fogctl get /api/v1/PATH");
		return 2;
	}
	j = get_json(argv[0], false);
	if (!j)
		return 1;
	print_json(j);
	json_decref(j);
	return 0;
}

/* ---- events ---- */

static int do_events(int argc, char **argv)
{
	char path[256];
	const char *type = argc > 0 ? argv[0] : NULL;
	json_t *j, *e;
	size_t i;

	snprintf(path, sizeof(path), "/api/v1/events%s%s", type ? "?type=" : "", type ? type : "");
	j = get_json(path, false);
	if (!j)
		return 1;
	if (json_mode) {
		print_json(j);
		json_decref(j);
		return 0;
	}
	json_array_foreach(json_object_get(j, "events"), i, e) {
		char *line = json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(15));

		printf("%s\n", line ? line : "");
		free(line);
	}
	json_decref(j);
	return 0;
}

/* ---- metrics, alerts, trends, recommend ---- */

/* Fetches path; prints it as JSON in --json mode, else through fn. */
static int show(const char *path, void (*fn)(json_t *j))
{
	json_t *j = get_json(path, false);

	if (!j)
		return 1;
	if (json_mode)
		print_json(j);
	else
		fn(j);
	json_decref(j);
	return 0;
}

static void print_metrics(json_t *j)
{
	json_t *v;
	const char *k;

	printf("latest sample at %s\n", json_string_value(json_object_get(j, "at")) ?: "-");
	json_object_foreach(json_object_get(j, "values"), k, v)
		printf("  %-14s %.6g\n", k, json_number_value(v));
}

static void print_alerts(json_t *j)
{
	json_t *a;
	size_t i;

	printf("%-14s %-9s %-9s %12s %12s %12s\n", "RESOURCE", "LEVEL", "PENDING", "VALUE",
	       "WARNING", "CRITICAL");
	json_array_foreach(json_object_get(j, "alerts"), i, a) {
		json_t *t = json_object_get(a, "threshold");

		printf("%-14s %-9s %-9s %12.6g %12.6g %12.6g\n",
		       json_string_value(json_object_get(a, "resource")),
		       json_string_value(json_object_get(a, "level")),
		       json_string_value(json_object_get(a, "pending")) ?: "-", num(a, "value"),
		       num(t, "warning"), num(t, "critical"));
	}
}

static void print_trends(json_t *j)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(j, "trends"), i, t) {
		const char *f = json_string_value(json_object_get(t, "forecast"));

		printf("%-14s %-10s slope %+.3g/h  p=%.3g  %s\n",
		       json_string_value(json_object_get(t, "resource")),
		       json_string_value(json_object_get(t, "direction")),
		       num(t, "slope_per_hour"), num(t, "p_value"), f ? f : "");
	}
}

static void print_recommendations(json_t *j)
{
	json_t *r, *e;
	size_t i, k;

	if (!json_array_size(json_object_get(j, "recommendations")))
		printf("no recommendations: no sustained pattern calls for a change\n");
	json_array_foreach(json_object_get(j, "recommendations"), i, r) {
		printf("%s\n  do: %s\n", json_string_value(json_object_get(r, "summary")),
		       json_string_value(json_object_get(r, "action")));
		json_array_foreach(json_object_get(r, "evidence"), k, e)
			printf("  %s = %.6g %s\n", json_string_value(json_object_get(e, "name")),
			       num(e, "value"), json_string_value(json_object_get(e, "unit")));
	}
}

static int do_metrics(int argc, char **argv)
{
	return show("/api/v1/metrics", print_metrics);
}

static int do_alerts(int argc, char **argv)
{
	return show("/api/v1/alerts", print_alerts);
}

static int do_trends(int argc, char **argv)
{
	return show("/api/v1/trends", print_trends);
}

static int do_recommend(int argc, char **argv)
{
	return show("/api/v1/recommendations", print_recommendations);
}

/* ---- top ---- */

struct top_opts {
	const char *sort;
	unsigned int limit;
	bool once;
	double interval;
};

static const char *const sort_keys = "crifmp";
static const char *const sort_names[] = { "cpu", "runq", "io", "faults", "mem", "pid" };

/* One snapshot: host summary and processes. */
static json_t *top_snapshot(const struct top_opts *o)
{
	json_t *snap = json_object(), *host = json_object(), *procs, *x;
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/processes?sort=%s&limit=%u", o->sort, o->limit);
	procs = get_json(path, false);
	if (!procs) {
		json_decref(snap);
		json_decref(host);
		return NULL;
	}
	if ((x = get_json("/api/v1/cpu", true))) {
		json_object_set(host, "ncpu", json_object_get(x, "ncpu"));
		json_object_set(host, "cpu_busy_share", json_object_get(x, "busy_share"));
		json_object_set(host, "context_switches_per_s",
				json_object_get(x, "context_switches_per_s"));
		json_decref(x);
	}
	if ((x = get_json("/api/v1/schedlat", true))) {
		json_object_set(host, "runq_p99_seconds",
				json_object_get(json_object_get(x, "interval"), "p99_seconds"));
		json_decref(x);
	}
	if ((x = get_json("/api/v1/mem", true))) {
		json_t *m = json_object_get(x, "memory");

		json_object_set(host, "memory_total_bytes", json_object_get(m, "total_bytes"));
		json_object_set(host, "memory_used_bytes", json_object_get(m, "used_bytes"));
		json_object_set(host, "faults_per_s", json_object_get(x, "faults_per_s"));
		json_object_set(host, "psi_memory_some_avg10",
				json_object_get(json_object_get(json_object_get(
							json_object_get(x, "psi"), "memory"), "some"),
						"avg10"));
		json_decref(x);
	}
	json_object_set_new(snap, "time", json_integer(time(NULL)));
	json_object_set_new(snap, "sort", json_string(o->sort));
	json_object_set_new(snap, "host", host);
	json_object_set(snap, "processes", json_object_get(procs, "processes"));
	json_decref(procs);
	return snap;
}

static void top_render(json_t *snap, const struct top_opts *o, bool tty)
{
	json_t *h = json_object_get(snap, "host"), *p;
	char b1[32], b2[32], b3[32];
	double rq = num(h, "runq_p99_seconds");
	size_t i;

	if (tty)
		printf("\033[H\033[2J");
	printf("fogctl top  sort: %s  (keys: c cpu, r runq, i io, f faults, m mem, p pid, q quit)\n",
	       o->sort);
	printf("cpu %5.1f%% of %d  ctxsw/s %.0f  runq p99 %s%.2f ms  mem %s / %s  "
	       "faults/s %.0f  psi mem some %.2f\n",
	       num(h, "cpu_busy_share") * 100, (int)num(h, "ncpu"),
	       num(h, "context_switches_per_s"), rq < 0 ? "-" : "", rq < 0 ? 0 : rq * 1e3,
	       human_bytes(num(h, "memory_used_bytes"), b1, sizeof(b1)),
	       human_bytes(num(h, "memory_total_bytes"), b2, sizeof(b2)), num(h, "faults_per_s"),
	       num(h, "psi_memory_some_avg10"));
	printf("\n%7s %-16s %6s %10s %10s %10s %9s\n", "PID", "COMM", "CPU%", "RUNQ_P99", "IO/s",
	       "FAULTS/s", "RSS");
	json_array_foreach(json_object_get(snap, "processes"), i, p) {
		double r = num(p, "runq_p99_seconds");
		char rq_s[16];

		if (r < 0)
			snprintf(rq_s, sizeof(rq_s), "-");
		else
			snprintf(rq_s, sizeof(rq_s), "%.2fms", r * 1e3);
		printf("%7lld %-16.16s %6.1f %10s %10s %10.0f %9s\n",
		       json_integer_value(json_object_get(p, "pid")),
		       json_string_value(json_object_get(p, "comm")) ?: "?",
		       num(p, "cpu_share") * 100, rq_s,
		       human_bytes(num(p, "io_bytes_per_s"), b3, sizeof(b3)),
		       num(p, "faults_per_s"), human_bytes(num(p, "rss_bytes"), b1, sizeof(b1)));
	}
	fflush(stdout);
}

static volatile sig_atomic_t top_quit;

static void on_int(int sig)
{
	top_quit = 1;
}

static int do_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "sort", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct top_opts o = { .sort = "cpu", .limit = 20, .interval = 1 };
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	int opt, rc = 0;
	char *end;

	optind = 0;
	while ((opt = getopt_long(argc + 1, argv - 1, "s:n:d:", longopts, NULL)) != -1) {
		switch (opt) {
		case '1':
			o.once = true;
			break;
		case 'j':
			json_mode = true;
			break;
		case 's':
			o.sort = NULL;
			for (int i = 0; i < 6; i++)
				if (!strcmp(optarg, sort_names[i]))
					o.sort = sort_names[i];
			if (!o.sort) {
				p_err("--sort: '%s' is not one of cpu, runq, io, faults, mem, pid",
				      optarg);
				return 2;
			}
			break;
		case 'n':
			o.limit = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !*optarg) {
				p_err("--limit: '%s' is not a number", optarg);
				return 2;
			}
			break;
		case 'd':
			o.interval = strtod(optarg, &end);
			if (*end || o.interval < 0.1 || o.interval > 3600) {
				p_err("--interval: '%s' is not a number of seconds in 0.1..3600",
				      optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (json_mode && !o.once) {
		p_err("--json needs --once: a live view is for people");
		return 2;
	}
	if (o.once) {
		json_t *snap = top_snapshot(&o);

		if (!snap)
			return 1;
		if (json_mode)
			print_json(snap);
		else
			top_render(snap, &o, false);
		json_decref(snap);
		return 0;
	}
	signal(SIGINT, on_int);
	if (tty) {
		tcgetattr(STDIN_FILENO, &saved);
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	while (!top_quit) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		json_t *snap = top_snapshot(&o);
		char key;

		if (!snap) {
			rc = 1;
			break;
		}
		top_render(snap, &o, tty);
		json_decref(snap);
		if (poll(&pfd, tty ? 1 : 0, (int)(o.interval * 1000)) > 0 &&
		    read(STDIN_FILENO, &key, 1) == 1) {
			const char *k = strchr(sort_keys, key);

			if (key == 'q')
				break;
			if (k && key)
				o.sort = sort_names[k - sort_keys];
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return rc;
}

/* argv[0] is the command word itself, as fogctl_profile's getopt expects */
static int do_profile(int argc, char **argv)
{
	return fogctl_profile(argc + 1, argv - 1);
}

static int do_sched(int argc, char **argv)
{
	return fogctl_sched(argc + 1, argv - 1);
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "status", do_status, "collectors, cgroup mode, event counters" },
	{ "top", do_top, "live view of processes [--once] [--json] [--sort K] [--limit N]" },
	{ "events", do_events, "recent events [exec|exit|runq_outlier|oom_kill|io_outlier]" },
	{ "metrics", do_metrics, "the monitor's latest host sample" },
	{ "alerts", do_alerts, "alert level and thresholds per resource" },
	{ "trends", do_trends, "trend per resource with its forecast" },
	{ "recommend", do_recommend, "capacity recommendations with their evidence" },
	{ "profile", do_profile,
	  "profile -p PID|--cgroup PATH|--all [-d 10s] [--mode cpu|offcpu|mem [--uprobe]]\n"
	  "           [--lines] -o out.html|.svg|.pb.gz|.folded; profile continuous [NAME]" },
	{ "sched", do_sched, "placement engine: submit|list|show|explain|cancel|workers|stats" },
	{ "get", do_get, "any API path as JSON, e.g. fogctl get /api/v1/io" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fogctl [--socket PATH] [--json] COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "the socket defaults to $FOGCTL_SOCKET or %s\n", FOGCTL_DEFAULT_SOCKET);
}

int main(int argc, char **argv)
{
	const char *env = getenv("FOGCTL_SOCKET");
	int i = 1, rc;

	if (env && *env)
		sock_path = env;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			json_mode = true;
			setenv("FOGCTL_JSON", "1", 1); /* for subcommands in other files */
		} else if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			sock_path = argv[++i];
			setenv("FOGCTL_SOCKET", sock_path, 1); /* for subcommands in other files */
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			p_err("unknown option '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		if (strcmp(argv[i], cmds[c].name))
			continue;
		rc = cmds[c].fn(argc - i - 1, argv + i + 1);
		curl_global_cleanup();
		return rc;
	}
	p_err("unknown command '%s'", argv[i]);
	usage(stderr);
	return 2;
}
