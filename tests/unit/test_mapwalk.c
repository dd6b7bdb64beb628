// SPDX-License-Identifier: GPL-2.0-only
/*
 * Batched map reads over real BPF maps made here (root, or CAP_BPF): every
 * entry of a per-CPU hash map is seen exactly once with each CPU's value,
 * entries may be deleted from the callback, and a batch smaller than a hash
 * bucket (batch of 1 over a crowded map) goes on key by key without losing or
 * repeating an entry. Skipped with a message where maps cannot be created.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

#include "collect/mapwalk.h"

#define N_KEYS 1000

struct val {
	__u64 a;
	__u32 b;	/* 12 bytes: per-CPU values are rounded up to 16 */
};

struct seen {
	int ncpu;
	unsigned int count[N_KEYS];
	int fd;
	bool delete_odd;
	bool values_ok;
};

static int ncpu;

static int make_map(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct val *v = calloc((size_t)ncpu, 16);
	int fd;

	assert_non_null(v);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "fog_walk_test", sizeof(__u32),
			    sizeof(struct val), N_KEYS + 24, &opts);
	if (fd < 0) {
		free(v);
		return fd;
	}
	for (__u32 k = 0; k < N_KEYS; k++) {
		for (int c = 0; c < ncpu; c++) {
			struct val *cv = (struct val *)((char *)v + (size_t)c * 16);

			cv->a = (__u64)k * 1000 + (__u64)c;
			cv->b = k ^ 0x5a5a;
		}
		assert_int_equal(bpf_map_update_elem(fd, &k, v, BPF_NOEXIST), 0);
	}
	free(v);
	return fd;
}

static void on_entry(const void *key, const void *value, void *ctx)
{
	struct seen *s = ctx;
	__u32 k;

	memcpy(&k, key, sizeof(k));
	if (k >= N_KEYS) {
		s->values_ok = false;
		return;
	}
	s->count[k]++;
	for (int c = 0; c < s->ncpu; c++) {
		struct val cv;

		memcpy(&cv, (const char *)value + (size_t)c * 16, sizeof(cv));
		if (cv.a != (__u64)k * 1000 + (__u64)c || cv.b != (k ^ 0x5a5a))
			s->values_ok = false;
	}
	if (s->delete_odd && (k & 1))
		bpf_map_delete_elem(s->fd, &k);
}

static void walk_all(unsigned int batch, bool delete_odd)
{
	struct fog_map_walk *w;
	struct seen *s = calloc(1, sizeof(*s));
	int fd = make_map(), n;

	assert_non_null(s);
	if (fd < 0) {
		free(s);
		skip();
	}
	w = fog_map_walk__new(sizeof(__u32), sizeof(struct val), ncpu, true, batch);
	assert_non_null(w);
	s->ncpu = ncpu;
	s->fd = fd;
	s->delete_odd = delete_odd;
	s->values_ok = true;

	n = fog_map_walk(w, fd, on_entry, s);
	assert_int_equal(n, N_KEYS);
	assert_true(s->values_ok);
	for (unsigned int k = 0; k < N_KEYS; k++)
		assert_int_equal(s->count[k], 1);

	/* a second walk sees what is left: the even keys when the odd were deleted */
	memset(s->count, 0, sizeof(s->count));
	n = fog_map_walk(w, fd, on_entry, s);
	assert_int_equal(n, delete_odd ? N_KEYS / 2 : N_KEYS);
	for (unsigned int k = 0; k < N_KEYS; k++)
		assert_int_equal(s->count[k], delete_odd && (k & 1) ? 0 : 1);

	fog_map_walk__free(w);
	close(fd);
	free(s);
}

static void test_batches(void **state)
{
	walk_all(FOG_MAP_WALK_BATCH, false);
}

static void test_delete_from_callback(void **state)
{
	walk_all(FOG_MAP_WALK_BATCH, true);
}

/* with 1,000 keys in 1,024 buckets some buckets hold two: a batch of 1 overflows them */
static void test_bucket_larger_than_batch(void **state)
{
	walk_all(1, false);
}

static void test_empty_and_bad(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct fog_map_walk *w = fog_map_walk__new(sizeof(__u32), sizeof(struct val), ncpu, true, 8);
	struct seen s = { .ncpu = ncpu, .values_ok = true };
	int fd;

	assert_non_null(w);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "fog_walk_empty", sizeof(__u32),
			    sizeof(struct val), 16, &opts);
	if (fd < 0) {
		fog_map_walk__free(w);
		skip();
	}
	assert_int_equal(fog_map_walk(w, fd, on_entry, &s), 0);
	close(fd);
	assert_true(fog_map_walk(w, fd, on_entry, &s) < 0); /* a closed fd */
	fog_map_walk__free(w);

	errno = 0;
	assert_null(fog_map_walk__new(0, 8, ncpu, true, 8));
	assert_int_equal(errno, EINVAL);
	assert_null(fog_map_walk__new(4, 8, ncpu, true, 0));
}

static int setup(void **state)
{
	ncpu = libbpf_num_possible_cpus();
	return ncpu > 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_delete_from_callback),
		cmocka_unit_test(test_bucket_larger_than_batch),
		cmocka_unit_test(test_empty_and_bad),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
