/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One CPU profile from start to finished fog_prof: the capture, a symbolizer
 * that snapshots each sampled process while it runs (so processes that exit
 * keep their frames), and the collectors' per-process figures at both ends.
 * Used by fogd (server.c) and by the library API (run.c).
 */
#ifndef FOG_PROF_SESSION_H
#define FOG_PROF_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "profile/capture.h"
#include "profile/elfsym.h"
#include "profile/prof.h"

struct fog_agg;
struct fog_prof_session;

/* Starts sampling; cache is borrowed. NULL, errno and err on failure. */
struct fog_prof_session *fog_prof_session__new(const struct fog_prof_capture_opts *o,
					       const char *target, struct fog_elfcache *cache,
					       char *err, size_t len);
void fog_prof_session__free(struct fog_prof_session *s);
/* Snapshots processes sampled since the last call (call every few hundred ms). */
void fog_prof_session__poll(struct fog_prof_session *s);
/* Stops sampling and builds the profile; the session keeps ownership of it. */
int fog_prof_session__finish(struct fog_prof_session *s);
struct fog_prof *fog_prof_session__prof(struct fog_prof_session *s);
/* Moves the finished profile out (the caller frees it). */
struct fog_prof *fog_prof_session__take(struct fog_prof_session *s);
/* One process's counters as the daemon's collectors hold them (for the profile's table). */
struct fog_prof_task_figures {
	__u32 pid;
	__u64 oncpu_ns;
	__u64 io_read_bytes;
	__u64 io_write_bytes;
	__u64 runq_p99_ns;
	__u64 rss_bytes;
	char comm[16];
};
typedef void (*fog_prof_figures_fn)(const struct fog_prof_task_figures *f, void *ctx);
/* Calls fn once for every process src knows (src: the caller's, e.g. the daemon's table). */
typedef void (*fog_prof_tasks_fn)(void *src, fog_prof_figures_fn fn, void *ctx);
/*
 * Takes the per-process figures from each(src) (src NULL: none) at start or
 * end. At the end, figures taken by fog_prof_session__mark_end come first:
 * an async session's caller takes them when the capture ends and applies
 * them (src NULL) once the thread has built the profile.
 */
void fog_prof_session__procs(struct fog_prof_session *s, fog_prof_tasks_fn each, void *src,
			     bool end);
/* Takes the per-process end figures from each(src) now (the caller's data only); once. */
void fog_prof_session__mark_end(struct fog_prof_session *s, fog_prof_tasks_fn each, void *src);
__u64 fog_prof_session__samples(struct fog_prof_session *s);

struct fog_prof_output;
/*
 * Runs the session on a thread of its own for seconds: it snapshots the
 * sampled processes every poll_ms (reading their maps and ELF files), then
 * finishes (fog_prof_session__finish) and, with format, renders the profile
 * (fog_prof_render), all off the caller's event loop. Until
 * fog_prof_session__async_done says true, the caller touches nothing of the
 * session but fog_prof_session__samples, __stop_async and __free (which
 * stops and joins), and the cache it was made with is the thread's.
 */
int fog_prof_session__run_async(struct fog_prof_session *s, double seconds, unsigned int poll_ms,
				const char *format);
/* Asks the thread to end the capture now (it then builds); does not wait. */
void fog_prof_session__stop_async(struct fog_prof_session *s);
/* Whether the thread has finished (joined then); err gets the build's or render's result. */
bool fog_prof_session__async_done(struct fog_prof_session *s, int *err);
/* Moves the rendered output out (after async_done); -ENODATA without one. */
int fog_prof_session__take_output(struct fog_prof_session *s, struct fog_prof_output *out);

#endif /* FOG_PROF_SESSION_H */
