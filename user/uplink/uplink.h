/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The uplink: fogd's series pushed by Prometheus remote write from an
 * on-disk buffer that outlives outages and restarts.
 *
 * The loop hands each tick's exposition text over (fog_uplink__push copies
 * it and returns); one thread does the rest, so the loop never waits on the
 * disk or the network: it encodes the text per class (alert, host, detail),
 * appends it to that class's segment log, syncs the logs every sync_s, and
 * sends what is synced and not yet acknowledged. Live records go first, then
 * the backlog of an outage, alert class first and oldest first within a
 * class, at most max_bytes_per_s of it. Over the byte budget, old segments
 * are merged to step_s, then coarse_step_s, before any is removed; what is
 * removed is counted by class and reason.
 */
#ifndef FOG_UPLINK_H
#define FOG_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "uplink/encode.h"

struct fog_uplink_opts {
	const char *url;
	const char *dir;		    /* segment logs, one folder per class beneath */
	unsigned long long max_bytes;	    /* the logs' budget */
	double max_age_s;		    /* records older than this are removed */
	double sync_s;			    /* appended records are made durable this often */
	unsigned long long max_bytes_per_s; /* backlog sent at most this fast */
	double timeout_s;		    /* of one POST */
	double min_backoff_s, max_backoff_s;
	double step_s, coarse_step_s; /* downsampling steps */
	const char *ca_file;	      /* NULL: the system's CAs */
	const char *username;	      /* basic auth, with password_file */
	const char *password_file;
	const char *bearer_file;   /* bearer token file */
	const char *const *labels; /* added to every series: name, value, ..., NULL */
};

enum fog_uplink_drop {
	FOG_UPLINK_DROP_BUDGET,	  /* over max_bytes after downsampling */
	FOG_UPLINK_DROP_AGE,	  /* older than max_age_s */
	FOG_UPLINK_DROP_REJECTED, /* the receiver answered 4xx (not 429) */
	FOG_UPLINK_DROP_WRITE,	  /* could not be written (full disk, I/O error) */
	FOG_UPLINK_DROP_CORRUPT,  /* changed on disk after it was written (counted in records) */
	FOG_UPLINK_DROPS,
};

const char *fog_uplink_drop_name(enum fog_uplink_drop d);

struct fog_uplink_stats {
	bool running;	 /* the logs are open */
	bool connected;	 /* the last POST was answered 2xx */
	char error[160]; /* the last failure (never a credential), or "" */
	unsigned long long backlog_bytes[FOG_UPLINK_CLASSES];
	unsigned long long backlog_samples[FOG_UPLINK_CLASSES];
	double backlog_age_s; /* of the oldest record not acknowledged, 0 for none */
	unsigned long long disk_bytes;
	unsigned long long sent[FOG_UPLINK_CLASSES];	    /* samples acknowledged */
	unsigned long long retried[FOG_UPLINK_CLASSES];	    /* samples in POSTs to be retried */
	unsigned long long downsampled[FOG_UPLINK_CLASSES]; /* samples merged away */
	unsigned long long dropped[FOG_UPLINK_CLASSES][FOG_UPLINK_DROPS];
	unsigned long long requests_ok, requests_retried, requests_rejected;
	unsigned long long bytes_sent;			 /* compressed bodies acknowledged */
	unsigned long long torn_tails, corrupt_segments; /* cut when the logs were opened */
	unsigned long long snapshots;			 /* expositions handed over */
	unsigned long long snapshots_dropped; /* not written: the thread was that far behind */
	unsigned long long bad_lines;	      /* exposition lines that were not samples */
	unsigned long long append_ns, appended_samples; /* cost of encoding and writing */
};

struct fog_uplink;

/* Starts the thread; the logs are opened on it. NULL with errno. */
struct fog_uplink *fog_uplink__new(const struct fog_uplink_opts *o);
/* Syncs the logs, saves what was acknowledged and stops the thread. */
void fog_uplink__free(struct fog_uplink *u);
/* Hands one exposition over (copied); never blocks on the disk or the network. */
void fog_uplink__push(struct fog_uplink *u, const char *text, size_t len, __s64 ts_ms);
void fog_uplink__stats(struct fog_uplink *u, struct fog_uplink_stats *st);

#endif /* FOG_UPLINK_H */
