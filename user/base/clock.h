/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fogd's one clock: monotonic nanoseconds and seconds, wall seconds, and
 * condition variables that wait until a monotonic deadline.
 */
#ifndef FOG_BASE_CLOCK_H
#define FOG_BASE_CLOCK_H

#include <math.h>
#include <pthread.h>
#include <time.h>
#include <linux/types.h>

/* Nanoseconds on clock id (CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, ...). */
static inline __u64 fog_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* Nanoseconds on CLOCK_MONOTONIC. */
static inline __u64 fog_now_ns(void)
{
	return fog_clock_ns(CLOCK_MONOTONIC);
}

/* Seconds on CLOCK_MONOTONIC. */
static inline double fog_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds on CLOCK_REALTIME (what fog_monitor__observe() takes). */
static inline double fog_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A condition variable that times out on CLOCK_MONOTONIC. */
static inline int fog_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int err;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	err = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return -err;
}

/* Waits on c until the monotonic time deadline (seconds); returns ETIMEDOUT or 0. */
static inline int fog_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, double deadline)
{
	struct timespec ts;

	if (deadline > 1e15)
		return pthread_cond_wait(c, m);
	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - floor(deadline)) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return pthread_cond_timedwait(c, m, &ts);
}

#endif /* FOG_BASE_CLOCK_H */
