/* SPDX-License-Identifier: GPL-2.0-only */
/* The read-only JSON API (/api/v1/...): the Unix socket, and TCP with [http] tcp_api = on. */
#ifndef FOG_API_H
#define FOG_API_H

struct fog_http;
struct fog_collect;
struct fog_loop;

#define FOG_VERSION "0.1.0"

/* Registers the API's routes on h; the collect pipeline is borrowed. */
int fog_api_register(struct fog_http *h, struct fog_collect *collect, struct fog_loop *loop);

#endif /* FOG_API_H */
