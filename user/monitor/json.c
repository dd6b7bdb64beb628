// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>

#include "monitor/format.h"
#include "monitor/json.h"

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *when(double t)
{
	char buf[40];

	return fog_monitor_format_time(buf, sizeof(buf), t) ? json_null() : json_string(buf);
}

static const char *unit(enum fog_monitor_resource r)
{
	return fog_monitor_resource_unit(r) == FOG_MONITOR_FRACTION ? "fraction" : "seconds";
}

json_t *fog_monitor_status_json(const struct fog_alert_status *s)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:{s:f, s:f, s:f, s:f}}",
			 "resource", fog_monitor_resource_name(s->resource), "unit",
			 unit(s->resource), "level", fog_alert_level_name(s->level), "pending",
			 fog_alert_level_name(s->pending), "pending_since", when(s->pending_since),
			 "since", when(s->since), "value", num(s->value), "updated_at",
			 when(s->updated_at), "threshold", "warning", s->threshold.warning,
			 "critical", s->threshold.critical, "for_seconds", s->threshold.for_seconds,
			 "hysteresis", s->threshold.hysteresis);

	if (j && s->id)
		json_object_set_new(j, "id", json_integer((json_int_t)s->id));
	if (j && s->profile_url[0])
		json_object_set_new(j, "profile_url", json_string(s->profile_url));
	return j;
}

json_t *fog_monitor_trend_json(const struct fog_trend *t)
{
	json_t *j = json_pack(
		"{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "resource",
		fog_monitor_resource_name(t->resource), "unit", unit(t->resource), "direction",
		fog_trend_direction_name(t->direction), "samples", (json_int_t)t->samples,
		"span_seconds", num(t->span_seconds), "slope_per_second", num(t->slope),
		"slope_per_hour", num(t->slope * 3600), "slope_stderr", num(t->slope_stderr), "t",
		num(t->t), "p_value", num(t->p_value), "mean", num(t->mean), "last", num(t->last));

	if (!j)
		return NULL;
	json_object_set_new(j, "fitted", num(t->fitted));
	json_object_set_new(j, "target", num(t->target));
	json_object_set_new(j, "eta_seconds", num(t->eta_seconds));
	json_object_set_new(j, "forecast", t->forecast[0] ? json_string(t->forecast) : json_null());
	return j;
}

json_t *fog_monitor_recommendation_json(const struct fog_recommendation *r)
{
	json_t *ev = json_array();

	for (unsigned int i = 0; ev && i < r->n_evidence; i++)
		json_array_append_new(ev, json_pack("{s:s, s:o, s:s}", "name", r->evidence[i].name,
						    "value", num(r->evidence[i].value), "unit",
						    r->evidence[i].unit));
	return json_pack("{s:s, s:s, s:s, s:s, s:o*}", "kind",
			 fog_recommendation_kind_name(r->kind), "resource",
			 fog_monitor_resource_name(r->resource), "summary", r->summary, "action",
			 r->action, "evidence", ev);
}

json_t *fog_monitor_alerts_json(struct fog_monitor *mon)
{
	struct fog_alert_status st[FOG_MONITOR_RESOURCES];
	int n = fog_monitor__alerts(mon, st, FOG_MONITOR_RESOURCES);
	json_t *arr = json_array();

	for (int i = 0; arr && i < n; i++)
		json_array_append_new(arr, fog_monitor_status_json(&st[i]));
	return json_pack("{s:o*}", "alerts", arr);
}

json_t *fog_monitor_trends_json(struct fog_monitor *mon)
{
	json_t *arr = json_array();
	double window, alpha;

	for (int r = 0; arr && r < FOG_MONITOR_RESOURCES; r++) {
		struct fog_trend t;

		if (!fog_monitor__trend(mon, (enum fog_monitor_resource)r, &t))
			json_array_append_new(arr, fog_monitor_trend_json(&t));
	}
	fog_monitor__trend_settings(mon, &window, &alpha);
	return json_pack("{s:f, s:f, s:o*}", "window_seconds", window, "alpha", alpha, "trends",
			 arr);
}

json_t *fog_monitor_recommendations_json(struct fog_monitor *mon)
{
	struct fog_recommendation recs[8];
	int n = fog_monitor__recommendations(mon, recs, 8);
	json_t *arr = json_array();

	for (int i = 0; arr && i < n; i++)
		json_array_append_new(arr, fog_monitor_recommendation_json(&recs[i]));
	return json_pack("{s:o*}", "recommendations", arr);
}

json_t *fog_monitor_latest_json(struct fog_monitor *mon)
{
	struct fog_monitor_sample s;
	json_t *values = json_object();
	double at = NAN;

	if (!fog_monitor__latest(mon, &s, &at)) {
		for (int r = 0; values && r < FOG_MONITOR_RESOURCES; r++) {
			if (!isnan(s.value[r]))
				json_object_set_new(values, fog_monitor_resource_name(r),
						    json_real(s.value[r]));
		}
	}
	return json_pack("{s:o, s:o*}", "at", when(at), "values", values);
}

json_t *fog_monitor_stats_json(struct fog_monitor *mon)
{
	struct fog_monitor_stats s;

	fog_monitor__stats(mon, &s);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "observations",
			 (json_int_t)s.observations, "alerts_fired", (json_int_t)s.alerts_fired,
			 "alerts_resolved", (json_int_t)s.alerts_resolved, "hooks_run",
			 (json_int_t)s.hooks_run, "hooks_failed", (json_int_t)s.hooks_failed,
			 "hooks_killed", (json_int_t)s.hooks_killed, "hooks_dropped",
			 (json_int_t)s.hooks_dropped, "posts_sent", (json_int_t)s.posts_sent,
			 "posts_retried", (json_int_t)s.posts_retried, "posts_failed",
			 (json_int_t)s.posts_failed, "posts_dropped", (json_int_t)s.posts_dropped);
}
