// SPDX-License-Identifier: GPL-2.0-only
/*
 * Source lines and inlined calls of a file's DWARF: the line table of every
 * unit and its DW_TAG_inlined_subroutine ranges, bounded, sorted for lookups.
 */
#include <errno.h>
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

struct inl_ctx {
	struct fog_elfsym *e;
	size_t cap, *cap_files;
	Dwarf_Files *srcfiles;
	size_t nsrc;
	unsigned long long budget;	/* DIEs left to look at */
};

int fog_elfsym_cmp_row(const void *a, const void *b)
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
			if (fog_elfsym_add_str(&e->files, &e->files_len, cap_files, src, &last_off))
				return -ENOMEM;
			last_src = src;
		}
		if (end || !src || lineno < 0)
			lineno = 0;	/* no line from here on */
		e->rows[e->nrows++] = (struct line_row){ addr, src ? last_off : 0, (__u32)lineno };
	}
	return 0;
}

int fog_elfsym_cmp_inline(const void *a, const void *b)
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
	return fog_elfsym_add_str(&e->files, &e->files_len, c->cap_files, str, off);
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
void fog_elfsym_parse_lines(struct fog_elfsym *e, int fd, const char *want_id)
{
	size_t cap_rows = 0, cap_files = 0, hsize, len = 0;
	char id[2 * BUILD_ID_MAX + 1] = "", *buf = NULL;
	Dwarf_Off off = 0, next;
	Dwarf *dw = NULL;
	Elf *elf;

	elf = fog_elfsym_elf_copy(fd, &buf, &len);
	if (!elf)
		return;
	if (want_id && *want_id) {
		fog_elfsym_read_build_id(id, elf);
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
		qsort(e->rows, e->nrows, sizeof(*e->rows), fog_elfsym_cmp_row);
	if (e->ninl)
		qsort(e->inl, e->ninl, sizeof(*e->inl), fog_elfsym_cmp_inline);
}

/* Reads the line table at the first lookup: through the helper when fogd runs one. */
static void read_lines(struct fog_elfsym *e)
{
	int fd = e->dwarf_fd;

	e->lines_read = true;
	if (fd < 0)
		return;
	__atomic_sub_fetch(&fog_elfsym_dwarf_fds, 1, __ATOMIC_RELAXED);	/* closed below */
	e->dwarf_fd = -1;
	if (fog_elfsym_remote_hook.lines) {
		char *blob = NULL;
		size_t len = 0;

		if (!fog_elfsym_remote_hook.lines(fog_elfsym_remote_hook.ctx, fd, e->dwarf_separate ? e->build_id : NULL, &blob,
				  &len) &&
		    fog_elfsym__lines_from_blob(e, blob, len) == -EPROTO && fog_elfsym_remote_hook.bad_reply)
			fog_elfsym_remote_hook.bad_reply(fog_elfsym_remote_hook.ctx);
		free(blob);
	} else {
		fog_elfsym_parse_lines(e, fd, e->dwarf_separate ? e->build_id : NULL);
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
