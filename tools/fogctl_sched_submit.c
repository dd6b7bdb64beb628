// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl sched submit and report: the two commands that send a request body.
 *   fogctl sched submit --id X [--cpu N] [--mem MIB] [--priority P] [--deadline 30s]
 *                       [--strategy S] [--wait] [...] [-- CMD ARGS...]
 *   fogctl sched report TASK --state S [--exit-code N] [--wall 2s] [...]
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fogctl.h"
#include "fogctl_sched.h"

#define CMD_MAX 1023	/* fogd's command length, without the NUL */

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

static bool ended(const char *state)
{
	return strcmp(state, "pending") && strcmp(state, "placed") && strcmp(state, "running");
}

/* A whole number as given (fogd names a negative or fractional size); |v| <= limit. */
static int opt_whole(const char *opt, const char *val, double limit, json_int_t *out)
{
	double d;

	if (fogctl_opt_number(opt, val, &d))
		return -1;
	if (d != floor(d) || fabs(d) > limit) {
		fogctl_err("%s '%s' is not a whole number", opt, val);
		return -1;
	}
	*out = (json_int_t)d;
	return 0;
}

/* key = the duration in seconds (scale 1) or milliseconds (scale 1e3), real or integer. */
static int opt_duration(json_t *req, const char *opt, const char *val, unsigned int flags,
			const char *key, double scale, bool integer)
{
	uint64_t ns;

	if (fogctl_opt_duration(opt, val, flags, &ns))
		return -1;
	if (integer)
		json_object_set_new(req, key,
				    json_integer((json_int_t)(ns / (uint64_t)(1e9 / scale))));
	else
		json_object_set_new(req, key, json_real((double)ns / (1e9 / scale)));
	return 0;
}

static const struct option submit_longopts[] = {
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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The option's name for messages: "--cpu". */
static const char *opt_name(int opt, char *buf, size_t len)
{
	for (const struct option *o = submit_longopts; o->name; o++)
		if (o->val == opt)
			return snprintf(buf, len, "--%s", o->name), buf;
	return "option";
}

/* One option of submit into the request; -1 once the error is said. */
static int submit_opt(int opt, const char *arg, json_t *req)
{
	static const struct {
		int opt;
		const char *key;
	} strings[] = {
		{ 'i', "id" }, { 'p', "priority" }, { 's', "strategy" },
		{ 't', "type" }, { 'C', "class" },
	};
	char name[32];
	json_int_t v;
	double d;

	opt_name(opt, name, sizeof(name));
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (opt == strings[i].opt)
			return json_object_set_new(req, strings[i].key, json_string(arg));
	switch (opt) {
	case 'c':
	case 'b':
		if (fogctl_opt_number(name, arg, &d))
			return -1;
		return json_object_set_new(req, opt == 'c' ? "cpu_cores" : "budget_per_hour",
					   json_real(d));
	case 'm':
	case 'g':
		if (opt_whole(name, arg, 9e15, &v))
			return -1;
		return json_object_set_new(req, opt == 'm' ? "memory_mb" : "gpu_count",
					   json_integer(v));
	case 'd':
		return opt_duration(req, name, arg, 0, "deadline_s", 1, false);
	case 'S':
		return opt_duration(req, name, arg, FOGCTL_DUR_ZERO, "sla_ms", 1e3, true);
	case 'T':
		return opt_duration(req, name, arg, FOGCTL_DUR_ZERO, "timeout_ms", 1e3, true);
	case 'e':
		return opt_duration(req, name, arg, FOGCTL_DUR_ZERO, "est_runtime_ms", 1e3, false);
	case 'a':
	case 'A':
		return json_array_append_new(json_object_get(req, opt == 'a' ? "affinity" :
									      "anti_affinity"),
					     json_string(arg));
	}
	return -1;
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

/* CMD ARGS... as one sh -c command that execs the program; -1 when too long (said). */
static int set_command(json_t *req, int argc, char **argv)
{
	char cmd[CMD_MAX + 1] = "";

	if (!argc)
		return 0;
	/* exec: the program itself is the task, its signals are the task's */
	snprintf(cmd, sizeof(cmd), "exec");
	for (int i = 0; i < argc; i++)
		if (!append_quoted(cmd, sizeof(cmd), argv[i])) {
			fogctl_err("the command is longer than %d characters", CMD_MAX);
			return -1;
		}
	return json_object_set_new(req, "command", json_string(cmd));
}

/* Polls the task until it ends; the last answer, or NULL once the error is said. */
static json_t *wait_task(json_t *j)
{
	char path[160], *esc = fogctl_escape(fogctl_str(j, "id", "-"));

	if (!esc) {
		fogctl_err("out of memory");
		json_decref(j);
		return NULL;
	}
	snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s", esc);
	free(esc);
	while (j && !ended(fogctl_str(j, "state", "-"))) {
		usleep(100000);
		json_decref(j);
		fogctl_call("waiting for the task", "GET", path, NULL, 200, &j);
	}
	return j;
}

int fogctl_sched_submit(int argc, char **argv)
{
	json_t *req = json_pack("{s:[],s:[]}", "affinity", "anti_affinity"), *j = NULL;
	bool wait = false;
	int opt, rc = 2;
	char *body;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "+h", submit_longopts)) != -1) {
		if (opt == 'w') {
			wait = true;
		} else if (opt == 'h') {
			submit_usage(stdout);
			rc = 0;
			goto out;
		} else if (opt == '?' || opt == ':') {
			submit_usage(stderr);
			goto out;
		} else if (submit_opt(opt, optarg, req)) {
			goto out;
		}
	}
	if (!json_object_get(req, "id")) {
		fogctl_err("--id is required");
		submit_usage(stderr);
		goto out;
	}
	if (set_command(req, argc - optind, argv + optind))
		goto out;
	if (!json_array_size(json_object_get(req, "affinity")))
		json_object_del(req, "affinity");
	if (!json_array_size(json_object_get(req, "anti_affinity")))
		json_object_del(req, "anti_affinity");
	body = json_dumps(req, JSON_COMPACT);
	rc = 1;
	if (fogctl_call(NULL, "POST", "/api/v1/sched/tasks", body, 201, &j) != 201)
		j = NULL;
	free(body);
	if (j && wait)
		j = wait_task(j);
	if (!j)
		goto out;
	fogctl_show(j, fogctl_sched_text_task);
	rc = wait && strcmp(fogctl_str(j, "state", "-"), "succeeded") ? 1 : 0;
out:
	json_decref(j);
	json_decref(req);
	return rc;
}

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: fogctl sched report TASK --state running|succeeded|failed\n"
		"         [--exit-code N | --signal N] [--wall 2s] [--cpu-time 1.5s]\n"
		"         [--peak-mb MIB] [--oom] [--worker ID] [--json]\n");
}

/* One option of report into the request; -1 once the error is said. */
static int report_opt(int opt, const char *arg, json_t *req)
{
	json_int_t v;
	double d;

	switch (opt) {
	case 's':
		return json_object_set_new(req, "state", json_string(arg));
	case 'x':
	case 'g':
		if (opt_whole(opt == 'x' ? "--exit-code" : "--signal", arg, 1e9, &v))
			return -1;
		return json_object_set_new(req, opt == 'x' ? "exit_code" : "signal",
					   json_integer(v));
	case 'w':
		return opt_duration(req, "--wall", arg, FOGCTL_DUR_ZERO, "wall_s", 1, false);
	case 'c':
		return opt_duration(req, "--cpu-time", arg, FOGCTL_DUR_ZERO, "cpu_s", 1, false);
	case 'p':
		if (fogctl_opt_number("--peak-mb", arg, &d))
			return -1;
		return json_object_set_new(req, "peak_memory_mb", json_real(d));
	case 'o':
		return json_object_set_new(req, "oom_killed", json_true());
	case 'W':
		return json_object_set_new(req, "worker", json_string(arg));
	}
	report_usage(stderr);
	return -1;
}

/* fogctl sched report TASK --state S [...]: a remote runner says how a claimed task went. */
int fogctl_sched_report(int argc, char **argv)
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
		{ NULL, 0, NULL, 0 },
	};
	json_t *req = json_object();
	char path[256], *body, *esc;
	int opt, rc = 2;

	optind = 1;
	while ((opt = fogctl_getopt(argc, argv, "", longopts)) != -1)
		if (report_opt(opt, optarg, req))
			goto out;
	if (optind + 1 != argc || !json_object_get(req, "state")) {
		fogctl_err("give one TASK and its --state");
		report_usage(stderr);
		goto out;
	}
	rc = 1;
	esc = fogctl_escape(argv[optind]);
	if (!esc) {
		fogctl_err("out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s/status", esc);
	free(esc);
	body = json_dumps(req, JSON_COMPACT);
	rc = fogctl_call_show(NULL, "POST", path, body, 200, fogctl_sched_text_task);
	free(body);
out:
	json_decref(req);
	return rc;
}
