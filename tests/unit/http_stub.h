/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small HTTP/1.1 server on 127.0.0.1 for tests, in a thread of the test
 * process: it records every request and answers with scripted status codes
 * (or not at all, to play a hung receiver). One request per connection.
 */
#ifndef FOG_TEST_HTTP_STUB_H
#define FOG_TEST_HTTP_STUB_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STUB_MAX_REQS 256
#define STUB_MAX_HUNG 64

struct stub_req {
	char method[16];
	char path[256];
	char content_type[64];
	char *body; /* NUL-terminated */
	double at;  /* monotonic seconds */
};

struct http_stub {
	int fd;
	int port;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	int statuses[64]; /* answer to request i; after them default_status */
	int nstatuses;
	int default_status;
	int hang_first; /* the first this many requests get no answer */
	int hung[STUB_MAX_HUNG];
	int nhung;
	struct stub_req reqs[STUB_MAX_REQS];
	int nreqs;
};

static inline double stub_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads one request from c into r; -1 on a broken request. */
static int stub_read(int c, struct stub_req *r)
{
	char buf[1 << 18], *end = NULL, *cl;
	size_t off = 0, need = 0, hdr;

	while (!end) {
		ssize_t n = read(c, buf + off, sizeof(buf) - 1 - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
		buf[off] = 0;
		end = strstr(buf, "\r\n\r\n");
	}
	hdr = (size_t)(end - buf) + 4;
	if (sscanf(buf, "%15s %255s", r->method, r->path) != 2)
		return -1;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl && cl < end)
		need = strtoul(cl + 17, NULL, 10);
	cl = strcasestr(buf, "\r\nContent-Type:");
	r->content_type[0] = 0;
	if (cl && cl < end)
		sscanf(cl + 15, " %63[^\r]", r->content_type);
	while (off < hdr + need && off < sizeof(buf) - 1) {
		ssize_t n = read(c, buf + off, sizeof(buf) - 1 - off);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	buf[hdr + need] = 0;
	r->body = strdup(buf + hdr);
	r->at = stub_now();
	return 0;
}

static void *stub_serve(void *arg)
{
	struct http_stub *s = arg;

	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		struct stub_req r;
		int c, status;
		bool hang;
		char reply[128];

		pthread_mutex_lock(&s->lock);
		if (s->stop) {
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_unlock(&s->lock);
		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		if (stub_read(c, &r)) {
			close(c);
			continue;
		}
		pthread_mutex_lock(&s->lock);
		status = s->nreqs < s->nstatuses ? s->statuses[s->nreqs] : s->default_status;
		hang = s->nreqs < s->hang_first;
		if (s->nreqs < STUB_MAX_REQS)
			s->reqs[s->nreqs++] = r;
		else
			free(r.body);
		if (hang && s->nhung < STUB_MAX_HUNG)
			s->hung[s->nhung++] = c;
		pthread_mutex_unlock(&s->lock);
		if (hang)
			continue;
		snprintf(reply, sizeof(reply),
			 "HTTP/1.1 %d Stub\r\nContent-Length: 4\r\nConnection: close\r\n\r\nstub",
			 status);
		if (write(c, reply, strlen(reply)) < 0)
			perror("stub write");
		close(c);
	}
	return NULL;
}

/* Listens on an ephemeral port of 127.0.0.1; 0 or -errno. */
static inline int stub_start(struct http_stub *s, int default_status)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->default_status = default_status;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->fd, 64) ||
	    getsockname(s->fd, (struct sockaddr *)&a, &len))
		return -errno;
	s->port = ntohs(a.sin_port);
	pthread_mutex_init(&s->lock, NULL);
	return -pthread_create(&s->thread, NULL, stub_serve, s);
}

static inline void stub_stop(struct http_stub *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	close(s->fd);
	for (int i = 0; i < s->nhung; i++)
		close(s->hung[i]);
	for (int i = 0; i < s->nreqs; i++)
		free(s->reqs[i].body);
	pthread_mutex_destroy(&s->lock);
}

/* Waits until n requests arrived; returns how many did. */
static inline int stub_wait(struct http_stub *s, int n, double timeout)
{
	double deadline = stub_now() + timeout;
	int got;

	pthread_mutex_lock(&s->lock);
	while (s->nreqs < n && stub_now() < deadline) {
		pthread_mutex_unlock(&s->lock);
		usleep(5000);
		pthread_mutex_lock(&s->lock);
	}
	got = s->nreqs;
	pthread_mutex_unlock(&s->lock);
	return got;
}

static inline void stub_url(const struct http_stub *s, char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "http://127.0.0.1:%d%s", s->port, path);
}

#endif /* FOG_TEST_HTTP_STUB_H */
