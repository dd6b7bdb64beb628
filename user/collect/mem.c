// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mem collector: page allocator traffic, reclaim stalls and OOM kills from
 * bpf/mem.bpf.c; page faults per process from the task iterator
 * (collect/tasks.c) and host-wide from /proc/vmstat; pressure
 * stall information from /proc/pressure; host memory use from /proc/meminfo;
 * each tracked process's resident set from /proc/PID/statm; and the memory use
 * and limit of the cgroups the tracked processes run in.
 *
 * Every program attaches on its own: a tracepoint this kernel lacks costs the
 * figures it feeds (reported as null, and in the collector's error) and
 * nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "base/sort.h"
#include "collect/collect_int.h"
#include "collect/mem.h"
#include "collect/tasks.h"
#include "mem.skel.h"

_Static_assert(sizeof(struct fog_mem_stats) % 8 == 0, "fog_mem_stats is not 8-byte sized");
_Static_assert(sizeof(struct fog_mem_reclaim) == 16, "fog_mem_reclaim changed size");

static const struct {
	const char *prog;  /* program in bpf/mem.bpf.c */
	const char *tp;	   /* the tracepoint it attaches to (tp_btf) */
	unsigned int args; /* tracepoint arguments the program reads */
	const char *feeds; /* the figure lost without it */
} mem_progs[MEM_N_PROGS] = {
	[MEM_DIRECT_BEGIN] = {"handle_direct_reclaim_begin", "mm_vmscan_direct_reclaim_begin", 0,
			      "direct_reclaim"},
	[MEM_DIRECT_END] = {"handle_direct_reclaim_end", "mm_vmscan_direct_reclaim_end", 0,
			    "direct_reclaim"},
	[MEM_MEMCG_BEGIN] = {"handle_memcg_reclaim_begin", "mm_vmscan_memcg_reclaim_begin", 0,
			     "memcg_reclaim"},
	[MEM_MEMCG_END] = {"handle_memcg_reclaim_end", "mm_vmscan_memcg_reclaim_end", 0,
			   "memcg_reclaim"},
	[MEM_OOM] = {"handle_mark_victim", "mark_victim", 2, "oom_kills"},
};

/* Which memory controller files a cgroup of the hierarchy in use has. */
static bool mem_enabled(const struct fog_config *cfg)
{
	return cfg->mem;
}

/* Appends "what" to the collector's list of missing parts. */
static void note_missing(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_missing(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 3 >= len)
		return;
	if (used) {
		strcpy(buf + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Drops programs whose tracepoint this kernel lacks or passes fewer arguments to. */
static void check_tracepoints(bool *skip, char *missing, size_t len)
{
	struct btf *btf = btf__load_vmlinux_btf();
	char name[128];

	if (!btf)
		return; /* loading will say what is wrong */
	for (int i = 0; i < MEM_N_PROGS; i++) {
		const struct btf_type *t;
		int id;

		snprintf(name, sizeof(name), "btf_trace_%s", mem_progs[i].tp);
		id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
		if (id < 0) {
			skip[i] = true;
			note_missing(missing, len, "%s: no tracepoint %s in this kernel",
				     mem_progs[i].feeds, mem_progs[i].tp);
			continue;
		}
		/* typedef -> pointer -> function prototype whose first argument is the probe's data
		 */
		t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
		t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
		if (t && btf_is_func_proto(t) && btf_vlen(t) < mem_progs[i].args + 1) {
			skip[i] = true;
			note_missing(missing, len, "%s: tracepoint %s has %u arguments, want %u",
				     mem_progs[i].feeds, mem_progs[i].tp, btf_vlen(t) - 1,
				     mem_progs[i].args);
		}
	}
	btf__free(btf);
}

static struct bpf_program *prog_of(struct mem_bpf *skel, int i)
{
	return bpf_object__find_program_by_name(skel->obj, mem_progs[i].prog);
}

/* Opens and loads the object with the programs in skip left out; NULL with *err on failure. */
static struct mem_bpf *open_load(struct fog_collector *c, const bool *skip, int *err)
{
	struct mem_bpf *skel = mem_bpf__open();

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	skel->rodata->cfg_cgroup_mode = fog_collector_cgroup_mode(c);
	for (int i = 0; i < MEM_N_PROGS; i++) {
		struct bpf_program *prog = prog_of(skel, i);

		if (!prog) {
			*err = -ENOENT;
			mem_bpf__destroy(skel);
			return NULL;
		}
		bpf_program__set_autoload(prog, !skip[i]);
	}
	*err = mem_bpf__load(skel);
	if (*err) {
		mem_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int count_unskipped(const bool *skip)
{
	int n = 0;

	for (int i = 0; i < MEM_N_PROGS; i++)
		n += !skip[i];
	return n;
}

/*
 * Loads what the verifier accepts. A refused program fails the whole object,
 * so when loading fails each program is tried alone to find the ones at fault.
 */
static struct mem_bpf *load(struct fog_collector *c, bool *skip, char *missing, size_t len,
			    int *err)
{
	struct mem_bpf *skel = open_load(c, skip, err), *one;
	int first_err = *err;

	if (skel || *err == -ENOMEM)
		return skel;
	for (int i = 0; i < MEM_N_PROGS; i++) {
		bool alone[MEM_N_PROGS];
		int e;

		if (skip[i])
			continue;
		for (int j = 0; j < MEM_N_PROGS; j++)
			alone[j] = j != i;
		one = open_load(c, alone, &e);
		if (one) {
			mem_bpf__destroy(one);
			continue;
		}
		skip[i] = true;
		note_missing(missing, len, "%s: program %s not loaded: %s", mem_progs[i].feeds,
			     mem_progs[i].prog, strerror(-e));
	}
	if (!count_unskipped(skip)) {
		*err = first_err;
		return NULL;
	}
	return open_load(c, skip, err);
}

static void mem_free(struct fog_mem *m)
{
	if (!m)
		return;
	for (int i = 0; i < MEM_N_PROGS; i++)
		bpf_link__destroy(m->links[i]);
	mem_bpf__destroy(m->skel);
	free(m->cgroups);
	free(m->cg_ids);
	free(m->values);
	free(m);
}

static void mem_on_event(const struct fog_event *ev, void *ctx)
{
	struct fog_collector *c = ctx;
	struct fog_mem *m = c->priv;

	if (!m)
		return;
	if (ev->type == FOG_EV_OOM_KILL)
		m->oom_kills++;
}

static int mem_start(struct fog_collector *c)
{
	struct fog_collect *o = c->owner;
	bool skip[MEM_N_PROGS] = {false};
	char missing[sizeof(c->error)] = "";
	struct fog_mem *m;
	int err, attached = 0;

	m = calloc(1, sizeof(*m));
	if (!m)
		return fog_collector_fail(c, -ENOMEM, "out of memory");
	m->page_size = sysconf(_SC_PAGESIZE);
	/* sized for every tracked process up front: no allocation while collecting */
	m->cap_ids = m->cap_cgroups = o->cfg->max_processes;
	m->cg_ids = calloc(m->cap_ids, sizeof(*m->cg_ids));
	m->cgroups = calloc(m->cap_cgroups, sizeof(*m->cgroups));
	m->values = calloc((size_t)o->ncpu, sizeof(struct fog_mem_stats)); /* mem_stats */
	if (!m->values || !m->cg_ids || !m->cgroups) {
		err = fog_collector_fail(c, -ENOMEM, "out of memory");
		goto out_free;
	}

	check_tracepoints(skip, missing, sizeof(missing));
	if (!count_unskipped(skip)) {
		err = fog_collector_fail(c, -ENOENT, "no memory tracepoint to attach to: %s",
					 missing);
		goto out_free;
	}
	m->skel = load(c, skip, missing, sizeof(missing), &err);
	if (!m->skel) {
		err = fog_collector_fail(c, err,
					 "cannot load bpf object mem: %s (fogd -v logs why)%s%s",
					 strerror(-err), missing[0] ? "; " : "", missing);
		goto out_free;
	}
	for (int i = 0; i < MEM_N_PROGS; i++) {
		if (skip[i])
			continue;
		m->links[i] = bpf_program__attach(prog_of(m->skel, i));
		if (!m->links[i]) {
			note_missing(missing, sizeof(missing),
				     "%s: cannot attach tracepoint %s: %s", mem_progs[i].feeds,
				     mem_progs[i].tp, strerror(errno));
			continue;
		}
		attached++;
	}
	if (!attached) {
		err = fog_collector_fail(c, -ENOENT, "no memory program attached: %s", missing);
		goto out_free;
	}
	err = fog_collector_pin_maps(c, m->skel->obj);
	if (err)
		goto out_free; /* c->error says which map */
	if (m->links[MEM_OOM]) {
		err = fog_collector_add_events(c, m->skel->obj, "mem");
		if (err)
			note_missing(missing, sizeof(missing), "oom_kills: %s", c->error);
		m->events = !err;
	}
	err = fog_events__subscribe(o->events, mem_on_event, c);
	if (err)
		note_missing(missing, sizeof(missing), "oom_kills: cannot subscribe: %s",
			     strerror(-err));
	m->subscribed = !err;
	m->oom_counted = m->events && m->subscribed;

	if (o->cgroup.mode == FOG_CGROUP_V1_MEMORY)
		m->cg_files = MEM_CG_V1;
	else if (o->cgroup.mode == FOG_CGROUP_V2 && o->cgroup.v2_memory)
		m->cg_files = MEM_CG_V2;
	else
		fog_info("mem: no per-cgroup memory use: the %s hierarchy has no memory controller",
			 fog_cgroup_mode_name(o->cgroup.mode));

	m->tasks = !fog_tasks__get(c, FOG_TASKS_FAULTS);
	if (!m->tasks)
		note_missing(missing, sizeof(missing), "per-process faults: %s", c->error);
	/* running; a part that is missing is reported, not fatal */
	snprintf(c->error, sizeof(c->error), "%s", missing);
	c->priv = m;
	c->obj = m->skel->obj;
	return 0;

out_free:
	if (m->skel)
		fog_collector_unpin_maps(c, m->skel->obj);
	mem_free(m);
	return err;
}

static void mem_stop(struct fog_collector *c)
{
	struct fog_mem *m = c->priv;

	if (!m)
		return;
	if (m->events)
		fog_events__remove_source(c->owner->events, "mem"); /* counts what is queued */
	if (m->subscribed)
		fog_events__unsubscribe(c->owner->events, mem_on_event, c);
	fog_collector_unpin_maps(c, m->skel->obj);
	if (m->tasks)
		fog_tasks__put(c, FOG_TASKS_FAULTS);
	c->priv = NULL;
	c->obj = NULL;
	mem_free(m);
}

/* ---- reading, once per tick ---- */

/* a process that neither ran nor faulted keeps its RSS reading this many ticks */
#define MEM_RSS_REFRESH_TICKS 10
/* how often a process without new faults is checked for having exited, in ticks */
#define MEM_ALIVE_CHECK_TICKS 10

/* Reads a small text file whole; returns its length or a negative errno. */
static int read_text(const char *path, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < size - 1) {
		r = read(fd, buf + n, size - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			close(fd);
			return err;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (n == size - 1)
		return -EFBIG; /* larger than any such file should be */
	if (memchr(buf, '\0', n))
		return -EINVAL;
	return (int)n;
}

static double rate(__u64 now, __u64 before, double seconds)
{
	return seconds > 0 && now >= before ? (double)(now - before) / seconds : 0;
}

static void read_stats(struct fog_collector *c, struct fog_mem *m)
{
	struct fog_collect *o = c->owner;
	__u32 zero = 0;

	if (bpf_map__lookup_elem(m->skel->maps.mem_stats, &zero, sizeof(zero), m->values,
				 (size_t)o->ncpu * sizeof(struct fog_mem_stats), 0)) {
		if (!m->stats_warned)
			fog_warn("mem: cannot read map mem_stats");
		m->stats_warned = true;
		m->have_rates = false;
		return;
	}
	m->stats_warned = false;
	m->prev = m->now;
	fog_percpu_sum(&m->now, m->values, o->ncpu, sizeof(m->now), sizeof(m->now));
	m->have_rates = m->have_stats;
	m->have_stats = true;
	if (!m->have_rates)
		return;
}

/* Page faults and page allocator traffic: the kernel's own counts in /proc/vmstat. */
static void read_vmstat(struct fog_collector *c, struct fog_mem *m)
{
	struct mem_vmstat v = {};
	char text[16384], *line, *save = NULL;
	unsigned long long n;
	bool faults = false;
	int len;

	len = read_text("/proc/vmstat", text, sizeof(text));
	for (line = len > 0 ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "pgfault %llu", &n) == 1) {
			v.faults = n;
			faults = true;
		} else if (!strncmp(line, "pgalloc_", 8) && sscanf(strchr(line, ' ') ?: "", " %llu", &n) == 1) {
			v.page_alloc += n; /* one line per zone type */
		} else if (sscanf(line, "pgfree %llu", &n) == 1) {
			v.page_free = n;
		}
	}
	if (!faults) {
		if (m->have_faults)
			fog_warnx("mem: no pgfault in /proc/vmstat: no host fault and page figures");
		m->have_faults = m->have_fault_rate = false;
		return;
	}
	m->prev_vm = m->vm;
	m->vm = v;
	m->have_fault_rate = m->have_faults;
	m->have_faults = true;
	if (!m->have_fault_rate)
		return;
	m->faults_per_s = rate(v.faults, m->prev_vm.faults, c->owner->tick_seconds);
	m->page_alloc_per_s = rate(v.page_alloc, m->prev_vm.page_alloc, c->owner->tick_seconds);
	m->page_free_per_s = rate(v.page_free, m->prev_vm.page_free, c->owner->tick_seconds);
}

struct rss_walk {
	struct fog_mem *m;
	__u64 tick;
};

static void read_rss(struct fog_proc *p, void *ctx)
{
	const struct rss_walk *rw = ctx;
	char path[40], text[256];
	__u64 pages;

	/*
	 * A process grows its resident set by faulting pages in and shrinks it
	 * by running (unmapping, freeing); one that did neither since the last
	 * reading keeps it, bar reclaim, so it is read again only every
	 * MEM_RSS_REFRESH_TICKS. Without CPU figures (cpu off) every tick.
	 */
	if (p->rss_tick && p->oncpu_ns && p->oncpu_ns == p->rss_oncpu_ns &&
	    p->faults == p->rss_faults && rw->tick - p->rss_tick < MEM_RSS_REFRESH_TICKS)
		return;
	snprintf(path, sizeof(path), "/proc/%u/statm", p->pid);
	if (read_text(path, text, sizeof(text)) < 0 || fog_statm_parse(text, &pages))
		return; /* gone: the aggregates drop it at the end of the tick */
	p->rss_bytes = pages * (__u64)rw->m->page_size;
	p->rss_tick = rw->tick;
	p->rss_faults = p->faults;
	p->rss_oncpu_ns = p->oncpu_ns;
}

static void read_psi(struct fog_mem *m)
{
	char path[64], text[512], why[160];

	for (int r = 0; r < FOG_PSI_RESOURCES; r++) {
		const char *name = fog_psi_resource_name(r);
		int n, err;

		snprintf(path, sizeof(path), "/proc/pressure/%s", name);
		n = read_text(path, text, sizeof(text));
		if (n < 0) {
			if (!m->psi_warned[r])
				fog_warnc(-n, "mem: no pressure figures for %s: cannot read %s",
					  name, path);
			m->psi_warned[r] = true;
			m->psi_read[r] = false;
			continue;
		}
		m->psi_read[r] = true;
		err = fog_psi_parse(text, &m->psi[r], why, sizeof(why));
		if (err) {
			/* the lines that parsed are kept */
			if (!m->psi_warned[r])
				fog_warnx("mem: unexpected content in %s: %s", path, why);
			m->psi_warned[r] = true;
			continue;
		}
		m->psi_warned[r] = false;
	}
}

static void read_meminfo(struct fog_mem *m)
{
	char text[8192], why[160];
	int n, err;

	n = read_text("/proc/meminfo", text, sizeof(text));
	if (n < 0) {
		if (!m->meminfo_warned)
			fog_warnc(-n, "mem: cannot read /proc/meminfo");
		m->meminfo_warned = true;
		memset(&m->meminfo, 0, sizeof(m->meminfo));
		return;
	}
	err = fog_meminfo_parse(text, &m->meminfo, why, sizeof(why));
	if (err) {
		if (!m->meminfo_warned)
			fog_warnx("mem: unexpected content in /proc/meminfo: %s", why);
		m->meminfo_warned = true;
		return;
	}
	m->meminfo_warned = false;
}

static void collect_cgroup_id(struct fog_proc *p, void *ctx)
{
	struct fog_mem *m = ctx;

	if (p->cgroup_id && m->n_ids < m->cap_ids)
		m->cg_ids[m->n_ids++] = p->cgroup_id;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_cgroup_procs(const void *a, const void *b)
{
	const struct mem_cgroup *x = a, *y = b;

	if (x->procs != y->procs)
		return x->procs < y->procs ? 1 : -1;
	return cmp_u64(&x->id, &y->id);
}

/* Reads one memory controller file as a value; false when it cannot be read. */
static bool read_cg_value(const char *dir, const char *file, __u64 *out)
{
	char path[512], text[64];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path) ||
	    read_text(path, text, sizeof(text)) < 0)
		return false;
	return !fog_memcg_parse_value(text, out);
}

static void read_cg_files(struct fog_collect *o, struct fog_mem *m, struct mem_cgroup *cg)
{
	char dir[512], path[600], text[512];
	__u64 v;

	cg->usage = ~0ull;
	cg->failcnt = ~0ull;
	cg->has_limit = false;
	if (!cg->resolved)
		return;
	snprintf(dir, sizeof(dir), "%s%s", o->cgroup.mount, strcmp(cg->path, "/") ? cg->path : "");
	if (m->cg_files == MEM_CG_V1) {
		if (read_cg_value(dir, "memory.usage_in_bytes", &v))
			cg->usage = v;
		cg->has_limit = read_cg_value(dir, "memory.limit_in_bytes", &cg->limit);
		if (read_cg_value(dir, "memory.failcnt", &v))
			cg->failcnt = v;
		return;
	}
	/* v2: the root cgroup has none of these files */
	if (read_cg_value(dir, "memory.current", &v))
		cg->usage = v;
	cg->has_limit = read_cg_value(dir, "memory.max", &cg->limit);
	snprintf(path, sizeof(path), "%s/memory.events", dir);
	if (read_text(path, text, sizeof(text)) >= 0 && !fog_memcg_parse_key(text, "max", &v))
		cg->failcnt = v;
}

/*
 * The memory cgroups of the tracked processes, at most cfg->max_cgroups of
 * them: those holding the most tracked processes first.
 */
static void read_cgroups(struct fog_collector *c, struct fog_mem *m)
{
	struct fog_collect *o = c->owner;
	unsigned int want = fog_agg__count(o->agg), max = o->cfg->max_cgroups, n = 0;

	m->n_cgroups = 0;
	m->cgroups_omitted = 0;
	if (m->cg_files == MEM_CG_NONE || !want)
		return;
	if (want > m->cap_ids) {
		__u64 *ids = realloc(m->cg_ids, want * sizeof(*ids));

		if (!ids)
			return;
		m->cg_ids = ids;
		m->cap_ids = want;
	}
	m->n_ids = 0;
	fog_agg__for_each(o->agg, collect_cgroup_id, m);
	if (!m->n_ids)
		return;
	fog_sort(m->cg_ids, m->n_ids, sizeof(*m->cg_ids), cmp_u64);
	for (unsigned int i = 0; i < m->n_ids; i++)
		n += !i || m->cg_ids[i] != m->cg_ids[i - 1];
	if (n > m->cap_cgroups) {
		struct mem_cgroup *cgs = realloc(m->cgroups, n * sizeof(*cgs));

		if (!cgs)
			return;
		m->cgroups = cgs;
		m->cap_cgroups = n;
	}
	for (unsigned int i = 0; i < m->n_ids; i++) {
		if (i && m->cg_ids[i] == m->cg_ids[i - 1]) {
			m->cgroups[m->n_cgroups - 1].procs++;
			continue;
		}
		m->cgroups[m->n_cgroups++] = (struct mem_cgroup){.id = m->cg_ids[i], .procs = 1};
	}
	fog_sort(m->cgroups, m->n_cgroups, sizeof(*m->cgroups), cmp_cgroup_procs);
	if (m->n_cgroups > max) {
		m->cgroups_omitted = m->n_cgroups - max;
		m->n_cgroups = max;
	}
	for (unsigned int i = 0; i < m->n_cgroups; i++) {
		struct mem_cgroup *cg = &m->cgroups[i];
		const char *path = fog_collect__cgroup_path(o, cg->id);

		cg->resolved = path && strlen(path) < sizeof(cg->path);
		if (cg->resolved)
			strcpy(cg->path, path);
		read_cg_files(o, m, cg);
	}
}

static void host_signals(struct fog_collect *o, const struct fog_mem *m)
{
	double worst = -1;

	if (m->meminfo.total_bytes)
		o->host.mem_used = 1.0 - (double)m->meminfo.available_bytes /
						 (double)m->meminfo.total_bytes;
	for (int r = 0; r < FOG_PSI_RESOURCES; r++)
		if (m->psi_read[r] && m->psi[r].has_some && m->psi[r].some.avg10 > worst)
			worst = m->psi[r].some.avg10;
	if (worst >= 0)
		o->host.psi_some = worst / 100.0; /* the kernel reports percent */
}

static void mem_tick(struct fog_collector *c, __u64 now_ns)
{
	struct fog_mem *m = c->priv;

	if (!m)
		return;
	read_stats(c, m);
	read_vmstat(c, m);
	if (m->tasks)
		fog_tasks__read(c->owner);
	fog_agg__for_each(c->owner->agg, read_rss, &(struct rss_walk){ m, c->owner->ticks });
	read_psi(m);
	read_meminfo(m);
	read_cgroups(c, m);
	host_signals(c->owner, m);
}

/* ---- the API's view ---- */

const struct fog_collector_ops fog_mem_collector = {
	.name = "mem",
	.enabled = mem_enabled,
	.start = mem_start,
	.stop = mem_stop,
	.tick = mem_tick,
	.to_json = fog_mem_json,
	.metrics = fog_mem_metrics,
};
