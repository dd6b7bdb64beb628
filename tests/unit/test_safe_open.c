// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening and reading tenant files (user/agent/safe_open.c) when the calls under them fail
 * (fail_inject.h): each open, pread and allocation fails in turn; every failure is the call's
 * own -errno with no buffer handed out and no descriptor left open (counted in /proc/self/fd),
 * and the clean run reads the file this test wrote, byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/safe_open.h"
#include "fail_inject.h"

#define SIZE 100000

static char path[64];
static char want[SIZE];

static int setup(void **state)
{
	FILE *f;

	for (size_t i = 0; i < SIZE; i++)
		want[i] = (char)('a' + i % 26);
	snprintf(path, sizeof(path), "/tmp/fog-test-safe-open.%d", getpid());
	f = fopen(path, "w");
	if (!f || fwrite(want, 1, SIZE, f) != SIZE)
		return -1;
	return fclose(f);
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

/* Descriptors this process has open. */
static int nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

static bool expected_error(int rc)
{
	return rc == -EMFILE || rc == -EIO || rc == -ENOMEM;
}

/* open (O_PATH), its reopen, the buffer and the read fail in turn. */
static void test_read_faults(void **state)
{
	int fds = nfds(), rc;
	unsigned long runs;
	size_t len = 1;
	char *buf = (char *)1;
	bool trunc = true;

	FAIL_INJECT_LOOP(FAIL_INJECT_FILE | FAIL_INJECT_ALLOC, 20, runs,
			 rc = fog_safe_read_proc(path, 1 << 20, &buf, &len, &trunc), {
				 assert_int_equal(nfds(), fds);
				 if (failed) {
					 assert_true(expected_error(rc));
					 assert_null(buf);
					 assert_int_equal(len, 0);
				 }
			 });
	assert_int_equal(rc, 0);
	assert_int_equal(runs, 5);
	assert_int_equal(len, SIZE);
	assert_false(trunc);
	assert_memory_equal(buf, want, SIZE);
	free(buf);
}

/* Inside a root: the root's O_PATH descriptor and the reopen fail in turn. */
static void test_open_in_root_faults(void **state)
{
	int fds = nfds(), fd;
	unsigned long runs;
	char buf[16];

	FAIL_INJECT_LOOP(FAIL_INJECT_FILE | FAIL_INJECT_ALLOC, 20, runs,
			 fd = fog_safe_open_in_root(0, path, SIZE), {
				 if (failed) {
					 assert_int_equal(fd, -EMFILE);
					 assert_int_equal(nfds(), fds);
				 }
			 });
	assert_true(fd >= 0);
	assert_true(runs >= 3);
	assert_int_equal(nfds(), fds + 1);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_memory_equal(buf, want, sizeof(buf));
	close(fd);
	/* over its size limit: refused, nothing left open */
	assert_int_equal(fog_safe_open_in_root(0, path, SIZE - 1), -EFBIG);
	assert_int_equal(nfds(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_faults),
		cmocka_unit_test(test_open_in_root_faults),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
