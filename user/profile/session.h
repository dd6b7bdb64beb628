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
/* Takes the per-process figures from agg (borrowed; NULL: none) at start or end. */
void fog_prof_session__procs(struct fog_prof_session *s, struct fog_agg *agg, bool end);
__u64 fog_prof_session__samples(struct fog_prof_session *s);

#endif /* FOG_PROF_SESSION_H */
