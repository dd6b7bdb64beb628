// SPDX-License-Identifier: GPL-2.0-only
/* The public monitor API, end to end: libfog's fog_monitor__* calls only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <cmocka.h>
#include <jansson.h>

#include "fog/monitor.h"
#include "http_stub.h"
#include "monitor/json.h"

#define T0 1714564800.0

struct seen {
	struct fog_alert ev[64];
	int n;
};

static void collect(const struct fog_alert *a, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 64)
		s->ev[s->n++] = *a;
}

static struct fog_monitor_sample one(enum fog_monitor_resource r, double v)
{
	struct fog_monitor_sample s;

	fog_monitor_sample_init(&s);
	s.value[r] = v;
	return s;
}

static void observe(struct fog_monitor *mon, double t, enum fog_monitor_resource r, double v)
{
	struct fog_monitor_sample s = one(r, v);

	assert_int_equal(fog_monitor__observe(mon, t, &s), 0);
}

static void errmsg_has(const char *want)
{
	if (!strstr(fog_monitor_errmsg(), want))
		fail_msg("message '%s' does not contain '%s'", fog_monitor_errmsg(), want);
}

static void test_bad_options(void **state)
{
	struct fog_monitor_opts o = { .trend_alpha = 2 };

	assert_null(fog_monitor__new(&o));
	assert_int_equal(errno, EINVAL);
	errmsg_has("trend_alpha is 2");
	o = (struct fog_monitor_opts){ .interval_seconds = NAN };
	assert_null(fog_monitor__new(&o));
	errmsg_has("interval_seconds");
	o = (struct fog_monitor_opts){ .retry_seconds = 10, .retry_max_seconds = 5 };
	assert_null(fog_monitor__new(&o));
	errmsg_has("retry_max_seconds 5 is below retry_seconds 10");
	o = (struct fog_monitor_opts){ .cpu_rule = { .threshold = 80 } };
	assert_null(fog_monitor__new(&o));
	errmsg_has("cpu_rule.threshold");
	fog_monitor__free(NULL);
}

static void test_malformed_thresholds(void **state)
{
	struct fog_monitor *mon = fog_monitor__new(NULL);

	assert_non_null(mon);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.8, 0.9, 30, 0.05), 0);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.9, 0.8, 0, 0), -EINVAL);
	errmsg_has("cpu critical threshold 0.8 is below the warning threshold 0.9");
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_MEMORY, NAN, 0.9, 0, 0),
			 -EINVAL);
	errmsg_has("memory warning threshold setting is nan");
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_MEMORY, 0.8, INFINITY, 0, 0),
			 -EINVAL);
	assert_int_equal(
		fog_monitor__set_threshold(mon, (enum fog_monitor_resource)99, 0.8, 0.9, 0, 0),
		-EINVAL);
	errmsg_has("unknown resource 99");
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_DISK, 80, 95, 0, 0), -EINVAL);
	errmsg_has("divide it by 100");
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_PSI, 0.2, 0.4, -5, 0),
			 -EINVAL);
	errmsg_has("negative");
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_IO_LATENCY, 0.05, 0.2, 0, 0),
			 0);
	/* the rejected calls changed nothing: CPU and io_latency only */
	{
		struct fog_alert_status st[FOG_MONITOR_RESOURCES];

		assert_int_equal(fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES), 2);
		assert_int_equal(st[0].resource, FOG_MONITOR_CPU);
		assert_true(st[0].threshold.warning == 0.8);
		assert_int_equal(st[1].resource, FOG_MONITOR_IO_LATENCY);
	}
	fog_monitor__free(mon);
}

static void test_bad_samples(void **state)
{
	struct fog_monitor *mon = fog_monitor__new(NULL);
	struct fog_monitor_sample s, latest;
	double at;

	assert_non_null(mon);
	assert_int_equal(fog_monitor__latest(mon, &latest, &at), -ENODATA);
	observe(mon, T0, FOG_MONITOR_CPU, 0.5);
	s = one(FOG_MONITOR_CPU, 0.6);
	assert_int_equal(fog_monitor__observe(mon, T0 - 1, &s), -EINVAL);
	errmsg_has("before the previous one");
	assert_int_equal(fog_monitor__observe(mon, NAN, &s), -EINVAL);
	s = one(FOG_MONITOR_MEMORY, INFINITY);
	assert_int_equal(fog_monitor__observe(mon, T0 + 1, &s), -EINVAL);
	errmsg_has("memory sample inf is infinite");
	s = one(FOG_MONITOR_IO_LATENCY, -0.001);
	assert_int_equal(fog_monitor__observe(mon, T0 + 1, &s), -EINVAL);
	errmsg_has("negative");
	assert_int_equal(fog_monitor__observe(mon, T0 + 1, NULL), -EINVAL);
	/* nothing of the rejected ticks was kept */
	assert_int_equal(fog_monitor__latest(mon, &latest, &at), 0);
	assert_true(at == T0);
	assert_true(latest.value[FOG_MONITOR_CPU] == 0.5);
	assert_true(isnan(latest.value[FOG_MONITOR_MEMORY]));
	fog_monitor__free(mon);
}

static void test_alert_callbacks(void **state)
{
	struct fog_monitor *mon = fog_monitor__new(NULL);
	struct fog_alert_status st[FOG_MONITOR_RESOURCES];
	struct fog_monitor_stats stats;
	struct seen seen = { 0 };
	const double cpu[] = { 0.5, 0.95, 0.95, 0.95, 0.88, 0.96, 0.5, 0.5 };

	assert_non_null(mon);
	assert_int_equal(fog_monitor__on_alert(mon, collect, &seen), 0);
	assert_int_equal(fog_monitor__on_alert(mon, NULL, NULL), -EINVAL);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.8, 0.9, 2, 0.05), 0);
	for (int i = 0; i < 8; i++) {
		observe(mon, T0 + i, FOG_MONITOR_CPU, cpu[i]);
		if (i == 2) {
			/* CRITICAL waits for its 2 s */
			assert_int_equal(seen.n, 0);
			assert_int_equal(fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES), 1);
			assert_int_equal(st[0].pending, FOG_ALERT_CRITICAL);
			assert_true(st[0].pending_since == T0 + 1);
		}
	}
	/* fired at T0 + 3, held through 0.88 (hysteresis), resolved at T0 + 6 */
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.ev[0].level, FOG_ALERT_CRITICAL);
	assert_true(seen.ev[0].at == T0 + 3);
	assert_true(seen.ev[0].since == T0 + 1);
	assert_true(seen.ev[1].resolved);
	assert_true(seen.ev[1].at == T0 + 6);
	assert_int_equal(fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES), 1);
	assert_int_equal(st[0].level, FOG_ALERT_INFO);
	assert_true(st[0].value == 0.5);
	fog_monitor__stats(mon, &stats);
	assert_int_equal(stats.observations, 8);
	assert_int_equal(stats.alerts_fired, 1);
	assert_int_equal(stats.alerts_resolved, 1);

	/* removing a threshold resolves its active alert */
	observe(mon, T0 + 10, FOG_MONITOR_CPU, 0.99);
	observe(mon, T0 + 13, FOG_MONITOR_CPU, 0.99);
	assert_int_equal(seen.n, 3);
	assert_int_equal(fog_monitor__clear_threshold(mon, FOG_MONITOR_CPU), 0);
	assert_int_equal(seen.n, 4);
	assert_true(seen.ev[3].resolved);
	assert_int_equal(fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES), 0);

	/* a callback removed is called no more */
	assert_int_equal(fog_monitor__off_alert(mon, collect, &stats), -ENOENT);
	assert_int_equal(fog_monitor__off_alert(mon, collect, &seen), 0);
	assert_int_equal(fog_monitor__off_alert(mon, collect, &seen), -ENOENT);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.8, 0.9, 0, 0.05), 0);
	observe(mon, T0 + 20, FOG_MONITOR_CPU, 0.99);
	assert_int_equal(seen.n, 4);
	fog_monitor__free(mon);
}

static void test_trend(void **state)
{
	struct fog_monitor *mon = fog_monitor__new(NULL);
	struct fog_trend tr;

	assert_non_null(mon);
	assert_int_equal(fog_monitor__trend(mon, FOG_MONITOR_MEMORY, &tr), -ENODATA);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_MEMORY, 0.85, 0.95, 0, 0), 0);
	for (int i = 0; i < 600; i++)
		observe(mon, T0 + i, FOG_MONITOR_MEMORY, 0.5 + 0.0001 * i);
	assert_int_equal(fog_monitor__trend(mon, FOG_MONITOR_MEMORY, &tr), 0);
	assert_int_equal(tr.direction, FOG_TREND_INCREASING);
	assert_int_equal(tr.samples, 600);
	assert_true(fabs(tr.slope - 0.0001) < 1e-12);
	/* aims at the next threshold up: (0.85 - 0.5599) / 0.0001 = 2901 s */
	assert_true(tr.target == 0.85);
	assert_true(fabs(tr.eta_seconds - 2901) < 1e-3);
	assert_string_equal(tr.forecast, "memory reaches 85% in about 48 min");
	assert_int_equal(fog_monitor__trend(mon, FOG_MONITOR_CPU, &tr), -ENODATA);
	errmsg_has("cpu: 0 samples");
	assert_int_equal(fog_monitor__trend(mon, (enum fog_monitor_resource)7, &tr), -EINVAL);
	fog_monitor__free(mon);
}

/* The window trends look at, and the samples kept, are bounded. */
static void test_windows_and_history(void **state)
{
	struct fog_monitor_opts o = { .trend_window_seconds = 60, .history = 10 };
	struct fog_monitor *mon = fog_monitor__new(&o);
	struct fog_trend tr;

	assert_non_null(mon);
	for (int i = 0; i < 100; i++)
		observe(mon, T0 + i, FOG_MONITOR_CPU, 0.01 * (i % 7));
	assert_int_equal(fog_monitor__trend(mon, FOG_MONITOR_CPU, &tr), 0);
	assert_int_equal(tr.samples, 10);
	fog_monitor__free(mon);

	o.history = 0;
	mon = fog_monitor__new(&o);
	for (int i = 0; i < 100; i++)
		observe(mon, T0 + i, FOG_MONITOR_CPU, 0.01 * (i % 7));
	assert_int_equal(fog_monitor__trend(mon, FOG_MONITOR_CPU, &tr), 0);
	assert_int_equal(tr.samples, 61); /* T0 + 39 .. T0 + 99 */
	fog_monitor__free(mon);
}

static void test_recommendations(void **state)
{
	struct fog_monitor_opts o = {
		.cpu_rule = { .window_seconds = 30 },
		.memory_rule = { .window_seconds = 30, .horizon_seconds = 3600 },
		.runq_rule = { .window_seconds = 30 },
	};
	struct fog_monitor *mon = fog_monitor__new(&o);
	struct fog_recommendation recs[8];
	int n, kinds = 0;

	assert_non_null(mon);
	for (int i = 0; i < 40; i++) {
		struct fog_monitor_sample s;

		fog_monitor_sample_init(&s);
		s.value[FOG_MONITOR_CPU] = 0.93;
		s.value[FOG_MONITOR_MEMORY] = 0.5 + 0.005 * i;
		s.value[FOG_MONITOR_RUNQ_LATENCY] = 0.02;
		assert_int_equal(fog_monitor__observe(mon, T0 + i, &s), 0);
		if (i == 10) /* a third of the window: too early for any pattern */
			assert_int_equal(fog_monitor__recommendations(mon, recs, 8), 0);
	}
	n = fog_monitor__recommendations(mon, recs, 8);
	assert_int_equal(n, 3);
	for (int i = 0; i < n; i++) {
		kinds |= 1 << recs[i].kind;
		assert_true(recs[i].n_evidence >= 5);
		assert_true(strlen(recs[i].summary) > 20);
	}
	assert_int_equal(kinds, (1 << FOG_REC_CPU_SATURATED) | (1 << FOG_REC_MEMORY_EXHAUSTION) |
					(1 << FOG_REC_RUNQ_LATENCY));
	assert_int_equal(fog_monitor__recommendations(mon, recs, 1), 1);
	fog_monitor__free(mon);
}

/* A hook (a real program: tee, no shell) gets the alert JSON on stdin. */
static void test_hook(void **state)
{
	char dir[] = "/tmp/fog-test-monitor.XXXXXX", out[PATH_MAX], buf[4096];
	const char *argv[] = { "/usr/bin/tee", out, NULL };
	const char *relative[] = { "tee", out, NULL };
	struct fog_monitor *mon = fog_monitor__new(NULL);
	struct fog_monitor_stats stats;
	json_t *j;
	FILE *f;
	size_t len;

	assert_non_null(mon);
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/alert.json", dir);
	assert_int_equal(fog_monitor__add_hook(mon, relative, 5, FOG_ALERT_ERROR), -EINVAL);
	errmsg_has("not an absolute path");
	assert_int_equal(fog_monitor__add_hook(mon, argv, 0, FOG_ALERT_ERROR), -EINVAL);
	assert_int_equal(fog_monitor__add_hook(mon, argv, 5, FOG_ALERT_ERROR), 0);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_DISK, 0.8, 0.9, 0, 0), 0);
	observe(mon, T0, FOG_MONITOR_DISK, 0.75); /* WARNING: below the hook's level */
	assert_int_equal(fog_monitor__flush(mon, 5), 0);
	assert_int_equal(access(out, F_OK), -1);
	observe(mon, T0 + 1, FOG_MONITOR_DISK, 0.85); /* ERROR */
	assert_int_equal(fog_monitor__flush(mon, 5), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "resource")), "disk");
	assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "previous")), "warning");
	assert_string_equal(json_string_value(json_object_get(j, "at")),
			    "2024-05-01T12:00:01.000Z");
	json_decref(j);
	fog_monitor__stats(mon, &stats);
	assert_int_equal(stats.hooks_run, 1);
	assert_int_equal(stats.hooks_failed, 0);
	fog_monitor__free(mon);
	unlink(out);
	rmdir(dir);
}

static void test_webhook(void **state)
{
	struct fog_monitor_opts o = { .instance = "node-7", .retry_seconds = 0.05 };
	struct fog_monitor *mon = fog_monitor__new(&o);
	struct fog_monitor_stats stats;
	struct http_stub s;
	char url[128];
	json_t *j;

	assert_non_null(mon);
	assert_int_equal(stub_start(&s, 200), 0);
	s.statuses[0] = 502; /* the first try fails */
	s.nstatuses = 1;
	stub_url(&s, url, sizeof(url), "/alerts");
	assert_int_equal(fog_monitor__add_webhook(mon, "gopher://x/", FOG_ALERT_WARNING), -EINVAL);
	errmsg_has("not http or https");
	assert_int_equal(fog_monitor__add_webhook(mon, url, FOG_ALERT_WARNING), 0);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_PSI, 0.2, 0.4, 0, 0), 0);
	observe(mon, T0, FOG_MONITOR_PSI, 0.5);
	observe(mon, T0 + 1, FOG_MONITOR_PSI, 0.01);
	assert_int_equal(fog_monitor__flush(mon, 10), 0);
	assert_int_equal(s.nreqs, 3); /* critical (twice: one retry), then resolved */
	j = json_loads(s.reqs[1].body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "instance")), "node-7");
	assert_string_equal(json_string_value(json_object_get(j, "level")), "critical");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "firing");
	json_decref(j);
	j = json_loads(s.reqs[2].body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "resolved");
	json_decref(j);
	fog_monitor__stats(mon, &stats);
	assert_int_equal(stats.posts_sent, 2);
	assert_int_equal(stats.posts_retried, 1);
	fog_monitor__free(mon);
	stub_stop(&s);
}

static void test_alertmanager(void **state)
{
	struct fog_monitor_opts o = { .instance = "node-7", .generator_url = "http://node-7/" };
	struct fog_monitor *mon = fog_monitor__new(&o);
	struct http_stub s;
	char url[128];
	json_t *arr, *a;

	assert_non_null(mon);
	assert_int_equal(stub_start(&s, 200), 0);
	stub_url(&s, url, sizeof(url), "/");
	assert_int_equal(fog_monitor__add_alertmanager(mon, url, 10, FOG_ALERT_ERROR), 0);
	assert_int_equal(fog_monitor__add_alertmanager(mon, url, -1, FOG_ALERT_ERROR), -EINVAL);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.5, 0.9, 0, 0), 0);
	observe(mon, T0, FOG_MONITOR_CPU, 0.46);      /* WARNING: not sent */
	observe(mon, T0 + 1, FOG_MONITOR_CPU, 0.6);   /* ERROR: sent */
	observe(mon, T0 + 5, FOG_MONITOR_CPU, 0.61);  /* nothing due */
	observe(mon, T0 + 11, FOG_MONITOR_CPU, 0.62); /* re-sent */
	observe(mon, T0 + 12, FOG_MONITOR_CPU, 0.1);  /* resolved */
	assert_int_equal(fog_monitor__flush(mon, 10), 0);
	assert_int_equal(s.nreqs, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(s.reqs[i].path, "/api/v2/alerts");
		assert_string_equal(s.reqs[i].content_type, "application/json");
	}
	arr = json_loads(s.reqs[0].body, 0, NULL);
	assert_int_equal(json_array_size(arr), 1);
	a = json_array_get(arr, 0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "labels"), "severity")),
		"error");
	assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
			    "2024-05-01T12:00:01.000Z");
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2024-05-01T12:00:41.000Z");
	assert_string_equal(json_string_value(json_object_get(a, "generatorURL")),
			    "http://node-7/");
	json_decref(arr);
	arr = json_loads(s.reqs[1].body, 0, NULL);
	a = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2024-05-01T12:00:51.000Z");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(a, "annotations"), "value")),
		"62%");
	json_decref(arr);
	arr = json_loads(s.reqs[2].body, 0, NULL);
	a = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2024-05-01T12:00:12.000Z");
	json_decref(arr);
	fog_monitor__free(mon);
	stub_stop(&s);
}

/* An annotator as fogd's alert profiles: a link from ERROR up, one per episode. */
static void link_from_error(struct fog_alert *a, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	if (!a->resolved && a->level >= FOG_ALERT_ERROR && !a->profile_url[0])
		snprintf(a->profile_url, sizeof(a->profile_url), "/p/%lu", a->id);
}

static json_t *annotation(json_t *arr, const char *key)
{
	return json_object_get(json_object_get(json_array_get(arr, 0), "annotations"), key);
}

/* Episode ids and the annotator's link, through callbacks, status, webhook, Alertmanager, hook. */
static void test_profile_link(void **state)
{
	char dir[] = "/tmp/fog-test-monitor.XXXXXX", out[PATH_MAX], cmd[PATH_MAX + 16], buf[4096];
	struct fog_monitor_opts o = { .instance = "node-7", .first_alert_id = 100 };
	struct fog_monitor *mon = fog_monitor__new(&o);
	struct fog_alert_status st[FOG_MONITOR_RESOURCES];
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct http_stub wh, am;
	struct seen seen = { 0 };
	char url[128];
	int calls = 0;
	json_t *j;
	FILE *f;
	size_t len;

	assert_non_null(mon);
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/env", dir);
	snprintf(cmd, sizeof(cmd), "env >>%s", out);
	assert_int_equal(stub_start(&wh, 200), 0);
	assert_int_equal(stub_start(&am, 200), 0);
	stub_url(&wh, url, sizeof(url), "/alerts");
	assert_int_equal(fog_monitor__add_webhook(mon, url, FOG_ALERT_WARNING), 0);
	stub_url(&am, url, sizeof(url), "/");
	assert_int_equal(fog_monitor__add_alertmanager(mon, url, 1000, FOG_ALERT_WARNING), 0);
	assert_int_equal(fog_monitor__add_hook(mon, argv, 5, FOG_ALERT_ERROR), 0);
	assert_int_equal(fog_monitor__on_alert(mon, collect, &seen), 0);
	assert_int_equal(fog_monitor__set_annotate(mon, link_from_error, &calls), 0);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.5, 0.9, 0, 0), 0);
	observe(mon, T0, FOG_MONITOR_CPU, 0.46);	/* WARNING: episode 100, no link yet */
	observe(mon, T0 + 1, FOG_MONITOR_CPU, 0.6);	/* ERROR: linked */
	assert_int_equal(fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES), 1);
	assert_int_equal(st[0].id, 100);
	assert_string_equal(st[0].profile_url, "/p/100");
	j = fog_monitor_alerts_json(mon);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
				    json_object_get(j, "alerts"), 0), "profile_url")), "/p/100");
	json_decref(j);
	observe(mon, T0 + 2, FOG_MONITOR_CPU, 0.95);	/* CRITICAL: the episode keeps it */
	observe(mon, T0 + 3, FOG_MONITOR_CPU, 0.1);	/* resolved, still linked */
	assert_int_equal(fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES), 1);
	assert_int_equal(st[0].id, 0);
	assert_string_equal(st[0].profile_url, "");
	observe(mon, T0 + 4, FOG_MONITOR_CPU, 0.6);	/* a new episode, a new id and link */
	assert_int_equal(fog_monitor__flush(mon, 10), 0);
	assert_int_equal(calls, 5);
	assert_int_equal(seen.n, 5);
	assert_int_equal(seen.ev[0].id, 100);
	assert_string_equal(seen.ev[0].profile_url, "");
	for (int i = 1; i < 4; i++) {
		assert_int_equal(seen.ev[i].id, 100);
		assert_string_equal(seen.ev[i].profile_url, "/p/100");
	}
	assert_true(seen.ev[3].resolved);
	assert_int_equal(seen.ev[4].id, 101);
	assert_string_equal(seen.ev[4].profile_url, "/p/101");
	/* the webhook's JSON: none on the warning, the link from the error on */
	assert_int_equal(wh.nreqs, 5);
	j = json_loads(wh.reqs[0].body, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 100);
	assert_null(json_object_get(j, "profile_url"));
	json_decref(j);
	j = json_loads(wh.reqs[1].body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "profile_url")), "/p/100");
	json_decref(j);
	/* Alertmanager: the error's alert carries the annotation */
	j = json_loads(am.reqs[0].body, 0, NULL);
	assert_null(annotation(j, "profile_url"));
	json_decref(j);
	j = json_loads(am.reqs[1].body, 0, NULL);
	assert_int_equal(json_array_size(j), 2);	/* the warning's end, the error */
	assert_string_equal(json_string_value(json_object_get(json_object_get(
				    json_array_get(j, 1), "annotations"), "profile_url")), "/p/100");
	json_decref(j);
	/* the hook's environment */
	f = fopen(out, "r");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	assert_non_null(strstr(buf, "FOG_ALERT_PROFILE_URL=/p/100\n"));
	assert_non_null(strstr(buf, "FOG_ALERT_ID=100\n"));
	assert_non_null(strstr(buf, "FOG_ALERT_PROFILE_URL=/p/101\n"));
	fog_monitor__free(mon);
	stub_stop(&wh);
	stub_stop(&am);
	unlink(out);
	rmdir(dir);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	return json_string_value(v);
}

/* What fogd's API serves: /api/v1/alerts, /trends, /recommendations. */
static void test_json_views(void **state)
{
	struct fog_monitor_opts o = { .cpu_rule = { .window_seconds = 20 } };
	struct fog_monitor *mon = fog_monitor__new(&o);
	json_t *j, *a, *th, *tr, *ev;
	size_t i;
	char *text;
	int p95 = 0;

	assert_non_null(mon);
	j = fog_monitor_latest_json(mon);
	assert_true(json_is_null(json_object_get(j, "at")));
	assert_int_equal(json_object_size(json_object_get(j, "values")), 0);
	json_decref(j);
	assert_int_equal(fog_monitor__set_threshold(mon, FOG_MONITOR_CPU, 0.5, 0.9, 5, 0), 0);
	for (int k = 0; k < 30; k++) {
		struct fog_monitor_sample s;

		fog_monitor_sample_init(&s);
		s.value[FOG_MONITOR_CPU] = 0.95;
		s.value[FOG_MONITOR_MEMORY] = 0.4;
		assert_int_equal(fog_monitor__observe(mon, T0 + k, &s), 0);
	}

	j = fog_monitor_alerts_json(mon);
	assert_int_equal(json_array_size(json_object_get(j, "alerts")), 1);
	a = json_array_get(json_object_get(j, "alerts"), 0);
	assert_string_equal(jstr(a, "resource"), "cpu");
	assert_string_equal(jstr(a, "unit"), "fraction");
	assert_string_equal(jstr(a, "level"), "critical");
	assert_string_equal(jstr(a, "pending"), "critical");
	assert_true(json_is_null(json_object_get(a, "pending_since")));
	assert_string_equal(jstr(a, "since"), "2024-05-01T12:00:00.000Z");
	assert_string_equal(jstr(a, "updated_at"), "2024-05-01T12:00:29.000Z");
	assert_true(json_real_value(json_object_get(a, "value")) == 0.95);
	th = json_object_get(a, "threshold");
	assert_true(json_real_value(json_object_get(th, "warning")) == 0.5);
	assert_true(json_real_value(json_object_get(th, "for_seconds")) == 5);
	text = json_dumps(j, 0);
	assert_non_null(text);
	free(text);
	json_decref(j);

	j = fog_monitor_trends_json(mon);
	assert_true(json_real_value(json_object_get(j, "window_seconds")) == 900);
	assert_true(json_real_value(json_object_get(j, "alpha")) == 0.05);
	assert_int_equal(json_array_size(json_object_get(j, "trends")), 2);
	tr = json_array_get(json_object_get(j, "trends"), 0);
	assert_string_equal(jstr(tr, "resource"), "cpu");
	assert_string_equal(jstr(tr, "direction"), "stable");
	assert_int_equal(json_integer_value(json_object_get(tr, "samples")), 30);
	assert_true(json_is_null(json_object_get(tr, "forecast")));
	assert_true(json_is_null(json_object_get(tr, "eta_seconds")));
	assert_string_equal(jstr(json_array_get(json_object_get(j, "trends"), 1), "resource"),
			    "memory");
	text = json_dumps(j, 0);
	assert_non_null(text);
	free(text);
	json_decref(j);

	j = fog_monitor_recommendations_json(mon);
	assert_int_equal(json_array_size(json_object_get(j, "recommendations")), 1);
	a = json_array_get(json_object_get(j, "recommendations"), 0);
	assert_string_equal(jstr(a, "kind"), "cpu_saturated");
	assert_string_equal(jstr(a, "resource"), "cpu");
	assert_non_null(strstr(jstr(a, "summary"), "p95 of 95%"));
	json_array_foreach(json_object_get(a, "evidence"), i, ev) {
		if (!strcmp(jstr(ev, "name"), "p95")) {
			p95 = 1;
			assert_true(json_real_value(json_object_get(ev, "value")) == 0.95);
			assert_string_equal(jstr(ev, "unit"), "fraction");
		}
	}
	assert_true(p95);
	json_decref(j);

	j = fog_monitor_latest_json(mon);
	assert_string_equal(jstr(j, "at"), "2024-05-01T12:00:29.000Z");
	assert_int_equal(json_object_size(json_object_get(j, "values")), 2);
	a = json_object_get(j, "values");
	assert_true(json_real_value(json_object_get(a, "memory")) == 0.4);
	json_decref(j);

	j = fog_monitor_stats_json(mon);
	assert_int_equal(json_integer_value(json_object_get(j, "observations")), 30);
	assert_int_equal(json_integer_value(json_object_get(j, "alerts_fired")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "posts_sent")), 0);
	json_decref(j);
	fog_monitor__free(mon);
}

/* The monitor samples this host by itself; figures must be sane fractions. */
static void test_start_stop(void **state)
{
	struct fog_monitor_opts o = { .interval_seconds = 0.1 };
	struct fog_monitor *mon = fog_monitor__new(&o);
	struct fog_monitor_sample latest, s;
	double at = 0, deadline = stub_now() + 5;

	assert_non_null(mon);
	assert_int_equal(fog_monitor__start(mon), 0);
	assert_int_equal(fog_monitor__start(mon), -EALREADY);
	s = one(FOG_MONITOR_CPU, 0.1);
	assert_int_equal(fog_monitor__observe(mon, T0, &s), -EBUSY);
	while (stub_now() < deadline) {
		if (!fog_monitor__latest(mon, &latest, &at) &&
		    !isnan(latest.value[FOG_MONITOR_CPU]))
			break;
		usleep(20000);
	}
	assert_true(latest.value[FOG_MONITOR_CPU] >= 0 && latest.value[FOG_MONITOR_CPU] <= 1);
	assert_true(latest.value[FOG_MONITOR_MEMORY] > 0 && latest.value[FOG_MONITOR_MEMORY] < 1);
	assert_true(fabs(at - (double)time(NULL)) < 5); /* wall-clock times */
	assert_int_equal(fog_monitor__stop(mon), 0);
	assert_int_equal(fog_monitor__stop(mon), 0);
	/* stopped: the caller may feed it again */
	assert_int_equal(fog_monitor__observe(mon, at + 1, &s), 0);
	fog_monitor__free(mon);

	/* freeing a running monitor stops it */
	mon = fog_monitor__new(&o);
	assert_int_equal(fog_monitor__start(mon), 0);
	fog_monitor__free(mon);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_options),	cmocka_unit_test(test_malformed_thresholds),
		cmocka_unit_test(test_bad_samples),	cmocka_unit_test(test_alert_callbacks),
		cmocka_unit_test(test_trend),		cmocka_unit_test(test_windows_and_history),
		cmocka_unit_test(test_recommendations), cmocka_unit_test(test_hook),
		cmocka_unit_test(test_webhook),		cmocka_unit_test(test_alertmanager),
		cmocka_unit_test(test_json_views),	cmocka_unit_test(test_profile_link),
		cmocka_unit_test(test_start_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
