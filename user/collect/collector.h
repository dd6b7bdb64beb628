/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collection pipeline: a table of collectors (struct fog_collector_ops),
 * each loading and attaching its BPF object on its own so that one failing
 * leaves the rest running, plus the shared pieces they feed: the event
 * ring buffers, the per-process aggregates and the cgroup path cache.
 */
#ifndef FOG_COLLECTOR_H
#define FOG_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <jansson.h>

#include "agent/config.h"
#include "base/cgroup.h"
#include "base/clock.h"
#include "collect/agg.h"
#include "collect/events.h"
#include "fog/signals.h"

struct bpf_object;
struct fog_loop;
struct fog_prom;
struct fog_collect;
struct fog_collector;

enum fog_collector_state {
	FOG_COLLECTOR_OFF,	/* disabled in the configuration */
	FOG_COLLECTOR_RUNNING,
	FOG_COLLECTOR_UNAVAILABLE,	/* failed to load or attach: see error */
};

struct fog_collector_ops {
	const char *name;
	/* Whether the configuration turns it on. */
	bool (*enabled)(const struct fog_config *cfg);
	/*
	 * Opens, loads and attaches; sets c->obj and registers ring buffers.
	 * On failure returns a negative errno, fills c->error with why, and
	 * leaves nothing loaded.
	 */
	int (*start)(struct fog_collector *c);
	/* Detaches and frees everything start made; c->obj is then NULL. */
	void (*stop)(struct fog_collector *c);
	/* Reads maps into the aggregates and the collector's own state. */
	void (*tick)(struct fog_collector *c, __u64 now_ns);
	/* The collector's figures for the API. */
	json_t *(*to_json)(struct fog_collector *c);
	/* Applies settings that can change without reloading (optional). */
	void (*reconfigure)(struct fog_collector *c, const struct fog_config *cfg);
	/* Writes the collector's Prometheus metric families (optional). */
	void (*metrics)(struct fog_collector *c, struct fog_prom *w);
};

struct fog_collector {
	const struct fog_collector_ops *ops;
	struct fog_collect *owner;
	enum fog_collector_state state;
	char error[256];	/* why it is unavailable */
	struct bpf_object *obj;	/* its BPF object while running, for pins and stats */
	void *priv;	/* the collector's own state */
};

/* The collectors, in start order. */
extern const struct fog_collector_ops fog_cpu_collector;
extern const struct fog_collector_ops fog_schedlat_collector;
extern const struct fog_collector_ops fog_mem_collector;
extern const struct fog_collector_ops fog_io_collector;
extern const struct fog_collector_ops fog_net_collector;

#define FOG_MAX_COLLECTORS 8

/*
 * What each tick publishes to the parts that subscribed (the monitor, the
 * placement engine): the host's signals of the interval it closes.
 */
struct fog_tick {
	__u64 seq;		/* ticks since the start, from 1 */
	__u64 at_ns;		/* CLOCK_MONOTONIC when it was taken */
	double seconds;		/* length of the interval it closes */
	struct fog_signals host;	/* NAN where the collector behind a figure is not running */
};

typedef void (*fog_tick_fn)(const struct fog_tick *t, void *ctx);

#define FOG_MAX_SUBSCRIBERS 8

/* Sets up the shared pieces; collectors start with fog_collect__start. */
struct fog_collect *fog_collect__new(const struct fog_config *cfg, struct fog_loop *loop);
void fog_collect__free(struct fog_collect *c);
/* Starts every enabled collector; returns how many run. */
int fog_collect__start(struct fog_collect *c);
void fog_collect__stop(struct fog_collect *c);
/*
 * One round: every running collector's tick between the aggregate's begin and
 * end, then the tick published to every subscriber, in subscription order
 * (from the second round on: the first only sets the baselines of rates).
 */
void fog_collect__tick(struct fog_collect *c);
/* Calls fn(tick, ctx) after every tick from now on; -ENOSPC past FOG_MAX_SUBSCRIBERS. */
int fog_collect__subscribe(struct fog_collect *c, const char *name, fog_tick_fn fn, void *ctx);
void fog_collect__unsubscribe(struct fog_collect *c, fog_tick_fn fn, void *ctx);
/* Length of the interval the last tick closed. */
double fog_collect__tick_seconds(const struct fog_collect *c);
unsigned int fog_collect__n_collectors(const struct fog_collect *c);
struct fog_collector *fog_collect__collector(struct fog_collect *c, unsigned int i);
/* The per-process aggregates and where the cgroups are, for the profiler's tables. */
struct fog_agg *fog_collect__agg(struct fog_collect *c);
const struct fog_cgroup_info *fog_collect__cgroup(const struct fog_collect *c);
/* Starts, stops or reconfigures collectors to match cfg, which becomes current. */
void fog_collect__reconfigure(struct fog_collect *c, const struct fog_config *cfg);
struct fog_collector *fog_collect__find(struct fog_collect *c, const char *name);
json_t *fog_collect__status_json(struct fog_collect *c);
/* Writes the pipeline's and every running collector's metric families (collect_metrics.c). */
void fog_collect__metrics(struct fog_collect *c, struct fog_prom *w);
const struct fog_config *fog_collect__config(const struct fog_collect *c);
struct fog_events *fog_collect__events(struct fog_collect *c);
const char *fog_collect__cgroup_path(struct fog_collect *c, __u64 id);

/* ---- helpers for collector implementations ---- */

const char *fog_collector_state_name(enum fog_collector_state s);
/* Formats c->error (printf style) and returns err, for `return fog_collector_fail(...)`. */
int fog_collector_fail(struct fog_collector *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Sums per-CPU map values: the first u64_bytes of each CPU's value (a multiple
 * of 8) are added as __u64 words; the remaining bytes are copied from the
 * first CPU whose remainder is not all zero. values holds ncpu values of
 * value_size bytes each, laid out as bpf_map_lookup_elem returns them.
 */
void fog_percpu_sum(void *out, const void *values, int ncpu, size_t value_size, size_t u64_bytes);
/* Pins every map of obj that has a pin-able name under c->owner->cfg->pin_path. */
int fog_collector_pin_maps(struct fog_collector *c, struct bpf_object *obj);
void fog_collector_unpin_maps(struct fog_collector *c, struct bpf_object *obj);
/* Registers "<map prefix>_events" and "<prefix>_drops" of obj as an event source. */
int fog_collector_add_events(struct fog_collector *c, struct bpf_object *obj, const char *prefix);
/* run_time_ns and run_cnt of each program of obj (non-zero while bpf stats are on). */
json_t *fog_collector_prog_stats(struct bpf_object *obj);
/* Whether the running kernel's BTF has the tp_btf tracepoint name (btf_trace_<name>). */
bool fog_tracepoint_exists(const char *name);
/* Sets the cgroup-mode rodata value every BPF object carries. */
__u32 fog_collector_cgroup_mode(const struct fog_collector *c);

#endif /* FOG_COLLECTOR_H */
