// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogd's HTTP server over a real Unix socket: a request is answered by its
 * route; once teardown has begun (fog_http__free), a request MHD still reads
 * is answered 503 without calling the route, whose module may already be
 * freed (fogd frees the profiler and the scheduler before the server).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>
#include <jansson.h>

#include "agent/loop.h"
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

static struct fog_http *server(void)
{
	struct fog_http *h = fog_http__new(loop);

	assert_non_null(h);
	assert_int_equal(fog_http__listen_unix(h, sock_path, 0600), 0);
	assert_int_equal(fog_http__route(h, "GET", "/x", get_x, NULL), 0);
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

static void send_get(int fd)
{
	static const char req[] = "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)(sizeof(req) - 1));
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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
