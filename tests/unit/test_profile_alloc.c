// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allocation sampler's file and the memory profiles built from it, on
 * files this test writes by hand: sampling weights, checks that reject or
 * bound malformed files, live and allocated views, leak candidates with their
 * growth between two copies, and a torn (always odd seq) file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile/alloc.h"

static char *file;	/* FOG_ALLOC_FILE_SIZE bytes */

static struct fog_alloc_header *hdr(void)
{
	return (struct fog_alloc_header *)file;
}

static struct fog_alloc_stack *stacks(void)
{
	return (struct fog_alloc_stack *)(file + FOG_ALLOC_HEADER_SIZE);
}

static struct fog_alloc_live *live(void)
{
	return (struct fog_alloc_live *)(stacks() + FOG_ALLOC_STACKS);
}

__attribute__((noinline)) void alloc_site_leaky(void)
{
	__asm__ volatile("");
}

__attribute__((noinline)) void alloc_site_tidy(void)
{
	__asm__ volatile("");
}

static void put_stack(__u32 slot, void (*fn)(void), __u64 alloc, __u64 freed, __u64 objs)
{
	struct fog_alloc_stack *s = &stacks()[slot];

	s->hash = 0x1000 + slot;
	s->depth = 1;
	s->ips[0] = (__u64)(uintptr_t)fn + 1;	/* a return address: the reader looks up ip - 1 */
	s->samples = alloc / 524288 + 1;
	s->alloc_bytes = alloc;
	s->free_bytes = freed;
	s->alloc_objects = objs;
	hdr()->nstacks++;
}

static void put_live(__u32 i, __u64 ptr, __u64 weight, __u32 slot, __u64 when)
{
	live()[i] = (struct fog_alloc_live){ ptr, 100, weight, when, slot, 0 };
}

static int setup(void **state)
{
	file = calloc(1, FOG_ALLOC_FILE_SIZE);
	if (!file)
		return -1;
	*hdr() = (struct fog_alloc_header){
		.magic = FOG_ALLOC_MAGIC, .version = FOG_ALLOC_VERSION,
		.header_size = FOG_ALLOC_HEADER_SIZE, .pid = 1, .depth = FOG_ALLOC_DEPTH,
		.stacks_cap = FOG_ALLOC_STACKS, .live_cap = FOG_ALLOC_LIVE,
		.mean = FOG_ALLOC_MEAN, .nstacks = 1, .growth_step_ns = 1000000000ULL,
	};
	return 0;
}

static int teardown(void **state)
{
	free(file);
	return 0;
}

static void test_weights(void **state)
{
	/* small allocations stand for about one interval, huge ones for themselves */
	assert_true(fog_alloc_weight(16, 524288) > 524288 - 16);
	assert_true(fog_alloc_weight(16, 524288) < 524288 + 16);
	assert_true(fog_alloc_weight(100e6, 524288) >= 100e6);
	assert_true(fog_alloc_weight(100e6, 524288) < 100e6 + 1);
	assert_true(fog_alloc_weight(524288, 524288) > 524288);
	/* exponential: the median of the interval is mean x ln 2 */
	assert_true(fog_alloc_interval(0.5, 1000) > 693 && fog_alloc_interval(0.5, 1000) < 694);
	assert_true(fog_alloc_interval(1.0, 1000) == 0);
}

/* The sampler's scheme (points of a Poisson process over bytes) gives unbiased totals. */
static void test_sampling_unbiased(void **state)
{
	unsigned long long x = 12345;
	double left = 0, est = 0, truth = 0, mean = 65536;

	for (int i = 0; i < 2000000; i++) {
		double size = 16 + (double)(i % 97) * 40;	/* 16..3856 bytes */

		truth += size;
		left -= size;
		if (left > 0)
			continue;
		est += fog_alloc_weight(size, mean);
		while (left <= 0) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			left += fog_alloc_interval((double)((x >> 11) + 1) / 9007199254740992.0, mean);
		}
	}
	/* sd = sqrt(truth x mean), about 0.9% here: 4 sd */
	assert_true(est > truth * 0.964 && est < truth * 1.036);
}

static void test_rejects_bad_files(void **state)
{
	char err[256];
	struct fog_alloc_snap *s;

	s = fog_alloc_snap__parse(file, 100, 1, err, sizeof(err));
	assert_null(s);
	assert_int_equal(errno, EPROTO);
	hdr()->magic = 42;
	assert_null(fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, 1, err, sizeof(err)));
	assert_int_equal(errno, EPROTO);
	assert_non_null(strstr(err, "magic"));
	hdr()->magic = FOG_ALLOC_MAGIC;
	hdr()->version = 99;
	assert_null(fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "version"));
	hdr()->version = FOG_ALLOC_VERSION;
	hdr()->mean = 0;
	assert_null(fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, 1, err, sizeof(err)));
}

static void test_bounds_malformed_counts(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(4);
	struct fog_symbolizer *sym = fog_symbolizer__new(c);
	struct fog_prof *p = fog_prof__new(FOG_PROF_INUSE);
	struct fog_alloc_snap *s;
	char err[256];

	put_stack(5, alloc_site_leaky, 1000000, 0, 10);
	stacks()[5].depth = 100000;	/* more than the ips array holds */
	hdr()->nstacks = 999999;
	hdr()->ngrowth = 999999;
	put_live(3, 0x1000, 1000000, 77777, 1);	/* a stack index out of range */
	s = fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, 1, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(s->hdr.nstacks, FOG_ALLOC_STACKS);
	assert_int_equal(s->hdr.ngrowth, FOG_ALLOC_GROWTH);
	assert_int_equal(s->stacks[5].depth, FOG_ALLOC_DEPTH);
	assert_int_equal(s->live[3].ptr, 0);
	assert_int_equal(fog_alloc_build(s, NULL, sym, p), 0);
	assert_int_equal(p->total, 1000000);
	fog_prof__free(p);
	fog_alloc_snap__free(s);
	fog_symbolizer__free(sym);
	fog_elfcache__free(c);
}

static void test_views_and_leaks(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(8);
	struct fog_symbolizer *sym = fog_symbolizer__new(c);
	struct fog_prof *inuse = fog_prof__new(FOG_PROF_INUSE), *alloc = fog_prof__new(FOG_PROF_ALLOC);
	struct fog_alloc_snap *s0, *s1;
	__u32 pid = (__u32)getpid();
	char err[256];

	/* start: leaky holds 2 MB, tidy allocated 5 MB and freed it all */
	put_stack(1, alloc_site_leaky, 2000000, 0, 20);
	put_stack(2, alloc_site_tidy, 5000000, 5000000, 50);
	s0 = fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, pid, err, sizeof(err));
	assert_non_null(s0);
	/* end: leaky grew to 30 MB live, tidy allocated 40 MB more and freed all but 1 MB */
	stacks()[1].alloc_bytes = 30000000;
	stacks()[2].alloc_bytes = 45000000;
	stacks()[2].free_bytes = 44000000;
	put_live(10, 0x7000, 30000000, 1, 5);
	put_live(11, 0x8000, 1000000, 2, 7);
	hdr()->ngrowth = 2;
	hdr()->growth[0] = (struct fog_alloc_point){ 1, 2000000 };
	hdr()->growth[1] = (struct fog_alloc_point){ 2, 31000000 };
	hdr()->live_bytes = 31000000;
	s1 = fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, pid, err, sizeof(err));
	assert_non_null(s1);

	assert_int_equal(fog_alloc_build(s1, s0, sym, inuse), 0);
	assert_int_equal(inuse->total, 31000000);
	assert_int_equal(inuse->nleaks, 2);
	assert_string_equal(inuse->leaks[0].func, "alloc_site_leaky");
	assert_int_equal(inuse->leaks[0].live_bytes, 30000000);
	assert_int_equal(inuse->leaks[0].growth_bytes, 28000000);
	assert_true(inuse->leaks[0].growing);
	assert_string_equal(inuse->leaks[1].func, "alloc_site_tidy");
	assert_int_equal(inuse->leaks[1].growth_bytes, 1000000);
	assert_int_equal(inuse->ngrowth, 3);	/* two points and "now" */
	assert_int_equal(inuse->growth[2].bytes, 31000000);

	/* allocated during the profile: 28 MB and 40 MB */
	assert_int_equal(fog_alloc_build(s1, s0, sym, alloc), 0);
	assert_int_equal(alloc->total, 68000000);
	fog_prof__free(inuse);
	fog_prof__free(alloc);
	fog_alloc_snap__free(s0);
	fog_alloc_snap__free(s1);
	fog_symbolizer__free(sym);
	fog_elfcache__free(c);
}

/*
 * Live bytes whose change over the profile does not fit in 64 signed bits (the
 * counts are the writer's): the growth saturates, keeps its sign and the leak
 * is still reported growing (the difference overflowed before, found by fuzzing).
 */
static void test_growth_saturates(void **state)
{
	struct fog_elfcache *c = fog_elfcache__new(4);
	struct fog_symbolizer *sym = fog_symbolizer__new(c);
	struct fog_prof *p = fog_prof__new(FOG_PROF_INUSE);
	struct fog_alloc_snap *s0, *s1;
	char err[256];

	put_stack(4, alloc_site_leaky, ~0ULL, 0, 1);
	stacks()[4].free_bytes = ~0ULL - 10;	/* 10 bytes live at the start */
	s0 = fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, 1, err, sizeof(err));
	assert_non_null(s0);
	stacks()[4].free_bytes = 0;	/* live at the end: 2^64 - 1 */
	s1 = fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, 1, err, sizeof(err));
	assert_non_null(s1);
	assert_int_equal(fog_alloc_build(s1, s0, sym, p), 0);
	assert_int_equal(p->nleaks, 1);
	assert_true(p->leaks[0].growth_bytes == INT64_MAX);
	assert_true(p->leaks[0].growing);
	fog_prof__free(p);
	p = fog_prof__new(FOG_PROF_INUSE);
	assert_int_equal(fog_alloc_build(s0, s1, sym, p), 0);	/* and shrinking by as much */
	assert_true(p->leaks[0].growth_bytes == INT64_MIN);
	assert_false(p->leaks[0].growing);
	fog_prof__free(p);
	fog_alloc_snap__free(s0);
	fog_alloc_snap__free(s1);
	fog_symbolizer__free(sym);
	fog_elfcache__free(c);
}

static void test_torn_file(void **state)
{
	struct fog_alloc_snap *s;
	char err[256];

	hdr()->seq = 7;	/* a writer that died mid-change */
	s = fog_alloc_snap__parse(file, FOG_ALLOC_FILE_SIZE, 1, err, sizeof(err));
	assert_non_null(s);
	assert_true(s->torn);
	fog_alloc_snap__free(s);
}

static void test_no_such_process(void **state)
{
	char err[256];

	assert_null(fog_alloc_snap__read(0x3fffff, err, sizeof(err)));
	assert_int_equal(errno, ESRCH);
	/* this test runs without the sampler: the message says how to start one */
	assert_null(fog_alloc_snap__read((__u32)getpid(), err, sizeof(err)));
	if (!getenv("LD_PRELOAD"))
		assert_non_null(strstr(err, "LD_PRELOAD"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_sampling_unbiased),
		cmocka_unit_test_setup_teardown(test_rejects_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds_malformed_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_views_and_leaks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth_saturates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_file, setup, teardown),
		cmocka_unit_test(test_no_such_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
