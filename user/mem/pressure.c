// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory pressure sources: PSI files (host and cgroup) with triggers, host
 * usage from /proc/meminfo, cgroup usage against its limit, and the rule
 * that turns their figures into a level.
 *
 * PSI triggers (Documentation/accounting/psi.rst, "Monitoring for pressure
 * thresholds"): writing "<some|full> <stall us> <window us>" to a pressure
 * file makes poll() report POLLPRI when the stall time within any window
 * reaches the threshold. The level itself is computed from the files' stall
 * totals over the last window, the same rule the kernel applies, so it is
 * right however the wake-up arrived: a trigger fd's event is consumed by
 * whichever poll sees it first, which with nested epoll is not ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/stat.h>

#include "base/cgroup.h"
#include "base/clock.h"
#include "base/meminfo.h"
#include "base/psi.h"
#include "mem/memopt_int.h"

#define TEXT_MAX 8192

static const char *const src_names[SRC_COUNT] = {
	[SRC_HOST_PSI] = "host psi",
	[SRC_CGROUP_PSI] = "cgroup psi",
	[SRC_HOST_USAGE] = "host usage",
	[SRC_CGROUP_USAGE] = "cgroup usage",
};

const char *fog_mem_level_name(enum fog_mem_level level)
{
	switch (level) {
	case FOG_MEM_OK:
		return "ok";
	case FOG_MEM_WARN:
		return "warn";
	case FOG_MEM_SOME:
		return "some";
	case FOG_MEM_FULL:
		return "full";
	}
	return "unknown";
}

/* ---- pure functions ---- */

int fog_mem_usage_host(const char *meminfo, struct fog_mem_usage *out, char *err, size_t errlen)
{
	const unsigned int need = FOG_MEMINFO_TOTAL | FOG_MEMINFO_AVAILABLE;
	struct fog_meminfo mi;
	char why[160];

	out->used = out->total = 0;
	out->pct = -1;
	/* other fields may be missing or odd: only these two matter here */
	fog_meminfo_parse(meminfo, &mi, why, sizeof(why));
	if ((mi.have & need) != need) {
		snprintf(err, errlen, "meminfo: %s", why[0] ? why : "no MemTotal or MemAvailable");
		return -EINVAL;
	}
	if (!mi.total_bytes || mi.available_bytes > mi.total_bytes) {
		snprintf(err, errlen, "meminfo: MemAvailable %llu kB with MemTotal %llu kB",
			 (unsigned long long)mi.available_bytes / 1024,
			 (unsigned long long)mi.total_bytes / 1024);
		return -EINVAL;
	}
	out->total = mi.total_bytes;
	out->used = mi.total_bytes - mi.available_bytes;
	out->pct = 100.0 * (double)out->used / (double)out->total;
	if (err && errlen)
		err[0] = '\0';
	return 0;
}

int fog_mem_usage_cgroup(const char *usage, const char *limit, struct fog_mem_usage *out, char *err,
			 size_t errlen)
{
	__u64 used, max;

	out->used = out->total = 0;
	out->pct = -1;
	if (fog_memcg_parse_value(usage, &used) || used == FOG_MEMCG_NO_LIMIT) {
		snprintf(err, errlen, "cgroup usage '%.32s' is not a byte count", usage);
		return -EINVAL;
	}
	if (fog_memcg_parse_value(limit, &max)) {
		snprintf(err, errlen, "cgroup limit '%.32s' is not a byte count or max", limit);
		return -EINVAL;
	}
	out->used = used;
	if (max != FOG_MEMCG_NO_LIMIT) {
		out->total = max;
		/* usage can pass a limit just lowered below it; a zero limit is all used */
		out->pct = max ? 100.0 * (double)used / (double)max : 100.0;
	}
	if (err && errlen)
		err[0] = '\0';
	return 0;
}

double fog_psi_stall_pct(uint64_t total_before_us, uint64_t total_now_us, uint64_t span_ns)
{
	double pct;

	if (!span_ns || total_now_us < total_before_us)
		return -1;
	pct = 100.0 * (double)(total_now_us - total_before_us) * 1000.0 / (double)span_ns;
	return pct > 100.0 ? 100.0 : pct;
}

void fog_mem_pressure_eval(struct fog_mem_pressure *p, const struct fog_memopt_opts *o)
{
	double window = o && o->window_us ? o->window_us : FOG_MEMOPT_DEFAULT_WINDOW_US;
	double some = 100.0 *
		      (o && o->some_stall_us ? o->some_stall_us : FOG_MEMOPT_DEFAULT_SOME_US) /
		      window;
	double full = 100.0 *
		      (o && o->full_stall_us ? o->full_stall_us : FOG_MEMOPT_DEFAULT_FULL_US) /
		      window;
	double alert = o && o->alert_pct > 0 ? o->alert_pct : FOG_MEMOPT_DEFAULT_ALERT_PCT;

	p->level = FOG_MEM_OK;
	p->reason = "ok";
	/* each test only raises the level: the most severe source wins */
	if (p->cgroup.pct >= alert) {
		p->level = FOG_MEM_WARN;
		p->reason = "cgroup usage";
	}
	if (p->host.pct >= alert) {
		p->level = FOG_MEM_WARN;
		p->reason = "host usage";
	}
	if (p->cgroup_some_pct >= some) {
		p->level = FOG_MEM_SOME;
		p->reason = "cgroup psi some";
	}
	if (p->host_some_pct >= some) {
		p->level = FOG_MEM_SOME;
		p->reason = "host psi some";
	}
	if (p->cgroup_full_pct >= full) {
		p->level = FOG_MEM_FULL;
		p->reason = "cgroup psi full";
	}
	if (p->host_full_pct >= full) {
		p->level = FOG_MEM_FULL;
		p->reason = "host psi full";
	}
}

/* ---- sources ---- */

static void src_error(struct fog_memopt_source *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void src_error(struct fog_memopt_source *s, const char *fmt, ...)
{
	size_t used = strlen(s->error);
	va_list ap;

	if (used >= sizeof(s->error) - 3)
		return;
	if (used) {
		/* a second problem with the same source */
		strcpy(s->error + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(s->error + used, sizeof(s->error) - used, fmt, ap);
	va_end(ap);
}

/* a + b + c into out; -ENAMETOOLONG rather than a cut path */
static int path_join(char *out, size_t len, const char *a, const char *b, const char *c)
{
	int n = snprintf(out, len, "%s%s%s", a, b, c);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Reads a small file from its start on each call; NUL-terminated. */
static int read_text(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int open_text(const char *path, char *buf, size_t len, int *fd_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = read_text(fd, buf, len);
	if (err) {
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

/* Registers one PSI trigger; the fd goes into m->epfd. */
static int psi_trigger(struct fog_memopt *m, struct fog_memopt_source *s, const char *kind,
		       uint32_t stall_us, int *fd_out)
{
	struct epoll_event ev = {.events = EPOLLPRI};
	uint32_t window = m->opts.window_us;
	struct statfs sfs;
	char spec[64];
	int fd, err;

	snprintf(spec, sizeof(spec), "%s %u %u", kind, stall_us, window);
	fd = open(s->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		src_error(s, "trigger '%s': open: %s", spec, strerror(-err));
		return err;
	}
	/* a trigger is written into the file: only into the kernel's own PSI files */
	if (fstatfs(fd, &sfs) || (sfs.f_type != PROC_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)) {
		src_error(s, "trigger '%s': %s is not a procfs or cgroup2 pressure file", spec,
			  s->path);
		close(fd);
		return -EINVAL;
	}
	/* the kernel wants the trailing NUL with the text */
	if (write(fd, spec, strlen(spec) + 1) < 0) {
		err = -errno;
		if ((err == -EINVAL || err == -EPERM) && window % 2000000)
			src_error(s,
				  "trigger '%s' refused: %s (without CAP_SYS_RESOURCE the window "
				  "must be a multiple of 2 s)",
				  spec, strerror(-err));
		else if (err == -EINVAL)
			src_error(s,
				  "trigger '%s' refused: %s (stall must not exceed the window, "
				  "the window must be 0.5 to 10 s)",
				  spec, strerror(-err));
		else
			src_error(s, "trigger '%s' refused: %s", spec, strerror(-err));
		close(fd);
		return err;
	}
	ev.data.fd = fd;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		src_error(s, "trigger '%s': epoll: %s", spec, strerror(-err));
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

static int psi_open(struct fog_memopt *m, enum memopt_src which, const char *path)
{
	struct fog_memopt_source *s = &m->src[which];
	struct psi_watch *w = &m->psi[which == SRC_HOST_PSI ? 0 : 1];
	char text[TEXT_MAX], why[160];
	struct fog_psi psi;
	int err;

	if (path_join(s->path, sizeof(s->path), path, "", "")) {
		src_error(s, "path too long: %.64s...", path);
		return -ENAMETOOLONG;
	}
	err = open_text(path, text, sizeof(text), &w->read_fd);
	if (err) {
		src_error(s, "%s: %s", path, strerror(-err));
		return err;
	}
	if (fog_psi_parse(text, &psi, why, sizeof(why)) && !psi.has_some) {
		src_error(s, "%s: %s", path, why);
		close(w->read_fd);
		w->read_fd = -1;
		return -EINVAL;
	}
	s->active = true;
	if (m->opts.flags & FOG_MEMOPT_NO_PSI) {
		src_error(s, "triggers off (FOG_MEMOPT_NO_PSI)");
		return 0;
	}
	/* when "some" is refused, "full" would be too, for the same reason */
	err = psi_trigger(m, s, "some", m->opts.some_stall_us, &w->trig_fd[0]);
	if (!err)
		err = psi_trigger(m, s, "full", m->opts.full_stall_us, &w->trig_fd[1]);
	s->trigger = w->trig_fd[0] >= 0 || w->trig_fd[1] >= 0;
	return err;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* Usage and limit files of a cgroup folder: v2 names first, then v1. */
static int cgroup_usage_open(struct fog_memopt *m, const char *dir)
{
	static const char *const names[][2] = {
		{"memory.current", "memory.max"},
		{"memory.usage_in_bytes", "memory.limit_in_bytes"},
	};
	struct fog_memopt_source *s = &m->src[SRC_CGROUP_USAGE];
	char usage[sizeof(m->src[0].path)], limit[sizeof(usage)], text[256];
	int err;

	for (unsigned int i = 0; i < 2; i++) {
		if (path_join(usage, sizeof(usage), dir, "/", names[i][0]) ||
		    path_join(limit, sizeof(limit), dir, "/", names[i][1])) {
			src_error(s, "path too long: %.64s...", dir);
			return -ENAMETOOLONG;
		}
		if (!file_exists(usage))
			continue;
		path_join(s->path, sizeof(s->path), usage, "", "");
		err = open_text(usage, text, sizeof(text), &m->cg_usage_fd);
		if (!err)
			err = open_text(limit, text, sizeof(text), &m->cg_limit_fd);
		if (err) {
			src_error(s, "%s: %s", dir, strerror(-err));
			return err;
		}
		s->active = true;
		return 0;
	}
	path_join(s->path, sizeof(s->path), dir, "", "");
	src_error(s, "no memory.current or memory.usage_in_bytes in %s (no memory controller)",
		  dir);
	return -ENOENT;
}

/* The cgroup's pressure file and memory controller folder, from opts or detected. */
static void cgroup_open(struct fog_memopt *m)
{
	struct fog_memopt_source *psi = &m->src[SRC_CGROUP_PSI], *use = &m->src[SRC_CGROUP_USAGE];
	struct fog_cgroup_info info;
	char path[sizeof(psi->path)];

	if (m->opts.flags & FOG_MEMOPT_NO_CGROUP ||
	    (m->opts.cgroup_dir && !m->opts.cgroup_dir[0])) {
		src_error(psi, "cgroup figures off");
		src_error(use, "cgroup figures off");
		return;
	}
	if (m->opts.cgroup_dir) {
		if (path_join(path, sizeof(path), m->opts.cgroup_dir, "/memory.pressure", "")) {
			src_error(psi, "path too long: %.64s...", m->opts.cgroup_dir);
			src_error(use, "path too long: %.64s...", m->opts.cgroup_dir);
			return;
		}
		if (file_exists(path))
			psi_open(m, SRC_CGROUP_PSI, path);
		else
			src_error(psi, "no %s (cgroup v1 has no pressure file)", path);
		cgroup_usage_open(m, m->opts.cgroup_dir);
		return;
	}
	/* pressure files exist in v2 only */
	if (fog_cgroup_detect("v2", &info)) {
		src_error(psi, "no cgroup v2 hierarchy mounted");
	} else if (!strcmp(info.self, "/")) {
		src_error(psi, "in the root cgroup of %s: its pressure is the host's", info.mount);
	} else if (path_join(path, sizeof(path), info.mount, info.self, "/memory.pressure")) {
		src_error(psi, "path too long: %.64s...", info.self);
	} else {
		psi_open(m, SRC_CGROUP_PSI, path);
	}
	/* usage from whichever hierarchy has the memory controller */
	if (fog_cgroup_detect("auto", &info) || (info.mode == FOG_CGROUP_V2 && !info.v2_memory)) {
		src_error(use, "no memory controller on any cgroup hierarchy");
		return;
	}
	if (path_join(path, sizeof(path), info.mount, strcmp(info.self, "/") ? info.self : "",
		      "")) {
		src_error(use, "path too long: %.64s...", info.self);
		return;
	}
	cgroup_usage_open(m, path);
}

int fog_memopt_sources_open(struct fog_memopt *m)
{
	char text[TEXT_MAX];
	int err;

	for (unsigned int i = 0; i < SRC_COUNT; i++)
		snprintf(m->src[i].name, sizeof(m->src[i].name), "%s", src_names[i]);
	err = psi_open(m, SRC_HOST_PSI, m->psi_path);
	if (err && (m->opts.flags & FOG_MEMOPT_REQUIRE_PSI))
		return err;
	path_join(m->src[SRC_HOST_USAGE].path, sizeof(m->src[SRC_HOST_USAGE].path), m->meminfo_path,
		  "", "");
	err = open_text(m->meminfo_path, text, sizeof(text), &m->meminfo_fd);
	if (err)
		src_error(&m->src[SRC_HOST_USAGE], "%s: %s", m->meminfo_path, strerror(-err));
	else
		m->src[SRC_HOST_USAGE].active = true;
	cgroup_open(m);
	return 0;
}

void fog_memopt_sources_close(struct fog_memopt *m)
{
	for (unsigned int i = 0; i < 2; i++) {
		if (m->psi[i].read_fd >= 0)
			close(m->psi[i].read_fd);
		for (unsigned int k = 0; k < 2; k++)
			if (m->psi[i].trig_fd[k] >= 0)
				close(m->psi[i].trig_fd[k]);
	}
	if (m->meminfo_fd >= 0)
		close(m->meminfo_fd);
	if (m->cg_usage_fd >= 0)
		close(m->cg_usage_fd);
	if (m->cg_limit_fd >= 0)
		close(m->cg_limit_fd);
}

/* ---- sampling ---- */

/* Stall shares since the reading closest to one window ago; keeps readings spaced out. */
static void psi_sample(struct fog_memopt *m, struct psi_watch *w, uint64_t now, double *some,
		       double *full)
{
	uint64_t window = (uint64_t)m->opts.window_us * 1000;
	const struct psi_reading *base = NULL;
	struct psi_reading cur = {.t_ns = now};
	char text[TEXT_MAX], why[160];
	struct fog_psi psi;

	*some = *full = -1;
	if (read_text(w->read_fd, text, sizeof(text)) ||
	    (fog_psi_parse(text, &psi, why, sizeof(why)) && !psi.has_some))
		return;
	cur.some_us = psi.some.total_us;
	cur.full_us = psi.full.total_us;
	cur.has_full = psi.has_full;
	for (unsigned int i = 1; i <= w->n; i++) {
		const struct psi_reading *r = &w->ring[(w->next + PSI_RING - i) % PSI_RING];

		base = r; /* ends at the oldest if none is a window old */
		if (now - r->t_ns >= window)
			break;
	}
	if (base) {
		*some = fog_psi_stall_pct(base->some_us, cur.some_us, now - base->t_ns);
		if (cur.has_full && base->has_full)
			*full = fog_psi_stall_pct(base->full_us, cur.full_us, now - base->t_ns);
	}
	if (!w->n || now - w->ring[(w->next + PSI_RING - 1) % PSI_RING].t_ns >= window / 4) {
		w->ring[w->next] = cur;
		w->next = (w->next + 1) % PSI_RING;
		if (w->n < PSI_RING)
			w->n++;
	}
}

void fog_memopt_sample(struct fog_memopt *m, struct fog_mem_pressure *p)
{
	char text[TEXT_MAX], limit[256], why[200];
	uint64_t now = fog_now_ns();

	p->when_ns = now;
	p->host_some_pct = p->host_full_pct = p->cgroup_some_pct = p->cgroup_full_pct = -1;
	p->host = (struct fog_mem_usage){.pct = -1};
	p->cgroup = (struct fog_mem_usage){.pct = -1};
	if (m->src[SRC_HOST_PSI].active)
		psi_sample(m, &m->psi[0], now, &p->host_some_pct, &p->host_full_pct);
	if (m->src[SRC_CGROUP_PSI].active)
		psi_sample(m, &m->psi[1], now, &p->cgroup_some_pct, &p->cgroup_full_pct);
	if (m->src[SRC_HOST_USAGE].active && !read_text(m->meminfo_fd, text, sizeof(text)))
		fog_mem_usage_host(text, &p->host, why, sizeof(why));
	if (m->src[SRC_CGROUP_USAGE].active && !read_text(m->cg_usage_fd, text, 256) &&
	    !read_text(m->cg_limit_fd, limit, sizeof(limit)))
		fog_mem_usage_cgroup(text, limit, &p->cgroup, why, sizeof(why));
	fog_mem_pressure_eval(p, &m->opts);
}
