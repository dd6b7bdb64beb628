// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "agent/config.h"
#include "base/log.h"
#include "base/prom.h"
#include "base/text.h"
#include "export/http.h"
#include "export/metrics.h"
#include "uplink/glue.h"
#include "uplink/uplink.h"

struct fog_uplink_glue {
	struct fog_uplink *up;
	struct fog_collect *collect;
	struct fog_prom *w;	  /* this tick's exposition */
	unsigned long long ticks; /* expositions handed over */
	char url_shown[256];
};

static const char *opt_or_null(const char *v)
{
	return strcmp(v, "off") ? v : NULL;
}

static void metrics(void *ctx, struct fog_prom *w)
{
	struct fog_uplink_glue *g = ctx;
	struct fog_uplink_stats st;

	fog_uplink__stats(g->up, &st);
	const struct {
		const char *name;
		enum fog_prom_type type;
		const char *help;
		double v;
	} one[] = {
		{"fog_uplink_connected", FOG_PROM_GAUGE,
		 "1 when the remote-write receiver acknowledged the last POST", st.connected},
		{"fog_uplink_snapshots", FOG_PROM_COUNTER,
		 "ticks whose series were handed to the uplink (this one included)",
		 (double)g->ticks},
		{"fog_uplink_backlog_age_seconds", FOG_PROM_GAUGE,
		 "age of the oldest buffered sample not yet acknowledged", st.backlog_age_s},
		{"fog_uplink_buffer_bytes", FOG_PROM_GAUGE,
		 "bytes of the on-disk buffer's segment files", (double)st.disk_bytes},
		{"fog_uplink_sent_bytes", FOG_PROM_COUNTER,
		 "compressed body bytes the receiver acknowledged", (double)st.bytes_sent},
		{"fog_uplink_snapshots_dropped", FOG_PROM_COUNTER,
		 "ticks not buffered because the uplink's thread was too far behind",
		 (double)st.snapshots_dropped},
		{"fog_uplink_torn_tails", FOG_PROM_COUNTER,
		 "torn segment tails cut when the buffer was opened (never sent)",
		 (double)st.torn_tails},
		{"fog_uplink_corrupt_segments", FOG_PROM_COUNTER,
		 "segments cut or removed for corrupt bytes when the buffer was opened",
		 (double)st.corrupt_segments},
		{"fog_uplink_write_cpu_seconds", FOG_PROM_COUNTER,
		 "CPU time encoding, compressing and writing samples to the buffer",
		 (double)st.append_ns / 1e9},
		{"fog_uplink_written_samples", FOG_PROM_COUNTER, "samples written to the buffer",
		 (double)st.appended_samples},
	};
	const struct {
		const char *name;
		enum fog_prom_type type;
		const char *help;
		const unsigned long long *v;
	} by_class[] = {
		{"fog_uplink_backlog_bytes", FOG_PROM_GAUGE,
		 "buffered bytes not yet acknowledged by the receiver", st.backlog_bytes},
		{"fog_uplink_backlog_samples", FOG_PROM_GAUGE,
		 "buffered samples not yet acknowledged by the receiver", st.backlog_samples},
		{"fog_uplink_samples_sent", FOG_PROM_COUNTER, "samples the receiver acknowledged",
		 st.sent},
		{"fog_uplink_samples_retried", FOG_PROM_COUNTER,
		 "samples in POSTs that failed and are sent again", st.retried},
		{"fog_uplink_samples_downsampled", FOG_PROM_COUNTER,
		 "samples merged into coarser steps to stay within the buffer's budget",
		 st.downsampled},
	};

	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
		fog_prom__family(w, one[i].name, one[i].type, one[i].help);
		fog_prom__sample(w, NULL, one[i].v);
	}
	for (size_t i = 0; i < sizeof(by_class) / sizeof(by_class[0]); i++) {
		fog_prom__family(w, by_class[i].name, by_class[i].type, by_class[i].help);
		for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
			fog_prom__sample(w,
					 (const char *[]){"class", fog_uplink_class_name(c), NULL},
					 (double)by_class[i].v[c]);
	}
	fog_prom__family(w, "fog_uplink_samples_dropped", FOG_PROM_COUNTER,
			 "samples that will never be sent, by class and reason");
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
		for (int r = 0; r < FOG_UPLINK_DROPS; r++)
			fog_prom__sample(w,
					 (const char *[]){"class", fog_uplink_class_name(c),
							  "reason", fog_uplink_drop_name(r), NULL},
					 (double)st.dropped[c][r]);
	fog_prom__family(w, "fog_uplink_requests", FOG_PROM_COUNTER,
			 "remote-write POSTs by result (ok, retried, rejected)");
	fog_prom__sample(w, (const char *[]){"result", "ok", NULL}, (double)st.requests_ok);
	fog_prom__sample(w, (const char *[]){"result", "retried", NULL},
			 (double)st.requests_retried);
	fog_prom__sample(w, (const char *[]){"result", "rejected", NULL},
			 (double)st.requests_rejected);
}

static json_t *class_json(const unsigned long long *v)
{
	json_t *o = json_object();

	for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
		json_object_set_new(o, fog_uplink_class_name(c), json_integer((json_int_t)v[c]));
	return o;
}

static int get_status(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct fog_uplink_glue *g = ctx;
	struct fog_uplink_stats st;
	json_t *dropped = json_object();
	unsigned long long bb = 0, bs = 0;

	fog_uplink__stats(g->up, &st);
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++) {
		json_t *o = json_object();

		for (int r = 0; r < FOG_UPLINK_DROPS; r++)
			json_object_set_new(o, fog_uplink_drop_name(r),
					    json_integer((json_int_t)st.dropped[c][r]));
		json_object_set_new(dropped, fog_uplink_class_name(c), o);
		bb += st.backlog_bytes[c];
		bs += st.backlog_samples[c];
	}
	return fog_http_json(
		resp, 200,
		json_pack("{s:s, s:b, s:b, s:s, s:I, s:I, s:f, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
			  "s:{s:I, s:I, s:I}, s:I, s:I, s:I}",
			  "url", g->url_shown, "running", st.running, "connected", st.connected,
			  "error", st.error, "backlog_bytes", (json_int_t)bb, "backlog_samples",
			  (json_int_t)bs, "backlog_age_seconds", st.backlog_age_s, "buffer_bytes",
			  (json_int_t)st.disk_bytes, "backlog_bytes_by_class",
			  class_json(st.backlog_bytes), "sent", class_json(st.sent), "retried",
			  class_json(st.retried), "downsampled", class_json(st.downsampled),
			  "dropped", dropped, "backlog_samples_by_class",
			  class_json(st.backlog_samples), "requests", "ok",
			  (json_int_t)st.requests_ok, "retried", (json_int_t)st.requests_retried,
			  "rejected", (json_int_t)st.requests_rejected, "torn_tails",
			  (json_int_t)st.torn_tails, "corrupt_segments",
			  (json_int_t)st.corrupt_segments, "snapshots", (json_int_t)g->ticks));
}

struct fog_uplink_glue *fog_uplink_glue__new(const struct fog_config *cfg,
					     struct fog_collect *collect, struct fog_http *http)
{
	struct fog_uplink_glue *g = calloc(1, sizeof(*g));
	char host[128] = "";
	const char *labels[5];
	struct fog_uplink_opts o = {
		.url = cfg->uplink_url,
		.dir = cfg->uplink_dir,
		.max_bytes = cfg->uplink_max_bytes,
		.max_age_s = cfg->uplink_max_age_s,
		.sync_s = cfg->uplink_sync_s,
		.max_bytes_per_s = cfg->uplink_max_bytes_per_s,
		.timeout_s = cfg->uplink_timeout_s,
		.min_backoff_s = cfg->uplink_min_backoff_s,
		.max_backoff_s = cfg->uplink_max_backoff_s,
		.step_s = cfg->uplink_step_s,
		.coarse_step_s = cfg->uplink_coarse_step_s,
		.ca_file = opt_or_null(cfg->uplink_ca_file),
		.username = opt_or_null(cfg->uplink_username),
		.password_file = opt_or_null(cfg->uplink_password_file),
		.bearer_file = opt_or_null(cfg->uplink_bearer_file),
		.labels = labels,
	};
	int err;

	if (!g)
		return NULL;
	if (strcmp(cfg->uplink_instance, "auto"))
		snprintf(host, sizeof(host), "%s", cfg->uplink_instance);
	else if (gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "localhost");
	/* sorted by name, as remote write wants a series' labels */
	labels[0] = "instance";
	labels[1] = host;
	labels[2] = "job";
	labels[3] = cfg->uplink_job;
	labels[4] = NULL;
	fog_url_redact(g->url_shown, sizeof(g->url_shown), cfg->uplink_url);
	g->collect = collect;
	g->w = fog_prom__new();
	/* libcurl's global set-up is not for threads to race on: done here, on the loop */
	if (!g->w || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		err = ENOMEM;
		goto fail;
	}
	g->up = fog_uplink__new(&o);
	if (!g->up) {
		err = errno;
		goto fail;
	}
	/* the route first: a writer once added stays for good */
	err = -fog_http__route(http, "GET", "/api/v1/uplink", FOG_HTTP_TCP_API, get_status, g);
	if (!err)
		err = -fog_metrics_add(metrics, g);
	if (err)
		goto fail;
	fog_info("uplink: pushing to %s by remote write, buffered in %s (%llu bytes at most)",
		 g->url_shown, cfg->uplink_dir, (unsigned long long)cfg->uplink_max_bytes);
	return g;
fail:
	fog_uplink_glue__free(g);
	errno = err;
	return NULL;
}

void fog_uplink_glue__free(struct fog_uplink_glue *g)
{
	if (!g)
		return;
	fog_uplink__free(g->up);
	fog_prom__free(g->w);
	free(g);
}

void fog_uplink_glue__tick(struct fog_uplink_glue *g)
{
	struct timespec t;
	const char *text;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &t);
	g->ticks++;
	fog_prom__begin(g->w, false);
	fog_metrics_write(g->collect, g->w);
	text = fog_prom__end(g->w, &len);
	if (fog_prom__failed(g->w))
		return;
	fog_uplink__push(g->up, text, len, (__s64)t.tv_sec * 1000 + t.tv_nsec / 1000000);
}
