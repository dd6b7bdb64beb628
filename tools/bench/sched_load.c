// SPDX-License-Identifier: GPL-2.0-only
/*
 * sched_load: a submission load on fogd's placement engine through its Unix
 * socket. For SECONDS it submits tasks without a command (placed, never run)
 * over CONNS keep-alive HTTP/1.1 connections, each with one request in flight,
 * at RATE submissions per second (0: as fast as fogd answers), and cancels
 * each accepted task right after (-k 0 leaves them), so the engine's table of
 * 65,536 tasks keeps room. With -b N the tasks go N to a request as one JSON
 * array, and their cancels as one POST /api/v1/sched/cancel.
 *
 * Checks, each failing the run (exit 1):
 * - no task lost: every cancel finds its task (a 404 is a lost task); at the
 *   end the last 1,000 tasks accepted (every one with -k 0) are queried one
 *   by one and must be there, cancelled (or waiting, with -k 0);
 * - state counts reconcile: fogd's submitted grew by exactly the tasks the
 *   client saw accepted, and submitted == pending + placed + running +
 *   completed + failed + timed_out + cancelled;
 * - decision latency: p50 and p99 of the decisions made during the run, from
 *   fogd's own histogram (before and after), with retries counted apart.
 * Prints one JSON object with the figures.
 *
 * Usage: sched_load -s SOCKET [-d SECONDS] [-c CONNS] [-b BATCH] [-r RATE]
 *                   [-p ID_PREFIX] [-k 0|1]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <jansson.h>

#define MAX_CONNS 64
#define MAX_BATCH 1000		/* fogd's limit per batch */
#define RTT_BUCKETS 40
#define LAT_BUCKETS 32		/* fogd's decision latency buckets */
#define CHECK_LAST 1000		/* tasks queried one by one at the end (with cancels) */
#define IN_MAX (8 << 20)

enum phase { IDLE, SUBMITTING, CANCELLING };

struct conn {
	int fd;
	enum phase phase;
	char *out;		/* the request being sent */
	size_t out_len, out_off;
	char *in;		/* the answer being read */
	size_t in_len, in_cap;
	double sent_at;
	unsigned long first;	/* ids first .. first + n - 1 are in flight */
	unsigned int n;
	unsigned char ok[MAX_BATCH];	/* accepted: to cancel */
};

struct load {
	const char *sock, *prefix;
	double seconds, rate;
	unsigned int conns, batch;
	bool cancel;
	unsigned long next_id;	/* ids handed out so far */
	unsigned char *created;	/* per id: accepted by fogd */
	size_t created_cap;
	unsigned long accepted, refused, cancelled, lost, errors, requests;
	unsigned long rtt[RTT_BUCKETS];
	int last_err;
	char last_msg[256];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sock_open(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The value of header NAME in the head [p, end), or NULL. */
static const char *header(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
		if (*p == '\n')
			p++;
		if ((size_t)(end - p) > n + 1 && !strncasecmp(p, name, n) && p[n] == ':')
			return p + n + 1;
	}
	return NULL;
}

/*
 * Whether in holds a whole answer (Content-Length framed): its status, the
 * body and the bytes it spans; 0 when more is needed, -EPROTO on garbage.
 */
static int parse_answer(const char *in, size_t len, int *status, const char **body,
			size_t *body_len, size_t *total)
{
	const char *end = len ? memmem(in, len, "\r\n\r\n", 4) : NULL, *cl;

	if (!end)
		return 0;
	cl = header(in, end, "Content-Length");
	if (!cl || sscanf(in, "HTTP/1.%*d %d", status) != 1)
		return -EPROTO;
	*body = end + 4;
	*body_len = strtoul(cl, NULL, 10);
	*total = (size_t)(*body - in) + *body_len;
	return len >= *total ? 1 : 0;
}

static char *make_request(const char *method, const char *path, const char *body, size_t *len)
{
	size_t blen = body ? strlen(body) : 0;
	char *r = malloc(blen + 256);
	int n;

	if (!r)
		return NULL;
	n = snprintf(r, 256,
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n", method, path, blen);
	memcpy(r + n, body ? body : "", blen + 1);
	*len = (size_t)n + blen;
	return r;
}

/* One blocking request on its own connection (the checks before and after the run). */
static int request_once(const char *sock, const char *method, const char *path, json_t **out)
{
	size_t len, off = 0, in_len = 0, total, blen;
	char *req = make_request(method, path, NULL, &len), *in = malloc(IN_MAX);
	const char *body;
	int fd = sock_open(sock), status = 0, rc = 0;

	*out = NULL;
	if (fd < 0 || !req || !in) {
		rc = fd < 0 ? fd : -ENOMEM;
		goto out;
	}
	while (off < len) {
		ssize_t w = write(fd, req + off, len - off);

		if (w <= 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	while (!(rc = parse_answer(in, in_len, &status, &body, &blen, &total))) {
		ssize_t r = in_len < IN_MAX ? read(fd, in + in_len, IN_MAX - in_len) : -1;

		if (r <= 0) {
			rc = r < 0 ? -errno : -ECONNRESET;
			goto out;
		}
		in_len += (size_t)r;
	}
	if (rc > 0) {
		*out = json_loadb(body, blen, 0, NULL);
		rc = status;
	}
out:
	if (fd >= 0)
		close(fd);
	free(req);
	free(in);
	return rc;
}

static void task_id(const struct load *l, unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%lu", l->prefix, i);
}

static int note_created(struct load *l, unsigned long id)
{
	if (id >= l->created_cap) {
		size_t cap = l->created_cap ? l->created_cap * 2 : 1 << 20;
		unsigned char *p;

		while (cap <= id)
			cap *= 2;
		p = realloc(l->created, cap);
		if (!p)
			return -ENOMEM;
		memset(p + l->created_cap, 0, cap - l->created_cap);
		l->created = p;
		l->created_cap = cap;
	}
	l->created[id] = 1;
	return 0;
}

static void fail(struct load *l, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct load *l, int err, const char *fmt, ...)
{
	va_list ap;

	l->errors++;
	l->last_err = err;
	va_start(ap, fmt);
	vsnprintf(l->last_msg, sizeof(l->last_msg), fmt, ap);
	va_end(ap);
	if (l->errors <= 3)
		fprintf(stderr, "sched_load: %s\n", l->last_msg);
}

/* Builds the next submission (one task, or a batch of l->batch) on c. */
static int start_submit(struct load *l, struct conn *c)
{
	static const char *const prio[] = { "low", "medium", "high" };
	unsigned int n = l->batch ? l->batch : 1;
	size_t cap = (size_t)n * 160 + 16, used = 0;
	char *body = malloc(cap);

	if (!body)
		return -ENOMEM;
	c->first = l->next_id;
	c->n = n;
	l->next_id += n;
	if (l->batch)
		body[used++] = '[';
	for (unsigned int k = 0; k < n; k++) {
		unsigned long i = c->first + k;

		used += (size_t)snprintf(body + used, cap - used,
					 "%s{\"id\":\"%s-%lu\",\"cpu_cores\":0.01,\"memory_mb\":1,"
					 "\"priority\":\"%s\",\"est_runtime_ms\":%lu}",
					 k ? "," : "", l->prefix, i, prio[i % 3], 10 + i % 90);
	}
	if (l->batch)
		body[used++] = ']';
	body[used] = '\0';
	free(c->out);
	c->out = make_request("POST", "/api/v1/sched/tasks", body, &c->out_len);
	free(body);
	if (!c->out)
		return -ENOMEM;
	c->out_off = 0;
	c->phase = SUBMITTING;
	return 0;
}

/* Cancels what the last submission got accepted; false when there is nothing to cancel. */
static int start_cancel(struct load *l, struct conn *c)
{
	size_t cap = (size_t)c->n * 80 + 32, used = 0;
	char *body, path[160], id[96];
	unsigned int n = 0;

	for (unsigned int k = 0; k < c->n; k++)
		n += c->ok[k];
	if (!n)
		return 0;
	if (!l->batch) {
		task_id(l, c->first, id, sizeof(id));
		snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s", id);
		free(c->out);
		c->out = make_request("DELETE", path, NULL, &c->out_len);
	} else {
		body = malloc(cap);
		if (!body)
			return -ENOMEM;
		used = (size_t)snprintf(body, cap, "{\"ids\":[");
		for (unsigned int k = 0, m = 0; k < c->n; k++) {
			if (!c->ok[k])
				continue;
			task_id(l, c->first + k, id, sizeof(id));
			used += (size_t)snprintf(body + used, cap - used, "%s\"%s\"",
						 m++ ? "," : "", id);
		}
		snprintf(body + used, cap - used, "]}");
		free(c->out);
		c->out = make_request("POST", "/api/v1/sched/cancel", body, &c->out_len);
		free(body);
	}
	if (!c->out)
		return -ENOMEM;
	c->out_off = 0;
	c->phase = CANCELLING;
	return 1;
}

static void note_rtt(struct load *l, double seconds)
{
	double ns = seconds * 1e9;
	int b;

	for (b = 0; b < RTT_BUCKETS - 1 && ns >= (double)(2ull << b); b++)
		;
	l->rtt[b]++;
}

/* A submission's answer: which tasks were accepted. */
static void on_submitted(struct load *l, struct conn *c, int status, const char *body,
			 size_t len)
{
	json_t *j, *res, *e;
	size_t i;

	memset(c->ok, 0, c->n);
	if (!l->batch) {
		if (status == 201) {
			c->ok[0] = 1;
			l->accepted++;
			note_created(l, c->first);
		} else {
			l->refused++;
			if (l->refused <= 3)
				fprintf(stderr, "sched_load: task %s-%lu: HTTP %d: %.*s\n",
					l->prefix, c->first, status, (int)(len < 200 ? len : 200),
					body);
		}
		return;
	}
	j = json_loadb(body, len, 0, NULL);
	res = json_object_get(j, "results");
	if (status != 200 || json_array_size(res) != c->n) {
		fail(l, -EPROTO, "batch of %u: HTTP %d: %.200s", c->n, status, body);
		l->refused += c->n;
		json_decref(j);
		return;
	}
	json_array_foreach(res, i, e) {
		if (json_integer_value(json_object_get(e, "status")) == 201) {
			c->ok[i] = 1;
			l->accepted++;
			note_created(l, c->first + i);
		} else {
			l->refused++;
			if (l->refused <= 3)
				fprintf(stderr, "sched_load: task %s-%lu: %s\n", l->prefix,
					c->first + i,
					json_string_value(json_object_get(e, "error")));
		}
	}
	json_decref(j);
}

/* A cancel's answer: 200 per task, anything else means the task was not there. */
static void on_cancelled(struct load *l, struct conn *c, int status, const char *body,
			 size_t len)
{
	json_t *j, *res, *e;
	size_t i;

	if (!l->batch) {
		if (status == 200) {
			l->cancelled++;
		} else {
			l->lost++;
			fprintf(stderr, "sched_load: cancel of %s-%lu: HTTP %d: %.*s\n", l->prefix,
				c->first, status, (int)(len < 200 ? len : 200), body);
		}
		return;
	}
	j = json_loadb(body, len, 0, NULL);
	res = json_object_get(j, "results");
	if (status != 200 || !json_is_array(res)) {
		fail(l, -EPROTO, "batch cancel: HTTP %d: %.200s", status, body);
		json_decref(j);
		return;
	}
	json_array_foreach(res, i, e) {
		if (json_integer_value(json_object_get(e, "status")) == 200) {
			l->cancelled++;
		} else {
			l->lost++;
			fprintf(stderr, "sched_load: cancel of %s: %s\n",
				json_string_value(json_object_get(e, "id")),
				json_string_value(json_object_get(e, "state")) ?: "not found");
		}
	}
	json_decref(j);
}

/* Reads what c's socket holds; handles a complete answer. Returns < 0 on a broken connection. */
static int on_readable(struct load *l, struct conn *c)
{
	const char *body;
	size_t blen, total;
	int status, rc;
	ssize_t r;

	if (c->in_cap - c->in_len < 65536) {
		size_t cap = c->in_cap ? c->in_cap * 2 : 1 << 17;
		char *p = cap <= IN_MAX ? realloc(c->in, cap) : NULL;

		if (!p)
			return -EMSGSIZE;
		c->in = p;
		c->in_cap = cap;
	}
	r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0)
		return r < 0 ? -errno : -ECONNRESET;
	c->in_len += (size_t)r;
	rc = parse_answer(c->in, c->in_len, &status, &body, &blen, &total);
	if (rc <= 0)
		return rc;
	l->requests++;
	if (c->phase == SUBMITTING) {
		note_rtt(l, now_s() - c->sent_at);
		on_submitted(l, c, status, body, blen);
	} else {
		on_cancelled(l, c, status, body, blen);
	}
	memmove(c->in, c->in + total, c->in_len - total);
	c->in_len -= total;
	if (c->phase == SUBMITTING && l->cancel) {
		rc = start_cancel(l, c);
		if (rc < 0)
			return rc;
		if (rc) {
			c->sent_at = now_s();
			return 0;
		}
	}
	c->phase = IDLE;
	return 0;
}

static int on_writable(struct conn *c)
{
	ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (w < 0)
		return -errno;
	c->out_off += (size_t)w;
	return 0;
}

static int reopen(struct load *l, struct conn *c)
{
	close(c->fd);
	c->in_len = 0;
	c->fd = sock_open(l->sock);
	if (c->fd < 0)
		return c->fd;
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static int run_load(struct load *l, struct conn *cs, double *elapsed)
{
	struct pollfd pfd[MAX_CONNS];
	double t0 = now_s(), until = t0 + l->seconds;
	unsigned int busy;

	for (;;) {
		double now = now_s();
		int timeout = -1;

		busy = 0;
		for (unsigned int i = 0; i < l->conns; i++) {
			struct conn *c = &cs[i];

			if (c->phase == IDLE && now < until) {
				unsigned int n = l->batch ? l->batch : 1;

				/* pacing: submissions may not run ahead of rate x elapsed time */
				if (l->rate > 0 &&
				    (double)(l->next_id + n) > l->rate * (now - t0)) {
					timeout = 1;
				} else {
					int err = start_submit(l, c);

					if (err)
						return err;
					c->sent_at = now;
				}
			}
			pfd[i].fd = c->fd;
			pfd[i].events = c->phase == IDLE ? 0 :
					c->out_off < c->out_len ? POLLOUT : POLLIN;
			busy += c->phase != IDLE;
		}
		if (!busy && now >= until)
			break;
		if (poll(pfd, l->conns, timeout) < 0 && errno != EINTR)
			return -errno;
		for (unsigned int i = 0; i < l->conns; i++) {
			struct conn *c = &cs[i];
			int err = 0;

			if (c->phase == IDLE) {
				/* fogd closes keep-alive connections idle for 10 s: reopen */
				if (pfd[i].revents)
					err = reopen(l, c);
			} else if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL) &&
				   !(pfd[i].revents & POLLIN)) {
				err = -ECONNRESET;
			} else if (pfd[i].revents & POLLOUT) {
				err = on_writable(c);
			} else if (pfd[i].revents & POLLIN) {
				err = on_readable(l, c);
			}
			if (err) {
				/* fogd never closes a busy keep-alive connection: a failure */
				fail(l, err, "connection %u: %s", i, strerror(-err));
				return err;
			}
		}
	}
	*elapsed = now_s() - t0;
	return 0;
}

static double bucket_quantile(const unsigned long *h, int n, double q, double scale)
{
	unsigned long seen = 0, total = 0;

	for (int i = 0; i < n; i++)
		total += h[i];
	for (int i = 0; i < n; i++) {
		seen += h[i];
		if (seen && seen >= q * (double)total)
			return (double)(2ull << i) * scale;	/* bucket upper bound */
	}
	return 0;
}

/* fogd's decision latency buckets (le_ns -> count) into h (bucket i: [2^i, 2^(i+1)) ns). */
static void lat_hist(const json_t *stats, unsigned long *h)
{
	json_t *b = json_object_get(json_object_get(stats, "decision_latency"), "buckets"), *e;
	size_t i;

	memset(h, 0, LAT_BUCKETS * sizeof(*h));
	json_array_foreach(b, i, e) {
		const char *s = json_string_value(json_object_get(e, "le_ns"));
		unsigned long long le = s ? strtoull(s, NULL, 10) : 0;
		int k = le ? 62 - __builtin_clzll(le) : 0;	/* le = 2^(k+1) */

		if (k >= 0 && k < LAT_BUCKETS)
			h[k] = (unsigned long)json_integer_value(json_object_get(e, "count"));
	}
}

static long long num(const json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

/* Queries tasks one by one: each accepted one must exist (and be cancelled when we cancelled). */
static unsigned long check_kept(struct load *l, unsigned long *checked)
{
	unsigned long missing = 0, from = 0, n = 0;
	char path[160], id[96];

	if (l->cancel) {
		/* the table keeps the most recent ended tasks: the last CHECK_LAST accepted */
		for (unsigned long i = l->next_id; i-- > 0 && n < CHECK_LAST;)
			if (i < l->created_cap && l->created[i]) {
				n++;
				from = i;
			}
	}
	*checked = 0;
	for (unsigned long i = from; i < l->next_id && i < l->created_cap; i++) {
		json_t *j;
		const char *st;
		int code;

		if (!l->created[i])
			continue;
		task_id(l, i, id, sizeof(id));
		snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s", id);
		code = request_once(l->sock, "GET", path, &j);
		st = json_string_value(json_object_get(j, "state"));
		(*checked)++;
		if (code != 200 || !st || (l->cancel ? strcmp(st, "cancelled") :
					   strcmp(st, "pending") && strcmp(st, "placed"))) {
			if (++missing <= 3)
				fprintf(stderr, "sched_load: task %s: HTTP %d, state %s\n", id,
					code, st ? st : "none");
		}
		json_decref(j);
	}
	return missing;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sched_load -s SOCKET [-d SECONDS] [-c CONNS] [-b BATCH] [-r RATE] "
		   "[-p ID_PREFIX] [-k 0|1]\n");
}

int main(int argc, char **argv)
{
	struct load l = { .prefix = "load", .seconds = 20, .conns = 1, .cancel = true };
	unsigned long h0[LAT_BUCKETS], h1[LAT_BUCKETS], dh[LAT_BUCKETS], checked = 0, missing;
	json_t *st0 = NULL, *st1 = NULL;
	struct conn *cs;
	double elapsed = 0;
	long long acc, sub_delta;
	bool reconciled;
	int opt, rc;

	while ((opt = getopt(argc, argv, "s:d:c:b:r:p:k:h")) != -1) {
		switch (opt) {
		case 's':
			l.sock = optarg;
			break;
		case 'd':
			l.seconds = atof(optarg);
			break;
		case 'c':
			l.conns = (unsigned int)atoi(optarg);
			break;
		case 'b':
			l.batch = (unsigned int)atoi(optarg);
			break;
		case 'r':
			l.rate = atof(optarg);
			break;
		case 'p':
			l.prefix = optarg;
			break;
		case 'k':
			l.cancel = atoi(optarg) != 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!l.sock || !(l.seconds > 0) || strlen(l.prefix) > 40 || !l.conns ||
	    l.conns > MAX_CONNS || l.batch > MAX_BATCH || l.rate < 0) {
		usage(stderr);
		return 2;
	}
	cs = calloc(l.conns, sizeof(*cs));
	if (!cs)
		return 1;
	if (request_once(l.sock, "GET", "/api/v1/sched/stats", &st0) != 200 || !st0) {
		fprintf(stderr, "sched_load: cannot read /api/v1/sched/stats on %s\n", l.sock);
		return 1;
	}
	for (unsigned int i = 0; i < l.conns; i++) {
		cs[i].fd = sock_open(l.sock);
		if (cs[i].fd < 0) {
			fprintf(stderr, "sched_load: cannot connect to %s: %s\n", l.sock,
				strerror(-cs[i].fd));
			return 1;
		}
		fcntl(cs[i].fd, F_SETFL, O_NONBLOCK);
	}
	rc = run_load(&l, cs, &elapsed);
	if (rc && !l.errors)
		fail(&l, rc, "%s", strerror(-rc));
	for (unsigned int i = 0; i < l.conns; i++) {
		close(cs[i].fd);
		free(cs[i].out);
		free(cs[i].in);
	}
	free(cs);
	if (request_once(l.sock, "GET", "/api/v1/sched/stats", &st1) != 200 || !st1) {
		fprintf(stderr, "sched_load: cannot read /api/v1/sched/stats after the run\n");
		return 1;
	}
	missing = check_kept(&l, &checked);
	lat_hist(st0, h0);
	lat_hist(st1, h1);
	for (int i = 0; i < LAT_BUCKETS; i++)
		dh[i] = h1[i] - h0[i];
	sub_delta = num(st1, "submitted") - num(st0, "submitted");
	acc = num(st1, "pending") + num(st1, "placed") + num(st1, "running") +
	      num(st1, "completed") + num(st1, "failed") + num(st1, "timed_out") +
	      num(st1, "cancelled");
	reconciled = sub_delta == (long long)l.accepted && acc == num(st1, "submitted") &&
		     num(st1, "active") == num(st1, "placed") + num(st1, "running");
	printf("{\"seconds\":%.3f,\"conns\":%u,\"batch\":%u,\"rate\":%.0f,\"created\":%lu,"
	       "\"refused\":%lu,\"cancelled\":%lu,\"lost\":%lu,\"checked\":%lu,\"missing\":%lu,"
	       "\"errors\":%lu,\"last_error\":\"%s\",\"submissions_per_s\":%.1f,"
	       "\"requests_per_s\":%.1f,\"rtt_p50_us\":%.1f,\"rtt_p99_us\":%.1f,"
	       "\"engine\":{\"submitted\":%lld,\"submitted_delta\":%lld,\"accounted\":%lld,"
	       "\"pending\":%lld,\"placed\":%lld,\"running\":%lld,\"completed\":%lld,"
	       "\"failed\":%lld,\"timed_out\":%lld,\"cancelled\":%lld,\"rejected\":%lld,"
	       "\"evicted\":%lld,\"reconciled\":%s,\"decisions\":%lld,\"retries\":%lld,"
	       "\"decision_p50_ns\":%.0f,\"decision_p99_ns\":%.0f}}\n",
	       elapsed, l.conns, l.batch, l.rate, l.accepted, l.refused, l.cancelled, l.lost,
	       checked, missing, l.errors, l.errors ? l.last_msg : "",
	       elapsed > 0 ? (double)l.accepted / elapsed : 0,
	       elapsed > 0 ? (double)l.requests / elapsed : 0,
	       bucket_quantile(l.rtt, RTT_BUCKETS, 0.50, 1e-3),
	       bucket_quantile(l.rtt, RTT_BUCKETS, 0.99, 1e-3), num(st1, "submitted"), sub_delta,
	       acc, num(st1, "pending"), num(st1, "placed"), num(st1, "running"),
	       num(st1, "completed"), num(st1, "failed"), num(st1, "timed_out"),
	       num(st1, "cancelled"), num(st1, "rejected"), num(st1, "evicted"),
	       reconciled ? "true" : "false", num(st1, "decisions") - num(st0, "decisions"),
	       num(st1, "retries") - num(st0, "retries"),
	       bucket_quantile(dh, LAT_BUCKETS, 0.50, 1),
	       bucket_quantile(dh, LAT_BUCKETS, 0.99, 1));
	json_decref(st0);
	json_decref(st1);
	free(l.created);
	return l.errors || l.lost || missing || !reconciled ? 1 : 0;
}
