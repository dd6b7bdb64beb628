// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "monitor/alertmanager.h"
#include "monitor/format.h"

#define T0 1714564800.0 /* 2024-05-01T12:00:00Z */

static struct fog_alertmanager *make(enum fog_alert_level min_level, const char *gen)
{
	struct fog_alertmanager_opts o = {
		.resend_seconds = 60,
		.min_level = min_level,
		.instance = "fog-host-1",
		.generator_url = gen,
	};
	struct fog_alertmanager *am = fog_alertmanager__new(&o);

	assert_non_null(am);
	return am;
}

static struct fog_alert change(enum fog_monitor_resource r, enum fog_alert_level from,
			       enum fog_alert_level to, double at, double since, double value)
{
	struct fog_alert ev = {
		.resource = r,
		.level = to,
		.previous = from,
		.resolved = to == FOG_ALERT_INFO,
		.value = value,
		.threshold = 0.9,
		.since = since,
		.started_at = since,
		.at = at,
	};

	snprintf(ev.summary, sizeof(ev.summary), "%s went from %s to %s",
		 fog_monitor_resource_name(r), fog_alert_level_name(from),
		 fog_alert_level_name(to));
	return ev;
}

static const char *str(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);

	if (path2)
		v = json_object_get(v, path2);
	if (!json_is_string(v))
		fail_msg("%s%s%s is not a string", path1, path2 ? "." : "", path2 ? path2 : "");
	return json_string_value(v);
}

static void time_is(json_t *o, const char *key, double want)
{
	char buf[40];

	assert_int_equal(fog_monitor_format_time(buf, sizeof(buf), want), 0);
	assert_string_equal(str(o, key, NULL), buf);
}

/* Every element is an object with exactly the v2 postableAlert fields, all strings. */
static void check_shape(json_t *arr)
{
	size_t i;
	json_t *a;

	assert_true(json_is_array(arr));
	json_array_foreach(arr, i, a)
	{
		const char *key;
		json_t *v;

		assert_true(json_is_object(a));
		json_object_foreach(a, key, v)
		{
			if (strcmp(key, "labels") && strcmp(key, "annotations") &&
			    strcmp(key, "startsAt") && strcmp(key, "endsAt") &&
			    strcmp(key, "generatorURL"))
				fail_msg("unexpected field %s", key);
		}
		assert_true(json_is_object(json_object_get(a, "labels")));
		assert_true(json_is_object(json_object_get(a, "annotations")));
		json_object_foreach(json_object_get(a, "labels"), key, v)
			assert_true(json_is_string(v));
		json_object_foreach(json_object_get(a, "annotations"), key, v)
			assert_true(json_is_string(v));
		/* RFC 3339 in UTC with milliseconds */
		assert_int_equal(strlen(str(a, "startsAt", NULL)), 24);
		assert_int_equal(str(a, "startsAt", NULL)[23], 'Z');
		assert_int_equal(str(a, "startsAt", NULL)[10], 'T');
	}
}

static void test_alert_json(void **state)
{
	struct fog_am_alert a = {
		.firing = true,
		.resource = FOG_MONITOR_RUNQ_LATENCY,
		.level = FOG_ALERT_CRITICAL,
		.starts_at = T0,
		.value = 0.0125,
		.threshold = 0.01,
	};
	json_t *o;

	snprintf(a.summary, sizeof(a.summary),
		 "runq_latency at 12.5 ms is above the critical "
		 "threshold 10 ms");
	o = fog_am_alert_json(&a, "fog-host-1", "http://fog-host-1:9477/api/v1/alerts", T0 + 240);
	assert_non_null(o);
	assert_string_equal(str(o, "labels", "alertname"), "FogRunqLatencyHigh");
	assert_string_equal(str(o, "labels", "severity"), "critical");
	assert_string_equal(str(o, "labels", "resource"), "runq_latency");
	assert_string_equal(str(o, "labels", "instance"), "fog-host-1");
	assert_int_equal(json_object_size(json_object_get(o, "labels")), 4);
	assert_string_equal(str(o, "annotations", "summary"), a.summary);
	assert_string_equal(str(o, "annotations", "value"), "12.5 ms");
	assert_string_equal(str(o, "annotations", "threshold"), "10 ms");
	assert_string_equal(str(o, "annotations", "description"),
			    "runq_latency is 12.5 ms, critical threshold 10 ms");
	assert_string_equal(str(o, "startsAt", NULL), "2024-05-01T12:00:00.000Z");
	assert_string_equal(str(o, "endsAt", NULL), "2024-05-01T12:04:00.000Z");
	assert_string_equal(str(o, "generatorURL", NULL), "http://fog-host-1:9477/api/v1/alerts");
	json_decref(o);

	/* no generator URL, no endsAt: the fields are left out, not empty */
	o = fog_am_alert_json(&a, "h", NULL, NAN);
	assert_null(json_object_get(o, "generatorURL"));
	assert_null(json_object_get(o, "endsAt"));
	json_decref(o);
}

/* Firing, escalating, resolving: what Alertmanager is told at each step. */
static void test_lifecycle(void **state)
{
	struct fog_alertmanager *am = make(FOG_ALERT_WARNING, "http://gen/");
	struct fog_alert ev;
	json_t *p, *a;

	ev = change(FOG_MONITOR_CPU, FOG_ALERT_INFO, FOG_ALERT_ERROR, T0 + 10, T0, 0.85);
	p = fog_alertmanager_change(am, &ev);
	check_shape(p);
	assert_int_equal(json_array_size(p), 1);
	a = json_array_get(p, 0);
	assert_string_equal(str(a, "labels", "severity"), "error");
	assert_string_equal(str(a, "labels", "alertname"), "FogCpuHigh");
	time_is(a, "startsAt", T0);	     /* when the level began, not when it fired */
	time_is(a, "endsAt", T0 + 10 + 240); /* 4 resend intervals ahead */
	assert_string_equal(str(a, "generatorURL", NULL), "http://gen/");
	json_decref(p);

	/* a new severity: the old alert ends, a new one starts */
	ev = change(FOG_MONITOR_CPU, FOG_ALERT_ERROR, FOG_ALERT_CRITICAL, T0 + 20, T0 + 15, 0.95);
	p = fog_alertmanager_change(am, &ev);
	check_shape(p);
	assert_int_equal(json_array_size(p), 2);
	a = json_array_get(p, 0);
	assert_string_equal(str(a, "labels", "severity"), "error");
	time_is(a, "startsAt", T0);
	time_is(a, "endsAt", T0 + 20);
	a = json_array_get(p, 1);
	assert_string_equal(str(a, "labels", "severity"), "critical");
	time_is(a, "startsAt", T0 + 15);
	time_is(a, "endsAt", T0 + 20 + 240);
	json_decref(p);

	/* resolved: sent once with endsAt at the resolve time */
	ev = change(FOG_MONITOR_CPU, FOG_ALERT_CRITICAL, FOG_ALERT_INFO, T0 + 30, T0 + 30, 0.2);
	p = fog_alertmanager_change(am, &ev);
	check_shape(p);
	assert_int_equal(json_array_size(p), 1);
	a = json_array_get(p, 0);
	assert_string_equal(str(a, "labels", "severity"), "critical");
	time_is(a, "startsAt", T0 + 15);
	time_is(a, "endsAt", T0 + 30);
	assert_string_equal(str(a, "annotations", "summary"), "cpu went from critical to info");
	assert_string_equal(str(a, "annotations", "value"), "20%");
	json_decref(p);

	/* nothing fires any more: nothing to re-send */
	assert_null(fog_alertmanager_resend(am, T0 + 1000, NULL));
	fog_alertmanager__free(am);
}

static void test_min_level(void **state)
{
	struct fog_alertmanager *am = make(FOG_ALERT_ERROR, NULL);
	struct fog_alert ev;
	json_t *p, *a;

	ev = change(FOG_MONITOR_DISK, FOG_ALERT_INFO, FOG_ALERT_WARNING, T0, T0, 0.75);
	assert_null(fog_alertmanager_change(am, &ev)); /* below min_level */
	ev = change(FOG_MONITOR_DISK, FOG_ALERT_WARNING, FOG_ALERT_ERROR, T0 + 5, T0 + 5, 0.85);
	p = fog_alertmanager_change(am, &ev);
	assert_int_equal(json_array_size(p), 1);
	assert_string_equal(str(json_array_get(p, 0), "labels", "severity"), "error");
	assert_null(json_object_get(json_array_get(p, 0), "generatorURL"));
	json_decref(p);
	/* dropping below min_level ends the alert without a new one */
	ev = change(FOG_MONITOR_DISK, FOG_ALERT_ERROR, FOG_ALERT_WARNING, T0 + 9, T0 + 9, 0.78);
	p = fog_alertmanager_change(am, &ev);
	assert_int_equal(json_array_size(p), 1);
	a = json_array_get(p, 0);
	assert_string_equal(str(a, "labels", "severity"), "error");
	time_is(a, "endsAt", T0 + 9);
	json_decref(p);
	ev = change(FOG_MONITOR_DISK, FOG_ALERT_WARNING, FOG_ALERT_INFO, T0 + 12, T0 + 12, 0.1);
	assert_null(fog_alertmanager_change(am, &ev));
	fog_alertmanager__free(am);
}

static void test_resend(void **state)
{
	struct fog_alertmanager *am = make(FOG_ALERT_WARNING, NULL);
	struct fog_monitor_sample latest;
	struct fog_alert ev;
	json_t *p, *a;

	fog_monitor_sample_init(&latest);
	ev = change(FOG_MONITOR_MEMORY, FOG_ALERT_INFO, FOG_ALERT_CRITICAL, T0 + 100, T0 + 90,
		    0.96);
	json_decref(fog_alertmanager_change(am, &ev));
	ev = change(FOG_MONITOR_PSI, FOG_ALERT_INFO, FOG_ALERT_WARNING, T0 + 110, T0 + 110, 0.3);
	json_decref(fog_alertmanager_change(am, &ev));

	assert_null(fog_alertmanager_resend(am, T0 + 150, &latest)); /* 40 s after the last */
	latest.value[FOG_MONITOR_MEMORY] = 0.97;
	p = fog_alertmanager_resend(am, T0 + 170, &latest);
	check_shape(p);
	assert_int_equal(json_array_size(p), 2);
	a = json_array_get(p, 0);
	assert_string_equal(str(a, "labels", "resource"), "memory");
	time_is(a, "startsAt", T0 + 90); /* unchanged: the same alert */
	time_is(a, "endsAt", T0 + 170 + 240);
	assert_string_equal(str(a, "annotations", "value"), "97%");
	a = json_array_get(p, 1);
	assert_string_equal(str(a, "labels", "resource"), "psi");
	assert_string_equal(str(a, "labels", "alertname"), "FogPressureHigh");
	assert_string_equal(str(a, "annotations", "value"), "30%"); /* no newer sample */
	json_decref(p);
	assert_null(fog_alertmanager_resend(am, T0 + 200, &latest));
	p = fog_alertmanager_resend(am, T0 + 230, &latest);
	assert_int_equal(json_array_size(p), 2);
	json_decref(p);
	fog_alertmanager__free(am);
}

static void test_url_and_opts(void **state)
{
	struct fog_alertmanager_opts bad = { .resend_seconds = 0, .instance = "h" };
	char buf[64];

	assert_int_equal(fog_alertmanager_url(buf, sizeof(buf), "http://127.0.0.1:9093"), 0);
	assert_string_equal(buf, "http://127.0.0.1:9093/api/v2/alerts");
	assert_int_equal(fog_alertmanager_url(buf, sizeof(buf), "http://am.example:9093/am//"), 0);
	assert_string_equal(buf, "http://am.example:9093/am/api/v2/alerts");
	assert_int_equal(fog_alertmanager_url(buf, 16, "http://127.0.0.1:9093"), -ENAMETOOLONG);
	assert_null(fog_alertmanager__new(&bad));
	assert_int_equal(errno, EINVAL);
	bad.resend_seconds = NAN;
	assert_null(fog_alertmanager__new(&bad));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_json),   cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_min_level),    cmocka_unit_test(test_resend),
		cmocka_unit_test(test_url_and_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
