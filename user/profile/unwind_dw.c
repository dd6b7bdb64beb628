// SPDX-License-Identifier: GPL-2.0-only
/*
 * The helper's half of the unwinder (unwind.h): a batch of copied user stacks
 * of one process, unwound with libdw's frame API (elfutils'
 * libdwfl/dwfl_frame.c and its x86_64 backend: CFI from .eh_frame and
 * .debug_frame, a frame-pointer step where a function has no CFI). Modules
 * are reported at the addresses fogd read from /proc/PID/maps and opened by
 * libelf with ELF_C_READ: never mapped (a file truncated meanwhile cannot
 * raise SIGBUS), and only the headers and the sections the unwinder asks for
 * (.eh_frame_hdr, .eh_frame) are read, with pread, within the helper's
 * address-space limit; the stack is only what was copied. A process's
 * modules are kept for the next batch of the same layout, so its CFI is
 * parsed once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "profile/unwind.h"

#define MAX_FILE_BYTES (512ull << 20)	/* as elfsym.c */
#define NCACHE 32	/* process layouts whose Dwfl is kept */
#define NFILES 256	/* files kept open with their libelf handle, shared by the layouts */
#define MAX_SAMPLES 4096

/* where batches are unwound: the symbol helper's hook, or NULL (here) */
static fog_unwind_remote_fn remote;

void fog_unwind_set_remote(fog_unwind_remote_fn fn)
{
	__atomic_store_n(&remote, fn, __ATOMIC_RELEASE);
}

fog_unwind_remote_fn fog_unwind_remote(void)
{
	return __atomic_load_n(&remote, __ATOMIC_ACQUIRE);
}

_Static_assert(sizeof(struct fog_unw_req_sample) == 8 * FOG_UNW_NREGS + 8, "req sample layout");

struct mod_id {
	__u64 dev, ino, size, mtime_ns, low, high;
};

/*
 * A file, opened once for every process that maps it: libelf keeps the
 * sections it read (.eh_frame) in the handle, which each layout's Dwfl gets a
 * reference to (elf_begin with it as ref), so libc's CFI is read once.
 */
struct file {
	__u64 dev, ino, size, mtime_ns;
	int fd;	/* a duplicate of the request's; -1: the slot is free */
	Elf *elf;
	__u64 used;
};

struct cached {
	Dwfl *dwfl;
	__u32 nmods;
	struct mod_id ids[FOG_UNW_MAX_MODS];
	struct file *files[FOG_UNW_MAX_MODS];
	__u64 used;	/* tick of the last batch */
};

static struct cached cache[NCACHE];
static struct file files[NFILES];
static __u64 tick;

/* The sample being unwound: what the thread callbacks read. */
static struct {
	const __u64 *regs;
	const __u8 *stack;
	__u32 len;
	__u64 sp;
} cur;

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	if (*thread_argp)
		return 0;
	*thread_argp = (void *)1;
	return 1;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = (void *)1;
	return tid == 1;
}

/* Reads 8 bytes of the copied stack; anything outside the copy is unreadable. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	if (addr < cur.sp || addr - cur.sp > cur.len || cur.len - (addr - cur.sp) < 8)
		return false;
	memcpy(result, cur.stack + (addr - cur.sp), 8);
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	Dwarf_Word r[FOG_UNW_NREGS];

	memcpy(r, cur.regs, sizeof(r));
	return dwfl_thread_state_registers(thread, 0, FOG_UNW_NREGS, r);
}

static const Dwfl_Thread_Callbacks thread_cbs = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

/* find_elf: the module's file, kept in the module's user data (libdwfl ends the Elf). */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct file *f = *userdata;

	*elfp = f && f->elf ? elf_begin(f->fd, ELF_C_READ, f->elf) : NULL;
	return -1;	/* the descriptor stays ours */
}

/* No separate debug files are opened here (the helper opens nothing). */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	return -1;
}

static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
};

static void cached_clear(struct cached *c)
{
	if (c->dwfl)
		dwfl_end(c->dwfl);
	memset(c, 0, sizeof(*c));
}

/* The kept file of the request's fd (same identity), opened now when new; NULL when unusable. */
static struct file *get_file(int fd, const struct mod_id *id)
{
	struct file *f = NULL;
	int victim = 0;

	for (int i = 0; i < NFILES; i++) {
		if (files[i].elf && files[i].dev == id->dev && files[i].ino == id->ino &&
		    files[i].size == id->size && files[i].mtime_ns == id->mtime_ns) {
			files[i].used = tick;
			return &files[i];
		}
		if (!files[i].elf) {
			if (!f)
				f = &files[i];
		} else if (files[i].used < files[victim].used) {
			victim = i;
		}
	}
	if (!f) {
		/* full: the layouts go first (they hold references), then the oldest file */
		for (int i = 0; i < NCACHE; i++)
			cached_clear(&cache[i]);
		f = &files[victim];
		elf_end(f->elf);
		close(f->fd);
	}
	*f = (struct file){ id->dev, id->ino, id->size, id->mtime_ns, -1, NULL, tick };
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (f->fd < 0)
		return NULL;
	f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF) {
		elf_end(f->elf);
		close(f->fd);
		*f = (struct file){ .fd = -1 };
		return NULL;
	}
	return f;
}

/* The kept modules of the same layout, or a new Dwfl with them reported. */
static struct cached *get_dwfl(const struct fog_unw_req_mod *mods, __u32 nmods, const int *fds)
{
	struct mod_id ids[FOG_UNW_MAX_MODS];
	struct cached *c = NULL;
	int victim = 0;

	for (__u32 i = 0; i < nmods; i++) {
		struct stat st;

		memset(&ids[i], 0, sizeof(ids[i]));
		/* regular files within elfsym's bound: a huge sparse file is not read */
		if (fds[i] >= 0 && !fstat(fds[i], &st) && (S_ISREG(st.st_mode)) &&
		    (__u64)st.st_size <= MAX_FILE_BYTES)
			ids[i] = (struct mod_id){ st.st_dev, st.st_ino, (__u64)st.st_size,
						  (__u64)st.st_mtim.tv_sec * 1000000000ull +
							  (__u64)st.st_mtim.tv_nsec,
						  mods[i].low, mods[i].high };
		else
			ids[i].low = mods[i].low, ids[i].high = mods[i].high;
	}
	tick++;
	for (int i = 0; i < NCACHE; i++) {
		if (cache[i].dwfl && cache[i].nmods == nmods &&
		    !memcmp(cache[i].ids, ids, nmods * sizeof(ids[0]))) {
			cache[i].used = tick;
			return &cache[i];
		}
		if (cache[i].used < cache[victim].used)
			victim = i;
	}
	c = &cache[victim];
	cached_clear(c);
	/* the files first: opening one may clear every layout */
	for (__u32 i = 0; i < nmods; i++)
		c->files[i] = ids[i].ino ? get_file(fds[i], &ids[i]) : NULL;
	for (__u32 i = 0; i < nmods; i++)	/* a later file's opening cleared it all */
		if (ids[i].ino && c->files[i] && c->files[i]->ino != ids[i].ino)
			c->files[i] = NULL;
	c->dwfl = dwfl_begin(&dwfl_cbs);
	if (!c->dwfl)
		return NULL;
	c->nmods = nmods;
	memcpy(c->ids, ids, nmods * sizeof(ids[0]));
	dwfl_report_begin(c->dwfl);
	for (__u32 i = 0; i < nmods; i++) {
		Dwfl_Module *m;
		char name[32];

		if (!c->files[i])
			continue;
		snprintf(name, sizeof(name), "m%u", i);
		m = dwfl_report_module(c->dwfl, name, mods[i].low, mods[i].high);
		if (m) {
			void **ud;

			dwfl_module_info(m, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
			*ud = c->files[i];
		}
	}
	dwfl_report_end(c->dwfl, NULL, NULL);
	c->used = tick;
	if (!dwfl_attach_state(c->dwfl, NULL, 1, &thread_cbs, NULL)) {
		cached_clear(c);
		return NULL;
	}
	return c;
}

struct walk {
	__u64 *ips;
	__u32 n;
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(state, &pc, NULL) || !pc)
		return DWARF_CB_ABORT;
	w->ips[w->n++] = pc;
	return w->n < FOG_PROF_MAX_DEPTH ? DWARF_CB_OK : DWARF_CB_ABORT;
}

struct out {
	char *buf;
	size_t len, cap;
};

static int out_put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 65536;
		char *b;

		while (cap < o->len + n)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b)
			return -ENOMEM;
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

int fog_unwind__serve(const char *req, size_t len, const int *mod_fds, int nfds, char **blob,
		      size_t *blob_len)
{
	const struct fog_unw_req_hdr *h = (const void *)req;
	const struct fog_unw_req_mod *mods;
	struct fog_unw_rep_hdr rh;
	struct out o = { 0 };
	struct cached *c;
	size_t pos;
	int err = 0;

	*blob = NULL;
	*blob_len = 0;
	elf_version(EV_CURRENT);
	if (len < sizeof(*h) || h->magic != FOG_UNW_REQ_MAGIC || h->nmods > FOG_UNW_MAX_MODS ||
	    (int)h->nmods != nfds || h->nsamples > MAX_SAMPLES ||
	    len - sizeof(*h) < h->nmods * sizeof(*mods))
		return -EINVAL;
	mods = (const void *)(req + sizeof(*h));
	for (__u32 i = 0; i < h->nmods; i++)
		if (mods[i].high <= mods[i].low)
			return -EINVAL;
	pos = sizeof(*h) + h->nmods * sizeof(*mods);
	c = h->nmods ? get_dwfl(mods, h->nmods, mod_fds) : NULL;
	rh = (struct fog_unw_rep_hdr){ FOG_UNW_REP_MAGIC, h->nsamples };
	err = out_put(&o, &rh, sizeof(rh));
	for (__u32 i = 0; !err && i < h->nsamples; i++) {
		struct fog_unw_req_sample s;
		__u64 ips[FOG_PROF_MAX_DEPTH];
		struct walk w = { ips, 0 };
		struct fog_unw_rep_sample rs = { 0 };
		size_t step;

		if (len - pos < sizeof(s)) {
			err = -EINVAL;
			break;
		}
		memcpy(&s, req + pos, sizeof(s));
		pos += sizeof(s);
		step = ((size_t)s.stack_len + 7) & ~(size_t)7;
		if (s.stack_len > FOG_UNW_STACK_BYTES || len - pos < step) {
			err = -EINVAL;
			break;
		}
		cur.regs = s.regs;
		cur.stack = (const __u8 *)req + pos;
		cur.len = s.stack_len;
		cur.sp = s.regs[FOG_UNW_REG_SP];
		pos += step;
		/* it stops where a frame cannot be unwound (-1): the frames so far stand */
		if (c)
			dwfl_getthread_frames(c->dwfl, 1, frame_cb, &w);
		if (!w.n)	/* no module answered: the sampled ip alone */
			ips[w.n++] = s.regs[FOG_UNW_REG_IP];
		rs.nframes = w.n;
		err = out_put(&o, &rs, sizeof(rs));
		if (!err)
			err = out_put(&o, ips, w.n * sizeof(ips[0]));
	}
	if (err) {
		free(o.buf);
		return err;
	}
	*blob = o.buf;
	*blob_len = o.len;
	return 0;
}

int fog_unwind__parse_reply(const char *blob, size_t len, __u32 nsamples, fog_unw_frames_fn fn,
			    void *ctx)
{
	struct fog_unw_rep_hdr h;
	size_t pos = sizeof(h);

	if (len < sizeof(h))
		return -EPROTO;
	memcpy(&h, blob, sizeof(h));
	if (h.magic != FOG_UNW_REP_MAGIC || h.nsamples != nsamples)
		return -EPROTO;
	/* checked whole before any is used */
	for (int pass = 0; pass < 2; pass++) {
		pos = sizeof(h);
		for (__u32 i = 0; i < nsamples; i++) {
			struct fog_unw_rep_sample s;
			__u64 ips[FOG_PROF_MAX_DEPTH];

			if (len - pos < sizeof(s))
				return -EPROTO;
			memcpy(&s, blob + pos, sizeof(s));
			pos += sizeof(s);
			if (!s.nframes || s.nframes > FOG_PROF_MAX_DEPTH ||
			    len - pos < s.nframes * sizeof(__u64))
				return -EPROTO;
			if (pass) {
				memcpy(ips, blob + pos, s.nframes * sizeof(__u64));
				fn(ctx, i, ips, s.nframes);
			}
			pos += s.nframes * sizeof(__u64);
		}
		if (pos != len)
			return -EPROTO;
	}
	return 0;
}
