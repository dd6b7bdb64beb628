// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collection pipeline's Prometheus families: collectors' state, events,
 * the process table, BPF program run counts and times, the busiest
 * processes' series, then each running collector's own families.
 */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/prom.h"
#include "base/sort.h"
#include "collect/collect_int.h"

static void prog_metrics(struct fog_collect *c, struct fog_prom *w, bool runs)
{
	for (unsigned int i = 0; i < c->n_collectors; i++) {
		struct fog_collector *col = &c->collectors[i];
		struct bpf_program *prog;

		if (col->state != FOG_COLLECTOR_RUNNING || !col->obj)
			continue;
		/* cpu and schedlat share one object: report it once */
		if (i > 0 && c->collectors[i - 1].obj == col->obj &&
		    c->collectors[i - 1].state == FOG_COLLECTOR_RUNNING)
			continue;
		bpf_object__for_each_program(prog, col->obj) {
			struct bpf_prog_info info = {};
			__u32 len = sizeof(info);
			int fd = bpf_program__fd(prog);

			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
				continue;
			fog_prom__sample(w,
					 (const char *[]){ "collector", col->ops->name, "program",
							   bpf_program__name(prog), NULL },
					 runs ? (double)info.run_cnt : (double)info.run_time_ns / 1e9);
		}
	}
}

static void collect_proc(struct fog_proc *p, void *ctx)
{
	struct fog_proc ***out = ctx;

	*(*out)++ = p;
}

static int cmp_proc_cpu(const void *a, const void *b)
{
	const struct fog_proc *x = *(struct fog_proc *const *)a, *y = *(struct fog_proc *const *)b;

	if (x->cpu_share != y->cpu_share)
		return x->cpu_share < y->cpu_share ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Per-process series for the busiest processes only: labels stay bounded. */
static void process_metrics(struct fog_collect *c, struct fog_prom *w)
{
	static const struct {
		const char *name;
		enum fog_prom_type type;
		const char *help;
	} fams[] = {
		{ "fog_process_cpu_seconds", FOG_PROM_COUNTER, "on-CPU time of a process" },
		{ "fog_process_page_faults", FOG_PROM_COUNTER, "user page faults of a process" },
		{ "fog_process_io_read_bytes", FOG_PROM_COUNTER,
		  "block I/O bytes read, attributed at issue" },
		{ "fog_process_io_written_bytes", FOG_PROM_COUNTER,
		  "block I/O bytes written, attributed at issue" },
		{ "fog_process_resident_memory_bytes", FOG_PROM_GAUGE, "resident set size" },
	};
	unsigned int total = fog_agg__count(c->agg), n = c->cfg->top_processes;
	struct fog_proc **v, **end;
	char pid[16];

	if (!n || !total)
		return;
	v = malloc(total * sizeof(*v));
	if (!v)
		return;
	end = v;
	fog_agg__for_each(c->agg, collect_proc, &end);
	fog_sort(v, total, sizeof(*v), cmp_proc_cpu);
	if (n > total)
		n = total;
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		fog_prom__family(w, fams[f].name, fams[f].type, fams[f].help);
		for (unsigned int i = 0; i < n; i++) {
			const struct fog_proc *p = v[i];
			double val = f == 0 ? p->oncpu_ns / 1e9 :
				     f == 1 ? (double)p->faults :
				     f == 2 ? (double)p->io_read_bytes :
				     f == 3 ? (double)p->io_write_bytes :
					      (double)p->rss_bytes;

			snprintf(pid, sizeof(pid), "%u", p->pid);
			fog_prom__sample(w, (const char *[]){ "pid", pid, "comm", p->comm, NULL },
					 val);
		}
	}
	free(v);
}

void fog_collect__metrics(struct fog_collect *c, struct fog_prom *w)
{
	fog_prom__family(w, "fog_collector_enabled", FOG_PROM_GAUGE,
			 "1 when the configuration turns the collector on");
	for (unsigned int i = 0; i < c->n_collectors; i++)
		fog_prom__sample(w, (const char *[]){ "collector", c->collectors[i].ops->name, NULL },
				 c->collectors[i].state != FOG_COLLECTOR_OFF);
	fog_prom__family(w, "fog_collector_up", FOG_PROM_GAUGE,
			 "1 when the collector runs; 0 when off or unavailable");
	for (unsigned int i = 0; i < c->n_collectors; i++)
		fog_prom__sample(w, (const char *[]){ "collector", c->collectors[i].ops->name, NULL },
				 c->collectors[i].state == FOG_COLLECTOR_RUNNING);
	fog_prom__family(w, "fog_events_received", FOG_PROM_COUNTER,
			 "ring buffer events consumed");
	fog_prom__sample(w, NULL, (double)fog_events__received(c->events));
	fog_prom__family(w, "fog_events_malformed", FOG_PROM_COUNTER,
			 "ring buffer records skipped because their size or type was wrong");
	fog_prom__sample(w, NULL, (double)fog_events__malformed(c->events));
	fog_prom__family(w, "fog_ringbuf_drops", FOG_PROM_COUNTER,
			 "events lost because a ring buffer was full");
	fog_prom__sample(w, NULL, (double)fog_events__drops(c->events));
	fog_prom__family(w, "fog_processes_tracked", FOG_PROM_GAUGE,
			 "processes in fogd's table");
	fog_prom__sample(w, NULL, fog_agg__count(c->agg));
	fog_prom__family(w, "fog_processes_overflow", FOG_PROM_COUNTER,
			 "processes not tracked because the table was full");
	fog_prom__sample(w, NULL, (double)fog_agg__overflows(c->agg));
	fog_prom__family(w, "fog_bpf_program_runs", FOG_PROM_COUNTER,
			 "runs of each BPF program (counted while kernel.bpf_stats_enabled is 1)");
	prog_metrics(c, w, true);
	fog_prom__family(w, "fog_bpf_program_run_seconds", FOG_PROM_COUNTER,
			 "time spent in each BPF program (while kernel.bpf_stats_enabled is 1)");
	prog_metrics(c, w, false);
	process_metrics(c, w);
	for (unsigned int i = 0; i < c->n_collectors; i++) {
		struct fog_collector *col = &c->collectors[i];

		if (col->state == FOG_COLLECTOR_RUNNING && col->ops->metrics)
			col->ops->metrics(col, w);
	}
}
