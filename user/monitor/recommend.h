/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capacity recommendations from sustained patterns in a window of samples:
 * a quantile held at or above a threshold (CPU, run-queue latency) and
 * memory growth that reaches a limit within a horizon. Each names the
 * figures it rests on.
 */
#ifndef FOG_MONITOR_RECOMMEND_H
#define FOG_MONITOR_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include "fog/monitor.h"

/* Share of the window the samples must span before a pattern counts. */
#define FOG_REC_COVERAGE 0.9

/*
 * Checks a sustained rule against the samples t, v (n of them, oldest first,
 * the window's worth; v is reordered). Returns true and fills out when it holds.
 */
bool fog_recommend_sustained(enum fog_recommendation_kind kind, enum fog_monitor_resource r,
			     const struct fog_monitor_sustained_rule *rule, const double *t,
			     double *v, size_t n, struct fog_recommendation *out);

/*
 * Checks the memory growth rule: a trend increasing at significance alpha
 * whose line reaches rule->limit within rule->horizon_seconds.
 */
bool fog_recommend_growth(const struct fog_monitor_growth_rule *rule, double alpha, const double *t,
			  const double *v, size_t n, struct fog_recommendation *out);

#endif /* FOG_MONITOR_RECOMMEND_H */
