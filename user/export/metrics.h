/* SPDX-License-Identifier: GPL-2.0-only */
/* /metrics: fogd's own health and every running collector's metric families. */
#ifndef FOG_METRICS_H
#define FOG_METRICS_H

#include <stdbool.h>

struct fog_http;
struct fog_collect;
struct fog_prom;

/* Registers GET /metrics on h; the collect pipeline is borrowed. */
int fog_metrics_register(struct fog_http *h, struct fog_collect *collect);
/* Writes metric families of another part of fogd (the monitor, pools, ...). */
typedef void (*fog_metrics_fn)(void *ctx, struct fog_prom *w);
/* Adds a writer called at every scrape after the collectors' families. */
int fog_metrics_add(fog_metrics_fn fn, void *ctx);

/* Writes one whole exposition into w (begin and end are the caller's). */
void fog_metrics_write(struct fog_collect *collect, struct fog_prom *w);
/* Whether an Accept header asks for OpenMetrics. */
bool fog_metrics_wants_openmetrics(const char *accept);

#endif /* FOG_METRICS_H */
