// SPDX-License-Identifier: GPL-2.0-only
/* base/procfs.c: /proc/PID/stat and status fields from text a tenant's comm shapes. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/procfs.h"

/* fields 1..22 with utime 14 = 7, stime 15 = 9, starttime 22 = 123456 */
#define TAIL " S 1 2 3 4 -1 6 7 8 9 10 7 9 -3 -4 20 0 1 0 123456 999 88\n"

static int parse(const char *s, struct fog_proc_stat *st)
{
	return fog_proc_stat_parse(s, strlen(s), st);
}

static void test_stat_fields(void **state)
{
	struct fog_proc_stat st;

	assert_int_equal(parse("42 (sh)" TAIL, &st), 0);
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.utime_ticks, 7);
	assert_int_equal(st.stime_ticks, 9);
	assert_int_equal(st.start_time, 123456);
}

static void test_stat_hostile_comm(void **state)
{
	struct fog_proc_stat st;

	/* a comm with spaces, parentheses and what looks like fields */
	assert_int_equal(parse("42 (a) R 1 2 (b) c)" TAIL, &st), 0);
	assert_int_equal(st.start_time, 123456);
	assert_int_equal(parse("42 (x)) 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5)" TAIL, &st), 0);
	assert_int_equal(st.utime_ticks, 7);
}

static void test_stat_refused(void **state)
{
	struct fog_proc_stat st;
	const char *full = "42 (sh)" TAIL;
	char buf[256];

	assert_int_equal(parse("", &st), -EINVAL);
	assert_int_equal(parse("42 (sh)", &st), -EINVAL);	/* ends at ')' */
	assert_int_equal(parse("42 sh S 1 2", &st), -EINVAL);	/* no ')' */
	assert_int_equal(parse("42 (sh) S 1 2 3 4 -1 6 7 8 9 10 7", &st), -EINVAL);
	assert_int_equal(parse("42 (sh) S 1 2 3 4 -1 6 7 8 9 10 x 9 -3 -4 20 0 1 0 5\n", &st),
			 -EINVAL);	/* utime not a number */
	assert_int_equal(parse("42 (sh) S 1 2 3 4 -1 6 7 8 9 10 7 9 -3 -4 20 0 1 0 "
			       "99999999999999999999999\n", &st), -EINVAL);	/* overflow */
	/* every cut of a good text before field 22 is refused, never read past */
	for (size_t n = 0; n <= (size_t)(strstr(full, " 123456") - full); n++) {
		memcpy(buf, full, n);
		assert_int_equal(fog_proc_stat_parse(buf, n, &st), -EINVAL);
	}
}

static void test_ns_pid(void **state)
{
	const char *s = "Name:\tsh\nTgid:\t42\nNSpid:\t42\t7\t3\nPPid:\t1\n";

	assert_int_equal(fog_proc_status_ns_pid(s, strlen(s), 42), 3);
	s = "Name:\tsh\nNSpid:\t42\n";
	assert_int_equal(fog_proc_status_ns_pid(s, strlen(s), 42), 42);
	s = "Name:\tsh\n";
	assert_int_equal(fog_proc_status_ns_pid(s, strlen(s), 42), 42);	/* none */
	s = "NSpid:\t42\t99999999999\n";
	assert_int_equal(fog_proc_status_ns_pid(s, strlen(s), 42), 42);	/* not a pid */
	s = "NSpid:\t42\t0\n";
	assert_int_equal(fog_proc_status_ns_pid(s, strlen(s), 42), 42);
	s = "NSpid:\t42\t5";	/* no final newline, length-bounded */
	assert_int_equal(fog_proc_status_ns_pid(s, strlen(s), 42), 5);
	assert_int_equal(fog_proc_status_ns_pid(s, 9, 42), 42);	/* cut before the number */
}

static void test_stat_read_self(void **state)
{
	struct fog_proc_stat a, b;

	assert_int_equal(fog_proc_stat_read((__u32)getpid(), &a), 0);
	assert_true(a.start_time > 0);
	assert_int_equal(fog_proc_stat_read((__u32)getpid(), &b), 0);
	assert_int_equal(a.start_time, b.start_time);
	assert_true(fog_proc_stat_read(0x3fffffff, &a) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_fields),
		cmocka_unit_test(test_stat_hostile_comm),
		cmocka_unit_test(test_stat_refused),
		cmocka_unit_test(test_ns_pid),
		cmocka_unit_test(test_stat_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
