// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "profile/bottleneck.h"
#include "profile/flame.h"
#include "profile/report.h"

#define TOP 25
#define MAX_FINDINGS 32

static double pct(__u64 v, __u64 total)
{
	return total ? 100.0 * (double)v / (double)total : 0;
}

/*
 * A table of functions of one side (user or kernel). A user function's self
 * holds the kernel time its calls caused (shown apart); a kernel function's
 * self is where it was the leaf.
 */
static void top_table(const struct fog_prof *p, FILE *f, bool by_total, enum fog_prof_side side,
		      double unit_scale, const char *unit)
{
	bool user = side == FOG_PROF_FUNCS_USER;
	struct fog_prof_func *fn;
	size_t n = 0;

	fn = fog_prof_functions_of(p, by_total, side, &n);
	fprintf(f, "<h3>Top %s functions by %s</h3>\n<table><tr><th>function</th><th>module</th>"
		   "<th>self%s</th><th>self %%</th>%s<th>total</th><th>total %%</th></tr>\n",
		user ? "user" : "kernel", by_total ? "total (with callees)" : "self",
		user ? " (incl. kernel time it caused)" : " (as the leaf)",
		user ? "<th>of it in the kernel</th>" : "");
	for (size_t i = 0; fn && i < n && i < TOP; i++) {
		fputs("<tr><td>", f);
		fog_xml_escape(f, fn[i].func);
		fputs("</td><td>", f);
		fog_xml_escape(f, fn[i].module ? fn[i].module : "");
		fprintf(f, "</td><td>%.3f %s</td><td>%.1f</td>", (double)fn[i].self * unit_scale,
			unit, pct(fn[i].self, p->total));
		if (user)
			fprintf(f, "<td>%.3f %s</td>", (double)fn[i].in_kernel * unit_scale, unit);
		fprintf(f, "<td>%.3f %s</td><td>%.1f</td></tr>\n", (double)fn[i].total * unit_scale,
			unit, pct(fn[i].total, p->total));
	}
	if (!n)
		fprintf(f, "<tr><td colspan=\"%d\">no %s frames</td></tr>\n", user ? 7 : 6,
			user ? "user" : "kernel");
	fputs("</table>\n", f);
	free(fn);
}

/* Summary rows: the hottest user function by name, and kernel time apart. */
static void summary_hot(const struct fog_prof *p, FILE *f)
{
	struct fog_prof_kernel_time k;
	struct fog_prof_func *fn;
	size_t n = 0;

	fn = fog_prof_functions_of(p, false, FOG_PROF_FUNCS_USER, &n);
	fputs("<tr><th>hottest user function</th><td>", f);
	if (fn && n && fn[0].self) {
		fog_xml_escape(f, fn[0].func);
		fprintf(f, ", %.1f%% of samples incl. kernel time it caused (%.1f%% in the kernel)",
			pct(fn[0].self, p->total), pct(fn[0].in_kernel, p->total));
	} else {
		fputs("none (no user frames)", f);
	}
	fputs("</td></tr>", f);
	free(fn);
	if (fog_prof_kernel_time(p, &k))
		return;
	fprintf(f, "<tr><th>kernel time</th><td>%.1f%% of samples in the kernel (%.1f%% with no "
		   "user frame)</td></tr>", pct(k.value, p->total), pct(k.kernel_only, p->total));
	if (!k.func)
		return;
	fputs("<tr><th>hottest kernel function</th><td>", f);
	fog_xml_escape(f, k.func);
	fprintf(f, ", %.1f%% of samples as the leaf</td></tr><tr><th>hottest kernel path</th><td>",
		pct(k.func_self, p->total));
	fog_xml_escape(f, k.path);
	fprintf(f, ", %.1f%% of samples", pct(k.path_value, p->total));
	if (k.user_func) {
		fputs(", under user function ", f);
		fog_xml_escape(f, k.user_func);
	}
	fputs("</td></tr>", f);
}

/* Leak candidates and the live-bytes series of a memory profile. */
static void memory_section(const struct fog_prof *p, FILE *f)
{
	fputs("<h2>Memory</h2>\n<h3>Leak candidates (live sampled allocations by stack)</h3>\n", f);
	if (!p->nleaks)
		fputs("<p>No sampled allocation is live.</p>\n", f);
	else
		fputs("<table><tr><th>function</th><th>stack</th><th>live MB</th><th>live objects"
		      "</th><th>growth MB</th><th>oldest s</th></tr>\n", f);
	for (size_t i = 0; i < p->nleaks; i++) {
		const struct fog_prof_leak *l = &p->leaks[i];

		fputs("<tr><td>", f);
		fog_xml_escape(f, l->func);
		fputs("</td><td>", f);
		fog_xml_escape(f, l->stack);
		fprintf(f, "</td><td>%.2f</td><td>%llu</td><td>%s%.2f</td><td>%.0f</td></tr>\n",
			(double)l->live_bytes / 1e6, (unsigned long long)l->live_objects,
			l->growing ? "+" : "", (double)l->growth_bytes / 1e6, l->oldest_age_s);
	}
	if (p->nleaks)
		fputs("</table>\n", f);
	if (!p->ngrowth)
		return;
	fputs("<h3>Live bytes over time</h3>\n<table><tr><th>seconds before the end</th>"
	      "<th>live MB</th></tr>\n", f);
	for (size_t i = 0; i < p->ngrowth; i++)
		fprintf(f, "<tr><td>%.1f</td><td>%.2f</td></tr>\n", -p->growth[i].t_s,
			(double)p->growth[i].bytes / 1e6);
	fputs("</table>\n", f);
}

/* What every page of the profiler shares: the styles that keep text inside its box. */
void fog_report_write_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
	fog_xml_escape(f, title);
	fputs("</title>\n<style>\n"
	      "body{font:14px sans-serif;margin:12px 20px;color:#222}"
	      "h1{font-size:20px;margin:4px 0}h2{font-size:17px;margin:18px 0 6px}"
	      ".lead{margin:2px 0 8px;color:#444}"
	      ".flame{width:100%}.flame svg{display:block;width:100%}"
	      ".fbar{margin:4px 0;display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center}"
	      ".fmatched{font-weight:bold;color:#a0a}"
	      "table{border-collapse:collapse;margin-bottom:1em;max-width:100%}"
	      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;"
	      "overflow-wrap:anywhere;word-break:break-word}"
	      "td:nth-child(n+3){text-align:right;font-family:monospace}"
	      "table.findings{width:100%;table-layout:fixed}"
	      "table.findings td{text-align:left;font-family:inherit;white-space:normal}"
	      "table.findings col.sev{width:7em}table.findings col.rule{width:11em}"
	      ".critical{color:#b00;font-weight:bold}.warning{color:#b60}.info{color:#06b}"
	      ".note{color:#666}\n</style></head><body>\n", f);
}

/* The findings of the bottleneck rules: evidence and actions wrap inside the page. */
static void findings(const struct fog_prof *p, FILE *f)
{
	struct fog_finding found[MAX_FINDINGS];
	struct fog_bottleneck_cfg cfg;
	size_t nf;

	fog_bottleneck_defaults(&cfg);
	nf = fog_bottleneck_find(p, &cfg, found, MAX_FINDINGS);
	fputs("<h2 id=\"findings\">Findings</h2>\n", f);
	if (!nf) {
		fputs("<p>No rule fired.</p>\n", f);
		return;
	}
	fputs("<table class=\"findings\"><colgroup><col class=\"sev\"><col class=\"rule\"><col>"
	      "<col></colgroup><tr><th>severity</th><th>rule</th><th>evidence</th>"
	      "<th>action</th></tr>\n", f);
	for (size_t i = 0; i < nf; i++) {
		fprintf(f, "<tr><td class=\"%s\">%s</td><td>%s</td><td class=\"evidence\">",
			fog_severity_name(found[i].severity), fog_severity_name(found[i].severity),
			found[i].rule);
		fog_xml_escape(f, found[i].evidence);
		fputs("</td><td>", f);
		fog_xml_escape(f, found[i].action);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static const char *kind_text(const struct fog_prof *p)
{
	switch (p->kind) {
	case FOG_PROF_CPU:
		return "CPU (on-CPU stack samples)";
	case FOG_PROF_OFFCPU:
		return "off-CPU (time blocked, by stack)";
	case FOG_PROF_INUSE:
		return "memory (live sampled allocations)";
	default:
		return "memory (sampled allocations)";
	}
}

/*
 * The report opens on the flame graph (full width, zoom, search, kernel fold),
 * then the findings, then the summary and the tables.
 */
int fog_report_write_html(const struct fog_prof *p, FILE *f)
{
	struct fog_flame_opts fo = { .title = "Flame graph", .inline_svg = true };
	bool cpu = p->kind == FOG_PROF_CPU, off = p->kind == FOG_PROF_OFFCPU;
	double scale = cpu ? (double)p->period / 1e9 : off ? 1e-9 : 1.0 / 1e6;
	const char *unit = cpu || off ? "s" : "MB";
	time_t start = (time_t)(p->start_unix_ns / 1000000000ULL);
	char when[64] = "";
	int err;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&start));
	fog_report_write_head(f, "fogd profile report");
	fputs("<h1>fogd profile report</h1>\n<p class=\"lead\">", f);
	fog_xml_escape(f, p->target);
	fprintf(f, " &middot; %s &middot; %.1f s from %s &middot; ", kind_text(p),
		(double)p->duration_ns / 1e9, when);
	if (cpu)
		fprintf(f, "%llu samples (%.2f s of CPU)", (unsigned long long)p->total,
			(double)p->total * scale);
	else if (off)
		fprintf(f, "%.3f s blocked", (double)p->total * scale);
	else
		fprintf(f, "%.1f MB sampled", (double)p->total / 1e6);
	fputs("</p>\n<div class=\"flame\" id=\"flame\">\n", f);
	fog_flame_write_toolbar(f, fo.title);
	err = fog_flame_write_svg(p, &fo, f);
	if (err)
		return err;
	fputs("</div>\n", f);
	findings(p, f);
	fputs("<h2 id=\"summary\">Summary</h2>\n<table>", f);
	fputs("<tr><th>target</th><td>", f);
	fog_xml_escape(f, p->target);
	fprintf(f, "</td></tr><tr><th>kind</th><td>%s</td></tr>"
		   "<tr><th>started</th><td>%s</td></tr>"
		   "<tr><th>duration</th><td>%.1f s</td></tr>",
		kind_text(p), when, (double)p->duration_ns / 1e9);
	if (cpu)
		fprintf(f, "<tr><th>frequency</th><td>%u Hz per CPU</td></tr>"
			   "<tr><th>samples</th><td>%llu (%.2f s of CPU)</td></tr>",
			p->frequency, (unsigned long long)p->total, (double)p->total * scale);
	else if (off)
		fprintf(f, "<tr><th>time blocked</th><td>%.3f s</td></tr>",
			(double)p->total * scale);
	else
		fprintf(f, "<tr><th>sampled bytes</th><td>%.1f MB</td></tr>",
			(double)p->total / 1e6);
	fprintf(f, "<tr><th>distinct stacks</th><td>%zu</td></tr>", p->nstacks);
	summary_hot(p, f);
	fputs("</table>\n", f);
	if (p->nnotes) {
		fputs("<h3>What is missing</h3><ul class=\"note\">", f);
		for (size_t i = 0; i < p->nnotes; i++) {
			fputs("<li>", f);
			fog_xml_escape(f, p->notes[i]);
			fputs("</li>", f);
		}
		fputs("</ul>\n", f);
	}
	fputs("<h2>Functions</h2>\n", f);
	top_table(p, f, false, FOG_PROF_FUNCS_USER, scale, unit);
	top_table(p, f, true, FOG_PROF_FUNCS_USER, scale, unit);
	top_table(p, f, false, FOG_PROF_FUNCS_KERNEL, scale, unit);
	if (!cpu && !off)
		memory_section(p, f);
	fputs("<h2>I/O and scheduling</h2>\n", f);
	if (!p->nprocs) {
		fputs("<p class=\"note\">No per-process figures: the io and schedlat collectors "
		      "were not running or did not see the target.</p>\n", f);
	} else {
		fputs("<table><tr><th>pid</th><th>command</th><th>CPU s</th><th>disk read MB/s"
		      "</th><th>disk write MB/s</th><th>run-queue p99 ms</th><th>RSS MB</th></tr>\n",
		      f);
		for (size_t i = 0; i < p->nprocs; i++) {
			const struct fog_prof_proc *pr = &p->procs[i];

			fprintf(f, "<tr><td>%u</td><td>", pr->pid);
			fog_xml_escape(f, pr->comm);
			fprintf(f, "</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%s%.2f</td>"
				   "<td>%.1f</td></tr>\n", pr->cpu_seconds,
				pr->io_read_bytes_per_s / 1e6, pr->io_write_bytes_per_s / 1e6,
				pr->runq_p99_ns < 0 ? "n/a " : "",
				pr->runq_p99_ns < 0 ? 0 : pr->runq_p99_ns / 1e6,
				(double)pr->rss_bytes / 1e6);
		}
		fputs("</table>\n", f);
	}
	if (p->mem_psi_some_avg10 >= 0)
		fprintf(f, "<p>Memory pressure (some, avg10): %.2f%%</p>\n", p->mem_psi_some_avg10);
	fputs("</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
