// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/sort.h"

struct rec {
	unsigned long key;
	char pad[20];	/* an odd size, as the tables' records */
};

static int cmp_rec(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

/* Against qsort, on random, sorted, reversed and constant arrays of many lengths. */
static void test_sorts_as_qsort(void **state)
{
	unsigned int seed = 7;

	for (size_t n = 0; n < 700; n += n < 20 ? 1 : 37) {
		for (int shape = 0; shape < 4; shape++) {
			struct rec *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));

			assert_non_null(a);
			assert_non_null(b);
			for (size_t i = 0; i < n; i++) {
				a[i].key = shape == 0 ? (unsigned long)rand_r(&seed) % 50 :
					   shape == 1 ? i : shape == 2 ? n - i : 3;
				a[i].pad[0] = (char)a[i].key;
			}
			memcpy(b, a, n * sizeof(*a));
			fog_sort(a, n, sizeof(*a), cmp_rec);
			qsort(b, n, sizeof(*b), cmp_rec);
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(a[i].key, b[i].key);
				assert_int_equal(a[i].pad[0], (char)a[i].key);	/* records moved whole */
			}
			free(a);
			free(b);
		}
	}
}

/* Without allocating: a large array sorts although malloc would fail (checked by size here). */
static void test_large_in_place(void **state)
{
	size_t n = 100000;
	unsigned long *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = (i * 2654435761u) % 1000003;
	fog_sort(v, n, sizeof(*v), cmp_ulong);
	for (size_t i = 1; i < n; i++)
		assert_true(v[i - 1] <= v[i]);
	free(v);
}

static void test_oversized_left_alone(void **state)
{
	static char big[2][FOG_SORT_MAX_SIZE + 1];

	big[0][0] = 2;
	big[1][0] = 1;
	fog_sort(big, 2, sizeof(big[0]), cmp_ulong);
	assert_int_equal(big[0][0], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorts_as_qsort),
		cmocka_unit_test(test_large_in_place),
		cmocka_unit_test(test_oversized_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
