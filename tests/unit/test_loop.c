// SPDX-License-Identifier: GPL-2.0-only
/*
 * fogd's event loop: timers and fds run their callbacks, and the time each
 * callback holds the loop is accounted under the name it was added with; a
 * callback of 100 ms or more is a stall. The durations are made here (a
 * timer that sleeps a known time), so the figures have a ground truth.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <cmocka.h>

#include "base/loop.h"

struct run {
	struct fog_loop *loop;
	int fast_timer, slow_timer;
	unsigned int fast_runs, slow_runs, fd_runs;
	int efd;
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void on_fast(void *ctx)
{
	struct run *r = ctx;

	r->fast_runs++;
	if (r->fast_runs == 3)
		fog_loop__stop(r->loop);
}

static void on_slow(void *ctx)
{
	struct run *r = ctx;

	r->slow_runs++;
	sleep_ms(150);
	/* once is enough: the slot is freed from inside its own callback */
	fog_loop__del_timer(r->loop, r->slow_timer);
}

static void on_fd(int fd, uint32_t events, void *ctx)
{
	struct run *r = ctx;
	uint64_t v;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	r->fd_runs++;
	/* removed from inside its callback, and its slot taken by a timer at once */
	assert_int_equal(fog_loop__del_fd(r->loop, fd), 0);
	r->fast_timer = fog_loop__add_timer(r->loop, "fast", 10, on_fast, r);
	assert_true(r->fast_timer >= 0);
}

static void test_stalls_are_named(void **state)
{
	struct run r = { 0 };
	struct fog_loop_stats st;
	const struct fog_loop_slow *found;
	uint64_t one = 1;
	sigset_t mask;

	r.loop = fog_loop__new();
	assert_non_null(r.loop);
	r.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(r.efd >= 0);
	assert_int_equal(fog_loop__add_fd(r.loop, "wakeup", r.efd, EPOLLIN, on_fd, &r), 0);
	r.slow_timer = fog_loop__add_timer(r.loop, "a name longer than the stats keep", 5, on_slow,
					   &r);
	assert_true(r.slow_timer >= 0);
	assert_int_equal(write(r.efd, &one, sizeof(one)), (ssize_t)sizeof(one));

	sigemptyset(&mask);
	assert_int_equal(fog_loop__run(r.loop, &mask), 0);
	fog_loop__stats(r.loop, &st);

	assert_int_equal(r.slow_runs, 1);
	assert_int_equal(r.fd_runs, 1);
	assert_int_equal(r.fast_runs, 3);
	/* 1 slow + 1 fd + 3 fast callbacks */
	assert_int_equal(st.callbacks, 5);
	/*
	 * the 150 ms callback is a stall and slow, remembered with its name and
	 * length (on a loaded host the others may be slow too: at least it)
	 */
	assert_true(st.stalls >= 1 && st.slow >= st.stalls);
	assert_int_equal(st.nrecent, st.slow);
	found = NULL;
	for (unsigned int i = 0; i < st.nrecent; i++)
		if (!memcmp(st.recent[i].name, "a name longer than the stats keep",
			    sizeof(st.recent[i].name) - 1))
			found = &st.recent[i];
	assert_non_null(found);
	assert_true(found->took_ns >= 150000000ull && found->at_ns > 0);
	/* it slept: its thread ran on a CPU for less than it lasted */
	assert_true(found->cpu_ns < found->took_ns);
	assert_true(st.longest_ns >= 150000000ull);
	assert_true(st.longest_ns < 5000000000ull);
	/* cut to the stats' size, never overrun */
	assert_int_equal(strlen(st.longest), sizeof(st.longest) - 1);
	assert_memory_equal(st.longest, "a name longer than the stats keep", sizeof(st.longest) - 1);

	fog_loop__del_timer(r.loop, r.fast_timer);
	close(r.efd);
	fog_loop__free(r.loop);
}

static void test_bad_timers(void **state)
{
	struct fog_loop *loop = fog_loop__new();

	assert_non_null(loop);
	assert_int_equal(fog_loop__add_timer(loop, "zero", 0, on_fast, NULL), -EINVAL);
	assert_int_equal(fog_loop__del_timer(loop, 7), -ENOENT);
	assert_int_equal(fog_loop__set_timer(loop, -1, 10), -ENOENT);
	assert_int_equal(fog_loop__del_fd(loop, 12345), -ENOENT);
	fog_loop__free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalls_are_named),
		cmocka_unit_test(test_bad_timers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
