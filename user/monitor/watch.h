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

/* NULL with errno set; the reason is logged. */
struct fog_watch *fog_watch__new(const struct fog_config *cfg);
/* Delivers what is queued (a few seconds at most), then frees; accepts NULL. */
void fog_watch__free(struct fog_watch *w);
/* A fog_tick_fn (ctx: the watch): feeds the tick's host signals to the monitor. */
void fog_watch__on_tick(const struct fog_tick *t, void *ctx);
/* Applies new thresholds; actions and windows take effect at the next start. */
int fog_watch__reconfigure(struct fog_watch *w, const struct fog_config *cfg);
int fog_watch__register(struct fog_watch *w, struct fog_http *h);
/* A fog_metrics_fn: ctx is the watch. */
void fog_watch__metrics(void *w, struct fog_prom *p);

#endif /* FOG_WATCH_H */
