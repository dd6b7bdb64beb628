// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "monitor/threshold.h"

#define APPROACH 0.9

static void init(struct fog_threshold_state *s, double warning, double critical, double for_s,
		 double hyst)
{
	struct fog_threshold t = { warning, critical, for_s, hyst };
	char err[256];

	assert_int_equal(fog_threshold_check(FOG_MONITOR_CPU, &t, APPROACH, err, sizeof(err)), 0);
	fog_threshold_init(s, &t, APPROACH);
}

/* Feeds one value; returns the new level when it changed, -1 otherwise. */
static int feed(struct fog_threshold_state *s, double now, double v, struct fog_alert *ev)
{
	struct fog_alert scratch;

	if (!ev)
		ev = &scratch;
	return fog_threshold_step(s, FOG_MONITOR_CPU, now, v, ev) ? (int)ev->level : -1;
}

static void test_levels(void **state)
{
	struct fog_threshold_state s;
	struct fog_alert ev;

	init(&s, 0.8, 0.9, 0, 0);
	/* WARNING starts at 0.9 * 0.8 = 0.72 */
	assert_int_equal(feed(&s, 1, 0.50, NULL), -1);
	assert_int_equal(feed(&s, 2, 0.719, NULL), -1);
	assert_int_equal(feed(&s, 3, 0.721, &ev), FOG_ALERT_WARNING);
	assert_int_equal(ev.previous, FOG_ALERT_INFO);
	assert_false(ev.resolved);
	assert_true(fabs(ev.threshold - 0.72) < 1e-12);
	assert_int_equal(feed(&s, 4, 0.80, &ev), FOG_ALERT_ERROR);
	assert_true(fabs(ev.threshold - 0.8) < 1e-12);
	assert_int_equal(feed(&s, 5, 0.95, &ev), FOG_ALERT_CRITICAL);
	assert_int_equal(ev.previous, FOG_ALERT_ERROR);
	assert_string_equal(ev.summary, "cpu at 95% is above the critical threshold 90%");
	assert_true(ev.started_at == 3); /* the episode began with WARNING */
	assert_true(ev.since == 5);
	assert_int_equal(feed(&s, 6, 0.96, NULL), -1); /* same level: no event */
	/* straight back to normal */
	assert_int_equal(feed(&s, 7, 0.10, &ev), FOG_ALERT_INFO);
	assert_true(ev.resolved);
	assert_int_equal(ev.previous, FOG_ALERT_CRITICAL);
	assert_true(fabs(ev.threshold - 0.9) < 1e-12);
	assert_true(ev.started_at == 3);
	assert_true(ev.at == 7);
	assert_string_equal(ev.summary, "cpu at 10% is back to normal (below 90%)");
	assert_int_equal(s.level, FOG_ALERT_INFO);
}

/* A jump over several thresholds fires the highest level at once. */
static void test_jump_fires_highest(void **state)
{
	struct fog_threshold_state s;
	struct fog_alert ev;

	init(&s, 0.8, 0.9, 0, 0);
	assert_int_equal(feed(&s, 1, 0.99, &ev), FOG_ALERT_CRITICAL);
	assert_int_equal(ev.previous, FOG_ALERT_INFO);
	/* stepping down goes through ERROR without waiting */
	assert_int_equal(feed(&s, 2, 0.85, &ev), FOG_ALERT_ERROR);
	assert_false(ev.resolved);
	assert_int_equal(ev.previous, FOG_ALERT_CRITICAL);
	assert_string_equal(ev.summary, "cpu at 85% is above the warning threshold 80%");
}

static void test_for_duration(void **state)
{
	struct fog_threshold_state s;
	struct fog_alert_status st;
	struct fog_alert ev;

	init(&s, 0.8, 0.9, 10, 0);
	assert_int_equal(feed(&s, 100, 0.95, NULL), -1);
	fog_threshold_status(&s, FOG_MONITOR_CPU, &st);
	assert_int_equal(st.level, FOG_ALERT_INFO);
	assert_int_equal(st.pending, FOG_ALERT_CRITICAL);
	assert_true(st.pending_since == 100);
	assert_int_equal(feed(&s, 105, 0.95, NULL), -1);
	assert_int_equal(feed(&s, 109.9, 0.95, NULL), -1);
	assert_int_equal(feed(&s, 110, 0.95, &ev), FOG_ALERT_CRITICAL);
	assert_true(ev.since == 100); /* since the first sample at or above */
	fog_threshold_status(&s, FOG_MONITOR_CPU, &st);
	assert_int_equal(st.pending, FOG_ALERT_CRITICAL);
	assert_true(isnan(st.pending_since));

	/* an interruption restarts the clock */
	init(&s, 0.8, 0.9, 10, 0);
	assert_int_equal(feed(&s, 0, 0.95, NULL), -1);
	assert_int_equal(feed(&s, 5, 0.50, NULL), -1);
	assert_int_equal(feed(&s, 6, 0.95, NULL), -1);
	assert_int_equal(feed(&s, 12, 0.95, NULL), -1);
	assert_int_equal(feed(&s, 15.9, 0.95, NULL), -1);
	assert_int_equal(feed(&s, 16, 0.95, NULL), FOG_ALERT_CRITICAL);
}

/* Lower levels that held long enough fire while a higher one still waits. */
static void test_for_escalates_in_steps(void **state)
{
	struct fog_threshold_state s;

	init(&s, 0.8, 0.9, 10, 0);
	assert_int_equal(feed(&s, 0, 0.85, NULL), -1); /* WARNING and ERROR start waiting */
	assert_int_equal(feed(&s, 5, 0.95, NULL), -1); /* CRITICAL starts waiting */
	assert_int_equal(feed(&s, 10, 0.95, NULL), FOG_ALERT_ERROR);
	assert_int_equal(feed(&s, 14, 0.95, NULL), -1);
	assert_int_equal(feed(&s, 15, 0.95, NULL), FOG_ALERT_CRITICAL);
}

/* Counts level changes while the value hovers across the critical threshold. */
static int hover_changes(double hysteresis)
{
	struct fog_threshold_state s;
	int changes = 0;

	init(&s, 0.8, 0.9, 0, hysteresis);
	for (int i = 0; i < 100; i++) {
		if (feed(&s, i, i % 2 ? 0.905 : 0.895, NULL) >= 0)
			changes++;
	}
	return changes;
}

static void test_hysteresis_stops_flapping(void **state)
{
	/* without hysteresis every crossing is a change: the test can see flapping */
	assert_int_equal(hover_changes(0), 100);
	/* with it, ERROR (the first sample) then CRITICAL, and no more */
	assert_int_equal(hover_changes(0.02), 2);
}

static void test_hysteresis_clears_below_band(void **state)
{
	struct fog_threshold_state s;
	struct fog_alert ev;

	init(&s, 0.8, 0.9, 0, 0.05);
	assert_int_equal(feed(&s, 1, 0.91, NULL), FOG_ALERT_CRITICAL);
	assert_int_equal(feed(&s, 2, 0.88, NULL), -1); /* below 0.9 but not below 0.85 */
	assert_int_equal(feed(&s, 3, 0.851, NULL), -1);
	assert_int_equal(feed(&s, 4, 0.849, &ev), FOG_ALERT_ERROR);
	assert_int_equal(feed(&s, 5, 0.76, NULL), -1); /* ERROR holds down to 0.75 */
	assert_int_equal(feed(&s, 6, 0.74, NULL), FOG_ALERT_WARNING);
	assert_int_equal(feed(&s, 7, 0.68, NULL), -1); /* WARNING holds down to 0.72 - 0.05 */
	assert_int_equal(feed(&s, 8, 0.66, &ev), FOG_ALERT_INFO);
	assert_true(ev.resolved);
	assert_true(ev.started_at == 1);
	/* going up again needs the full threshold, not the lowered one */
	assert_int_equal(feed(&s, 9, 0.71, NULL), -1);
	assert_int_equal(feed(&s, 10, 0.721, NULL), FOG_ALERT_WARNING);
}

static void test_resolve_on_removal(void **state)
{
	struct fog_threshold_state s;
	struct fog_alert ev;

	init(&s, 0.8, 0.9, 0, 0);
	assert_false(fog_threshold_resolve(&s, FOG_MONITOR_CPU, 1, &ev)); /* nothing active */
	assert_int_equal(feed(&s, 2, 0.85, NULL), FOG_ALERT_ERROR);
	assert_true(fog_threshold_resolve(&s, FOG_MONITOR_CPU, 3, &ev));
	assert_true(ev.resolved);
	assert_int_equal(ev.previous, FOG_ALERT_ERROR);
	assert_true(ev.at == 3);
}

/* Asserts that t is rejected and the message contains want. */
static void rejected(enum fog_monitor_resource r, double w, double c, double f, double h,
		     const char *want)
{
	struct fog_threshold t = { w, c, f, h };
	char err[256] = "";

	assert_int_equal(fog_threshold_check(r, &t, APPROACH, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("message '%s' does not contain '%s'", err, want);
}

static void test_malformed_thresholds(void **state)
{
	struct fog_threshold ok = { 0.005, 0.02, 30, 0.001 };
	char err[256];

	assert_int_equal(
		fog_threshold_check(FOG_MONITOR_RUNQ_LATENCY, &ok, APPROACH, err, sizeof(err)), 0);
	rejected(FOG_MONITOR_CPU, 0.9, 0.8, 0, 0, "critical threshold 0.8 is below the warning");
	rejected(FOG_MONITOR_CPU, NAN, 0.9, 0, 0, "cpu warning threshold setting is nan");
	rejected(FOG_MONITOR_CPU, 0.8, INFINITY, 0, 0, "must be a finite number");
	rejected(FOG_MONITOR_MEMORY, 80, 90, 0, 0, "a percentage? divide it by 100");
	rejected(FOG_MONITOR_CPU, 0, 0.9, 0, 0, "must be above 0");
	rejected(FOG_MONITOR_CPU, -0.1, 0.9, 0, 0, "must be above 0");
	rejected(FOG_MONITOR_CPU, 0.8, 0.9, -1, 0, "for duration -1 s is negative");
	rejected(FOG_MONITOR_CPU, 0.8, 0.9, 0, -0.01, "hysteresis -0.01 is negative");
	rejected(FOG_MONITOR_CPU, 0.8, 0.9, 0, 0.75, "could never clear");
	rejected((enum fog_monitor_resource)42, 0.8, 0.9, 0, 0, "unknown resource 42");
	rejected((enum fog_monitor_resource) - 1, 0.8, 0.9, 0, 0, "unknown resource -1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_jump_fires_highest),
		cmocka_unit_test(test_for_duration),
		cmocka_unit_test(test_for_escalates_in_steps),
		cmocka_unit_test(test_hysteresis_stops_flapping),
		cmocka_unit_test(test_hysteresis_clears_below_band),
		cmocka_unit_test(test_resolve_on_removal),
		cmocka_unit_test(test_malformed_thresholds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
