/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bounded time series: a ring of (time, value) pairs sized at creation, so
 * appending never allocates. The oldest pair is overwritten when it is full.
 */
#ifndef FOG_MONITOR_SERIES_H
#define FOG_MONITOR_SERIES_H

#include <stddef.h>

struct fog_series {
	double *t;   /* sample times, epoch seconds */
	double *v;   /* sample values */
	size_t cap;  /* slots */
	size_t head; /* slot the next sample goes to */
	size_t len;  /* samples held, <= cap */
};

/* Allocates cap slots; -ENOMEM. */
int fog_series_init(struct fog_series *s, size_t cap);
void fog_series_release(struct fog_series *s);
void fog_series_push(struct fog_series *s, double t, double v);

/*
 * Copies the samples with time >= since into t and v (oldest first, each
 * with room for s->cap) and returns how many.
 */
size_t fog_series_window(const struct fog_series *s, double since, double *t, double *v);

/*
 * The q-quantile (0 < q <= 1) of v[0..n) by linear interpolation between
 * closest ranks (type 7 of Hyndman and Fan, "Sample Quantiles in Statistical
 * Packages", 1996; what R and numpy use by default). Sorts v in place. NAN
 * when n is 0.
 */
double fog_quantile(double *v, size_t n, double q);

#endif /* FOG_MONITOR_SERIES_H */
