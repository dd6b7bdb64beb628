// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "monitor/format.h"
#include "monitor/trend.h"

/*
 * Ordinary least squares with the slope's t-test as in any regression text
 * (e.g. Montgomery, Peck and Vining, "Introduction to Linear Regression
 * Analysis", 5th ed., sections 2.2-2.3):
 *   b = Sxy / Sxx, s^2 = SSE / (n - 2), se(b) = s / sqrt(Sxx), t = b / se(b)
 * with n - 2 degrees of freedom. Times are centred on their mean so epoch
 * seconds keep their precision. The test assumes independent errors; host
 * samples are autocorrelated, which makes it optimistic, so callers can also
 * ask for a minimum change (trend_min_change).
 */
int fog_trend_fit(const double *t, const double *v, size_t n, struct fog_fit *out)
{
	double tm = 0, vm = 0, sxx = 0, sxy = 0, sse = 0, b, a;

	memset(out, 0, sizeof(*out));
	if (n < 3)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		tm += t[i];
		vm += v[i];
	}
	tm /= (double)n;
	vm /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double dt = t[i] - tm;

		sxx += dt * dt;
		sxy += dt * (v[i] - vm);
	}
	if (!(sxx > 0))
		return -EINVAL;
	b = sxy / sxx;
	a = vm; /* the line at the mean time */
	for (size_t i = 0; i < n; i++) {
		double r = v[i] - (a + b * (t[i] - tm));

		sse += r * r;
	}
	out->n = n;
	out->slope = b;
	out->mean = vm;
	out->t_first = t[0];
	out->t_last = t[n - 1];
	out->fitted_last = a + b * (t[n - 1] - tm);
	out->slope_stderr = sqrt(sse / (double)(n - 2) / sxx);
	/*
	 * A residual that is rounding noise against the values means an exact
	 * line: its slope is certain.
	 */
	if (out->slope_stderr * sqrt(sxx) <= 1e-12 * (fabs(vm) + fabs(b) * sqrt(sxx))) {
		out->slope_stderr = 0;
		out->t = b == 0 ? 0 : copysign(INFINITY, b);
		out->p_value = b == 0 ? 1 : 0;
		return 0;
	}
	out->t = b / out->slope_stderr;
	out->p_value = fog_student_t_p2(out->t, (double)(n - 2));
	return 0;
}

/*
 * The continued fraction of the incomplete beta function (DLMF 8.17.22):
 *   I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...)))
 *   d(2m + 1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
 *   d(2m)     = m (b - m) x / ((a + 2m - 1)(a + 2m))
 * evaluated with the modified Lentz method (Thompson and Barnett, J. Comput.
 * Phys. 64, 1986). It converges fast for x < (a + 1) / (a + b + 2); the
 * symmetry I_x(a, b) = 1 - I_(1-x)(b, a) covers the rest.
 */
static double incbeta_cf(double x, double a, double b)
{
	const double tiny = 1e-30;
	double f = tiny, c = tiny, d = 0;

	/* b0 = 0, then partial numerators 1, d1, d2, ... over denominators 1 */
	for (int j = 1; j <= 500; j++) {
		double num, delta;
		int k = j - 1;

		if (k == 0) {
			num = 1;
		} else if (k % 2) {
			int m = (k - 1) / 2;

			num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		} else {
			int m = k / 2;

			num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		}
		d = 1 + num * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + num / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		delta = c * d;
		f *= delta;
		if (fabs(delta - 1) < 1e-15)
			break;
	}
	return f;
}

double fog_incbeta(double x, double a, double b)
{
	double front;

	if (!(x >= 0 && x <= 1) || !(a > 0) || !(b > 0))
		return NAN;
	if (x == 0 || x == 1)
		return x;
	if (x > (a + 1) / (a + b + 2))
		return 1 - fog_incbeta(1 - x, b, a);
	front = exp(a * log(x) + b * log1p(-x) - (lgamma(a) + lgamma(b) - lgamma(a + b))) / a;
	return front * incbeta_cf(x, a, b);
}

/*
 * P(|T| >= |t|) for Student's t with df degrees of freedom:
 * I_(df / (df + t^2))(df / 2, 1 / 2) (Abramowitz and Stegun 26.7.1 with 26.5.27).
 */
double fog_student_t_p2(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return 0;
	return fog_incbeta(df / (df + t * t), df / 2, 0.5);
}

enum fog_trend_direction fog_trend_classify(const struct fog_fit *f, double alpha,
					    double min_change)
{
	double change = f->slope * (f->t_last - f->t_first);

	if (!(f->p_value < alpha) || fabs(change) < min_change || f->slope == 0)
		return FOG_TREND_STABLE;
	return f->slope > 0 ? FOG_TREND_INCREASING : FOG_TREND_DECREASING;
}

void fog_trend_forecast_text(char *buf, size_t len, enum fog_monitor_resource r, double target,
			     double eta)
{
	char v[32], d[48];

	fog_monitor_format_value(v, sizeof(v), r, target);
	if (eta < 30) {
		snprintf(buf, len, "%s reaches %s in less than a minute",
			 fog_monitor_resource_name(r), v);
		return;
	}
	fog_monitor_format_duration(d, sizeof(d), eta);
	snprintf(buf, len, "%s reaches %s in about %s", fog_monitor_resource_name(r), v, d);
}

void fog_trend_describe(struct fog_trend *out, enum fog_monitor_resource r, const struct fog_fit *f,
			double last, double alpha, double min_change, double target)
{
	memset(out, 0, sizeof(*out));
	out->resource = r;
	out->direction = fog_trend_classify(f, alpha, min_change);
	out->samples = (unsigned int)f->n;
	out->span_seconds = f->t_last - f->t_first;
	out->slope = f->slope;
	out->slope_stderr = f->slope_stderr;
	out->t = f->t;
	out->p_value = f->p_value;
	out->mean = f->mean;
	out->last = last;
	out->fitted = f->fitted_last;
	out->target = NAN;
	out->eta_seconds = NAN;
	if (out->direction != FOG_TREND_INCREASING || !isfinite(target) || f->fitted_last >= target)
		return;
	out->target = target;
	out->eta_seconds = (target - f->fitted_last) / f->slope;
	fog_trend_forecast_text(out->forecast, sizeof(out->forecast), r, target, out->eta_seconds);
}
