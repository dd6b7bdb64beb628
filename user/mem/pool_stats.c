// SPDX-License-Identifier: GPL-2.0-only
/* Resource pools: statistics, leak detection and reports, and the library's messages. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "mem/pool_int.h"

#define MSG_WINDOW_NS	(60ull * 1000000000ull)
#define MSG_PER_WINDOW	10	/* messages a pool may print per minute */
#define REPORT_MAX	64	/* leaks listed by one leak report; the rest are counted */

static void default_print(void *ctx, int err, const char *msg)
{
	fog_warnx("%s", msg);
}

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static fog_pool_print_fn print_fn = default_print;
static void *print_ctx;

void fog_pool_set_print(fog_pool_print_fn fn, void *ctx)
{
	pthread_mutex_lock(&print_lock);
	print_fn = fn;
	print_ctx = ctx;
	pthread_mutex_unlock(&print_lock);
}

static void print(int err, const char *msg)
{
	fog_pool_print_fn fn;
	void *ctx;

	pthread_mutex_lock(&print_lock);
	fn = print_fn;
	ctx = print_ctx;
	pthread_mutex_unlock(&print_lock);
	if (fn)
		fn(ctx, err, msg);
}

void fog_pool_msg(struct fog_pool *pool, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	/* a bug repeated in a loop must not flood the log: the counters still count */
	if (pool) {
		__u64 now = fog_pool_now_ns();

		if (now - pool->msg_window >= MSG_WINDOW_NS) {
			pool->msg_window = now;
			pool->msg_count = 0;
		}
		if (pool->msg_count > MSG_PER_WINDOW)
			return;
		if (pool->msg_count++ == MSG_PER_WINDOW) {
			snprintf(msg, sizeof(msg), "pool %s: more messages suppressed for a minute",
				 pool->name);
			print(0, msg);
			return;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print(err, msg);
}

const char *fog_pool_type_name(enum fog_pool_type type)
{
	static const char *const names[] = {
		[FOG_POOL_GENERIC] = "generic",
		[FOG_POOL_CONNECTION] = "connection",
		[FOG_POOL_WORKER] = "worker",
		[FOG_POOL_BUFFER] = "buffer",
	};

	return (unsigned int)type < FOG_POOL_TYPE_COUNT ? names[type] : "unknown";
}

const char *fog_pool_res_state_name(enum fog_pool_res_state state)
{
	static const char *const names[] = {
		[FOG_RES_CREATED] = "created",
		[FOG_RES_IDLE] = "idle",
		[FOG_RES_IN_USE] = "in use",
		[FOG_RES_VALIDATING] = "validating",
		[FOG_RES_DESTROYED] = "destroyed",
	};

	return (unsigned int)state <= FOG_RES_DESTROYED ? names[state] : "unknown";
}

unsigned int fog_pool_scan_leaks(struct fog_pool *pool, __u64 now, __u64 threshold, bool mark,
				 struct fog_pool_leak *out, unsigned int n)
{
	unsigned int count = 0;

	for (struct fog_pool_chunk *c = pool->chunks; c; c = c->next) {
		for (unsigned int i = 0; i < c->n; i++) {
			struct fog_pool_slot *s = &c->slots[i];
			__u64 held = 0;

			if (s->state != FOG_RES_IN_USE)
				continue;
			if (pool->clock_hold && now > s->acquired_at)
				held = now - s->acquired_at;
			if (threshold && (!pool->clock_hold || held < threshold))
				continue;
			if (mark) {
				if (s->leak_reported)
					continue;
				if (count == n)
					return count;
				s->leak_reported = true;
				pool->leaks++;
			}
			if (count < n) {
				out[count] = (struct fog_pool_leak){
					.pool = pool->name,
					.res = s->res,
					.held_ns = held,
					.site = s->site,
					.caller = s->caller,
					.tid = pool->clock_hold ? s->tid : 0,
				};
			}
			count++;
		}
	}
	return count;
}

/* "0x4011d6 (main+0x26)": the symbol if the dynamic symbol table has it, else the object. */
static void caller_name(void *caller, char *buf, size_t len)
{
	Dl_info info;

	if (!caller) {
		snprintf(buf, len, "an unknown caller");
		return;
	}
	if (dladdr(caller, &info) && info.dli_fname) {
		const char *base = strrchr(info.dli_fname, '/');

		base = base ? base + 1 : info.dli_fname;
		if (info.dli_sname && info.dli_saddr)
			snprintf(buf, len, "%p (%s+0x%tx)", caller, info.dli_sname,
				 (char *)caller - (char *)info.dli_saddr);
		else
			snprintf(buf, len, "%p (%s+0x%tx)", caller, *base ? base : "?",
				 (char *)caller - (char *)info.dli_fbase);
		return;
	}
	snprintf(buf, len, "%p", caller);
}

static void leak_line(const struct fog_pool_leak *l, char *buf, size_t len)
{
	char who[160];

	caller_name(l->caller, who, sizeof(who));
	if (l->site)
		snprintf(buf, len, "pool %s: resource %p held %.3f s, acquired at %s:%d in %s() from %s by thread %d",
			 l->pool, l->res, l->held_ns / 1e9, l->site->file, l->site->line,
			 l->site->func, who, l->tid);
	else
		snprintf(buf, len,
			 "pool %s: resource %p held %.3f s, acquired from %s by thread %d", l->pool,
			 l->res, l->held_ns / 1e9, who, l->tid);
}

void fog_pool_report_leaks(struct fog_pool *pool, const struct fog_pool_leak *leaks,
			   unsigned int n)
{
	char line[512];

	if (!n)
		return;
	if (pool->opts.on_leak) {
		for (unsigned int i = 0; i < n; i++)
			pool->opts.on_leak(pool->opts.leak_ctx, &leaks[i]);
		return;
	}
	pthread_mutex_lock(&pool->lock);
	for (unsigned int i = 0; i < n; i++) {
		leak_line(&leaks[i], line, sizeof(line));
		fog_pool_msg(pool, 0, "%s", line);
	}
	pthread_mutex_unlock(&pool->lock);
}

int fog_pool__leaks(struct fog_pool *pool, __u64 now, struct fog_pool_leak *out, size_t n)
{
	unsigned int count;

	if (!pool || (!out && n))
		return -EINVAL;
	if (!pool->clock_hold)
		return -ENODATA;
	if (!now)
		now = fog_pool_now_ns();
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	pthread_mutex_lock(&pool->lock);
	count = fog_pool_scan_leaks(pool, now, (__u64)pool->opts.leak_threshold_ms * 1000000ull,
				    false, out, (unsigned int)n);
	pthread_mutex_unlock(&pool->lock);
	return (int)count;
}

int fog_pool__leak_report(struct fog_pool *pool, __u64 now, FILE *out)
{
	struct fog_pool_leak leaks[REPORT_MAX];
	char line[512];
	int count;

	if (!out)
		return -EINVAL;
	count = fog_pool__leaks(pool, now, leaks, REPORT_MAX);
	if (count < 0)
		return count;
	for (int i = 0; i < count && i < REPORT_MAX; i++) {
		leak_line(&leaks[i], line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	if (count > REPORT_MAX)
		fprintf(out, "pool %s: %d more leaked resources\n", pool->name, count - REPORT_MAX);
	return count;
}

int fog_pool__stats(struct fog_pool *pool, struct fog_pool_stats *o)
{
	__u64 mem;

	if (!pool || !o)
		return -EINVAL;
	memset(o, 0, sizeof(*o));
	pthread_mutex_lock(&pool->lock);
	memcpy(o->name, pool->name, sizeof(o->name));
	o->type = pool->opts.type;
	o->pools = 1;
	o->min_size = pool->opts.min_size;
	o->max_size = pool->opts.max_size;
	o->live = pool->live;
	o->idle = pool->idle;
	o->in_use = pool->in_use;
	o->validating = pool->validating;
	o->creating = pool->creating;
	o->waiters = pool->waiters;
	o->peak_in_use = pool->peak_in_use;
	o->peak_live = pool->peak_live;
	o->created = pool->created;
	o->destroyed = pool->destroyed;
	o->acquisitions = pool->acquisitions;
	o->reuses = pool->reuses;
	o->timeouts = pool->timeouts;
	o->busy = pool->busy;
	o->validation_failures = pool->validation_failures;
	o->invalidations = pool->invalidations;
	o->reaped = pool->reaped;
	o->factory_failures = pool->factory_failures;
	o->bad_puts = pool->bad_puts;
	o->leaks = pool->leaks;
	o->wait_ns = pool->wait_ns;
	mem = sizeof(*pool) + (__u64)(pool->table_mask + 1) * sizeof(pool->table[0]);
	for (struct fog_pool_chunk *c = pool->chunks; c; c = c->next)
		mem += sizeof(*c) + (__u64)c->n * sizeof(c->slots[0]);
	o->mem_bytes = mem;
	pthread_mutex_unlock(&pool->lock);
	o->reuse_pct = o->acquisitions ? 100.0 * (double)o->reuses / (double)o->acquisitions : 0;
	return 0;
}
