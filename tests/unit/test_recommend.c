// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "monitor/recommend.h"
#include "monitor/series.h"

#define T0 1.7e9

static const struct fog_monitor_sustained_rule cpu_rule = { 0.95, 0.80, 60 };
static const struct fog_monitor_sustained_rule runq_rule = { 0.5, 0.010, 60 };
static const struct fog_monitor_growth_rule mem_rule = { 1.0, 600, 60 };

static const struct fog_evidence *figure(const struct fog_recommendation *r, const char *name)
{
	for (unsigned int i = 0; i < r->n_evidence; i++) {
		if (!strcmp(r->evidence[i].name, name))
			return &r->evidence[i];
	}
	fail_msg("no evidence named %s", name);
	return NULL;
}

/* n samples one second apart; every k-th of them (k > 0) is high, the rest low. */
static void pattern(double *t, double *v, size_t n, size_t every, double high, double low)
{
	for (size_t i = 0; i < n; i++) {
		t[i] = T0 + (double)i;
		v[i] = every && i % every == 0 ? high : low;
	}
}

static void test_series_ring(void **state)
{
	struct fog_series s;
	double t[5], v[5];
	size_t n;

	assert_int_equal(fog_series_init(&s, 5), 0);
	assert_int_equal(fog_series_window(&s, 0, t, v), 0);
	for (int i = 0; i < 8; i++)
		fog_series_push(&s, 100 + i, i * 10);
	n = fog_series_window(&s, 0, t, v);
	assert_int_equal(n, 5); /* the oldest three were overwritten */
	for (size_t i = 0; i < n; i++) {
		assert_true(t[i] == 103 + (double)i);
		assert_true(v[i] == 30 + 10 * (double)i);
	}
	n = fog_series_window(&s, 105.5, t, v);
	assert_int_equal(n, 2);
	assert_true(t[0] == 106 && t[1] == 107);
	fog_series_release(&s);
}

static void test_quantile_type7(void **state)
{
	double a[] = { 4, 1, 3, 2 };

	assert_true(fabs(fog_quantile(a, 4, 0.5) - 2.5) < 1e-12);
	assert_true(fabs(fog_quantile(a, 4, 0.25) - 1.75) < 1e-12);
	assert_true(fog_quantile(a, 4, 1) == 4);
	assert_true(isnan(fog_quantile(a, 0, 0.5)));
	assert_true(isnan(fog_quantile(a, 4, 0)));
}

static void test_cpu_saturated(void **state)
{
	double t[61], v[61];
	struct fog_recommendation r;

	/* 9 of 10 samples at 90%: p95 is 90% */
	for (size_t i = 0; i < 61; i++) {
		t[i] = T0 + (double)i;
		v[i] = i % 10 ? 0.9 : 0.3;
	}
	assert_true(fog_recommend_sustained(FOG_REC_CPU_SATURATED, FOG_MONITOR_CPU, &cpu_rule, t, v,
					    61, &r));
	assert_int_equal(r.kind, FOG_REC_CPU_SATURATED);
	assert_int_equal(r.resource, FOG_MONITOR_CPU);
	assert_string_equal(r.summary,
			    "cpu utilization p95 of 90% over the last 1 min is at or above 80%");
	assert_true(strlen(r.action) > 0);
	assert_true(fabs(figure(&r, "p95")->value - 0.9) < 1e-12);
	assert_string_equal(figure(&r, "p95")->unit, "fraction");
	assert_true(figure(&r, "threshold")->value == 0.8);
	assert_true(fabs(figure(&r, "share_at_or_above")->value - 54.0 / 61) < 1e-12);
	assert_true(fabs(figure(&r, "mean")->value - (54 * 0.9 + 7 * 0.3) / 61) < 1e-12);
	assert_true(figure(&r, "max")->value == 0.9);
	assert_true(figure(&r, "span_seconds")->value == 60);
	assert_true(figure(&r, "samples")->value == 61);
}

static void test_cpu_not_sustained(void **state)
{
	double t[61], v[61];
	struct fog_recommendation r;

	/* high 1 sample in 40 (2.5%): p95 stays low */
	pattern(t, v, 61, 40, 0.99, 0.5);
	assert_false(fog_recommend_sustained(FOG_REC_CPU_SATURATED, FOG_MONITOR_CPU, &cpu_rule, t,
					     v, 61, &r));
	/* saturated, but for half the window only: not yet a pattern */
	pattern(t, v, 31, 0, 0, 0.99);
	assert_false(fog_recommend_sustained(FOG_REC_CPU_SATURATED, FOG_MONITOR_CPU, &cpu_rule, t,
					     v, 31, &r));
	/* 1 sample in 10 at 95% puts p95 there while the mean stays at 54.5% */
	pattern(t, v, 61, 10, 0.95, 0.5);
	assert_true(fog_recommend_sustained(FOG_REC_CPU_SATURATED, FOG_MONITOR_CPU, &cpu_rule, t, v,
					    61, &r));
	assert_true(figure(&r, "mean")->value < 0.6);
	/* 90% of the window is enough */
	pattern(t, v, 55, 0, 0, 0.99);
	assert_true(fog_recommend_sustained(FOG_REC_CPU_SATURATED, FOG_MONITOR_CPU, &cpu_rule, t, v,
					    55, &r));
}

static void test_memory_growth(void **state)
{
	double t[61], v[61];
	struct fog_recommendation r;

	/* 50% + 0.1% a second: at 56% after 60 s, full 440 s later */
	for (size_t i = 0; i < 61; i++) {
		t[i] = T0 + (double)i;
		v[i] = 0.5 + 0.001 * (double)i + (i % 2 ? 0.0005 : -0.0005);
	}
	assert_true(fog_recommend_growth(&mem_rule, 0.05, t, v, 61, &r));
	assert_int_equal(r.kind, FOG_REC_MEMORY_EXHAUSTION);
	assert_int_equal(r.resource, FOG_MONITOR_MEMORY);
	assert_true(fabs(figure(&r, "eta_seconds")->value - 440) < 1);
	assert_true(fabs(figure(&r, "slope_per_hour")->value - 3.6) < 0.01);
	assert_true(figure(&r, "p_value")->value < 1e-6);
	assert_true(figure(&r, "limit")->value == 1.0);
	assert_true(figure(&r, "horizon_seconds")->value == 600);
	assert_true(strstr(r.summary, "memory use grows 360% per hour"));
	assert_true(strstr(r.summary, "reaches 100% in about 7 min"));

	/* ten times slower: full in about 5,000 s, beyond the 600 s horizon */
	for (size_t i = 0; i < 61; i++)
		v[i] = 0.5 + 0.0001 * (double)i;
	assert_false(fog_recommend_growth(&mem_rule, 0.05, t, v, 61, &r));
}

/*
 * Noise has a slope too, positive half of the time; with an endless horizon
 * only the significance test keeps it from being called growth.
 */
static void test_memory_noise_is_no_growth(void **state)
{
	const struct fog_monitor_growth_rule endless = { 1.0, 1e12, 60 };
	double t[61], v[61];
	struct fog_recommendation r;
	uint64_t x = 12345;
	int growth = 0;

	for (int k = 0; k < 40; k++) {
		for (size_t i = 0; i < 61; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			t[i] = T0 + (double)i;
			v[i] = 0.7 + 0.1 * ((double)(x >> 11) / 9007199254740992.0 - 0.5);
		}
		growth += fog_recommend_growth(&endless, 0.001, t, v, 61, &r);
	}
	assert_int_equal(growth, 0);
}

static void test_runq_latency(void **state)
{
	double t[61], v[61];
	struct fog_recommendation r;

	/* per-tick p99 at 15 ms in 7 of 10 ticks: the median is 15 ms */
	for (size_t i = 0; i < 61; i++) {
		t[i] = T0 + (double)i;
		v[i] = i % 10 < 7 ? 0.015 : 0.002;
	}
	assert_true(fog_recommend_sustained(FOG_REC_RUNQ_LATENCY, FOG_MONITOR_RUNQ_LATENCY,
					    &runq_rule, t, v, 61, &r));
	assert_string_equal(
		r.summary,
		"run-queue latency p50 of 15 ms over the last 1 min is at or above 10 ms");
	assert_true(fabs(figure(&r, "p50")->value - 0.015) < 1e-12);
	assert_string_equal(figure(&r, "p50")->unit, "seconds");
	assert_true(figure(&r, "max")->value == 0.015);

	/* in 4 of 10 ticks only: the median is 2 ms */
	for (size_t i = 0; i < 61; i++)
		v[i] = i % 10 < 4 ? 0.015 : 0.002;
	assert_false(fog_recommend_sustained(FOG_REC_RUNQ_LATENCY, FOG_MONITOR_RUNQ_LATENCY,
					     &runq_rule, t, v, 61, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_series_ring),
		cmocka_unit_test(test_quantile_type7),
		cmocka_unit_test(test_cpu_saturated),
		cmocka_unit_test(test_cpu_not_sustained),
		cmocka_unit_test(test_memory_growth),
		cmocka_unit_test(test_memory_noise_is_no_growth),
		cmocka_unit_test(test_runq_latency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
