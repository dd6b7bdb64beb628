// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mem collector's file parsing: pressure files, /proc/meminfo,
 * /proc/PID/statm and memory controller files, well-formed and not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "base/meminfo.h"
#include "base/psi.h"

/* ---- pressure stall information ---- */

static const char psi_memory[] = "some avg10=1.25 avg60=0.50 avg300=0.07 total=4030050\n"
				 "full avg10=0.00 avg60=12.00 avg300=100.00 total=17\n";

static void test_psi_both_lines(void **state)
{
	struct fog_psi p;
	char err[128];

	assert_int_equal(fog_psi_parse(psi_memory, &p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(p.has_some);
	assert_true(p.has_full);
	assert_float_equal(p.some.avg10, 1.25, 1e-9);
	assert_float_equal(p.some.avg60, 0.50, 1e-9);
	assert_float_equal(p.some.avg300, 0.07, 1e-9);
	assert_int_equal(p.some.total_us, 4030050);
	assert_float_equal(p.full.avg60, 12.0, 1e-9);
	assert_float_equal(p.full.avg300, 100.0, 1e-9);
	assert_int_equal(p.full.total_us, 17);
}

/* cpu had no full line before 5.13: that is not an error */
static void test_psi_some_only(void **state)
{
	struct fog_psi p;
	char err[128];

	assert_int_equal(fog_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", &p, err,
				       sizeof(err)),
			 0);
	assert_true(p.has_some);
	assert_false(p.has_full);
}

/* keys may come in any order, and keys a later kernel adds are skipped */
static void test_psi_order_and_unknown_keys(void **state)
{
	struct fog_psi p;

	assert_int_equal(
		fog_psi_parse("some total=5 avg300=3 newkey=x avg60=2 avg10=1", &p, NULL, 0), 0);
	assert_float_equal(p.some.avg10, 1, 1e-9);
	assert_float_equal(p.some.avg300, 3, 1e-9);
	assert_int_equal(p.some.total_us, 5);
}

/* a bad full line is reported, and the some line is still kept */
static void test_psi_bad_line_keeps_others(void **state)
{
	struct fog_psi p;
	char err[128];

	assert_int_equal(fog_psi_parse("some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n"
				       "full avg10=abc avg60=0.00 avg300=0.00 total=0\n",
				       &p, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "avg10"));
	assert_true(p.has_some);
	assert_int_equal(p.some.total_us, 4);
	assert_false(p.has_full);
}

static void expect_psi_error(const char *text, const char *needle)
{
	struct fog_psi p;
	char err[128];

	assert_int_equal(fog_psi_parse(text, &p, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s' for input '%s'", err, needle, text);
}

static void test_psi_malformed(void **state)
{
	char longline[400];

	expect_psi_error("", "no some line");
	expect_psi_error("\n\n", "no some line");
	expect_psi_error("full avg10=0 avg60=0 avg300=0 total=0\n", "no some line");
	expect_psi_error("some avg10=0.00 avg60=0.00 avg300=0.00\n", "no total");
	expect_psi_error("some avg10=0.00 avg60=0.00 total=1\n", "no avg300");
	expect_psi_error("some\n", "no avg10");
	expect_psi_error("some avg10=-1.00 avg60=0 avg300=0 total=0\n", "avg10");
	expect_psi_error("some avg10=100.01 avg60=0 avg300=0 total=0\n", "avg10");
	expect_psi_error("some avg10=nan avg60=0 avg300=0 total=0\n", "avg10");
	expect_psi_error("some avg10=1.0x avg60=0 avg300=0 total=0\n", "avg10");
	expect_psi_error("some avg10=1 avg60=0 avg300=0 total=-5\n", "total");
	expect_psi_error("some avg10=1 avg60=0 avg300=0 total=99999999999999999999999\n", "total");
	expect_psi_error("some avg10=1 avg60=0 avg300=0 total=\n", "total");
	expect_psi_error("some avg10=1 avg10=2 avg60=0 avg300=0 total=0\n", "twice");
	expect_psi_error("some avg10 avg60=0 avg300=0 total=0\n", "not key=value");
	expect_psi_error("Some avg10=1 avg60=0 avg300=0 total=0\n", "unknown kind");
	expect_psi_error("some avg10=1 avg60=0 avg300=0 total=0\n"
			 "some avg10=1 avg60=0 avg300=0 total=0\n",
			 "second some");
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	expect_psi_error(longline, "too long");
}

static void test_psi_json(void **state)
{
	struct fog_psi p;
	json_t *j, *some;

	assert_int_equal(
		fog_psi_parse("some avg10=1.50 avg60=0 avg300=0 total=2500000", &p, NULL, 0), 0);
	j = fog_psi_json(&p);
	some = json_object_get(j, "some");
	assert_non_null(some);
	assert_float_equal(json_real_value(json_object_get(some, "avg10")), 1.5, 1e-9);
	assert_float_equal(json_real_value(json_object_get(some, "total_seconds")), 2.5, 1e-9);
	assert_true(json_is_null(json_object_get(j, "full")));
	json_decref(j);
	assert_string_equal(fog_psi_resource_name(FOG_PSI_MEMORY), "memory");
	assert_string_equal(fog_psi_resource_name(FOG_PSI_CPU), "cpu");
	assert_string_equal(fog_psi_resource_name(FOG_PSI_IO), "io");
}

/* ---- /proc/meminfo ---- */

static const char meminfo[] = "MemTotal:       24684084 kB\n"
			      "MemFree:        24208412 kB\n"
			      "MemAvailable:   24332468 kB\n"
			      "Buffers:            1824 kB\n"
			      "Cached:           310632 kB\n"
			      "SwapCached:            0 kB\n"
			      "SwapTotal:        2097148 kB\n"
			      "SwapFree:         2000000 kB\n"
			      "HugePages_Total:       0\n"
			      "Hugepagesize:       2048 kB\n";

static void test_meminfo_full(void **state)
{
	struct fog_meminfo m;
	char err[128];

	assert_int_equal(fog_meminfo_parse(meminfo, &m, err, sizeof(err)), 0);
	assert_int_equal(m.have, FOG_MEMINFO_ALL);
	assert_int_equal(m.total_bytes, 24684084ull * 1024);
	assert_int_equal(m.free_bytes, 24208412ull * 1024);
	assert_int_equal(m.available_bytes, 24332468ull * 1024);
	assert_int_equal(m.swap_total_bytes, 2097148ull * 1024);
	assert_int_equal(m.swap_free_bytes, 2000000ull * 1024);
}

static void test_meminfo_json(void **state)
{
	struct fog_meminfo m;
	json_t *j;

	assert_int_equal(fog_meminfo_parse(meminfo, &m, NULL, 0), 0);
	j = fog_meminfo_json(&m);
	assert_int_equal(json_integer_value(json_object_get(j, "total_bytes")), 24684084ll * 1024);
	assert_int_equal(json_integer_value(json_object_get(j, "used_bytes")),
			 (24684084ll - 24332468ll) * 1024);
	assert_int_equal(json_integer_value(json_object_get(j, "swap_free_bytes")),
			 2000000ll * 1024);
	json_decref(j);
}

/* a bad MemAvailable is named; the other figures are kept; used becomes unknown */
static void test_meminfo_bad_value_keeps_others(void **state)
{
	struct fog_meminfo m;
	char err[128];
	json_t *j;

	assert_int_equal(fog_meminfo_parse("MemTotal: 1000 kB\n"
					   "MemFree: 10 kB\n"
					   "MemAvailable: lots kB\n"
					   "SwapTotal: 0 kB\n"
					   "SwapFree: 0 kB\n",
					   &m, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "line 3"));
	assert_non_null(strstr(err, "MemAvailable"));
	assert_int_equal(m.have, FOG_MEMINFO_ALL & ~FOG_MEMINFO_AVAILABLE);
	assert_int_equal(m.total_bytes, 1000 * 1024);
	j = fog_meminfo_json(&m);
	assert_true(json_is_null(json_object_get(j, "available_bytes")));
	assert_true(json_is_null(json_object_get(j, "used_bytes")));
	assert_int_equal(json_integer_value(json_object_get(j, "total_bytes")), 1000 * 1024);
	json_decref(j);
}

static void expect_meminfo_error(const char *text, const char *needle)
{
	struct fog_meminfo m;
	char err[128];

	assert_int_equal(fog_meminfo_parse(text, &m, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s' for input '%s'", err, needle, text);
}

static void test_meminfo_malformed(void **state)
{
	expect_meminfo_error("", "no MemTotal");
	expect_meminfo_error("MemTotal: 1 kB\nMemFree: 1 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
			     "no MemAvailable");
	expect_meminfo_error("garbage line\n", "not 'Key: value'");
	expect_meminfo_error(": 5 kB\n", "not 'Key: value'");
	expect_meminfo_error("MemTotal: -5 kB\n", "MemTotal has a bad value");
	expect_meminfo_error("MemTotal: 5 MB\n", "MemTotal has a bad value");
	expect_meminfo_error("MemTotal: 5 kB extra\n", "MemTotal has a bad value");
	expect_meminfo_error("MemTotal:\n", "MemTotal has a bad value");
	/* 2^60 kB does not fit in 64 bits of bytes */
	expect_meminfo_error("MemTotal: 1152921504606846976 kB\n", "MemTotal has a bad value");
	expect_meminfo_error("MemTotal: 99999999999999999999999 kB\n", "MemTotal has a bad value");
}

/* the first of a repeated key counts; values without a unit are counts as they are */
static void test_meminfo_repeat_and_bare(void **state)
{
	struct fog_meminfo m;

	assert_int_equal(fog_meminfo_parse("MemTotal: 2 kB\nMemTotal: 9 kB\nMemFree: 7\n"
					   "MemAvailable:\t1 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB",
					   &m, NULL, 0),
			 0);
	assert_int_equal(m.total_bytes, 2048);
	assert_int_equal(m.free_bytes, 7);
	assert_int_equal(m.available_bytes, 1024);
}

/* ---- /proc/PID/statm ---- */

static void test_statm(void **state)
{
	__u64 pages = 0;

	assert_int_equal(fog_statm_parse("765 429 400 5 0 123 0\n", &pages), 0);
	assert_int_equal(pages, 429);
	assert_int_equal(fog_statm_parse("0 0 0 0 0 0 0", &pages), 0);
	assert_int_equal(pages, 0);
	pages = 77;
	assert_int_equal(fog_statm_parse("", &pages), -EINVAL);
	assert_int_equal(fog_statm_parse("765", &pages), -EINVAL);
	assert_int_equal(fog_statm_parse("765 x 400", &pages), -EINVAL);
	assert_int_equal(fog_statm_parse("-1 4 0", &pages), -EINVAL);
	assert_int_equal(fog_statm_parse("765 42x 400", &pages), -EINVAL);
	/* resident larger than the address space is nonsense */
	assert_int_equal(fog_statm_parse("10 20 0 0 0 0 0", &pages), -EINVAL);
	assert_int_equal(pages, 77);
}

/* ---- memory controller files ---- */

static void test_memcg_values(void **state)
{
	__u64 v = 0;

	assert_int_equal(fog_memcg_parse_value("67108864\n", &v), 0);
	assert_int_equal(v, 67108864);
	assert_int_equal(fog_memcg_parse_value("0", &v), 0);
	assert_int_equal(v, 0);
	/* v2 "no limit" */
	assert_int_equal(fog_memcg_parse_value("max\n", &v), 0);
	assert_true(v == FOG_MEMCG_NO_LIMIT);
	/* v1 "no limit" with 4 KiB and 64 KiB pages */
	v = 0;
	assert_int_equal(fog_memcg_parse_value("9223372036854771712\n", &v), 0);
	assert_true(v == FOG_MEMCG_NO_LIMIT);
	v = 0;
	assert_int_equal(fog_memcg_parse_value("9223372036854710272\n", &v), 0);
	assert_true(v == FOG_MEMCG_NO_LIMIT);
}

static void test_memcg_values_malformed(void **state)
{
	__u64 v = 5;

	assert_int_equal(fog_memcg_parse_value("", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_value("\n", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_value("-1\n", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_value("12 34\n", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_value("12\n\n", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_value("maximum\n", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_value("0x10\n", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_value("99999999999999999999999\n", &v), -EINVAL);
	assert_int_equal(v, 5);
}

static void test_memcg_keys(void **state)
{
	const char events[] = "low 0\nhigh 3\nmax 12\noom 1\noom_kill 1\n";
	__u64 v = 0;

	assert_int_equal(fog_memcg_parse_key(events, "max", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(fog_memcg_parse_key(events, "oom", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(fog_memcg_parse_key(events, "oom_kill", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(fog_memcg_parse_key(events, "oom_group_kill", &v), -ENOENT);
	assert_int_equal(fog_memcg_parse_key("", "max", &v), -ENOENT);
	assert_int_equal(fog_memcg_parse_key("max lots\n", "max", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_key("max 3 4\n", "max", &v), -EINVAL);
	assert_int_equal(fog_memcg_parse_key("max \n", "max", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psi_both_lines),
		cmocka_unit_test(test_psi_some_only),
		cmocka_unit_test(test_psi_order_and_unknown_keys),
		cmocka_unit_test(test_psi_bad_line_keeps_others),
		cmocka_unit_test(test_psi_malformed),
		cmocka_unit_test(test_psi_json),
		cmocka_unit_test(test_meminfo_full),
		cmocka_unit_test(test_meminfo_json),
		cmocka_unit_test(test_meminfo_bad_value_keeps_others),
		cmocka_unit_test(test_meminfo_malformed),
		cmocka_unit_test(test_meminfo_repeat_and_bare),
		cmocka_unit_test(test_statm),
		cmocka_unit_test(test_memcg_values),
		cmocka_unit_test(test_memcg_values_malformed),
		cmocka_unit_test(test_memcg_keys),
	};

	return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
