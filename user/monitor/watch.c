// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/config.h"
#include "base/child.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/prom.h"
#include "base/text.h"
#include "collect/collector.h"
#include "export/http.h"
#include "fog/monitor.h"
#include "monitor/json.h"
#include "monitor/watch.h"

struct fog_watch {
	struct fog_monitor *mon;
	char instance[256];
	fog_watch_decorate_fn decorate;	/* adds to each alert of /api/v1/alerts; NULL none */
	void *decorate_ctx;
};

static void on_alert(const struct fog_alert *a, void *ctx)
{
	if (a->resolved)
		fog_info("alert resolved: %s", a->summary);
	else
		fog_warnx("alert %s: %s", fog_alert_level_name(a->level), a->summary);
}

/* Sets (or clears, for a zero warning) one resource's threshold. */
static int threshold(struct fog_monitor *mon, const struct fog_config *cfg,
		     enum fog_monitor_resource r, double warning, double critical)
{
	int err;

	if (warning <= 0)
		return fog_monitor__clear_threshold(mon, r);
	if (critical <= 0)
		critical = warning;
	err = fog_monitor__set_threshold(mon, r, warning, critical, cfg->for_s,
					 warning * cfg->hysteresis);
	if (err)
		fog_warnx("monitor: threshold of %s: %s", fog_monitor_resource_name(r),
			  fog_monitor_errmsg());
	return err;
}

static int thresholds(struct fog_monitor *mon, const struct fog_config *cfg)
{
	int err = 0;

	err |= threshold(mon, cfg, FOG_MONITOR_CPU, cfg->cpu_warning, cfg->cpu_critical);
	err |= threshold(mon, cfg, FOG_MONITOR_MEMORY, cfg->memory_warning, cfg->memory_critical);
	err |= threshold(mon, cfg, FOG_MONITOR_PSI, cfg->psi_warning, cfg->psi_critical);
	err |= threshold(mon, cfg, FOG_MONITOR_RUNQ_LATENCY, cfg->runq_warning_s,
			 cfg->runq_critical_s);
	err |= threshold(mon, cfg, FOG_MONITOR_IO_LATENCY, cfg->io_warning_s, cfg->io_critical_s);
	return err ? -EINVAL : 0;
}

static int actions(struct fog_watch *w, const struct fog_config *cfg)
{
	enum fog_alert_level min = FOG_ALERT_WARNING;
	char shown[256];
	int err;

	fog_alert_level_parse(cfg->action_level, &min);
	if (strcmp(cfg->alertmanager, "off")) {
		err = fog_monitor__add_alertmanager(w->mon, cfg->alertmanager,
						    cfg->alertmanager_resend_s, min);
		if (err) {
			fog_warnx("monitor: alertmanager %s: %s",
				  fog_url_redact(shown, sizeof(shown), cfg->alertmanager),
				  fog_monitor_errmsg());
			return err;
		}
	}
	if (strcmp(cfg->webhook, "off")) {
		err = fog_monitor__add_webhook(w->mon, cfg->webhook, min);
		if (err) {
			fog_warnx("monitor: webhook %s: %s",
				  fog_url_redact(shown, sizeof(shown), cfg->webhook),
				  fog_monitor_errmsg());
			return err;
		}
	}
	if (strcmp(cfg->hook, "off")) {
		const char *argv[] = { cfg->hook, NULL };
		char why[160] = "";
		uid_t uid;
		gid_t gid;

		/* a hook is tenant-reachable code run on every alert: never as root */
		err = fog_privs_lookup(cfg->run_user, cfg->run_group, &uid, &gid, why,
				       sizeof(why));
		if (!err)
			err = fog_monitor__set_hook_user(w->mon, uid, gid);
		if (err) {
			fog_warnx("monitor: hook %s cannot run: [fogd] run_user/run_group: %s",
				  cfg->hook, why);
			return err;
		}

		err = fog_monitor__add_hook(w->mon, argv, cfg->hook_timeout_s, min);
		if (err) {
			fog_warnx("monitor: hook %s: %s", cfg->hook, fog_monitor_errmsg());
			return err;
		}
	}
	return 0;
}

struct fog_watch *fog_watch__new(const struct fog_config *cfg)
{
	struct fog_monitor_opts opts = { 0 };
	struct fog_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return NULL;
	if (gethostname(w->instance, sizeof(w->instance) - 1))
		snprintf(w->instance, sizeof(w->instance), "localhost");
	opts.interval_seconds = cfg->tick_ms / 1000.0;
	opts.trend_window_seconds = cfg->trend_window_s;
	/* enough history for the longest window: the hour-long recommendation rules */
	opts.history = (unsigned int)(3600.0 / opts.interval_seconds) + 16;
	opts.instance = w->instance;
	/* ids name alert profiles in the ring, which outlives fogd: not again after a restart */
	opts.first_alert_id = (unsigned long)time(NULL);
	w->mon = fog_monitor__new(&opts);
	if (!w->mon) {
		err = -errno;
		fog_warnx("monitor: %s", fog_monitor_errmsg());
		goto out_free;
	}
	err = thresholds(w->mon, cfg);
	if (!err)
		err = actions(w, cfg);
	if (!err)
		err = fog_monitor__on_alert(w->mon, on_alert, w);
	if (err)
		goto out_free;
	return w;

out_free:
	fog_monitor__free(w->mon);
	free(w);
	errno = -err;
	return NULL;
}

void fog_watch__free(struct fog_watch *w)
{
	if (!w)
		return;
	fog_monitor__flush(w->mon, 3);
	fog_monitor__free(w->mon);
	free(w);
}

void fog_watch__on_tick(const struct fog_tick *t, void *ctx)
{
	struct fog_watch *w = ctx;
	struct fog_monitor_sample s;

	fog_monitor_sample_from_signals(&s, &t->host);
	if (fog_monitor__observe(w->mon, fog_wall_now(), &s))
		fog_debug("monitor: sample refused: %s", fog_monitor_errmsg());
}

int fog_watch__reconfigure(struct fog_watch *w, const struct fog_config *cfg)
{
	return thresholds(w->mon, cfg);
}

struct fog_monitor *fog_watch__monitor(struct fog_watch *w)
{
	return w->mon;
}

void fog_watch__set_decorate(struct fog_watch *w, fog_watch_decorate_fn fn, void *ctx)
{
	w->decorate = fn;
	w->decorate_ctx = ctx;
}

static int get_alerts(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_watch *w = ctx;
	json_t *j = fog_monitor_alerts_json(w->mon), *a;
	size_t i;

	if (w->decorate)
		json_array_foreach(json_object_get(j, "alerts"), i, a)
			w->decorate(a, w->decorate_ctx);
	return fog_http_json(resp, 200, j);
}

static int get_trends(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_watch *w = ctx;

	return fog_http_json(resp, 200, fog_monitor_trends_json(w->mon));
}

static int get_recommendations(const struct fog_http_req *req, struct fog_http_resp *resp,
			       void *ctx)
{
	struct fog_watch *w = ctx;

	return fog_http_json(resp, 200, fog_monitor_recommendations_json(w->mon));
}

static int get_metrics(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_watch *w = ctx;
	json_t *j = fog_monitor_latest_json(w->mon);

	json_object_set_new(j, "monitor", fog_monitor_stats_json(w->mon));
	return fog_http_json(resp, 200, j);
}

int fog_watch__register(struct fog_watch *w, struct fog_http *h)
{
	int err;

	err = fog_http__route(h, "GET", "/api/v1/alerts", FOG_HTTP_TCP_API, get_alerts, w);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/trends", FOG_HTTP_TCP_API, get_trends, w);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/recommendations", FOG_HTTP_TCP_API,
				      get_recommendations, w);
	if (!err)
		err = fog_http__route(h, "GET", "/api/v1/metrics", FOG_HTTP_TCP_API, get_metrics, w);
	return err;
}

void fog_watch__metrics(void *ctx, struct fog_prom *p)
{
	struct fog_watch *w = ctx;
	struct fog_alert_status st[FOG_MONITOR_RESOURCES];
	struct fog_monitor_stats stats;
	int n = fog_monitor__alerts(w->mon, st, FOG_MONITOR_RESOURCES);

	fog_prom__family(p, "fog_alert_level", FOG_PROM_GAUGE,
			 "alert level per resource: 0 info, 1 warning, 2 error, 3 critical");
	for (int i = 0; i < n; i++)
		fog_prom__sample(p,
				 (const char *[]){ "resource",
						   fog_monitor_resource_name(st[i].resource),
						   NULL },
				 st[i].level);
	fog_monitor__stats(w->mon, &stats);
	fog_prom__family(p, "fog_alerts_fired", FOG_PROM_COUNTER,
			 "alert level changes to a level above info");
	fog_prom__sample(p, NULL, (double)stats.alerts_fired);
	fog_prom__family(p, "fog_alert_deliveries_failed", FOG_PROM_COUNTER,
			 "webhook and Alertmanager deliveries given up");
	fog_prom__sample(p, NULL, (double)stats.posts_failed);
}
