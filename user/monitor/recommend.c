// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "monitor/format.h"
#include "monitor/recommend.h"
#include "monitor/series.h"
#include "monitor/trend.h"

static void evidence(struct fog_recommendation *rec, const char *name, double value,
		     const char *unit)
{
	struct fog_evidence *e;

	if (rec->n_evidence >= FOG_REC_EVIDENCE)
		return;
	e = &rec->evidence[rec->n_evidence++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->value = value;
	snprintf(e->unit, sizeof(e->unit), "%s", unit);
}

static const char *unit_name(enum fog_monitor_resource r)
{
	return fog_monitor_resource_unit(r) == FOG_MONITOR_FRACTION ? "fraction" : "seconds";
}

static bool covered(const double *t, size_t n, double window)
{
	return n >= 3 && t[n - 1] - t[0] >= FOG_REC_COVERAGE * window;
}

static const char *what(enum fog_recommendation_kind kind)
{
	switch (kind) {
	case FOG_REC_CPU_SATURATED:
		return "cpu utilization";
	case FOG_REC_RUNQ_LATENCY:
		return "run-queue latency";
	default:
		return "value";
	}
}

static const char *advice(enum fog_recommendation_kind kind)
{
	switch (kind) {
	case FOG_REC_CPU_SATURATED:
		return "add CPU capacity to this host or move work off it";
	case FOG_REC_RUNQ_LATENCY:
		return "tasks wait for a CPU: add CPUs, lower CPU oversubscription or spread work "
		       "over more hosts";
	case FOG_REC_MEMORY_EXHAUSTION:
		return "add memory or cap the growing workloads; a steady climb can also be a leak";
	}
	return "";
}

bool fog_recommend_sustained(enum fog_recommendation_kind kind, enum fog_monitor_resource r,
			     const struct fog_monitor_sustained_rule *rule, const double *t,
			     double *v, size_t n, struct fog_recommendation *out)
{
	double sum = 0, max = -INFINITY, above = 0, span, qv;
	char qname[16], sv[32], st[32], sw[48];

	if (!covered(t, n, rule->window_seconds))
		return false;
	span = t[n - 1] - t[0];
	for (size_t i = 0; i < n; i++) {
		sum += v[i];
		max = fmax(max, v[i]);
		above += v[i] >= rule->threshold;
	}
	qv = fog_quantile(v, n, rule->quantile);
	if (!(qv >= rule->threshold))
		return false;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->resource = r;
	snprintf(qname, sizeof(qname), "p%g", rule->quantile * 100);
	fog_monitor_format_value(sv, sizeof(sv), r, qv);
	fog_monitor_format_value(st, sizeof(st), r, rule->threshold);
	fog_monitor_format_duration(sw, sizeof(sw), span);
	snprintf(out->summary, sizeof(out->summary),
		 "%s %s of %s over the last %s is at or above %s", what(kind), qname, sv, sw, st);
	snprintf(out->action, sizeof(out->action), "%s", advice(kind));
	evidence(out, qname, qv, unit_name(r));
	evidence(out, "threshold", rule->threshold, unit_name(r));
	evidence(out, "mean", sum / (double)n, unit_name(r));
	evidence(out, "max", max, unit_name(r));
	evidence(out, "share_at_or_above", above / (double)n, "fraction");
	evidence(out, "span_seconds", span, "seconds");
	evidence(out, "samples", (double)n, "samples");
	return true;
}

bool fog_recommend_growth(const struct fog_monitor_growth_rule *rule, double alpha, const double *t,
			  const double *v, size_t n, struct fog_recommendation *out)
{
	struct fog_fit f;
	double eta;
	char rate[32], lim[32], when[48];

	if (!covered(t, n, rule->window_seconds) || fog_trend_fit(t, v, n, &f))
		return false;
	if (fog_trend_classify(&f, alpha, 0) != FOG_TREND_INCREASING)
		return false;
	eta = f.fitted_last >= rule->limit ? 0 : (rule->limit - f.fitted_last) / f.slope;
	if (eta > rule->horizon_seconds)
		return false;

	memset(out, 0, sizeof(*out));
	out->kind = FOG_REC_MEMORY_EXHAUSTION;
	out->resource = FOG_MONITOR_MEMORY;
	fog_monitor_format_value(rate, sizeof(rate), FOG_MONITOR_MEMORY, f.slope * 3600);
	fog_monitor_format_value(lim, sizeof(lim), FOG_MONITOR_MEMORY, rule->limit);
	if (eta > 0) {
		fog_monitor_format_duration(when, sizeof(when), eta);
		snprintf(out->summary, sizeof(out->summary),
			 "memory use grows %s per hour (p = %.2g) and reaches %s in about %s", rate,
			 f.p_value, lim, when);
	} else {
		snprintf(out->summary, sizeof(out->summary),
			 "memory use grows %s per hour (p = %.2g) and has reached %s", rate,
			 f.p_value, lim);
	}
	snprintf(out->action, sizeof(out->action), "%s", advice(FOG_REC_MEMORY_EXHAUSTION));
	evidence(out, "used", v[n - 1], "fraction");
	evidence(out, "slope_per_hour", f.slope * 3600, "fraction_per_hour");
	evidence(out, "p_value", f.p_value, "probability");
	evidence(out, "eta_seconds", eta, "seconds");
	evidence(out, "limit", rule->limit, "fraction");
	evidence(out, "horizon_seconds", rule->horizon_seconds, "seconds");
	evidence(out, "span_seconds", t[n - 1] - t[0], "seconds");
	evidence(out, "samples", (double)n, "samples");
	return true;
}
