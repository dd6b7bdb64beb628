// SPDX-License-Identifier: GPL-2.0-only
/* The mem collector's figures for the API (JSON) and for /metrics. */
#include <stdio.h>

#include "base/prom.h"
#include "collect/collect_int.h"
#include "collect/mem.h"

static bool both_attached(const struct fog_mem *m, enum mem_prog a, enum mem_prog b)
{
	return m->links[a] && m->links[b];
}

static json_t *reclaim_json(const struct fog_mem *m, bool ok, __u64 count, __u64 ns)
{
	if (!ok || !m->have_stats)
		return json_null();
	return json_pack("{s:I,s:f}", "count", (json_int_t)count, "stall_seconds",
			 (double)ns / 1e9);
}

static json_t *cgroup_json(const struct mem_cgroup *cg)
{
	json_t *o = json_object();

	json_object_set_new(o, "cgroup_id", json_integer((json_int_t)cg->id));
	json_object_set_new(o, "path", cg->resolved ? json_string(cg->path) : json_null());
	json_object_set_new(o, "processes", json_integer(cg->procs));
	json_object_set_new(o, "usage_bytes",
			    cg->usage != ~0ull ? json_integer((json_int_t)cg->usage) : json_null());
	/* null: no limit, or not readable */
	json_object_set_new(o, "limit_bytes",
			    cg->has_limit && cg->limit != FOG_MEMCG_NO_LIMIT
				    ? json_integer((json_int_t)cg->limit)
				    : json_null());
	json_object_set_new(o, "failcnt",
			    cg->failcnt != ~0ull ? json_integer((json_int_t)cg->failcnt)
						 : json_null());
	return o;
}

json_t *fog_mem_json(struct fog_collector *c)
{
	struct fog_mem *m = c->priv;
	json_t *j = json_object(), *psi = json_object(), *cgs = json_array();

	if (!m)
		return j;
	json_object_set_new(j, "page_alloc_per_s",
			    m->have_fault_rate ? json_real(m->page_alloc_per_s) : json_null());
	json_object_set_new(j, "page_free_per_s",
			    m->have_fault_rate ? json_real(m->page_free_per_s) : json_null());
	json_object_set_new(j, "pages_allocated",
			    m->have_faults ? json_integer((json_int_t)m->vm.page_alloc) : json_null());
	json_object_set_new(j, "pages_freed",
			    m->have_faults ? json_integer((json_int_t)m->vm.page_free) : json_null());
	json_object_set_new(j, "faults_total",
			    m->have_faults ? json_integer((json_int_t)m->vm.faults) : json_null());
	/* the kernel counts every task's faults: none escape the per-process figures */
	json_object_set_new(j, "faults_untracked_per_process",
			    m->tasks ? json_integer(0) : json_null());
	json_object_set_new(j, "faults_per_s",
			    m->have_fault_rate ? json_real(m->faults_per_s) : json_null());
	json_object_set_new(j, "direct_reclaim",
			    reclaim_json(m, both_attached(m, MEM_DIRECT_BEGIN, MEM_DIRECT_END),
					 m->now.direct_reclaim, m->now.direct_reclaim_ns));
	json_object_set_new(j, "memcg_reclaim",
			    reclaim_json(m, both_attached(m, MEM_MEMCG_BEGIN, MEM_MEMCG_END),
					 m->now.memcg_reclaim, m->now.memcg_reclaim_ns));
	json_object_set_new(j, "oom_kills",
			    m->oom_counted ? json_integer((json_int_t)m->oom_kills) : json_null());
	for (int r = 0; r < FOG_PSI_RESOURCES; r++)
		json_object_set_new(psi, fog_psi_resource_name(r),
				    m->psi_read[r] ? fog_psi_json(&m->psi[r]) : json_null());
	json_object_set_new(j, "psi", psi);
	json_object_set_new(j, "memory", fog_meminfo_json(&m->meminfo));
	for (unsigned int i = 0; i < m->n_cgroups; i++)
		json_array_append_new(cgs, cgroup_json(&m->cgroups[i]));
	json_object_set_new(j, "cgroups", cgs);
	json_object_set_new(j, "cgroups_omitted", json_integer(m->cgroups_omitted));
	return j;
}

static void family(struct fog_prom *w, const char *name, enum fog_prom_type type, const char *help,
		   double v)
{
	fog_prom__family(w, name, type, help);
	fog_prom__sample(w, NULL, v);
}

void fog_mem_metrics(struct fog_collector *c, struct fog_prom *w)
{
	struct fog_mem *m = c->priv;

	if (!m)
		return;
	if (m->have_faults) {
		family(w, "fog_memory_page_allocations", FOG_PROM_COUNTER,
		       "pages handed out by the page allocator", (double)m->vm.page_alloc);
		family(w, "fog_memory_page_frees", FOG_PROM_COUNTER,
		       "pages given back to the page allocator", (double)m->vm.page_free);
	}
	if (m->have_faults)
		family(w, "fog_page_faults", FOG_PROM_COUNTER,
		       "page faults on user memory (the kernel's pgfault count)", (double)m->vm.faults);
	if (m->have_stats && both_attached(m, MEM_DIRECT_BEGIN, MEM_DIRECT_END)) {
		family(w, "fog_direct_reclaim_stalls", FOG_PROM_COUNTER,
		       "direct reclaim stalls that ended", (double)m->now.direct_reclaim);
		family(w, "fog_direct_reclaim_stall_seconds", FOG_PROM_COUNTER,
		       "time tasks spent in direct reclaim", m->now.direct_reclaim_ns / 1e9);
	}
	if (m->have_stats && both_attached(m, MEM_MEMCG_BEGIN, MEM_MEMCG_END)) {
		family(w, "fog_memcg_reclaim_stalls", FOG_PROM_COUNTER,
		       "reclaim stalls at a memory cgroup's limit that ended",
		       (double)m->now.memcg_reclaim);
		family(w, "fog_memcg_reclaim_stall_seconds", FOG_PROM_COUNTER,
		       "time tasks spent in reclaim at a memory cgroup's limit",
		       m->now.memcg_reclaim_ns / 1e9);
	}
	if (m->oom_counted)
		family(w, "fog_oom_kills", FOG_PROM_COUNTER,
		       "OOM killer victims since fogd started", (double)m->oom_kills);
	fog_prom__family(w, "fog_pressure_stall_seconds", FOG_PROM_COUNTER,
			 "time some or all non-idle tasks stalled on a resource (PSI)");
	for (int r = 0; r < FOG_PSI_RESOURCES; r++) {
		const char *name = fog_psi_resource_name(r);

		if (!m->psi_read[r])
			continue;
		if (m->psi[r].has_some)
			fog_prom__sample(w, (const char *[]){ "resource", name, "kind", "some", NULL },
					 m->psi[r].some.total_us / 1e6);
		if (m->psi[r].has_full)
			fog_prom__sample(w, (const char *[]){ "resource", name, "kind", "full", NULL },
					 m->psi[r].full.total_us / 1e6);
	}
	if (m->meminfo.total_bytes) {
		family(w, "fog_memory_total_bytes", FOG_PROM_GAUGE, "MemTotal of /proc/meminfo",
		       (double)m->meminfo.total_bytes);
		family(w, "fog_memory_available_bytes", FOG_PROM_GAUGE,
		       "MemAvailable: what can be allocated without swapping",
		       (double)m->meminfo.available_bytes);
		family(w, "fog_memory_free_bytes", FOG_PROM_GAUGE, "MemFree of /proc/meminfo",
		       (double)m->meminfo.free_bytes);
		family(w, "fog_swap_total_bytes", FOG_PROM_GAUGE, "SwapTotal of /proc/meminfo",
		       (double)m->meminfo.swap_total_bytes);
		family(w, "fog_swap_free_bytes", FOG_PROM_GAUGE, "SwapFree of /proc/meminfo",
		       (double)m->meminfo.swap_free_bytes);
	}
	fog_prom__family(w, "fog_cgroup_memory_usage_bytes", FOG_PROM_GAUGE,
			 "memory charged to a cgroup (cgroups of tracked processes)");
	for (unsigned int i = 0; i < m->n_cgroups && i < c->owner->cfg->top_cgroups; i++) {
		const struct mem_cgroup *cg = &m->cgroups[i];
		const char *label = cg->path;

		/* an id that did not resolve is not exported under a made-up name */
		if (cg->usage == ~0ull || !cg->resolved)
			continue;
		fog_prom__sample(w, (const char *[]){ "cgroup", label, NULL }, (double)cg->usage);
	}
}
