/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Continuous profiling in fogd ([profile] continuous = on): the host is
 * sampled all the time at a low rate (19 Hz per CPU by default) and every
 * snapshot_s seconds the window's samples become a gzipped pprof file in a
 * bounded on-disk ring (max_bytes, max_age_s; the oldest go first):
 *   GET /api/v1/profiles/continuous          settings, state and the snapshots
 *   GET /api/v1/profiles/continuous/NAME     one snapshot (NAME or "latest"), as written
 * A write that fails (full disk, unwritable folder) is logged and counted
 * (fog_profile_continuous_errors_total) and sampling goes on; files already in
 * the ring are only ever removed by its limits.
 *
 * The sampler is its own BPF object and perf events, apart from on-demand
 * profiles: both count their own samples and never see each other's.
 */
#ifndef FOG_PROF_CONTINUOUS_H
#define FOG_PROF_CONTINUOUS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include <jansson.h>

struct fog_config;
struct fog_http;
struct fog_loop;
struct fog_prof_continuous;

/* Registers the routes, the metrics and a timer; starts sampling if cfg asks. */
struct fog_prof_continuous *fog_prof_continuous__new(struct fog_http *h, struct fog_loop *loop,
						     const struct fog_config *cfg);
/* Writes the window sampled so far (unless it has no sample yet) and stops. */
void fog_prof_continuous__free(struct fog_prof_continuous *c);
/* Applies a reloaded configuration (cfg is borrowed only during the call). */
void fog_prof_continuous__reconfigure(struct fog_prof_continuous *c, const struct fog_config *cfg);

/*
 * Keeps a profile (a gzipped pprof of n bytes taken at t) in the ring under
 * limits as the snapshots, named prefix + stamp (see fog_prof_ring__write_as);
 * name gets the file's name. Blocks on the disk: never from the event loop.
 * 0 or a negative errno, err saying why.
 */
int fog_prof_continuous__keep(struct fog_prof_continuous *c, const char *prefix, time_t t,
			      const void *buf, size_t n, char *name, size_t nlen, char *err,
			      size_t elen);
/* Reads a file of the ring (malloc'd into *buf); -ENOENT unknown, -ENODATA no ring. */
int fog_prof_continuous__read(struct fog_prof_continuous *c, const char *name, void **buf,
			      size_t *n);
/* The same for the newest file whose name starts with prefix. */
int fog_prof_continuous__read_newest(struct fog_prof_continuous *c, const char *prefix, void **buf,
				     size_t *n);

#endif /* FOG_PROF_CONTINUOUS_H */
