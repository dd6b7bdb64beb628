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
#include "profile/elfsym_int.h"

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

int fog_elfsym_dwarf_fds;	/* how many are open */
struct fog_elfsym_remote fog_elfsym_remote_hook;	/* the symbol helper, when fogd runs one */

void fog_elfsym_set_remote(const struct fog_elfsym_remote *r)
{
	if (r)
		fog_elfsym_remote_hook = *r;
	else
		memset(&fog_elfsym_remote_hook, 0, sizeof(fog_elfsym_remote_hook));
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* the sized symbol first, so duplicates keep the one with a size */
	return (x->size < y->size) - (x->size > y->size);
}

/* Appends a NUL-terminated string to a growing buffer; *off is where it starts. */
int fog_elfsym_add_str(char **buf, size_t *used, size_t *cap, const char *str, __u32 *off)
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
	return fog_elfsym_add_str(&e->names, &e->names_len, cap, name, off);
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

void fog_elfsym_read_build_id(char *build_id, Elf *elf)
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
Elf *fog_elfsym_elf_copy(int fd, char **buf, size_t *len)
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
struct fog_elfsym *fog_elfsym_parse_symbols(int fd, bool *out_debug_line)
{
	struct fog_elfsym *e;
	Elf_Scn *scn = NULL, *dynsym = NULL;
	GElf_Shdr sh, dynsh;
	size_t nph = 0, shstrndx = 0, len = 0, nscn = 0;
	bool debug_line = false, extra = false;
	char *buf;
	Elf *elf;
	int err = 0;

	elf = fog_elfsym_elf_copy(fd, &buf, &len);
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
	fog_elfsym_read_build_id(e->build_id, elf);
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

	if (fog_elfsym_remote_hook.symbols) {
		char *blob = NULL;
		size_t len = 0;
		int err = fog_elfsym_remote_hook.symbols(fog_elfsym_remote_hook.ctx, fd, &blob, &len);

		if (err) {
			errno = -err;
			return NULL;
		}
		e = fog_elfsym__from_blob(blob, len, &debug_line);
		err = errno;
		free(blob);
		if (!e) {
			if (err == EPROTO && fog_elfsym_remote_hook.bad_reply)
				fog_elfsym_remote_hook.bad_reply(fog_elfsym_remote_hook.ctx);
			errno = err;
			return NULL;
		}
	} else {
		e = fog_elfsym_parse_symbols(fd, &debug_line);
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
	if (__atomic_add_fetch(&fog_elfsym_dwarf_fds, 1, __ATOMIC_RELAXED) <= MAX_DWARF_FDS) {
		if (debug_line) {
			e->dwarf_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		} else if (e->build_id[0]) {
			e->dwarf_fd = open_debug_file(e->build_id, root_fd);
			e->dwarf_separate = true;
		}
	}
	if (e->dwarf_fd < 0)
		__atomic_sub_fetch(&fog_elfsym_dwarf_fds, 1, __ATOMIC_RELAXED);
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
		__atomic_sub_fetch(&fog_elfsym_dwarf_fds, 1, __ATOMIC_RELAXED);
	}
	free(e);
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
				    (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
				     GELF_ST_TYPE(sym.st_info) != STT_OBJECT))
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
	if (fog_elfsym_remote_hook.offsets)
		return fog_elfsym_remote_hook.offsets(fog_elfsym_remote_hook.ctx, fd, names, n, offs);
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
