// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "collect/mapwalk.h"

struct fog_map_walk {
	size_t key_size;
	size_t value_size;	/* one entry's value, all CPUs */
	unsigned int batch;
	bool no_batch;	/* the kernel refused batch lookups: key by key */
	void *keys;	/* batch keys */
	void *values;	/* batch values */
	void *token;	/* the kernel's position between batches */
	void *last;	/* the last key handed to fn */
	void *next;
};

struct fog_map_walk *fog_map_walk__new(size_t key_size, size_t value_size, int ncpu, bool percpu,
				       unsigned int batch)
{
	struct fog_map_walk *w;

	if (!key_size || !value_size || !batch || ncpu < 1) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->key_size = key_size;
	w->value_size = percpu ? ((value_size + 7) & ~(size_t)7) * (size_t)ncpu : value_size;
	w->batch = batch;
	w->keys = calloc(batch, key_size);
	w->values = calloc(batch, w->value_size);
	/* a hash map's token is a 4-byte bucket index; other maps' tokens are keys */
	w->token = calloc(1, key_size > 8 ? key_size : 8);
	w->last = calloc(1, key_size);
	w->next = calloc(1, key_size);
	if (!w->keys || !w->values || !w->token || !w->last || !w->next) {
		fog_map_walk__free(w);
		errno = ENOMEM;
		return NULL;
	}
	return w;
}

void fog_map_walk__free(struct fog_map_walk *w)
{
	if (!w)
		return;
	free(w->keys);
	free(w->values);
	free(w->token);
	free(w->last);
	free(w->next);
	free(w);
}

/*
 * Key by key from after w->last (from the start when have_last is false).
 * The next key is read before fn runs, so fn may delete the one it is given.
 */
static int walk_keys(struct fog_map_walk *w, int fd, bool have_last, fog_map_walk_fn fn,
		     void *ctx)
{
	bool more = !bpf_map_get_next_key(fd, have_last ? w->last : NULL, w->next);
	int seen = 0;

	while (more) {
		memcpy(w->last, w->next, w->key_size);
		more = !bpf_map_get_next_key(fd, w->last, w->next);
		if (bpf_map_lookup_elem(fd, w->last, w->values))
			continue; /* deleted meanwhile */
		fn(w->last, w->values, ctx);
		seen++;
	}
	return seen;
}

int fog_map_walk(struct fog_map_walk *w, int fd, fog_map_walk_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true, have_last = false;
	int seen = 0;

	if (w->no_batch)
		return walk_keys(w, fd, false, fn, ctx);
	for (;;) {
		__u32 count = w->batch;
		int err = bpf_map_lookup_batch(fd, first ? NULL : w->token, w->token, w->keys,
					       w->values, &count, &opts);

		if (err && err != -ENOENT) {
			/* 524: the kernel's ENOTSUPP, for map types without batch operations */
			if (first && (err == -EINVAL || err == -EOPNOTSUPP || err == -524)) {
				w->no_batch = true;
				return walk_keys(w, fd, false, fn, ctx);
			}
			if (err == -ENOSPC)	/* a bucket larger than a batch */
				return seen + walk_keys(w, fd, have_last, fn, ctx);
			return seen ? seen : err;
		}
		first = false;
		for (__u32 i = 0; i < count; i++) {
			const char *key = (const char *)w->keys + (size_t)i * w->key_size;

			fn(key, (const char *)w->values + (size_t)i * w->value_size, ctx);
			memcpy(w->last, key, w->key_size);
			have_last = true;
		}
		seen += (int)count;
		if (err == -ENOENT)	/* that was the last batch */
			return seen;
	}
}
