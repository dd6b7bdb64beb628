// SPDX-License-Identifier: GPL-2.0-only
/* fogctl's one duration syntax and the option wrappers that name what is wrong. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fogctl.h"
#include "fogctl_capture.h"

#define MS 1000000ULL
#define S FOGCTL_NS_PER_S

static void accepts(const char *s, uint64_t want)
{
	const char *why = "unset";
	uint64_t ns = 12345;

	if (fogctl_parse_duration(s, &ns, &why))
		fail_msg("'%s' refused: %s", s, why);
	if (ns != want)
		fail_msg("'%s' read as %llu ns, not %llu", s, (unsigned long long)ns,
			 (unsigned long long)want);
}

static void refuses(const char *s, int err, const char *why_part)
{
	const char *why = NULL;
	uint64_t ns = 777;
	int rc = fogctl_parse_duration(s, &ns, &why);

	if (rc != err)
		fail_msg("'%s': %d, not %d (why %s, ns %llu)", s ? s : "(null)", rc, err,
			 why ? why : "-", (unsigned long long)ns);
	assert_int_equal(ns, 777);	/* untouched on error */
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("'%s': reason '%s' does not say '%s'", s ? s : "(null)", why, why_part);
}

static void test_units(void **state)
{
	accepts("500ms", 500 * MS);
	accepts("2h", 2 * 3600 * S);
	accepts("1.5m", 90 * S);
	accepts("30s", 30 * S);
	accepts("30", 30 * S);		/* a bare number is seconds */
	accepts("0.25", 250 * MS);
	accepts(".5s", 500 * MS);	/* as bc prints fractions below 1 */
	accepts("1.", S);
	accepts("0", 0);
	accepts("0ms", 0);
	accepts("1.5ms", 1500000);
	accepts("0.000000001s", 1);
	accepts("0.0000000009s", 0);	/* below a nanosecond: dropped */
	accepts("0010s", 10 * S);
	/* fraction digits far past a nanosecond do not overflow */
	accepts("1.99999999999999999999999999999h", 2 * 3600 * S - 1);
	accepts("18446744073.709551615s", UINT64_MAX);
}

static void test_refusals(void **state)
{
	refuses("", -EINVAL, "empty");
	refuses(NULL, -EINVAL, "empty");
	refuses("-1s", -EINVAL, "negative");
	refuses("-0.5", -EINVAL, "negative");
	refuses("ms", -EINVAL, "no number before the unit");
	refuses("h", -EINVAL, "no number before the unit");
	refuses(".s", -EINVAL, "no number before the unit");
	refuses(".", -EINVAL, "not a number");
	refuses("abc", -EINVAL, "not a number");
	refuses("+1s", -EINVAL, "not a number");
	refuses(" 1s", -EINVAL, "not a number");
	refuses("1sx", -EINVAL, "unit");	/* junk after the unit */
	refuses("1s ", -EINVAL, "unit");
	refuses("1 s", -EINVAL, "unit");
	refuses("2hours", -EINVAL, "unit");
	refuses("5x", -EINVAL, "unit");
	refuses("1e3", -EINVAL, "unit");	/* no exponent */
	refuses("1.5.5s", -EINVAL, "unit");
	refuses("0x10", -EINVAL, "unit");
	refuses("inf", -EINVAL, "not a number");
	refuses("nan", -EINVAL, "not a number");
	refuses("1,5s", -EINVAL, "unit");
	refuses("18446744073.709551616s", -ERANGE, "too large");
	refuses("18446744074", -ERANGE, "too large");	/* fits 64 bits as seconds, not as ns */
	refuses("99999999999999999999", -ERANGE, "too large");
	refuses("5124096h", -ERANGE, "too large");	/* 2^64 ns is 5124095.6 h */
	refuses("999999999999999999999999999999s", -ERANGE, "too large");
}

/* The errors name the option and the value. */
static void test_opt_duration(void **state)
{
	struct capture c;
	uint64_t ns = 0;

	cap_start(&c, false, "");
	assert_int_equal(fogctl_opt_duration("--deadline", "3parsecs", 0, &ns), -EINVAL);
	cap_end(&c);
	assert_non_null(strstr(c.err, "--deadline '3parsecs' is not a duration"));
	assert_non_null(strstr(c.err, "unit is not ms, s, m or h"));
	assert_int_equal(c.out_len, 0);
	cap_free(&c);

	cap_start(&c, false, "");
	assert_int_equal(fogctl_opt_duration("--deadline", "0s", 0, &ns), -EINVAL);
	cap_end(&c);
	assert_non_null(strstr(c.err, "--deadline '0s': the duration must be more than 0"));
	cap_free(&c);

	cap_start(&c, false, "");
	assert_int_equal(fogctl_opt_duration("--sla", "0", FOGCTL_DUR_ZERO, &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(fogctl_opt_duration("--sla", "250ms", FOGCTL_DUR_ZERO, &ns), 0);
	assert_int_equal(ns, 250 * MS);
	cap_end(&c);
	assert_int_equal(c.err_len, 0);
	cap_free(&c);
}

/* Profiles last whole seconds: a fraction is rounded up, and said. */
static void test_opt_seconds(void **state)
{
	static const struct {
		const char *in;
		unsigned int s;
		bool rounded;
	} cases[] = {
		{ "10", 10, false }, { "10s", 10, false }, { "2m", 120, false },
		{ "1h", 3600, false }, { "500ms", 1, true }, { "1.5m", 90, false },
		{ "1.5s", 2, true }, { "1.4s", 2, true }, { "0.001", 1, true },
		{ "2000ms", 2, false },
	};
	struct capture c;
	unsigned int s;
	bool rounded;

	cap_start(&c, false, "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = 0;
		rounded = !cases[i].rounded;
		assert_int_equal(fogctl_opt_seconds("-d", cases[i].in, &s, &rounded), 0);
		if (s != cases[i].s || rounded != cases[i].rounded)
			fail_msg("-d %s: %u s rounded %d", cases[i].in, s, rounded);
	}
	assert_int_equal(fogctl_opt_seconds("-d", "0", &s, &rounded), -EINVAL);
	assert_int_equal(fogctl_opt_seconds("-d", "-5", &s, &rounded), -EINVAL);
	assert_int_equal(fogctl_opt_seconds("-d", "5000000h", &s, &rounded), -ERANGE);
	cap_end(&c);
	assert_non_null(strstr(c.err, "-d '5000000h' is not a duration: too large"));
	cap_free(&c);
}

static void test_opt_uint(void **state)
{
	unsigned long long v = 0;
	struct capture c;

	cap_start(&c, false, "");
	assert_int_equal(fogctl_opt_uint("-F", "99", 1, 1000, &v), 0);
	assert_int_equal(v, 99);
	assert_int_equal(fogctl_opt_uint("-F", "", 1, 1000, &v), -EINVAL);
	assert_int_equal(fogctl_opt_uint("-F", "-1", 1, 1000, &v), -EINVAL);
	assert_int_equal(fogctl_opt_uint("-F", "12abc", 1, 1000, &v), -EINVAL);
	assert_int_equal(fogctl_opt_uint("-F", "0", 1, 1000, &v), -ERANGE);
	assert_int_equal(fogctl_opt_uint("-F", "1001", 1, 1000, &v), -ERANGE);
	assert_int_equal(fogctl_opt_uint("-F", "99999999999999999999999", 1, 1000, &v), -ERANGE);
	assert_int_equal(v, 99);
	cap_end(&c);
	assert_non_null(strstr(c.err, "-F '12abc' is not a whole number"));
	assert_non_null(strstr(c.err, "-F '1001' is out of range: give 1 to 1000"));
	cap_free(&c);
}

static void test_opt_number(void **state)
{
	struct capture c;
	double d;

	cap_start(&c, false, "");
	assert_int_equal(fogctl_opt_number("--cpu", "0.5", &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(fogctl_opt_number("--cpu", "-1", &d), 0);	/* fogd names the sign */
	assert_int_equal(fogctl_opt_number("--cpu", "", &d), -EINVAL);
	assert_int_equal(fogctl_opt_number("--cpu", "1x", &d), -EINVAL);
	assert_int_equal(fogctl_opt_number("--cpu", "nan", &d), -EINVAL);
	assert_int_equal(fogctl_opt_number("--cpu", "1e999", &d), -EINVAL);
	cap_end(&c);
	assert_non_null(strstr(c.err, "--cpu '1x' is not a number"));
	cap_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_opt_duration),
		cmocka_unit_test(test_opt_seconds),
		cmocka_unit_test(test_opt_uint),
		cmocka_unit_test(test_opt_number),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
