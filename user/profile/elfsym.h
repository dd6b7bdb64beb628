/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Function symbols of one ELF file (.symtab, else .dynsym), its PT_LOAD
 * segments for address translation and its GNU build-id, read with libelf.
 * Files are cached by device, inode, size, mtime and the root they were seen
 * in, in a bounded cache that outlives single profiles.
 *
 * Files come from tenants (issue 12): each is read as a bounded copy (at most
 * 512 MiB, never mapped, so truncation cannot raise SIGBUS); at most 65536
 * section headers are looked at, one .symtab and one .dynsym, 4 Mi symbols,
 * 4096 bytes per name (cut), and name bytes up to twice the file's size
 * (64 MiB at most). Each refusal is counted by reason and logged once.
 */
#ifndef FOG_PROF_ELFSYM_H
#define FOG_PROF_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct fog_elfsym;
struct fog_elfcache;

/* Reads an ELF file from an open fd (not taken); NULL and errno on a bad file. */
struct fog_elfsym *fog_elfsym__read(int fd);
/*
 * The same; a separate debug file (by build-id, under /usr/lib/debug) is
 * looked up inside root_fd (fog_safe_root), -1 for the host's root.
 */
struct fog_elfsym *fog_elfsym__read_in(int fd, int root_fd);
void fog_elfsym__free(struct fog_elfsym *e);
/*
 * Translates a file offset (from a mapping: ip - start + pgoff) to the ELF's
 * virtual address through its PT_LOAD segments; false when no segment holds it.
 */
bool fog_elfsym__off_to_vaddr(const struct fog_elfsym *e, __u64 off, __u64 *vaddr);
/* The function containing vaddr (honouring symbol sizes) or NULL; *start is its address. */
const char *fog_elfsym__lookup(const struct fog_elfsym *e, __u64 vaddr, __u64 *start);
/*
 * The source file and line of vaddr from the file's DWARF line table (libdw),
 * read at the first call; line may be NULL. False when the file has no debug
 * information (or none for vaddr). The strings live as long as e.
 */
bool fog_elfsym__line(struct fog_elfsym *e, __u64 vaddr, const char **file, __u32 *line);
/* One inlined call holding an address, outermost first (fog_elfsym__inlines). */
struct fog_inline {
	const char *func;	/* the inlined function */
	const char *call_file;	/* where its caller calls it, or NULL */
	__u32 call_line;
};
/*
 * The chain of inlined calls holding vaddr (DWARF DW_TAG_inlined_subroutine,
 * read with the line table), outermost first, up to max; returns how many.
 * The strings live as long as e.
 */
int fog_elfsym__inlines(struct fog_elfsym *e, __u64 vaddr, struct fog_inline *out, int max);
/* Whether the file has a DWARF line table (.debug_line). */
bool fog_elfsym__has_lines(const struct fog_elfsym *e);
/* Hex build-id or "" */
const char *fog_elfsym__build_id(const struct fog_elfsym *e);
size_t fog_elfsym__nsyms(const struct fog_elfsym *e);
/* Whether the symbols came from .symtab (not stripped). */
bool fog_elfsym__has_symtab(const struct fog_elfsym *e);

/*
 * Parsing in another process (fogd's symbol helper, user/profile/symhelper.c).
 * When set, the ELF and DWARF of every file are parsed there: symbols gives
 * the blob of fog_elfsym__serve_symbols for the file on fd, lines that of
 * fog_elfsym__serve_lines (build_id: what the file must have, or NULL). Both
 * return 0 or a negative errno (the file is then read as having no symbols or
 * lines); a blob that fails its checks is reported through bad_reply.
 * Without it, files are parsed in the calling thread.
 */
struct fog_elfsym_remote {
	int (*symbols)(void *ctx, int fd, char **blob, size_t *len);
	int (*lines)(void *ctx, int fd, const char *build_id, char **blob, size_t *len);
	int (*offsets)(void *ctx, int fd, const char *const *names, int n, __u64 *offs);
	void (*bad_reply)(void *ctx);
	void *ctx;
};
/* Set once at start-up, before any thread reads a file; NULL goes back to local parsing. */
void fog_elfsym_set_remote(const struct fog_elfsym_remote *r);
/*
 * The helper's side: parses the file on fd and returns its symbols, or its
 * line table, as a malloc'd blob. 0 or a negative errno.
 */
int fog_elfsym__serve_symbols(int fd, char **blob, size_t *len);
int fog_elfsym__serve_lines(int fd, const char *build_id, char **blob, size_t *len);
/*
 * fogd's side: checks a symbols blob (bounds, names inside and NUL-ended,
 * addresses rising) and makes the file's symbols from it; NULL and errno
 * EPROTO when it fails a check. *debug_line: the file has its own lines.
 */
struct fog_elfsym *fog_elfsym__from_blob(const char *blob, size_t len, bool *debug_line);
/* The same for a line table blob, kept in e; 0 or -EPROTO. */
int fog_elfsym__lines_from_blob(struct fog_elfsym *e, const char *blob, size_t len);

/*
 * File offsets of the named functions or data objects (STT_FUNC or STT_OBJECT
 * in .symtab, else .dynsym) of the ELF file on fd, for uprobes and CPython's
 * _PyRuntime; an offset stays 0 when the name is not found (or the object
 * has no bytes in the file: .bss). At most FOG_ELFSYM_MAX_NAMES names. Through the helper when set.
 * 0 or a negative errno.
 */
#define FOG_ELFSYM_MAX_NAMES 8
int fog_elfsym__func_offsets(int fd, const char *const *names, int n, __u64 *offs);
/* The helper's side: the same, parsed here. */
int fog_elfsym__serve_func_offsets(int fd, const char *const *names, int n, __u64 *offs);

/* Keeps at most max files; entries in use are never evicted. */
struct fog_elfcache *fog_elfcache__new(unsigned int max);
void fog_elfcache__free(struct fog_elfcache *c);
/*
 * The symbols of the file open on fd, read once per identity; the caller holds
 * a reference until fog_elfcache__put. NULL and errno when unreadable.
 */
struct fog_elfsym *fog_elfcache__get(struct fog_elfcache *c, int fd);
/* The same, the file seen inside root_fd (see fog_elfsym__read_in). */
struct fog_elfsym *fog_elfcache__get_in(struct fog_elfcache *c, int fd, int root_fd);
void fog_elfcache__put(struct fog_elfcache *c, struct fog_elfsym *e);
unsigned int fog_elfcache__size(const struct fog_elfcache *c);
/* Lookups answered from the cache and files read. */
void fog_elfcache__stats(const struct fog_elfcache *c, __u64 *hits, __u64 *reads);

/* Why the symbolizer refused (part of) an input; counted and logged once each. */
enum fog_symerr {
	FOG_SYMERR_NOT_REGULAR,	/* a FIFO, device, socket, directory or symlink */
	FOG_SYMERR_TOO_LARGE,	/* over a size bound: refused or read up to it */
	FOG_SYMERR_SECTIONS,	/* too many section headers, duplicate symbol tables */
	FOG_SYMERR_SYMBOLS,	/* too many symbols */
	FOG_SYMERR_NAME_BYTES,	/* a name or a file's names too long */
	FOG_SYMERR_PERFMAP,	/* a perf-PID.map over its line or byte bounds */
	FOG_SYMERR_MAPS,	/* /proc/PID/maps over its bounds */
	FOG_SYMERR_DEBUG_FILE,	/* a debug file refused or of another build */
	FOG_SYMERR_READ,	/* an I/O error */
	FOG_SYMERR_N
};

/* Counts a refusal; the first of each reason is logged with the message. */
void fog_symerr(enum fog_symerr reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define FOG_SYMERR_MSG_LEN 160
/* In the symbol helper: refusals are kept for the reply (fog_symerr_take), not logged. */
void fog_symerr_capture(bool on);
/* The refusals counted since the last take, and the first message of each reason. */
void fog_symerr_take(__u64 counts[FOG_SYMERR_N], char msgs[FOG_SYMERR_N][FOG_SYMERR_MSG_LEN]);
/* In fogd: adds n refusals the helper reported; the first of each reason is logged. */
void fog_symerr_add(enum fog_symerr reason, __u64 n, const char *msg);
__u64 fog_symerr_count(enum fog_symerr reason);
/* The reason's label in /metrics ("not_regular", ...). */
const char *fog_symerr_name(enum fog_symerr reason);

#endif /* FOG_PROF_ELFSYM_H */
