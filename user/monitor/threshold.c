// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "monitor/format.h"
#include "monitor/threshold.h"

int fog_threshold_check(enum fog_monitor_resource r, const struct fog_threshold *t,
			double approach_ratio, char *err, size_t errlen)
{
	const char *name = fog_monitor_resource_name(r);
	const struct {
		const char *what;
		double v;
	} figs[] = {
		{ "warning", t->warning },
		{ "critical", t->critical },
		{ "for", t->for_seconds },
		{ "hysteresis", t->hysteresis },
	};

	if ((unsigned int)r >= FOG_MONITOR_RESOURCES) {
		snprintf(err, errlen, "unknown resource %d", (int)r);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		if (!isfinite(figs[i].v)) {
			snprintf(err, errlen,
				 "%s %s threshold setting is %g: must be a finite number", name,
				 figs[i].what, figs[i].v);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < 2; i++) {
		double v = figs[i].v;

		if (v <= 0) {
			snprintf(err, errlen, "%s %s threshold %g must be above 0", name,
				 figs[i].what, v);
			return -EINVAL;
		}
		if (fog_monitor_resource_unit(r) == FOG_MONITOR_FRACTION && v > 1) {
			snprintf(err, errlen,
				 "%s %s threshold %g is out of range: %s is a fraction 0..1%s",
				 name, figs[i].what, v, name,
				 v <= 100 ? " (a percentage? divide it by 100)" : "");
			return -EINVAL;
		}
	}
	if (t->critical < t->warning) {
		snprintf(err, errlen, "%s critical threshold %g is below the warning threshold %g",
			 name, t->critical, t->warning);
		return -EINVAL;
	}
	if (t->for_seconds < 0) {
		snprintf(err, errlen, "%s for duration %g s is negative", name, t->for_seconds);
		return -EINVAL;
	}
	if (t->hysteresis < 0) {
		snprintf(err, errlen, "%s hysteresis %g is negative", name, t->hysteresis);
		return -EINVAL;
	}
	if (t->hysteresis >= approach_ratio * t->warning) {
		snprintf(err, errlen,
			 "%s hysteresis %g is not below the level where warning starts (%g): the "
			 "alert could never clear",
			 name, t->hysteresis, approach_ratio * t->warning);
		return -EINVAL;
	}
	return 0;
}

void fog_threshold_init(struct fog_threshold_state *s, const struct fog_threshold *t,
			double approach_ratio)
{
	memset(s, 0, sizeof(*s));
	s->configured = true;
	s->cfg = *t;
	s->approach_ratio = approach_ratio;
	s->level = FOG_ALERT_INFO;
	s->since = NAN;
	s->started_at = NAN;
	for (int l = 0; l < FOG_ALERT_LEVELS; l++)
		s->above_since[l] = NAN;
	s->value = NAN;
	s->updated_at = NAN;
}

double fog_threshold_of(const struct fog_threshold_state *s, enum fog_alert_level l)
{
	switch (l) {
	case FOG_ALERT_WARNING:
		return s->approach_ratio * s->cfg.warning;
	case FOG_ALERT_ERROR:
		return s->cfg.warning;
	case FOG_ALERT_CRITICAL:
		return s->cfg.critical;
	default:
		return NAN;
	}
}

static void describe(struct fog_alert *ev, const struct fog_threshold_state *s)
{
	char v[32], thr[32], warn[32];

	fog_monitor_format_value(v, sizeof(v), ev->resource, ev->value);
	fog_monitor_format_value(thr, sizeof(thr), ev->resource, ev->threshold);
	fog_monitor_format_value(warn, sizeof(warn), ev->resource, s->cfg.warning);
	switch (ev->level) {
	case FOG_ALERT_INFO:
		snprintf(ev->summary, sizeof(ev->summary), "%s at %s is back to normal (below %s)",
			 fog_monitor_resource_name(ev->resource), v, thr);
		break;
	case FOG_ALERT_WARNING:
		snprintf(ev->summary, sizeof(ev->summary),
			 "%s at %s is approaching the warning threshold %s",
			 fog_monitor_resource_name(ev->resource), v, warn);
		break;
	case FOG_ALERT_ERROR:
	case FOG_ALERT_CRITICAL:
		snprintf(ev->summary, sizeof(ev->summary), "%s at %s is above the %s threshold %s",
			 fog_monitor_resource_name(ev->resource), v,
			 ev->level == FOG_ALERT_ERROR ? "warning" : "critical", thr);
		break;
	default:
		break;
	}
}

static void change(struct fog_threshold_state *s, enum fog_monitor_resource r, double now, double v,
		   enum fog_alert_level to, struct fog_alert *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->resource = r;
	ev->level = to;
	ev->previous = s->level;
	ev->resolved = to == FOG_ALERT_INFO;
	ev->value = v;
	ev->threshold = fog_threshold_of(s, ev->resolved ? s->level : to);
	ev->at = now;
	if (s->level == FOG_ALERT_INFO)
		s->started_at = s->above_since[to];
	ev->started_at = s->started_at;
	s->since = ev->resolved ? now : s->above_since[to];
	ev->since = s->since;
	s->level = to;
	if (ev->resolved)
		s->started_at = NAN;
	describe(ev, s);
}

bool fog_threshold_step(struct fog_threshold_state *s, enum fog_monitor_resource r, double now,
			double v, struct fog_alert *ev)
{
	enum fog_alert_level to = FOG_ALERT_INFO;

	s->value = v;
	s->updated_at = now;
	/*
	 * Each level holds while the value is at or above its threshold; a level
	 * already fired keeps holding down to its threshold minus hysteresis.
	 */
	for (int l = FOG_ALERT_WARNING; l < FOG_ALERT_LEVELS; l++) {
		double thr = fog_threshold_of(s, (enum fog_alert_level)l);

		if (l <= (int)s->level)
			thr -= s->cfg.hysteresis;
		if (v >= thr) {
			if (isnan(s->above_since[l]))
				s->above_since[l] = now;
		} else {
			s->above_since[l] = NAN;
		}
	}
	/* a fired level stays without waiting; a higher one waits out `for` */
	for (int l = FOG_ALERT_LEVELS - 1; l > FOG_ALERT_INFO; l--) {
		if (isnan(s->above_since[l]))
			continue;
		if (l <= (int)s->level || now - s->above_since[l] >= s->cfg.for_seconds) {
			to = (enum fog_alert_level)l;
			break;
		}
	}
	if (to == s->level)
		return false;
	change(s, r, now, v, to, ev);
	return true;
}

bool fog_threshold_resolve(struct fog_threshold_state *s, enum fog_monitor_resource r, double now,
			   struct fog_alert *ev)
{
	if (s->level == FOG_ALERT_INFO)
		return false;
	change(s, r, now, s->value, FOG_ALERT_INFO, ev);
	return true;
}

void fog_threshold_status(const struct fog_threshold_state *s, enum fog_monitor_resource r,
			  struct fog_alert_status *out)
{
	memset(out, 0, sizeof(*out));
	out->resource = r;
	out->threshold = s->cfg;
	out->level = s->level;
	out->pending = s->level;
	out->pending_since = NAN;
	for (int l = FOG_ALERT_LEVELS - 1; l > (int)s->level; l--) {
		if (!isnan(s->above_since[l])) {
			out->pending = (enum fog_alert_level)l;
			out->pending_since = s->above_since[l];
			break;
		}
	}
	out->since = s->since;
	out->value = s->value;
	out->updated_at = s->updated_at;
	if (s->level != FOG_ALERT_INFO) {
		out->id = s->id;
		snprintf(out->profile_url, sizeof(out->profile_url), "%s", s->profile_url);
	}
}
