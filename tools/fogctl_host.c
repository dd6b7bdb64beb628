// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogctl status, events, metrics, alerts, trends, recommend and get: each
 * shows one API answer, as JSON with --json or as text through its renderer.
 */
#include <stdlib.h>
#include <string.h>

#include "fogctl.h"

/* Fetches path and shows it; 0, or 1 once the error is said. */
static int show(const char *path, fogctl_text_fn text)
{
	json_t *j = fogctl_get_json(path, false);

	if (!j)
		return 1;
	fogctl_show(j, text);
	json_decref(j);
	return 0;
}

/* A command that takes no arguments: 2 with the error said when it got some. */
static int no_args(int argc, char **argv)
{
	if (argc <= 1)
		return 0;
	fogctl_err("unexpected argument '%s' (usage: fogctl %s)", argv[1], argv[0]);
	return 2;
}

/* ---- status ---- */

/* The uplink (user/uplink/glue.c), when [uplink] url is set: one line; nothing otherwise. */
static void text_uplink(FILE *f)
{
	json_t *j = fogctl_get_json("/api/v1/uplink", true), *sent;
	const char *err;

	if (!j)
		return;
	sent = json_object_get(j, "sent");
	err = fogctl_str(j, "error", "");
	fprintf(f, "uplink: %s, backlog %lld bytes, %.0f s old; %lld samples sent, %lld POSTs "
		   "retried%s%s\n",
		json_is_true(json_object_get(j, "connected")) ? "connected" : "not connected",
		fogctl_int(j, "backlog_bytes"), fogctl_num(j, "backlog_age_seconds", 0),
		fogctl_int(sent, "alert") + fogctl_int(sent, "host") + fogctl_int(sent, "detail"),
		fogctl_int(json_object_get(j, "requests"), "retried"), *err ? "; " : "", err);
	json_decref(j);
}

static void text_status(FILE *f, json_t *j)
{
	json_t *cg = json_object_get(j, "cgroup"), *c;
	size_t i;

	fprintf(f, "fogd %s, pid %lld, up %llds, config %s\n", fogctl_str(j, "version", "(null)"),
		fogctl_int(j, "pid"), fogctl_int(j, "uptime_seconds"), fogctl_str(j, "config", "(null)"));
	fprintf(f, "capabilities: %s\n", fogctl_str(j, "capabilities", "-"));
	fprintf(f, "cgroups: %s at %s (fogd in %s)\n", fogctl_str(cg, "mode", "(null)"),
		fogctl_str(cg, "mount", "(null)"), fogctl_str(cg, "self", "(null)"));
	json_array_foreach(json_object_get(j, "collectors"), i, c)
		fprintf(f, "  %-10s %-12s %s\n", fogctl_str(c, "name", "(null)"),
			fogctl_str(c, "state", "(null)"), fogctl_str(c, "error", ""));
	c = json_object_get(j, "events");
	fprintf(f, "events: %lld received, %lld malformed, %lld dropped\n", fogctl_int(c, "received"),
		fogctl_int(c, "malformed"), fogctl_int(c, "dropped"));
	c = json_object_get(j, "loop");
	if (c)
		fprintf(f, "loop: %lld callbacks, %lld of 50 ms or more, %lld stalls of 100 ms or "
			   "more, longest %.1f ms (%s)\n",
			fogctl_int(c, "callbacks"), fogctl_int(c, "slow"), fogctl_int(c, "stalls"),
			fogctl_num(c, "longest_ms", 0), fogctl_str(c, "longest", "-"));
	text_uplink(f);
}

int fogctl_status(int argc, char **argv)
{
	return no_args(argc, argv) ?: show("/api/v1/status", text_status);
}

/* ---- get ---- */

int fogctl_get(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] != '/') {
		fogctl_err("usage: fogctl get /api/v1/PATH");
		return 2;
	}
	return show(argv[1], NULL);
}

/* ---- events ---- */

static void text_events(FILE *f, json_t *j)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(j, "events"), i, e) {
		char *line = json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(15));

		fprintf(f, "%s\n", line ? line : "");
		free(line);
	}
}

int fogctl_events(int argc, char **argv)
{
	char path[256], *esc = NULL;
	int rc;

	if (argc > 2) {
		fogctl_err("one event type at a time (usage: fogctl events [TYPE])");
		return 2;
	}
	if (argc == 2 && !(esc = fogctl_escape(argv[1]))) {
		fogctl_err("out of memory");
		return 1;
	}
	snprintf(path, sizeof(path), "/api/v1/events%s%s", esc ? "?type=" : "", esc ? esc : "");
	free(esc);
	rc = show(path, text_events);
	return rc;
}

/* ---- metrics, alerts, trends, recommend ---- */

static void text_metrics(FILE *f, json_t *j)
{
	json_t *v;
	const char *k;

	fprintf(f, "latest sample at %s\n", fogctl_str(j, "at", "-"));
	json_object_foreach(json_object_get(j, "values"), k, v)
		fprintf(f, "  %-14s %.6g\n", k, json_number_value(v));
}

static void text_alerts(FILE *f, json_t *j)
{
	json_t *a;
	size_t i;

	fprintf(f, "%-14s %-9s %-9s %12s %12s %12s %-10s %s\n", "RESOURCE", "LEVEL", "PENDING",
		"VALUE", "WARNING", "CRITICAL", "ID", "PROFILE");
	json_array_foreach(json_object_get(j, "alerts"), i, a) {
		json_t *t = json_object_get(a, "threshold"), *pr = json_object_get(a, "profile");
		json_t *id = json_object_get(a, "id");
		char ids[24] = "-", prof[200] = "-";

		if (json_is_integer(id))
			snprintf(ids, sizeof(ids), "%lld", (long long)json_integer_value(id));
		/* the link, and how its capture went: capturing, done, failed: why */
		if (fogctl_str(a, "profile_url", NULL) || pr)
			snprintf(prof, sizeof(prof), "%s%s%s%s%s",
				 fogctl_str(a, "profile_url", ""),
				 pr && fogctl_str(a, "profile_url", NULL) ? " " : "",
				 pr ? fogctl_str(pr, "state", "?") : "",
				 pr && (fogctl_str(pr, "error", NULL) || fogctl_str(pr, "reason", NULL))
					 ? ": " : "",
				 pr ? fogctl_str(pr, "error", fogctl_str(pr, "reason", "")) : "");
		fprintf(f, "%-14s %-9s %-9s %12.6g %12.6g %12.6g %-10s %s\n",
			fogctl_str(a, "resource", "(null)"), fogctl_str(a, "level", "(null)"),
			fogctl_str(a, "pending", "-"), fogctl_num(a, "value", -1),
			fogctl_num(t, "warning", -1), fogctl_num(t, "critical", -1), ids, prof);
	}
}

static void text_trends(FILE *f, json_t *j)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(j, "trends"), i, t)
		fprintf(f, "%-14s %-10s slope %+.3g/h  p=%.3g  %s\n",
			fogctl_str(t, "resource", "(null)"), fogctl_str(t, "direction", "(null)"),
			fogctl_num(t, "slope_per_hour", -1), fogctl_num(t, "p_value", -1),
			fogctl_str(t, "forecast", ""));
}

static void text_recommendations(FILE *f, json_t *j)
{
	json_t *r, *e;
	size_t i, k;

	if (!json_array_size(json_object_get(j, "recommendations")))
		fprintf(f, "no recommendations: no sustained pattern calls for a change\n");
	json_array_foreach(json_object_get(j, "recommendations"), i, r) {
		fprintf(f, "%s\n  do: %s\n", fogctl_str(r, "summary", "(null)"),
			fogctl_str(r, "action", "(null)"));
		json_array_foreach(json_object_get(r, "evidence"), k, e)
			fprintf(f, "  %s = %.6g %s\n", fogctl_str(e, "name", "(null)"),
				fogctl_num(e, "value", -1), fogctl_str(e, "unit", "(null)"));
	}
}

int fogctl_metrics(int argc, char **argv)
{
	return no_args(argc, argv) ?: show("/api/v1/metrics", text_metrics);
}

int fogctl_alerts(int argc, char **argv)
{
	return no_args(argc, argv) ?: show("/api/v1/alerts", text_alerts);
}

int fogctl_trends(int argc, char **argv)
{
	return no_args(argc, argv) ?: show("/api/v1/trends", text_trends);
}

int fogctl_recommend(int argc, char **argv)
{
	return no_args(argc, argv) ?: show("/api/v1/recommendations", text_recommendations);
}
