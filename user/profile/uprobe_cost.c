// SPDX-License-Identifier: GPL-2.0-only
/*
 * What one probe hit costs on this host, measured once (fog_memprobe_hit_cost):
 * a probe on each kind of first instruction, timed against a plain call.
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

/* ---- what one probe hit costs here ---- */

/*
 * A breakpoint's cost depends on the instruction under it: the x86 kernel
 * emulates a push (glibc's malloc, calloc and realloc begin with one) and
 * single-steps most others out of line, a second trap (glibc's free begins
 * with test %rdi,%rdi; mmap and munmap with a mov). The calibration probes one
 * function of each kind, the return of the first, and times a plain one as
 * the baseline. Elsewhere than x86-64 they are plain C and all count as stepped.
 */
void fog_memprobe_calibrate_push(void);
void fog_memprobe_calibrate_step(void);
void fog_memprobe_calibrate_plain(void);
#if defined(__x86_64__)
#define CALIBRATE_FN(name, first)                                                                  \
	__asm__(".pushsection .text\n.globl " #name "\n.type " #name ",@function\n" #name   \
		":\n\t" first "\n\tpush %rbp\n\tpop %rbp\n\tret\n.size " #name ",.-" #name         \
		"\n.popsection\n")
#else
#define CALIBRATE_FN(name, first)                                                                  \
	__attribute__((noinline)) void name(void)                                                 \
	{                                                                                          \
		__asm__ volatile("" ::: "memory");                                                 \
	}
#endif
CALIBRATE_FN(fog_memprobe_calibrate_push, "push %rbx\n\tpop %rbx");
CALIBRATE_FN(fog_memprobe_calibrate_step, "test %rdi,%rdi");
CALIBRATE_FN(fog_memprobe_calibrate_plain, "push %rbx\n\tpop %rbx");

static void (*volatile calibrate_fn[3])(void) = {
	fog_memprobe_calibrate_plain, fog_memprobe_calibrate_push, fog_memprobe_calibrate_step
};

/* Whether the kernel emulates the instruction at a probe (x86-64: push %reg), from its bytes. */
bool fog_memprobe_emulated(const __u8 *c)
{
#if defined(__x86_64__)
	return (c[0] >= 0x50 && c[0] <= 0x57) || (c[0] == 0x41 && c[1] >= 0x50 && c[1] <= 0x57);
#else
	(void)c;
	return false;
#endif
}

/*
 * The thread's CPU time per call (user and system: the trap is charged to
 * it), so time spent preempted on a busy host does not count as probe cost.
 */
static double time_calls(int f)
{
	__u64 t0 = fog_clock_ns(CLOCK_THREAD_CPUTIME_ID);

	for (int i = 0; i < CALIBRATE_CALLS; i++)
		calibrate_fn[f]();
	return (double)(fog_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / CALIBRATE_CALLS;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return v[n / 2] > 0 ? v[n / 2] : 0;
}

/* The measurement, made once per process in a thread of its own (about a second). */
static struct {
	pthread_mutex_t lock;
	pthread_t th;
	int state;	/* 0 not started, 1 running, 2 joined */
	int err;
	struct fog_memprobe_cost cost;
} cal = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Times the probed functions against the plain one in alternating rounds; medians. */
static int calibrate(struct memprobe_bpf *skel, struct fog_memprobe_cost *c)
{
	static const char *const names[3] = { "fog_memprobe_calibrate_push",
					      "fog_memprobe_calibrate_step",
					      "fog_memprobe_calibrate_push" };
	const __u64 cookies[2] = { FOG_MEMPROBE_FREE, FOG_MEMPROBE_FREE };
	double e[CALIBRATE_ROUNDS], st[CALIBRATE_ROUNDS], r[CALIBRATE_ROUNDS];
	int l[3] = { -1, -1, -1 }, err;
	__u64 offs[3];

	/* the executable of this process, which holds libfog */
	err = fog_memprobe_func_offsets_path(NULL, names, 3, offs);
	if (!err && (!offs[0] || !offs[1]))
		err = -ENOENT;	/* a stripped executable */
	if (!err) {
		l[0] = fog_memprobe_uprobe_multi(skel->progs.handle_free, "/proc/self/exe", offs, cookies, 2,
				    (__u32)getpid(), false);
		err = l[0] < 0 ? l[0] : 0;
	}
	for (int i = 0; i < CALIBRATE_ROUNDS && !err; i++) {
		double plain = time_calls(0);

		e[i] = time_calls(1) - plain;
		st[i] = time_calls(2) - plain;
	}
	/* then with the return probe on the push function too */
	if (!err) {
		l[1] = fog_memprobe_uprobe_multi(skel->progs.handle_return, "/proc/self/exe", &offs[2], cookies,
				    1, (__u32)getpid(), true);
		err = l[1] < 0 ? l[1] : 0;
	}
	for (int i = 0; i < CALIBRATE_ROUNDS && !err; i++) {
		double plain = time_calls(0);

		r[i] = time_calls(1) - plain;
	}
	for (int i = 0; i < 2; i++)
		if (l[i] >= 0)
			close(l[i]);
	if (err)
		return err;
	c->emulated_ns = median(e, CALIBRATE_ROUNDS);
	c->stepped_ns = median(st, CALIBRATE_ROUNDS);
	c->return_ns = median(r, CALIBRATE_ROUNDS) - c->emulated_ns;
	if (c->return_ns < 0)
		c->return_ns = 0;
	return 0;
}

static void *calibrate_thread(void *arg)
{
	struct memprobe_bpf *skel = memprobe_bpf__open();
	int err;

	if (!skel) {
		cal.err = -errno;
		return NULL;
	}
	/* the probed process is this one: the programs take the target's path */
	skel->rodata->cfg_tgid = (__u32)getpid();
	fog_memprobe_set_multi(skel);
	fog_memprobe_exp_table((__u32 *)skel->rodata->cfg_exp);
	err = memprobe_bpf__load(skel);
	if (!err)
		err = calibrate(skel, &cal.cost);
	memprobe_bpf__destroy(skel);
	cal.err = err;
	return NULL;
}

int fog_memprobe_hit_cost(struct fog_memprobe_cost *out, bool wait)
{
	int err;

	pthread_mutex_lock(&cal.lock);
	if (cal.state == 0) {
		cal.state = 1;
		if (pthread_create(&cal.th, NULL, calibrate_thread, NULL)) {
			calibrate_thread(NULL);
			cal.state = 2;
		}
	}
	if (cal.state == 1 && wait) {
		pthread_join(cal.th, NULL);
		cal.state = 2;
	}
	err = cal.state == 2 ? cal.err : -EINPROGRESS;
	pthread_mutex_unlock(&cal.lock);
	if (!err)
		*out = cal.cost;
	return err;
}
