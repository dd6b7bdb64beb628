// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <cmocka.h>

#include "base/hist.h"

/* Mirrors fog_hist_slot() of bpf/fog.bpf.h, the in-kernel bucketing. */
static unsigned int slot_of(__u64 v)
{
	unsigned int s = 0;

	while (v >>= 1)
		s++;
	return s < FOG_HIST_SLOTS ? s : FOG_HIST_SLOTS - 1;
}

static void add(struct fog_hist *h, __u64 v)
{
	h->slots[slot_of(v)]++;
	h->sum_ns += v;
}

static void test_empty_has_no_quantile(void **state)
{
	struct fog_hist h = { 0 };

	assert_true(fog_hist_quantile(&h, 0.5) < 0);
	assert_int_equal(fog_hist_count(&h), 0);
}

static void test_bad_q_rejected(void **state)
{
	struct fog_hist h = { 0 };

	add(&h, 1000);
	assert_true(fog_hist_quantile(&h, 0) < 0);
	assert_true(fog_hist_quantile(&h, 1.5) < 0);
	assert_true(fog_hist_quantile(&h, 1.0) > 0);
}

static void test_slot_bounds(void **state)
{
	assert_int_equal(fog_hist_slot_lo(0), 0);
	assert_int_equal(fog_hist_slot_hi(0), 2);
	assert_int_equal(fog_hist_slot_lo(10), 1024);
	assert_int_equal(fog_hist_slot_hi(10), 2048);
}

/* Quantiles of a known distribution fall in the right slot, within its bounds. */
static void test_quantiles_known_distribution(void **state)
{
	struct fog_hist h = { 0 };
	double p50, p99;

	/* 900 values of 1 us, 100 values of 10 ms */
	for (int i = 0; i < 900; i++)
		add(&h, 1000);
	for (int i = 0; i < 100; i++)
		add(&h, 10000000);
	p50 = fog_hist_quantile(&h, 0.5);
	p99 = fog_hist_quantile(&h, 0.99);
	assert_true(p50 >= 512 && p50 <= 1024 * 2);
	assert_true(p99 >= 8388608.0 && p99 <= 16777216.0);
	assert_int_equal(fog_hist_count(&h), 1000);
	assert_int_equal(h.sum_ns, 900ull * 1000 + 100ull * 10000000);
}

/* Interpolation inside one slot is linear in rank. */
static void test_interpolation(void **state)
{
	struct fog_hist h = { 0 };

	h.slots[10] = 100; /* [1024, 2048) */
	assert_true(fabs(fog_hist_quantile(&h, 0.5) - 1536.0) < 1e-6);
	assert_true(fabs(fog_hist_quantile(&h, 1.0) - 2048.0) < 1e-6);
}

static void test_delta_and_merge(void **state)
{
	struct fog_hist a = { 0 }, b = { 0 }, d;

	add(&a, 100);
	add(&a, 5000);
	b = a;
	add(&b, 5000);
	add(&b, 70000);
	fog_hist_delta(&d, &b, &a);
	assert_int_equal(fog_hist_count(&d), 2);
	assert_int_equal(d.sum_ns, 75000);
	/* a reset map entry (now < before) clamps to zero instead of wrapping */
	fog_hist_delta(&d, &a, &b);
	assert_int_equal(fog_hist_count(&d), 0);
	assert_int_equal(d.sum_ns, 0);
	fog_hist_merge(&a, &b);
	assert_int_equal(fog_hist_count(&a), 6);
}

static void test_huge_values_land_in_last_slot(void **state)
{
	struct fog_hist h = { 0 };

	add(&h, ~0ull);
	assert_int_equal(h.slots[FOG_HIST_SLOTS - 1], 1);
	assert_true(fog_hist_quantile(&h, 0.99) > 0);
}

static void test_json_shape(void **state)
{
	struct fog_hist h = { 0 };
	json_t *j, *b;

	add(&h, 3000);
	add(&h, 3000);
	j = fog_hist_json(&h);
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
	b = json_object_get(j, "buckets");
	/* cumulative: the last bucket holds every value */
	assert_int_equal(json_integer_value(json_array_get(json_array_get(b, json_array_size(b) - 1), 1)), 2);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_has_no_quantile),
		cmocka_unit_test(test_bad_q_rejected),
		cmocka_unit_test(test_slot_bounds),
		cmocka_unit_test(test_quantiles_known_distribution),
		cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_delta_and_merge),
		cmocka_unit_test(test_huge_values_land_in_last_slot),
		cmocka_unit_test(test_json_shape),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
