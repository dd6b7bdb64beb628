/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The alert state machine of one resource: levels INFO < WARNING < ERROR <
 * CRITICAL from warning and critical thresholds, a `for` duration a higher
 * level must hold before it fires, and hysteresis below a fired level's
 * threshold so a value hovering at it does not flap.
 */
#ifndef FOG_MONITOR_THRESHOLD_H
#define FOG_MONITOR_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>
#include "fog/monitor.h"

struct fog_threshold_state {
	bool configured;
	struct fog_threshold cfg;
	double approach_ratio;		      /* WARNING starts at approach_ratio * warning */
	enum fog_alert_level level;	      /* fired level */
	double since;			      /* when level was entered, NAN if never */
	double started_at;		      /* when the current episode left INFO, NAN in INFO */
	double above_since[FOG_ALERT_LEVELS]; /* per level: since when it holds, NAN if not */
	double value;			      /* last sample, NAN before the first */
	double updated_at;		      /* its time */
	unsigned long id;		      /* the episode's id (monitor.c), 0 in INFO */
	char profile_url[96];		      /* the episode's profile link, "" none */
};

/*
 * Checks thresholds for resource r; -EINVAL with err saying what is wrong
 * (critical below warning, NaN, a fraction threshold above 1, ...).
 */
int fog_threshold_check(enum fog_monitor_resource r, const struct fog_threshold *t,
			double approach_ratio, char *err, size_t errlen);

/* Sets a state to INFO with no history under thresholds t (already checked). */
void fog_threshold_init(struct fog_threshold_state *s, const struct fog_threshold *t,
			double approach_ratio);

/* The value at which level l starts; NAN for INFO. */
double fog_threshold_of(const struct fog_threshold_state *s, enum fog_alert_level l);

/*
 * Feeds the value v seen at now (not before the previous one). Returns true
 * and fills ev when the fired level changed.
 */
bool fog_threshold_step(struct fog_threshold_state *s, enum fog_monitor_resource r, double now,
			double v, struct fog_alert *ev);

/*
 * Ends an active alert at now (the threshold was removed). Returns true and
 * fills ev when there was one to resolve.
 */
bool fog_threshold_resolve(struct fog_threshold_state *s, enum fog_monitor_resource r, double now,
			   struct fog_alert *ev);

void fog_threshold_status(const struct fog_threshold_state *s, enum fog_monitor_resource r,
			  struct fog_alert_status *out);

#endif /* FOG_MONITOR_THRESHOLD_H */
