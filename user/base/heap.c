// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/epoll.h>
#include <time.h>

#include "base/clock.h"
#include "base/heap.h"
#include "base/log.h"
#include "base/loop.h"
#include "base/prom.h"
#include "fog/arena.h"
#include "fog/memopt.h"
#include "fog/pool.h"

static struct fog_arena *arena;
static struct fog_pool *bufs;
static struct fog_memopt *memopt;
static struct fog_loop *watch_loop;

int fog_heap_init(void)
{
	struct fog_arena_opts ao = {
		.reserve = 256u << 20,	/* address space only: committed as used */
		.commit_chunk = 256u << 10,
		/* each huge page would be resident at once: fogd counts its RSS */
		.flags = FOG_ARENA_NO_HUGEPAGE,
		.name = "fogd",
	};
	struct fog_pool_opts po = {
		.type = FOG_POOL_BUFFER,
		.min_size = 1,
		.max_size = 8,
		.max_idle_ms = 60000,
		.buffer_size = FOG_HEAP_BUF_SIZE,
	};
	int err;

	arena = fog_arena__new(&ao);
	if (!arena)
		return -errno;
	bufs = fog_pool__new("http-responses", &po);
	if (!bufs) {
		err = -errno;
		fog_arena__free(arena);
		arena = NULL;
		return err;
	}
	return 0;
}

void fog_heap_fini(void)
{
	if (memopt && watch_loop)
		fog_loop__del_fd(watch_loop, fog_memopt__fd(memopt));
	fog_memopt__free(memopt);
	memopt = NULL;
	fog_pool__free(bufs);
	fog_arena__free(arena);
	bufs = NULL;
	arena = NULL;
}

void *fog_heap_calloc(size_t n, size_t size)
{
	return arena ? fog_arena__calloc(arena, n, size) : calloc(n, size);
}

void fog_heap_free(void *p)
{
	if (!p)
		return;
	if (arena && fog_arena__owns(arena, p)) {
		if (fog_arena__dealloc(arena, p))
			fog_warnx("heap: bad free of %p refused", p);
		return;
	}
	free(p);
}

void *fog_heap_buf_get(size_t len)
{
	void *p;

	if (bufs && len <= FOG_HEAP_BUF_SIZE) {
		p = fog_pool__try_get(bufs);
		if (p)
			return p;
	}
	return malloc(len ? len : 1);
}

void fog_heap_buf_put(void *p)
{
	if (!p)
		return;
	/* not one of the pool's buffers: a malloc fallback */
	if (!bufs || fog_pool__res_state(bufs, p) < 0)
		free(p);
	else
		fog_pool__put(bufs, p);
}

/* Idle response buffers above the pool's minimum go back first. */
static uint64_t reclaim_buffers(void *ctx)
{
	struct fog_pool_stats before, after;

	if (!bufs || fog_pool__stats(bufs, &before))
		return 0;
	fog_pool__reap(bufs, fog_now_ns() + 3600ull * 1000000000ull); /* as if idle for an hour */
	if (fog_pool__stats(bufs, &after))
		return 0;
	return (uint64_t)(after.destroyed - before.destroyed) * FOG_HEAP_BUF_SIZE;
}

static void on_pressure(const struct fog_mem_pressure *p, void *ctx)
{
	if (p->level > p->prev)
		fog_warnx("memory pressure %s (%s): giving back what fogd can spare",
			  fog_mem_level_name(p->level), p->reason ? p->reason : "");
	else
		fog_info("memory pressure back to %s", fog_mem_level_name(p->level));
}

static void on_memopt_fd(int fd, uint32_t events, void *ctx)
{
	fog_memopt__dispatch(memopt);
}

int fog_heap_watch(struct fog_loop *loop)
{
	struct fog_memopt_opts o = {
		.interval_ms = 5000,	/* usage only; stalls come through PSI triggers */
		.flags = FOG_MEMOPT_AUTO_RECLAIM,
	};
	struct fog_memopt_source src[8];
	int n, err;

	memopt = fog_memopt__new(&o);
	if (!memopt)
		return -errno;
	n = fog_memopt__sources(memopt, src, 8);
	for (int i = 0; i < n && i < 8; i++)
		if (src[i].error[0])
			fog_info("memory pressure: %s: %s", src[i].name, src[i].error);
	if (arena)
		fog_memopt__add_arena(memopt, arena);
	fog_memopt__add_reclaim(memopt, reclaim_buffers, NULL);
	fog_memopt__on_pressure(memopt, on_pressure, NULL);
	err = fog_loop__add_fd(loop, "memory pressure", fog_memopt__fd(memopt), EPOLLIN, on_memopt_fd, NULL);
	if (err) {
		fog_memopt__free(memopt);
		memopt = NULL;
		return err;
	}
	watch_loop = loop;
	return 0;
}

void fog_heap_metrics(void *ctx, struct fog_prom *w)
{
	struct fog_pool_stats ps;
	struct fog_arena_stats as;
	const char *const *l;

	if (bufs && !fog_pool__stats(bufs, &ps)) {
		l = (const char *[]){ "pool", ps.name, NULL };
		fog_prom__family(w, "fog_pool_acquisitions", FOG_PROM_COUNTER,
				 "successful gets from a pool fogd runs on");
		fog_prom__sample(w, l, (double)ps.acquisitions);
		fog_prom__family(w, "fog_pool_reuses", FOG_PROM_COUNTER,
				 "gets served by an existing resource");
		fog_prom__sample(w, l, (double)ps.reuses);
		fog_prom__family(w, "fog_pool_created", FOG_PROM_COUNTER, "resources created");
		fog_prom__sample(w, l, (double)ps.created);
		fog_prom__family(w, "fog_pool_in_use", FOG_PROM_GAUGE, "resources held now");
		fog_prom__sample(w, l, ps.in_use);
		fog_prom__family(w, "fog_pool_idle", FOG_PROM_GAUGE, "resources idle now");
		fog_prom__sample(w, l, ps.idle);
		fog_prom__family(w, "fog_pool_busy", FOG_PROM_COUNTER,
				 "try-gets that found the pool exhausted (served by malloc)");
		fog_prom__sample(w, l, (double)ps.busy);
	}
	if (arena) {
		fog_arena__stats(arena, &as);
		l = (const char *[]){ "arena", "fogd", NULL };
		fog_prom__family(w, "fog_arena_committed_bytes", FOG_PROM_GAUGE,
				 "arena memory made readable and writable");
		fog_prom__sample(w, l, (double)as.committed);
		fog_prom__family(w, "fog_arena_in_use_bytes", FOG_PROM_GAUGE,
				 "arena memory in live allocations");
		fog_prom__sample(w, l, (double)as.in_use);
		fog_prom__family(w, "fog_arena_allocations", FOG_PROM_COUNTER,
				 "successful arena allocations");
		fog_prom__sample(w, l, (double)as.allocs);
	}
	if (memopt) {
		struct fog_mem_pressure mp;

		fog_memopt__last(memopt, &mp);
		fog_prom__family(w, "fog_memory_pressure_level", FOG_PROM_GAUGE,
				 "fogd's view of memory pressure: 0 ok, 1 usage alert, 2 some, 3 full");
		fog_prom__sample(w, NULL, mp.level);
	}
}
