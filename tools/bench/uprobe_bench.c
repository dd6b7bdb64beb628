// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the profiler's uprobe memory mode costs (user/profile/uprobe.c): a
 * worker process runs N malloc(64) + free pairs, timed, without probes and
 * with the mode attached to it, in alternating A/B pairs; a bystander process
 * on the same libc runs the same loop while the worker is probed, to show
 * whether other processes pay (the kernel plants breakpoints only in the
 * probed process). Also the per-hit cost the mode measures for its reports,
 * and how long attaching and detaching take. Needs root (CAP_BPF and
 * CAP_PERFMON). Prints medians.
 * Usage: uprobe_bench [-n PAIRS] [-r ROUNDS]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "profile/elfsym.h"
#include "profile/uprobe.h"

#define MAX_ROUNDS 31

static void *volatile sink;

static double clock_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
	return clock_of(CLOCK_MONOTONIC);
}

/* The timed loop: wall and CPU ns per malloc + free (the CPU time has the traps, not waits). */
static __attribute__((noinline)) void churn(long n, double *out)
{
	double t0 = now_ns(), c0 = clock_of(CLOCK_THREAD_CPUTIME_ID);

	for (long i = 0; i < n; i++) {
		void *p = malloc(64);

		sink = p;
		free(p);
	}
	out[0] = (now_ns() - t0) / (double)n;
	out[1] = (clock_of(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)n;
}

struct worker {
	pid_t pid;
	int go;	/* parent writes a byte: run once */
	int result;	/* the worker writes its ns per pair */
};

/* Forks a worker; other (may be NULL) is one started before, whose pipe ends it must not hold. */
static int start_worker(struct worker *w, const struct worker *other, long n)
{
	int a[2], b[2];

	if (pipe(a) || pipe(b))
		return -errno;
	w->pid = fork();
	if (w->pid < 0)
		return -errno;
	if (!w->pid) {
		char c;

		close(a[1]);
		close(b[0]);
		if (other) {
			close(other->go);
			close(other->result);
		}
		while (read(a[0], &c, 1) == 1) {
			double ns[2];

			churn(n, ns);
			if (write(b[1], ns, sizeof(ns)) != sizeof(ns))
				_exit(1);
		}
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	w->go = a[1];
	w->result = b[0];
	return 0;
}

/* One run of the worker: wall ns per pair, and its CPU ns in *cpu when not NULL. */
static double run(struct worker *w, double *cpu)
{
	double ns[2] = { -1, -1 };

	if (write(w->go, "g", 1) != 1 || read(w->result, ns, sizeof(ns)) != sizeof(ns))
		return -1;
	if (cpu)
		*cpu = ns[1];
	return ns[0];
}

static void stop_worker(struct worker *w)
{
	close(w->go);
	close(w->result);
	waitpid(w->pid, NULL, 0);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	double plain[MAX_ROUNDS], probed[MAX_ROUNDS], ratio[MAX_ROUNDS], other0[MAX_ROUNDS];
	double other1[MAX_ROUNDS], att[MAX_ROUNDS], det[MAX_ROUNDS];
	struct fog_memprobe_cost cost = { -1, -1, -1 };
	double cplain[MAX_ROUNDS], cprobed[MAX_ROUNDS];
	struct worker w, bystander;
	struct fog_elfcache *cache;
	long n = 50000;
	int rounds = 7, opt, err = 0;
	char msg[512];

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: uprobe_bench [-n PAIRS] [-r ROUNDS]\n");
			return 2;
		}
	}
	if (n < 1000 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "uprobe_bench: -n at least 1000, -r 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	/* both processes before any thread of this one (the calibration starts one) */
	if (start_worker(&w, NULL, n) || start_worker(&bystander, &w, n)) {
		fprintf(stderr, "uprobe_bench: cannot start the workers: %s\n", strerror(errno));
		return 1;
	}
	cache = fog_elfcache__new(16);
	/* the mode measures its per-hit cost once, on a thread: not during the timed runs */
	if (fog_memprobe_hit_cost(&cost, true))
		cost.emulated_ns = -1;
	run(&w, NULL);	/* warm up */
	run(&bystander, NULL);
	for (int r = 0; r < rounds && !err; r++) {
		struct fog_memprobe_opts o = { .pid = (__u32)w.pid, .seconds = 60 };
		struct fog_memprobe *m;
		double t0, t1;

		if (r % 2)
			plain[r] = run(&w, &cplain[r]);
		other0[r] = run(&bystander, NULL);
		t0 = now_ns();
		m = fog_memprobe__new(&o, cache, msg, sizeof(msg));
		t1 = now_ns();
		if (!m) {
			fprintf(stderr, "uprobe_bench: %s\n", msg);
			err = 1;
			break;
		}
		att[r] = (t1 - t0) / 1e6;
		fog_memprobe__read_target(m);
		probed[r] = run(&w, &cprobed[r]);
		other1[r] = run(&bystander, NULL);
		fog_memprobe__poll(m);
		t0 = now_ns();
		fog_memprobe__finish(m);
		fog_memprobe__free(m);	/* waits for the links to close */
		det[r] = (now_ns() - t0) / 1e6;
		if (!(r % 2))
			plain[r] = run(&w, &cplain[r]);
		ratio[r] = probed[r] / plain[r];
		other1[r] /= other0[r];
	}
	stop_worker(&w);
	stop_worker(&bystander);
	if (err)
		return 1;
	printf("malloc(64) + free, %ld pairs per run, %d A/B rounds (medians):\n", n, rounds);
	printf("  without probes %.0f ns per pair; with the uprobe memory mode attached %.0f ns "
	       "(%.0fx): %.1f us more per allocation and its free\n", median(plain, rounds),
	       median(probed, rounds), median(ratio, rounds),
	       (median(probed, rounds) - median(plain, rounds)) / 1e3);
	printf("  the worker's CPU time: %.0f ns per pair without, %.0f ns with: %.1f us more "
	       "(what a busy host's waits do not inflate)\n", median(cplain, rounds),
	       median(cprobed, rounds), (median(cprobed, rounds) - median(cplain, rounds)) / 1e3);
	printf("  (per pair: a trap at malloc's entry, its return, a trap at free's entry; "
	       "LD_PRELOAD=libfogalloc.so costs tens of ns instead)\n");
	if (cost.emulated_ns >= 0)
		printf("  the mode's own measurement on this host (CPU time of a probed call), as "
		       "its reports use it: %.1f us per hit on an emulated instruction (malloc's "
		       "push), "
		       "%.1f us on a single-stepped one, %.1f us per return probe\n",
		       cost.emulated_ns / 1e3, cost.stepped_ns / 1e3, cost.return_ns / 1e3);
	printf("  another process on the same libc while the worker is probed: %.3fx its time "
	       "without (the kernel plants breakpoints in the probed process only)\n",
	       median(other1, rounds));
	printf("  attaching takes %.1f ms; detaching %.0f ms (fogd closes the links on a thread of "
	       "its own)\n", median(att, rounds), median(det, rounds));
	fog_elfcache__free(cache);
	return 0;
}
