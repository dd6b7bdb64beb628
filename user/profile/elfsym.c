// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <elfutils/libdw.h>

#include "profile/elfsym.h"

#define MAX_LOADS 16
#define BUILD_ID_MAX 20	/* bytes; SHA-1 is the longest in use */
#define MAX_LINE_ROWS (4u << 20)	/* 64 MiB of line table per file at most */
#define DEBUG_DIR "/usr/lib/debug/.build-id"	/* where Debian's -dbgsym files go */
#define ELFCACHE_MAX_BYTES (64u << 20)	/* symbols and lines one cache keeps */
#define MAX_DWARF_FDS 64	/* files kept open for their line tables, all caches together */

static int dwarf_fds;	/* how many are open */

/* One row of a DWARF line table: from addr on, code is of file:line (0: none) */
struct line_row {
	__u64 addr;
	__u32 file;	/* offset in files */
	__u32 line;
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
	bool lines_read;
	struct line_row *rows;	/* sorted by addr */
	size_t nrows;
	/*
	 * their source file names, apart from names: a symbol name handed out
	 * must stay valid when the line table is read later
	 */
	char *files;
	size_t files_len;
	/* cache bookkeeping */
	char key[96];
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
	size_t cap_names = e->names_len, n, cap;
	struct sym *s;

	if (!data || !sh->sh_entsize || sh->sh_entsize > data->d_size)
		return 0;
	n = data->d_size / sh->sh_entsize;
	cap = e->nsyms + n;
	s = realloc(e->syms, (cap ? cap : 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	e->syms = s;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
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
		if (add_name(e, name, &cap_names, &e->syms[e->nsyms].name))
			return -ENOMEM;
		e->syms[e->nsyms].addr = sym.st_value;
		e->syms[e->nsyms].size = sym.st_size;
		e->nsyms++;
	}
	return 0;
}

static void read_build_id(struct fog_elfsym *e, Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
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
				sprintf(e->build_id + 2 * i, "%02x",
					((unsigned char *)data->d_buf)[desc_off + i]);
			return;
		}
	}
}

struct fog_elfsym *fog_elfsym__read(int fd)
{
	struct fog_elfsym *e;
	Elf_Scn *scn = NULL, *dynsym = NULL;
	GElf_Shdr sh, dynsh;
	size_t nph = 0, shstrndx = 0;
	bool debug_line = false;
	Elf *elf;
	int err = 0;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		errno = EINVAL;
		return NULL;
	}
	if (elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nph)) {
		elf_end(elf);
		errno = ENOEXEC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		elf_end(elf);
		errno = ENOMEM;
		return NULL;
	}
	e->dwarf_fd = -1;
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

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = shstrndx ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		if (name && !strcmp(name, ".debug_line") && sh.sh_type != SHT_NOBITS)
			debug_line = true;
		if (sh.sh_type == SHT_SYMTAB) {
			err = read_syms(e, elf, scn, &sh);
			e->symtab = true;
		} else if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			dynsh = sh;
		}
		if (err)
			break;
	}
	/* a stripped file still names its exported functions in .dynsym */
	if (!err && !e->symtab && dynsym)
		err = read_syms(e, elf, dynsym, &dynsh);
	read_build_id(e, elf);
	elf_end(elf);
	/*
	 * kept open for the line table, read only when lines are asked for; at
	 * most MAX_DWARF_FDS such files at once (caches hold hundreds of files),
	 * the others fall back to a debug file by build-id
	 */
	if (!err && debug_line) {
		if (__atomic_add_fetch(&dwarf_fds, 1, __ATOMIC_RELAXED) <= MAX_DWARF_FDS)
			e->dwarf_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (e->dwarf_fd < 0)
			__atomic_sub_fetch(&dwarf_fds, 1, __ATOMIC_RELAXED);
	}
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
	return e;
}

void fog_elfsym__free(struct fog_elfsym *e)
{
	if (!e)
		return;
	free(e->syms);
	free(e->names);
	free(e->rows);
	free(e->files);
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

/* Opens the separate debug file of a stripped binary, found by its build-id. */
static int open_debug_file(const struct fog_elfsym *e)
{
	char path[sizeof(DEBUG_DIR) + 2 * BUILD_ID_MAX + 16];

	if (strlen(e->build_id) < 4)
		return -1;
	snprintf(path, sizeof(path), "%s/%.2s/%s.debug", DEBUG_DIR, e->build_id,
		 e->build_id + 2);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Reads every compilation unit's line table into e->rows (bounded by MAX_LINE_ROWS). */
static void read_lines(struct fog_elfsym *e)
{
	size_t cap_rows = 0, cap_files = 0, hsize;
	Dwarf_Off off = 0, next;
	int fd = e->dwarf_fd;
	Dwarf *dw;

	e->lines_read = true;
	if (fd >= 0)
		__atomic_sub_fetch(&dwarf_fds, 1, __ATOMIC_RELAXED);	/* closed below */
	else
		fd = open_debug_file(e);
	if (fd < 0)
		return;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (dw) {
		while (!dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL)) {
			Dwarf_Die cu;

			if (dwarf_offdie(dw, off + hsize, &cu) &&
			    add_cu_lines(e, &cu, &cap_rows, &cap_files))
				break;
			off = next;
		}
		dwarf_end(dw);
	}
	close(fd);
	e->dwarf_fd = -1;
	if (e->nrows)
		qsort(e->rows, e->nrows, sizeof(*e->rows), cmp_row);
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
 * The identity of a file before it is parsed: device, inode, size and mtime.
 * Two paths to the same file (map_files, /proc/PID/root) give the same key.
 */
static int file_key(int fd, char *key, size_t len)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	snprintf(key, len, "f:%llx:%llx:%llx:%llx.%09ld", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
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

struct fog_elfsym *fog_elfcache__get(struct fog_elfcache *c, int fd)
{
	struct fog_elfsym *e;
	char key[96];
	int err;

	err = file_key(fd, key, sizeof(key));
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
	e = fog_elfsym__read(fd);
	if (!e)
		return NULL;
	c->reads++;
	/* the same build seen through another inode (a copy, a container layer) */
	for (unsigned int i = 0; e->build_id[0] && i < c->n; i++) {
		if (!strcmp(c->files[i]->build_id, e->build_id)) {
			fog_elfsym__free(e);
			e = c->files[i];
			e->refs++;
			e->used = ++c->clock;
			return e;
		}
	}
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
