// SPDX-License-Identifier: GPL-2.0-only
/* Remote-write bodies from exposition text, their merge, and the client's answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "remote.pb-c.h"
#include "uplink/encode.h"
#include "uplink/send.h"

static const char *label(const Fogrw__TimeSeries *ts, const char *name)
{
	for (size_t i = 0; i < ts->n_labels; i++)
		if (!strcmp(ts->labels[i]->name, name))
			return ts->labels[i]->value;
	return NULL;
}

static Fogrw__WriteRequest *decode(const struct fog_rw_buf *b)
{
	Fogrw__WriteRequest *wr = fogrw__write_request__unpack(NULL, b->len, b->p);

	assert_non_null(wr);
	return wr;
}

static void test_encode_classes_labels(void **state)
{
	static const char text[] =
		"# HELP fog_cpu_busy x\n"
		"# TYPE fog_cpu_busy gauge\n"
		"fog_cpu_busy{cpu=\"0\"} 0.25\n"
		"fog_alert_level{resource=\"cpu\"} 2\n"
		"fog_process_cpu_seconds_total{pid=\"7\",comm=\"a \\\"q\\\" \\\\ b\\nc\"} 1.5\n"
		"fog_cgroup_x{cgroup=\"/sys\",instance=\"own\"} +Inf\n"
		"fog_nan{empty=\"\"} NaN\n"
		"not a sample line\n"
		"fog_bad{x=\"unterminated} 1\n"
		"fog_twice{a=\"1\",a=\"2\"} 1\n";
	const char *extra[] = {"instance", "host-1", "job", "fogd", NULL};
	struct fog_rw_buf out[FOG_UPLINK_CLASSES] = {0};
	Fogrw__WriteRequest *wr;
	unsigned int bad = 0;
	const Fogrw__TimeSeries *ts;

	assert_int_equal(fog_rw_encode(text, strlen(text), 1234, extra, out, &bad), 0);
	assert_int_equal(bad, 3);
	assert_int_equal(out[FOG_UPLINK_ALERT].series, 1);
	assert_int_equal(out[FOG_UPLINK_HOST].series, 2);
	assert_int_equal(out[FOG_UPLINK_DETAIL].series, 2);

	wr = decode(&out[FOG_UPLINK_HOST]);
	assert_int_equal(wr->n_timeseries, 2);
	ts = wr->timeseries[0];
	/* sorted by name, __name__ first, the extra labels added */
	assert_string_equal(ts->labels[0]->name, "__name__");
	assert_string_equal(ts->labels[0]->value, "fog_cpu_busy");
	for (size_t i = 1; i < ts->n_labels; i++)
		assert_true(strcmp(ts->labels[i - 1]->name, ts->labels[i]->name) < 0);
	assert_string_equal(label(ts, "instance"), "host-1");
	assert_string_equal(label(ts, "job"), "fogd");
	assert_string_equal(label(ts, "cpu"), "0");
	assert_int_equal(ts->n_samples, 1);
	assert_true(ts->samples[0]->value == 0.25);
	assert_int_equal(ts->samples[0]->timestamp, 1234);
	assert_true(isnan(wr->timeseries[1]->samples[0]->value));
	assert_null(label(wr->timeseries[1], "empty")); /* an empty value is no label */
	fogrw__write_request__free_unpacked(wr, NULL);

	wr = decode(&out[FOG_UPLINK_DETAIL]);
	/* escapes undone */
	assert_string_equal(label(wr->timeseries[0], "comm"), "a \"q\" \\ b\nc");
	/* a series' own label wins over an extra one of the same name */
	assert_string_equal(label(wr->timeseries[1], "instance"), "own");
	assert_true(isinf(wr->timeseries[1]->samples[0]->value));
	fogrw__write_request__free_unpacked(wr, NULL);
	for (int c = 0; c < FOG_UPLINK_CLASSES; c++)
		free(out[c].p);
}

static void test_classify(void **state)
{
	assert_int_equal(fog_uplink_classify("ALERTS", NULL), FOG_UPLINK_ALERT);
	assert_int_equal(fog_uplink_classify("fog_alerts_fired_total", NULL), FOG_UPLINK_ALERT);
	assert_int_equal(fog_uplink_classify("fog_mem_free_bytes", (const char *[]){"node", NULL}),
			 FOG_UPLINK_HOST);
	assert_int_equal(fog_uplink_classify("fog_x", (const char *[]){"a", "cgroup", NULL}),
			 FOG_UPLINK_DETAIL);
}

/* Concatenated bodies read as one; a merge keeps each series' latest sample. */
static void test_concat_merge(void **state)
{
	struct fog_rw_buf in = {0}, merged = {0}, z = {0};
	struct fog_rw_label a[] = {{"__name__", "c"}, {"k", "1"}};
	struct fog_rw_label b[] = {{"__name__", "c"}, {"k", "2"}};
	Fogrw__WriteRequest *wr;
	void *packed;
	size_t plen;

	for (int t = 0; t < 5; t++) {
		assert_int_equal(fog_rw_buf_series(&in, a, 2, t * 10.0, 1000 + t), 0);
		if (t < 3)
			assert_int_equal(fog_rw_buf_series(&in, b, 2, t * 100.0, 1000 + t), 0);
	}
	wr = decode(&in);
	assert_int_equal(wr->n_timeseries, 8);
	fogrw__write_request__free_unpacked(wr, NULL);
	assert_int_equal(fog_rw_merge(&in, &merged), 0);
	assert_int_equal(merged.series, 2);
	wr = decode(&merged);
	assert_string_equal(label(wr->timeseries[0], "k"), "1");
	assert_true(wr->timeseries[0]->samples[0]->value == 40.0);
	assert_int_equal(wr->timeseries[0]->samples[0]->timestamp, 1004);
	assert_true(wr->timeseries[1]->samples[0]->value == 200.0);
	assert_int_equal(wr->timeseries[1]->samples[0]->timestamp, 1002);
	fogrw__write_request__free_unpacked(wr, NULL);

	/* snappy round trip; garbage and an over-large claim are refused */
	assert_int_equal(fog_rw_compress(in.p, in.len, &packed, &plen), 0);
	assert_int_equal(fog_rw_uncompress(packed, plen, FOG_RW_MAX_RAW, &z), 0);
	assert_int_equal(z.len, in.len);
	assert_memory_equal(z.p, in.p, in.len);
	assert_int_equal(fog_rw_uncompress(packed, plen, in.len - 1, &z), -EBADMSG);
	assert_int_equal(fog_rw_uncompress("\xff\xff\xff\xff\x0f garbage", 13, FOG_RW_MAX_RAW, &z),
			 -EBADMSG);
	in.len = 3;
	in.p[0] = 0x0a;
	in.p[1] = 0x7f; /* a length past the end */
	assert_int_equal(fog_rw_merge(&in, &merged), -EBADMSG);
	free(packed);
	free(in.p);
	free(merged.p);
	free(z.p);
}

static void test_answers_backoff(void **state)
{
	assert_int_equal(fog_rw_classify(200), FOG_RW_OK);
	assert_int_equal(fog_rw_classify(204), FOG_RW_OK);
	assert_int_equal(fog_rw_classify(0), FOG_RW_RETRY);
	assert_int_equal(fog_rw_classify(429), FOG_RW_RETRY);
	assert_int_equal(fog_rw_classify(500), FOG_RW_RETRY);
	assert_int_equal(fog_rw_classify(503), FOG_RW_RETRY);
	assert_int_equal(fog_rw_classify(400), FOG_RW_REJECTED);
	assert_int_equal(fog_rw_classify(404), FOG_RW_REJECTED);
	assert_int_equal(fog_rw_classify(301), FOG_RW_REJECTED); /* no redirect is followed */
	assert_true(fog_rw_backoff(0, 0.5, 30) == 0.5);
	assert_true(fog_rw_backoff(0.5, 0.5, 30) == 1.0);
	assert_true(fog_rw_backoff(20, 0.5, 30) == 30);
	assert_true(fog_rw_backoff(30, 0.5, 30) == 30);
}

static void test_secret_file(void **state)
{
	char path[] = "/tmp/fog-secret.XXXXXX", buf[64], err[256];
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("s3cret-value\n", f);
	fclose(f);
	assert_int_equal(fog_rw_read_secret(path, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "s3cret-value");
	f = fopen(path, "w");
	fputs("two\nlines\n", f);
	fclose(f);
	assert_int_equal(fog_rw_read_secret(path, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "two")); /* the error never shows the content */
	assert_int_equal(fog_rw_read_secret("/dev/zero", buf, sizeof(buf), err, sizeof(err)),
			 -EINVAL);
	unlink(path);
	assert_true(fog_rw_read_secret(path, buf, sizeof(buf), err, sizeof(err)) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_classes_labels),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_concat_merge),
		cmocka_unit_test(test_answers_backoff),
		cmocka_unit_test(test_secret_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
