// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <microhttpd.h>

#include "base/clock.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/text.h"
#include "export/http.h"

#define HTTP_MAX_ROUTES 64
#define HTTP_MAX_LISTENERS 4
#define HTTP_SLOW_NS 100000000ull	/* a handler this slow is logged */
#define HTTP_SLOW_LOG_NS 10000000000ull	/* at most one such line per 10 s */
#define HTTP_REFUSED_LOG_NS 10000000000ull	/* refusals: one line per kind per 10 s */
#define HTTP_MAX_PEER_GROUPS 4096

struct route {
	const char *method;
	enum fog_http_where where;
	char path[96];
	bool prefix;
	fog_http_handler_fn fn;
	void *ctx;
};

struct listener {
	struct fog_http *owner;
	struct MHD_Daemon *d;
	int epfd;
	int sock;
	char unix_path[108];	/* "" for TCP */
	char tcp_host[64];	/* TCP: the numeric address it is bound to */
	unsigned int tcp_port;
};

/* Requests refused at the trust boundary, counted and logged rate-limited. */
struct refusals {
	unsigned long long n;
	__u64 logged_ns;	/* when one was last logged, 0: never */
	unsigned long long n_logged;	/* n at that time */
};

struct fog_http {
	struct fog_loop *loop;
	struct route routes[HTTP_MAX_ROUTES];
	unsigned int n_routes;
	struct listener listeners[HTTP_MAX_LISTENERS];
	unsigned int n_listeners;
	struct pending *suspended;	/* deferred requests not yet answered */
	/*
	 * Set once teardown starts: the modules behind the routes may already be
	 * freed, so requests MHD still reads are answered 503 without a handler.
	 */
	bool stopping;
	__u64 slow_logged_ns;	/* when a slow handler was last logged, 0: never */
	struct fog_http_policy policy;
	struct refusals peer, host, scope;	/* Unix peer check, Host check, route scope */
};

/*
 * Per-request state kept by MHD between calls: the body read so far, and for
 * a deferred answer the response waiting for the resumed connection.
 */
struct pending {
	char *body;
	size_t len;
	bool too_large;
	bool peer_refused;	/* the Unix peer is neither root nor in socket_group */
	unsigned int peer_uid, peer_gid;
	struct listener *l;
	struct MHD_Connection *conn;
	bool suspended;
	bool answered;	/* resp holds the deferred answer */
	struct fog_http_resp resp;
	struct pending *next_suspended;
};

struct fog_http *fog_http__new(struct fog_loop *loop)
{
	struct fog_http *h = calloc(1, sizeof(*h));

	if (h)
		h->loop = loop;
	return h;
}

void fog_http__free(struct fog_http *h)
{
	if (!h)
		return;
	h->stopping = true;
	/* MHD must not be stopped with suspended connections: answer them first */
	while (h->suspended)
		fog_http_finish((struct fog_http_later *)h->suspended, NULL);
	for (unsigned int i = 0; i < h->n_listeners; i++)
		MHD_run(h->listeners[i].d);	/* takes the resumed ones back */
	for (unsigned int i = 0; i < h->n_listeners; i++) {
		struct listener *l = &h->listeners[i];

		if (h->loop)
			fog_loop__del_fd(h->loop, l->epfd);
		MHD_stop_daemon(l->d);
		close(l->sock);
		if (l->unix_path[0])
			unlink(l->unix_path);
	}
	free(h);
}

int fog_http__route(struct fog_http *h, const char *method, const char *path,
		    enum fog_http_where where, fog_http_handler_fn fn, void *ctx)
{
	struct route *r;

	if ((unsigned int)where > FOG_HTTP_TCP_PPROF)
		return -EINVAL;
	if (h->n_routes == HTTP_MAX_ROUTES || strlen(path) >= sizeof(r->path))
		return -ENOSPC;
	r = &h->routes[h->n_routes++];
	r->where = where;
	r->method = method;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->prefix = strlen(path) > 1 && path[strlen(path) - 1] == '/';
	r->fn = fn;
	r->ctx = ctx;
	return 0;
}

int fog_http__routes(struct fog_http *h, const struct fog_http_route *r, size_t n, void *ctx)
{
	int err;

	for (size_t i = 0; i < n; i++) {
		err = fog_http__route(h, r[i].method, r[i].path, r[i].where, r[i].fn, ctx);
		if (err)
			return err;
	}
	return 0;
}

void fog_http__set_policy(struct fog_http *h, const struct fog_http_policy *p)
{
	h->policy = *p;
}

void fog_http__refused(const struct fog_http *h, unsigned long long *peer,
		       unsigned long long *host, unsigned long long *scope)
{
	*peer = h->peer.n;
	*host = h->host.n;
	*scope = h->scope.n;
}

const char *fog_http_where_hint(enum fog_http_where where)
{
	switch (where) {
	case FOG_HTTP_TCP_API:
		return "served on fogd's Unix socket; to serve it on TCP too, set [http] "
		       "tcp_api = on";
	case FOG_HTTP_TCP_PPROF:
		return "served on fogd's Unix socket; to serve it on TCP too, set [http] "
		       "tcp_pprof = on";
	case FOG_HTTP_UNIX:
		return "only served on fogd's Unix socket";
	case FOG_HTTP_TCP:
		break;
	}
	return "served on TCP";
}

static bool served_on_tcp(const struct fog_http *h, enum fog_http_where where)
{
	switch (where) {
	case FOG_HTTP_TCP:
		return true;
	case FOG_HTTP_TCP_API:
		return h->policy.tcp_api;
	case FOG_HTTP_TCP_PPROF:
		return h->policy.tcp_pprof;
	case FOG_HTTP_UNIX:
		break;
	}
	return false;
}

/* Splits a Host value into name and port (0: none); false when it has no such form. */
static bool split_host(const char *v, char *name, size_t len, unsigned int *port)
{
	const char *end, *colon;
	size_t n;

	*port = 0;
	if (v[0] == '[') {
		end = strchr(v, ']');
		if (!end)
			return false;
		v++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return false;
	} else {
		colon = strchr(v, ':');
		if (colon && strchr(colon + 1, ':'))
			return false;	/* a bare IPv6 address needs brackets */
		end = colon ? colon : v + strlen(v);
	}
	n = (size_t)(end - v);
	if (!n || n >= len)
		return false;
	memcpy(name, v, n);
	name[n] = '\0';
	if (colon) {
		unsigned long p = 0;
		const char *c = colon + 1;

		if (!*c || strlen(c) > 5)
			return false;
		for (; *c; c++) {
			if (*c < '0' || *c > '9')
				return false;
			p = p * 10 + (unsigned long)(*c - '0');
		}
		if (!p || p > 65535)
			return false;
		*port = (unsigned int)p;
	}
	return true;
}

/* Both numeric addresses of one family and equal (so "::1" names "0::1"). */
static bool same_address(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && !memcmp(x, y, 4);
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 && !memcmp(x, y, 16);
	return false;
}

static bool is_ip_literal(const char *s)
{
	unsigned char x[16];

	return inet_pton(AF_INET, s, x) == 1 || inet_pton(AF_INET6, s, x) == 1;
}

static bool in_allowed(const char *name, unsigned int port, const char *allowed)
{
	char entry[256], ename[256];
	unsigned int eport;

	while (allowed && *allowed) {
		size_t n = strcspn(allowed, ", \t");

		if (n && n < sizeof(entry)) {
			memcpy(entry, allowed, n);
			entry[n] = '\0';
			if (split_host(entry, ename, sizeof(ename), &eport) &&
			    (!eport || eport == port) &&
			    (!strcasecmp(ename, name) || same_address(ename, name)))
				return true;
		}
		allowed += n;
		allowed += strspn(allowed, ", \t");
	}
	return false;
}

bool fog_http_host_ok(const char *host, const char *listen_host, unsigned int port,
		      const char *allowed)
{
	char name[256];
	unsigned int hport;

	if (!host || !split_host(host, name, sizeof(name), &hport))
		return false;
	if (hport && hport != port)
		return false;
	if (!strcasecmp(name, "localhost") || same_address(name, listen_host))
		return true;
	/* a wildcard listener is named by any of the host's addresses */
	if ((!strcmp(listen_host, "0.0.0.0") || same_address(listen_host, "::")) &&
	    is_ip_literal(name))
		return true;
	return in_allowed(name, hport ? hport : port, allowed);
}

/* Counts one refusal; logs it unless one of its kind was logged in the last 10 s. */
static void note_refused(struct refusals *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

const char *fog_http_arg(const struct fog_http_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

int fog_http_json(struct fog_http_resp *resp, int status, json_t *j)
{
	const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(17);
	size_t len = json_dumpb(j, NULL, 0, flags);
	char *text = len ? fog_heap_buf_get(len) : NULL;

	if (text)
		json_dumpb(j, text, len, flags);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = text;
	resp->len = len;
	return 0;
}

int fog_http_parse_u64(const char *v, unsigned long long max, unsigned long long *out)
{
	unsigned long long n;
	char *end;

	if (!v || *v < '0' || *v > '9')
		return -EINVAL;	/* strtoull would take a sign or spaces */
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end || errno || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

int fog_http_error(struct fog_http_resp *resp, int status, const char *fmt, ...)
{
	char raw[512], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* messages echo request bytes: keep them valid UTF-8 so the 4xx stays a 4xx */
	fog_utf8_sanitize(msg, sizeof(msg), raw);
	return fog_http_json(resp, status, json_pack("{s:s}", "error", msg));
}

struct fog_http_later *fog_http_defer(const struct fog_http_req *req)
{
	struct pending *p = req->slot;

	p->suspended = true;
	return (struct fog_http_later *)p;
}

void fog_http_finish(struct fog_http_later *later, struct fog_http_resp *resp)
{
	struct pending *p = (struct pending *)later, **pp;
	struct fog_http *h = p->l->owner;

	for (pp = &h->suspended; *pp; pp = &(*pp)->next_suspended) {
		if (*pp == p) {
			*pp = p->next_suspended;
			break;
		}
	}
	if (resp) {
		p->resp = *resp;
	} else {
		p->resp = (struct fog_http_resp){ 0 };
		fog_http_error(&p->resp, 503, "fogd is stopping");
	}
	p->answered = true;
	/*
	 * MHD wakes its own epoll fd (its inter-thread channel) on a resume, so
	 * the loop runs it next; running it here could re-enter the caller
	 */
	MHD_resume_connection(p->conn);
}

/* An exact path wins over prefixes; among prefixes the longest wins. */
static const struct route *find_route(struct fog_http *h, const char *method, const char *path,
				      bool *path_known)
{
	const struct route *best = NULL;
	size_t best_len = 0;
	bool best_exact = false;

	*path_known = false;
	for (unsigned int i = 0; i < h->n_routes; i++) {
		const struct route *r = &h->routes[i];
		size_t len = strlen(r->path);
		bool exact = !r->prefix && !strcmp(path, r->path);

		if (!exact && !(r->prefix && !strncmp(path, r->path, len)))
			continue;
		*path_known = true;
		if (r->method && strcmp(r->method, method))
			continue;
		if (!best || (exact && !best_exact) || (exact == best_exact && len > best_len)) {
			best = r;
			best_len = len;
			best_exact = exact;
		}
	}
	return best;
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, struct fog_http_resp *r)
{
	struct MHD_Response *m;
	enum MHD_Result ret;

	m = MHD_create_response_from_buffer_with_free_callback(r->len, r->body, fog_heap_buf_put);
	if (!m) {
		fog_heap_buf_put(r->body);
		return MHD_NO;
	}
	MHD_add_response_header(m, "Content-Type", r->content_type ? r->content_type : "text/plain");
	if (r->content_encoding)
		MHD_add_response_header(m, "Content-Encoding", r->content_encoding);
	ret = MHD_queue_response(conn, (unsigned int)r->status, m);
	MHD_destroy_response(m);
	return ret;
}

/*
 * A handler runs on fogd's loop: one that takes HTTP_SLOW_NS or more holds
 * every other answer, so it is logged by name (at most one line per
 * HTTP_SLOW_LOG_NS; the loop's own stall count says how often).
 */
static void note_slow(struct fog_http *h, const char *method, const char *url, __u64 took)
{
	__u64 now;

	if (took < HTTP_SLOW_NS)
		return;
	now = fog_now_ns();
	if (h->slow_logged_ns && now - h->slow_logged_ns < HTTP_SLOW_LOG_NS)
		return;
	h->slow_logged_ns = now;
	fog_warnx("http: %s %.200s took %llu ms", method, url,
		  (unsigned long long)(took / 1000000));
}

static void note_refused(struct refusals *r, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	__u64 now = fog_now_ns();

	r->n++;
	if (r->logged_ns && now - r->logged_ns < HTTP_REFUSED_LOG_NS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fog_warnx("http: refused %s (%llu refused in all, %llu since the last such line)", msg,
		  r->n, r->n - r->n_logged);
	r->logged_ns = now;
	r->n_logged = r->n;
}

static bool peer_in_group(int fd, unsigned int group, gid_t primary)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = primary == group;

	if (found)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		if (errno != ERANGE || len > HTTP_MAX_PEER_GROUPS * sizeof(gid_t))
			return false;
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == group;
	if (groups != small)
		free(groups);
	return found;
}

/*
 * The Unix socket serves root and, with [fogd] socket_group, that group's
 * members (the socket file is then 0660 in that group): the kernel's
 * credentials of the peer (SO_PEERCRED, SO_PEERGROUPS, taken at connect)
 * decide, so a socket file left reachable by mistake still serves no one else.
 */
static bool peer_allowed(const struct fog_http *h, struct MHD_Connection *conn,
			 struct pending *p)
{
	const union MHD_ConnectionInfo *ci;
	struct ucred uc;
	socklen_t len = sizeof(uc);

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &len))
		return false;
	p->peer_uid = uc.uid;
	p->peer_gid = uc.gid;
	if (uc.uid == 0)
		return true;
	return h->policy.have_group && peer_in_group(ci->connect_fd, h->policy.group, uc.gid);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct fog_http *h = l->owner;
	struct pending *p = *con_cls;
	struct fog_http_resp resp = { .status = 200 };
	struct fog_http_req req;
	const struct route *r;
	bool known;
	__u64 t0;
	int err;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return MHD_NO;
		p->l = l;
		p->conn = conn;
		*con_cls = p;
		if (l->unix_path[0] && !peer_allowed(h, conn, p))
			p->peer_refused = true;
		return MHD_YES;
	}
	if (p->answered) {
		/* the deferred answer, called again after the resume */
		p->answered = false;
		return send_resp(conn, &p->resp);
	}
	if (*upload_size) {
		/* bounded: a body over the limit is discarded and answered with 413 */
		if (p->peer_refused || p->too_large || p->len + *upload_size > FOG_HTTP_MAX_BODY) {
			p->too_large = true;
		} else {
			char *nb = realloc(p->body, p->len + *upload_size + 1);

			if (!nb)
				return MHD_NO;
			memcpy(nb + p->len, upload, *upload_size);
			p->body = nb;
			p->len += *upload_size;
			p->body[p->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (p->peer_refused) {
		note_refused(&h->peer, "uid %u gid %u on %s: neither root nor in [fogd] socket_group",
			     p->peer_uid, p->peer_gid, l->unix_path);
		fog_http_error(&resp, 403, "fogd's socket serves root%s only",
			       h->policy.have_group ? " and members of [fogd] socket_group" : "");
		return send_resp(conn, &resp);
	}
	if (!l->unix_path[0]) {
		const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");

		if (!host && !strcmp(version, MHD_HTTP_VERSION_1_1)) {
			note_refused(&h->host, "%s %.100s without a Host header", method, url);
			fog_http_error(&resp, 400, "HTTP/1.1 request without a Host header");
			return send_resp(conn, &resp);
		}
		if (host && !fog_http_host_ok(host, l->tcp_host, l->tcp_port,
					      h->policy.allowed_hosts)) {
			note_refused(&h->host, "%s %.100s for Host '%.100s'", method, url, host);
			fog_http_error(&resp, 421, "Host '%.100s' does not name this listener (%s "
				       "port %u, localhost, or [http] allowed_hosts)", host,
				       l->tcp_host, l->tcp_port);
			return send_resp(conn, &resp);
		}
	}
	if (p->too_large) {
		fog_http_error(&resp, 413, "request body over %d bytes", FOG_HTTP_MAX_BODY);
		return send_resp(conn, &resp);
	}
	if (h->stopping) {
		fog_http_error(&resp, 503, "fogd is stopping");
		return send_resp(conn, &resp);
	}
	req = (struct fog_http_req){
		.method = method,
		.path = url,
		.body = p->body ? p->body : "",
		.body_len = p->len,
		.conn = conn,
		.local = l->unix_path[0] != '\0',
		.slot = p,
	};
	req.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	if (!req.accept)
		req.accept = "";
	r = find_route(h, method, url, &known);
	if (!r) {
		if (known)
			fog_http_error(&resp, 405, "method %s not allowed on %s", method, url);
		else
			fog_http_error(&resp, 404, "no such endpoint: %s", url);
		return send_resp(conn, &resp);
	}
	if (!req.local && !served_on_tcp(h, r->where)) {
		h->scope.n++;
		fog_http_error(&resp, 403, "%s %s is %s", method, url, fog_http_where_hint(r->where));
		return send_resp(conn, &resp);
	}
	t0 = fog_now_ns();
	err = r->fn(&req, &resp, r->ctx);
	note_slow(h, method, url, fog_now_ns() - t0);
	if (err == FOG_HTTP_DEFERRED && p->suspended) {
		MHD_suspend_connection(conn);
		p->next_suspended = h->suspended;
		h->suspended = p;
		return MHD_YES;
	}
	if (err > 0)
		err = -EPROTO;	/* deferred without taking a token */
	if (err) {
		fog_heap_buf_put(resp.body);
		resp = (struct fog_http_resp){ 0 };
		fog_http_error(&resp, 500, "%s failed: %s", url, strerror(-err));
	}
	return send_resp(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	if (p) {
		free(p->body);
		free(p);
		*con_cls = NULL;
	}
}

/*
 * MHD watches its sockets edge-triggered: when it stops reading a connection
 * whose buffer filled up (a large request body), it asks to be run again at
 * once through a zero timeout instead of a new event. Run until it has no
 * such work left, bounded so one client cannot hold the loop.
 */
static void on_ready(int fd, uint32_t events, void *ctx)
{
	MHD_UNSIGNED_LONG_LONG timeout;

	for (int i = 0; i < 256; i++) {
		MHD_run(ctx);
		if (MHD_get_timeout(ctx, &timeout) != MHD_YES || timeout > 0)
			break;
	}
}

static int add_listener(struct fog_http *h, int sock, const char *unix_path,
			const char *tcp_host, unsigned int tcp_port)
{
	struct listener *l;
	const union MHD_DaemonInfo *info;
	int err;

	if (h->n_listeners == HTTP_MAX_LISTENERS)
		return -ENOSPC;
	l = &h->listeners[h->n_listeners];
	l->owner = h;
	l->sock = sock;
	snprintf(l->unix_path, sizeof(l->unix_path), "%s", unix_path ? unix_path : "");
	snprintf(l->tcp_host, sizeof(l->tcp_host), "%s", tcp_host ? tcp_host : "");
	l->tcp_port = tcp_port;
	l->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0,
				NULL, NULL, on_request, l,
				MHD_OPTION_LISTEN_SOCKET, sock, MHD_OPTION_NOTIFY_COMPLETED,
				on_completed, h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				MHD_OPTION_END);
	if (!l->d)
		return -EIO;
	info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		MHD_stop_daemon(l->d);
		return -EIO;
	}
	l->epfd = info->epoll_fd;
	err = fog_loop__add_fd(h->loop, "http", l->epfd, EPOLLIN, on_ready, l->d);
	if (err) {
		MHD_stop_daemon(l->d);
		return err;
	}
	h->n_listeners++;
	return 0;
}

int fog_http__listen_unix(struct fog_http *h, const char *path, unsigned int mode, int gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int sock, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0)
		return -errno;
	unlink(path);
	/* created with the final mode: no window in which others could connect */
	old = umask(~mode & 0777);
	err = bind(sock, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	/* the group before the mode, so the group's bits never apply to root's group */
	if (!err && gid >= 0 && chown(path, (uid_t)-1, (gid_t)gid))
		err = -errno;
	if (!err && chmod(path, mode))
		err = -errno;
	if (!err && listen(sock, 64))
		err = -errno;
	if (!err)
		err = add_listener(h, sock, path, NULL, 0);
	if (err) {
		close(sock);
		unlink(path);
	}
	return err;
}

int fog_http__listen_tcp(struct fog_http *h, const char *host, unsigned int port)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr *sa;
	socklen_t len;
	int sock, one = 1, err;

	if (port == 0 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &sa4.sin_addr) == 1) {
		sa = (struct sockaddr *)&sa4;
		len = sizeof(sa4);
	} else if (inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1) {
		sa = (struct sockaddr *)&sa6;
		len = sizeof(sa6);
	} else {
		return -EINVAL;
	}
	sock = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0)
		return -errno;
	setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	err = bind(sock, sa, len) ? -errno : 0;
	if (!err && listen(sock, 128))
		err = -errno;
	if (!err)
		err = add_listener(h, sock, NULL, host, port);
	if (err)
		close(sock);
	return err;
}

void fog_http__run(struct fog_http *h)
{
	for (unsigned int i = 0; i < h->n_listeners; i++)
		on_ready(h->listeners[i].epfd, 0, h->listeners[i].d);
}
