/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trends: an ordinary least-squares line through a window of samples, a
 * t-test on its slope to tell a trend from noise, and the time the line takes
 * to reach a threshold.
 */
#ifndef FOG_MONITOR_TREND_H
#define FOG_MONITOR_TREND_H

#include <stddef.h>
#include "fog/monitor.h"

struct fog_fit {
	size_t n;
	double slope;	     /* units per second */
	double slope_stderr; /* 0 when the points lie exactly on the line */
	double t;	     /* slope / slope_stderr; +-INFINITY for an exact nonzero line */
	double p_value;	     /* two-sided */
	double mean;
	double t_first, t_last;
	double fitted_last; /* the line at t_last */
};

/*
 * Fits v = a + b * t over n >= 3 points. -EINVAL when n < 3 or all times are
 * equal (no slope defined).
 */
int fog_trend_fit(const double *t, const double *v, size_t n, struct fog_fit *out);

/* Two-sided p-value of Student's t statistic with df > 0 degrees of freedom. */
double fog_student_t_p2(double t, double df);

/* The regularized incomplete beta function I_x(a, b), 0 <= x <= 1, a, b > 0. */
double fog_incbeta(double x, double a, double b);

/*
 * Increasing or decreasing when the slope differs from 0 at significance
 * level alpha and changes the line by at least min_change over the span;
 * stable otherwise.
 */
enum fog_trend_direction fog_trend_classify(const struct fog_fit *f, double alpha,
					    double min_change);

/*
 * Fills out from a fit: direction, figures and, for an increasing trend
 * whose line is still below target, the time until it gets there and the
 * forecast text "memory reaches 95% in about 3 h 10 min". target NAN: none.
 */
void fog_trend_describe(struct fog_trend *out, enum fog_monitor_resource r, const struct fog_fit *f,
			double last, double alpha, double min_change, double target);

/* "memory reaches 95% in about 3 h 10 min" */
void fog_trend_forecast_text(char *buf, size_t len, enum fog_monitor_resource r, double target,
			     double eta_seconds);

#endif /* FOG_MONITOR_TREND_H */
