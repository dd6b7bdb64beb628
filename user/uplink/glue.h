/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The uplink in fogd: [uplink] settings to fog_uplink_opts, each tick's
 * exposition (what /metrics would serve) handed to the uplink, its figures in
 * /metrics and its state on GET /api/v1/uplink (fogctl status shows it).
 */
#ifndef FOG_UPLINK_GLUE_H
#define FOG_UPLINK_GLUE_H

struct fog_config;
struct fog_collect;
struct fog_http;
struct fog_uplink_glue;

/*
 * Starts the uplink of cfg ([uplink] url is not off), after fogd dropped its
 * privileges (the thread inherits what fogd holds then). NULL with errno.
 */
struct fog_uplink_glue *fog_uplink_glue__new(const struct fog_config *cfg,
					     struct fog_collect *collect, struct fog_http *http);
void fog_uplink_glue__free(struct fog_uplink_glue *g);
/* Hands this tick's series over; called from the tick on the loop. */
void fog_uplink_glue__tick(struct fog_uplink_glue *g);

#endif /* FOG_UPLINK_GLUE_H */
