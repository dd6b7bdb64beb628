// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogd's HTTP server over a real Unix socket: a request is answered by its
 * route; once teardown has begun (fog_http__free), a request MHD still reads
 * is answered 503 without calling the route, whose module may already be
 * freed (fogd frees the profiler and the scheduler before the server); a
 * handler that holds the loop 100 ms or more is logged with its path, once
 * per 10 s.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>
#include <jansson.h>

#include "base/loop.h"
#include "export/http.h"

static char dir[] = "/tmp/fog-test-http.XXXXXX";
static char sock_path[sizeof(dir) + 16];
static int handled;
static struct fog_loop *loop;	/* holds the listeners' fds; the tests pump fog_http__run */

static int get_x(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	handled++;
	return fog_http_json(resp, 200, json_pack("{s:i}", "handled", handled));
}

static int get_slow(const struct fog_http_req *req, struct fog_http_resp *resp, void *ctx)
{
	struct timespec ts = { 0, 150 * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return get_x(req, resp, ctx);
}

static struct fog_http *server(void)
{
	struct fog_http *h = fog_http__new(loop);

	assert_non_null(h);
	assert_int_equal(fog_http__listen_unix(h, sock_path, 0600, -1), 0);
	assert_int_equal(fog_http__route(h, "GET", "/x", FOG_HTTP_TCP, get_x, NULL), 0);
	assert_int_equal(fog_http__route(h, "GET", "/slow", FOG_HTTP_TCP, get_slow, NULL), 0);
	return h;
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_path(int fd, const char *path)
{
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);

	assert_int_equal(write(fd, req, (size_t)n), (ssize_t)n);
}

static void send_get(int fd)
{
	send_path(fd, "/x");
}

/* Reads what the server sent until it closes, serving it with h meanwhile (if any). */
static void read_answer(int fd, struct fog_http *h, char *buf, size_t len)
{
	size_t got = 0;

	for (int i = 0; i < 500 && got < len - 1; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (h)
			fog_http__run(h);
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
}

static void test_answered_by_route(void **state)
{
	struct fog_http *h = server();
	char buf[4096];
	int fd = client();

	handled = 0;
	send_get(fd);
	read_answer(fd, h, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "\"handled\""));
	assert_int_equal(handled, 1);
	close(fd);
	fog_http__free(h);
}

static void test_no_route_during_teardown(void **state)
{
	struct fog_http *h = server();
	char buf[4096];
	int fd = client();

	handled = 0;
	/* accepted, then the request arrives while nothing serves it */
	for (int i = 0; i < 5; i++)
		fog_http__run(h);
	send_get(fd);
	fog_http__free(h);
	read_answer(fd, NULL, buf, sizeof(buf));
	assert_int_equal(handled, 0);
	/* answered 503 if MHD read it before it stopped, else closed: never served */
	if (buf[0])
		assert_non_null(strstr(buf, "HTTP/1.1 503"));
	close(fd);
}

/* Serves one GET of path with fd 2 sent to a file; returns what was logged. */
static char *logged_by(struct fog_http *h, const char *path)
{
	char logpath[sizeof(dir) + 16], buf[4096];
	int fd = client(), saved = dup(2), logfd;
	char *text = calloc(1, 4096);
	ssize_t n;

	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(logfd >= 0 && saved >= 0 && text);
	fflush(stderr);
	dup2(logfd, 2);
	send_path(fd, path);
	read_answer(fd, h, buf, sizeof(buf));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	n = pread(logfd, text, 4095, 0);
	assert_true(n >= 0);
	close(logfd);
	unlink(logpath);
	close(fd);
	return text;
}

static void test_slow_handler_logged(void **state)
{
	struct fog_http *h = server();
	unsigned int ms = 0;
	char *log, *line;

	log = logged_by(h, "/x");
	assert_null(strstr(log, "http: GET"));
	free(log);
	log = logged_by(h, "/slow");
	line = strstr(log, "http: GET /slow took ");
	assert_non_null(line);
	/* it slept 150 ms: at least that, whatever the load */
	assert_int_equal(sscanf(line, "http: GET /slow took %u ms", &ms), 1);
	assert_true(ms >= 150);
	free(log);
	/* the next slow one within 10 s is counted by the loop, not logged again */
	log = logged_by(h, "/slow");
	assert_null(strstr(log, "http: GET"));
	free(log);
	fog_http__free(h);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	loop = fog_loop__new();
	return loop ? 0 : -1;
}

static int teardown(void **state)
{
	fog_loop__free(loop);
	unlink(sock_path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answered_by_route),
		cmocka_unit_test(test_no_route_during_teardown),
		cmocka_unit_test(test_slow_handler_logged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
