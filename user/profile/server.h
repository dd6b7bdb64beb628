/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The profiler inside fogd: profile sessions started over the Unix socket,
 * finished from the event loop's timer, their outputs served over HTTP:
 *   POST /api/v1/profile             (local) {"pid":N | "cgroup":"/p" | "all":true,
 *                                    "seconds":S, "frequency":HZ, "kernel":bool,
 *                                    "mode":"cpu"|"mem"} (mem: a pid run with libfogalloc.so)
 *   GET  /api/v1/profile             the sessions
 *   GET  /api/v1/profile/ID          state and, when done, the summary and bottlenecks
 *   GET  /api/v1/profile/ID/FORMAT   folded, pprof, speedscope, svg, html, json
 *                                    (memory: ?view=alloc for bytes allocated, else live)
 *   GET  /debug/pprof/profile?seconds=N   gzipped pprof of the host, as Go serves it
 */
#ifndef FOG_PROF_SERVER_H
#define FOG_PROF_SERVER_H

struct fog_agg;
struct fog_cgroup_info;
struct fog_http;
struct fog_loop;
struct fog_profiler;

/*
 * Registers the routes and a timer on loop; agg (the daemon's process table,
 * borrowed; NULL: none) gives profiles their per-process table and cgroup
 * (copied; NULL: unknown) resolves cgroup targets. NULL and errno on failure.
 */
struct fog_profiler *fog_profiler__new(struct fog_http *h, struct fog_loop *loop,
				       struct fog_agg *agg, const struct fog_cgroup_info *cgroup);
/* Stops running sessions (detaching their programs) and frees everything. */
void fog_profiler__free(struct fog_profiler *p);

#endif /* FOG_PROF_SERVER_H */
