// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "monitor/format.h"
#include "monitor/trend.h"

#define N 600

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* Standard normal by Box-Muller. */
static double gauss(void)
{
	return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

/* v = a + b * t + sigma * noise at t = t0, t0 + 1, ... */
static void series(double *t, double *v, size_t n, double t0, double a, double b, double sigma)
{
	for (size_t i = 0; i < n; i++) {
		t[i] = t0 + (double)i;
		v[i] = a + b * (double)i + sigma * gauss();
	}
}

static void test_exact_line(void **state)
{
	double t[100], v[100];
	struct fog_fit f;

	/* epoch-sized times must not cost precision */
	series(t, v, 100, 1.7e9, 0.2, 0.001, 0);
	assert_int_equal(fog_trend_fit(t, v, 100, &f), 0);
	assert_true(fabs(f.slope - 0.001) < 1e-12);
	assert_true(fabs(f.fitted_last - (0.2 + 0.099)) < 1e-9);
	assert_true(f.p_value == 0);
	assert_int_equal(fog_trend_classify(&f, 0.05, 0), FOG_TREND_INCREASING);

	series(t, v, 100, 1.7e9, 0.5, 0, 0); /* flat */
	assert_int_equal(fog_trend_fit(t, v, 100, &f), 0);
	assert_true(f.slope == 0);
	assert_int_equal(fog_trend_classify(&f, 0.05, 0), FOG_TREND_STABLE);
}

/* The fitted slope of a noisy series is within 4 standard errors of the truth. */
static void test_known_slope_with_noise(void **state)
{
	double t[N], v[N];
	struct fog_fit f;

	series(t, v, N, 1.7e9, 0.3, 0.0005, 0.02);
	assert_int_equal(fog_trend_fit(t, v, N, &f), 0);
	assert_true(fabs(f.slope - 0.0005) < 4 * f.slope_stderr);
	/* sigma / sqrt(Sxx) with Sxx = n (n^2 - 1) / 12 */
	assert_true(fabs(f.slope_stderr - 0.02 / sqrt(N * (N * N - 1.0) / 12)) <
		    0.2 * f.slope_stderr);
	assert_true(f.p_value < 1e-10);
	assert_int_equal(fog_trend_classify(&f, 0.05, 0), FOG_TREND_INCREASING);

	series(t, v, N, 1.7e9, 0.9, -0.0005, 0.02);
	assert_int_equal(fog_trend_fit(t, v, N, &f), 0);
	assert_int_equal(fog_trend_classify(&f, 0.05, 0), FOG_TREND_DECREASING);
}

/*
 * On pure noise the test says "trend" about alpha of the time: the p-values
 * are calibrated. 1000 series, alpha 0.05: expect 50, binomial sd 6.9.
 */
static void test_noise_is_stable_at_alpha(void **state)
{
	double t[60], v[60];
	int trends = 0;

	for (int k = 0; k < 1000; k++) {
		struct fog_fit f;

		series(t, v, 60, 0, 0.5, 0, 0.1);
		assert_int_equal(fog_trend_fit(t, v, 60, &f), 0);
		if (fog_trend_classify(&f, 0.05, 0) != FOG_TREND_STABLE)
			trends++;
	}
	assert_in_range(trends, 30, 70);
}

/* A slope small against the noise is not significant; the same slope without noise is. */
static void test_significance_depends_on_noise(void **state)
{
	double t[30], v[30];
	struct fog_fit f;

	series(t, v, 30, 0, 0.5, 0.0001, 0.05);
	assert_int_equal(fog_trend_fit(t, v, 30, &f), 0);
	assert_true(f.p_value > 0.05);
	assert_int_equal(fog_trend_classify(&f, 0.05, 0), FOG_TREND_STABLE);
	series(t, v, 30, 0, 0.5, 0.0001, 0.00001);
	assert_int_equal(fog_trend_fit(t, v, 30, &f), 0);
	assert_int_equal(fog_trend_classify(&f, 0.05, 0), FOG_TREND_INCREASING);
	/* ... unless the change over the window is below the minimum asked for */
	assert_int_equal(fog_trend_classify(&f, 0.05, 0.01), FOG_TREND_STABLE);
}

static void test_student_t(void **state)
{
	/* closed forms: df 1 is Cauchy, df 2 has P(|T| >= t) = 1 - t / sqrt(2 + t^2) */
	for (double t = 0.25; t < 40; t *= 1.7) {
		assert_true(fabs(fog_student_t_p2(t, 1) - (1 - 2 / M_PI * atan(t))) < 1e-12);
		assert_true(fabs(fog_student_t_p2(-t, 2) - (1 - t / sqrt(2 + t * t))) < 1e-12);
	}
	/* table values: two-sided 5% critical t */
	assert_true(fabs(fog_student_t_p2(2.228, 10) - 0.05) < 1e-4);
	assert_true(fabs(fog_student_t_p2(2.042, 30) - 0.05) < 1e-4);
	assert_true(fabs(fog_student_t_p2(0, 10) - 1) < 1e-12);
	/* I_0.3(2, 3) = sum_{j=2..4} C(4, j) 0.3^j 0.7^(4-j) = 0.3483 */
	assert_true(fabs(fog_incbeta(0.3, 2, 3) - 0.3483) < 1e-12);
	assert_true(isnan(fog_incbeta(1.5, 2, 3)));
}

static void test_fit_needs_three_distinct_times(void **state)
{
	double t[3] = { 5, 5, 5 }, v[3] = { 1, 2, 3 };
	struct fog_fit f;

	assert_int_equal(fog_trend_fit(t, v, 2, &f), -EINVAL);
	assert_int_equal(fog_trend_fit(t, v, 3, &f), -EINVAL);
}

static void text_is(enum fog_monitor_resource r, double target, double eta, const char *want)
{
	char buf[128];

	fog_trend_forecast_text(buf, sizeof(buf), r, target, eta);
	assert_string_equal(buf, want);
}

static void test_forecast_text(void **state)
{
	text_is(FOG_MONITOR_MEMORY, 0.95, 3 * 3600 + 10 * 60,
		"memory reaches 95% in about 3 h 10 min");
	text_is(FOG_MONITOR_MEMORY, 0.95, 3 * 3600 + 10 * 60 + 20,
		"memory reaches 95% in about 3 h 10 min");
	text_is(FOG_MONITOR_CPU, 0.875, 45, "cpu reaches 87.5% in about 45 s");
	text_is(FOG_MONITOR_CPU, 0.9, 10, "cpu reaches 90% in less than a minute");
	text_is(FOG_MONITOR_DISK, 1, 2700, "disk reaches 100% in about 45 min");
	text_is(FOG_MONITOR_DISK, 1, 3599.9, "disk reaches 100% in about 1 h");
	text_is(FOG_MONITOR_MEMORY, 1, 25 * 3600, "memory reaches 100% in about 1 d 1 h");
	text_is(FOG_MONITOR_MEMORY, 1, 48 * 3600, "memory reaches 100% in about 2 d");
	text_is(FOG_MONITOR_IO_LATENCY, 0.0125, 600, "io_latency reaches 12.5 ms in about 10 min");
	text_is(FOG_MONITOR_RUNQ_LATENCY, 0.00025, 600,
		"runq_latency reaches 250 us in about 10 min");
	text_is(FOG_MONITOR_IO_LATENCY, 1.5, 600, "io_latency reaches 1.5 s in about 10 min");
}

static void test_time_format(void **state)
{
	char buf[40];

	assert_int_equal(fog_monitor_format_time(buf, sizeof(buf), 0), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	assert_int_equal(fog_monitor_format_time(buf, sizeof(buf), 1714564800.25), 0);
	assert_string_equal(buf, "2024-05-01T12:00:00.250Z");
	assert_int_equal(fog_monitor_format_time(buf, sizeof(buf), 1714564800.9996), 0);
	assert_string_equal(buf, "2024-05-01T12:00:00.999Z"); /* truncated, never ahead */
	assert_int_equal(fog_monitor_format_time(buf, sizeof(buf), NAN), -EINVAL);
	assert_int_equal(fog_monitor_format_time(buf, sizeof(buf), -1), -EINVAL);
}

/* A memory line from 50% growing 0.01% a second reaches 95% where the line says. */
static void test_describe_forecast(void **state)
{
	double t[601], v[601];
	struct fog_trend tr;
	struct fog_fit f;

	series(t, v, 601, 1.7e9, 0.5, 0.0001, 0);
	assert_int_equal(fog_trend_fit(t, v, 601, &f), 0);
	fog_trend_describe(&tr, FOG_MONITOR_MEMORY, &f, v[600], 0.05, 0, 0.95);
	assert_int_equal(tr.direction, FOG_TREND_INCREASING);
	assert_int_equal(tr.samples, 601);
	assert_true(fabs(tr.span_seconds - 600) < 1e-9);
	assert_true(fabs(tr.fitted - 0.56) < 1e-9);
	assert_true(fabs(tr.eta_seconds - 3900) < 1e-3); /* 0.39 / 0.0001 */
	assert_string_equal(tr.forecast, "memory reaches 95% in about 1 h 5 min");

	/* no forecast once the line is past the target, nor for a stable trend */
	fog_trend_describe(&tr, FOG_MONITOR_MEMORY, &f, v[600], 0.05, 0, 0.5);
	assert_true(isnan(tr.eta_seconds));
	assert_string_equal(tr.forecast, "");
	series(t, v, 601, 1.7e9, 0.5, 0, 0);
	assert_int_equal(fog_trend_fit(t, v, 601, &f), 0);
	fog_trend_describe(&tr, FOG_MONITOR_MEMORY, &f, v[600], 0.05, 0, 0.95);
	assert_int_equal(tr.direction, FOG_TREND_STABLE);
	assert_string_equal(tr.forecast, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_line),
		cmocka_unit_test(test_known_slope_with_noise),
		cmocka_unit_test(test_noise_is_stable_at_alpha),
		cmocka_unit_test(test_significance_depends_on_noise),
		cmocka_unit_test(test_student_t),
		cmocka_unit_test(test_fit_needs_three_distinct_times),
		cmocka_unit_test(test_forecast_text),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_describe_forecast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
