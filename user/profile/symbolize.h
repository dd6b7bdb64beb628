/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Turns sampled instruction pointers into function names. User addresses go
 * through a snapshot of /proc/PID/maps (files opened through
 * /proc/PID/map_files or /proc/PID/root, so processes in containers resolve),
 * the mapped ELF's PT_LOAD segments and symbols (see elfsym.h), or a
 * perf-PID.map for JIT code; kernel addresses through /proc/kallsyms.
 * Processes are keyed by pid and start time, so a reused pid gets fresh maps,
 * and an exited process keeps the snapshot taken while it ran.
 */
#ifndef FOG_PROF_SYMBOLIZE_H
#define FOG_PROF_SYMBOLIZE_H

#include <stdbool.h>
#include <linux/types.h>

#include "profile/elfsym.h"

struct fog_symbolizer;

#define FOG_SYM_MAX_INLINE 16

struct fog_sym {
	const char *func;	/* NULL when unresolved */
	const char *module;	/* mapped file, "[kernel.kallsyms]", "[vdso]", ... or NULL */
	__u64 addr;	/* address in the module (ELF vaddr), or the raw ip */
	const char *build_id;	/* hex or "" */
	__u64 map_start;	/* the mapping that holds the ip, 0 when none */
	__u64 map_limit;
	__u64 map_offset;
	const char *file;	/* source file of addr (lines on, debug info found), or NULL */
	__u32 line;	/* its line, 0 when unknown */
	const char *func_file;	/* source file of the function's entry, or NULL */
	/* lines on: the calls inlined at addr, outermost first (DWARF), as perf shows them */
	struct fog_inline inl[FOG_SYM_MAX_INLINE];
	int ninl;
};

/* cache is borrowed and may be shared by several symbolizers (not threads). */
struct fog_symbolizer *fog_symbolizer__new(struct fog_elfcache *cache);
void fog_symbolizer__free(struct fog_symbolizer *s);
/*
 * Takes a snapshot of pid's mappings and reads their files, unless one is held
 * for the same process. Call it while the process runs; later calls are cheap.
 */
int fog_symbolizer__add_pid(struct fog_symbolizer *s, __u32 pid);
/* Fills out for a user address; returns 0 when func is set, -ENOENT otherwise. */
int fog_symbolizer__user(struct fog_symbolizer *s, __u32 pid, __u64 ip, struct fog_sym *out);
/* The same for a kernel address. */
int fog_symbolizer__kernel(struct fog_symbolizer *s, __u64 ip, struct fog_sym *out);
/* Whether user lookups also resolve source files and lines (libdw); off by default. */
void fog_symbolizer__set_lines(struct fog_symbolizer *s, bool on);
/*
 * Forgets processes that have exited and, every 10 minutes, /proc/kallsyms
 * (read again at the next kernel lookup): for a symbolizer kept across many
 * profiles (continuous mode).
 */
void fog_symbolizer__prune(struct fog_symbolizer *s);
/* Processes held. */
size_t fog_symbolizer__procs(const struct fog_symbolizer *s);
/* Whether the snapshot of pid was taken from a process that has since exited. */
bool fog_symbolizer__exited(struct fog_symbolizer *s, __u32 pid);
/* Parses one /proc/PID/maps line; returns 0 or -EINVAL. path points into line. */
int fog_maps_parse_line(char *line, __u64 *start, __u64 *end, __u64 *pgoff, bool *exec,
			const char **path);

/* Bounds on /proc/PID/maps (its lines are named by the tenant's paths). */
#define FOG_MAPS_MAX_BYTES (16u << 20)	/* read at most */
#define FOG_MAPS_MAX_LINES 65536	/* the kernel's default vm.max_map_count */
#define FOG_MAPS_LINE_MAX 8192	/* "start-end perms off dev ino " and a PATH_MAX path */

/* One mapping; path points into the text read (valid during the callback only). */
struct fog_map_line {
	__u64 start, end, pgoff;
	bool exec;
	const char *path;
};

/* What a walk left out: said by the caller when it matters. */
struct fog_maps_stats {
	bool truncated;		/* longer than FOG_MAPS_MAX_BYTES: read up to that */
	bool too_many;		/* more than FOG_MAPS_MAX_LINES lines: walked up to that */
	size_t long_lines;	/* lines over FOG_MAPS_LINE_MAX bytes, skipped */
};

/* Nonzero stops the walk and is what the walk returns. */
typedef int (*fog_maps_fn)(const struct fog_map_line *m, void *ctx);

/*
 * /proc/PID/maps read within FOG_MAPS_MAX_BYTES with fog_safe_read_proc:
 * *buf (malloc'd, NUL-terminated, free()) and *len; 0 or -errno.
 */
int fog_maps_read(__u32 pid, char **buf, size_t *len, bool *truncated);
/*
 * Calls fn for each well-formed line of buf (as fog_maps_read gave it, cut in
 * place) within the bounds above; st (may be NULL) says what was left out.
 * 0, or fn's nonzero value.
 */
int fog_maps_each(char *buf, size_t len, fog_maps_fn fn, void *ctx, struct fog_maps_stats *st);
/* fog_maps_read, then fog_maps_each: -errno when the maps could not be read. */
int fog_maps_walk(__u32 pid, fog_maps_fn fn, void *ctx, struct fog_maps_stats *st);

/* Bounds on a perf-PID.map (a tenant's file): lines read, bytes per line. */
#define FOG_PERFMAP_MAX_LINES (1u << 20)
#define FOG_PERFMAP_LINE_MAX 4096
/*
 * Parses one perf-PID.map line "START SIZE name" (hex; a size of 0 counts as
 * 1); returns 0 or -EINVAL (also for a range that wraps). name points into line.
 */
int fog_perfmap_parse_line(char *line, __u64 *addr, __u64 *size, const char **name);
typedef int (*fog_perfmap_fn)(void *ctx, __u64 addr, __u64 size, const char *name);
/*
 * Parses a perf map of len bytes in buf (buf[len] must be NUL; lines are cut
 * in place), calling fn for each valid line; lines longer than
 * FOG_PERFMAP_LINE_MAX or past FOG_PERFMAP_MAX_LINES are counted in *skipped.
 * Returns 0 or fn's first error.
 */
int fog_perfmap_parse(char *buf, size_t len, fog_perfmap_fn fn, void *ctx, size_t *skipped);
/*
 * Parses one /proc/kallsyms line; 0 for a function symbol (name and module,
 * "" for the kernel, copied and cut to their buffers), -ENOENT for another
 * type, -EINVAL for a bad line or a hidden (zero) address.
 */
int fog_kallsyms_parse_line(const char *line, __u64 *addr, char *name, size_t name_len,
			    char *module, size_t module_len);
/*
 * Returns the next line of the text between *pos and end (end[0] must be a
 * NUL), cut in place at its newline, and advances *pos; NULL at the end.
 * *too_long says the line is longer than max_line bytes.
 */
char *fog_text_next_line(char **pos, char *end, size_t max_line, bool *too_long);

/* The start time of pid in clock ticks (field 22 of /proc/PID/stat), or 0 when it is gone. */
__u64 fog_proc_start_time(__u32 pid);

#endif /* FOG_PROF_SYMBOLIZE_H */
