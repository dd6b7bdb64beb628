// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/prom.h"
#include "export/metrics.h"
#include "fail_inject.h"

static const char *render(struct fog_prom *w, size_t *len)
{
	return fog_prom__end(w, len);
}

static void test_label_escaping(void **state)
{
	struct fog_prom *w = fog_prom__new();
	const char *text;
	size_t len;

	fog_prom__begin(w, false);
	fog_prom__family(w, "fog_x", FOG_PROM_GAUGE, "help with \\ and\nnewline");
	fog_prom__sample(w, (const char *[]){ "path", "a\"b\\c\nd", NULL }, 1);
	text = render(w, &len);
	assert_non_null(strstr(text, "# HELP fog_x help with \\\\ and\\nnewline\n"));
	assert_non_null(strstr(text, "fog_x{path=\"a\\\"b\\\\c\\nd\"} 1\n"));
	assert_int_equal(len, strlen(text));
	fog_prom__free(w);
}

static void test_number_formatting(void **state)
{
	char b[64];

	fog_prom_format_double(b, sizeof(b), 0);
	assert_string_equal(b, "0");
	fog_prom_format_double(b, sizeof(b), 12345678901234.0);
	assert_string_equal(b, "12345678901234");
	fog_prom_format_double(b, sizeof(b), 0.1);
	assert_string_equal(b, "0.1");
	fog_prom_format_double(b, sizeof(b), 0.1 + 0.2);
	assert_string_equal(b, "0.30000000000000004");
	fog_prom_format_double(b, sizeof(b), INFINITY);
	assert_string_equal(b, "+Inf");
	fog_prom_format_double(b, sizeof(b), -INFINITY);
	assert_string_equal(b, "-Inf");
	fog_prom_format_double(b, sizeof(b), NAN);
	assert_string_equal(b, "NaN");
	fog_prom_format_double(b, sizeof(b), 1e300);
	assert_string_equal(b, "1e+300");
}

static void test_counter_names_per_format(void **state)
{
	struct fog_prom *w = fog_prom__new();
	const char *text;
	size_t len;

	fog_prom__begin(w, false);
	fog_prom__family(w, "fog_c", FOG_PROM_COUNTER, "c");
	fog_prom__sample(w, NULL, 3);
	text = render(w, &len);
	assert_non_null(strstr(text, "# TYPE fog_c_total counter\nfog_c_total 3\n"));
	assert_null(strstr(text, "# EOF"));
	assert_non_null(strstr(fog_prom__content_type(w), "version=0.0.4"));

	fog_prom__begin(w, true);
	fog_prom__family(w, "fog_c", FOG_PROM_COUNTER, "c");
	fog_prom__sample(w, NULL, 3);
	text = render(w, &len);
	assert_non_null(strstr(text, "# TYPE fog_c counter\nfog_c_total 3\n"));
	assert_true(len >= 6 && !strcmp(text + len - 6, "# EOF\n"));
	assert_non_null(strstr(fog_prom__content_type(w), "openmetrics-text"));
	assert_int_equal(fog_prom__series(w), 1);
	fog_prom__free(w);
}

/* Buckets are cumulative, end in +Inf, and _count equals the +Inf bucket. */
static void test_histogram(void **state)
{
	struct fog_prom *w = fog_prom__new();
	struct fog_hist h = { 0 };
	const char *text;
	size_t len;

	h.slots[3] = 5;	/* 8-16 ns: below the first exported bucket, folded into it */
	h.slots[20] = 2; /* ~1-2 ms */
	h.slots[FOG_HIST_SLOTS - 1] = 1; /* beyond the last exported bucket */
	h.sum_ns = 3000000000ull;
	fog_prom__begin(w, false);
	fog_prom__family(w, "fog_lat_seconds", FOG_PROM_HISTOGRAM, "lat");
	fog_prom__hist(w, (const char *[]){ "dev", "vda", NULL }, &h);
	text = render(w, &len);
	assert_non_null(strstr(text, "fog_lat_seconds_bucket{dev=\"vda\",le=\"2.048e-06\"} 5\n"));
	assert_non_null(strstr(text, "fog_lat_seconds_bucket{dev=\"vda\",le=\"0.002097152\"} 7\n"));
	assert_non_null(strstr(text, "fog_lat_seconds_bucket{dev=\"vda\",le=\"+Inf\"} 8\n"));
	assert_non_null(strstr(text, "fog_lat_seconds_sum{dev=\"vda\"} 3\n"));
	assert_non_null(strstr(text, "fog_lat_seconds_count{dev=\"vda\"} 8\n"));
	fog_prom__free(w);
}

static void test_accept_header(void **state)
{
	assert_true(fog_metrics_wants_openmetrics(
		"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"));
	assert_false(fog_metrics_wants_openmetrics("text/plain"));
	assert_false(fog_metrics_wants_openmetrics(NULL));
}

/* ---- allocation failures (fail_inject.h) ---- */

/* Over 64 KiB of exposition: the buffer is made at 16 KiB and grows to 128 KiB. */
static void write_families(struct fog_prom *w)
{
	char name[32], value[16];

	for (int f = 0; f < 200; f++) {
		snprintf(name, sizeof(name), "fog_fault_%d", f);
		fog_prom__family(w, name, f % 2 ? FOG_PROM_COUNTER : FOG_PROM_GAUGE,
				 "a family of the fault test");
		for (int i = 0; i < 10; i++) {
			snprintf(value, sizeof(value), "%d", i);
			fog_prom__sample(w, (const char *[]){ "cgroup", "/fault/test", "i", value,
							      NULL },
					 f * 10 + i);
		}
	}
}

/*
 * A writer that cannot be made is NULL; one whose buffer cannot grow says it failed (fogd
 * then answers 500, never a truncated exposition) and is whole again after the next begin.
 */
static void test_faults(void **state)
{
	struct fog_prom *w = fog_prom__new();
	const char *text;
	unsigned long runs;
	char *want;
	size_t len, want_len;

	assert_non_null(w);
	fog_prom__begin(w, true);
	write_families(w);
	text = fog_prom__end(w, &want_len);
	assert_false(fog_prom__failed(w));
	assert_true(want_len > 64 * 1024);
	want = strdup(text);
	assert_non_null(want);
	fog_prom__free(w);

	FAIL_INJECT_LOOP(FAIL_INJECT_ALLOC, 10, runs, {
		w = fog_prom__new();
		if (w) {
			fog_prom__begin(w, true);
			write_families(w);
			text = fog_prom__end(w, &len);
		}
	}, {
		if (failed && !w) {
			assert_int_equal(runs, 1);
			continue;
		}
		assert_non_null(w);
		assert_int_equal(fog_prom__failed(w), failed);
		if (failed) {
			/* the same writer, reused: whole again */
			fog_prom__begin(w, true);
			write_families(w);
			text = fog_prom__end(w, &len);
			assert_false(fog_prom__failed(w));
		}
		assert_int_equal(len, want_len);
		assert_memory_equal(text, want, want_len);
		fog_prom__free(w);
	});
	/* the writer, then its buffer at 16, 32, 64 and 128 KiB */
	assert_int_equal(runs, 6);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_number_formatting),
		cmocka_unit_test(test_counter_names_per_format),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_accept_header),
		cmocka_unit_test(test_faults),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
