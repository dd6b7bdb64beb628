/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A differential profile: two profiles of the same kind (BASE, NEW) with their
 * stacks matched by function names ("comm;outer;...;leaf"), each stack's weight
 * in both, and per function the change of its share of each profile's total
 * (as pprof -diff_base -normalize and flamegraph.pl's difffolded.pl compare).
 * Outputs: folded lines with both weights, an HTML page with a differential
 * flame graph and the largest changes, and pprof holding NEW with BASE
 * subtracted as negative samples labelled pprof::base (pprof's own convention).
 */
#ifndef FOG_PROF_DIFF_H
#define FOG_PROF_DIFF_H

#include <stdio.h>

#include "profile/pprof_read.h"
#include "profile/prof.h"

struct fog_diff_stack {
	char *name;	/* "comm;outer;...;leaf", ';' in names written ':' */
	__u64 base, new;
};

struct fog_diff_func {
	char *name;
	__u64 base_self, new_self;	/* as the leaf */
	__u64 base_total, new_total;	/* in the stack at all (once per stack) */
	double change;	/* of the self share: new / new total - base / base total */
	size_t stamp;	/* the last stack counted in total, + 1 */
};

struct fog_diff {
	const struct fog_prof *base, *new;	/* borrowed */
	struct fog_diff_stack *stacks;	/* sorted by name */
	size_t nstacks;
	struct fog_diff_func *funcs;	/* by the change of self share, largest first */
	size_t nfuncs;
};

/*
 * Matches the stacks of base and new (both borrowed until __free); NULL with errno
 * set: E2BIG when the stack names add up to more than FOG_PPROF_NAMES_MAX bytes.
 */
struct fog_diff *fog_diff__new(const struct fog_prof *base, const struct fog_prof *new);
void fog_diff__free(struct fog_diff *d);

/* The change of a weight's share: new / new total - base / base total. */
double fog_diff_share_change(const struct fog_diff *d, __u64 base, __u64 new);

/* "stack BASE NEW" lines, by stack name (flamegraph.pl reads two columns as a diff). */
int fog_diff_write_folded(const struct fog_diff *d, FILE *f);

struct fog_diff_page {
	const char *base_name, *new_name;	/* what the page calls the two profiles */
	const char *type, *unit;	/* the sample value compared: "cpu", "nanoseconds" */
};

/* The self-contained page: differential flame graph first, then the largest changes. */
int fog_diff_write_html(const struct fog_diff *d, const struct fog_diff_page *o, FILE *f);

/*
 * NEW's message with BASE's samples appended negated and labelled pprof::base=true
 * (values matched by sample type name, 0 where BASE lacks one), gzipped into a
 * malloc'd *out. 0 or -errno with err filled.
 */
int fog_diff_pprof(const struct fog_pprof *base, const struct fog_pprof *new, void **out,
		   size_t *len, char *err, size_t errlen);

#endif /* FOG_PROF_DIFF_H */
