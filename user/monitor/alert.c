// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "monitor/alert.h"
#include "monitor/format.h"

static json_t *time_or_null(double t)
{
	char buf[40];

	if (fog_monitor_format_time(buf, sizeof(buf), t))
		return json_null();
	return json_string(buf);
}

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static const char *unit_name(enum fog_monitor_resource r)
{
	return fog_monitor_resource_unit(r) == FOG_MONITOR_FRACTION ? "fraction" : "seconds";
}

json_t *fog_alert_json(const struct fog_alert *a)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:s}", "resource",
			 fog_monitor_resource_name(a->resource), "level",
			 fog_alert_level_name(a->level), "previous",
			 fog_alert_level_name(a->previous), "state",
			 a->resolved ? "resolved" : "firing", "value", real_or_null(a->value),
			 "threshold", real_or_null(a->threshold), "unit", unit_name(a->resource),
			 "since", time_or_null(a->since), "started_at", time_or_null(a->started_at),
			 "at", time_or_null(a->at), "summary", a->summary);

	if (j && a->id)
		json_object_set_new(j, "id", json_integer((json_int_t)a->id));
	if (j && a->profile_url[0])
		json_object_set_new(j, "profile_url", json_string(a->profile_url));
	return j;
}

static void add(struct fog_alert_env *env, int *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct fog_alert_env *env, int *n, const char *fmt, ...)
{
	va_list ap;

	if (*n >= FOG_ALERT_ENV_MAX - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(env->buf[*n], FOG_ALERT_ENV_LEN, fmt, ap);
	va_end(ap);
	env->envp[*n] = env->buf[*n];
	(*n)++;
}

void fog_alert_env(struct fog_alert_env *env, const struct fog_alert *a)
{
	char since[40] = "", started[40] = "", at[40] = "";
	int n = 0;

	fog_monitor_format_time(since, sizeof(since), a->since);
	fog_monitor_format_time(started, sizeof(started), a->started_at);
	fog_monitor_format_time(at, sizeof(at), a->at);
	add(env, &n, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	add(env, &n, "FOG_ALERT_RESOURCE=%s", fog_monitor_resource_name(a->resource));
	add(env, &n, "FOG_ALERT_LEVEL=%s", fog_alert_level_name(a->level));
	add(env, &n, "FOG_ALERT_PREVIOUS_LEVEL=%s", fog_alert_level_name(a->previous));
	add(env, &n, "FOG_ALERT_STATE=%s", a->resolved ? "resolved" : "firing");
	add(env, &n, "FOG_ALERT_VALUE=%.15g", a->value);
	add(env, &n, "FOG_ALERT_THRESHOLD=%.15g", a->threshold);
	add(env, &n, "FOG_ALERT_UNIT=%s", unit_name(a->resource));
	add(env, &n, "FOG_ALERT_SINCE=%s", since);
	add(env, &n, "FOG_ALERT_STARTED_AT=%s", started);
	add(env, &n, "FOG_ALERT_TIME=%s", at);
	add(env, &n, "FOG_ALERT_SUMMARY=%s", a->summary);
	add(env, &n, "FOG_ALERT_ID=%lu", a->id);
	if (a->profile_url[0])
		add(env, &n, "FOG_ALERT_PROFILE_URL=%s", a->profile_url);
	env->envp[n] = NULL;
}
