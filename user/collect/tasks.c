// SPDX-License-Identifier: GPL-2.0-only
/*
 * The task iterator's reader: one read of bpf/tasks.bpf.c's iterator per tick
 * gives one record per thread, summed per process into the aggregates. The
 * figures are the kernel's own (what /proc/PID/stat, schedstat and io
 * report), so nothing runs per context switch or per fault to count them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/collect_int.h"
#include "collect/tasks.h"
#include "fog/abi/tasks.h"
#include "tasks.skel.h"

_Static_assert(sizeof(struct fog_task_rec) % 8 == 0, "fog_task_rec is not 8-byte sized");

/* records per read() */
#define TASKS_BATCH 256

static struct {
	struct tasks_bpf *skel;
	struct bpf_link *link;
	unsigned int users[3]; /* collectors taking each figure, by bit */
	unsigned int figures;  /* bits with users */
	__u64 read_tick;       /* the tick last read, 0: none */
	unsigned int threads;
	struct fog_task_rec *buf;
} tasks;

static void update_figures(void)
{
	tasks.figures = 0;
	for (int i = 0; i < 3; i++)
		if (tasks.users[i])
			tasks.figures |= 1u << i;
}

int fog_tasks__get(struct fog_collector *c, unsigned int figures)
{
	int err;

	if (!tasks.skel) {
		tasks.buf = malloc(TASKS_BATCH * sizeof(*tasks.buf));
		tasks.skel = tasks_bpf__open();
		if (!tasks.buf || !tasks.skel) {
			err = -errno;
			goto out_free;
		}
		tasks.skel->rodata->cfg_cgroup_mode = fog_collector_cgroup_mode(c);
		err = tasks_bpf__load(tasks.skel);
		if (err)
			goto out_free;
		tasks.link = bpf_program__attach_iter(tasks.skel->progs.dump_tasks, NULL);
		if (!tasks.link) {
			err = -errno;
			goto out_free;
		}
	}
	for (int i = 0; i < 3; i++)
		if (figures & (1u << i))
			tasks.users[i]++;
	update_figures();
	return 0;

out_free:
	fog_collector_fail(c, err, "cannot load the task iterator (bpf object tasks): %s",
			   strerror(-err));
	tasks_bpf__destroy(tasks.skel);
	free(tasks.buf);
	memset(&tasks, 0, sizeof(tasks));
	return err;
}

void fog_tasks__put(struct fog_collector *c, unsigned int figures)
{
	(void)c;
	for (int i = 0; i < 3; i++)
		if ((figures & (1u << i)) && tasks.users[i])
			tasks.users[i]--;
	update_figures();
	if (tasks.figures)
		return;
	bpf_link__destroy(tasks.link);
	tasks_bpf__destroy(tasks.skel);
	free(tasks.buf);
	memset(&tasks, 0, sizeof(tasks));
}

unsigned int fog_tasks__threads(void)
{
	return tasks.threads;
}

static void add_record(struct fog_collect *o, const struct fog_task_rec *r)
{
	struct fog_proc *p = fog_agg__proc(o->agg, r->tgid, true);

	if (!p)
		return; /* table full: counted as an overflow */
	if ((r->flags & FOG_TASK_LEADER) && p->start_ns != r->start_ns) {
		/* the pid now names another process: its figures start over */
		if (p->start_ns) {
			fog_agg__remove(o->agg, r->tgid);
			p = fog_agg__proc(o->agg, r->tgid, true);
			if (!p)
				return;
		}
		p->start_ns = r->start_ns;
	}
	if (p->acc_tick != o->ticks) {
		memset(&p->acc, 0, sizeof(p->acc));
		p->acc_tick = o->ticks;
	}
	p->acc.runtime_ns += r->runtime_ns;
	p->acc.nvcsw += r->nvcsw;
	p->acc.nivcsw += r->nivcsw;
	p->acc.faults += r->min_flt + r->maj_flt;
	p->acc.read_bytes += r->read_bytes;
	p->acc.write_bytes += r->write_bytes;
	p->acc.syscr += r->syscr;
	p->acc.syscw += r->syscw;
	if (r->flags & FOG_TASK_LEADER) {
		memcpy(p->comm, r->comm, sizeof(p->comm));
		p->comm[FOG_COMM_LEN - 1] = '\0';
		if (r->cgroup_id)
			p->cgroup_id = r->cgroup_id;
	}
}

/* A total never goes back: a thread that exited while the iterator ran can be missed once. */
static void keep_max(__u64 *total, __u64 now)
{
	if (now > *total)
		*total = now;
}

static void commit(struct fog_proc *p, void *ctx)
{
	const struct fog_collect *o = ctx;

	if (p->acc_tick != o->ticks)
		return;
	if (tasks.figures & FOG_TASKS_CPU) {
		keep_max(&p->oncpu_ns, p->acc.runtime_ns);
		keep_max(&p->nvcsw, p->acc.nvcsw);
		keep_max(&p->nivcsw, p->acc.nivcsw);
	}
	if (tasks.figures & FOG_TASKS_FAULTS)
		keep_max(&p->faults, p->acc.faults);
	if (tasks.figures & FOG_TASKS_IO) {
		keep_max(&p->io_read_bytes, p->acc.read_bytes);
		keep_max(&p->io_write_bytes, p->acc.write_bytes);
		keep_max(&p->io_read_ops, p->acc.syscr);
		keep_max(&p->io_write_ops, p->acc.syscw);
	}
}

int fog_tasks__read(struct fog_collect *o)
{
	size_t have = 0, n;
	ssize_t got;
	int fd, err = 0;

	if (!tasks.skel || tasks.read_tick == o->ticks)
		return 0;
	tasks.read_tick = o->ticks;
	fd = bpf_iter_create(bpf_link__fd(tasks.link));
	if (fd < 0)
		return -errno;
	tasks.threads = 0;
	for (;;) {
		got = read(fd, (char *)tasks.buf + have, TASKS_BATCH * sizeof(*tasks.buf) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err = -errno;
			break;
		}
		if (!got)
			break;
		have += (size_t)got;
		n = have / sizeof(*tasks.buf);
		for (size_t i = 0; i < n; i++)
			add_record(o, &tasks.buf[i]);
		tasks.threads += n;
		/* a record split between two reads waits for its end */
		memmove(tasks.buf, tasks.buf + n, have - n * sizeof(*tasks.buf));
		have -= n * sizeof(*tasks.buf);
	}
	close(fd);
	fog_agg__for_each(o->agg, commit, o);
	return err;
}
