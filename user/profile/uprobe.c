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

_Static_assert(sizeof(struct fog_memprobe_event) == 40, "fog_memprobe_event layout");
_Static_assert(FOG_MEMPROBE_DEPTH <= FOG_ALLOC_DEPTH, "stack depth beyond the sampler's");

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
 * The fog_memprobe_uprobe_multi part of BPF_LINK_CREATE (Linux 6.6), which the libbpf of
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
int fog_memprobe_uprobe_multi(struct bpf_program *prog, const char *path, const __u64 *offs,
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

/* Before load: the programs are attached through fog_memprobe_uprobe_multi links. */
void fog_memprobe_set_multi(struct memprobe_bpf *skel)
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

int fog_memprobe_func_offsets_path(const struct fog_memprobe *m, const char *const *names, int n,
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

/* ---- the target's libc ---- */

static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so", 7) || !strncmp(base, "libc-2.", 7) ||
	       !strncmp(base, "libc.musl", 9) || !strncmp(base, "ld-musl", 7);
}

struct libc_ctx {
	struct fog_memprobe *m;
	__u64 lo, hi;
	bool any;	/* a mapping was seen at all (a kernel thread has none) */
};

static int libc_line(const struct fog_map_line *ml, void *arg)
{
	struct libc_ctx *c = arg;

	c->any = true;
	if (!ml->exec || ml->path[0] != '/' || !is_libc(ml->path))
		return 0;
	snprintf(c->m->libc, sizeof(c->m->libc), "%s", ml->path);
	c->lo = ml->start;
	c->hi = ml->end;
	return 1;
}

/* The executable mapping of pid's libc: path, text range and a path to attach through. */
static int find_libc(struct fog_memprobe *m, __u64 *lo, __u64 *hi)
{
	struct libc_ctx c = { .m = m };
	struct stat st_root, st_map;
	char path[64];
	int err = fog_maps_walk(m->pid, libc_line, &c, NULL);

	if (err < 0) {
		snprintf(m->err, sizeof(m->err), "process %u: cannot read its maps: %s", m->pid,
			 strerror(-err));
		return err == -ENOENT ? -ESRCH : err;
	}
	err = err ? 0 : -ENOENT;
	if (!err) {
		*lo = c.lo;
		*hi = c.hi;
		/*
		 * The file as the process sees it (containers): through its root,
		 * unless that is no longer the mapped file (replaced or deleted), then
		 * through map_files (CAP_CHECKPOINT_RESTORE).
		 */
		snprintf(m->probe_path, sizeof(m->probe_path), "/proc/%u/root%.60s", m->pid,
			 m->libc);
		snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", m->pid,
			 (unsigned long long)c.lo, (unsigned long long)c.hi);
		if (stat(m->probe_path, &st_root) || stat(path, &st_map) ||
		    st_root.st_ino != st_map.st_ino || st_root.st_dev != st_map.st_dev)
			snprintf(m->probe_path, sizeof(m->probe_path), "%s", path);
	}
	if (err)
		snprintf(m->err, sizeof(m->err), "process %u has no C library mapped (%s): the "
			 "uprobe memory mode probes libc's malloc and free", m->pid,
			 c.any ? "a static binary, or an allocator of its own" : "a kernel thread");
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
		m->emulated[p] = fog_memprobe_emulated(c);
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
		m->on_total_ns += fog_clock_ns(CLOCK_MONOTONIC) - m->on_since_ns;
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
		 " (fog_memprobe_uprobe_multi links need Linux 6.6 or later)" : err == -EPERM ?
		 " (needs CAP_BPF and CAP_PERFMON)" : "");
	return err;
}

static int attach_alloc(struct fog_memprobe *m)
{
	static const __u64 cookies[P_FREE] = { FOG_MEMPROBE_MALLOC, FOG_MEMPROBE_CALLOC,
					       FOG_MEMPROBE_REALLOC, FOG_MEMPROBE_MMAP };

	new_epoch(m);
	/* returns first, then entries: an entry seen always has its return probe */
	m->ret_fd = fog_memprobe_uprobe_multi(m->skel->progs.handle_return, m->probe_path, m->offs, cookies,
				 P_FREE, m->pid, true);
	if (m->ret_fd < 0)
		return attach_fail(m, m->ret_fd, "the returns of malloc, calloc, realloc, mmap");
	m->alloc_fd = fog_memprobe_uprobe_multi(m->skel->progs.handle_alloc, m->probe_path, m->offs, cookies,
				   P_FREE, m->pid, false);
	m->alloc_on = true;
	m->on_since_ns = fog_clock_ns(CLOCK_MONOTONIC);
	if (m->alloc_fd < 0) {
		int err = m->alloc_fd;

		detach(m, false);
		return attach_fail(m, err, "malloc, calloc, realloc, mmap");
	}
	return 0;
}

/* ---- the session ---- */

/* The sampler's tables this session fills, and their header (the file format's). */
static int snap_init(struct fog_memprobe *m, struct fog_elfcache *cache)
{
	char path[64];
	FILE *f;

	m->snap.stacks = calloc(FOG_ALLOC_STACKS, sizeof(*m->snap.stacks));
	m->snap.live = calloc(FOG_ALLOC_LIVE, sizeof(*m->snap.live));
	m->start_stacks = calloc(FOG_ALLOC_STACKS, sizeof(*m->start_stacks));
	m->sym = fog_symbolizer__new(cache);
	if (!m->snap.stacks || !m->snap.live || !m->start_stacks || !m->sym) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		return -ENOMEM;
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
	return 0;
}

/* Opens and loads the memprobe object for the target, its unwinder and ring buffer. */
static int bpf_init(struct fog_memprobe *m, __u64 lo, __u64 hi)
{
	int rc;

	m->skel = memprobe_bpf__open();
	if (!m->skel) {
		rc = -errno;
		snprintf(m->err, sizeof(m->err), "cannot open the memprobe BPF object: %s",
			 strerror(-rc));
		return rc;
	}
	fog_memprobe_set_multi(m->skel);
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
		return rc;
	}
	m->unw_slot = calloc(FOG_ALLOC_STACKS, sizeof(*m->unw_slot));
	m->unw = m->unw_slot ? fog_unwinder__new(bpf_map__fd(m->skel->maps.memprobe_unwind)) : NULL;
	if (!m->unw) {
		snprintf(m->err, sizeof(m->err), "cannot start the unwinder: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	m->rb = ring_buffer__new(bpf_map__fd(m->skel->maps.memprobe_events), fog_memprobe_on_event, m, NULL);
	if (!m->rb) {
		rc = -errno;
		snprintf(m->err, sizeof(m->err), "cannot open the memprobe ring buffer: %s",
			 strerror(-rc));
		return rc;
	}
	return 0;
}

struct fog_memprobe *fog_memprobe__new(const struct fog_memprobe_opts *o,
				       struct fog_elfcache *cache, char *err, size_t len)
{
	static const __u64 free_cookies[NPROBES - P_FREE] = { FOG_MEMPROBE_FREE,
							      FOG_MEMPROBE_MUNMAP };
	struct fog_memprobe *m = calloc(1, sizeof(*m));
	__u64 lo = 0, hi = 0;
	int rc;

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
	rc = fog_memprobe_func_offsets_path(m, probe_names, NPROBES, m->offs);
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
	rc = snap_init(m, cache);
	if (rc)
		goto fail;
	/* what a hit costs is measured once, in the background, on functions of this process */
	{
		struct fog_memprobe_cost c;

		fog_memprobe_hit_cost(&c, false);
	}
	rc = bpf_init(m, lo, hi);
	if (rc)
		goto fail;
	/* free and munmap first: no sampled allocation can be freed unseen */
	m->free_fd = fog_memprobe_uprobe_multi(m->skel->progs.handle_free, m->probe_path, &m->offs[P_FREE],
				  free_cookies, NPROBES - P_FREE, m->pid, false);
	if (m->free_fd < 0) {
		rc = attach_fail(m, m->free_fd, "free, munmap");
		goto fail;
	}
	m->t0_ns = fog_clock_ns(CLOCK_MONOTONIC);
	m->t0_unix_ns = fog_clock_ns(CLOCK_REALTIME);
	rc = attach_alloc(m);
	if (rc)
		goto fail;
	m->next_switch_ns = m->off_ms ? m->t0_ns + (__u64)m->on_ms * 1000000ULL : 0;
	m->snap.read_ns = m->t0_ns;
	fog_memprobe_growth_point(m, m->t0_ns, true);
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
	__u64 now = fog_clock_ns(CLOCK_MONOTONIC);

	if (m->finished)
		return true;
	ring_buffer__consume(m->rb);
	reap_detacher(m, false);
	fog_memprobe_growth_point(m, now, false);
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
	fog_memprobe_read_stats(m, &st);
	if (st.lost_events)
		fog_prof__note(p, "%llu samples or frees did not fit in the ring buffer",
			       (unsigned long long)st.lost_events);
	return p;
}

void fog_memprobe__read_target(struct fog_memprobe *m)
{
	fog_symbolizer__add_pid(m->sym, m->pid);
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
		m->end_ns = fog_clock_ns(CLOCK_MONOTONIC);
	m->snap.read_ns = m->end_ns;
	fog_memprobe_growth_point(m, m->end_ns, true);
	fog_memprobe_resolve_unwound(m);
	m->inuse = build(m, FOG_PROF_INUSE, &err);
	if (m->inuse)
		m->alloc = build(m, FOG_PROF_ALLOC, &err);
	/* the programs and maps go now, not when the result is dropped */
	fog_memprobe_read_stats(m, &m->final);
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
	__u64 now = m->end_ns ? m->end_ns : fog_clock_ns(CLOCK_MONOTONIC), entries = 0, on;
	json_t *j = json_object(), *hits = json_object();

	fog_memprobe_read_stats(m, &st);
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
