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
#include "base/clock.h"
#include "base/cgroup.h"
#include "collect/agg.h"
#include "collect/events.h"

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
 * Host-wide figures of the last tick that the monitor and the placement
 * engine read; NAN when the collector behind one is not running.
 */
struct fog_host_signals {
	double cpu_busy;	/* 0..1 over all CPUs (cpu) */
	double runq_p99_s;	/* run-queue wait p99 over the tick (schedlat) */
	double mem_used;	/* 0..1: 1 - MemAvailable / MemTotal (mem) */
	double psi_some;	/* 0..1: the worst "some" avg10 of cpu, memory and io (mem) */
	double io_p99_s;	/* the worst device's request latency p99 over the tick (io) */
};

struct fog_collect {
	const struct fog_config *cfg;	/* current configuration, borrowed */
	struct fog_loop *loop;
	struct fog_cgroup_info cgroup;
	struct fog_cgroup_cache *cgroups;
	struct fog_events *events;
	struct fog_agg *agg;
	struct fog_collector collectors[FOG_MAX_COLLECTORS];
	unsigned int n_collectors;
	int ncpu;	/* possible CPUs: the length of per-CPU map values */
	__u64 ticks;
	__u64 last_tick_ns;
	double tick_seconds;	/* length of the last tick interval */
	struct fog_host_signals host;	/* filled by the collectors at each tick */
	bool pins;	/* pin maps under cfg->pin_path */
};

/* Sets up the shared pieces; collectors start with fog_collect__start. */
struct fog_collect *fog_collect__new(const struct fog_config *cfg, struct fog_loop *loop);
void fog_collect__free(struct fog_collect *c);
/* Starts every enabled collector; returns how many run. */
int fog_collect__start(struct fog_collect *c);
void fog_collect__stop(struct fog_collect *c);
/* One round: every running collector's tick between the aggregate's begin and end. */
void fog_collect__tick(struct fog_collect *c);
/* Starts, stops or reconfigures collectors to match cfg, which becomes current. */
void fog_collect__reconfigure(struct fog_collect *c, const struct fog_config *cfg);
struct fog_collector *fog_collect__find(struct fog_collect *c, const char *name);
json_t *fog_collect__status_json(struct fog_collect *c);
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
