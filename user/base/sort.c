// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "base/sort.h"

static void swap(char *a, char *b, size_t size)
{
	char t[FOG_SORT_MAX_SIZE];

	memcpy(t, a, size);
	memcpy(a, b, size);
	memcpy(b, t, size);
}

/* Moves the element at i down the max-heap of n elements until both children are smaller. */
static void sift_down(char *v, size_t i, size_t n, size_t size,
		      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * i + 1, big = i;

		if (child < n && cmp(v + child * size, v + big * size) > 0)
			big = child;
		if (child + 1 < n && cmp(v + (child + 1) * size, v + big * size) > 0)
			big = child + 1;
		if (big == i)
			return;
		swap(v + i * size, v + big * size, size);
		i = big;
	}
}

void fog_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *v = base;

	if (n < 2 || !size || size > FOG_SORT_MAX_SIZE)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(v, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap(v, v + end * size, size);
		sift_down(v, 0, end, size, cmp);
	}
}
