/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Discrete events from the collectors' ring buffers: validated decoding, one
 * libbpf ring_buffer for all sources polled from the event loop, subscribers,
 * drop and malformed-record counters, and a bounded log of recent events.
 */
#ifndef FOG_EVENTS_H
#define FOG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <jansson.h>
#include "fog/abi/events.h"

struct fog_loop;

/* A record checked and copied out of the ring buffer. */
struct fog_event {
	__u64 seq;	/* 1, 2, ... in arrival order */
	__u64 ts_ns;	/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 type;	/* enum fog_event_type */
	union {
		struct fog_event_hdr hdr;
		struct fog_ev_proc proc;
		struct fog_ev_runq runq;
		struct fog_ev_oom oom;
		struct fog_ev_io io;
	} u;
};

/*
 * Checks a raw record: its header, a known type, and a length equal to the
 * size that type requires. Returns 0, -EINVAL (too short or size mismatch) or
 * -EPROTO (unknown type). comm strings are NUL-terminated in out.
 */
int fog_event_decode(const void *data, size_t len, struct fog_event *out);
const char *fog_event_type_name(__u32 type);
/* The event as JSON; cgroup_path may be NULL when the id is not resolved. */
json_t *fog_event_json(const struct fog_event *ev, const char *cgroup_path);

typedef void (*fog_event_fn)(const struct fog_event *ev, void *ctx);

struct fog_events;

struct fog_events *fog_events__new(struct fog_loop *loop, unsigned int log_size);
void fog_events__free(struct fog_events *e);
/* Adds a ring buffer and the per-CPU array counting its failed reservations. */
int fog_events__add_source(struct fog_events *e, const char *name, int ringbuf_fd, int drops_fd);
void fog_events__remove_source(struct fog_events *e, const char *name);
int fog_events__subscribe(struct fog_events *e, fog_event_fn fn, void *ctx);
/* Removes a subscription made with the same fn and ctx. */
void fog_events__unsubscribe(struct fog_events *e, fog_event_fn fn, void *ctx);
/* Hands one raw record in as if it came from a ring buffer (tests, fuzzing). */
void fog_events__feed(struct fog_events *e, const void *data, size_t len);
/* Drains every ring buffer now. */
void fog_events__consume(struct fog_events *e);

__u64 fog_events__received(const struct fog_events *e);
__u64 fog_events__malformed(const struct fog_events *e);
/* Reservation failures summed over sources and CPUs, read from the maps. */
__u64 fog_events__drops(const struct fog_events *e);

typedef const char *(*fog_cgroup_name_fn)(__u64 id, void *ctx);
/* Which events fog_events__json lists: 0 fields match anything. */
struct fog_event_filter {
	__u64 since;	/* seq > since */
	__u32 type;	/* enum fog_event_type */
	__u32 pid;	/* the process the event is about */
	unsigned int limit;	/* at most this many, oldest first */
};

json_t *fog_events__json(const struct fog_events *e, const struct fog_event_filter *f,
			 fog_cgroup_name_fn name, void *name_ctx);
/* The process an event is about. */
__u32 fog_event_pid(const struct fog_event *ev);

#endif /* FOG_EVENTS_H */
