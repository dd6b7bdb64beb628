/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Zero-copy views: a slice is a pointer and a length over memory someone
 * else owns (an arena block, a ring-buffer record, a buffer). Slices are
 * passed by value instead of copying the bytes; every narrowing is bounds
 * checked, so a view can never reach outside the memory it was made from.
 * A slice does not own its memory: it is valid while that memory is.
 */
#ifndef FOG_VIEW_H
#define FOG_VIEW_H

#include <stdbool.h>
#include <stddef.h>

struct fog_arena;

struct fog_slice {
	void *ptr;
	size_t len;
};

static inline struct fog_slice fog_slice_make(void *ptr, size_t len)
{
	struct fog_slice s = {ptr, ptr ? len : 0};

	return s;
}

/*
 * The len bytes at off inside s. Returns 0, or -ERANGE (out untouched) when
 * they do not lie inside s, -EINVAL for a NULL out.
 */
int fog_slice_sub(struct fog_slice s, size_t off, size_t len, struct fog_slice *out);
/* s cut at offset at into [0, at) and [at, len); -ERANGE when at > len. */
int fog_slice_split(struct fog_slice s, size_t at, struct fog_slice *head, struct fog_slice *tail);
/* Drops n bytes from the front of *s; -ERANGE (and *s unchanged) when n > len. */
int fog_slice_advance(struct fog_slice *s, size_t n);
/* A pointer to n bytes at off, or NULL with errno ERANGE: for reading a record's fields. */
void *fog_slice_at(struct fog_slice s, size_t off, size_t n);
/* Copies n bytes at off out to dst; -ERANGE when they are not all inside s. */
int fog_slice_read(struct fog_slice s, size_t off, void *dst, size_t n);
/* Same length and bytes. */
bool fog_slice_eq(struct fog_slice a, struct fog_slice b);
/* Offset of the first byte equal to c in *at; -ENOENT when there is none. */
int fog_slice_find(struct fog_slice s, int c, size_t *at);

/* A slice over a new arena block of len bytes; ptr NULL and errno set on failure. */
struct fog_slice fog_arena__slice(struct fog_arena *a, size_t len);
/* A copy of s in new arena memory, for a view that must outlive its source. */
struct fog_slice fog_arena__slice_dup(struct fog_arena *a, struct fog_slice s);
/*
 * Checks that s lies inside one live allocation of a. Returns 0, -EFAULT
 * when s.ptr is not inside a live allocation of a, -ERANGE when s runs
 * past the end of the allocation it starts in.
 */
int fog_arena__slice_check(struct fog_arena *a, struct fog_slice s);

#endif /* FOG_VIEW_H */
