/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An alert as the actions see it: JSON (hook stdin, webhook body, the API)
 * and FOG_ALERT_* environment variables (hooks).
 */
#ifndef FOG_MONITOR_ALERT_H
#define FOG_MONITOR_ALERT_H

#include <stddef.h>
#include <jansson.h>
#include "fog/monitor.h"

/*
 * {"resource", "level", "previous", "state": "firing"|"resolved", "value",
 * "threshold", "unit", "since", "started_at", "at" (RFC 3339, null if
 * unknown), "summary", "id" (the episode's), "profile_url" (when the episode
 * has a profile)}
 */
json_t *fog_alert_json(const struct fog_alert *a);

#define FOG_ALERT_ENV_MAX 16  /* variables, with the NULL that ends them */
#define FOG_ALERT_ENV_LEN 256 /* longest "NAME=value" kept */

struct fog_alert_env {
	char buf[FOG_ALERT_ENV_MAX][FOG_ALERT_ENV_LEN];
	char *envp[FOG_ALERT_ENV_MAX]; /* NULL-terminated, pointing into buf */
};

/*
 * The environment of a hook: PATH and FOG_ALERT_RESOURCE, _LEVEL,
 * _PREVIOUS_LEVEL, _STATE, _VALUE, _THRESHOLD, _UNIT, _SINCE, _STARTED_AT,
 * _TIME, _SUMMARY, _ID and _PROFILE_URL (when there is one). Nothing else
 * of the caller's environment is passed.
 */
void fog_alert_env(struct fog_alert_env *env, const struct fog_alert *a);

#endif /* FOG_MONITOR_ALERT_H */
