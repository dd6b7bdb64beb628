// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/clock.h"
#include "base/log.h"
#include "offcpu.skel.h"
#include "profile.skel.h"
#include "profile/capture.h"
#include "profile/pyframes.h"
#include "profile/pyproc.h"
#include "profile/unwinder.h"

_Static_assert(sizeof(struct fog_prof_key) == 16, "fog_prof_key layout");
_Static_assert(sizeof(struct fog_prof_val) == 24, "fog_prof_val layout");
_Static_assert(sizeof(struct fog_offcpu_start) == 24, "fog_offcpu_start layout");
_Static_assert(sizeof(struct fog_offcpu_val) == 32, "fog_offcpu_val layout");
_Static_assert(sizeof(struct fog_offcpu_stats) == 64, "fog_offcpu_stats layout");
_Static_assert(sizeof(struct fog_prof_stats) == 56, "fog_prof_stats layout");
_Static_assert(sizeof(struct fog_unw_sample) == 208 + 16 * FOG_PY_MAX_FRAMES + FOG_UNW_STACK_BYTES, "fog_unw_sample layout");

#define DEFAULT_HZ 99
/* frames of one stack: kernel and user, and with --lines the inlined calls of user frames */
#define MAX_FRAMES (4 * FOG_PROF_MAX_DEPTH + 2)
#define ENOSTACK 14	/* EFAULT from bpf_get_stackid: the task had no such stack */

struct fog_prof_capture {
	struct profile_bpf *skel;	/* on-CPU */
	struct offcpu_bpf *off;	/* off-CPU */
	struct bpf_link *off_link;
	__u32 mode;
	int ncpu;
	int *fds;
	struct bpf_link **links;
	int counts_fd, stacks_fd, stats_fd;	/* of whichever object is loaded */
	__u32 frequency;
	bool no_kernel;
	bool lines;
	struct fog_unwinder *unw;	/* DWARF unwinding of the copied user stacks, or NULL */
	__u64 stop_ns;	/* CLOCK_MONOTONIC (bpf_ktime_get_ns) when stopped, 0 while running */
};

void fog_prof_capture__stop(struct fog_prof_capture *c)
{
	if (c && !c->stop_ns)
		c->stop_ns = fog_now_ns();
	if (c) {
		bpf_link__destroy(c->off_link);
		c->off_link = NULL;
	}
	for (int i = 0; c && i < c->ncpu; i++) {
		bpf_link__destroy(c->links[i]);
		c->links[i] = NULL;
		if (c->fds[i] >= 0)
			close(c->fds[i]);
		c->fds[i] = -1;
	}
}

void fog_prof_capture__free(struct fog_prof_capture *c)
{
	if (!c)
		return;
	fog_prof_capture__stop(c);
	fog_unwinder__free(c->unw);	/* before the ring buffer it reads goes */
	profile_bpf__destroy(c->skel);
	offcpu_bpf__destroy(c->off);
	free(c->fds);
	free(c->links);
	free(c);
}

static int open_cpu_clock(int cpu, __u32 hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.freq = 1,
		.sample_freq = hz,
	};
	int fd = (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Opens a cpu-clock event per online CPU and attaches the sampler to each. */
static int attach_cpu(struct fog_prof_capture *c, char *err, size_t len)
{
	int attached = 0, rc;

	for (int i = 0; i < c->ncpu; i++) {
		int fd = open_cpu_clock(i, c->frequency);

		if (fd == -ENODEV)	/* a possible CPU that is offline */
			continue;
		if (fd < 0) {
			rc = fd;
			snprintf(err, len, "perf_event_open cpu-clock on cpu %d: %s", i,
				 strerror(-rc));
			return rc;
		}
		c->fds[i] = fd;
		c->links[i] = bpf_program__attach_perf_event(c->skel->progs.handle_cpu_sample, fd);
		if (!c->links[i]) {
			rc = -errno;
			snprintf(err, len, "cannot attach the sampler on cpu %d: %s", i,
				 strerror(-rc));
			return rc;
		}
		attached++;
	}
	if (!attached) {
		snprintf(err, len, "no online CPU accepted a cpu-clock perf event");
		return -ENODEV;
	}
	return 0;
}

/* Deletes every entry of a hash or stack map (nothing writes it meanwhile). */
static void clear_map(int fd, size_t key_size)
{
	char key[32], next[32];

	while (key_size <= sizeof(key) && !bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

int fog_prof_capture__restart(struct fog_prof_capture *c, char *err, size_t len)
{
	size_t n = (size_t)c->ncpu * (c->mode == FOG_PROF_CAPTURE_OFFCPU ?
					     sizeof(struct fog_offcpu_stats) :
					     sizeof(struct fog_prof_stats));
	void *zeros = calloc(1, n);
	__u32 zero = 0;
	int rc;

	if (!zeros) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	fog_prof_capture__stop(c);
	clear_map(c->counts_fd, sizeof(struct fog_prof_key));
	clear_map(c->stacks_fd, sizeof(__u32));
	if (c->off)
		clear_map(bpf_map__fd(c->off->maps.offcpu_start), sizeof(__u32));
	bpf_map_update_elem(c->stats_fd, &zero, zeros, BPF_ANY);
	free(zeros);
	if (c->unw)
		fog_unwinder__reset(c->unw);
	c->stop_ns = 0;
	if (c->off) {
		c->off_link = bpf_program__attach(c->off->progs.handle_offcpu_switch);
		rc = c->off_link ? 0 : -errno;
		if (rc)
			snprintf(err, len, "cannot attach the off-CPU program to sched_switch: %s",
				 strerror(-rc));
		return rc;
	}
	rc = attach_cpu(c, err, len);
	if (rc)
		fog_prof_capture__stop(c);
	return rc;
}

/* The unwinder on the loaded object's ring buffer, unless frame pointers only. */
static int start_unwinder(struct fog_prof_capture *c, const struct fog_prof_capture_opts *o,
			  const struct bpf_map *ring, char *err, size_t len)
{
	int rc;

	if (o->fp_only)
		return 0;
	c->unw = fog_unwinder__new(bpf_map__fd(ring));
	if (c->unw)
		return 0;
	rc = -errno;
	snprintf(err, len, "cannot start the unwinder: %s", strerror(-rc));
	return rc;
}

/* CPython frames named by the unwinder, the sampler finding processes in map. */
static void start_python(struct fog_prof_capture *c, const struct fog_prof_capture_opts *o,
			 const struct bpf_map *map)
{
	if (c->unw && !o->no_python &&
	    fog_unwinder__python(c->unw, bpf_map__fd(map),
				 o->target == FOG_PROF_TARGET_PID ? o->pid : 0))
		fog_warnx("profiler: CPython frames not named: out of memory");
}

/* Loads and attaches the off-CPU object (sched_switch); nothing else of the capture is used. */
static int start_offcpu(struct fog_prof_capture *c, const struct fog_prof_capture_opts *o,
			char *err, size_t len)
{
	int rc;

	c->off = offcpu_bpf__open();
	if (!c->off) {
		rc = -errno;
		snprintf(err, len, "cannot open the off-CPU BPF object: %s", strerror(-rc));
		return rc;
	}
	c->off->rodata->cfg_target = o->target;
	c->off->rodata->cfg_tgid = o->pid;
	c->off->rodata->cfg_cgroup_id = o->cgroup_id;
	c->off->rodata->cfg_cgroup_mode = o->cgroup_mode;
	c->off->rodata->cfg_kernel = !o->no_kernel;
	c->off->rodata->cfg_unwind = !o->fp_only;
	c->off->rodata->cfg_python = !o->fp_only && !o->no_python;
	if (o->fp_only)
		bpf_map__set_max_entries(c->off->maps.offcpu_unwind, 4096);
	rc = offcpu_bpf__load(c->off);
	if (rc) {
		snprintf(err, len, "cannot load the off-CPU BPF object: %s", strerror(-rc));
		return rc;
	}
	rc = start_unwinder(c, o, c->off->maps.offcpu_unwind, err, len);
	if (rc)
		return rc;
	start_python(c, o, c->off->maps.offcpu_python);
	c->counts_fd = bpf_map__fd(c->off->maps.offcpu_counts);
	c->stacks_fd = bpf_map__fd(c->off->maps.offcpu_stacks);
	c->stats_fd = bpf_map__fd(c->off->maps.offcpu_stats);
	c->off_link = bpf_program__attach(c->off->progs.handle_offcpu_switch);
	if (!c->off_link) {
		rc = -errno;
		snprintf(err, len, "cannot attach the off-CPU program to sched_switch: %s",
			 strerror(-rc));
		return rc;
	}
	return 0;
}

struct fog_prof_capture *fog_prof_capture__new(const struct fog_prof_capture_opts *o, char *err,
					       size_t len)
{
	struct fog_prof_capture *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->frequency = o->frequency ? o->frequency : DEFAULT_HZ;
	c->no_kernel = o->no_kernel;
	c->lines = o->lines;
	c->mode = o->mode;
	c->ncpu = libbpf_num_possible_cpus();
	if (c->ncpu <= 0) {
		rc = c->ncpu ? c->ncpu : -EINVAL;
		snprintf(err, len, "cannot count CPUs: %s", strerror(-rc));
		goto fail;
	}
	c->fds = malloc((size_t)c->ncpu * sizeof(*c->fds));
	c->links = calloc((size_t)c->ncpu, sizeof(*c->links));
	if (!c->fds || !c->links) {
		rc = -ENOMEM;
		snprintf(err, len, "out of memory");
		goto fail;
	}
	for (int i = 0; i < c->ncpu; i++)
		c->fds[i] = -1;
	if (o->mode == FOG_PROF_CAPTURE_OFFCPU) {
		rc = start_offcpu(c, o, err, len);
		if (rc)
			goto fail;
		return c;
	}
	if (o->mode != FOG_PROF_CAPTURE_CPU) {
		rc = -EINVAL;
		snprintf(err, len, "unknown capture mode %u", o->mode);
		goto fail;
	}
	c->skel = profile_bpf__open();
	if (!c->skel) {
		rc = -errno;
		snprintf(err, len, "cannot open the profile BPF object: %s", strerror(-rc));
		goto fail;
	}
	c->skel->rodata->cfg_target = o->target;
	c->skel->rodata->cfg_tgid = o->pid;
	c->skel->rodata->cfg_cgroup_id = o->cgroup_id;
	c->skel->rodata->cfg_cgroup_mode = o->cgroup_mode;
	c->skel->rodata->cfg_kernel = !o->no_kernel;
	c->skel->rodata->cfg_idle = o->idle;
	c->skel->rodata->cfg_unwind = !o->fp_only;
	c->skel->rodata->cfg_python = !o->fp_only && !o->no_python;
	if (o->fp_only)	/* unused: the smallest ring the kernel takes */
		bpf_map__set_max_entries(c->skel->maps.prof_unwind, 4096);
	rc = profile_bpf__load(c->skel);
	if (rc) {
		snprintf(err, len, "cannot load the profile BPF object: %s", strerror(-rc));
		goto fail;
	}
	rc = start_unwinder(c, o, c->skel->maps.prof_unwind, err, len);
	if (rc)
		goto fail;
	start_python(c, o, c->skel->maps.prof_python);
	c->counts_fd = bpf_map__fd(c->skel->maps.prof_counts);
	c->stacks_fd = bpf_map__fd(c->skel->maps.prof_stacks);
	c->stats_fd = bpf_map__fd(c->skel->maps.prof_stats);
	rc = attach_cpu(c, err, len);
	if (rc)
		goto fail;
	return c;
fail:
	fog_prof_capture__free(c);
	errno = -rc;
	return NULL;
}

size_t fog_prof_capture__pids(struct fog_prof_capture *c, __u32 *pids, size_t max)
{
	int fd = c->counts_fd;
	struct fog_prof_key key, next, *prev = NULL;
	size_t n = 0;

	if (c->unw)
		n = fog_unwinder__pids(c->unw, pids, max);
	while (n < max && !bpf_map_get_next_key(fd, prev, &next)) {
		size_t i;

		for (i = 0; i < n && pids[i] != next.tgid; i++)
			;
		if (i == n && next.tgid)
			pids[n++] = next.tgid;
		key = next;
		prev = &key;
	}
	return n;
}

static void offcpu_stats(struct fog_prof_capture *c, struct fog_prof_stats *st)
{
	struct fog_offcpu_stats *v = calloc((size_t)c->ncpu, sizeof(*v));
	__u32 zero = 0;

	if (!v)
		return;
	if (!bpf_map_lookup_elem(c->stats_fd, &zero, v))
		for (int i = 0; i < c->ncpu; i++) {
			st->samples += v[i].wakeups;
			st->lost_keys += v[i].lost_keys + v[i].lost_starts;
			st->lost_user += v[i].lost_user;
			st->lost_kern += v[i].lost_kern;
			st->unwind += v[i].unwind;
			st->lost_unwind += v[i].lost_unwind;
		}
	free(v);
}

void fog_prof_capture__stats(struct fog_prof_capture *c, struct fog_prof_stats *st)
{
	struct fog_prof_stats *v;
	__u32 zero = 0;

	memset(st, 0, sizeof(*st));
	if (c->mode == FOG_PROF_CAPTURE_OFFCPU) {
		offcpu_stats(c, st);
		return;
	}
	v = calloc((size_t)c->ncpu, sizeof(*v));
	if (!v)
		return;
	if (!bpf_map_lookup_elem(c->stats_fd, &zero, v))
		for (int i = 0; i < c->ncpu; i++) {
			st->samples += v[i].samples;
			st->filtered += v[i].filtered;
			st->lost_keys += v[i].lost_keys;
			st->lost_user += v[i].lost_user;
			st->lost_kern += v[i].lost_kern;
			st->unwind += v[i].unwind;
			st->lost_unwind += v[i].lost_unwind;
		}
	free(v);
}

/* The tracing machinery atop an off-CPU kernel stack (taken inside sched_switch's tracepoint). */
static bool tracing_frame(const char *func)
{
	return func && (!strncmp(func, "bpf_prog_", 9) || !strncmp(func, "bpf_trace_run", 13) ||
			!strncmp(func, "__traceiter_", 12) || !strncmp(func, "__bpf_trace_", 12));
}

/*
 * Appends the frames of a stack of n addresses, leaf first; with is_eval, marks
 * the frames of CPython's _PyEval_EvalFrameDefault there (same indices as frames).
 */
static int add_ips(struct fog_prof *p, struct fog_symbolizer *s, __u32 pid, bool kernel,
		   const __u64 *ips, __u32 n, __u32 *frames, __u32 *nf, bool *is_eval)
{
	bool leaf = true;
	long fi;

	for (__u32 i = 0; i < n && i < FOG_PROF_MAX_DEPTH && ips[i] && *nf < MAX_FRAMES; i++) {
		/* return addresses point past the call: look up the call itself */
		__u64 ip = i ? ips[i] - 1 : ips[i];
		struct fog_sym sym;
		__u32 map = 0;
		char label[64];
		const char *func;

		if (kernel)
			fog_symbolizer__kernel(s, ip, &sym);
		else
			fog_symbolizer__user(s, pid, ip, &sym);
		if (kernel && leaf && tracing_frame(sym.func))
			continue;	/* the program's own frames say nothing of the target */
		leaf = false;
		func = sym.func;
		if (!func && sym.module && sym.module[0] == '[') {
			snprintf(label, sizeof(label), "%s", sym.module);	/* [vdso], [uprobes] */
			func = label;
		}
		if (!kernel && sym.map_start)
			map = fog_prof__mapping(p, sym.module, sym.map_start, sym.map_limit,
						sym.map_offset, sym.build_id);
		/*
		 * --lines: the functions inlined at ip come first, innermost at the address's
		 * line, each caller at the line of its call, as perf shows them
		 */
		for (int k = sym.ninl - 1; k >= 0 && *nf < MAX_FRAMES - 1; k--) {
			const char *file = k == sym.ninl - 1 ? sym.file : sym.inl[k + 1].call_file;
			__u32 line = k == sym.ninl - 1 ? sym.line : sym.inl[k + 1].call_line;

			fi = fog_prof__frame(p, sym.inl[k].func, sym.module, sym.addr, kernel, map);
			if (fi < 0)
				return (int)fi;
			if (map)
				p->frames[fi].ip = ip;
			if (file && !p->frames[fi].file &&
			    fog_prof__frame_src(p, (size_t)fi, file, line, NULL))
				return -ENOMEM;
			if (is_eval)
				is_eval[*nf] = false;
			frames[(*nf)++] = (__u32)fi;
		}
		if (sym.ninl) {	/* the function itself: at the line of the outermost call */
			sym.file = sym.inl[0].call_file;
			sym.line = sym.inl[0].call_line;
		}
		fi = fog_prof__frame(p, func, sym.module, sym.addr, kernel, map);
		if (fi < 0)
			return (int)fi;
		if (map)
			p->frames[fi].ip = ip;
		/* frames are interned by address: the first sight sets the line */
		if ((sym.file || sym.func_file) && !p->frames[fi].file &&
		    !p->frames[fi].func_file &&
		    fog_prof__frame_src(p, (size_t)fi, sym.file, sym.line, sym.func_file))
			return -ENOMEM;
		if (is_eval)
			is_eval[*nf] = func && !strcmp(func, "_PyEval_EvalFrameDefault");
		frames[(*nf)++] = (__u32)fi;
	}
	return 0;
}

/*
 * Appends the user frames of an unwound stack, its CPython interpreter frames
 * in place of the _PyEval_EvalFrameDefault calls that ran them (pyframes.h).
 */
static int add_unwound(struct fog_prof_capture *c, struct fog_prof *p, struct fog_symbolizer *s,
		       const struct fog_unw_stack *st, __u32 *frames, __u32 *nf)
{
	__u32 py[FOG_PY_MAX_FRAMES], merged[MAX_FRAMES], n0 = *nf, npy = 0;
	bool is_eval[MAX_FRAMES], entry[FOG_PY_MAX_FRAMES];
	size_t k;
	int err;

	err = add_ips(p, s, st->tgid, false, st->ips, st->nips, frames, nf, is_eval);
	if (err || !st->npy)
		return err;
	for (__u32 i = 0; i < st->npy && i < FOG_PY_MAX_FRAMES; i++) {
		const char *file = NULL, *name = fog_unwinder__py_name(c->unw, st->py[i], &file);
		long fi = fog_prof__frame(p, name ? name : "py:[unreadable]", NULL, 0, false, 0);

		if (fi < 0)
			return (int)fi;
		if (file && !p->frames[fi].func_file && fog_prof__frame_src(p, (size_t)fi, NULL, 0, file))
			return -ENOMEM;
		entry[npy] = st->py[i] & FOG_PYPROC_ENTRY;
		py[npy++] = (__u32)fi;
	}
	k = fog_py_merge(frames + n0, is_eval + n0, *nf - n0, py, entry, npy, merged,
			 MAX_FRAMES - n0);
	memcpy(frames + n0, merged, k * sizeof(*merged));
	*nf = n0 + (__u32)k;
	return 0;
}

/* Appends the frames of one stack id; a lost stack becomes one labelled frame. */
static int add_frames(struct fog_prof *p, struct fog_symbolizer *s, int stacks_fd, __u32 pid,
		      __s32 id, bool kernel, __u32 *frames, __u32 *n, __u64 *ips)
{
	long fi;

	if (id == -ENOSTACK)
		return 0;
	if (id < 0 || bpf_map_lookup_elem(stacks_fd, &id, ips)) {
		fi = fog_prof__frame(p, kernel ? "[lost kernel stack]" : "[lost user stack]", NULL, 0,
				     kernel, 0);
		if (fi < 0)
			return (int)fi;
		frames[(*n)++] = (__u32)fi;
		return 0;
	}
	return add_ips(p, s, pid, kernel, ips, FOG_PROF_MAX_DEPTH, frames, n, NULL);
}

/* Reads /proc/PID/comm into comm (16 bytes); "" when the process is gone. */
static void read_comm(__u32 pid, char *comm)
{
	char path[64];
	ssize_t n;
	int fd;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, FOG_COMM_LEN - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

/*
 * Off-CPU: a task still blocked when the capture stopped was never counted (it
 * is counted when it comes back). Adds its time up to the stop to its stack, so
 * a thread blocked for the whole profile shows too. The program is detached:
 * nothing else writes the maps now.
 */
static void flush_blocked(struct fog_prof_capture *c)
{
	int start_fd = bpf_map__fd(c->off->maps.offcpu_start);
	__u32 tid, next, *prev = NULL;

	while (!bpf_map_get_next_key(start_fd, prev, &next)) {
		struct fog_prof_key key = { 0 };
		struct fog_offcpu_start st;
		struct fog_offcpu_val val;

		tid = next;
		prev = &tid;
		if (bpf_map_lookup_elem(start_fd, &tid, &st) || st.ts_ns >= c->stop_ns)
			continue;
		if (st.user_stack_id == FOG_UNW_STACK_ID) {	/* its stack went to the unwinder */
			if (c->unw)
				fog_unwinder__add_blocked(c->unw, tid, st.ts_ns, c->stop_ns - st.ts_ns);
			continue;
		}
		key.tgid = st.tgid;
		key.user_stack_id = st.user_stack_id;
		key.kern_stack_id = st.kern_stack_id;
		if (bpf_map_lookup_elem(c->counts_fd, &key, &val)) {
			memset(&val, 0, sizeof(val));
			read_comm(st.tgid, val.comm);
		}
		val.ns += c->stop_ns - st.ts_ns;
		val.switches++;
		bpf_map_update_elem(c->counts_fd, &key, &val, BPF_ANY);
	}
}

/* The value and count of one entry of the counts map; false when unreadable or empty. */
static bool read_count(struct fog_prof_capture *c, const struct fog_prof_key *key, __u64 *value,
		       __u64 *count, char *comm)
{
	if (c->mode == FOG_PROF_CAPTURE_OFFCPU) {
		struct fog_offcpu_val v;

		if (bpf_map_lookup_elem(c->counts_fd, key, &v) || !v.ns)
			return false;
		*value = v.ns;
		*count = v.switches;
		memcpy(comm, v.comm, FOG_COMM_LEN);
	} else {
		struct fog_prof_val v;

		if (bpf_map_lookup_elem(c->counts_fd, key, &v) || !v.count)
			return false;
		*value = *count = v.count;
		memcpy(comm, v.comm, FOG_COMM_LEN);
	}
	comm[FOG_COMM_LEN - 1] = '\0';
	return true;
}

int fog_prof_capture__build(struct fog_prof_capture *c, struct fog_symbolizer *s,
			    struct fog_prof *p)
{
	bool off = c->mode == FOG_PROF_CAPTURE_OFFCPU;
	struct fog_prof_key key, next, *prev = NULL;
	__u32 frames[MAX_FRAMES];
	__u64 ips[FOG_PROF_MAX_DEPTH];
	struct fog_prof_stats st;
	int err = 0;

	if (off) {
		p->kind = FOG_PROF_OFFCPU;
		p->frequency = 0;
		p->period = 1;	/* values are nanoseconds */
	} else {
		p->frequency = c->frequency;
		p->period = 1000000000ULL / c->frequency;
	}
	p->lines = c->lines;
	fog_symbolizer__set_lines(s, c->lines);
	if (c->unw)
		fog_unwinder__flush(c->unw);	/* before flush_blocked adds to its blocks */
	if (off && c->stop_ns)
		flush_blocked(c);
	while (!bpf_map_get_next_key(c->counts_fd, prev, &next)) {
		char comm[FOG_COMM_LEN];
		__u64 value, count;
		__u32 n = 0;

		key = next;
		prev = &key;
		if (!read_count(c, &key, &value, &count, comm))
			continue;
		if (!c->no_kernel)
			err = add_frames(p, s, c->stacks_fd, key.tgid, key.kern_stack_id, true,
					 frames, &n, ips);
		if (!err)
			err = add_frames(p, s, c->stacks_fd, key.tgid, key.user_stack_id, false,
					 frames, &n, ips);
		if (!err)
			err = fog_prof__add_stack(p, key.tgid, comm, frames, n, value, count);
		if (err)
			return err;
	}
	if (c->unw) {
		const struct fog_unw_stack *v;
		size_t nv = fog_unwinder__stacks(c->unw, &v);
		struct fog_unwinder_stats us;

		for (size_t i = 0; i < nv && !err; i++) {
			__u32 n = 0;

			if (!v[i].value)
				continue;	/* a block still waiting for its wake-up */
			if (!c->no_kernel)
				err = add_frames(p, s, c->stacks_fd, v[i].tgid, v[i].kern_stack_id,
						 true, frames, &n, ips);
			if (!err)
				err = add_unwound(c, p, s, &v[i], frames, &n);
			if (!err)
				err = fog_prof__add_stack(p, v[i].tgid, v[i].comm, frames, n, v[i].value,
							  v[i].count);
		}
		if (err)
			return err;
		fog_unwinder__stats(c->unw, &us);
		if (us.failed)
			fog_prof__note(p, "%llu user stacks could not be unwound (the symbol helper "
				       "failed): their leaf frame alone is shown",
				       (unsigned long long)us.failed);
		if (us.lost)
			fog_prof__note(p, "%llu unwound stacks not counted: more than %d distinct "
				       "stacks", (unsigned long long)us.lost, FOG_UNW_MAX_STACKS);
	}
	fog_prof_capture__stats(c, &st);
	if (st.lost_unwind)
		fog_prof__note(p, "%llu user stacks walked by frame pointers only (the unwinder's "
			       "ring buffer was full)", (unsigned long long)st.lost_unwind);
	if (st.lost_keys)
		fog_prof__note(p, "%llu %s not counted: more than %d distinct stacks",
			       (unsigned long long)st.lost_keys, off ? "blocks" : "samples",
			       FOG_PROF_MAX_KEYS);
	if (st.lost_user || st.lost_kern)
		fog_prof__note(p, "%llu user and %llu kernel stacks lost (stack map full or "
			       "hash collision), shown as [lost ... stack]",
			       (unsigned long long)st.lost_user, (unsigned long long)st.lost_kern);
	if (off)
		fog_prof__note(p, "off-CPU: time blocked (sleeping, waiting for I/O or locks), "
			       "in nanoseconds; waiting on a run queue after preemption is not "
			       "counted");
	return 0;
}
