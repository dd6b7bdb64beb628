// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/heap.h"
#include "base/prom.h"
#include "collect/collector.h"
#include "export/api.h"
#include "export/http.h"
#include "export/metrics.h"

struct metrics_ctx {
	struct fog_collect *collect;
	struct fog_prom *w;	/* reused by every scrape */
	double last_scrape_seconds;
	unsigned long long scrapes;
};

static struct metrics_ctx mctx;

#define METRICS_MAX_WRITERS 8

static struct {
	fog_metrics_fn fn;
	void *ctx;
} writers[METRICS_MAX_WRITERS];
static unsigned int n_writers;

int fog_metrics_add(fog_metrics_fn fn, void *ctx)
{
	if (n_writers == METRICS_MAX_WRITERS)
		return -ENOSPC;
	writers[n_writers].fn = fn;
	writers[n_writers++].ctx = ctx;
	return 0;
}

bool fog_metrics_wants_openmetrics(const char *accept)
{
	return accept && strstr(accept, "application/openmetrics-text");
}

void fog_metrics_write(struct fog_collect *c, struct fog_prom *w)
{
	fog_prom__family(w, "fog_build_info", FOG_PROM_GAUGE, "fogd version, always 1");
	fog_prom__sample(w, (const char *[]){ "version", FOG_VERSION, NULL }, 1);
	fog_prom__family(w, "fog_scrape_duration_seconds", FOG_PROM_GAUGE,
			 "time the previous /metrics scrape took to render");
	fog_prom__sample(w, NULL, mctx.last_scrape_seconds);
	fog_collect__metrics(c, w);
	for (unsigned int i = 0; i < n_writers; i++)
		writers[i].fn(writers[i].ctx, w);
}

static int get_metrics(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct metrics_ctx *m = ctx;
	__u64 t0 = fog_now_ns();
	const char *text;
	size_t len;

	fog_prom__begin(m->w, fog_metrics_wants_openmetrics(req->accept));
	fog_metrics_write(m->collect, m->w);
	text = fog_prom__end(m->w, &len);
	if (fog_prom__failed(m->w))
		return -ENOMEM;
	resp->body = fog_heap_buf_get(len + 1);
	if (!resp->body)
		return -ENOMEM;
	memcpy(resp->body, text, len + 1);
	resp->len = len;
	resp->status = 200;
	resp->content_type = fog_prom__content_type(m->w);
	m->scrapes++;
	m->last_scrape_seconds = (double)(fog_now_ns() - t0) / 1e9;
	return 0;
}

int fog_metrics_register(struct fog_http *h, struct fog_collect *collect)
{
	if (!mctx.w) {
		mctx.w = fog_prom__new();
		if (!mctx.w)
			return -ENOMEM;
	}
	mctx.collect = collect;
	return fog_http__route(h, "GET", "/metrics", FOG_HTTP_TCP, get_metrics, &mctx);
}
