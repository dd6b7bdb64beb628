/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP serving through libmicrohttpd, driven by fogd's event loop (MHD's
 * epoll fd is one more fd in the loop; no threads). One route table serves
 * every listener: the Unix socket (mode 0600, or 0660 for [fogd]
 * socket_group) and TCP.
 *
 * The trust boundary: any local user, and any web page through DNS
 * rebinding, reaches the TCP listener. Each route declares where it may be
 * served (enum fog_http_where); TCP serves what a scraper needs unless the
 * operator opens more ([http] tcp_api, tcp_pprof), checks the Host header,
 * and the Unix socket serves root and members of socket_group only
 * (SO_PEERCRED).
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
	bool local;	/* it came through a Unix socket (from root or socket_group) */
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
/*
 * Listens on a Unix socket created with the given mode (a stale socket file is
 * replaced) and group (gid, or -1 to keep fogd's own).
 */
int fog_http__listen_unix(struct fog_http *h, const char *path, unsigned int mode, int gid);
/* Listens on TCP host:port (numeric host). */
int fog_http__listen_tcp(struct fog_http *h, const char *host, unsigned int port);
/* Where a route is served: every route is served on the Unix socket. */
enum fog_http_where {
	FOG_HTTP_UNIX,	/* the Unix socket only: calls that change state, stored data */
	FOG_HTTP_TCP,	/* TCP too, always: what a scraper needs (/metrics, extender) */
	FOG_HTTP_TCP_API,	/* TCP too when [http] tcp_api is on: the JSON API's reads */
	FOG_HTTP_TCP_PPROF,	/* TCP too when [http] tcp_pprof is on: profiles, pprof */
};

/* What the TCP listeners serve beyond FOG_HTTP_TCP; changed on reload. */
struct fog_http_policy {
	bool tcp_api;
	bool tcp_pprof;
	char allowed_hosts[256];	/* more Host names, comma or space separated */
	bool have_group;	/* members of group are served on the Unix socket */
	unsigned int group;	/* gid of [fogd] socket_group */
};

/*
 * Adds a route: path is matched exactly, or as a prefix when it ends in '/'.
 * method NULL matches any method. Where it is not served, a request gets 403
 * with what opens it.
 */
int fog_http__route(struct fog_http *h, const char *method, const char *path,
		    enum fog_http_where where, fog_http_handler_fn fn, void *ctx);
/* A part's routes as one table, registered by fog_http__routes. */
struct fog_http_route {
	const char *method;	/* NULL: any */
	const char *path;	/* exact, or a prefix when it ends in '/' */
	enum fog_http_where where;
	fog_http_handler_fn fn;
};
/* Adds the n routes of table r, each with ctx: 0, or the first route's error. */
int fog_http__routes(struct fog_http *h, const struct fog_http_route *r, size_t n, void *ctx);
#define FOG_HTTP_ROUTES(h, table, ctx)                                                             \
	fog_http__routes((h), (table), sizeof(table) / sizeof((table)[0]), (ctx))
/* Sets what TCP serves and who the Unix socket serves (copied). */
void fog_http__set_policy(struct fog_http *h, const struct fog_http_policy *p);
/* Counts of refused requests: by the Unix peer check, by the Host check, by route scope. */
void fog_http__refused(const struct fog_http *h, unsigned long long *peer,
		       unsigned long long *host, unsigned long long *scope);
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

/*
 * Whether a request's Host header (NULL when absent) names a TCP listener on
 * listen_host:port: its address, localhost, or a name in allowed (comma or
 * space separated), each with or without the listener's port; on a wildcard
 * listener (0.0.0.0, ::) any IP address. DNS rebinding sends a name that is
 * none of these.
 */
bool fog_http_host_ok(const char *host, const char *listen_host, unsigned int port,
		      const char *allowed);
/* The 403 text of a route not served on TCP, e.g. "... set [http] tcp_api = on". */
const char *fog_http_where_hint(enum fog_http_where where);

/* A query argument or NULL. */
const char *fog_http_arg(const struct fog_http_req *req, const char *key);
/*
 * A query or path argument as an unsigned decimal in 0..max (no sign, no
 * space, nothing after it): 0, or -EINVAL. The request's bytes are the
 * caller's to echo in the error.
 */
int fog_http_parse_u64(const char *v, unsigned long long max, unsigned long long *out);
/* Sets resp to the JSON text of j (takes ownership of j). */
int fog_http_json(struct fog_http_resp *resp, int status, json_t *j);
/* Sets resp to {"error": msg} with the given status. */
int fog_http_error(struct fog_http_resp *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* FOG_HTTP_H */
