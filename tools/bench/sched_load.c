// SPDX-License-Identifier: GPL-2.0-only
/*
 * sched_load: a submission load on fogd's placement engine through its Unix
 * socket. For SECONDS it submits tasks without a command (placed, never run)
 * as fast as one keep-alive HTTP/1.1 connection allows, and cancels each one
 * after it was accepted (-k 0 leaves them), so the engine's table of 65,536
 * tasks does not fill. Each request waits for its answer: the figures are
 * fogd's own service time, not a queue in the socket.
 * Prints one JSON object: submissions accepted (201) and refused, cancels,
 * transport errors, submissions per second and the client's round-trip
 * p50/p99 of a submission (log2 buckets, upper bounds).
 * Usage: sched_load -s SOCKET [-d SECONDS] [-p ID_PREFIX] [-k 0|1]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define RESP_MAX 65536
#define RTT_BUCKETS 40

struct conn {
	const char *path;
	int fd;
	char buf[RESP_MAX];
	size_t len;	/* bytes in buf, answers not consumed yet included */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conn_open(struct conn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (c->fd >= 0)
		close(c->fd);
	c->len = 0;
	if (strlen(c->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
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
 * Sends one request and reads its answer (Content-Length framed); returns the
 * status code or a negative errno. A connection fogd closed is reopened once.
 */
static int request(struct conn *c, const char *method, const char *path, const char *body)
{
	char head[256];
	int n, err, tries = 0;

again:
	if (c->fd < 0 && (err = conn_open(c)))
		return err;
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n", method, path, body ? strlen(body) : 0);
	err = write_all(c->fd, head, (size_t)n);
	if (!err && body)
		err = write_all(c->fd, body, strlen(body));
	c->len = 0;
	for (;;) {
		char *end;
		const char *cl;
		size_t need;
		ssize_t r;
		int status;

		if (err)
			break;
		end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
		if (end) {
			cl = header(c->buf, end, "Content-Length");
			if (!cl || sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1)
				return -EPROTO;	/* chunked or garbage: not what fogd sends */
			need = (size_t)(end + 4 - c->buf) + strtoul(cl, NULL, 10);
			if (need > sizeof(c->buf))
				return -EMSGSIZE;
			if (c->len >= need) {
				if (header(c->buf, end, "Connection") &&
				    strcasestr(header(c->buf, end, "Connection"), "close")) {
					close(c->fd);
					c->fd = -1;
				}
				return status;
			}
		}
		if (c->len == sizeof(c->buf))
			return -EMSGSIZE;
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -ECONNRESET;
			break;
		}
		c->len += (size_t)r;
	}
	/* a keep-alive connection closed under us (fogd's 10 s idle timeout): once more */
	close(c->fd);
	c->fd = -1;
	if (!tries++ && c->len == 0)
		goto again;
	return err;
}

static double bucket_quantile(const unsigned long *h, double q)
{
	unsigned long seen = 0, total = 0;

	for (int i = 0; i < RTT_BUCKETS; i++)
		total += h[i];
	for (int i = 0; i < RTT_BUCKETS; i++) {
		seen += h[i];
		if (seen && seen >= q * (double)total)
			return (double)(1ull << (i + 1)) / 1e3;	/* bucket upper bound, us */
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sched_load -s SOCKET [-d SECONDS] [-p ID_PREFIX] [-k 0|1]\n");
}

int main(int argc, char **argv)
{
	struct conn *c = calloc(1, sizeof(*c));
	unsigned long created = 0, refused = 0, cancelled = 0, errors = 0;
	unsigned long rtt[RTT_BUCKETS] = { 0 };
	static const char *const prio[] = { "low", "medium", "high" };
	const char *prefix = "load";
	double seconds = 20, t0, t1, until;
	int opt, cancel = 1, last_err = 0;
	char body[256], path[128];

	if (!c)
		return 1;
	c->fd = -1;
	while ((opt = getopt(argc, argv, "s:d:p:k:h")) != -1) {
		switch (opt) {
		case 's':
			c->path = optarg;
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'k':
			cancel = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!c->path || !(seconds > 0) || strlen(prefix) > 40) {
		usage(stderr);
		return 2;
	}
	if ((last_err = conn_open(c))) {
		fprintf(stderr, "sched_load: cannot connect to %s: %s\n", c->path,
			strerror(-last_err));
		return 1;
	}
	t0 = now_s();
	until = t0 + seconds;
	for (unsigned long i = 0; now_s() < until; i++) {
		double a = now_s(), rt;
		int st, b;

		snprintf(body, sizeof(body),
			 "{\"id\":\"%s-%lu\",\"cpu_cores\":0.01,\"memory_mb\":1,"
			 "\"priority\":\"%s\",\"est_runtime_ms\":%lu}",
			 prefix, i, prio[i % 3], 10 + i % 90);
		st = request(c, "POST", "/api/v1/sched/tasks", body);
		rt = (now_s() - a) * 1e9;
		for (b = 0; b < RTT_BUCKETS - 1 && rt >= (double)(2ull << b); b++)
			;
		rtt[b]++;
		if (st == 201) {
			created++;
		} else if (st > 0) {
			refused++;
			if (refused <= 3)
				fprintf(stderr, "sched_load: task %s-%lu: HTTP %d: %.200s\n",
					prefix, i, st, c->buf);
			continue;
		} else {
			errors++;
			last_err = st;
			if (errors > 100)
				break;
			continue;
		}
		if (!cancel)
			continue;
		snprintf(path, sizeof(path), "/api/v1/sched/tasks/%s-%lu", prefix, i);
		st = request(c, "DELETE", path, NULL);
		if (st == 200)
			cancelled++;
		else if (st < 0)
			errors++, last_err = st;
	}
	t1 = now_s();
	printf("{\"seconds\":%.3f,\"created\":%lu,\"refused\":%lu,\"cancelled\":%lu,"
	       "\"errors\":%lu,\"last_error\":\"%s\",\"submissions_per_s\":%.1f,"
	       "\"rtt_p50_us\":%.1f,\"rtt_p99_us\":%.1f}\n",
	       t1 - t0, created, refused, cancelled, errors, last_err ? strerror(-last_err) : "",
	       (double)created / (t1 - t0), bucket_quantile(rtt, 0.50),
	       bucket_quantile(rtt, 0.99));
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	return errors ? 1 : 0;
}
