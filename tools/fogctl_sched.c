// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl sched: the placement engine in fogd over its Unix socket.
 *   fogctl sched submit --id X [--cpu N] [--mem MIB] [--priority P] [--deadline 30s]
 *                       [--strategy S] [--wait] [...] [-- CMD ARGS...]
 *   fogctl sched list [--state S] | show TASK | explain TASK | cancel TASK
 *   fogctl sched workers | stats
 *   fogctl sched claim WORKER [--max N]          (a remote runner takes its tasks)
 *   fogctl sched report TASK --state S [...]     (and reports how each went)
 * Every command takes --json (or FOGCTL_JSON=1) to print fogd's JSON as is.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "fogctl.h"


#define CMD_MAX 1023	/* fogd's command length, without the NUL */

static bool json_out;

/*
 * One request to fogd; returns the HTTP status, or -1 when fogd could not be
 * reached (message printed). *out gets the parsed JSON body (NULL if none).
 */
static long request(const char *method, const char *path, const char *body, json_t **out)
{
	struct fogctl_buf b = { 0 };
	long status = fogctl_request(method, path, body, &b, 10);

	*out = status >= 0 && b.p ? json_loads(b.p, 0, NULL) : NULL;
	free(b.p);
	return status;
}

/* Prints fogd's {"error": ...} for a failed call; returns 1. */
static int api_error(const char *what, long status, json_t *j)
{
	const char *msg = json_string_value(json_object_get(j, "error"));

	if (json_out && j) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	fprintf(stderr, "fogctl sched %s: %s (HTTP %ld)\n", what, msg ? msg : "no reason given",
		status);
	json_decref(j);
	return 1;
}

/* Prints j as JSON with --json, else hands it to show(). */
static void output(json_t *j, void (*show)(json_t *j))
{
	if (json_out) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		show(j);
	}
}

/* One call answered 200 and shown by output(); 1 when it failed (message printed). */
static int call_and_show(const char *what, const char *method, const char *path,
			 const char *body, void (*show)(json_t *j))
{
	json_t *j;
	long st = request(method, path, body, &j);

	if (st < 0)
		return 1;
	if (st != 200)
		return api_error(what, st, j);
	output(j, show);
	json_decref(j);
	return 0;
}

static int get_and_show(const char *what, const char *path, void (*show)(json_t *j))
{
	return call_and_show(what, "GET", path, NULL, show);
}

/* "30", "30s", "500ms", "2m", "1h" -> seconds; < 0 when malformed. */
static double parse_duration(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "ms"))
		return v / 1e3;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	return -1;
}

static bool parse_number(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end != s && !*end && !errno && isfinite(*out);
}

/* Appends arg to cmd quoted for sh -c: 'it'\''s'. false when it does not fit. */
static bool append_quoted(char *cmd, size_t size, const char *arg)
{
	size_t n = strlen(cmd);

	if (n && n + 1 < size)
		cmd[n++] = ' ';
	if (n + 1 >= size)
		return false;
	cmd[n++] = '\'';
	for (; *arg; arg++) {
		if (*arg == '\'') {
			if (n + 4 >= size)
				return false;
			memcpy(cmd + n, "'\\''", 4);
			n += 4;
		} else {
			if (n + 1 >= size)
				return false;
			cmd[n++] = *arg;
		}
	}
	if (n + 1 >= size)
		return false;
	cmd[n++] = '\'';
	cmd[n] = '\0';
	return true;
}

static const char *str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "-";
}

static double num(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A duration for a table: "-" when unknown. */
static const char *fmt_s(char *b, size_t len, double s)
{
	if (!isfinite(s))
		snprintf(b, len, "-");
	else if (s < 1)
		snprintf(b, len, "%.0fms", s * 1e3);
	else if (s < 120)
		snprintf(b, len, "%.1fs", s);
	else
		snprintf(b, len, "%.0fm", s / 60);
	return b;
}

static void show_task(json_t *t)
{
	char b1[32], b2[32];
	json_t *code = json_object_get(t, "exit_code"), *sig = json_object_get(t, "signal");

	printf("task %s: %s", str(t, "id"), str(t, "state"));
	if (json_is_string(json_object_get(t, "worker")))
		printf(" on %s", str(t, "worker"));
	printf(" (%s, %s, %g cores, %lld MiB)\n", str(t, "priority"), str(t, "strategy"),
	       num(t, "cpu_cores"), (long long)json_integer_value(json_object_get(t, "memory_mb")));
	printf("  waited %s, ran %s", fmt_s(b1, sizeof(b1), num(t, "wait_s")),
	       fmt_s(b2, sizeof(b2), num(t, "run_s")));
	if (json_is_integer(code))
		printf(", exit code %lld", (long long)json_integer_value(code));
	if (json_is_integer(sig))
		printf(", killed by signal %lld", (long long)json_integer_value(sig));
	if (json_is_true(json_object_get(t, "oom_killed")))
		printf(", OOM-killed");
	if (num(t, "peak_memory_mb") > 0)
		printf(", peak memory %.1f MiB", num(t, "peak_memory_mb"));
	if (num(t, "cpu_s") > 0)
		printf(", cpu %.3fs", num(t, "cpu_s"));
	putchar('\n');
	if (json_is_string(json_object_get(t, "command")))
		printf("  command: %s\n", str(t, "command"));
	if (json_is_string(json_object_get(t, "reason")))
		printf("  reason: %s\n", str(t, "reason"));
}

static void show_list(json_t *j)
{
	json_t *tasks = json_object_get(j, "tasks"), *t;
	size_t i;
	char b1[32], b2[32];

	printf("%-24s %-10s %-8s %-11s %-12s %6s %8s %8s %8s  %s\n", "ID", "STATE", "PRIO",
	       "STRATEGY", "WORKER", "CPU", "MEM_MIB", "WAIT", "RUN", "REASON");
	json_array_foreach(tasks, i, t)
		printf("%-24s %-10s %-8s %-11s %-12s %6g %8lld %8s %8s  %s\n", str(t, "id"),
		       str(t, "state"), str(t, "priority"), str(t, "strategy"), str(t, "worker"),
		       num(t, "cpu_cores"),
		       (long long)json_integer_value(json_object_get(t, "memory_mb")),
		       fmt_s(b1, sizeof(b1), num(t, "wait_s")),
		       fmt_s(b2, sizeof(b2), num(t, "run_s")),
		       json_is_string(json_object_get(t, "reason")) ? str(t, "reason") : "");
	if (!json_array_size(tasks))
		printf("(no tasks)\n");
}

static void show_explain(json_t *j)
{
	json_t *d = json_object_get(j, "decision");

	printf("task %s (%s, strategy %s)", str(j, "task"), str(j, "state"), str(j, "strategy"));
	if (json_is_string(json_object_get(j, "worker")))
		printf(": placed on %s", str(j, "worker"));
	putchar('\n');
	if (json_is_object(d)) {
		printf("  predicted %.1f ms +- %.1f ms, success probability %.2f%s\n",
		       num(d, "predicted_ms"), num(d, "uncertainty_ms"),
		       num(d, "success_probability"),
		       json_is_true(json_object_get(d, "explored")) ? " (exploring)" : "");
		if (json_is_string(json_object_get(d, "runner_up")))
			printf("  runner-up %s at %.1f ms\n", str(d, "runner_up"),
			       num(d, "runner_up_ms"));
		else
			printf("  no runner-up (%lld candidate%s)\n",
			       (long long)json_integer_value(json_object_get(d, "candidates")),
			       json_integer_value(json_object_get(d, "candidates")) == 1 ? "" :
											  "s");
		if (isfinite(num(j, "actual_ms")))
			printf("  actual %.1f ms\n", num(j, "actual_ms"));
	}
	printf("  why: %s\n", str(j, "reason"));
}

static void show_workers(json_t *j)
{
	json_t *ws = json_object_get(j, "workers"), *w, *a, *s;
	size_t i;
	char age[32];

	printf("%-16s %6s %9s %4s %6s %9s %5s %-8s %6s %9s %9s %6s\n", "ID", "CORES", "MEM_MIB",
	       "GPU", "A_CPU", "A_MEM_MIB", "TASKS", "SIGNALS", "AGE", "CPU_UTIL", "RUNQ_P99",
	       "PSI");
	json_array_foreach(ws, i, w) {
		char util[16] = "-", runq[16] = "-", psi[16] = "-";

		a = json_object_get(w, "allocated");
		s = json_object_get(w, "signals");
		if (isfinite(num(s, "cpu_util")))
			snprintf(util, sizeof(util), "%.0f%%", num(s, "cpu_util") * 100);
		if (isfinite(num(s, "runq_p99_us")))
			snprintf(runq, sizeof(runq), "%.0fus", num(s, "runq_p99_us"));
		if (isfinite(num(s, "mem_psi")))
			snprintf(psi, sizeof(psi), "%.1f%%", num(s, "mem_psi"));
		printf("%-16s %6g %9lld %4lld %6g %9lld %5lld %-8s %6s %9s %9s %6s\n", str(w, "id"),
		       num(w, "cpu_cores"),
		       (long long)json_integer_value(json_object_get(w, "memory_mb")),
		       (long long)json_integer_value(json_object_get(w, "gpu_count")),
		       num(a, "cpu_cores"),
		       (long long)json_integer_value(json_object_get(a, "memory_mb")),
		       (long long)json_integer_value(json_object_get(w, "tasks")),
		       str(s, "state"), fmt_s(age, sizeof(age), num(s, "age_s")), util, runq, psi);
	}
}

static void show_stats(json_t *j)
{
	json_t *ml = json_object_get(j, "ml"), *lat = json_object_get(j, "decision_latency");
	static const char *const keys[] = { "submitted", "rejected", "pending", "placed",
					    "running", "completed", "failed", "timed_out",
					    "cancelled", "evicted", "sla_violations", "decisions",
					    "retries" };

	printf("strategy %s, %lld workers, %lld tasks running here (cgroup v%lld)\n",
	       str(j, "strategy"), (long long)json_integer_value(json_object_get(j, "workers")),
	       (long long)json_integer_value(json_object_get(j, "running_here")),
	       (long long)json_integer_value(json_object_get(j, "cgroup_version")));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("  %-15s %lld\n", keys[i],
		       (long long)json_integer_value(json_object_get(j, keys[i])));
	printf("  %-15s %lld waiting\n", "runners",
	       (long long)json_integer_value(json_object_get(json_object_get(j, "runners"),
							     "idle")));
	printf("  %-15s %.2f/s\n", "throughput", num(j, "throughput_per_s"));
	printf("  %-15s p50 <= %.0f ns, p99 <= %.0f ns\n", "decision", num(lat, "p50_ns"),
	       num(lat, "p99_ns"));
	printf("  %-15s %lld observations, %lld explorations", "ml",
	       (long long)json_integer_value(json_object_get(ml, "observations")),
	       (long long)json_integer_value(json_object_get(ml, "explorations")));
	if (isfinite(num(ml, "mean_abs_rel_error")))
		printf(", mean relative error %.0f%%", num(ml, "mean_abs_rel_error") * 100);
	putchar('\n');
}

static bool ended(const char *state)
{
	return strcmp(state, "pending") && strcmp(state, "placed") && strcmp(state, "running");
}

static void submit_usage(FILE *f)
{
	fprintf(f,
		"usage: fogctl sched submit --id ID [--cpu CORES] [--mem MIB] [--gpu N]\n"
		"         [--priority low|medium|high|critical] [--deadline 30s] [--sla 500ms]\n"
		"         [--strategy fifo|priority|sla|cost|affinity|ml_adaptive]\n"
		"         [--type any|cpu|gpu] [--budget PER_HOUR] [--estimate 2s] [--class NAME]\n"
		"         [--affinity LABEL]... [--anti-affinity LABEL]... [--timeout 10m]\n"
		"         [--wait] [--json] [-- CMD ARGS...]\n"
		"  --timeout  longest run; past it the task times out (and is killed here)\n"
		"  --wait     wait for the task to end; exit 0 only if it succeeded\n");
}

static int do_submit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "gpu", required_argument, NULL, 'g' },
		{ "priority", required_argument, NULL, 'p' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "sla", required_argument, NULL, 'S' },
		{ "strategy", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "budget", required_argument, NULL, 'b' },
		{ "estimate", required_argument, NULL, 'e' },
		{ "class", required_argument, NULL, 'C' },
		{ "affinity", required_argument, NULL, 'a' },
		{ "anti-affinity", required_argument, NULL, 'A' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *req = json_object(), *aff = json_array(), *anti = json_array(), *j = NULL;
	char cmd[CMD_MAX + 1] = "", path[160], *body;
	bool wait = false;
	double d;
	long st;
	int opt, rc = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		const char *bad = NULL;

		switch (opt) {
		case 'i':
			json_object_set_new(req, "id", json_string(optarg));
			break;
		case 'c':
		case 'b':
			if (!parse_number(optarg, &d)) {
				bad = "a number";
				break;
			}
			json_object_set_new(req, opt == 'c' ? "cpu_cores" : "budget_per_hour",
					    json_real(d));
			break;
		case 'm':
		case 'g':
			/* integers as given: fogd names a negative or fractional size */
			if (!parse_number(optarg, &d) || d != floor(d) || fabs(d) > 9e15) {
				bad = "a whole number";
				break;
			}
			json_object_set_new(req, opt == 'm' ? "memory_mb" : "gpu_count",
					    json_integer((json_int_t)d));
			break;
		case 'p':
			json_object_set_new(req, "priority", json_string(optarg));
			break;
		case 's':
			json_object_set_new(req, "strategy", json_string(optarg));
			break;
		case 't':
			json_object_set_new(req, "type", json_string(optarg));
			break;
		case 'C':
			json_object_set_new(req, "class", json_string(optarg));
			break;
		case 'd':
			d = parse_duration(optarg);
			if (d <= 0) {
				bad = "a duration (30s, 500ms, 2m, 1h)";
				break;
			}
			json_object_set_new(req, "deadline_s", json_real(d));
			break;
		case 'S':
		case 'e':
		case 'T':
			d = parse_duration(optarg);
			if (d < 0) {
				bad = "a duration (30s, 500ms, 2m, 1h)";
				break;
			}
			if (opt == 'S')
				json_object_set_new(req, "sla_ms", json_integer((json_int_t)(d * 1e3)));
			else if (opt == 'T')
				json_object_set_new(req, "timeout_ms",
						    json_integer((json_int_t)(d * 1e3)));
			else
				json_object_set_new(req, "est_runtime_ms", json_real(d * 1e3));
			break;
		case 'a':
			json_array_append_new(aff, json_string(optarg));
			break;
		case 'A':
			json_array_append_new(anti, json_string(optarg));
			break;
		case 'w':
			wait = true;
			break;
		case 'j':
			json_out = true;
			break;
		case 'h':
			submit_usage(stdout);
			rc = 0;
			goto out;
		default:
			submit_usage(stderr);
			goto out;
		}
		if (bad) {
			fprintf(stderr, "fogctl sched submit: '%s' is not %s\n", optarg, bad);
			goto out;
		}
	}
	if (!json_object_get(req, "id")) {
		fprintf(stderr, "fogctl sched submit: --id is required\n");
		submit_usage(stderr);
		goto out;
	}
	/* exec: the program itself is the task, its signals are the task's */
	if (optind < argc)
		snprintf(cmd, sizeof(cmd), "exec");
	for (int i = optind; i < argc; i++)
		if (!append_quoted(cmd, sizeof(cmd), argv[i])) {
			fprintf(stderr, "fogctl sched submit: the command is longer than %d "
					"characters\n", CMD_MAX);
			goto out;
		}
	if (cmd[0])
		json_object_set_new(req, "command", json_string(cmd));
	if (json_array_size(aff))
		json_object_set(req, "affinity", aff);
	if (json_array_size(anti))
		json_object_set(req, "anti_affinity", anti);
	body = json_dumps(req, JSON_COMPACT);
	st = request("POST", "/api/v1/sched/tasks", body, &j);
	free(body);
	rc = 1;
	if (st < 0)
		goto out;
	if (st != 201) {
		rc = api_error("submit", st, j);
		j = NULL;
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s", str(j, "id"));
	while (wait && !ended(str(j, "state"))) {
		usleep(100000);
		json_decref(j);
		st = request("GET", path, NULL, &j);
		if (st != 200) {
			if (st > 0)
				rc = api_error("submit --wait", st, j);
			j = NULL;
			goto out;
		}
	}
	output(j, show_task);
	rc = wait && strcmp(str(j, "state"), "succeeded") ? 1 : 0;
out:
	json_decref(j);
	json_decref(req);
	json_decref(aff);
	json_decref(anti);
	return rc;
}

/* Options shared by the other commands: --json, --state S. */
static int common_opts(int argc, char **argv, const char **state)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			json_out = true;
		else if (opt == 's' && state)
			*state = optarg;
		else
			return -EINVAL;
	}
	return 0;
}

/* The one TASK argument of show, explain and cancel, URL-escaped. */
static int task_path(int argc, char **argv, const char *suffix, char *path, size_t len)
{
	char *esc;

	if (common_opts(argc, argv, NULL) || optind + 1 != argc) {
		fprintf(stderr, "usage: fogctl sched %s TASK [--json]\n", argv[0]);
		return -EINVAL;
	}
	esc = curl_easy_escape(NULL, argv[optind], 0);
	if (!esc)
		return -ENOMEM;
	snprintf(path, len, "/api/v1/sched/tasks/%s%s", esc, suffix);
	curl_free(esc);
	return 0;
}

static int do_list(int argc, char **argv)
{
	const char *state = NULL;
	char path[160] = "/api/v1/sched/tasks";
	char *esc;

	if (common_opts(argc, argv, &state) || optind != argc) {
		fprintf(stderr, "usage: fogctl sched list [--state STATE] [--json]\n");
		return 2;
	}
	if (state) {
		esc = curl_easy_escape(NULL, state, 0);
		snprintf(path, sizeof(path), "/api/v1/sched/tasks?state=%s", esc ? esc : "");
		curl_free(esc);
	}
	return get_and_show("list", path, show_list);
}

static int do_show(int argc, char **argv)
{
	char path[256];

	if (task_path(argc, argv, "", path, sizeof(path)))
		return 2;
	return get_and_show("show", path, show_task);
}

static int do_explain(int argc, char **argv)
{
	char path[256];

	if (task_path(argc, argv, "/explain", path, sizeof(path)))
		return 2;
	return get_and_show("explain", path, show_explain);
}

static int do_cancel(int argc, char **argv)
{
	char path[256];

	if (task_path(argc, argv, "", path, sizeof(path)))
		return 2;
	return call_and_show("cancel", "DELETE", path, NULL, show_task);
}

static int do_workers(int argc, char **argv)
{
	if (common_opts(argc, argv, NULL) || optind != argc) {
		fprintf(stderr, "usage: fogctl sched workers [--json]\n");
		return 2;
	}
	return get_and_show("workers", "/api/v1/sched/workers", show_workers);
}

static int do_stats(int argc, char **argv)
{
	if (common_opts(argc, argv, NULL) || optind != argc) {
		fprintf(stderr, "usage: fogctl sched stats [--json]\n");
		return 2;
	}
	return get_and_show("stats", "/api/v1/sched/stats", show_stats);
}

/* fogctl sched claim WORKER [--max N]: a remote runner on WORKER takes its placed tasks. */
static int do_claim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char path[256], body[64] = "";
	double d;
	char *esc;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j') {
			json_out = true;
		} else if (opt == 'm' && parse_number(optarg, &d) && d >= 1 && d <= 1e6 &&
			   d == floor(d)) {
			snprintf(body, sizeof(body), "{\"max\":%.0f}", d);
		} else {
			optind = -1;
			break;
		}
	}
	if (optind < 0 || optind + 1 != argc) {
		fprintf(stderr, "usage: fogctl sched claim WORKER [--max N] [--json]\n");
		return 2;
	}
	esc = curl_easy_escape(NULL, argv[optind], 0);
	if (!esc)
		return 1;
	snprintf(path, sizeof(path), "/api/v1/sched/workers/%s/claim", esc);
	curl_free(esc);
	return call_and_show("claim", "POST", path, body[0] ? body : NULL, show_list);
}

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: fogctl sched report TASK --state running|succeeded|failed\n"
		"         [--exit-code N | --signal N] [--wall 2s] [--cpu-time 1.5s]\n"
		"         [--peak-mb MIB] [--oom] [--worker ID] [--json]\n");
}

/* fogctl sched report TASK --state S [...]: a remote runner says how a claimed task went. */
static int do_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "exit-code", required_argument, NULL, 'x' },
		{ "signal", required_argument, NULL, 'g' },
		{ "wall", required_argument, NULL, 'w' },
		{ "cpu-time", required_argument, NULL, 'c' },
		{ "peak-mb", required_argument, NULL, 'p' },
		{ "oom", no_argument, NULL, 'o' },
		{ "worker", required_argument, NULL, 'W' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *req = json_object(), *j = NULL;
	char path[256], *body, *esc;
	int opt, rc = 2;
	double d;
	long st;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *bad = NULL;

		switch (opt) {
		case 's':
			json_object_set_new(req, "state", json_string(optarg));
			break;
		case 'x':
		case 'g':
			if (!parse_number(optarg, &d) || d != floor(d) || fabs(d) > 1e9) {
				bad = "a whole number";
				break;
			}
			json_object_set_new(req, opt == 'x' ? "exit_code" : "signal",
					    json_integer((json_int_t)d));
			break;
		case 'w':
		case 'c':
			d = parse_duration(optarg);
			if (d < 0) {
				bad = "a duration (30s, 500ms, 2m, 1h)";
				break;
			}
			json_object_set_new(req, opt == 'w' ? "wall_s" : "cpu_s", json_real(d));
			break;
		case 'p':
			if (!parse_number(optarg, &d)) {
				bad = "a number";
				break;
			}
			json_object_set_new(req, "peak_memory_mb", json_real(d));
			break;
		case 'o':
			json_object_set_new(req, "oom_killed", json_true());
			break;
		case 'W':
			json_object_set_new(req, "worker", json_string(optarg));
			break;
		case 'j':
			json_out = true;
			break;
		default:
			report_usage(stderr);
			goto out;
		}
		if (bad) {
			fprintf(stderr, "fogctl sched report: '%s' is not %s\n", optarg, bad);
			goto out;
		}
	}
	if (optind + 1 != argc || !json_object_get(req, "state")) {
		report_usage(stderr);
		goto out;
	}
	esc = curl_easy_escape(NULL, argv[optind], 0);
	if (!esc)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s/status", esc);
	curl_free(esc);
	body = json_dumps(req, JSON_COMPACT);
	st = request("POST", path, body, &j);
	free(body);
	rc = 1;
	if (st < 0)
		goto out;
	if (st != 200) {
		rc = api_error("report", st, j);
		j = NULL;
		goto out;
	}
	output(j, show_task);
	rc = 0;
out:
	json_decref(j);
	json_decref(req);
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "submit", do_submit, "--id ID [--cpu N] [--mem MIB] [...] [--wait] [-- CMD ARGS...]" },
	{ "list", do_list, "[--state STATE]: the tasks, oldest first" },
	{ "show", do_show, "TASK: one task" },
	{ "explain", do_explain, "TASK: why it was placed where it was" },
	{ "cancel", do_cancel, "TASK" },
	{ "workers", do_workers, "workers, their allocations and live signals" },
	{ "stats", do_stats, "counters, decision latency, learner figures" },
	{ "claim", do_claim, "WORKER [--max N]: take the tasks placed on a remote worker" },
	{ "report", do_report, "TASK --state running|succeeded|failed [...]: a runner's report" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fogctl sched COMMAND [ARGS] [--json]\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
}

int fogctl_sched(int argc, char **argv)
{
	const char *env = getenv("FOGCTL_JSON");

	json_out = env && !strcmp(env, "1");
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "fogctl sched: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
