// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring-buffer records: fog_event_decode on raw bytes, and a stream of records
 * through fog_events__feed into the event log and its JSON.
 * Input: a control byte (log size), then records, each a control byte, a length
 * byte and that many bytes. Control bit 0 stamps a valid header (type from bits
 * 1..3, size = length) so the fuzzer reaches the decoders past the checks.
 * Properties: a record is decoded or counted as malformed, never both or neither;
 * a decoded record's length is its type's; comm is NUL-terminated; the JSON
 * holds what was fed, and every event of a type with a comm has one.
 */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "collect/events.h"
#include "fuzz.h"

struct seen {
	unsigned int n;
	__u64 last_seq;
};

static void on_event(const struct fog_event *ev, void *ctx)
{
	struct seen *s = ctx;

	FUZZ_CHECK(ev->seq == s->last_seq + 1);
	FUZZ_CHECK(ev->type > 0 && ev->type < FOG_EV_TYPE_MAX);
	s->last_seq = ev->seq;
	s->n++;
}

static const char *name_of(__u64 id, void *ctx)
{
	return id & 1 ? "/fuzz.slice" : NULL;
}

static bool has_comm(__u32 type)
{
	return type >= FOG_EV_EXEC && type < FOG_EV_TYPE_MAX;
}

static size_t comm_len(const struct fog_event *ev)
{
	switch (ev->type) {
	case FOG_EV_EXEC:
	case FOG_EV_EXIT:
		return strnlen(ev->u.proc.comm, sizeof(ev->u.proc.comm));
	case FOG_EV_RUNQ_OUTLIER:
		return strnlen(ev->u.runq.comm, sizeof(ev->u.runq.comm));
	case FOG_EV_OOM_KILL:
		return strnlen(ev->u.oom.comm, sizeof(ev->u.oom.comm));
	case FOG_EV_IO_OUTLIER:
		return strnlen(ev->u.io.comm, sizeof(ev->u.io.comm));
	}
	return 0;
}

static void check_json(struct fog_events *e, unsigned int limit, __u32 type)
{
	json_t *j = fog_events__json(e, &(struct fog_event_filter){ .type = type, .limit = limit },
				     name_of, NULL),
	       *ev;
	char *text;
	size_t i;

	FUZZ_CHECK(j);
	FUZZ_CHECK(json_integer_value(json_object_get(j, "received")) ==
		   (json_int_t)fog_events__received(e));
	FUZZ_CHECK(json_integer_value(json_object_get(j, "malformed")) ==
		   (json_int_t)fog_events__malformed(e));
	FUZZ_CHECK(!limit || json_array_size(json_object_get(j, "events")) <= limit);
	json_array_foreach(json_object_get(j, "events"), i, ev) {
		const char *tname = json_string_value(json_object_get(ev, "type"));

		FUZZ_CHECK(tname && strcmp(tname, "unknown"));
		/* a comm that is not UTF-8 must not make the field vanish */
		FUZZ_CHECK(json_is_string(json_object_get(ev, "comm")));
	}
	text = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(text);
	free(text);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int log_size = fuzz_u8(&in) % 8, records = 0, limit;
	struct seen seen = { 0 };
	struct fog_events *e = fog_events__new(NULL, log_size);
	uint8_t buf[256];

	FUZZ_CHECK(e);
	FUZZ_CHECK(fog_events__subscribe(e, on_event, &seen) == 0);
	while (in.n >= 2) {
		uint8_t ctl = fuzz_u8(&in);
		size_t len = fuzz_u8(&in);
		struct fog_event ev;
		int rc;

		if (len > in.n)
			len = in.n;
		memcpy(buf, in.p, len);
		in.p += len;
		in.n -= len;
		if ((ctl & 1) && len >= sizeof(struct fog_event_hdr)) {
			struct fog_event_hdr h;

			memcpy(&h, buf, sizeof(h));
			h.type = (ctl >> 1) & 7;
			h.size = (__u32)len;
			memcpy(buf, &h, sizeof(h));
		}
		rc = fog_event_decode(buf, len, &ev);
		if (!rc) {
			struct fog_event_hdr h;

			memcpy(&h, buf, sizeof(h));
			FUZZ_CHECK(h.size == len && ev.type == h.type && ev.ts_ns == h.ts_ns);
			FUZZ_CHECK(has_comm(ev.type));
			FUZZ_CHECK(comm_len(&ev) < FOG_COMM_LEN);
			FUZZ_CHECK(strcmp(fog_event_type_name(ev.type), "unknown"));
			json_decref(fog_event_json(&ev, ctl & 0x10 ? "/x" : NULL));
		} else {
			FUZZ_CHECK(rc == -EINVAL || rc == -EPROTO);
		}
		fog_events__feed(e, buf, len);
		records++;
	}
	FUZZ_CHECK(fog_events__received(e) + fog_events__malformed(e) == records);
	FUZZ_CHECK(seen.n == fog_events__received(e));
	limit = (unsigned int)(size % 5);
	check_json(e, limit, 0);
	check_json(e, 0, (__u32)(size % FOG_EV_TYPE_MAX));
	fog_events__free(e);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fog_log_set_level(FOG_LOG_ERROR);
	return 0;
}
