// SPDX-License-Identifier: GPL-2.0-only
/*
 * The uprobe memory mode's sampling without BPF: the table of exponential
 * quantiles user space hands to bpf/memprobe.bpf.c, draws made from it with
 * the BPF program's integer arithmetic (copied here; a seeded xorshift stands
 * in for bpf_get_prandom_u32), and the whole estimate: a thread counting its
 * bytes down to such draws, sampled allocations weighted by size/p
 * (allocfile.h), must be unbiased, with the spread the integration test's
 * tolerance assumes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/types.h>

#include "fog/abi/memprobe.h"
#include "profile/allocfile.h"
#include "profile/uprobe.h"

#define MEAN 524288ULL

static __u32 table[FOG_MEMPROBE_EXP_N + 1];
static __u64 rng = 0x9e3779b97f4a7c15ULL;

static __u32 rand32(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (__u32)((rng * 0x2545f4914f6cdd1dULL) >> 32);
}

/* next_interval() of bpf/memprobe.bpf.c */
static __s64 draw(__u64 mean)
{
	__u32 r = rand32();
	__u32 i = r >> (32 - FOG_MEMPROBE_EXP_BITS);
	__u64 lo = table[i], hi = table[i + 1], q;

	q = lo + (((hi > lo ? hi - lo : 0) * (r & 0xffff)) >> 16);
	q = (mean * q) / FOG_MEMPROBE_EXP_ONE;
	return q ? (__s64)q : 1;
}

static int setup(void **state)
{
	fog_memprobe_exp_table(table);
	return 0;
}

static void test_table_shape(void **state)
{
	double mean = 0;

	assert_int_equal(table[0], 0);
	for (int i = 1; i <= FOG_MEMPROBE_EXP_N; i++)
		assert_true(table[i] > table[i - 1]);
	/* the draws are uniform within a bucket: the buckets' midpoints average to 1.0 */
	for (int i = 0; i < FOG_MEMPROBE_EXP_N; i++)
		mean += (table[i] + table[i + 1]) / 2.0 / FOG_MEMPROBE_EXP_N;
	assert_true(fabs(mean - FOG_MEMPROBE_EXP_ONE) < 2);
	/* the median of Exp(1) is ln 2 */
	assert_true(fabs(table[FOG_MEMPROBE_EXP_N / 2] / (double)FOG_MEMPROBE_EXP_ONE - log(2)) <
		    0.01);
}

static void test_draws_exponential(void **state)
{
	const int n = 1000000;
	double sum = 0, over1 = 0, over3 = 0;

	for (int i = 0; i < n; i++) {
		double x = (double)draw(MEAN) / MEAN;

		sum += x;
		over1 += x > 1;
		over3 += x > 3;
	}
	/* sd of the mean 1/sqrt(n) = 0.001; of the tail shares about 0.0005 */
	assert_true(fabs(sum / n - 1) < 0.005);
	assert_true(fabs(over1 / n - exp(-1)) < 0.004);
	assert_true(fabs(over3 / n - exp(-3)) < 0.002);
}

/*
 * A thread allocating 16384 blocks of 4096 bytes (64 MiB), counted down as
 * the BPF program does; the estimate of 400 such runs must average to the
 * truth and spread as (S/p) sqrt(n p (1-p)), the sd the integration test uses.
 */
static void test_estimate_unbiased(void **state)
{
	const int runs = 400, n = 16384;
	const double size = 4096, truth = n * size;
	const double p = -expm1(-size / MEAN), w = fog_alloc_weight(size, MEAN);
	const double sd_want = w * sqrt(n * p * (1 - p));
	double sum = 0, sq = 0, mean, sd;

	for (int r = 0; r < runs; r++) {
		__s64 left = draw(MEAN);
		double est = 0;

		for (int i = 0; i < n; i++) {
			left -= (__s64)size;
			if (left <= 0) {
				est += (double)llround(w);
				left = draw(MEAN);
			}
		}
		sum += est;
		sq += est * est;
	}
	mean = sum / runs;
	sd = sqrt(sq / runs - mean * mean);

	print_message("mean estimate %.0f (truth %.0f), sd %.0f (want %.0f)\n", mean, truth, sd,
		      sd_want);
	/* the mean of 400 runs has sd 5.9 MB / 20 = 0.3 MB: 1.5% is over 3 of those */
	assert_true(fabs(mean - truth) < 0.015 * truth);
	assert_true(fabs(sd / sd_want - 1) < 0.2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_table_shape, setup),
		cmocka_unit_test_setup(test_draws_exponential, setup),
		cmocka_unit_test_setup(test_estimate_unbiased, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
