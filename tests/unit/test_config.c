// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/config.h"
#include "fail_inject.h"

static char path[64];

static const char *write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/fog-test-config.%d.ini", getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static void test_defaults(void **state)
{
	struct fog_config c;

	fog_config_defaults(&c);
	assert_string_equal(c.socket_path, "/run/fogd/fogd.sock");
	assert_string_equal(c.pin_path, "/sys/fs/bpf/fogd");
	assert_int_equal(c.tick_ms, 1000);
	assert_true(c.cpu && c.schedlat && c.mem && c.io && c.net);
	assert_string_equal(c.source, "");
}

static void test_file_overrides_defaults(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN];

	fog_config_defaults(&c);
	assert_int_equal(fog_config_load(&c, write_file("; comment\n[fogd]\ntick_ms = 250\n"
							"[collectors]\nnet = off\nio = no\n"
							"[schedlat]\noutlier_us = 0\n"),
					 err, sizeof(err)),
			 0);
	assert_int_equal(c.tick_ms, 250);
	assert_false(c.net);
	assert_false(c.io);
	assert_true(c.cpu);
	assert_int_equal(c.runq_outlier_us, 0);
	assert_string_equal(c.source, path);
}

static void test_unknown_key_names_file_line_key(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN];
	char want[128];

	fog_config_defaults(&c);
	assert_int_not_equal(fog_config_load(&c, write_file("[fogd]\ntick_ms = 500\n\ntikc_ms = 3\n"),
					     err, sizeof(err)),
			     0);
	snprintf(want, sizeof(want), "%s:4: unknown key 'tikc_ms' in section [fogd]", path);
	assert_string_equal(err, want);
}

static void test_unknown_section(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN];

	fog_config_defaults(&c);
	assert_int_not_equal(fog_config_load(&c, write_file("[nope]\nx = 1\n"), err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: unknown section [nope]"));
}

static void test_bad_values(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN];

	fog_config_defaults(&c);
	assert_int_not_equal(fog_config_load(&c, write_file("[fogd]\ntick_ms = fast\n"), err,
					     sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: [fogd] tick_ms: 'fast' is not a whole number"));
	assert_int_not_equal(fog_config_load(&c, write_file("[fogd]\ntick_ms = 5\n"), err,
					     sizeof(err)), 0);
	assert_non_null(strstr(err, "[fogd] tick_ms: 5 is out of range 100..60000"));
	assert_int_not_equal(fog_config_load(&c, write_file("[collectors]\ncpu = maybe\n"), err,
					     sizeof(err)), 0);
	assert_non_null(strstr(err, "[collectors] cpu: 'maybe' is not on or off"));
	assert_int_not_equal(fog_config_load(&c, write_file("[fogd]\nlog_level = loud\n"), err,
					     sizeof(err)), 0);
	assert_non_null(strstr(err, "'loud' is not one of error, warn, info, debug"));
	assert_int_not_equal(fog_config_load(&c, write_file("[fogd]\ntick_ms = -1\n"), err,
					     sizeof(err)), 0);
	assert_non_null(strstr(err, "tick_ms: '-1' is not a whole number"));
}

static void test_syntax_error_and_missing_file(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN];

	fog_config_defaults(&c);
	assert_int_not_equal(fog_config_load(&c, write_file("[fogd]\nthis line has no equals\n"),
					     err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: syntax error"));
	assert_int_not_equal(fog_config_load(&c, "/nonexistent/fogd.ini", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/fogd.ini: cannot open"));
}

static void test_set_assignment(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN];

	fog_config_defaults(&c);
	assert_int_equal(fog_config_set(&c, "fogd.socket=/tmp/x.sock", err, sizeof(err)), 0);
	assert_string_equal(c.socket_path, "/tmp/x.sock");
	assert_int_not_equal(fog_config_set(&c, "fogd.socket", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "not of the form section.key=value"));
	assert_int_not_equal(fog_config_set(&c, "socket=/x", err, sizeof(err)), 0);
	assert_int_not_equal(fog_config_set(&c, "fogd.socket=", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "value is empty"));
	/* written back, " ;" would begin a comment and cut the value */
	assert_int_not_equal(fog_config_set(&c, "fogd.socket=/tmp/a ;b", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "begins a comment"));
	assert_string_equal(c.socket_path, "/tmp/x.sock");
	assert_int_equal(fog_config_set(&c, "fogd.socket=/tmp/a;b", err, sizeof(err)), 0);
}

static void test_too_long_string(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN], a[300];

	fog_config_defaults(&c);
	memset(a, 'x', sizeof(a));
	memcpy(a, "fogd.socket=/", 13);
	a[sizeof(a) - 1] = '\0';
	assert_int_not_equal(fog_config_set(&c, a, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "longer than 107 bytes"));
	assert_string_equal(c.socket_path, "/run/fogd/fogd.sock");
}

/* A line longer than the parser's buffer is an error, not two lines (found by fuzzing). */
static void test_long_line_rejected(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN], text[600];

	snprintf(text, sizeof(text), "[monitor]\nwebhook = http://%0*denabled = off\n", 220, 0);
	fog_config_defaults(&c);
	assert_int_not_equal(fog_config_load(&c, write_file(text), err, sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: line is longer than"));
	assert_true(c.monitor);
}

/* What fog_config_write prints loads back to the same configuration. */
static void test_write_round_trip(void **state)
{
	struct fog_config a, b;
	char err[FOG_CONFIG_ERR_LEN];
	FILE *f;

	fog_config_defaults(&a);
	assert_int_equal(fog_config_set(&a, "io.outlier_us=1234", err, sizeof(err)), 0);
	assert_int_equal(fog_config_set(&a, "collectors.mem=off", err, sizeof(err)), 0);
	assert_int_equal(fog_config_set(&a, "profile.max_bytes=5000000000", err, sizeof(err)), 0);
	write_file("");
	f = fopen(path, "w");
	fog_config_write_exact(&a, f);
	fclose(f);
	fog_config_defaults(&b);
	assert_int_equal(fog_config_load(&b, path, err, sizeof(err)), 0);
	memset(b.source, 0, sizeof(b.source));
	assert_memory_equal(&a, &b, sizeof(a));
}

/* [profile]: defaults, a 64-bit size, bounds and path checks, each error at its FILE:LINE. */
static void test_profile_section(void **state)
{
	struct fog_config c;
	char err[FOG_CONFIG_ERR_LEN], want[256];

	fog_config_defaults(&c);
	assert_false(c.prof_continuous);
	assert_int_equal(c.prof_frequency, 19);
	assert_true(c.prof_snapshot_s == 60);
	assert_string_equal(c.prof_dir, "/var/lib/fogd/profiles");
	assert_true(c.prof_max_bytes == 64ULL << 20);
	assert_int_equal(fog_config_load(&c, write_file("[profile]\ncontinuous = on\n"
							"frequency = 49\nsnapshot_s = 2.5\n"
							"directory = /srv/p\nmax_bytes = 8589934592\n"
							"max_age_s = 600\n"),
					 err, sizeof(err)),
			 0);
	assert_true(c.prof_continuous);
	assert_int_equal(c.prof_frequency, 49);
	assert_true(c.prof_snapshot_s == 2.5);
	assert_string_equal(c.prof_dir, "/srv/p");
	assert_true(c.prof_max_bytes == 8ULL << 30);	/* beyond 32 bits */
	assert_true(c.prof_max_age_s == 600);
	assert_int_not_equal(fog_config_load(&c, write_file("[profile]\n\nfrequency = 0\n"), err,
					     sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s:3: [profile] frequency: 0 is out of range 1..1000", path);
	assert_string_equal(err, want);
	assert_int_not_equal(fog_config_load(&c, write_file("[profile]\ndirectory = var/p\n"), err,
					     sizeof(err)), 0);
	assert_non_null(strstr(err, ":2: [profile] directory: 'var/p' is not an absolute path"));
	assert_int_not_equal(fog_config_set(&c, "profile.directory=/var/../etc", err, sizeof(err)),
			     0);
	assert_non_null(strstr(err, "'..' component"));
	assert_int_equal(fog_config_set(&c, "profile.directory=/var/..x", err, sizeof(err)), 0);
	assert_int_not_equal(fog_config_set(&c, "profile.max_bytes=1k", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "'1k' is not a whole number"));
	assert_int_not_equal(fog_config_set(&c, "profile.max_bytes=100", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "100 is out of range 4096..1099511627776"));
	assert_int_not_equal(fog_config_set(&c, "profile.max_bytes=99999999999999999999", err,
					    sizeof(err)), 0);
	assert_int_not_equal(fog_config_set(&c, "profile.snapshot_s=0.5", err, sizeof(err)), 0);
	assert_int_not_equal(fog_config_set(&c, "profile.max_age_s=nan", err, sizeof(err)), 0);
	assert_int_not_equal(fog_config_set(&c, "profile.continuous=sometimes", err, sizeof(err)),
			     0);
}

/*
 * A file that cannot be opened (here: out of descriptors) fails with that reason, in the
 * code and the message, and leaves the configuration as it was; allocations fail in turn too.
 */
static void test_faults_load(void **state)
{
	const char *file = write_file("[fogd]\ntick_ms = 250\n");
	struct fog_config c, before;
	char err[FOG_CONFIG_ERR_LEN];
	unsigned long runs;
	int rc;

	fog_config_defaults(&c);
	memcpy(&before, &c, sizeof(c));
	FAIL_INJECT_LOOP(FAIL_INJECT_FILE | FAIL_INJECT_ALLOC, 10, runs,
			 rc = fog_config_load(&c, file, err, sizeof(err)), {
				 if (failed) {
					 assert_int_equal(rc, -EMFILE);
					 assert_non_null(strstr(err, file));
					 assert_non_null(strstr(err, "cannot open: Too many open files"));
					 assert_memory_equal(&c, &before, sizeof(c));
				 }
			 });
	assert_int_equal(rc, 0);
	assert_int_equal(runs, 2);
	assert_int_equal(c.tick_ms, 250);
	/* a missing file is ENOENT */
	assert_int_equal(fog_config_load(&c, "/nonexistent/fogd.ini", err, sizeof(err)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test_teardown(test_file_overrides_defaults, teardown),
		cmocka_unit_test_teardown(test_unknown_key_names_file_line_key, teardown),
		cmocka_unit_test_teardown(test_unknown_section, teardown),
		cmocka_unit_test_teardown(test_bad_values, teardown),
		cmocka_unit_test_teardown(test_syntax_error_and_missing_file, teardown),
		cmocka_unit_test(test_set_assignment),
		cmocka_unit_test(test_too_long_string),
		cmocka_unit_test_teardown(test_long_line_rejected, teardown),
		cmocka_unit_test_teardown(test_write_round_trip, teardown),
		cmocka_unit_test_teardown(test_profile_section, teardown),
		cmocka_unit_test_teardown(test_faults_load, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
