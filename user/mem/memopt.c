// SPDX-License-Identifier: GPL-2.0-only
/*
 * The memory optimizer's life cycle, its one fd (an epoll set of the PSI
 * triggers and a sampling timer) and optional thread, registrations, the
 * reclaim call and glibc malloc tuning.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include "base/clock.h"
#include "fog/arena.h"
#include "fog/lazy.h"
#include "mem/memopt_int.h"

/* glibc refuses M_MMAP_THRESHOLD above HEAP_MAX_SIZE / 2: 32 MiB on 64-bit */
#define MALLOC_MMAP_THRESHOLD_MAX (4l * 1024 * 1024 * (long)sizeof(long))

static int opts_fill(struct fog_memopt *m, const struct fog_memopt_opts *in)
{
	struct fog_memopt_opts *o = &m->opts;

	if (in)
		*o = *in;
	if (!o->window_us)
		o->window_us = FOG_MEMOPT_DEFAULT_WINDOW_US;
	if (!o->some_stall_us)
		o->some_stall_us = FOG_MEMOPT_DEFAULT_SOME_US;
	if (!o->full_stall_us)
		o->full_stall_us = FOG_MEMOPT_DEFAULT_FULL_US;
	if (!o->interval_ms)
		o->interval_ms = FOG_MEMOPT_DEFAULT_INTERVAL_MS;
	if (o->alert_pct == 0)
		o->alert_pct = FOG_MEMOPT_DEFAULT_ALERT_PCT;
	/* the kernel's limits for trigger windows, and a stall cannot exceed its window */
	if (o->window_us < 500000 || o->window_us > 10000000 || o->some_stall_us > o->window_us ||
	    o->full_stall_us > o->window_us || o->interval_ms > 3600 * 1000 ||
	    !(o->alert_pct > 0 && o->alert_pct <= 100))
		return -EINVAL;
	snprintf(m->psi_path, sizeof(m->psi_path), "%s",
		 o->psi_path ? o->psi_path : "/proc/pressure/memory");
	snprintf(m->meminfo_path, sizeof(m->meminfo_path), "%s",
		 o->meminfo_path ? o->meminfo_path : "/proc/meminfo");
	o->psi_path = m->psi_path;
	o->meminfo_path = m->meminfo_path;
	/* cgroup_dir is only read during __new */
	return 0;
}

static int timer_open(struct fog_memopt *m)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {.events = EPOLLIN};

	m->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timerfd < 0)
		return -errno;
	its.it_interval.tv_sec = m->opts.interval_ms / 1000;
	its.it_interval.tv_nsec = (long)(m->opts.interval_ms % 1000) * 1000000;
	its.it_value = its.it_interval;
	ev.data.fd = m->timerfd;
	if (timerfd_settime(m->timerfd, 0, &its, NULL) ||
	    epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->timerfd, &ev))
		return -errno;
	return 0;
}

struct fog_memopt *fog_memopt__new(const struct fog_memopt_opts *opts)
{
	struct fog_memopt *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	m->epfd = m->timerfd = m->stop_fd = -1;
	m->meminfo_fd = m->cg_usage_fd = m->cg_limit_fd = -1;
	for (unsigned int i = 0; i < 2; i++)
		m->psi[i].read_fd = m->psi[i].trig_fd[0] = m->psi[i].trig_fd[1] = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->eval_lock, NULL);
	err = opts_fill(m, opts);
	if (err)
		goto out_free;
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (m->epfd < 0) {
		err = -errno;
		goto out_free;
	}
	err = fog_memopt_sources_open(m);
	if (!err)
		err = timer_open(m);
	if (err)
		goto out_free;
	/* a first reading, so the first wake-up has something to compare with */
	fog_memopt_sample(m, &m->last);
	m->last.prev = m->last.level;
	m->opts.cgroup_dir = NULL;
	return m;

out_free:
	fog_memopt__free(m);
	errno = -err;
	return NULL;
}

void fog_memopt__free(struct fog_memopt *m)
{
	if (!m)
		return;
	fog_memopt__stop(m);
	fog_memopt_sources_close(m);
	if (m->timerfd >= 0)
		close(m->timerfd);
	if (m->epfd >= 0)
		close(m->epfd);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->eval_lock);
	free(m);
}

int fog_memopt__fd(const struct fog_memopt *m)
{
	return m->epfd;
}

/* Samples, stores the result, and tells the callbacks when the level moved. */
static int evaluate(struct fog_memopt *m, bool woken)
{
	struct memopt_cb cbs[MEMOPT_MAX_REG];
	struct fog_mem_pressure p = {0};
	unsigned int ncbs;
	bool rose;

	pthread_mutex_lock(&m->eval_lock);
	fog_memopt_sample(m, &p);
	pthread_mutex_lock(&m->lock);
	if (woken)
		m->wakeups++;
	p.wakeups = m->wakeups;
	p.prev = m->last.level;
	m->last = p;
	ncbs = m->ncbs;
	memcpy(cbs, m->cbs, ncbs * sizeof(*cbs));
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_unlock(&m->eval_lock);
	/* outside the locks: a callback may register, evaluate again or reclaim */
	if (p.level != p.prev)
		for (unsigned int i = 0; i < ncbs; i++)
			cbs[i].fn(&p, cbs[i].ctx);
	rose = p.level >= FOG_MEM_SOME && p.prev < FOG_MEM_SOME;
	if (rose && (m->opts.flags & FOG_MEMOPT_AUTO_RECLAIM))
		fog_memopt__reclaim(m, NULL);
	return p.level;
}

int fog_memopt__dispatch(struct fog_memopt *m)
{
	struct epoll_event ev[8];
	uint64_t expirations;
	int n;

	n = epoll_wait(m->epfd, ev, 8, 0);
	if (n < 0 && errno != EINTR)
		return -errno;
	/* the timer stays readable until read; trigger events are consumed by polling */
	if (read(m->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;
	return evaluate(m, true);
}

int fog_memopt__check(struct fog_memopt *m)
{
	return evaluate(m, false);
}

void fog_memopt__last(struct fog_memopt *m, struct fog_mem_pressure *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->last;
	pthread_mutex_unlock(&m->lock);
}

static void *memopt_thread(void *arg)
{
	struct fog_memopt *m = arg;
	struct pollfd pfd[2] = {
		{.fd = m->epfd, .events = POLLIN},
		{.fd = m->stop_fd, .events = POLLIN},
	};

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN)
			fog_memopt__dispatch(m);
	}
	return NULL;
}

int fog_memopt__start(struct fog_memopt *m)
{
	int err;

	if (m->stop_fd >= 0)
		return -EALREADY;
	m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->stop_fd < 0)
		return -errno;
	err = pthread_create(&m->thread, NULL, memopt_thread, m);
	if (err) {
		close(m->stop_fd);
		m->stop_fd = -1;
		return -err;
	}
	return 0;
}

int fog_memopt__stop(struct fog_memopt *m)
{
	uint64_t one = 1;

	if (m->stop_fd < 0)
		return -ENOENT;
	if (write(m->stop_fd, &one, sizeof(one)) < 0)
		return -errno;
	pthread_join(m->thread, NULL);
	close(m->stop_fd);
	m->stop_fd = -1;
	return 0;
}

/* ---- registrations ---- */

#define REGISTER(m, arr, count, value)                                                             \
	({                                                                                         \
		int __err = 0;                                                                     \
		pthread_mutex_lock(&(m)->lock);                                                    \
		if ((m)->count >= MEMOPT_MAX_REG)                                                  \
			__err = -ENOSPC;                                                           \
		else                                                                               \
			(m)->arr[(m)->count++] = (value);                                          \
		pthread_mutex_unlock(&(m)->lock);                                                  \
		__err;                                                                             \
	})

int fog_memopt__on_pressure(struct fog_memopt *m, fog_mem_pressure_fn fn, void *ctx)
{
	if (!fn)
		return -EINVAL;
	return REGISTER(m, cbs, ncbs, ((struct memopt_cb){fn, ctx}));
}

int fog_memopt__add_reclaim(struct fog_memopt *m, fog_mem_reclaim_fn fn, void *ctx)
{
	if (!fn)
		return -EINVAL;
	return REGISTER(m, reclaims, nreclaims, ((struct memopt_reclaim_cb){fn, ctx}));
}

int fog_memopt__add_arena(struct fog_memopt *m, struct fog_arena *a)
{
	if (!a)
		return -EINVAL;
	return REGISTER(m, arenas, narenas, a);
}

int fog_memopt__add_lazy(struct fog_memopt *m, struct fog_lazy *l)
{
	if (!l)
		return -EINVAL;
	return REGISTER(m, lazies, nlazies, l);
}

int fog_memopt__sources(const struct fog_memopt *m, struct fog_memopt_source *out, int max)
{
	for (int i = 0; i < SRC_COUNT && i < max; i++)
		out[i] = m->src[i];
	return SRC_COUNT;
}

/* ---- reclaim ---- */

/*
 * Resident set of this process in bytes, from /proc/self/statm; 0 if
 * unreadable. No stdio: reclaim runs under memory pressure.
 */
static uint64_t rss_bytes(void)
{
	unsigned long long size, resident;
	char buf[128];
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

int fog_memopt__reclaim(struct fog_memopt *m, struct fog_reclaim_result *out)
{
	struct fog_reclaim_result r = {0};
	struct memopt_reclaim_cb cbs[MEMOPT_MAX_REG];
	struct fog_arena *arenas[MEMOPT_MAX_REG];
	struct fog_lazy *lazies[MEMOPT_MAX_REG];
	unsigned int ncbs = 0, narenas = 0, nlazies = 0;
	uint64_t t0 = fog_now_ns(), before_trim;

	r.rss_before = rss_bytes();
	if (m) {
		/* copied out: what runs below may register more */
		pthread_mutex_lock(&m->lock);
		ncbs = m->nreclaims;
		narenas = m->narenas;
		nlazies = m->nlazies;
		memcpy(cbs, m->reclaims, ncbs * sizeof(*cbs));
		memcpy(arenas, m->arenas, narenas * sizeof(*arenas));
		memcpy(lazies, m->lazies, nlazies * sizeof(*lazies));
		pthread_mutex_unlock(&m->lock);
	}
	for (unsigned int i = 0; i < narenas; i++) {
		long got = fog_arena__trim(arenas[i]);

		if (got > 0)
			r.arena_bytes += (uint64_t)got;
	}
	for (unsigned int i = 0; i < nlazies; i++) {
		int err = fog_lazy__release(lazies[i]);

		if (!err) {
			r.lazies++;
			r.lazy_bytes += fog_lazy__size_hint(lazies[i]);
		} else if (err == -EBUSY) {
			r.lazies_busy++;
		}
	}
	for (unsigned int i = 0; i < ncbs; i++)
		r.callback_bytes += cbs[i].fn(cbs[i].ctx);
	/* last: what the steps above freed to malloc can now go back to the kernel */
	before_trim = rss_bytes();
	malloc_trim(0);
	r.rss_after = rss_bytes();
	r.malloc_bytes = before_trim > r.rss_after ? before_trim - r.rss_after : 0;
	r.released = r.rss_before > r.rss_after ? r.rss_before - r.rss_after : 0;
	r.pause_ns = fog_now_ns() - t0;
	if (out)
		*out = r;
	return 0;
}

/* ---- glibc malloc ---- */

int fog_malloc_tune(const struct fog_malloc_tuning *t, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (t->arena_max < 0) {
		snprintf(err, errlen, "arena_max %d: must be at least 1 (0 leaves it)",
			 t->arena_max);
		return -EINVAL;
	}
	if (t->trim_threshold < 0 || t->trim_threshold > INT_MAX) {
		snprintf(err, errlen, "trim_threshold %ld: glibc takes 0 to %d bytes",
			 t->trim_threshold, INT_MAX);
		return -EINVAL;
	}
	if (t->mmap_threshold < 0 || t->mmap_threshold > MALLOC_MMAP_THRESHOLD_MAX) {
		snprintf(err, errlen, "mmap_threshold %ld: glibc takes 0 to %ld bytes",
			 t->mmap_threshold, MALLOC_MMAP_THRESHOLD_MAX);
		return -EINVAL;
	}
	/* mallopt returns 1 on success, 0 on error */
	if (t->arena_max && !mallopt(M_ARENA_MAX, t->arena_max)) {
		snprintf(err, errlen, "mallopt M_ARENA_MAX %d refused", t->arena_max);
		return -EINVAL;
	}
	if (t->trim_threshold && !mallopt(M_TRIM_THRESHOLD, (int)t->trim_threshold)) {
		snprintf(err, errlen, "mallopt M_TRIM_THRESHOLD %ld refused", t->trim_threshold);
		return -EINVAL;
	}
	if (t->mmap_threshold && !mallopt(M_MMAP_THRESHOLD, (int)t->mmap_threshold)) {
		snprintf(err, errlen, "mallopt M_MMAP_THRESHOLD %ld refused", t->mmap_threshold);
		return -EINVAL;
	}
	return 0;
}
