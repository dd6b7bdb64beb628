// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/psi.h"
#include "profile/render.h"
#include "profile/session.h"

#define MAX_PIDS 4096

struct proc_start {
	__u32 pid;
	__u64 oncpu_ns;
	__u64 read_bytes;
	__u64 write_bytes;
};

/* A process's figures when the capture ended (fog_prof_session__mark_end). */
struct proc_end {
	struct proc_start at;
	char comm[16];
	__u64 runq_p99_ns;
	__u64 rss_bytes;
};

struct fog_prof_session {
	struct fog_prof_capture *cap;
	struct fog_symbolizer *sym;
	struct fog_prof *prof;
	__u64 start_mono_ns;
	__u32 first_pid;	/* the named process, read at the first poll (off the loop) */
	__u32 *pids;	/* seen so far */
	size_t npids;
	struct proc_start *starts;
	size_t nstarts;
	struct proc_end *ends;	/* the caller's, taken when the capture ends */
	size_t nends;
	bool have_ends;
	/* fog_prof_session__run_async: the thread owns everything above until done */
	bool threaded, joined;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* stop asked */
	bool stop;	/* under lock */
	__u64 until_ns;	/* monotonic */
	unsigned int poll_ms;
	char format[16];	/* rendered by the thread when set */
	struct fog_prof_output out;
	int err;	/* the build's, then the render's */
	atomic_bool done;
	_Atomic __u64 samples;	/* while the thread runs */
};

struct fog_prof_session *fog_prof_session__new(const struct fog_prof_capture_opts *o,
					       const char *target, struct fog_elfcache *cache,
					       char *err, size_t len)
{
	struct fog_prof_session *s = calloc(1, sizeof(*s));
	int e;

	if (!s) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	s->pids = calloc(MAX_PIDS, sizeof(*s->pids));
	s->sym = fog_symbolizer__new(cache);
	s->prof = fog_prof__new(FOG_PROF_CPU);
	if (!s->pids || !s->sym || !s->prof) {
		snprintf(err, len, "out of memory");
		e = ENOMEM;
		goto fail;
	}
	snprintf(s->prof->target, sizeof(s->prof->target), "%s", target);
	/*
	 * a named process is read at the first poll, before its first sample is
	 * taken apart (so names resolve if it exits early), on the session's
	 * thread: its files are the tenant's and are not read on the caller's loop
	 */
	if (o->target == FOG_PROF_TARGET_PID) {
		if (!fog_proc_start_time(o->pid)) {
			snprintf(err, len, "process %u: no such process", o->pid);
			e = ESRCH;
			goto fail;
		}
		s->first_pid = o->pid;
	}
	s->prof->start_unix_ns = fog_clock_ns(CLOCK_REALTIME);
	s->start_mono_ns = fog_clock_ns(CLOCK_MONOTONIC);
	s->cap = fog_prof_capture__new(o, err, len);
	if (!s->cap) {
		e = errno;
		goto fail;
	}
	return s;
fail:
	fog_prof_session__free(s);
	errno = e;
	return NULL;
}

void fog_prof_session__free(struct fog_prof_session *s)
{
	if (!s)
		return;
	if (s->threaded && !s->joined) {
		fog_prof_session__stop_async(s);
		pthread_join(s->thread, NULL);
	}
	if (s->threaded) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->wake);
	}
	free(s->out.body);
	free(s->ends);
	fog_prof_capture__free(s->cap);
	fog_symbolizer__free(s->sym);
	fog_prof__free(s->prof);
	free(s->pids);
	free(s->starts);
	free(s);
}

void fog_prof_session__poll(struct fog_prof_session *s)
{
	__u32 now[512];
	size_t n;

	if (!s->cap)
		return;
	if (s->first_pid) {
		s->pids[s->npids++] = s->first_pid;
		fog_symbolizer__add_pid(s->sym, s->first_pid);
		s->first_pid = 0;
	}
	n = fog_prof_capture__pids(s->cap, now, sizeof(now) / sizeof(now[0]));
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < s->npids && s->pids[j] != now[i]; j++)
			;
		if (j < s->npids || s->npids == MAX_PIDS)
			continue;
		s->pids[s->npids++] = now[i];
		fog_symbolizer__add_pid(s->sym, now[i]);
	}
}

/* Memory PSI "some" avg10 (percent) of the host, -1 when it cannot be read. */
static double mem_psi_some(void)
{
	char text[512];
	struct fog_psi psi;
	char err[128];
	ssize_t n;
	int fd = open("/proc/pressure/memory", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	fog_psi_parse(text, &psi, err, sizeof(err));
	return psi.has_some ? psi.some.avg10 : -1;
}

int fog_prof_session__finish(struct fog_prof_session *s)
{
	struct fog_prof *p = s->prof;
	int err;

	if (!s->cap)
		return -EALREADY;
	fog_prof_capture__stop(s->cap);
	p->duration_ns = fog_clock_ns(CLOCK_MONOTONIC) - s->start_mono_ns;
	fog_prof_session__poll(s);
	err = fog_prof_capture__build(s->cap, s->sym, p);
	for (size_t i = 0; i < s->npids; i++)
		if (fog_symbolizer__exited(s->sym, s->pids[i]))
			fog_prof__note(p, "process %u exited during the profile: its frames were "
				       "resolved from the snapshot taken while it ran", s->pids[i]);
	if (s->npids == MAX_PIDS)
		fog_prof__note(p, "more than %d processes sampled: later ones were not "
			       "snapshotted and may show [unknown] frames", MAX_PIDS);
	if (!p->total)
		fog_prof__note(p, p->kind == FOG_PROF_OFFCPU ?
				  "no samples: the target did not block during the profile" :
				  "no samples: the target did not run on a CPU during the profile");
	p->mem_psi_some_avg10 = mem_psi_some();
	fog_prof_capture__free(s->cap);
	s->cap = NULL;
	/*
	 * the profile holds its names now: the maps of every process seen, and
	 * the references that pin their files in the cache, go (a finished
	 * session is kept for a while, and a host-wide one saw many processes)
	 */
	fog_symbolizer__free(s->sym);
	s->sym = NULL;
	return err;
}

struct fog_prof *fog_prof_session__prof(struct fog_prof_session *s)
{
	return s->prof;
}

struct fog_prof *fog_prof_session__take(struct fog_prof_session *s)
{
	struct fog_prof *p = s->prof;

	s->prof = NULL;
	return p;
}

__u64 fog_prof_session__samples(struct fog_prof_session *s)
{
	struct fog_prof_stats st;

	if (s->threaded && !s->joined)
		return atomic_load(&s->samples);
	if (!s->cap)
		return s->prof ? s->prof->total : 0;
	fog_prof_capture__stats(s->cap, &st);
	return st.samples;
}

static void take_start(const struct fog_prof_task_figures *pr, void *ctx)
{
	struct fog_prof_session *s = ctx;
	struct proc_start *v;

	if (s->nstarts % 256 == 0) {
		v = realloc(s->starts, (s->nstarts + 256) * sizeof(*v));
		if (!v)
			return;
		s->starts = v;
	}
	s->starts[s->nstarts++] = (struct proc_start){ pr->pid, pr->oncpu_ns, pr->io_read_bytes,
						       pr->io_write_bytes };
}

static void take_end(const struct fog_prof_task_figures *pr, void *ctx)
{
	struct fog_prof_session *s = ctx;
	struct proc_end *v;

	if (s->nends % 256 == 0) {
		v = realloc(s->ends, (s->nends + 256) * sizeof(*v));
		if (!v)
			return;
		s->ends = v;
	}
	v = &s->ends[s->nends++];
	v->at = (struct proc_start){ pr->pid, pr->oncpu_ns, pr->io_read_bytes, pr->io_write_bytes };
	memcpy(v->comm, pr->comm, sizeof(v->comm));
	v->comm[sizeof(v->comm) - 1] = '\0';
	v->runq_p99_ns = pr->runq_p99_ns;
	v->rss_bytes = pr->rss_bytes;
}

void fog_prof_session__mark_end(struct fog_prof_session *s, fog_prof_tasks_fn each, void *src)
{
	if (!src || s->have_ends)
		return;
	each(src, take_end, s);
	s->have_ends = true;
}

void fog_prof_session__procs(struct fog_prof_session *s, fog_prof_tasks_fn each, void *src,
			     bool end)
{
	struct fog_prof *p = s->prof;
	double secs;

	if (!p || (!src && !(end && s->have_ends)))
		return;
	if (!end) {
		each(src, take_start, s);
		return;
	}
	fog_prof_session__mark_end(s, each, src);
	secs = p->duration_ns ? (double)p->duration_ns / 1e9 : 1;
	free(p->procs);
	p->procs = calloc(s->npids + 1, sizeof(*p->procs));
	p->nprocs = 0;
	for (size_t i = 0; p->procs && i < s->npids; i++) {
		const struct proc_end *e = NULL;
		struct fog_prof_proc *o = &p->procs[p->nprocs];
		struct proc_start st = { 0 };

		for (size_t j = 0; j < s->nends && !e; j++)
			if (s->ends[j].at.pid == s->pids[i])
				e = &s->ends[j];
		if (!e)
			continue;
		for (size_t j = 0; j < s->nstarts; j++)
			if (s->starts[j].pid == e->at.pid)
				st = s->starts[j];
		o->pid = e->at.pid;
		memcpy(o->comm, e->comm, sizeof(o->comm));
		/* a process first seen during the profile counts from zero */
		o->cpu_seconds = (double)(e->at.oncpu_ns - st.oncpu_ns) / 1e9;
		o->io_read_bytes_per_s = (double)(e->at.read_bytes - st.read_bytes) / secs;
		o->io_write_bytes_per_s = (double)(e->at.write_bytes - st.write_bytes) / secs;
		o->runq_p99_ns = e->runq_p99_ns;
		o->rss_bytes = e->rss_bytes;
		p->nprocs++;
	}
}

/*
 * The session's thread: snapshots new processes every poll_ms until the
 * deadline or a stop, then stops the capture, builds (symbolizes) the
 * profile and renders it when asked. Nothing here touches the loop's data.
 */
static void *session_thread(void *arg)
{
	struct fog_prof_session *s = arg;
	struct fog_prof_stats st;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		__u64 now = fog_clock_ns(CLOCK_MONOTONIC), next;

		if (s->stop || now >= s->until_ns)
			break;
		pthread_mutex_unlock(&s->lock);
		fog_prof_session__poll(s);
		fog_prof_capture__stats(s->cap, &st);
		atomic_store(&s->samples, st.samples);
		pthread_mutex_lock(&s->lock);
		next = now + (__u64)s->poll_ms * 1000000ULL;
		if (next > s->until_ns)
			next = s->until_ns;
		if (!s->stop)
			fog_cond_wait_until(&s->wake, &s->lock, (double)next / 1e9);
	}
	pthread_mutex_unlock(&s->lock);
	s->err = fog_prof_session__finish(s);
	if (!s->err && s->format[0])
		s->err = fog_prof_render(s->prof, s->format, &s->out);
	atomic_store_explicit(&s->done, true, memory_order_release);
	return NULL;
}

int fog_prof_session__run_async(struct fog_prof_session *s, double seconds, unsigned int poll_ms,
				const char *format)
{
	int err;

	if (s->threaded || !s->cap || !(seconds > 0) || !poll_ms ||
	    (format && strlen(format) >= sizeof(s->format)))
		return -EINVAL;
	s->until_ns = fog_clock_ns(CLOCK_MONOTONIC) + (__u64)(seconds * 1e9);
	s->poll_ms = poll_ms;
	snprintf(s->format, sizeof(s->format), "%s", format ? format : "");
	pthread_mutex_init(&s->lock, NULL);
	err = fog_cond_init_mono(&s->wake);
	if (err) {
		pthread_mutex_destroy(&s->lock);
		return err;
	}
	err = pthread_create(&s->thread, NULL, session_thread, s);
	if (err) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->wake);
		return -err;
	}
	s->threaded = true;
	return 0;
}

void fog_prof_session__stop_async(struct fog_prof_session *s)
{
	if (!s->threaded || s->joined)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

bool fog_prof_session__async_done(struct fog_prof_session *s, int *err)
{
	if (!s->threaded)
		return false;
	if (!s->joined) {
		if (!atomic_load_explicit(&s->done, memory_order_acquire))
			return false;
		pthread_join(s->thread, NULL);
		s->joined = true;
	}
	if (err)
		*err = s->err;
	return true;
}

int fog_prof_session__take_output(struct fog_prof_session *s, struct fog_prof_output *out)
{
	if (!s->joined || !s->out.body)
		return -ENODATA;
	*out = s->out;
	s->out = (struct fog_prof_output){ 0 };
	return 0;
}
