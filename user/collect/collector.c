// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "collect/collect_int.h"

/* The collectors, in start order: explicit, so a reader finds them all here. */
static const struct fog_collector_ops *const collector_table[] = {
	&fog_cpu_collector,
	&fog_schedlat_collector,
	&fog_mem_collector,
	&fog_io_collector,
	&fog_net_collector,
};

#define N_COLLECTORS (sizeof(collector_table) / sizeof(collector_table[0]))

const char *fog_collector_state_name(enum fog_collector_state s)
{
	switch (s) {
	case FOG_COLLECTOR_OFF:
		return "off";
	case FOG_COLLECTOR_RUNNING:
		return "running";
	case FOG_COLLECTOR_UNAVAILABLE:
		return "unavailable";
	}
	return "unknown";
}

int fog_collector_fail(struct fog_collector *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EINVAL;
}

void fog_percpu_sum(void *out, const void *values, int ncpu, size_t value_size, size_t u64_bytes)
{
	__u64 *dst = out;
	size_t words = u64_bytes / 8, rest = value_size - u64_bytes;
	size_t stride = (value_size + 7) & ~(size_t)7; /* per-CPU values are 8-byte aligned */

	memset(out, 0, value_size);
	for (int c = 0; c < ncpu; c++) {
		const unsigned char *v = (const unsigned char *)values + (size_t)c * stride;
		__u64 w;

		for (size_t i = 0; i < words; i++) {
			memcpy(&w, v + i * 8, 8);
			dst[i] += w;
		}
		if (rest && !((unsigned char *)out)[u64_bytes]) {
			for (size_t i = 0; i < rest; i++) {
				if (v[u64_bytes + i]) {
					memcpy((unsigned char *)out + u64_bytes, v + u64_bytes, rest);
					break;
				}
			}
		}
	}
}

/* Maps that are internal to libbpf (.rodata, .bss, ...) are not pinned. */
static bool pinnable(const struct bpf_map *map)
{
	return !bpf_map__is_internal(map);
}

int fog_collector_pin_maps(struct fog_collector *c, struct bpf_object *obj)
{
	const char *dir = c->owner->cfg->pin_path;
	struct bpf_map *map;
	char path[512];
	int err;

	if (!c->owner->pins)
		return 0;
	bpf_object__for_each_map(map, obj) {
		if (!pinnable(map) || bpf_map__is_pinned(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		unlink(path); /* a stale pin from a fogd that did not exit cleanly */
		err = bpf_map__pin(map, path);
		if (err) {
			fog_collector_unpin_maps(c, obj);
			return fog_collector_fail(c, err, "cannot pin map %s at %s: %s",
						  bpf_map__name(map), path, strerror(-err));
		}
	}
	return 0;
}

void fog_collector_unpin_maps(struct fog_collector *c, struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		if (pinnable(map) && bpf_map__is_pinned(map))
			bpf_map__unpin(map, NULL);
}

int fog_collector_add_events(struct fog_collector *c, struct bpf_object *obj, const char *prefix)
{
	char name[64];
	struct bpf_map *rb, *drops;
	int err;

	snprintf(name, sizeof(name), "%s_events", prefix);
	rb = bpf_object__find_map_by_name(obj, name);
	snprintf(name, sizeof(name), "%s_drops", prefix);
	drops = bpf_object__find_map_by_name(obj, name);
	if (!rb || !drops)
		return fog_collector_fail(c, -ENOENT, "object has no %s_events/%s_drops maps",
					  prefix, prefix);
	err = fog_events__add_source(c->owner->events, prefix, bpf_map__fd(rb), bpf_map__fd(drops));
	if (err)
		return fog_collector_fail(c, err, "cannot poll ring buffer %s_events: %s", prefix,
					  strerror(-err));
	return 0;
}

json_t *fog_collector_prog_stats(struct bpf_object *obj)
{
	json_t *arr = json_array();
	struct bpf_program *prog;

	if (!obj)
		return arr;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		json_array_append_new(
			arr, json_pack("{s:s,s:I,s:I,s:f,s:I}", "name", bpf_program__name(prog),
				       "run_time_ns", (json_int_t)info.run_time_ns, "run_cnt",
				       (json_int_t)info.run_cnt, "ns_per_run",
				       info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0,
				       "recursion_misses", (json_int_t)info.recursion_misses));
	}
	return arr;
}

bool fog_tracepoint_exists(const char *name)
{
	struct btf *btf = btf__load_vmlinux_btf();
	char type[128];
	bool found;

	if (!btf)
		return true; /* cannot tell: let the load say */
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	found = btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF) >= 0;
	btf__free(btf);
	return found;
}

__u32 fog_collector_cgroup_mode(const struct fog_collector *c)
{
	return (__u32)c->owner->cgroup.mode;
}

static const char *cgroup_name(__u64 id, void *ctx)
{
	return fog_collect__cgroup_path(ctx, id);
}

const char *fog_collect__cgroup_path(struct fog_collect *c, __u64 id)
{
	return c->cgroups ? fog_cgroup_cache__path(c->cgroups, id) : NULL;
}

/* Exited processes leave the aggregates at once, not at the next tick. */
static void on_event(const struct fog_event *ev, void *ctx)
{
	struct fog_collect *c = ctx;
	struct fog_proc *p;

	switch (ev->type) {
	case FOG_EV_EXEC:
		p = fog_agg__proc(c->agg, ev->u.proc.pid, false);
		if (p)
			memcpy(p->comm, ev->u.proc.comm, sizeof(p->comm));
		break;
	case FOG_EV_OOM_KILL:
		fog_warnx("oom kill: pid %u (%s) in cgroup %s, %llu pages resident", ev->u.oom.pid,
			  ev->u.oom.comm,
			  fog_collect__cgroup_path(c, ev->u.oom.cgroup_id) ?: "(unresolved)",
			  (unsigned long long)ev->u.oom.pages);
		break;
	case FOG_EV_RUNQ_OUTLIER:
		fog_debug("run-queue outlier: pid %u (%s) waited %.3f ms", ev->u.runq.pid,
			  ev->u.runq.comm, ev->u.runq.latency_ns / 1e6);
		break;
	}
}

struct fog_collect *fog_collect__new(const struct fog_config *cfg, struct fog_loop *loop)
{
	struct fog_collect *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->cfg = cfg;
	c->loop = loop;
	c->pins = true;
	c->ncpu = libbpf_num_possible_cpus();
	if (c->ncpu <= 0) {
		err = c->ncpu ? c->ncpu : -EINVAL;
		goto out_free;
	}
	err = fog_cgroup_detect(cfg->cgroup_mode, &c->cgroup);
	if (err) {
		fog_warnx("no cgroup hierarchy for cgroup_mode %s: cgroups will not be named",
			  cfg->cgroup_mode);
	} else {
		c->cgroups = fog_cgroup_cache__new(&c->cgroup, cfg->max_cgroups * 4);
		if (!c->cgroups) {
			err = -errno;
			goto out_free;
		}
	}
	c->events = fog_events__new(loop, cfg->event_log_size);
	if (!c->events) {
		err = -errno;
		goto out_free_cgroups;
	}
	c->agg = fog_agg__new(cfg->max_processes);
	if (!c->agg) {
		err = -errno;
		goto out_free_events;
	}
	fog_events__subscribe(c->events, on_event, c);
	for (unsigned int i = 0; i < N_COLLECTORS; i++) {
		c->collectors[i].ops = collector_table[i];
		c->collectors[i].owner = c;
	}
	c->n_collectors = N_COLLECTORS;
	return c;

out_free_events:
	fog_events__free(c->events);
out_free_cgroups:
	fog_cgroup_cache__free(c->cgroups);
out_free:
	free(c);
	errno = -err;
	return NULL;
}

void fog_collect__free(struct fog_collect *c)
{
	if (!c)
		return;
	fog_collect__stop(c);
	fog_agg__free(c->agg);
	fog_events__free(c->events);
	fog_cgroup_cache__free(c->cgroups);
	free(c);
}

static void collector_start(struct fog_collector *col)
{
	int err;

	col->error[0] = '\0';
	err = col->ops->start(col);
	if (err) {
		col->state = FOG_COLLECTOR_UNAVAILABLE;
		if (!col->error[0])
			snprintf(col->error, sizeof(col->error), "%s", strerror(-err));
		fog_warnx("collector %s unavailable: %s", col->ops->name, col->error);
		return;
	}
	col->state = FOG_COLLECTOR_RUNNING;
	if (col->error[0]) /* running, with a part missing */
		fog_warnx("collector %s running without part of it: %s", col->ops->name,
			  col->error);
	else
		fog_info("collector %s running", col->ops->name);
}

static void collector_stop(struct fog_collector *col)
{
	if (col->state == FOG_COLLECTOR_RUNNING)
		col->ops->stop(col);
	col->state = FOG_COLLECTOR_OFF;
	col->obj = NULL;
}

int fog_collect__start(struct fog_collect *c)
{
	int running = 0;

	c->last_tick_ns = fog_now_ns();
	for (unsigned int i = 0; i < c->n_collectors; i++) {
		struct fog_collector *col = &c->collectors[i];

		if (!col->ops->enabled(c->cfg)) {
			col->state = FOG_COLLECTOR_OFF;
			continue;
		}
		collector_start(col);
		running += col->state == FOG_COLLECTOR_RUNNING;
	}
	return running;
}

void fog_collect__stop(struct fog_collect *c)
{
	/* reverse order: collectors sharing an object release it last-in first-out */
	for (unsigned int i = c->n_collectors; i-- > 0;)
		collector_stop(&c->collectors[i]);
}

void fog_collect__tick(struct fog_collect *c)
{
	__u64 now = fog_now_ns();
	struct fog_tick t;

	c->tick_seconds = (double)(now - c->last_tick_ns) / 1e9;
	c->last_tick_ns = now;
	c->ticks++;
	/* events first, so exits are seen before the maps are read */
	fog_events__consume(c->events);
	fog_signals_init(&c->host);
	fog_agg__tick_begin(c->agg, now);
	for (unsigned int i = 0; i < c->n_collectors; i++)
		if (c->collectors[i].state == FOG_COLLECTOR_RUNNING)
			c->collectors[i].ops->tick(&c->collectors[i], now);
	fog_agg__tick_end(c->agg, now);
	t = (struct fog_tick){ .seq = c->ticks, .at_ns = now, .seconds = c->tick_seconds,
			       .host = c->host };
	/* the first round only sets the baselines the next one's rates start from */
	for (unsigned int i = 0; c->ticks > 1 && i < c->n_subs; i++)
		c->subs[i].fn(&t, c->subs[i].ctx);
}

int fog_collect__subscribe(struct fog_collect *c, const char *name, fog_tick_fn fn, void *ctx)
{
	if (c->n_subs == FOG_MAX_SUBSCRIBERS)
		return -ENOSPC;
	c->subs[c->n_subs].name = name;
	c->subs[c->n_subs].fn = fn;
	c->subs[c->n_subs].ctx = ctx;
	c->n_subs++;
	return 0;
}

void fog_collect__unsubscribe(struct fog_collect *c, fog_tick_fn fn, void *ctx)
{
	for (unsigned int i = 0; c && i < c->n_subs; i++) {
		if (c->subs[i].fn != fn || c->subs[i].ctx != ctx)
			continue;
		memmove(&c->subs[i], &c->subs[i + 1], (c->n_subs - i - 1) * sizeof(c->subs[0]));
		c->n_subs--;
		return;
	}
}

double fog_collect__tick_seconds(const struct fog_collect *c)
{
	return c->tick_seconds;
}

unsigned int fog_collect__n_collectors(const struct fog_collect *c)
{
	return c->n_collectors;
}

struct fog_collector *fog_collect__collector(struct fog_collect *c, unsigned int i)
{
	return i < c->n_collectors ? &c->collectors[i] : NULL;
}

const struct fog_config *fog_collect__config(const struct fog_collect *c)
{
	return c->cfg;
}

struct fog_events *fog_collect__events(struct fog_collect *c)
{
	return c->events;
}

struct fog_agg *fog_collect__agg(struct fog_collect *c)
{
	return c->agg;
}

const struct fog_cgroup_info *fog_collect__cgroup(const struct fog_collect *c)
{
	return &c->cgroup;
}

void fog_collect__reconfigure(struct fog_collect *c, const struct fog_config *cfg)
{
	const struct fog_config *old = c->cfg;

	c->cfg = cfg;
	for (unsigned int i = 0; i < c->n_collectors; i++) {
		struct fog_collector *col = &c->collectors[i];
		bool want = col->ops->enabled(cfg);

		if (col->state == FOG_COLLECTOR_RUNNING && !want) {
			collector_stop(col);
			fog_info("collector %s stopped", col->ops->name);
		} else if (col->state != FOG_COLLECTOR_RUNNING && want) {
			collector_start(col);
		} else if (col->state == FOG_COLLECTOR_RUNNING && col->ops->reconfigure) {
			col->ops->reconfigure(col, cfg);
		}
	}
	(void)old;
}

struct fog_collector *fog_collect__find(struct fog_collect *c, const char *name)
{
	for (unsigned int i = 0; i < c->n_collectors; i++)
		if (!strcmp(c->collectors[i].ops->name, name))
			return &c->collectors[i];
	return NULL;
}

json_t *fog_collect__status_json(struct fog_collect *c)
{
	json_t *o = json_object(), *arr = json_array(), *cg = json_object();

	for (unsigned int i = 0; i < c->n_collectors; i++) {
		struct fog_collector *col = &c->collectors[i];
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(col->ops->name));
		json_object_set_new(e, "state", json_string(fog_collector_state_name(col->state)));
		json_object_set_new(e, "error", col->error[0] ? json_string(col->error) : json_null());
		json_object_set_new(e, "programs", fog_collector_prog_stats(col->obj));
		json_array_append_new(arr, e);
	}
	json_object_set_new(cg, "mode", json_string(fog_cgroup_mode_name(c->cgroup.mode)));
	json_object_set_new(cg, "mount", json_string(c->cgroup.mount));
	json_object_set_new(cg, "self", json_string(c->cgroup.self));
	json_object_set_new(o, "collectors", arr);
	json_object_set_new(o, "cgroup", cg);
	json_object_set_new(o, "ncpu", json_integer(c->ncpu));
	json_object_set_new(o, "ticks", json_integer((json_int_t)c->ticks));
	json_object_set_new(o, "processes_tracked", json_integer(fog_agg__count(c->agg)));
	json_object_set_new(o, "processes_overflow",
			    json_integer((json_int_t)fog_agg__overflows(c->agg)));
	json_object_set_new(o, "events",
			    fog_events__json(c->events, &(struct fog_event_filter){ .since = ~0ull },
					     cgroup_name, c));
	return o;
}
