/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Profiles captured when an alert fires ([monitor] profile_on): when an alert
 * reaches that level, a CPU profile of the host (and an off-CPU one for
 * run-queue and I/O latency alerts) is sampled for profile_seconds on a thread
 * of its own and kept in the continuous profiler's ring as
 * alert-ID-cpu-STAMP.pb.gz (and alert-ID-offcpu-...), under the ring's size and
 * age limits. At most one capture per alert, one at a time, and none started
 * within profile_min_interval_s of the last. The alert carries
 * profile_url = /api/v1/profiles/alert/ID from the change that started it
 * (API, hooks, webhooks, Alertmanager); an alert that gets no capture has none.
 *   GET /api/v1/profiles/alerts             the captures kept in memory and their state
 *   GET /api/v1/profiles/alert/ID           the CPU profile (gzipped pprof)
 *   GET /api/v1/profiles/alert/ID?mode=offcpu   the off-CPU one
 * Both on the Unix socket only, as the ring's other files.
 */
#ifndef FOG_PROF_ALERT_CAPTURE_H
#define FOG_PROF_ALERT_CAPTURE_H

struct fog_config;
struct fog_http;
struct fog_loop;
struct fog_watch;
struct fog_prof_continuous;
struct fog_alert_capture;

#define FOG_ALERT_PROFILE_PATH "/api/v1/profiles/alert/"

/* Hooks into the watch's alerts (borrowed, as cont); NULL and errno on failure. */
struct fog_alert_capture *fog_alert_capture__new(struct fog_http *h, struct fog_loop *loop,
						 struct fog_watch *w,
						 struct fog_prof_continuous *cont,
						 const struct fog_config *cfg);
/* Ends running captures (their profiles are not kept) and frees; accepts NULL. */
void fog_alert_capture__free(struct fog_alert_capture *c);
/* profile_on, profile_seconds and profile_min_interval_s from a reloaded configuration. */
void fog_alert_capture__reconfigure(struct fog_alert_capture *c, const struct fog_config *cfg);

#endif /* FOG_PROF_ALERT_CAPTURE_H */
