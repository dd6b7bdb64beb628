// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl sched: the placement engine in fogd over its Unix socket; this file
 * holds the family's command table, the read-only commands and their text.
 *   fogctl sched submit --id X [...] [-- CMD ARGS...]   (fogctl_sched_submit.c)
 *   fogctl sched list [--state S] | show TASK | explain TASK | cancel TASK
 *   fogctl sched workers | stats | interference
 *   fogctl sched claim WORKER [--max N]          (a remote runner takes its tasks)
 *   fogctl sched report TASK --state S [...]     (and reports how each went)
 * Every command takes --json to print fogd's JSON as is.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fogctl.h"
#include "fogctl_sched.h"

static const char *str(json_t *j, const char *key)
{
	return fogctl_str(j, key, "-");
}

static double num(json_t *j, const char *key)
{
	return fogctl_num(j, key, NAN);
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

void fogctl_sched_text_task(FILE *f, json_t *t)
{
	char b1[32], b2[32];
	json_t *code = json_object_get(t, "exit_code"), *sig = json_object_get(t, "signal");

	fprintf(f, "task %s: %s", str(t, "id"), str(t, "state"));
	if (json_is_string(json_object_get(t, "worker")))
		fprintf(f, " on %s", str(t, "worker"));
	fprintf(f, " (%s, %s, %g cores, %lld MiB)\n", str(t, "priority"), str(t, "strategy"),
		num(t, "cpu_cores"),
		(long long)json_integer_value(json_object_get(t, "memory_mb")));
	fprintf(f, "  waited %s, ran %s", fmt_s(b1, sizeof(b1), num(t, "wait_s")),
		fmt_s(b2, sizeof(b2), num(t, "run_s")));
	if (json_is_integer(code))
		fprintf(f, ", exit code %lld", (long long)json_integer_value(code));
	if (json_is_integer(sig))
		fprintf(f, ", killed by signal %lld", (long long)json_integer_value(sig));
	if (json_is_true(json_object_get(t, "oom_killed")))
		fprintf(f, ", OOM-killed");
	if (num(t, "peak_memory_mb") > 0)
		fprintf(f, ", peak memory %.1f MiB", num(t, "peak_memory_mb"));
	if (num(t, "cpu_s") > 0)
		fprintf(f, ", cpu %.3fs", num(t, "cpu_s"));
	fputc('\n', f);
	if (json_is_string(json_object_get(t, "command")))
		fprintf(f, "  command: %s\n", str(t, "command"));
	if (json_is_string(json_object_get(t, "reason")))
		fprintf(f, "  reason: %s\n", str(t, "reason"));
}

static void show_list(FILE *f, json_t *j)
{
	json_t *tasks = json_object_get(j, "tasks"), *t;
	size_t i;
	char b1[32], b2[32];

	fprintf(f, "%-24s %-10s %-8s %-11s %-12s %6s %8s %8s %8s  %s\n", "ID", "STATE", "PRIO",
		"STRATEGY", "WORKER", "CPU", "MEM_MIB", "WAIT", "RUN", "REASON");
	json_array_foreach(tasks, i, t)
		fprintf(f, "%-24s %-10s %-8s %-11s %-12s %6g %8lld %8s %8s  %s\n", str(t, "id"),
			str(t, "state"), str(t, "priority"), str(t, "strategy"), str(t, "worker"),
			num(t, "cpu_cores"),
			(long long)json_integer_value(json_object_get(t, "memory_mb")),
			fmt_s(b1, sizeof(b1), num(t, "wait_s")),
			fmt_s(b2, sizeof(b2), num(t, "run_s")),
			json_is_string(json_object_get(t, "reason")) ? str(t, "reason") : "");
	if (!json_array_size(tasks))
		fprintf(f, "(no tasks)\n");
}

/* The pair of task classes that kept the task apart (or that it was placed beside). */
static void show_interference(FILE *f, json_t *p, const char *strategy)
{
	char slow[48] = "";

	if (!json_is_object(p))
		return;
	if (isfinite(num(p, "slowdown")))
		snprintf(slow, sizeof(slow), ", %.2fx slower in completions", num(p, "slowdown"));
	if (json_is_true(json_object_get(p, "placed_beside")))
		fprintf(f, "  interference: placed beside class %s anyway (%s):",
			str(p, "culprit_class"),
			strcmp(strategy, "affinity") ? "still the best worker" :
						       "no other worker fitted");
	else
		fprintf(f, "  interference: kept from %s, which runs class %s:",
			str(p, "avoided_worker"), str(p, "culprit_class"));
	fprintf(f, " %s beside %s waited %.3f s for CPUs, cost +%.0f%% run time%s\n",
		str(p, "victim_class"), str(p, "culprit_class"), num(p, "wait_seconds"),
		num(p, "cost") * 100, slow);
}

static void show_pairs(FILE *f, json_t *j)
{
	json_t *ps = json_object_get(j, "pairs"), *p;
	size_t i;

	fprintf(f, "threshold %.2f, half-life %.0f s, neighbour signal %s\n", num(j, "threshold"),
		num(j, "half_life_s"),
		json_is_true(json_object_get(j, "neighbour_signal")) ? "on" : "off");
	fprintf(f, "%-20s %-20s %9s %9s %8s %7s %s\n", "VICTIM", "CULPRIT", "WAIT_S", "BESIDE_S",
		"SLOWDOWN", "COST", "APART");
	json_array_foreach(ps, i, p) {
		char slow[16] = "-";

		if (isfinite(num(p, "slowdown")))
			snprintf(slow, sizeof(slow), "%.2fx", num(p, "slowdown"));
		fprintf(f, "%-20s %-20s %9.3f %9.1f %8s %6.0f%% %s\n", str(p, "victim_class"),
			str(p, "culprit_class"), num(p, "wait_seconds"), num(p, "beside_seconds"),
			slow, num(p, "cost") * 100,
			json_is_true(json_object_get(p, "interferes")) ? "yes" : "no");
	}
	if (!json_array_size(ps))
		fprintf(f, "(no pairs)\n");
}

static void show_explain(FILE *f, json_t *j)
{
	json_t *d = json_object_get(j, "decision");

	fprintf(f, "task %s (%s, strategy %s)", str(j, "task"), str(j, "state"),
		str(j, "strategy"));
	if (json_is_string(json_object_get(j, "worker")))
		fprintf(f, ": placed on %s", str(j, "worker"));
	fputc('\n', f);
	if (json_is_object(d)) {
		fprintf(f, "  predicted %.1f ms +- %.1f ms, success probability %.2f%s\n",
			num(d, "predicted_ms"), num(d, "uncertainty_ms"),
			num(d, "success_probability"),
			json_is_true(json_object_get(d, "explored")) ? " (exploring)" : "");
		if (json_is_string(json_object_get(d, "runner_up")))
			fprintf(f, "  runner-up %s at %.1f ms\n", str(d, "runner_up"),
				num(d, "runner_up_ms"));
		else
			fprintf(f, "  no runner-up (%lld candidate%s)\n",
				(long long)json_integer_value(json_object_get(d, "candidates")),
				json_integer_value(json_object_get(d, "candidates")) == 1 ? "" :
											  "s");
		if (isfinite(num(j, "actual_ms")))
			fprintf(f, "  actual %.1f ms\n", num(j, "actual_ms"));
	}
	fprintf(f, "  why: %s\n", str(j, "reason"));
	show_interference(f, json_object_get(j, "interference"), str(j, "strategy"));
}

static void show_workers(FILE *f, json_t *j)
{
	json_t *ws = json_object_get(j, "workers"), *w, *a, *s;
	size_t i;
	char age[32];

	fprintf(f, "%-16s %6s %9s %4s %6s %9s %5s %-8s %6s %9s %9s %6s\n", "ID", "CORES", "MEM_MIB",
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
		fprintf(f, "%-16s %6g %9lld %4lld %6g %9lld %5lld %-8s %6s %9s %9s %6s\n",
			str(w, "id"), num(w, "cpu_cores"),
			(long long)json_integer_value(json_object_get(w, "memory_mb")),
			(long long)json_integer_value(json_object_get(w, "gpu_count")),
			num(a, "cpu_cores"),
			(long long)json_integer_value(json_object_get(a, "memory_mb")),
			(long long)json_integer_value(json_object_get(w, "tasks")), str(s, "state"),
			fmt_s(age, sizeof(age), num(s, "age_s")), util, runq, psi);
	}
}

static void show_stats(FILE *f, json_t *j)
{
	json_t *ml = json_object_get(j, "ml"), *lat = json_object_get(j, "decision_latency");
	static const char *const keys[] = { "submitted", "rejected", "pending", "placed",
					    "running", "completed", "failed", "timed_out",
					    "cancelled", "evicted", "sla_violations", "decisions",
					    "retries" };

	fprintf(f, "strategy %s, %lld workers, %lld tasks running here (cgroup v%lld)\n",
		str(j, "strategy"), (long long)json_integer_value(json_object_get(j, "workers")),
		(long long)json_integer_value(json_object_get(j, "running_here")),
		(long long)json_integer_value(json_object_get(j, "cgroup_version")));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(f, "  %-15s %lld\n", keys[i],
			(long long)json_integer_value(json_object_get(j, keys[i])));
	fprintf(f, "  %-15s %lld waiting\n", "runners",
		(long long)json_integer_value(json_object_get(json_object_get(j, "runners"),
							     "idle")));
	fprintf(f, "  %-15s %.2f/s\n", "throughput", num(j, "throughput_per_s"));
	fprintf(f, "  %-15s p50 <= %.0f ns, p99 <= %.0f ns\n", "decision", num(lat, "p50_ns"),
		num(lat, "p99_ns"));
	fprintf(f, "  %-15s %lld observations, %lld explorations", "ml",
		(long long)json_integer_value(json_object_get(ml, "observations")),
		(long long)json_integer_value(json_object_get(ml, "explorations")));
	if (isfinite(num(ml, "mean_abs_rel_error")))
		fprintf(f, ", mean relative error %.0f%%", num(ml, "mean_abs_rel_error") * 100);
	fputc('\n', f);
}


/* The only option of the read-only commands: --state S (state NULL: none). */
static int state_opt(int argc, char **argv, const char **state)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "", longopts)) != -1) {
		if (opt != 's' || !state)
			return -EINVAL;
		*state = optarg;
	}
	return 0;
}

/* GET /api/v1/sched/tasks/TASK + suffix, TASK being the one argument. */
static int task_cmd(int argc, char **argv, const char *method, const char *suffix)
{
	char path[256], *esc;
	int rc;

	if (state_opt(argc, argv, NULL) || optind + 1 != argc) {
		fogctl_err("usage: fogctl sched %s TASK [--json]", argv[0]);
		return 2;
	}
	esc = fogctl_escape(argv[optind]);
	if (!esc) {
		fogctl_err("out of memory");
		return 1;
	}
	snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s%s", esc, suffix);
	free(esc);
	rc = fogctl_call_show(NULL, method, path, NULL, 200,
			      suffix[0] ? show_explain : fogctl_sched_text_task);
	return rc;
}

static int do_list(int argc, char **argv)
{
	const char *state = NULL;
	char path[160] = "/api/v1/sched/tasks";
	char *esc;

	if (state_opt(argc, argv, &state) || optind != argc) {
		fogctl_err("usage: fogctl sched list [--state STATE] [--json]");
		return 2;
	}
	if (state) {
		esc = fogctl_escape(state);
		snprintf(path, sizeof(path), "/api/v1/sched/tasks?state=%s", esc ? esc : "");
		free(esc);
	}
	return fogctl_call_show(NULL, "GET", path, NULL, 200, show_list);
}

static int do_show(int argc, char **argv)
{
	return task_cmd(argc, argv, "GET", "");
}

static int do_explain(int argc, char **argv)
{
	return task_cmd(argc, argv, "GET", "/explain");
}

static int do_cancel(int argc, char **argv)
{
	return task_cmd(argc, argv, "DELETE", "");
}

/* workers and stats: no arguments, one GET */
static int get_only(int argc, char **argv, const char *path, fogctl_text_fn text)
{
	if (state_opt(argc, argv, NULL) || optind != argc) {
		fogctl_err("usage: fogctl sched %s [--json]", argv[0]);
		return 2;
	}
	return fogctl_call_show(NULL, "GET", path, NULL, 200, text);
}

static int do_workers(int argc, char **argv)
{
	return get_only(argc, argv, "/api/v1/sched/workers", show_workers);
}

static int do_stats(int argc, char **argv)
{
	return get_only(argc, argv, "/api/v1/sched/stats", show_stats);
}

static int do_interference(int argc, char **argv)
{
	return get_only(argc, argv, "/api/v1/sched/interference", show_pairs);
}

/* fogctl sched claim WORKER [--max N]: a remote runner on WORKER takes its placed tasks. */
static int do_claim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char path[256], body[64] = "";
	unsigned long long max;
	char *esc;
	int opt;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "", longopts)) != -1) {
		if (opt != 'm')
			goto usage;
		if (fogctl_opt_uint("--max", optarg, 1, 1000000, &max))
			return 2;
		snprintf(body, sizeof(body), "{\"max\":%llu}", max);
	}
	if (optind + 1 != argc)
		goto usage;
	esc = fogctl_escape(argv[optind]);
	if (!esc) {
		fogctl_err("out of memory");
		return 1;
	}
	snprintf(path, sizeof(path), "/api/v1/sched/workers/%s/claim", esc);
	free(esc);
	return fogctl_call_show(NULL, "POST", path, body[0] ? body : NULL, 200, show_list);
usage:
	fogctl_err("usage: fogctl sched claim WORKER [--max N] [--json]");
	return 2;
}

static const struct fogctl_cmd cmds[] = {
	{ "submit", fogctl_sched_submit,
	  "--id ID [--cpu N] [--mem MIB] [...] [--wait] [-- CMD ARGS...]" },
	{ "list", do_list, "[--state STATE]: the tasks, oldest first" },
	{ "show", do_show, "TASK: one task" },
	{ "explain", do_explain, "TASK: why it was placed where it was" },
	{ "cancel", do_cancel, "TASK" },
	{ "workers", do_workers, "workers, their allocations and live signals" },
	{ "stats", do_stats, "counters, decision latency, learner figures" },
	{ "interference", do_interference,
	  "pairs of task classes: wait, slowdown, which are kept apart" },
	{ "claim", do_claim, "WORKER [--max N]: take the tasks placed on a remote worker" },
	{ "report", fogctl_sched_report,
	  "TASK --state running|succeeded|failed [...]: a runner's report" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fogctl sched COMMAND [ARGS] [--json]\n");
	fogctl_usage_table(f, cmds, sizeof(cmds) / sizeof(cmds[0]));
}

int fogctl_sched(int argc, char **argv)
{
	return fogctl_dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), usage, NULL, argc, argv);
}
