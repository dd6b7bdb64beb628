/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fogd's use of the monitor library: thresholds and actions from the
 * configuration, one sample per tick from the collectors' host signals, the
 * /api/v1/alerts, /trends and /recommendations routes and fog_alert_* metrics.
 */
#ifndef FOG_WATCH_H
#define FOG_WATCH_H

struct fog_tick;
struct fog_config;
struct fog_http;
struct fog_prom;
struct fog_watch;
struct fog_monitor;

#include <jansson.h>

/* Adds what another part knows of an alert to its /api/v1/alerts object. */
typedef void (*fog_watch_decorate_fn)(json_t *alert, void *ctx);

/* NULL with errno set; the reason is logged. */
struct fog_watch *fog_watch__new(const struct fog_config *cfg);
/* Delivers what is queued (a few seconds at most), then frees; accepts NULL. */
void fog_watch__free(struct fog_watch *w);
/* A fog_tick_fn (ctx: the watch): feeds the tick's host signals to the monitor. */
void fog_watch__on_tick(const struct fog_tick *t, void *ctx);
/* Applies new thresholds; actions and windows take effect at the next start. */
int fog_watch__reconfigure(struct fog_watch *w, const struct fog_config *cfg);
int fog_watch__register(struct fog_watch *w, struct fog_http *h);
/* The monitor, for the parts that annotate its alerts (the alert profiles). */
struct fog_monitor *fog_watch__monitor(struct fog_watch *w);
/* One decorator of /api/v1/alerts (NULL removes it); called on the loop. */
void fog_watch__set_decorate(struct fog_watch *w, fog_watch_decorate_fn fn, void *ctx);
/* A fog_metrics_fn: ctx is the watch. */
void fog_watch__metrics(void *w, struct fog_prom *p);

#endif /* FOG_WATCH_H */
