// SPDX-License-Identifier: GPL-2.0-only
/*
 * The uprobe memory mode's tables: sampled allocations and frees from the ring
 * buffer into the sampler's stack and live tables, growth points, counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/clock.h"
#include "base/safe_open.h"
#include "fog/abi/memprobe.h"
#include "memprobe.skel.h"
#include "profile/alloc.h"
#include "profile/elfsym.h"
#include "profile/symbolize.h"
#include "profile/unwinder.h"
#include "profile/uprobe.h"
#include "profile/uprobe_int.h"

/* ---- the tables ---- */

static unsigned int live_hash(__u64 ptr)
{
	return (unsigned int)(((ptr >> 4) * 0x9e3779b97f4a7c15ULL) >> 48) & (FOG_ALLOC_LIVE - 1);
}

static struct fog_alloc_live *live_find(struct fog_memprobe *m, __u64 ptr)
{
	for (unsigned int i = live_hash(ptr), n = 0; n < FOG_ALLOC_LIVE;
	     i = (i + 1) & (FOG_ALLOC_LIVE - 1), n++) {
		struct fog_alloc_live *l = &m->snap.live[i];

		if (!l->ptr)
			return NULL;
		if (l->ptr == ptr)
			return l;
	}
	return NULL;
}

static void live_insert(struct fog_memprobe *m, const struct fog_alloc_live *v);

/* Rebuilds the table without its deleted slots. */
static void live_rehash(struct fog_memprobe *m)
{
	size_t bytes = FOG_ALLOC_LIVE * sizeof(struct fog_alloc_live);
	struct fog_alloc_live *old = malloc(bytes);

	if (!old)
		return;
	memcpy(old, m->snap.live, bytes);
	memset(m->snap.live, 0, bytes);
	m->live_used = m->live_dead = 0;
	for (size_t i = 0; i < FOG_ALLOC_LIVE; i++)
		if (old[i].ptr > 1)
			live_insert(m, &old[i]);
	free(old);
}

static void live_insert(struct fog_memprobe *m, const struct fog_alloc_live *v)
{
	unsigned int i = live_hash(v->ptr);

	while (m->snap.live[i].ptr > 1)
		i = (i + 1) & (FOG_ALLOC_LIVE - 1);
	if (m->snap.live[i].ptr == 1)
		m->live_dead--;
	m->snap.live[i] = *v;
	m->live_used++;
}

/* The slot of a stack id in the stack table, reading its frames the first time. */
static __u32 stack_slot(struct fog_memprobe *m, const struct fog_memprobe_event *e)
{
	__u64 ips[FOG_MEMPROBE_DEPTH];
	struct fog_alloc_stack *st;
	__s32 id = e->stack_id;
	__u32 slot, n = 0;

	if (id == FOG_UNW_STACK_ID && m->unw_slot) {
		if (m->snap.hdr.nstacks >= FOG_ALLOC_STACKS)
			return 0;
		slot = m->snap.hdr.nstacks++;
		m->snap.stacks[slot].depth = 0;
		m->unw_slot[slot] = (struct unw_key){ e->tid, e->ts_ns };
		return slot;
	}

	if (id < 0 || id >= FOG_MEMPROBE_STACKS)
		return 0;	/* slot 0: the stack was lost */
	if (m->slot_of[id])
		return m->slot_of[id];
	if (m->snap.hdr.nstacks >= FOG_ALLOC_STACKS)
		return 0;
	memset(ips, 0, sizeof(ips));
	if (bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.memprobe_stacks), &id, ips))
		return 0;
	slot = m->snap.hdr.nstacks++;
	st = &m->snap.stacks[slot];
	while (n < FOG_MEMPROBE_DEPTH && ips[n]) {
		st->ips[n] = ips[n];
		n++;
	}
	st->depth = n;
	st->hash = (__u64)id + 1;
	m->slot_of[id] = slot;
	return slot;
}

static __u64 objects_of(__u64 size, __u64 weight)
{
	return size ? (__u64)llround((double)weight / (double)size) : 1;
}

static void on_alloc(struct fog_memprobe *m, const struct fog_memprobe_event *e)
{
	struct fog_alloc_header *h = &m->snap.hdr;
	__u64 w = (__u64)llround(fog_alloc_weight((double)e->size, (double)m->mean));
	__u64 objs = objects_of(e->size, w);
	__u32 slot = stack_slot(m, e);
	struct fog_alloc_stack *st = &m->snap.stacks[slot];
	bool tracked = !(e->flags & FOG_MEMPROBE_UNTRACKED) && m->live_used < LIVE_MAX;

	if (!slot)
		h->lost_stacks++;
	h->samples++;
	h->alloc_bytes += w;
	st->samples++;
	st->alloc_bytes += w;
	st->alloc_objects += objs;
	if (e->size >= FOG_ALLOC_BIG) {
		st->big++;
		h->big++;
	}
	if (tracked && live_find(m, e->addr)) {
		/* its free was missed (ring buffer full): the address is in use again */
		tracked = false;
	}
	if (!tracked) {
		/* allocated, but its free cannot be seen: not counted as live */
		st->free_bytes += w;
		st->free_objects += objs;
		h->lost_live++;
		return;
	}
	live_insert(m, &(struct fog_alloc_live){ .ptr = e->addr, .size = e->size, .weight = w,
						 .mono_ns = e->ts_ns, .stack = slot });
	h->live_bytes += w;
}

static void on_free(struct fog_memprobe *m, const struct fog_memprobe_event *e)
{
	struct fog_alloc_live *l = live_find(m, e->addr);
	struct fog_alloc_stack *st;

	if (!l) {
		m->unmatched_frees++;
		return;
	}
	st = &m->snap.stacks[l->stack];
	st->free_bytes += l->weight;
	st->free_objects += objects_of(l->size, l->weight);
	m->snap.hdr.frees++;
	m->snap.hdr.live_bytes -= l->weight < m->snap.hdr.live_bytes ? l->weight :
								       m->snap.hdr.live_bytes;
	l->ptr = 1;
	m->live_used--;
	if (++m->live_dead > FOG_ALLOC_LIVE / 4)
		live_rehash(m);
}

int fog_memprobe_on_event(void *ctx, void *data, size_t len)
{
	struct fog_memprobe *m = ctx;
	struct fog_memprobe_event e;

	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	m->events++;
	if (e.kind == FOG_MEMPROBE_FREE || e.kind == FOG_MEMPROBE_MUNMAP)
		on_free(m, &e);
	else if (e.kind < FOG_MEMPROBE_KINDS)
		on_alloc(m, &e);
	return 0;
}

/* One point of the live-bytes series; when full, every other point goes and the step doubles. */
void fog_memprobe_growth_point(struct fog_memprobe *m, __u64 now, bool force)
{
	struct fog_alloc_header *h = &m->snap.hdr;

	if (!force && now - m->growth_last_ns < h->growth_step_ns)
		return;
	if (h->ngrowth == FOG_ALLOC_GROWTH) {
		for (__u32 i = 0; i < FOG_ALLOC_GROWTH / 2; i++)
			h->growth[i] = h->growth[2 * i + 1];
		h->ngrowth = FOG_ALLOC_GROWTH / 2;
		h->growth_step_ns *= 2;
	}
	h->growth[h->ngrowth++] = (struct fog_alloc_point){ now, h->live_bytes };
	m->growth_last_ns = now;
}

void fog_memprobe_read_stats(struct fog_memprobe *m, struct fog_memprobe_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fog_memprobe_stats *v;
	__u32 zero = 0;

	if (!m->skel) {
		*out = m->final;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.memprobe_stats), &zero, v)) {
		for (int c = 0; c < ncpu; c++) {
			const __u64 *a = (const __u64 *)&v[c];
			__u64 *o = (__u64 *)out;

			for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
				o[i] += a[i];
		}
	}
	free(v);
}

static __u64 hash_ips(const __u64 *ips, __u32 n)
{
	__u64 h = 1469598103934665603ull;

	for (__u32 i = 0; i < n; i++)
		h = (h ^ ips[i]) * 1099511628211ull;
	return h | 1ull << 63;	/* apart from the stack-id hashes (id + 1) */
}

/*
 * The unwound slots get their frames (the unwinder is flushed first: the
 * probes are gone); a slot whose frames another slot has already is merged
 * into it, its live allocations moved with it.
 */
void fog_memprobe_resolve_unwound(struct fog_memprobe *m)
{
	__u32 n = m->snap.hdr.nstacks, *to;

	if (!m->unw)
		return;
	fog_unwinder__flush(m->unw);
	to = calloc(FOG_ALLOC_STACKS, sizeof(*to));
	for (__u32 i = 1; i < n; i++) {
		struct fog_alloc_stack *st = &m->snap.stacks[i];
		const struct fog_unw_stack *u;

		if (!m->unw_slot[i].seq)
			continue;
		u = fog_unwinder__find(m->unw, m->unw_slot[i].tid, m->unw_slot[i].seq);
		if (!u)
			continue;	/* its copy was lost: no frames */
		st->depth = u->nips < FOG_ALLOC_DEPTH ? u->nips : FOG_ALLOC_DEPTH;
		memcpy(st->ips, u->ips, st->depth * sizeof(st->ips[0]));
		st->hash = hash_ips(st->ips, st->depth);
		for (__u32 k = 1; to && k < i; k++) {
			struct fog_alloc_stack *o = &m->snap.stacks[k];

			if (!m->unw_slot[k].seq || to[k] || o->hash != st->hash ||
			    o->depth != st->depth || memcmp(o->ips, st->ips, st->depth * 8))
				continue;
			o->samples += st->samples;
			o->alloc_bytes += st->alloc_bytes;
			o->alloc_objects += st->alloc_objects;
			o->free_bytes += st->free_bytes;
			o->free_objects += st->free_objects;
			o->big += st->big;
			memset(st, 0, sizeof(*st));
			to[i] = k;
			break;
		}
	}
	if (to) {
		for (size_t i = 0; i < FOG_ALLOC_LIVE; i++)
			if (m->snap.live[i].ptr > 1 && to[m->snap.live[i].stack])
				m->snap.live[i].stack = to[m->snap.live[i].stack];
		free(to);
	}
}
