// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/procfs.h"
#include "base/safe_open.h"
#include "profile/symbolize.h"

#define MAX_PROCS 4096
#define STATUS_MAX_BYTES (64u << 10)
#define PERFMAP_MAX_BYTES (32u << 20)	/* of a perf-PID.map, read at most */
#define KALLSYMS_MAX_BYTES (256u << 20)
#define KALLSYMS_MAX_LINES (8u << 20)
#define REREAD_NS 1000000000ULL	/* re-read a process's maps at most once a second on a miss */
#define KALLSYMS_TTL_NS (600 * 1000000000ULL)	/* prune re-reads kallsyms when older */

struct addr_sym {	/* perf-PID.map and kallsyms entries */
	__u64 addr;
	__u64 size;	/* 0: up to the next entry */
	char *name;
	char *module;	/* kallsyms: "[name]" of a module, NULL for the kernel */
};

struct addr_table {
	struct addr_sym *v;
	size_t n;
	bool loaded;
};

struct map {
	__u64 start;
	__u64 end;
	__u64 pgoff;
	char *path;
	struct fog_elfsym *elf;	/* NULL: not a readable ELF */
};

struct proc {
	__u32 pid;
	__u64 start_time;	/* /proc/PID/stat field 22: tells a reused pid apart */
	bool exited;
	__u64 read_ns;
	struct map *maps;
	size_t nmaps;
	struct addr_table perfmap;
};

struct fog_symbolizer {
	struct fog_elfcache *cache;
	struct proc *procs;
	size_t nprocs;
	struct addr_table kallsyms;
	__u64 kallsyms_ns;	/* when it was read */
	bool lines;	/* resolve source lines of user addresses */
};

static void table_free(struct addr_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].module);
	}
	free(t->v);
	*t = (struct addr_table){ 0 };
}

static int cmp_addr(const void *a, const void *b)
{
	const struct addr_sym *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

static int table_add(struct addr_table *t, size_t *cap, __u64 addr, __u64 size, const char *name,
		     const char *module)
{
	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		struct addr_sym *v = realloc(t->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->v = v;
		*cap = ncap;
	}
	t->v[t->n] = (struct addr_sym){ addr, size, strdup(name), module ? strdup(module) : NULL };
	if (!t->v[t->n].name)
		return -ENOMEM;
	t->n++;
	return 0;
}

static const struct addr_sym *table_find(const struct addr_table *t, __u64 addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (t->v[lo - 1].size && addr >= t->v[lo - 1].addr + t->v[lo - 1].size)
		return NULL;
	return &t->v[lo - 1];
}

struct fog_symbolizer *fog_symbolizer__new(struct fog_elfcache *cache)
{
	struct fog_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cache = cache;
	return s;
}

static void proc_clear(struct fog_symbolizer *s, struct proc *p)
{
	for (size_t i = 0; i < p->nmaps; i++) {
		fog_elfcache__put(s->cache, p->maps[i].elf);
		free(p->maps[i].path);
	}
	free(p->maps);
	p->maps = NULL;
	p->nmaps = 0;
	table_free(&p->perfmap);
}

void fog_symbolizer__free(struct fog_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprocs; i++)
		proc_clear(s, &s->procs[i]);
	free(s->procs);
	table_free(&s->kallsyms);
	free(s);
}

__u64 fog_proc_start_time(__u32 pid)
{
	struct fog_proc_stat st;

	return fog_proc_stat_read(pid, &st) ? 0 : st.start_time;
}

int fog_maps_parse_line(char *line, __u64 *start, __u64 *end, __u64 *pgoff, bool *exec,
			const char **path)
{
	unsigned long long s, e, off;
	char perms[8];
	int n = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %*s %*u%n", &s, &e, perms, &off, &n) != 4 || !n ||
	    e <= s || strlen(perms) < 3)
		return -EINVAL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	line[strcspn(line, "\n")] = '\0';
	*start = s;
	*end = e;
	*pgoff = off;
	*exec = perms[2] == 'x';
	*path = line;
	return 0;
}

int fog_maps_read(__u32 pid, char **buf, size_t *len, bool *truncated)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	return fog_safe_read_proc(path, FOG_MAPS_MAX_BYTES, buf, len, truncated);
}

int fog_maps_each(char *buf, size_t len, fog_maps_fn fn, void *ctx, struct fog_maps_stats *st)
{
	struct fog_maps_stats none;
	char *pos = buf, *line;
	size_t nlines = 0;
	bool too_long;
	int rc;

	if (!st)
		st = &none;
	st->too_many = false;
	st->long_lines = 0;
	while ((line = fog_text_next_line(&pos, buf + len, FOG_MAPS_LINE_MAX, &too_long))) {
		struct fog_map_line m;

		if (++nlines > FOG_MAPS_MAX_LINES) {
			st->too_many = true;
			break;
		}
		if (too_long) {
			st->long_lines++;
			continue;
		}
		if (fog_maps_parse_line(line, &m.start, &m.end, &m.pgoff, &m.exec, &m.path))
			continue;
		rc = fn(&m, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

int fog_maps_walk(__u32 pid, fog_maps_fn fn, void *ctx, struct fog_maps_stats *st)
{
	struct fog_maps_stats none;
	char *buf;
	size_t len;
	int rc;

	if (!st)
		st = &none;
	rc = fog_maps_read(pid, &buf, &len, &st->truncated);
	if (rc)
		return rc;
	rc = fog_maps_each(buf, len, fn, ctx, st);
	free(buf);
	return rc;
}

/*
 * Opens a mapped file as the process sees it: through /proc/PID/map_files (the
 * very file mapped), else its path inside the process's root (root_fd), both
 * with fog_safe_open*: regular files only, opened non-blocking, so a FIFO or a
 * device put where a library was is refused, never read. The size bound is
 * elfsym's, which counts it.
 */
static int open_mapped(__u32 pid, int root_fd, const struct map *m)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = fog_safe_open_proc(path, 0);
	if (fd >= 0 || fd == -EINVAL || fd == -ELOOP || root_fd < 0)
		return fd;
	return fog_safe_openat(root_fd, m->path, 0);
}

/* One line of buf (NUL-terminated in place) or NULL at its end; see symbolize.h. */
char *fog_text_next_line(char **pos, char *end, size_t max_line, bool *too_long)
{
	char *l, *nl;

	*too_long = false;
	if (*pos >= end)
		return NULL;
	l = *pos;
	nl = memchr(l, '\n', (size_t)(end - l));
	if (!nl)
		nl = end;	/* the buffer ends in a NUL written by the reader */
	*pos = nl < end ? nl + 1 : end;
	*nl = '\0';
	if ((size_t)(nl - l) > max_line)
		*too_long = true;
	return l;
}

struct maps_ctx {
	struct fog_symbolizer *s;
	struct proc *p;
	size_t mcap;
	int root_fd;
};

/* One executable mapping of /proc/PID/maps into the process's table, its ELF file opened. */
static int add_map(const struct fog_map_line *ml, void *arg)
{
	struct maps_ctx *c = arg;
	struct proc *p = c->p;
	struct map *m;
	int fd;

	if (!ml->exec)
		return 0;
	if (p->nmaps == c->mcap) {
		size_t ncap = c->mcap ? c->mcap * 2 : 32;
		struct map *v = realloc(p->maps, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->maps = v;
		c->mcap = ncap;
	}
	m = &p->maps[p->nmaps];
	*m = (struct map){ ml->start, ml->end, ml->pgoff, strdup(ml->path), NULL };
	if (!m->path)
		return -ENOMEM;
	p->nmaps++;
	if (ml->path[0] != '/')
		return 0;
	fd = open_mapped(p->pid, c->root_fd, m);
	if (fd == -EINVAL || fd == -ELOOP)
		fog_symerr(FOG_SYMERR_NOT_REGULAR, "process %u maps %s, which is not a "
			   "regular file", p->pid, m->path);
	if (fd < 0)
		return 0;
	m->elf = fog_elfcache__get_in(c->s->cache, fd, c->root_fd);
	close(fd);
	return 0;
}

static int read_maps(struct fog_symbolizer *s, struct proc *p)
{
	struct maps_ctx c = { .s = s, .p = p };
	struct fog_maps_stats st = { 0 };
	char *buf = NULL;
	size_t len;
	int err;

	err = fog_maps_read(p->pid, &buf, &len, &st.truncated);
	if (err)
		return err;
	proc_clear(s, p);
	if (st.truncated)
		fog_symerr(FOG_SYMERR_MAPS, "/proc/%u/maps is longer than %u bytes (read up to "
			   "that)", p->pid, FOG_MAPS_MAX_BYTES);
	/* debug files of a process in a container are looked up inside its root */
	c.root_fd = fog_safe_root((pid_t)p->pid);
	err = fog_maps_each(buf, len, add_map, &c, &st);
	if (st.too_many)
		fog_symerr(FOG_SYMERR_MAPS, "/proc/%u/maps has more than %u lines (read "
			   "up to that)", p->pid, FOG_MAPS_MAX_LINES);
	if (st.long_lines)
		fog_symerr(FOG_SYMERR_MAPS, "/proc/%u/maps has %zu lines longer than %u bytes "
			   "(skipped)", p->pid, st.long_lines, FOG_MAPS_LINE_MAX);
	if (c.root_fd >= 0)
		close(c.root_fd);
	free(buf);
	p->read_ns = fog_now_ns();
	return err;
}

static struct proc *find_proc(struct fog_symbolizer *s, __u32 pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

int fog_symbolizer__add_pid(struct fog_symbolizer *s, __u32 pid)
{
	__u64 st = fog_proc_start_time(pid);
	struct proc *p = find_proc(s, pid);

	if (p) {
		if (!st) {
			p->exited = true;
			return 0;
		}
		if (p->start_time == st)
			return 0;
		/* the pid was reused: the old snapshot belongs to another program */
		p->start_time = st;
		p->exited = false;
		return read_maps(s, p);
	}
	if (!st)
		return -ESRCH;
	if (s->nprocs == MAX_PROCS)
		return -ENOSPC;
	if (!(s->nprocs & (s->nprocs + 1)) || !s->procs) {
		struct proc *v = realloc(s->procs, (2 * s->nprocs + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->procs = v;
	}
	p = &s->procs[s->nprocs++];
	*p = (struct proc){ .pid = pid, .start_time = st };
	return read_maps(s, p);
}

void fog_symbolizer__set_lines(struct fog_symbolizer *s, bool on)
{
	s->lines = on;
}

void fog_symbolizer__prune(struct fog_symbolizer *s)
{
	size_t w = 0;

	for (size_t i = 0; i < s->nprocs; i++) {
		struct proc *p = &s->procs[i];

		if (p->exited || fog_proc_start_time(p->pid) != p->start_time) {
			proc_clear(s, p);
			continue;
		}
		s->procs[w++] = *p;
	}
	s->nprocs = w;
	/* modules come and go; reading kallsyms costs ~0.1 s, so not at every prune */
	if (s->kallsyms.loaded && fog_now_ns() - s->kallsyms_ns > KALLSYMS_TTL_NS)
		table_free(&s->kallsyms);
}

size_t fog_symbolizer__procs(const struct fog_symbolizer *s)
{
	return s->nprocs;
}

bool fog_symbolizer__exited(struct fog_symbolizer *s, __u32 pid)
{
	struct proc *p = find_proc(s, pid);

	if (p && !p->exited && fog_proc_start_time(pid) != p->start_time)
		p->exited = true;
	return !p || p->exited;
}

int fog_perfmap_parse_line(char *line, __u64 *addr, __u64 *size, const char **name)
{
	unsigned long long a, sz;
	int n = 0;

	if (sscanf(line, "%llx %llx %n", &a, &sz, &n) != 2 || !n || !line[n])
		return -EINVAL;
	if (a + (sz ? sz : 1) < a)	/* wraps around the address space */
		return -EINVAL;
	*addr = a;
	*size = sz ? sz : 1;
	*name = line + n;
	return 0;
}

int fog_perfmap_parse(char *buf, size_t len, fog_perfmap_fn fn, void *ctx, size_t *skipped)
{
	char *pos = buf, *line;
	size_t nlines = 0;
	bool too_long;

	*skipped = 0;
	while ((line = fog_text_next_line(&pos, buf + len, FOG_PERFMAP_LINE_MAX, &too_long))) {
		const char *name;
		__u64 a, sz;
		int err;

		if (too_long || ++nlines > FOG_PERFMAP_MAX_LINES) {
			(*skipped)++;
			continue;
		}
		if (fog_perfmap_parse_line(line, &a, &sz, &name))
			continue;
		err = fn(ctx, a, sz, name);
		if (err)
			return err;
	}
	return 0;
}

struct perfmap_ctx {
	struct addr_table *t;
	size_t cap;
};

static int perfmap_add(void *ctx, __u64 addr, __u64 size, const char *name)
{
	struct perfmap_ctx *c = ctx;

	return table_add(c->t, &c->cap, addr, size, name, NULL);
}

/* The pid the process sees itself as (the last NSpid of /proc/PID/status). */
static __u32 ns_pid(__u32 pid)
{
	char path[64], *buf;
	size_t len;
	__u32 v;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (fog_safe_read_proc(path, STATUS_MAX_BYTES, &buf, &len, NULL))
		return pid;
	v = fog_proc_status_ns_pid(buf, len, pid);
	free(buf);
	return v;
}

/*
 * perf-PID.map of a JIT: "START SIZE name" lines in hex, in the process's /tmp
 * seen through its root. The file is the tenant's: it is opened with
 * fog_safe_open_in_root (a FIFO, a device or a link out of the root is refused
 * without blocking) and read up to PERFMAP_MAX_BYTES, FOG_PERFMAP_MAX_LINES
 * lines of at most FOG_PERFMAP_LINE_MAX bytes (a sparse 100 GiB file costs
 * one bounded read).
 */
static void load_perfmap(struct proc *p)
{
	struct perfmap_ctx c = { &p->perfmap, 0 };
	char path[64], *buf;
	size_t len, skipped;
	bool truncated;
	int fd, err;

	p->perfmap.loaded = true;
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", ns_pid(p->pid));
	fd = fog_safe_open_in_root((pid_t)p->pid, path, 0);
	if (fd < 0) {
		if (fd == -EINVAL || fd == -ELOOP)
			fog_symerr(FOG_SYMERR_NOT_REGULAR, "process %u: %s is not a regular file "
				   "(refused)", p->pid, path);
		else if (fd != -ENOENT && fd != -ESRCH)
			fog_symerr(FOG_SYMERR_READ, "process %u: cannot open %s: %s", p->pid, path,
				   strerror(-fd));
		return;
	}
	err = fog_safe_read_fd(fd, PERFMAP_MAX_BYTES, &buf, &len, &truncated);
	close(fd);
	if (err) {
		fog_symerr(FOG_SYMERR_READ, "process %u: reading %s: %s", p->pid, path,
			   strerror(-err));
		return;
	}
	if (truncated)
		fog_symerr(FOG_SYMERR_PERFMAP, "process %u: %s is larger than %u bytes (read up "
			   "to that)", p->pid, path, PERFMAP_MAX_BYTES);
	fog_perfmap_parse(buf, len, perfmap_add, &c, &skipped);
	if (skipped)
		fog_symerr(FOG_SYMERR_PERFMAP, "process %u: %s has %zu lines over %u bytes or "
			   "past line %u (skipped)", p->pid, path, skipped, FOG_PERFMAP_LINE_MAX,
			   FOG_PERFMAP_MAX_LINES);
	free(buf);
	if (p->perfmap.n)
		qsort(p->perfmap.v, p->perfmap.n, sizeof(*p->perfmap.v), cmp_addr);
}

static const struct map *find_map(const struct proc *p, __u64 ip)
{
	for (size_t i = 0; i < p->nmaps; i++)
		if (ip >= p->maps[i].start && ip < p->maps[i].end)
			return &p->maps[i];
	return NULL;
}

int fog_symbolizer__user(struct fog_symbolizer *s, __u32 pid, __u64 ip, struct fog_sym *out)
{
	struct proc *p = find_proc(s, pid);
	const struct addr_sym *js;
	const struct map *m;
	__u64 off, vaddr, start;

	*out = (struct fog_sym){ .addr = ip, .build_id = "" };
	if (!p && fog_symbolizer__add_pid(s, pid))
		return -ENOENT;
	p = find_proc(s, pid);
	if (!p)
		return -ENOENT;
	m = find_map(p, ip);
	/* a miss may be a library loaded since the snapshot (dlopen) */
	if (!m && !fog_symbolizer__exited(s, pid) && fog_now_ns() - p->read_ns > REREAD_NS) {
		read_maps(s, p);
		m = find_map(p, ip);
	}
	if (m) {
		out->module = m->path[0] ? m->path : NULL;
		out->map_start = m->start;
		out->map_limit = m->end;
		out->map_offset = m->pgoff;
	}
	if (m && m->elf) {
		out->build_id = fog_elfsym__build_id(m->elf);
		off = ip - m->start + m->pgoff;
		if (fog_elfsym__off_to_vaddr(m->elf, off, &vaddr)) {
			out->addr = vaddr;
			out->func = fog_elfsym__lookup(m->elf, vaddr, &start);
			if (s->lines && fog_elfsym__line(m->elf, vaddr, &out->file, &out->line) &&
			    out->func)
				fog_elfsym__line(m->elf, start, &out->func_file, NULL);
			if (s->lines && out->func)
				out->ninl = fog_elfsym__inlines(m->elf, vaddr, out->inl,
								FOG_SYM_MAX_INLINE);
		} else {
			out->addr = off;
		}
		return out->func ? 0 : -ENOENT;
	}
	if (m && m->path[0] == '[')	/* [vdso], [uprobes], ...: named by their mapping */
		return -ENOENT;
	if (!p->perfmap.loaded)
		load_perfmap(p);
	js = table_find(&p->perfmap, ip);
	if (js) {
		out->func = js->name;
		if (!out->module)
			out->module = "[jit]";
		return 0;
	}
	return -ENOENT;
}

int fog_kallsyms_parse_line(const char *line, __u64 *addr, char *name, size_t name_len,
			    char *module, size_t module_len)
{
	char n[256], mod[128] = "";
	unsigned long long a;
	char type;
	int k;

	k = sscanf(line, "%llx %c %255s %127s", &a, &type, n, mod);
	if (k < 3 || !a)	/* zero addresses: kptr_restrict hides them */
		return -EINVAL;
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return -ENOENT;
	*addr = a;
	snprintf(name, name_len, "%s", n);
	snprintf(module, module_len, "%s", k == 4 ? mod : "");
	return 0;
}

/* /proc/kallsyms, read as a bounded copy (the kernel's, but parsed all the same). */
static void load_kallsyms(struct fog_symbolizer *s)
{
	char *buf, *pos, *line, name[256], mod[128];
	size_t len, tcap = 0, nlines = 0;
	bool truncated, too_long;

	s->kallsyms.loaded = true;
	s->kallsyms_ns = fog_now_ns();
	if (fog_safe_read_proc("/proc/kallsyms", KALLSYMS_MAX_BYTES, &buf, &len, &truncated))
		return;
	if (truncated)
		fog_symerr(FOG_SYMERR_TOO_LARGE, "/proc/kallsyms is larger than %u bytes (read "
			   "up to that)", KALLSYMS_MAX_BYTES);
	pos = buf;
	while ((line = fog_text_next_line(&pos, buf + len, 1024, &too_long))) {
		__u64 a;

		if (++nlines > KALLSYMS_MAX_LINES)
			break;
		if (too_long || fog_kallsyms_parse_line(line, &a, name, sizeof(name), mod,
							 sizeof(mod)))
			continue;
		if (table_add(&s->kallsyms, &tcap, a, 0, name, mod[0] ? mod : NULL))
			break;
	}
	free(buf);
	if (s->kallsyms.n)
		qsort(s->kallsyms.v, s->kallsyms.n, sizeof(*s->kallsyms.v), cmp_addr);
}

int fog_symbolizer__kernel(struct fog_symbolizer *s, __u64 ip, struct fog_sym *out)
{
	const struct addr_sym *k;

	*out = (struct fog_sym){ .addr = ip, .build_id = "", .module = "[kernel.kallsyms]" };
	if (!s->kallsyms.loaded)
		load_kallsyms(s);
	k = table_find(&s->kallsyms, ip);
	if (!k)
		return -ENOENT;
	out->func = k->name;
	if (k->module)
		out->module = k->module;
	return 0;
}
