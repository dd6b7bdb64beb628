/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What fogd's HTTP clients (webhooks, Alertmanager, the extender's Prometheus
 * queries) share on top of libcurl (loaded on first use, curl_dl.c): a
 * response body kept in memory with a bound, as CURLOPT_WRITEFUNCTION.
 */
#ifndef FOG_BASE_HTTP_CLIENT_H
#define FOG_BASE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct fog_http_body {
	char *p;	/* NUL-terminated; NULL until the first byte */
	size_t len;
	size_t max;	/* bytes kept at most */
	bool keep_head;	/* past max: keep the first max bytes and read on (else abort) */
};

/*
 * libcurl's write callback (CURLOPT_WRITEDATA: a struct fog_http_body): appends;
 * a body over max aborts the transfer (CURLE_WRITE_ERROR), or with keep_head
 * is cut at max while the transfer goes on; out of memory aborts.
 */
size_t fog_http_body_write(char *data, size_t size, size_t n, void *body);
/* Frees what the body holds and empties it (max and keep_head stay). */
void fog_http_body_reset(struct fog_http_body *b);

#endif /* FOG_BASE_HTTP_CLIENT_H */
