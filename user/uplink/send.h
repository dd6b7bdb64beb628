/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The remote-write client: POSTs a snappy-compressed WriteRequest with the
 * headers of the remote write 1.0 spec to the operator's URL (TLS and basic
 * or bearer credentials through libcurl), and says what to do with the
 * answer: done, retry later (5xx, 429, no answer) or give up (other 4xx).
 */
#ifndef FOG_UPLINK_SEND_H
#define FOG_UPLINK_SEND_H

#include <stdbool.h>
#include <stddef.h>

enum fog_rw_result {
	FOG_RW_OK,	 /* 2xx */
	FOG_RW_RETRY,	 /* 5xx, 429, or no answer: send again after a backoff */
	FOG_RW_REJECTED, /* any other status: the receiver will never take this body */
};

/* What an HTTP status means for a body (0: no answer). */
enum fog_rw_result fog_rw_classify(long status);
/* The next retry delay after one of prev seconds (0 for the first), within min..max. */
double fog_rw_backoff(double prev, double min, double max);

/*
 * Reads a credential file (at most 4 KiB, a regular file, one line; a final
 * newline is dropped) into buf; err says what is wrong, never the content.
 */
int fog_rw_read_secret(const char *path, char *buf, size_t len, char *err, size_t errlen);

struct fog_rw_client_opts {
	const char *url;
	const char *ca_file;  /* NULL: the system's CAs */
	const char *username; /* basic auth with password, NULL for none */
	const char *password;
	const char *bearer; /* bearer token, NULL for none */
	double timeout_s;
	const int *cancel; /* a POST under way ends when *cancel turns non-zero (NULL: never) */
};

struct fog_rw_client;

/* Copies opts (credentials included, wiped at free). NULL with errno. */
struct fog_rw_client *fog_rw_client__new(const struct fog_rw_client_opts *opts);
void fog_rw_client__free(struct fog_rw_client *c);
/*
 * POSTs body; *status is the HTTP status or 0. err gets a short reason for
 * a failure (libcurl's message, or the status with the start of the answer,
 * non-printing bytes replaced): it never holds a credential.
 */
enum fog_rw_result fog_rw_client__post(struct fog_rw_client *c, const void *body, size_t len,
				       long *status, char *err, size_t errlen);

#endif /* FOG_UPLINK_SEND_H */
