/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The self-contained HTML report: the interactive flame graph first (full
 * width, zoom, search, kernel frames foldable), then the bottleneck findings,
 * the summary, top functions (self and total) and the per-process I/O
 * figures. No external scripts, styles or fonts.
 */
#ifndef FOG_PROF_REPORT_H
#define FOG_PROF_REPORT_H

#include <stdio.h>

#include "profile/prof.h"

int fog_report_write_html(const struct fog_prof *p, FILE *f);
/* The doctype, title and styles every profiler page shares (the diff page too). */
void fog_report_write_head(FILE *f, const char *title);

#endif /* FOG_PROF_REPORT_H */
