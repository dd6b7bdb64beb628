/* SPDX-License-Identifier: GPL-2.0-only */
/* The scheduler extender's routes and its Prometheus fetcher (extender_glue.c). */
#ifndef FOG_SCHED_EXTENDER_GLUE_H
#define FOG_SCHED_EXTENDER_GLUE_H

struct fog_http;
struct fog_sched_extender;

struct fog_sched_extender_opts {
	const char *prometheus_url;	/* base URL; "" : every node is "no data" */
	double timeout_s;		/* per query */
	double max_age_s;
	const char *node_label;		/* "instance": its ":port" is dropped */
};

/* Registers the two routes on h (every listener). NULL and errno on failure. */
struct fog_sched_extender *fog_sched_extender__new(struct fog_http *h,
						   const struct fog_sched_extender_opts *o);
void fog_sched_extender__free(struct fog_sched_extender *e);

#endif /* FOG_SCHED_EXTENDER_GLUE_H */
