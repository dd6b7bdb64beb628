// SPDX-License-Identifier: GPL-2.0-only
/* The continuous profiler's on-disk ring (user/profile/continuous.c) on a private folder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "profile/ring.h"

#define T0 1795849200	/* 2026-11-28T07:00:00Z */

static char top[64], dir[128];

static int setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/fog-test-ring.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof(dir), "%s/a/ring", top);	/* parents are created too */
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) ? -1 : 0;
}

static bool exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !access(path, F_OK);
}

static void test_names(void **state)
{
	assert_true(fog_prof_ring_name_time("cpu-20261128T070000Z.pb.gz") == T0);
	assert_true(fog_prof_ring_name_time("cpu-20261128T070000Z-3.pb.gz") == T0);
	assert_true(fog_prof_ring_name_time("cpu-20261128T070000Z-42.pb.gz") == T0);
	assert_true(fog_prof_ring_name_time("cpu-20261128T070000Z-0.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("cpu-20261128T070000Z-123.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("cpu-20261128T070000Z.pb") < 0);
	assert_true(fog_prof_ring_name_time("cpu-2026112T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("mem-20261128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("cpu-.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("") < 0);
	/* stamps strptime takes that the ring never writes (found by fuzz_ring) */
	assert_true(fog_prof_ring_name_time("cpu-2026 128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("cpu-20260231T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("cpu-20261128T070060Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("cpu-20261128T 70000Z.pb.gz") < 0);
}

/* The profiles captured when an alert fires: alert-ID-cpu-STAMP, alert-ID-offcpu-STAMP. */
static void test_alert_names(void **state)
{
	assert_true(fog_prof_ring_name_time("alert-7-cpu-20261128T070000Z.pb.gz") == T0);
	assert_true(fog_prof_ring_name_time("alert-1796694320-offcpu-20261128T070000Z.pb.gz") ==
		    T0);
	assert_true(fog_prof_ring_name_time("alert-7-cpu-20261128T070000Z-2.pb.gz") == T0);
	assert_true(fog_prof_ring_name_time("alert-18446744073709551615-cpu-20261128T070000Z.pb.gz")
		    == T0);
	assert_true(fog_prof_ring_name_time("alert-123456789012345678901-cpu-20261128T070000Z.pb.gz")
		    < 0);
	assert_true(fog_prof_ring_name_time("alert-07-cpu-20261128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert-0-cpu-20261128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert--cpu-20261128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert-7-mem-20261128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert-7-20261128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert-7-cpu-20260231T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert-7-cpu-.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert-7/../cpu-20261128T070000Z.pb.gz") < 0);
	assert_true(fog_prof_ring_name_time("alert-") < 0);
}

/* Alert profiles share the ring's limits, are found by id, and are never "latest". */
static void test_alert_files(void **state)
{
	char err[256], name[64];
	struct fog_prof_ring *r = fog_prof_ring__new(dir, 1 << 20, 100, err, sizeof(err));
	void *buf;
	size_t n;

	assert_non_null(r);
	assert_int_equal(fog_prof_ring__write(r, T0, "sampler", 7, T0, err, sizeof(err)), 0);
	assert_int_equal(fog_prof_ring__write_as(r, "alert-9-cpu-", T0 + 10, "cpu!", 4, T0 + 10,
						 err, sizeof(err)), 0);
	assert_int_equal(fog_prof_ring__write_as(r, "alert-9-offcpu-", T0 + 10, "off", 3, T0 + 10,
						 err, sizeof(err)), 0);
	assert_true(exists("alert-9-cpu-20261128T070010Z.pb.gz"));
	assert_true(exists("alert-9-offcpu-20261128T070010Z.pb.gz"));
	/* a prefix that would make a name the ring does not read back is refused */
	assert_int_equal(fog_prof_ring__write_as(r, "../x-", T0, "x", 1, T0, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(fog_prof_ring__write_as(r, "alert-x-cpu-", T0, "x", 1, T0, err,
						 sizeof(err)), -EINVAL);
	assert_int_equal(fog_prof_ring__find_alert(r, 9, false, name, sizeof(name)), 0);
	assert_string_equal(name, "alert-9-cpu-20261128T070010Z.pb.gz");
	assert_int_equal(fog_prof_ring__find_alert(r, 9, true, name, sizeof(name)), 0);
	assert_string_equal(name, "alert-9-offcpu-20261128T070010Z.pb.gz");
	assert_int_equal(fog_prof_ring__find_alert(r, 90, false, name, sizeof(name)), -ENOENT);
	assert_int_equal(fog_prof_ring__read(r, "latest", &buf, &n), 0);
	assert_int_equal(n, 7);	/* the sampler's, though the alert's are newer */
	free(buf);
	/* listed again after a restart, and removed by the age limit as the snapshots */
	fog_prof_ring__free(r);
	r = fog_prof_ring__new(dir, 1 << 20, 100, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(fog_prof_ring__count(r), 3);
	assert_int_equal(fog_prof_ring__expire(r, T0 + 111), 3);
	assert_false(exists("alert-9-cpu-20261128T070010Z.pb.gz"));
	fog_prof_ring__free(r);
}

/* Over max_bytes the oldest go first; the folder is created 0700. */
static void test_size_limit(void **state)
{
	char buf[1000], err[256];
	struct fog_prof_ring *r;
	struct stat st;

	memset(buf, 'x', sizeof(buf));
	r = fog_prof_ring__new(dir, 3500, 86400, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	for (int i = 0; i < 5; i++)
		assert_int_equal(fog_prof_ring__write(r, T0 + 60 * i, buf, sizeof(buf), T0 + 60 * i,
						      err, sizeof(err)), 0);
	assert_int_equal(fog_prof_ring__count(r), 3);
	assert_int_equal(fog_prof_ring__bytes(r), 3000);
	assert_int_equal(fog_prof_ring__removed(r), 2);
	assert_false(exists("cpu-20261128T070000Z.pb.gz"));
	assert_false(exists("cpu-20261128T070100Z.pb.gz"));
	assert_true(exists("cpu-20261128T070200Z.pb.gz"));
	assert_true(exists("cpu-20261128T070400Z.pb.gz"));
	/* larger than the whole ring: refused, nothing removed */
	assert_int_equal(fog_prof_ring__write(r, T0 + 300, buf, 3501, T0 + 300, err, sizeof(err)),
			 -EFBIG);
	assert_int_equal(fog_prof_ring__count(r), 3);
	/* the same second twice: a second name, not an overwrite */
	assert_int_equal(fog_prof_ring__write(r, T0 + 240, buf, 10, T0 + 240, err, sizeof(err)), 0);
	assert_true(exists("cpu-20261128T070400Z-1.pb.gz"));
	assert_true(exists("cpu-20261128T070400Z.pb.gz"));
	fog_prof_ring__free(r);
}

static void test_age_limit(void **state)
{
	char err[256];
	struct fog_prof_ring *r = fog_prof_ring__new(dir, 1 << 20, 100, err, sizeof(err));

	assert_non_null(r);
	assert_int_equal(fog_prof_ring__write(r, T0, "a", 1, T0, err, sizeof(err)), 0);
	assert_int_equal(fog_prof_ring__write(r, T0 + 50, "b", 1, T0 + 50, err, sizeof(err)), 0);
	assert_int_equal(fog_prof_ring__expire(r, T0 + 100), 0);
	assert_int_equal(fog_prof_ring__expire(r, T0 + 101), 1);
	assert_int_equal(fog_prof_ring__write(r, T0 + 200, "c", 1, T0 + 200, err, sizeof(err)), 0);
	assert_int_equal(fog_prof_ring__count(r), 1);
	assert_false(exists("cpu-20261128T070050Z.pb.gz"));
	assert_true(exists("cpu-20261128T070320Z.pb.gz"));
	fog_prof_ring__free(r);
}

/* A failed write keeps what was written; a new ring lists it, removes stale temporaries only. */
static void test_failure_and_rescan(void **state)
{
	char err[256], path[256];
	struct fog_prof_ring *r = fog_prof_ring__new(dir, 1 << 20, 86400, err, sizeof(err));
	void *buf;
	size_t n;
	FILE *f;

	assert_non_null(r);
	assert_int_equal(fog_prof_ring__write(r, T0, "first", 5, T0, err, sizeof(err)), 0);
	assert_int_equal(fog_prof_ring__write(r, T0 + 60, "second", 6, T0 + 60, err, sizeof(err)),
			 0);
	/* the temporary name of the next write is a folder: the write fails (EISDIR) */
	snprintf(path, sizeof(path), "%s/.cpu-20261128T070200Z.pb.gz.tmp", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_not_equal(fog_prof_ring__write(r, T0 + 120, "third", 5, T0 + 120, err,
						  sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(fog_prof_ring__count(r), 2);
	assert_true(exists("cpu-20261128T070000Z.pb.gz"));
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(fog_prof_ring__read(r, "latest", &buf, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "second", 6);
	free(buf);
	assert_int_equal(fog_prof_ring__read(r, "cpu-20261128T070000Z.pb.gz", &buf, &n), 0);
	assert_memory_equal(buf, "first", 5);
	free(buf);
	assert_int_equal(fog_prof_ring__read(r, "../ring/cpu-20261128T070000Z.pb.gz", &buf, &n),
			 -ENOENT);
	assert_int_equal(fog_prof_ring__read(r, "nope", &buf, &n), -ENOENT);
	fog_prof_ring__free(r);

	/* an interrupted write's temporary and a file that is not ours */
	snprintf(path, sizeof(path), "%s/.cpu-20261128T070300Z.pb.gz.tmp", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	r = fog_prof_ring__new(dir, 1 << 20, 86400, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(fog_prof_ring__count(r), 2);
	assert_int_equal(fog_prof_ring__bytes(r), 11);
	assert_false(exists(".cpu-20261128T070300Z.pb.gz.tmp"));
	assert_true(exists("notes.txt"));
	/* a shorter max_age applies to what is there: the oldest goes */
	fog_prof_ring__free(r);
	r = fog_prof_ring__new(dir, 1 << 20, 30, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(fog_prof_ring__expire(r, T0 + 61), 1);
	assert_false(exists("cpu-20261128T070000Z.pb.gz"));
	assert_true(exists("notes.txt"));
	fog_prof_ring__free(r);
}

static void test_bad_folder(void **state)
{
	char err[256], path[256];
	FILE *f;

	assert_null(fog_prof_ring__new("relative/dir", 1 << 20, 60, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	snprintf(path, sizeof(path), "%s/file", top);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/ring", top);
	assert_null(fog_prof_ring__new(path, 1 << 20, 60, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_alert_names),
		cmocka_unit_test_setup_teardown(test_alert_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_age_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_and_rescan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_folder, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
