// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPython processes of a capture: found, handed to the sampler, their frames
 * named (pyproc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <bpf/bpf.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/safe_open.h"
#include "profile/elfsym.h"
#include "profile/pyframes.h"
#include "profile/pyproc.h"
#include "profile/symbolize.h"

#define NPROCS 256	/* processes remembered (found or not) */
#define RETRY_NS (2000ull * 1000000ull)	/* a python* process not (yet) running is looked at again */
#define RECHECK_NS (30000ull * 1000000ull)	/* one without python* files (it may exec one) */
#define MAX_CANDIDATES 2	/* python* files of one process whose symbols are read */
#define MAX_SEGS 8	/* mappings of one file kept to turn file offsets into addresses */
#define CODE_BITS 12	/* code objects cached: 4096 slots, emptied when 3/4 full */
#define FRAME_BITS 15	/* interned frames: 32768 slots */
#define FRAME_MAX (1u << (FRAME_BITS - 1))
#define NFILES 8	/* files whose symbols' offsets are kept: processes share a libpython */
#define NSYMS 3

/* _PyRuntimeState and PyThreadState fields of 3.11 (Include/internal/pycore_runtime.h, pystate.h) */
static const struct fog_py_proc v311 = {
	.version = FOG_PY_V311,
	.rt_tstate_current = 576,
	.rt_interp_head = 40,
	.interp_threads_head = 16,
	.ts_next = 8,
	.ts_cframe = 56,
	.ts_thread_id = 152,
	.cframe_current = 8,
};
#define INTERP_RUNTIME 40	/* PyInterpreterState.runtime */

struct proc {
	__u32 pid;	/* 0: a free slot */
	bool python;
	bool candidates;	/* maps python* files: looked at again sooner */
	__u64 looked_ns;
	__u64 code_type;	/* &PyCode_Type */
};

struct code {
	__u32 pid;	/* 0: a free slot */
	bool ok;
	__u64 addr;
	struct fog_py_code c;
};

struct frame {
	__u32 pid;
	__u32 line;
	__u64 code;
	char *name;
	char *file;
};

/* The offsets of the symbols of one file, known by its identity */
struct file {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	__u64 offs[NSYMS];
	__u64 used;	/* 0: a free slot */
};

struct fog_pyproc {
	int map_fd;
	struct file files[NFILES];
	__u64 file_tick;
	struct proc procs[NPROCS];
	struct code *codes;
	size_t ncodes;
	struct frame *frames;	/* index 0: FOG_PYPROC_UNREADABLE */
	size_t nframes;
	__u32 *slots;	/* frame index + 1 */
	struct fog_pyproc_stats st;
};

struct seg {
	__u64 start, end, pgoff;
};

struct cand {
	char path[256];
	struct seg segs[MAX_SEGS];
	int nsegs;
};

static int mem_read(void *ctx, __u64 addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(unsigned long)addr, len };
	ssize_t n = process_vm_readv((pid_t)(unsigned long)ctx, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

static bool python_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "python", 6) || !strncmp(base, "libpython", 9);
}

struct cands {
	struct cand *c;
	int n, max;
};

static int add_cand(const struct fog_map_line *m, void *arg)
{
	struct cands *cs = arg;
	struct cand *c = cs->c;
	int i;

	if (m->path[0] != '/' || strlen(m->path) >= sizeof(c->path) || !python_name(m->path))
		return 0;
	for (i = 0; i < cs->n && strcmp(c[i].path, m->path); i++)
		;
	if (i == cs->n) {
		if (cs->n == cs->max)
			return 0;
		snprintf(c[cs->n].path, sizeof(c[cs->n].path), "%s", m->path);
		c[cs->n++].nsegs = 0;
	}
	if (c[i].nsegs < MAX_SEGS)
		c[i].segs[c[i].nsegs++] = (struct seg){ m->start, m->end, m->pgoff };
	return 0;
}

/* The files named python* that pid maps, each with its mappings. */
static int candidates(__u32 pid, struct cand *c, int max)
{
	struct cands cs = { c, 0, max };

	fog_maps_walk(pid, add_cand, &cs, NULL);
	return cs.n;
}

/* The run-time address of file offset off of c, or 0. */
static __u64 file_addr(const struct cand *c, __u64 off)
{
	for (int i = 0; off && i < c->nsegs; i++)
		if (off >= c->segs[i].pgoff && off - c->segs[i].pgoff < c->segs[i].end - c->segs[i].start)
			return c->segs[i].start + (off - c->segs[i].pgoff);
	return 0;
}

/*
 * The file offsets of names in the file on fd, read by the symbol helper unless
 * the same file (device, inode, size, modification time) was read before.
 */
static int file_offsets(struct fog_pyproc *p, int fd, __u64 *offs)
{
	static const char *const names[NSYMS] = { "_PyRuntime", "PyCode_Type", "Py_Version" };
	struct file *f, *victim = &p->files[0];
	struct stat st;
	int err;

	if (fstat(fd, &st))
		return -errno;
	p->file_tick++;
	for (int i = 0; i < NFILES; i++) {
		f = &p->files[i];
		if (f->used && f->dev == st.st_dev && f->ino == st.st_ino && f->size == st.st_size &&
		    f->mtime.tv_sec == st.st_mtim.tv_sec && f->mtime.tv_nsec == st.st_mtim.tv_nsec) {
			f->used = p->file_tick;
			memcpy(offs, f->offs, sizeof(f->offs));
			return 0;
		}
		if (f->used < victim->used)
			victim = f;
	}
	err = fog_elfsym__func_offsets(fd, names, NSYMS, offs);
	if (err)
		return err;
	*victim = (struct file){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
				 .mtime = st.st_mtim, .used = p->file_tick };
	memcpy(victim->offs, offs, sizeof(victim->offs));
	return 0;
}

/* Whether candidate c of pid is a running CPython 3.11; fills pp and *code_type. */
static bool try_candidate(struct fog_pyproc *p, __u32 pid, const struct cand *c,
			  struct fog_py_proc *pp, __u64 *code_type)
{
	__u64 offs[NSYMS], rt, ver, interp = 0, back = 0, version = 0;
	char path[96];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%u/map_files/%llx-%llx", pid,
		 (unsigned long long)c->segs[0].start, (unsigned long long)c->segs[0].end);
	fd = fog_safe_open_proc(path, 0);
	if (fd == -ENOENT || fd == -EPERM)
		fd = fog_safe_open_in_root((pid_t)pid, c->path, 0);
	if (fd < 0)
		return false;
	err = file_offsets(p, fd, offs);
	close(fd);
	if (err)
		return false;
	rt = file_addr(c, offs[0]);
	ver = file_addr(c, offs[2]);
	*code_type = file_addr(c, offs[1]);
	if (!rt || !ver || !*code_type ||
	    mem_read((void *)(unsigned long)pid, ver, &version, sizeof(version)) ||
	    (version >> 16) != FOG_PY_V311 ||
	    mem_read((void *)(unsigned long)pid, rt + v311.rt_interp_head, &interp, sizeof(interp)) ||
	    !interp ||
	    mem_read((void *)(unsigned long)pid, interp + INTERP_RUNTIME, &back, sizeof(back)) ||
	    back != rt)
		return false;
	*pp = v311;
	pp->runtime = rt;
	return true;
}

static void look_at(struct fog_pyproc *p, struct proc *pr)
{
	struct cand c[MAX_CANDIDATES];
	int n = candidates(pr->pid, c, MAX_CANDIDATES);

	pr->looked_ns = fog_now_ns();
	pr->candidates = n > 0;
	for (int i = 0; i < n; i++) {
		struct fog_py_proc pp;

		if (!try_candidate(p, pr->pid, &c[i], &pp, &pr->code_type))
			continue;
		if (bpf_map_update_elem(p->map_fd, &pr->pid, &pp, BPF_ANY))
			return;
		pr->python = true;
		p->st.procs++;
		fog_debug("profiler: pid %u runs CPython 3.11 (%s): naming its interpreter frames",
			  pr->pid, c[i].path);
		return;
	}
}

void fog_pyproc__seen(struct fog_pyproc *p, __u32 pid)
{
	struct proc *victim;
	__u64 now = fog_now_ns();

	if (!p || !pid)
		return;
	victim = &p->procs[0];
	for (int i = 0; i < NPROCS; i++) {
		struct proc *pr = &p->procs[i];

		if (pr->pid == pid) {
			if (!pr->python &&
			    now - pr->looked_ns >= (pr->candidates ? RETRY_NS : RECHECK_NS))
				look_at(p, pr);
			return;
		}
		if (!pr->pid || pr->looked_ns < victim->looked_ns)
			victim = pr;
	}
	if (victim->pid && victim->python)
		bpf_map_delete_elem(p->map_fd, &victim->pid);
	*victim = (struct proc){ .pid = pid };
	look_at(p, victim);
}

static const struct proc *find_proc(const struct fog_pyproc *p, __u32 pid)
{
	for (int i = 0; i < NPROCS; i++)
		if (p->procs[i].pid == pid)
			return &p->procs[i];
	return NULL;
}

static __u64 mix(__u32 pid, __u64 a, __u64 b)
{
	__u64 h = (a ^ ((__u64)pid << 40) ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;

	return h ^ (h >> 31);
}

static void clear_codes(struct fog_pyproc *p)
{
	for (size_t i = 0; i < (1u << CODE_BITS); i++)
		fog_py_code_clear(&p->codes[i].c);
	memset(p->codes, 0, (1u << CODE_BITS) * sizeof(*p->codes));
	p->ncodes = 0;
}

/* The code object at addr of pid, read when not cached; NULL when unreadable. */
static const struct fog_py_code *get_code(struct fog_pyproc *p, __u32 pid, __u64 addr,
					  __u64 code_type)
{
	size_t mask = (1u << CODE_BITS) - 1, i;
	struct code *e;

	if (p->ncodes >= (1u << CODE_BITS) / 4 * 3)
		clear_codes(p);
	for (i = mix(pid, addr, 0) & mask;; i = (i + 1) & mask) {
		e = &p->codes[i];
		if (!e->pid)
			break;
		if (e->pid == pid && e->addr == addr)
			return e->ok ? &e->c : NULL;
	}
	e->pid = pid;
	e->addr = addr;
	e->ok = !fog_py_code_read(mem_read, (void *)(unsigned long)pid, addr, code_type, &e->c);
	p->ncodes++;
	return e->ok ? &e->c : NULL;
}

/* The id of (pid, code, line), interned; FOG_PYPROC_UNREADABLE when the table is full. */
static __u32 intern(struct fog_pyproc *p, __u32 pid, __u64 addr, const struct fog_py_code *c,
		    __u32 line)
{
	size_t mask = (1u << FRAME_BITS) - 1, i;
	char name[FOG_PY_NAME_MAX + 64];
	struct frame *f;

	for (i = mix(pid, addr, line) & mask; p->slots[i]; i = (i + 1) & mask) {
		f = &p->frames[p->slots[i] - 1];
		if (f->pid == pid && f->code == addr && f->line == line)
			return p->slots[i] - 1;
	}
	if (p->nframes >= FRAME_MAX)
		return FOG_PYPROC_UNREADABLE;
	fog_py_frame_name(name, sizeof(name), c->qualname, c->filename, line);
	f = &p->frames[p->nframes];
	*f = (struct frame){ .pid = pid, .line = line, .code = addr };
	f->name = strdup(name);
	f->file = c->filename[0] ? strdup(c->filename) : NULL;
	if (!f->name) {
		free(f->file);
		return FOG_PYPROC_UNREADABLE;
	}
	p->slots[i] = (__u32)++p->nframes;
	return (__u32)p->nframes - 1;
}

__u32 fog_pyproc__frames(struct fog_pyproc *p, __u32 pid, const struct fog_py_frame *f,
			 __u64 entry, __u32 n, __u32 *ids)
{
	const struct proc *pr = p ? find_proc(p, pid) : NULL;

	if (!pr || !pr->python)
		return 0;
	if (n > FOG_PY_MAX_FRAMES)
		n = FOG_PY_MAX_FRAMES;
	for (__u32 i = 0; i < n; i++) {
		const struct fog_py_code *c = get_code(p, pid, f[i].code, pr->code_type);
		__u32 id = FOG_PYPROC_UNREADABLE;

		if (c)
			id = intern(p, pid, f[i].code, c, fog_py_code_line(c, f[i].code, f[i].instr));
		p->st.frames++;
		if (id == FOG_PYPROC_UNREADABLE)
			p->st.unreadable++;
		ids[i] = id | ((entry >> i) & 1 ? FOG_PYPROC_ENTRY : 0);
	}
	return n;
}

const char *fog_pyproc__name(const struct fog_pyproc *p, __u32 id, const char **file)
{
	id &= ~FOG_PYPROC_ENTRY;
	if (!p || id >= p->nframes)
		return NULL;
	if (file)
		*file = p->frames[id].file;
	return p->frames[id].name;
}

static void clear_frames(struct fog_pyproc *p)
{
	for (size_t i = 1; i < p->nframes; i++) {
		free(p->frames[i].name);
		free(p->frames[i].file);
	}
	if (p->slots)
		memset(p->slots, 0, (1u << FRAME_BITS) * sizeof(*p->slots));
	p->nframes = 1;
}

void fog_pyproc__reset(struct fog_pyproc *p)
{
	if (!p)
		return;
	clear_frames(p);
	clear_codes(p);
	p->st.frames = p->st.unreadable = 0;
}

void fog_pyproc__stats(const struct fog_pyproc *p, struct fog_pyproc_stats *st)
{
	if (p)
		*st = p->st;
	else
		memset(st, 0, sizeof(*st));
}

struct fog_pyproc *fog_pyproc__new(int map_fd)
{
	struct fog_pyproc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->map_fd = map_fd;
	p->codes = calloc(1u << CODE_BITS, sizeof(*p->codes));
	p->frames = calloc(FRAME_MAX, sizeof(*p->frames));
	p->slots = calloc(1u << FRAME_BITS, sizeof(*p->slots));
	if (!p->codes || !p->frames || !p->slots) {
		fog_pyproc__free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->frames[0] = (struct frame){ .name = (char *)"py:[unreadable]" };
	p->nframes = 1;
	return p;
}

void fog_pyproc__free(struct fog_pyproc *p)
{
	if (!p)
		return;
	if (p->frames)
		clear_frames(p);
	if (p->codes)
		clear_codes(p);
	free(p->codes);
	free(p->frames);
	free(p->slots);
	free(p);
}
