/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The self-contained HTML report: summary, bottlenecks, top functions (self
 * and total), the interactive flame graph inline, and the per-process I/O
 * figures. No external scripts, styles or fonts.
 */
#ifndef FOG_PROF_REPORT_H
#define FOG_PROF_REPORT_H

#include <stdio.h>

#include "profile/prof.h"

int fog_report_write_html(const struct fog_prof *p, FILE *f);

#endif /* FOG_PROF_REPORT_H */
