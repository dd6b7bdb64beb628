/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Webhooks: JSON bodies POSTed to one URL in order from a bounded queue by a
 * worker thread (libcurl), so posting never blocks the caller. Failed
 * deliveries are retried with exponential backoff; Alertmanager is one such
 * target.
 */
#ifndef FOG_MONITOR_WEBHOOK_H
#define FOG_MONITOR_WEBHOOK_H

#include <stddef.h>

struct fog_webhook;

struct fog_webhook_opts {
	const char *name;	   /* in log messages: "webhook", "alertmanager" */
	unsigned int queue_len;	   /* bodies waiting at most; the oldest waiting is dropped */
	unsigned int max_attempts; /* tries per body */
	double retry_seconds;	   /* delay before the first retry, doubled each time */
	double retry_max_seconds;  /* cap of that delay */
	double timeout_seconds;	   /* per attempt, connecting included */
};

struct fog_webhook_stats {
	unsigned long sent;
	unsigned long retried;
	unsigned long failed;  /* given up: attempts exhausted or a 4xx answer */
	unsigned long dropped; /* pushed out of a full queue */
};

/* Accepts http:// and https:// URLs with a host; -EINVAL with err otherwise. */
int fog_webhook_check_url(const char *url, char *err, size_t errlen);

/*
 * The delay before retry number attempt (1, 2, ...): d = min(max, initial *
 * 2^(attempt - 1)), then "equal jitter": d / 2 + u * d / 2 with u uniform in
 * [0, 1), so hosts that lost the same receiver do not retry in step (Brooker,
 * "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 */
double fog_backoff_delay(unsigned int attempt, double initial, double max, double u);

/* Starts the worker for url (checked); NULL + errno. */
struct fog_webhook *fog_webhook__new(const char *url, const struct fog_webhook_opts *opts);
/* Aborts a delivery in flight and drops what waits; NULL is fine. */
void fog_webhook__free(struct fog_webhook *wh);

/* Queues a copy of body; -ENOMEM. A full queue drops its oldest waiting body. */
int fog_webhook__post(struct fog_webhook *wh, const char *body);

/* Waits until every queued body is delivered or given up; -ETIMEDOUT. */
int fog_webhook__drain(struct fog_webhook *wh, double timeout_seconds);

void fog_webhook__stats(struct fog_webhook *wh, struct fog_webhook_stats *out);

#endif /* FOG_MONITOR_WEBHOOK_H */
