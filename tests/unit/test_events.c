// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "collect/events.h"

static struct fog_ev_proc proc_record(__u32 type, __u32 pid)
{
	struct fog_ev_proc r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = type;
	r.hdr.size = sizeof(r);
	r.hdr.ts_ns = 42;
	r.pid = pid;
	r.ppid = 1;
	memcpy(r.comm, "worker", 7);
	return r;
}

static void test_decode_valid(void **state)
{
	struct fog_ev_proc r = proc_record(FOG_EV_EXEC, 1234);
	struct fog_event ev;

	assert_int_equal(fog_event_decode(&r, sizeof(r), &ev), 0);
	assert_int_equal(ev.type, FOG_EV_EXEC);
	assert_int_equal(ev.u.proc.pid, 1234);
	assert_int_equal(ev.ts_ns, 42);
	assert_string_equal(ev.u.proc.comm, "worker");
}

static void test_decode_truncated(void **state)
{
	struct fog_ev_proc r = proc_record(FOG_EV_EXIT, 7);
	struct fog_event ev;

	assert_int_equal(fog_event_decode(&r, 4, &ev), -EINVAL);
	assert_int_equal(fog_event_decode(&r, sizeof(r) - 1, &ev), -EINVAL);
	assert_int_equal(fog_event_decode(NULL, 0, &ev), -EINVAL);
}

static void test_decode_size_mismatch(void **state)
{
	struct fog_ev_proc r = proc_record(FOG_EV_EXIT, 7);
	unsigned char big[sizeof(r) + 16] = { 0 };
	struct fog_event ev;

	/* header claims another size than the record has */
	r.hdr.size = sizeof(r) + 8;
	assert_int_equal(fog_event_decode(&r, sizeof(r), &ev), -EINVAL);
	/* a longer record of a known type */
	r.hdr.size = sizeof(big);
	memcpy(big, &r, sizeof(r));
	assert_int_equal(fog_event_decode(big, sizeof(big), &ev), -EINVAL);
	/* an OOM record's length under a runq type */
	r = proc_record(FOG_EV_RUNQ_OUTLIER, 7);
	assert_int_equal(fog_event_decode(&r, sizeof(r), &ev),
			 sizeof(struct fog_ev_runq) == sizeof(r) ? 0 : -EINVAL);
}

static void test_decode_unknown_type(void **state)
{
	struct fog_ev_proc r = proc_record(0, 7);
	struct fog_event ev;

	assert_int_equal(fog_event_decode(&r, sizeof(r), &ev), -EPROTO);
	r.hdr.type = FOG_EV_TYPE_MAX;
	assert_int_equal(fog_event_decode(&r, sizeof(r), &ev), -EPROTO);
	r.hdr.type = 0xffffffff;
	assert_int_equal(fog_event_decode(&r, sizeof(r), &ev), -EPROTO);
}

static void test_decode_unterminated_comm(void **state)
{
	struct fog_ev_oom r;
	struct fog_event ev;

	memset(&r, 'A', sizeof(r));
	r.hdr.type = FOG_EV_OOM_KILL;
	r.hdr.size = sizeof(r);
	assert_int_equal(fog_event_decode(&r, sizeof(r), &ev), 0);
	assert_int_equal(strlen(ev.u.oom.comm), FOG_COMM_LEN - 1);
}

static int seen;

static void count(const struct fog_event *ev, void *ctx)
{
	seen++;
}

/* Bad records are counted and skipped; good ones around them still arrive. */
static void test_feed_counts_malformed(void **state)
{
	struct fog_events *e = fog_events__new(NULL, 4);
	struct fog_ev_proc good = proc_record(FOG_EV_EXEC, 1);
	struct fog_ev_proc bad = proc_record(99, 2);
	json_t *j;

	assert_non_null(e);
	seen = 0;
	assert_int_equal(fog_events__subscribe(e, count, NULL), 0);
	fog_events__feed(e, &good, sizeof(good));
	fog_events__feed(e, &bad, sizeof(bad));
	fog_events__feed(e, &good, 3);
	fog_events__feed(e, &good, sizeof(good));
	assert_int_equal(seen, 2);
	assert_int_equal(fog_events__received(e), 2);
	assert_int_equal(fog_events__malformed(e), 2);
	j = fog_events__json(e, &(struct fog_event_filter){ .since = 0, .type = 0, .limit = 0 }, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "events")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "malformed")), 2);
	json_decref(j);
	fog_events__free(e);
}

/* The log keeps the newest log_size events; since and type filter them. */
static void test_log_window_and_filters(void **state)
{
	struct fog_events *e = fog_events__new(NULL, 4);
	json_t *j, *arr;

	for (__u32 i = 1; i <= 10; i++) {
		struct fog_ev_proc r = proc_record(i % 2 ? FOG_EV_EXEC : FOG_EV_EXIT, i);

		fog_events__feed(e, &r, sizeof(r));
	}
	j = fog_events__json(e, &(struct fog_event_filter){ .since = 0, .type = 0, .limit = 0 }, NULL, NULL);
	arr = json_object_get(j, "events");
	assert_int_equal(json_array_size(arr), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "seq")), 7);
	json_decref(j);
	j = fog_events__json(e, &(struct fog_event_filter){ .since = 8, .type = 0, .limit = 0 }, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "events")), 2);
	json_decref(j);
	j = fog_events__json(e, &(struct fog_event_filter){ .since = 0, .type = FOG_EV_EXIT, .limit = 0 }, NULL, NULL);
	arr = json_object_get(j, "events");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "type")),
			    "exit");
	json_decref(j);
	j = fog_events__json(e, &(struct fog_event_filter){ .since = 0, .type = 0, .limit = 1 }, NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "events")), 1);
	json_decref(j);
	/* by process: only pid 9's event */
	j = fog_events__json(e, &(struct fog_event_filter){ .pid = 9 }, NULL, NULL);
	arr = json_object_get(j, "events");
	assert_int_equal(json_array_size(arr), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "pid")), 9);
	json_decref(j);
	fog_events__free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_decode_size_mismatch),
		cmocka_unit_test(test_decode_unknown_type),
		cmocka_unit_test(test_decode_unterminated_comm),
		cmocka_unit_test(test_feed_counts_malformed),
		cmocka_unit_test(test_log_window_and_filters),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
