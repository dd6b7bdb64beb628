/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fogd's own memory, on libfog's foundation: one arena for the tables the
 * collection path lives in, and a pool of response buffers for the exporter.
 * Before fog_heap_init (unit tests, library users) everything falls back to
 * the C allocator, so modules can call these unconditionally.
 */
#ifndef FOG_HEAP_H
#define FOG_HEAP_H

#include <stddef.h>

struct fog_prom;

#define FOG_HEAP_BUF_SIZE (256 * 1024)

/* Creates the arena and the buffer pool; returns 0 or a negative errno. */
int fog_heap_init(void);
void fog_heap_fini(void);

/* Zeroed memory from the arena (or calloc); NULL with errno set. */
void *fog_heap_calloc(size_t n, size_t size);
/* Gives back memory from fog_heap_calloc; accepts NULL. */
void fog_heap_free(void *p);

/* A buffer of at least len bytes: pooled when it fits, else malloc. */
void *fog_heap_buf_get(size_t len);
/* Gives back a buffer from fog_heap_buf_get; accepts NULL. */
void fog_heap_buf_put(void *p);

struct fog_loop;
/*
 * Watches memory pressure (PSI triggers, host and own-cgroup usage) from the
 * event loop; on a rise to stalls it gives back what fogd can spare: idle
 * pool buffers, free arena pages, malloc's free memory. 0 or a negative errno.
 */
int fog_heap_watch(struct fog_loop *loop);

/* fog_pool_* and fog_arena_* families (a fog_metrics_fn; ctx unused). */
void fog_heap_metrics(void *ctx, struct fog_prom *w);

#endif /* FOG_HEAP_H */
