/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The symbol reader's state, shared by elfsym.c (symbols, the helper hook,
 * lookups, uprobe offsets), elfsym_lines.c (DWARF lines and inlined calls),
 * elfsym_blob.c (the helper's answers) and elfsym_cache.c.
 */
#ifndef FOG_PROF_ELFSYM_INT_H
#define FOG_PROF_ELFSYM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/types.h>

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

/* files kept open for their line tables, all caches together; the helper's hook */
extern int fog_elfsym_dwarf_fds;
extern struct fog_elfsym_remote fog_elfsym_remote_hook;

/* Appends a NUL-terminated string to a growing buffer; *off is where it starts. */
int fog_elfsym_add_str(char **buf, size_t *used, size_t *cap, const char *str, __u32 *off);

void fog_elfsym_read_build_id(char *build_id, Elf *elf);

/*
 * A bounded copy of the ELF file on fd (never a mapping: its owner may truncate
 * it), opened with libelf; *buf is freed by the caller after elf_end. NULL and
 * errno when the file is refused or not ELF.
 */
Elf *fog_elfsym_elf_copy(int fd, char **buf, size_t *len);

/*
 * Parses the symbols, segments and build-id of the ELF file on fd (the part an
 * ELF file's author can attack: in fogd it runs in the symbol helper);
 * *debug_line says whether the file has a line table of its own.
 */
struct fog_elfsym *fog_elfsym_parse_symbols(int fd, bool *out_debug_line);

/*
 * Reads every compilation unit's line table of the file on fd into e->rows
 * (bounded by MAX_LINE_ROWS); want_id, when set, is the build-id the file must
 * have (a separate debug file). The part a file's author can attack: in fogd
 * it runs in the symbol helper.
 */
void fog_elfsym_parse_lines(struct fog_elfsym *e, int fd, const char *want_id);

int fog_elfsym_cmp_row(const void *a, const void *b);

int fog_elfsym_cmp_inline(const void *a, const void *b);

#endif /* FOG_PROF_ELFSYM_INT_H */
