// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cpu and schedlat collectors. They share bpf/sched.bpf.c so that one
 * sched_switch handler serves both; each switches its half on and off through
 * .bss settings and attaches its own programs, so either can run alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "base/hist.h"
#include "base/log.h"
#include "base/prom.h"
#include "base/sort.h"
#include "collect/collect_int.h"
#include "collect/neighbours.h"
#include "collect/tasks.h"
#include "fog/abi/sched.h"
#include "sched.skel.h"

_Static_assert(sizeof(struct fog_proc_runq) % 8 == 0, "fog_proc_runq is not 8-byte sized");
_Static_assert(sizeof(struct fog_cpu_sched) % 8 == 0, "fog_cpu_sched is not 8-byte sized");
_Static_assert(sizeof(struct fog_cgroup_sched) % 8 == 0, "fog_cgroup_sched is not 8-byte sized");

struct cg_stat {
	__u64 id;
	char path[256];	/* relative to the hierarchy's mount, while resolved */
	bool resolved;	/* path holds the cgroup's path from while it lived */
	__u64 miss_tick;	/* the first tick its id did not resolve, 0: it did */
	__u64 oncpu_ns, prev_oncpu_ns;
	__u64 nvcsw, nivcsw;
	double cpu_share;
	struct fog_hist runq, runq_prev;
	double runq_p99_ns;	/* over the last tick */
	__u64 seen_tick;
};

struct cpu_stat {
	__u64 busy_ns, prev_busy_ns;
	__u64 switches;
	double busy_share;
};

/* The shared object and what both collectors read from it. */
struct sched_state {
	struct sched_bpf *skel;
	int users;
	struct fog_collector *loader;	/* the collector that pinned the maps */
	struct bpf_link *switch_link;
	struct bpf_link *exec_link, *exit_link;	/* cpu */
	struct bpf_link *wakeup_link, *wakeup_new_link;	/* schedlat */
	struct bpf_link *runq_iter;	/* schedlat: per-process waits */
	struct fog_proc_runq *runq_buf;	/* one read() of it */
	__u64 read_tick;	/* the tick whose maps were last read */
	void *values;	/* scratch for one per-CPU lookup of sched_cgroups */
	struct fog_cpu_sched *cpu_vals;	/* this tick's sched_cpu, one per CPU */
	struct cpu_stat *cpus;
	__u64 switches, prev_switches;
	__u64 tasks_full;	/* waits not accounted per process: no task storage */
	double switches_per_s;
	double busy_share;	/* all CPUs, 0..1 */
	struct fog_hist host_runq, host_runq_prev, host_runq_delta;
	struct cg_stat *cgroups;
	unsigned int n_cgroups, max_cgroups;
	__u64 cgroups_overflow;
	__u64 dead[64];	/* cgroups removed lately: pending per-CPU figures do not revive them */
	unsigned int dead_next;
	__u64 cgroups_removed;	/* removed cgroups whose series were dropped */
	struct fog_nbr *nbr;	/* schedlat: who held the CPU while others waited */
};

static struct sched_state state;

static void sched_on_event(const struct fog_event *ev, void *ctx)
{
	if (ev->type != FOG_EV_EXIT || !state.skel)
		return;
	/* the process is gone: drop its entry so the table holds live ones */
	fog_agg__remove(((struct fog_collect *)ctx)->agg, ev->u.proc.pid);
}

static void sched_put(struct fog_collector *c)
{
	if (--state.users > 0)
		return;
	fog_events__unsubscribe(c->owner->events, sched_on_event, c->owner);
	fog_events__remove_source(c->owner->events, "sched");
	if (state.loader)
		fog_collector_unpin_maps(state.loader, state.skel->obj);
	bpf_link__destroy(state.switch_link);
	sched_bpf__destroy(state.skel);
	free(state.values);
	free(state.cpu_vals);
	free(state.cpus);
	free(state.cgroups);
	fog_nbr__free(state.nbr);
	memset(&state, 0, sizeof(state));
}

static int sched_get(struct fog_collector *c)
{
	struct fog_collect *o = c->owner;
	int err;

	if (state.users++ > 0)
		return 0;
	state.values = calloc(o->ncpu, sizeof(struct fog_cgroup_sched));
	state.cpu_vals = calloc(o->ncpu, sizeof(*state.cpu_vals));
	state.cpus = calloc(o->ncpu, sizeof(*state.cpus));
	state.max_cgroups = o->cfg->max_cgroups;
	state.cgroups = calloc(state.max_cgroups, sizeof(*state.cgroups));
	state.nbr = fog_nbr__new(FOG_SCHED_MAX_NEIGHBOURS, o->ncpu);
	if (!state.values || !state.cpu_vals || !state.cpus || !state.cgroups || !state.nbr) {
		err = fog_collector_fail(c, -ENOMEM, "out of memory");
		goto out_put;
	}
	state.skel = sched_bpf__open();
	if (!state.skel) {
		err = fog_collector_fail(c, -errno, "cannot open bpf object sched: %s",
					 strerror(errno));
		goto out_put;
	}
	state.skel->rodata->cfg_cgroup_mode = fog_collector_cgroup_mode(c);
	/* an LRU map starts evicting well before it is full: twice the cgroups tracked */
	if (state.max_cgroups > FOG_SCHED_MAX_CGROUPS / 2)
		bpf_map__set_max_entries(state.skel->maps.sched_cgroups, 2 * state.max_cgroups);
	err = sched_bpf__load(state.skel);
	if (err) {
		err = fog_collector_fail(c, err, "cannot load bpf object sched: %s (run with "
					 "-o fogd.log_level=debug for the verifier log)",
					 strerror(-err));
		goto out_put;
	}
	state.switch_link = bpf_program__attach(state.skel->progs.handle_sched_switch);
	if (!state.switch_link) {
		err = fog_collector_fail(c, -errno, "cannot attach tracepoint sched_switch: %s",
					 strerror(errno));
		goto out_put;
	}
	err = fog_collector_pin_maps(c, state.skel->obj);
	if (err)
		goto out_put;
	state.loader = c;
	err = fog_collector_add_events(c, state.skel->obj, "sched");
	if (err)
		goto out_put;
	err = fog_events__subscribe(o->events, sched_on_event, o);
	if (err) {
		err = fog_collector_fail(c, err, "cannot subscribe to events: %s", strerror(-err));
		goto out_put;
	}
	return 0;

out_put:
	sched_put(c);
	return err;
}

static struct bpf_link *attach(struct fog_collector *c, struct bpf_program *prog, const char *tp,
			       int *err)
{
	struct bpf_link *link = bpf_program__attach(prog);

	if (!link && !*err)
		*err = fog_collector_fail(c, -errno, "cannot attach tracepoint %s: %s", tp,
					  strerror(errno));
	return link;
}

/* ---- reading the maps, once per tick for both collectors ---- */

/* records per read() of the dump_runq iterator */
#define RUNQ_BATCH 64

/* Per-process run-queue histograms from the group leaders' task storage. */
static void read_runq(struct fog_collect *o)
{
	size_t have = 0, n, cap = RUNQ_BATCH * sizeof(*state.runq_buf);
	ssize_t got;
	int fd;

	fd = bpf_iter_create(bpf_link__fd(state.runq_iter));
	if (fd < 0)
		return;
	for (;;) {
		got = read(fd, (char *)state.runq_buf + have, cap - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
		n = have / sizeof(*state.runq_buf);
		for (size_t i = 0; i < n; i++) {
			const struct fog_proc_runq *r = &state.runq_buf[i];
			struct fog_proc *p = fog_agg__proc(o->agg, r->tgid, true);

			if (!p)
				continue;
			p->runq = r->runq;
			memcpy(p->culprits_prev, p->culprits, sizeof(p->culprits));
			memcpy(p->culprits, r->culprits, sizeof(p->culprits));
		}
		memmove(state.runq_buf, state.runq_buf + n, have - n * sizeof(*state.runq_buf));
		have -= n * sizeof(*state.runq_buf);
	}
	close(fd);
}

static bool cgroup_dead(__u64 id)
{
	for (unsigned int i = 0; i < sizeof(state.dead) / sizeof(state.dead[0]); i++)
		if (state.dead[i] == id)
			return true;
	return false;
}

static struct cg_stat *cgroup_slot(__u64 id, __u64 tick)
{
	struct cg_stat *oldest = NULL;

	if (cgroup_dead(id))
		return NULL;
	for (unsigned int i = 0; i < state.n_cgroups; i++) {
		if (state.cgroups[i].id == id)
			return &state.cgroups[i];
		if (!oldest || state.cgroups[i].seen_tick < oldest->seen_tick)
			oldest = &state.cgroups[i];
	}
	if (state.n_cgroups < state.max_cgroups) {
		oldest = &state.cgroups[state.n_cgroups++];
	} else if (oldest->seen_tick == tick) {
		state.cgroups_overflow++;
		return NULL;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->id = id;
	return oldest;
}

/*
 * Adds the per-CPU figures the BPF side has not yet moved into sched_cgroups.
 * slots are the entry's per-CPU values as read after the sched_cpu snapshot
 * (NULL when the cgroup has no entry): a batch the entry already holds (it was
 * flushed between the two reads) is not added again.
 */
static void add_pending(struct fog_collect *o, __u64 id, const struct fog_cgroup_sched *slots,
			struct fog_cgroup_sched *sum, bool *used)
{
	for (int c = 0; c < o->ncpu; c++) {
		const struct fog_cpu_sched *v = &state.cpu_vals[c];

		if (v->pend_cpu_cgid == id && !used[2 * c]) {
			if (!slots || slots[c].cpu_batches <= v->pend_cpu_batch) {
				sum->oncpu_ns += v->pend.oncpu_ns;
				sum->nvcsw += v->pend.nvcsw;
				sum->nivcsw += v->pend.nivcsw;
			}
			used[2 * c] = true;
		}
		if (v->pend_runq_cgid == id && !used[2 * c + 1]) {
			if (!slots || slots[c].runq_batches <= v->pend_runq_batch)
				fog_hist_merge(&sum->runq, &v->pend.runq);
			used[2 * c + 1] = true;
		}
	}
}

static void update_cgroup(struct fog_collect *o, __u64 id, const struct fog_cgroup_sched *sum)
{
	struct cg_stat *s = cgroup_slot(id, o->ticks);
	struct fog_hist d;

	if (!s)
		return;
	s->cpu_share = s->seen_tick && o->tick_seconds > 0 && sum->oncpu_ns >= s->oncpu_ns ?
			       (double)(sum->oncpu_ns - s->oncpu_ns) / 1e9 / o->tick_seconds :
			       0;
	s->oncpu_ns = sum->oncpu_ns;
	s->nvcsw = sum->nvcsw;
	s->nivcsw = sum->nivcsw;
	s->runq_prev = s->runq;
	s->runq = sum->runq;
	fog_hist_delta(&d, &s->runq, &s->runq_prev);
	s->runq_p99_ns = fog_hist_quantile(&d, 0.99);
	s->seen_tick = o->ticks;
}

/*
 * Whether the cgroup of a slot still lives: its folder is there with the same
 * id (a removed cgroup's id never comes back; its path may, for a new one).
 * An id that never resolved is given two ticks (the cache rescans at most
 * once a second) and then dropped without a name.
 */
static bool cgroup_alive(struct fog_collect *o, struct cg_stat *s)
{
	char dir[sizeof(o->cgroup.mount) + sizeof(s->path)];
	const char *path;

	if (!s->resolved) {
		path = fog_collect__cgroup_path(o, s->id);
		if (path && strlen(path) < sizeof(s->path)) {
			strcpy(s->path, path);
			s->resolved = true;
			s->miss_tick = 0;
		} else {
			if (!s->miss_tick)
				s->miss_tick = o->ticks;
			return o->ticks - s->miss_tick < 2;
		}
	}
	snprintf(dir, sizeof(dir), "%s%s", o->cgroup.mount, strcmp(s->path, "/") ? s->path : "");
	return fog_cgroup_id_of(dir) == s->id;
}

/* Drops the series of removed cgroups and their map entries. */
static void reap_cgroups(struct fog_collect *o)
{
	int fd = bpf_map__fd(state.skel->maps.sched_cgroups);

	for (unsigned int i = 0; i < state.n_cgroups;) {
		struct cg_stat *s = &state.cgroups[i];

		if (cgroup_alive(o, s)) {
			i++;
			continue;
		}
		bpf_map_delete_elem(fd, &s->id);
		fog_nbr__forget(state.nbr, bpf_map__fd(state.skel->maps.sched_neighbours), s->id);
		state.dead[state.dead_next++ % (sizeof(state.dead) / sizeof(state.dead[0]))] = s->id;
		state.cgroups_removed++;
		*s = state.cgroups[--state.n_cgroups];
	}
}

static void read_cgroups(struct fog_collect *o)
{
	int fd = bpf_map__fd(state.skel->maps.sched_cgroups);
	struct fog_cgroup_sched sum;
	__u64 key, next, *prev = NULL;
	bool used[2 * o->ncpu];

	memset(used, 0, sizeof(used));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, state.values))
			continue;
		fog_percpu_sum(&sum, state.values, o->ncpu, sizeof(sum),
			       offsetof(struct fog_cgroup_sched, cpu_batches));
		add_pending(o, key, state.values, &sum, used);
		update_cgroup(o, key, &sum);
	}
	/* cgroups whose figures are all still pending on some CPU */
	for (int c = 0; c < o->ncpu; c++) {
		for (int part = 0; part < 2; part++) {
			__u64 id = part ? state.cpu_vals[c].pend_runq_cgid :
					  state.cpu_vals[c].pend_cpu_cgid;

			if (used[2 * c + part] || !id)
				continue;
			memset(&sum, 0, sizeof(sum));
			add_pending(o, id, NULL, &sum, used);
			update_cgroup(o, id, &sum);
		}
	}
	reap_cgroups(o);
}

static void read_all(struct fog_collect *o, __u64 now)
{
	int fd = bpf_map__fd(state.skel->maps.sched_cpu);
	__u64 inflight_ns[o->ncpu];
	struct fog_cpu_sched *v = state.cpu_vals, host_sum = {};
	__u64 busy_total = 0, prev_total = 0, tasks_full = 0;
	__u32 zero = 0;

	if (state.read_tick == o->ticks)
		return;
	state.read_tick = o->ticks;
	if (bpf_map_lookup_elem(fd, &zero, state.cpu_vals))
		return;
	for (int c = 0; c < o->ncpu; c++) {
		struct cpu_stat *cs = &state.cpus[c];
		/* time the current task has run since the CPU last switched */
		__u64 run = v[c].last_switch_ns && now > v[c].last_switch_ns ?
				    now - v[c].last_switch_ns : 0;

		inflight_ns[c] = v[c].cur_tgid ? run : 0;
		cs->prev_busy_ns = cs->busy_ns;
		cs->busy_ns = v[c].busy_ns + inflight_ns[c];
		if (cs->busy_ns < cs->prev_busy_ns)
			cs->busy_ns = cs->prev_busy_ns;
		cs->switches = v[c].switches;
		cs->busy_share = o->tick_seconds > 0 ?
					 (double)(cs->busy_ns - cs->prev_busy_ns) / 1e9 / o->tick_seconds :
					 0;
		if (cs->busy_share > 1)
			cs->busy_share = 1;
		busy_total += cs->busy_ns;
		prev_total += cs->prev_busy_ns;
		host_sum.switches += v[c].switches;
		tasks_full += v[c].tasks_full;
		fog_hist_merge(&host_sum.runq, &v[c].runq);
	}
	state.busy_share = o->tick_seconds > 0 ? (double)(busy_total - prev_total) / 1e9 /
							 o->tick_seconds / o->ncpu :
						 0;
	state.tasks_full = tasks_full;
	state.prev_switches = state.switches;
	state.switches = host_sum.switches;
	state.switches_per_s = o->tick_seconds > 0 && state.prev_switches ?
				       (double)(state.switches - state.prev_switches) / o->tick_seconds :
				       0;
	state.host_runq_prev = state.host_runq;
	state.host_runq = host_sum.runq;
	fog_hist_delta(&state.host_runq_delta, &state.host_runq, &state.host_runq_prev);
	o->host.cpu_busy = state.busy_share;
	if (state.skel->bss->cfg_runqlat) {
		double p99 = fog_hist_quantile(&state.host_runq_delta, 0.99);

		o->host.runq_p99_s = p99 < 0 ? 0 : p99 / 1e9;
	}
	if (state.skel->bss->cfg_cpu)
		fog_tasks__read(o);
	if (state.runq_iter)
		read_runq(o);
	read_cgroups(o);
	if (state.skel->bss->cfg_nbr)
		fog_nbr__read(state.nbr, bpf_map__fd(state.skel->maps.sched_neighbours),
			      state.cpu_vals, o->ticks, cgroup_dead);
}

static void sched_tick(struct fog_collector *c, __u64 now)
{
	read_all(c->owner, now);
}

static json_t *cgroup_base(struct fog_collect *o, const struct cg_stat *s)
{
	return json_pack("{s:I,s:o}", "cgroup_id", (json_int_t)s->id, "path",
			 s->resolved ? json_string(s->path) : json_null());
}

static int cmp_cg_cpu(const void *a, const void *b)
{
	const struct cg_stat *x = a, *y = b;

	return x->cpu_share < y->cpu_share ? 1 : x->cpu_share > y->cpu_share ? -1 : 0;
}

/* ---- cpu ---- */

static bool cpu_enabled(const struct fog_config *cfg)
{
	return cfg->cpu;
}

static int cpu_start(struct fog_collector *c)
{
	int err = sched_get(c);

	if (err)
		return err;
	err = fog_tasks__get(c, FOG_TASKS_CPU);
	if (err) {
		sched_put(c);
		return err;
	}
	state.exec_link = attach(c, state.skel->progs.handle_sched_process_exec,
				 "sched_process_exec", &err);
	state.exit_link = attach(c, state.skel->progs.handle_sched_process_exit,
				 "sched_process_exit", &err);
	if (err) {
		/* accounting works without process events: report, keep running */
		fog_warnx("cpu: %s", c->error);
	}
	state.skel->bss->cfg_cpu = 1;
	c->obj = state.skel->obj;
	return 0;
}

static void cpu_stop(struct fog_collector *c)
{
	state.skel->bss->cfg_cpu = 0;
	bpf_link__destroy(state.exec_link);
	bpf_link__destroy(state.exit_link);
	state.exec_link = state.exit_link = NULL;
	fog_tasks__put(c, FOG_TASKS_CPU);
	sched_put(c);
}

static json_t *cpu_json(struct fog_collector *c)
{
	struct fog_collect *o = c->owner;
	json_t *j = json_object(), *cpus = json_array(), *cgs = json_array();
	struct cg_stat *sorted;

	for (int i = 0; i < o->ncpu; i++)
		json_array_append_new(cpus, json_pack("{s:i,s:f,s:f,s:I}", "cpu", i, "busy_seconds",
						      state.cpus[i].busy_ns / 1e9, "busy_share",
						      state.cpus[i].busy_share, "switches",
						      (json_int_t)state.cpus[i].switches));
	sorted = malloc((state.n_cgroups ? state.n_cgroups : 1) * sizeof(*sorted));
	if (sorted) {
		memcpy(sorted, state.cgroups, state.n_cgroups * sizeof(*sorted));
		fog_sort(sorted, state.n_cgroups, sizeof(*sorted), cmp_cg_cpu);
		for (unsigned int i = 0; i < state.n_cgroups; i++) {
			json_t *e = cgroup_base(o, &sorted[i]);

			json_object_set_new(e, "cpu_seconds", json_real(sorted[i].oncpu_ns / 1e9));
			json_object_set_new(e, "cpu_share", json_real(sorted[i].cpu_share));
			json_object_set_new(e, "nvcsw", json_integer((json_int_t)sorted[i].nvcsw));
			json_object_set_new(e, "nivcsw", json_integer((json_int_t)sorted[i].nivcsw));
			json_array_append_new(cgs, e);
		}
		free(sorted);
	}
	json_object_set_new(j, "ncpu", json_integer(o->ncpu));
	json_object_set_new(j, "busy_share", json_real(state.busy_share));
	json_object_set_new(j, "context_switches", json_integer((json_int_t)state.switches));
	json_object_set_new(j, "context_switches_per_s", json_real(state.switches_per_s));
	json_object_set_new(j, "cpus", cpus);
	json_object_set_new(j, "cgroups", cgs);
	json_object_set_new(j, "cgroups_overflow", json_integer((json_int_t)state.cgroups_overflow));
	json_object_set_new(j, "cgroups_removed", json_integer((json_int_t)state.cgroups_removed));
	json_object_set_new(j, "switches_untracked_per_process",
			    json_integer((json_int_t)state.tasks_full));
	return j;
}

/* The busiest cgroups by CPU share, at most cfg top_cgroups; caller frees. */
static struct cg_stat *top_cgroups(struct fog_collect *o, unsigned int *n)
{
	struct cg_stat *sorted = malloc((state.n_cgroups ? state.n_cgroups : 1) * sizeof(*sorted));

	*n = 0;
	if (!sorted)
		return NULL;
	/* only cgroups with a name: an id that never resolved is not exported */
	for (unsigned int i = 0; i < state.n_cgroups; i++)
		if (state.cgroups[i].resolved)
			sorted[(*n)++] = state.cgroups[i];
	fog_sort(sorted, *n, sizeof(*sorted), cmp_cg_cpu);
	if (*n > o->cfg->top_cgroups)
		*n = o->cfg->top_cgroups;
	return sorted;
}

static void cpu_metrics(struct fog_collector *c, struct fog_prom *w)
{
	struct fog_collect *o = c->owner;
	struct cg_stat *top;
	unsigned int n;
	char num[16];

	fog_prom__family(w, "fog_cpu_busy_seconds", FOG_PROM_COUNTER,
			 "time each CPU ran tasks other than its idle task");
	for (int i = 0; i < o->ncpu; i++) {
		snprintf(num, sizeof(num), "%d", i);
		fog_prom__sample(w, (const char *[]){ "cpu", num, NULL },
				 state.cpus[i].busy_ns / 1e9);
	}
	fog_prom__family(w, "fog_context_switches", FOG_PROM_COUNTER, "context switches, all CPUs");
	fog_prom__sample(w, NULL, (double)state.switches);
	top = top_cgroups(o, &n);
	if (!top)
		return;
	fog_prom__family(w, "fog_cgroup_cpu_seconds", FOG_PROM_COUNTER,
			 "on-CPU time of the tasks of a cgroup (busiest cgroups only)");
	for (unsigned int i = 0; i < n; i++)
		fog_prom__sample(w,
				 (const char *[]){ "cgroup", top[i].path, NULL },
				 top[i].oncpu_ns / 1e9);
	free(top);
}

const struct fog_collector_ops fog_cpu_collector = {
	.name = "cpu",
	.enabled = cpu_enabled,
	.start = cpu_start,
	.stop = cpu_stop,
	.tick = sched_tick,
	.to_json = cpu_json,
	.metrics = cpu_metrics,
};

/* ---- schedlat ---- */

static bool schedlat_enabled(const struct fog_config *cfg)
{
	return cfg->schedlat;
}

static void schedlat_reconfigure(struct fog_collector *c, const struct fog_config *cfg)
{
	state.skel->bss->cfg_runq_outlier_ns = (__u64)cfg->runq_outlier_us * 1000;
	state.skel->bss->cfg_nbr = fog_nbr_mode_of(cfg->neighbours);
}

static bool has_member(const struct btf *btf, const char *type, const char *member)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (unsigned int i = 0; m && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, m[i].name_off), member))
			return true;
	return false;
}

/*
 * Whether the kernel stamps run-queue waits itself (task_struct.sched_info,
 * CONFIG_SCHED_INFO) and sched_switch can reach the run queue's clock
 * (sched_entity.cfs_rq): then bpf/sched.bpf.c, asking the same at load,
 * reads each wait from the kernel's stamps and the wakeup hooks stay off.
 */
static bool kernel_has_sched_info(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool has;

	if (!btf)
		return false;
	has = has_member(btf, "task_struct", "sched_info") &&
	      has_member(btf, "sched_entity", "cfs_rq");
	btf__free(btf);
	return has;
}

static int schedlat_start(struct fog_collector *c)
{
	int err = sched_get(c);

	if (err)
		return err;
	if (!kernel_has_sched_info()) {
		fog_info("schedlat: the kernel has no sched_info (CONFIG_SCHED_INFO): "
			 "run-queue waits are timed from wakeups");
		state.wakeup_link = attach(c, state.skel->progs.handle_sched_wakeup,
					   "sched_wakeup", &err);
		state.wakeup_new_link = attach(c, state.skel->progs.handle_sched_wakeup_new,
					       "sched_wakeup_new", &err);
	}
	if (!err) {
		state.runq_buf = malloc(RUNQ_BATCH * sizeof(*state.runq_buf));
		state.runq_iter = state.runq_buf ?
					  bpf_program__attach_iter(state.skel->progs.dump_runq, NULL) :
					  NULL;
		if (!state.runq_iter)
			err = fog_collector_fail(c, -errno ? -errno : -ENOMEM,
						 "cannot attach the task iterator dump_runq: %s",
						 strerror(errno));
	}
	if (err) {
		bpf_link__destroy(state.wakeup_link);
		bpf_link__destroy(state.wakeup_new_link);
		bpf_link__destroy(state.runq_iter);
		free(state.runq_buf);
		state.wakeup_link = state.wakeup_new_link = state.runq_iter = NULL;
		state.runq_buf = NULL;
		sched_put(c);
		return err;
	}
	schedlat_reconfigure(c, c->owner->cfg);
	state.skel->bss->cfg_runqlat = 1;
	c->obj = state.skel->obj;
	return 0;
}

static void schedlat_stop(struct fog_collector *c)
{
	state.skel->bss->cfg_runqlat = 0;
	state.skel->bss->cfg_runq_outlier_ns = 0;
	state.skel->bss->cfg_nbr = FOG_NBR_OFF;
	bpf_link__destroy(state.wakeup_link);
	bpf_link__destroy(state.wakeup_new_link);
	bpf_link__destroy(state.runq_iter);
	free(state.runq_buf);
	state.wakeup_link = state.wakeup_new_link = state.runq_iter = NULL;
	state.runq_buf = NULL;
	sched_put(c);
}

static json_t *schedlat_json(struct fog_collector *c)
{
	struct fog_collect *o = c->owner;
	json_t *j = json_object(), *cgs = json_array();

	for (unsigned int i = 0; i < state.n_cgroups; i++) {
		json_t *e = cgroup_base(o, &state.cgroups[i]);

		json_object_set_new(e, "runq", fog_hist_json(&state.cgroups[i].runq));
		json_object_set_new(e, "runq_p99_seconds",
				    state.cgroups[i].runq_p99_ns < 0 ?
					    json_null() :
					    json_real(state.cgroups[i].runq_p99_ns / 1e9));
		json_array_append_new(cgs, e);
	}
	json_object_set_new(j, "host", fog_hist_json(&state.host_runq));
	json_object_set_new(j, "interval", fog_hist_json(&state.host_runq_delta));
	json_object_set_new(j, "outlier_threshold_seconds",
			    json_real(o->cfg->runq_outlier_us / 1e6));
	json_object_set_new(j, "cgroups", cgs);
	return j;
}

static void schedlat_metrics(struct fog_collector *c, struct fog_prom *w)
{
	struct fog_collect *o = c->owner;
	struct cg_stat *top;
	unsigned int n;

	fog_prom__family(w, "fog_runqueue_latency_seconds", FOG_PROM_HISTOGRAM,
			 "time runnable tasks waited for a CPU, wakeup to switch-in, all CPUs");
	fog_prom__hist(w, NULL, &state.host_runq);
	top = top_cgroups(o, &n);
	if (!top)
		return;
	fog_prom__family(w, "fog_cgroup_runqueue_latency_seconds", FOG_PROM_HISTOGRAM,
			 "run-queue wait of the tasks of a cgroup (busiest cgroups only)");
	for (unsigned int i = 0; i < n; i++)
		fog_prom__hist(w,
			       (const char *[]){ "cgroup", top[i].path, NULL },
			       &top[i].runq);
	free(top);
	if (state.skel->bss->cfg_nbr)
		fog_nbr__metrics(state.nbr, o, w);
}

json_t *fog_collect__neighbours_json(struct fog_collect *c, const char *cgroup, __u32 pid,
				     unsigned int limit)
{
	struct fog_collector *col = fog_collect__find(c, "schedlat");

	if (!col || col->state != FOG_COLLECTOR_RUNNING || !state.skel)
		return NULL;
	return fog_nbr__json(state.nbr, c, state.skel->bss->cfg_nbr, cgroup, pid, limit);
}

int fog_collect__neighbour_pairs(struct fog_collect *c, fog_nbr_pair_fn fn, void *ctx)
{
	struct fog_collector *col = fog_collect__find(c, "schedlat");

	if (!col || col->state != FOG_COLLECTOR_RUNNING || !state.skel ||
	    !state.skel->bss->cfg_nbr)
		return -ENODEV;
	fog_nbr__each(state.nbr, fn, ctx);
	return 0;
}

const struct fog_collector_ops fog_schedlat_collector = {
	.name = "schedlat",
	.enabled = schedlat_enabled,
	.start = schedlat_start,
	.stop = schedlat_stop,
	.tick = sched_tick,
	.to_json = schedlat_json,
	.reconfigure = schedlat_reconfigure,
	.metrics = schedlat_metrics,
};
