// SPDX-License-Identifier: GPL-2.0-only
/* Bounds-checked slices over memory owned elsewhere, and slices of arena blocks. */
#include <errno.h>
#include <string.h>

#include "fog/view.h"
#include "mem/arena_int.h"

/* Do [off, off + n) lie inside [0, len)? Written so that no sum can overflow. */
static bool in_bounds(size_t len, size_t off, size_t n)
{
	return off <= len && n <= len - off;
}

int fog_slice_sub(struct fog_slice s, size_t off, size_t len, struct fog_slice *out)
{
	if (!out)
		return -EINVAL;
	if (!in_bounds(s.len, off, len))
		return -ERANGE;
	out->ptr = len ? (char *)s.ptr + off : s.ptr;
	out->len = len;
	return 0;
}

int fog_slice_split(struct fog_slice s, size_t at, struct fog_slice *head, struct fog_slice *tail)
{
	if (!head || !tail)
		return -EINVAL;
	if (at > s.len)
		return -ERANGE;
	head->ptr = s.ptr;
	head->len = at;
	tail->ptr = s.ptr ? (char *)s.ptr + at : NULL;
	tail->len = s.len - at;
	return 0;
}

int fog_slice_advance(struct fog_slice *s, size_t n)
{
	if (!s)
		return -EINVAL;
	if (n > s->len)
		return -ERANGE;
	if (n) {
		s->ptr = (char *)s->ptr + n;
		s->len -= n;
	}
	return 0;
}

void *fog_slice_at(struct fog_slice s, size_t off, size_t n)
{
	if (!s.ptr || !in_bounds(s.len, off, n)) {
		errno = ERANGE;
		return NULL;
	}
	return (char *)s.ptr + off;
}

int fog_slice_read(struct fog_slice s, size_t off, void *dst, size_t n)
{
	if (!n)
		return in_bounds(s.len, off, 0) ? 0 : -ERANGE;
	if (!dst)
		return -EINVAL;
	if (!s.ptr || !in_bounds(s.len, off, n))
		return -ERANGE;
	memcpy(dst, (char *)s.ptr + off, n);
	return 0;
}

bool fog_slice_eq(struct fog_slice a, struct fog_slice b)
{
	return a.len == b.len && (!a.len || !memcmp(a.ptr, b.ptr, a.len));
}

int fog_slice_find(struct fog_slice s, int c, size_t *at)
{
	const char *hit = s.len ? memchr(s.ptr, c, s.len) : NULL;

	if (!hit)
		return -ENOENT;
	if (at)
		*at = (size_t)(hit - (const char *)s.ptr);
	return 0;
}

struct fog_slice fog_arena__slice(struct fog_arena *a, size_t len)
{
	struct fog_slice s = {fog_arena__alloc(a, len), 0};

	if (s.ptr)
		s.len = len;
	return s;
}

struct fog_slice fog_arena__slice_dup(struct fog_arena *a, struct fog_slice src)
{
	struct fog_slice s;

	if (!src.ptr || !src.len) {
		errno = EINVAL;
		return (struct fog_slice){NULL, 0};
	}
	s = fog_arena__slice(a, src.len);
	if (s.ptr)
		memcpy(s.ptr, src.ptr, src.len);
	return s;
}

int fog_arena__slice_check(struct fog_arena *a, struct fog_slice s)
{
	uintptr_t off = (uintptr_t)s.ptr - (uintptr_t)a->base, start, end;
	uint32_t pg;
	int err = 0;

	if (!s.ptr || off >= a->size)
		return -EFAULT;
	pg = (uint32_t)(off >> ARENA_PAGE_SHIFT);
	/* the block holding s.ptr, from its run's layout */
	pthread_mutex_lock(&a->heap_lock);
	if (pg >= a->top) {
		err = -EFAULT;
	} else if (a->pages[pg].kind == PG_SMALL) {
		uint32_t head = a->pages[pg].head, size = fog_arena_csize[a->pages[pg].cls];
		uintptr_t run = (uintptr_t)head << ARENA_PAGE_SHIFT;
		uintptr_t b = (off - run) / size;

		start = run + b * size;
		end = start + size;
		if (b >= a->pages[head].nblocks ||
		    RELAXED_LOAD(&a->state[start >> ARENA_GRAIN_SHIFT]) != a->pages[pg].cls + 1u)
			err = -EFAULT;
	} else if (a->pages[pg].kind == PG_LARGE) {
		uint32_t head = a->pages[pg].head;

		start = (uintptr_t)head << ARENA_PAGE_SHIFT;
		end = start + ((uintptr_t)a->pages[head].npages << ARENA_PAGE_SHIFT);
		if (RELAXED_LOAD(&a->state[start >> ARENA_GRAIN_SHIFT]) != ST_LARGE)
			err = -EFAULT;
	} else {
		err = -EFAULT;
	}
	pthread_mutex_unlock(&a->heap_lock);
	if (err)
		return err;
	return s.len <= end - off ? 0 : -ERANGE;
}
