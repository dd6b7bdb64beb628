// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <time.h>
#include <sys/timerfd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/loop.h"

#define LOOP_MAX_FDS 64
#define LOOP_MAX_TIMERS 16
/* a callback holding the loop this long is a stall: every answer waits for it */
#define LOOP_STALL_NS 100000000ull
#define LOOP_STALL_LOG_NS 10000000000ull	/* at most one stall warning per 10 s */

struct loop_fd {
	int fd;	/* -1: free slot */
	bool is_timer;
	fog_loop_fd_fn fn;
	fog_loop_timer_fn timer_fn;
	void *ctx;
	char name[sizeof(((struct fog_loop_stats *)0)->longest)];
};

struct fog_loop {
	int epfd;
	bool stop;
	fog_loop_pre_fn pre;	/* run before each wait */
	void *pre_ctx;
	struct loop_fd fds[LOOP_MAX_FDS];
	struct fog_loop_stats stats;
	uint64_t last_stall_log_ns;	/* 0: none logged yet */
};

/* CPU time of the loop's thread: a slow callback that used little was starved, not busy. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Accounts one callback that started at t0 (its thread's CPU clock at cpu0), named name. */
static void account(struct fog_loop *loop, const char *name, uint64_t t0, uint64_t cpu0)
{
	uint64_t now = fog_now_ns(), took = now - t0;
	struct fog_loop_stats *st = &loop->stats;

	st->callbacks++;
	if (took > st->longest_ns) {
		st->longest_ns = took;
		snprintf(st->longest, sizeof(st->longest), "%s", name);
	}
	if (took < FOG_LOOP_SLOW_NS)
		return;
	st->slow++;
	if (st->nrecent == FOG_LOOP_RECENT)
		memmove(st->recent, st->recent + 1, sizeof(st->recent[0]) * (FOG_LOOP_RECENT - 1));
	else
		st->nrecent++;
	st->recent[st->nrecent - 1].at_ns = now;
	st->recent[st->nrecent - 1].took_ns = took;
	st->recent[st->nrecent - 1].cpu_ns = cpu_ns() - cpu0;
	snprintf(st->recent[st->nrecent - 1].name, sizeof(st->recent[0].name), "%s", name);
	if (took < LOOP_STALL_NS)
		return;
	st->stalls++;
	if (loop->last_stall_log_ns && now - loop->last_stall_log_ns < LOOP_STALL_LOG_NS)
		return;
	loop->last_stall_log_ns = now;
	fog_warnx("event loop: %s held the loop for %llu ms (%llu stalls of %llu ms or more so far)",
		  name, (unsigned long long)(took / 1000000), (unsigned long long)st->stalls,
		  LOOP_STALL_NS / 1000000);
}

struct fog_loop *fog_loop__new(void)
{
	struct fog_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = errno;

		free(loop);
		errno = err;
		return NULL;
	}
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		loop->fds[i].fd = -1;
	return loop;
}

void fog_loop__free(struct fog_loop *loop)
{
	if (!loop)
		return;
	for (int i = 0; i < LOOP_MAX_FDS; i++)
		if (loop->fds[i].fd >= 0 && loop->fds[i].is_timer)
			close(loop->fds[i].fd);
	close(loop->epfd);
	free(loop);
}

static int slot_add(struct fog_loop *loop, int fd, uint32_t events, struct loop_fd *tmpl)
{
	struct epoll_event ev = { .events = events };

	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		if (loop->fds[i].fd >= 0)
			continue;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev))
			return -errno;
		loop->fds[i] = *tmpl;
		loop->fds[i].fd = fd;
		return i;
	}
	return -ENOSPC;
}

int fog_loop__add_fd(struct fog_loop *loop, const char *name, int fd, uint32_t events,
		     fog_loop_fd_fn fn, void *ctx)
{
	struct loop_fd tmpl = { .fn = fn, .ctx = ctx };
	int slot;

	snprintf(tmpl.name, sizeof(tmpl.name), "%s", name);
	slot = slot_add(loop, fd, events, &tmpl);

	return slot < 0 ? slot : 0;
}

int fog_loop__del_fd(struct fog_loop *loop, int fd)
{
	for (int i = 0; i < LOOP_MAX_FDS; i++) {
		if (loop->fds[i].fd != fd || loop->fds[i].is_timer)
			continue;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		loop->fds[i].fd = -1;
		return 0;
	}
	return -ENOENT;
}

int fog_loop__set_timer(struct fog_loop *loop, int id, unsigned int period_ms)
{
	struct itimerspec its = {
		.it_interval = { period_ms / 1000, (long)(period_ms % 1000) * 1000000 },
	};

	if (id < 0 || id >= LOOP_MAX_FDS || loop->fds[id].fd < 0 || !loop->fds[id].is_timer)
		return -ENOENT;
	its.it_value = its.it_interval;
	if (timerfd_settime(loop->fds[id].fd, 0, &its, NULL))
		return -errno;
	return 0;
}

int fog_loop__add_timer(struct fog_loop *loop, const char *name, unsigned int period_ms,
			fog_loop_timer_fn fn, void *ctx)
{
	struct loop_fd tmpl = { .is_timer = true, .timer_fn = fn, .ctx = ctx };
	int fd, id, err;

	snprintf(tmpl.name, sizeof(tmpl.name), "%s", name);
	if (!period_ms)
		return -EINVAL;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	id = slot_add(loop, fd, EPOLLIN, &tmpl);
	if (id < 0) {
		close(fd);
		return id;
	}
	err = fog_loop__set_timer(loop, id, period_ms);
	if (err) {
		fog_loop__del_timer(loop, id);
		return err;
	}
	return id;
}

int fog_loop__del_timer(struct fog_loop *loop, int id)
{
	if (id < 0 || id >= LOOP_MAX_FDS || loop->fds[id].fd < 0 || !loop->fds[id].is_timer)
		return -ENOENT;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, loop->fds[id].fd, NULL);
	close(loop->fds[id].fd);
	loop->fds[id].fd = -1;
	return 0;
}

void fog_loop__set_pre(struct fog_loop *loop, fog_loop_pre_fn fn, void *ctx)
{
	loop->pre = fn;
	loop->pre_ctx = ctx;
}

void fog_loop__stats(const struct fog_loop *loop, struct fog_loop_stats *st)
{
	*st = loop->stats;
}

void fog_loop__stop(struct fog_loop *loop)
{
	loop->stop = true;
}

int fog_loop__run(struct fog_loop *loop, const sigset_t *sigmask)
{
	struct epoll_event evs[16];

	loop->stop = false;
	while (!loop->stop) {
		int n;

		if (loop->pre) {
			uint64_t t0 = fog_now_ns(), cpu0 = cpu_ns();

			loop->pre(loop, loop->pre_ctx);
			account(loop, "signals", t0, cpu0);
		}
		if (loop->stop)
			break;
		n = epoll_pwait(loop->epfd, evs, 16, -1, sigmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct loop_fd *s = &loop->fds[evs[i].data.u32];
			uint64_t expirations, t0, cpu0;
			char name[sizeof(s->name)];

			if (s->fd < 0)
				continue; /* removed by an earlier callback in this batch */
			/* the callback may free or reuse its slot: keep its name */
			memcpy(name, s->name, sizeof(name));
			t0 = fog_now_ns();
			cpu0 = cpu_ns();
			if (s->is_timer) {
				if (read(s->fd, &expirations, sizeof(expirations)) < 0)
					continue;
				s->timer_fn(s->ctx);
			} else {
				s->fn(s->fd, evs[i].events, s->ctx);
			}
			account(loop, name, t0, cpu0);
		}
	}
	return 0;
}
