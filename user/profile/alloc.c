// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/procfs.h"
#include "base/safe_open.h"
#include "profile/alloc.h"
#include "profile/symbolize.h"

#define READ_TRIES 64
#define COPY_TRIES 8	/* whole-file copies of a file whose seqlock keeps moving */
#define MAX_LEAKS 20
#define STACK_BUF 4096
#define STATUS_READ_MAX (16u << 10)	/* of /proc/PID/status (some 1.5 KiB; NSpid is line 9) */

static const char *const err_names[FOG_ALLOC_ERR_N] = {
	[FOG_ALLOC_ERR_NOT_REGULAR] = "not_regular",
	[FOG_ALLOC_ERR_SIZE] = "size",
	[FOG_ALLOC_ERR_FORMAT] = "format",
	[FOG_ALLOC_ERR_COUNTS] = "counts",
	[FOG_ALLOC_ERR_READ] = "read",
};
static __u64 err_counts[FOG_ALLOC_ERR_N];
static int err_logged[FOG_ALLOC_ERR_N];

/* Counts a refused or repaired sampler file; logs the first of each reason. */
static void count_err(enum fog_alloc_err reason, const char *msg)
{
	__atomic_add_fetch(&err_counts[reason], 1, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&err_logged[reason], 1, __ATOMIC_RELAXED))
		fog_warnx("allocation sampler file refused (%s, logged once): %s", err_names[reason],
			  msg);
}

__u64 fog_alloc_err_count(enum fog_alloc_err reason)
{
	if ((unsigned int)reason >= FOG_ALLOC_ERR_N)
		return 0;
	return __atomic_load_n(&err_counts[reason], __ATOMIC_RELAXED);
}

const char *fog_alloc_err_name(enum fog_alloc_err reason)
{
	return (unsigned int)reason < FOG_ALLOC_ERR_N ? err_names[reason] : "unknown";
}

/*
 * The copies are mapped, not malloc'd: a process profiling itself with the
 * sampler preloaded would otherwise see megabytes of its profiler's own buffers.
 */
static void *map_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void fog_alloc_snap__free(struct fog_alloc_snap *s)
{
	if (!s)
		return;
	if (s->stacks)
		munmap(s->stacks, FOG_ALLOC_STACKS * sizeof(*s->stacks));
	if (s->live)
		munmap(s->live, FOG_ALLOC_LIVE * sizeof(*s->live));
	free(s);
}

/* Copies the file's parts; true when no write was under way or began (a consistent copy). */
static bool copy_once(const char *base, struct fog_alloc_snap *s)
{
	const struct fog_alloc_header *h = (const void *)base;
	__u64 s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE), s2;

	memcpy(&s->hdr, base, sizeof(s->hdr));
	memcpy(s->stacks, base + FOG_ALLOC_HEADER_SIZE,
	       FOG_ALLOC_STACKS * sizeof(struct fog_alloc_stack));
	memcpy(s->live, base + FOG_ALLOC_HEADER_SIZE + FOG_ALLOC_STACKS *
					       sizeof(struct fog_alloc_stack),
	       FOG_ALLOC_LIVE * sizeof(struct fog_alloc_live));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s2 = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
	return s1 == s2 && !(s1 & 1);
}

/* Every figure used later is bounded here: the file is written by the profiled process. */
static int check(struct fog_alloc_snap *s, char *err, size_t len)
{
	struct fog_alloc_header *h = &s->hdr;
	size_t bad = 0;

	if (h->magic != FOG_ALLOC_MAGIC) {
		snprintf(err, len, "not an allocation sampler file (bad magic)");
		return -EPROTO;
	}
	if (h->version != FOG_ALLOC_VERSION || h->header_size != FOG_ALLOC_HEADER_SIZE ||
	    h->depth != FOG_ALLOC_DEPTH || h->stacks_cap != FOG_ALLOC_STACKS ||
	    h->live_cap != FOG_ALLOC_LIVE) {
		snprintf(err, len, "sampler file of another libfogalloc version (%u, want %u)",
			 h->version, FOG_ALLOC_VERSION);
		return -EPROTO;
	}
	if (!h->mean) {
		snprintf(err, len, "sampler file has no sampling interval");
		return -EPROTO;
	}
	if (h->nstacks > FOG_ALLOC_STACKS) {
		h->nstacks = FOG_ALLOC_STACKS;
		bad++;
	}
	if (h->ngrowth > FOG_ALLOC_GROWTH) {
		h->ngrowth = FOG_ALLOC_GROWTH;
		bad++;
	}
	for (size_t i = 0; i < FOG_ALLOC_STACKS; i++)
		if (s->stacks[i].depth > FOG_ALLOC_DEPTH) {
			s->stacks[i].depth = FOG_ALLOC_DEPTH;
			bad++;
		}
	for (size_t i = 0; i < FOG_ALLOC_LIVE; i++)
		if (s->live[i].ptr > 1 && s->live[i].stack >= FOG_ALLOC_STACKS) {
			s->live[i].ptr = 0;	/* dropped rather than trusted */
			bad++;
		}
	if (bad) {
		char msg[128];

		snprintf(msg, sizeof(msg), "process %u: %zu counts or indices past their tables, "
			 "clamped or dropped", s->pid, bad);
		count_err(FOG_ALLOC_ERR_COUNTS, msg);
	}
	return 0;
}

struct fog_alloc_snap *fog_alloc_snap__parse(const void *buf, size_t len, __u32 pid, char *err,
					     size_t errlen)
{
	struct fog_alloc_snap *s = calloc(1, sizeof(*s));
	int rc = -ENOMEM;

	if (s) {
		s->stacks = map_buf(FOG_ALLOC_STACKS * sizeof(*s->stacks));
		s->live = map_buf(FOG_ALLOC_LIVE * sizeof(*s->live));
	}
	if (!s || !s->stacks || !s->live) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (len != FOG_ALLOC_FILE_SIZE) {
		snprintf(err, errlen, "sampler file is %zu bytes, want %llu", len,
			 (unsigned long long)FOG_ALLOC_FILE_SIZE);
		rc = -EPROTO;
		goto fail;
	}
	s->pid = pid;
	s->read_ns = fog_now_ns();
	for (int i = 0; i < READ_TRIES && !copy_once(buf, s); i++)
		s->torn = i + 1 == READ_TRIES;
	rc = check(s, err, errlen);
	if (rc)
		goto fail;
	return s;
fail:
	fog_alloc_snap__free(s);
	errno = -rc;
	return NULL;
}

/* FOG_ALLOC_DIR and whether libfogalloc is preloaded, from the process's environment. */
static void target_env(__u32 pid, char *dir, size_t len, bool *preloaded)
{
	char path[64], *buf = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	snprintf(dir, len, "%s", FOG_ALLOC_DIR_DEFAULT);
	*preloaded = false;
	snprintf(path, sizeof(path), "/proc/%u/environ", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while ((n = getdelim(&buf, &cap, '\0', f)) > 0) {
		p = buf;
		if (!strncmp(p, "FOG_ALLOC_DIR=", 14) && p[14] == '/' && !strstr(p, "/.."))
			snprintf(dir, len, "%s", p + 14);
		if (!strncmp(p, "LD_PRELOAD=", 11) && strstr(p, "libfogalloc"))
			*preloaded = true;
	}
	free(buf);
	fclose(f);
}

__u32 fog_alloc_status_ns_pid(FILE *f, __u32 pid)
{
	char buf[STATUS_READ_MAX];
	size_t n = fread(buf, 1, sizeof(buf), f);

	return fog_proc_status_ns_pid(buf, n, pid);
}

/* The pid the process sees itself as (the last NSpid), which names its file. */
static __u32 ns_pid(__u32 pid)
{
	char path[64];
	__u32 v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	v = fog_alloc_status_ns_pid(f, pid);
	fclose(f);
	return v;
}

/* The header's seqlock word as the file holds it now; 1 (odd: retry) when unreadable. */
static __u64 file_seq(int fd)
{
	__u64 seq;

	if (pread(fd, &seq, sizeof(seq), (off_t)offsetof(struct fog_alloc_header, seq)) !=
	    sizeof(seq))
		return 1;
	return __atomic_load_n(&seq, __ATOMIC_RELAXED);
}

/*
 * A bounded copy of the sampler file (pread, never a mapping), retried while
 * the writer's seqlock moved during the copy; *torn when it never held still.
 */
static int read_copy(int fd, char **m, size_t *mlen, bool *torn)
{
	int err = 0;

	*m = NULL;
	*torn = true;
	for (int i = 0; i < COPY_TRIES && *torn; i++) {
		__u64 s1 = file_seq(fd), s2;

		free(*m);
		err = fog_safe_read_fd(fd, FOG_ALLOC_FILE_SIZE, m, mlen, NULL);
		if (err)
			return err;
		s2 = file_seq(fd);
		*torn = s1 != s2 || (s1 & 1);
	}
	return 0;
}

struct fog_alloc_snap *fog_alloc_snap__read(__u32 pid, char *err, size_t len)
{
	char dir[256], path[512];
	struct fog_alloc_snap *s;
	__u64 started = fog_proc_start_time(pid);
	bool preloaded, torn;
	size_t mlen;
	char *m;
	int fd, e;

	if (!started) {
		snprintf(err, len, "process %u: no such process", pid);
		errno = ESRCH;
		return NULL;
	}
	target_env(pid, dir, sizeof(dir), &preloaded);
	/*
	 * The file is the tenant's, inside its root: opened with
	 * fog_safe_open_in_root (a FIFO, a device or a link out of the root is
	 * refused) and read as a bounded copy, never mapped: a mapping of a file
	 * its owner truncates would raise SIGBUS in fogd.
	 */
	snprintf(path, sizeof(path), "%s/" FOG_ALLOC_PREFIX "%u", dir, ns_pid(pid));
	fd = fog_safe_open_in_root((pid_t)pid, path, (off_t)FOG_ALLOC_FILE_SIZE);
	if (fd < 0) {
		e = -fd;
		if (e == ENOENT && !preloaded)
			snprintf(err, len, "process %u does not run with the allocation sampler: "
				 "start it with LD_PRELOAD=/path/to/libfogalloc.so", pid);
		else if (e == EINVAL || e == ELOOP || e == EFBIG)
			snprintf(err, len, "process %u: %s is not an allocation sampler file "
				 "(not a regular file of %llu bytes)", pid, path,
				 (unsigned long long)FOG_ALLOC_FILE_SIZE);
		else
			snprintf(err, len, "process %u: cannot open %s: %s", pid, path, strerror(e));
		if (e == EINVAL || e == ELOOP)
			count_err(FOG_ALLOC_ERR_NOT_REGULAR, err);
		else if (e == EFBIG)
			count_err(FOG_ALLOC_ERR_SIZE, err);
		errno = e == EFBIG || e == ELOOP || e == EINVAL ? EPROTO : e;
		return NULL;
	}
	e = read_copy(fd, &m, &mlen, &torn);
	close(fd);
	if (e) {
		snprintf(err, len, "process %u: cannot read %s: %s", pid, path, strerror(-e));
		count_err(FOG_ALLOC_ERR_READ, err);
		errno = -e;
		return NULL;
	}
	if (mlen != FOG_ALLOC_FILE_SIZE) {	/* truncated before or while it was read */
		snprintf(err, len, "process %u: %s is not an allocation sampler file (%zu bytes, "
			 "not %llu)", pid, path, mlen, (unsigned long long)FOG_ALLOC_FILE_SIZE);
		count_err(FOG_ALLOC_ERR_SIZE, err);
		free(m);
		errno = EPROTO;
		return NULL;
	}
	s = fog_alloc_snap__parse(m, FOG_ALLOC_FILE_SIZE, pid, err, len);
	e = errno;
	if (!s && e == EPROTO)
		count_err(FOG_ALLOC_ERR_FORMAT, err);
	free(m);
	if (s && torn)
		s->torn = true;
	if (s) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		f = fopen(path, "re");
		if (f) {
			if (fgets(s->comm, sizeof(s->comm), f))
				s->comm[strcspn(s->comm, "\n")] = '\0';
			fclose(f);
		}
	}
	if (s && s->hdr.start_time && s->hdr.start_time != started) {
		snprintf(err, len, "%s was left by an earlier process %u", path, pid);
		fog_alloc_snap__free(s);
		errno = ESTALE;
		return NULL;
	}
	errno = e;
	return s;
}

/* Symbolizes one stack of the file into frame indices (leaf first). */
static int stack_frames(struct fog_prof *p, struct fog_symbolizer *sym, __u32 pid,
			const struct fog_alloc_stack *st, bool overflow, __u32 *frames, __u32 *n)
{
	long fi;

	*n = 0;
	if (overflow) {
		fi = fog_prof__frame(p, "[stack table full]", NULL, 0, false, 0);
		if (fi < 0)
			return (int)fi;
		frames[(*n)++] = (__u32)fi;
		return 0;
	}
	for (__u32 i = 0; i < st->depth; i++) {
		/* return addresses point past the call: look up the call itself */
		__u64 ip = st->ips[i] - 1;
		struct fog_sym s;
		__u32 map = 0;

		fog_symbolizer__user(sym, pid, ip, &s);
		if (s.map_start)
			map = fog_prof__mapping(p, s.module, s.map_start, s.map_limit, s.map_offset,
						s.build_id);
		fi = fog_prof__frame(p, s.func ? s.func : (s.module && s.module[0] == '[') ?
						  s.module : NULL, s.module, s.addr, false, map);
		if (fi < 0)
			return (int)fi;
		if (map)
			p->frames[fi].ip = ip;
		frames[(*n)++] = (__u32)fi;
	}
	return 0;
}

/* The same stack in the start copy: slots never move, so the slot and its hash say it. */
static const struct fog_alloc_stack *start_of(const struct fog_alloc_snap *start, size_t i,
					      const struct fog_alloc_stack *st)
{
	if (!start || start->stacks[i].hash != st->hash)
		return NULL;
	return &start->stacks[i];
}

static __u64 sub(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

/* live - before as a signed change, saturated: the file's counts can be any 64-bit value. */
static __s64 growth(__u64 live, __u64 before)
{
	if (live >= before)
		return live - before > (__u64)INT64_MAX ? INT64_MAX : (__s64)(live - before);
	return before - live > (__u64)INT64_MAX ? INT64_MIN : -(__s64)(before - live);
}

static int cmp_leak(const void *a, const void *b)
{
	const struct fog_prof_leak *x = a, *y = b;

	return (x->live_bytes < y->live_bytes) - (x->live_bytes > y->live_bytes);
}

static int add_leak(struct fog_prof *p, const struct fog_prof_stack *ps,
		    const struct fog_prof_leak *l)
{
	char *buf = malloc(STACK_BUF);
	struct fog_prof_leak *v;

	if (!buf)
		return -ENOMEM;
	fog_prof_stack_name(p, ps, buf, STACK_BUF);
	v = realloc(p->leaks, (p->nleaks + 1) * sizeof(*v));
	if (!v) {
		free(buf);
		return -ENOMEM;
	}
	p->leaks = v;
	v[p->nleaks] = *l;
	v[p->nleaks].stack = buf;
	v[p->nleaks].func = strdup(ps->n ? p->frames[ps->frames[0]].func : FOG_PROF_UNKNOWN);
	if (!v[p->nleaks].func) {
		free(buf);
		return -ENOMEM;
	}
	p->nleaks++;
	return 0;
}

static void add_growth(const struct fog_alloc_snap *end, struct fog_prof *p)
{
	const struct fog_alloc_header *h = &end->hdr;

	p->growth = calloc(h->ngrowth + 1, sizeof(*p->growth));
	if (!p->growth)
		return;
	for (__u32 i = 0; i < h->ngrowth; i++) {
		double t = ((double)h->growth[i].mono_ns - (double)end->read_ns) / 1e9;

		p->growth[p->ngrowth++] = (struct fog_prof_point){ t < 0 ? t : 0,
								   h->growth[i].live_bytes };
	}
	p->growth[p->ngrowth++] = (struct fog_prof_point){ 0, h->live_bytes };
}

int fog_alloc_build(const struct fog_alloc_snap *end, const struct fog_alloc_snap *start,
		    struct fog_symbolizer *sym, struct fog_prof *p)
{
	__u64 *oldest = calloc(FOG_ALLOC_STACKS, sizeof(*oldest));
	__u32 frames[FOG_ALLOC_DEPTH + 1];
	char comm[16] = "";
	int err = 0;

	if (!oldest)
		return -ENOMEM;
	for (size_t i = 0; i < FOG_ALLOC_LIVE; i++) {
		const struct fog_alloc_live *l = &end->live[i];

		if (l->ptr > 1 && (!oldest[l->stack] || l->mono_ns < oldest[l->stack]))
			oldest[l->stack] = l->mono_ns;
	}
	p->period = end->hdr.mean;
	if (start) {
		p->duration_ns = sub(end->read_ns, start->read_ns);
		if (start->hdr.start_time != end->hdr.start_time)
			start = NULL;	/* another process took the pid meanwhile */
	}
	snprintf(comm, sizeof(comm), "%s", end->comm[0] ? end->comm : FOG_PROF_UNKNOWN);
	for (size_t i = 0; i < FOG_ALLOC_STACKS && !err; i++) {
		const struct fog_alloc_stack *st = &end->stacks[i], *s0 = start_of(start, i, st);
		__u64 live = sub(st->alloc_bytes, st->free_bytes);
		__u64 objs = sub(st->alloc_objects, st->free_objects);
		__u64 value, count;
		__u32 n;

		if (!st->samples)
			continue;
		if (p->kind == FOG_PROF_INUSE) {
			value = live;
			count = objs;
		} else {
			value = sub(st->alloc_bytes, s0 ? s0->alloc_bytes : 0);
			count = sub(st->alloc_objects, s0 ? s0->alloc_objects : 0);
		}
		err = stack_frames(p, sym, end->pid, st, i == 0, frames, &n);
		if (err || (!value && !live))
			continue;
		if (value)
			err = fog_prof__add_stack(p, end->pid, comm, frames, n, value, count);
		if (!err && live) {
			struct fog_prof_stack tmp = { .pid = end->pid, .n = n, .frames = frames };
			__u64 before = s0 ? sub(s0->alloc_bytes, s0->free_bytes) : 0;
			struct fog_prof_leak l = {
				.live_bytes = live,
				.live_objects = objs,
				.growth_bytes = start ? growth(live, before) : 0,
				.big = st->big,
			};

			memcpy(tmp.comm, comm, sizeof(tmp.comm));
			l.growing = start && l.growth_bytes > 0;
			if (oldest[i])
				l.oldest_age_s = (double)sub(end->read_ns, oldest[i]) / 1e9;
			err = add_leak(p, &tmp, &l);
		}
	}
	free(oldest);
	if (err)
		return err;
	if (p->nleaks)
		qsort(p->leaks, p->nleaks, sizeof(*p->leaks), cmp_leak);
	while (p->nleaks > MAX_LEAKS) {
		p->nleaks--;
		free(p->leaks[p->nleaks].func);
		free(p->leaks[p->nleaks].stack);
	}
	add_growth(end, p);
	fog_prof__note(p, "memory sampled by libfogalloc.so: one allocation per %llu bytes on "
		       "average, each weighted by size/probability (estimates, error about "
		       "sqrt(bytes x %llu))", (unsigned long long)end->hdr.mean,
		       (unsigned long long)end->hdr.mean);
	if (end->hdr.lost_live)
		fog_prof__note(p, "%llu sampled allocations were not tracked as live (table "
			       "full): live figures are a lower bound",
			       (unsigned long long)end->hdr.lost_live);
	if (end->hdr.lost_stacks)
		fog_prof__note(p, "%llu samples went to [stack table full]",
			       (unsigned long long)end->hdr.lost_stacks);
	if (end->torn)
		fog_prof__note(p, "the process allocated too fast for a consistent copy: figures "
			       "may be off by a few samples");
	if (end->hdr.big)
		fog_prof__note(p, "%llu allocations of 10 MB or more", (unsigned long long)end->hdr.big);
	return 0;
}
