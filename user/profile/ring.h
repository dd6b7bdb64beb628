/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The continuous profiler's on-disk ring of snapshots: a folder of gzipped
 * pprof files within a byte budget and an age limit, the oldest removed first.
 * Files only, no BPF: continuous.c writes it, the API reads it.
 */
#ifndef FOG_PROF_RING_H
#define FOG_PROF_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include <jansson.h>

struct fog_prof_ring;

/*
 * Snapshot files are named cpu-YYYYMMDDTHHMMSSZ.pb.gz after the window's start
 * (UTC); the profiles captured when an alert fires alert-ID-cpu-STAMP.pb.gz and
 * alert-ID-offcpu-STAMP.pb.gz (ID the alert's, STAMP the capture's start).
 */
#define FOG_PROF_RING_PREFIX "cpu-"
#define FOG_PROF_RING_ALERT_PREFIX "alert-"
#define FOG_PROF_RING_SUFFIX ".pb.gz"

/*
 * Creates dir (and its parents; the folder itself with mode 0700) when missing
 * and lists the snapshots in it. Other files are never touched; temporary files
 * of an interrupted write are removed. NULL and errno on failure (err says why).
 */
struct fog_prof_ring *fog_prof_ring__new(const char *dir, __u64 max_bytes, double max_age_s,
					 char *err, size_t len);
void fog_prof_ring__free(struct fog_prof_ring *r);
/*
 * Writes one snapshot taken at t (unix seconds) atomically (a temporary file,
 * fdatasync, rename), then removes the oldest snapshots while the ring is over
 * max_bytes or they are older than max_age_s at now. A snapshot larger than
 * max_bytes by itself is not kept (-EFBIG). 0 or a negative errno; err says why.
 */
int fog_prof_ring__write(struct fog_prof_ring *r, time_t t, const void *buf, size_t n, time_t now,
			 char *err, size_t len);
/*
 * The same, named prefix + stamp (prefix "cpu-" or "alert-ID-cpu-" or
 * "alert-ID-offcpu-": -EINVAL for a name the ring would not read back).
 */
int fog_prof_ring__write_as(struct fog_prof_ring *r, const char *prefix, time_t t, const void *buf,
			    size_t n, time_t now, char *err, size_t len);
/* Removes the oldest snapshots while older than max_age_s at now or over max_bytes. */
size_t fog_prof_ring__expire(struct fog_prof_ring *r, time_t now);
/* Snapshots held, their total size, and files removed by the limits so far. */
size_t fog_prof_ring__count(const struct fog_prof_ring *r);
__u64 fog_prof_ring__bytes(const struct fog_prof_ring *r);
__u64 fog_prof_ring__removed(const struct fog_prof_ring *r);
/* The snapshots, newest first: [{"name", "time", "unix", "bytes"}]. */
json_t *fog_prof_ring__json(const struct fog_prof_ring *r);
/* Reads a snapshot ("latest": the newest cpu- one) into a malloc'd buffer; -ENOENT if unknown. */
int fog_prof_ring__read(const struct fog_prof_ring *r, const char *name, void **buf, size_t *n);
/* The name of the newest file whose name starts with prefix; -ENOENT if none. */
int fog_prof_ring__find_newest(const struct fog_prof_ring *r, const char *prefix, char *name,
			       size_t len);
/* The newest profile of alert id (its off-CPU one with offcpu); -ENOENT if none. */
int fog_prof_ring__find_alert(const struct fog_prof_ring *r, unsigned long id, bool offcpu,
			      char *name, size_t len);
/* Parses a snapshot file name; returns its time or -1 when the name is not one of ours. */
time_t fog_prof_ring_name_time(const char *name);

#endif /* FOG_PROF_RING_H */
