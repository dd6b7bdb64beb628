// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "base/clock.h"
#include "base/http_client.h"
#include "base/log.h"
#include "base/text.h"
#include "monitor/webhook.h"

#define REPLY_KEEP 256 /* bytes of an error reply kept for the log */

struct fog_webhook {
	char *url;
	char shown[256];	/* url with its credentials redacted, for the log */
	struct fog_webhook_opts opts;
	char name[32];
	pthread_t thread;
	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t cond;  /* work queued, stop asked, or the queue drained */
	bool stop;
	char **queue; /* ring of opts.queue_len bodies */
	unsigned int head, count;
	bool in_flight;	       /* queue[head] is being sent: not to be dropped */
	unsigned int attempts; /* failed tries of queue[head] */
	double next_try;       /* monotonic time queue[head] may be tried */
	uint64_t rng;	       /* xorshift state for the jitter */
	struct fog_webhook_stats stats;
	/* owned by the worker */
	CURL *curl;
	struct curl_slist *headers;
	struct fog_http_body reply;	/* the head of an error reply, for the log */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int fog_webhook_check_url(const char *url, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL;
	char shown[256];
	CURLU *u;
	int ret = 0;

	if (!url || !*url) {
		snprintf(err, errlen, "empty URL");
		return -EINVAL;
	}
	fog_url_redact(shown, sizeof(shown), url);
	u = curl_url();
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0)) {
		snprintf(err, errlen, "'%s' is not a valid URL", shown);
		ret = -EINVAL;
	} else if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
		snprintf(err, errlen, "URL '%s' is not http or https", shown);
		ret = -EINVAL;
	} else if (!*host) {
		snprintf(err, errlen, "URL '%s' has no host", shown);
		ret = -EINVAL;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

double fog_backoff_delay(unsigned int attempt, double initial, double max, double u)
{
	double d = initial * pow(2, attempt > 0 ? attempt - 1 : 0);

	d = fmin(d, max);
	return d / 2 + u * d / 2;
}

static double uniform(struct fog_webhook *wh)
{
	/* xorshift64 (Marsaglia, J. Stat. Softw. 8(14), 2003): jitter, not secrets */
	wh->rng ^= wh->rng << 13;
	wh->rng ^= wh->rng >> 7;
	wh->rng ^= wh->rng << 17;
	return (double)(wh->rng >> 11) / 9007199254740992.0;
}

/* libcurl's progress callback: a non-zero return aborts the transfer. */
static int abort_on_stop(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct fog_webhook *wh = arg;
	bool stop;

	pthread_mutex_lock(&wh->lock);
	stop = wh->stop;
	pthread_mutex_unlock(&wh->lock);
	return stop;
}

enum outcome {
	SENT,
	RETRY,	  /* connection failure, timeout, 408, 429 or 5xx */
	REJECTED, /* another answer: sending the same body again will not help */
	STOPPED,
};

/* One POST; what to log goes into why. */
static enum outcome deliver(struct fog_webhook *wh, const char *body, char *why, size_t len)
{
	long code = 0;
	CURLcode rc;

	fog_http_body_reset(&wh->reply);
	curl_easy_setopt(wh->curl, CURLOPT_URL, wh->url);
	curl_easy_setopt(wh->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(wh->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(wh->curl, CURLOPT_HTTPHEADER, wh->headers);
	curl_easy_setopt(wh->curl, CURLOPT_TIMEOUT_MS, (long)(wh->opts.timeout_seconds * 1000));
	curl_easy_setopt(wh->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(wh->opts.timeout_seconds * 1000));
	curl_easy_setopt(wh->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(wh->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(wh->curl, CURLOPT_USERAGENT, "fog-monitor/0.1");
	curl_easy_setopt(wh->curl, CURLOPT_WRITEFUNCTION, fog_http_body_write);
	curl_easy_setopt(wh->curl, CURLOPT_WRITEDATA, &wh->reply);
	curl_easy_setopt(wh->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(wh->curl, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(wh->curl, CURLOPT_XFERINFODATA, wh);
	rc = curl_easy_perform(wh->curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return STOPPED;
	if (rc != CURLE_OK) {
		snprintf(why, len, "%s", curl_easy_strerror(rc));
		return RETRY;
	}
	curl_easy_getinfo(wh->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return SENT;
	for (char *p = wh->reply.p; p && *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	snprintf(why, len, "HTTP %ld%s%s", code, wh->reply.len ? ": " : "",
		 wh->reply.p ? wh->reply.p : "");
	return code == 408 || code == 429 || code >= 500 ? RETRY : REJECTED;
}

/* Removes queue[head]; the caller holds the lock. */
static void pop(struct fog_webhook *wh)
{
	free(wh->queue[wh->head]);
	wh->queue[wh->head] = NULL;
	wh->head = (wh->head + 1) % wh->opts.queue_len;
	wh->count--;
	wh->attempts = 0;
	wh->next_try = 0;
	if (!wh->count)
		pthread_cond_broadcast(&wh->cond);
}

static void *worker(void *arg)
{
	struct fog_webhook *wh = arg;
	char why[REPLY_KEEP + 64];

	pthread_mutex_lock(&wh->lock);
	for (;;) {
		enum outcome o;
		char *body;

		while (!wh->stop && (!wh->count || fog_mono_now() < wh->next_try))
			fog_cond_wait_until(&wh->cond, &wh->lock,
					    wh->count ? wh->next_try : INFINITY);
		if (wh->stop)
			break;
		body = wh->queue[wh->head];
		wh->in_flight = true;
		pthread_mutex_unlock(&wh->lock);

		why[0] = 0;
		o = deliver(wh, body, why, sizeof(why));

		pthread_mutex_lock(&wh->lock);
		wh->in_flight = false;
		switch (o) {
		case SENT:
			wh->stats.sent++;
			pop(wh);
			break;
		case REJECTED:
			fog_warnx("%s %s rejected a post, dropping it: %s", wh->name, wh->shown, why);
			wh->stats.failed++;
			pop(wh);
			break;
		case RETRY:
			if (++wh->attempts >= wh->opts.max_attempts) {
				fog_warnx("%s %s: giving up after %u attempts: %s", wh->name,
					  wh->shown, wh->attempts, why);
				wh->stats.failed++;
				pop(wh);
				break;
			}
			wh->stats.retried++;
			wh->next_try = fog_mono_now() +
				       fog_backoff_delay(wh->attempts, wh->opts.retry_seconds,
							 wh->opts.retry_max_seconds, uniform(wh));
			if (wh->attempts == 1)
				fog_warnx("%s %s: %s; retrying with backoff", wh->name, wh->shown,
					  why);
			else
				fog_debug("%s %s: attempt %u: %s", wh->name, wh->shown, wh->attempts,
					  why);
			break;
		case STOPPED:
			break;
		}
	}
	pthread_mutex_unlock(&wh->lock);
	return NULL;
}

struct fog_webhook *fog_webhook__new(const char *url, const struct fog_webhook_opts *opts)
{
	struct fog_webhook *wh;
	char err[256];
	int ret;

	if (fog_webhook_check_url(url, err, sizeof(err)) || !opts->queue_len ||
	    !opts->max_attempts || !(opts->timeout_seconds > 0)) {
		errno = EINVAL;
		return NULL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK) {
		errno = ENOMEM;
		return NULL;
	}
	wh = calloc(1, sizeof(*wh));
	if (!wh)
		return NULL;
	wh->opts = *opts;
	snprintf(wh->name, sizeof(wh->name), "%s", opts->name ? opts->name : "webhook");
	wh->opts.name = wh->name;
	wh->url = strdup(url);
	wh->reply = (struct fog_http_body){ .max = REPLY_KEEP - 1, .keep_head = true };
	fog_url_redact(wh->shown, sizeof(wh->shown), url);
	wh->queue = calloc(opts->queue_len, sizeof(*wh->queue));
	wh->curl = curl_easy_init();
	wh->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* no "Expect: 100-continue" round trip before bodies over 1 KiB */
	if (wh->headers && !curl_slist_append(wh->headers, "Expect:")) {
		curl_slist_free_all(wh->headers);
		wh->headers = NULL;
	}
	if (!wh->url || !wh->queue || !wh->curl || !wh->headers) {
		ret = -ENOMEM;
		goto out_free;
	}
	wh->rng = (uint64_t)(fog_mono_now() * 1e9) ^ (uint64_t)(uintptr_t)wh;
	if (!wh->rng)
		wh->rng = 88172645463325252ull;
	pthread_mutex_init(&wh->lock, NULL);
	ret = fog_cond_init_mono(&wh->cond);
	if (ret)
		goto out_mutex;
	ret = -pthread_create(&wh->thread, NULL, worker, wh);
	if (ret)
		goto out_cond;
	return wh;

out_cond:
	pthread_cond_destroy(&wh->cond);
out_mutex:
	pthread_mutex_destroy(&wh->lock);
out_free:
	curl_slist_free_all(wh->headers);
	if (wh->curl)
		curl_easy_cleanup(wh->curl);
	free(wh->queue);
	free(wh->url);
	free(wh);
	errno = -ret;
	return NULL;
}

void fog_webhook__free(struct fog_webhook *wh)
{
	if (!wh)
		return;
	pthread_mutex_lock(&wh->lock);
	wh->stop = true;
	pthread_cond_broadcast(&wh->cond);
	pthread_mutex_unlock(&wh->lock);
	pthread_join(wh->thread, NULL);
	while (wh->count)
		pop(wh);
	pthread_cond_destroy(&wh->cond);
	pthread_mutex_destroy(&wh->lock);
	curl_slist_free_all(wh->headers);
	curl_easy_cleanup(wh->curl);
	fog_http_body_reset(&wh->reply);
	free(wh->queue);
	free(wh->url);
	free(wh);
}

int fog_webhook__post(struct fog_webhook *wh, const char *body)
{
	unsigned int len = wh->opts.queue_len;
	char *copy = strdup(body);

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&wh->lock);
	if (wh->count == len) {
		/* the oldest body not in flight goes: newer ones say more */
		unsigned int victim = wh->in_flight ? 1 : 0;

		wh->stats.dropped++;
		if (victim >= wh->count) {
			pthread_mutex_unlock(&wh->lock);
			free(copy);
			return 0;
		}
		free(wh->queue[(wh->head + victim) % len]);
		for (unsigned int k = victim; k + 1 < wh->count; k++)
			wh->queue[(wh->head + k) % len] = wh->queue[(wh->head + k + 1) % len];
		wh->count--;
		if (!victim) {
			wh->attempts = 0;
			wh->next_try = 0;
		}
	}
	wh->queue[(wh->head + wh->count) % len] = copy;
	wh->count++;
	pthread_cond_broadcast(&wh->cond);
	pthread_mutex_unlock(&wh->lock);
	return 0;
}

int fog_webhook__drain(struct fog_webhook *wh, double timeout_seconds)
{
	double deadline = fog_mono_now() + timeout_seconds;
	int err = 0;

	pthread_mutex_lock(&wh->lock);
	while (wh->count) {
		if (fog_cond_wait_until(&wh->cond, &wh->lock, deadline) == ETIMEDOUT && wh->count) {
			err = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&wh->lock);
	return err;
}

void fog_webhook__stats(struct fog_webhook *wh, struct fog_webhook_stats *out)
{
	pthread_mutex_lock(&wh->lock);
	*out = wh->stats;
	pthread_mutex_unlock(&wh->lock);
}
