/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sorting in place, without allocating: glibc's qsort takes a malloc'd buffer
 * for arrays over 1 KiB (a merge sort), so a tick that sorts 128 processes
 * would allocate on every pass. fog_sort is a heap sort: O(n log n) in the
 * worst case, no memory beyond one element on the stack, not stable (equal
 * elements may come in any order: comparators break their own ties).
 */
#ifndef FOG_SORT_H
#define FOG_SORT_H

#include <stddef.h>

/* Elements up to this size are swapped through the stack. */
#define FOG_SORT_MAX_SIZE 512

/* As qsort; size at most FOG_SORT_MAX_SIZE (larger ones are left unsorted). */
void fog_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif /* FOG_SORT_H */
