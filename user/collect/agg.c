// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hist.h"
#include "base/sort.h"
#include "base/text.h"
#include "collect/agg.h"
#include "collect/neighbours.h"

/*
 * Processes live in a dense array that grows only to the peak number alive
 * at once (freed entries are reused first, so the resident part stays small);
 * an open-addressing index (linear probing, backward-shift deletion) of 4-byte
 * entry numbers finds them by pid. No allocation after fog_agg__new.
 */
struct fog_agg {
	struct fog_proc *procs;	/* max entries; used marks the live ones */
	__u32 *index;	/* entry number + 1, 0 for an empty slot */
	__u32 *free;	/* stack of freed entry numbers */
	unsigned int n_free;
	unsigned int high;	/* entries [0, high) have ever been used */
	unsigned int mask;
	unsigned int max;
	unsigned int count;
	__u64 tick;
	__u64 tick_ns;	/* when the current tick began */
	__u64 prev_tick_ns;
	__u64 overflows;
};

static unsigned int hash_pid(__u32 pid)
{
	return pid * 2654435761u;
}

struct fog_agg *fog_agg__new(unsigned int max_procs)
{
	struct fog_agg *a;
	unsigned int n = 16;

	if (!max_procs || max_procs > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (n < 2 * max_procs)
		n <<= 1;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	/* fresh zero pages: only the entries ever used become resident */
	a->procs = calloc(max_procs, sizeof(*a->procs));
	a->index = calloc(n, sizeof(*a->index));
	a->free = calloc(max_procs, sizeof(*a->free));
	if (!a->procs || !a->index || !a->free) {
		fog_agg__free(a);
		errno = ENOMEM;
		return NULL;
	}
	a->mask = n - 1;
	a->max = max_procs;
	return a;
}

void fog_agg__free(struct fog_agg *a)
{
	if (!a)
		return;
	free(a->procs);
	free(a->index);
	free(a->free);
	free(a);
}

/* The index slot holding pid, or the empty slot where it would go. */
static unsigned int find_slot(const struct fog_agg *a, __u32 pid)
{
	unsigned int i = hash_pid(pid) & a->mask;

	while (a->index[i] && a->procs[a->index[i] - 1].pid != pid)
		i = (i + 1) & a->mask;
	return i;
}

struct fog_proc *fog_agg__proc(struct fog_agg *a, __u32 pid, bool create)
{
	unsigned int i = find_slot(a, pid), e;
	struct fog_proc *p;

	if (a->index[i]) {
		p = &a->procs[a->index[i] - 1];
		p->seen_tick = a->tick;
		return p;
	}
	if (!create)
		return NULL;
	if (a->count == a->max) {
		a->overflows++;
		return NULL;
	}
	e = a->n_free ? a->free[--a->n_free] : a->high++;
	p = &a->procs[e];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->pid = pid;
	p->first_ns = a->tick_ns;
	p->seen_tick = a->tick;
	p->runq_p99_ns = -1;
	a->index[i] = e + 1;
	a->count++;
	return p;
}

void fog_agg__remove(struct fog_agg *a, __u32 pid)
{
	unsigned int i = find_slot(a, pid), j, home, e;

	if (!a->index[i])
		return;
	e = a->index[i] - 1;
	a->procs[e].used = false;
	a->free[a->n_free++] = e;
	a->index[i] = 0;
	a->count--;
	/* shift later members of the probe run back into the hole */
	for (j = (i + 1) & a->mask; a->index[j]; j = (j + 1) & a->mask) {
		home = hash_pid(a->procs[a->index[j] - 1].pid) & a->mask;
		/* move j to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			a->index[i] = a->index[j];
			a->index[j] = 0;
			i = j;
		}
	}
}

unsigned int fog_agg__count(const struct fog_agg *a)
{
	return a->count;
}

__u64 fog_agg__overflows(const struct fog_agg *a)
{
	return a->overflows;
}

void fog_agg__tick_begin(struct fog_agg *a, __u64 now_ns)
{
	a->tick++;
	a->prev_tick_ns = a->tick_ns;
	a->tick_ns = now_ns;
}

static bool proc_alive(__u32 pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u", pid);
	return access(path, F_OK) == 0;
}

void fog_agg__tick_end(struct fog_agg *a, __u64 now_ns)
{
	double secs = a->prev_tick_ns ? (double)(now_ns - a->prev_tick_ns) / 1e9 : 0;

	for (unsigned int e = 0; e < a->high; e++) {
		struct fog_proc *p = &a->procs[e];
		struct fog_hist d;
		__u64 io;

		if (!p->used)
			continue;
		/* not in any map this tick and gone from /proc: drop it */
		if (p->seen_tick != a->tick && !proc_alive(p->pid)) {
			fog_agg__remove(a, p->pid);
			continue; /* entries do not move: the loop goes on */
		}
		io = p->io_read_bytes + p->io_write_bytes;
		if (secs > 0) {
			p->cpu_share = (double)(p->oncpu_ns - p->prev_oncpu_ns) / 1e9 / secs;
			p->faults_per_s = (double)(p->faults - p->prev_faults) / secs;
			p->io_bytes_per_s = (double)(io - p->prev_io_bytes) / secs;
		}
		if (p->oncpu_ns < p->prev_oncpu_ns || p->faults < p->prev_faults || io < p->prev_io_bytes)
			p->cpu_share = p->faults_per_s = p->io_bytes_per_s = 0; /* map entry reset */
		fog_hist_delta(&d, &p->runq, &p->runq_prev);
		p->runq_p99_ns = fog_hist_quantile(&d, 0.99);
		p->runq_prev = p->runq;
		p->prev_oncpu_ns = p->oncpu_ns;
		p->prev_faults = p->faults;
		p->prev_io_bytes = io;
	}
}

void fog_agg__for_each(struct fog_agg *a, fog_proc_fn fn, void *ctx)
{
	for (unsigned int e = 0; e < a->high; e++)
		if (a->procs[e].used)
			fn(&a->procs[e], ctx);
}

static json_t *seconds_or_null(double ns)
{
	return ns < 0 ? json_null() : json_real(ns / 1e9);
}

/* The process charged most of this one's run-queue waits, null when none was. */
static json_t *culprit_json(const struct fog_proc *p)
{
	const struct fog_culprit *c = fog_nbr_main_culprit(p->culprits);

	if (!c)
		return json_null();
	return json_pack("{s:i,s:I,s:f,s:f}", "pid", (int)c->tgid, "cgroup_id",
			 (json_int_t)c->cgroup_id, "wait_seconds", c->wait_ns / 1e9, "share",
			 p->runq.sum_ns ? (double)c->wait_ns / (double)p->runq.sum_ns : 0.0);
}

json_t *fog_proc_json(const struct fog_proc *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "pid", json_integer(p->pid));
	json_object_set_new(o, "comm", fog_json_text(p->comm));
	json_object_set_new(o, "cgroup_id", json_integer((json_int_t)p->cgroup_id));
	json_object_set_new(o, "cpu_seconds", json_real((double)p->oncpu_ns / 1e9));
	json_object_set_new(o, "cpu_share", json_real(p->cpu_share));
	json_object_set_new(o, "nvcsw", json_integer((json_int_t)p->nvcsw));
	json_object_set_new(o, "nivcsw", json_integer((json_int_t)p->nivcsw));
	json_object_set_new(o, "runq_p99_seconds", seconds_or_null(p->runq_p99_ns));
	json_object_set_new(o, "runq", fog_hist_json(&p->runq));
	json_object_set_new(o, "main_culprit", culprit_json(p));
	json_object_set_new(o, "faults", json_integer((json_int_t)p->faults));
	json_object_set_new(o, "faults_per_s", json_real(p->faults_per_s));
	json_object_set_new(o, "rss_bytes", json_integer((json_int_t)p->rss_bytes));
	json_object_set_new(o, "io_read_ops", json_integer((json_int_t)p->io_read_ops));
	json_object_set_new(o, "io_write_ops", json_integer((json_int_t)p->io_write_ops));
	json_object_set_new(o, "io_read_bytes", json_integer((json_int_t)p->io_read_bytes));
	json_object_set_new(o, "io_write_bytes", json_integer((json_int_t)p->io_write_bytes));
	json_object_set_new(o, "io_bytes_per_s", json_real(p->io_bytes_per_s));
	return o;
}

static double sort_key(const struct fog_proc *p, char by)
{
	switch (by) {
	case 'c':
		return p->cpu_share;
	case 'r':
		return p->runq_p99_ns;
	case 'i':
		return p->io_bytes_per_s;
	case 'f':
		return p->faults_per_s;
	case 'm':
		return (double)p->rss_bytes;
	default:
		return -(double)p->pid;
	}
}

static char sort_by;

static int cmp_proc(const void *x, const void *y)
{
	const struct fog_proc *a = *(const struct fog_proc *const *)x;
	const struct fog_proc *b = *(const struct fog_proc *const *)y;
	double ka = sort_key(a, sort_by), kb = sort_key(b, sort_by);

	if (ka != kb)
		return ka < kb ? 1 : -1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

json_t *fog_agg__json(struct fog_agg *a, const char *sort, unsigned int limit)
{
	const struct fog_proc **v = malloc((a->count ? a->count : 1) * sizeof(*v));
	json_t *arr = json_array();
	unsigned int n = 0;

	if (!v)
		return arr;
	for (unsigned int e = 0; e < a->high; e++)
		if (a->procs[e].used)
			v[n++] = &a->procs[e];
	sort_by = sort && *sort ? sort[0] : 'c';
	fog_sort(v, n, sizeof(*v), cmp_proc);
	for (unsigned int i = 0; i < n && (!limit || i < limit); i++)
		json_array_append_new(arr, fog_proc_json(v[i]));
	free(v);
	return arr;
}
