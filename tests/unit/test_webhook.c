// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <cmocka.h>

#include "http_stub.h"
#include "monitor/webhook.h"

static struct fog_webhook_opts opts(double retry, unsigned int attempts, double timeout,
				    unsigned int queue_len)
{
	return (struct fog_webhook_opts){
		.name = "webhook",
		.queue_len = queue_len,
		.max_attempts = attempts,
		.retry_seconds = retry,
		.retry_max_seconds = 10 * retry,
		.timeout_seconds = timeout,
	};
}

static struct fog_webhook *start(struct http_stub *s, const struct fog_webhook_opts *o)
{
	char url[128];
	struct fog_webhook *wh;

	stub_url(s, url, sizeof(url), "/hook");
	wh = fog_webhook__new(url, o);
	assert_non_null(wh);
	return wh;
}

static void test_backoff_delay(void **state)
{
	/* d = min(60, 2^(k-1)); the delay lies in [d/2, d] */
	const double want[] = { 1, 2, 4, 8, 16, 32, 60, 60 };

	for (unsigned int k = 1; k <= 8; k++) {
		assert_true(fabs(fog_backoff_delay(k, 1, 60, 0) - want[k - 1] / 2) < 1e-12);
		assert_true(fabs(fog_backoff_delay(k, 1, 60, 1) - want[k - 1]) < 1e-12);
		assert_true(fabs(fog_backoff_delay(k, 1, 60, 0.5) - 0.75 * want[k - 1]) < 1e-12);
	}
}

static void test_check_url(void **state)
{
	char err[256];

	assert_int_equal(fog_webhook_check_url("http://127.0.0.1:9093/x", err, sizeof(err)), 0);
	assert_int_equal(fog_webhook_check_url("https://alerts.example/hook", err, sizeof(err)), 0);
	assert_int_equal(fog_webhook_check_url("ftp://example/x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not http or https"));
	assert_int_equal(fog_webhook_check_url("file:///etc/passwd", err, sizeof(err)), -EINVAL);
	assert_int_equal(fog_webhook_check_url("not a url", err, sizeof(err)), -EINVAL);
	assert_int_equal(fog_webhook_check_url("", err, sizeof(err)), -EINVAL);
	assert_int_equal(fog_webhook_check_url(NULL, err, sizeof(err)), -EINVAL);
}

static void test_delivers_in_order(void **state)
{
	struct fog_webhook_opts o = opts(0.05, 3, 5, 16);
	struct fog_webhook_stats st;
	struct http_stub s;
	struct fog_webhook *wh;
	char body[64];

	assert_int_equal(stub_start(&s, 200), 0);
	wh = start(&s, &o);
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		assert_int_equal(fog_webhook__post(wh, body), 0);
	}
	assert_int_equal(fog_webhook__drain(wh, 10), 0);
	fog_webhook__stats(wh, &st);
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.retried, 0);
	assert_int_equal(s.nreqs, 5);
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		assert_string_equal(s.reqs[i].method, "POST");
		assert_string_equal(s.reqs[i].path, "/hook");
		assert_string_equal(s.reqs[i].content_type, "application/json");
		assert_string_equal(s.reqs[i].body, body);
	}
	fog_webhook__free(wh);
	stub_stop(&s);
}

static void test_retries_with_backoff(void **state)
{
	struct fog_webhook_opts o = opts(0.2, 5, 5, 16);
	struct fog_webhook_stats st;
	struct http_stub s;
	struct fog_webhook *wh;
	double gap1, gap2;

	assert_int_equal(stub_start(&s, 200), 0);
	s.statuses[0] = 503;
	s.statuses[1] = 500;
	s.nstatuses = 2;
	wh = start(&s, &o);
	assert_int_equal(fog_webhook__post(wh, "{\"alert\":1}"), 0);
	assert_int_equal(fog_webhook__drain(wh, 10), 0);
	fog_webhook__stats(wh, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.retried, 2);
	assert_int_equal(st.failed, 0);
	assert_int_equal(s.nreqs, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(s.reqs[i].body, "{\"alert\":1}");
	/* first retry after 0.1..0.2 s, the second after 0.2..0.4 s */
	gap1 = s.reqs[1].at - s.reqs[0].at;
	gap2 = s.reqs[2].at - s.reqs[1].at;
	assert_true(gap1 >= 0.1 && gap1 < 0.2 + 0.15);
	assert_true(gap2 >= 0.2 && gap2 < 0.4 + 0.15);
	fog_webhook__free(wh);
	stub_stop(&s);
}

/* 429 is worth retrying; 400 means the body is wrong and is not sent again. */
static void test_which_answers_are_retried(void **state)
{
	struct fog_webhook_opts o = opts(0.02, 5, 5, 16);
	struct fog_webhook_stats st;
	struct http_stub s;
	struct fog_webhook *wh;

	assert_int_equal(stub_start(&s, 200), 0);
	s.statuses[0] = 429;
	s.statuses[1] = 400;
	s.nstatuses = 2;
	wh = start(&s, &o);
	assert_int_equal(fog_webhook__post(wh, "first"), 0);
	assert_int_equal(fog_webhook__drain(wh, 10), 0);
	fog_webhook__stats(wh, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.retried, 1);
	assert_int_equal(st.failed, 1); /* the retry met the 400 */
	assert_int_equal(s.nreqs, 2);
	assert_int_equal(fog_webhook__post(wh, "second"), 0);
	assert_int_equal(fog_webhook__drain(wh, 10), 0);
	fog_webhook__stats(wh, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(s.nreqs, 3);
	fog_webhook__free(wh);
	stub_stop(&s);
}

static void test_unreachable_gives_up(void **state)
{
	struct fog_webhook_opts o = opts(0.02, 3, 1, 16);
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct fog_webhook_stats st;
	socklen_t len = sizeof(a);
	struct fog_webhook *wh;
	char url[128];
	int fd;

	/* a port nothing listens on: bound once, then closed */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(a.sin_port));
	wh = fog_webhook__new(url, &o);
	assert_non_null(wh);
	assert_int_equal(fog_webhook__post(wh, "{}"), 0);
	assert_int_equal(fog_webhook__drain(wh, 10), 0);
	fog_webhook__stats(wh, &st);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.retried, 2);
	assert_int_equal(st.failed, 1);
	fog_webhook__free(wh);
}

/* A receiver that never answers costs the poster nothing. */
static void test_hung_receiver_never_blocks(void **state)
{
	struct fog_webhook_opts o = opts(0.05, 2, 30, 16);
	struct http_stub s;
	struct fog_webhook *wh;
	double t0;

	assert_int_equal(stub_start(&s, 200), 0);
	s.hang_first = 1000;
	wh = start(&s, &o);
	t0 = stub_now();
	for (int i = 0; i < 10; i++)
		assert_int_equal(fog_webhook__post(wh, "{\"x\":1}"), 0);
	assert_true(stub_now() - t0 < 0.05);
	assert_int_equal(stub_wait(&s, 1, 5), 1);
	assert_int_equal(fog_webhook__drain(wh, 0.2), -ETIMEDOUT);
	t0 = stub_now();
	fog_webhook__free(wh); /* aborts the delivery in flight */
	assert_true(stub_now() - t0 < 2.5);
	stub_stop(&s);
}

/* A full queue drops its oldest waiting body, never the one in flight. */
static void test_full_queue_drops_oldest(void **state)
{
	struct fog_webhook_opts o = opts(0.02, 3, 0.5, 2);
	struct fog_webhook_stats st;
	struct http_stub s;
	struct fog_webhook *wh;

	assert_int_equal(stub_start(&s, 200), 0);
	s.hang_first = 1; /* A's first try times out, its retry gets through */
	wh = start(&s, &o);
	assert_int_equal(fog_webhook__post(wh, "A"), 0);
	assert_int_equal(stub_wait(&s, 1, 5), 1); /* A is in flight */
	assert_int_equal(fog_webhook__post(wh, "B"), 0);
	assert_int_equal(fog_webhook__post(wh, "C"), 0); /* B goes */
	assert_int_equal(fog_webhook__drain(wh, 10), 0);
	fog_webhook__stats(wh, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.sent, 2);
	assert_int_equal(s.nreqs, 3);
	assert_string_equal(s.reqs[0].body, "A");
	assert_string_equal(s.reqs[1].body, "A");
	assert_string_equal(s.reqs[2].body, "C");
	fog_webhook__free(wh);
	stub_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_delay),
		cmocka_unit_test(test_check_url),
		cmocka_unit_test(test_delivers_in_order),
		cmocka_unit_test(test_retries_with_backoff),
		cmocka_unit_test(test_which_answers_are_retried),
		cmocka_unit_test(test_unreachable_gives_up),
		cmocka_unit_test(test_hung_receiver_never_blocks),
		cmocka_unit_test(test_full_queue_drops_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
