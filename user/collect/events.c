// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/heap.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/text.h"
#include "collect/events.h"

#define EVENTS_MAX_SOURCES 8
#define EVENTS_MAX_SUBS 8
/*
 * Records one wake-up takes from a source before the loop serves anything
 * else. libbpf keeps consuming while producers keep up, so without a bound a
 * flood held the loop (and with it every HTTP answer) for seconds.
 */
#define EVENTS_BUDGET 4096
/* a source being removed is drained of at most this many records */
#define EVENTS_DRAIN_MAX (1u << 20)

struct source {
	struct fog_events *owner;
	char name[32];
	int ringbuf_fd;
	int drops_fd;
	struct ring_buffer *rb;	/* this source alone, so each is consumed within its budget */
	int epfd;	/* rb's epoll fd as registered with the loop, -1 if none */
	unsigned int left;	/* records this consume may still take */
};

struct sub {
	fog_event_fn fn;
	void *ctx;
};

struct fog_events {
	struct fog_loop *loop;
	struct source sources[EVENTS_MAX_SOURCES];
	unsigned int n_sources;
	struct sub subs[EVENTS_MAX_SUBS];
	unsigned int n_subs;
	__u64 seq;
	__u64 received;
	__u64 malformed;
	__u64 type_counts[FOG_EV_TYPE_MAX];
	struct fog_event *log;	/* ring of the last log_size events */
	unsigned int log_size;
};

static const char *const type_names[FOG_EV_TYPE_MAX] = {
	[FOG_EV_EXEC] = "exec",
	[FOG_EV_EXIT] = "exit",
	[FOG_EV_RUNQ_OUTLIER] = "runq_outlier",
	[FOG_EV_OOM_KILL] = "oom_kill",
	[FOG_EV_IO_OUTLIER] = "io_outlier",
};

static const size_t type_sizes[FOG_EV_TYPE_MAX] = {
	[FOG_EV_EXEC] = sizeof(struct fog_ev_proc),
	[FOG_EV_EXIT] = sizeof(struct fog_ev_proc),
	[FOG_EV_RUNQ_OUTLIER] = sizeof(struct fog_ev_runq),
	[FOG_EV_OOM_KILL] = sizeof(struct fog_ev_oom),
	[FOG_EV_IO_OUTLIER] = sizeof(struct fog_ev_io),
};

const char *fog_event_type_name(__u32 type)
{
	return type < FOG_EV_TYPE_MAX && type_names[type] ? type_names[type] : "unknown";
}

static void terminate(char *s, size_t len)
{
	s[len - 1] = '\0';
}

int fog_event_decode(const void *data, size_t len, struct fog_event *out)
{
	struct fog_event_hdr hdr;

	if (!data || len < sizeof(hdr))
		return -EINVAL;
	memcpy(&hdr, data, sizeof(hdr));
	if (hdr.type == 0 || hdr.type >= FOG_EV_TYPE_MAX || !type_sizes[hdr.type])
		return -EPROTO;
	if (len != type_sizes[hdr.type] || hdr.size != len)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(&out->u, data, len);
	out->type = hdr.type;
	out->ts_ns = hdr.ts_ns;
	switch (hdr.type) {
	case FOG_EV_EXEC:
	case FOG_EV_EXIT:
		terminate(out->u.proc.comm, sizeof(out->u.proc.comm));
		break;
	case FOG_EV_RUNQ_OUTLIER:
		terminate(out->u.runq.comm, sizeof(out->u.runq.comm));
		break;
	case FOG_EV_OOM_KILL:
		terminate(out->u.oom.comm, sizeof(out->u.oom.comm));
		break;
	case FOG_EV_IO_OUTLIER:
		terminate(out->u.io.comm, sizeof(out->u.io.comm));
		break;
	}
	return 0;
}

/* Converts a CLOCK_MONOTONIC time stamp to seconds since the epoch. */
static double mono_to_epoch(__u64 ts_ns)
{
	struct timespec mono, real;
	double now_mono, now_real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	now_mono = (double)mono.tv_sec + mono.tv_nsec / 1e9;
	now_real = (double)real.tv_sec + real.tv_nsec / 1e9;
	return now_real - (now_mono - (double)ts_ns / 1e9);
}

json_t *fog_event_json(const struct fog_event *ev, const char *cgroup_path)
{
	json_t *o = json_object();
	__u64 cgid = 0;

	json_object_set_new(o, "seq", json_integer((json_int_t)ev->seq));
	json_object_set_new(o, "type", json_string(fog_event_type_name(ev->type)));
	json_object_set_new(o, "time", json_real(mono_to_epoch(ev->ts_ns)));
	switch (ev->type) {
	case FOG_EV_EXEC:
	case FOG_EV_EXIT:
		json_object_set_new(o, "pid", json_integer(ev->u.proc.pid));
		json_object_set_new(o, "ppid", json_integer(ev->u.proc.ppid));
		json_object_set_new(o, "comm", fog_json_text(ev->u.proc.comm));
		if (ev->type == FOG_EV_EXIT)
			json_object_set_new(o, "exit_code", json_integer(ev->u.proc.exit_code));
		cgid = ev->u.proc.cgroup_id;
		break;
	case FOG_EV_RUNQ_OUTLIER:
		json_object_set_new(o, "pid", json_integer(ev->u.runq.pid));
		json_object_set_new(o, "tid", json_integer(ev->u.runq.tid));
		json_object_set_new(o, "comm", fog_json_text(ev->u.runq.comm));
		json_object_set_new(o, "cpu", json_integer(ev->u.runq.cpu));
		json_object_set_new(o, "latency_seconds", json_real(ev->u.runq.latency_ns / 1e9));
		cgid = ev->u.runq.cgroup_id;
		break;
	case FOG_EV_OOM_KILL:
		json_object_set_new(o, "pid", json_integer(ev->u.oom.pid));
		json_object_set_new(o, "uid", json_integer(ev->u.oom.uid));
		json_object_set_new(o, "comm", fog_json_text(ev->u.oom.comm));
		json_object_set_new(o, "rss_pages", json_integer((json_int_t)ev->u.oom.pages));
		json_object_set_new(o, "total_vm_pages",
				    json_integer((json_int_t)ev->u.oom.total_vm_pages));
		cgid = ev->u.oom.cgroup_id;
		break;
	case FOG_EV_IO_OUTLIER:
		json_object_set_new(o, "pid", json_integer(ev->u.io.pid));
		json_object_set_new(o, "comm", fog_json_text(ev->u.io.comm));
		json_object_set_new(o, "dev", json_sprintf("%u:%u", ev->u.io.dev >> 20,
							   ev->u.io.dev & ((1U << 20) - 1)));
		json_object_set_new(o, "op", json_string(ev->u.io.write ? "write" : "read"));
		json_object_set_new(o, "bytes", json_integer((json_int_t)ev->u.io.bytes));
		json_object_set_new(o, "sector", json_integer((json_int_t)ev->u.io.sector));
		json_object_set_new(o, "latency_seconds", json_real(ev->u.io.latency_ns / 1e9));
		return o;
	}
	json_object_set_new(o, "cgroup_id", json_integer((json_int_t)cgid));
	json_object_set_new(o, "cgroup", fog_json_text(cgroup_path));
	return o;
}

struct fog_events *fog_events__new(struct fog_loop *loop, unsigned int log_size)
{
	struct fog_events *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->log = fog_heap_calloc(log_size ? log_size : 1, sizeof(*e->log));
	if (!e->log) {
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	e->log_size = log_size ? log_size : 1;
	e->loop = loop;
	return e;
}

static void rb_unregister(struct fog_events *e)
{
	for (unsigned int i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		if (s->epfd >= 0 && e->loop)
			fog_loop__del_fd(e->loop, s->epfd);
		s->epfd = -1;
		ring_buffer__free(s->rb);
		s->rb = NULL;
	}
}

void fog_events__free(struct fog_events *e)
{
	if (!e)
		return;
	rb_unregister(e);
	fog_heap_free(e->log);
	free(e);
}

void fog_events__feed(struct fog_events *e, const void *data, size_t len)
{
	struct fog_event ev;
	int err;

	err = fog_event_decode(data, len, &ev);
	if (err) {
		/* counted and skipped: a bad record must not stop the rest */
		if (!e->malformed++)
			fog_warnx("skipping malformed ring buffer record (%zu bytes): %s", len,
				  err == -EPROTO ? "unknown type" : "size does not match its type");
		return;
	}
	ev.seq = ++e->seq;
	e->received++;
	e->type_counts[ev.type]++;
	e->log[(ev.seq - 1) % e->log_size] = ev;
	for (unsigned int i = 0; i < e->n_subs; i++)
		e->subs[i].fn(&ev, e->subs[i].ctx);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct source *s = ctx;

	fog_events__feed(s->owner, data, len);
	/* libbpf has already moved past this record: it is consumed exactly once */
	return --s->left ? 0 : -EAGAIN;
}

/* Takes at most budget records from one source; true when it stopped at the budget. */
static bool consume_source(struct source *s, unsigned int budget)
{
	int n;

	if (!s->rb)
		return false;
	s->left = budget;
	n = ring_buffer__consume(s->rb);
	if (n == -EAGAIN)
		return true;
	if (n < 0)
		fog_warnc(-n, "ring buffer %s: consume failed", s->name);
	return false;
}

void fog_events__consume(struct fog_events *e)
{
	for (unsigned int i = 0; i < e->n_sources; i++)
		consume_source(&e->sources[i], EVENTS_BUDGET);
}

static void on_readable(int fd, uint32_t events, void *ctx)
{
	consume_source(ctx, EVENTS_BUDGET);
}

/* (Re)creates one ring_buffer per source and hands each epoll fd to the loop. */
static int rb_build(struct fog_events *e)
{
	int err;

	rb_unregister(e);
	for (unsigned int i = 0; i < e->n_sources; i++) {
		struct source *s = &e->sources[i];

		s->rb = ring_buffer__new(s->ringbuf_fd, on_record, s, NULL);
		if (!s->rb)
			return -errno;
		if (!e->loop)
			continue;
		s->epfd = ring_buffer__epoll_fd(s->rb);
		err = fog_loop__add_fd(e->loop, s->name, s->epfd, EPOLLIN, on_readable, s);
		if (err) {
			s->epfd = -1;
			return err;
		}
	}
	return 0;
}

int fog_events__add_source(struct fog_events *e, const char *name, int ringbuf_fd, int drops_fd)
{
	struct source *s;
	int err;

	if (e->n_sources == EVENTS_MAX_SOURCES)
		return -ENOSPC;
	s = &e->sources[e->n_sources++];
	s->owner = e;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->ringbuf_fd = ringbuf_fd;
	s->drops_fd = drops_fd;
	s->rb = NULL;
	s->epfd = -1;
	err = rb_build(e);
	if (err) {
		rb_unregister(e);
		e->n_sources--;
		rb_build(e);
	}
	return err;
}

void fog_events__remove_source(struct fog_events *e, const char *name)
{
	for (unsigned int i = 0; i < e->n_sources; i++) {
		if (strcmp(e->sources[i].name, name))
			continue;
		/* drain what is already there before the source goes away */
		if (consume_source(&e->sources[i], EVENTS_DRAIN_MAX))
			fog_warnx("ring buffer %s: still busy after %u records, removed anyway",
				  name, EVENTS_DRAIN_MAX);
		rb_unregister(e);
		memmove(&e->sources[i], &e->sources[i + 1],
			(e->n_sources - i - 1) * sizeof(e->sources[0]));
		e->n_sources--;
		/* the ring buffers and the loop hold pointers to the moved entries: rebuild */
		if (rb_build(e))
			fog_warnx("cannot rebuild the event ring buffers after removing %s", name);
		return;
	}
}

int fog_events__subscribe(struct fog_events *e, fog_event_fn fn, void *ctx)
{
	if (e->n_subs == EVENTS_MAX_SUBS)
		return -ENOSPC;
	e->subs[e->n_subs++] = (struct sub){ fn, ctx };
	return 0;
}

void fog_events__unsubscribe(struct fog_events *e, fog_event_fn fn, void *ctx)
{
	for (unsigned int i = 0; i < e->n_subs; i++) {
		if (e->subs[i].fn != fn || e->subs[i].ctx != ctx)
			continue;
		memmove(&e->subs[i], &e->subs[i + 1], (e->n_subs - i - 1) * sizeof(e->subs[0]));
		e->n_subs--;
		return;
	}
}

__u64 fog_events__received(const struct fog_events *e)
{
	return e->received;
}

__u64 fog_events__malformed(const struct fog_events *e)
{
	return e->malformed;
}

__u64 fog_events__drops(const struct fog_events *e)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 total = 0, vals[ncpu > 0 ? ncpu : 1];
	__u32 zero = 0;

	if (ncpu <= 0)
		return 0;
	for (unsigned int i = 0; i < e->n_sources; i++) {
		if (e->sources[i].drops_fd < 0 ||
		    bpf_map_lookup_elem(e->sources[i].drops_fd, &zero, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			total += vals[c];
	}
	return total;
}

__u32 fog_event_pid(const struct fog_event *ev)
{
	switch (ev->type) {
	case FOG_EV_EXEC:
	case FOG_EV_EXIT:
		return ev->u.proc.pid;
	case FOG_EV_RUNQ_OUTLIER:
		return ev->u.runq.pid;
	case FOG_EV_OOM_KILL:
		return ev->u.oom.pid;
	case FOG_EV_IO_OUTLIER:
		return ev->u.io.pid;
	}
	return 0;
}

json_t *fog_events__json(const struct fog_events *e, const struct fog_event_filter *f,
			 fog_cgroup_name_fn name, void *name_ctx)
{
	__u64 since = f->since;
	__u32 type = f->type;
	unsigned int limit = f->limit;
	json_t *o = json_object(), *arr = json_array(), *counts = json_object();
	__u64 oldest = e->seq > e->log_size ? e->seq - e->log_size + 1 : 1;
	unsigned int n = 0;

	for (__u64 s = since + 1 > oldest ? since + 1 : oldest; s <= e->seq; s++) {
		const struct fog_event *ev = &e->log[(s - 1) % e->log_size];
		const char *path = NULL;
		__u64 cgid = 0;

		if ((type && ev->type != type) || (f->pid && fog_event_pid(ev) != f->pid))
			continue;
		if (limit && n == limit)
			break;
		if (ev->type == FOG_EV_EXEC || ev->type == FOG_EV_EXIT)
			cgid = ev->u.proc.cgroup_id;
		else if (ev->type == FOG_EV_RUNQ_OUTLIER)
			cgid = ev->u.runq.cgroup_id;
		else if (ev->type == FOG_EV_OOM_KILL)
			cgid = ev->u.oom.cgroup_id;
		if (cgid && name)
			path = name(cgid, name_ctx);
		json_array_append_new(arr, fog_event_json(ev, path));
		n++;
	}
	for (__u32 t = 1; t < FOG_EV_TYPE_MAX; t++)
		json_object_set_new(counts, type_names[t], json_integer((json_int_t)e->type_counts[t]));
	json_object_set_new(o, "last_seq", json_integer((json_int_t)e->seq));
	json_object_set_new(o, "received", json_integer((json_int_t)e->received));
	json_object_set_new(o, "malformed", json_integer((json_int_t)e->malformed));
	json_object_set_new(o, "dropped", json_integer((json_int_t)fog_events__drops(e)));
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "events", arr);
	return o;
}
