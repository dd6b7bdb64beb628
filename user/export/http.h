/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP serving through libmicrohttpd, driven by fogd's event loop (MHD's
 * epoll fd is one more fd in the loop; no threads). One route table serves
 * every listener: the 0600 Unix socket and, later, TCP.
 */
#ifndef FOG_HTTP_H
#define FOG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct fog_loop;
struct fog_http;
struct MHD_Connection;

#define FOG_HTTP_MAX_BODY (1 << 20)

struct fog_http_req {
	const char *method;
	const char *path;	/* without the query string */
	const char *body;	/* NUL-terminated, may be empty */
	size_t body_len;
	const char *accept;	/* Accept header or "" */
	bool local;	/* it came through a Unix socket */
	struct MHD_Connection *conn;
	void *slot;	/* http.c's own per-request state */
};

struct fog_http_resp {
	int status;
	const char *content_type;
	char *body;	/* from fog_heap_buf_get (or malloc); the server gives it back */
	size_t len;
	const char *content_encoding;	/* NULL or e.g. "gzip" */
};

/*
 * Fills resp; returns 0, or a negative errno for a 500. A handler that
 * answers later returns FOG_HTTP_DEFERRED after fog_http_defer().
 */
#define FOG_HTTP_DEFERRED 1
typedef int (*fog_http_handler_fn)(const struct fog_http_req *req, struct fog_http_resp *resp,
				   void *ctx);

struct fog_http *fog_http__new(struct fog_loop *loop);
void fog_http__free(struct fog_http *h);
/* Listens on a Unix socket created with the given mode (a stale socket file is replaced). */
int fog_http__listen_unix(struct fog_http *h, const char *path, unsigned int mode);
/* Listens on TCP host:port (numeric host). */
int fog_http__listen_tcp(struct fog_http *h, const char *host, unsigned int port);
/*
 * Adds a route: path is matched exactly, or as a prefix when it ends in '/'.
 * method NULL matches any method.
 */
int fog_http__route(struct fog_http *h, const char *method, const char *path,
		    fog_http_handler_fn fn, void *ctx);
/*
 * Adds a route served only on Unix-socket listeners (mode 0600): every call
 * that changes state goes through here. On TCP it answers 403.
 */
int fog_http__route_local(struct fog_http *h, const char *method, const char *path,
			  fog_http_handler_fn fn, void *ctx);
/* Runs MHD's timeouts; call now and then (each tick). */
void fog_http__run(struct fog_http *h);

/*
 * Answering later without holding the loop (a profile that samples for N
 * seconds): the handler takes a token with fog_http_defer(req) and returns
 * FOG_HTTP_DEFERRED; the connection is suspended until the owner calls
 * fog_http_finish() with the response, exactly once, from the loop (never
 * from inside a handler). The token is valid until then. A suspended
 * connection counts against the connection limit and does not time out, so
 * owners bound how long they keep one. fog_http__free answers any left with
 * a 503, but owners freed earlier must finish theirs first.
 */
struct fog_http_later;
struct fog_http_later *fog_http_defer(const struct fog_http_req *req);
/* Sends resp (its body is given back by the server); resp NULL sends a 503. */
void fog_http_finish(struct fog_http_later *later, struct fog_http_resp *resp);

/* A query argument or NULL. */
const char *fog_http_arg(const struct fog_http_req *req, const char *key);
/* Sets resp to the JSON text of j (takes ownership of j). */
int fog_http_json(struct fog_http_resp *resp, int status, json_t *j);
/* Sets resp to {"error": msg} with the given status. */
int fog_http_error(struct fog_http_resp *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* FOG_HTTP_H */
