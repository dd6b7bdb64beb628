/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A symbolized profile in memory: interned frames, stacks of frame indices
 * (leaf first) with a value each, the mappings they came from and notes on
 * what is missing. Every output format (folded, pprof, speedscope, SVG, HTML)
 * and the bottleneck rules read this one model.
 */
#ifndef FOG_PROF_H
#define FOG_PROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <jansson.h>

#define FOG_PROF_UNKNOWN "[unknown]"
/*
 * Names (functions, modules, files, comm) are cleaned once, where frames and stacks
 * are made: valid UTF-8 (an invalid byte becomes U+FFFD), control characters '?',
 * at most this many bytes (cut at a character boundary). Every output relies on it.
 */
#define FOG_PROF_NAME_MAX 1024

struct fog_prof_frame {
	char *func;	/* function name, or "[unknown]" / "[vdso]" / "[uprobes]" ... */
	char *module;	/* binary path, "[kernel.kallsyms]", or NULL */
	__u64 addr;	/* address in the module */
	__u64 ip;	/* a run-time address of it, inside its mapping */
	__u32 mapping;	/* 1-based index into maps, 0 for none */
	bool kernel;
	__u32 line;	/* source line of addr (libdw), 0 when unknown */
	char *file;	/* source file of addr, or NULL */
	char *func_file;	/* source file of the function's entry, or NULL */
};

struct fog_prof_mapping {
	__u64 start;
	__u64 limit;
	__u64 offset;
	char *file;
	char build_id[41];
};

struct fog_prof_stack {
	__u32 pid;
	char comm[16];
	__u64 value;	/* samples (CPU) or bytes (memory) */
	__u64 count;	/* events behind value (samples or allocations) */
	__u32 n;
	__u32 *frames;	/* leaf first */
};

/* Per-process figures from the collectors over the profile, for the I/O section and rules. */
struct fog_prof_proc {
	__u32 pid;
	char comm[16];
	double cpu_seconds;
	double io_read_bytes_per_s;
	double io_write_bytes_per_s;
	double runq_p99_ns;	/* -1 when unknown */
	__u64 rss_bytes;
};

enum fog_prof_kind {
	FOG_PROF_CPU,
	FOG_PROF_ALLOC,	/* bytes allocated (sampled), by stack */
	FOG_PROF_INUSE,	/* bytes of sampled allocations still live, by stack */
	FOG_PROF_OFFCPU,	/* nanoseconds blocked off the CPU, by stack */
};

/* A memory leak candidate: a stack whose sampled allocations are outstanding. */
struct fog_prof_leak {
	char *func;	/* the allocating function (the stack's leaf) */
	char *stack;	/* "comm;outer;...;leaf" */
	__u64 live_bytes;	/* estimated */
	__u64 live_objects;	/* estimated */
	__s64 growth_bytes;	/* change of live_bytes over the profile, 0 without a start */
	bool growing;	/* live_bytes grew over the profile */
	double oldest_age_s;	/* age of its oldest live sampled allocation */
	__u64 big;	/* allocations of 10 MB or more made from here */
};

/* One point of a process's estimated live bytes over time. */
struct fog_prof_point {
	double t_s;	/* seconds before the end of the profile (<= 0) */
	__u64 bytes;
};

struct fog_prof {
	enum fog_prof_kind kind;
	__u64 period;	/* CPU: ns per sample; memory: the sampling interval in bytes; off-CPU: 1 */
	__u32 frequency;	/* CPU: samples per second per CPU */
	__u64 start_unix_ns;
	__u64 duration_ns;
	char target[128];	/* "pid 123", "cgroup /x", "host" */
	bool lines;	/* source lines were asked for: folded frames show them */
	struct fog_prof_frame *frames;
	size_t nframes, cap_frames;
	__u32 *hash;	/* frame index + 1, open addressing */
	size_t hash_cap;
	struct fog_prof_stack *stacks;
	size_t nstacks, cap_stacks;
	struct fog_prof_mapping *maps;
	size_t nmaps;
	__u64 total;	/* sum of stack values */
	char **notes;	/* what is missing or degraded, for the reader */
	size_t nnotes;
	struct fog_prof_proc *procs;	/* may be empty when no collector ran */
	size_t nprocs;
	double mem_psi_some_avg10;	/* /proc/pressure/memory at the end, -1 unknown */
	struct fog_prof_leak *leaks;	/* memory profiles: by live bytes, largest first */
	size_t nleaks;
	struct fog_prof_point *growth;	/* memory profiles: live bytes over time, oldest first */
	size_t ngrowth;
};

struct fog_prof *fog_prof__new(enum fog_prof_kind kind);
void fog_prof__free(struct fog_prof *p);
/* The index of a frame, interned by (func, module, addr); negative errno. */
long fog_prof__frame(struct fog_prof *p, const char *func, const char *module, __u64 addr,
		     bool kernel, __u32 mapping);
/* Sets a frame's source file and line and its function's file (either file may be NULL). */
int fog_prof__frame_src(struct fog_prof *p, size_t frame, const char *file, __u32 line,
			const char *func_file);
/* The 1-based index of a mapping, added once per (file, start); 0 on failure. */
__u32 fog_prof__mapping(struct fog_prof *p, const char *file, __u64 start, __u64 limit,
			__u64 offset, const char *build_id);
/* Adds a stack (frames leaf first, copied); identical (pid, frames) stacks merge. */
int fog_prof__add_stack(struct fog_prof *p, __u32 pid, const char *comm, const __u32 *frames,
			__u32 n, __u64 value, __u64 count);
/* Adds a note (printf style) unless the same text is there. */
void fog_prof__note(struct fog_prof *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Merges a stack's frames into "comm;outer;...;leaf" in buf (truncated to len). */
size_t fog_prof_stack_name(const struct fog_prof *p, const struct fog_prof_stack *s, char *buf,
			   size_t len);

/*
 * Writes s cleaned (see FOG_PROF_NAME_MAX) into dst of cap bytes (cap >= 4), NUL
 * terminated; returns its length. With sep set, ';' (the folded format's frame
 * separator) becomes ':' too.
 */
size_t fog_prof_clean_name(char *dst, size_t cap, const char *s, bool sep);

/*
 * One function's totals, for the reports and the bottleneck rules. A user
 * function's self is the value of stacks whose innermost user frame it is, so
 * it includes the kernel time its calls caused (in_kernel of it); a kernel
 * function's self is the value where it is the leaf. An interrupt delivered
 * in a kernel frame therefore never hides the user function that was running.
 */
struct fog_prof_func {
	const char *func;
	const char *module;
	bool kernel;
	__u64 self;
	__u64 in_kernel;	/* user functions: the part of self with kernel frames on top */
	__u64 total;	/* value of stacks it appears in (counted once per stack) */
	size_t heaviest;	/* the heaviest stack it appears in, an index into stacks */
};

enum fog_prof_side {
	FOG_PROF_FUNCS_ALL,
	FOG_PROF_FUNCS_USER,
	FOG_PROF_FUNCS_KERNEL,
};

/* Functions sorted by self (by_total false) or total value; caller frees the array. */
struct fog_prof_func *fog_prof_functions(const struct fog_prof *p, bool by_total, size_t *n);
/* The same, user or kernel functions only (or all). */
struct fog_prof_func *fog_prof_functions_of(const struct fog_prof *p, bool by_total,
					    enum fog_prof_side side, size_t *n);

/* Kernel time of a profile, reported apart from the user functions. */
struct fog_prof_kernel_time {
	__u64 value;	/* value of stacks with a kernel frame */
	__u64 kernel_only;	/* of it, stacks without any user frame */
	const char *func;	/* the hottest kernel function (as the leaf), or NULL */
	const char *module;
	__u64 func_self;
	char path[512];	/* the heaviest kernel path, "outer;...;leaf" (kernel frames only) */
	__u64 path_value;
	const char *user_func;	/* the innermost user frame under that path, or NULL */
};

/* Fills k; 0 or -ENOMEM. */
int fog_prof_kernel_time(const struct fog_prof *p, struct fog_prof_kernel_time *k);

/* ---- output formats ---- */

/*
 * Folded stacks, one "frame;frame;... value" line per stack (flamegraph.pl, speedscope);
 * with p->lines, frames with a known line read "func (file.c:12)".
 */
int fog_prof_write_folded(const struct fog_prof *p, FILE *f);
/* pprof's profile.proto, gzip-compressed; *out is malloc'd. */
int fog_prof_pprof(const struct fog_prof *p, void **out, size_t *len);
/* speedscope's file format (sampled profile per process). */
json_t *fog_prof_speedscope(const struct fog_prof *p);
/* Summary JSON: totals, top functions, notes. */
json_t *fog_prof_summary_json(const struct fog_prof *p, size_t top);

#endif /* FOG_PROF_H */
