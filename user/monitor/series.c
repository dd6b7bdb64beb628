// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/sort.h"
#include "monitor/series.h"

int fog_series_init(struct fog_series *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	if (!cap)
		return -EINVAL;
	s->t = calloc(cap, sizeof(*s->t));
	s->v = calloc(cap, sizeof(*s->v));
	if (!s->t || !s->v) {
		fog_series_release(s);
		return -ENOMEM;
	}
	s->cap = cap;
	return 0;
}

void fog_series_release(struct fog_series *s)
{
	free(s->t);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void fog_series_push(struct fog_series *s, double t, double v)
{
	s->t[s->head] = t;
	s->v[s->head] = v;
	s->head = (s->head + 1) % s->cap;
	if (s->len < s->cap)
		s->len++;
}

size_t fog_series_window(const struct fog_series *s, double since, double *t, double *v)
{
	size_t n = 0, first;

	/* times only grow, so walk back from the newest until one is too old */
	while (n < s->len) {
		size_t i = (s->head + s->cap - 1 - n) % s->cap;

		if (s->t[i] < since)
			break;
		n++;
	}
	first = (s->head + s->cap - n) % s->cap;
	for (size_t k = 0; k < n; k++) {
		size_t i = (first + k) % s->cap;

		t[k] = s->t[i];
		v[k] = s->v[i];
	}
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double fog_quantile(double *v, size_t n, double q)
{
	double h, lo;
	size_t i;

	if (!n || !(q > 0 && q <= 1))
		return NAN;
	fog_sort(v, n, sizeof(*v), cmp_double);
	h = (double)(n - 1) * q;
	i = (size_t)floor(h);
	lo = v[i];
	if (i + 1 >= n)
		return lo;
	return lo + (h - (double)i) * (v[i + 1] - lo);
}
