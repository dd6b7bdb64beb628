// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/bottleneck.h"

#define MB (1000.0 * 1000.0)

void fog_bottleneck_defaults(struct fog_bottleneck_cfg *cfg)
{
	*cfg = (struct fog_bottleneck_cfg){
		.func_seconds = 1.0,
		.alloc_bytes = 10 * MB,
		.disk_bytes_per_s = 100 * MB,
		.runq_p99_ns = 10e6,
		.mem_psi_some = 10.0,
		.leak_growth_bytes = 1 * MB,
	};
}

const char *fog_severity_name(enum fog_severity s)
{
	switch (s) {
	case FOG_SEV_INFO: return "info";
	case FOG_SEV_WARNING: return "warning";
	case FOG_SEV_CRITICAL: return "critical";
	}
	return "unknown";
}

/* Twice the threshold or more is critical, above it a warning. */
static enum fog_severity grade(double figure, double threshold)
{
	return figure >= 2 * threshold ? FOG_SEV_CRITICAL : FOG_SEV_WARNING;
}

static double pct(__u64 v, __u64 total)
{
	return total ? 100.0 * (double)v / (double)total : 0;
}

/*
 * Kernel hot spot: the hottest kernel function as the leaf, over the CPU
 * budget. A warning at most: where an interrupt is delivered (irq re-enable
 * on some hypervisors) is not the work itself, the user finding names that.
 */
static size_t kernel_finding(const struct fog_prof *p, const struct fog_bottleneck_cfg *cfg,
			     struct fog_finding *f)
{
	struct fog_prof_kernel_time k;
	double v;

	if (fog_prof_kernel_time(p, &k) || !k.func)
		return 0;
	v = (double)k.func_self * (double)p->period / 1e9;
	if (v <= cfg->func_seconds)
		return 0;
	*f = (struct fog_finding){ .severity = FOG_SEV_WARNING, .rule = "cpu_kernel", .figure = v,
				   .threshold = cfg->func_seconds };
	snprintf(f->evidence, sizeof(f->evidence),
		 "kernel: %.100s %.1f%% of samples (%.2f s as the leaf), %.1f%% of samples in the "
		 "kernel; hottest kernel path %.200s%s%.100s", k.func, pct(k.func_self, p->total), v,
		 pct(k.value, p->total), k.path, k.user_func ? ", under user function " : "",
		 k.user_func ? k.user_func : "");
	snprintf(f->action, sizeof(f->action),
		 "make fewer or larger system calls from %.100s; a leaf where interrupts are "
		 "re-enabled is where the timer lands, not the work itself",
		 k.user_func ? k.user_func : "the program");
	return 1;
}

size_t fog_bottleneck_find(const struct fog_prof *p, const struct fog_bottleneck_cfg *cfg,
			   struct fog_finding *out, size_t max)
{
	struct fog_prof_func *fn;
	size_t n = 0, nf = 0;
	char stack[384];

	/* the rules speak of CPU seconds or bytes: blocked time (off-CPU) has none */
	fn = p->kind == FOG_PROF_OFFCPU ? NULL :
					  fog_prof_functions_of(p, true, FOG_PROF_FUNCS_USER, &nf);
	for (size_t i = 0; fn && i < nf && n < max; i++) {
		double v = p->kind == FOG_PROF_CPU ? (double)fn[i].total * (double)p->period / 1e9 :
						     (double)fn[i].total;
		double limit = p->kind == FOG_PROF_CPU ? cfg->func_seconds : cfg->alloc_bytes;
		struct fog_finding *f = &out[n];

		if (v <= limit || fn[i].func[0] == '[')
			continue;
		/* a function whose own share is tiny is only on the path: report where time is spent */
		if ((double)fn[i].self < 0.05 * (double)fn[i].total && i + 1 < nf)
			continue;
		fog_prof_stack_name(p, &p->stacks[fn[i].heaviest], stack, sizeof(stack));
		*f = (struct fog_finding){ .severity = grade(v, limit), .figure = v,
					   .threshold = limit };
		if (p->kind == FOG_PROF_CPU) {
			f->rule = "cpu_function";
			snprintf(f->evidence, sizeof(f->evidence),
				 "%.100s used %.2f s of CPU (%.1f%% of samples with "
				 "callees, %.1f%% in this user function itself incl. the kernel time "
				 "it caused, %.1f%% in the kernel); heaviest stack %.250s", fn[i].func, v,
				 pct(fn[i].total, p->total), pct(fn[i].self, p->total),
				 pct(fn[i].in_kernel, p->total), stack);
			snprintf(f->action, sizeof(f->action),
				 "optimise %s or call it less often; look at its callers in the "
				 "flame graph", fn[i].func);
		} else {
			f->rule = "allocation";
			snprintf(f->evidence, sizeof(f->evidence), "%s %s %.1f MB; stack %s",
				 fn[i].func, p->kind == FOG_PROF_INUSE ? "holds live" : "allocated",
				 v / MB, stack);
			snprintf(f->action, sizeof(f->action),
				 "reuse buffers or pool objects allocated in %s", fn[i].func);
		}
		n++;
	}
	free(fn);
	if (p->kind == FOG_PROF_CPU && n < max)
		n += kernel_finding(p, cfg, &out[n]);
	for (size_t i = 0; i < p->nleaks && n < max; i++) {
		const struct fog_prof_leak *l = &p->leaks[i];

		/* outstanding and growing over the profile: the signature of a leak */
		if (!l->growing || (double)l->growth_bytes < cfg->leak_growth_bytes)
			continue;
		out[n] = (struct fog_finding){ grade((double)l->growth_bytes, cfg->leak_growth_bytes),
					       "memory_leak" };
		snprintf(out[n].evidence, sizeof(out[n].evidence),
			 "%s holds %.1f MB in %llu live allocations, %.1f MB more than at the "
			 "start; oldest %.0f s old; stack %.300s", l->func, (double)l->live_bytes / MB,
			 (unsigned long long)l->live_objects, (double)l->growth_bytes / MB,
			 l->oldest_age_s, l->stack);
		snprintf(out[n].action, sizeof(out[n].action),
			 "check that what %s allocates is freed on every path, or bound the cache "
			 "it fills", l->func);
		out[n].figure = (double)l->growth_bytes;
		out[n].threshold = cfg->leak_growth_bytes;
		n++;
	}
	for (size_t i = 0; i < p->nprocs && n < max; i++) {
		const struct fog_prof_proc *pr = &p->procs[i];
		double disk = pr->io_read_bytes_per_s + pr->io_write_bytes_per_s;

		if (disk > cfg->disk_bytes_per_s) {
			out[n] = (struct fog_finding){ grade(disk, cfg->disk_bytes_per_s), "disk" };
			snprintf(out[n].evidence, sizeof(out[n].evidence),
				 "%s (pid %u) moved %.1f MB/s to and from disk (read %.1f, write "
				 "%.1f)", pr->comm, pr->pid, disk / MB,
				 pr->io_read_bytes_per_s / MB, pr->io_write_bytes_per_s / MB);
			snprintf(out[n].action, sizeof(out[n].action),
				 "batch or cache its I/O, or give it a faster device or an io limit");
			out[n].figure = disk;
			out[n].threshold = cfg->disk_bytes_per_s;
			n++;
		}
		if (n < max && pr->runq_p99_ns > cfg->runq_p99_ns) {
			out[n] = (struct fog_finding){ grade(pr->runq_p99_ns, cfg->runq_p99_ns),
						       "runq_latency" };
			snprintf(out[n].evidence, sizeof(out[n].evidence),
				 "%s (pid %u) waited %.1f ms (p99) to run", pr->comm, pr->pid,
				 pr->runq_p99_ns / 1e6);
			snprintf(out[n].action, sizeof(out[n].action),
				 "the host is short of CPU: move work away or raise its cpu share");
			out[n].figure = pr->runq_p99_ns;
			out[n].threshold = cfg->runq_p99_ns;
			n++;
		}
	}
	if (n < max && p->mem_psi_some_avg10 > cfg->mem_psi_some) {
		out[n] = (struct fog_finding){ grade(p->mem_psi_some_avg10, cfg->mem_psi_some),
					       "memory_pressure" };
		snprintf(out[n].evidence, sizeof(out[n].evidence),
			 "tasks stalled on memory %.1f%% of the last 10 s (/proc/pressure/memory)",
			 p->mem_psi_some_avg10);
		snprintf(out[n].action, sizeof(out[n].action),
			 "reduce the working set or add memory; look at the largest RSS first");
		out[n].figure = p->mem_psi_some_avg10;
		out[n].threshold = cfg->mem_psi_some;
		n++;
	}
	return n;
}

json_t *fog_bottleneck_json(const struct fog_finding *f, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:f,s:f}", "severity",
						   fog_severity_name(f[i].severity), "rule",
						   f[i].rule, "evidence", f[i].evidence, "action",
						   f[i].action, "figure", f[i].figure, "threshold",
						   f[i].threshold));
	return a;
}
