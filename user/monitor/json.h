/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monitor's state as JSON, for fogd's API (/api/v1/alerts, /trends,
 * /recommendations) and fogctl. Times are RFC 3339 strings in UTC; figures
 * are in the resource's unit ("unit": "fraction" or "seconds"); a figure not
 * known is null.
 */
#ifndef FOG_MONITOR_JSON_H
#define FOG_MONITOR_JSON_H

#include <jansson.h>
#include "fog/monitor.h"

/* {"resource", "unit", "level", "pending", "pending_since", "since", "value", "updated_at",
 *  "threshold": {"warning", "critical", "for_seconds", "hysteresis"}} */
json_t *fog_monitor_status_json(const struct fog_alert_status *s);

/* {"resource", "unit", "direction", "samples", "span_seconds", "slope_per_second",
 *  "slope_per_hour", "slope_stderr", "t", "p_value", "mean", "last", "fitted",
 *  "target", "eta_seconds", "forecast"} */
json_t *fog_monitor_trend_json(const struct fog_trend *t);

/* {"kind", "resource", "summary", "action", "evidence": [{"name", "value", "unit"}]} */
json_t *fog_monitor_recommendation_json(const struct fog_recommendation *r);

/* {"alerts": [status...]} */
json_t *fog_monitor_alerts_json(struct fog_monitor *mon);
/* {"window_seconds", "alpha", "trends": [trend...]}: resources with enough samples */
json_t *fog_monitor_trends_json(struct fog_monitor *mon);
/* {"recommendations": [recommendation...]} */
json_t *fog_monitor_recommendations_json(struct fog_monitor *mon);
/* {"at", "values": {"cpu": 0.42, ...}} or {"at": null, "values": {}} before any sample */
json_t *fog_monitor_latest_json(struct fog_monitor *mon);
/* {"observations", "alerts_fired", ..., "posts_dropped"} */
json_t *fog_monitor_stats_json(struct fog_monitor *mon);

/* The trend window and alpha the monitor was made with (for the trends JSON). */
void fog_monitor__trend_settings(struct fog_monitor *mon, double *window_seconds, double *alpha);

#endif /* FOG_MONITOR_JSON_H */
