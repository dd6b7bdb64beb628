// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program with a known off-CPU profile: it prints its pid, waits for a line
 * on stdin (so a profile can start first), then N times burns some CPU in
 * offcpu_burn() and sleeps MS milliseconds in sleepy_wait() (nanosleep).
 * At the end it prints the sleep time it measured around each nanosleep, the
 * ground truth of the test: {"sleeps":N,"slept_ns":T}.
 * Usage: prof_offcpu [N [MS]] (default 20 x 50 ms).
 *
 * Debian's libc has no frame pointers: a stack walked from inside
 * nanosleep() skips the frame of its direct caller (the walk starts from the
 * caller's saved frame pointer). sleepy_wait() sleeps through offcpu_nap(),
 * whose frame is the one lost, so sleepy_wait() shows as any real caller a
 * level up would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;
static unsigned long long slept_ns;

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

__attribute__((noinline)) void offcpu_nap(struct timespec *ts)
{
	while (nanosleep(ts, ts))	/* EINTR: sleep the rest */
		;
	sink++;
}

__attribute__((noinline)) void sleepy_wait(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	unsigned long long t0 = now_ns();

	offcpu_nap(&ts);
	slept_ns += now_ns() - t0;
	sink++;
}

__attribute__((noinline)) void offcpu_burn(unsigned long n)
{
	unsigned long x = sink;

	for (unsigned long i = 0; i < n; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	sink = x;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	long ms = argc > 2 ? atol(argv[2]) : 50;
	char line[16];

	printf("%d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < n; i++) {
		offcpu_burn(5000000);
		sleepy_wait(ms);
	}
	printf("{\"sleeps\":%d,\"slept_ns\":%llu}\n", n, slept_ns);
	return 0;
}
