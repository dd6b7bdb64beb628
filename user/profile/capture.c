// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "profile/capture.h"
#include "profile.skel.h"

_Static_assert(sizeof(struct fog_prof_key) == 16, "fog_prof_key layout");
_Static_assert(sizeof(struct fog_prof_val) == 24, "fog_prof_val layout");

#define DEFAULT_HZ 99
#define ENOSTACK 14	/* EFAULT from bpf_get_stackid: the task had no such stack */

struct fog_prof_capture {
	struct profile_bpf *skel;
	int ncpu;
	int *fds;
	struct bpf_link **links;
	__u32 frequency;
	bool no_kernel;
};

void fog_prof_capture__stop(struct fog_prof_capture *c)
{
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
	profile_bpf__destroy(c->skel);
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

struct fog_prof_capture *fog_prof_capture__new(const struct fog_prof_capture_opts *o, char *err,
					       size_t len)
{
	struct fog_prof_capture *c = calloc(1, sizeof(*c));
	int rc, attached = 0;

	if (!c) {
		snprintf(err, len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->frequency = o->frequency ? o->frequency : DEFAULT_HZ;
	c->no_kernel = o->no_kernel;
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
	rc = profile_bpf__load(c->skel);
	if (rc) {
		snprintf(err, len, "cannot load the profile BPF object: %s", strerror(-rc));
		goto fail;
	}
	for (int i = 0; i < c->ncpu; i++) {
		int fd = open_cpu_clock(i, c->frequency);

		if (fd == -ENODEV)	/* a possible CPU that is offline */
			continue;
		if (fd < 0) {
			rc = fd;
			snprintf(err, len, "perf_event_open cpu-clock on cpu %d: %s", i,
				 strerror(-rc));
			goto fail;
		}
		c->fds[i] = fd;
		c->links[i] = bpf_program__attach_perf_event(c->skel->progs.handle_cpu_sample, fd);
		if (!c->links[i]) {
			rc = -errno;
			snprintf(err, len, "cannot attach the sampler on cpu %d: %s", i,
				 strerror(-rc));
			goto fail;
		}
		attached++;
	}
	if (!attached) {
		rc = -ENODEV;
		snprintf(err, len, "no online CPU accepted a cpu-clock perf event");
		goto fail;
	}
	return c;
fail:
	fog_prof_capture__free(c);
	errno = -rc;
	return NULL;
}

size_t fog_prof_capture__pids(struct fog_prof_capture *c, __u32 *pids, size_t max)
{
	int fd = bpf_map__fd(c->skel->maps.prof_counts);
	struct fog_prof_key key, next, *prev = NULL;
	size_t n = 0;

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

void fog_prof_capture__stats(struct fog_prof_capture *c, struct fog_prof_stats *st)
{
	struct fog_prof_stats *v = calloc((size_t)c->ncpu, sizeof(*v));
	__u32 zero = 0;

	memset(st, 0, sizeof(*st));
	if (!v)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.prof_stats), &zero, v))
		for (int i = 0; i < c->ncpu; i++) {
			st->samples += v[i].samples;
			st->filtered += v[i].filtered;
			st->lost_keys += v[i].lost_keys;
			st->lost_user += v[i].lost_user;
			st->lost_kern += v[i].lost_kern;
		}
	free(v);
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
	for (int i = 0; i < FOG_PROF_MAX_DEPTH && ips[i]; i++) {
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
		func = sym.func;
		if (!func && sym.module && sym.module[0] == '[') {
			snprintf(label, sizeof(label), "%s", sym.module);	/* [vdso], [uprobes] */
			func = label;
		}
		if (!kernel && sym.map_start)
			map = fog_prof__mapping(p, sym.module, sym.map_start, sym.map_limit,
						sym.map_offset, sym.build_id);
		fi = fog_prof__frame(p, func, sym.module, sym.addr, kernel, map);
		if (fi < 0)
			return (int)fi;
		if (map)
			p->frames[fi].ip = ip;
		frames[(*n)++] = (__u32)fi;
	}
	return 0;
}

int fog_prof_capture__build(struct fog_prof_capture *c, struct fog_symbolizer *s,
			    struct fog_prof *p)
{
	int counts_fd = bpf_map__fd(c->skel->maps.prof_counts);
	int stacks_fd = bpf_map__fd(c->skel->maps.prof_stacks);
	struct fog_prof_key key, next, *prev = NULL;
	__u32 frames[2 * FOG_PROF_MAX_DEPTH + 2];
	__u64 ips[FOG_PROF_MAX_DEPTH];
	struct fog_prof_stats st;
	int err = 0;

	p->frequency = c->frequency;
	p->period = 1000000000ULL / c->frequency;
	while (!bpf_map_get_next_key(counts_fd, prev, &next)) {
		struct fog_prof_val val;
		__u32 n = 0;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(counts_fd, &key, &val) || !val.count)
			continue;
		val.comm[sizeof(val.comm) - 1] = '\0';
		if (!c->no_kernel)
			err = add_frames(p, s, stacks_fd, key.tgid, key.kern_stack_id, true, frames,
					 &n, ips);
		if (!err)
			err = add_frames(p, s, stacks_fd, key.tgid, key.user_stack_id, false,
					 frames, &n, ips);
		if (!err)
			err = fog_prof__add_stack(p, key.tgid, val.comm, frames, n, val.count,
						  val.count);
		if (err)
			return err;
	}
	fog_prof_capture__stats(c, &st);
	if (st.lost_keys)
		fog_prof__note(p, "%llu samples not counted: more than %d distinct stacks",
			       (unsigned long long)st.lost_keys, FOG_PROF_MAX_KEYS);
	if (st.lost_user || st.lost_kern)
		fog_prof__note(p, "%llu user and %llu kernel stacks lost (stack map full or "
			       "hash collision), shown as [lost ... stack]",
			       (unsigned long long)st.lost_user, (unsigned long long)st.lost_kern);
	return 0;
}
