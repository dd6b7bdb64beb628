// SPDX-License-Identifier: GPL-2.0-only
/*
 * The uprobe memory mode's user side: finds the target's libc, loads and
 * attaches bpf/memprobe.bpf.c, reads its sampled allocations and frees into
 * the allocation sampler's tables (allocfile.h: a stack table and a table of
 * live sampled allocations), and builds the memory profiles with alloc.c.
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

#include "base/safe_open.h"
#include "fog/abi/memprobe.h"
#include "memprobe.skel.h"
#include "profile/alloc.h"
#include "profile/elfsym.h"
#include "profile/symbolize.h"
#include "profile/unwinder.h"
#include "profile/uprobe.h"

_Static_assert(sizeof(struct fog_memprobe_event) == 40, "fog_memprobe_event layout");
_Static_assert(FOG_MEMPROBE_DEPTH <= FOG_ALLOC_DEPTH, "stack depth beyond the sampler's");

#define DEFAULT_MEAN 524288ULL
#define LIVE_MAX (FOG_ALLOC_LIVE / 2)	/* load limit of the live table */
#define GROWTH_STEP_NS 250000000ULL
#define CALIBRATE_CALLS 2000
#define CALIBRATE_ROUNDS 5

/* The probed functions; the first four allocate and have a return probe. */
enum probe { P_MALLOC, P_CALLOC, P_REALLOC, P_MMAP, P_FREE, P_MUNMAP, NPROBES };

static const char *const probe_names[NPROBES] = { "malloc", "calloc", "realloc", "mmap",
						  "free", "munmap" };

struct fog_memprobe {
	struct memprobe_bpf *skel;
	struct ring_buffer *rb;
	int alloc_fd;	/* uprobe_multi link: entries of malloc, calloc, realloc, mmap */
	int ret_fd;	/* uprobe_multi link: their returns */
	int free_fd;	/* uprobe_multi link: entries of free, munmap */
	__u64 offs[NPROBES];	/* the probes' offsets in the libc file */
	bool emulated[NPROBES];	/* the kernel emulates the instruction under the probe */
	unsigned int free_skip;	/* bytes of free's NULL test the probe sits after */
	bool alloc_on;	/* the allocation probes are attached */
	bool detaching;	/* the detacher thread closes dying[] */
	int detach_done;	/* set by it when it is done */
	pthread_t detacher;
	int dying[3];
	int ndying;
	bool finished;
	bool exited;
	__u32 pid;
	__u64 start_time;	/* /proc/PID/stat, tells a reused pid apart */
	char libc[160];	/* the libc file as the process maps it */
	char probe_path[96];	/* the path the probes were attached through */
	__u64 mean;
	unsigned int seconds, on_ms, off_ms;
	__u64 t0_ns, t0_unix_ns, end_ns;	/* monotonic, realtime, monotonic */
	__u64 next_switch_ns, on_since_ns, on_total_ns;
	unsigned int switches;
	struct fog_symbolizer *sym;
	struct fog_alloc_snap snap;	/* the tables, filled as samples arrive */
	struct fog_alloc_stack *start_stacks;	/* all zero: nothing was live at the attach */
	__u32 slot_of[FOG_MEMPROBE_STACKS];	/* stack id -> slot in snap.stacks, 0: none */
	/*
	 * DWARF unwinding (unwind.h): a sample's stack is unwound in the unwinder's
	 * thread, so it gets a slot of its own, named by its event (tid, ts_ns), whose
	 * frames are filled in and merged with its equals when the profile is built.
	 */
	struct fog_unwinder *unw;
	struct unw_key {
		__u32 tid;
		__u64 seq;
	} *unw_slot;	/* FOG_ALLOC_STACKS; seq 0: not an unwound slot */
	unsigned int live_used, live_dead;
	__u64 events, unmatched_frees;
	__u64 growth_last_ns;
	struct fog_prof *inuse, *alloc;
	struct fog_memprobe_stats final;	/* the counters when the BPF object went */
	char err[256];
};

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

void fog_memprobe_exp_table(__u32 *table)
{
	const int n = FOG_MEMPROBE_EXP_N;
	double q[FOG_MEMPROBE_EXP_N + 1], mean = 0;

	/* the inverse CDF of Exp(1) at i/n; the last bucket is open: its mean is q + 1 */
	for (int i = 0; i < n; i++)
		q[i] = -log1p(-(double)i / n);
	q[n] = q[n - 1] + 2;
	/* BPF draws uniformly within a bucket: scale so the draws average exactly 1 */
	for (int i = 0; i < n; i++)
		mean += (q[i] + q[i + 1]) / 2 / n;
	for (int i = 0; i <= n; i++)
		table[i] = (__u32)lround(q[i] / mean * FOG_MEMPROBE_EXP_ONE);
}

/* ---- attaching and detaching ---- */

/*
 * The uprobe_multi part of BPF_LINK_CREATE (Linux 6.6), which the libbpf of
 * this distribution (1.1) does not know yet. Unlike perf-event uprobes, which
 * this kernel gives only to CAP_SYS_ADMIN, these need CAP_BPF and CAP_PERFMON,
 * what fogd keeps; and one link covers several functions.
 */
#define FOG_BPF_TRACE_UPROBE_MULTI 48	/* enum bpf_attach_type */
#define FOG_BPF_F_UPROBE_MULTI_RETURN 1

struct fog_uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 um_flags;
	__u32 pid;
	__u8 zero[68];	/* the rest of union bpf_attr's size the kernel checks is zero */
};

/* A link of prog at the given file offsets of path, in process pid only; fd or -errno. */
static int uprobe_multi(struct bpf_program *prog, const char *path, const __u64 *offs,
			const __u64 *cookies, __u32 cnt, __u32 pid, bool ret)
{
	struct fog_uprobe_multi_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (__u32)bpf_program__fd(prog);
	a.attach_type = FOG_BPF_TRACE_UPROBE_MULTI;
	a.path = (__u64)(unsigned long)path;
	a.offsets = (__u64)(unsigned long)offs;
	a.cookies = (__u64)(unsigned long)cookies;
	a.cnt = cnt;
	a.um_flags = ret ? FOG_BPF_F_UPROBE_MULTI_RETURN : 0;
	a.pid = pid;	/* the kernel plants the breakpoints in this process only */
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	return fd < 0 ? -errno : fd;
}

/* Before load: the programs are attached through uprobe_multi links. */
static void set_multi(struct memprobe_bpf *skel)
{
	bpf_program__set_expected_attach_type(skel->progs.handle_alloc,
					      FOG_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.handle_free, FOG_BPF_TRACE_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(skel->progs.handle_return,
					      FOG_BPF_TRACE_UPROBE_MULTI);
}

#define PROBE_ELF_MAX (512ull << 20)	/* a libc read at most, as elfsym reads ELF files */

/*
 * Opens the file the probes go on: a map_files link (the mapped file itself)
 * or the libc path inside the process's root, with fog_safe_open_*: regular
 * files only, non-blocking, within PROBE_ELF_MAX.
 */
static int open_probe_file(const struct fog_memprobe *m)
{
	if (strstr(m->probe_path, "/map_files/"))
		return fog_safe_open_proc(m->probe_path, (off_t)PROBE_ELF_MAX);
	return fog_safe_open_in_root((pid_t)m->pid, m->libc, (off_t)PROBE_ELF_MAX);
}

static int func_offsets_path(const struct fog_memprobe *m, const char *const *names, int n,
			     __u64 *offs)
{
	int fd = m ? open_probe_file(m) : fog_safe_open_proc("/proc/self/exe", 0), err;

	if (fd < 0)
		return fd;
	err = fog_elfsym__func_offsets(fd, names, n, offs);
	close(fd);
	return err;
}

/*
 * Closing a uprobe link waits for an RCU grace period under a lock the
 * kernel takes for every uprobe (80-170 ms each here, one after the other):
 * a thread closes them instead of fogd's loop; the caller reaps it later, or
 * waits for it when it frees.
 */
static void *detach_thread(void *arg)
{
	struct fog_memprobe *m = arg;

	for (int i = 0; i < m->ndying; i++)
		close(m->dying[i]);
	__atomic_store_n(&m->detach_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Joins a detacher that is done (or, with wait, any); true when none runs any more. */
static bool reap_detacher(struct fog_memprobe *m, bool wait)
{
	if (!m->detaching)
		return true;
	if (!wait && !__atomic_load_n(&m->detach_done, __ATOMIC_ACQUIRE))
		return false;
	pthread_join(m->detacher, NULL);
	m->detaching = false;
	m->ndying = 0;
	return true;
}

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
static bool emulated(const __u8 *c)
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
	__u64 t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);

	for (int i = 0; i < CALIBRATE_CALLS; i++)
		calibrate_fn[f]();
	return (double)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / CALIBRATE_CALLS;
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
	err = func_offsets_path(NULL, names, 3, offs);
	if (!err && (!offs[0] || !offs[1]))
		err = -ENOENT;	/* a stripped executable */
	if (!err) {
		l[0] = uprobe_multi(skel->progs.handle_free, "/proc/self/exe", offs, cookies, 2,
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
		l[1] = uprobe_multi(skel->progs.handle_return, "/proc/self/exe", &offs[2], cookies,
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
	set_multi(skel);
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

/* ---- the target's libc ---- */

static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-2.", 7) ||
	       !strncmp(base, "libc.musl", 9) || !strncmp(base, "ld-musl", 7);
}

/* The executable mapping of pid's libc: path, text range and a path to attach through. */
static int find_libc(struct fog_memprobe *m, __u64 *lo, __u64 *hi)
{
	char path[64], *line = NULL;
	struct stat st_root, st_map;
	size_t cap = 0;
	bool any = false;
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%u/maps", m->pid);
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		snprintf(m->err, sizeof(m->err), "process %u: cannot read its maps: %s", m->pid,
			 strerror(-err));
		return err == -ENOENT ? -ESRCH : err;
	}
	while (getline(&line, &cap, f) > 0) {
		__u64 s, e, off;
		const char *file;
		bool exec;

		if (fog_maps_parse_line(line, &s, &e, &off, &exec, &file))
			continue;
		any = true;
		if (!exec || file[0] != '/' || !is_libc(file))
			continue;
		snprintf(m->libc, sizeof(m->libc), "%s", file);
		*lo = s;
		*hi = e;
		/*
		 * The file as the process sees it (containers): through its root,
		 * unless that is no longer the mapped file (replaced or deleted), then
		 * through map_files (CAP_CHECKPOINT_RESTORE).
		 */
		snprintf(m->probe_path, sizeof(m->probe_path), "/proc/%u/root%.60s", m->pid, file);
		snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", m->pid,
			 (unsigned long long)s, (unsigned long long)e);
		if (stat(m->probe_path, &st_root) || stat(path, &st_map) ||
		    st_root.st_ino != st_map.st_ino || st_root.st_dev != st_map.st_dev)
			snprintf(m->probe_path, sizeof(m->probe_path), "%s", path);
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	if (err)
		snprintf(m->err, sizeof(m->err), "process %u has no C library mapped (%s): the "
			 "uprobe memory mode probes libc's malloc and free", m->pid,
			 any ? "a static binary, or an allocator of its own" : "a kernel thread");
	return err;
}

/* ---- attaching ---- */

/*
 * Reads the first instruction under each probe. glibc's free begins with
 * "test %rdi,%rdi; je" (return at once for NULL), which the kernel would
 * single-step on every free, a second trap (about 10 us here); its probe goes
 * on the next instruction instead, which every free of a pointer reaches with
 * %rdi unchanged. Then notes which probes hit instructions the kernel emulates.
 */
static int place_probes(struct fog_memprobe *m)
{
	static const __u8 test_rdi[3] = { 0x48, 0x85, 0xff };
	int fd = open_probe_file(m);
	__u8 c[16];

	if (fd < 0)
		return fd;
	for (int p = 0; p < NPROBES; p++) {
		if (pread(fd, c, sizeof(c), (off_t)m->offs[p]) != sizeof(c)) {
			close(fd);
			return -EIO;
		}
#if defined(__x86_64__)
		if (p == P_FREE && !memcmp(c, test_rdi, 3) && c[3] == 0x0f && c[4] == 0x84)
			m->free_skip = 9;	/* je rel32 */
		else if (p == P_FREE && !memcmp(c, test_rdi, 3) && c[3] == 0x74)
			m->free_skip = 5;	/* je rel8 */
		if (p == P_FREE && m->free_skip) {
			m->offs[p] += m->free_skip;
			memmove(c, c + m->free_skip, sizeof(c) - m->free_skip);
		}
#else
		(void)test_rdi;
#endif
		m->emulated[p] = emulated(c);
	}
	close(fd);
	return 0;
}

/*
 * Bumps the epoch at every attach: a call that entered while the probes were
 * last attached may have lost its return to the detach, and must not be
 * taken for the pending call of its thread.
 */
static void new_epoch(struct fog_memprobe *m)
{
	__atomic_add_fetch(&m->skel->bss->epoch, 1, __ATOMIC_RELAXED);
}

/*
 * Detaches the allocation probes, and with all the free and munmap probes
 * too, in the background (see detach_thread). No probe of this profile runs
 * once the detacher is done.
 */
static void detach(struct fog_memprobe *m, bool all)
{
	int n = 0;

	reap_detacher(m, true);	/* one batch at a time */
	if (m->alloc_fd >= 0)
		m->dying[n++] = m->alloc_fd;
	if (m->ret_fd >= 0)
		m->dying[n++] = m->ret_fd;
	if (all && m->free_fd >= 0)
		m->dying[n++] = m->free_fd;
	m->alloc_fd = m->ret_fd = -1;
	if (all)
		m->free_fd = -1;
	if (m->alloc_on) {
		m->alloc_on = false;
		m->on_total_ns += clock_ns(CLOCK_MONOTONIC) - m->on_since_ns;
	}
	if (!n)
		return;
	m->ndying = n;
	m->detach_done = 0;
	if (pthread_create(&m->detacher, NULL, detach_thread, m)) {
		detach_thread(m);	/* no thread: the caller waits */
		m->ndying = 0;
		return;
	}
	m->detaching = true;
}

static int attach_fail(struct fog_memprobe *m, int err, const char *what)
{
	snprintf(m->err, sizeof(m->err), "cannot attach uprobes to %s in %.120s: %s%s", what,
		 m->libc, strerror(-err), err == -EINVAL || err == -EOPNOTSUPP ?
		 " (uprobe_multi links need Linux 6.6 or later)" : err == -EPERM ?
		 " (needs CAP_BPF and CAP_PERFMON)" : "");
	return err;
}

static int attach_alloc(struct fog_memprobe *m)
{
	static const __u64 cookies[P_FREE] = { FOG_MEMPROBE_MALLOC, FOG_MEMPROBE_CALLOC,
					       FOG_MEMPROBE_REALLOC, FOG_MEMPROBE_MMAP };

	new_epoch(m);
	/* returns first, then entries: an entry seen always has its return probe */
	m->ret_fd = uprobe_multi(m->skel->progs.handle_return, m->probe_path, m->offs, cookies,
				 P_FREE, m->pid, true);
	if (m->ret_fd < 0)
		return attach_fail(m, m->ret_fd, "the returns of malloc, calloc, realloc, mmap");
	m->alloc_fd = uprobe_multi(m->skel->progs.handle_alloc, m->probe_path, m->offs, cookies,
				   P_FREE, m->pid, false);
	m->alloc_on = true;
	m->on_since_ns = clock_ns(CLOCK_MONOTONIC);
	if (m->alloc_fd < 0) {
		int err = m->alloc_fd;

		detach(m, false);
		return attach_fail(m, err, "malloc, calloc, realloc, mmap");
	}
	return 0;
}

/* ---- the tables ---- */

static unsigned int live_hash(__u64 ptr)
{
	return (unsigned int)(((ptr >> 4) * 0x9e3779b97f4a7c15ULL) >> 48) & (FOG_ALLOC_LIVE - 1);
}

static struct fog_alloc_live *live_find(struct fog_memprobe *m, __u64 ptr)
{
	for (unsigned int i = live_hash(ptr), n = 0; n < FOG_ALLOC_LIVE;
	     i = (i + 1) & (FOG_ALLOC_LIVE - 1), n++) {
		struct fog_alloc_live *l = &m->snap.live[i];

		if (!l->ptr)
			return NULL;
		if (l->ptr == ptr)
			return l;
	}
	return NULL;
}

static void live_insert(struct fog_memprobe *m, const struct fog_alloc_live *v);

/* Rebuilds the table without its deleted slots. */
static void live_rehash(struct fog_memprobe *m)
{
	size_t bytes = FOG_ALLOC_LIVE * sizeof(struct fog_alloc_live);
	struct fog_alloc_live *old = malloc(bytes);

	if (!old)
		return;
	memcpy(old, m->snap.live, bytes);
	memset(m->snap.live, 0, bytes);
	m->live_used = m->live_dead = 0;
	for (size_t i = 0; i < FOG_ALLOC_LIVE; i++)
		if (old[i].ptr > 1)
			live_insert(m, &old[i]);
	free(old);
}

static void live_insert(struct fog_memprobe *m, const struct fog_alloc_live *v)
{
	unsigned int i = live_hash(v->ptr);

	while (m->snap.live[i].ptr > 1)
		i = (i + 1) & (FOG_ALLOC_LIVE - 1);
	if (m->snap.live[i].ptr == 1)
		m->live_dead--;
	m->snap.live[i] = *v;
	m->live_used++;
}

/* The slot of a stack id in the stack table, reading its frames the first time. */
static __u32 stack_slot(struct fog_memprobe *m, const struct fog_memprobe_event *e)
{
	__u64 ips[FOG_MEMPROBE_DEPTH];
	struct fog_alloc_stack *st;
	__s32 id = e->stack_id;
	__u32 slot, n = 0;

	if (id == FOG_UNW_STACK_ID && m->unw_slot) {
		if (m->snap.hdr.nstacks >= FOG_ALLOC_STACKS)
			return 0;
		slot = m->snap.hdr.nstacks++;
		m->snap.stacks[slot].depth = 0;
		m->unw_slot[slot] = (struct unw_key){ e->tid, e->ts_ns };
		return slot;
	}

	if (id < 0 || id >= FOG_MEMPROBE_STACKS)
		return 0;	/* slot 0: the stack was lost */
	if (m->slot_of[id])
		return m->slot_of[id];
	if (m->snap.hdr.nstacks >= FOG_ALLOC_STACKS)
		return 0;
	memset(ips, 0, sizeof(ips));
	if (bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.memprobe_stacks), &id, ips))
		return 0;
	slot = m->snap.hdr.nstacks++;
	st = &m->snap.stacks[slot];
	while (n < FOG_MEMPROBE_DEPTH && ips[n]) {
		st->ips[n] = ips[n];
		n++;
	}
	st->depth = n;
	st->hash = (__u64)id + 1;
	m->slot_of[id] = slot;
	return slot;
}

static __u64 objects_of(__u64 size, __u64 weight)
{
	return size ? (__u64)llround((double)weight / (double)size) : 1;
}

static void on_alloc(struct fog_memprobe *m, const struct fog_memprobe_event *e)
{
	struct fog_alloc_header *h = &m->snap.hdr;
	__u64 w = (__u64)llround(fog_alloc_weight((double)e->size, (double)m->mean));
	__u64 objs = objects_of(e->size, w);
	__u32 slot = stack_slot(m, e);
	struct fog_alloc_stack *st = &m->snap.stacks[slot];
	bool tracked = !(e->flags & FOG_MEMPROBE_UNTRACKED) && m->live_used < LIVE_MAX;

	if (!slot)
		h->lost_stacks++;
	h->samples++;
	h->alloc_bytes += w;
	st->samples++;
	st->alloc_bytes += w;
	st->alloc_objects += objs;
	if (e->size >= FOG_ALLOC_BIG) {
		st->big++;
		h->big++;
	}
	if (tracked && live_find(m, e->addr)) {
		/* its free was missed (ring buffer full): the address is in use again */
		tracked = false;
	}
	if (!tracked) {
		/* allocated, but its free cannot be seen: not counted as live */
		st->free_bytes += w;
		st->free_objects += objs;
		h->lost_live++;
		return;
	}
	live_insert(m, &(struct fog_alloc_live){ .ptr = e->addr, .size = e->size, .weight = w,
						 .mono_ns = e->ts_ns, .stack = slot });
	h->live_bytes += w;
}

static void on_free(struct fog_memprobe *m, const struct fog_memprobe_event *e)
{
	struct fog_alloc_live *l = live_find(m, e->addr);
	struct fog_alloc_stack *st;

	if (!l) {
		m->unmatched_frees++;
		return;
	}
	st = &m->snap.stacks[l->stack];
	st->free_bytes += l->weight;
	st->free_objects += objects_of(l->size, l->weight);
	m->snap.hdr.frees++;
	m->snap.hdr.live_bytes -= l->weight < m->snap.hdr.live_bytes ? l->weight :
								       m->snap.hdr.live_bytes;
	l->ptr = 1;
	m->live_used--;
	if (++m->live_dead > FOG_ALLOC_LIVE / 4)
		live_rehash(m);
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct fog_memprobe *m = ctx;
	struct fog_memprobe_event e;

	if (len < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	m->events++;
	if (e.kind == FOG_MEMPROBE_FREE || e.kind == FOG_MEMPROBE_MUNMAP)
		on_free(m, &e);
	else if (e.kind < FOG_MEMPROBE_KINDS)
		on_alloc(m, &e);
	return 0;
}

/* One point of the live-bytes series; when full, every other point goes and the step doubles. */
static void growth_point(struct fog_memprobe *m, __u64 now, bool force)
{
	struct fog_alloc_header *h = &m->snap.hdr;

	if (!force && now - m->growth_last_ns < h->growth_step_ns)
		return;
	if (h->ngrowth == FOG_ALLOC_GROWTH) {
		for (__u32 i = 0; i < FOG_ALLOC_GROWTH / 2; i++)
			h->growth[i] = h->growth[2 * i + 1];
		h->ngrowth = FOG_ALLOC_GROWTH / 2;
		h->growth_step_ns *= 2;
	}
	h->growth[h->ngrowth++] = (struct fog_alloc_point){ now, h->live_bytes };
	m->growth_last_ns = now;
}

static void read_stats(struct fog_memprobe *m, struct fog_memprobe_stats *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fog_memprobe_stats *v;
	__u32 zero = 0;

	if (!m->skel) {
		*out = m->final;
		return;
	}
	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.memprobe_stats), &zero, v)) {
		for (int c = 0; c < ncpu; c++) {
			const __u64 *a = (const __u64 *)&v[c];
			__u64 *o = (__u64 *)out;

			for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
				o[i] += a[i];
		}
	}
	free(v);
}

/* ---- the session ---- */

struct fog_memprobe *fog_memprobe__new(const struct fog_memprobe_opts *o,
				       struct fog_elfcache *cache, char *err, size_t len)
{
	static const __u64 free_cookies[NPROBES - P_FREE] = { FOG_MEMPROBE_FREE,
							      FOG_MEMPROBE_MUNMAP };
	struct fog_memprobe *m = calloc(1, sizeof(*m));
	__u64 lo = 0, hi = 0;
	char path[64];
	int rc;
	FILE *f;

	if (!m) {
		snprintf(err, len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	m->alloc_fd = m->ret_fd = m->free_fd = -1;
	m->pid = o->pid;
	m->mean = o->mean ? o->mean : DEFAULT_MEAN;
	m->seconds = o->seconds ? o->seconds : FOG_MEMPROBE_DEFAULT_SECONDS;
	m->on_ms = o->on_ms;
	m->off_ms = o->on_ms ? o->off_ms : 0;
	if (m->seconds > FOG_MEMPROBE_MAX_SECONDS || !o->pid) {
		rc = -EINVAL;
		snprintf(m->err, sizeof(m->err), o->pid ? "uprobe memory profiles last at most "
			 "%d s (each probe hit costs the process microseconds)" :
			 "the uprobe memory mode needs a pid", FOG_MEMPROBE_MAX_SECONDS);
		goto fail;
	}
	m->start_time = fog_proc_start_time(m->pid);
	if (!m->start_time || kill((pid_t)m->pid, 0)) {
		rc = -ESRCH;
		snprintf(m->err, sizeof(m->err), "process %u: no such process", m->pid);
		goto fail;
	}
	rc = find_libc(m, &lo, &hi);
	if (rc)
		goto fail;
	rc = func_offsets_path(m, probe_names, NPROBES, m->offs);
	for (int p = 0; !rc && p < NPROBES; p++)
		if (!m->offs[p]) {
			rc = -ENOENT;
			snprintf(m->err, sizeof(m->err), "%s of process %u has no function %s",
				 m->libc, m->pid, probe_names[p]);
		}
	if (!rc)
		rc = place_probes(m);
	if (rc) {
		if (!m->err[0])
			snprintf(m->err, sizeof(m->err), "cannot read the symbols of %s: %s",
				 m->libc, strerror(-rc));
		goto fail;
	}
	m->snap.stacks = calloc(FOG_ALLOC_STACKS, sizeof(*m->snap.stacks));
	m->snap.live = calloc(FOG_ALLOC_LIVE, sizeof(*m->snap.live));
	m->start_stacks = calloc(FOG_ALLOC_STACKS, sizeof(*m->start_stacks));
	m->sym = fog_symbolizer__new(cache);
	if (!m->snap.stacks || !m->snap.live || !m->start_stacks || !m->sym) {
		rc = -ENOMEM;
		snprintf(m->err, sizeof(m->err), "out of memory");
		goto fail;
	}
	m->snap.pid = m->pid;
	m->snap.hdr.magic = FOG_ALLOC_MAGIC;
	m->snap.hdr.version = FOG_ALLOC_VERSION;
	m->snap.hdr.header_size = FOG_ALLOC_HEADER_SIZE;
	m->snap.hdr.pid = m->pid;
	m->snap.hdr.depth = FOG_ALLOC_DEPTH;
	m->snap.hdr.stacks_cap = FOG_ALLOC_STACKS;
	m->snap.hdr.live_cap = FOG_ALLOC_LIVE;
	m->snap.hdr.start_time = m->start_time;
	m->snap.hdr.mean = m->mean;
	m->snap.hdr.nstacks = 1;	/* slot 0: lost stacks */
	m->snap.hdr.growth_step_ns = GROWTH_STEP_NS;
	snprintf(path, sizeof(path), "/proc/%u/comm", m->pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(m->snap.comm, sizeof(m->snap.comm), f))
			m->snap.comm[strcspn(m->snap.comm, "\n")] = '\0';
		fclose(f);
	}
	/* what a hit costs is measured once, in the background, on functions of this process */
	{
		struct fog_memprobe_cost c;

		fog_memprobe_hit_cost(&c, false);
	}
	m->skel = memprobe_bpf__open();
	if (!m->skel) {
		rc = -errno;
		snprintf(m->err, sizeof(m->err), "cannot open the memprobe BPF object: %s",
			 strerror(-rc));
		goto fail;
	}
	set_multi(m->skel);
	m->skel->rodata->cfg_tgid = m->pid;
	m->skel->rodata->cfg_mean = m->mean;
	m->skel->rodata->cfg_libc_lo = lo;
	m->skel->rodata->cfg_libc_hi = hi;
	m->skel->rodata->cfg_unwind = 1;
	fog_memprobe_exp_table((__u32 *)m->skel->rodata->cfg_exp);
	rc = memprobe_bpf__load(m->skel);
	if (rc) {
		snprintf(m->err, sizeof(m->err), "cannot load the memprobe BPF object: %s",
			 strerror(-rc));
		goto fail;
	}
	m->unw_slot = calloc(FOG_ALLOC_STACKS, sizeof(*m->unw_slot));
	m->unw = m->unw_slot ? fog_unwinder__new(bpf_map__fd(m->skel->maps.memprobe_unwind)) : NULL;
	if (!m->unw) {
		rc = -ENOMEM;
		snprintf(m->err, sizeof(m->err), "cannot start the unwinder: %s", strerror(-rc));
		goto fail;
	}
	m->rb = ring_buffer__new(bpf_map__fd(m->skel->maps.memprobe_events), on_event, m, NULL);
	if (!m->rb) {
		rc = -errno;
		snprintf(m->err, sizeof(m->err), "cannot open the memprobe ring buffer: %s",
			 strerror(-rc));
		goto fail;
	}
	/* free and munmap first: no sampled allocation can be freed unseen */
	m->free_fd = uprobe_multi(m->skel->progs.handle_free, m->probe_path, &m->offs[P_FREE],
				  free_cookies, NPROBES - P_FREE, m->pid, false);
	if (m->free_fd < 0) {
		rc = attach_fail(m, m->free_fd, "free, munmap");
		goto fail;
	}
	m->t0_ns = clock_ns(CLOCK_MONOTONIC);
	m->t0_unix_ns = clock_ns(CLOCK_REALTIME);
	rc = attach_alloc(m);
	if (rc)
		goto fail;
	m->next_switch_ns = m->off_ms ? m->t0_ns + (__u64)m->on_ms * 1000000ULL : 0;
	m->snap.read_ns = m->t0_ns;
	growth_point(m, m->t0_ns, true);
	return m;
fail:
	snprintf(err, len, "%s", m->err);
	fog_memprobe__free(m);
	errno = -rc;
	return NULL;
}

void fog_memprobe__free(struct fog_memprobe *m)
{
	if (!m)
		return;
	detach(m, true);
	reap_detacher(m, true);
	ring_buffer__free(m->rb);
	fog_unwinder__free(m->unw);	/* before the ring buffer it reads goes */
	free(m->unw_slot);
	memprobe_bpf__destroy(m->skel);
	fog_symbolizer__free(m->sym);
	free(m->snap.stacks);
	free(m->snap.live);
	free(m->start_stacks);
	fog_prof__free(m->inuse);
	fog_prof__free(m->alloc);
	free(m);
}

bool fog_memprobe__poll(struct fog_memprobe *m)
{
	__u64 now = clock_ns(CLOCK_MONOTONIC);

	if (m->finished)
		return true;
	ring_buffer__consume(m->rb);
	reap_detacher(m, false);
	growth_point(m, now, false);
	if (fog_proc_start_time(m->pid) != m->start_time) {
		m->exited = true;
		m->end_ns = now;
		return true;
	}
	if (m->next_switch_ns && now >= m->next_switch_ns) {
		if (m->alloc_on) {
			detach(m, false);
			m->next_switch_ns = now + (__u64)m->off_ms * 1000000ULL;
			m->switches++;
		} else if (reap_detacher(m, false)) {
			if (attach_alloc(m))
				fprintf(stderr, "memprobe: %s\n", m->err);
			m->next_switch_ns = now + (__u64)m->on_ms * 1000000ULL;
			m->switches++;
		}
	}
	return now - m->t0_ns >= (__u64)m->seconds * 1000000000ULL;
}

__u64 fog_memprobe__samples(struct fog_memprobe *m)
{
	return m->snap.hdr.samples;
}

/* alloc.c's note names the preload sampler: this profile's source is said instead. */
static void retitle(struct fog_prof *p, const struct fog_memprobe *m)
{
	for (size_t i = 0; i < p->nnotes; i++) {
		char *s;

		if (strncmp(p->notes[i], "memory sampled by libfogalloc.so", 32))
			continue;
		if (asprintf(&s, "memory sampled by uprobes on %s in pid %u: one allocation per "
			     "%llu bytes on average, each weighted by size/probability (estimates, "
			     "error about sqrt(bytes x %llu)); only allocations made while the "
			     "probes were attached are seen", m->libc, m->pid,
			     (unsigned long long)m->mean, (unsigned long long)m->mean) < 0)
			return;
		free(p->notes[i]);
		p->notes[i] = s;
	}
}

static void cost_note(struct fog_prof *p, struct fog_memprobe *m)
{
	json_t *j = fog_memprobe__json(m);
	json_t *cost = json_object_get(j, "estimated_cost_seconds");

	fog_prof__note(p, "uprobe mode: %lld probe hits in %.1f s (allocation probes attached "
		       "%.1f s of it)", (long long)json_integer_value(json_object_get(j,
		       "hits_total")), json_real_value(json_object_get(j, "seconds")),
		       json_real_value(json_object_get(j, "alloc_probes_seconds")));
	if (json_is_real(cost)) {
		json_t *c = json_object_get(j, "cost_per_hit_ns");

		fog_prof__note(p, "uprobe mode cost: about %.3f s of the process's CPU time (per "
			       "hit, measured on this host: malloc %.1f us, free %.1f us, return "
			       "%.1f us), against tens of ns per allocation with "
			       "LD_PRELOAD=libfogalloc.so", json_real_value(cost),
			       json_real_value(json_object_get(c, "malloc")) / 1e3,
			       json_real_value(json_object_get(c, "free")) / 1e3,
			       json_real_value(json_object_get(c, "return")) / 1e3);
	}
	else
		fog_prof__note(p, "uprobe mode cost: not measured (no probe on this program "
			       "could be attached); each hit costs microseconds");
	if (m->exited)
		fog_prof__note(p, "process %u exited %.1f s into the profile: figures are those "
			       "seen until then", m->pid, (double)(m->end_ns - m->t0_ns) / 1e9);
	if (m->unmatched_frees)
		fog_prof__note(p, "%llu frees of sampled addresses arrived without their "
			       "allocation", (unsigned long long)m->unmatched_frees);
	json_decref(j);
}

static struct fog_prof *build(struct fog_memprobe *m, enum fog_prof_kind kind, int *err)
{
	struct fog_alloc_snap start = m->snap;
	struct fog_prof *p = fog_prof__new(kind);
	struct fog_memprobe_stats st;

	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	/* the start: nothing sampled and nothing live, at the attach */
	memset(&start.hdr.growth, 0, sizeof(start.hdr.growth));
	start.hdr.ngrowth = 0;
	start.hdr.live_bytes = start.hdr.alloc_bytes = 0;
	start.read_ns = m->t0_ns;
	start.stacks = m->start_stacks;
	start.live = NULL;
	snprintf(p->target, sizeof(p->target), "pid %u", m->pid);
	p->start_unix_ns = m->t0_unix_ns;
	*err = fog_alloc_build(&m->snap, &start, m->sym, p);
	if (*err) {
		fog_prof__free(p);
		return NULL;
	}
	retitle(p, m);
	cost_note(p, m);
	read_stats(m, &st);
	if (st.lost_events)
		fog_prof__note(p, "%llu samples or frees did not fit in the ring buffer",
			       (unsigned long long)st.lost_events);
	return p;
}

void fog_memprobe__read_target(struct fog_memprobe *m)
{
	fog_symbolizer__add_pid(m->sym, m->pid);
}

static __u64 hash_ips(const __u64 *ips, __u32 n)
{
	__u64 h = 1469598103934665603ull;

	for (__u32 i = 0; i < n; i++)
		h = (h ^ ips[i]) * 1099511628211ull;
	return h | 1ull << 63;	/* apart from the stack-id hashes (id + 1) */
}

/*
 * The unwound slots get their frames (the unwinder is flushed first: the
 * probes are gone); a slot whose frames another slot has already is merged
 * into it, its live allocations moved with it.
 */
static void resolve_unwound(struct fog_memprobe *m)
{
	__u32 n = m->snap.hdr.nstacks, *to;

	if (!m->unw)
		return;
	fog_unwinder__flush(m->unw);
	to = calloc(FOG_ALLOC_STACKS, sizeof(*to));
	for (__u32 i = 1; i < n; i++) {
		struct fog_alloc_stack *st = &m->snap.stacks[i];
		const struct fog_unw_stack *u;

		if (!m->unw_slot[i].seq)
			continue;
		u = fog_unwinder__find(m->unw, m->unw_slot[i].tid, m->unw_slot[i].seq);
		if (!u)
			continue;	/* its copy was lost: no frames */
		st->depth = u->nips < FOG_ALLOC_DEPTH ? u->nips : FOG_ALLOC_DEPTH;
		memcpy(st->ips, u->ips, st->depth * sizeof(st->ips[0]));
		st->hash = hash_ips(st->ips, st->depth);
		for (__u32 k = 1; to && k < i; k++) {
			struct fog_alloc_stack *o = &m->snap.stacks[k];

			if (!m->unw_slot[k].seq || to[k] || o->hash != st->hash ||
			    o->depth != st->depth || memcmp(o->ips, st->ips, st->depth * 8))
				continue;
			o->samples += st->samples;
			o->alloc_bytes += st->alloc_bytes;
			o->alloc_objects += st->alloc_objects;
			o->free_bytes += st->free_bytes;
			o->free_objects += st->free_objects;
			o->big += st->big;
			memset(st, 0, sizeof(*st));
			to[i] = k;
			break;
		}
	}
	if (to) {
		for (size_t i = 0; i < FOG_ALLOC_LIVE; i++)
			if (m->snap.live[i].ptr > 1 && to[m->snap.live[i].stack])
				m->snap.live[i].stack = to[m->snap.live[i].stack];
		free(to);
	}
}

int fog_memprobe__finish(struct fog_memprobe *m)
{
	int err;

	if (m->finished)
		return -EALREADY;
	m->finished = true;
	detach(m, true);
	ring_buffer__consume(m->rb);
	if (!m->end_ns)	/* the probes were there until now */
		m->end_ns = clock_ns(CLOCK_MONOTONIC);
	m->snap.read_ns = m->end_ns;
	growth_point(m, m->end_ns, true);
	resolve_unwound(m);
	m->inuse = build(m, FOG_PROF_INUSE, &err);
	if (m->inuse)
		m->alloc = build(m, FOG_PROF_ALLOC, &err);
	/* the programs and maps go now, not when the result is dropped */
	read_stats(m, &m->final);
	ring_buffer__free(m->rb);
	m->rb = NULL;
	fog_unwinder__free(m->unw);
	m->unw = NULL;
	memprobe_bpf__destroy(m->skel);
	m->skel = NULL;
	return m->alloc ? 0 : err;
}

const struct fog_prof *fog_memprobe__prof(const struct fog_memprobe *m, bool allocated)
{
	return allocated ? m->alloc : m->inuse;
}

json_t *fog_memprobe__json(struct fog_memprobe *m)
{
	struct fog_memprobe_stats st;
	struct fog_memprobe_cost c;
	int err;
	__u64 now = m->end_ns ? m->end_ns : clock_ns(CLOCK_MONOTONIC), entries = 0, on;
	json_t *j = json_object(), *hits = json_object();

	read_stats(m, &st);
	for (int k = 0; k < FOG_MEMPROBE_KINDS; k++) {
		entries += st.entries[k];
		json_object_set_new(hits, probe_names[k], json_integer((json_int_t)st.entries[k]));
	}
	json_object_set_new(hits, "returns", json_integer((json_int_t)st.returns));
	on = m->on_total_ns + (m->alloc_on ? now - m->on_since_ns : 0);
	json_object_set_new(j, "source", json_string("uprobe"));
	json_object_set_new(j, "libc", json_string(m->libc));
	json_object_set_new(j, "free_probe_after_null_test", json_integer(m->free_skip));
	json_object_set_new(j, "mean_bytes", json_integer((json_int_t)m->mean));
	json_object_set_new(j, "seconds", json_real((double)(now - m->t0_ns) / 1e9));
	json_object_set_new(j, "max_seconds", json_integer(m->seconds));
	json_object_set_new(j, "alloc_probes_seconds", json_real((double)on / 1e9));
	if (m->off_ms)
		json_object_set_new(j, "duty_cycle", json_pack("{s:I,s:I,s:I}", "on_ms",
							       (json_int_t)m->on_ms, "off_ms",
							       (json_int_t)m->off_ms, "switches",
							       (json_int_t)m->switches));
	json_object_set_new(j, "attached", json_boolean(!m->finished));
	json_object_set_new(j, "detaching", json_boolean(m->detaching &&
							 !__atomic_load_n(&m->detach_done,
									  __ATOMIC_ACQUIRE)));
	json_object_set_new(j, "process_exited", json_boolean(m->exited));
	json_object_set_new(j, "hits", hits);
	json_object_set_new(j, "hits_total", json_integer((json_int_t)(entries + st.returns)));
	json_object_set_new(j, "hits_other_processes", json_integer((json_int_t)st.filtered));
	json_object_set_new(j, "sampled", json_integer((json_int_t)st.sampled));
	json_object_set_new(j, "sampled_freed", json_integer((json_int_t)st.freed));
	json_object_set_new(j, "nested_calls", json_integer((json_int_t)st.nested));
	json_object_set_new(j, "libc_internal_mmaps", json_integer((json_int_t)st.internal));
	json_object_set_new(j, "lost", json_pack("{s:I,s:I,s:I}", "events",
						 (json_int_t)st.lost_events, "stacks",
						 (json_int_t)st.lost_stacks, "live",
						 (json_int_t)st.lost_live));
	err = fog_memprobe_hit_cost(&c, m->finished);
	if (!err) {
		json_t *per = json_object();
		double cost = (double)st.returns * c.return_ns;

		/* hits by function, each at the cost of the instruction its probe sits on */
		for (int k = 0; k < FOG_MEMPROBE_KINDS; k++) {
			double ns = m->emulated[k] ? c.emulated_ns : c.stepped_ns;

			cost += (double)st.entries[k] * ns;
			json_object_set_new(per, probe_names[k], json_real(ns));
		}
		json_object_set_new(per, "return", json_real(c.return_ns));
		json_object_set_new(j, "cost_per_hit_ns", per);
		json_object_set_new(j, "estimated_cost_seconds", json_real(cost / 1e9));
	} else {
		json_object_set_new(j, "cost_per_hit_ns", json_null());
		json_object_set_new(j, "estimated_cost_seconds", json_null());
		json_object_set_new(j, "cost_unknown", json_string(err == -EINPROGRESS ?
				    "being measured" : strerror(-err)));
	}
	return j;
}
