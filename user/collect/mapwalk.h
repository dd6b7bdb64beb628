/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a whole BPF hash map each tick: in batches (BPF_MAP_LOOKUP_BATCH),
 * one syscall per batch instead of a get_next_key and a lookup per entry. On
 * a host with thousands of processes that was most of fogd's own CPU time.
 */
#ifndef FOG_MAPWALK_H
#define FOG_MAPWALK_H

#include <stdbool.h>
#include <stddef.h>

/* entries per batch: 64 keeps a per-CPU batch of process figures near 50 KiB */
#define FOG_MAP_WALK_BATCH 64

struct fog_map_walk;

/*
 * Called for each entry; value holds the per-CPU values one after another
 * (each rounded up to 8 bytes) for a per-CPU map. fn may delete the entry it
 * is given.
 */
typedef void (*fog_map_walk_fn)(const void *key, const void *value, void *ctx);

/*
 * Buffers for batches of up to batch entries of a map whose keys are
 * key_size bytes and whose values are value_size bytes (per CPU, for ncpu
 * CPUs, when percpu). Allocated once: a walk allocates nothing.
 */
struct fog_map_walk *fog_map_walk__new(size_t key_size, size_t value_size, int ncpu, bool percpu,
				       unsigned int batch);
void fog_map_walk__free(struct fog_map_walk *w);

/*
 * Calls fn for every entry of the hash map fd; returns the number of entries
 * seen or a negative errno. Kernels without batch operations are read key by
 * key. If a hash bucket holds more entries than a batch, the walk goes on key
 * by key from the last key read, so fn must store figures rather than add
 * them: an entry deleted meanwhile can make that restart see some twice.
 */
int fog_map_walk(struct fog_map_walk *w, int fd, fog_map_walk_fn fn, void *ctx);

#endif /* FOG_MAPWALK_H */
