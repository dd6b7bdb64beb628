// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/alertmanager.h"
#include "monitor/format.h"

struct fog_alertmanager {
	double resend;
	enum fog_alert_level min_level;
	char *instance;
	char *generator_url; /* NULL: none */
	double last_sent;    /* NAN before the first payload */
	struct fog_am_alert alerts[FOG_MONITOR_RESOURCES];
};

static int set_time(json_t *o, const char *key, double t)
{
	char buf[40];

	if (fog_monitor_format_time(buf, sizeof(buf), t))
		return -EINVAL;
	return json_object_set_new(o, key, json_string(buf)) ? -ENOMEM : 0;
}

json_t *fog_am_alert_json(const struct fog_am_alert *a, const char *instance,
			  const char *generator_url, double ends_at)
{
	char alertname[64], value[32], threshold[32], description[256];
	json_t *o;

	snprintf(alertname, sizeof(alertname), "Fog%sHigh",
		 fog_monitor_resource_title(a->resource));
	fog_monitor_format_value(value, sizeof(value), a->resource, a->value);
	fog_monitor_format_value(threshold, sizeof(threshold), a->resource, a->threshold);
	snprintf(description, sizeof(description), "%s is %s, %s threshold %s",
		 fog_monitor_resource_name(a->resource), value, fog_alert_level_name(a->level),
		 threshold);
	o = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}", "labels", "alertname",
		      alertname, "severity", fog_alert_level_name(a->level), "resource",
		      fog_monitor_resource_name(a->resource), "instance", instance, "annotations",
		      "summary", a->summary, "description", description, "value", value,
		      "threshold", threshold);
	if (!o)
		return NULL;
	if (a->profile_url[0] &&
	    json_object_set_new(json_object_get(o, "annotations"), "profile_url",
				json_string(a->profile_url))) {
		json_decref(o);
		return NULL;
	}
	if (set_time(o, "startsAt", a->starts_at) ||
	    (isfinite(ends_at) && set_time(o, "endsAt", ends_at)) ||
	    (generator_url && *generator_url &&
	     json_object_set_new(o, "generatorURL", json_string(generator_url)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int fog_alertmanager_url(char *buf, size_t len, const char *base)
{
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if ((size_t)snprintf(buf, len, "%.*s/api/v2/alerts", (int)n, base) >= len)
		return -ENAMETOOLONG;
	return 0;
}

struct fog_alertmanager *fog_alertmanager__new(const struct fog_alertmanager_opts *opts)
{
	struct fog_alertmanager *am;

	if (!(opts->resend_seconds > 0) || !isfinite(opts->resend_seconds) || !opts->instance) {
		errno = EINVAL;
		return NULL;
	}
	am = calloc(1, sizeof(*am));
	if (!am)
		return NULL;
	am->instance = strdup(opts->instance);
	if (opts->generator_url && *opts->generator_url)
		am->generator_url = strdup(opts->generator_url);
	if (!am->instance || (opts->generator_url && *opts->generator_url && !am->generator_url)) {
		fog_alertmanager__free(am);
		errno = ENOMEM;
		return NULL;
	}
	am->resend = opts->resend_seconds;
	am->min_level = opts->min_level;
	am->last_sent = NAN;
	return am;
}

void fog_alertmanager__free(struct fog_alertmanager *am)
{
	if (!am)
		return;
	free(am->instance);
	free(am->generator_url);
	free(am);
}

static int append(json_t *arr, struct fog_alertmanager *am, const struct fog_am_alert *a,
		  double ends_at)
{
	json_t *o = fog_am_alert_json(a, am->instance, am->generator_url, ends_at);

	return o ? json_array_append_new(arr, o) : -ENOMEM;
}

json_t *fog_alertmanager_change(struct fog_alertmanager *am, const struct fog_alert *ev)
{
	struct fog_am_alert *cur = &am->alerts[ev->resource];
	bool send_new = ev->level != FOG_ALERT_INFO && ev->level >= am->min_level;
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	/* the old severity ends when the level changes, or is no longer sent */
	if (cur->firing && (!send_new || cur->level != ev->level)) {
		cur->value = ev->value;
		if (ev->resolved)
			snprintf(cur->summary, sizeof(cur->summary), "%s", ev->summary);
		append(arr, am, cur, ev->at);
		cur->firing = false;
	}
	if (send_new) {
		cur->firing = true;
		cur->resource = ev->resource;
		cur->level = ev->level;
		cur->starts_at = ev->since;
		cur->value = ev->value;
		cur->threshold = ev->threshold;
		snprintf(cur->summary, sizeof(cur->summary), "%s", ev->summary);
		snprintf(cur->profile_url, sizeof(cur->profile_url), "%s", ev->profile_url);
		append(arr, am, cur, ev->at + 4 * am->resend);
	}
	if (!json_array_size(arr)) {
		json_decref(arr);
		return NULL;
	}
	am->last_sent = ev->at;
	return arr;
}

json_t *fog_alertmanager_resend(struct fog_alertmanager *am, double now,
				const struct fog_monitor_sample *latest)
{
	json_t *arr;

	if (!isnan(am->last_sent) && now - am->last_sent < am->resend)
		return NULL;
	arr = json_array();
	if (!arr)
		return NULL;
	for (int r = 0; r < FOG_MONITOR_RESOURCES; r++) {
		struct fog_am_alert *a = &am->alerts[r];

		if (!a->firing)
			continue;
		if (latest && !isnan(latest->value[r]))
			a->value = latest->value[r];
		append(arr, am, a, now + 4 * am->resend);
	}
	if (!json_array_size(arr)) {
		json_decref(arr);
		return NULL;
	}
	am->last_sent = now;
	return arr;
}
