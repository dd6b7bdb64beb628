/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The monitor object's insides, shared by monitor.c (samples, thresholds,
 * queries, the host sampler) and actions.c (hooks, webhooks, Alertmanager).
 */
#ifndef FOG_MONITOR_OBJECT_H
#define FOG_MONITOR_OBJECT_H

#include <pthread.h>
#include <stdbool.h>
#include "fog/monitor.h"
#include "monitor/sampler.h"
#include "monitor/series.h"
#include "monitor/threshold.h"

struct fog_hook_runner;
struct fog_webhook;
struct fog_alertmanager;

#define MAX_CALLBACKS	  8
#define MAX_HOOKS	  8
#define MAX_WEBHOOKS	  8
#define MAX_ALERTMANAGERS 4
#define HOOK_QUEUE	  64
#define HOOKS_AT_ONCE	  8

struct callback {
	fog_monitor_alert_fn fn;
	void *ctx;
};

struct hook {
	char **argv;
	double timeout;
	enum fog_alert_level min_level;
};

struct target {
	struct fog_webhook *wh;
	enum fog_alert_level min_level;
};

/* An Alertmanager: what it has been told, and the webhook that tells it. */
struct am_target {
	struct fog_alertmanager *state;
	struct fog_webhook *wh;
};

struct fog_monitor {
	struct fog_monitor_opts opts; /* defaults filled in; strings point below */
	char instance[256];
	char generator_url[512];
	pthread_mutex_t lock; /* guards everything but the sampler thread's own state */

	struct fog_series series[FOG_MONITOR_RESOURCES];
	double *scratch_t, *scratch_v; /* a window's copy, history long */
	struct fog_threshold_state thr[FOG_MONITOR_RESOURCES];
	struct fog_monitor_sample latest;
	double last_now; /* NAN before the first tick */

	struct callback callbacks[MAX_CALLBACKS];
	unsigned int ncallbacks;
	fog_monitor_annotate_fn annotate; /* NULL: none */
	void *annotate_ctx;
	unsigned long next_id;	/* the next episode's id */
	struct hook hooks[MAX_HOOKS];
	unsigned int nhooks;
	struct fog_hook_runner *runner; /* made with the first hook */
	bool hook_as_user;	/* hooks run as hook_uid:hook_gid */
	uid_t hook_uid;
	gid_t hook_gid;
	struct target webhooks[MAX_WEBHOOKS];
	unsigned int nwebhooks;
	struct am_target ams[MAX_ALERTMANAGERS];
	unsigned int nams;
	unsigned long observations, fired, resolved;

	/* the host sampler of fog_monitor__start() */
	pthread_t sampler;
	bool sampling;
	bool stop;
	pthread_cond_t stop_cond;
	struct fog_host_sampler hs;
};

/* Sends one level change to hooks, webhooks and Alertmanagers; mon->lock held. */
void fog_monitor_act_locked(struct fog_monitor *mon, const struct fog_alert *ev);
/* Re-sends firing alerts to Alertmanagers when due; mon->lock held. */
void fog_monitor_resend_locked(struct fog_monitor *mon, double now);
/* Stops and frees hooks, webhooks and Alertmanagers. */
void fog_monitor_free_actions(struct fog_monitor *mon);
/* -EINVAL with the message set for a level out of range. */
int fog_monitor_check_level(enum fog_alert_level l);

#endif /* FOG_MONITOR_OBJECT_H */
