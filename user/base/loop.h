/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fogd's one event loop (epoll): ring buffers, listeners and timers all hand it
 * their fds. Signals are blocked outside epoll_pwait, so a signal handler's flag
 * is always seen at the top of the next iteration.
 */
#ifndef FOG_LOOP_H
#define FOG_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct fog_loop;

/* Called when fd is ready; events are EPOLLIN/EPOLLOUT/... bits. */
typedef void (*fog_loop_fd_fn)(int fd, uint32_t events, void *ctx);
/* Called when a timer expires. */
typedef void (*fog_loop_timer_fn)(void *ctx);
/* Called at the top of every iteration, before waiting: where signal flags are acted on. */
typedef void (*fog_loop_pre_fn)(struct fog_loop *loop, void *ctx);

struct fog_loop *fog_loop__new(void);
void fog_loop__free(struct fog_loop *loop);

/* Time spent in callbacks, for fogd's status: a stall held every other fd waiting. */
#define FOG_LOOP_SLOW_NS 50000000ull	/* a callback this long is slow (the profiling budget) */
#define FOG_LOOP_RECENT 8	/* slow callbacks remembered, newest last */

struct fog_loop_slow {
	uint64_t at_ns;	/* CLOCK_MONOTONIC when it ended */
	uint64_t took_ns;
	uint64_t cpu_ns;	/* of it the loop's thread ran on a CPU (less: it waited for one) */
	char name[24];
};

struct fog_loop_stats {
	uint64_t callbacks;
	uint64_t slow;	/* callbacks that took FOG_LOOP_SLOW_NS or more */
	uint64_t stalls;	/* callbacks that took 100 ms or more */
	uint64_t longest_ns;
	char longest[24];	/* the name given for the longest one */
	unsigned int nrecent;	/* entries in recent */
	struct fog_loop_slow recent[FOG_LOOP_RECENT];	/* the last slow callbacks, oldest first */
};

/* name says what the fd is in fog_loop_stats and stall warnings. */
int fog_loop__add_fd(struct fog_loop *loop, const char *name, int fd, uint32_t events,
		     fog_loop_fd_fn fn, void *ctx);
int fog_loop__del_fd(struct fog_loop *loop, int fd);
/* A periodic timer; returns an id >= 0 for fog_loop__del_timer. */
int fog_loop__add_timer(struct fog_loop *loop, const char *name, unsigned int period_ms,
			fog_loop_timer_fn fn, void *ctx);
int fog_loop__set_timer(struct fog_loop *loop, int id, unsigned int period_ms);
int fog_loop__del_timer(struct fog_loop *loop, int id);
void fog_loop__set_pre(struct fog_loop *loop, fog_loop_pre_fn fn, void *ctx);

/* Runs until fog_loop__stop; sigmask is the mask in effect while waiting. */
int fog_loop__run(struct fog_loop *loop, const sigset_t *sigmask);
void fog_loop__stop(struct fog_loop *loop);
void fog_loop__stats(const struct fog_loop *loop, struct fog_loop_stats *st);

#endif /* FOG_LOOP_H */
