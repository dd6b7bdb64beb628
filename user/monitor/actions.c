// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "monitor/alert.h"
#include "monitor/alertmanager.h"
#include "monitor/format.h"
#include "monitor/hook.h"
#include "monitor/object.h"
#include "monitor/webhook.h"

int fog_monitor_check_level(enum fog_alert_level l)
{
	if ((unsigned int)l >= FOG_ALERT_LEVELS)
		return fog_monitor_fail(-EINVAL, "unknown alert level %d", (int)l);
	return 0;
}

/* Queues a payload (consumed) for one Alertmanager. */
static void post_json(struct fog_webhook *wh, json_t *payload)
{
	char *body = json_dumps(payload, JSON_COMPACT);

	json_decref(payload);
	if (body)
		fog_webhook__post(wh, body);
	free(body);
}

/* Sends one level change to hooks, webhooks and Alertmanagers; under the lock. */
void fog_monitor_act_locked(struct fog_monitor *mon, const struct fog_alert *ev)
{
	enum fog_alert_level top = ev->level > ev->previous ? ev->level : ev->previous;
	struct fog_alert_env env;
	char *text = NULL, *body = NULL;
	json_t *j = fog_alert_json(ev);

	if (j) {
		text = json_dumps(j, JSON_COMPACT);
		json_object_set_new(j, "instance", json_string(mon->instance));
		body = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	}
	if (mon->nhooks)
		fog_alert_env(&env, ev);
	for (unsigned int i = 0; i < mon->nhooks; i++) {
		if (top < mon->hooks[i].min_level)
			continue;
		fog_hook_runner__submit(mon->runner, (const char *const *)mon->hooks[i].argv,
					(const char *const *)env.envp, text ? text : "",
					mon->hooks[i].timeout);
	}
	for (unsigned int i = 0; body && i < mon->nwebhooks; i++) {
		if (top >= mon->webhooks[i].min_level)
			fog_webhook__post(mon->webhooks[i].wh, body);
	}
	for (unsigned int i = 0; i < mon->nams; i++) {
		json_t *payload = fog_alertmanager_change(mon->ams[i].state, ev);

		if (payload)
			post_json(mon->ams[i].wh, payload);
	}
	free(text);
	free(body);
}

int fog_monitor__add_hook(struct fog_monitor *mon, const char *const argv[], double timeout_seconds,
			  enum fog_alert_level min_level)
{
	char msg[256], **copy;
	size_t n = 0;
	int err;

	err = fog_hook_check_argv(argv, msg, sizeof(msg));
	if (err)
		return fog_monitor_fail(err, "%s", msg);
	if (!isfinite(timeout_seconds) || !(timeout_seconds > 0) || timeout_seconds > 86400)
		return fog_monitor_fail(-EINVAL,
					"hook %s timeout %g s must be above 0 and at most a day",
					argv[0], timeout_seconds);
	err = fog_monitor_check_level(min_level);
	if (err)
		return err;
	while (argv[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	for (size_t i = 0; copy && i < n; i++) {
		copy[i] = strdup(argv[i]);
		if (!copy[i]) {
			while (i--)
				free(copy[i]);
			free(copy);
			copy = NULL;
		}
	}
	if (!copy)
		return fog_monitor_fail(-ENOMEM, "out of memory");

	pthread_mutex_lock(&mon->lock);
	if (mon->nhooks == MAX_HOOKS) {
		err = fog_monitor_fail(-ENOSPC, "at most %d hooks", MAX_HOOKS);
	} else if (!mon->runner) {
		mon->runner = fog_hook_runner__new(HOOK_QUEUE, HOOKS_AT_ONCE);
		if (!mon->runner)
			err = fog_monitor_fail(-errno, "cannot start the hook runner: %s",
					       strerror(errno));
		else if (mon->hook_as_user)
			fog_hook_runner__set_user(mon->runner, mon->hook_uid, mon->hook_gid);
	}
	if (!err)
		mon->hooks[mon->nhooks++] = (struct hook){ copy, timeout_seconds, min_level };
	pthread_mutex_unlock(&mon->lock);
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(copy[i]);
		free(copy);
	}
	return err;
}

int fog_monitor__set_hook_user(struct fog_monitor *mon, uid_t uid, gid_t gid)
{
	if (!uid || !gid)
		return fog_monitor_fail(-EPERM, "hooks must not run as uid or gid 0");
	pthread_mutex_lock(&mon->lock);
	mon->hook_as_user = true;
	mon->hook_uid = uid;
	mon->hook_gid = gid;
	if (mon->runner)
		fog_hook_runner__set_user(mon->runner, uid, gid);
	pthread_mutex_unlock(&mon->lock);
	return 0;
}

static struct fog_webhook_opts post_opts(const struct fog_monitor *mon, const char *name)
{
	return (struct fog_webhook_opts){
		.name = name,
		.queue_len = mon->opts.queue_len,
		.max_attempts = mon->opts.max_attempts,
		.retry_seconds = mon->opts.retry_seconds,
		.retry_max_seconds = mon->opts.retry_max_seconds,
		.timeout_seconds = mon->opts.http_timeout_seconds,
	};
}

int fog_monitor__add_webhook(struct fog_monitor *mon, const char *url,
			     enum fog_alert_level min_level)
{
	struct fog_webhook_opts o = post_opts(mon, "webhook");
	struct fog_webhook *wh;
	char msg[256];
	int err;

	err = fog_webhook_check_url(url, msg, sizeof(msg));
	if (err)
		return fog_monitor_fail(err, "webhook: %s", msg);
	err = fog_monitor_check_level(min_level);
	if (err)
		return err;
	pthread_mutex_lock(&mon->lock);
	if (mon->nwebhooks == MAX_WEBHOOKS) {
		err = fog_monitor_fail(-ENOSPC, "at most %d webhooks", MAX_WEBHOOKS);
	} else {
		wh = fog_webhook__new(url, &o);
		if (wh)
			mon->webhooks[mon->nwebhooks++] = (struct target){ wh, min_level };
		else
			err = fog_monitor_fail(-errno, "webhook %s: %s", url, strerror(errno));
	}
	pthread_mutex_unlock(&mon->lock);
	return err;
}

int fog_monitor__add_alertmanager(struct fog_monitor *mon, const char *url, double resend_seconds,
				  enum fog_alert_level min_level)
{
	struct fog_alertmanager_opts o = {
		.resend_seconds = resend_seconds == 0 ? 60 : resend_seconds,
		.min_level = min_level,
		.instance = mon->instance,
		.generator_url = mon->generator_url,
	};
	struct fog_webhook_opts post = post_opts(mon, "alertmanager");
	struct am_target am;
	char msg[256], api[1024];
	int err;

	err = fog_webhook_check_url(url, msg, sizeof(msg));
	if (err)
		return fog_monitor_fail(err, "alertmanager: %s", msg);
	if (fog_alertmanager_url(api, sizeof(api), url))
		return fog_monitor_fail(-ENAMETOOLONG, "alertmanager URL is too long");
	if (!isfinite(o.resend_seconds) || !(o.resend_seconds > 0))
		return fog_monitor_fail(-EINVAL,
					"alertmanager resend interval %g s must be above 0",
					resend_seconds);
	err = fog_monitor_check_level(min_level);
	if (err)
		return err;
	pthread_mutex_lock(&mon->lock);
	if (mon->nams == MAX_ALERTMANAGERS) {
		err = fog_monitor_fail(-ENOSPC, "at most %d alertmanagers", MAX_ALERTMANAGERS);
	} else {
		am.state = fog_alertmanager__new(&o);
		am.wh = am.state ? fog_webhook__new(api, &post) : NULL;
		if (am.wh) {
			mon->ams[mon->nams++] = am;
		} else {
			err = fog_monitor_fail(-errno, "alertmanager %s: %s", url, strerror(errno));
			fog_alertmanager__free(am.state);
		}
	}
	pthread_mutex_unlock(&mon->lock);
	return err;
}

void fog_monitor__stats(struct fog_monitor *mon, struct fog_monitor_stats *out)
{
	struct fog_webhook_stats ws;
	struct fog_hook_stats hs;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&mon->lock);
	out->observations = mon->observations;
	out->alerts_fired = mon->fired;
	out->alerts_resolved = mon->resolved;
	if (mon->runner) {
		fog_hook_runner__stats(mon->runner, &hs);
		out->hooks_run = hs.run;
		out->hooks_failed = hs.failed;
		out->hooks_killed = hs.killed;
		out->hooks_dropped = hs.dropped;
	}
	for (unsigned int i = 0; i < mon->nwebhooks + mon->nams; i++) {
		fog_webhook__stats(i < mon->nwebhooks ? mon->webhooks[i].wh
						      : mon->ams[i - mon->nwebhooks].wh,
				   &ws);
		out->posts_sent += ws.sent;
		out->posts_retried += ws.retried;
		out->posts_failed += ws.failed;
		out->posts_dropped += ws.dropped;
	}
	pthread_mutex_unlock(&mon->lock);
}

int fog_monitor__flush(struct fog_monitor *mon, double timeout_seconds)
{
	double deadline = fog_mono_now() + timeout_seconds;
	struct fog_hook_runner *runner;
	unsigned int nwh, nams;
	int err = 0;

	/* targets are never removed, so they outlive the lock being dropped */
	pthread_mutex_lock(&mon->lock);
	runner = mon->runner;
	nwh = mon->nwebhooks;
	nams = mon->nams;
	pthread_mutex_unlock(&mon->lock);

	if (runner)
		err = fog_hook_runner__drain(runner, fmax(0, deadline - fog_mono_now()));
	for (unsigned int i = 0; !err && i < nwh; i++)
		err = fog_webhook__drain(mon->webhooks[i].wh, fmax(0, deadline - fog_mono_now()));
	for (unsigned int i = 0; !err && i < nams; i++)
		err = fog_webhook__drain(mon->ams[i].wh, fmax(0, deadline - fog_mono_now()));
	if (err)
		return fog_monitor_fail(err, "hooks or deliveries still pending after %g s",
					timeout_seconds);
	return 0;
}

void fog_monitor_resend_locked(struct fog_monitor *mon, double now)
{
	for (unsigned int i = 0; i < mon->nams; i++) {
		json_t *payload = fog_alertmanager_resend(mon->ams[i].state, now, &mon->latest);

		if (payload)
			post_json(mon->ams[i].wh, payload);
	}
}

void fog_monitor_free_actions(struct fog_monitor *mon)
{
	fog_hook_runner__free(mon->runner);
	mon->runner = NULL;
	for (unsigned int i = 0; i < mon->nhooks; i++) {
		for (char **a = mon->hooks[i].argv; *a; a++)
			free(*a);
		free(mon->hooks[i].argv);
	}
	mon->nhooks = 0;
	for (unsigned int i = 0; i < mon->nwebhooks; i++)
		fog_webhook__free(mon->webhooks[i].wh);
	mon->nwebhooks = 0;
	for (unsigned int i = 0; i < mon->nams; i++) {
		fog_webhook__free(mon->ams[i].wh);
		fog_alertmanager__free(mon->ams[i].state);
	}
	mon->nams = 0;
}
