// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement engine's workers: registration and validation, live signals
 * with their age, load (reservations, fresh signals and placements those
 * signals cannot show yet), removal (placed tasks go back to the queue,
 * running ones fail), and the constraints that decide whether a worker can
 * hold a task.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sched/sched_int.h"

/* ---- workers ---- */

int fog_sched_worker_index(const struct fog_sched *s, const char *id)
{
	for (unsigned int i = 0; i < s->n_workers; i++)
		if (!strcmp(s->workers[i].spec.id, id))
			return (int)i;
	return -ENOENT;
}

bool fog_sched_signals_fresh(const struct fog_sched *s, const struct fog_worker *w, __u64 now)
{
	return w->sig.have && now - w->sig.at_ns <= s->opts.signal_ttl_ns;
}

/*
 * A worker's load, 0..1 (more when oversubscribed): the larger of what is
 * reserved on it and what its fresh signals measure plus the tasks placed since
 * they were taken (estimates, so a burst of placements is not invisible until
 * the next signal). Without fresh signals only reservations count.
 */
double fog_sched_worker_load(const struct fog_sched *s, const struct fog_worker *w, __u64 now)
{
	double cores = w->spec.cpu_cores, res = w->alloc_cpu / cores;
	double mem = (double)w->alloc_mem_mb / (double)w->spec.memory_mb;

	if (mem > res)
		res = mem;
	if (w->spec.gpu_count && (double)w->alloc_gpu / w->spec.gpu_count > res)
		res = (double)w->alloc_gpu / w->spec.gpu_count;
	if (fog_sched_signals_fresh(s, w, now)) {
		double live = 0;

		if (w->sig.have & FOG_SIG_CPU_UTIL)
			live = w->sig.cpu_util;
		if ((w->sig.have & FOG_SIG_LOAD) && w->sig.load / cores > live)
			live = w->sig.load / cores;
		live += w->unseen_cpu / cores;
		if (live > res)
			res = live;
	}
	return res;
}

void fog_worker_refresh(struct fog_sched *s, unsigned int wi, __u64 now)
{
	struct fog_worker *w = &s->workers[wi];
	struct fog_worker_hot *h = &s->hot[wi];

	h->free_cpu = w->spec.cpu_cores - w->alloc_cpu;
	h->free_mem_mb = (__s64)w->spec.memory_mb - (__s64)w->alloc_mem_mb;
	h->free_gpu = (__s32)w->spec.gpu_count - (__s32)w->alloc_gpu;
	h->gpu = w->spec.gpu_count > 0;
	h->has_sig = w->sig.have != 0;
	h->sig_at_ns = w->sig.at_ns;
	h->cost_per_hour = w->spec.cost_per_hour;
	h->load = fog_sched_worker_load(s, w, now);
	h->gen = ++s->gen;
}

static int check_worker(const struct fog_worker_spec *w, char *err, size_t len)
{
	if (!fog_sched_str_ok(w->id, sizeof(w->id)) || !w->id[0]) {
		fog_sched_set_err(err, len, "worker id must be 1..%d characters", FOG_SCHED_ID_LEN - 1);
		return -EINVAL;
	}
	if (!isfinite(w->cpu_cores) || w->cpu_cores <= 0 || w->cpu_cores > 1e6) {
		fog_sched_set_err(err, len, "worker %s: cpu_cores must be in (0, 1e6]", w->id);
		return -EINVAL;
	}
	if (!w->memory_mb || w->memory_mb > (1ull << 40)) {
		fog_sched_set_err(err, len, "worker %s: memory_mb must be in 1..2^40", w->id);
		return -EINVAL;
	}
	if (w->gpu_count > 1024) {
		fog_sched_set_err(err, len, "worker %s: gpu_count must be at most 1024", w->id);
		return -EINVAL;
	}
	if (!isfinite(w->cost_per_hour) || w->cost_per_hour < 0) {
		fog_sched_set_err(err, len, "worker %s: cost_per_hour must be a number >= 0", w->id);
		return -EINVAL;
	}
	if (w->n_labels > FOG_SCHED_MAX_LABELS) {
		fog_sched_set_err(err, len, "worker %s: at most %d labels", w->id, FOG_SCHED_MAX_LABELS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < w->n_labels; i++)
		if (!fog_sched_str_ok(w->labels[i], FOG_SCHED_LABEL_LEN) || !w->labels[i][0]) {
			fog_sched_set_err(err, len, "worker %s: label %u must be 1..%d characters", w->id, i,
				FOG_SCHED_LABEL_LEN - 1);
			return -EINVAL;
		}
	return 0;
}

int fog_sched__worker_add(struct fog_sched *s, const struct fog_worker_spec *spec, char *err,
			  size_t err_len)
{
	int rc = check_worker(spec, err, err_len);
	unsigned int wi;

	if (rc)
		return rc;
	if (fog_sched_worker_index(s, spec->id) >= 0) {
		fog_sched_set_err(err, err_len, "worker %s is already registered", spec->id);
		return -EEXIST;
	}
	if (s->n_workers == s->opts.max_workers) {
		fog_sched_set_err(err, err_len, "worker table is full (%u)", s->opts.max_workers);
		return -ENOSPC;
	}
	wi = s->n_workers++;
	memset(&s->workers[wi], 0, sizeof(s->workers[wi]));
	s->workers[wi].spec = *spec;
	fog_learner__reset(s->learner, wi);
	fog_worker_refresh(s, wi, fog_sched__now(s));
	s->cap_gen++;
	return 0;
}

int fog_sched__worker_update(struct fog_sched *s, const struct fog_worker_spec *spec, char *err,
			     size_t err_len)
{
	int rc = check_worker(spec, err, err_len), wi;

	if (rc)
		return rc;
	wi = fog_sched_worker_index(s, spec->id);
	if (wi < 0) {
		fog_sched_set_err(err, err_len, "unknown worker %s", spec->id);
		return -ENOENT;
	}
	s->workers[wi].spec = *spec;
	fog_worker_refresh(s, (unsigned int)wi, fog_sched__now(s));
	s->cap_gen++;
	return 0;
}

int fog_sched__worker_remove(struct fog_sched *s, const char *id)
{
	int wi = fog_sched_worker_index(s, id);
	unsigned int last;
	__u64 now = fog_sched__now(s);

	if (wi < 0)
		return -ENOENT;
	for (struct fog_task *t = s->workers[wi].task_head, *next; t; t = next) {
		next = t->wnext;
		if (t->info.state == FOG_TASK_PLACED) {
			fog_sched_requeue(s, t, now);
		} else {
			fog_sched_release(s, t, now);
			snprintf(t->info.reason, sizeof(t->info.reason), "worker %s was removed",
				 id);
			fog_sched_finish(s, t, FOG_TASK_FAILED, now);
		}
	}
	last = s->n_workers - 1;
	if ((unsigned int)wi != last) {
		s->workers[wi] = s->workers[last];
		s->hot[wi] = s->hot[last];
		fog_learner__move(s->learner, last, (unsigned int)wi);
		for (struct fog_task *t = s->workers[wi].task_head; t; t = t->wnext)
			t->worker = wi;
	}
	s->n_workers--;
	s->cap_gen++;
	return 0;
}

int fog_sched__worker_signals(struct fog_sched *s, const char *id,
			      const struct fog_worker_signals *sig)
{
	int wi = fog_sched_worker_index(s, id);
	struct fog_worker *w;
	__u64 now = fog_sched__now(s);

	if (wi < 0)
		return -ENOENT;
	if (!isfinite(sig->cpu_util) || !isfinite(sig->runq_p99_us) || !isfinite(sig->mem_psi) ||
	    !isfinite(sig->io_p99_us) || !isfinite(sig->load) || sig->cpu_util < 0 ||
	    sig->runq_p99_us < 0 || sig->mem_psi < 0 || sig->io_p99_us < 0 || sig->load < 0 ||
	    sig->at_ns > now)
		return -EINVAL;
	w = &s->workers[wi];
	w->sig = *sig;
	if (!w->sig.at_ns)
		w->sig.at_ns = now;
	/* tasks placed before these readings are in them now */
	w->unseen = 0;
	w->unseen_cpu = 0;
	for (struct fog_task *t = w->task_head; t; t = t->wnext) {
		if (t->info.place_ns > w->sig.at_ns) {
			w->unseen++;
			w->unseen_cpu += t->info.spec.cpu_cores;
		}
	}
	fog_worker_refresh(s, (unsigned int)wi, now);
	return 0;
}

static void worker_info(const struct fog_sched *s, unsigned int wi, struct fog_worker_info *o)
{
	const struct fog_worker *w = &s->workers[wi];
	__u64 now = fog_sched__now(s);

	memset(o, 0, sizeof(*o));
	o->spec = w->spec;
	o->sig = w->sig;
	o->signals_fresh = fog_sched_signals_fresh(s, w, now);
	o->signal_age_ns = w->sig.have ? now - w->sig.at_ns : 0;
	o->alloc_cpu = w->alloc_cpu;
	o->alloc_mem_mb = w->alloc_mem_mb;
	o->alloc_gpu = w->alloc_gpu;
	o->tasks = w->tasks;
	o->unseen = w->unseen;
	o->completed = w->completed;
	o->failed = w->failed;
}

int fog_sched__worker(const struct fog_sched *s, const char *id, struct fog_worker_info *out)
{
	int wi = fog_sched_worker_index(s, id);

	if (wi < 0)
		return -ENOENT;
	worker_info(s, (unsigned int)wi, out);
	return 0;
}

unsigned int fog_sched__worker_count(const struct fog_sched *s)
{
	return s->n_workers;
}

int fog_sched__worker_at(const struct fog_sched *s, unsigned int i, struct fog_worker_info *out)
{
	if (i >= s->n_workers)
		return -ENOENT;
	worker_info(s, i, out);
	return 0;
}

/* ---- constraints ---- */

static bool has_label(const struct fog_worker_spec *w, const char *label)
{
	for (unsigned int i = 0; i < w->n_labels; i++)
		if (!strcmp(w->labels[i], label))
			return true;
	return false;
}

static bool labels_ok(const struct fog_worker_spec *w, const struct fog_task_spec *t)
{
	for (unsigned int i = 0; i < t->n_affinity; i++)
		if (!has_label(w, t->affinity[i]))
			return false;
	for (unsigned int i = 0; i < t->n_anti; i++)
		if (has_label(w, t->anti_affinity[i]))
			return false;
	return true;
}

bool fog_sched_could_fit(const struct fog_worker *w, const struct fog_task_spec *t)
{
	return w->spec.cpu_cores + 1e-9 >= t->cpu_cores && w->spec.memory_mb >= t->memory_mb &&
	       w->spec.gpu_count >= t->gpu_count && labels_ok(&w->spec, t);
}

bool fog_sched_fits_static(const struct fog_sched *s, int strategy, const struct fog_task_spec *t,
			   unsigned int wi)
{
	const struct fog_strategy_ops *ops = &fog_strategies[strategy];

	return fog_sched_could_fit(&s->workers[wi], t) &&
	       (!ops->allowed || ops->allowed(s, t, &s->workers[wi], &s->hot[wi]));
}

bool fog_sched_fits(const struct fog_sched *s, int strategy, const struct fog_task_spec *t,
		    unsigned int wi)
{
	const struct fog_worker_hot *h = &s->hot[wi];
	const struct fog_strategy_ops *ops = &fog_strategies[strategy];

	if (h->free_cpu + 1e-9 < t->cpu_cores || h->free_mem_mb < (__s64)t->memory_mb ||
	    h->free_gpu < (__s32)t->gpu_count)
		return false;
	if ((t->n_affinity || t->n_anti) && !labels_ok(&s->workers[wi].spec, t))
		return false;
	return !ops->allowed || ops->allowed(s, t, &s->workers[wi], h);
}

/* Why no worker can ever take t: names the first requirement out of reach. */
void fog_sched_never_fits_reason(const struct fog_sched *s, int strategy,
				 const struct fog_task_spec *t, char *err, size_t len)
{
	double max_cpu = 0;
	__u64 max_mem = 0;
	__u32 max_gpu = 0;

	if (!s->n_workers) {
		fog_sched_set_err(err, len, "no workers are registered");
		return;
	}
	for (unsigned int i = 0; i < s->n_workers; i++) {
		const struct fog_worker_spec *w = &s->workers[i].spec;

		max_cpu = fmax(max_cpu, w->cpu_cores);
		max_mem = w->memory_mb > max_mem ? w->memory_mb : max_mem;
		max_gpu = w->gpu_count > max_gpu ? w->gpu_count : max_gpu;
	}
	if (t->cpu_cores > max_cpu + 1e-9)
		fog_sched_set_err(err, len, "no worker has %.3g cpu cores (the largest has %.3g)",
			t->cpu_cores, max_cpu);
	else if (t->memory_mb > max_mem)
		fog_sched_set_err(err, len, "no worker has %llu MiB of memory (the largest has %llu)",
			(unsigned long long)t->memory_mb, (unsigned long long)max_mem);
	else if (t->gpu_count > max_gpu)
		fog_sched_set_err(err, len, "no worker has %u GPUs (the most is %u)", t->gpu_count, max_gpu);
	else
		fog_sched_set_err(err, len,
			"no worker meets cpu, memory, GPUs, labels and the %s strategy's "
			"constraints (type, budget) together",
			fog_sched_strategy_name(strategy));
}

void fog_worker_signals_from(struct fog_worker_signals *out, const struct fog_signals *s,
			     __u64 at_ns)
{
	*out = (struct fog_worker_signals){ .at_ns = at_ns };
	if (isfinite(s->cpu_busy) && s->cpu_busy >= 0) {
		out->cpu_util = s->cpu_busy;
		out->have |= FOG_SIG_CPU_UTIL;
	}
	if (isfinite(s->runq_p99_s) && s->runq_p99_s >= 0) {
		out->runq_p99_us = s->runq_p99_s * 1e6;
		out->have |= FOG_SIG_RUNQ_P99;
	}
	if (isfinite(s->psi_some) && s->psi_some >= 0) {
		out->mem_psi = s->psi_some * 100;	/* worst "some" of cpu, memory, io */
		out->have |= FOG_SIG_MEM_PSI;
	}
	if (isfinite(s->io_p99_s) && s->io_p99_s >= 0) {
		out->io_p99_us = s->io_p99_s * 1e6;
		out->have |= FOG_SIG_IO_P99;
	}
}
