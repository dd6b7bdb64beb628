// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/cgroup.h"
#include "collect/agg.h"

#define NS 1000000000ull

static void test_create_find_remove(void **state)
{
	struct fog_agg *a = fog_agg__new(8);
	struct fog_proc *p;

	assert_non_null(a);
	assert_null(fog_agg__proc(a, 100, false));
	p = fog_agg__proc(a, 100, true);
	assert_non_null(p);
	assert_int_equal(p->pid, 100);
	assert_ptr_equal(fog_agg__proc(a, 100, false), p);
	assert_int_equal(fog_agg__count(a), 1);
	fog_agg__remove(a, 100);
	assert_null(fog_agg__proc(a, 100, false));
	assert_int_equal(fog_agg__count(a), 0);
	fog_agg__free(a);
}

/* The table holds at most max entries and counts what it turned away. */
static void test_bounded(void **state)
{
	struct fog_agg *a = fog_agg__new(4);

	for (__u32 pid = 1; pid <= 4; pid++)
		assert_non_null(fog_agg__proc(a, pid, true));
	assert_null(fog_agg__proc(a, 5, true));
	assert_int_equal(fog_agg__overflows(a), 1);
	fog_agg__free(a);
	assert_null(fog_agg__new(0));
}

/* Removal with backward shift keeps every other entry reachable (checked against a model). */
static void test_random_insert_remove_matches_model(void **state)
{
	enum { MAX = 64, ROUNDS = 20000 };
	struct fog_agg *a = fog_agg__new(MAX);
	bool model[512] = { 0 };
	unsigned int n = 0;

	srand(7);
	for (int r = 0; r < ROUNDS; r++) {
		__u32 pid = 1 + (__u32)(rand() % 511);

		if (rand() % 2) {
			if (!model[pid] && n < MAX) {
				assert_non_null(fog_agg__proc(a, pid, true));
				model[pid] = true;
				n++;
			}
		} else if (model[pid]) {
			fog_agg__remove(a, pid);
			model[pid] = false;
			n--;
		}
		if (r % 1000 == 0)
			for (__u32 q = 1; q < 512; q++)
				assert_int_equal(fog_agg__proc(a, q, false) != NULL, model[q]);
	}
	assert_int_equal(fog_agg__count(a), n);
	fog_agg__free(a);
}

/* Rates come from the previous tick's totals. */
static void test_rates(void **state)
{
	struct fog_agg *a = fog_agg__new(8);
	__u32 me = (__u32)getpid();
	struct fog_proc *p;

	fog_agg__tick_begin(a, 1 * NS);
	p = fog_agg__proc(a, me, true);
	p->oncpu_ns = NS / 2;
	p->faults = 100;
	fog_agg__tick_end(a, 1 * NS);
	fog_agg__tick_begin(a, 3 * NS);
	p = fog_agg__proc(a, me, false);
	p->oncpu_ns = NS / 2 + NS; /* 1 s of CPU over 2 s */
	p->faults = 300;
	p->io_read_bytes = 4096;
	fog_agg__tick_end(a, 3 * NS);
	assert_true(p->cpu_share > 0.499 && p->cpu_share < 0.501);
	assert_true(p->faults_per_s > 99.9 && p->faults_per_s < 100.1);
	assert_true(p->io_bytes_per_s > 2047 && p->io_bytes_per_s < 2049);
	fog_agg__free(a);
}

/* A process not seen this tick and gone from /proc is dropped; a live one stays. */
static void test_gone_processes_dropped(void **state)
{
	struct fog_agg *a = fog_agg__new(8);
	__u32 me = (__u32)getpid();
	__u32 dead = 0x7ffffff0; /* above pid_max */

	fog_agg__tick_begin(a, NS);
	fog_agg__proc(a, me, true);
	fog_agg__proc(a, dead, true);
	fog_agg__tick_end(a, NS);
	fog_agg__tick_begin(a, 2 * NS);
	fog_agg__tick_end(a, 2 * NS);
	assert_non_null(fog_agg__proc(a, me, false));
	assert_null(fog_agg__proc(a, dead, false));
	fog_agg__free(a);
}

static void test_json_sorted(void **state)
{
	struct fog_agg *a = fog_agg__new(8);
	json_t *arr;

	fog_agg__proc(a, 1, true)->cpu_share = 0.1;
	fog_agg__proc(a, 2, true)->cpu_share = 0.9;
	fog_agg__proc(a, 3, true)->rss_bytes = 1 << 30;
	arr = fog_agg__json(a, "cpu", 2);
	assert_int_equal(json_array_size(arr), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "pid")), 2);
	json_decref(arr);
	arr = fog_agg__json(a, "mem", 0);
	assert_int_equal(json_array_size(arr), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "pid")), 3);
	json_decref(arr);
	fog_agg__free(a);
}

static void test_cgroup_parse_self(void **state)
{
	const char *v1 = "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x/y\n0::/\n";
	const char *v2 = "0::/system.slice/fogd.service\n";
	char out[256];

	assert_int_equal(fog_cgroup_parse_self(v1, FOG_CGROUP_V1_MEMORY, out, sizeof(out)), 0);
	assert_string_equal(out, "/process_api/abc");
	assert_int_equal(fog_cgroup_parse_self(v1, FOG_CGROUP_V1_CPU, out, sizeof(out)), 0);
	assert_string_equal(out, "/x/y");
	assert_int_equal(fog_cgroup_parse_self(v1, FOG_CGROUP_V2, out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(fog_cgroup_parse_self(v2, FOG_CGROUP_V2, out, sizeof(out)), 0);
	assert_string_equal(out, "/system.slice/fogd.service");
	assert_int_equal(fog_cgroup_parse_self(v2, FOG_CGROUP_V1_MEMORY, out, sizeof(out)), -ENOENT);
	assert_int_equal(fog_cgroup_parse_self("garbage without colons", FOG_CGROUP_V2, out,
					       sizeof(out)), -ENOENT);
	assert_int_equal(fog_cgroup_parse_self(v2, FOG_CGROUP_V2, out, 4), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_find_remove),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_random_insert_remove_matches_model),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_gone_processes_dropped),
		cmocka_unit_test(test_json_sorted),
		cmocka_unit_test(test_cgroup_parse_self),
	};

	return cmocka_run_group_tests_name("agg", tests, NULL, NULL);
}
