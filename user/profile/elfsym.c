// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include "base/log.h"
#include "base/safe_open.h"
#include "profile/elfsym.h"

#define MAX_LOADS 16
#define BUILD_ID_MAX 20	/* bytes; SHA-1 is the longest in use */
#define MAX_LINE_ROWS (4u << 20)	/* 64 MiB of line table per file at most */
#define MAX_INLINE_ROWS (4u << 20)	/* inlined-call ranges per file */
#define MAX_DIE_DEPTH 64	/* nesting of DIEs walked for inlined calls */
#define DEBUG_DIR "/usr/lib/debug/.build-id"	/* where Debian's -dbgsym files go */
#define ELFCACHE_MAX_BYTES (64u << 20)	/* symbols and lines one cache keeps */
#define MAX_DWARF_FDS 64	/* files kept open for their line tables, all caches together */
/*
 * Bounds on what one file may cost (issue 12): files are read as a bounded
 * copy, never mapped, so an owner truncating one cannot raise SIGBUS; the
 * symbols, names and sections kept stay a small multiple of the file's size.
 */
#define ELF_MAX_BYTES (512ull << 20)	/* larger files are not read */
#define MAX_SECTIONS 65536u	/* section headers looked at */
#define MAX_SYMS (4u << 20)	/* function symbols kept per file */
#define MAX_NAME_BYTES 4096u	/* a longer symbol name is cut there */
#define MAX_FILE_NAME_BYTES (64ull << 20)	/* name bytes per file, and at most 2x its size */

static const char *const symerr_names[FOG_SYMERR_N] = {
	[FOG_SYMERR_NOT_REGULAR] = "not_regular",
	[FOG_SYMERR_TOO_LARGE] = "too_large",
	[FOG_SYMERR_SECTIONS] = "sections",
	[FOG_SYMERR_SYMBOLS] = "symbols",
	[FOG_SYMERR_NAME_BYTES] = "name_bytes",
	[FOG_SYMERR_PERFMAP] = "perfmap",
	[FOG_SYMERR_MAPS] = "maps",
	[FOG_SYMERR_DEBUG_FILE] = "debug_file",
	[FOG_SYMERR_READ] = "read",
};
static __u64 symerr_counts[FOG_SYMERR_N];
static int symerr_logged[FOG_SYMERR_N];
/* in the symbol helper: refusals are kept for the reply instead of logged */
static bool symerr_capture;
static __u64 symerr_taken[FOG_SYMERR_N];
static char symerr_msgs[FOG_SYMERR_N][FOG_SYMERR_MSG_LEN];

void fog_symerr(enum fog_symerr reason, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if ((unsigned int)reason >= FOG_SYMERR_N)
		return;
	__atomic_add_fetch(&symerr_counts[reason], 1, __ATOMIC_RELAXED);
	if (symerr_capture) {
		if (!symerr_msgs[reason][0]) {
			va_start(ap, fmt);
			vsnprintf(symerr_msgs[reason], sizeof(symerr_msgs[reason]), fmt, ap);
			va_end(ap);
		}
		return;
	}
	if (__atomic_exchange_n(&symerr_logged[reason], 1, __ATOMIC_RELAXED))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fog_warnx("symbolizer refused input (%s, logged once): %s", symerr_names[reason], msg);
}

void fog_symerr_capture(bool on)
{
	symerr_capture = on;
}

void fog_symerr_take(__u64 counts[FOG_SYMERR_N], char msgs[FOG_SYMERR_N][FOG_SYMERR_MSG_LEN])
{
	for (int r = 0; r < FOG_SYMERR_N; r++) {
		counts[r] = symerr_counts[r] - symerr_taken[r];
		symerr_taken[r] = symerr_counts[r];
		memcpy(msgs[r], symerr_msgs[r], FOG_SYMERR_MSG_LEN);
		symerr_msgs[r][0] = '\0';
	}
}

void fog_symerr_add(enum fog_symerr reason, __u64 n, const char *msg)
{
	if ((unsigned int)reason >= FOG_SYMERR_N || !n)
		return;
	__atomic_add_fetch(&symerr_counts[reason], n, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&symerr_logged[reason], 1, __ATOMIC_RELAXED))
		return;
	fog_warnx("symbolizer refused input (%s, logged once): %s", symerr_names[reason],
		  msg && *msg ? msg : "(no detail)");
}

__u64 fog_symerr_count(enum fog_symerr reason)
{
	if ((unsigned int)reason >= FOG_SYMERR_N)
		return 0;
	return __atomic_load_n(&symerr_counts[reason], __ATOMIC_RELAXED);
}

const char *fog_symerr_name(enum fog_symerr reason)
{
	return (unsigned int)reason < FOG_SYMERR_N ? symerr_names[reason] : "?";
}

static int dwarf_fds;	/* how many are open */
static struct fog_elfsym_remote remote;	/* the symbol helper, when fogd runs one */

void fog_elfsym_set_remote(const struct fog_elfsym_remote *r)
{
	if (r)
		remote = *r;
	else
		memset(&remote, 0, sizeof(remote));
}

/* One row of a DWARF line table: from addr on, code is of file:line (0: none) */
struct line_row {
	__u64 addr;
	__u32 file;	/* offset in files */
	__u32 line;
};

/* An inlined call: [lo, hi) is code of func inlined at call_file:call_line of its caller */
struct inline_row {
	__u64 lo, hi;
	__u32 func;	/* offset in files */
	__u32 call_file;	/* offset in files, or ~0u when unknown */
	__u32 call_line;
	__u32 depth;	/* 1: inlined into the function itself, 2: into an inlined one, ... */
};

struct sym {
	__u64 addr;
	__u64 size;
	__u32 name;	/* offset in names */
};

struct load {
	__u64 vaddr;
	__u64 offset;
	__u64 filesz;
};

struct fog_elfsym {
	struct sym *syms;	/* sorted by addr */
	size_t nsyms;
	char *names;
	size_t names_len;
	struct load loads[MAX_LOADS];
	unsigned int nloads;
	char build_id[2 * BUILD_ID_MAX + 1];
	bool symtab;
	/* source lines, read from the DWARF at the first lookup */
	int dwarf_fd;	/* the file itself when it has .debug_line, else -1 */
	bool dwarf_separate;	/* dwarf_fd is a debug file found by build-id: check it */
	size_t file_size;	/* bytes of the file read */
	bool lines_read;
	struct line_row *rows;	/* sorted by addr */
	size_t nrows;
	/*
	 * their source file names, apart from names: a symbol name handed out
	 * must stay valid when the line table is read later
	 */
	char *files;
	size_t files_len;
	struct inline_row *inl;	/* sorted by depth, then lo */
	size_t ninl;
	/* cache bookkeeping */
	char key[160];
	unsigned int refs;
	__u64 used;	/* LRU stamp */
};

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* the sized symbol first, so duplicates keep the one with a size */
	return (x->size < y->size) - (x->size > y->size);
}

/* Appends a NUL-terminated string to a growing buffer; *off is where it starts. */
static int add_str(char **buf, size_t *used, size_t *cap, const char *str, __u32 *off)
{
	size_t len = strlen(str) + 1;

	if (*used + len > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 4096) + len;
		char *n = realloc(*buf, ncap);

		if (!n)
			return -ENOMEM;
		*buf = n;
		*cap = ncap;
	}
	memcpy(*buf + *used, str, len);
	*off = (__u32)*used;
	*used += len;
	return 0;
}

static int add_name(struct fog_elfsym *e, const char *name, size_t *cap, __u32 *off)
{
	return add_str(&e->names, &e->names_len, cap, name, off);
}

/* Adds the function symbols of one symbol section; the section is checked by libelf. */
static int read_syms(struct fog_elfsym *e, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t cap_names = e->names_len, n, cap, name_budget;
	char cut[MAX_NAME_BYTES + 1];
	struct sym *s;

	if (!data || !sh->sh_entsize || sh->sh_entsize > data->d_size)
		return 0;
	n = data->d_size / sh->sh_entsize;
	if (e->nsyms + n > MAX_SYMS) {
		fog_symerr(FOG_SYMERR_SYMBOLS, "an ELF file of %zu bytes lists %zu symbols, "
			   "reading %u", e->file_size, n, MAX_SYMS);
		n = e->nsyms < MAX_SYMS ? MAX_SYMS - e->nsyms : 0;
	}
	/* names are copied: many symbols naming one long string must not multiply it */
	name_budget = 2 * e->file_size + 4096;
	if (name_budget > MAX_FILE_NAME_BYTES)
		name_budget = MAX_FILE_NAME_BYTES;
	cap = e->nsyms + n;
	s = realloc(e->syms, (cap ? cap : 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	e->syms = s;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		size_t len;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !sym.st_value ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		len = strnlen(name, MAX_NAME_BYTES + 1);
		if (len > MAX_NAME_BYTES) {
			fog_symerr(FOG_SYMERR_NAME_BYTES, "a symbol name longer than %u bytes, "
				   "cut", MAX_NAME_BYTES);
			memcpy(cut, name, MAX_NAME_BYTES);
			cut[MAX_NAME_BYTES] = '\0';
			name = cut;
			len = MAX_NAME_BYTES;
		}
		if (e->names_len + len + 1 > name_budget) {
			fog_symerr(FOG_SYMERR_NAME_BYTES, "an ELF file of %zu bytes names more "
				   "than %zu bytes of symbols, reading no more", e->file_size,
				   name_budget);
			break;
		}
		if (add_name(e, name, &cap_names, &e->syms[e->nsyms].name))
			return -ENOMEM;
		e->syms[e->nsyms].addr = sym.st_value;
		e->syms[e->nsyms].size = sym.st_size;
		e->nsyms++;
	}
	return 0;
}

static void read_build_id(char *build_id, Elf *elf)
{
	unsigned int nscn = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) && nscn++ < MAX_SECTIONS) {
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((char *)data->d_buf + name_off, "GNU", 4) || !nh.n_descsz ||
			    nh.n_descsz > BUILD_ID_MAX)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(build_id + 2 * i, "%02x",
					((unsigned char *)data->d_buf)[desc_off + i]);
			return;
		}
	}
}

/*
 * A bounded copy of the ELF file on fd (never a mapping: its owner may truncate
 * it), opened with libelf; *buf is freed by the caller after elf_end. NULL and
 * errno when the file is refused or not ELF.
 */
static Elf *elf_copy(int fd, char **buf, size_t *len)
{
	struct stat st;
	Elf *elf;
	int err;

	*buf = NULL;
	if (fstat(fd, &st)) {
		err = errno;
		fog_symerr(FOG_SYMERR_READ, "fstat of an ELF file: %s", strerror(err));
		errno = err;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		fog_symerr(FOG_SYMERR_NOT_REGULAR, "an ELF file that is not a regular file "
			   "(mode 0%o)", (unsigned int)st.st_mode);
		errno = EINVAL;
		return NULL;
	}
	if ((unsigned long long)st.st_size > ELF_MAX_BYTES) {
		fog_symerr(FOG_SYMERR_TOO_LARGE, "an ELF file of %lld bytes (at most %llu read)",
			   (long long)st.st_size, ELF_MAX_BYTES);
		errno = EFBIG;
		return NULL;
	}
	err = fog_safe_read_fd(fd, ELF_MAX_BYTES, buf, len, NULL);
	if (err) {
		if (err != -ENOMEM)
			fog_symerr(FOG_SYMERR_READ, "reading an ELF file: %s", strerror(-err));
		errno = -err;
		return NULL;
	}
	elf_version(EV_CURRENT);
	elf = elf_memory(*buf, *len);
	if (!elf) {
		free(*buf);
		*buf = NULL;
		errno = EINVAL;
		return NULL;
	}
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		free(*buf);
		*buf = NULL;
		errno = ENOEXEC;
		return NULL;
	}
	return elf;
}

/* Opens the separate debug file of a stripped binary inside root_fd, found by its build-id. */
static int open_debug_file(const char *build_id, int root_fd)
{
	char path[sizeof(DEBUG_DIR) + 2 * BUILD_ID_MAX + 16];
	int root = root_fd, fd;

	if (strlen(build_id) < 4)
		return -1;
	snprintf(path, sizeof(path), "%s/%.2s/%s.debug", DEBUG_DIR, build_id, build_id + 2);
	if (root < 0) {
		root = fog_safe_root(0);
		if (root < 0)
			return -1;
	}
	fd = fog_safe_openat(root, path, (off_t)ELF_MAX_BYTES);
	if (root != root_fd)
		close(root);
	if (fd == -EFBIG || fd == -EINVAL || fd == -ELOOP)
		fog_symerr(FOG_SYMERR_DEBUG_FILE, "debug file %s refused: %s", path,
			   strerror(-fd));
	return fd < 0 ? -1 : fd;
}

/*
 * Parses the symbols, segments and build-id of the ELF file on fd (the part an
 * ELF file's author can attack: in fogd it runs in the symbol helper);
 * *debug_line says whether the file has a line table of its own.
 */
static struct fog_elfsym *parse_symbols(int fd, bool *out_debug_line)
{
	struct fog_elfsym *e;
	Elf_Scn *scn = NULL, *dynsym = NULL;
	GElf_Shdr sh, dynsh;
	size_t nph = 0, shstrndx = 0, len = 0, nscn = 0;
	bool debug_line = false, extra = false;
	char *buf;
	Elf *elf;
	int err = 0;

	elf = elf_copy(fd, &buf, &len);
	if (!elf)
		return NULL;
	if (elf_getphdrnum(elf, &nph)) {
		elf_end(elf);
		free(buf);
		errno = ENOEXEC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		elf_end(elf);
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	e->dwarf_fd = -1;
	e->file_size = len;
	if (elf_getshdrstrndx(elf, &shstrndx))
		shstrndx = 0;
	for (size_t i = 0; i < nph && e->nloads < MAX_LOADS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		e->loads[e->nloads++] = (struct load){ ph.p_vaddr, ph.p_offset, ph.p_filesz };
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (++nscn > MAX_SECTIONS) {
			fog_symerr(FOG_SYMERR_SECTIONS, "an ELF file with more than %u sections",
				   MAX_SECTIONS);
			break;
		}
		if (!gelf_getshdr(scn, &sh))
			continue;
		name = shstrndx ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		if (name && !strcmp(name, ".debug_line") && sh.sh_type != SHT_NOBITS)
			debug_line = true;
		/*
		 * one symbol table of each kind, as linkers write: more section
		 * headers describing symbols would multiply the work and memory
		 */
		if (sh.sh_type == SHT_SYMTAB && !e->symtab) {
			err = read_syms(e, elf, scn, &sh);
			e->symtab = true;
		} else if (sh.sh_type == SHT_DYNSYM && !dynsym) {
			dynsym = scn;
			dynsh = sh;
		} else if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			extra = true;
		}
		if (err)
			break;
	}
	if (extra)
		fog_symerr(FOG_SYMERR_SECTIONS, "an ELF file of %zu bytes with more than one "
			   "symbol table of a kind: the first is read", len);
	/* a stripped file still names its exported functions in .dynsym */
	if (!err && !e->symtab && dynsym)
		err = read_syms(e, elf, dynsym, &dynsh);
	read_build_id(e->build_id, elf);
	elf_end(elf);
	free(buf);
	if (err) {
		fog_elfsym__free(e);
		errno = -err;
		return NULL;
	}
	if (e->nsyms) {
		size_t w = 0;

		qsort(e->syms, e->nsyms, sizeof(*e->syms), cmp_sym);
		for (size_t i = 0; i < e->nsyms; i++)	/* aliases: keep the first per address */
			if (!w || e->syms[w - 1].addr != e->syms[i].addr)
				e->syms[w++] = e->syms[i];
		e->nsyms = w;
	}
	*out_debug_line = debug_line;
	return e;
}

struct fog_elfsym *fog_elfsym__read_in(int fd, int root_fd)
{
	struct fog_elfsym *e;
	bool debug_line = false;

	if (remote.symbols) {
		char *blob = NULL;
		size_t len = 0;
		int err = remote.symbols(remote.ctx, fd, &blob, &len);

		if (err) {
			errno = -err;
			return NULL;
		}
		e = fog_elfsym__from_blob(blob, len, &debug_line);
		err = errno;
		free(blob);
		if (!e) {
			if (err == EPROTO && remote.bad_reply)
				remote.bad_reply(remote.ctx);
			errno = err;
			return NULL;
		}
	} else {
		e = parse_symbols(fd, &debug_line);
		if (!e)
			return NULL;
	}
	/*
	 * kept open for the line table, read only when lines are asked for; at
	 * most MAX_DWARF_FDS such files at once (caches hold hundreds of files),
	 * the others go without lines. A stripped file's debug file is looked
	 * up by build-id inside the process's own root, and its build-id is
	 * checked when it is read. fogd opens these files; the helper only
	 * parses what it is handed.
	 */
	if (__atomic_add_fetch(&dwarf_fds, 1, __ATOMIC_RELAXED) <= MAX_DWARF_FDS) {
		if (debug_line) {
			e->dwarf_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		} else if (e->build_id[0]) {
			e->dwarf_fd = open_debug_file(e->build_id, root_fd);
			e->dwarf_separate = true;
		}
	}
	if (e->dwarf_fd < 0)
		__atomic_sub_fetch(&dwarf_fds, 1, __ATOMIC_RELAXED);
	return e;
}

struct fog_elfsym *fog_elfsym__read(int fd)
{
	return fog_elfsym__read_in(fd, -1);
}

void fog_elfsym__free(struct fog_elfsym *e)
{
	if (!e)
		return;
	free(e->syms);
	free(e->names);
	free(e->rows);
	free(e->files);
	free(e->inl);
	if (e->dwarf_fd >= 0) {
		close(e->dwarf_fd);
		__atomic_sub_fetch(&dwarf_fds, 1, __ATOMIC_RELAXED);
	}
	free(e);
}

static int cmp_row(const void *a, const void *b)
{
	const struct line_row *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* a sequence's end and the next one's start share an address: the start wins */
	return (x->line > y->line) - (x->line < y->line);
}

/* Adds the rows of one compilation unit's line program. */
static int add_cu_lines(struct fog_elfsym *e, Dwarf_Die *cu, size_t *cap_rows,
			size_t *cap_files)
{
	const char *last_src = NULL;
	__u32 last_off = 0;
	Dwarf_Lines *lines;
	size_t n;

	if (dwarf_getsrclines(cu, &lines, &n))
		return 0;	/* a unit without a line program */
	for (size_t i = 0; i < n && e->nrows < MAX_LINE_ROWS; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		Dwarf_Addr addr;
		const char *src;
		bool end = false;
		int lineno = 0;

		if (!l || dwarf_lineaddr(l, &addr) || dwarf_lineno(l, &lineno) ||
		    dwarf_lineendsequence(l, &end))
			continue;
		src = dwarf_linesrc(l, NULL, NULL);
		if (e->nrows == *cap_rows) {
			size_t ncap = *cap_rows ? *cap_rows * 2 : 1024;
			struct line_row *v = realloc(e->rows, ncap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			e->rows = v;
			*cap_rows = ncap;
		}
		/* rows of one file follow each other: intern by the last name seen */
		if (src && src != last_src && e->files_len + strnlen(src, MAX_NAME_BYTES) + 1 >
						      MAX_FILE_NAME_BYTES) {
			fog_symerr(FOG_SYMERR_NAME_BYTES, "a line table names more than %llu "
				   "bytes of source files, reading no more", MAX_FILE_NAME_BYTES);
			return 0;
		}
		if (src && src != last_src) {
			if (add_str(&e->files, &e->files_len, cap_files, src, &last_off))
				return -ENOMEM;
			last_src = src;
		}
		if (end || !src || lineno < 0)
			lineno = 0;	/* no line from here on */
		e->rows[e->nrows++] = (struct line_row){ addr, src ? last_off : 0, (__u32)lineno };
	}
	return 0;
}

struct inl_ctx {
	struct fog_elfsym *e;
	size_t cap, *cap_files;
	Dwarf_Files *srcfiles;
	size_t nsrc;
	unsigned long long budget;	/* DIEs left to look at */
};

static int cmp_inline(const void *a, const void *b)
{
	const struct inline_row *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* A string of the pool, interned at the end (names of inlined functions repeat little). */
static int pool_str(struct inl_ctx *c, const char *str, __u32 *off)
{
	struct fog_elfsym *e = c->e;

	if (e->files_len + strnlen(str, MAX_NAME_BYTES) + 1 > MAX_FILE_NAME_BYTES)
		return -E2BIG;
	return add_str(&e->files, &e->files_len, c->cap_files, str, off);
}

/* The inlined calls under die, depth levels deep in inlining (bounded walk). */
static int add_inlines(struct inl_ctx *c, Dwarf_Die *parent, unsigned int depth,
		       unsigned int nest)
{
	Dwarf_Die die;

	if (nest > MAX_DIE_DEPTH || dwarf_child(parent, &die))
		return 0;
	do {
		int tag = dwarf_tag(&die);
		unsigned int d = depth;

		if (!c->budget--)
			return -E2BIG;
		if (tag == DW_TAG_inlined_subroutine) {
			Dwarf_Attribute at;
			Dwarf_Word cf = 0, cl = 0;
			const char *name;
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;
			__u32 noff, foff = ~0u;

			d = depth + 1;
			name = dwarf_formstring(dwarf_attr_integrate(&die, DW_AT_name, &at));
			if (!name)
				name = "[inlined]";
			dwarf_formudata(dwarf_attr(&die, DW_AT_call_file, &at), &cf);
			dwarf_formudata(dwarf_attr(&die, DW_AT_call_line, &at), &cl);
			if (pool_str(c, name, &noff))
				return -E2BIG;
			if (cf && c->srcfiles && cf < c->nsrc) {
				const char *f = dwarf_filesrc(c->srcfiles, cf, NULL, NULL);

				if (f && pool_str(c, f, &foff))
					return -E2BIG;
			}
			while ((off = dwarf_ranges(&die, off, &base, &lo, &hi)) > 0) {
				struct fog_elfsym *e = c->e;

				if (hi <= lo)
					continue;
				if (e->ninl >= MAX_INLINE_ROWS)
					return -E2BIG;
				if (e->ninl == c->cap) {
					size_t ncap = c->cap ? c->cap * 2 : 1024;
					struct inline_row *v = realloc(e->inl, ncap * sizeof(*v));

					if (!v)
						return -ENOMEM;
					e->inl = v;
					c->cap = ncap;
				}
				e->inl[e->ninl++] = (struct inline_row){ lo, hi, noff, foff,
									 (__u32)cl, d };
			}
		}
		if ((tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
		     tag == DW_TAG_lexical_block || tag == DW_TAG_namespace ||
		     tag == DW_TAG_class_type || tag == DW_TAG_structure_type) &&
		    dwarf_haschildren(&die)) {
			int err = add_inlines(c, &die, d, nest + 1);

			if (err)
				return err;
		}
	} while (!dwarf_siblingof(&die, &die));
	return 0;
}

/* Whether an ELF's compressed sections would inflate past the bound (a zip bomb). */
static bool inflates_too_much(Elf *elf)
{
	unsigned long long total = 0;
	unsigned int nscn = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Chdr ch;

		if (++nscn > MAX_SECTIONS)
			return true;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_COMPRESSED))
			continue;
		if (!gelf_getchdr(scn, &ch))
			continue;
		total += ch.ch_size;
		if (total > ELF_MAX_BYTES)
			return true;
	}
	return false;
}

/*
 * Reads every compilation unit's line table of the file on fd into e->rows
 * (bounded by MAX_LINE_ROWS); want_id, when set, is the build-id the file must
 * have (a separate debug file). The part a file's author can attack: in fogd
 * it runs in the symbol helper.
 */
static void parse_lines(struct fog_elfsym *e, int fd, const char *want_id)
{
	size_t cap_rows = 0, cap_files = 0, hsize, len = 0;
	char id[2 * BUILD_ID_MAX + 1] = "", *buf = NULL;
	Dwarf_Off off = 0, next;
	Dwarf *dw = NULL;
	Elf *elf;

	elf = elf_copy(fd, &buf, &len);
	if (!elf)
		return;
	if (want_id && *want_id) {
		read_build_id(id, elf);
		if (strcmp(id, want_id)) {
			fog_symerr(FOG_SYMERR_DEBUG_FILE, "a debug file found by build-id %s has "
				   "build-id %s", want_id, id[0] ? id : "(none)");
			goto out;
		}
	}
	if (inflates_too_much(elf)) {
		fog_symerr(FOG_SYMERR_TOO_LARGE, "an ELF file's compressed sections inflate past "
			   "%llu bytes", ELF_MAX_BYTES);
		goto out;
	}
	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (dw) {
		struct inl_ctx ic = { .e = e, .cap_files = &cap_files,
				      .budget = 16ull * MAX_INLINE_ROWS };
		bool inl = true;

		while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
			Dwarf_Die cu;

			if (!dwarf_offdie(dw, off + hsize, &cu)) {
				off = next;
				continue;
			}
			if (add_cu_lines(e, &cu, &cap_rows, &cap_files))
				break;
			/* inlined calls, for --lines' inline frames (as perf shows them) */
			if (inl) {
				ic.srcfiles = NULL;
				ic.nsrc = 0;
				dwarf_getsrcfiles(&cu, &ic.srcfiles, &ic.nsrc);
				if (add_inlines(&ic, &cu, 0, 0)) {
					fog_symerr(FOG_SYMERR_TOO_LARGE, "an ELF file's DWARF has more "
						   "than %u inlined-call ranges or too many entries "
						   "(reading no more of them)", MAX_INLINE_ROWS);
					inl = false;
				}
			}
			off = next;
		}
		dwarf_end(dw);
	}
out:
	elf_end(elf);
	free(buf);
	if (e->nrows)
		qsort(e->rows, e->nrows, sizeof(*e->rows), cmp_row);
	if (e->ninl)
		qsort(e->inl, e->ninl, sizeof(*e->inl), cmp_inline);
}

/* Reads the line table at the first lookup: through the helper when fogd runs one. */
static void read_lines(struct fog_elfsym *e)
{
	int fd = e->dwarf_fd;

	e->lines_read = true;
	if (fd < 0)
		return;
	__atomic_sub_fetch(&dwarf_fds, 1, __ATOMIC_RELAXED);	/* closed below */
	e->dwarf_fd = -1;
	if (remote.lines) {
		char *blob = NULL;
		size_t len = 0;

		if (!remote.lines(remote.ctx, fd, e->dwarf_separate ? e->build_id : NULL, &blob,
				  &len) &&
		    fog_elfsym__lines_from_blob(e, blob, len) == -EPROTO && remote.bad_reply)
			remote.bad_reply(remote.ctx);
		free(blob);
	} else {
		parse_lines(e, fd, e->dwarf_separate ? e->build_id : NULL);
	}
	close(fd);
}

bool fog_elfsym__line(struct fog_elfsym *e, __u64 vaddr, const char **file, __u32 *line)
{
	size_t lo = 0, hi;
	const struct line_row *r;

	if (!e->lines_read)
		read_lines(e);
	hi = e->nrows;
	while (lo < hi) {	/* first row above vaddr */
		size_t mid = lo + (hi - lo) / 2;

		if (e->rows[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	r = &e->rows[lo - 1];
	if (!r->line)	/* past a sequence's end, or code of no line */
		return false;
	*file = e->files + r->file;
	if (line)
		*line = r->line;
	return true;
}

int fog_elfsym__inlines(struct fog_elfsym *e, __u64 vaddr, struct fog_inline *out, int max)
{
	size_t i = 0;
	int n = 0;

	if (!e->lines_read)
		read_lines(e);
	/* one binary search per depth: calls at one depth do not overlap */
	while (i < e->ninl && n < max) {
		__u32 d = e->inl[i].depth;
		size_t lo = i, hi = i, end;

		while (hi < e->ninl && e->inl[hi].depth == d)
			hi++;
		end = hi;
		while (lo < hi) {	/* first row starting above vaddr */
			size_t mid = lo + (hi - lo) / 2;

			if (e->inl[mid].lo <= vaddr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == i || e->inl[lo - 1].hi <= vaddr || d != (__u32)n + 1)
			break;	/* no call at this depth holds vaddr: the chain ends */
		out[n].func = e->files + e->inl[lo - 1].func;
		out[n].call_file = e->inl[lo - 1].call_file == ~0u ? NULL :
				   e->files + e->inl[lo - 1].call_file;
		out[n].call_line = e->inl[lo - 1].call_line;
		n++;
		i = end;
	}
	return n;
}

bool fog_elfsym__has_lines(const struct fog_elfsym *e)
{
	return e->dwarf_fd >= 0 || e->nrows;
}

bool fog_elfsym__off_to_vaddr(const struct fog_elfsym *e, __u64 off, __u64 *vaddr)
{
	for (unsigned int i = 0; i < e->nloads; i++) {
		const struct load *l = &e->loads[i];

		if (off >= l->offset && off < l->offset + l->filesz) {
			*vaddr = off - l->offset + l->vaddr;
			return true;
		}
	}
	return false;
}

const char *fog_elfsym__lookup(const struct fog_elfsym *e, __u64 vaddr, __u64 *start)
{
	size_t lo = 0, hi = e->nsyms;
	const struct sym *s;

	while (lo < hi) {	/* first symbol above vaddr */
		size_t mid = lo + (hi - lo) / 2;

		if (e->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &e->syms[lo - 1];
	/* a sized symbol ends where its size says: addresses past it are not its */
	if (s->size && vaddr >= s->addr + s->size)
		return NULL;
	if (start)
		*start = s->addr;
	return e->names + s->name;
}

const char *fog_elfsym__build_id(const struct fog_elfsym *e)
{
	return e->build_id;
}

size_t fog_elfsym__nsyms(const struct fog_elfsym *e)
{
	return e->nsyms;
}

bool fog_elfsym__has_symtab(const struct fog_elfsym *e)
{
	return e->symtab;
}

/*
 * File offsets of the named functions of the ELF file open on fd (.symtab,
 * else .dynsym), through its PT_LOAD segments; an offset stays 0 when the name
 * is not found. The file is the tenant's: it is read as a bounded copy (never
 * mapped, so truncating it cannot raise SIGBUS here) and only the first symbol
 * table of each type is looked at.
 */
static int parse_func_offsets(int fd, const char *const *names, int n, __u64 *offs)
{
	int found = 0, err = 0;
	size_t nph = 0, len;
	char *buf = NULL;
	Elf *elf = NULL;

	memset(offs, 0, (size_t)n * sizeof(*offs));
	err = fog_safe_read_fd(fd, ELF_MAX_BYTES, &buf, &len, NULL);
	if (err)
		return err;
	elf_version(EV_CURRENT);
	elf = elf_memory(buf, len);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph)) {
		err = -ENOEXEC;
		goto out;
	}
	for (int pass = 0; pass < 2 && found < n; pass++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			Elf_Data *d;
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize ||
			    sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB))
				continue;
			d = elf_getdata(scn, NULL);
			for (size_t i = 0; d && i < d->d_size / sh.sh_entsize; i++) {
				const char *name;
				GElf_Sym sym;

				if (!gelf_getsym(d, (int)i, &sym) || !sym.st_value ||
				    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
					continue;
				name = elf_strptr(elf, sh.sh_link, sym.st_name);
				for (int j = 0; name && j < n; j++)
					if (!offs[j] && !strcmp(name, names[j])) {
						offs[j] = sym.st_value;
						found++;
					}
			}
			break;	/* one table of each type: no amplification by copies */
		}
	}
	/* virtual addresses to file offsets */
	for (int j = 0; j < n; j++) {
		__u64 va = offs[j];

		offs[j] = 0;
		for (size_t i = 0; va && i < nph; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    va >= ph.p_vaddr && va < ph.p_vaddr + ph.p_filesz)
				offs[j] = va - ph.p_vaddr + ph.p_offset;
		}
	}
out:
	if (elf)
		elf_end(elf);
	free(buf);
	return err;
}


int fog_elfsym__func_offsets(int fd, const char *const *names, int n, __u64 *offs)
{
	if (n < 0 || n > FOG_ELFSYM_MAX_NAMES)
		return -EINVAL;
	if (remote.offsets)
		return remote.offsets(remote.ctx, fd, names, n, offs);
	return parse_func_offsets(fd, names, n, offs);
}

int fog_elfsym__serve_func_offsets(int fd, const char *const *names, int n, __u64 *offs)
{
	if (n < 0 || n > FOG_ELFSYM_MAX_NAMES)
		return -EINVAL;
	return parse_func_offsets(fd, names, n, offs);
}

/*
 * ---- what the symbol helper hands back ----
 *
 * A file's symbols as one flat blob: a header, the PT_LOAD segments, the
 * symbols (sorted, one per address) and their names. fogd trusts none of it:
 * every count is bounded, every name offset lands inside the names, which end
 * with a NUL, and the order that lookups rely on is checked.
 */
#define BLOB_SYMS_MAGIC 0x424d5953u	/* "SYMB" */
#define BLOB_LINES_MAGIC 0x454e494cu	/* "LINE" */
#define BLOB_VERSION 2u	/* 2: inline rows */
#define BLOB_F_SYMTAB 1u
#define BLOB_F_DEBUG_LINE 2u

struct blob_syms {
	__u32 magic;
	__u32 version;
	__u32 nloads;
	__u32 flags;
	__u64 nsyms;
	__u64 names_len;
	__u64 file_size;
	char build_id[48];
};

struct blob_lines {
	__u32 magic;
	__u32 version;
	__u64 nrows;
	__u64 files_len;
	__u64 ninl;	/* inline rows after the line rows, before the strings */
};

static int blob_put(char **blob, size_t *len, size_t total, const void *hdr, size_t hdr_len)
{
	*blob = malloc(total);
	if (!*blob)
		return -ENOMEM;
	memcpy(*blob, hdr, hdr_len);
	*len = total;
	return 0;
}

int fog_elfsym__serve_symbols(int fd, char **blob, size_t *len)
{
	struct blob_syms h = { .magic = BLOB_SYMS_MAGIC, .version = BLOB_VERSION };
	bool debug_line = false;
	struct fog_elfsym *e;
	size_t total, off;
	int err;

	*blob = NULL;
	*len = 0;
	e = parse_symbols(fd, &debug_line);
	if (!e)
		return errno ? -errno : -EINVAL;
	h.nloads = e->nloads;
	h.flags = (e->symtab ? BLOB_F_SYMTAB : 0) | (debug_line ? BLOB_F_DEBUG_LINE : 0);
	h.nsyms = e->nsyms;
	h.names_len = e->names_len;
	h.file_size = e->file_size;
	snprintf(h.build_id, sizeof(h.build_id), "%s", e->build_id);
	total = sizeof(h) + e->nloads * sizeof(struct load) + e->nsyms * sizeof(struct sym) +
		e->names_len;
	err = blob_put(blob, len, total, &h, sizeof(h));
	if (!err) {
		off = sizeof(h);
		memcpy(*blob + off, e->loads, e->nloads * sizeof(struct load));
		off += e->nloads * sizeof(struct load);
		if (e->nsyms)
			memcpy(*blob + off, e->syms, e->nsyms * sizeof(struct sym));
		off += e->nsyms * sizeof(struct sym);
		if (e->names_len)
			memcpy(*blob + off, e->names, e->names_len);
	}
	fog_elfsym__free(e);
	return err;
}

int fog_elfsym__serve_lines(int fd, const char *build_id, char **blob, size_t *len)
{
	struct blob_lines h = { .magic = BLOB_LINES_MAGIC, .version = BLOB_VERSION };
	struct fog_elfsym e = { .dwarf_fd = -1 };
	size_t total;
	int err;

	*blob = NULL;
	*len = 0;
	parse_lines(&e, fd, build_id);
	h.nrows = e.nrows;
	h.files_len = e.files_len;
	h.ninl = e.ninl;
	total = sizeof(h) + e.nrows * sizeof(struct line_row) +
		e.ninl * sizeof(struct inline_row) + e.files_len;
	err = blob_put(blob, len, total, &h, sizeof(h));
	if (!err) {
		char *p = *blob + sizeof(h);

		if (e.nrows)
			memcpy(p, e.rows, e.nrows * sizeof(struct line_row));
		p += e.nrows * sizeof(struct line_row);
		if (e.ninl)
			memcpy(p, e.inl, e.ninl * sizeof(struct inline_row));
		p += e.ninl * sizeof(struct inline_row);
		if (e.files_len)
			memcpy(p, e.files, e.files_len);
	}
	free(e.rows);
	free(e.files);
	free(e.inl);
	return err;
}

static bool hex_id(const char *id, size_t max)
{
	size_t n = strnlen(id, max);

	if (n == max || n > 2 * BUILD_ID_MAX || n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

struct fog_elfsym *fog_elfsym__from_blob(const char *blob, size_t len, bool *debug_line)
{
	struct blob_syms h;
	struct fog_elfsym *e;
	const char *p;
	size_t need;

	errno = EPROTO;
	if (!blob || len < sizeof(h))
		return NULL;
	memcpy(&h, blob, sizeof(h));
	if (h.magic != BLOB_SYMS_MAGIC || h.version != BLOB_VERSION || h.nloads > MAX_LOADS ||
	    h.nsyms > MAX_SYMS || h.names_len > MAX_FILE_NAME_BYTES ||
	    h.file_size > ELF_MAX_BYTES || (h.flags & ~(BLOB_F_SYMTAB | BLOB_F_DEBUG_LINE)) ||
	    !hex_id(h.build_id, sizeof(h.build_id)))
		return NULL;
	need = sizeof(h) + h.nloads * sizeof(struct load) + h.nsyms * sizeof(struct sym) +
	       h.names_len;
	if (len != need || (h.nsyms && !h.names_len))
		return NULL;
	p = blob + sizeof(h);
	if (h.names_len && p[len - sizeof(h) - 1] != '\0')
		return NULL;	/* the last name ends inside the blob */
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	e->dwarf_fd = -1;
	e->nloads = h.nloads;
	memcpy(e->loads, p, h.nloads * sizeof(struct load));
	p += h.nloads * sizeof(struct load);
	for (unsigned int i = 0; i < e->nloads; i++)
		if (e->loads[i].offset + e->loads[i].filesz < e->loads[i].offset)
			goto bad;
	e->nsyms = h.nsyms;
	e->names_len = h.names_len;
	e->syms = malloc(h.nsyms ? h.nsyms * sizeof(struct sym) : 1);
	e->names = malloc(h.names_len ? h.names_len : 1);
	if (!e->syms || !e->names) {
		fog_elfsym__free(e);
		errno = ENOMEM;
		return NULL;
	}
	if (h.nsyms)
		memcpy(e->syms, p, h.nsyms * sizeof(struct sym));
	p += h.nsyms * sizeof(struct sym);
	if (h.names_len)
		memcpy(e->names, p, h.names_len);
	for (size_t i = 0; i < e->nsyms; i++)	/* names inside, addresses strictly rising */
		if (e->syms[i].name >= e->names_len ||
		    (i && e->syms[i].addr <= e->syms[i - 1].addr))
			goto bad;
	e->symtab = h.flags & BLOB_F_SYMTAB;
	e->file_size = h.file_size;
	memcpy(e->build_id, h.build_id, sizeof(e->build_id) - 1);
	e->build_id[sizeof(e->build_id) - 1] = '\0';
	*debug_line = h.flags & BLOB_F_DEBUG_LINE;
	errno = 0;
	return e;
bad:
	fog_elfsym__free(e);
	errno = EPROTO;
	return NULL;
}

int fog_elfsym__lines_from_blob(struct fog_elfsym *e, const char *blob, size_t len)
{
	struct blob_lines h;
	struct line_row *rows;
	struct inline_row *inl;
	const char *p;
	char *files;
	size_t need;

	if (!blob || len < sizeof(h))
		return -EPROTO;
	memcpy(&h, blob, sizeof(h));
	if (h.magic != BLOB_LINES_MAGIC || h.version != BLOB_VERSION ||
	    h.nrows > MAX_LINE_ROWS || h.files_len > MAX_FILE_NAME_BYTES ||
	    h.ninl > MAX_INLINE_ROWS)
		return -EPROTO;
	need = sizeof(h) + h.nrows * sizeof(struct line_row) +
	       h.ninl * sizeof(struct inline_row) + h.files_len;
	if (len != need)
		return -EPROTO;
	p = blob + sizeof(h);
	if (h.files_len && p[len - sizeof(h) - 1] != '\0')
		return -EPROTO;
	rows = malloc(h.nrows ? h.nrows * sizeof(*rows) : 1);
	inl = malloc(h.ninl ? h.ninl * sizeof(*inl) : 1);
	files = malloc(h.files_len ? h.files_len : 1);
	if (!rows || !files || !inl) {
		free(rows);
		free(inl);
		free(files);
		return -ENOMEM;
	}
	if (h.nrows)
		memcpy(rows, p, h.nrows * sizeof(*rows));
	p += h.nrows * sizeof(*rows);
	if (h.ninl)
		memcpy(inl, p, h.ninl * sizeof(*inl));
	p += h.ninl * sizeof(*inl);
	if (h.files_len)
		memcpy(files, p, h.files_len);
	for (size_t i = 0; i < h.nrows; i++)	/* a row with a line names a file; sorted */
		if ((rows[i].line && rows[i].file >= h.files_len) ||
		    (i && cmp_row(&rows[i - 1], &rows[i]) > 0))
			goto bad;
	/* an inline row names strings inside the pool, spans something, sorted, depth >= 1 */
	for (size_t i = 0; i < h.ninl; i++)
		if (inl[i].func >= h.files_len || inl[i].hi <= inl[i].lo || !inl[i].depth ||
		    inl[i].depth > MAX_DIE_DEPTH ||
		    (inl[i].call_file != ~0u && inl[i].call_file >= h.files_len) ||
		    (i && cmp_inline(&inl[i - 1], &inl[i]) > 0))
			goto bad;
	free(e->rows);
	free(e->files);
	free(e->inl);
	e->inl = inl;
	e->ninl = h.ninl;
	e->rows = rows;
	e->nrows = h.nrows;
	e->files = files;
	e->files_len = h.files_len;
	return 0;
bad:
	free(rows);
	free(inl);
	free(files);
	return -EPROTO;
}

/* ---- the cache ---- */

struct fog_elfcache {
	struct fog_elfsym **files;
	unsigned int n;
	unsigned int max;
	__u64 clock;
	__u64 hits;
	__u64 reads;
};

struct fog_elfcache *fog_elfcache__new(unsigned int max)
{
	struct fog_elfcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max ? max : 1;
	c->files = calloc(c->max, sizeof(*c->files));
	if (!c->files) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void fog_elfcache__free(struct fog_elfcache *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < c->n; i++)
		fog_elfsym__free(c->files[i]);
	free(c->files);
	free(c);
}

/*
 * The identity of a file before it is parsed: device, inode, size and mtime,
 * and the root its debug file would be looked up in. Two paths to the same
 * file (map_files, /proc/PID/root) give the same key; a container's copy of a
 * host library, even with the host's build-id, never shares the host's entry,
 * so nothing a container writes becomes the symbols of a host process.
 */
static int file_key(int fd, int root_fd, char *key, size_t len)
{
	struct stat st, rs = { 0 };

	if (fstat(fd, &st))
		return -errno;
	if (root_fd >= 0 && fstat(root_fd, &rs))
		return -errno;
	snprintf(key, len, "f:%llx:%llx:%llx:%llx.%09ld:r:%llx:%llx",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec, (unsigned long long)rs.st_dev, (unsigned long long)rs.st_ino);
	return 0;
}

/* Memory a cached file holds: its symbols, names and line table. */
static size_t entry_bytes(const struct fog_elfsym *e)
{
	return sizeof(*e) + e->nsyms * sizeof(*e->syms) + e->names_len +
	       e->nrows * sizeof(*e->rows) + e->files_len;
}

static size_t cache_bytes(const struct fog_elfcache *c)
{
	size_t n = 0;

	for (unsigned int i = 0; i < c->n; i++)
		n += entry_bytes(c->files[i]);
	return n;
}

/* Frees the least recently used file nobody holds; false if all are held. */
static bool evict_one(struct fog_elfcache *c)
{
	unsigned int victim = c->n;

	for (unsigned int i = 0; i < c->n; i++)
		if (!c->files[i]->refs && (victim == c->n || c->files[i]->used <
								 c->files[victim]->used))
			victim = i;
	if (victim == c->n)
		return false;
	fog_elfsym__free(c->files[victim]);
	c->files[victim] = c->files[--c->n];
	return true;
}

struct fog_elfsym *fog_elfcache__get_in(struct fog_elfcache *c, int fd, int root_fd)
{
	struct fog_elfsym *e;
	char key[160];
	int err;

	err = file_key(fd, root_fd, key, sizeof(key));
	if (err) {
		errno = -err;
		return NULL;
	}
	for (unsigned int i = 0; i < c->n; i++) {
		e = c->files[i];
		if (!strcmp(e->key, key)) {
			e->refs++;
			e->used = ++c->clock;
			c->hits++;
			return e;
		}
	}
	e = fog_elfsym__read_in(fd, root_fd);
	if (!e)
		return NULL;
	c->reads++;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->refs = 1;
	e->used = ++c->clock;
	/* bounded in files and in bytes (line tables grow an entry after it came in) */
	while (c->n && (c->n == c->max || cache_bytes(c) + entry_bytes(e) > ELFCACHE_MAX_BYTES))
		if (!evict_one(c))
			break;
	if (c->n == c->max) {
		/* every slot is held: give the caller a private copy it frees on put */
		e->key[0] = '\0';
		return e;
	}
	c->files[c->n++] = e;
	return e;
}

struct fog_elfsym *fog_elfcache__get(struct fog_elfcache *c, int fd)
{
	return fog_elfcache__get_in(c, fd, -1);
}

void fog_elfcache__put(struct fog_elfcache *c, struct fog_elfsym *e)
{
	if (!e)
		return;
	if (!e->key[0]) {
		fog_elfsym__free(e);
		return;
	}
	if (e->refs)
		e->refs--;
}

unsigned int fog_elfcache__size(const struct fog_elfcache *c)
{
	return c->n;
}

void fog_elfcache__stats(const struct fog_elfcache *c, __u64 *hits, __u64 *reads)
{
	*hits = c->hits;
	*reads = c->reads;
}
