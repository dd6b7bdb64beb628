/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Alerts pushed to a Prometheus Alertmanager through its v2 API: POST
 * /api/v2/alerts with a JSON array of {labels, annotations, startsAt, endsAt,
 * generatorURL} (https://prometheus.io/docs/alerting/latest/clients/).
 *
 * One alert per resource, identified by its labels {alertname="Fog<Resource>High",
 * severity, resource, instance}. A change of level resolves the alert of the
 * old severity (endsAt = the change) and fires one with the new severity.
 * Firing alerts carry endsAt = now + 4 * resend interval and are re-sent every
 * interval, as Prometheus does, so Alertmanager resolves them by itself if
 * this process goes away; a resolved alert is sent once with endsAt = the
 * resolve time (delivery is retried with backoff).
 */
#ifndef FOG_MONITOR_ALERTMANAGER_H
#define FOG_MONITOR_ALERTMANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "fog/monitor.h"

/* What is sent where; delivery is a webhook to <url>/api/v2/alerts (see monitor.c). */
struct fog_alertmanager;

/* What Alertmanager has been told about one resource. */
struct fog_am_alert {
	bool firing;
	enum fog_monitor_resource resource;
	enum fog_alert_level level;
	double starts_at;
	double value;
	double threshold;
	char summary[160];
	char profile_url[96]; /* the profile_url annotation, "" none */
};

struct fog_alertmanager_opts {
	double resend_seconds;		/* > 0 */
	enum fog_alert_level min_level; /* levels below are not sent */
	const char *instance;		/* instance label */
	const char *generator_url;	/* NULL or "": not sent */
};

/* One element of the payload array; ends_at NAN leaves endsAt out. */
json_t *fog_am_alert_json(const struct fog_am_alert *a, const char *instance,
			  const char *generator_url, double ends_at);

/*
 * "http://host:9093/" -> "http://host:9093/api/v2/alerts" into buf; -ENAMETOOLONG.
 */
int fog_alertmanager_url(char *buf, size_t len, const char *base);

/* NULL + errno (EINVAL for a bad resend interval). */
struct fog_alertmanager *fog_alertmanager__new(const struct fog_alertmanager_opts *opts);
void fog_alertmanager__free(struct fog_alertmanager *am);

/*
 * The payload (a JSON array) that tells Alertmanager about a level change,
 * and records the change; NULL when there is nothing to tell (levels below
 * min_level). Not thread-safe: the monitor calls it under its lock.
 */
json_t *fog_alertmanager_change(struct fog_alertmanager *am, const struct fog_alert *ev);

/*
 * The payload re-sending every firing alert when the resend interval has
 * passed since the last send (values refreshed from latest; NAN keeps the old
 * one); NULL when nothing is due.
 */
json_t *fog_alertmanager_resend(struct fog_alertmanager *am, double now,
				const struct fog_monitor_sample *latest);

#endif /* FOG_MONITOR_ALERTMANAGER_H */
