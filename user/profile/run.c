// SPDX-License-Identifier: GPL-2.0-only
/*
 * The profiler's library API (include/fog/profiler.h): a CPU session
 * (session.c), two copies of the target's allocation sampler file (alloc.c)
 * and two readings of /proc/PID/io, taken at start and stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include "base/clock.h"
#include "base/procfs.h"
#include "fog/profiler.h"
#include "profile/alloc.h"
#include "profile/render.h"
#include "profile/run.h"
#include "profile/session.h"

#define ELF_CACHE_FILES 64
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct proc_io {
	__u64 rchar, wchar, syscr, syscw, read_bytes, write_bytes;
	__u64 cpu_ticks;	/* utime + stime */
};

struct fog_profile {
	pid_t pid;
	unsigned int mode;
	char target[64];
	struct fog_elfcache *cache;
	struct fog_prof_session *cpu;
	struct fog_symbolizer *sym;	/* memory frames */
	struct fog_alloc_snap *mem0;
	char mem_note[320];	/* why memory was left out (ALL mode) */
	struct proc_io io0;
	__u64 t0_ns;
	__u64 t0_unix_ns;
};

struct fog_profile_result {
	unsigned int modes;
	struct fog_prof *cpu, *alloc, *inuse;
	struct fog_profile_io io;
};

static __thread char errbuf[512];

__attribute__((format(printf, 2, 3))) static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

const char *fog_profile_strerror(void)
{
	return errbuf;
}

/* Whether this process may load BPF and open perf events for any process. */
static bool may_profile_cpu(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { 0 };
	__u64 eff;

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
	eff = (__u64)d[0].effective | (__u64)d[1].effective << 32;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return true;
	return (eff & (1ULL << CAP_BPF)) && (eff & (1ULL << CAP_PERFMON));
}

static int read_io(pid_t pid, struct proc_io *io)
{
	char path[64], line[128], buf[1024];
	unsigned long long v;
	ssize_t n;
	FILE *f;
	int fd;

	memset(io, 0, sizeof(*io));
	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "rchar: %llu", &v) == 1)
			io->rchar = v;
		else if (sscanf(line, "wchar: %llu", &v) == 1)
			io->wchar = v;
		else if (sscanf(line, "syscr: %llu", &v) == 1)
			io->syscr = v;
		else if (sscanf(line, "syscw: %llu", &v) == 1)
			io->syscw = v;
		else if (sscanf(line, "read_bytes: %llu", &v) == 1)
			io->read_bytes = v;
		else if (sscanf(line, "write_bytes: %llu", &v) == 1)
			io->write_bytes = v;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	fog_profile_stat_cpu_ticks(buf, &io->cpu_ticks);
	return 0;
}

bool fog_profile_stat_cpu_ticks(const char *stat, __u64 *ticks)
{
	struct fog_proc_stat st;

	if (fog_proc_stat_parse(stat, strlen(stat), &st))
		return false;
	*ticks = st.utime_ticks + st.stime_ticks;
	return true;
}

void fog_profile_result__free(struct fog_profile_result *r)
{
	if (!r)
		return;
	fog_prof__free(r->cpu);
	fog_prof__free(r->alloc);
	fog_prof__free(r->inuse);
	free(r);
}

static void profile_free(struct fog_profile *p)
{
	if (!p)
		return;
	fog_prof_session__free(p->cpu);
	fog_symbolizer__free(p->sym);
	fog_alloc_snap__free(p->mem0);
	fog_elfcache__free(p->cache);
	free(p);
}

static int start_memory(struct fog_profile *p)
{
	char err[256];

	p->sym = fog_symbolizer__new(p->cache);
	if (!p->sym)
		return fail(-ENOMEM, "out of memory");
	p->mem0 = fog_alloc_snap__read((__u32)p->pid, err, sizeof(err));
	if (!p->mem0) {
		int e = errno ? errno : EIO;

		if (p->mode & FOG_PROFILE_CPU) {	/* ALL: the CPU profile goes on without it */
			snprintf(p->mem_note, sizeof(p->mem_note), "no memory profile: %s", err);
			p->mode &= ~(unsigned int)FOG_PROFILE_MEMORY;
			return 0;
		}
		return fail(-e, "memory profile of %s: %s", p->target, err);
	}
	/* the maps are read now, so a process that exits before the end still resolves */
	fog_symbolizer__add_pid(p->sym, (__u32)p->pid);
	return 0;
}

int fog_profile_start(pid_t pid, unsigned int mode, const struct fog_profile_opts *o,
		      struct fog_profile **out)
{
	struct fog_profile *p;
	int err;

	*out = NULL;
	errbuf[0] = '\0';
	if (!mode || (mode & ~(unsigned int)FOG_PROFILE_ALL))
		return fail(-EINVAL, "mode 0x%x: use FOG_PROFILE_CPU, _MEMORY, _IO or _ALL", mode);
	if (pid < 0)
		return fail(-EINVAL, "pid %d is not a process id", (int)pid);
	if ((mode & FOG_PROFILE_CPU) && !may_profile_cpu())
		return fail(-EPERM, "CPU profiling loads BPF programs: run as root or with "
			    "CAP_BPF and CAP_PERFMON (memory and I/O modes need neither)");
	p = calloc(1, sizeof(*p));
	if (!p)
		return fail(-ENOMEM, "out of memory");
	p->pid = pid ? pid : getpid();
	p->mode = mode;
	snprintf(p->target, sizeof(p->target), "pid %d", (int)p->pid);
	if (kill(p->pid, 0) && errno == ESRCH) {
		err = fail(-ESRCH, "process %d: no such process", (int)p->pid);
		goto fail;
	}
	p->cache = fog_elfcache__new(ELF_CACHE_FILES);
	if (!p->cache) {
		err = fail(-ENOMEM, "out of memory");
		goto fail;
	}
	if (mode & FOG_PROFILE_IO) {
		err = read_io(p->pid, &p->io0);
		if (err) {
			fail(err, "I/O profile of %s: cannot read /proc/%d/io: %s", p->target,
			     (int)p->pid, strerror(-err));
			goto fail;
		}
	}
	if (mode & FOG_PROFILE_MEMORY) {
		err = start_memory(p);
		if (err)
			goto fail;
	}
	p->t0_ns = fog_clock_ns(CLOCK_MONOTONIC);
	p->t0_unix_ns = fog_clock_ns(CLOCK_REALTIME);
	/* CPU last: sampling starts as late as possible, so set-up is not in the profile */
	if (mode & FOG_PROFILE_CPU) {
		struct fog_prof_capture_opts co = {
			.target = FOG_PROF_TARGET_PID,
			.pid = (__u32)p->pid,
			.frequency = o && o->frequency ? o->frequency : 99,
			.no_kernel = o && o->no_kernel,
		};
		char msg[256];

		p->cpu = fog_prof_session__new(&co, p->target, p->cache, msg, sizeof(msg));
		if (!p->cpu) {
			int e = errno ? errno : EIO;

			err = fail(e == EACCES ? -EPERM : -e, "CPU profile of %s: %s", p->target, msg);
			goto fail;
		}
	}
	*out = p;
	return 0;
fail:
	profile_free(p);
	return err;
}

/* The per-process figures of the report's I/O section, from the two readings. */
static void add_proc(struct fog_prof *prof, const struct fog_profile *p,
		     const struct fog_profile_io *io, const struct proc_io *now)
{
	char path[64], comm[16] = "";
	long page = sysconf(_SC_PAGESIZE), tck = sysconf(_SC_CLK_TCK);
	unsigned long long rss = 0;
	double secs = io->seconds > 0 ? io->seconds : 1;
	FILE *f;

	if (!(p->mode & FOG_PROFILE_IO))
		return;
	prof->procs = calloc(1, sizeof(*prof->procs));
	if (!prof->procs)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)p->pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)p->pid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%*u %llu", &rss) != 1)
			rss = 0;
		fclose(f);
	}
	prof->procs[0] = (struct fog_prof_proc){
		.pid = (__u32)p->pid,
		.cpu_seconds = (double)(now->cpu_ticks - p->io0.cpu_ticks) / (double)(tck > 0 ? tck : 100),
		.io_read_bytes_per_s = (double)io->read_bytes / secs,
		.io_write_bytes_per_s = (double)io->write_bytes / secs,
		.runq_p99_ns = -1,
		.rss_bytes = rss * (unsigned long long)(page > 0 ? page : 4096),
	};
	memcpy(prof->procs[0].comm, comm, sizeof(comm));
	prof->nprocs = 1;
}

static struct fog_prof *memory_view(struct fog_profile *p, const struct fog_alloc_snap *end,
				    enum fog_prof_kind kind, int *err)
{
	struct fog_prof *prof = fog_prof__new(kind);

	if (!prof) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(prof->target, sizeof(prof->target), "%s", p->target);
	prof->start_unix_ns = p->t0_unix_ns;
	*err = fog_alloc_build(end, p->mem0, p->sym, prof);
	if (*err) {
		fog_prof__free(prof);
		return NULL;
	}
	return prof;
}

static int stop_memory(struct fog_profile *p, struct fog_profile_result *r)
{
	struct fog_alloc_snap *end;
	char msg[256], why[400] = "";
	int err;

	end = fog_alloc_snap__read((__u32)p->pid, msg, sizeof(msg));
	if (!end) {
		/*
		 * the process exited (its file went with it), or the file is no
		 * longer one (its owner replaced, truncated or filled it: counted
		 * and logged by alloc.c): the start copy is what is left
		 */
		if (errno == ESRCH || errno == ENOENT)
			snprintf(why, sizeof(why), "the process exited during the profile: memory "
				 "figures are those at the start");
		else
			snprintf(why, sizeof(why), "the sampler file could not be read at the end "
				 "(%s): memory figures are those at the start", msg);
		end = p->mem0;
		p->mem0 = NULL;
	}
	r->alloc = memory_view(p, end, FOG_PROF_ALLOC, &err);
	if (r->alloc)
		r->inuse = memory_view(p, end, FOG_PROF_INUSE, &err);
	if (!p->mem0) {
		if (r->alloc)
			fog_prof__note(r->alloc, "%s", why);
		if (r->inuse)
			fog_prof__note(r->inuse, "%s", why);
		p->mem0 = end;	/* freed with p */
	} else {
		fog_alloc_snap__free(end);
	}
	if (err)
		return fail(err, "memory profile of %s: %s", p->target, strerror(-err));
	r->modes |= FOG_PROFILE_MEMORY;
	return 0;
}

int fog_profile_stop(struct fog_profile *p, struct fog_profile_result **result)
{
	struct fog_profile_result *r = NULL;
	struct proc_io now;
	int err = 0;

	if (result)
		*result = NULL;
	if (!p)
		return fail(-EINVAL, "no profile");
	errbuf[0] = '\0';
	if (p->cpu)
		fog_prof_session__finish(p->cpu);
	if (!result)
		goto out;
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = fail(-ENOMEM, "out of memory");
		goto out;
	}
	r->io.seconds = (double)(fog_clock_ns(CLOCK_MONOTONIC) - p->t0_ns) / 1e9;
	if (p->mode & FOG_PROFILE_IO) {
		if (read_io(p->pid, &now)) {
			now = p->io0;	/* exited: nothing measured after the start */
		} else {
			r->io.read_bytes = now.read_bytes - p->io0.read_bytes;
			r->io.write_bytes = now.write_bytes - p->io0.write_bytes;
			r->io.rchar = now.rchar - p->io0.rchar;
			r->io.wchar = now.wchar - p->io0.wchar;
			r->io.syscr = now.syscr - p->io0.syscr;
			r->io.syscw = now.syscw - p->io0.syscw;
		}
		r->modes |= FOG_PROFILE_IO;
	}
	if (p->cpu) {
		r->cpu = fog_prof_session__take(p->cpu);
		if (!r->cpu) {
			err = fail(-EIO, "CPU profile of %s: no samples could be read", p->target);
			goto out;
		}
		if (p->mem_note[0])
			fog_prof__note(r->cpu, "%s", p->mem_note);
		add_proc(r->cpu, p, &r->io, &now);
		r->modes |= FOG_PROFILE_CPU;
	}
	if (p->mode & FOG_PROFILE_MEMORY) {
		err = stop_memory(p, r);
		if (err)
			goto out;
		add_proc(r->inuse, p, &r->io, &now);
	}
	*result = r;
	r = NULL;
out:
	fog_profile_result__free(r);
	profile_free(p);
	return err;
}

int fog_profile_run_opts(fog_profile_fn fn, void *arg, unsigned int mode,
			 const struct fog_profile_opts *o, struct fog_profile_result **result)
{
	struct fog_profile *p;
	int err;

	*result = NULL;
	if (!fn)
		return fail(-EINVAL, "no function to profile");
	err = fog_profile_start(0, mode, o, &p);
	if (err)
		return err;
	fn(arg);
	return fog_profile_stop(p, result);
}

int fog_profile_run(fog_profile_fn fn, void *arg, unsigned int mode,
		    struct fog_profile_result **result)
{
	return fog_profile_run_opts(fn, arg, mode, NULL, result);
}

unsigned int fog_profile_result_modes(const struct fog_profile_result *r)
{
	return r->modes;
}

const struct fog_prof *fog_profile_result_prof(const struct fog_profile_result *r,
					       enum fog_profile_view v)
{
	switch (v) {
	case FOG_PROFILE_VIEW_CPU: return r->cpu;
	case FOG_PROFILE_VIEW_ALLOC: return r->alloc;
	case FOG_PROFILE_VIEW_INUSE: return r->inuse;
	}
	return NULL;
}

__u64 fog_profile_result_total(const struct fog_profile_result *r, enum fog_profile_view v)
{
	const struct fog_prof *p = fog_profile_result_prof(r, v);

	return p ? p->total : 0;
}

const char *fog_profile_result_top(const struct fog_profile_result *r, enum fog_profile_view v,
				   __u64 *self)
{
	const struct fog_prof *p = fog_profile_result_prof(r, v);
	const char *name = NULL;
	struct fog_prof_func *fn;
	size_t n = 0;

	if (self)
		*self = 0;
	if (!p)
		return NULL;
	fn = fog_prof_functions_of(p, false, FOG_PROF_FUNCS_USER, &n);	/* not a kernel leaf */
	if (fn && n && fn[0].self) {
		name = fn[0].func;	/* points into p's frames */
		if (self)
			*self = fn[0].self;
	}
	free(fn);
	return name;
}

int fog_profile_result_io(const struct fog_profile_result *r, struct fog_profile_io *out)
{
	if (!(r->modes & FOG_PROFILE_IO))
		return fail(-ENOENT, "the profile has no I/O figures");
	*out = r->io;
	return 0;
}

size_t fog_profile_result_leaks(const struct fog_profile_result *r, struct fog_profile_leak *out,
				size_t max)
{
	size_t n = 0;

	for (; r->inuse && n < r->inuse->nleaks && n < max; n++) {
		const struct fog_prof_leak *l = &r->inuse->leaks[n];

		out[n] = (struct fog_profile_leak){ l->func, l->stack, l->live_bytes,
						    l->growth_bytes, l->growing };
	}
	return n;
}

int fog_profile_result_render(const struct fog_profile_result *r, enum fog_profile_view v,
			      const char *format, void **buf, size_t *len)
{
	const struct fog_prof *p = fog_profile_result_prof(r, v);
	struct fog_prof_output out;
	int err;

	*buf = NULL;
	*len = 0;
	if (!p)
		return fail(-ENOENT, "the profile has no %s view",
			    v == FOG_PROFILE_VIEW_CPU ? "CPU" : "memory");
	err = fog_prof_render(p, format, &out);
	if (err == -EINVAL)
		return fail(err, "no format '%s': use folded, pprof, speedscope, svg, html or json",
			    format);
	if (err)
		return fail(err, "rendering %s failed: %s", format, strerror(-err));
	*buf = out.body;
	*len = out.len;
	return 0;
}

int fog_profile_result_save(const struct fog_profile_result *r, enum fog_profile_view v,
			    const char *path)
{
	const char *format = fog_prof_format_of_path(path);
	size_t len;
	void *buf;
	FILE *f;
	int err;

	if (!format)
		return fail(-EINVAL, "%s: name it .html, .svg, .pb.gz, .folded, .speedscope.json "
			    "or .json", path);
	err = fog_profile_result_render(r, v, format, &buf, &len);
	if (err)
		return err;
	f = fopen(path, "we");
	if (!f) {
		err = -errno;
		free(buf);
		return fail(err, "cannot write %s: %s", path, strerror(-err));
	}
	if (fwrite(buf, 1, len, f) != len)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	free(buf);
	if (err)
		return fail(err, "writing %s: %s", path, strerror(-err));
	return 0;
}
